// SQL entry points that declare what is managed: register, declare, unregister, adopt. Each only
// converts its arguments and calls one function.
#include "api/entry_point.hpp"
#include "pg/jsonb.hpp"
#include "sync/declare.hpp"
#include "sync/registration.hpp"
#include "sync/sync.hpp"

namespace viewmgr::pg {
namespace {

Datum register_function(FunctionCallInfo fcinfo) {
  Registration r;
  r.view_name = text_arg(fcinfo, 0, "view_name");
  r.definition = text_arg(fcinfo, 1, "definition");
  r.materialized = bool_arg(fcinfo, 2, "materialized");
  r.depends_on = text_array_arg(fcinfo, 3, "depends_on");
  r.indexes = text_array_arg(fcinfo, 4, "indexes");
  r.with_data = bool_arg(fcinfo, 5, "with_data");
  r.comment = optional_text_arg(fcinfo, 6, "comment");
  r.apply = bool_arg(fcinfo, 7, "apply");
  r.view_options = text_array_arg(fcinfo, 8, "view_options");
  r.incremental = bool_arg(fcinfo, 9, "incremental");
  r.search_path = text_arg(fcinfo, 10, "search_path");
  std::string action = with_spi([&] { return register_view(std::move(r)); });
  return text_datum(action);
}

// The jsonb argument as plain values (read in C++, with no query).
JsonValue jsonb_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  if (arg_is_null(fcinfo, n)) {
    throw Error(sqlstate::kNullValueNotAllowed, std::string(name) + " must not be NULL",
                {}, "Give a JSON array of view declarations ('[]' declares none).");
  }
  Jsonb* jsonb = pg_call([&] { return PG_GETARG_JSONB_P(n); });
  return jsonb_to_value(jsonb);
}

Datum declare_function(FunctionCallInfo fcinfo) {
  JsonValue views = jsonb_arg(fcinfo, 0, "views");
  bool prune = bool_arg(fcinfo, 1, "prune");
  bool dry_run = bool_arg(fcinfo, 2, "dry_run");
  std::string search_path = text_arg(fcinfo, 3, "search_path");
  ResultSet result(fcinfo);
  for (const auto& row : with_spi([&] { return declare_views(views, prune, dry_run, search_path); })) {
    result.add({row.view_name, row.action, row.reason.empty() ? Cell{} : Cell{row.reason}});
  }
  return static_cast<Datum>(0);
}

Datum unregister_function(FunctionCallInfo fcinfo) {
  std::string view_name = text_arg(fcinfo, 0, "view_name");
  bool drop_view = bool_arg(fcinfo, 1, "drop_view");
  bool cascade = bool_arg(fcinfo, 2, "cascade");
  std::string search_path = text_arg(fcinfo, 3, "search_path");
  with_spi([&] { unregister_view(view_name, drop_view, cascade, search_path); });
  PG_RETURN_VOID();
}

Datum adopt_function(FunctionCallInfo fcinfo) {
  std::optional<std::string> view_name = optional_text_arg(fcinfo, 0, "view_name");
  std::optional<std::string> schema_name = optional_text_arg(fcinfo, 1, "schema_name");
  std::string search_path = text_arg(fcinfo, 2, "search_path");
  int adopted = with_spi([&] { return adopt(view_name, schema_name, search_path); });
  PG_RETURN_INT32(adopted);
}

}  // namespace
}  // namespace viewmgr::pg

VIEWMGR_SQL_FUNCTION(viewmgr_register, viewmgr::pg::register_function)
VIEWMGR_SQL_FUNCTION(viewmgr_declare, viewmgr::pg::declare_function)
VIEWMGR_SQL_FUNCTION(viewmgr_unregister, viewmgr::pg::unregister_function)
VIEWMGR_SQL_FUNCTION(viewmgr_adopt, viewmgr::pg::adopt_function)
