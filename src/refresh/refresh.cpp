#include "refresh/refresh.hpp"

#include <algorithm>
#include <map>
#include <memory>

#include "core/error.hpp"
#include "core/snapshot_text.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "pg/lock_holders.hpp"
#include "pg/compat.hpp"
#include "refresh/change_tracking.hpp"
#include "pg/scopes.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "miscadmin.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "storage/lmgr.h"
#include "storage/procarray.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

namespace viewmgr::pg {

namespace {

// Advisory lock key space for "this materialized view is being refreshed" ("vm").
constexpr int kRefreshLockClass = 0x766d;

// CONCURRENTLY needs a populated view with a unique index on plain columns, no predicate.
struct ConcurrencyCheck {
  bool populated;
  bool unique_index;
};

ConcurrencyCheck check_concurrency(Oid relid) {
  QueryResult r = spi_query(
      "SELECT c.relispopulated, EXISTS (SELECT 1 FROM pg_catalog.pg_index i "
      "  WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid AND i.indimmediate "
      "    AND i.indpred IS NULL AND i.indexprs IS NULL) "
      "FROM pg_catalog.pg_class c WHERE c.oid = $1",
      {{std::to_string(relid), OIDOID}});
  if (r.rows.empty()) {
    throw Error(sqlstate::kUndefinedTable, "materialized view " + std::to_string(relid) + " does not exist");
  }
  return {r.rows[0][0] == Value("t"), r.rows[0][1] == Value("t")};
}

bool use_concurrently(const RefreshTarget& target) {
  ConcurrencyCheck check = check_concurrency(target.relid);
  bool possible = check.populated && check.unique_index;
  if (!target.concurrently.has_value()) return possible;
  if (*target.concurrently && !possible) {
    if (!check.populated) {
      throw Error(sqlstate::kObjectNotInPrerequisiteState,
                  "cannot refresh " + target.display_name + " concurrently: it is not populated",
                  {}, "Refresh it once with concurrently => false (or NULL).");
    }
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "cannot refresh " + target.display_name +
                    " concurrently: it has no unique index on plain columns without a WHERE clause",
                {}, "Declare one, e.g. viewmgr.register(..., indexes => ARRAY['UNIQUE (id)']).");
  }
  return *target.concurrently;
}

}  // namespace

namespace {

// Snapshots pinned until the end of the current transaction (plain C array: touched from the
// transaction callback).
Snapshot* pinned = nullptr;
int pinned_count = 0;
int pinned_capacity = 0;

void unpin_at_end(XactEvent event, void*) {
  switch (event) {
    case XACT_EVENT_PRE_COMMIT:
    case XACT_EVENT_PARALLEL_PRE_COMMIT:
    case XACT_EVENT_PRE_PREPARE:
      // Released before commit: the resource owner would report them as leaked.
      for (int i = 0; i < pinned_count; i++) {
        UnregisterSnapshotFromOwner(pinned[i], TopTransactionResourceOwner);
      }
      pinned_count = 0;
      break;
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
      pinned_count = 0;  // the resource owner releases them
      break;
    default:
      break;
  }
}

}  // namespace

void init_refresh() { RegisterXactCallback(unpin_at_end, nullptr); }

PinnedSnapshot pin_snapshot() {
  Snapshot snapshot = pg_call([] {
    if (pinned_count == pinned_capacity) {
      int capacity = pinned_capacity == 0 ? 8 : pinned_capacity * 2;
      pinned = static_cast<Snapshot*>(
          pinned == nullptr ? MemoryContextAlloc(TopMemoryContext, sizeof(Snapshot) * capacity)
                            : repalloc(pinned, sizeof(Snapshot) * capacity));
      pinned_capacity = capacity;
    }
    Snapshot s = RegisterSnapshotOnOwner(GetTransactionSnapshot(), TopTransactionResourceOwner);
    pinned[pinned_count++] = s;
    return s;
  });
  pg_call([&] { PushActiveSnapshot(snapshot); });
  // read_only: SPI runs on the active (pinned) snapshot instead of taking a new one.
  std::string text =
      *spi_query("SELECT pg_catalog.pg_current_snapshot()::text", {}, true).rows.at(0).at(0);
  pg_call([] { PopActiveSnapshot(); });
  // A snapshot leaves out its own transaction, whose writes of earlier commands it sees and
  // of later ones not: count the transaction as in progress and keep the command from which
  // on its writes were not seen. Writes from here on are logged afresh, with their command.
  PinnedSnapshot pinned_snapshot;
  pinned_snapshot.own_cid = snapshot->curcid;
  FullTransactionId own = pg_call([] { return GetTopFullTransactionIdIfAny(); });
  if (FullTransactionIdIsValid(own)) {
    text = snapshot_with_in_progress(text, U64FromFullTransactionId(own));
    pinned_snapshot.own_xid = std::to_string(U64FromFullTransactionId(own));
  }
  pinned_snapshot.snapshot = text;
  forget_logged_tables();
  return pinned_snapshot;
}

namespace {
RefreshDone refresh_one_unchecked(const RefreshTarget& target, WhenBusy when_busy,
                                  HistoryWriter& history);
}  // namespace

RefreshDone refresh_one(const RefreshTarget& target, WhenBusy when_busy, HistoryWriter& history) {
  try {
    return refresh_one_unchecked(target, when_busy, history);
  } catch (const Error& error) {
    raise_as_pg_error(error);  // callers handle PostgreSQL errors: one kind of failure
  }
}

namespace {

// Who held the view's lock when the last refresh of this backend had to wait for it: named
// in the history if the wait ends in lock_timeout.
std::string last_lock_holders;

RefreshDone refresh_one_unchecked(const RefreshTarget& target, WhenBusy when_busy,
                                  HistoryWriter& history) {
  // A view the caller may not refresh is left as it is: no error, no history, no last_error
  // (the one named in refresh() itself gets REFRESH's own error instead).
  if (when_busy == WhenBusy::kSkip) {
    Oid relid = target.relid;
    bool allowed = pg_call([&] { return compat::may_refresh(relid, GetUserId()); });
    if (!allowed) return {RefreshOutcome::kSkipped, std::nullopt, "not owner"};
  }
  std::string started = clock_now();
  std::vector<Param> lock_args = {{std::to_string(kRefreshLockClass), INT4OID},
                                  {std::to_string(static_cast<int32>(target.relid)), INT4OID}};
  if (when_busy == WhenBusy::kSkip) {
    QueryResult got = spi_query("SELECT pg_catalog.pg_try_advisory_xact_lock($1, $2)", lock_args);
    if (got.rows.at(0).at(0) != Value("t")) {
      history.add(target.display_name, "refresh", started, "skipped",
                  std::string("being refreshed by another session"));
      return {RefreshOutcome::kSkipped, std::nullopt, "being refreshed by another session"};
    }
  } else {
    spi_query("SELECT pg_catalog.pg_advisory_xact_lock($1, $2)", lock_args);
  }

  bool concurrently = use_concurrently(target);
  PinnedSnapshot snapshot = pin_snapshot();
  // In a worker (no transaction id of its own yet): the caller's rows logged before the
  // hand-over count as seen, as its own earlier commands' would in the caller's session.
  if (target.caller_xid.has_value() && !snapshot.own_xid.has_value()) {
    snapshot.own_xid = target.caller_xid;
    snapshot.own_cid = target.caller_cid;
  }
  // Only when the lock REFRESH takes is not free at once: who has it, before waiting.
  last_lock_holders.clear();
  LOCKMODE mode = concurrently ? ExclusiveLock : AccessExclusiveLock;
  Oid view_relid = target.relid;
  bool free_now = pg_call([&] { return ConditionalLockRelationOid(view_relid, mode); });
  if (!free_now) last_lock_holders = relation_lock_holders(view_relid);
  {
    std::optional<ScopedSetting> lock_timeout;
    if (setting_lock_timeout_ms > 0) {
      lock_timeout.emplace("lock_timeout", std::to_string(setting_lock_timeout_ms));
    }
    spi_execute(std::string("REFRESH MATERIALIZED VIEW ") + (concurrently ? "CONCURRENTLY " : "") +
                target.display_name);
  }
  // Views that read this one see it as changed.
  Oid relid = target.relid;
  pg_call([&] { record_change(relid); });

  std::optional<std::string> duration = record_refresh_state(target.name, snapshot, started);
  std::string detail = concurrently ? "concurrently" : "";
  if (!target.reason.empty()) detail = target.reason + (concurrently ? "; concurrently" : "");
  history.add(target.display_name, "refresh", started, "succeeded",
              detail.empty() ? std::nullopt : std::optional<std::string>(detail));
  return {RefreshOutcome::kRefreshed, duration, detail};
}

}  // namespace

RefreshDone record_refresh_failure(const RefreshTarget& target, const std::string& started_at,
                                   const RefreshFailure& failure, HistoryWriter& history) {
  const std::string& message = failure.message;
  if (failure.sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE || failure.sqlerrcode == ERRCODE_QUERY_CANCELED) {
    // lock_timeout: this view waits for the next run; the others go on.
    std::string detail = "lock not available within viewmgr.lock_timeout";
    if (!last_lock_holders.empty()) detail += "; held by " + last_lock_holders;
    history.add(target.display_name, "refresh", started_at, "skipped", detail);
    return {RefreshOutcome::kSkipped, std::nullopt, detail};
  }
  record_refresh_error(target.name, message);
  history.add(target.display_name, "refresh", started_at, "failed", message);
  return {RefreshOutcome::kFailed, std::nullopt, message};
}

std::vector<RefreshRow> schedule_rows(const MatviewSet& set, const RefreshSchedule& schedule,
                                      const std::vector<RefreshDone>& done) {
  std::vector<RefreshRow> rows;
  for (const auto& step : set.graph().build_order()) {
    NodeId n = step.node;
    RefreshOutcome outcome = schedule.outcome(n);
    if (outcome == RefreshOutcome::kPending) continue;  // outside this run
    RefreshRow row{set.target(n).display_name, refresh_outcome_name(outcome), done[n].duration,
                   std::nullopt};
    std::string detail = schedule.detail(n);
    if (!detail.empty()) row.detail = detail;
    rows.push_back(std::move(row));
  }
  for (const auto& name : set.missing()) {
    rows.push_back({name, "skipped", std::nullopt,
                    std::string("does not exist; viewmgr.sync() creates it")});
  }
  return rows;
}

std::vector<RefreshDone> run_schedule_here(const MatviewSet& set, RefreshSchedule& schedule,
                                           std::optional<bool> concurrently,
                                           const std::vector<std::string>& reasons,
                                           std::vector<RefreshDone> done) {
  HistoryWriter history;
  done.resize(set.graph().size());
  while (auto node = schedule.next_ready()) {
    RefreshTarget target = set.target(*node);
    target.concurrently = concurrently;
    target.reason = reasons.at(*node);
    std::string started = clock_now();
    auto failure = in_subtransaction([&] { done[*node] = refresh_one(target, WhenBusy::kSkip, history); });
    // In REPEATABLE READ or SERIALIZABLE, a serialization failure means another transaction
    // refreshed or changed this view's state after our snapshot: no refresh of it can be
    // recorded in this transaction, nor its failure (that row is just as out of reach). The
    // caller retries the transaction, as with any 40001; nothing is left behind.
    if (failure.has_value() && failure->sqlerrcode() == ERRCODE_T_R_SERIALIZATION_FAILURE &&
        pg_call([] { return IsolationUsesXactSnapshot(); })) {
      throw *failure;
    }
    if (failure.has_value()) {
      done[*node] = record_refresh_failure(target, started, RefreshFailure(*failure), history);
    }
    schedule.finish(*node, done[*node].outcome, done[*node].detail);
    if (setting_progress_notices) {
      std::string line = target.display_name + ": " + refresh_outcome_name(done[*node].outcome);
      const char* text = line.c_str();
      pg_call([&] { ereport(NOTICE, (errmsg_internal("%s", text))); });
    }
  }
  return done;
}

std::vector<Oid> views_being_refreshed() {
  QueryResult rows = spi_query(
      "SELECT objid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted "
      "AND pid <> pg_catalog.pg_backend_pid() AND classid = $1 AND objsubid = 2 AND database = "
      "(SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())",
      {{std::to_string(kRefreshLockClass), OIDOID}});
  std::vector<Oid> out;
  for (const Row& row : rows.rows) out.push_back(to_oid(row[0]));
  return out;
}

}  // namespace viewmgr::pg
