#include "core/graph_dot.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

namespace viewmgr {

namespace {

struct StateLook {
  const char* state;
  const char* fillcolor;
  bool dashed;
};

constexpr StateLook kStateLooks[] = {
    {"stale", "orange", false},       {"failed", "red", false},
    {"missing", "gray", true},        {"drifted", "yellow", false},
    {"unpopulated", "lightblue", false}, {"refreshing", "lightgreen", false},
};

const StateLook* look_for(const std::string& state) {
  for (const StateLook& look : kStateLooks) {
    if (state == look.state) return &look;
  }
  return nullptr;
}

}  // namespace

std::string dot_quote(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        // "\r\n" is one line break; a lone carriage return is treated as one too.
        if (i + 1 < text.size() && text[i + 1] == '\n') break;
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  out += '"';
  return out;
}

std::string render_dot(const DependencyGraph& graph, const std::vector<DotNodeStyle>& styles) {
  const std::size_t n = graph.size();
  std::vector<NodeId> by_name(n);
  std::iota(by_name.begin(), by_name.end(), NodeId{0});
  std::sort(by_name.begin(), by_name.end(),
            [&](NodeId a, NodeId b) { return graph.name(a) < graph.name(b); });

  static const DotNodeStyle kDefaultStyle;
  auto style_of = [&](NodeId v) -> const DotNodeStyle& {
    return v < styles.size() ? styles[v] : kDefaultStyle;
  };

  std::string out;
  out += "digraph viewmgr {\n";
  out += "  rankdir=BT;\n";
  out += "  node [fontname=\"Helvetica\"];\n";

  for (NodeId v : by_name) {
    const DotNodeStyle& style = style_of(v);
    out += "  ";
    out += dot_quote(graph.name(v));
    out += " [shape=";
    out += style.materialized ? "box" : "ellipse";
    if (!style.state.empty() && style.state != "fresh") {
      out += ", label=";
      out += dot_quote(graph.name(v) + "\n(" + style.state + ")");
      if (const StateLook* look = look_for(style.state)) {
        out += look->dashed ? ", style=\"filled,dashed\"" : ", style=filled";
        out += ", fillcolor=";
        out += look->fillcolor;
      }
    }
    out += "];\n";
  }

  std::vector<std::pair<NodeId, NodeId>> edges;
  for (NodeId v = 0; v < n; ++v) {
    for (NodeId dep : graph.dependencies(v)) edges.emplace_back(v, dep);
  }
  std::sort(edges.begin(), edges.end(), [&](const auto& a, const auto& b) {
    const std::string& a_from = graph.name(a.first);
    const std::string& b_from = graph.name(b.first);
    if (a_from != b_from) return a_from < b_from;
    return graph.name(a.second) < graph.name(b.second);
  });
  for (const auto& [from, to] : edges) {
    out += "  ";
    out += dot_quote(graph.name(from));
    out += " -> ";
    out += dot_quote(graph.name(to));
    out += ";\n";
  }

  out += "}\n";
  return out;
}

}  // namespace viewmgr

#include "core/cpp_only.hpp"
