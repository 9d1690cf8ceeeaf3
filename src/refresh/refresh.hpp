// Refreshing one managed materialized view with its bookkeeping (refresh state, registry,
// history), and running a refresh schedule in this session. Which views are stale and what
// they read is matview_set.hpp; refresh_all()'s workers are refresh_workers.hpp.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

#include "core/dependency_graph.hpp"
#include "core/refresh_schedule.hpp"
#include "pg/boundary.hpp"
#include "registry/history.hpp"
#include "refresh/matview_set.hpp"
#include "registry/refresh_state.hpp"

namespace viewmgr::pg {

struct RefreshRow {
  std::string view_name;
  std::string action;  // refreshed, skipped, failed
  std::optional<std::string> duration;  // interval text
  std::optional<std::string> detail;
};

struct RefreshDone {
  RefreshOutcome outcome = RefreshOutcome::kRefreshed;
  std::optional<std::string> duration;
  std::string detail;
};

enum class WhenBusy { kWait, kSkip };

// Registers the transaction callback that releases pinned snapshots (at library load).
void init_refresh();

// Takes a snapshot, keeps it registered until the end of the transaction and returns it as
// pg_snapshot text: a refresh (or a build WITH DATA) sees exactly that much. While pinned,
// this backend's xmin cannot pass it, so no log row it cannot see is pruned before its
// refresh state is committed.
PinnedSnapshot pin_snapshot();

// Refreshes one view in the current transaction and records it. Throws PgError when the
// REFRESH fails (the caller rolls back and calls record_refresh_failure).
RefreshDone refresh_one(const RefreshTarget& target, WhenBusy when_busy, HistoryWriter& history);

// A refresh's error, copied out of PostgreSQL's error data (which its transaction's abort
// frees).
struct RefreshFailure {
  int sqlerrcode;
  std::string message;
  explicit RefreshFailure(const PgError& error)
      : sqlerrcode(error.sqlerrcode()), message(error.what()) {}
};

// Records a failed (or, for a lock timeout, skipped) refresh after its rollback.
RefreshDone record_refresh_failure(const RefreshTarget& target, const std::string& started_at,
                                   const RefreshFailure& failure, HistoryWriter& history);

// The rows for a finished schedule, in dependency order.
std::vector<RefreshRow> schedule_rows(const MatviewSet& set, const RefreshSchedule& schedule,
                                      const std::vector<RefreshDone>& done);

// Runs `schedule` in this backend, one subtransaction per view (the caller's transaction
// keeps the locks until it ends).
// `done` holds what was done already (by workers that are gone); the result adds the rest.
std::vector<RefreshDone> run_schedule_here(const MatviewSet& set, RefreshSchedule& schedule,
                                           std::optional<bool> concurrently,
                                           const std::vector<std::string>& reasons,
                                           std::vector<RefreshDone> done = {});

// Materialized views (relids) whose refresh lock another session holds right now.
std::vector<Oid> views_being_refreshed();

}  // namespace viewmgr::pg
