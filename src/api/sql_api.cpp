// The SQL API (extension/pg_viewmgr--*.sql): one extern "C" entry point per function, each a
// thin shim over a C++ function behind the boundary.
#include <algorithm>

#include "core/error.hpp"
#include "core/graph_dot.hpp"
#include "core/refresh_schedule.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"
#include "sync/ddl_targets.hpp"
#include "schedule/cron_schedule.hpp"
#include "sync/definition.hpp"
#include "sync/engine.hpp"
#include "refresh/refresh.hpp"
#include "refresh/refresh_workers.hpp"
#include "registry/registry.hpp"
#include "pg/result_set.hpp"
#include "sync/saved_relation.hpp"
#include "pg/scopes.hpp"
#include "pg/spi.hpp"

namespace viewmgr::pg {
namespace {

bool current_user_has_privs_of(const std::string& role) {
  const char* name = role.c_str();
  return pg_call([&] {
    Oid role_oid = get_role_oid(name, true);
    // A registry row whose owner no longer exists belongs to superusers only.
    return OidIsValid(role_oid) ? has_privs_of_role(GetUserId(), role_oid) : superuser();
  });
}

void require_registry_owner(const ManagedView& view, const char* verb) {
  if (!current_user_has_privs_of(view.owner)) {
    throw Error(sqlstate::kInsufficientPrivilege,
                "permission denied to " + std::string(verb) + " " + view.display_name,
                "It is managed by role \"" + view.owner + "\".",
                "Only members of the owning role can change a managed view.");
  }
}

// The privileges plain SQL would ask for: own the view if it exists, else CREATE on the
// schema.
void require_create_rights(const QualifiedName& name) {
  const char* schema = name.schema.c_str();
  Oid nsp = pg_call([&] { return get_namespace_oid(schema, false); });
  Oid relid = relation_oid(name);
  if (OidIsValid(relid)) {
    char relkind = pg_call([&] { return get_rel_relkind(relid); });
    if (relkind != RELKIND_VIEW && relkind != RELKIND_MATVIEW) {
      throw Error(sqlstate::kWrongObjectType, name.display() + " exists and is not a view",
                  "pg_viewmgr manages views and materialized views only.");
    }
    bool owns = pg_call([&] { return compat::owns_relation(relid, GetUserId()); });
    if (!owns) {
      throw Error(sqlstate::kInsufficientPrivilege, "must be owner of view " + name.display());
    }
    return;
  }
  AclResult acl = pg_call([&] { return compat::schema_acl(nsp, GetUserId(), ACL_CREATE); });
  if (acl != ACLCHECK_OK) {
    throw Error(sqlstate::kInsufficientPrivilege,
                "permission denied for schema " + quote_ident(name.schema),
                "Registering a view needs the CREATE privilege on its schema.");
  }
}

// A registered view by user-given name: qualified, or the first match along the path.
NodeId find_managed(const ManagedViews& managed, const std::string& text,
                    const std::vector<std::string>& path) {
  std::vector<std::string> parts = parse_user_name(text, "view_name");
  std::optional<NodeId> node;
  if (parts.size() == 2) {
    node = managed.find({parts[0], parts[1]});
  } else {
    for (const auto& schema : path) {
      node = managed.find({schema, parts[0]});
      if (node.has_value()) break;
    }
  }
  if (!node.has_value()) {
    throw Error(sqlstate::kUndefinedObject, "\"" + text + "\" is not a managed view", {},
                "viewmgr.status lists the managed views.");
  }
  return *node;
}

std::vector<std::string> all_states(const ManagedViews& managed);

std::vector<NodeId> merge(std::vector<NodeId> a, const std::vector<NodeId>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  return a;
}

Datum register_view(FunctionCallInfo fcinfo) {
  std::string view_name = text_arg(fcinfo, 0, "view_name");
  std::string definition = text_arg(fcinfo, 1, "definition");
  bool materialized = bool_arg(fcinfo, 2, "materialized");
  std::vector<std::string> depends_on = text_array_arg(fcinfo, 3, "depends_on");
  std::vector<std::string> indexes = text_array_arg(fcinfo, 4, "indexes");
  bool with_data = bool_arg(fcinfo, 5, "with_data");
  std::optional<std::string> comment;
  if (!arg_is_null(fcinfo, 6)) comment = text_arg(fcinfo, 6, "comment");
  bool apply = bool_arg(fcinfo, 7, "apply");
  std::vector<std::string> view_options = text_array_arg(fcinfo, 8, "view_options");
  std::string search_path = text_arg(fcinfo, 9, "search_path");
  require_writable("viewmgr.register");

  if (definition.find_first_not_of(" \t\r\n\f") == std::string::npos) {
    throw Error(sqlstate::kInvalidParameterValue, "definition must not be empty", {},
                "A definition is one SELECT, VALUES or WITH ... SELECT query.");
  }
  if (!materialized && !indexes.empty()) {
    throw Error(sqlstate::kInvalidParameterValue, "indexes can only be declared on materialized views");
  }
  if (materialized && !view_options.empty()) {
    throw Error(sqlstate::kInvalidParameterValue, "view_options apply to plain views only");
  }
  if (!materialized && !with_data) {
    throw Error(sqlstate::kInvalidParameterValue, "with_data => false applies to materialized views only");
  }

  SpiConnection spi;
  lock_registry();
  std::vector<std::string> path = expand_search_path(search_path);
  QualifiedName name = resolve_for_create(view_name, path);
  ParsedDefinition parsed = parse_definition(definition);
  view_options = normalize_view_options(view_options);
  for (const auto& spec : indexes) (void)create_index_sql(name, spec);
  require_create_rights(name);

  ManagedViews managed(load_registry(), /*resolve_unbuilt=*/apply);
  auto existing = managed.find(name);
  ManagedView view;
  if (existing.has_value()) {
    view = managed.views()[*existing];
    require_registry_owner(view, "re-register");
  } else {
    view.name = name;
    view.display_name = name.display();
    view.owner = current_user_name();
  }
  view.materialized = materialized;
  view.definition = parsed.query_text;
  view.search_path = path;
  view.depends_on.clear();
  for (const auto& dep : depends_on) {
    std::vector<std::string> parts = parse_user_name(dep, "depends_on");
    RelationRef ref{parts.size() == 2 ? parts[0] : "", parts.back()};
    std::string resolved;
    if (ref.schema.empty()) {
      for (const auto& schema : path) {
        if (managed.is_managed(QualifiedName{schema, ref.name}.display())) {
          resolved = QualifiedName{schema, ref.name}.display();
          break;
        }
      }
    }
    if (resolved.empty()) resolved = managed.resolve({ref}, path).front();
    if (std::find(view.depends_on.begin(), view.depends_on.end(), resolved) == view.depends_on.end()) {
      view.depends_on.push_back(resolved);
    }
  }
  view.reads = managed.resolve(parsed.reads, path);
  view.indexes = indexes;
  view.with_data = with_data;
  view.comment = comment;
  view.view_options = view_options;
  auto analyzed = try_analyze_definition(parsed.query_text, path);
  view.canonical_definition =
      analyzed.has_value() ? std::optional<std::string>(analyzed->canonical) : std::nullopt;

  NodeId node = managed.put(view);
  managed.check_cycles();
  if (apply) managed.check_declared_dependencies({node});
  save_registration(view);

  std::string action = "registered";
  if (apply) {
    const DependencyGraph& graph = managed.graph();
    std::vector<NodeId> scope = merge(graph.upstream_closure({node}), graph.downstream_closure({node}));
    for (const auto& row : sync_views(managed, false, scope)) {
      if (row.view_name == view.display_name) action = row.action;
    }
  }
  spi.finish();
  PG_RETURN_TEXT_P(cstring_to_text(pstrdup_in(CurrentMemoryContext, action)));
}

Datum unregister_view(FunctionCallInfo fcinfo) {
  std::string view_name = text_arg(fcinfo, 0, "view_name");
  bool drop_view = bool_arg(fcinfo, 1, "drop_view");
  bool cascade = bool_arg(fcinfo, 2, "cascade");
  std::string search_path = text_arg(fcinfo, 3, "search_path");
  require_writable("viewmgr.unregister");

  SpiConnection spi;
  lock_registry();
  ManagedViews managed(load_registry());
  NodeId node = find_managed(managed, view_name, expand_search_path(search_path));
  const DependencyGraph& graph = managed.graph();
  const ManagedView& target = managed.views()[node];
  require_registry_owner(target, "unregister");

  std::vector<NodeId> removing = {node};
  std::vector<NodeId> downstream = graph.downstream_closure({node});
  if (downstream.size() > 1) {
    if (!cascade) {
      std::string names;
      for (NodeId d : downstream) {
        if (d == node) continue;
        names += (names.empty() ? "" : ", ") + graph.name(d);
      }
      throw Error(sqlstate::kDependentObjectsStillExist,
                  "cannot unregister " + target.display_name + ": managed views depend on it",
                  "Dependent managed views: " + names + ".",
                  drop_view ? "Use cascade => true to unregister and drop them too."
                            : "Use cascade => true to unregister them too.");
    }
    removing = downstream;
  }
  for (NodeId n : removing) require_registry_owner(managed.views()[n], "unregister");

  if (drop_view) {
    // Dependents first; and no view outside what is unregistered may depend on any of them
    // (pg_viewmgr never drops a view it does not manage).
    std::vector<Oid> dropping;
    std::vector<std::pair<NodeId, Oid>> order;
    std::vector<DependencyGraph::Step> steps = graph.build_order();
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
      if (std::find(removing.begin(), removing.end(), it->node) == removing.end()) continue;
      Oid relid = relation_oid(managed.views()[it->node].name);
      if (!OidIsValid(relid)) continue;
      dropping.push_back(relid);
      order.emplace_back(it->node, relid);
    }
    DependentViews dependents = dependent_view_closure(dropping);
    for (const auto& [dependent, dependency] : dependents.edges) {
      if (std::find(dropping.begin(), dropping.end(), dependent) != dropping.end()) continue;
      std::string name = relation_name(dependent).display();
      throw Error(sqlstate::kDependentObjectsStillExist,
                  "cannot drop " + relation_name(dependency).display() + ": " + name +
                      " depends on it",
                  name + " is not managed by pg_viewmgr, which never drops such objects.",
                  "Drop or change " + name + " first, or unregister with drop_view => false.");
    }
    HistoryWriter history;
    for (const auto& [n, relid] : order) {
      char relkind = pg_call([&] { return get_rel_relkind(relid); });
      std::string started = clock_now();
      spi_execute(std::string(relkind == RELKIND_MATVIEW ? "DROP MATERIALIZED VIEW " : "DROP VIEW ") +
                  graph.name(n));
      history.add(graph.name(n), "drop", started, "succeeded", std::string("unregistered"));
    }
  }
  for (NodeId n : removing) delete_registration(managed.views()[n].name);
  spi.finish();
  PG_RETURN_VOID();
}

Datum sync(FunctionCallInfo fcinfo) {
  bool dry_run = bool_arg(fcinfo, 0, "dry_run");
  if (!dry_run) require_writable("viewmgr.sync");
  ResultSet result(fcinfo);
  SpiConnection spi;
  if (!dry_run) lock_registry();
  ManagedViews managed(load_registry());
  for (const auto& row : sync_views(managed, dry_run)) {
    result.add({row.view_name, row.action, row.reason.empty() ? Cell{} : Cell{row.reason}});
  }
  spi.finish();
  return static_cast<Datum>(0);
}

Datum drift(FunctionCallInfo fcinfo) {
  ResultSet result(fcinfo);
  SpiConnection spi;
  ManagedViews managed(load_registry());
  for (const auto& row : find_drift(managed)) result.add({row.view_name, row.drift, row.detail});
  spi.finish();
  return static_cast<Datum>(0);
}

Datum dependency_order(FunctionCallInfo fcinfo) {
  ResultSet result(fcinfo);
  SpiConnection spi;
  ManagedViews managed(load_registry());
  int step = 1;
  for (const auto& s : managed.graph().build_order()) {
    result.add({std::to_string(step++), std::to_string(s.level), managed.graph().name(s.node),
                to_array_literal(managed.managed_dependencies(s.node))});
  }
  spi.finish();
  return static_cast<Datum>(0);
}

Datum graph(FunctionCallInfo fcinfo) {
  std::string format = text_arg(fcinfo, 0, "format");
  if (format != "dot") {
    throw Error(sqlstate::kInvalidParameterValue, "unsupported graph format \"" + format + "\"",
                {}, "Supported: dot.");
  }
  SpiConnection spi;
  ManagedViews managed(load_registry());
  std::vector<std::string> states = all_states(managed);
  std::vector<DotNodeStyle> styles;
  for (NodeId n = 0; n < managed.views().size(); n++) {
    styles.push_back({managed.views()[n].materialized, states[n]});
  }
  std::string dot = render_dot(managed.graph(), styles);
  spi.finish();
  PG_RETURN_TEXT_P(cstring_to_text(pstrdup_in(CurrentMemoryContext, dot)));
}

// States from the catalogs (engine) plus the refresh engine's: stale and refreshing.
std::vector<std::string> all_states(const ManagedViews& managed) {
  std::vector<std::string> states = view_states(managed);
  bool in_recovery = pg_call([] { return RecoveryInProgress(); });
  MatviewSet set(managed);
  std::vector<Oid> refreshing = views_being_refreshed();
  // The change log is unlogged: a standby cannot read it, so it cannot tell stale views.
  std::vector<MatviewSet::Staleness> stale;
  if (!in_recovery) stale = set.staleness();
  for (NodeId n = 0; n < managed.views().size(); n++) {
    auto m = set.find(managed.views()[n].display_name);
    if (!m.has_value()) continue;
    if (std::find(refreshing.begin(), refreshing.end(), set.target(*m).relid) != refreshing.end()) {
      states[n] = "refreshing";
    } else if (states[n] == "fresh" && !stale.empty() && stale[*m].stale) {
      states[n] = "stale";
    }
  }
  return states;
}

Datum view_states_rows(FunctionCallInfo fcinfo) {
  ResultSet result(fcinfo);
  SpiConnection spi;
  ManagedViews managed(load_registry());
  std::vector<std::string> states = all_states(managed);
  for (NodeId n = 0; n < managed.views().size(); n++) {
    const ManagedView& v = managed.views()[n];
    result.add({v.display_name, v.kind(), states[n], v.last_refreshed_at, v.last_refresh_duration,
                v.last_error, to_array_literal(managed.managed_dependencies(n))});
  }
  spi.finish();
  return static_cast<Datum>(0);
}

// A relation by user-given name, resolved like a query would with `path`; InvalidOid when
// it does not exist.
Oid find_relation(const RelationRef& ref, const std::vector<std::string>& path) {
  if (!ref.schema.empty()) return relation_oid({ref.schema, ref.name});
  for (const auto& schema : path) {
    Oid oid = relation_oid({schema, ref.name});
    if (OidIsValid(oid)) return oid;
  }
  return InvalidOid;
}

Datum run_with_dependents(FunctionCallInfo fcinfo) {
  std::string ddl = text_arg(fcinfo, 0, "ddl");
  std::string search_path = text_arg(fcinfo, 1, "search_path");
  require_writable("viewmgr.run_with_dependents");
  if (ddl.find_first_not_of(" \t\r\n\f") == std::string::npos) {
    throw Error(sqlstate::kInvalidParameterValue, "ddl must not be empty");
  }
  ResultSet result(fcinfo);
  SpiConnection spi;
  lock_registry();
  std::vector<std::string> path = expand_search_path(search_path);
  std::vector<Oid> roots;
  for (const auto& ref : relations_changed_by(ddl)) {
    Oid oid = find_relation(ref, path);
    if (OidIsValid(oid)) roots.push_back(oid);
  }
  ManagedViews managed(load_registry());
  auto rows = rebuild_dependents(managed, roots, [&] {
    ScopedSearchPath scope(search_path_setting(path));
    try {
      spi_execute(ddl);
    } catch (PgError& error) {
      prefix_message(error, "the DDL failed");
      throw;
    }
  });
  for (const auto& row : rows) result.add({row.view_name, row.action, row.reason});
  spi.finish();
  return static_cast<Datum>(0);
}

Datum adopt(FunctionCallInfo fcinfo) {
  bool has_view = !arg_is_null(fcinfo, 0);
  bool has_schema = !arg_is_null(fcinfo, 1);
  std::string search_path = text_arg(fcinfo, 2, "search_path");
  require_writable("viewmgr.adopt");
  if (has_view == has_schema) {
    throw Error(sqlstate::kInvalidParameterValue,
                "give either view_name or schema_name to viewmgr.adopt", {},
                "adopt('s.v') takes one view; adopt(schema_name => 's') every view in s.");
  }
  SpiConnection spi;
  lock_registry();
  std::vector<Oid> relids;
  if (has_view) {
    std::string view_name = text_arg(fcinfo, 0, "view_name");
    std::vector<std::string> parts = parse_user_name(view_name, "view_name");
    Oid relid = find_relation({parts.size() == 2 ? parts[0] : "", parts.back()},
                              expand_search_path(search_path));
    if (!OidIsValid(relid)) {
      throw Error(sqlstate::kUndefinedTable, "relation \"" + view_name + "\" does not exist");
    }
    relids.push_back(relid);
  } else {
    std::string schema = text_arg(fcinfo, 1, "schema_name");
    const char* s = schema.c_str();
    Oid nsp = pg_call([&] { return get_namespace_oid(s, false); });
    QueryResult views = spi_query(
        "SELECT oid FROM pg_catalog.pg_class WHERE relnamespace = $1 AND relkind IN ('v', 'm') "
        "ORDER BY relname",
        {{std::to_string(nsp), OIDOID}});
    for (const auto& row : views.rows) relids.push_back(to_oid(row[0]));
  }
  for (Oid relid : relids) {
    char relkind = pg_call([&] { return get_rel_relkind(relid); });
    std::string name = pg_call([&] { return get_rel_name(relid); });
    if (relkind != RELKIND_VIEW && relkind != RELKIND_MATVIEW) {
      throw Error(sqlstate::kWrongObjectType, "\"" + name + "\" is not a view",
                  "adopt takes views and materialized views only.");
    }
    bool owns = pg_call([&] { return compat::owns_relation(relid, GetUserId()); });
    if (!owns) {
      throw Error(sqlstate::kInsufficientPrivilege, "must be owner of view \"" + name + "\"");
    }
  }
  ManagedViews managed(load_registry());
  int adopted = adopt_views(managed, relids);
  spi.finish();
  PG_RETURN_INT32(adopted);
}

std::vector<Cell> refresh_cells(const RefreshRow& row) {
  return {row.view_name, row.action, row.duration, row.detail};
}

Datum refresh(FunctionCallInfo fcinfo) {
  std::string name = text_arg(fcinfo, 0, "matview");
  std::optional<bool> concurrently;
  if (!arg_is_null(fcinfo, 1)) concurrently = bool_arg(fcinfo, 1, "concurrently");
  bool cascade = bool_arg(fcinfo, 2, "cascade");
  std::string search_path = text_arg(fcinfo, 3, "search_path");
  require_writable("viewmgr.refresh");
  ResultSet result(fcinfo);
  SpiConnection spi;
  ManagedViews managed(load_registry(), false);
  NodeId managed_node = find_managed(managed, name, expand_search_path(search_path));
  const ManagedView& view = managed.views()[managed_node];
  if (!view.materialized) {
    throw Error(sqlstate::kWrongObjectType, view.display_name + " is not a materialized view");
  }
  MatviewSet::recover_change_log();
  MatviewSet set(managed);
  auto node = set.find(view.display_name);
  if (!node.has_value()) {
    throw Error(sqlstate::kObjectNotInPrerequisiteState, view.display_name + " does not exist",
                {}, "viewmgr.sync() creates it.");
  }
  set.ensure_tracking();
  const DependencyGraph& graph = set.graph();
  std::vector<NodeId> downstream = cascade ? graph.downstream_closure({*node}) : std::vector<NodeId>{*node};
  std::vector<bool> wanted(graph.size(), false);
  for (NodeId n : downstream) wanted[n] = true;
  std::vector<std::string> reasons(graph.size());
  for (NodeId n : downstream) {
    if (n != *node) reasons[n] = "reads " + view.display_name;
  }

  // Only the named view and (with cascade) what reads it count as stale here, so the
  // schedule hands out the named view first. It runs in this transaction: its failure is an
  // error, as with REFRESH.
  HistoryWriter history;
  RefreshSchedule schedule(graph, wanted, /*only_stale=*/true);
  std::vector<RefreshDone> done(graph.size());
  auto first = schedule.next_ready();
  if (first != node) {
    throw Error(sqlstate::kInternalError, "pg_viewmgr: refresh schedule did not start with " +
                                              view.display_name);
  }
  RefreshTarget target = set.target(*node);
  target.concurrently = concurrently;
  done[*node] = refresh_one(target, WhenBusy::kWait, history);
  schedule.finish(*node, done[*node].outcome, done[*node].detail);
  if (cascade) {
    std::vector<RefreshDone> rest = run_schedule_here(set, schedule, concurrently, reasons);
    for (NodeId n = 0; n < graph.size(); n++) {
      if (n != *node) done[n] = rest[n];
    }
  }
  for (const auto& row : schedule_rows(set, schedule, done)) {
    auto n = set.find(row.view_name);
    if (n.has_value() && wanted[*n]) result.add(refresh_cells(row));
  }
  spi.finish();
  return static_cast<Datum>(0);
}

Datum refresh_all(FunctionCallInfo fcinfo) {
  bool only_stale = bool_arg(fcinfo, 0, "only_stale");
  std::optional<bool> concurrently;
  if (!arg_is_null(fcinfo, 1)) concurrently = bool_arg(fcinfo, 1, "concurrently");
  if (arg_is_null(fcinfo, 2) || PG_GETARG_INT32(2) < 1) {
    throw Error(sqlstate::kInvalidParameterValue, "parallel must be at least 1");
  }
  int parallel = PG_GETARG_INT32(2);
  require_writable("viewmgr.refresh_all");
  // Workers run each view in a transaction of their own; they cannot see what this
  // transaction has written, so once it has written anything, refresh here instead. The
  // same when they could not connect as the session user (a role without LOGIN before
  // PostgreSQL 17).
  bool use_workers = pg_call([] {
    return !TransactionIdIsValid(GetTopTransactionIdIfAny()) &&
           compat::worker_can_connect_as(GetSessionUserId());
  });
  ResultSet result(fcinfo);
  SpiConnection spi;
  ManagedViews managed(load_registry(), false);
  MatviewSet::recover_change_log();
  MatviewSet set(managed);
  std::optional<RefreshWorkers> workers;
  if (use_workers) workers.emplace(set, parallel);
  set.ensure_tracking();
  std::vector<MatviewSet::Staleness> staleness = set.staleness();
  std::vector<bool> stale;
  std::vector<std::string> reasons;
  for (const auto& s : staleness) {
    stale.push_back(s.stale);
    reasons.push_back(s.stale ? s.reason : only_stale ? "a source was refreshed" : "");
  }
  RefreshSchedule schedule(set.graph(), stale, only_stale);
  std::optional<std::vector<RefreshDone>> done;
  if (workers.has_value() && workers->started()) done = workers->run(schedule, concurrently, reasons);
  if (!done.has_value()) {
    if (parallel > 1) {
      pg_call([] {
        ereport(NOTICE, (errmsg("refreshing in this session, one view at a time"),
                         errdetail("The transaction has already written, or no background "
                                   "worker could be started; locks are held until it ends.")));
      });
    }
    done = run_schedule_here(set, schedule, concurrently, reasons);
  }
  for (const auto& row : schedule_rows(set, schedule, *done)) result.add(refresh_cells(row));
  set.prune_change_log();
  purge_history(std::nullopt);
  spi.finish();
  return static_cast<Datum>(0);
}

Datum purge_history_rows(FunctionCallInfo fcinfo) {
  std::optional<std::string> older_than;
  if (!arg_is_null(fcinfo, 0)) {
    Datum interval = PG_GETARG_DATUM(0);
    older_than = std::string(pg_call([&] {
      return DatumGetCString(DirectFunctionCall1(interval_out, interval));
    }));
  }
  require_writable("viewmgr.purge_history");
  SpiConnection spi;
  uint64 purged = purge_history(older_than);
  spi.finish();
  PG_RETURN_INT64(static_cast<int64>(purged));
}

Datum schedule(FunctionCallInfo fcinfo) {
  std::string cron_schedule = text_arg(fcinfo, 0, "schedule");
  std::optional<std::string> job_name;
  if (!arg_is_null(fcinfo, 1)) job_name = text_arg(fcinfo, 1, "job_name");
  bool only_stale = bool_arg(fcinfo, 2, "only_stale");
  require_writable("viewmgr.schedule");
  SpiConnection spi;
  int64 job = schedule_refresh(cron_schedule, job_name, only_stale);
  spi.finish();
  PG_RETURN_INT64(job);
}

Datum unschedule(FunctionCallInfo fcinfo) {
  std::optional<std::string> job_name;
  if (!arg_is_null(fcinfo, 0)) job_name = text_arg(fcinfo, 0, "job_name");
  require_writable("viewmgr.unschedule");
  SpiConnection spi;
  bool removed = unschedule_refresh(job_name);
  spi.finish();
  PG_RETURN_BOOL(removed);
}

}  // namespace
}  // namespace viewmgr::pg

VIEWMGR_SQL_FUNCTION(viewmgr_register, viewmgr::pg::register_view)
VIEWMGR_SQL_FUNCTION(viewmgr_unregister, viewmgr::pg::unregister_view)
VIEWMGR_SQL_FUNCTION(viewmgr_sync, viewmgr::pg::sync)
VIEWMGR_SQL_FUNCTION(viewmgr_drift, viewmgr::pg::drift)
VIEWMGR_SQL_FUNCTION(viewmgr_dependency_order, viewmgr::pg::dependency_order)
VIEWMGR_SQL_FUNCTION(viewmgr_graph, viewmgr::pg::graph)
VIEWMGR_SQL_FUNCTION(viewmgr_view_states, viewmgr::pg::view_states_rows)
VIEWMGR_SQL_FUNCTION(viewmgr_run_with_dependents, viewmgr::pg::run_with_dependents)
VIEWMGR_SQL_FUNCTION(viewmgr_adopt, viewmgr::pg::adopt)
VIEWMGR_SQL_FUNCTION(viewmgr_refresh, viewmgr::pg::refresh)
VIEWMGR_SQL_FUNCTION(viewmgr_refresh_all, viewmgr::pg::refresh_all)
VIEWMGR_SQL_FUNCTION(viewmgr_purge_history, viewmgr::pg::purge_history_rows)
VIEWMGR_SQL_FUNCTION(viewmgr_schedule, viewmgr::pg::schedule)
VIEWMGR_SQL_FUNCTION(viewmgr_unschedule, viewmgr::pg::unschedule)
