// View definitions: checking that a definition is exactly one query, finding the relations
// it reads (from the raw parse tree, so it works before they exist), analysing it into a
// canonical form, and writing the DDL that builds it.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

#include "core/rebuild_plan.hpp"
#include "pg/names.hpp"

namespace viewmgr::pg {

// A relation named in a definition; schema empty when unqualified.
struct RelationRef {
  std::string schema;
  std::string name;
};

struct ParsedDefinition {
  std::string query_text;  // exactly the one statement, no trailing semicolon
  std::vector<RelationRef> reads;
};

// Raw-parses a definition. Syntax errors keep their position (shown against the
// definition); anything but one SELECT / VALUES / WITH ... SELECT is refused (42601).
ParsedDefinition parse_definition(const std::string& definition);

// Analysed with the view's search path. `canonical` is pg_get_querydef of the analysed query
// under pg_viewmgr's pinned search_path: every name qualified, whitespace, case and comments
// gone.
struct AnalyzedDefinition {
  std::string canonical;
  std::vector<Column> columns;
};
AnalyzedDefinition analyze_definition(const std::string& query_text,
                                      const std::vector<std::string>& search_path);

// Same, but an analysis error (e.g. a relation that does not exist yet) gives nullopt. Runs
// in a subtransaction so the failed analysis leaves nothing behind.
std::optional<AnalyzedDefinition> try_analyze_definition(
    const std::string& query_text, const std::vector<std::string>& search_path);

// The canonical form of what a live view or materialized view is built from (its stored
// query, deparsed exactly as analyze_definition deparses).
std::string live_canonical_definition(Oid relid);
std::vector<Column> live_columns(Oid relid);

// The raw xmin of a view's or materialized view's _RETURN rule row: it changes whenever the
// stored query does (CREATE OR REPLACE), so an unchanged value means an unchanged definition.
TransactionId rule_xmin(Oid relid);

// Checked view options ("security_barrier=true", "check_option=local", ...), normalised.
std::vector<std::string> normalize_view_options(const std::vector<std::string>& options);

// " WITH (name = 'value', ...)" for reloptions given as "name=value"; empty for none.
std::string with_clause(const std::vector<std::string>& options);

// CREATE [OR REPLACE] [MATERIALIZED] VIEW statement, checked to parse as exactly that one
// statement.
struct ViewDdl {
  QualifiedName name;
  bool materialized = false;
  std::string query_text;
  std::vector<std::string> options;  // reloptions, "name=value"
  std::optional<std::string> tablespace;  // materialized views only
  bool with_data = true;
  bool or_replace = false;
};
std::string create_view_sql(const ViewDdl& ddl);

// The spec as PostgreSQL's scanner reads it: keywords and unquoted identifiers in lower case,
// one space between tokens, comments gone. "UNIQUE (a)" and "unique(a)" normalise alike.
std::string normalize_index_spec(const std::string& spec);

// CREATE [UNIQUE] INDEX ON <view> <spec>, checked to be exactly one CREATE INDEX on that
// view (22023 otherwise).
std::string create_index_sql(const QualifiedName& view, const std::string& spec);

}  // namespace viewmgr::pg
