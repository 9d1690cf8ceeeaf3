#include "core/refresh_schedule.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace viewmgr {
namespace {

// a <- b <- d, a <- c <- d, e alone (edges point from a view to what it reads).
struct Diamond {
  DependencyGraph graph;
  NodeId a, b, c, d, e;
  Diamond() {
    a = graph.add_node("a");
    b = graph.add_node("b");
    c = graph.add_node("c");
    d = graph.add_node("d");
    e = graph.add_node("e");
    graph.add_edge(b, a);
    graph.add_edge(c, a);
    graph.add_edge(d, b);
    graph.add_edge(d, c);
  }
};

std::vector<NodeId> drain_serially(RefreshSchedule& schedule, RefreshOutcome outcome) {
  std::vector<NodeId> started;
  while (auto node = schedule.next_ready()) {
    started.push_back(*node);
    schedule.finish(*node, outcome);
  }
  return started;
}

TEST(RefreshSchedule, RefreshesEverythingInDependencyOrderWhenNotOnlyStale) {
  Diamond g;
  RefreshSchedule schedule(g.graph, std::vector<bool>(5, false), /*only_stale=*/false);
  EXPECT_EQ(drain_serially(schedule, RefreshOutcome::kRefreshed),
            (std::vector<NodeId>{g.a, g.e, g.b, g.c, g.d}));
  EXPECT_TRUE(schedule.done());
}

TEST(RefreshSchedule, OnlyStaleSkipsFreshViewsWhoseSourcesAreNotRefreshed) {
  Diamond g;
  std::vector<bool> stale(5, false);
  stale[g.c] = true;
  RefreshSchedule schedule(g.graph, stale, /*only_stale=*/true);
  // c is stale; d reads c, so it is refreshed after it; a, b, e are skipped.
  EXPECT_EQ(drain_serially(schedule, RefreshOutcome::kRefreshed), (std::vector<NodeId>{g.c, g.d}));
  EXPECT_EQ(schedule.outcome(g.a), RefreshOutcome::kSkipped);
  EXPECT_EQ(schedule.detail(g.a), "not stale");
  EXPECT_EQ(schedule.outcome(g.b), RefreshOutcome::kSkipped);
  EXPECT_EQ(schedule.outcome(g.e), RefreshOutcome::kSkipped);
  EXPECT_EQ(schedule.outcome(g.d), RefreshOutcome::kRefreshed);
  EXPECT_TRUE(schedule.done());
}

TEST(RefreshSchedule, NothingStaleRefreshesNothing) {
  Diamond g;
  RefreshSchedule schedule(g.graph, std::vector<bool>(5, false), true);
  EXPECT_TRUE(drain_serially(schedule, RefreshOutcome::kRefreshed).empty());
  EXPECT_TRUE(schedule.done());
  EXPECT_EQ(schedule.settled_order().size(), 5u);
}

TEST(RefreshSchedule, FailureSkipsEverythingDownstreamAndOnlyThat) {
  Diamond g;
  RefreshSchedule schedule(g.graph, std::vector<bool>(5, true), false);
  auto first = schedule.next_ready();
  ASSERT_EQ(first, g.a);
  schedule.finish(g.a, RefreshOutcome::kFailed, "boom");
  std::vector<NodeId> started = drain_serially(schedule, RefreshOutcome::kRefreshed);
  EXPECT_EQ(started, (std::vector<NodeId>{g.e}));
  for (NodeId n : {g.b, g.c, g.d}) {
    EXPECT_EQ(schedule.outcome(n), RefreshOutcome::kSkipped);
    EXPECT_EQ(schedule.detail(n), "upstream failed");
  }
  EXPECT_EQ(schedule.outcome(g.a), RefreshOutcome::kFailed);
  EXPECT_EQ(schedule.detail(g.a), "boom");
  EXPECT_TRUE(schedule.done());
}

TEST(RefreshSchedule, NeverStartsAViewBeforeWhatItReadsHasFinished) {
  Diamond g;
  RefreshSchedule schedule(g.graph, std::vector<bool>(5, true), false);
  // Two slots: a and e can run together; b and c only after a.
  auto x = schedule.next_ready();
  auto y = schedule.next_ready();
  ASSERT_TRUE(x && y);
  EXPECT_EQ(*x, g.a);
  EXPECT_EQ(*y, g.e);
  EXPECT_FALSE(schedule.next_ready().has_value());
  EXPECT_EQ(schedule.running(), 2);
  schedule.finish(g.e, RefreshOutcome::kRefreshed);
  EXPECT_FALSE(schedule.next_ready().has_value());  // b, c still wait for a
  schedule.finish(g.a, RefreshOutcome::kRefreshed);
  auto p = schedule.next_ready();
  auto q = schedule.next_ready();
  ASSERT_TRUE(p && q);
  EXPECT_EQ(*p, g.b);
  EXPECT_EQ(*q, g.c);
  EXPECT_FALSE(schedule.next_ready().has_value());  // d waits for both
  schedule.finish(g.b, RefreshOutcome::kRefreshed);
  EXPECT_FALSE(schedule.next_ready().has_value());
  schedule.finish(g.c, RefreshOutcome::kSkipped, "being refreshed by another session");
  EXPECT_EQ(schedule.next_ready(), g.d);
}

TEST(RefreshSchedule, SkippedUpstreamThatWasFreshDoesNotForceARefresh) {
  Diamond g;
  std::vector<bool> stale(5, false);
  RefreshSchedule schedule(g.graph, stale, true);
  drain_serially(schedule, RefreshOutcome::kRefreshed);
  EXPECT_EQ(schedule.outcome(g.d), RefreshOutcome::kSkipped);
}

TEST(RefreshSchedule, RejectsMisuse) {
  Diamond g;
  EXPECT_THROW(RefreshSchedule(g.graph, std::vector<bool>(2, true), false), Error);
  RefreshSchedule schedule(g.graph, std::vector<bool>(5, true), false);
  EXPECT_THROW(schedule.finish(g.d, RefreshOutcome::kRefreshed), Error);  // never started
  auto a = schedule.next_ready();
  EXPECT_THROW(schedule.finish(*a, RefreshOutcome::kRunning), Error);
}

TEST(RefreshSchedule, AnyReadySettlesSkipsWithoutStartingAnything) {
  Diamond g;
  std::vector<bool> stale(5, false);
  stale[g.d] = true;
  RefreshSchedule schedule(g.graph, stale, true);
  EXPECT_FALSE(schedule.done());
  // a, e skipped at once; b, c then too (their source was not refreshed); d is ready.
  EXPECT_TRUE(schedule.any_ready());
  EXPECT_EQ(schedule.running(), 0);
  EXPECT_EQ(schedule.outcome(g.a), RefreshOutcome::kSkipped);
  EXPECT_EQ(schedule.outcome(g.d), RefreshOutcome::kPending);
  EXPECT_TRUE(schedule.any_ready());  // asking again starts nothing either
  EXPECT_EQ(schedule.next_ready(), g.d);
  EXPECT_FALSE(schedule.any_ready());
  schedule.finish(g.d, RefreshOutcome::kRefreshed);
  EXPECT_TRUE(schedule.done());
}

TEST(RefreshSchedule, OutcomeNames) {
  EXPECT_STREQ(refresh_outcome_name(RefreshOutcome::kRefreshed), "refreshed");
  EXPECT_STREQ(refresh_outcome_name(RefreshOutcome::kSkipped), "skipped");
  EXPECT_STREQ(refresh_outcome_name(RefreshOutcome::kFailed), "failed");
}

}  // namespace
}  // namespace viewmgr
