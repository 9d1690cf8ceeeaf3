// The managed materialized views that exist, what each reads (tables with their partitions,
// through any depth of plain views, and other materialized views), the graph among them,
// and which are stale: the change log against the snapshot each last refresh recorded.
#pragma once
#include "pg/postgres.hpp"

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

  // Puts the tracking trigger on every source table that lacks it, where the caller may.
  void ensure_tracking();

  // Stale flags (indexed by NodeId) with a reason for each stale view.
  struct Staleness {
    bool stale;
    std::string reason;
  };
  std::vector<Staleness> staleness() const;

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

}  // namespace viewmgr::pg
