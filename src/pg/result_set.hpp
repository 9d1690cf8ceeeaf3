// Rows returned by set-returning functions (materialize mode), built from C++ values.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

extern "C" {
#include "access/tupdesc.h"
#include "utils/tuplestore.h"
}

namespace viewmgr::pg {

// A column value for a result row: text converted with the column type's input function,
// or NULL.
using Cell = std::optional<std::string>;

class ResultSet {
 public:
  // Must be created before SPI_connect (it allocates in the per-query context).
  explicit ResultSet(FunctionCallInfo fcinfo);
  void add(const std::vector<Cell>& cells);

 private:
  Tuplestorestate* store_;
  TupleDesc desc_;
  std::vector<Oid> input_functions_;
  std::vector<Oid> io_params_;
};

// Arguments, read inside the boundary.
bool arg_is_null(FunctionCallInfo fcinfo, int n);
std::string text_arg(FunctionCallInfo fcinfo, int n, const char* name);  // errors on NULL
bool bool_arg(FunctionCallInfo fcinfo, int n, const char* name);          // errors on NULL
std::vector<std::string> text_array_arg(FunctionCallInfo fcinfo, int n, const char* name);

Datum text_datum(const std::string& text);

}  // namespace viewmgr::pg
