#include "refresh/refresh_workers.hpp"

#include <algorithm>
#include <cstring>
#include <exception>

#include "core/error.hpp"
#include "pg/background_workers.hpp"
#include "pg/boundary.hpp"
#include "registry/history.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/guc.h"
#include "utils/wait_event.h"
}

namespace viewmgr::pg {

namespace {

constexpr int kMaxWorkers = 32;
constexpr int kIdle = -1;
constexpr int kExit = -2;

// Shared by the leader and its workers in one dynamic shared memory segment. Plain C data.
struct TaskSlot {
  Oid relid;
  int concurrently;  // -1 automatic, 0 no, 1 yes
  char schema[NAMEDATALEN];
  char name[NAMEDATALEN];
  char display[4 * NAMEDATALEN + 8];
  char reason[512];
  int outcome;  // RefreshOutcome once finished
  char duration[64];
  char detail[1024];
};

struct WorkerSlot {
  PGPROC* proc;   // set by the worker once connected
  int task;       // kIdle, kExit or the task it is working on
  int finished;   // a task whose outcome the leader has not collected yet, else kIdle
};

// The caller's settings that change what a query returns, as name\0value\0... pairs
// ending with an empty name.
constexpr std::size_t kSettingsSize = 8192;

struct RefreshRunData {
  slock_t mutex;
  Oid database;
  Oid login_role;    // the session user: background workers must connect as a login role
  Oid current_role;  // who the refresh runs as (SET ROLE inside the worker)
  PGPROC* leader;
  int leader_pid;    // workers stop when this backend is gone, however it ended
  char settings[kSettingsSize];
  int lock_timeout_ms;
  char caller_xid[24];  // xid8 text, '' when the caller has none
  uint32 caller_cid;
  int nworkers;
  int ntasks;
  WorkerSlot workers[kMaxWorkers];
  TaskSlot tasks[FLEXIBLE_ARRAY_MEMBER];
};

// The workers of the run in progress in this backend, stopped by stop_workers_at_exit if
// the backend exits meanwhile: a FATAL (pg_terminate_backend) skips C++ destructors but not
// shared-memory exit callbacks. Plain C data, touched from that callback.
BackgroundWorkerHandle* running_handles[kMaxWorkers];
int running_count = 0;
bool exit_callback_registered = false;

void stop_workers_at_exit(int, Datum) {
  for (int i = 0; i < running_count; i++) TerminateBackgroundWorker(running_handles[i]);
  running_count = 0;
}

}  // namespace

struct RefreshRun : RefreshRunData {};

RefreshWorkers::RefreshWorkers(const MatviewSet& set, int parallel) : set_(set) {
  const int ntasks = static_cast<int>(set.graph().size());
  if (ntasks == 0) return;
  const int nworkers = std::min({parallel, kMaxWorkers, ntasks});
  Size size = offsetof(RefreshRunData, tasks) + sizeof(TaskSlot) * ntasks;
  segment_ = pg_call([&] { return dsm_create(size, 0); });
  run_ = static_cast<RefreshRun*>(dsm_segment_address(segment_));
  std::memset(run_, 0, size);
  SpinLockInit(&run_->mutex);
  run_->database = MyDatabaseId;
  run_->login_role = GetSessionUserId();
  run_->current_role = GetUserId();
  run_->leader = MyProc;
  run_->leader_pid = MyProcPid;
  run_->lock_timeout_ms = setting_lock_timeout_ms;
  copy_settings(run_->settings, sizeof run_->settings);
  run_->ntasks = ntasks;
  for (int t = 0; t < ntasks; t++) {
    const RefreshTarget& target = set.target(t);
    TaskSlot& slot = run_->tasks[t];
    slot.relid = target.relid;
    slot.concurrently = -1;
    copy_text(slot.schema, sizeof slot.schema, target.name.schema);
    copy_text(slot.name, sizeof slot.name, target.name.name);
    copy_text(slot.display, sizeof slot.display, target.display_name);
  }
  for (int w = 0; w < kMaxWorkers; w++) run_->workers[w] = {nullptr, kIdle, kIdle};
  dsm_handle handle = dsm_segment_handle(segment_);
  for (int w = 0; w < nworkers; w++) {
    BackgroundWorkerHandle* worker_handle =
        start_worker("viewmgr_refresh_worker_main", "pg_viewmgr refresh worker", handle, w);
    if (worker_handle == nullptr) break;
    handles_.push_back(worker_handle);
  }
  run_->nworkers = static_cast<int>(handles_.size());
  for (std::size_t i = 0; i < handles_.size(); i++) running_handles[i] = handles_[i];
  running_count = static_cast<int>(handles_.size());
  if (!exit_callback_registered && running_count > 0) {
    pg_call([] { before_shmem_exit(stop_workers_at_exit, 0); });
    exit_callback_registered = true;
  }
  if (handles_.empty()) {
    dsm_segment* segment = segment_;
    segment_ = nullptr;
    pg_call([&] { dsm_detach(segment); });
  }
}

RefreshWorkers::~RefreshWorkers() {
  // Only on an early exit (error, cancel); TerminateBackgroundWorker cannot fail. The
  // segment is then released by the transaction's abort.
  if (!finished_) {
    for (auto* handle : handles_) TerminateBackgroundWorker(handle);
  }
  running_count = 0;
}

std::vector<RefreshDone> RefreshWorkers::run(RefreshSchedule& schedule,
                                             std::optional<bool> concurrently,
                                             const std::vector<std::string>& reasons,
                                             const std::optional<std::string>& caller_xid,
                                             std::uint32_t caller_cid) {
  RefreshRun* run = run_;
  const int ntasks = run->ntasks;
  copy_text(run->caller_xid, sizeof run->caller_xid, caller_xid.value_or(""));
  run->caller_cid = caller_cid;
  for (int t = 0; t < ntasks; t++) {
    run->tasks[t].concurrently = concurrently.has_value() ? (*concurrently ? 1 : 0) : -1;
    copy_text(run->tasks[t].reason, sizeof run->tasks[t].reason, reasons.at(t));
  }
  std::vector<RefreshDone> done(ntasks);
  std::vector<bool> alive(handles_.size(), true);
  for (;;) {
    pg_call([] { ResetLatch(MyLatch); });
    bool progress = false;
    // Collect outcomes, then hand out what may start.
    for (std::size_t w = 0; w < handles_.size(); w++) {
      int finished;
      int task;
      PGPROC* proc;
      SpinLockAcquire(&run->mutex);
      finished = run->workers[w].finished;
      task = run->workers[w].task;
      proc = run->workers[w].proc;
      if (finished >= 0) run->workers[w].finished = kIdle;
      SpinLockRelease(&run->mutex);
      if (finished >= 0) {
        const TaskSlot& slot = run->tasks[finished];
        RefreshDone& d = done[finished];
        d.outcome = static_cast<RefreshOutcome>(slot.outcome);
        if (slot.duration[0] != '\0') d.duration = std::string(slot.duration);
        d.detail = slot.detail;
        schedule.finish(finished, d.outcome, d.detail);
        progress = true;
        if (setting_progress_notices) {
          std::string line = std::string(slot.display) + ": " + refresh_outcome_name(d.outcome) +
                             (d.detail.empty() ? "" : " (" + d.detail + ")");
          const char* text = line.c_str();
          pg_call([&] { ereport(NOTICE, (errmsg_internal("%s", text))); });
        }
      }
      if (alive[w]) {
        pid_t pid;
        BgwHandleStatus status = GetBackgroundWorkerPid(handles_[w], &pid);
        if (status == BGWH_STOPPED) {
          alive[w] = false;
          if (task >= 0 && finished < 0) {
            done[task] = {RefreshOutcome::kFailed, std::nullopt, "refresh worker exited unexpectedly"};
            schedule.finish(task, RefreshOutcome::kFailed, done[task].detail);
            progress = true;
          }
          continue;
        }
      }
      if (alive[w] && proc != nullptr && task == kIdle && finished < 0) {
        auto next = schedule.next_ready();
        if (next.has_value()) {
          SpinLockAcquire(&run->mutex);
          run->workers[w].task = static_cast<int>(*next);
          SpinLockRelease(&run->mutex);
          SetLatch(&proc->procLatch);
          progress = true;
        }
      }
    }
    // Views that need no worker (skipped) are settled by the schedule as it walks.
    if (schedule.running() == 0) {
      (void)schedule.any_ready();
      if (schedule.done()) break;
      if (std::none_of(alive.begin(), alive.end(), [](bool a) { return a; })) {
        // No worker left (none could connect, or they died): the caller refreshes the rest.
        stranded_ = true;
        break;
      }
    }
    if (!progress) {
      pg_call([] {
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100L,
                        PG_WAIT_EXTENSION);
        CHECK_FOR_INTERRUPTS();
      });
    }
  }
  for (std::size_t w = 0; w < handles_.size(); w++) {
    SpinLockAcquire(&run->mutex);
    run->workers[w].task = kExit;
    PGPROC* proc = run->workers[w].proc;
    SpinLockRelease(&run->mutex);
    if (proc != nullptr) SetLatch(&proc->procLatch);
  }
  finished_ = true;
  running_count = 0;  // told to exit; they no longer need stopping
  // The segment goes when its last user detaches; no need to wait for the workers.
  dsm_segment* segment = segment_;
  segment_ = nullptr;
  pg_call([&] { dsm_detach(segment); });
  return done;
}

namespace {

// What a refresh in the caller's session would see that a worker would not: settings that
// change query results (time zone, date and interval styles, float digits, locale-dependent
// formats, XML and bytea output) and custom settings, wherever they were set.
constexpr const char* kResultSettings =
    "SELECT name, setting FROM pg_catalog.pg_settings "
    "WHERE context = 'user' AND source NOT IN ('default', 'override') "
    "  AND (name IN ('TimeZone', 'DateStyle', 'IntervalStyle', 'extra_float_digits', "
    "                'lc_monetary', 'lc_numeric', 'lc_time', 'bytea_output', 'xmlbinary', "
    "                'xmloption') "
    "       OR (name LIKE '%.%' AND name NOT LIKE 'viewmgr.%')) ORDER BY name";

}  // namespace

void RefreshWorkers::copy_settings(char* out, std::size_t size) {
  std::size_t at = 0;
  for (const Row& row : spi_query(kResultSettings).rows) {
    const std::string& name = *row[0];
    const std::string value = row[1].value_or("");
    if (at + name.size() + value.size() + 3 > size) break;  // never in practice: 8 kB
    std::memcpy(out + at, name.c_str(), name.size() + 1);
    at += name.size() + 1;
    std::memcpy(out + at, value.c_str(), value.size() + 1);
    at += value.size() + 1;
  }
  out[at] = '\0';
}

namespace {

// In a worker: takes on the caller's settings for the rest of its life (one transaction:
// some settings check the catalogs). A setting that cannot be applied is skipped.
void apply_settings(const char* settings) {
  begin_worker_transaction();
  for (const char* p = settings; *p != '\0';) {
    const char* name = p;
    const char* value = name + std::strlen(name) + 1;
    p = value + std::strlen(value) + 1;
    try {
      pg_call([&] {
        (void)set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SET, true, 0,
                                false);
      });
    } catch (PgError&) {
      abort_worker_transaction();
      begin_worker_transaction();
    }
  }
  commit_worker_transaction();
}

// The backend that started this run is still there (an exit of any kind, FATAL or crash
// included, removes it from the proc array).
bool leader_alive(const RefreshRunData* run) {
  return BackendPidGetProc(run->leader_pid) == run->leader;
}

// One view, in a transaction of its own.
void refresh_task(RefreshRunData* run, int index) {
  TaskSlot& slot = run->tasks[index];
  RefreshTarget target;
  target.relid = slot.relid;
  target.name = {slot.schema, slot.name};
  target.display_name = slot.display;
  target.reason = slot.reason;
  if (slot.concurrently >= 0) target.concurrently = slot.concurrently == 1;
  if (run->caller_xid[0] != '\0') {
    target.caller_xid = std::string(run->caller_xid);
    target.caller_cid = run->caller_cid;
  }
  std::string started = timestamptz_to_str(GetCurrentTimestamp());

  std::string activity = "pg_viewmgr: refreshing " + target.display_name;
  pgstat_report_activity(STATE_RUNNING, activity.c_str());
  RefreshDone result;
  try {
    begin_worker_transaction();
    SpiConnection spi;
    HistoryWriter history;
    result = refresh_one(target, WhenBusy::kSkip, history);
    spi.finish();
    commit_worker_transaction();
  } catch (PgError& error) {
    RefreshFailure failure(error);  // before the abort frees the error data
    abort_worker_transaction();
    try {
      begin_worker_transaction();
      SpiConnection spi;
      HistoryWriter history;
      result = record_refresh_failure(target, started, failure, history);
      spi.finish();
      commit_worker_transaction();
    } catch (PgError&) {
      abort_worker_transaction();
      result = {RefreshOutcome::kFailed, std::nullopt, failure.message};
    }
  } catch (const std::exception& error) {
    // Not from PostgreSQL: the view fails, the worker goes on.
    abort_worker_transaction();
    result = {RefreshOutcome::kFailed, std::nullopt, error.what()};
  }
  pgstat_report_activity(STATE_IDLE, nullptr);
  slot.outcome = static_cast<int>(result.outcome);
  copy_text(slot.duration, sizeof slot.duration, result.duration.value_or(""));
  copy_text(slot.detail, sizeof slot.detail, result.detail);
}

void worker_loop(RefreshRunData* run, int index) {
  for (;;) {
    ResetLatch(MyLatch);
    SpinLockAcquire(&run->mutex);
    int task = run->workers[index].task;
    SpinLockRelease(&run->mutex);
    if (task == kExit || !leader_alive(run)) return;
    if (task >= 0) {
      refresh_task(run, task);
      SpinLockAcquire(&run->mutex);
      run->workers[index].task = kIdle;
      run->workers[index].finished = task;
      SpinLockRelease(&run->mutex);
      SetLatch(&run->leader->procLatch);
      continue;
    }
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000L,
                    PG_WAIT_EXTENSION);
    // Outside pg_call on purpose: no C++ object lives in these frames, and in a background
    // worker an interrupt's ERROR becomes FATAL, which ends the process.
    CHECK_FOR_INTERRUPTS();
  }
}

}  // namespace

}  // namespace viewmgr::pg

// Background worker entry point (C linkage; started by RegisterDynamicBackgroundWorker).
extern "C" PGDLLEXPORT void viewmgr_refresh_worker_main(Datum main_arg);

extern "C" void viewmgr_refresh_worker_main(Datum main_arg) {
  using namespace viewmgr::pg;
  int index;
  std::memcpy(&index, MyBgworkerEntry->bgw_extra, sizeof index);
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();
  dsm_segment* segment = dsm_attach(DatumGetUInt32(main_arg));
  if (segment == nullptr) proc_exit(1);  // the leader is gone already
  auto* run = static_cast<RefreshRunData*>(dsm_segment_address(segment));
  // As the role that called refresh_all (like SET ROLE), not only as its login role.
  connect_worker(run->database, run->login_role, run->current_role);
  setting_lock_timeout_ms = run->lock_timeout_ms;
  try {
    apply_settings(run->settings);
  } catch (...) {
    proc_exit(1);  // the leader reports the worker gone and refreshes in its session
  }

  SpinLockAcquire(&run->mutex);
  run->workers[index].proc = MyProc;
  SpinLockRelease(&run->mutex);
  SetLatch(&run->leader->procLatch);

  bool failed = false;
  try {
    worker_loop(run, index);
  } catch (...) {
    failed = true;  // the leader sees the worker stop and reports its task as failed
  }
  dsm_detach(segment);
  proc_exit(failed ? 1 : 0);
}
