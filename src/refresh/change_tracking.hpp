// Change tracking for staleness: the writer side (a statement trigger appending to
// viewmgr.source_change) and what refreshes add to it.
#pragma once
#include "pg/postgres.hpp"

namespace viewmgr::pg {

// Registers the transaction callbacks that keep the per-transaction cache right.
void init_change_tracking();

// Appends (relid, this transaction) to the log, once per transaction (C code, no SPI, no
// permission check: it is the extension's own log, written for whoever writes a table).
// Call inside pg_call.
void record_change(Oid relid);

// Forgets which tables this transaction has logged, so its next write to each is logged
// again with that write's command (called when a refresh pins its snapshot).
void forget_logged_tables();

// Makes the tracking trigger of `relid` fire in every session_replication_role (replica
// included, as logical replication's apply and bulk loaders use). pg_viewmgr's own trigger
// only, so no ownership of the table is asked for. Call inside pg_call.
void fire_tracking_trigger_always(Oid relid);

// The DDL event trigger (viewmgr.track_ddl): logs a change of every relation the command
// alters, replaces, refreshes, creates as a partition or child, or drops, and of the tables
// it is a partition or inheritance child of. Needs an SPI connection.
void record_ddl_changes(FunctionCallInfo fcinfo);

// While one lives, the DDL event trigger records nothing: pg_viewmgr's own builds log the
// changes they make themselves (a replaced view), and would pay an SPI round trip per
// statement otherwise. Never around DDL a user gave (run_with_dependents).
class DdlTrackingPause {
 public:
  DdlTrackingPause();
  ~DdlTrackingPause();
  DdlTrackingPause(const DdlTrackingPause&) = delete;
  DdlTrackingPause& operator=(const DdlTrackingPause&) = delete;

 private:
  bool was_paused_;
};

// The name of the trigger pg_viewmgr puts on tracked tables.
inline constexpr const char* kTrackingTrigger = "viewmgr_track_changes";

}  // namespace viewmgr::pg
