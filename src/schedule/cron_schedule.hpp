// viewmgr.schedule() / unschedule(): pg_cron jobs that run refresh_all() in this database.
// pg_cron lives in one database of the cluster (cron.database_name); from any other
// database the call is made there by a short-lived background worker, as the caller.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>

namespace viewmgr::pg {

// Creates or updates the job; returns its pg_cron job id.
int64 schedule_refresh(const std::string& schedule, const std::optional<std::string>& job_name,
                       bool only_stale);

// Removes the job; false when there was none of that name.
bool unschedule_refresh(const std::optional<std::string>& job_name);

}  // namespace viewmgr::pg
