#include "refresh/matview_set.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

#include "core/sql_text.hpp"
#include "incremental/incremental_view.hpp"
#include "pg/boundary.hpp"
#include "pg/scopes.hpp"
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
#include "storage/procarray.h"
#include "utils/lsyscache.h"
}

namespace viewmgr::pg {

namespace {

// What each of `roots` reads, at any depth: through plain views (whose rules name them) and
// down to the partitions and inheritance children of the tables read. Materialized views
// are leaves: their contents change only when they are refreshed. Rows: root, relation,
// relkind, schema, name, the firing mode of its tracking trigger (NULL: none); and one row
// per table function read (relation 0, relkind 'F', the function as name). One recursion
// for both: the walk over the rules is most of the cost.
constexpr const char* kSourceClosure =
    "WITH RECURSIVE src(root, rel) AS ("
    "  SELECT m.root, d.refobjid FROM pg_catalog.unnest($1::pg_catalog.oid[]) AS m(root) "
    "  JOIN pg_catalog.pg_rewrite r ON r.ev_class = m.root "
    "  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
    "   AND d.objid = r.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "   AND d.refobjid <> m.root "
    "  UNION "
    "  SELECT src.root, x.rel FROM src JOIN pg_catalog.pg_class c ON c.oid = src.rel "
    "  CROSS JOIN LATERAL ("
    "    SELECT d.refobjid AS rel FROM pg_catalog.pg_rewrite r "
    "    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
    "     AND d.objid = r.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "     AND d.refobjid <> c.oid "
    "    WHERE c.relkind = 'v' AND r.ev_class = c.oid "
    "    UNION ALL "
    "    SELECT i.inhrelid FROM pg_catalog.pg_inherits i "
    "    WHERE c.relkind IN ('r', 'p', 'f') AND i.inhparent = c.oid"
    "  ) x"
    "), rels AS (SELECT DISTINCT root, rel FROM src), "
    // Table functions (set-returning, not built in, not immutable) called by the roots and
    // the plain views between: what such a function reads is not known.
    "fns AS ("
    "  SELECT DISTINCT r.root, p.oid::pg_catalog.regprocedure::text AS fn FROM ("
    "    SELECT m.root, m.root AS rel FROM pg_catalog.unnest($1::pg_catalog.oid[]) AS m(root) "
    "    UNION ALL SELECT rels.root, rels.rel FROM rels "
    "    JOIN pg_catalog.pg_class c ON c.oid = rels.rel AND c.relkind = 'v') r "
    "  JOIN pg_catalog.pg_rewrite w ON w.ev_class = r.rel "
    "  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
    "   AND d.objid = w.oid AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass "
    "  JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid "
    "  WHERE p.oid >= 16384 AND p.provolatile <> 'i' AND p.proretset"
    ") "
    "SELECT u.root, u.rel, c.relkind, n.nspname, c.relname, "
    "  (SELECT g.tgenabled FROM pg_catalog.pg_trigger g WHERE g.tgrelid = u.rel AND g.tgname = $2) "
    "FROM rels u "
    "JOIN pg_catalog.pg_class c ON c.oid = u.rel AND c.relkind IN ('r', 'p', 'f', 'm', 'v') "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "UNION ALL SELECT root, 0, 'F', NULL, fn, NULL FROM fns ORDER BY 1, 2";


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
        untracked_[source.relid] = source.trigger_mode == '\0' ? "no tracking trigger"
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

std::vector<MatviewSet::Source> MatviewSet::source_closure(const std::vector<Oid>& roots) {
  std::vector<Source> out;
  if (roots.empty()) return out;
  // A recursive query's row estimates grow with every step: never worth JIT compiling,
  // which would cost more than the query itself.
  ScopedSetting no_jit("jit", "off");
  QueryResult rows = spi_query(kSourceClosure, {{oid_array(roots)}, {std::string(kTrackingTrigger)}});
  for (const Row& row : rows.rows) {
    char relkind = (*row[2])[0];
    std::string name = relkind == 'F' ? *row[4] : QualifiedName{*row[3], *row[4]}.display();
    out.push_back({to_oid(row[0]), to_oid(row[1]), relkind, name, row[5] ? (*row[5])[0] : '\0'});
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

void MatviewSet::track_sources_of(const std::vector<Oid>& relids) {
  if (relids.empty()) return;
  for (const Source& source : source_closure(relids)) {
    if (trackable_kind(source.relkind) && source.trigger_mode != 'A') {
      (void)track_table(source.relid, source.name, source.trigger_mode);
    }
  }
  // The relations named themselves, when they are tables (the closure holds what they read).
  QueryResult tables = spi_query(
      "SELECT c.oid, n.nspname, c.relname, "
      "  (SELECT g.tgenabled FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = $2) "
      "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.oid = ANY ($1::pg_catalog.oid[]) AND c.relkind IN ('r', 'p')",
      {{oid_array(relids)}, {std::string(kTrackingTrigger)}});
  for (const Row& row : tables.rows) {
    char mode = row[3] ? (*row[3])[0] : '\0';
    if (mode != 'A') (void)track_table(to_oid(row[0]), QualifiedName{*row[1], *row[2]}.display(), mode);
  }
}

bool MatviewSet::track_table(Oid relid, const std::string& name, char mode) {
  if (mode == 'D' || mode == 'R') return false;  // disabled by hand: left as it is
  // As the caller: only where it may create triggers. In a subtransaction, so a table it
  // may not touch just stays untracked (and its views always count as stale).
  auto failure = in_subtransaction([&] {
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
    // Fire in every session_replication_role. Writes made while it fired only in some
    // modes are unknown, so the table counts as changed once.
    pg_call([&] {
      fire_tracking_trigger_always(relid);
      if (mode != '\0') record_change(relid);
    });
  });
  return !failure.has_value();
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
      for (Oid rel : sources_[n]) {
        auto untracked = untracked_.find(rel);
        if (untracked != untracked_.end()) {
          s = {true, "reads " + name_of(rel) + ", whose changes cannot be tracked (" +
                         untracked->second + ")"};
          break;
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
