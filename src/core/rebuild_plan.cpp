#include "core/rebuild_plan.hpp"

#include <string>

#include "core/error.hpp"

namespace viewmgr {

const char* action_name(Action action) {
  switch (action) {
    case Action::kUnchanged:
      return "unchanged";
    case Action::kCreated:
      return "created";
    case Action::kReplaced:
      return "replaced";
    case Action::kRebuilt:
      return "rebuilt";
  }
  return "unknown";
}

RebuildPlan plan_rebuild(const DependencyGraph& graph, const std::vector<ViewNeed>& needs,
                         const std::vector<bool>& in_scope) {
  if (needs.size() != graph.size() || in_scope.size() != graph.size()) {
    throw Error(sqlstate::kInternalError,
                "pg_viewmgr: rebuild plan inputs do not match the dependency graph",
                "graph has " + std::to_string(graph.size()) + " nodes, needs " +
                    std::to_string(needs.size()) + ", scope " +
                    std::to_string(in_scope.size()) + ".");
  }

  const std::vector<DependencyGraph::Step> order = graph.build_order();  // throws on a cycle

  // Final actions of the nodes planned so far; build order guarantees that every in-scope
  // dependency of a node is decided before the node itself. Out-of-scope nodes stay
  // unchanged.
  std::vector<Action> final_action(graph.size(), Action::kUnchanged);

  RebuildPlan plan;
  for (const DependencyGraph::Step& step : order) {
    const NodeId node = step.node;
    if (!in_scope[node]) continue;
    const ViewNeed& need = needs[node];

    PlannedView planned{node, step.level, need.action, need.reason};
    if (!need.exists) {
      // Nothing to drop or replace: whatever it needed, it is created.
      planned.action = Action::kCreated;
      if (planned.reason.empty()) planned.reason = "missing";
    } else if (need.action != Action::kRebuilt) {
      // A view cannot survive the drop of a view it reads: rebuild it as well. Name the
      // alphabetically first rebuilt dependency so the reason is deterministic.
      const std::string* upstream = nullptr;
      for (NodeId dep : graph.dependencies(node)) {
        if (in_scope[dep] && final_action[dep] == Action::kRebuilt &&
            (upstream == nullptr || graph.name(dep) < *upstream)) {
          upstream = &graph.name(dep);
        }
      }
      if (upstream != nullptr) {
        planned.action = Action::kRebuilt;
        planned.reason = "upstream " + *upstream + " is rebuilt";
      }
    }
    final_action[node] = planned.action;
    plan.builds.push_back(std::move(planned));
  }

  for (auto it = plan.builds.rbegin(); it != plan.builds.rend(); ++it) {
    if (it->action == Action::kRebuilt) plan.drops.push_back(it->node);
  }
  return plan;
}

namespace {

std::string quoted(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

bool can_replace_columns(const std::vector<Column>& live, const std::vector<Column>& wanted,
                         std::string* why) {
  auto fail = [&](std::string message) {
    if (why != nullptr) *why = std::move(message);
    return false;
  };

  if (wanted.size() < live.size()) {
    // Name a live column that has gone from the new column list; if every name is still
    // there (columns were merged or reordered), the last live column is the one lost.
    const Column* dropped = &live.back();
    for (const Column& column : live) {
      bool kept = false;
      for (const Column& w : wanted) {
        if (w.name == column.name) {
          kept = true;
          break;
        }
      }
      if (!kept) {
        dropped = &column;
        break;
      }
    }
    return fail("column " + quoted(dropped->name) + " would be dropped");
  }

  for (std::size_t i = 0; i < live.size(); ++i) {
    const Column& old_col = live[i];
    const Column& new_col = wanted[i];
    const std::string position = std::to_string(i + 1);
    if (old_col.name != new_col.name) {
      return fail("column " + position + " would be renamed from " + quoted(old_col.name) +
                  " to " + quoted(new_col.name));
    }
    if (old_col.type_oid != new_col.type_oid) {
      return fail("column " + position + " " + quoted(old_col.name) + " would change type");
    }
    if (old_col.typmod != new_col.typmod) {
      return fail("column " + position + " " + quoted(old_col.name) +
                  " would change type modifier");
    }
    if (old_col.collation != new_col.collation) {
      return fail("column " + position + " " + quoted(old_col.name) +
                  " would change collation");
    }
  }
  return true;
}

}  // namespace viewmgr

#include "core/cpp_only.hpp"
