#include "core/rebuild_steps.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace viewmgr {

std::vector<RebuildStep> order_rebuild_steps(const std::vector<RebuildStep>& steps,
                                             const std::vector<std::pair<std::size_t, std::size_t>>& edges,
                                             DependencyGraph* graph) {
  DependencyGraph unordered;
  for (const auto& step : steps) unordered.add_node(step.name);
  for (const auto& [dependent, dependency] : edges) unordered.add_edge(dependent, dependency);
  std::vector<RebuildStep> ordered;
  std::vector<std::size_t> position(steps.size());
  for (const auto& s : unordered.build_order()) {
    position[s.node] = ordered.size();
    ordered.push_back(steps[s.node]);
  }
  *graph = DependencyGraph();
  for (const auto& step : ordered) graph->add_node(step.name);
  for (const auto& [dependent, dependency] : edges) {
    graph->add_edge(position[dependent], position[dependency]);
  }
  return ordered;
}

std::vector<bool> side_by_side_steps(const std::vector<RebuildStep>& ordered,
                                     const DependencyGraph& graph, bool allowed) {
  std::vector<bool> out(ordered.size(), false);
  if (!allowed) return out;
  for (NodeId node = 0; node < ordered.size(); node++) {
    const RebuildStep& step = ordered[node];
    if (!step.managed || !step.materialized || step.action != Action::kRebuilt) continue;
    // Its sources must already be what it will read after the rebuild.
    bool sources_stay = std::all_of(
        graph.dependencies(node).begin(), graph.dependencies(node).end(),
        [&](NodeId dep) { return ordered[dep].action == Action::kUnchanged; });
    out[node] = sources_stay;
  }
  return out;
}

std::vector<DropBatch> batch_drops(const std::vector<std::pair<std::string, bool>>& in_drop_order) {
  std::vector<DropBatch> batches;
  for (const auto& [name, materialized] : in_drop_order) {
    if (batches.empty() || batches.back().materialized != materialized) {
      batches.push_back({materialized, {}});
    }
    batches.back().names.push_back(name);
  }
  return batches;
}

std::string side_by_side_name(std::uint32_t oid, int attempt) {
  std::string name = "pg_viewmgr_new_" + std::to_string(oid);
  if (attempt > 0) name += "_" + std::to_string(attempt);
  return name;
}

std::string final_index_name(const std::string& built, const std::string& temporary,
                             const std::string& view_name, std::size_t max_bytes) {
  if (built.rfind(temporary, 0) != 0) return built;
  std::string name = view_name + built.substr(temporary.size());
  if (name.size() > max_bytes) name.resize(max_bytes);
  return name;
}

std::string index_spec_from_definition(const std::string& definition, const std::string& on) {
  std::size_t at = definition.find(" ON " + on + " ");
  if (at == std::string::npos) at = definition.find(" ON ONLY " + on + " ");
  if (at == std::string::npos) {
    throw Error(sqlstate::kInternalError, "cannot read index definition: " + definition);
  }
  std::size_t rest = definition.find(on + " ", at) + on.size() + 1;
  bool unique = definition.rfind("CREATE UNIQUE INDEX ", 0) == 0;
  return (unique ? "UNIQUE " : "") + definition.substr(rest);
}

std::vector<std::string> view_options_to_build(const std::vector<std::string>& declared,
                                               const std::vector<std::string>& last_built,
                                               const std::vector<std::string>& live) {
  std::vector<std::string> options = declared;
  for (const auto& option : live) {
    std::string key = option.substr(0, option.find('='));
    bool built = std::find(last_built.begin(), last_built.end(), option) != last_built.end();
    bool declared_now = std::any_of(declared.begin(), declared.end(), [&](const std::string& o) {
      return o.rfind(key + "=", 0) == 0;
    });
    if (!built && !declared_now) options.push_back(option);
  }
  return options;
}

}  // namespace viewmgr

#include "core/cpp_only.hpp"
