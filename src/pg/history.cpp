#include "pg/history.hpp"

#include "pg/boundary.hpp"
#include "pg/scopes.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "utils/timestamp.h"
}

namespace viewmgr::pg {

void HistoryWriter::add(const std::string& view_name, const char* operation,
                        const std::string& started_at, const char* outcome,
                        const std::optional<std::string>& detail) {
  static std::unique_ptr<PreparedStatement> insert;
  ScopedRegistryWriter writer;
  if (!insert) {
    insert = std::make_unique<PreparedStatement>(
        "INSERT INTO viewmgr.history (view_name, operation, started_at, finished_at, outcome, "
        "detail) VALUES ($1, $2, $3, pg_catalog.clock_timestamp(), $4, $5)",
        std::vector<Oid>{TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID},
        PreparedStatement::Lifetime::kBackend);
  }
  insert->execute({view_name, std::string(operation), started_at, std::string(outcome), detail});
}

std::string clock_now() {
  // Formatted in this session's DateStyle, which reads it back the same way.
  return std::string(pg_call([] { return timestamptz_to_str(GetCurrentTimestamp()); }));
}

uint64 purge_history(const std::optional<std::string>& older_than) {
  std::string interval = older_than.value_or(std::to_string(setting_history_retention_s) + " seconds");
  ScopedRegistryWriter writer;
  return spi_query(
             "DELETE FROM viewmgr.history WHERE finished_at < pg_catalog.now() - $1::interval",
             {{interval}})
      .processed;
}

}  // namespace viewmgr::pg
