// View definitions: checking that a definition is exactly one query, finding the relations
// it reads (from the raw parse tree, so it works before they exist), analysing it into a
// canonical form, and the stored form of a live view. The DDL text is ddl_text.hpp.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

#include "core/rebuild_plan.hpp"
#include "pg/names.hpp"
#include "sync/ddl_text.hpp"

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
// The same, with the relation's own column names as output names: differs from it once a
// column of the view was renamed (ALTER VIEW ... RENAME COLUMN).
std::string live_canonical_definition_as_named(Oid relid);
std::vector<Column> live_columns(Oid relid);

// The raw xmin of a view's or materialized view's _RETURN rule row: it changes whenever the
// stored query does (CREATE OR REPLACE), so an unchanged value means an unchanged definition.
TransactionId rule_xmin(Oid relid);

}  // namespace viewmgr::pg
