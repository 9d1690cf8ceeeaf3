// The one way pg_viewmgr writes its own tables (viewmgr.managed_view, history,
// refresh_state, the change log), and reads those ordinary roles may not read: as the
// extension owner, who owns them. Ordinary roles hold no write privilege on them, so the
// registry changes only through pg_viewmgr's functions. Only pg_viewmgr's own statements
// run this way, never user SQL: definitions always run with their owner's rights.
#pragma once
#include "pg/postgres.hpp"

#include <string>
#include <vector>

#include "pg/spi.hpp"

namespace viewmgr::pg {

QueryResult own_tables_query(const std::string& sql, const std::vector<Param>& params = {});

// A statement on the extension's tables planned once and run many times.
class OwnTablesStatement {
 public:
  OwnTablesStatement(const std::string& sql, const std::vector<Oid>& types,
                     PreparedStatement::Lifetime lifetime = PreparedStatement::Lifetime::kCall);
  QueryResult execute(const std::vector<Value>& values, bool read_only = false);

 private:
  PreparedStatement statement_;
};

}  // namespace viewmgr::pg
