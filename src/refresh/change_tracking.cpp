#include "refresh/change_tracking.hpp"

#include "pg/boundary.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/xid8.h"
}

namespace viewmgr::pg {

namespace {

// Tables already logged by the current transaction, with the subtransaction that logged
// them: if that subtransaction rolls back, so does its log row, and the table must be
// logged again. Plain C array in TopMemoryContext: touched from transaction callbacks.
struct Logged {
  Oid relid;
  SubTransactionId subid;
};
Logged* logged = nullptr;
int logged_count = 0;
int logged_capacity = 0;

void on_xact(XactEvent event, void*) {
  switch (event) {
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PARALLEL_COMMIT:
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
    case XACT_EVENT_PREPARE:
      logged_count = 0;
      break;
    default:
      break;
  }
}

void on_subxact(SubXactEvent event, SubTransactionId subid, SubTransactionId parent, void*) {
  if (event == SUBXACT_EVENT_COMMIT_SUB) {
    for (int i = 0; i < logged_count; i++) {
      if (logged[i].subid == subid) logged[i].subid = parent;
    }
  } else if (event == SUBXACT_EVENT_ABORT_SUB) {
    int kept = 0;
    for (int i = 0; i < logged_count; i++) {
      if (logged[i].subid != subid) logged[kept++] = logged[i];
    }
    logged_count = kept;
  }
}

}  // namespace

void init_change_tracking() {
  RegisterXactCallback(on_xact, nullptr);
  RegisterSubXactCallback(on_subxact, nullptr);
}

void record_change(Oid relid) {
  for (int i = 0; i < logged_count; i++) {
    if (logged[i].relid == relid) return;
  }
  Oid nsp = get_namespace_oid("viewmgr", true);
  Oid log = OidIsValid(nsp) ? get_relname_relid("source_change", nsp) : InvalidOid;
  if (!OidIsValid(log)) return;  // the extension is being dropped

  Relation rel = table_open(log, RowExclusiveLock);
  Datum values[2] = {ObjectIdGetDatum(relid), FullTransactionIdGetDatum(GetTopFullTransactionId())};
  bool nulls[2] = {false, false};
  HeapTuple tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
  simple_heap_insert(rel, tuple);
  heap_freetuple(tuple);
  table_close(rel, RowExclusiveLock);

  if (logged_count == logged_capacity) {
    int capacity = logged_capacity == 0 ? 16 : logged_capacity * 2;
    logged = static_cast<Logged*>(
        logged == nullptr ? MemoryContextAlloc(TopMemoryContext, sizeof(Logged) * capacity)
                          : repalloc(logged, sizeof(Logged) * capacity));
    logged_capacity = capacity;
  }
  logged[logged_count++] = {relid, GetCurrentSubTransactionId()};
}

}  // namespace viewmgr::pg

// The trigger function: C all the way, on every write to a tracked table. It only appends
// to the log, so it never throws; PostgreSQL errors propagate as usual (no C++ frames here).
extern "C" {
PG_FUNCTION_INFO_V1(viewmgr_track_change);
}

extern "C" Datum viewmgr_track_change(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("viewmgr.track_change() must be called as a trigger")));
  }
  auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  viewmgr::pg::record_change(RelationGetRelid(trigger->tg_relation));
  return PointerGetDatum(nullptr);
}
