// SQL entry points for pg_cron scheduling: schedule, unschedule.
#include "api/entry_point.hpp"
#include "schedule/cron_schedule.hpp"

namespace viewmgr::pg {
namespace {

Datum schedule_function(FunctionCallInfo fcinfo) {
  std::string cron_schedule = text_arg(fcinfo, 0, "schedule");
  std::optional<std::string> job_name = optional_text_arg(fcinfo, 1, "job_name");
  bool only_stale = bool_arg(fcinfo, 2, "only_stale");
  int64 job = with_spi([&] { return schedule_refresh(cron_schedule, job_name, only_stale); });
  PG_RETURN_INT64(job);
}

Datum unschedule_function(FunctionCallInfo fcinfo) {
  std::optional<std::string> job_name = optional_text_arg(fcinfo, 0, "job_name");
  bool removed = with_spi([&] { return unschedule_refresh(job_name); });
  PG_RETURN_BOOL(removed);
}

}  // namespace
}  // namespace viewmgr::pg

VIEWMGR_SQL_FUNCTION(viewmgr_schedule, viewmgr::pg::schedule_function)
VIEWMGR_SQL_FUNCTION(viewmgr_unschedule, viewmgr::pg::unschedule_function)
