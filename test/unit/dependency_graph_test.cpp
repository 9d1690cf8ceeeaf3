#include "core/dependency_graph.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace viewmgr {
namespace {

// Builds a graph from (dependent, dependency) name pairs plus optional lone nodes, adding
// nodes in the order they first appear.
DependencyGraph make_graph(std::initializer_list<std::pair<const char*, const char*>> edges,
                           std::initializer_list<const char*> lone = {}) {
  DependencyGraph g;
  for (const char* name : lone) g.add_node(name);
  for (const auto& [dependent, dependency] : edges) {
    const NodeId a = g.add_node(dependent);
    const NodeId b = g.add_node(dependency);
    g.add_edge(a, b);
  }
  return g;
}

NodeId id(const DependencyGraph& g, const std::string& name) {
  const auto found = g.find(name);
  if (!found) ADD_FAILURE() << "no node " << name;
  return found.value_or(0);
}

// "name@level" for every step, so orders and levels are asserted together.
std::vector<std::string> order_text(const DependencyGraph& g) {
  std::vector<std::string> out;
  for (const auto& step : g.build_order()) {
    out.push_back(g.name(step.node) + "@" + std::to_string(step.level));
  }
  return out;
}

std::vector<std::string> names(const DependencyGraph& g, const std::vector<NodeId>& nodes) {
  std::vector<std::string> out;
  for (NodeId n : nodes) out.push_back(g.name(n));
  return out;
}

std::string cycle_error(const DependencyGraph& g) {
  try {
    g.build_order();
  } catch (const Error& e) {
    EXPECT_EQ(e.sqlstate(), "42P17");
    return e.what();
  }
  ADD_FAILURE() << "build_order() did not throw";
  return {};
}

using Strings = std::vector<std::string>;

TEST(DependencyGraph, EmptyGraph) {
  DependencyGraph g;
  EXPECT_EQ(g.size(), 0u);
  EXPECT_TRUE(g.build_order().empty());
  EXPECT_TRUE(g.find_cycle().empty());
  EXPECT_TRUE(g.downstream_closure({}).empty());
  EXPECT_TRUE(g.upstream_closure({}).empty());
  EXPECT_FALSE(g.find("public.v").has_value());
  EXPECT_EQ(g.describe_cycle({}), "");
}

TEST(DependencyGraph, AddNodeIsIdempotentAndFindWorks) {
  DependencyGraph g;
  const NodeId a = g.add_node("public.a");
  const NodeId b = g.add_node("public.b");
  EXPECT_EQ(a, 0u);
  EXPECT_EQ(b, 1u);
  EXPECT_EQ(g.add_node("public.a"), a);
  EXPECT_EQ(g.size(), 2u);
  EXPECT_EQ(g.find("public.b"), std::optional<NodeId>(b));
  EXPECT_FALSE(g.find("public.c").has_value());
  EXPECT_FALSE(g.find("public.A").has_value());  // names are exact
  EXPECT_EQ(g.name(a), "public.a");
  EXPECT_THROW(g.name(7), std::out_of_range);
}

TEST(DependencyGraph, EdgesAreSortedAndDeduplicated) {
  DependencyGraph g;
  const NodeId a = g.add_node("a");
  const NodeId b = g.add_node("b");
  const NodeId c = g.add_node("c");
  const NodeId d = g.add_node("d");
  g.add_edge(a, d);
  g.add_edge(a, b);
  g.add_edge(a, c);
  g.add_edge(a, b);  // duplicate
  g.add_edge(a, d);  // duplicate
  g.add_edge(c, b);
  EXPECT_EQ(g.dependencies(a), (std::vector<NodeId>{b, c, d}));
  EXPECT_EQ(g.dependents(b), (std::vector<NodeId>{a, c}));
  EXPECT_EQ(g.dependents(d), (std::vector<NodeId>{a}));
  EXPECT_TRUE(g.dependencies(d).empty());
  EXPECT_TRUE(g.dependents(a).empty());
}

TEST(DependencyGraph, SetDependenciesReplacesEdgesBothWays) {
  DependencyGraph g;
  NodeId a = g.add_node("a"), b = g.add_node("b"), c = g.add_node("c"), d = g.add_node("d");
  g.add_edge(a, b);
  g.add_edge(a, c);
  g.add_edge(d, c);
  g.set_dependencies(a, {d, c, d});
  EXPECT_EQ(g.dependencies(a), (std::vector<NodeId>{c, d}));
  EXPECT_TRUE(g.dependents(b).empty());
  EXPECT_EQ(g.dependents(c), (std::vector<NodeId>{a, d}));
  EXPECT_EQ(g.dependents(d), (std::vector<NodeId>{a}));
  g.set_dependencies(a, {});
  EXPECT_TRUE(g.dependencies(a).empty());
  EXPECT_EQ(g.dependents(c), (std::vector<NodeId>{d}));
  EXPECT_THROW(g.set_dependencies(a, {NodeId{9}}), Error);
  // A cycle made through set_dependencies is found like any other.
  g.set_dependencies(c, {d});
  g.set_dependencies(d, {c});
  EXPECT_FALSE(g.find_cycle().empty());
}

TEST(DependencyGraph, EdgeToUnknownNodeThrows) {
  DependencyGraph g;
  const NodeId a = g.add_node("a");
  EXPECT_THROW(g.add_edge(a, 5), Error);
  EXPECT_THROW(g.add_edge(5, a), Error);
  EXPECT_THROW(g.downstream_closure({9}), Error);
  EXPECT_TRUE(g.dependencies(a).empty());
}

TEST(DependencyGraph, IsolatedNodesOrderedByNameBytewise) {
  DependencyGraph g;
  for (const char* n : {"s.b", "s.a", "S.z", "s.B", "s._", "s.a1", "s.\xc3\xa4"}) g.add_node(n);
  // Byte-wise: uppercase before '_' before lowercase; UTF-8 lead bytes (>= 0x80) last.
  EXPECT_EQ(order_text(g),
            (Strings{"S.z@0", "s.B@0", "s._@0", "s.a@0", "s.a1@0", "s.b@0", "s.\xc3\xa4@0"}));
}

TEST(DependencyGraph, ChainGetsIncreasingLevels) {
  // d reads c reads b reads a; added dependents-first so ids are not in build order.
  const DependencyGraph g = make_graph({{"d", "c"}, {"c", "b"}, {"b", "a"}});
  EXPECT_EQ(order_text(g), (Strings{"a@0", "b@1", "c@2", "d@3"}));
}

TEST(DependencyGraph, DiamondLevels) {
  // top reads left and right, which both read base.
  const DependencyGraph g = make_graph(
      {{"top", "left"}, {"top", "right"}, {"left", "base"}, {"right", "base"}});
  EXPECT_EQ(order_text(g), (Strings{"base@0", "left@1", "right@1", "top@2"}));
  EXPECT_TRUE(g.find_cycle().empty());
}

TEST(DependencyGraph, LevelIsLongestPathNotShortest) {
  // x reads base directly and through a 3-long chain: its level comes from the chain.
  const DependencyGraph g =
      make_graph({{"x", "base"}, {"x", "c3"}, {"c3", "c2"}, {"c2", "c1"}, {"c1", "base"}},
                 {"alone"});
  EXPECT_EQ(order_text(g),
            (Strings{"alone@0", "base@0", "c1@1", "c2@2", "c3@3", "x@4"}));
}

TEST(DependencyGraph, TiesBrokenByNameWithinLevelOnly) {
  // "a.top" sorts first by name but is on a higher level than "z.base".
  const DependencyGraph g =
      make_graph({{"a.top", "z.base"}, {"m.mid", "z.base"}, {"b.mid", "z.base"}}, {"y.free"});
  EXPECT_EQ(order_text(g), (Strings{"y.free@0", "z.base@0", "a.top@1", "b.mid@1", "m.mid@1"}));
}

TEST(DependencyGraph, DuplicateEdgesDoNotChangeTheOrder) {
  DependencyGraph g = make_graph({{"b", "a"}, {"b", "a"}, {"c", "b"}, {"c", "a"}, {"c", "b"}});
  EXPECT_EQ(g.dependencies(id(g, "c")).size(), 2u);
  EXPECT_EQ(order_text(g), (Strings{"a@0", "b@1", "c@2"}));
}

TEST(DependencyGraph, OrderDoesNotDependOnInsertionOrder) {
  const DependencyGraph g1 =
      make_graph({{"v3", "v1"}, {"v2", "v1"}, {"v4", "v3"}, {"v4", "v2"}}, {"v0"});
  const DependencyGraph g2 =
      make_graph({{"v4", "v2"}, {"v4", "v3"}, {"v2", "v1"}, {"v3", "v1"}, {"v0", "v1"}});
  EXPECT_EQ(order_text(g1), (Strings{"v0@0", "v1@0", "v2@1", "v3@1", "v4@2"}));
  // In g2 v0 reads v1, so it moves up a level.
  EXPECT_EQ(order_text(g2), (Strings{"v1@0", "v0@1", "v2@1", "v3@1", "v4@2"}));
}

TEST(DependencyGraph, SelfEdgeIsACycle) {
  DependencyGraph g;
  const NodeId a = g.add_node("public.a");
  g.add_node("public.b");
  g.add_edge(a, a);
  EXPECT_EQ(g.dependencies(a), (std::vector<NodeId>{a}));
  EXPECT_EQ(g.find_cycle(), (std::vector<NodeId>{a, a}));
  EXPECT_EQ(g.describe_cycle(g.find_cycle()), "public.a -> public.a");
  EXPECT_EQ(cycle_error(g), "dependency cycle: public.a -> public.a");
}

TEST(DependencyGraph, TwoNodeCycle) {
  const DependencyGraph g = make_graph({{"b", "a"}, {"a", "b"}});
  EXPECT_EQ(names(g, g.find_cycle()), (Strings{"a", "b", "a"}));
  EXPECT_EQ(cycle_error(g), "dependency cycle: a -> b -> a");
}

TEST(DependencyGraph, LongerCycleFollowsDependencyEdgesFromFirstName) {
  // c reads d reads e reads c; plus acyclic parts on both sides.
  const DependencyGraph g = make_graph(
      {{"top", "c"}, {"c", "d"}, {"d", "e"}, {"e", "c"}, {"d", "base"}, {"a", "base"}});
  EXPECT_EQ(names(g, g.find_cycle()), (Strings{"c", "d", "e", "c"}));
  EXPECT_EQ(cycle_error(g), "dependency cycle: c -> d -> e -> c");
}

TEST(DependencyGraph, CycleIsStartedAtItsFirstNameWhereverTheSearchEnters) {
  // The search starts at "a" (first name), which reaches the cycle at "z"; the reported
  // cycle is still rotated to start at its alphabetically first member.
  const DependencyGraph g = make_graph({{"a", "z"}, {"z", "m"}, {"m", "q"}, {"q", "z"}});
  EXPECT_EQ(names(g, g.find_cycle()), (Strings{"m", "q", "z", "m"}));
  EXPECT_EQ(cycle_error(g), "dependency cycle: m -> q -> z -> m");
}

TEST(DependencyGraph, CycleSearchIsDeterministicAcrossInsertionOrders) {
  // Two disjoint cycles: the one containing the alphabetically first reachable start wins.
  const DependencyGraph g1 = make_graph({{"x", "y"}, {"y", "x"}, {"b", "c"}, {"c", "b"}});
  const DependencyGraph g2 = make_graph({{"c", "b"}, {"b", "c"}, {"y", "x"}, {"x", "y"}});
  EXPECT_EQ(cycle_error(g1), "dependency cycle: b -> c -> b");
  EXPECT_EQ(cycle_error(g2), "dependency cycle: b -> c -> b");
}

TEST(DependencyGraph, CycleErrorHasSqlstateAndDetail) {
  const DependencyGraph g = make_graph({{"s.v1", "s.v2"}, {"s.v2", "s.v1"}});
  try {
    g.build_order();
    FAIL() << "expected a cycle error";
  } catch (const Error& e) {
    EXPECT_EQ(e.sqlstate(), std::string(sqlstate::kInvalidObjectDefinition));
    EXPECT_STREQ(e.what(), "dependency cycle: s.v1 -> s.v2 -> s.v1");
    EXPECT_FALSE(e.detail().empty());
  }
}

TEST(DependencyGraph, AcyclicGraphHasNoCycle) {
  const DependencyGraph g = make_graph({{"b", "a"}, {"c", "a"}, {"c", "b"}});
  EXPECT_TRUE(g.find_cycle().empty());
}

TEST(DependencyGraph, DownstreamClosure) {
  //  base <- mid1 <- top
  //  base <- mid2
  //  other <- mid2
  const DependencyGraph g = make_graph(
      {{"mid1", "base"}, {"top", "mid1"}, {"mid2", "base"}, {"mid2", "other"}}, {"lone"});
  const NodeId base = id(g, "base");
  std::vector<NodeId> expected = {base, id(g, "mid1"), id(g, "top"), id(g, "mid2")};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(g.downstream_closure({base}), expected);
  EXPECT_EQ(g.downstream_closure({id(g, "top")}), (std::vector<NodeId>{id(g, "top")}));
  EXPECT_EQ(g.downstream_closure({id(g, "lone")}), (std::vector<NodeId>{id(g, "lone")}));

  std::vector<NodeId> two = g.downstream_closure({id(g, "other"), id(g, "mid1"), id(g, "mid1")});
  std::vector<NodeId> expected_two = {id(g, "other"), id(g, "mid2"), id(g, "mid1"), id(g, "top")};
  std::sort(expected_two.begin(), expected_two.end());
  EXPECT_EQ(two, expected_two);
}

TEST(DependencyGraph, UpstreamClosure) {
  const DependencyGraph g = make_graph(
      {{"mid1", "base"}, {"top", "mid1"}, {"mid2", "base"}, {"mid2", "other"}}, {"lone"});
  std::vector<NodeId> expected = {id(g, "top"), id(g, "mid1"), id(g, "base")};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(g.upstream_closure({id(g, "top")}), expected);

  std::vector<NodeId> expected_mid2 = {id(g, "mid2"), id(g, "base"), id(g, "other")};
  std::sort(expected_mid2.begin(), expected_mid2.end());
  EXPECT_EQ(g.upstream_closure({id(g, "mid2")}), expected_mid2);
  EXPECT_EQ(g.upstream_closure({id(g, "base")}), (std::vector<NodeId>{id(g, "base")}));
}

TEST(DependencyGraph, ClosuresTerminateOnCycles) {
  const DependencyGraph g = make_graph({{"a", "b"}, {"b", "c"}, {"c", "a"}, {"d", "a"}});
  EXPECT_EQ(g.downstream_closure({id(g, "a")}).size(), 4u);
  EXPECT_EQ(g.upstream_closure({id(g, "d")}).size(), 4u);
  EXPECT_EQ(g.upstream_closure({id(g, "a")}).size(), 3u);
}

std::string chain_name(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "s.v%06zu", i);
  return buf;
}

TEST(DependencyGraph, HundredThousandDeepChainDoesNotOverflowTheStack) {
  constexpr std::size_t kNodes = 100000;
  DependencyGraph g;
  for (std::size_t i = 0; i < kNodes; ++i) g.add_node(chain_name(i));
  for (std::size_t i = 1; i < kNodes; ++i) g.add_edge(i, i - 1);

  EXPECT_TRUE(g.find_cycle().empty());
  const auto order = g.build_order();
  ASSERT_EQ(order.size(), kNodes);
  for (std::size_t i = 0; i < kNodes; ++i) {
    ASSERT_EQ(order[i].node, i);
    ASSERT_EQ(order[i].level, static_cast<int>(i));
  }
  EXPECT_EQ(g.downstream_closure({0}).size(), kNodes);
  EXPECT_EQ(g.upstream_closure({kNodes - 1}).size(), kNodes);

  // Close the chain into one huge cycle: found without recursion, too.
  g.add_edge(0, kNodes - 1);
  const std::vector<NodeId> cycle = g.find_cycle();
  ASSERT_EQ(cycle.size(), kNodes + 1);
  EXPECT_EQ(cycle.front(), 0u);
  EXPECT_EQ(cycle[1], kNodes - 1);
  EXPECT_EQ(cycle.back(), 0u);
  EXPECT_THROW(g.build_order(), Error);
}

TEST(DependencyGraph, WideFanInAndFanOut) {
  DependencyGraph g;
  const NodeId hub = g.add_node("hub");
  const NodeId sink = g.add_node("sink");
  constexpr std::size_t kLeaves = 5000;
  for (std::size_t i = 0; i < kLeaves; ++i) {
    const NodeId leaf = g.add_node(chain_name(i));
    g.add_edge(leaf, hub);
    g.add_edge(sink, leaf);
  }
  const auto order = g.build_order();
  ASSERT_EQ(order.size(), kLeaves + 2);
  EXPECT_EQ(g.name(order.front().node), "hub");
  EXPECT_EQ(order.front().level, 0);
  EXPECT_EQ(g.name(order[1].node), "s.v000000");
  EXPECT_EQ(order[1].level, 1);
  EXPECT_EQ(g.name(order.back().node), "sink");
  EXPECT_EQ(order.back().level, 2);
  EXPECT_EQ(g.dependents(hub).size(), kLeaves);
  EXPECT_EQ(g.dependencies(sink).size(), kLeaves);
}

}  // namespace
}  // namespace viewmgr
