// Refreshing managed materialized views: which are stale (from the change log), the graph of
// what reads what, and refreshing one view with its bookkeeping (refresh state, registry,
// history). refresh() runs in the caller's transaction; refresh_all() runs each view in a
// transaction of its own (refresh_workers.hpp) when it can.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

#include "core/dependency_graph.hpp"
#include "core/refresh_schedule.hpp"
#include "pg/boundary.hpp"
#include "sync/managed_views.hpp"
#include "registry/history.hpp"

namespace viewmgr::pg {

struct RefreshRow {
  std::string view_name;
  std::string action;  // refreshed, skipped, failed
  std::optional<std::string> duration;  // interval text
  std::optional<std::string> detail;
};

// One materialized view to refresh.
struct RefreshTarget {
  Oid relid = InvalidOid;
  std::string display_name;
  QualifiedName name;
  std::optional<bool> concurrently;  // nullopt: where possible
  std::string reason;                // why it is refreshed (for the result and history)
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
std::string pin_snapshot();

// Records that `name` holds the data of `snapshot` (refresh_state, registry bookkeeping);
// returns the refresh duration since `started_at`.
std::optional<std::string> record_refresh_state(const QualifiedName& name,
                                                const std::string& snapshot,
                                                const std::string& started_at);

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

// Managed materialized views that exist, what each reads (tables, through any depth of plain
// views, and other materialized views), and the graph among them.
class MatviewSet {
 public:
  explicit MatviewSet(const ManagedViews& managed);

  const DependencyGraph& graph() const { return graph_; }
  const RefreshTarget& target(NodeId node) const { return targets_.at(node); }
  std::optional<NodeId> find(const std::string& display_name) const { return graph_.find(display_name); }
  // Managed materialized views that do not exist (nothing to refresh).
  const std::vector<std::string>& missing() const { return missing_; }

  // Puts the tracking trigger on every source table that lacks it, where the caller may.
  void ensure_tracking();

  // Stale flags (indexed by NodeId) with a reason for each stale view.
  struct Staleness {
    bool stale;
    std::string reason;
  };
  std::vector<Staleness> staleness() const;

  // After crash recovery emptied the change log: puts its marker row back and records when,
  // so refreshes recorded before count as stale. For the changing functions only.
  static void recover_change_log();

  // Drops log rows no refresh can need any more.
  void prune_change_log() const;

 private:
  std::vector<RefreshTarget> targets_;
  std::vector<std::vector<Oid>> sources_;   // tables (with partitions) and materialized views
  std::vector<std::string> source_names_;   // relid -> name, for reasons
  std::vector<Oid> source_ids_;
  std::vector<Oid> untracked_;
  std::vector<std::string> missing_;
  DependencyGraph graph_;
  std::string name_of(Oid relid) const;
};

// The rows for a finished schedule, in dependency order.
std::vector<RefreshRow> schedule_rows(const MatviewSet& set, const RefreshSchedule& schedule,
                                      const std::vector<RefreshDone>& done);

// Runs `schedule` in this backend, one subtransaction per view (the caller's transaction
// keeps the locks until it ends).
std::vector<RefreshDone> run_schedule_here(const MatviewSet& set, RefreshSchedule& schedule,
                                           std::optional<bool> concurrently,
                                           const std::vector<std::string>& reasons);

// Materialized views (relids) whose refresh lock another session holds right now.
std::vector<Oid> views_being_refreshed();

}  // namespace viewmgr::pg
