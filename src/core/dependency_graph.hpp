// The graph of managed views and what they read. Nodes are schema-qualified view names;
// an edge runs from a view to a managed view it depends on. Pure C++: ordering, levels,
// cycle detection and closures are computed here and unit-tested outside the server.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace viewmgr {

using NodeId = std::size_t;

class DependencyGraph {
 public:
  // Adds a node, or returns the existing one with that name.
  NodeId add_node(const std::string& name);
  std::optional<NodeId> find(const std::string& name) const;

  // `dependent` reads `dependency`. Duplicate edges are ignored; a self-edge is kept and
  // reported as a cycle.
  void add_edge(NodeId dependent, NodeId dependency);

  // Replaces everything `dependent` reads with `dependencies` (duplicates ignored), keeping
  // the reverse edges in step. Costs what the old and new edges cost, not the graph size:
  // a registry update changes one node at a time.
  void set_dependencies(NodeId dependent, std::vector<NodeId> dependencies);

  std::size_t size() const { return names_.size(); }
  const std::string& name(NodeId node) const { return names_.at(node); }
  // Sorted by NodeId, without duplicates.
  const std::vector<NodeId>& dependencies(NodeId node) const { return dependencies_.at(node); }
  const std::vector<NodeId>& dependents(NodeId node) const { return dependents_.at(node); }

  // One cycle, as the nodes along it with the first repeated at the end (a, b, a);
  // empty when the graph is acyclic. Deterministic for a given graph.
  std::vector<NodeId> find_cycle() const;

  // "a -> b -> a" for error messages.
  std::string describe_cycle(const std::vector<NodeId>& cycle) const;

  struct Step {
    NodeId node;
    int level;  // length of the longest dependency path below the node; 0 = no managed deps
  };
  // Every node, dependencies before dependents: by level, then by name. Throws
  // viewmgr::Error (42P17) naming a cycle if there is one.
  std::vector<Step> build_order() const;

  // The seeds and everything that (transitively) depends on them / that they depend on.
  // Result sorted by NodeId.
  std::vector<NodeId> downstream_closure(const std::vector<NodeId>& seeds) const;
  std::vector<NodeId> upstream_closure(const std::vector<NodeId>& seeds) const;

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, NodeId> ids_;
  std::vector<std::vector<NodeId>> dependencies_;
  std::vector<std::vector<NodeId>> dependents_;
};

}  // namespace viewmgr
