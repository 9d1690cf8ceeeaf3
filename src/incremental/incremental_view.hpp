// Incremental materialized views (issue 12; design in docs/incremental.md): the table that
// holds a view's rows, the objects that capture what its source's writes touch, and the
// refresh that recomputes only those groups.
//
// Per view, named ivm_<hash> after the view's qualified name (so pg_dump's copies are found
// again after a restore); each has an automatic dependency on the table and the extension:
//   viewmgr."ivm_<hash>_definition"  a plain view of the definition, owned by the view's owner:
//                                     what a refresh runs, what drift compares, what the
//                                     staleness walk starts from
//   viewmgr."ivm_<hash>_keys"        the key log: one row per group key a statement touched
//                                     (and a marker row per TRUNCATE), transactional
//   viewmgr."ivm_<hash>_capture"()    the statement trigger function that appends to it
//   triggers viewmgr_ivm_<hash>_{insert,update,delete,truncate} on the source (ENABLE ALWAYS)
//   trigger viewmgr_refuse_writes on the table: refuses every write pg_viewmgr did not make
#pragma once
#include "pg/postgres.hpp"

#include <string>

#include "registry/registry.hpp"

namespace viewmgr::pg {

// Whether `relid` is the table of an incremental materialized view (it has the guard trigger).
bool is_incremental_table(Oid relid);

// Drops the relation `relid` standing under a managed view's name `name`: a view, a
// materialized view, or the table of an incremental one with its capture objects (any
// other table is refused, 42809: pg_viewmgr never drops what it did not create).
void drop_managed_relation(Oid relid, const std::string& name);

// The definition view of an incremental view's table (InvalidOid when it is gone).
Oid incremental_definition_view(Oid table);

// Creates the table of `view` under its name with its capture objects and fills it, as
// the current user (the builder runs it as the view's owner). 0A000 when the definition
// does not qualify.
void create_incremental_table(const ManagedView& view);

// Brings the table `table` of an incremental view up to date: the groups logged since the
// last refresh, or everything where that is cheaper or required. Returns the history detail.
// Runs the view's statements as its owner.
std::string refresh_incremental_table(Oid table, const std::string& display_name);

}  // namespace viewmgr::pg
