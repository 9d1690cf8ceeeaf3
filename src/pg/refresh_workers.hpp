// refresh_all() in background workers: each view refreshed in a transaction of its own (so
// it is locked only while it is refreshed), up to `parallel` at a time. This backend leads:
// it hands views whose sources are done to idle workers and collects their outcomes.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

#include "pg/refresh.hpp"

namespace viewmgr::pg {

// nullopt when no worker could be started (max_worker_processes): the caller refreshes in
// this backend instead.
std::optional<std::vector<RefreshDone>> run_schedule_in_workers(
    const MatviewSet& set, RefreshSchedule& schedule, std::optional<bool> concurrently,
    const std::vector<std::string>& reasons, int parallel);

}  // namespace viewmgr::pg
