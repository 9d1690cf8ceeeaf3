// The sync engine: compares the registry with the catalogs, plans through the pure C++ core
// (src/core/rebuild_plan.hpp) and runs the DDL as the calling role.
#pragma once
#include "pg/postgres.hpp"

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/dependency_graph.hpp"
#include "core/rebuild_plan.hpp"
#include "sync/definition.hpp"
#include "registry/registry.hpp"

namespace viewmgr::pg {

struct SyncRow {
  std::string view_name;
  std::string action;
  std::string reason;
};

struct DriftRow {
  std::string view_name;
  std::string drift;  // missing, definition, kind, indexes, unpopulated
  std::string detail;
};

// The registry loaded into memory with its dependency graph. NodeIds index `views`.
class ManagedViews {
 public:
  // Takes the registry as loaded by load_registry(). `resolve_unbuilt`: resolve again what
  // views not built yet read (sync does; a single registration can rely on what each
  // registration resolved).
  explicit ManagedViews(std::vector<ManagedView> views, bool resolve_unbuilt = true);

  // A new or changed declaration replaces the row of the same name, or is added.
  NodeId put(ManagedView view);

  const std::vector<ManagedView>& views() const { return views_; }
  ManagedView& view(NodeId node) { return views_.at(node); }
  const DependencyGraph& graph() const { return graph_; }
  std::optional<NodeId> find(const QualifiedName& name) const;
  bool is_managed(const std::string& display_name) const;

  // Qualified display names of what `refs` name, resolved with `path` the way the parser
  // would once every managed view exists.
  std::vector<std::string> resolve(const std::vector<RelationRef>& refs,
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

  std::vector<ManagedView> views_;
  std::unordered_map<std::string, NodeId> by_display_;
  DependencyGraph graph_;
};

// sync(): `scope` (NodeIds) limits the work, e.g. to what register() touches.
std::vector<SyncRow> sync_views(ManagedViews& managed, bool dry_run,
                                const std::optional<std::vector<NodeId>>& scope = std::nullopt);

// run_with_dependents(): saves and drops every view depending on `roots` (managed or not,
// at any depth), runs `between`, then recreates them in dependency order with everything
// they had. Returns the recreated views in build order.
std::vector<SyncRow> rebuild_dependents(ManagedViews& managed, const std::vector<Oid>& roots,
                                        const std::function<void()>& between);

// adopt(): registers existing views as they are, without any DDL; returns how many were
// taken under management (views already managed are skipped).
int adopt_views(ManagedViews& managed, const std::vector<Oid>& relids);

std::vector<DriftRow> find_drift(const ManagedViews& managed);

// viewmgr.status's state for each view (indexed by NodeId).
std::vector<std::string> view_states(const ManagedViews& managed);


}  // namespace viewmgr::pg
