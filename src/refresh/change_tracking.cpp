#include "refresh/change_tracking.hpp"

#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "access/genam.h"
#include "access/heapam.h"
#include "catalog/index.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "nodes/makefuncs.h"
#include "utils/rel.h"
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

// The tuple and its index entry are formed by hand below, for the install script's shape of
// the log. A superuser can still ALTER the table; writing the old shape into a new one would
// corrupt memory, so any other shape is refused (ereport only: no C++ objects live here, the
// trigger calls this without a pg_call).
void refuse_altered_log(Relation rel) {
  static const Oid kColumnTypes[] = {OIDOID, XID8OID, INT4OID};
  TupleDesc desc = RelationGetDescr(rel);
  bool columns_ok = desc->natts == 3;
  for (int i = 0; columns_ok && i < 3; i++) {
    Form_pg_attribute attribute = TupleDescAttr(desc, i);
    columns_ok = !attribute->attisdropped && attribute->atttypid == kColumnTypes[i];
  }
  if (!columns_ok) {
    table_close(rel, RowExclusiveLock);
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("the change log viewmgr.source_change has been altered: its columns "
                           "must be (relid oid, xid xid8, cid integer)"),
                    errhint("Restore the table as the install script defines it, or reinstall "
                            "the extension.")));
  }
  List* indexes = RelationGetIndexList(rel);
  bool index_ok = list_length(indexes) == 1;
  if (index_ok) {
    Relation index = index_open(linitial_oid(indexes), AccessShareLock);
    Form_pg_index form = index->rd_index;
    index_ok = form->indnatts == 2 && form->indkey.values[0] == 1 && form->indkey.values[1] == 2 &&
               heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr) &&
               heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr);
    index_close(index, AccessShareLock);
  }
  list_free(indexes);
  if (!index_ok) {
    table_close(rel, RowExclusiveLock);
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("the change log viewmgr.source_change has been altered: its one index "
                           "must be on (relid, xid)"),
                    errhint("Restore the table as the install script defines it, or reinstall "
                            "the extension.")));
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
  refuse_altered_log(rel);
  Datum values[3] = {ObjectIdGetDatum(relid), FullTransactionIdGetDatum(GetTopFullTransactionId()),
                     Int32GetDatum(static_cast<int32>(GetCurrentCommandId(false)))};
  bool nulls[3] = {false, false, false};
  HeapTuple tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
  simple_heap_insert(rel, tuple);
  // The log's one index is on (relid, xid), the table's two columns in order (checked above).
  List* indexes = RelationGetIndexList(rel);
  ListCell* lc;
  foreach (lc, indexes) {
    Relation index = index_open(lfirst_oid(lc), RowExclusiveLock);
    IndexInfo* info = BuildIndexInfo(index);
    index_insert(index, values, nulls, &tuple->t_self, rel, UNIQUE_CHECK_NO, false, info);
    index_close(index, RowExclusiveLock);
  }
  list_free(indexes);
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

void forget_logged_tables() { logged_count = 0; }

void fire_tracking_trigger_always(Oid relid) {
  Relation rel = table_open(relid, ShareRowExclusiveLock);
  compat::set_trigger_firing(rel, kTrackingTrigger, TRIGGER_FIRES_ALWAYS, ShareRowExclusiveLock);
  table_close(rel, NoLock);
}

namespace {

bool ddl_tracking_paused = false;

// Relations a DROP or ALTER statement names, before it runs (their parents are still known),
// resolved with the caller's search_path as the statement will resolve them.
std::vector<Oid> relations_named(Node* parsetree) {
  std::vector<Oid> out;
  auto add = [&](RangeVar* range_var) {
    Oid relid = pg_call([&] { return RangeVarGetRelid(range_var, NoLock, true); });
    if (OidIsValid(relid)) out.push_back(relid);
  };
  if (IsA(parsetree, DropStmt)) {
    ListCell* lc;
    foreach (lc, reinterpret_cast<DropStmt*>(parsetree)->objects) {
      List* names = static_cast<List*>(lfirst(lc));
      add(pg_call([&] { return makeRangeVarFromNameList(names); }));
    }
  } else if (IsA(parsetree, AlterTableStmt)) {
    add(reinterpret_cast<AlterTableStmt*>(parsetree)->relation);
  }
  return out;
}

}  // namespace

DdlTrackingPause::DdlTrackingPause() : was_paused_(ddl_tracking_paused) { ddl_tracking_paused = true; }
DdlTrackingPause::~DdlTrackingPause() { ddl_tracking_paused = was_paused_; }

void record_ddl_changes(FunctionCallInfo fcinfo) {
  if (ddl_tracking_paused) return;
  if (fcinfo->context == nullptr || !IsA(fcinfo->context, EventTriggerData)) {
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "viewmgr.track_ddl() must be called as an event trigger");
  }
  auto* event = reinterpret_cast<EventTriggerData*>(fcinfo->context);
  // A rename or a move to another schema changes no relation's rows (views keep reading the
  // same objects by oid): nothing turns stale.
  if (IsA(event->parsetree, RenameStmt) || IsA(event->parsetree, AlterObjectSchemaStmt)) return;
  std::vector<Oid> relids;
  if (strcmp(event->event, "ddl_command_start") == 0) {
    relids = relations_named(event->parsetree);
  } else {
    QueryResult commands = spi_query(
        "SELECT DISTINCT objid FROM pg_catalog.pg_event_trigger_ddl_commands() "
        "WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass");
    for (const Row& row : commands.rows) relids.push_back(to_oid(row[0]));
  }
  if (relids.empty()) return;
  // A table just created is read by nothing yet; what it is a partition or child of is.
  bool created = event->tag == CMDTAG_CREATE_TABLE;
  // With every table they are a partition or an inheritance child of.
  QueryResult up = spi_query(
      "WITH RECURSIVE up(rel, depth) AS (SELECT pg_catalog.unnest($1::pg_catalog.oid[]), 0 "
      "  UNION SELECT i.inhparent, up.depth OPERATOR(pg_catalog.+) 1 FROM pg_catalog.pg_inherits i "
      "  JOIN up ON i.inhrelid OPERATOR(pg_catalog.=) up.rel) "
      "SELECT DISTINCT rel FROM up WHERE depth OPERATOR(pg_catalog.>) 0 OR NOT $2",
      {{oid_array(relids)}, {std::string(created ? "true" : "false"), BOOLOID}});
  for (const Row& row : up.rows) {
    Oid relid = to_oid(row[0]);
    pg_call([&] { record_change(relid); });
  }
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
