#include "refresh/matview_set.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>

#include "core/source_closure.hpp"
#include "core/sql_text.hpp"
#include "incremental/incremental_view.hpp"
#include "pg/boundary.hpp"
#include "pg/scopes.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"
#include "refresh/change_tracking.hpp"
#include "registry/own_tables.hpp"
#include "registry/refresh_state.hpp"

extern "C" {
#include "access/transam.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
}

namespace viewmgr::pg {

namespace {

// The facts SourceCatalog walks, for a batch of relations: kind, name, the firing mode of
// its tracking trigger, what the rules of a view or materialized view reference, the
// partitions and inheritance children of a table, and the table functions its rules call
// (set-returning, not built in, not immutable: what such a function reads is not known).
// One row per relation asked for, by index probes: a batch costs its size, whatever the
// size of the catalog. A relation no longer there comes back with a NULL kind.
constexpr const char* kRelationFacts =
    "SELECT u.rel, c.relkind, n.nspname, c.relname, "
    "  (SELECT g.tgenabled FROM pg_catalog.pg_trigger g WHERE g.tgrelid = u.rel AND g.tgname = $2), "
    "  CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.array_to_string(ARRAY("
    "    SELECT DISTINCT d.refobjid FROM pg_catalog.pg_rewrite r "
    "    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
    "     AND d.objid = r.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "     AND d.refobjid <> u.rel "
    "    WHERE r.ev_class = u.rel), ' ') END, "
    "  CASE WHEN c.relkind IN ('r', 'p', 'f') THEN pg_catalog.array_to_string(ARRAY("
    "    SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent = u.rel), ' ') END, "
    "  CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.array_to_string(ARRAY("
    "    SELECT DISTINCT p.oid FROM pg_catalog.pg_rewrite w "
    "    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
    "     AND d.objid = w.oid AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass "
    "    JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid "
    "    WHERE w.ev_class = u.rel AND p.oid >= 16384 AND p.provolatile <> 'i' AND p.proretset), ' ') END "
    "FROM pg_catalog.unnest($1::pg_catalog.oid[]) AS u(rel) "
    "LEFT JOIN pg_catalog.pg_class c ON c.oid = u.rel "
    "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace";

std::vector<RelationId> id_list(const Value& value) {
  std::vector<RelationId> ids;
  if (!value.has_value()) return ids;
  std::size_t pos = 0;
  const std::string& text = *value;
  while (pos < text.size()) {
    std::size_t next = text.find(' ', pos);
    if (next == std::string::npos) next = text.size();
    if (next > pos) ids.push_back(static_cast<RelationId>(std::stoul(text.substr(pos, next - pos))));
    pos = next + 1;
  }
  return ids;
}

// Learns the facts of `relations` in one query.
void load_facts(SourceCatalog& catalog, const std::vector<RelationId>& relations) {
  // Planned once per backend: a sync building 2,000 materialized views runs it for each,
  // once per level of plain views, and planning it each time cost more than running it.
  static std::unique_ptr<PreparedStatement> select;
  if (!select) {
    select = std::make_unique<PreparedStatement>(kRelationFacts, std::vector<Oid>{OIDARRAYOID, NAMEOID},
                                                 PreparedStatement::Lifetime::kBackend);
  }
  std::vector<Oid> oids(relations.begin(), relations.end());
  QueryResult rows = select->execute({oid_array(oids), std::string(kTrackingTrigger)});
  for (const Row& row : rows.rows) {
    RelationFacts facts;
    if (row[1].has_value()) {
      facts.kind = (*row[1])[0];
      facts.display_name = QualifiedName{*row[2], *row[3]}.display();
      facts.trigger_mode = row[4] ? (*row[4])[0] : '\0';
      facts.rule_reads = id_list(row[5]);
      facts.children = id_list(row[6]);
      facts.functions = id_list(row[7]);
    }
    catalog.learn(to_oid(row[0]), std::move(facts));
  }
}

bool trackable_kind(char relkind) {
  return relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE;
}

}  // namespace

MatviewSet::MatviewSet(const ManagedViews& managed) {
  std::vector<Oid> roots;  // per target: the relation whose query says what it reads
  for (const auto& view : managed.views()) {
    if (!view.materialized) continue;
    Oid relid = relation_oid(view.name);
    char relkind = OidIsValid(relid) ? pg_call([&] { return get_rel_relkind(relid); }) : 0;
    // An incremental view is a table; what it reads is what its definition view reads.
    Oid reads_through = relid;
    if (relkind != RELKIND_MATVIEW) {
      if (view.incremental && is_incremental_table(relid)) reads_through = incremental_definition_view(relid);
      if (reads_through == relid || !OidIsValid(reads_through)) {
        missing_.push_back(view.display_name);
        continue;
      }
    }
    graph_.add_node(view.display_name);
    targets_.push_back({relid, view.display_name, view.name, std::nullopt});
    roots.push_back(reads_through);
  }
  sources_.resize(targets_.size());
  functions_.resize(targets_.size());
  if (targets_.empty()) return;

  std::map<Oid, NodeId> node_of;
  std::map<Oid, NodeId> node_of_root;
  for (NodeId n = 0; n < targets_.size(); n++) {
    node_of[targets_[n].relid] = n;
    node_of_root[roots[n]] = n;
  }
  for (const Source& source : source_closure(roots)) {
    NodeId node = node_of_root.at(source.root);
    if (source.relkind == 'F') {
      functions_[node].push_back(source.name);
      continue;
    }
    sources_[node].push_back(source.relid);
    if (!names_.count(source.relid)) {
      names_[source.relid] = source.name;
      if (source.relkind == RELKIND_FOREIGN_TABLE) {
        untracked_[source.relid] = "a foreign table, whose changes happen elsewhere";
      } else if (trackable_kind(source.relkind) && source.trigger_mode != 'A') {
        untracked_[source.relid] = source.trigger_mode == '\0'
                                       ? "no tracking trigger (pg_viewmgr adds one when a role with the "
                                         "TRIGGER privilege on it builds or refreshes a view that reads it)"
                                   : source.trigger_mode == 'O'
                                       ? "its tracking trigger does not fire in every session mode"
                                       : "its tracking trigger is disabled";
        untracked_kind_[source.relid] = source.trigger_mode;
      }
    }
    if (source.relkind == RELKIND_MATVIEW || source.relkind == RELKIND_RELATION) {
      auto upstream = node_of.find(source.relid);  // a managed one (incremental: a table)
      if (upstream != node_of.end()) graph_.add_edge(node, upstream->second);
    }
  }
}

namespace {

// The facts of `roots` and of everything a walk from them reaches. Walked in C++ over facts
// loaded a level at a time, each relation once however many views read it: a recursive
// query over the catalog cost about 1 s for the 2,000 materialized views of 10,000 managed
// views. Loaded afresh on every call, so what is walked is what the catalog says now
// (nothing kept across statements to go stale). Index probes whatever the catalog's
// statistics.
SourceCatalog load_source_catalog(const std::vector<Oid>& roots) {
  IndexProbeScope probes;
  SourceCatalog catalog;
  std::vector<RelationId> root_ids(roots.begin(), roots.end());
  for (std::vector<RelationId> missing = root_ids; !missing.empty();
       missing = catalog.unknown_reachable(root_ids)) {
    load_facts(catalog, missing);
  }
  return catalog;
}

}  // namespace

std::vector<MatviewSet::Source> MatviewSet::source_closure(const std::vector<Oid>& roots) {
  std::vector<Source> out;
  if (roots.empty()) return out;
  SourceCatalog catalog = load_source_catalog(roots);
  std::map<FunctionId, std::string> function_names;
  for (Oid root : roots) {
    SourceCatalog::Closure closure = catalog.closure(root);
    for (RelationId relid : closure.relations) {
      const RelationFacts* facts = catalog.facts(relid);
      out.push_back({root, relid, facts->kind, facts->display_name, facts->trigger_mode});
    }
    std::vector<std::string> names;
    for (FunctionId fn : closure.functions) {
      auto it = function_names.find(fn);
      if (it == function_names.end()) {
        const char* name = pg_call([&] { return format_procedure(fn); });
        it = function_names.emplace(fn, name).first;
      }
      names.push_back(it->second);
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) out.push_back({root, 0, 'F', name, '\0'});
  }
  return out;
}

std::string MatviewSet::name_of(Oid relid) const {
  auto it = names_.find(relid);
  return it != names_.end() ? it->second : std::to_string(relid);
}

void MatviewSet::ensure_tracking() {
  std::map<Oid, char> wanted = untracked_kind_;
  for (const auto& [relid, mode] : wanted) {
    if (track_table(relid, name_of(relid), mode)) {
      untracked_.erase(relid);
      untracked_kind_.erase(relid);
    }
  }
}

std::vector<std::string> MatviewSet::track_sources_of(const std::vector<Oid>& relids) {
  std::vector<std::string> untracked;
  if (relids.empty()) return untracked;
  SourceCatalog catalog = load_source_catalog(relids);
  std::set<Oid> seen;
  auto track = [&](Oid relid) {
    const RelationFacts* facts = catalog.facts(relid);
    if (facts == nullptr || !trackable_kind(facts->kind) || facts->trigger_mode == 'A') return;
    if (seen.insert(relid).second && !track_table(relid, facts->display_name, facts->trigger_mode)) {
      untracked.push_back(facts->display_name);
    }
  };
  for (Oid root : relids) {
    for (RelationId relid : catalog.closure(root).relations) track(relid);
  }
  // The relations named themselves, when they are tables, with their partitions and
  // inheritance children at any depth (the closure holds what views read; the facts loaded
  // for it do not always reach the children of a table named here). All of them before the
  // build's snapshot: a table tracked only afterwards counts as changed.
  QueryResult tables = spi_query(
      "WITH RECURSIVE t(rel) AS (SELECT pg_catalog.unnest($1::pg_catalog.oid[]) "
      "  UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN t ON i.inhparent = t.rel) "
      "SELECT c.oid, n.nspname, c.relname, "
      "  (SELECT g.tgenabled FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = $2) "
      "FROM t JOIN pg_catalog.pg_class c ON c.oid = t.rel "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relkind IN ('r', 'p') ORDER BY c.oid",
      {{oid_array(relids)}, {std::string(kTrackingTrigger)}});
  for (const Row& row : tables.rows) {
    Oid relid = to_oid(row[0]);
    char mode = row[3] ? (*row[3])[0] : '\0';
    if (mode == 'A' || !seen.insert(relid).second) continue;
    std::string name = QualifiedName{*row[1], *row[2]}.display();
    if (!track_table(relid, name, mode)) untracked.push_back(name);
  }
  std::sort(untracked.begin(), untracked.end());
  return untracked;
}

bool MatviewSet::track_table(Oid relid, const std::string& name, char mode) {
  if (mode == 'D' || mode == 'R') return false;  // disabled by hand: left as it is
  // As the caller: only where it may create triggers. In a subtransaction, so a table it
  // may not touch just stays untracked (and its views always count as stale).
  auto failure = in_subtransaction([&] {
    // Creating or altering the trigger waits for the table's writers. One that stays (a
    // prepared transaction, a long one) must not hold up the refresh: after a short wait
    // the table stays untracked until the next try, and its views count as stale.
    ScopedSetting lock_wait("lock_timeout", std::to_string(tracking_lock_wait_ms()));
    if (mode == '\0') {
      spi_execute(std::string("CREATE TRIGGER ") + kTrackingTrigger +
                  " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON " + name +
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
    }
    // Fire in every session_replication_role. Writes made before the trigger fired in every
    // mode (before it existed, or while it fired only in some modes) are in no log, so the
    // table counts as changed once: views refreshed before now are stale until refreshed.
    // (Those writers are all done: the trigger's lock waited for them. A refresh in this
    // transaction from here on sees this row as its own earlier command's.)
    pg_call([&] {
      fire_tracking_trigger_always(relid);
      record_change(relid);
    });
  });
  // A cancel or statement_timeout is the caller's, not this table's: it ends the statement.
  if (failure.has_value() && failure->sqlerrcode() == ERRCODE_QUERY_CANCELED) throw *failure;
  return !failure.has_value();
}

int MatviewSet::tracking_lock_wait_ms() {
  // viewmgr.lock_timeout when set, else a second; never longer than the caller's own
  // lock_timeout.
  constexpr int kDefaultWaitMs = 1000;
  int wait = setting_lock_timeout_ms > 0 ? setting_lock_timeout_ms : kDefaultWaitMs;
  int callers = pg_call([] { return LockTimeout; });
  return callers > 0 ? std::min(wait, callers) : wait;
}

std::vector<MatviewSet::Staleness> MatviewSet::staleness() const {
  std::vector<Staleness> out(targets_.size(), Staleness{false, ""});
  if (targets_.empty()) return out;
  std::vector<Oid> relids;
  for (const auto& t : targets_) relids.push_back(t.relid);

  // The change log is not readable by ordinary roles. Plain index probes: no JIT.
  ScopedSetting no_jit("jit", "off");
  bool log_intact = change_log_intact();
  QueryResult states = own_tables_query(
      "SELECT c.oid, s.snapshot::text, c.relispopulated, "
      "  (SELECT CASE WHEN r.reset_xid IS NOT NULL "
      "               THEN pg_catalog.pg_snapshot_xmin(s.snapshot) < r.reset_xid "
      "               ELSE s.refreshed_at < r.reset_at END "
      "     FROM viewmgr.change_log_reset r LIMIT 1), s.own_xid::text, s.own_cid "
      "FROM pg_catalog.unnest($1::pg_catalog.oid[]) AS m(oid) "
      "JOIN pg_catalog.pg_class c ON c.oid = m.oid "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN viewmgr.refresh_state s ON s.schema_name = n.nspname AND s.relation_name = c.relname",
      {{oid_array(relids)}});
  struct State {
    Value snapshot;
    bool populated;
    bool before_reset;
    Value own_xid;
    Value own_cid;
  };
  std::map<Oid, State> state_of;
  for (const Row& row : states.rows) {
    state_of[to_oid(row[0])] = {row[1], row[2] == Value("t"), row[3] == Value("t"), row[4], row[5]};
  }

  // First the sources with any log row a refresh may not have seen (one index probe per
  // distinct source, from the oldest snapshot's xmin on); only views reading one of those
  // are checked against their own snapshots. With nothing changed, that is all.
  std::set<Oid> distinct_sources;
  std::optional<std::uint64_t> oldest_xmin;
  for (NodeId n = 0; n < targets_.size(); n++) {
    const State& state = state_of[targets_[n].relid];
    if (!state.snapshot.has_value()) continue;
    std::uint64_t xmin = std::stoull(state.snapshot->substr(0, state.snapshot->find(':')));
    if (!oldest_xmin.has_value() || xmin < *oldest_xmin) oldest_xmin = xmin;
    distinct_sources.insert(sources_[n].begin(), sources_[n].end());
  }
  std::set<Oid> changed_sources;
  if (oldest_xmin.has_value() && !distinct_sources.empty()) {
    QueryResult rows = own_tables_query(
        "SELECT r FROM pg_catalog.unnest($1::pg_catalog.oid[]) AS r WHERE EXISTS ("
        "  SELECT 1 FROM viewmgr.source_change c WHERE c.relid = r AND c.xid >= $2::pg_catalog.xid8)",
        {{oid_array(std::vector<Oid>(distinct_sources.begin(), distinct_sources.end()))},
         {std::to_string(*oldest_xmin)}});
    for (const Row& row : rows.rows) changed_sources.insert(to_oid(row[0]));
  }

  std::vector<Value> mv_items, rel_items, snap_items, xid_items, cid_items;
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
    } else if (!functions_[n].empty()) {
      s = {true, "reads through function " + functions_[n].front() + ", whose reads cannot be tracked"};
    } else {
      // Every source that cannot be tracked, not only the first, with why.
      std::map<std::string, std::string> untracked_sources;  // name -> reason
      for (Oid rel : sources_[n]) {
        auto untracked = untracked_.find(rel);
        if (untracked != untracked_.end()) untracked_sources[name_of(rel)] = untracked->second;
      }
      if (!untracked_sources.empty()) {
        std::string names;
        bool one_reason = true;
        for (const auto& [name, reason] : untracked_sources) {
          names += (names.empty() ? "" : ", ") + name;
          one_reason = one_reason && reason == untracked_sources.begin()->second;
        }
        if (one_reason) {
          s = {true, "reads " + names + ", whose changes cannot be tracked: " + untracked_sources.begin()->second};
        } else {
          std::string listed;
          for (const auto& [name, reason] : untracked_sources) {
            listed += (listed.empty() ? "" : ", ") + name + " (" + reason + ")";
          }
          s = {true, "reads " + listed + ", whose changes cannot be tracked"};
        }
      }
      if (s.stale) continue;
      for (Oid rel : sources_[n]) {
        if (!changed_sources.count(rel)) continue;
        mv_items.push_back(std::to_string(n));
        rel_items.push_back(std::to_string(rel));
        snap_items.push_back(*snapshot);
        xid_items.push_back(state.own_xid);
        cid_items.push_back(state.own_cid);
      }
    }
  }
  if (mv_items.empty()) return out;
  // Only log rows the refresh's snapshot cannot have seen: those at or after its xmin. The
  // index on (relid, xid) makes that cost the changes since the refresh, not the log's size.
  // A row of the refreshing transaction itself was seen when an earlier command wrote it.
  QueryResult changed = own_tables_query(
      "SELECT m.n, pg_catalog.min(m.rel::text) FROM ROWS FROM (pg_catalog.unnest($1::int[]), "
      "  pg_catalog.unnest($2::pg_catalog.oid[]), pg_catalog.unnest($3::pg_catalog.pg_snapshot[]), "
      "  pg_catalog.unnest($4::pg_catalog.xid8[]), pg_catalog.unnest($5::int[])) "
      "  AS m(n, rel, snap, own_xid, own_cid) "
      "WHERE EXISTS (SELECT 1 FROM viewmgr.source_change c WHERE c.relid = m.rel "
      "  AND c.xid >= pg_catalog.pg_snapshot_xmin(m.snap) "
      "  AND NOT pg_catalog.pg_visible_in_snapshot(c.xid, m.snap) "
      "  AND NOT (c.xid = m.own_xid AND c.cid < m.own_cid)) GROUP BY m.n",
      {{to_array_literal(mv_items)}, {to_array_literal(rel_items)}, {to_array_literal(snap_items)},
       {to_array_literal(xid_items)}, {to_array_literal(cid_items)}});
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
  QueryResult states = own_tables_query(
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
  delete_seen_changes(rel_items, snap_items, U64FromFullTransactionId(horizon));
}

}  // namespace viewmgr::pg
