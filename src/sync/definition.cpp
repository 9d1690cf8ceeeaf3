#include "sync/definition.hpp"

#include <algorithm>
#include <cctype>
#include <exception>

#include "core/error.hpp"
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

std::string trim(const std::string& text) {
  const char* ws = " \t\r\n\f";
  std::size_t b = text.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  std::size_t e = text.find_last_not_of(ws);
  return text.substr(b, e - b + 1);
}

// Moves a syntax error's position onto the definition text, so psql points into the
// definition rather than into the caller's statement.
[[noreturn]] void rethrow_against(PgError& error, const std::string& text) {
  ErrorData* data = error.data();
  if (data->cursorpos > 0) {
    const char* copy = text.c_str();
    data->internalpos = data->cursorpos;
    data->internalquery = pg_call([&] {
      MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
      char* q = pstrdup(copy);
      MemoryContextSwitchTo(old);
      return q;
    });
    data->cursorpos = 0;
  }
  throw error;
}

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
    rethrow_against(error, definition);
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
  parsed.query_text = trim(parsed.query_text);

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
    rethrow_against(error, query_text);
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

std::vector<std::string> normalize_view_options(const std::vector<std::string>& options) {
  std::vector<std::string> out;
  for (const auto& option : options) {
    std::string lowered;
    for (char c : option) {
      if (!std::isspace(static_cast<unsigned char>(c))) {
        lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
    std::size_t eq = lowered.find('=');
    std::string key = eq == std::string::npos ? lowered : lowered.substr(0, eq);
    std::string value = eq == std::string::npos ? "true" : lowered.substr(eq + 1);
    bool boolean_key = key == "security_barrier" || key == "security_invoker";
    bool ok = (boolean_key && (value == "true" || value == "false" || value == "on" ||
                               value == "off")) ||
              (key == "check_option" && (value == "local" || value == "cascaded"));
    if (!ok) {
      throw Error(sqlstate::kInvalidParameterValue, "invalid view option \"" + option + "\"", {},
                  "Supported: security_barrier=true|false, security_invoker=true|false, "
                  "check_option=local|cascaded.");
    }
    if (value == "on") value = "true";
    if (value == "off") value = "false";
    out.push_back(key + "=" + value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

struct StatementCheck {
  int count;
  NodeTag tag;
  int objtype;
  RangeVar* relation;
  char* index_name;
  bool concurrent;
};

StatementCheck check_statement(const char* sql) {
  StatementCheck check{};
  List* stmts = raw_parser(sql, RAW_PARSE_DEFAULT);
  check.count = list_length(stmts);
  if (check.count == 1) {
    Node* stmt = linitial_node(RawStmt, stmts)->stmt;
    check.tag = nodeTag(stmt);
    if (IsA(stmt, CreateTableAsStmt)) {
      check.objtype = reinterpret_cast<CreateTableAsStmt*>(stmt)->objtype;
    } else if (IsA(stmt, IndexStmt)) {
      auto* index = reinterpret_cast<IndexStmt*>(stmt);
      check.relation = index->relation;
      check.index_name = index->idxname;
      check.concurrent = index->concurrent;
    }
  }
  return check;
}

}  // namespace

std::string with_clause(const std::vector<std::string>& options) {
  if (options.empty()) return {};
  std::string out = " WITH (";
  for (std::size_t i = 0; i < options.size(); i++) {
    const std::string& option = options[i];
    std::size_t eq = option.find('=');
    if (i > 0) out += ", ";
    out += quote_ident(option.substr(0, eq));
    if (eq != std::string::npos) out += " = " + quote_literal(option.substr(eq + 1));
  }
  return out + ")";
}

std::string create_view_sql(const ViewDdl& ddl) {
  const QualifiedName& name = ddl.name;
  const bool materialized = ddl.materialized;
  std::string sql = ddl.or_replace ? "CREATE OR REPLACE " : "CREATE ";
  sql += materialized ? "MATERIALIZED VIEW " : "VIEW ";
  sql += name.display() + with_clause(ddl.options);
  if (materialized && ddl.tablespace.has_value()) sql += " TABLESPACE " + quote_ident(*ddl.tablespace);
  // The definition goes on lines of its own, so a trailing line comment cannot swallow
  // the clause after it.
  sql += " AS\n" + ddl.query_text + "\n";
  if (materialized) sql += ddl.with_data ? "WITH DATA" : "WITH NO DATA";

  const char* text = sql.c_str();
  StatementCheck check{};
  try {
    check = pg_call([&] { return check_statement(text); });
  } catch (PgError& error) {
    rethrow_against(error, sql);
  }
  bool shape_ok = check.count == 1 && (materialized ? (check.tag == T_CreateTableAsStmt &&
                                                       check.objtype == OBJECT_MATVIEW)
                                                    : check.tag == T_ViewStmt);
  if (!shape_ok) {
    throw Error(sqlstate::kSyntaxError, "definition of " + name.display() +
                                            " does not form a single CREATE VIEW statement");
  }
  return sql;
}

std::string normalize_index_spec(const std::string& spec) {
  const char* text = spec.c_str();
  const char* normalized = nullptr;
  try {
    normalized = pg_call([&] {
      // Token numbers are not constants since PostgreSQL 16 (see compat::scan_tokens).
      const compat::ScanTokens& tokens = compat::scan_tokens();
      core_yy_extra_type extra;
      core_yyscan_t scanner = scanner_init(text, &extra, &ScanKeywords, ScanKeywordTokens);
      StringInfoData out;
      initStringInfo(&out);
      core_YYSTYPE value;
      YYLTYPE location;
      for (;;) {
        int token = core_yylex(&value, &location, scanner);
        if (token == 0) break;
        if (out.len > 0) appendStringInfoChar(&out, ' ');
        if (token == tokens.ident) {
          appendStringInfoString(&out, quote_identifier(value.str));
        } else if (token == tokens.sconst) {
          appendStringInfoString(&out, quote_literal_cstr(value.str));
        } else if (token == tokens.iconst) {
          appendStringInfo(&out, "%d", value.ival);
        } else if (token == tokens.param) {
          appendStringInfo(&out, "$%d", value.ival);
        } else if (token == tokens.fconst || token == tokens.op) {
          appendStringInfoString(&out, value.str);
        } else if (token < 256) {
          appendStringInfoChar(&out, static_cast<char>(token));
        } else if (isalpha(static_cast<unsigned char>(text[location])) ||
                   text[location] == '_') {
          appendStringInfoString(&out, value.keyword);  // a keyword, already lower case
        } else {
          // Multi-character operators such as :: or <=: their text as written.
          int start = location;
          int end = start;
          while (text[end] != '\0' && !isspace(static_cast<unsigned char>(text[end])) &&
                 (end == start || !isalnum(static_cast<unsigned char>(text[end])))) {
            end++;
          }
          appendBinaryStringInfo(&out, text + start, end - start);
        }
      }
      scanner_finish(scanner);
      return static_cast<const char*>(out.data);
    });
  } catch (PgError&) {
    return spec;  // not scannable: create_index_sql reports the error
  }
  return std::string(normalized);
}

std::string create_index_sql(const QualifiedName& view, const std::string& spec) {
  std::string rest = trim(spec);
  bool unique = false;
  if (rest.size() > 6) {
    std::string head = rest.substr(0, 6);
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    unsigned char next = static_cast<unsigned char>(rest[6]);
    if (head == "UNIQUE" && (std::isspace(next) || next == '(')) {
      unique = true;
      rest = trim(rest.substr(6));
    }
  }
  if (rest.empty()) {
    throw Error(sqlstate::kInvalidParameterValue, "empty index specification");
  }
  std::string sql = std::string("CREATE ") + (unique ? "UNIQUE " : "") + "INDEX ON " +
                    view.display() + " " + rest + "\n";
  const char* text = sql.c_str();
  StatementCheck check{};
  try {
    check = pg_call([&] { return check_statement(text); });
  } catch (PgError& error) {
    throw Error(sqlstate::kInvalidParameterValue,
                "invalid index specification \"" + spec + "\": " + error.what(), {},
                "Examples: 'UNIQUE (id)', 'USING gin (tsv)', '(created_at) WHERE active'.");
  }
  bool ok = check.count == 1 && check.tag == T_IndexStmt && check.index_name == nullptr &&
            !check.concurrent && check.relation != nullptr &&
            view.name == check.relation->relname &&
            (check.relation->schemaname == nullptr ||
             view.schema == check.relation->schemaname);
  if (!ok) {
    throw Error(sqlstate::kInvalidParameterValue,
                "index specification \"" + spec + "\" does not form one CREATE INDEX on " +
                    view.display(),
                {}, "Examples: 'UNIQUE (id)', 'USING gin (tsv)', '(created_at) WHERE active'.");
  }
  return sql;
}

}  // namespace viewmgr::pg
