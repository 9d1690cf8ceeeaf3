// Starting pg_viewmgr's dynamic background workers (no preloading needed: PostgreSQL loads
// the library in the worker by name).
#pragma once
#include "pg/postgres.hpp"

#include <string>

extern "C" {
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
}

namespace viewmgr::pg {

// Registers a worker running `function` (extern "C" in this library) with the segment
// handle as its argument and `index` in bgw_extra; this backend is notified of its start
// and stop. Returns nullptr when no worker slot is free (max_worker_processes).
BackgroundWorkerHandle* start_worker(const char* function, const char* type, dsm_handle segment,
                                     int index);

// In a worker: connect to `database` as `login_role` (before PostgreSQL 17 workers must
// connect as a role that may log in; see compat::kWorkerConnectionFlags), then act as
// `current_role`, like SET ROLE.
void connect_worker(Oid database, Oid login_role, Oid current_role);

// In a worker: starts a transaction with an active snapshot, and commits it (or, after an
// error, aborts it). Workers run one transaction per unit of work.
void begin_worker_transaction();
void commit_worker_transaction();
void abort_worker_transaction();  // never throws (see the .cpp)

// Copies `src` into a fixed-size field of a shared memory segment, cut to fit.
void copy_text(char* dst, std::size_t size, const std::string& src);

}  // namespace viewmgr::pg
