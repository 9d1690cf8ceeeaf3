// SQL entry points that apply and inspect the registry: sync, drift, dependency_order,
// graph, view_states (behind viewmgr.status), run_with_dependents. Each converts its
// arguments, calls one function and turns what it returns into rows.
#include "api/entry_point.hpp"
#include "core/sql_text.hpp"
#include "refresh/status.hpp"
#include "registry/registry.hpp"
#include "sync/follow_renames.hpp"
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
  for (const auto& row : with_spi([] { return drift_rows(); })) {
    result.add({row.view_name, row.drift, row.detail});
  }
  return static_cast<Datum>(0);
}

Datum dependency_order_function(FunctionCallInfo fcinfo) {
  ResultSet result(fcinfo);
  for (const auto& row : with_spi([] { return dependency_order_rows(); })) {
    result.add({std::to_string(row.step), std::to_string(row.level), row.view_name,
                to_array_literal(row.depends_on)});
  }
  return static_cast<Datum>(0);
}

Datum graph_function(FunctionCallInfo fcinfo) {
  std::string format = text_arg(fcinfo, 0, "format");
  return text_datum(with_spi([&] { return graph_text(format); }));
}

Datum view_states_function(FunctionCallInfo fcinfo) {
  ResultSet result(fcinfo);
  with_spi([&] {
    ManagedViews managed(load_registry());
    for (const auto& row : status_rows(managed)) {
      const ManagedView& v = *row.view;
      result.add({v.display_name, v.kind(), row.state, v.last_refreshed_at,
                  v.last_refresh_duration, row.last_error, to_array_literal(row.depends_on),
                  v.materialized ? Cell{v.refresh_mode()} : Cell{}});
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

Datum follow_renames_function(FunctionCallInfo fcinfo) {
  with_spi([&] { follow_renames_after_ddl(fcinfo); });
  return PointerGetDatum(nullptr);
}

}  // namespace
}  // namespace viewmgr::pg

VIEWMGR_SQL_FUNCTION(viewmgr_sync, viewmgr::pg::sync_function)
VIEWMGR_SQL_FUNCTION(viewmgr_drift, viewmgr::pg::drift_function)
VIEWMGR_SQL_FUNCTION(viewmgr_dependency_order, viewmgr::pg::dependency_order_function)
VIEWMGR_SQL_FUNCTION(viewmgr_graph, viewmgr::pg::graph_function)
VIEWMGR_SQL_FUNCTION(viewmgr_view_states, viewmgr::pg::view_states_function)
VIEWMGR_SQL_FUNCTION(viewmgr_run_with_dependents, viewmgr::pg::run_with_dependents_function)
VIEWMGR_SQL_FUNCTION(viewmgr_follow_renames, viewmgr::pg::follow_renames_function)
