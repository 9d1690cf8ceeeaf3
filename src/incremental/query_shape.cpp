// Reading a QueryShape off an analysed definition. Only facts are gathered here; what they
// mean for incremental maintenance is decided in src/core/incremental_query.cpp.
#include "incremental/query_shape.hpp"

#include "core/error.hpp"
#include "incremental/key_expressions.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"
#include "pg/names.hpp"
#include "pg/scopes.hpp"
#include "registry/registry.hpp"
#include "pg/spi.hpp"

#include <algorithm>

extern "C" {
#include "access/transam.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"
}

namespace viewmgr::pg {

namespace {

// Aggref nodes of an expression tree, appended to a List (no C++ objects in the walk).
bool collect_aggregates(Node* node, void* context) {
  if (node == nullptr) return false;
  if (IsA(node, Aggref)) {
    auto** found = static_cast<List**>(context);
    *found = lappend(*found, node);
    return false;  // an aggregate's arguments hold no aggregates of this level
  }
  return expression_tree_walker(
      node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(collect_aggregates)), context);
}

const char* from_item_words(RTEKind kind) {
  switch (kind) {
    case RTE_SUBQUERY: return "a subquery in FROM";
    case RTE_JOIN: return "a join";
    case RTE_FUNCTION: return "a function in FROM";
    case RTE_TABLEFUNC: return "a table function in FROM";
    case RTE_VALUES: return "a VALUES list";
    case RTE_CTE: return "a WITH query";
    case RTE_NAMEDTUPLESTORE: return "a transition table";
    default: return "something other than a table";
  }
}

struct RawRelation {
  char* schema;
  char* name;
  char relkind;
  bool has_children;
  List* through_views;       // char*, outermost first
  const char* view_refusal;  // a view that does not reduce to one table: why
};

struct RawKey {
  char* expression;
  bool is_column;
  char* column;
  bool builtin_type;
  char* type_name;
  char* output;  // nullptr: not an output column
  Node* over_row;  // the key over a row of the table read (nullptr: it cannot be)
  char* source_expression;  // over_row written back with every name qualified
};

struct RawAggregate {
  char* name;
  bool builtin;
  bool ordered_set;
  bool has_order_by;
};

struct RawShape {
  bool is_select, has_ctes, has_set_operations, has_window_functions, has_limit, has_having,
      has_distinct, has_sublinks, has_grouping_sets, has_srfs, has_row_locks, has_mutable;
  int n_other;
  const char** other;
  int n_relations;
  RawRelation* relations;
  int n_keys;
  RawKey* keys;
  int n_aggregates;
  RawAggregate* aggregates;
  int n_outputs;
  char** outputs;
  Oid table;  // the one table read (directly or through views), else InvalidOid
};

// Inside pg_call: palloc'd facts only.
void read_shape(Query* query, RawShape* out) {
  *out = RawShape{};
  out->is_select = query->commandType == CMD_SELECT && query->utilityStmt == nullptr;
  out->has_ctes = query->cteList != NIL;
  out->has_set_operations = query->setOperations != nullptr;
  out->has_window_functions = query->hasWindowFuncs;
  out->has_limit = query->limitCount != nullptr || query->limitOffset != nullptr;
  out->has_having = query->havingQual != nullptr;
  out->has_distinct = query->distinctClause != NIL;
  out->has_sublinks = query->hasSubLinks;
  out->has_grouping_sets = query->groupingSets != NIL;
  out->has_srfs = query->hasTargetSRFs;
  out->has_row_locks = query->rowMarks != NIL;
  out->has_mutable = contain_mutable_functions(reinterpret_cast<Node*>(query));

  int n_rtes = list_length(query->rtable);
  out->other = static_cast<const char**>(palloc0(sizeof(char*) * (n_rtes + 1)));
  out->relations = static_cast<RawRelation*>(palloc0(sizeof(RawRelation) * (n_rtes + 1)));
  Oid single_relid = InvalidOid;
  Index single_rti = 0;
  List* single_outputs = NIL;
  ListCell* lc;
  Index rti = 0;
  foreach (lc, query->rtable) {
    rti++;
    auto* rte = static_cast<RangeTblEntry*>(lfirst(lc));
    if (rte->rtekind == RTE_RELATION) {
      RawRelation& r = out->relations[out->n_relations++];
      Oid read = rte->relid;
      List* view_outputs = NIL;
      if (rte->relkind == RELKIND_VIEW) {
        // A plain view in between: the table it reads is the source, its rows reduced to
        // that table's through the view's expressions.
        Oid table = flatten_through_views(rte->relid, &view_outputs, &r.through_views, &r.view_refusal);
        if (OidIsValid(table)) read = table;
      }
      r.schema = get_namespace_name(get_rel_namespace(read));
      r.name = get_rel_name(read);
      r.relkind = get_rel_relkind(read);
      r.has_children = (read != rte->relid || rte->inh) && has_subclass(read);
      single_relid = rte->relid;
      single_rti = rti;
      single_outputs = view_outputs;
      out->table = r.relkind == RELKIND_RELATION ? read : InvalidOid;
    } else if (!compat::is_grouping_step(rte)) {
      out->other[out->n_other++] = from_item_words(rte->rtekind);
    }
  }
  bool one_relation = out->n_relations == 1 && out->n_other == 0;
  List* context = one_relation ? deparse_context_for(get_rel_name(single_relid), single_relid) : NIL;

  int n_tles = list_length(query->targetList);
  out->outputs = static_cast<char**>(palloc0(sizeof(char*) * (n_tles + 1)));
  foreach (lc, query->targetList) {
    auto* tle = static_cast<TargetEntry*>(lfirst(lc));
    if (!tle->resjunk) out->outputs[out->n_outputs++] = tle->resname != nullptr ? tle->resname : pstrdup("?column?");
  }

  out->keys = static_cast<RawKey*>(palloc0(sizeof(RawKey) * (list_length(query->groupClause) + 1)));
  foreach (lc, query->groupClause) {
    auto* clause = static_cast<SortGroupClause*>(lfirst(lc));
    TargetEntry* tle = get_sortgroupclause_tle(clause, query->targetList);
    Node* expr = compat::without_grouping_step(query, reinterpret_cast<Node*>(tle->expr));
    RawKey& key = out->keys[out->n_keys++];
    key.expression = one_relation ? deparse_expression(expr, context, false, false) : pstrdup("a group key");
    Oid type = exprType(expr);
    key.builtin_type = type < FirstNormalObjectId;
    key.type_name = format_type_be(type);
    if (one_relation && OidIsValid(out->table)) {
      key.over_row = over_table_row(expr, single_rti, single_outputs);
      if (key.over_row != nullptr && IsA(key.over_row, Var)) {
        key.is_column = true;
        key.column = get_attname(out->table, reinterpret_cast<Var*>(key.over_row)->varattno, false);
      }
    }
    // The output column that returns it: this entry, or another returning the same column.
    ListCell* lc2;
    foreach (lc2, query->targetList) {
      auto* out_tle = static_cast<TargetEntry*>(lfirst(lc2));
      if (out_tle->resjunk || out_tle->resname == nullptr) continue;
      if (out_tle == tle || equal(out_tle->expr, tle->expr)) {
        key.output = out_tle->resname;
        break;
      }
    }
  }

  List* aggregates = NIL;
  foreach (lc, query->targetList) {
    collect_aggregates(reinterpret_cast<Node*>(static_cast<TargetEntry*>(lfirst(lc))->expr), &aggregates);
  }
  out->aggregates = static_cast<RawAggregate*>(palloc0(sizeof(RawAggregate) * (list_length(aggregates) + 1)));
  foreach (lc, aggregates) {
    auto* agg = static_cast<Aggref*>(lfirst(lc));
    RawAggregate& a = out->aggregates[out->n_aggregates++];
    a.name = get_func_name(agg->aggfnoid);
    a.builtin = agg->aggfnoid < FirstNormalObjectId;
    a.ordered_set = agg->aggkind != AGGKIND_NORMAL;
    a.has_order_by = agg->aggorder != NIL;
  }
}

QueryShape to_shape(const RawShape& raw) {
  QueryShape shape;
  shape.is_select = raw.is_select;
  shape.has_ctes = raw.has_ctes;
  shape.has_set_operations = raw.has_set_operations;
  shape.has_window_functions = raw.has_window_functions;
  shape.has_limit = raw.has_limit;
  shape.has_having = raw.has_having;
  shape.has_distinct = raw.has_distinct;
  shape.has_sublinks = raw.has_sublinks;
  shape.has_grouping_sets = raw.has_grouping_sets;
  shape.has_set_returning_functions = raw.has_srfs;
  shape.has_row_locks = raw.has_row_locks;
  shape.has_mutable_functions = raw.has_mutable;
  for (int i = 0; i < raw.n_other; i++) shape.other_from_items.emplace_back(raw.other[i]);
  for (int i = 0; i < raw.n_relations; i++) {
    const RawRelation& r = raw.relations[i];
    ShapeRelation relation{QualifiedName{r.schema, r.name}.display(), r.relkind, r.has_children, {}, {}};
    ListCell* lc;
    foreach (lc, r.through_views) relation.through_views.emplace_back(static_cast<char*>(lfirst(lc)));
    if (r.view_refusal != nullptr) relation.view_refusal = r.view_refusal;
    shape.relations.push_back(std::move(relation));
  }
  for (int i = 0; i < raw.n_keys; i++) {
    const RawKey& k = raw.keys[i];
    ShapeGroupKey key;
    key.expression = k.expression;
    key.is_column = k.is_column;
    if (k.column != nullptr) key.column = k.column;
    if (k.source_expression != nullptr) key.source_expression = k.source_expression;
    key.builtin_type = k.builtin_type;
    key.type_name = k.type_name;
    if (k.output != nullptr) key.output = std::string(k.output);
    shape.group_keys.push_back(std::move(key));
  }
  for (int i = 0; i < raw.n_aggregates; i++) {
    const RawAggregate& a = raw.aggregates[i];
    shape.aggregates.push_back({a.name, a.builtin, a.ordered_set, a.has_order_by});
  }
  for (int i = 0; i < raw.n_outputs; i++) shape.output_columns.emplace_back(raw.outputs[i]);
  return shape;
}

}  // namespace

IncrementalPlan plan_incremental_definition(const std::string& definition,
                                            const std::vector<std::string>& search_path) {
  ScopedSearchPath scope(search_path_setting(search_path));
  const char* text = definition.c_str();
  RawShape raw = pg_call([&] {
    List* stmts = raw_parser(text, RAW_PARSE_DEFAULT);
    Query* query = compat::analyze(linitial_node(RawStmt, stmts), text);
    RawShape r;
    read_shape(query, &r);
    return r;
  });
  // The keys written back for the capture function, whose search_path is pg_catalog only:
  // every other name qualified.
  if (OidIsValid(raw.table)) {
    ScopedSearchPath pinned("pg_catalog");
    pg_call([&] {
      List* context = deparse_context_for(get_rel_name(raw.table), raw.table);
      for (int i = 0; i < raw.n_keys; i++) {
        RawKey& key = raw.keys[i];
        if (key.over_row != nullptr) key.source_expression = deparse_expression(key.over_row, context, false, false);
      }
    });
  }
  return plan_incremental(to_shape(raw));
}

IncrementalPlan require_incremental_plan(const std::string& display_name, const std::string& definition,
                                         const std::vector<std::string>& search_path) {
  IncrementalPlan plan = plan_incremental_definition(definition, search_path);
  if (!plan.qualifies) {
    throw Error(sqlstate::kFeatureNotSupported,
                "cannot maintain " + display_name + " incrementally: " + plan.refusal,
                {},
                "Incremental materialized views support a GROUP BY over one table (read directly "
                "or through plain views of its rows) whose group keys are output columns: columns "
                "of that table or immutable expressions of them, with count, sum, avg, min, max, bool_and, "
                "bool_or, every, bit_and or bit_or; register it with incremental => false for a "
                "full refresh.");
  }
  return plan;
}

void check_incremental_declaration(const ManagedView& view, bool sources_must_exist) {
  if (sources_must_exist) {
    (void)require_incremental_plan(view.display_name, view.definition, view.search_path);
    return;
  }
  std::optional<IncrementalPlan> plan;
  auto failure = in_subtransaction([&] { plan = plan_incremental_definition(view.definition, view.search_path); });
  if (failure.has_value()) return;  // judged at its build
  (void)require_incremental_plan(view.display_name, view.definition, view.search_path);
}

std::string logged_value(const IncrementalKey& key) {
  return key.source_column.empty() ? key.source_expression : key.source_column;
}

std::string capture_out_of_date(Oid definition_view, const std::vector<std::pair<std::string, std::string>>& logged,
                                Oid source) {
  char* schema = nullptr;
  char* relname = nullptr;
  pg_call([&] {
    relname = get_rel_name(source);
    if (relname != nullptr) schema = get_namespace_name(get_rel_namespace(source));
  });
  if (relname == nullptr || schema == nullptr) return "the table its capture triggers are on is gone";
  std::string source_name = QualifiedName{schema, relname}.display();
  std::string text;
  {
    // Written back with every name qualified, so it reads the same under any search_path.
    ScopedSearchPath pinned("pg_catalog");
    QueryResult def = spi_query("SELECT pg_catalog.pg_get_viewdef($1)", {{std::to_string(definition_view), OIDOID}});
    if (def.rows.empty() || !def.rows[0][0].has_value()) return "its definition view is missing";
    text = *def.rows[0][0];
  }
  std::optional<IncrementalPlan> plan;
  auto failure = in_subtransaction([&] { plan = plan_incremental_definition(text, {"pg_catalog"}); });
  if (failure.has_value() || !plan->qualifies) return "its definition no longer qualifies as it reads its sources now";
  if (plan->source != source_name) return "a view it reads now reads " + plan->source;
  std::vector<std::pair<std::string, std::string>> now;
  for (const auto& key : plan->keys) now.emplace_back(key.output_column, logged_value(key));
  auto sorted = [](std::vector<std::pair<std::string, std::string>> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  if (sorted(now) != sorted(logged)) return "a view it reads was replaced and its group keys read other columns now";
  return "";
}

}  // namespace viewmgr::pg
