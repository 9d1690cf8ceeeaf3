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

// The name of the trigger pg_viewmgr puts on tracked tables.
inline constexpr const char* kTrackingTrigger = "viewmgr_track_changes";

}  // namespace viewmgr::pg
