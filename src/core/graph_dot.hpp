// Graphviz DOT rendering of the dependency graph, for people who would rather look.
#pragma once
#include "core/dependency_graph.hpp"

#include <string>
#include <vector>

namespace viewmgr {

struct DotNodeStyle {
  bool materialized = false;
  std::string state;  // as in viewmgr.status: fresh, stale, missing, drifted, failed, ...
};

// `styles` is indexed by NodeId. Materialized views are boxes, views ellipses; states other
// than "fresh" are coloured and written into the label. Edges point from a view to what it
// reads. Output is deterministic (nodes and edges sorted by name).
std::string render_dot(const DependencyGraph& graph, const std::vector<DotNodeStyle>& styles);

// A DOT double-quoted string literal for any text.
std::string dot_quote(const std::string& text);

}  // namespace viewmgr
