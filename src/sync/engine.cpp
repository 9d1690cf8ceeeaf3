#include "sync/engine.hpp"

#include <algorithm>
#include <functional>
#include <map>

#include "core/error.hpp"
#include "core/fingerprint.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"
#include "registry/history.hpp"
#include "refresh/refresh.hpp"
#include "sync/saved_relation.hpp"
#include "pg/scopes.hpp"
#include "pg/spi.hpp"

namespace viewmgr::pg {

// ---------------------------------------------------------------------------------------
// The registry and its graph

ManagedViews::ManagedViews(std::vector<ManagedView> views, bool resolve_unbuilt)
    : views_(std::move(views)) {
  index_names();
  // Views never built resolve their reads again: what they name may have been registered
  // since. Built views keep what their build resolved.
  for (auto& view : views_) {
    if (resolve_unbuilt && !view.built_fingerprint.has_value()) {
      view.reads = resolve(parse_definition(view.definition).reads, view.search_path);
    }
  }
  build_graph();
}

NodeId ManagedViews::put(ManagedView view) {
  auto existing = find(view.name);
  NodeId node;
  if (existing.has_value()) {
    node = *existing;
    views_[node] = std::move(view);
  } else {
    node = views_.size();
    views_.push_back(std::move(view));
  }
  index_names();
  build_graph();
  return node;
}

void ManagedViews::index_names() {
  by_display_.clear();
  for (NodeId i = 0; i < views_.size(); i++) by_display_[views_[i].display_name] = i;
}

void ManagedViews::build_graph() {
  graph_ = DependencyGraph();
  for (const auto& view : views_) graph_.add_node(view.display_name);
  for (NodeId i = 0; i < views_.size(); i++) {
    for (const auto* list : {&views_[i].reads, &views_[i].depends_on}) {
      for (const auto& dep : *list) {
        auto it = by_display_.find(dep);
        if (it != by_display_.end()) graph_.add_edge(i, it->second);
      }
    }
  }
}

std::optional<NodeId> ManagedViews::find(const QualifiedName& name) const {
  auto it = by_display_.find(name.display());
  if (it == by_display_.end()) return std::nullopt;
  return it->second;
}

bool ManagedViews::is_managed(const std::string& display_name) const {
  return by_display_.count(display_name) > 0;
}

std::vector<std::string> ManagedViews::resolve(const std::vector<RelationRef>& refs,
                                               const std::vector<std::string>& path) const {
  std::vector<std::string> out;
  for (const auto& ref : refs) {
    std::string resolved;
    if (!ref.schema.empty()) {
      resolved = QualifiedName{ref.schema, ref.name}.display();
    } else {
      // pg_catalog is searched first unless the path places it.
      std::vector<std::string> schemas;
      if (std::find(path.begin(), path.end(), "pg_catalog") == path.end()) {
        schemas.push_back("pg_catalog");
      }
      schemas.insert(schemas.end(), path.begin(), path.end());
      for (const auto& schema : schemas) {
        QualifiedName candidate{schema, ref.name};
        std::string display = candidate.display();
        if (is_managed(display) || OidIsValid(relation_oid(candidate))) {
          resolved = display;
          break;
        }
      }
      if (resolved.empty()) {
        // Not there yet: the first schema it could be created in is the best guess.
        resolved = path.empty() ? quote_ident(ref.name) : QualifiedName{path[0], ref.name}.display();
      }
    }
    if (std::find(out.begin(), out.end(), resolved) == out.end()) out.push_back(resolved);
  }
  return out;
}

std::vector<std::string> ManagedViews::managed_dependencies(NodeId node) const {
  std::vector<std::string> names;
  for (NodeId dep : graph_.dependencies(node)) names.push_back(graph_.name(dep));
  std::sort(names.begin(), names.end());
  return names;
}

void ManagedViews::check_declared_dependencies(const std::vector<NodeId>& nodes) const {
  for (NodeId node : nodes) {
    const ManagedView& view = views_.at(node);
    for (const auto& dep : view.depends_on) {
      if (!is_managed(dep)) {
        throw Error(sqlstate::kUndefinedObject,
                    view.display_name + " depends on " + dep + ", which is not a managed view",
                    {}, "Register " + dep + " with viewmgr.register first, or remove it from depends_on.");
      }
    }
  }
}

void ManagedViews::check_cycles() const {
  std::vector<NodeId> cycle = graph_.find_cycle();
  if (!cycle.empty()) {
    throw Error(sqlstate::kInvalidObjectDefinition,
                "dependency cycle among managed views: " + graph_.describe_cycle(cycle), {},
                "Views cannot depend on themselves, directly or through others.");
  }
}

// ---------------------------------------------------------------------------------------
// What is in the catalogs

namespace {

struct LiveRelation {
  Oid oid = InvalidOid;
  char relkind = 0;
  bool populated = false;
  Oid owner = InvalidOid;
};

std::optional<LiveRelation> live_relation(const QualifiedName& name) {
  Oid oid = relation_oid(name);
  if (!OidIsValid(oid)) return std::nullopt;
  LiveRelation live = pg_call([&] {
    LiveRelation l{};
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(oid));
    if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for relation %u", oid);
    auto* form = (Form_pg_class)GETSTRUCT(tuple);
    l.oid = oid;
    l.relkind = form->relkind;
    l.populated = form->relispopulated;
    l.owner = form->relowner;
    ReleaseSysCache(tuple);
    return l;
  });
  return live;
}

// A managed view renamed (or moved to another schema) by hand: the relation pg_viewmgr last
// built, still there under another name with the definition it was built with.
std::optional<QualifiedName> renamed_to(const ManagedView& view) {
  if (!OidIsValid(view.built_relid) || !view.built_viewdef.has_value()) return std::nullopt;
  Oid relid = view.built_relid;
  struct Found {
    bool exists;
    char relkind;
    char* schema;
    char* name;
  };
  Found found = pg_call([&] {
    Found f{false, 0, nullptr, nullptr};
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tuple)) return f;
    auto* form = (Form_pg_class)GETSTRUCT(tuple);
    f.exists = true;
    f.relkind = form->relkind;
    f.schema = get_namespace_name(form->relnamespace);
    f.name = pstrdup(NameStr(form->relname));
    ReleaseSysCache(tuple);
    return f;
  });
  if (!found.exists || found.relkind != (view.materialized ? RELKIND_MATVIEW : RELKIND_VIEW)) {
    return std::nullopt;
  }
  if (live_canonical_definition(relid) != *view.built_viewdef) return std::nullopt;
  return QualifiedName{found.schema, found.name};
}

const char* relkind_name(char relkind) {
  switch (relkind) {
    case RELKIND_VIEW: return "view";
    case RELKIND_MATVIEW: return "materialized view";
    case RELKIND_RELATION: return "table";
    case RELKIND_PARTITIONED_TABLE: return "partitioned table";
    case RELKIND_FOREIGN_TABLE: return "foreign table";
    case RELKIND_SEQUENCE: return "sequence";
    default: return "relation";
  }
}

struct LiveIndex {
  std::string name;
  std::string definition;
};

// Indexes on a relation with their definitions (pg_get_indexdef).
std::vector<LiveIndex> live_indexes(Oid relid) {
  QueryResult result = spi_query(
      "SELECT c.relname, pg_catalog.pg_get_indexdef(i.indexrelid) "
      "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
      "WHERE i.indrelid = $1 ORDER BY 1",
      {{std::to_string(relid), OIDOID}});
  std::vector<LiveIndex> out;
  for (const auto& row : result.rows) out.push_back({*row[0], *row[1]});
  return out;
}

bool has_index_definition(const std::vector<LiveIndex>& live, const std::string& definition) {
  return std::any_of(live.begin(), live.end(),
                     [&](const LiveIndex& index) { return index.definition == definition; });
}

// Records on `view` that `relid` is now what it was built as: the registered definition's
// canonical form becomes the live one, with fingerprints and what the fast drift check needs.
void mark_built(ManagedView& view, Oid relid) {
  std::string canonical = live_canonical_definition(relid);
  view.canonical_definition = canonical;
  view.built_viewdef = canonical;
  BuildSpec spec = view.spec();
  view.built_definition_fingerprint = definition_fingerprint(spec);
  view.built_fingerprint = fingerprint(spec);
  view.built_relid = relid;
  view.built_rule_xmin = rule_xmin(relid);
  view.built_view_options = view.view_options;
}

// Why the live object differs from what was last built, or empty.
std::string definition_drift(const ManagedView& view, const LiveRelation& live) {
  if (!view.built_viewdef.has_value()) return {};
  // Fast path: the very relation that was built, its rule row untouched since.
  if (live.oid == view.built_relid && TransactionIdIsValid(view.built_rule_xmin) &&
      rule_xmin(live.oid) == view.built_rule_xmin) {
    return {};
  }
  if (live_canonical_definition(live.oid) != *view.built_viewdef) {
    return "definition changed outside pg_viewmgr";
  }
  return {};
}

std::vector<std::string> missing_built_indexes(const ManagedView& view, Oid relid) {
  std::vector<std::string> missing;
  if (!view.materialized || view.built_indexes.empty()) return missing;
  std::vector<LiveIndex> live = live_indexes(relid);
  for (const auto& definition : view.built_indexes) {
    if (!has_index_definition(live, definition)) missing.push_back(definition);
  }
  return missing;
}

// The canonical form of the registered definition; analysed now if the registry has none
// (it could not be analysed at registration). nullopt while what it reads is missing.
std::optional<std::string> desired_canonical(ManagedView& view) {
  if (view.canonical_definition.has_value()) return view.canonical_definition;
  auto analyzed = try_analyze_definition(view.definition, view.search_path);
  if (!analyzed.has_value()) return std::nullopt;
  view.canonical_definition = analyzed->canonical;
  return view.canonical_definition;
}

// Replace or rebuild, for a definition change on a live plain view.
ViewNeed replace_or_rebuild(ManagedView& view, const LiveRelation& live, std::string reason) {
  if (view.materialized) return {Action::kRebuilt, reason, true};
  auto analyzed = try_analyze_definition(view.definition, view.search_path);
  if (!analyzed.has_value()) {
    return {Action::kRebuilt, reason + "; the new definition needs its sources rebuilt first", true};
  }
  std::string why;
  if (!can_replace_columns(live_columns(live.oid), analyzed->columns, &why)) {
    return {Action::kRebuilt, reason + "; " + why, true};
  }
  return {Action::kReplaced, reason, true};
}

ViewNeed assess(ManagedView& view) {
  auto live = live_relation(view.name);
  if (!live.has_value()) {
    if (auto renamed = renamed_to(view)) {
      return {Action::kReplaced, "renamed by hand to " + renamed->display() + "; renamed back", true};
    }
    return {Action::kCreated, view.built_fingerprint ? "missing" : "not built yet", false};
  }
  if (live->relkind != RELKIND_VIEW && live->relkind != RELKIND_MATVIEW) {
    throw Error(sqlstate::kWrongObjectType,
                view.display_name + " is a " + relkind_name(live->relkind) + ", not a view",
                "pg_viewmgr never drops objects it did not create.",
                "Rename or drop the " + std::string(relkind_name(live->relkind)) +
                    ", or unregister the view.");
  }
  bool live_materialized = live->relkind == RELKIND_MATVIEW;
  if (live_materialized != view.materialized) {
    return {Action::kRebuilt,
            std::string("kind changes from ") + relkind_name(live->relkind) + " to " + view.kind(),
            true};
  }
  std::string drift = definition_drift(view, *live);
  if (!drift.empty()) return replace_or_rebuild(view, *live, drift);

  auto canonical = desired_canonical(view);
  if (!canonical.has_value()) {
    return {Action::kRebuilt, "its sources are being rebuilt", true};
  }
  BuildSpec spec = view.spec();
  if (!view.built_definition_fingerprint.has_value()) {
    // Registered over an existing view: adopt it in place when it already matches.
    if (live_canonical_definition(live->oid) == *canonical && !view.materialized) {
      return {Action::kReplaced, "taken under management", true};
    }
    return replace_or_rebuild(view, *live, "taken under management with a new definition");
  }
  if (definition_fingerprint(spec) != *view.built_definition_fingerprint) {
    return replace_or_rebuild(view, *live, "definition changed");
  }
  if (fingerprint(spec) != view.built_fingerprint.value_or("")) {
    return {Action::kReplaced, "indexes, comment or options changed", true};
  }
  std::vector<std::string> missing = missing_built_indexes(view, live->oid);
  if (!missing.empty()) {
    return {Action::kReplaced, "index missing: " + missing.front(), true};
  }
  return {Action::kUnchanged, "", true};
}

// --- running the plan -----------------------------------------------------------------

// DROP [MATERIALIZED] VIEW of one relation or a comma-separated list of them.
std::string drop_sql(const std::string& display_names, char relkind) {
  return std::string(relkind == RELKIND_MATVIEW ? "DROP MATERIALIZED VIEW " : "DROP VIEW ") +
         display_names;
}

// "UNIQUE USING btree (a)" from "CREATE UNIQUE INDEX name ON schema.rel USING btree (a)":
// the specification register() takes.
std::string index_spec_from_definition(const std::string& definition, const std::string& on) {
  std::size_t at = definition.find(" ON " + on + " ");
  if (at == std::string::npos) at = definition.find(" ON ONLY " + on + " ");
  if (at == std::string::npos) {
    throw Error(sqlstate::kInternalError, "cannot read index definition: " + definition);
  }
  std::size_t rest = definition.find(on + " ", at) + on.size() + 1;
  bool unique = definition.rfind("CREATE UNIQUE INDEX ", 0) == 0;
  return (unique ? "UNIQUE " : "") + definition.substr(rest);
}

// Builds (CREATE / CREATE OR REPLACE) a view and records the result in the registry.
class Builder {
 public:
  explicit Builder(ManagedViews& managed) : managed_(managed) {}

  // `saved` is what the view had before it was dropped for a rebuild: grants, comments,
  // hand-made indexes and the like are put back from it.
  void build(NodeId node, Action action, const SavedRelation* saved) {
    ManagedView& view = managed_.view(node);
    started_ = clock_now();
    operation_ = action == Action::kCreated ? "create" : action == Action::kRebuilt ? "rebuild" : "replace";
    auto live = live_relation(view.name);
    ScopedOwner as_owner(owner_of(view, saved, live), view.display_name);
    if (!live.has_value()) {
      if (auto renamed = renamed_to(view)) {
        rename_back(view, *renamed);
        live = live_relation(view.name);
        // It is back as it was built; only what the registry changed since remains to do.
        if (action == Action::kCreated) action = Action::kReplaced;
      }
    }
    bool definition_done = false;
    std::vector<std::string> previously_built_indexes = view.built_indexes;

    if (action == Action::kCreated || action == Action::kRebuilt ||
        (action == Action::kReplaced && needs_create_or_replace(view, live))) {
      // Reads are resolved again for every build: the view binds to what exists now.
      view.reads = managed_.resolve(parse_definition(view.definition).reads, view.search_path);
      bool or_replace = live.has_value();
      if (or_replace && view.materialized) {
        // Materialized views cannot be replaced in place; the plan drops them first.
        throw Error(sqlstate::kInternalError,
                    "pg_viewmgr: " + view.display_name + " must be dropped before it is rebuilt");
      }
      std::optional<SavedRelation> live_state;
      if (or_replace) live_state = save_relation(live->oid);
      ViewDdl ddl = view_ddl(view, view.name, or_replace ? &*live_state : saved);
      ddl.or_replace = or_replace;
      std::string sql = create_view_sql(ddl);
      std::optional<std::string> snapshot;
      std::string started;
      if (ddl.materialized && ddl.with_data) {
        started = clock_now();
        snapshot = pin_snapshot();
      }
      {
        ScopedSearchPath scope(search_path_setting(view.search_path));
        spi_execute(sql);
      }
      if (snapshot.has_value()) record_refresh_state(view.name, *snapshot, started);
      definition_done = true;
      live = live_relation(view.name);
      if (!live.has_value()) {
        throw Error(sqlstate::kInternalError, view.display_name + " vanished while being built");
      }
    }
    if (view.materialized) {
      if (!definition_done) drop_built_indexes(view, live->oid);
      create_indexes(view, live->oid);
    }
    apply_comment(view, definition_done);
    if (saved != nullptr) {
      RestoreOptions restore;
      restore.comment = !view.comment.has_value();
      restore.indexes = view.materialized && saved->materialized();
      restore.skip_index_definitions = previously_built_indexes;
      restore_properties(*saved, restore);
    }
    record(view, live->oid);
  }

  // Writes the history rows of everything built (call before returning).
  void flush_history() { history_.flush(); }

  // Recreated views pg_viewmgr does not manage are in the history too.
  void record_unmanaged_rebuild(const std::string& display_name, const std::string& started) {
    history_.add(display_name, "rebuild", started, "succeeded", std::string("unmanaged dependent"));
  }

  // A materialized view built side by side: under a temporary name, with its data and
  // indexes, while the old one is still there for readers.
  struct Prebuilt {
    QualifiedName temporary;
    std::vector<std::pair<std::string, std::string>> index_renames;  // built name -> final
    std::vector<std::string> hand_made_comments;  // final index name -> comment pairs, flat
  };

  Prebuilt prebuild(NodeId node, const SavedRelation* saved) {
    ManagedView& view = managed_.view(node);
    started_ = clock_now();
    ScopedOwner as_owner(owner_of(view, saved, std::nullopt), view.display_name);
    view.reads = managed_.resolve(parse_definition(view.definition).reads, view.search_path);
    Prebuilt pre;
    pre.temporary = {view.name.schema, "pg_viewmgr_new_" + std::to_string(saved ? saved->oid : 0)};
    for (int n = 1; OidIsValid(relation_oid(pre.temporary)); n++) {
      pre.temporary.name = "pg_viewmgr_new_" + std::to_string(saved ? saved->oid : 0) + "_" +
                           std::to_string(n);
    }
    ViewDdl ddl = view_ddl(view, pre.temporary, saved);
    std::optional<std::string> snapshot;
    std::string started;
    if (ddl.with_data) {
      started = clock_now();
      snapshot = pin_snapshot();
    }
    ScopedSearchPath scope(search_path_setting(view.search_path));
    spi_execute(create_view_sql(ddl));
    // Recorded under the real name: the swap happens in this same transaction.
    if (snapshot.has_value()) record_refresh_state(view.name, *snapshot, started);
    Oid relid = relation_oid(pre.temporary);
    const std::string prefix = pre.temporary.name;
    for (const auto& spec : view.indexes) {
      std::string built = create_index_named(pre.temporary, relid, spec);
      std::string final_name = built.rfind(prefix, 0) == 0
                                   ? view.name.name + built.substr(prefix.size())
                                   : built;
      if (final_name.size() >= NAMEDATALEN) final_name.resize(NAMEDATALEN - 1);
      pre.index_renames.emplace_back(built, final_name);
    }
    if (saved != nullptr && saved->materialized()) {
      for (const auto& index : saved->indexes) {
        bool declared = std::find(view.built_indexes.begin(), view.built_indexes.end(),
                                  index.definition) != view.built_indexes.end();
        if (declared) continue;
        std::string spec = index_spec_from_definition(index.definition, saved->display_name);
        pre.index_renames.emplace_back(create_index_named(pre.temporary, relid, spec), index.name);
        if (index.comment.has_value()) {
          pre.hand_made_comments.push_back(index.name);
          pre.hand_made_comments.push_back(*index.comment);
        }
      }
    }
    return pre;
  }

  // Puts a prebuilt materialized view in place of the old one (already dropped): only
  // renames, so the exclusive lock of the swap is short.
  void swap_in(NodeId node, const Prebuilt& pre, const SavedRelation* saved) {
    ManagedView& view = managed_.view(node);
    operation_ = "rebuild";
    ScopedOwner as_owner(owner_of(view, saved, std::nullopt), view.display_name);
    spi_execute("ALTER MATERIALIZED VIEW " + pre.temporary.display() + " RENAME TO " +
                quote_ident(view.name.name));
    for (const auto& [built, final_name] : pre.index_renames) {
      if (built == final_name) continue;
      spi_execute("ALTER INDEX " + QualifiedName{view.name.schema, built}.display() +
                  " RENAME TO " + quote_ident(final_name));
    }
    for (std::size_t i = 0; i + 1 < pre.hand_made_comments.size(); i += 2) {
      spi_execute("COMMENT ON INDEX " +
                  QualifiedName{view.name.schema, pre.hand_made_comments[i]}.display() + " IS " +
                  quote_literal(pre.hand_made_comments[i + 1]));
    }
    Oid relid = relation_oid(view.name);
    view.built_indexes.clear();
    for (const auto& index : live_indexes(relid)) {
      for (std::size_t i = 0; i < view.indexes.size() && i < pre.index_renames.size(); i++) {
        if (index.name == pre.index_renames[i].second) view.built_indexes.push_back(index.definition);
      }
    }
    apply_comment(view, true);
    if (saved != nullptr) {
      RestoreOptions restore;
      restore.comment = !view.comment.has_value();
      restore.indexes = false;
      restore_properties(*saved, restore);
    }
    record(view, relid);
  }

 private:
  // Who the view is built as (and so who owns it): the owner it had before a rebuild, else
  // the role that registered it.
  static std::string owner_of(const ManagedView& view, const SavedRelation* saved,
                              const std::optional<LiveRelation>& live) {
    if (saved != nullptr) return saved->owner;
    if (live.has_value()) {
      Oid owner = live->owner;
      return std::string(pg_call([&] { return GetUserNameFromId(owner, false); }));
    }
    return view.owner;
  }

  // The CREATE for `view` under `target`, keeping from `before` (what stood there) the
  // storage parameters, tablespace and populated state of a materialized view.
  ViewDdl view_ddl(const ManagedView& view, const QualifiedName& target,
                   const SavedRelation* before) {
    ViewDdl ddl{target, view.materialized, view.definition, view.view_options,
                std::nullopt, view.with_data, false};
    // A plain view gets the options the registry declares plus any set by hand since the
    // last build (options the last build declared but the registry no longer does go away).
    // A materialized view keeps its storage parameters, which are never declared.
    if (before != nullptr) {
      if (!view.materialized && !before->materialized()) {
        for (const auto& option : normalize_view_options(before->reloptions)) {
          std::string key = option.substr(0, option.find('='));
          bool built = std::find(view.built_view_options.begin(), view.built_view_options.end(),
                                 option) != view.built_view_options.end();
          bool declared = std::any_of(ddl.options.begin(), ddl.options.end(),
                                      [&](const std::string& o) { return o.rfind(key + "=", 0) == 0; });
          if (!built && !declared) ddl.options.push_back(option);
        }
      }
      if (view.materialized && before->materialized()) {
        ddl.options = before->reloptions;
        ddl.tablespace = before->tablespace;
        ddl.with_data = before->populated;
      }
    }
    return ddl;
  }

  // Creates an index from a specification and returns the name PostgreSQL gave it.
  std::string create_index_named(const QualifiedName& on, Oid relid, const std::string& spec) {
    std::vector<LiveIndex> before = live_indexes(relid);
    spi_execute(create_index_sql(on, spec));
    for (const auto& index : live_indexes(relid)) {
      bool existed = std::any_of(before.begin(), before.end(),
                                 [&](const LiveIndex& b) { return b.name == index.name; });
      if (!existed) return index.name;
    }
    throw Error(sqlstate::kInternalError, "index on " + on.display() + " not found after CREATE INDEX");
  }

  void record(ManagedView& view, Oid relid) {
    mark_built(view, relid);
    recorder_.record(view);
    history_.add(view.display_name, operation_, started_, "succeeded", std::nullopt);
  }



 private:
  void rename_back(const ManagedView& view, const QualifiedName& current) {
    std::string kind = view.materialized ? "MATERIALIZED VIEW " : "VIEW ";
    std::string name = current.display();
    if (current.name != view.name.name) {
      spi_execute("ALTER " + kind + name + " RENAME TO " + quote_ident(view.name.name));
      name = QualifiedName{current.schema, view.name.name}.display();
    }
    if (current.schema != view.name.schema) {
      spi_execute("ALTER " + kind + name + " SET SCHEMA " + quote_ident(view.name.schema));
    }
  }

  // A replace that is only about indexes or the comment needs no CREATE OR REPLACE.
  bool needs_create_or_replace(ManagedView& view, const std::optional<LiveRelation>& live) {
    if (!live.has_value() || !view.built_definition_fingerprint.has_value()) return true;
    if (!definition_drift(view, *live).empty()) return true;
    auto canonical = desired_canonical(view);
    return !canonical.has_value() ||
           definition_fingerprint(view.spec()) != *view.built_definition_fingerprint;
  }

  void drop_built_indexes(const ManagedView& view, Oid relid) {
    if (view.built_indexes.empty()) return;
    for (const auto& index : live_indexes(relid)) {
      if (std::find(view.built_indexes.begin(), view.built_indexes.end(), index.definition) !=
          view.built_indexes.end()) {
        spi_execute("DROP INDEX " + QualifiedName{view.name.schema, index.name}.display());
      }
    }
  }

  void create_indexes(ManagedView& view, Oid relid) {
    if (view.indexes.empty()) {
      view.built_indexes.clear();
      return;
    }
    std::vector<LiveIndex> before = live_indexes(relid);
    {
      ScopedSearchPath scope(search_path_setting(view.search_path));
      for (const auto& spec : view.indexes) spi_execute(create_index_sql(view.name, spec));
    }
    view.built_indexes.clear();
    for (const auto& index : live_indexes(relid)) {
      bool existed = std::any_of(before.begin(), before.end(), [&](const LiveIndex& b) {
        return b.name == index.name;
      });
      if (!existed) view.built_indexes.push_back(index.definition);
    }
  }

  void apply_comment(const ManagedView& view, bool fresh_object) {
    // Without a declared comment, one set by hand is left alone (or restored after a
    // rebuild).
    if (!view.comment.has_value()) return;
    spi_execute(std::string("COMMENT ON ") +
                (view.materialized ? "MATERIALIZED VIEW " : "VIEW ") + view.display_name +
                " IS " + (view.comment.has_value() ? quote_literal(*view.comment) : "NULL"));
  }

  ManagedViews& managed_;
  BuildRecorder recorder_;
  HistoryWriter history_{/*buffered=*/true};
  std::string started_;
  const char* operation_ = "create";
};

// Runs a rebuild plan without losing anything: every view that depends on what is dropped,
// managed or not and at any depth, is saved, dropped and recreated in dependency order with
// its grants, comments, options and indexes.
class Rebuild {
 public:
  // `extra_roots` are relations that are not dropped but whose dependents must be (the
  // tables run_with_dependents changes).
  Rebuild(ManagedViews& managed, const RebuildPlan& plan, const std::vector<Oid>& extra_roots)
      : managed_(managed), side_by_side_(extra_roots.empty()) {
    for (const auto& planned : plan.builds) {
      steps_.push_back({managed_.graph().name(planned.node), planned.node, planned.action,
                        planned.reason, std::nullopt});
    }
    std::vector<Oid> roots = extra_roots;
    std::vector<Oid> dropped;
    for (NodeId node : plan.drops) {
      Oid oid = relation_oid(managed_.views()[node].name);
      if (!OidIsValid(oid)) continue;
      roots.push_back(oid);
      dropped.push_back(oid);
    }
    DependentViews dependents = dependent_view_closure(roots);
    std::vector<Oid> to_save = dropped;
    to_save.insert(to_save.end(), dependents.views.begin(), dependents.views.end());
    std::vector<SavedRelation> saved_all = save_relations(to_save);
    std::map<Oid, std::string> names;
    for (std::size_t i = 0; i < saved_all.size(); i++) {
      SavedRelation& saved = saved_all[i];
      if (i >= dropped.size()) {
        names[saved.oid] = saved.display_name;
        add_dependent(saved);
      }
      std::string key = saved.display_name;
      saved_.emplace(key, std::move(saved));
    }
    order_steps(dependents, names);
  }

  struct Step {
    std::string display_name;
    std::optional<NodeId> managed;  // nullopt: a view pg_viewmgr does not manage
    Action action;
    std::string reason;
    std::optional<char> drop_relkind;  // set when the step drops the relation first
  };
  const std::vector<Step>& steps() const { return steps_; }

  // Drops what is rebuilt (dependents first), runs `between`, then builds everything in
  // dependency order.
  void run(const std::function<void()>& between) {
    Builder builder(managed_);
    // Materialized views whose sources stay as they are get their new version built before
    // anything is dropped; the old one stays readable until the swap.
    std::map<std::string, Builder::Prebuilt> prebuilt;
    for (const auto& step : steps_) {
      if (can_build_side_by_side(step)) {
        auto saved = saved_.find(step.display_name);
        prebuilt.emplace(step.display_name,
                         builder.prebuild(*step.managed,
                                          saved == saved_.end() ? nullptr : &saved->second));
      }
    }
    drop_all();
    between();
    for (const auto& step : steps_) {
      if (step.action == Action::kUnchanged) continue;
      auto saved = saved_.find(step.display_name);
      const SavedRelation* before = saved == saved_.end() ? nullptr : &saved->second;
      try {
        auto pre = prebuilt.find(step.display_name);
        if (pre != prebuilt.end()) {
          builder.swap_in(*step.managed, pre->second, before);
        } else if (step.managed.has_value()) {
          builder.build(*step.managed, step.action, before);
        } else {
          std::string started = clock_now();
          {
            ScopedOwner as_owner(before->owner, before->display_name);
            spi_execute(recreate_sql(*before));
            restore_properties(*before, RestoreOptions{});
          }
          builder.record_unmanaged_rebuild(step.display_name, started);
        }
      } catch (PgError& error) {
        prefix_message(error, "cannot build " + step.display_name);
        throw;
      }
    }
    builder.flush_history();
  }

 private:
  // Drops every saved relation, dependents first, with as few DROP statements as possible:
  // one per run of the same kind in that order (a DROP naming several relations handles the
  // dependencies among them; later statements only hold what earlier ones depended on).
  // Real DROP statements, so event triggers and permission checks see them as usual.
  void drop_all() {
    std::string names;
    char kind = 0;
    auto flush = [&] {
      if (!names.empty()) spi_execute(drop_sql(names, kind));
      names.clear();
    };
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
      auto saved = saved_.find(it->display_name);
      if (saved == saved_.end()) continue;
      if (saved->second.relkind != kind) flush();
      kind = saved->second.relkind;
      names += (names.empty() ? "" : ", ") + it->display_name;
    }
    flush();
  }

  bool can_build_side_by_side(const Step& step) const {
    if (!side_by_side_ || !step.managed.has_value() || step.action != Action::kRebuilt ||
        !managed_.views()[*step.managed].materialized) {
      return false;
    }
    // Its sources must already be what it will read after the rebuild.
    NodeId node = *graph_.find(step.display_name);
    for (NodeId dep : graph_.dependencies(node)) {
      for (const auto& other : steps_) {
        if (other.display_name == graph_.name(dep) && other.action != Action::kUnchanged) {
          return false;
        }
      }
    }
    return true;
  }

  void add_dependent(const SavedRelation& saved) {
    for (auto& step : steps_) {
      if (step.display_name != saved.display_name) continue;
      if (step.action != Action::kRebuilt) {
        step.action = Action::kRebuilt;
        step.reason = "it depends on a view that is rebuilt";
      }
      return;
    }
    auto node = managed_.find(saved.name);
    steps_.push_back({saved.display_name, node, Action::kRebuilt,
                      node.has_value() ? "it depends on a view that is rebuilt"
                                       : "unmanaged dependent of a rebuilt view",
                      std::nullopt});
  }

  // Dependency order over managed and unmanaged views together.
  void order_steps(const DependentViews& dependents, const std::map<Oid, std::string>& names) {
    DependencyGraph graph;
    for (const auto& step : steps_) graph.add_node(step.display_name);
    for (const auto& step : steps_) {
      if (!step.managed.has_value()) continue;
      NodeId from = *graph.find(step.display_name);
      for (NodeId dep : managed_.graph().dependencies(*step.managed)) {
        auto to = graph.find(managed_.graph().name(dep));
        if (to.has_value()) graph.add_edge(from, *to);
      }
    }
    for (const auto& [dependent, dependency] : dependents.edges) {
      auto from = names.find(dependent);
      if (from == names.end()) continue;
      auto to_name = names.find(dependency);
      std::optional<NodeId> to;
      if (to_name != names.end()) {
        to = graph.find(to_name->second);
      } else {
        for (const auto& [display, saved] : saved_) {
          if (saved.oid == dependency) to = graph.find(display);
        }
      }
      if (to.has_value()) graph.add_edge(*graph.find(from->second), *to);
    }
    std::vector<Step> ordered;
    graph_ = graph;
    for (const auto& s : graph.build_order()) {
      for (const auto& step : steps_) {
        if (step.display_name == graph.name(s.node)) ordered.push_back(step);
      }
    }
    steps_ = std::move(ordered);
  }

  ManagedViews& managed_;
  bool side_by_side_;
  std::vector<Step> steps_;
  std::map<std::string, SavedRelation> saved_;
  DependencyGraph graph_;  // managed and unmanaged views of this rebuild
};

}  // namespace

std::vector<SyncRow> sync_views(ManagedViews& managed, bool dry_run,
                                const std::optional<std::vector<NodeId>>& scope) {
  managed.check_cycles();
  const DependencyGraph& graph = managed.graph();
  std::vector<bool> in_scope(graph.size(), !scope.has_value());
  std::vector<NodeId> scoped_nodes;
  for (NodeId node = 0; node < graph.size(); node++) {
    if (!scope.has_value()) scoped_nodes.push_back(node);
  }
  if (scope.has_value()) {
    for (NodeId node : *scope) in_scope[node] = true;
    scoped_nodes = *scope;
  }
  managed.check_declared_dependencies(scoped_nodes);

  // Assessed in build order, so a view's need is judged after its sources' needs.
  std::vector<ViewNeed> needs(graph.size());
  std::vector<DependencyGraph::Step> order = graph.build_order();
  for (const auto& step : order) {
    if (in_scope[step.node]) needs[step.node] = assess(managed.view(step.node));
  }
  RebuildPlan plan = plan_rebuild(graph, needs, in_scope);

  // Builds record refresh states: they must come after any change-log recovery.
  if (!dry_run) MatviewSet::recover_change_log();
  Rebuild rebuild(managed, plan, {});
  std::vector<SyncRow> rows;
  for (const auto& step : rebuild.steps()) {
    if (step.managed.has_value()) {
      rows.push_back({step.display_name, action_name(step.action), step.reason});
    }
  }
  if (!dry_run) {
    rebuild.run([] {});
    // Materialized views just built start tracking what they read (for staleness).
    bool built_materialized = std::any_of(rebuild.steps().begin(), rebuild.steps().end(), [&](const auto& step) {
      return step.managed.has_value() && step.action != Action::kUnchanged &&
             managed.views()[*step.managed].materialized;
    });
    if (built_materialized) MatviewSet(managed).ensure_tracking();
  }
  return rows;
}

std::vector<SyncRow> rebuild_dependents(ManagedViews& managed, const std::vector<Oid>& roots,
                                        const std::function<void()>& between) {
  managed.check_cycles();
  Rebuild rebuild(managed, RebuildPlan{}, roots);
  rebuild.run(between);
  std::vector<SyncRow> rows;
  for (const auto& step : rebuild.steps()) {
    rows.push_back({step.display_name, action_name(step.action),
                    step.managed.has_value() ? "managed" : "unmanaged"});
  }
  return rows;
}

int adopt_views(ManagedViews& managed, const std::vector<Oid>& relids) {
  BuildRecorder recorder;
  int adopted = 0;
  for (Oid relid : relids) {
    SavedRelation live = save_relation(relid);
    if (managed.find(live.name).has_value()) continue;
    ManagedView view;
    view.name = live.name;
    view.display_name = live.display_name;
    view.materialized = live.materialized();
    // Deparsed under the pinned search_path, so every name in it is qualified.
    view.definition = live.definition;
    view.search_path = {live.name.schema};
    view.reads = managed.resolve(parse_definition(view.definition).reads, view.search_path);
    view.with_data = !view.materialized || live.populated;
    view.comment = live.comment;
    if (!view.materialized) view.view_options = normalize_view_options(live.reloptions);
    for (const auto& index : live.indexes) {
      view.indexes.push_back(index_spec_from_definition(index.definition, live.display_name));
      view.built_indexes.push_back(index.definition);
    }
    view.owner = live.owner;
    mark_built(view, relid);
    save_registration(view);
    recorder.record(view);
    managed.put(view);
    adopted++;
  }
  return adopted;
}

std::vector<DriftRow> find_drift(const ManagedViews& const_managed) {
  // Desired canonical forms may be analysed (and cached) on the way; nothing is written.
  ManagedViews& managed = const_cast<ManagedViews&>(const_managed);
  std::vector<DriftRow> rows;
  for (NodeId node = 0; node < managed.views().size(); node++) {
    ManagedView& view = managed.view(node);
    auto live = live_relation(view.name);
    if (!live.has_value()) {
      std::string detail = view.built_fingerprint
                               ? "the " + view.kind() + " does not exist (dropped by hand?)"
                               : "registered but not built yet; run viewmgr.sync()";
      if (auto renamed = renamed_to(view)) {
        detail = "renamed by hand to " + renamed->display() + "; viewmgr.sync() renames it back";
      }
      rows.push_back({view.display_name, "missing", detail});
      continue;
    }
    bool live_materialized = live->relkind == RELKIND_MATVIEW;
    if ((live->relkind != RELKIND_VIEW && !live_materialized) ||
        live_materialized != view.materialized) {
      rows.push_back({view.display_name, "kind",
                      std::string("registered as ") + view.kind() + ", but it is a " +
                          relkind_name(live->relkind)});
      continue;
    }
    std::string drift = definition_drift(view, *live);
    if (!drift.empty()) {
      rows.push_back({view.display_name, "definition", drift});
    } else if (!view.built_definition_fingerprint.has_value()) {
      rows.push_back({view.display_name, "definition",
                      "registered over an existing view, not applied yet; run viewmgr.sync()"});
    } else {
      auto canonical = desired_canonical(view);
      if (!canonical.has_value() ||
          definition_fingerprint(view.spec()) != *view.built_definition_fingerprint) {
        rows.push_back({view.display_name, "definition",
                        "the registered definition is not applied yet; run viewmgr.sync()"});
      }
    }
    if (view.materialized) {
      std::vector<std::string> missing = missing_built_indexes(view, live->oid);
      if (!missing.empty()) {
        rows.push_back({view.display_name, "indexes", "missing or changed: " + missing.front()});
      } else if (view.built_indexes.size() != view.indexes.size() &&
                 view.built_fingerprint.has_value()) {
        rows.push_back({view.display_name, "indexes",
                        "the registered indexes are not applied yet; run viewmgr.sync()"});
      }
      if (view.with_data && !live->populated) {
        rows.push_back({view.display_name, "unpopulated",
                        "registered WITH DATA but holds no data; refresh it"});
      }
    }
  }
  return rows;
}

std::vector<std::string> view_states(const ManagedViews& managed) {
  std::vector<std::string> states(managed.views().size(), "fresh");
  std::vector<DriftRow> drift = find_drift(managed);
  // Most telling first: missing, then drifted, then unpopulated.
  auto rank = [](const std::string& state) {
    if (state == "missing") return 4;
    if (state == "drifted") return 3;
    if (state == "failed") return 2;
    if (state == "unpopulated") return 1;
    return 0;
  };
  std::vector<std::string> names;
  for (const auto& view : managed.views()) names.push_back(view.display_name);
  for (NodeId node = 0; node < managed.views().size(); node++) {
    if (managed.views()[node].last_error.has_value()) states[node] = "failed";
  }
  for (const auto& row : drift) {
    auto node = managed.graph().find(row.view_name);
    if (!node.has_value()) continue;
    std::string state = row.drift == "missing"       ? "missing"
                        : row.drift == "unpopulated" ? "unpopulated"
                                                     : "drifted";
    if (rank(state) > rank(states[*node])) states[*node] = state;
  }
  return states;
}

}  // namespace viewmgr::pg
