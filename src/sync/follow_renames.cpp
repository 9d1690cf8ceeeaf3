#include "sync/follow_renames.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/rebuild_steps.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "registry/history.hpp"
#include "registry/own_tables.hpp"
#include "sync/definition.hpp"
#include "sync/live_catalog.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "commands/event_trigger.h"
#include "utils/lsyscache.h"
}

namespace viewmgr::pg {

namespace {

bool follow_paused = false;

// The relation the registry built is still there as a view of the registered kind.
bool built_relation_exists(const ManagedView& view) {
  Oid relid = view.built_relid;
  char relkind = pg_call([&] { return get_rel_relkind(relid); });
  return relkind == (view.materialized ? RELKIND_MATVIEW : RELKIND_VIEW);
}

// A managed view this one reads is missing under its name (dropped by hand).
bool reads_missing_managed_view(ManagedViews& managed, const ManagedView& view) {
  for (const auto& name : view.reads) {
    auto node = managed.graph().find(name);
    if (!node.has_value()) continue;
    if (!live_relation(managed.views()[*node].name).has_value()) return true;
  }
  return false;
}

std::string without_trailing_semicolon(std::string text) {
  text = trim_space(text);
  while (!text.empty() && text.back() == ';') text.pop_back();
  return trim_space(text);
}

// pg_get_indexdef text: "CREATE [UNIQUE] INDEX name ON [ONLY] relation USING method (...)".
std::string index_name_in(const std::string& definition) {
  std::size_t start = definition.find(" INDEX ");
  std::size_t end = definition.find(" ON ", start == std::string::npos ? 0 : start + 7);
  if (start == std::string::npos || end == std::string::npos) return {};
  return definition.substr(start + 7, end - start - 7);
}
// What follows the relation's name: the part a column rename changes, a move does not.
std::string index_body(const std::string& definition) {
  std::size_t on = definition.find(" ON ");
  std::size_t body = on == std::string::npos ? on : definition.find(" USING ", on);
  return body == std::string::npos ? definition : definition.substr(body);
}

// The indexes the last build made, renamed with their materialized view or its columns:
// matched by index name (renames keep it). False when one is gone (drift, not a rename) or
// nothing changed. With a column renamed, the declared specifications become the live ones,
// unless a new declaration is pending (the user's text wins).
bool follow_index_renames(ManagedView& view) {
  if (!view.materialized || view.built_indexes.empty()) return false;
  std::vector<LiveIndex> live = live_indexes(view.built_relid);
  std::vector<std::string> followed;
  bool changed = false, columns_renamed = false;
  for (const auto& built : view.built_indexes) {
    auto same = std::find_if(live.begin(), live.end(), [&](const LiveIndex& i) { return i.definition == built; });
    if (same != live.end()) {
      followed.push_back(built);
      continue;
    }
    std::string name = index_name_in(built);
    auto renamed = std::find_if(live.begin(), live.end(), [&](const LiveIndex& i) {
      return !name.empty() && quote_ident(i.name) == name;
    });
    if (renamed == live.end()) return false;
    columns_renamed = columns_renamed || index_body(built) != index_body(renamed->definition);
    followed.push_back(renamed->definition);
    changed = true;
  }
  if (!changed) return false;
  view.built_indexes = followed;
  if (columns_renamed && view.indexes == view.built_index_specs &&
      view.indexes.size() == followed.size()) {
    std::vector<std::string> specs;
    for (const auto& definition : followed) specs.push_back(index_spec_from_definition(definition, view.display_name));
    view.indexes = specs;
    view.built_index_specs = specs;
  }
  return true;
}

}  // namespace

RenameFollowPause::RenameFollowPause() : was_paused_(follow_paused) { follow_paused = true; }
RenameFollowPause::~RenameFollowPause() { follow_paused = was_paused_; }

std::vector<std::string> follow_moved_registrations(const std::optional<RenamedObjects>& renamed) {
  std::vector<Param> only = {{std::nullopt, TEXTOID}, {std::nullopt, TEXTOID}};
  if (renamed.has_value()) only = {{oid_array(renamed->relations)}, {oid_array(renamed->schemas)}};
  QueryResult moved = own_tables_query(
      "SELECT m.schema_name, m.relation_name, n.nspname, c.relname, "
      "  EXISTS (SELECT FROM viewmgr.managed_view o WHERE o.schema_name OPERATOR(pg_catalog.=) n.nspname "
      "          AND o.relation_name OPERATOR(pg_catalog.=) c.relname) "
      "FROM viewmgr.managed_view m "
      "JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) m.built_relid "
      " AND c.relkind OPERATOR(pg_catalog.=) (CASE WHEN m.materialized THEN 'm' ELSE 'v' END)::\"char\" "
      "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
      "JOIN pg_catalog.pg_rewrite r ON r.ev_class OPERATOR(pg_catalog.=) c.oid "
      " AND r.rulename OPERATOR(pg_catalog.=) '_RETURN' AND r.xmin OPERATOR(pg_catalog.=) m.built_rule_xmin "
      "WHERE (n.nspname OPERATOR(pg_catalog.<>) m.schema_name OR c.relname OPERATOR(pg_catalog.<>) m.relation_name) "
      "AND pg_catalog.to_regclass(pg_catalog.quote_ident(m.schema_name) OPERATOR(pg_catalog.||) '.' "
      "    OPERATOR(pg_catalog.||) pg_catalog.quote_ident(m.relation_name)) IS NULL "
      "AND ($1::pg_catalog.text IS NULL OR c.oid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) "
      "     OR c.relnamespace OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.oid[])) "
      "ORDER BY 1, 2",
      only);
  std::vector<std::string> followed;
  HistoryWriter history(true);
  for (const Row& row : moved.rows) {
    QualifiedName from{*row[0], *row[1]};
    QualifiedName to{*row[2], *row[3]};
    if (row[4] == Value("t")) {
      throw Error(sqlstate::kDuplicateObject,
                  "cannot rename " + from.display() + " to " + to.display() + ": " + to.display() +
                      " is registered with pg_viewmgr for another view",
                  "The registry follows a managed view that is renamed; it cannot hold two "
                  "declarations under one name.",
                  "Unregister " + to.display() + " first, or give " + from.display() + " another name.");
    }
    std::string started = clock_now();
    std::vector<Param> names = {{from.schema}, {from.name}, {to.schema}, {to.name}};
    own_tables_query("UPDATE viewmgr.managed_view SET schema_name = $3, relation_name = $4, "
                     "updated_at = pg_catalog.now() WHERE schema_name = $1 AND relation_name = $2",
                     names);
    own_tables_query("UPDATE viewmgr.refresh_state SET schema_name = $3, relation_name = $4 "
                     "WHERE schema_name = $1 AND relation_name = $2",
                     names);
    std::vector<Param> displays = {{from.display()}, {to.display()}};
    own_tables_query(
        "UPDATE viewmgr.managed_view SET reads = pg_catalog.array_replace(reads, $1, $2), "
        "depends_on = pg_catalog.array_replace(depends_on, $1, $2) "
        "WHERE reads OPERATOR(pg_catalog.@>) ARRAY[$1] OR depends_on OPERATOR(pg_catalog.@>) ARRAY[$1]",
        displays);
    history.add(to.display(), "replace", started, "succeeded",
                "no DDL: the registration follows the view PostgreSQL renamed from " + from.display());
    followed.push_back(to.display());
  }
  history.flush();
  return followed;
}

std::vector<std::string> follow_renames(ManagedViews& managed,
                                        const std::optional<std::vector<NodeId>>& nodes) {
  std::vector<NodeId> todo;
  if (nodes.has_value()) {
    todo = *nodes;
  } else {
    for (NodeId node = 0; node < managed.views().size(); node++) todo.push_back(node);
  }
  std::vector<std::string> followed;
  HistoryWriter history(true);
  for (NodeId node : todo) {
    ManagedView& view = managed.view(node);
    if (!view.is_built() || !OidIsValid(view.built_relid) || !TransactionIdIsValid(view.built_rule_xmin)) {
      continue;
    }
    if (!built_relation_exists(view) || rule_xmin(view.built_relid) != view.built_rule_xmin) continue;
    std::string started = clock_now();
    bool indexes_followed = follow_index_renames(view);
    if (indexes_followed) {
      own_tables_query(
          "UPDATE viewmgr.managed_view SET indexes = $3, built_index_specs = $4, built_indexes = $5, "
          "updated_at = pg_catalog.now() WHERE schema_name = $1 AND relation_name = $2",
          {{view.name.schema}, {view.name.name}, {to_array_literal(view.indexes), TEXTARRAYOID},
           {to_array_literal(view.built_index_specs), TEXTARRAYOID},
           {to_array_literal(view.built_indexes), TEXTARRAYOID}});
    }
    // The registered text is what was built; a pending new declaration is the user's.
    bool definition_pending =
        view.built_definition != view.definition || view.built_search_path != view.search_path;
    std::string live = definition_pending ? std::string() : live_canonical_definition_as_named(view.built_relid);
    bool definition_followed =
        !definition_pending && live != *view.built_viewdef && !reads_missing_managed_view(managed, view);
    if (definition_followed) {
      std::string text = without_trailing_semicolon(live);
      view.definition = text;
      view.built_definition = text;
      view.built_viewdef = live;
      view.analyzed_canonical = live;
      view.reads = managed.resolve(parse_definition(text).reads, view.search_path);
      own_tables_query(
          "UPDATE viewmgr.managed_view SET definition = $3, built_definition = $3, "
          "built_viewdef = $4, reads = $5, updated_at = pg_catalog.now() "
          "WHERE schema_name = $1 AND relation_name = $2",
          {{view.name.schema}, {view.name.name}, {text}, {live},
           {to_array_literal(view.reads), TEXTARRAYOID}});
    }
    if (!definition_followed && !indexes_followed) continue;
    history.add(view.display_name, "replace", started, "succeeded",
                std::string("no DDL: the registered ") +
                    (definition_followed ? "definition follows" : "indexes follow") +
                    " objects PostgreSQL renamed");
    followed.push_back(view.display_name);
  }
  history.flush();
  return followed;
}

void follow_renames_after_ddl(FunctionCallInfo fcinfo) {
  if (fcinfo->context == nullptr || !IsA(fcinfo->context, EventTriggerData)) {
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "viewmgr.follow_renames() must be called as an event trigger");
  }
  auto* event = reinterpret_cast<EventTriggerData*>(fcinfo->context);
  if (follow_paused) return;
  if (!IsA(event->parsetree, RenameStmt) && !IsA(event->parsetree, AlterObjectSchemaStmt)) return;
  // What the statement renamed, and the views whose query names it: a schema renamed
  // changes the names of everything in it, so then every view is looked at.
  QueryResult renamed = spi_query(
      "WITH cmd AS (SELECT classid, objid FROM pg_catalog.pg_event_trigger_ddl_commands()) "
      "SELECT ARRAY(SELECT objid FROM cmd WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass)::pg_catalog.text, "
      "  ARRAY(SELECT objid FROM cmd WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass)::pg_catalog.text, "
      "  ARRAY(SELECT objid FROM cmd WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
      "        UNION SELECT r.ev_class FROM cmd "
      "        JOIN pg_catalog.pg_depend d ON d.refclassid OPERATOR(pg_catalog.=) cmd.classid "
      "         AND d.refobjid OPERATOR(pg_catalog.=) cmd.objid "
      "         AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
      "        JOIN pg_catalog.pg_rewrite r ON r.oid OPERATOR(pg_catalog.=) d.objid)::pg_catalog.text "
      "FROM cmd");
  if (renamed.rows.empty()) return;
  auto oids = [](const Value& value) {
    std::vector<Oid> out;
    for (const auto& item : parse_text_array(*value)) out.push_back(static_cast<Oid>(std::stoul(item)));
    return out;
  };
  RenamedObjects objects{oids(renamed.rows[0][1]), oids(renamed.rows[0][0])};
  std::vector<std::string> relids = parse_text_array(*renamed.rows[0][2]);
  bool schema_renamed = !objects.schemas.empty();
  if (!schema_renamed && relids.empty()) return;
  lock_registry();
  // Only what this statement renamed: a collision left by an earlier rename the trigger did
  // not see must not make every later rename fail.
  follow_moved_registrations(objects);
  ManagedViews managed(load_registry());
  std::optional<std::vector<NodeId>> affected;
  if (!schema_renamed) {
    affected.emplace();
    for (NodeId node = 0; node < managed.views().size(); node++) {
      std::string relid = std::to_string(managed.views()[node].built_relid);
      if (std::find(relids.begin(), relids.end(), relid) != relids.end()) affected->push_back(node);
    }
  }
  follow_renames(managed, affected);
}

}  // namespace viewmgr::pg
