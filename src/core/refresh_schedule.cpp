#include "core/refresh_schedule.hpp"

#include "core/error.hpp"
#include "core/cpp_only.hpp"

namespace viewmgr {

const char* refresh_outcome_name(RefreshOutcome outcome) {
  switch (outcome) {
    case RefreshOutcome::kRefreshed: return "refreshed";
    case RefreshOutcome::kSkipped: return "skipped";
    case RefreshOutcome::kFailed: return "failed";
    case RefreshOutcome::kRunning: return "running";
    case RefreshOutcome::kPending: break;
  }
  return "pending";
}

RefreshSchedule::RefreshSchedule(const DependencyGraph& graph, std::vector<bool> stale,
                                 bool only_stale)
    : graph_(graph),
      stale_(std::move(stale)),
      only_stale_(only_stale),
      outcomes_(graph.size(), RefreshOutcome::kPending),
      details_(graph.size()) {
  if (stale_.size() != graph.size()) {
    throw Error(sqlstate::kInternalError, "refresh schedule: stale flags do not match the graph");
  }
  for (const auto& step : graph.build_order()) order_.push_back(step.node);
}

std::optional<NodeId> RefreshSchedule::find_ready(bool start) {
  while (scan_from_ < order_.size() && outcomes_[order_[scan_from_]] != RefreshOutcome::kPending) {
    scan_from_++;
  }
  for (std::size_t i = scan_from_; i < order_.size(); i++) {
    NodeId node = order_[i];
    if (outcomes_[node] != RefreshOutcome::kPending) continue;
    bool sources_done = true;
    bool upstream_failed = false;
    bool upstream_refreshed = false;
    for (NodeId dep : graph_.dependencies(node)) {
      RefreshOutcome o = outcomes_[dep];
      if (o == RefreshOutcome::kPending || o == RefreshOutcome::kRunning) sources_done = false;
      if (o == RefreshOutcome::kFailed) upstream_failed = true;
      if (o == RefreshOutcome::kSkipped && details_[dep] == "upstream failed") upstream_failed = true;
      if (o == RefreshOutcome::kRefreshed) upstream_refreshed = true;
    }
    if (!sources_done) continue;
    if (upstream_failed) {
      settle(node, RefreshOutcome::kSkipped, "upstream failed");
      continue;
    }
    if (only_stale_ && !stale_[node] && !upstream_refreshed) {
      settle(node, RefreshOutcome::kSkipped, "not stale");
      continue;
    }
    if (start) {
      outcomes_[node] = RefreshOutcome::kRunning;
      running_++;
    }
    return node;
  }
  return std::nullopt;
}

void RefreshSchedule::finish(NodeId node, RefreshOutcome outcome, std::string detail) {
  if (outcomes_.at(node) != RefreshOutcome::kRunning) {
    throw Error(sqlstate::kInternalError, "refresh schedule: " + graph_.name(node) + " was not running");
  }
  if (outcome == RefreshOutcome::kPending || outcome == RefreshOutcome::kRunning) {
    throw Error(sqlstate::kInternalError, "refresh schedule: a finished view needs an outcome");
  }
  running_--;
  settle(node, outcome, std::move(detail));
}

void RefreshSchedule::settle(NodeId node, RefreshOutcome outcome, std::string detail) {
  outcomes_[node] = outcome;
  details_[node] = std::move(detail);
  settled_order_.push_back(node);
  settled_++;
}

}  // namespace viewmgr
