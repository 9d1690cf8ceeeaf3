#include "sync/follow_renames.hpp"

#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "registry/history.hpp"
#include "registry/own_tables.hpp"
#include "sync/definition.hpp"
#include "sync/live_catalog.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "utils/lsyscache.h"
}

namespace viewmgr::pg {

namespace {

// The relation the registry built is still there as a view of the registered kind.
bool built_relation_exists(const ManagedView& view) {
  Oid relid = view.built_relid;
  char relkind = pg_call([&] { return get_rel_relkind(relid); });
  return relkind == (view.materialized ? RELKIND_MATVIEW : RELKIND_VIEW);
}

// A managed view this one reads is missing under its name (renamed or dropped by hand).
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

}  // namespace

void follow_renamed_schemas() {
  QueryResult moved = own_tables_query(
      "SELECT m.schema_name, m.relation_name, n.nspname FROM viewmgr.managed_view m "
      "JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) m.built_relid "
      " AND c.relname OPERATOR(pg_catalog.=) m.relation_name AND c.relkind IN ('v', 'm') "
      "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
      "WHERE pg_catalog.to_regnamespace(pg_catalog.quote_ident(m.schema_name)) IS NULL "
      "AND NOT EXISTS (SELECT FROM viewmgr.managed_view o WHERE o.schema_name OPERATOR(pg_catalog.=) n.nspname "
      " AND o.relation_name OPERATOR(pg_catalog.=) m.relation_name)");
  for (const Row& row : moved.rows) {
    QualifiedName from{*row[0], *row[1]};
    QualifiedName to{*row[2], *row[1]};
    std::vector<Param> names = {{from.schema}, {from.name}, {to.schema}};
    own_tables_query("UPDATE viewmgr.managed_view SET schema_name = $3, updated_at = pg_catalog.now() "
                     "WHERE schema_name = $1 AND relation_name = $2", names);
    own_tables_query("UPDATE viewmgr.refresh_state SET schema_name = $3 "
                     "WHERE schema_name = $1 AND relation_name = $2", names);
    std::vector<Param> displays = {{from.display()}, {to.display()}};
    own_tables_query(
        "UPDATE viewmgr.managed_view SET reads = pg_catalog.array_replace(reads, $1, $2), "
        "depends_on = pg_catalog.array_replace(depends_on, $1, $2) "
        "WHERE reads OPERATOR(pg_catalog.@>) ARRAY[$1] OR depends_on OPERATOR(pg_catalog.@>) ARRAY[$1]",
        displays);
  }
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
    // The registered text is what was built; a pending new declaration is the user's.
    if (view.built_definition != view.definition || view.built_search_path != view.search_path) {
      continue;
    }
    if (!built_relation_exists(view) || rule_xmin(view.built_relid) != view.built_rule_xmin) continue;
    std::string live = live_canonical_definition(view.built_relid);
    if (live == *view.built_viewdef) continue;
    if (reads_missing_managed_view(managed, view)) continue;
    std::string started = clock_now();
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
    history.add(view.display_name, "replace", started, "succeeded",
                std::string("no DDL: the registered definition follows objects PostgreSQL renamed"));
    followed.push_back(view.display_name);
  }
  history.flush();
  return followed;
}

}  // namespace viewmgr::pg
