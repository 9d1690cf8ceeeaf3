#include "core/incremental_query.hpp"

#include <algorithm>

#include "core/cpp_only.hpp"

namespace viewmgr {

bool is_order_independent_aggregate(const std::string& name) {
  static const char* const kAggregates[] = {"count",   "sum",    "avg",     "min",   "max",
                                            "bool_and", "bool_or", "every", "bit_and", "bit_or"};
  return std::any_of(std::begin(kAggregates), std::end(kAggregates),
                     [&](const char* known) { return name == known; });
}

namespace {

IncrementalPlan refuse(std::string why) {
  IncrementalPlan plan;
  plan.refusal = std::move(why);
  return plan;
}

std::string describe_relkind(char relkind) {
  switch (relkind) {
    case 'v': return "view";
    case 'm': return "materialized view";
    case 'p': return "partitioned table";
    case 'f': return "foreign table";
    default: return "relation";
  }
}

}  // namespace

IncrementalPlan plan_incremental(const QueryShape& shape) {
  // The query's form first, in the order a reader would look.
  if (!shape.is_select) return refuse("it is not a SELECT");
  if (shape.has_ctes) return refuse("WITH queries are not supported yet");
  if (shape.has_set_operations) return refuse("UNION, INTERSECT and EXCEPT are not supported yet");
  if (!shape.other_from_items.empty()) {
    return refuse("it reads " + shape.other_from_items.front() +
                  "; only a GROUP BY over one table is supported yet");
  }
  if (shape.relations.size() != 1) {
    return refuse(shape.relations.empty() ? "it reads no table"
                                          : "it reads more than one relation; joins are not supported yet");
  }
  const ShapeRelation& source = shape.relations.front();
  if (source.relkind == 'v' && !source.view_refusal.empty()) {
    return refuse("it reads the view " + source.name + ", which " + source.view_refusal +
                  "; only plain views that select rows of one table are supported in between");
  }
  if (source.relkind != 'r') {
    return refuse("it reads the " + describe_relkind(source.relkind) + " " + source.name +
                  "; only a table read directly is supported yet");
  }
  if (source.has_children) {
    return refuse("the table " + source.name + " has inheritance children, whose writes are not captured yet");
  }
  if (shape.group_keys.empty()) return refuse("it has no GROUP BY");
  if (shape.has_grouping_sets) return refuse("GROUPING SETS, ROLLUP and CUBE are not supported yet");
  if (shape.has_having) return refuse("HAVING is not supported yet");
  if (shape.has_window_functions) return refuse("window functions are not supported");
  if (shape.has_limit) return refuse("LIMIT and OFFSET are not supported");
  if (shape.has_distinct) return refuse("SELECT DISTINCT is not supported yet");
  if (shape.has_sublinks) return refuse("subqueries are not supported yet");
  if (shape.has_set_returning_functions) return refuse("set-returning functions in the output are not supported");
  if (shape.has_row_locks) return refuse("FOR UPDATE / FOR SHARE is not supported");
  if (shape.has_mutable_functions) {
    return refuse("it calls a volatile or stable function, whose result a recomputation may not repeat");
  }
  for (const auto& aggregate : shape.aggregates) {
    if (!aggregate.builtin) {
      return refuse("the aggregate " + aggregate.name + " is not one of PostgreSQL's own");
    }
    if (aggregate.ordered_set) {
      return refuse("the ordered-set aggregate " + aggregate.name + " is not supported yet");
    }
    if (!is_order_independent_aggregate(aggregate.name)) {
      return refuse("the aggregate " + aggregate.name +
                    " is not supported yet (count, sum, avg, min, max, bool_and, bool_or, every, "
                    "bit_and and bit_or are)");
    }
  }
  for (const auto& name : shape.output_columns) {
    if (name == kTruncatedMarkerColumn) {
      return refuse(std::string("an output column is named \"") + kTruncatedMarkerColumn +
                    "\", which pg_viewmgr keeps for itself");
    }
  }
  IncrementalPlan plan;
  plan.source = source.name;
  for (const auto& key : shape.group_keys) {
    if (!key.is_column && key.source_expression.empty()) {
      return refuse("the group key " + key.expression + " is not an expression of the columns of " + source.name);
    }
    if (!key.builtin_type) {
      return refuse("the group key " + key.expression + " has the type " + key.type_name +
                    ", which is not one of PostgreSQL's own");
    }
    if (!key.output.has_value()) {
      return refuse("the group key " + key.expression +
                    " is not among the output columns; output it so its groups can be found");
    }
    // A plain column is logged as itself (a refresh looks for an index on it); an
    // expression, such as date_trunc('day', ts) or lower(name), as its value.
    std::string logged = key.source_expression.empty() ? key.column : key.source_expression;
    bool seen = std::any_of(plan.keys.begin(), plan.keys.end(),
                            [&](const IncrementalKey& k) { return k.source_expression == logged; });
    if (!seen) plan.keys.push_back({key.is_column ? key.column : std::string(), *key.output, logged});
  }
  plan.qualifies = true;
  return plan;
}

}  // namespace viewmgr

namespace viewmgr {

bool recompute_fully(long long affected_groups, long long stored_groups, bool truncated) {
  if (truncated) return true;
  if (stored_groups < kIncrementalMinGroupsForShare) return false;
  return static_cast<double>(affected_groups) > kIncrementalFullShare * static_cast<double>(stored_groups);
}

}  // namespace viewmgr
