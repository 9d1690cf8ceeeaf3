// The registry loaded into memory with its dependency graph: what sync(), drift() and the
// refresh engine work from.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/dependency_graph.hpp"
#include "registry/registry.hpp"
#include "sync/definition.hpp"

namespace viewmgr::pg {

// NodeIds index `views`.
class ManagedViews {
 public:
  // Takes the registry as loaded by load_registry(). `resolve_unbuilt`: resolve again what
  // views not built yet read (sync does; a single registration can rely on what each
  // registration resolved).
  explicit ManagedViews(std::vector<ManagedView> views, bool resolve_unbuilt = true);

  // Part of the registry (load_registry_around): names not loaded are looked up in the
  // registry when asked about (is_managed, find_or_load).
  struct Partial {};
  ManagedViews(Partial, std::vector<ManagedView> views, bool resolve_unbuilt);

  // A new or changed declaration replaces the row of the same name, or is added. Costs
  // the view's own edges, not the registry's size.
  NodeId put(ManagedView view);

  // A managed view by name: loaded already, or (for a partial registry) read from the
  // registry and added. nullopt when it is not managed.
  std::optional<NodeId> find_or_load(const QualifiedName& name);

  const std::vector<ManagedView>& views() const { return views_; }
  // Loaded whole (load_registry), not a Partial neighbourhood.
  bool is_whole() const { return !partial_; }
  ManagedView& view(NodeId node) { return views_.at(node); }
  const DependencyGraph& graph() const { return graph_; }
  std::optional<NodeId> find(const QualifiedName& name) const;
  bool is_managed(const std::string& display_name) const;
  bool is_managed(const QualifiedName& name) const;

  // A managed view by user-given name (qualified, or the first match along `path`); errors
  // (42704) when it is not managed.
  NodeId find_by_user_name(const std::string& text, const std::vector<std::string>& path) const;

  // Qualified display names of what `refs` name, resolved with `path` the way the parser
  // would once every managed view exists.
  std::vector<std::string> resolve(const std::vector<RelationRef>& refs,
                                   const std::vector<std::string>& path) const;

  // Declared dependencies (user-given names) as qualified display names: a managed view
  // along the path if there is one, else what the parser would read.
  std::vector<std::string> resolve_declared(const std::vector<std::string>& depends_on,
                                            const std::vector<std::string>& path) const;

  // Managed views that `node` depends on (inferred and declared), as display names.
  std::vector<std::string> managed_dependencies(NodeId node) const;

  // Fails (42P17) naming a cycle if there is one.
  void check_cycles() const;
  // Fails (42704) if a declared dependency of a view in `nodes` is not managed.
  void check_declared_dependencies(const std::vector<NodeId>& nodes) const;

 private:
  void index_names();
  void build_graph();
  // Sets `node`'s edges from its reads and depends_on (to managed views loaded so far).
  void link(NodeId node);

  std::vector<ManagedView> views_;
  std::unordered_map<std::string, NodeId> by_display_;
  DependencyGraph graph_;
  // Names read or depended on that are not managed views here (tables, mostly), with the
  // views naming them: put() links those views when such a name becomes managed.
  std::unordered_map<std::string, std::vector<NodeId>> referrers_;
  bool partial_ = false;
  // For a partial registry: names found not to be managed (asked about once per call).
  mutable std::unordered_map<std::string, bool> looked_up_;
};

}  // namespace viewmgr::pg
