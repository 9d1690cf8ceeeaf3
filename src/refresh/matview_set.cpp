#include "refresh/matview_set.hpp"

#include <algorithm>
#include <map>

#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
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

std::vector<MatviewSet::Staleness> MatviewSet::staleness() const {
  std::vector<Staleness> out(targets_.size(), Staleness{false, ""});
  if (targets_.empty()) return out;
  std::vector<Oid> relids;
  for (const auto& t : targets_) relids.push_back(t.relid);

  // The change log is not readable by ordinary roles.
  bool log_intact = change_log_intact();
  QueryResult states = own_tables_query(
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
  QueryResult changed = own_tables_query(
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
