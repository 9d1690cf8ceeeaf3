#include "core/rebuild_steps.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.hpp"

namespace viewmgr {
namespace {

using Strings = std::vector<std::string>;

RebuildStep step(const std::string& name, bool managed, bool materialized, Action action) {
  return {name, managed, materialized, action, ""};
}

Strings names(const std::vector<RebuildStep>& steps) {
  Strings out;
  for (const auto& s : steps) out.push_back(s.name);
  return out;
}

TEST(RebuildSteps, OrdersManagedAndUnmanagedTogether) {
  // s.top (unmanaged) reads s.mid (managed), which reads s.base (managed).
  std::vector<RebuildStep> steps = {step("s.top", false, false, Action::kRebuilt),
                                    step("s.mid", true, false, Action::kRebuilt),
                                    step("s.base", true, false, Action::kRebuilt)};
  DependencyGraph graph;
  auto ordered = order_rebuild_steps(steps, {{0, 1}, {1, 2}}, &graph);
  EXPECT_EQ(names(ordered), (Strings{"s.base", "s.mid", "s.top"}));
  // The graph follows the new positions.
  ASSERT_EQ(graph.size(), 3u);
  EXPECT_EQ(graph.name(0), "s.base");
  EXPECT_EQ(graph.dependencies(2), std::vector<NodeId>{1});
  EXPECT_EQ(graph.dependencies(1), std::vector<NodeId>{0});
}

TEST(RebuildSteps, CycleIsRefused) {
  std::vector<RebuildStep> steps = {step("s.a", true, false, Action::kRebuilt),
                                    step("s.b", true, false, Action::kRebuilt)};
  DependencyGraph graph;
  EXPECT_THROW(order_rebuild_steps(steps, {{0, 1}, {1, 0}}, &graph), Error);
}

TEST(RebuildSteps, SideBySideOnlyForRebuiltMaterializedViewsOverUnchangedSources) {
  std::vector<RebuildStep> steps = {
      step("s.base", true, false, Action::kUnchanged),   // 0
      step("s.mv", true, true, Action::kRebuilt),        // 1: reads base (unchanged): yes
      step("s.v", true, false, Action::kRebuilt),        // 2: plain view: no
      step("s.mv2", true, true, Action::kRebuilt),       // 3: reads v (rebuilt): no
      step("s.hand", false, true, Action::kRebuilt),     // 4: unmanaged: no
      step("s.mv3", true, true, Action::kReplaced)};     // 5: not a rebuild: no
  DependencyGraph graph;
  auto ordered = order_rebuild_steps(steps, {{1, 0}, {3, 2}, {2, 0}}, &graph);
  std::vector<bool> side = side_by_side_steps(ordered, graph, true);
  for (std::size_t i = 0; i < ordered.size(); i++) {
    EXPECT_EQ(side[i], ordered[i].name == "s.mv") << ordered[i].name;
  }
  std::vector<bool> none = side_by_side_steps(ordered, graph, false);
  EXPECT_EQ(std::count(none.begin(), none.end(), true), 0);
}

TEST(RebuildSteps, DropsAreBatchedByRunsOfTheSameKind) {
  auto batches = batch_drops({{"s.a", false}, {"s.b", false}, {"s.m", true}, {"s.c", false}});
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_FALSE(batches[0].materialized);
  EXPECT_EQ(batches[0].names, (Strings{"s.a", "s.b"}));
  EXPECT_TRUE(batches[1].materialized);
  EXPECT_EQ(batches[1].names, (Strings{"s.m"}));
  EXPECT_EQ(batches[2].names, (Strings{"s.c"}));
  EXPECT_TRUE(batch_drops({}).empty());
}

TEST(RebuildSteps, SideBySideNames) {
  EXPECT_EQ(side_by_side_name(16384, 0), "pg_viewmgr_new_16384");
  EXPECT_EQ(side_by_side_name(16384, 2), "pg_viewmgr_new_16384_2");
}

TEST(RebuildSteps, IndexNamesFollowTheViewAfterTheSwap) {
  EXPECT_EQ(final_index_name("pg_viewmgr_new_1_id_idx", "pg_viewmgr_new_1", "sales", 63),
            "sales_id_idx");
  EXPECT_EQ(final_index_name("hand_made", "pg_viewmgr_new_1", "sales", 63), "hand_made");
  std::string long_view(60, 'v');
  EXPECT_EQ(final_index_name("pg_viewmgr_new_1_id_idx", "pg_viewmgr_new_1", long_view, 63).size(),
            63u);
}

TEST(RebuildSteps, IndexSpecFromDefinition) {
  EXPECT_EQ(index_spec_from_definition(
                "CREATE UNIQUE INDEX m_a_idx ON s.m USING btree (a)", "s.m"),
            "UNIQUE USING btree (a)");
  EXPECT_EQ(index_spec_from_definition(
                "CREATE INDEX m_b_idx ON s.m USING gin (b) WHERE (c > 0)", "s.m"),
            "USING gin (b) WHERE (c > 0)");
  EXPECT_EQ(index_spec_from_definition("CREATE INDEX i ON ONLY s.m USING btree (a)", "s.m"),
            "USING btree (a)");
  EXPECT_THROW(index_spec_from_definition("CREATE INDEX i ON s.other USING btree (a)", "s.m"),
               Error);
}

TEST(RebuildSteps, ViewOptionsKeepWhatWasSetByHand) {
  // Declared now: security_barrier. Declared at the last build: check_option (dropped from
  // the registration since). Live: both, plus security_invoker set by hand.
  Strings live = {"check_option=local", "security_barrier=true", "security_invoker=true"};
  EXPECT_EQ(view_options_to_build({"security_barrier=true"}, {"check_option=local"}, live),
            (Strings{"security_barrier=true", "security_invoker=true"}));
  // A declared option wins over a hand-set value of the same name.
  EXPECT_EQ(view_options_to_build({"check_option=cascaded"}, {}, {"check_option=local"}),
            (Strings{"check_option=cascaded"}));
  EXPECT_EQ(view_options_to_build({}, {}, {}), Strings{});
}

}  // namespace
}  // namespace viewmgr
