// Times dependency ordering on a large random DAG: 100,000 views, each reading 0-5
// lower-numbered views (binomially distributed, 3 on average: about 300,000 edges). Graph construction and build_order() are timed separately (median
// of 5 runs each); the target applies to build_order(). Exits non-zero when the ordering
// median reaches the target or the order is wrong.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/dependency_graph.hpp"

namespace {

constexpr std::size_t kViews = 100000;
constexpr int kMaxDependencies = 5;
constexpr int kRuns = 5;
constexpr double kTargetMs = 100.0;

struct Workload {
  std::vector<std::string> names;                  // in insertion order
  std::vector<std::pair<std::size_t, std::size_t>> edges;  // (dependent, dependency) indexes into names
};

Workload make_workload() {
  std::mt19937_64 rng(20240615);
  Workload w;
  w.names.reserve(kViews);
  char buf[32];
  for (std::size_t i = 0; i < kViews; ++i) {
    std::snprintf(buf, sizeof buf, "s.v%06zu", i);
    w.names.emplace_back(buf);
  }
  std::binomial_distribution<int> count_dist(kMaxDependencies, 0.6);
  for (std::size_t i = 1; i < kViews; ++i) {
    std::uniform_int_distribution<std::size_t> dep_dist(0, i - 1);
    const int count = count_dist(rng);
    for (int k = 0; k < count; ++k) w.edges.emplace_back(i, dep_dist(rng));
  }
  // Register views in a shuffled order, as a catalog scan would, so that node ids do not
  // coincide with name order.
  std::vector<std::size_t> perm(kViews);
  for (std::size_t i = 0; i < kViews; ++i) perm[i] = i;
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<std::string> shuffled(kViews);
  std::vector<std::size_t> where(kViews);
  for (std::size_t i = 0; i < kViews; ++i) {
    shuffled[i] = w.names[perm[i]];
    where[perm[i]] = i;
  }
  for (auto& [a, b] : w.edges) {
    a = where[a];
    b = where[b];
  }
  std::shuffle(w.edges.begin(), w.edges.end(), rng);
  w.names = std::move(shuffled);
  return w;
}

viewmgr::DependencyGraph build_graph(const Workload& w) {
  viewmgr::DependencyGraph g;
  std::vector<viewmgr::NodeId> ids;
  ids.reserve(w.names.size());
  for (const std::string& name : w.names) ids.push_back(g.add_node(name));
  for (const auto& [dependent, dependency] : w.edges) g.add_edge(ids[dependent], ids[dependency]);
  return g;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

bool order_is_valid(const viewmgr::DependencyGraph& g,
                    const std::vector<viewmgr::DependencyGraph::Step>& order) {
  if (order.size() != g.size()) return false;
  std::vector<std::size_t> position(g.size(), g.size());
  for (std::size_t i = 0; i < order.size(); ++i) position[order[i].node] = i;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const viewmgr::DependencyGraph::Step& step = order[i];
    int expected_level = 0;
    for (viewmgr::NodeId dep : g.dependencies(step.node)) {
      if (position[dep] >= i) return false;
      expected_level = std::max(expected_level, order[position[dep]].level + 1);
    }
    if (step.level != expected_level) return false;
    if (i > 0) {
      const auto& prev = order[i - 1];
      if (prev.level > step.level ||
          (prev.level == step.level && !(g.name(prev.node) < g.name(step.node)))) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

int main() {
  const Workload workload = make_workload();

  std::vector<double> construct_ms;
  std::vector<double> order_ms;
  std::size_t edges = 0;
  int max_level = 0;
  bool valid = true;
  for (int run = 0; run < kRuns; ++run) {
    auto start = std::chrono::steady_clock::now();
    viewmgr::DependencyGraph g = build_graph(workload);
    construct_ms.push_back(ms_since(start));

    start = std::chrono::steady_clock::now();
    std::vector<viewmgr::DependencyGraph::Step> order = g.build_order();
    order_ms.push_back(ms_since(start));

    if (run == 0) {
      for (viewmgr::NodeId v = 0; v < g.size(); ++v) edges += g.dependencies(v).size();
      for (const auto& step : order) max_level = std::max(max_level, step.level);
      valid = order_is_valid(g, order);
    }
  }

  const double ordering = median(order_ms);
  std::printf("graph construction: %zu views, %zu edges: median %.1f ms\n", kViews, edges,
              median(construct_ms));
  std::printf("dependency ordering: %zu views, %zu edges: median %.1f ms (target < %.0f ms)\n",
              kViews, edges, ordering, kTargetMs);
  std::printf("levels: %d, order %s\n", max_level + 1, valid ? "verified" : "WRONG");
  if (!valid) return 2;
  return ordering < kTargetMs ? 0 : 1;
}
