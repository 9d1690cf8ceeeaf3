#include "refresh/refresh.hpp"

#include <algorithm>
#include <map>
#include <memory>

#include "core/error.hpp"
#include "core/snapshot_text.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "refresh/change_tracking.hpp"
#include "pg/scopes.hpp"
#include "api/settings.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "catalog/pg_extension.h"
#include "catalog/pg_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "storage/procarray.h"
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

std::string pin_snapshot() {
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
  // A snapshot leaves out its own transaction, which it sees in full so far. But this
  // transaction is logged once per table, so a write it makes after this point would look
  // seen too: count the own transaction as not yet visible (a false "stale" at worst).
  FullTransactionId own = pg_call([] { return GetTopFullTransactionIdIfAny(); });
  if (FullTransactionIdIsValid(own)) text = snapshot_with_in_progress(text, U64FromFullTransactionId(own));
  return text;
}

std::optional<std::string> record_refresh_state(const QualifiedName& name,
                                                const std::string& snapshot,
                                                const std::string& started_at) {
  static std::unique_ptr<PreparedStatement> record;  // once per view and refresh: planned once
  ScopedRegistryWriter writer;
  if (!record) {
    record = std::make_unique<PreparedStatement>(
        "WITH state AS ("
        "  INSERT INTO viewmgr.refresh_state AS s (schema_name, relation_name, snapshot, refreshed_at) "
        "  VALUES ($1, $2, $3::pg_catalog.pg_snapshot, pg_catalog.now()) "
        "  ON CONFLICT (schema_name, relation_name) DO UPDATE "
        "  SET snapshot = EXCLUDED.snapshot, refreshed_at = EXCLUDED.refreshed_at) "
        "UPDATE viewmgr.managed_view SET last_refreshed_at = pg_catalog.now(), "
        "  last_refresh_duration = pg_catalog.clock_timestamp() - $4::timestamptz, last_error = NULL "
        "WHERE schema_name = $1 AND relation_name = $2 RETURNING last_refresh_duration::text",
        std::vector<Oid>{TEXTOID, TEXTOID, TEXTOID, TEXTOID}, PreparedStatement::Lifetime::kBackend);
  }
  QueryResult done = record->execute({name.schema, name.name, snapshot, started_at});
  if (done.rows.empty()) return std::nullopt;
  return done.rows[0][0];
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

RefreshDone refresh_one_unchecked(const RefreshTarget& target, WhenBusy when_busy,
                                  HistoryWriter& history) {
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
  std::string snapshot = pin_snapshot();
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
    history.add(target.display_name, "refresh", started_at, "skipped", detail);
    return {RefreshOutcome::kSkipped, std::nullopt, detail};
  }
  {
    ScopedRegistryWriter writer;
    spi_query("UPDATE viewmgr.managed_view SET last_error = $3 "
              "WHERE schema_name = $1 AND relation_name = $2",
              {{target.name.schema}, {target.name.name}, {message}});
  }
  history.add(target.display_name, "refresh", started_at, "failed", message);
  return {RefreshOutcome::kFailed, std::nullopt, message};
}

// ---------------------------------------------------------------------------------------

MatviewSet::MatviewSet(const ManagedViews& managed) {
  for (const auto& view : managed.views()) {
    if (!view.materialized) continue;
    Oid relid = relation_oid(view.name);
    char relkind = OidIsValid(relid) ? pg_call([&] { return get_rel_relkind(relid); }) : 0;
    if (relkind != RELKIND_MATVIEW) {
      missing_.push_back(view.display_name);
      continue;
    }
    graph_.add_node(view.display_name);
    targets_.push_back({relid, view.display_name, view.name, std::nullopt});
  }
  sources_.resize(targets_.size());
  if (targets_.empty()) return;

  std::vector<Oid> relids;
  for (const auto& t : targets_) relids.push_back(t.relid);
  // What each reads: through plain views at any depth, down to tables (with their
  // partitions), foreign tables and materialized views.
  QueryResult sources = spi_query(
      "WITH RECURSIVE src(mv, rel) AS ("
      "  SELECT m.mv, d.refobjid FROM pg_catalog.unnest($1::pg_catalog.oid[]) AS m(mv) "
      "  JOIN pg_catalog.pg_rewrite r ON r.ev_class = m.mv "
      "  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
      "   AND d.objid = r.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "   AND d.refobjid <> m.mv "
      "  UNION "
      "  SELECT src.mv, d.refobjid FROM src "
      "  JOIN pg_catalog.pg_class c ON c.oid = src.rel AND c.relkind = 'v' "
      "  JOIN pg_catalog.pg_rewrite r ON r.ev_class = c.oid "
      "  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
      "   AND d.objid = r.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "   AND d.refobjid <> c.oid"
      "), leaves AS ("
      "  SELECT DISTINCT src.mv, src.rel FROM src JOIN pg_catalog.pg_class c ON c.oid = src.rel "
      "  WHERE c.relkind IN ('r', 'p', 'm', 'f')"
      "), parts AS ("
      "  SELECT leaves.mv, t.relid AS rel FROM leaves "
      "  JOIN pg_catalog.pg_class c ON c.oid = leaves.rel AND c.relkind = 'p' "
      "  CROSS JOIN LATERAL pg_catalog.pg_partition_tree(leaves.rel) t"
      ") "
      "SELECT u.mv, u.rel, c.relkind, n.nspname, c.relname, "
      "  EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = u.rel AND g.tgname = $2) "
      "FROM (SELECT * FROM leaves UNION SELECT * FROM parts) u "
      "JOIN pg_catalog.pg_class c ON c.oid = u.rel "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ORDER BY 1, 2",
      {{oid_array(relids)}, {std::string(kTrackingTrigger)}});
  std::map<Oid, NodeId> node_of;
  for (NodeId n = 0; n < targets_.size(); n++) node_of[targets_[n].relid] = n;
  for (const Row& row : sources.rows) {
    Oid mv = to_oid(row[0]);
    Oid rel = to_oid(row[1]);
    char relkind = (*row[2])[0];
    NodeId node = node_of.at(mv);
    sources_[node].push_back(rel);
    if (std::find(source_ids_.begin(), source_ids_.end(), rel) == source_ids_.end()) {
      source_ids_.push_back(rel);
      source_names_.push_back(QualifiedName{*row[3], *row[4]}.display());
      bool trackable = relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE;
      if (relkind == RELKIND_FOREIGN_TABLE || (trackable && row[5] != Value("t"))) {
        untracked_.push_back(rel);
      }
    }
    if (relkind == RELKIND_MATVIEW) {
      auto upstream = node_of.find(rel);
      if (upstream != node_of.end()) graph_.add_edge(node, upstream->second);
    }
  }
}

std::string MatviewSet::name_of(Oid relid) const {
  for (std::size_t i = 0; i < source_ids_.size(); i++) {
    if (source_ids_[i] == relid) return source_names_[i];
  }
  return std::to_string(relid);
}

void MatviewSet::ensure_tracking() {
  std::vector<Oid> still_untracked;
  for (Oid relid : untracked_) {
    char relkind = pg_call([&] { return get_rel_relkind(relid); });
    if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE) {
      still_untracked.push_back(relid);  // foreign tables change elsewhere
      continue;
    }
    // As the caller: only where it may create triggers. In a subtransaction, so a table it
    // may not touch just stays untracked (and its views always count as stale).
    auto failure = in_subtransaction([&] {
      spi_execute(std::string("CREATE TRIGGER ") + kTrackingTrigger +
                  " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON " + name_of(relid) +
                  " FOR EACH STATEMENT EXECUTE FUNCTION viewmgr.track_change()");
      // DROP EXTENSION takes the trigger with it (an automatic dependency), while the
      // trigger still goes with its table and can be dropped on its own.
      pg_call([&] {
        ObjectAddress trigger;
        ObjectAddressSet(trigger, TriggerRelationId, get_trigger_oid(relid, kTrackingTrigger, false));
        ObjectAddress extension;
        ObjectAddressSet(extension, ExtensionRelationId, get_extension_oid("pg_viewmgr", false));
        recordDependencyOn(&trigger, &extension, DEPENDENCY_AUTO);
      });
    });
    if (failure.has_value()) still_untracked.push_back(relid);
  }
  untracked_ = std::move(still_untracked);
}

void MatviewSet::recover_change_log() {
  ScopedRegistryWriter writer;
  bool intact =
      spi_query("SELECT EXISTS (SELECT 1 FROM viewmgr.source_change WHERE relid = 0)").rows.at(0).at(0) ==
      Value("t");
  if (intact) return;
  spi_query("UPDATE viewmgr.change_log_reset SET reset_at = pg_catalog.now()");
  spi_query("INSERT INTO viewmgr.source_change VALUES (0, '0')");
}

std::vector<MatviewSet::Staleness> MatviewSet::staleness() const {
  std::vector<Staleness> out(targets_.size(), Staleness{false, ""});
  if (targets_.empty()) return out;
  std::vector<Oid> relids;
  for (const auto& t : targets_) relids.push_back(t.relid);

  ScopedRegistryWriter reader;  // the change log is not readable by ordinary roles
  bool log_intact =
      spi_query("SELECT EXISTS (SELECT 1 FROM viewmgr.source_change WHERE relid = 0)").rows.at(0).at(0) ==
      Value("t");
  QueryResult states = spi_query(
      "SELECT c.oid, s.snapshot::text, c.relispopulated, "
      "  s.refreshed_at < (SELECT pg_catalog.max(reset_at) FROM viewmgr.change_log_reset) "
      "FROM pg_catalog.unnest($1::pg_catalog.oid[]) AS m(oid) "
      "JOIN pg_catalog.pg_class c ON c.oid = m.oid "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN viewmgr.refresh_state s ON s.schema_name = n.nspname AND s.relation_name = c.relname",
      {{oid_array(relids)}});
  struct State {
    Value snapshot;
    bool populated;
    bool before_reset;
  };
  std::map<Oid, State> state_of;
  for (const Row& row : states.rows) {
    state_of[to_oid(row[0])] = {row[1], row[2] == Value("t"), row[3] == Value("t")};
  }

  std::vector<std::string> mv_items, rel_items, snap_items;
  for (NodeId n = 0; n < targets_.size(); n++) {
    const State& state = state_of[targets_[n].relid];
    const Value& snapshot = state.snapshot;
    Staleness& s = out[n];
    if (!state.populated) {
      s = {true, "not populated"};
    } else if (!snapshot.has_value()) {
      s = {true, "no refresh recorded yet"};
    } else if (!log_intact || state.before_reset) {
      s = {true, "the change log was reset (crash recovery)"};
    } else {
      for (Oid rel : sources_[n]) {
        if (std::find(untracked_.begin(), untracked_.end(), rel) != untracked_.end()) {
          s = {true, "reads " + name_of(rel) + ", whose changes cannot be tracked"};
          break;
        }
      }
      if (s.stale) continue;
      for (Oid rel : sources_[n]) {
        mv_items.push_back(std::to_string(n));
        rel_items.push_back(std::to_string(rel));
        snap_items.push_back(*snapshot);
      }
    }
  }
  if (mv_items.empty()) return out;
  QueryResult changed = spi_query(
      "SELECT m.n, pg_catalog.min(m.rel::text) FROM ROWS FROM (pg_catalog.unnest($1::int[]), "
      "  pg_catalog.unnest($2::pg_catalog.oid[]), pg_catalog.unnest($3::pg_catalog.pg_snapshot[])) "
      "  AS m(n, rel, snap) "
      "WHERE EXISTS (SELECT 1 FROM viewmgr.source_change c WHERE c.relid = m.rel "
      "  AND NOT pg_catalog.pg_visible_in_snapshot(c.xid, m.snap)) GROUP BY m.n",
      {{to_array_literal(mv_items)}, {to_array_literal(rel_items)}, {to_array_literal(snap_items)}});
  for (const Row& row : changed.rows) {
    NodeId n = std::stoul(*row[0]);
    out[n] = {true, name_of(to_oid(row[1])) + " changed"};
  }
  return out;
}

void MatviewSet::prune_change_log() const {
  // Only rows older than every snapshot any session still holds (a refresh in flight pins
  // its own), and visible to the recorded refresh of every view that reads their table.
  FullTransactionId horizon = pg_call([] {
    TransactionId oldest = GetOldestNonRemovableTransactionId(nullptr);
    FullTransactionId next = ReadNextFullTransactionId();
    uint32 epoch = EpochFromFullTransactionId(next);
    if (oldest > XidFromFullTransactionId(next)) epoch--;
    return FullTransactionIdFromEpochAndXid(epoch, oldest);
  });
  std::vector<std::string> rel_items, snap_items;
  ScopedRegistryWriter writer;
  QueryResult states = spi_query(
      "SELECT c.oid, s.snapshot::text FROM viewmgr.refresh_state s "
      "JOIN pg_catalog.pg_namespace n ON n.nspname = s.schema_name "
      "JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.relation_name");
  std::map<Oid, std::string> snapshot_of;
  for (const Row& row : states.rows) snapshot_of[to_oid(row[0])] = *row[1];
  for (NodeId n = 0; n < targets_.size(); n++) {
    auto it = snapshot_of.find(targets_[n].relid);
    if (it == snapshot_of.end()) continue;
    for (Oid rel : sources_[n]) {
      rel_items.push_back(std::to_string(rel));
      snap_items.push_back(it->second);
    }
  }
  spi_query(
      "DELETE FROM viewmgr.source_change c WHERE c.relid <> 0 AND c.xid < $3::pg_catalog.xid8 "
      "AND NOT EXISTS (SELECT 1 FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.oid[]), "
      "  pg_catalog.unnest($2::pg_catalog.pg_snapshot[])) AS m(rel, snap) "
      "  WHERE m.rel = c.relid AND NOT pg_catalog.pg_visible_in_snapshot(c.xid, m.snap))",
      {{to_array_literal(rel_items)}, {to_array_literal(snap_items)},
       {std::to_string(U64FromFullTransactionId(horizon))}});
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
                                           const std::vector<std::string>& reasons) {
  HistoryWriter history;
  std::vector<RefreshDone> done(set.graph().size());
  while (auto node = schedule.next_ready()) {
    RefreshTarget target = set.target(*node);
    target.concurrently = concurrently;
    target.reason = reasons.at(*node);
    std::string started = clock_now();
    auto failure = in_subtransaction([&] { done[*node] = refresh_one(target, WhenBusy::kSkip, history); });
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
