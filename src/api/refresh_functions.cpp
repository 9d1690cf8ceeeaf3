// SQL entry points of the refresh engine and the history: refresh, refresh_all,
// purge_history, and the DDL event trigger of change tracking. Each converts its arguments and calls one function.
#include "api/entry_point.hpp"
#include "refresh/change_tracking.hpp"
#include "refresh/refresh_run.hpp"
#include "registry/history.hpp"
#include "registry/registry.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace viewmgr::pg {
namespace {

void add_refresh_rows(ResultSet& result, const std::vector<RefreshRow>& rows) {
  for (const auto& row : rows) result.add({row.view_name, row.action, row.duration, row.detail});
}

Datum refresh_function(FunctionCallInfo fcinfo) {
  std::string name = text_arg(fcinfo, 0, "matview");
  std::optional<bool> concurrently = optional_bool_arg(fcinfo, 1, "concurrently");
  bool cascade = bool_arg(fcinfo, 2, "cascade");
  std::string search_path = text_arg(fcinfo, 3, "search_path");
  ResultSet result(fcinfo);
  add_refresh_rows(result, with_spi([&] {
                     return refresh_view(name, concurrently, cascade, search_path);
                   }));
  return static_cast<Datum>(0);
}

Datum refresh_all_function(FunctionCallInfo fcinfo) {
  bool only_stale = bool_arg(fcinfo, 0, "only_stale");
  std::optional<bool> concurrently = optional_bool_arg(fcinfo, 1, "concurrently");
  int parallel = arg_is_null(fcinfo, 2) ? 0 : PG_GETARG_INT32(2);  // NULL: refused as < 1
  ResultSet result(fcinfo);
  add_refresh_rows(result, with_spi([&] {
                     return refresh_all_views(only_stale, concurrently, parallel);
                   }));
  return static_cast<Datum>(0);
}

Datum purge_history_function(FunctionCallInfo fcinfo) {
  std::optional<std::string> older_than;
  if (!arg_is_null(fcinfo, 0)) {
    Datum interval = PG_GETARG_DATUM(0);
    older_than = std::string(pg_call([&] {
      return DatumGetCString(DirectFunctionCall1(interval_out, interval));
    }));
  }
  uint64 purged = with_spi([&] {
    require_writable("viewmgr.purge_history");
    return purge_visible_history(older_than);
  });
  PG_RETURN_INT64(static_cast<int64>(purged));
}

// The DDL event trigger of change tracking (viewmgr.track_ddl).
Datum track_ddl_function(FunctionCallInfo fcinfo) {
  with_spi([&] { record_ddl_changes(fcinfo); });
  return PointerGetDatum(nullptr);
}

}  // namespace
}  // namespace viewmgr::pg

VIEWMGR_SQL_FUNCTION(viewmgr_refresh, viewmgr::pg::refresh_function)
VIEWMGR_SQL_FUNCTION(viewmgr_refresh_all, viewmgr::pg::refresh_all_function)
VIEWMGR_SQL_FUNCTION(viewmgr_purge_history, viewmgr::pg::purge_history_function)
VIEWMGR_SQL_FUNCTION(viewmgr_track_ddl, viewmgr::pg::track_ddl_function)
