// Group keys as expressions over a row of the one table an incremental view reads, through
// the plain views in between (issue 12, deliverable 2): what the capture triggers compute
// from the transition tables. Called inside pg_call (palloc'd results, PostgreSQL errors).
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "nodes/primnodes.h"
#include "nodes/pg_list.h"
}

namespace viewmgr::pg {

// Follows `relid` through plain views to the one table they read. For a table: returns it,
// *outputs = NIL. For a view that selects rows of one relation (itself such a view or a
// table; no grouping, DISTINCT, LIMIT, set operations, subqueries, WITH, volatile or stable
// functions): returns that table, *outputs = the view's output expressions over a row of it
// (Vars of varno 1), *views = the views' qualified names (char*), outermost first. For any
// other view: InvalidOid and *refusal says why, as a clause ("groups its rows").
Oid flatten_through_views(Oid relid, List** outputs, List** views, const char** refusal);

// `expr`, a group key whose Vars of `varno` read the relation the query reads, rewritten
// over a row of the table that relation reduces to (`outputs` from flatten_through_views,
// NIL for a table read directly). nullptr when it reads anything but that row's columns
// (other Vars, system columns, the whole row).
Node* over_table_row(Node* expr, Index varno, List* outputs);

}  // namespace viewmgr::pg
