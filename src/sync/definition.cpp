#include "sync/definition.hpp"

#include <algorithm>
#include <cctype>
#include <exception>

#include "core/error.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"
#include "pg/scopes.hpp"

extern "C" {
#include "access/relation.h"
#include "nodes/nodeFuncs.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "rewrite/prs2lock.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
}

namespace viewmgr::pg {

namespace {

// --- raw parse tree walking (runs inside pg_call: plain C data only) ---

struct ReadsCollector {
  List* range_vars;  // RangeVar*
  List* cte_names;   // char*
};

bool collect_reads(Node* node, ReadsCollector* collector) {
  if (node == nullptr) return false;
  if (IsA(node, RangeVar)) {
    collector->range_vars = lappend(collector->range_vars, node);
  } else if (IsA(node, CommonTableExpr)) {
    collector->cte_names =
        lappend(collector->cte_names, reinterpret_cast<CommonTableExpr*>(node)->ctename);
  }
  return raw_expression_tree_walker(
      node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(collect_reads)), reinterpret_cast<void*>(collector));
}

// 0 = fine; otherwise a code saying why the statement is not a plain query.
enum ShapeProblem { kShapeOk = 0, kShapeNotSelect, kShapeSelectInto, kShapeModifyingCte };

ShapeProblem check_query_shape(Node* stmt) {
  if (!IsA(stmt, SelectStmt)) return kShapeNotSelect;
  auto* select = reinterpret_cast<SelectStmt*>(stmt);
  if (select->intoClause != nullptr) return kShapeSelectInto;
  // Data-modifying WITH can hide at any set-operation branch; check every WITH clause.
  List* pending = list_make1(select);
  while (pending != NIL) {
    auto* s = static_cast<SelectStmt*>(linitial(pending));
    pending = list_delete_first(pending);
    if (s->withClause != nullptr) {
      ListCell* lc;
      foreach (lc, s->withClause->ctes) {
        auto* cte = static_cast<CommonTableExpr*>(lfirst(lc));
        if (!IsA(cte->ctequery, SelectStmt)) return kShapeModifyingCte;
        pending = lappend(pending, cte->ctequery);
      }
    }
    if (s->larg != nullptr) pending = lappend(pending, s->larg);
    if (s->rarg != nullptr) pending = lappend(pending, s->rarg);
  }
  return kShapeOk;
}

const char* statement_kind(Node* stmt) {
  switch (nodeTag(stmt)) {
    case T_InsertStmt: return "INSERT";
    case T_UpdateStmt: return "UPDATE";
    case T_DeleteStmt: return "DELETE";
    case T_MergeStmt: return "MERGE";
    default: return CreateCommandName(stmt);
  }
}

struct RawParse {
  int statement_count;
  int shape;
  const char* kind;
  int location;
  int length;
  List* range_vars;
  List* cte_names;
};


}  // namespace

ParsedDefinition parse_definition(const std::string& definition) {
  const char* text = definition.c_str();
  RawParse raw{};
  try {
    raw = pg_call([&] {
      RawParse r{};
      List* stmts = raw_parser(text, RAW_PARSE_DEFAULT);
      r.statement_count = list_length(stmts);
      if (r.statement_count != 1) return r;
      RawStmt* stmt = linitial_node(RawStmt, stmts);
      r.shape = check_query_shape(stmt->stmt);
      r.kind = statement_kind(stmt->stmt);
      r.location = stmt->stmt_location;
      r.length = stmt->stmt_len;
      if (r.shape == kShapeOk) {
        ReadsCollector collector{NIL, NIL};
        collect_reads(stmt->stmt, &collector);
        r.range_vars = collector.range_vars;
        r.cte_names = collector.cte_names;
      }
      return r;
    });
  } catch (PgError& error) {
    rethrow_against_text(error, definition);
  }

  const std::string hint = "A definition is one SELECT, VALUES or WITH ... SELECT query.";
  if (raw.statement_count == 0) {
    throw Error(sqlstate::kSyntaxError, "definition contains no query", {}, hint);
  }
  if (raw.statement_count > 1) {
    throw Error(sqlstate::kSyntaxError, "definition must be a single query",
                "It contains " + std::to_string(raw.statement_count) + " statements.", hint);
  }
  switch (raw.shape) {
    case kShapeNotSelect:
      throw Error(sqlstate::kSyntaxError, "definition must be a query, not " + std::string(raw.kind),
                  {}, hint);
    case kShapeSelectInto:
      throw Error(sqlstate::kSyntaxError, "definition must not use SELECT ... INTO", {}, hint);
    case kShapeModifyingCte:
      throw Error(sqlstate::kFeatureNotSupported,
                  "definition must not contain data-modifying statements in WITH", {}, hint);
    default:
      break;
  }

  ParsedDefinition parsed;
  std::size_t start = static_cast<std::size_t>(std::max(raw.location, 0));
  parsed.query_text = raw.length > 0 ? definition.substr(start, raw.length) : definition.substr(start);
  parsed.query_text = trim_space(parsed.query_text);

  std::vector<std::string> cte_names;
  ListCell* lc;
  foreach (lc, raw.cte_names) cte_names.emplace_back(static_cast<const char*>(lfirst(lc)));
  foreach (lc, raw.range_vars) {
    auto* rv = static_cast<RangeVar*>(lfirst(lc));
    RelationRef ref{rv->schemaname != nullptr ? rv->schemaname : "", rv->relname};
    if (ref.schema.empty() &&
        std::find(cte_names.begin(), cte_names.end(), ref.name) != cte_names.end()) {
      continue;  // a WITH query, not a relation
    }
    bool seen = std::any_of(parsed.reads.begin(), parsed.reads.end(), [&](const RelationRef& r) {
      return r.schema == ref.schema && r.name == ref.name;
    });
    if (!seen) parsed.reads.push_back(std::move(ref));
  }
  return parsed;
}

namespace {

struct RawAnalysis {
  char* canonical;
  int ncols;
  char** names;
  Oid* types;
  int32* typmods;
  Oid* collations;
};

// Output columns of a query, as plain C arrays (inside pg_call).
void fill_columns(Query* query, RawAnalysis* out) {
  int n = 0;
  ListCell* lc;
  foreach (lc, query->targetList) {
    if (!static_cast<TargetEntry*>(lfirst(lc))->resjunk) n++;
  }
  out->ncols = n;
  out->names = static_cast<char**>(palloc0(sizeof(char*) * (n + 1)));
  out->types = static_cast<Oid*>(palloc0(sizeof(Oid) * (n + 1)));
  out->typmods = static_cast<int32*>(palloc0(sizeof(int32) * (n + 1)));
  out->collations = static_cast<Oid*>(palloc0(sizeof(Oid) * (n + 1)));
  int i = 0;
  foreach (lc, query->targetList) {
    auto* tle = static_cast<TargetEntry*>(lfirst(lc));
    if (tle->resjunk) continue;
    Node* expr = reinterpret_cast<Node*>(tle->expr);
    out->names[i] = tle->resname != nullptr ? tle->resname : pstrdup("?column?");
    out->types[i] = exprType(expr);
    out->typmods[i] = exprTypmod(expr);
    out->collations[i] = exprCollation(expr);
    i++;
  }
}

std::vector<Column> to_columns(const RawAnalysis& raw) {
  std::vector<Column> columns;
  for (int i = 0; i < raw.ncols; i++) {
    columns.push_back(Column{raw.names[i], raw.types[i], raw.typmods[i], raw.collations[i]});
  }
  return columns;
}

Query* analyze_in_path(const std::string& query_text, const std::vector<std::string>& path) {
  ScopedSearchPath scope(search_path_setting(path));
  const char* text = query_text.c_str();
  return pg_call([&] {
    List* stmts = raw_parser(text, RAW_PARSE_DEFAULT);
    return compat::analyze(linitial_node(RawStmt, stmts), text);
  });
}

}  // namespace

AnalyzedDefinition analyze_definition(const std::string& query_text,
                                      const std::vector<std::string>& search_path) {
  Query* query = nullptr;
  try {
    query = analyze_in_path(query_text, search_path);
  } catch (PgError& error) {
    rethrow_against_text(error, query_text);
  }
  // Deparsed under the pinned search_path of the calling function, not the view's.
  RawAnalysis raw = pg_call([&] {
    RawAnalysis r{};
    fill_columns(query, &r);
    r.canonical = pg_get_querydef(query, false);
    return r;
  });
  return AnalyzedDefinition{raw.canonical, to_columns(raw)};
}

std::optional<AnalyzedDefinition> try_analyze_definition(
    const std::string& query_text, const std::vector<std::string>& search_path) {
  std::optional<AnalyzedDefinition> analyzed;
  auto failure = in_subtransaction([&] { analyzed = analyze_definition(query_text, search_path); });
  if (failure.has_value()) return std::nullopt;
  return analyzed;
}

namespace {

// The query a view or materialized view stores in its _RETURN rule.
Query* stored_query(Relation rel) {
  RuleLock* rules = rel->rd_rules;
  if (rules != nullptr) {
    for (int i = 0; i < rules->numLocks; i++) {
      RewriteRule* rule = rules->rules[i];
      if (rule->event == CMD_SELECT && list_length(rule->actions) == 1) {
        auto* query = static_cast<Query*>(copyObjectImpl(linitial(rule->actions)));
        return compat::stored_query_as_analyzed(query);
      }
    }
  }
  elog(ERROR, "pg_viewmgr: relation \"%s\" has no stored query", RelationGetRelationName(rel));
  return nullptr;
}

}  // namespace

std::string live_canonical_definition(Oid relid) {
  return std::string(pg_call([&] {
    Relation rel = relation_open(relid, AccessShareLock);
    Query* query = stored_query(rel);
    relation_close(rel, AccessShareLock);
    return pg_get_querydef(query, false);
  }));
}

std::string live_canonical_definition_as_named(Oid relid) {
  return std::string(pg_call([&] {
    Relation rel = relation_open(relid, AccessShareLock);
    Query* query = stored_query(rel);
    // ALTER VIEW ... RENAME COLUMN renames the relation's columns, not the output names the
    // query stores: take the columns' names, as pg_get_viewdef does.
    TupleDesc desc = RelationGetDescr(rel);
    int attno = 0;
    ListCell* lc;
    foreach (lc, query->targetList) {
      auto* entry = static_cast<TargetEntry*>(lfirst(lc));
      if (entry->resjunk) continue;
      if (attno < desc->natts && !TupleDescAttr(desc, attno)->attisdropped) {
        entry->resname = pstrdup(NameStr(TupleDescAttr(desc, attno)->attname));
      }
      attno++;
    }
    relation_close(rel, AccessShareLock);
    return pg_get_querydef(query, false);
  }));
}

TransactionId rule_xmin(Oid relid) {
  return pg_call([&] {
    HeapTuple tuple = SearchSysCache2(RULERELNAME, ObjectIdGetDatum(relid),
                                      CStringGetDatum("_RETURN"));
    if (!HeapTupleIsValid(tuple)) return InvalidTransactionId;
    TransactionId xmin = HeapTupleHeaderGetRawXmin(tuple->t_data);
    ReleaseSysCache(tuple);
    return xmin;
  });
}

std::vector<Column> live_columns(Oid relid) {
  RawAnalysis raw = pg_call([&] {
    RawAnalysis r{};
    Relation rel = relation_open(relid, AccessShareLock);
    TupleDesc desc = RelationGetDescr(rel);
    r.names = static_cast<char**>(palloc0(sizeof(char*) * (desc->natts + 1)));
    r.types = static_cast<Oid*>(palloc0(sizeof(Oid) * (desc->natts + 1)));
    r.typmods = static_cast<int32*>(palloc0(sizeof(int32) * (desc->natts + 1)));
    r.collations = static_cast<Oid*>(palloc0(sizeof(Oid) * (desc->natts + 1)));
    for (int i = 0; i < desc->natts; i++) {
      Form_pg_attribute att = TupleDescAttr(desc, i);
      if (att->attisdropped) continue;
      r.names[r.ncols] = pstrdup(NameStr(att->attname));
      r.types[r.ncols] = att->atttypid;
      r.typmods[r.ncols] = att->atttypmod;
      r.collations[r.ncols] = att->attcollation;
      r.ncols++;
    }
    relation_close(rel, AccessShareLock);
    return r;
  });
  return to_columns(raw);
}

}  // namespace viewmgr::pg
