// refresh_all() in background workers: each view refreshed in a transaction of its own (so
// it is locked only while it is refreshed), up to `parallel` at a time. This backend leads:
// it hands views whose sources are done to idle workers and collects their outcomes.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

#include "refresh/refresh.hpp"

extern "C" {
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
}

namespace viewmgr::pg {

struct RefreshRun;

class RefreshWorkers {
 public:
  // Starts up to `parallel` workers for the views of `set` right away, so they connect while
  // this backend works out what is stale.
  RefreshWorkers(const MatviewSet& set, int parallel);
  // If the run ends early (an error, a cancel), stops the workers: they would otherwise go
  // on refreshing for a caller that is gone.
  ~RefreshWorkers();
  RefreshWorkers(const RefreshWorkers&) = delete;
  RefreshWorkers& operator=(const RefreshWorkers&) = delete;

  // False when no worker could be started (max_worker_processes): refresh in this backend.
  bool started() const { return !handles_.empty(); }

  // After run(): every worker was gone before the schedule was done (none could connect,
  // or they died); the rest is for this backend to refresh.
  bool stranded() const { return stranded_; }

  // Hands out the views of `schedule` and collects their outcomes. The workers are told to
  // exit at the end but not waited for: their results are in already.
  // `caller_xid` and `caller_cid`: see RefreshTarget.
  std::vector<RefreshDone> run(RefreshSchedule& schedule, std::optional<bool> concurrently,
                               const std::vector<std::string>& reasons,
                               const std::optional<std::string>& caller_xid, std::uint32_t caller_cid);

 private:
  const MatviewSet& set_;
  dsm_segment* segment_ = nullptr;
  RefreshRun* run_ = nullptr;
  std::vector<BackgroundWorkerHandle*> handles_;
  bool finished_ = false;
  bool stranded_ = false;

  // The caller's result-affecting settings, for the workers (see refresh_workers.cpp).
  static void copy_settings(char* out, std::size_t size);
};

}  // namespace viewmgr::pg
