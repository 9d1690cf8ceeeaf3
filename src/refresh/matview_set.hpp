// The managed materialized views that exist, what each reads (tables with their partitions,
// through any depth of plain views, and other materialized views), the graph among them,
// and which are stale: the change log against the snapshot each last refresh recorded.
#pragma once
#include <cstdint>
#include "pg/postgres.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/dependency_graph.hpp"
#include "sync/managed_views.hpp"

namespace viewmgr::pg {

// One materialized view to refresh.
struct RefreshTarget {
  Oid relid = InvalidOid;
  std::string display_name;
  QualifiedName name;
  std::optional<bool> concurrently;  // nullopt: where possible
  std::string reason;                // why it is refreshed (for the result and history)
  // For a refresh worker: the transaction of the refresh_all() that handed it the view
  // (xid8 text) and that transaction's command from which on its log rows are not seen.
  // Its earlier rows only say that tracking started on a table (which waited for every
  // writer before it), so a snapshot taken since has seen what they stand for.
  std::optional<std::string> caller_xid;
  std::uint32_t caller_cid = 0;
};

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

  // Puts the tracking trigger on every source table that lacks it, where the caller may, and
  // makes it fire in every session mode.
  void ensure_tracking();

  // The same for what `relids` (about to be read by a new materialized view) read, before
  // its data is taken: a write committed after that is then logged.
  // Returns the tables that could not be tracked (the caller may not create triggers on
  // them), by name, sorted.
  static std::vector<std::string> track_sources_of(const std::vector<Oid>& relids);

  // Stale flags (indexed by NodeId) with a reason for each stale view.
  struct Staleness {
    bool stale;
    std::string reason;
  };
  std::vector<Staleness> staleness() const;

  // Drops log rows no refresh can need any more.
  void prune_change_log() const;

 private:
  struct Source {
    Oid root;
    Oid relid;
    char relkind;
    std::string name;
    char trigger_mode;  // pg_trigger.tgenabled of the tracking trigger, '\0' if none
  };
  static std::vector<Source> source_closure(const std::vector<Oid>& roots);
  // Installs or fixes the tracking trigger of one table; false where it cannot.
  static bool track_table(Oid relid, const std::string& name, char mode);
  // How long tracking a table waits for its writers' locks.
  static int tracking_lock_wait_ms();
  std::string name_of(Oid relid) const;

  std::vector<RefreshTarget> targets_;
  // Every relation each view reads, at any depth: tables with their partitions and
  // inheritance children, foreign tables, materialized views and the plain views between.
  std::vector<std::vector<Oid>> sources_;
  std::vector<std::vector<std::string>> functions_;  // functions each reads through
  std::map<Oid, std::string> names_;                 // relid -> display name, for reasons
  std::map<Oid, std::string> untracked_;             // relid -> why it cannot be tracked
  std::map<Oid, char> untracked_kind_;  // trackable tables among them -> their trigger mode
  std::vector<std::string> missing_;
  DependencyGraph graph_;
};

}  // namespace viewmgr::pg
