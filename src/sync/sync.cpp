#include "sync/sync.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/rebuild_steps.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"
#include "pg/scopes.hpp"
#include "pg/spi.hpp"
#include "refresh/refresh.hpp"
#include "registry/registry.hpp"
#include "sync/assess.hpp"
#include "sync/builder.hpp"
#include "sync/ddl_targets.hpp"
#include "sync/follow_renames.hpp"
#include "sync/rebuild.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
}

namespace viewmgr::pg {

namespace {

// A registration whose role was dropped before it was built cannot be built as anyone:
// building it as the caller would run another role's definition with the caller's rights.
// It is left out, and so is every view that needs building and reads one left out; the
// rest of the sync goes on. Returns their rows; takes them out of `in_scope`.
std::vector<SyncRow> leave_out_orphans(ManagedViews& managed, const std::vector<ViewNeed>& needs,
                                       std::vector<bool>& in_scope) {
  const DependencyGraph& graph = managed.graph();
  std::vector<bool> left_out(graph.size(), false);
  std::vector<SyncRow> rows;
  for (const auto& step : graph.build_order()) {
    NodeId n = step.node;
    if (!in_scope[n] || needs[n].action == Action::kUnchanged) continue;
    std::optional<std::string> reason;
    if (!role_exists(managed.view(n).owner)) {
      reason = "its owner role no longer exists (re-register or unregister it)";
    } else {
      for (NodeId source : graph.dependencies(n)) {
        if (left_out[source]) {
          reason = "reads " + graph.name(source) + ", which cannot be built";
          break;
        }
      }
    }
    if (!reason.has_value()) continue;
    left_out[n] = true;
    in_scope[n] = false;
    rows.push_back({graph.name(n), "skipped", *reason});
  }
  return rows;
}

}  // namespace

std::vector<SyncRow> sync_views(ManagedViews& managed, bool dry_run,
                                const std::optional<std::vector<NodeId>>& scope) {
  managed.check_cycles();
  const DependencyGraph& graph = managed.graph();
  std::vector<bool> in_scope(graph.size(), !scope.has_value());
  std::vector<NodeId> scoped_nodes;
  if (scope.has_value()) {
    for (NodeId node : *scope) in_scope[node] = true;
    scoped_nodes = *scope;
  } else {
    for (NodeId node = 0; node < graph.size(); node++) scoped_nodes.push_back(node);
  }
  managed.check_declared_dependencies(scoped_nodes);
  // Renames PostgreSQL made were followed at the DDL itself (follow_renames_after_ddl): the
  // views are judged from text that names what they read now, without deparsing them.

  // Assessed in build order, so a view's need is judged after its sources' needs.
  std::vector<ViewNeed> needs(graph.size());
  for (const auto& step : graph.build_order()) {
    if (in_scope[step.node]) needs[step.node] = assess(managed.view(step.node));
  }
  std::vector<SyncRow> left_out = leave_out_orphans(managed, needs, in_scope);
  RebuildPlan plan = plan_rebuild(graph, needs, in_scope);

  // Builds record refresh states: they must come after any change-log recovery.
  if (!dry_run) recover_change_log();
  Rebuild rebuild = Rebuild::prepare(managed, plan, {});
  std::vector<SyncRow> rows;
  for (const auto& step : rebuild.steps()) {
    if (step.managed.has_value()) {
      rows.push_back({step.step.name, action_name(step.step.action), step.step.reason});
    }
  }
  rows.insert(rows.end(), left_out.begin(), left_out.end());
  if (dry_run) return rows;
  rebuild.run([] {});
  if (scope.has_value() && managed.is_whole()) {
    // declare(): the registry was loaded whole, each row with the owner it records beside
    // the one pg_class gives (ManagedView::registered_owner). Only rows where the two
    // differ, or views built just now, can have an owner to write: none on a redeploy that
    // changed nothing, which then runs no statement at all.
    std::vector<bool> built(graph.size(), false);
    for (const auto& step : rebuild.steps()) {
      if (step.managed.has_value() && step.step.action != Action::kUnchanged) built[*step.managed] = true;
    }
    std::vector<QualifiedName> candidates;
    for (NodeId node : scoped_nodes) {
      const ManagedView& view = managed.view(node);
      if (built[node] || view.owner != view.registered_owner) candidates.push_back(view.name);
    }
    follow_owner_changes(candidates);
  } else if (scope.has_value()) {
    // Only what this call judged (a register() of one view and its neighbourhood): the
    // cost of a call stays that of its neighbourhood, not of the whole registry.
    std::vector<QualifiedName> judged;
    for (NodeId node : scoped_nodes) judged.push_back(managed.view(node).name);
    follow_owner_changes(judged);
  } else {
    follow_owner_changes();
  }
  // Materialized views just built start tracking what they read (for staleness).
  bool built_materialized = std::any_of(rebuild.steps().begin(), rebuild.steps().end(), [](const auto& step) {
    return step.managed.has_value() && step.step.action != Action::kUnchanged && step.step.materialized;
  });
  if (built_materialized) MatviewSet(managed).ensure_tracking();
  return rows;
}

std::vector<SyncRow> rebuild_dependents(ManagedViews& managed, const std::vector<Oid>& roots,
                                        const std::function<void()>& between) {
  managed.check_cycles();
  Rebuild rebuild = Rebuild::prepare(managed, RebuildPlan{}, roots);
  rebuild.run(between);
  std::vector<SyncRow> rows;
  for (const auto& step : rebuild.steps()) {
    rows.push_back({step.step.name, action_name(step.step.action),
                    step.managed.has_value() ? "managed" : "unmanaged"});
  }
  return rows;
}

namespace {

void require_owned_view(Oid relid) {
  char relkind = pg_call([&] { return get_rel_relkind(relid); });
  std::string name = pg_call([&] { return get_rel_name(relid); });
  if (relkind != RELKIND_VIEW && relkind != RELKIND_MATVIEW) {
    throw Error(sqlstate::kWrongObjectType, "\"" + name + "\" is not a view",
                "adopt takes views and materialized views only.");
  }
  bool owns = pg_call([&] { return compat::owns_relation(relid, GetUserId()); });
  if (!owns) throw Error(sqlstate::kInsufficientPrivilege, "must be owner of view \"" + name + "\"");
}

}  // namespace

int adopt_views(ManagedViews& managed, const std::vector<Oid>& relids) {
  for (Oid relid : relids) require_owned_view(relid);
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
    view.owner = live.owner_id;
    mark_built(view, relid);
    save_registration(view);
    recorder.record(view);
    managed.put(view);
    adopted++;
  }
  return adopted;
}

std::vector<SyncRow> sync_registry(bool dry_run) {
  if (!dry_run) {
    require_writable("viewmgr.sync");
    lock_registry();
    // Renames the event trigger did not see (made before 0.3.0, or with it disabled).
    follow_moved_registrations();
  }
  ManagedViews managed(load_registry());
  return sync_views(managed, dry_run);
}

std::vector<OrderRow> dependency_order_rows() {
  ManagedViews managed(load_registry());
  std::vector<OrderRow> rows;
  int step = 1;
  for (const auto& s : managed.graph().build_order()) {
    rows.push_back({step++, s.level, managed.graph().name(s.node), managed.managed_dependencies(s.node)});
  }
  return rows;
}

namespace {

// The user's DDL, run under the search_path it was given with; its errors say whose they are.
void run_user_ddl(const std::string& ddl, const std::vector<std::string>& path) {
    ScopedSearchPath scope(search_path_setting(path));
    try {
      spi_execute(ddl);
    } catch (PgError& error) {
      prefix_message(error, kUserDdlFailed);
      throw;
    }
}

// RENAME, RENAME COLUMN and SET SCHEMA leave every view reading the same objects: nothing is
// dropped; the DDL runs as it is and the registry follows what it renamed. The rows are the
// managed views whose definition followed.
std::vector<SyncRow> run_renames_in_place(const std::string& ddl, const std::vector<std::string>& path) {
  {
    // Followed once, below, for the whole script, so that the rows can say what followed.
    RenameFollowPause paused;
    run_user_ddl(ddl, path);
  }
  std::vector<SyncRow> rows;
  for (const auto& name : follow_moved_registrations()) {
    rows.push_back({name, "unchanged", "managed; its registration follows the rename"});
  }
  ManagedViews managed(load_registry());
  for (const auto& name : follow_renames(managed)) {
    if (std::none_of(rows.begin(), rows.end(), [&](const SyncRow& row) { return row.view_name == name; })) {
      rows.push_back({name, "unchanged", "managed; its definition follows the rename"});
    }
  }
  return rows;
}

}  // namespace

std::vector<SyncRow> run_ddl_with_dependents(const std::string& ddl, const std::string& search_path) {
  require_writable("viewmgr.run_with_dependents");
  if (ddl.find_first_not_of(" \t\r\n\f") == std::string::npos) {
    throw Error(sqlstate::kInvalidParameterValue, "ddl must not be empty");
  }
  lock_registry();
  std::vector<std::string> path = expand_search_path(search_path);
  follow_moved_registrations();
  if (renames_only(ddl)) return run_renames_in_place(ddl, path);
  std::vector<Oid> roots;
  for (const auto& ref : relations_changed_by(ddl)) {
    std::vector<std::string> parts;
    if (!ref.schema.empty()) parts.push_back(ref.schema);
    parts.push_back(ref.name);
    Oid oid = find_relation(parts, path);
    if (OidIsValid(oid)) roots.push_back(oid);
  }
  ManagedViews managed(load_registry());
  return rebuild_dependents(managed, roots, [&] { run_user_ddl(ddl, path); });
}

int adopt(const std::optional<std::string>& view_name, const std::optional<std::string>& schema_name,
          const std::string& search_path) {
  require_writable("viewmgr.adopt");
  if (view_name.has_value() == schema_name.has_value()) {
    throw Error(sqlstate::kInvalidParameterValue,
                "give either view_name or schema_name to viewmgr.adopt", {},
                "adopt('s.v') takes one view; adopt(schema_name => 's') every view in s.");
  }
  lock_registry();
  std::vector<Oid> relids;
  if (view_name.has_value()) {
    Oid relid = find_relation(parse_user_name(*view_name, "view_name"), expand_search_path(search_path));
    if (!OidIsValid(relid)) {
      throw Error(sqlstate::kUndefinedTable, "relation \"" + *view_name + "\" does not exist");
    }
    relids.push_back(relid);
  } else {
    const char* s = schema_name->c_str();
    Oid nsp = pg_call([&] { return get_namespace_oid(s, false); });
    QueryResult views = spi_query(
        "SELECT oid FROM pg_catalog.pg_class WHERE relnamespace = $1 AND relkind IN ('v', 'm') "
        "ORDER BY relname",
        {{std::to_string(nsp), OIDOID}});
    for (const auto& row : views.rows) relids.push_back(to_oid(row[0]));
  }
  ManagedViews managed(load_registry());
  return adopt_views(managed, relids);
}

}  // namespace viewmgr::pg
