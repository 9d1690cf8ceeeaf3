#include "pg/spi.hpp"

#include <exception>

#include "core/error.hpp"
#include "pg/boundary.hpp"

extern "C" {
#include "access/htup_details.h"
#include "utils/lsyscache.h"
}

namespace viewmgr::pg {

std::string oid_array(const std::vector<Oid>& oids) {
  std::string out = "{";
  for (std::size_t i = 0; i < oids.size(); i++) {
    if (i > 0) out += ",";
    out += std::to_string(oids[i]);
  }
  return out + "}";
}

Oid to_oid(const Value& value) { return static_cast<Oid>(std::stoul(value.value())); }

SpiConnection::SpiConnection() {
  pg_call([] {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_viewmgr: SPI_connect failed");
  });
  open_ = true;
}

SpiConnection::~SpiConnection() {
  if (open_ && std::uncaught_exceptions() == 0) {
    // Only reached when finish() was skipped by an early return; SPI_finish cannot fail
    // for a connection we opened.
    SPI_finish();
  }
}

void SpiConnection::finish() {
  if (!open_) return;
  open_ = false;
  pg_call([] { SPI_finish(); });
}

namespace {

// Result rows as palloc'd C strings, built inside pg_call (output functions can ERROR).
struct RawResult {
  uint64 nrows;
  int ncols;
  char** cells;  // row-major, NULL for SQL NULL
};

RawResult collect(int rc, const char* sql) {
  if (rc < 0) elog(ERROR, "pg_viewmgr: SPI failed (%s) for: %s", SPI_result_code_string(rc), sql);
  RawResult raw{SPI_processed, 0, nullptr};
  if (SPI_tuptable == nullptr) {
    return raw;
  }
  TupleDesc desc = SPI_tuptable->tupdesc;
  raw.ncols = desc->natts;
  raw.cells = static_cast<char**>(palloc0(sizeof(char*) * (raw.nrows * raw.ncols + 1)));
  // Output functions looked up once per column and each row deformed once: SPI_getvalue
  // would do both per cell, and reading the whole registry is a thousands-of-rows result.
  FmgrInfo* out = static_cast<FmgrInfo*>(palloc0(sizeof(FmgrInfo) * (raw.ncols + 1)));
  for (int c = 0; c < raw.ncols; c++) {
    Oid output_fn;
    bool varlena;
    getTypeOutputInfo(TupleDescAttr(desc, c)->atttypid, &output_fn, &varlena);
    fmgr_info(output_fn, &out[c]);
  }
  Datum* values = static_cast<Datum*>(palloc0(sizeof(Datum) * (raw.ncols + 1)));
  bool* nulls = static_cast<bool*>(palloc0(sizeof(bool) * (raw.ncols + 1)));
  for (uint64 r = 0; r < raw.nrows; r++) {
    heap_deform_tuple(SPI_tuptable->vals[r], desc, values, nulls);
    for (int c = 0; c < raw.ncols; c++) {
      raw.cells[r * raw.ncols + c] = nulls[c] ? nullptr : OutputFunctionCall(&out[c], values[c]);
    }
  }
  return raw;
}

QueryResult to_result(const RawResult& raw) {
  QueryResult result;
  result.processed = raw.nrows;
  if (raw.cells == nullptr) return result;
  result.rows.reserve(raw.nrows);
  for (uint64 r = 0; r < raw.nrows; r++) {
    Row row;
    row.reserve(raw.ncols);
    for (int c = 0; c < raw.ncols; c++) {
      const char* cell = raw.cells[r * raw.ncols + c];
      row.push_back(cell == nullptr ? Value{} : Value{std::string(cell)});
    }
    result.rows.push_back(std::move(row));
  }
  return result;
}

struct ParamArrays {
  Oid* types;
  Datum* values;
  char* nulls;
};

// Builds SPI parameter arrays from text values: each is converted with its type's input
// function, so callers pass every type as text.
ParamArrays make_params(int n, const Oid* types_in, const Value* values_in) {
  ParamArrays p{nullptr, nullptr, nullptr};
  // One extra slot each: palloc(0) is fine but keeps the pointers non-NULL.
  std::size_t count = static_cast<std::size_t>(n) + 1;
  p.types = static_cast<Oid*>(palloc0(sizeof(Oid) * count));
  p.values = static_cast<Datum*>(palloc0(sizeof(Datum) * count));
  p.nulls = static_cast<char*>(palloc0(count));
  for (int i = 0; i < n; i++) {
    p.types[i] = types_in[i];
    p.nulls[i] = values_in[i].has_value() ? ' ' : 'n';
  }
  return p;
}

}  // namespace

QueryResult spi_query(const std::string& sql, const std::vector<Param>& params, bool read_only) {
  const int n = static_cast<int>(params.size());
  std::vector<Oid> types;
  std::vector<Value> values;
  for (const auto& param : params) {
    types.push_back(param.type);
    values.push_back(param.value);
  }
  const char* sql_c = sql.c_str();
  RawResult raw = pg_call([&] {
    ParamArrays p = make_params(n, types.data(), values.data());
    for (int i = 0; i < n; i++) {
      if (!values[i].has_value()) continue;
      Oid input_fn;
      Oid io_param;
      getTypeInputInfo(p.types[i], &input_fn, &io_param);
      p.values[i] = OidInputFunctionCall(input_fn, const_cast<char*>(values[i]->c_str()),
                                         io_param, -1);
    }
    int rc = SPI_execute_with_args(sql_c, n, p.types, p.values, p.nulls, read_only, 0);
    return collect(rc, sql_c);
  });
  return to_result(raw);
}

uint64 spi_execute(const std::string& sql) {
  const char* sql_c = sql.c_str();
  return pg_call([&] {
    int rc = SPI_execute(sql_c, false, 0);
    if (rc < 0) elog(ERROR, "pg_viewmgr: SPI failed (%s) for: %s", SPI_result_code_string(rc), sql_c);
    return SPI_processed;
  });
}

PreparedStatement::PreparedStatement(const std::string& sql, const std::vector<Oid>& types,
                                     Lifetime lifetime)
    : nargs_(static_cast<int>(types.size())) {
  const char* sql_c = sql.c_str();
  const Oid* types_c = types.data();
  int nargs = nargs_;
  bool keep = lifetime == Lifetime::kBackend;
  plan_ = pg_call([&] {
    SPIPlanPtr plan = SPI_prepare(sql_c, nargs, const_cast<Oid*>(types_c));
    if (plan == nullptr) {
      elog(ERROR, "pg_viewmgr: SPI_prepare failed (%s) for: %s",
           SPI_result_code_string(SPI_result), sql_c);
    }
    if (keep) SPI_keepplan(plan);
    return plan;
  });
}

QueryResult PreparedStatement::execute(const std::vector<Value>& values, bool read_only) {
  if (static_cast<int>(values.size()) != nargs_) {
    throw Error(sqlstate::kInternalError, "pg_viewmgr: prepared statement arity mismatch");
  }
  SPIPlanPtr plan = plan_;
  int n = nargs_;
  const Value* vals = values.data();
  RawResult raw = pg_call([&] {
    Datum* datums = static_cast<Datum*>(palloc0(sizeof(Datum) * (n + 1)));
    char* nulls = static_cast<char*>(palloc0(n + 1));
    for (int i = 0; i < n; i++) {
      nulls[i] = vals[i].has_value() ? ' ' : 'n';
      if (!vals[i].has_value()) continue;
      Oid type = SPI_getargtypeid(plan, i);
      Oid input_fn;
      Oid io_param;
      getTypeInputInfo(type, &input_fn, &io_param);
      datums[i] = OidInputFunctionCall(input_fn, const_cast<char*>(vals[i]->c_str()), io_param, -1);
    }
    int rc = SPI_execute_plan(plan, datums, nulls, read_only, 0);
    return collect(rc, "prepared statement");
  });
  return to_result(raw);
}

}  // namespace viewmgr::pg
