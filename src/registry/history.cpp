#include "registry/history.hpp"

#include "core/sql_text.hpp"
#include "core/error.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "registry/own_tables.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/timestamp.h"
}

namespace viewmgr::pg {

void HistoryWriter::add(const std::string& view_name, const char* operation,
                        const std::string& started_at, const char* outcome,
                        const std::optional<std::string>& detail) {
  if (buffered_) {
    names_.emplace_back(view_name);
    operations_.emplace_back(operation);
    started_.emplace_back(started_at);
    finished_.emplace_back(clock_now());
    outcomes_.emplace_back(outcome);
    details_.push_back(detail);
    return;
  }
  static std::unique_ptr<OwnTablesStatement> insert;
  if (!insert) {
    insert = std::make_unique<OwnTablesStatement>(
        "INSERT INTO viewmgr.history (view_name, operation, started_at, finished_at, outcome, "
        "detail, owner) VALUES ($1, $2, $3, pg_catalog.clock_timestamp(), $4, $5, "
        "(SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)))",
        std::vector<Oid>{TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID},
        PreparedStatement::Lifetime::kBackend);
  }
  insert->execute({view_name, std::string(operation), started_at, std::string(outcome), detail});
}

void HistoryWriter::flush() {
  if (names_.empty()) return;
  own_tables_query(
      "INSERT INTO viewmgr.history (view_name, operation, started_at, finished_at, outcome, detail, "
      "  owner) "
      "SELECT r.*, (SELECT c.relowner FROM pg_catalog.pg_class c "
      "              WHERE c.oid = pg_catalog.to_regclass(r.view_name)) "
      "FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]), "
      "  pg_catalog.unnest($3::timestamptz[]), pg_catalog.unnest($4::timestamptz[]), "
      "  pg_catalog.unnest($5::text[]), pg_catalog.unnest($6::text[])) "
      "  AS r(view_name, operation, started_at, finished_at, outcome, detail)",
      {{to_array_literal(names_)}, {to_array_literal(operations_)}, {to_array_literal(started_)},
       {to_array_literal(finished_)}, {to_array_literal(outcomes_)}, {to_array_literal(details_)}});
  for (auto* column : {&names_, &operations_, &started_, &finished_, &outcomes_, &details_}) {
    column->clear();
  }
}

std::string clock_now() {
  // Formatted in this session's DateStyle, which reads it back the same way.
  return std::string(pg_call([] { return timestamptz_to_str(GetCurrentTimestamp()); }));
}

uint64 purge_history(const std::optional<std::string>& older_than) {
  std::string interval = older_than.value_or(std::to_string(setting_history_retention_s) + " seconds");
  return own_tables_query(
             "DELETE FROM viewmgr.history WHERE finished_at < pg_catalog.now() - $1::interval",
             {{interval}})
      .processed;
}

uint64 purge_visible_history(const std::optional<std::string>& older_than) {
  std::string interval = older_than.value_or(std::to_string(setting_history_retention_s) + " seconds");
  // A negative age ('-1 day', '1 day ago') reaches into the future and would delete every
  // row: almost always a sign error, never what "older than" means.
  QueryResult negative = spi_query("SELECT $1::interval < interval '0'", {{interval}});
  if (negative.rows.at(0).at(0) == std::optional<std::string>("t")) {
    throw Error(sqlstate::kInvalidParameterValue,
                "older_than must not be negative: \"" + interval + "\"", {},
                "Give the age of the oldest rows to keep, e.g. '30 days'; '0 seconds' removes "
                "every row you may see.");
  }
  Oid caller = GetUserId();
  bool is_superuser = pg_call([] { return superuser(); });
  // As viewmgr.history's row-level security shows them to the caller: the rows of views it
  // owns or is a member of the owner of; superusers all.
  return own_tables_query(
             "DELETE FROM viewmgr.history WHERE finished_at < pg_catalog.now() - $1::interval "
             "AND ($3 OR (owner IS NOT NULL AND pg_catalog.pg_has_role($2, owner, 'MEMBER')))",
             {{interval}, {std::to_string(caller), OIDOID}, {std::string(is_superuser ? "true" : "false"), BOOLOID}})
      .processed;
}

}  // namespace viewmgr::pg
