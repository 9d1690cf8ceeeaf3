#include "core/incremental_query.hpp"

#include <gtest/gtest.h>

namespace viewmgr {
namespace {

// SELECT region, count(*) AS n, sum(amount) AS total FROM s.sales GROUP BY region
QueryShape grouped_sales() {
  QueryShape shape;
  shape.relations = {{"s.sales", 'r', false}};
  ShapeGroupKey key;
  key.expression = "region";
  key.is_column = true;
  key.column = "region";
  key.builtin_type = true;
  key.type_name = "text";
  key.output = "region";
  shape.group_keys = {key};
  shape.aggregates = {{"count", true, false, false}, {"sum", true, false, false}};
  shape.output_columns = {"region", "n", "total"};
  return shape;
}

TEST(IncrementalQuery, GroupByOverOneTableQualifies) {
  IncrementalPlan plan = plan_incremental(grouped_sales());
  ASSERT_TRUE(plan.qualifies) << plan.refusal;
  EXPECT_EQ(plan.source, "s.sales");
  ASSERT_EQ(plan.keys.size(), 1u);
  EXPECT_EQ(plan.keys[0].source_column, "region");
  EXPECT_EQ(plan.keys[0].output_column, "region");
}

TEST(IncrementalQuery, AKeyOutputUnderAnotherNameIsFoundThere) {
  QueryShape shape = grouped_sales();
  shape.group_keys[0].output = "r";
  shape.output_columns[0] = "r";
  IncrementalPlan plan = plan_incremental(shape);
  ASSERT_TRUE(plan.qualifies);
  EXPECT_EQ(plan.keys[0].output_column, "r");
}

TEST(IncrementalQuery, AnExpressionKeyIsLoggedAsItsValue) {
  QueryShape shape = grouped_sales();
  shape.group_keys[0].is_column = false;
  shape.group_keys[0].column.clear();
  shape.group_keys[0].expression = "lower(region)";
  shape.group_keys[0].source_expression = "lower(region)";
  shape.group_keys[0].output = "r";
  IncrementalPlan plan = plan_incremental(shape);
  ASSERT_TRUE(plan.qualifies) << plan.refusal;
  ASSERT_EQ(plan.keys.size(), 1u);
  EXPECT_EQ(plan.keys[0].source_column, "");
  EXPECT_EQ(plan.keys[0].source_expression, "lower(region)");
  EXPECT_EQ(plan.keys[0].output_column, "r");
}

TEST(IncrementalQuery, ATableReadThroughViewsIsTheSource) {
  QueryShape shape = grouped_sales();
  shape.relations[0].through_views = {"s.recent_sales", "s.sales_ok"};
  IncrementalPlan plan = plan_incremental(shape);
  ASSERT_TRUE(plan.qualifies) << plan.refusal;
  EXPECT_EQ(plan.source, "s.sales");
}

TEST(IncrementalQuery, TheSameKeyTwiceIsOneKey) {
  QueryShape shape = grouped_sales();
  shape.group_keys.push_back(shape.group_keys[0]);
  EXPECT_EQ(plan_incremental(shape).keys.size(), 1u);
}

struct Refusal {
  const char* what;
  void (*change)(QueryShape&);
  const char* reason_contains;
};

class IncrementalRefusal : public ::testing::TestWithParam<Refusal> {};

TEST_P(IncrementalRefusal, SaysWhy) {
  QueryShape shape = grouped_sales();
  GetParam().change(shape);
  IncrementalPlan plan = plan_incremental(shape);
  EXPECT_FALSE(plan.qualifies) << GetParam().what;
  EXPECT_NE(plan.refusal.find(GetParam().reason_contains), std::string::npos)
      << GetParam().what << ": " << plan.refusal;
}

INSTANTIATE_TEST_SUITE_P(
    EachReason, IncrementalRefusal,
    ::testing::Values(
        Refusal{"no GROUP BY", [](QueryShape& s) { s.group_keys.clear(); }, "no GROUP BY"},
        Refusal{"a join", [](QueryShape& s) { s.relations.push_back({"s.regions", 'r', false}); },
                "more than one relation"},
        Refusal{"a subquery in FROM", [](QueryShape& s) { s.other_from_items = {"a subquery in FROM"}; },
                "reads a subquery in FROM"},
        Refusal{"a view", [](QueryShape& s) { s.relations[0].relkind = 'v'; }, "the view s.sales"},
        Refusal{"a partitioned table", [](QueryShape& s) { s.relations[0].relkind = 'p'; },
                "partitioned table"},
        Refusal{"inheritance children", [](QueryShape& s) { s.relations[0].has_children = true; },
                "inheritance children"},
        Refusal{"HAVING", [](QueryShape& s) { s.has_having = true; }, "HAVING"},
        Refusal{"window functions", [](QueryShape& s) { s.has_window_functions = true; }, "window"},
        Refusal{"LIMIT", [](QueryShape& s) { s.has_limit = true; }, "LIMIT"},
        Refusal{"WITH", [](QueryShape& s) { s.has_ctes = true; }, "WITH"},
        Refusal{"UNION", [](QueryShape& s) { s.has_set_operations = true; }, "UNION"},
        Refusal{"DISTINCT", [](QueryShape& s) { s.has_distinct = true; }, "DISTINCT"},
        Refusal{"subqueries", [](QueryShape& s) { s.has_sublinks = true; }, "subqueries"},
        Refusal{"volatile", [](QueryShape& s) { s.has_mutable_functions = true; }, "volatile or stable"},
        Refusal{"grouping sets", [](QueryShape& s) { s.has_grouping_sets = true; }, "GROUPING SETS"},
        Refusal{"string_agg", [](QueryShape& s) { s.aggregates.push_back({"string_agg", true, false, true}); },
                "string_agg is not supported yet"},
        Refusal{"a user aggregate", [](QueryShape& s) { s.aggregates.push_back({"my_sum", false, false, false}); },
                "my_sum is not one of PostgreSQL's own"},
        Refusal{"ordered-set", [](QueryShape& s) { s.aggregates.push_back({"percentile_cont", true, true, true}); },
                "ordered-set aggregate percentile_cont"},
        Refusal{"a key not over the table's row", [](QueryShape& s) { s.group_keys[0].is_column = false; s.group_keys[0].expression = "lower(region)"; },
                "lower(region) is not an expression of the columns of s.sales"},
        Refusal{"a view that does not reduce to one table",
                [](QueryShape& s) { s.relations[0].relkind = 'v'; s.relations[0].view_refusal = "groups its rows"; },
                "the view s.sales, which groups its rows; only plain views"},
        Refusal{"a key of a user type", [](QueryShape& s) { s.group_keys[0].builtin_type = false; s.group_keys[0].type_name = "s.mood"; },
                "type s.mood"},
        Refusal{"a key not in the output", [](QueryShape& s) { s.group_keys[0].output.reset(); },
                "not among the output columns"},
        Refusal{"the marker name", [](QueryShape& s) { s.output_columns.push_back(kTruncatedMarkerColumn); },
                "keeps for itself"}));

TEST(IncrementalQuery, OrderIndependentAggregates) {
  for (const char* name : {"count", "sum", "avg", "min", "max", "bool_and", "bool_or"}) {
    EXPECT_TRUE(is_order_independent_aggregate(name)) << name;
  }
  for (const char* name : {"string_agg", "array_agg", "json_agg", "xmlagg"}) {
    EXPECT_FALSE(is_order_independent_aggregate(name)) << name;
  }
}

}  // namespace
}  // namespace viewmgr

namespace viewmgr {
namespace {

TEST(IncrementalRefresh, FullRecomputationAfterATruncate) {
  EXPECT_TRUE(recompute_fully(0, 0, true));
  EXPECT_TRUE(recompute_fully(1, 100000, true));
}

TEST(IncrementalRefresh, SmallViewsGoGroupByGroup) {
  EXPECT_FALSE(recompute_fully(10, 10, false));
  EXPECT_FALSE(recompute_fully(49, kIncrementalMinGroupsForShare - 1, false));
}

TEST(IncrementalRefresh, ALargeShareOfGroupsIsRecomputedFully) {
  EXPECT_FALSE(recompute_fully(20, 100, false));
  EXPECT_TRUE(recompute_fully(21, 100, false));
  EXPECT_FALSE(recompute_fully(1000, 100000, false));
}

}  // namespace
}  // namespace viewmgr
