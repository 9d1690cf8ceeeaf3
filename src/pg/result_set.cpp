#include "pg/result_set.hpp"

#include "core/error.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace viewmgr::pg {

ResultSet::ResultSet(FunctionCallInfo fcinfo) {
  pg_call([&] { compat::init_materialized_srf(fcinfo); });
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  store_ = rsinfo->setResult;
  desc_ = rsinfo->setDesc;
  for (int i = 0; i < desc_->natts; i++) {
    Oid type = TupleDescAttr(desc_, i)->atttypid;
    Oid input = InvalidOid;
    Oid io_param = InvalidOid;
    pg_call([&] { getTypeInputInfo(type, &input, &io_param); });
    input_functions_.push_back(input);
    io_params_.push_back(io_param);
  }
}

void ResultSet::add(const std::vector<Cell>& cells) {
  if (static_cast<int>(cells.size()) != desc_->natts) {
    throw Error(sqlstate::kInternalError, "result row has the wrong number of columns");
  }
  const Cell* c = cells.data();
  int natts = desc_->natts;
  pg_call([&] {
    Datum* values = static_cast<Datum*>(palloc0(sizeof(Datum) * natts));
    bool* nulls = static_cast<bool*>(palloc0(sizeof(bool) * natts));
    for (int i = 0; i < natts; i++) {
      nulls[i] = !c[i].has_value();
      if (!nulls[i]) {
        values[i] = OidInputFunctionCall(input_functions_[i], const_cast<char*>(c[i]->c_str()),
                                         io_params_[i], TupleDescAttr(desc_, i)->atttypmod);
      }
    }
    tuplestore_putvalues(store_, desc_, values, nulls);
  });
}

bool arg_is_null(FunctionCallInfo fcinfo, int n) { return PG_ARGISNULL(n); }

namespace {
[[noreturn]] void null_argument(const char* name) {
  throw Error(sqlstate::kNullValueNotAllowed, std::string(name) + " must not be NULL");
}
}  // namespace

std::string text_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  if (PG_ARGISNULL(n)) null_argument(name);
  return std::string(pg_call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(n)); }));
}

bool bool_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  if (PG_ARGISNULL(n)) null_argument(name);
  return PG_GETARG_BOOL(n);
}

std::vector<std::string> text_array_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  if (PG_ARGISNULL(n)) null_argument(name);
  struct Elements {
    Datum* values;
    bool* nulls;
    int count;
    int ndim;
  };
  Elements e = pg_call([&] {
    Elements out{};
    ArrayType* array = PG_GETARG_ARRAYTYPE_P(n);
    out.ndim = ARR_NDIM(array);
    deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &out.values, &out.nulls,
                      &out.count);
    return out;
  });
  if (e.ndim > 1) {
    throw Error(sqlstate::kInvalidParameterValue, std::string(name) + " must be a one-dimensional array");
  }
  std::vector<std::string> items;
  for (int i = 0; i < e.count; i++) {
    if (e.nulls[i]) {
      throw Error(sqlstate::kNullValueNotAllowed, std::string(name) + " must not contain NULL");
    }
    Datum value = e.values[i];
    items.emplace_back(pg_call([&] { return TextDatumGetCString(value); }));
  }
  return items;
}

Datum text_datum(const std::string& text) {
  const char* c = text.c_str();
  return pg_call([&] { return CStringGetTextDatum(c); });
}

}  // namespace viewmgr::pg
