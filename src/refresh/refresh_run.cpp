#include "refresh/refresh_run.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/refresh_schedule.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"
#include "refresh/change_tracking.hpp"
#include "refresh/refresh_workers.hpp"
#include "registry/history.hpp"
#include "pg/spi.hpp"
#include "registry/registry.hpp"

extern "C" {
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
}

namespace viewmgr::pg {

std::vector<RefreshRow> refresh_view(const std::string& name, std::optional<bool> concurrently,
                                     bool cascade, const std::string& search_path) {
  require_writable("viewmgr.refresh");
  ManagedViews managed(load_registry(), false);
  NodeId managed_node = managed.find_by_user_name(name, expand_search_path(search_path));
  const ManagedView& view = managed.views()[managed_node];
  if (!view.materialized) {
    throw Error(sqlstate::kWrongObjectType, view.display_name + " is not a materialized view");
  }
  recover_change_log();
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
  // schedule hands out the named view first.
  HistoryWriter history;
  RefreshSchedule schedule(graph, wanted, /*only_stale=*/true);
  std::vector<RefreshDone> done(graph.size());
  if (schedule.next_ready() != node) {
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
  std::vector<RefreshRow> rows;
  for (auto& row : schedule_rows(set, schedule, done)) {
    auto n = set.find(row.view_name);
    if (n.has_value() && wanted[*n]) rows.push_back(std::move(row));
  }
  set.prune_change_log();
  return rows;
}

namespace {

// Whether this backend holds a lock that a refresh worker's REFRESH of a view in `set` would
// wait for: any lock on one of those views or their indexes, or an ACCESS EXCLUSIVE lock on
// anything (a source table, say).
bool holds_conflicting_locks(const MatviewSet& set) {
  std::vector<Oid> relids;
  for (NodeId n = 0; n < set.graph().size(); n++) relids.push_back(set.target(n).relid);
  // The views and their indexes as one hashed set, the array cast once: an array
  // parameter compared row by row is parsed again for every lock and every index, which
  // at 2,000 materialized views (and the thousands of locks a session reading them holds)
  // cost seconds.
  return spi_query(
             "WITH views AS MATERIALIZED (SELECT pg_catalog.unnest($1::pg_catalog.oid[]) AS relid), "
             "watched AS MATERIALIZED (SELECT relid FROM views UNION ALL "
             "  SELECT i.indexrelid FROM pg_catalog.pg_index i JOIN views v ON i.indrelid = v.relid) "
             "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks l "
             "  WHERE l.pid = pg_catalog.pg_backend_pid() AND l.granted AND l.locktype = 'relation' "
             "    AND l.database = (SELECT oid FROM pg_catalog.pg_database "
             "                       WHERE datname = pg_catalog.current_database()) "
             "    AND (l.mode = 'AccessExclusiveLock' OR l.relation IN (SELECT relid FROM watched)))",
             {{oid_array(relids)}})
             .rows.at(0).at(0) == Value("t");
}

}  // namespace

std::vector<RefreshRow> refresh_all_views(bool only_stale, std::optional<bool> concurrently,
                                          int parallel) {
  if (parallel < 1) throw Error(sqlstate::kInvalidParameterValue, "parallel must be at least 1");
  require_writable("viewmgr.refresh_all");
  // Workers run each view in a transaction of their own; they cannot see what this
  // transaction has written, so once it has written anything, refresh here instead. The
  // same when they could not connect as the session user (a role without LOGIN before
  // PostgreSQL 17).
  bool use_workers = pg_call([] {
    return !TransactionIdIsValid(GetTopTransactionIdIfAny()) &&
           compat::worker_can_connect_as(GetSessionUserId());
  });
  // A REPEATABLE READ or SERIALIZABLE transaction sees one snapshot throughout. Workers
  // commit after it was taken: to the transaction, the views they refreshed would still be
  // stale (and hold rows it cannot see, where refreshed concurrently), so a second call
  // would refresh them again over the workers' rows and fail to serialize. Refresh here,
  // on the transaction's snapshot, which is what the transaction sees.
  bool one_snapshot = pg_call([] { return IsolationUsesXactSnapshot(); });
  if (use_workers && one_snapshot) {
    use_workers = false;
    pg_call([] {
      ereport(NOTICE, (errmsg("refreshing in this session, one view at a time"),
                       errdetail("The transaction is REPEATABLE READ or SERIALIZABLE: refresh "
                                 "workers would refresh on snapshots it cannot see."),
                       errhint("Locks on the refreshed views are held until the transaction ends.")));
    });
  }
  ManagedViews managed(load_registry(), false);
  recover_change_log();
  MatviewSet set(managed);
  // A worker's REFRESH would wait for a lock this transaction holds until it ends, while
  // this transaction waits for the worker: refresh here instead, where the lock is ours.
  bool holds_locks = use_workers && holds_conflicting_locks(set);
  if (holds_locks) {
    use_workers = false;
    pg_call([] {
      ereport(NOTICE, (errmsg("refreshing in this session, one view at a time"),
                       errdetail("This transaction holds a lock on a view it refreshes (or an "
                                 "ACCESS EXCLUSIVE lock), which a refresh worker would wait for."),
                       errhint("Locks on the refreshed views are held until the transaction ends.")));
    });
  }
  std::optional<RefreshWorkers> workers;
  if (use_workers) workers.emplace(set, parallel);
  set.ensure_tracking();
  std::vector<bool> stale;
  std::vector<std::string> reasons;
  for (const auto& s : set.staleness()) {
    stale.push_back(s.stale);
    reasons.push_back(s.stale ? s.reason : only_stale ? "a source was refreshed" : "");
  }
  RefreshSchedule schedule(set.graph(), stale, only_stale);
  std::optional<std::vector<RefreshDone>> done;
  if (workers.has_value() && workers->started()) {
    // What this transaction logged so far (tracking started on a table) counts as seen by
    // the workers' refreshes, which come after it; what it logs from here on does not, and
    // is logged afresh.
    pg_call([] { CommandCounterIncrement(); });
    FullTransactionId own = pg_call([] { return GetTopFullTransactionIdIfAny(); });
    std::uint32_t caller_cid = pg_call([] { return GetCurrentCommandId(false); });
    std::optional<std::string> caller_xid;
    if (FullTransactionIdIsValid(own)) caller_xid = std::to_string(U64FromFullTransactionId(own));
    forget_logged_tables();
    done = workers->run(schedule, concurrently, reasons, caller_xid, caller_cid);
    if (workers->stranded()) {
      pg_call([] {
        ereport(NOTICE, (errmsg("refresh workers are gone; refreshing the rest in this session"),
                         errdetail("No refresh worker could connect, or they exited.")));
      });
      done = run_schedule_here(set, schedule, concurrently, reasons, std::move(*done));
    }
  }
  if (!done.has_value()) {
    if (parallel > 1 && !holds_locks && !one_snapshot) {
      pg_call([] {
        ereport(NOTICE, (errmsg("refreshing in this session, one view at a time"),
                         errdetail("The transaction has already written, or no background "
                                   "worker could be started; locks are held until it ends.")));
      });
    }
    done = run_schedule_here(set, schedule, concurrently, reasons);
  }
  std::vector<RefreshRow> rows = schedule_rows(set, schedule, *done);
  set.prune_change_log();
  purge_history(std::nullopt);
  return rows;
}

}  // namespace viewmgr::pg
