// Rewriting group keys over a row of the table an incremental view reads (see
// key_expressions.hpp). Only facts and rewritten expressions here; whether the definition
// qualifies is decided in src/core/incremental_query.cpp.
#include "incremental/key_expressions.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/pg_class.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/builtins.h"
}

namespace viewmgr::pg {

namespace {

// Views nest; past this depth something is odd (a view cannot read itself).
constexpr int kMaxViewDepth = 32;

struct Substitution {
  Index varno;
  List* outputs;  // NIL: renumber to 1 only
  bool failed;
};

Node* substitute_vars(Node* node, void* context) {
  if (node == nullptr) return nullptr;
  auto* sub = static_cast<Substitution*>(context);
  if (IsA(node, Var)) {
    auto* var = reinterpret_cast<Var*>(node);
    if (var->varlevelsup != 0 || static_cast<Index>(var->varno) != sub->varno || var->varattno <= 0) {
      sub->failed = true;  // another relation's column, a system column or the whole row
      return node;
    }
    if (sub->outputs == NIL) {
      auto* copy = static_cast<Var*>(copyObjectImpl(var));
      copy->varno = 1;
      copy->varnosyn = 1;
      return reinterpret_cast<Node*>(copy);
    }
    if (var->varattno > list_length(sub->outputs)) {
      sub->failed = true;
      return node;
    }
    void* output = list_nth(sub->outputs, var->varattno - 1);
    if (output == nullptr) {  // a view column that does not read the table's row
      sub->failed = true;
      return node;
    }
    return static_cast<Node*>(copyObjectImpl(output));
  }
  if (IsA(node, Query) || IsA(node, SubLink) || IsA(node, Aggref) || IsA(node, WindowFunc)) {
    sub->failed = true;
    return node;
  }
  return expression_tree_mutator(
      node, reinterpret_cast<Node* (*)()>(reinterpret_cast<void (*)()>(substitute_vars)), context);
}

const char* why_view_does_not_reduce(Query* query) {
  if (query->commandType != CMD_SELECT) return "is not a SELECT";
  if (query->cteList != NIL) return "has a WITH query";
  if (query->setOperations != nullptr) return "has UNION, INTERSECT or EXCEPT";
  if (query->hasAggs || query->groupClause != NIL || query->havingQual != nullptr || query->groupingSets != NIL) {
    return "groups its rows";
  }
  if (query->hasWindowFuncs) return "has window functions";
  if (query->limitCount != nullptr || query->limitOffset != nullptr) return "has LIMIT or OFFSET";
  if (query->distinctClause != NIL) return "has DISTINCT";
  if (query->hasSubLinks) return "has subqueries";
  if (query->hasTargetSRFs) return "has set-returning functions in its output";
  if (query->rowMarks != NIL) return "has FOR UPDATE / FOR SHARE";
  if (contain_mutable_functions(reinterpret_cast<Node*>(query))) return "calls a volatile or stable function";
  FromExpr* from = query->jointree;
  if (from == nullptr || list_length(from->fromlist) != 1 || !IsA(linitial(from->fromlist), RangeTblRef)) {
    return "does not read exactly one relation";
  }
  RangeTblEntry* rte = rt_fetch(static_cast<RangeTblRef*>(linitial(from->fromlist))->rtindex, query->rtable);
  if (rte->rtekind != RTE_RELATION) return "does not read exactly one relation";
  return nullptr;
}

Oid flatten(Oid relid, List** outputs, List** views, const char** refusal, int depth) {
  *outputs = NIL;
  if (get_rel_relkind(relid) != RELKIND_VIEW) return relid;
  if (depth > kMaxViewDepth) {
    *refusal = "nests views too deeply";
    return InvalidOid;
  }
  *views = lappend(*views, psprintf("%s.%s", quote_identifier(get_namespace_name(get_rel_namespace(relid))),
                                    quote_identifier(get_rel_name(relid))));
  Relation rel = table_open(relid, AccessShareLock);
  Query* query = static_cast<Query*>(copyObjectImpl(get_view_query(rel)));
  table_close(rel, AccessShareLock);
  if (const char* why = why_view_does_not_reduce(query)) {
    *refusal = why;
    return InvalidOid;
  }
  Index rti = static_cast<RangeTblRef*>(linitial(query->jointree->fromlist))->rtindex;
  RangeTblEntry* rte = rt_fetch(rti, query->rtable);
  List* inner = NIL;
  Oid table = flatten(rte->relid, &inner, views, refusal, depth + 1);
  if (!OidIsValid(table)) return InvalidOid;
  ListCell* lc;
  foreach (lc, query->targetList) {
    auto* tle = static_cast<TargetEntry*>(lfirst(lc));
    if (tle->resjunk) continue;
    // An output that reads something else than the row (a system column, the whole row)
    // stays NULL here: a key that uses it is refused.
    Node* over = over_table_row(reinterpret_cast<Node*>(tle->expr), rti, inner);
    *outputs = lappend(*outputs, over);
  }
  return table;
}

}  // namespace

Oid flatten_through_views(Oid relid, List** outputs, List** views, const char** refusal) {
  *views = NIL;
  *refusal = nullptr;
  return flatten(relid, outputs, views, refusal, 0);
}

Node* over_table_row(Node* expr, Index varno, List* outputs) {
  Substitution sub{varno, outputs, false};
  Node* result = substitute_vars(static_cast<Node*>(copyObjectImpl(expr)), &sub);
  return sub.failed ? nullptr : result;
}

}  // namespace viewmgr::pg
