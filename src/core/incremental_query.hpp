// Which definitions a materialized view can be kept incrementally with, decided from facts
// about the analysed query (the PostgreSQL layer, src/incremental/query_shape.cpp, reads
// them off the parse tree; nothing here knows a server header).
//
// The first query class (issue 12): a GROUP BY over one table, read directly, whose group
// keys are plain columns of that table that the view also outputs, with deterministic
// aggregates. A refresh recomputes exactly the groups whose keys the sources' writes logged,
// so any deterministic expression over the groups' rows gives what a full recomputation
// gives; what is refused is what that argument does not cover (several relations, rows not
// grouped, order-dependent or non-deterministic results) or what is not built yet.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace viewmgr {

// One relation of the query's FROM list (after analysis: views are not expanded).
struct ShapeRelation {
  std::string name;        // qualified display name
  char relkind = 'r';      // pg_class.relkind
  bool has_children = false;  // inheritance children (or partitions)
  // The plain views the query reads it through, outermost first (empty: read directly).
  // A view that does not reduce to one table keeps relkind 'v' and says why here.
  std::vector<std::string> through_views;
  std::string view_refusal;
};

// A GROUP BY item.
struct ShapeGroupKey {
  std::string expression;           // as written back, for messages
  bool is_column = false;           // a plain column of the one table
  std::string column;               // that column's name
  // The key as an expression over a row of the one table (through the views read, if
  // any), with every name outside pg_catalog qualified: what the capture computes from the
  // transition tables. Empty when it cannot be (it reads something else than that row).
  std::string source_expression;
  bool builtin_type = false;        // its type is one of PostgreSQL's own
  std::string type_name;            // for messages
  std::optional<std::string> output;  // the output column that returns it, if any
};

// An aggregate call anywhere in the output.
struct ShapeAggregate {
  std::string name;
  bool builtin = false;       // one of PostgreSQL's own aggregates
  bool ordered_set = false;   // WITHIN GROUP (percentile_cont, rank, ...)
  bool has_order_by = false;  // e.g. string_agg(x, ',' ORDER BY x)
};

// What src/core needs to know about an analysed query.
struct QueryShape {
  bool is_select = true;
  bool has_ctes = false;
  bool has_set_operations = false;
  bool has_window_functions = false;
  bool has_limit = false;
  bool has_having = false;
  bool has_distinct = false;
  bool has_sublinks = false;
  bool has_grouping_sets = false;
  bool has_set_returning_functions = false;
  bool has_row_locks = false;
  bool has_mutable_functions = false;  // volatile or stable functions or operators
  // FROM items that are not plain relations (joins, subqueries, functions, VALUES), as
  // words for messages ("a join", "a subquery in FROM", ...).
  std::vector<std::string> other_from_items;
  std::vector<ShapeRelation> relations;
  std::vector<ShapeGroupKey> group_keys;
  std::vector<ShapeAggregate> aggregates;
  std::vector<std::string> output_columns;
};

// A group key as the engine uses it: the source column the capture triggers log, and the
// output column of the view (and of its table) that holds it.
struct IncrementalKey {
  std::string source_column;      // the table's column, when the key is one ("" for an expression)
  std::string output_column;
  std::string source_expression;  // what the capture logs, over a row of the table
};

// The verdict: either a plan or the reason the definition does not qualify.
struct IncrementalPlan {
  bool qualifies = false;
  std::string refusal;  // why not, as a clause: "it has no GROUP BY"
  std::string source;   // the one table read
  std::vector<IncrementalKey> keys;
};

IncrementalPlan plan_incremental(const QueryShape& shape);

// The aggregates a group's recomputation gives exactly (deterministic, whatever the order
// of the group's rows): count, sum, avg, min, max, bool_and, bool_or, every, bit_and,
// bit_or. string_agg, array_agg and the like depend on the order of rows and come later.
bool is_order_independent_aggregate(const std::string& name);

// The name the key log gives the column that marks a TRUNCATE of the source (no output
// column of an incremental view may be called so).
inline constexpr const char* kTruncatedMarkerColumn = "viewmgr:truncated";

}  // namespace viewmgr

namespace viewmgr {

// Whether a refresh recomputes the whole view instead of the affected groups: always after
// the source was truncated; otherwise when the affected groups are a large share of those
// stored (past it, deleting and re-inserting group by group costs more than one scan).
// Small views (under kIncrementalMinGroupsForShare groups) always go group by group.
inline constexpr long long kIncrementalMinGroupsForShare = 50;
inline constexpr double kIncrementalFullShare = 0.2;
bool recompute_fully(long long affected_groups, long long stored_groups, bool truncated);

}  // namespace viewmgr
