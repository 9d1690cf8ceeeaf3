// SPI from C++: a connection scoped to one SQL-function call, and queries whose results are
// copied out into C++ values (inside pg_call, so errors unwind as PgError).
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
}

namespace viewmgr::pg {

using Value = std::optional<std::string>;  // SQL NULL is nullopt
using Row = std::vector<Value>;

struct QueryResult {
  std::vector<Row> rows;
  uint64 processed = 0;
};

// A parameter: its text form and the SQL type it is cast from, e.g. {"{a,b}", TEXTARRAYOID}.
struct Param {
  Value value;
  Oid type = TEXTOID;
};

// An oid[] literal for a parameter, and an oid read back from a result.
std::string oid_array(const std::vector<Oid>& oids);
Oid to_oid(const Value& value);

class SpiConnection {
 public:
  SpiConnection();
  ~SpiConnection();
  SpiConnection(const SpiConnection&) = delete;
  SpiConnection& operator=(const SpiConnection&) = delete;

  // Ends the connection on the success path. The destructor only calls SPI_finish when no
  // exception is propagating: after an ERROR, transaction abort cleans SPI up.
  void finish();

 private:
  bool open_ = false;
};

// Runs a statement with text parameters ($1, $2, ... in `sql`, each of its Param's type).
QueryResult spi_query(const std::string& sql, const std::vector<Param>& params = {},
                      bool read_only = false);

// Runs one statement for its effect (DDL); returns rows processed.
uint64 spi_execute(const std::string& sql);

// A statement planned once and executed many times (registry writes in a loop).
class PreparedStatement {
 public:
  // kCall: freed with the SPI connection. kBackend: kept for the backend's lifetime (for
  // statements run once per view in every call; PostgreSQL replans it when what it reads
  // changes).
  enum class Lifetime { kCall, kBackend };
  PreparedStatement(const std::string& sql, const std::vector<Oid>& types,
                    Lifetime lifetime = Lifetime::kCall);
  QueryResult execute(const std::vector<Value>& values, bool read_only = false);

 private:
  SPIPlanPtr plan_ = nullptr;
  int nargs_ = 0;
};

}  // namespace viewmgr::pg
