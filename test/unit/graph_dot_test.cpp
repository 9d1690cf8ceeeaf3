#include "core/graph_dot.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace viewmgr {
namespace {

TEST(DotQuote, PlainText) {
  EXPECT_EQ(dot_quote(""), "\"\"");
  EXPECT_EQ(dot_quote("public.v"), "\"public.v\"");
  EXPECT_EQ(dot_quote("my view"), "\"my view\"");
}

TEST(DotQuote, EscapesQuotesBackslashesAndNewlines) {
  EXPECT_EQ(dot_quote("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(dot_quote("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(dot_quote("\\\""), "\"\\\\\\\"\"");
  EXPECT_EQ(dot_quote("line1\nline2"), "\"line1\\nline2\"");
  EXPECT_EQ(dot_quote("line1\r\nline2\rline3"), "\"line1\\nline2\\nline3\"");
  // A trailing backslash must not escape the closing quote.
  EXPECT_EQ(dot_quote("ends\\"), "\"ends\\\\\"");
}

TEST(DotQuote, PassesNonAsciiThrough) {
  EXPECT_EQ(dot_quote("s.\xc3\xa4rger"), "\"s.\xc3\xa4rger\"");
  EXPECT_EQ(dot_quote("\xe6\x97\xa5\xe6\x9c\xac"), "\"\xe6\x97\xa5\xe6\x9c\xac\"");
}

TEST(RenderDot, EmptyGraph) {
  DependencyGraph g;
  EXPECT_EQ(render_dot(g, {}),
            "digraph viewmgr {\n"
            "  rankdir=BT;\n"
            "  node [fontname=\"Helvetica\"];\n"
            "}\n");
}

TEST(RenderDot, NodesAndEdgesSortedByName) {
  DependencyGraph g;
  const NodeId top = g.add_node("s.top");
  const NodeId b = g.add_node("s.b");
  const NodeId a = g.add_node("s.a");
  g.add_edge(top, b);
  g.add_edge(top, a);
  g.add_edge(b, a);
  std::vector<DotNodeStyle> styles(g.size());
  styles[a].materialized = true;
  styles[a].state = "fresh";
  EXPECT_EQ(render_dot(g, styles),
            "digraph viewmgr {\n"
            "  rankdir=BT;\n"
            "  node [fontname=\"Helvetica\"];\n"
            "  \"s.a\" [shape=box];\n"
            "  \"s.b\" [shape=ellipse];\n"
            "  \"s.top\" [shape=ellipse];\n"
            "  \"s.b\" -> \"s.a\";\n"
            "  \"s.top\" -> \"s.a\";\n"
            "  \"s.top\" -> \"s.b\";\n"
            "}\n");
}

TEST(RenderDot, StatesColourAndLabelNodes) {
  DependencyGraph g;
  const char* states[] = {"stale",       "failed",     "missing", "drifted",
                          "unpopulated", "refreshing", "fresh",   "",
                          "weird"};
  std::vector<DotNodeStyle> styles;
  for (const char* state : states) {
    g.add_node(std::string("v_") + (*state ? state : "empty"));
    styles.push_back(DotNodeStyle{true, state});
  }
  styles[1].materialized = false;  // failed: a plain view
  EXPECT_EQ(render_dot(g, styles),
            "digraph viewmgr {\n"
            "  rankdir=BT;\n"
            "  node [fontname=\"Helvetica\"];\n"
            "  \"v_drifted\" [shape=box, label=\"v_drifted\\n(drifted)\", style=filled, "
            "fillcolor=yellow];\n"
            "  \"v_empty\" [shape=box];\n"
            "  \"v_failed\" [shape=ellipse, label=\"v_failed\\n(failed)\", style=filled, "
            "fillcolor=red];\n"
            "  \"v_fresh\" [shape=box];\n"
            "  \"v_missing\" [shape=box, label=\"v_missing\\n(missing)\", "
            "style=\"filled,dashed\", fillcolor=gray];\n"
            "  \"v_refreshing\" [shape=box, label=\"v_refreshing\\n(refreshing)\", "
            "style=filled, fillcolor=lightgreen];\n"
            "  \"v_stale\" [shape=box, label=\"v_stale\\n(stale)\", style=filled, "
            "fillcolor=orange];\n"
            "  \"v_unpopulated\" [shape=box, label=\"v_unpopulated\\n(unpopulated)\", "
            "style=filled, fillcolor=lightblue];\n"
            "  \"v_weird\" [shape=box, label=\"v_weird\\n(weird)\"];\n"
            "}\n");
}

TEST(RenderDot, AwkwardNamesAreQuoted) {
  DependencyGraph g;
  const NodeId quoted = g.add_node("\"My Schema\".\"odd \"\"view\"\"\"");
  const NodeId spaced = g.add_node("public.\"with space\"");
  const NodeId umlaut = g.add_node("s.\xc3\xbc" "ber");
  const NodeId slash = g.add_node("s.back\\slash");
  g.add_edge(spaced, quoted);
  g.add_edge(umlaut, spaced);
  g.add_edge(slash, umlaut);
  std::vector<DotNodeStyle> styles(g.size());
  styles[quoted].state = "stale";
  EXPECT_EQ(render_dot(g, styles),
            "digraph viewmgr {\n"
            "  rankdir=BT;\n"
            "  node [fontname=\"Helvetica\"];\n"
            "  \"\\\"My Schema\\\".\\\"odd \\\"\\\"view\\\"\\\"\\\"\" [shape=ellipse, "
            "label=\"\\\"My Schema\\\".\\\"odd \\\"\\\"view\\\"\\\"\\\"\\n(stale)\", "
            "style=filled, fillcolor=orange];\n"
            "  \"public.\\\"with space\\\"\" [shape=ellipse];\n"
            "  \"s.back\\\\slash\" [shape=ellipse];\n"
            "  \"s.\xc3\xbc" "ber\" [shape=ellipse];\n"
            "  \"public.\\\"with space\\\"\" -> \"\\\"My Schema\\\".\\\"odd "
            "\\\"\\\"view\\\"\\\"\\\"\";\n"
            "  \"s.back\\\\slash\" -> \"s.\xc3\xbc" "ber\";\n"
            "  \"s.\xc3\xbc" "ber\" -> \"public.\\\"with space\\\"\";\n"
            "}\n");
}

TEST(RenderDot, MissingStylesDefaultToPlainViews) {
  DependencyGraph g;
  g.add_node("b");
  g.add_node("a");
  EXPECT_EQ(render_dot(g, {}),
            "digraph viewmgr {\n"
            "  rankdir=BT;\n"
            "  node [fontname=\"Helvetica\"];\n"
            "  \"a\" [shape=ellipse];\n"
            "  \"b\" [shape=ellipse];\n"
            "}\n");
}

TEST(RenderDot, SelfEdgeIsDrawn) {
  DependencyGraph g;
  const NodeId a = g.add_node("a");
  g.add_edge(a, a);
  const std::string dot = render_dot(g, {DotNodeStyle{}});
  EXPECT_NE(dot.find("  \"a\" -> \"a\";\n"), std::string::npos) << dot;
}

}  // namespace
}  // namespace viewmgr
