// Every PostgreSQL-version difference the project cares about, in one place. Only 15 is
// built and tested here; other versions get their branch below when they are added.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "funcapi.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "rewrite/rewriteManip.h"
#include "utils/acl.h"
}

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 180000
#error "pg_viewmgr supports PostgreSQL 15 (13-17 are planned: add their branches here)"
#endif

namespace viewmgr::pg::compat {

// Parse analysis of one raw statement with no parameters.
inline Query* analyze(RawStmt* raw, const char* source_text) {
  return parse_analyze_fixedparams(raw, source_text, nullptr, 0, nullptr);
}

// Puts a set-returning function into materialize mode; returns the tuplestore to fill.
inline void init_materialized_srf(FunctionCallInfo fcinfo) { InitMaterializedSRF(fcinfo, 0); }

// Before PostgreSQL 16 a view's stored query starts its range table with placeholder
// entries "old" and "new" (which also change how it is deparsed). Remove them so the stored
// query deparses exactly like a freshly analysed definition.
inline Query* stored_query_as_analyzed(Query* query) {
#if PG_VERSION_NUM < 160000
  if (list_length(query->rtable) >= 2) {
    auto* old_rte = static_cast<RangeTblEntry*>(linitial(query->rtable));
    auto* new_rte = static_cast<RangeTblEntry*>(lsecond(query->rtable));
    if (old_rte->alias != nullptr && new_rte->alias != nullptr &&
        strcmp(old_rte->alias->aliasname, "old") == 0 &&
        strcmp(new_rte->alias->aliasname, "new") == 0) {
      query->rtable = list_delete_first(list_delete_first(query->rtable));
      OffsetVarNodes(reinterpret_cast<Node*>(query), -2, 0);
    }
  }
#endif
  return query;
}

inline bool owns_relation(Oid relid, Oid role) { return pg_class_ownercheck(relid, role); }

inline AclResult schema_acl(Oid nsp, Oid role, AclMode mode) {
  return pg_namespace_aclcheck(nsp, role, mode);
}

}  // namespace viewmgr::pg::compat
