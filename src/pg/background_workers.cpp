#include "pg/background_workers.hpp"

#include <algorithm>
#include <cstring>

#include "pg/boundary.hpp"
#include "pg/compat.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/acl.h"
#include "utils/snapmgr.h"
}

namespace viewmgr::pg {

BackgroundWorkerHandle* start_worker(const char* function, const char* type, dsm_handle segment,
                                     int index) {
  BackgroundWorker worker;
  std::memset(&worker, 0, sizeof worker);
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
  worker.bgw_restart_time = BGW_NEVER_RESTART;
  snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_viewmgr");
  snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function);
  snprintf(worker.bgw_name, BGW_MAXLEN, "%s %d", type, index + 1);
  snprintf(worker.bgw_type, BGW_MAXLEN, "%s", type);
  worker.bgw_main_arg = UInt32GetDatum(segment);
  std::memcpy(worker.bgw_extra, &index, sizeof index);
  worker.bgw_notify_pid = MyProcPid;
  BackgroundWorkerHandle* handle = nullptr;
  bool registered = pg_call([&] { return RegisterDynamicBackgroundWorker(&worker, &handle); });
  return registered ? handle : nullptr;
}

void connect_worker(Oid database, Oid login_role, Oid current_role) {
  BackgroundWorkerInitializeConnectionByOid(database, login_role, compat::kWorkerConnectionFlags);
  StartTransactionCommand();
  SetCurrentRoleId(current_role, superuser_arg(current_role));
  CommitTransactionCommand();
}

void begin_worker_transaction() {
  pg_call([] {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
  });
}

void commit_worker_transaction() {
  pg_call([] {
    PopActiveSnapshot();
    CommitTransactionCommand();
  });
}

void abort_worker_transaction() {
  // Called from catch blocks, so it must not throw. Not through pg_call on purpose: should
  // the abort itself fail, a background worker has no error handler here, its ERROR becomes
  // FATAL and the process ends, which is the only sane outcome then.
  AbortCurrentTransaction();
}

void copy_text(char* dst, std::size_t size, const std::string& src) {
  std::size_t n = std::min(size - 1, src.size());
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

}  // namespace viewmgr::pg
