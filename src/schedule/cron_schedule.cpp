#include "schedule/cron_schedule.hpp"

#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "pg/background_workers.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "registry/registry.hpp"

extern "C" {
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
}

namespace viewmgr::pg {

namespace {

constexpr int kMaxParams = 5;

// One SQL call made in another database by a worker. Plain C data in a DSM segment.
struct RemoteCall {
  Oid database;
  Oid login_role;
  Oid current_role;
  char sql[1024];
  int nparams;
  char params[kMaxParams][1024];
  bool ok;
  bool result_null;
  char result[64];
  int sqlerrcode;
  char message[1024];
  char detail[1024];
  char hint[1024];
};

std::string cron_database() {
  const char* preload = GetConfigOption("shared_preload_libraries", true, false);
  const char* database = GetConfigOption("cron.database_name", true, false);
  bool preloaded = preload != nullptr && std::strstr(preload, "pg_cron") != nullptr;
  if (!preloaded || database == nullptr) {
    throw Error(sqlstate::kObjectNotInPrerequisiteState, "pg_cron is not available",
                "viewmgr.schedule() creates pg_cron jobs; pg_cron must be loaded at server start.",
                "Install pg_cron (on Debian: apt-get install postgresql-" PG_MAJORVERSION "-cron), add pg_cron to "
                "shared_preload_libraries and set cron.database_name in postgresql.conf, restart "
                "the server, then run CREATE EXTENSION pg_cron in that database.");
  }
  return database;
}

// The first column of the first row, as text (nullopt for NULL).
std::optional<std::string> call_here(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<Param> args;
  for (const auto& p : params) args.push_back({p});
  QueryResult r = spi_query(sql, args);
  return r.rows.at(0).at(0);
}

std::optional<std::string> call_in_database(const std::string& database, const std::string& sql,
                                            const std::vector<std::string>& params) {
  const char* name = database.c_str();
  Oid database_oid = pg_call([&] { return get_database_oid(name, false); });
  if (database_oid == MyDatabaseId) return call_here(sql, params);

  dsm_segment* segment = pg_call([] { return dsm_create(sizeof(RemoteCall), 0); });
  auto* call = static_cast<RemoteCall*>(dsm_segment_address(segment));
  std::memset(call, 0, sizeof *call);
  call->database = database_oid;
  call->login_role = GetSessionUserId();
  call->current_role = GetUserId();
  copy_text(call->sql, sizeof call->sql, sql);
  call->nparams = static_cast<int>(params.size());
  for (std::size_t i = 0; i < params.size(); i++) {
    copy_text(call->params[i], sizeof call->params[i], params[i]);
  }
  BackgroundWorkerHandle* handle =
      start_worker("viewmgr_remote_call_main", "pg_viewmgr cron call", dsm_segment_handle(segment), 0);
  if (handle == nullptr) {
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "could not start a background worker to reach database \"" + database + "\"",
                {}, "Raise max_worker_processes.");
  }
  pg_call([&] { (void)WaitForBackgroundWorkerShutdown(handle); });
  RemoteCall result = *call;
  pg_call([&] { dsm_detach(segment); });
  if (!result.ok) {
    if (result.sqlerrcode == 0) {
      throw Error(sqlstate::kInternalError,
                  "the call in database \"" + database + "\" did not complete");
    }
    const char* code = unpack_sql_state(result.sqlerrcode);
    std::string hint = result.hint[0] != '\0' ? result.hint : "";
    throw Error(code, std::string(result.message) + " (in database \"" + database + "\")",
                result.detail, hint);
  }
  if (result.result_null) return std::nullopt;
  return std::string(result.result);
}

std::string default_job_name() {
  return "viewmgr_refresh_all_" + std::string(pg_call([] { return get_database_name(MyDatabaseId); }));
}

// A failed pg_cron call, said as what the caller can do about it: pg_cron not created in
// its database, or the caller not allowed to schedule jobs in another database. Returns
// for any other error, which the caller rethrows as it came.
void explain_cron_failure(const std::string& code, const std::string& message,
                                       const std::string& database) {
  std::string user = pg_call([] { return GetUserNameFromId(GetUserId(), false); });
  if (code == "3F000" || code == "42883" || code == "42P01") {  // no schema, function, table
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "pg_cron is loaded but not created in database \"" + database + "\"", message,
                "Run CREATE EXTENSION pg_cron in database \"" + database +
                    "\" (the one cron.database_name names).");
  }
  if (code == sqlstate::kInsufficientPrivilege) {
    throw Error(sqlstate::kInsufficientPrivilege,
                "permission denied to schedule with pg_cron: role \"" + user +
                    "\" may not use pg_cron's functions",
                message,
                "In database \"" + database + "\" a superuser can run GRANT USAGE ON SCHEMA cron TO " +
                    quote_ident(user) + "; GRANT EXECUTE ON FUNCTION cron.schedule_in_database TO " +
                    quote_ident(user) + ";");
  }
}

// The job's name: the default one, or the caller's, which pg_cron would accept even empty.
std::string job_name_or_default(const std::optional<std::string>& job_name) {
  if (!job_name.has_value()) return default_job_name();
  if (job_name->find_first_not_of(" \t\r\n\f") == std::string::npos) {
    throw Error(sqlstate::kInvalidParameterValue, "job_name must not be empty", {},
                "Leave job_name out for the default, \"" + default_job_name() + "\".");
  }
  return *job_name;
}

}  // namespace

int64 schedule_refresh(const std::string& schedule, const std::optional<std::string>& job_name,
                       bool only_stale) {
  require_writable("viewmgr.schedule");
  std::string name = job_name_or_default(job_name);
  std::string database = cron_database();
  std::string here = pg_call([] { return get_database_name(MyDatabaseId); });
  std::string user = pg_call([] { return GetUserNameFromId(GetUserId(), false); });
  std::string command = std::string("SELECT count(*) FROM viewmgr.refresh_all(only_stale => ") +
                        (only_stale ? "true" : "false") + ")";
  std::optional<std::string> id;
  try {
    id = call_in_database(
        database, "SELECT cron.schedule_in_database($1, $2, $3, $4, $5)",
        {name, schedule, command, here, user});
  } catch (PgError& error) {
    explain_cron_failure(unpack_sql_state(error.sqlerrcode()), error.what(), database);
    throw;
  } catch (Error& error) {
    explain_cron_failure(error.sqlstate(), error.what(), database);
    throw;
  }
  return id.has_value() ? std::stoll(*id) : 0;
}

bool unschedule_refresh(const std::optional<std::string>& job_name) {
  require_writable("viewmgr.unschedule");
  std::string name = job_name_or_default(job_name);
  std::string database = cron_database();
  // Only the caller's own job of that name: pg_cron names are unique per user.
  std::optional<std::string> found;
  try {
    found = call_in_database(
        database,
        "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = $1 AND username = current_user "
        "UNION ALL SELECT false LIMIT 1",
        {name});
  } catch (PgError& error) {
    explain_cron_failure(unpack_sql_state(error.sqlerrcode()), error.what(), database);
    throw;
  } catch (Error& error) {
    explain_cron_failure(error.sqlstate(), error.what(), database);
    throw;
  }
  return found == std::optional<std::string>("t");
}

}  // namespace viewmgr::pg

extern "C" PGDLLEXPORT void viewmgr_remote_call_main(Datum main_arg);

extern "C" void viewmgr_remote_call_main(Datum main_arg) {
  using namespace viewmgr::pg;
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();
  dsm_segment* segment = dsm_attach(DatumGetUInt32(main_arg));
  if (segment == nullptr) proc_exit(1);
  auto* call = static_cast<RemoteCall*>(dsm_segment_address(segment));
  connect_worker(call->database, call->login_role, call->current_role);
  try {
    begin_worker_transaction();
    SpiConnection spi;
    std::vector<viewmgr::pg::Param> args;  // not PostgreSQL's Param node
    for (int i = 0; i < call->nparams; i++) args.push_back({std::string(call->params[i])});
    QueryResult r = spi_query(call->sql, args);
    Value value = r.rows.empty() ? Value{} : r.rows[0].at(0);
    spi.finish();
    commit_worker_transaction();
    call->result_null = !value.has_value();
    if (value.has_value()) copy_text(call->result, sizeof call->result, *value);
    call->ok = true;
  } catch (PgError& error) {
    ErrorData* data = error.data();
    call->sqlerrcode = data->sqlerrcode;
    copy_text(call->message, sizeof call->message, data->message ? data->message : "");
    copy_text(call->detail, sizeof call->detail, data->detail ? data->detail : "");
    copy_text(call->hint, sizeof call->hint, data->hint ? data->hint : "");
    abort_worker_transaction();
  } catch (...) {
    call->sqlerrcode = ERRCODE_INTERNAL_ERROR;
    copy_text(call->message, sizeof call->message, "pg_viewmgr: unexpected error in the cron call");
  }
  dsm_detach(segment);
  proc_exit(0);
}
