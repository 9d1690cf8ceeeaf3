// Which materialized views a refresh_all() run refreshes, and when. Pure C++: the pg layer
// feeds it the graph of materialized views (an edge when one reads another, directly or
// through plain views), which are stale, and how many can run at once; it hands out views
// whose sources are done, skips what need not or cannot run, and records outcomes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/dependency_graph.hpp"

namespace viewmgr {

enum class RefreshOutcome { kPending, kRunning, kRefreshed, kSkipped, kFailed };

const char* refresh_outcome_name(RefreshOutcome outcome);  // "refreshed", "skipped", "failed"

class RefreshSchedule {
 public:
  // `stale` is indexed by NodeId. With `only_stale`, a view that is not stale is skipped
  // unless something it reads is refreshed in this run. Throws on a cycle.
  RefreshSchedule(const DependencyGraph& graph, std::vector<bool> stale, bool only_stale);

  // The next view that may start now (everything it reads has finished), in build order,
  // marked as running; views that must be skipped are settled on the way. nullopt when none
  // can start yet.
  std::optional<NodeId> next_ready() { return find_ready(true); }

  // Settles the views that must be skipped and says whether one could start now, without
  // starting it (for a caller with no free worker).
  bool any_ready() { return find_ready(false).has_value(); }

  // Records how a started view ended. A failure skips everything downstream
  // ("upstream failed").
  void finish(NodeId node, RefreshOutcome outcome, std::string detail = {});

  bool done() const { return settled_ == order_.size(); }
  int running() const { return running_; }

  RefreshOutcome outcome(NodeId node) const { return outcomes_.at(node); }
  const std::string& detail(NodeId node) const { return details_.at(node); }
  // Views in the order they were settled (refreshed, skipped or failed).
  const std::vector<NodeId>& settled_order() const { return settled_order_; }

 private:
  std::optional<NodeId> find_ready(bool start);
  void settle(NodeId node, RefreshOutcome outcome, std::string detail);

  const DependencyGraph& graph_;
  std::vector<NodeId> order_;  // build order
  // Every node of order_ before this position is settled or running: each search starts
  // here, so handing out n views costs O(n + edges) in all, not O(n) per view.
  std::size_t scan_from_ = 0;
  std::vector<bool> stale_;
  bool only_stale_;
  std::vector<RefreshOutcome> outcomes_;
  std::vector<std::string> details_;
  std::vector<NodeId> settled_order_;
  std::size_t settled_ = 0;
  int running_ = 0;
};

}  // namespace viewmgr
