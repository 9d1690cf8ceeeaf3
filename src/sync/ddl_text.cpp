// The DDL text pg_viewmgr writes: CREATE [MATERIALIZED] VIEW and CREATE INDEX statements,
// each checked to parse as exactly that one statement, and view options and index specs in
// the form PostgreSQL reads them.
#include "sync/ddl_text.hpp"

#include <algorithm>
#include <cctype>

#include "core/error.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"

extern "C" {
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "utils/builtins.h"
}

namespace viewmgr::pg {

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
    rethrow_against_text(error, sql);
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
  std::string rest = trim_space(spec);
  bool unique = false;
  if (rest.size() > 6) {
    std::string head = rest.substr(0, 6);
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    unsigned char next = static_cast<unsigned char>(rest[6]);
    if (head == "UNIQUE" && (std::isspace(next) || next == '(')) {
      unique = true;
      rest = trim_space(rest.substr(6));
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

namespace {

// The raw parse tree of one CREATE INDEX as text, without token positions: two spellings of
// the same index ("(id)", " ( \"id\" ) ") give the same text.
std::string index_identity(const std::string& create_index) {
  const char* text = create_index.c_str();
  std::string tree = pg_call([&] {
    List* stmts = raw_parser(text, RAW_PARSE_DEFAULT);
    return nodeToString(linitial_node(RawStmt, stmts)->stmt);
  });
  std::string out;
  const std::string marker = ":location ";
  std::size_t at = 0;
  while (true) {
    std::size_t next = tree.find(marker, at);
    if (next == std::string::npos) break;
    out.append(tree, at, next - at);
    at = next + marker.size();
    while (at < tree.size() && (tree[at] == '-' || std::isdigit(static_cast<unsigned char>(tree[at])))) at++;
  }
  out.append(tree, at, std::string::npos);
  return out;
}

}  // namespace

void check_index_specs(const QualifiedName& view, const std::vector<std::string>& specs) {
  std::vector<std::string> identities;
  for (std::size_t i = 0; i < specs.size(); i++) {
    identities.push_back(index_identity(create_index_sql(view, specs[i])));
    for (std::size_t j = 0; j < i; j++) {
      if (identities[j] == identities[i]) {
        throw Error(sqlstate::kDuplicateObject,
                    "indexes lists the same index twice: \"" + specs[j] + "\" and \"" + specs[i] + "\"",
                    {}, "Declare each index of " + view.display() + " once.");
      }
    }
  }
}

}  // namespace viewmgr::pg
