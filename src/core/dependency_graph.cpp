#include "core/dependency_graph.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include "core/error.hpp"

namespace viewmgr {

namespace {

void check_node(const DependencyGraph& graph, NodeId node, const char* what) {
  if (node >= graph.size()) {
    throw Error(sqlstate::kInternalError,
                std::string("pg_viewmgr: ") + what + " refers to node " + std::to_string(node) +
                    " of a graph with " + std::to_string(graph.size()) + " nodes");
  }
}

// Inserts `value` into the sorted vector `v` unless it is already there.
void insert_sorted_unique(std::vector<NodeId>& v, NodeId value) {
  // Edges are mostly added with increasing ids; make that the cheap case.
  if (v.empty() || v.back() < value) {
    v.push_back(value);
    return;
  }
  auto it = std::lower_bound(v.begin(), v.end(), value);
  if (it != v.end() && *it == value) return;
  v.insert(it, value);
}

// rank[node] = position of the node when all nodes are sorted by name (byte-wise).
std::vector<std::size_t> name_ranks(const DependencyGraph& graph) {
  std::vector<NodeId> by_name(graph.size());
  std::iota(by_name.begin(), by_name.end(), NodeId{0});
  std::sort(by_name.begin(), by_name.end(),
            [&](NodeId a, NodeId b) { return graph.name(a) < graph.name(b); });
  std::vector<std::size_t> rank(graph.size());
  for (std::size_t i = 0; i < by_name.size(); ++i) rank[by_name[i]] = i;
  return rank;
}

}  // namespace

NodeId DependencyGraph::add_node(const std::string& name) {
  auto [it, inserted] = ids_.try_emplace(name, names_.size());
  if (inserted) {
    names_.push_back(name);
    dependencies_.emplace_back();
    dependents_.emplace_back();
  }
  return it->second;
}

std::optional<NodeId> DependencyGraph::find(const std::string& name) const {
  auto it = ids_.find(name);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

void DependencyGraph::add_edge(NodeId dependent, NodeId dependency) {
  check_node(*this, dependent, "an edge");
  check_node(*this, dependency, "an edge");
  insert_sorted_unique(dependencies_[dependent], dependency);
  insert_sorted_unique(dependents_[dependency], dependent);
}

void DependencyGraph::set_dependencies(NodeId dependent, std::vector<NodeId> dependencies) {
  check_node(*this, dependent, "an edge");
  for (NodeId dep : dependencies) check_node(*this, dep, "an edge");
  std::sort(dependencies.begin(), dependencies.end());
  dependencies.erase(std::unique(dependencies.begin(), dependencies.end()), dependencies.end());
  for (NodeId old : dependencies_[dependent]) {
    std::vector<NodeId>& back = dependents_[old];
    auto it = std::lower_bound(back.begin(), back.end(), dependent);
    if (it != back.end() && *it == dependent) back.erase(it);
  }
  for (NodeId dep : dependencies) insert_sorted_unique(dependents_[dep], dependent);
  dependencies_[dependent] = std::move(dependencies);
}

std::vector<NodeId> DependencyGraph::find_cycle() const {
  const std::size_t n = size();
  if (n == 0) return {};
  const std::vector<std::size_t> rank = name_ranks(*this);
  std::vector<NodeId> by_name(n);
  for (NodeId v = 0; v < n; ++v) by_name[rank[v]] = v;

  auto by_rank = [&](NodeId a, NodeId b) { return rank[a] < rank[b]; };

  enum : unsigned char { kWhite, kGrey, kBlack };
  std::vector<unsigned char> colour(n, kWhite);

  // Iterative depth-first search along dependency edges. Each frame holds a node, its
  // dependencies in name order and how many of them have been visited.
  struct Frame {
    NodeId node;
    std::vector<NodeId> next;
    std::size_t pos;
  };
  std::vector<Frame> stack;
  auto push = [&](NodeId v) {
    colour[v] = kGrey;
    std::vector<NodeId> next = dependencies_[v];
    std::sort(next.begin(), next.end(), by_rank);
    stack.push_back(Frame{v, std::move(next), 0});
  };

  for (NodeId start : by_name) {
    if (colour[start] != kWhite) continue;
    push(start);
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.pos == top.next.size()) {
        colour[top.node] = kBlack;
        stack.pop_back();
        continue;
      }
      const NodeId w = top.next[top.pos++];
      if (colour[w] == kWhite) {
        push(w);  // invalidates `top`
      } else if (colour[w] == kGrey) {
        // The grey nodes on the stack from w up to the top form a cycle.
        std::size_t from = stack.size();
        while (stack[from - 1].node != w) --from;
        std::vector<NodeId> cycle;
        for (std::size_t i = from - 1; i < stack.size(); ++i) cycle.push_back(stack[i].node);
        // Start the cycle at its alphabetically first node so the answer does not
        // depend on where the search happened to enter it.
        auto first = std::min_element(cycle.begin(), cycle.end(), by_rank);
        std::rotate(cycle.begin(), first, cycle.end());
        cycle.push_back(cycle.front());
        return cycle;
      }
    }
  }
  return {};
}

std::string DependencyGraph::describe_cycle(const std::vector<NodeId>& cycle) const {
  std::string out;
  for (std::size_t i = 0; i < cycle.size(); ++i) {
    if (i > 0) out += " -> ";
    out += name(cycle[i]);
  }
  return out;
}

std::vector<DependencyGraph::Step> DependencyGraph::build_order() const {
  const std::size_t n = size();
  // Kahn's algorithm over dependency edges: a node is ready once all of its dependencies
  // have been placed, and its level is then final.
  std::vector<std::size_t> pending(n);
  std::vector<int> level(n, 0);
  std::vector<NodeId> queue;
  queue.reserve(n);
  for (NodeId v = 0; v < n; ++v) {
    pending[v] = dependencies_[v].size();
    if (pending[v] == 0) queue.push_back(v);
  }
  for (std::size_t head = 0; head < queue.size(); ++head) {
    const NodeId v = queue[head];
    const int next_level = level[v] + 1;
    for (NodeId d : dependents_[v]) {
      if (level[d] < next_level) level[d] = next_level;
      if (--pending[d] == 0) queue.push_back(d);
    }
  }
  if (queue.size() != n) {
    const std::vector<NodeId> cycle = find_cycle();
    throw Error(sqlstate::kInvalidObjectDefinition,
                "dependency cycle: " + describe_cycle(cycle),
                "Managed views must not depend on each other in a circle.");
  }

  // Order by level, then by name. Bucket by level first (counting sort) so the string
  // comparisons happen only within a level.
  int max_level = 0;
  for (NodeId v = 0; v < n; ++v) max_level = std::max(max_level, level[v]);
  std::vector<std::size_t> start(static_cast<std::size_t>(max_level) + 2, 0);
  for (NodeId v = 0; v < n; ++v) ++start[static_cast<std::size_t>(level[v]) + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<NodeId> order(n);
  {
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (NodeId v = 0; v < n; ++v) order[fill[static_cast<std::size_t>(level[v])]++] = v;
  }
  auto by_name = [&](NodeId a, NodeId b) { return names_[a] < names_[b]; };
  for (std::size_t l = 0; l + 1 < start.size(); ++l) {
    std::sort(order.begin() + static_cast<std::ptrdiff_t>(start[l]),
              order.begin() + static_cast<std::ptrdiff_t>(start[l + 1]), by_name);
  }

  std::vector<Step> steps;
  steps.reserve(n);
  for (NodeId v : order) steps.push_back(Step{v, level[v]});
  return steps;
}

namespace {

std::vector<NodeId> closure(const DependencyGraph& graph, const std::vector<NodeId>& seeds,
                            const std::vector<NodeId>& (DependencyGraph::*edges)(NodeId) const) {
  std::vector<bool> seen(graph.size(), false);
  std::vector<NodeId> queue;
  for (NodeId s : seeds) {
    check_node(graph, s, "a closure seed");
    if (!seen[s]) {
      seen[s] = true;
      queue.push_back(s);
    }
  }
  for (std::size_t head = 0; head < queue.size(); ++head) {
    for (NodeId w : (graph.*edges)(queue[head])) {
      if (!seen[w]) {
        seen[w] = true;
        queue.push_back(w);
      }
    }
  }
  std::sort(queue.begin(), queue.end());
  return queue;
}

}  // namespace

std::vector<NodeId> DependencyGraph::downstream_closure(const std::vector<NodeId>& seeds) const {
  return closure(*this, seeds, &DependencyGraph::dependents);
}

std::vector<NodeId> DependencyGraph::upstream_closure(const std::vector<NodeId>& seeds) const {
  return closure(*this, seeds, &DependencyGraph::dependencies);
}

}  // namespace viewmgr

#include "core/cpp_only.hpp"
