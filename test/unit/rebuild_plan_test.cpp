#include "core/rebuild_plan.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"

namespace viewmgr {
namespace {

using Strings = std::vector<std::string>;

// A small fixture graph:
//
//   base <- mid <- top <- leaf
//   base <- side
//   other            (unrelated)
//
// "x <- y" means y reads x.
class RebuildPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Added in a scrambled order so NodeIds do not match build order.
    top = g.add_node("s.top");
    other = g.add_node("s.other");
    base = g.add_node("s.base");
    leaf = g.add_node("s.leaf");
    mid = g.add_node("s.mid");
    side = g.add_node("s.side");
    g.add_edge(mid, base);
    g.add_edge(top, mid);
    g.add_edge(leaf, top);
    g.add_edge(side, base);
    needs.assign(g.size(), ViewNeed{});
    scope.assign(g.size(), true);
  }

  RebuildPlan plan() const { return plan_rebuild(g, needs, scope); }

  // "name:action:level" per build step.
  Strings builds_text(const RebuildPlan& p) const {
    Strings out;
    for (const PlannedView& v : p.builds) {
      out.push_back(g.name(v.node) + ":" + action_name(v.action) + ":" + std::to_string(v.level));
    }
    return out;
  }

  Strings drops_text(const RebuildPlan& p) const {
    Strings out;
    for (NodeId n : p.drops) out.push_back(g.name(n));
    return out;
  }

  const PlannedView& planned(const RebuildPlan& p, NodeId node) const {
    for (const PlannedView& v : p.builds) {
      if (v.node == node) return v;
    }
    ADD_FAILURE() << "node " << g.name(node) << " not planned";
    return p.builds.front();
  }

  DependencyGraph g;
  NodeId top{}, other{}, base{}, leaf{}, mid{}, side{};
  std::vector<ViewNeed> needs;
  std::vector<bool> scope;
};

TEST(ActionName, AllActions) {
  EXPECT_STREQ(action_name(Action::kUnchanged), "unchanged");
  EXPECT_STREQ(action_name(Action::kCreated), "created");
  EXPECT_STREQ(action_name(Action::kReplaced), "replaced");
  EXPECT_STREQ(action_name(Action::kRebuilt), "rebuilt");
}

TEST(PlanRebuild, EmptyGraph) {
  DependencyGraph empty;
  const RebuildPlan p = plan_rebuild(empty, {}, {});
  EXPECT_TRUE(p.builds.empty());
  EXPECT_TRUE(p.drops.empty());
}

TEST_F(RebuildPlanTest, NothingToDo) {
  const RebuildPlan p = plan();
  EXPECT_EQ(builds_text(p), (Strings{"s.base:unchanged:0", "s.other:unchanged:0",
                                     "s.mid:unchanged:1", "s.side:unchanged:1",
                                     "s.top:unchanged:2", "s.leaf:unchanged:3"}));
  EXPECT_TRUE(p.drops.empty());
}

TEST_F(RebuildPlanTest, RebuildPropagatesDownstreamTransitively) {
  needs[mid] = {Action::kRebuilt, "column type changed", true};
  const RebuildPlan p = plan();
  EXPECT_EQ(builds_text(p), (Strings{"s.base:unchanged:0", "s.other:unchanged:0",
                                     "s.mid:rebuilt:1", "s.side:unchanged:1",
                                     "s.top:rebuilt:2", "s.leaf:rebuilt:3"}));
  EXPECT_EQ(planned(p, mid).reason, "column type changed");
  EXPECT_EQ(planned(p, top).reason, "upstream s.mid is rebuilt");
  EXPECT_EQ(planned(p, leaf).reason, "upstream s.top is rebuilt");
  // Dependents are dropped before what they read.
  EXPECT_EQ(drops_text(p), (Strings{"s.leaf", "s.top", "s.mid"}));
}

TEST_F(RebuildPlanTest, RebuildAtTheBaseReachesEveryDependent) {
  needs[base] = {Action::kRebuilt, "materialized changed", true};
  const RebuildPlan p = plan();
  EXPECT_EQ(builds_text(p), (Strings{"s.base:rebuilt:0", "s.other:unchanged:0",
                                     "s.mid:rebuilt:1", "s.side:rebuilt:1",
                                     "s.top:rebuilt:2", "s.leaf:rebuilt:3"}));
  EXPECT_EQ(planned(p, side).reason, "upstream s.base is rebuilt");
  // Reverse build order: by level descending, then name descending.
  EXPECT_EQ(drops_text(p), (Strings{"s.leaf", "s.top", "s.side", "s.mid", "s.base"}));
}

TEST_F(RebuildPlanTest, ReplaceDoesNotPropagate) {
  needs[mid] = {Action::kReplaced, "definition changed", true};
  const RebuildPlan p = plan();
  EXPECT_EQ(builds_text(p), (Strings{"s.base:unchanged:0", "s.other:unchanged:0",
                                     "s.mid:replaced:1", "s.side:unchanged:1",
                                     "s.top:unchanged:2", "s.leaf:unchanged:3"}));
  EXPECT_EQ(planned(p, mid).reason, "definition changed");
  EXPECT_EQ(planned(p, top).reason, "");
  EXPECT_TRUE(p.drops.empty());
}

TEST_F(RebuildPlanTest, OwnRebuildReasonIsKept) {
  needs[mid] = {Action::kRebuilt, "mid reason", true};
  needs[top] = {Action::kRebuilt, "top reason", true};
  needs[leaf] = {Action::kReplaced, "leaf reason", true};
  const RebuildPlan p = plan();
  EXPECT_EQ(planned(p, top).action, Action::kRebuilt);
  EXPECT_EQ(planned(p, top).reason, "top reason");
  EXPECT_EQ(planned(p, leaf).action, Action::kRebuilt);
  EXPECT_EQ(planned(p, leaf).reason, "upstream s.top is rebuilt");
}

TEST_F(RebuildPlanTest, MissingViewIsCreated) {
  needs[top] = {Action::kUnchanged, "", false};
  const RebuildPlan p = plan();
  EXPECT_EQ(planned(p, top).action, Action::kCreated);
  EXPECT_EQ(planned(p, top).reason, "missing");
  // Creating is not dropping: nothing downstream is rebuilt.
  EXPECT_EQ(planned(p, leaf).action, Action::kUnchanged);
  EXPECT_TRUE(p.drops.empty());
}

TEST_F(RebuildPlanTest, MissingViewKeepsItsOwnReason) {
  needs[side] = {Action::kCreated, "new view", false};
  const RebuildPlan p = plan();
  EXPECT_EQ(planned(p, side).action, Action::kCreated);
  EXPECT_EQ(planned(p, side).reason, "new view");
}

TEST_F(RebuildPlanTest, MissingViewThatNeedsRebuildIsCreatedAndNotDropped) {
  needs[mid] = {Action::kRebuilt, "kind changed", false};
  const RebuildPlan p = plan();
  EXPECT_EQ(planned(p, mid).action, Action::kCreated);
  EXPECT_EQ(planned(p, mid).reason, "kind changed");
  EXPECT_EQ(planned(p, top).action, Action::kUnchanged);
  EXPECT_TRUE(p.drops.empty());
}

TEST_F(RebuildPlanTest, MissingViewBelowARebuildIsCreated) {
  needs[base] = {Action::kRebuilt, "r", true};
  needs[top] = {Action::kReplaced, "", false};
  const RebuildPlan p = plan();
  EXPECT_EQ(planned(p, mid).action, Action::kRebuilt);
  EXPECT_EQ(planned(p, top).action, Action::kCreated);
  EXPECT_EQ(planned(p, top).reason, "missing");
  // leaf exists and reads top, which is not rebuilt (created): leaf keeps its own need.
  EXPECT_EQ(planned(p, leaf).action, Action::kUnchanged);
  EXPECT_EQ(drops_text(p), (Strings{"s.side", "s.mid", "s.base"}));
}

TEST_F(RebuildPlanTest, ScopeLimitsThePlan) {
  needs[mid] = {Action::kRebuilt, "r", true};
  needs[other] = {Action::kReplaced, "o", true};
  scope.assign(g.size(), false);
  scope[mid] = scope[top] = scope[leaf] = true;
  const RebuildPlan p = plan();
  EXPECT_EQ(builds_text(p), (Strings{"s.mid:rebuilt:1", "s.top:rebuilt:2", "s.leaf:rebuilt:3"}));
  EXPECT_EQ(drops_text(p), (Strings{"s.leaf", "s.top", "s.mid"}));
}

TEST_F(RebuildPlanTest, OutOfScopeRebuildDoesNotPropagate) {
  needs[base] = {Action::kRebuilt, "r", true};
  scope[base] = false;
  const RebuildPlan p = plan();
  EXPECT_EQ(planned(p, mid).action, Action::kUnchanged);
  EXPECT_EQ(planned(p, side).action, Action::kUnchanged);
  EXPECT_TRUE(p.drops.empty());
  EXPECT_EQ(p.builds.size(), 5u);
}

TEST_F(RebuildPlanTest, UpstreamReasonNamesAlphabeticallyFirstRebuiltDependency) {
  // join reads both side and mid, both rebuilt because of base.
  const NodeId join = g.add_node("s.join");
  g.add_edge(join, side);
  g.add_edge(join, mid);
  needs.push_back(ViewNeed{});
  scope.push_back(true);
  needs[base] = {Action::kRebuilt, "r", true};
  const RebuildPlan p = plan();
  EXPECT_EQ(planned(p, join).action, Action::kRebuilt);
  EXPECT_EQ(planned(p, join).reason, "upstream s.mid is rebuilt");
  EXPECT_EQ(planned(p, join).level, 2);
}

TEST_F(RebuildPlanTest, MismatchedInputSizesThrow) {
  needs.pop_back();
  EXPECT_THROW(plan(), Error);
  needs.push_back(ViewNeed{});
  scope.push_back(true);
  EXPECT_THROW(plan(), Error);
}

TEST_F(RebuildPlanTest, CycleThrows) {
  g.add_edge(base, leaf);
  needs.assign(g.size(), ViewNeed{});
  try {
    plan();
    FAIL() << "expected a cycle error";
  } catch (const Error& e) {
    EXPECT_EQ(e.sqlstate(), "42P17");
    EXPECT_STREQ(e.what(), "dependency cycle: s.base -> s.leaf -> s.top -> s.mid -> s.base");
  }
}

Column col(const char* name, std::uint32_t type, std::int32_t typmod = -1,
           std::uint32_t collation = 0) {
  return Column{name, type, typmod, collation};
}

constexpr std::uint32_t kInt4 = 23;
constexpr std::uint32_t kText = 25;
constexpr std::uint32_t kNumeric = 1700;
constexpr std::uint32_t kDefaultCollation = 100;
constexpr std::uint32_t kCCollation = 950;

TEST(CanReplaceColumns, IdenticalColumns) {
  const std::vector<Column> cols = {col("id", kInt4), col("name", kText, -1, kDefaultCollation)};
  std::string why = "untouched";
  EXPECT_TRUE(can_replace_columns(cols, cols, &why));
  EXPECT_EQ(why, "untouched");
  EXPECT_TRUE(can_replace_columns({}, {}, nullptr));
}

TEST(CanReplaceColumns, AppendingColumnsIsAllowed) {
  const std::vector<Column> live = {col("id", kInt4)};
  const std::vector<Column> wanted = {col("id", kInt4), col("amount", kNumeric, 655366)};
  EXPECT_TRUE(can_replace_columns(live, wanted, nullptr));
  EXPECT_TRUE(can_replace_columns({}, wanted, nullptr));
}

TEST(CanReplaceColumns, DroppedColumn) {
  const std::vector<Column> live = {col("a", kInt4), col("x", kInt4), col("c", kInt4)};
  std::string why;
  EXPECT_FALSE(can_replace_columns(live, {col("a", kInt4), col("c", kInt4)}, &why));
  EXPECT_EQ(why, "column \"x\" would be dropped");
  EXPECT_FALSE(can_replace_columns(live, {col("a", kInt4), col("x", kInt4)}, &why));
  EXPECT_EQ(why, "column \"c\" would be dropped");
  EXPECT_FALSE(can_replace_columns(live, {}, &why));
  EXPECT_EQ(why, "column \"a\" would be dropped");
  // Names all still present but fewer columns: the last one is reported.
  EXPECT_FALSE(
      can_replace_columns({col("a", kInt4), col("a", kInt4)}, {col("a", kInt4)}, &why));
  EXPECT_EQ(why, "column \"a\" would be dropped");
  EXPECT_FALSE(can_replace_columns(live, {col("a", kInt4)}, nullptr));
}

TEST(CanReplaceColumns, RenamedColumn) {
  std::string why;
  EXPECT_FALSE(can_replace_columns({col("a", kInt4)}, {col("b", kInt4)}, &why));
  EXPECT_EQ(why, "column 1 would be renamed from \"a\" to \"b\"");
  // Swapping two columns shows up as a rename at the first position that differs.
  EXPECT_FALSE(can_replace_columns({col("id", kInt4), col("a", kInt4), col("b", kInt4)},
                                   {col("id", kInt4), col("b", kInt4), col("a", kInt4)}, &why));
  EXPECT_EQ(why, "column 2 would be renamed from \"a\" to \"b\"");
}

TEST(CanReplaceColumns, ChangedType) {
  std::string why;
  EXPECT_FALSE(can_replace_columns({col("id", kInt4), col("amount", kNumeric)},
                                   {col("id", kInt4), col("amount", kInt4)}, &why));
  EXPECT_EQ(why, "column 2 \"amount\" would change type");
}

TEST(CanReplaceColumns, ChangedTypmod) {
  std::string why;
  EXPECT_FALSE(can_replace_columns({col("amount", kNumeric, 655366)},
                                   {col("amount", kNumeric, 720902)}, &why));
  EXPECT_EQ(why, "column 1 \"amount\" would change type modifier");
  EXPECT_FALSE(
      can_replace_columns({col("amount", kNumeric, -1)}, {col("amount", kNumeric, 655366)}, &why));
  EXPECT_EQ(why, "column 1 \"amount\" would change type modifier");
}

TEST(CanReplaceColumns, ChangedCollation) {
  std::string why;
  EXPECT_FALSE(can_replace_columns({col("name", kText, -1, kDefaultCollation)},
                                   {col("name", kText, -1, kCCollation)}, &why));
  EXPECT_EQ(why, "column 1 \"name\" would change collation");
}

TEST(CanReplaceColumns, QuotesInNamesAreDoubled) {
  std::string why;
  EXPECT_FALSE(can_replace_columns({col("say \"hi\"", kText)}, {col("x", kText)}, &why));
  EXPECT_EQ(why, "column 1 would be renamed from \"say \"\"hi\"\"\" to \"x\"");
}

}  // namespace
}  // namespace viewmgr
