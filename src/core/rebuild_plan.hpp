// Deciding what sync() does: from what each managed view needs on its own, work out the
// final action of every view in scope (a rebuild forces its dependents to be rebuilt too),
// the order in which to drop and the order in which to build.
#pragma once
#include "core/dependency_graph.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace viewmgr {

enum class Action {
  kUnchanged,  // nothing to do
  kCreated,    // view missing: create it
  kReplaced,   // CREATE OR REPLACE VIEW (or only indexes / comment changed)
  kRebuilt,    // drop and create again
};

const char* action_name(Action action);  // "unchanged", "created", "replaced", "rebuilt"

// What one view needs, judged on its own (before the effect of its upstream rebuilds).
struct ViewNeed {
  Action action = Action::kUnchanged;
  std::string reason;
  bool exists = true;  // the relation is there now (so a rebuild must drop it first)
};

struct PlannedView {
  NodeId node;
  int level;
  Action action;
  std::string reason;
};

struct RebuildPlan {
  // Views to drop before building, dependents before what they read.
  std::vector<NodeId> drops;
  // Every view in scope, in build order (dependencies first), with its final action.
  std::vector<PlannedView> builds;
};

// `needs` is indexed by NodeId and covers every node of the graph. `in_scope` (indexed by
// NodeId) limits the plan to part of the graph; the caller makes sure the scope is closed
// downstream of anything that can be rebuilt. A view whose upstream is rebuilt is rebuilt
// too, with a reason naming the upstream view. Throws on a cycle.
RebuildPlan plan_rebuild(const DependencyGraph& graph, const std::vector<ViewNeed>& needs,
                         const std::vector<bool>& in_scope);

// One output column of a view.
struct Column {
  std::string name;
  std::uint32_t type_oid = 0;
  std::int32_t typmod = -1;
  std::uint32_t collation = 0;
};

// CREATE OR REPLACE VIEW keeps the existing columns (same names, types, typmods and
// collations, same order) and may only append new ones. Returns false and says why
// otherwise.
bool can_replace_columns(const std::vector<Column>& live, const std::vector<Column>& wanted,
                         std::string* why);

}  // namespace viewmgr
