// The DDL text pg_viewmgr writes and the spellings it compares: view options, CREATE
// [MATERIALIZED] VIEW, index specifications and CREATE INDEX.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

#include "pg/names.hpp"

namespace viewmgr::pg {

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

// Checks every specification (as create_index_sql does) and that no two describe the same
// index, however they are spelt: PostgreSQL would build both.
void check_index_specs(const QualifiedName& view, const std::vector<std::string>& specs);

}  // namespace viewmgr::pg
