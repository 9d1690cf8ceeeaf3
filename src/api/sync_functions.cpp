// SQL entry points that apply and inspect the registry: sync, drift, dependency_order,
// graph, view_states (behind viewmgr.status), run_with_dependents. Each converts its
// arguments, calls one function and turns what it returns into rows.
#include "api/entry_point.hpp"
#include "core/error.hpp"
#include "core/graph_dot.hpp"
#include "core/sql_text.hpp"
#include "refresh/refresh_run.hpp"
#include "registry/registry.hpp"
#include "sync/assess.hpp"
#include "sync/sync.hpp"

namespace viewmgr::pg {
namespace {

void add_sync_rows(ResultSet& result, const std::vector<SyncRow>& rows) {
  for (const auto& row : rows) {
    result.add({row.view_name, row.action, row.reason.empty() ? Cell{} : Cell{row.reason}});
  }
}

Datum sync_function(FunctionCallInfo fcinfo) {
  bool dry_run = bool_arg(fcinfo, 0, "dry_run");
  ResultSet result(fcinfo);
  add_sync_rows(result, with_spi([&] { return sync_registry(dry_run); }));
  return static_cast<Datum>(0);
}

Datum drift_function(FunctionCallInfo fcinfo) {
  ResultSet result(fcinfo);
  auto rows = with_spi([] {
    ManagedViews managed(load_registry());
    return find_drift(managed);
  });
  for (const auto& row : rows) result.add({row.view_name, row.drift, row.detail});
  return static_cast<Datum>(0);
}

Datum dependency_order_function(FunctionCallInfo fcinfo) {
  ResultSet result(fcinfo);
  with_spi([&] {
    ManagedViews managed(load_registry());
    int step = 1;
    for (const auto& s : managed.graph().build_order()) {
      result.add({std::to_string(step++), std::to_string(s.level), managed.graph().name(s.node),
                  to_array_literal(managed.managed_dependencies(s.node))});
    }
  });
  return static_cast<Datum>(0);
}

Datum graph_function(FunctionCallInfo fcinfo) {
  std::string format = text_arg(fcinfo, 0, "format");
  if (format != "dot") {
    throw Error(sqlstate::kInvalidParameterValue, "unsupported graph format \"" + format + "\"",
                {}, "Supported: dot.");
  }
  std::string dot = with_spi([] {
    ManagedViews managed(load_registry());
    std::vector<std::string> states = current_states(managed);
    std::vector<DotNodeStyle> styles;
    for (NodeId n = 0; n < managed.views().size(); n++) {
      styles.push_back({managed.views()[n].materialized, states[n]});
    }
    return render_dot(managed.graph(), styles);
  });
  return text_datum(dot);
}

Datum view_states_function(FunctionCallInfo fcinfo) {
  ResultSet result(fcinfo);
  with_spi([&] {
    ManagedViews managed(load_registry());
    std::vector<std::string> states = current_states(managed);
    for (NodeId n = 0; n < managed.views().size(); n++) {
      const ManagedView& v = managed.views()[n];
      result.add({v.display_name, v.kind(), states[n], v.last_refreshed_at,
                  v.last_refresh_duration, v.last_error,
                  to_array_literal(managed.managed_dependencies(n))});
    }
  });
  return static_cast<Datum>(0);
}

Datum run_with_dependents_function(FunctionCallInfo fcinfo) {
  std::string ddl = text_arg(fcinfo, 0, "ddl");
  std::string search_path = text_arg(fcinfo, 1, "search_path");
  ResultSet result(fcinfo);
  add_sync_rows(result, with_spi([&] { return run_ddl_with_dependents(ddl, search_path); }));
  return static_cast<Datum>(0);
}

}  // namespace
}  // namespace viewmgr::pg

VIEWMGR_SQL_FUNCTION(viewmgr_sync, viewmgr::pg::sync_function)
VIEWMGR_SQL_FUNCTION(viewmgr_drift, viewmgr::pg::drift_function)
VIEWMGR_SQL_FUNCTION(viewmgr_dependency_order, viewmgr::pg::dependency_order_function)
VIEWMGR_SQL_FUNCTION(viewmgr_graph, viewmgr::pg::graph_function)
VIEWMGR_SQL_FUNCTION(viewmgr_view_states, viewmgr::pg::view_states_function)
VIEWMGR_SQL_FUNCTION(viewmgr_run_with_dependents, viewmgr::pg::run_with_dependents_function)
