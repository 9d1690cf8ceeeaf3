// Every PostgreSQL-version difference the project cares about, in one place: 15 (Debian 12),
// 17 (Debian 13) and 18 (Debian forky) are built and tested (scripts/run_tests.sh --pg N).
// Each difference names the version that made it.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "parser/scanner.h"
#include "postmaster/bgworker.h"
#include "rewrite/rewriteManip.h"
#include "utils/acl.h"
#include "utils/syscache.h"
#if PG_VERSION_NUM >= 180000
#include "optimizer/optimizer.h"
#endif
}

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 190000
#error "pg_viewmgr supports PostgreSQL 15 to 18 (15, 17 and 18 are tested): add the new version's branches here"
#endif

namespace viewmgr::pg::compat {

// Parse analysis of one raw statement with no parameters.
inline Query* analyze(RawStmt* raw, const char* source_text) {
  return parse_analyze_fixedparams(raw, source_text, nullptr, 0, nullptr);
}

// Puts a set-returning function into materialize mode; returns the tuplestore to fill.
inline void init_materialized_srf(FunctionCallInfo fcinfo) { InitMaterializedSRF(fcinfo, 0); }

// Before PostgreSQL 16 a view's stored query starts its range table with placeholder
// entries "old" and "new" (which also change how it is deparsed); 16 stopped adding them.
// Remove them so the stored query deparses exactly like a freshly analysed definition.
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

// PostgreSQL 16 replaced the per-catalog pg_class_ownercheck / pg_namespace_aclcheck with
// the generic object_ownercheck / object_aclcheck (catalog oid as the first argument).
inline bool owns_relation(Oid relid, Oid role) {
#if PG_VERSION_NUM >= 160000
  return object_ownercheck(RelationRelationId, relid, role);
#else
  return pg_class_ownercheck(relid, role);
#endif
}

inline AclResult schema_acl(Oid nsp, Oid role, AclMode mode) {
#if PG_VERSION_NUM >= 160000
  return object_aclcheck(NamespaceRelationId, nsp, role, mode);
#else
  return pg_namespace_aclcheck(nsp, role, mode);
#endif
}

// Token numbers of the core SQL scanner. They come from the grammar (parser/gram.h, reached
// through parser/gramparse.h), which PostgreSQL 16 stopped installing: both headers moved
// into src/backend/parser. So on every version the numbers are learnt from the scanner
// itself, by scanning one sample of each kind; keywords and single-character tokens need no
// number (a keyword's text is in core_YYSTYPE::keyword, a character is its own token).
// Call inside pg_call: the scanner pallocs.
struct ScanTokens {
  int ident;   // foo
  int sconst;  // 'text'
  int iconst;  // 1
  int fconst;  // 1.5
  int op;      // an operator of several characters that has no token of its own
  int param;   // $1
};

inline int first_token(const char* sample) {
  core_yy_extra_type extra;
  core_yyscan_t scanner = scanner_init(sample, &extra, &ScanKeywords, ScanKeywordTokens);
  core_YYSTYPE value;
  YYLTYPE location;
  int token = core_yylex(&value, &location, scanner);
  scanner_finish(scanner);
  return token;
}

inline const ScanTokens& scan_tokens() {
  static ScanTokens tokens{};
  static bool known = false;
  if (!known) {
    tokens = ScanTokens{first_token("x"),   first_token("'x'"), first_token("1"),
                        first_token("1.5"), first_token("<->"), first_token("$1")};
    known = true;
  }
  return tokens;
}

// A background worker connects as the session user of the backend that started it and then
// takes on the current role (connect_worker). Before PostgreSQL 17 that connection fails
// for a role without LOGIN (e.g. a pg_cron job of a NOLOGIN owner run in a background
// worker); 17 added BGWORKER_BYPASS_ROLELOGINCHECK so a worker may connect as such a role.
inline constexpr uint32 kWorkerConnectionFlags =
#if PG_VERSION_NUM >= 170000
    BGWORKER_BYPASS_ROLELOGINCHECK;
#else
    0;
#endif

// Whether a background worker can connect as `role` (see kWorkerConnectionFlags): always
// since PostgreSQL 17, only for a role with LOGIN before. Call inside pg_call.
inline bool worker_can_connect_as(Oid role) {
#if PG_VERSION_NUM >= 170000
  return true;
#else
  HeapTuple tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(role));
  if (!HeapTupleIsValid(tuple)) return false;
  bool can_login = reinterpret_cast<Form_pg_authid>(GETSTRUCT(tuple))->rolcanlogin;
  ReleaseSysCache(tuple);
  return can_login;
#endif
}

// Sets when a trigger fires (TRIGGER_FIRES_ALWAYS, ...), as ALTER TABLE ... ENABLE ALWAYS
// TRIGGER does but without its ownership check. PostgreSQL 16 gave EnableDisableTrigger a
// parent trigger oid and a recurse flag; every 15 release has the five-argument form.
inline void set_trigger_firing(Relation rel, const char* trigger, char fires_when, LOCKMODE lockmode) {
#if PG_VERSION_NUM >= 160000
  EnableDisableTrigger(rel, trigger, InvalidOid, fires_when, false, false, lockmode);
#else
  EnableDisableTrigger(rel, trigger, fires_when, false, lockmode);
#endif
}

// Whether `role` may refresh the materialized view `relid`: its owner (or a member of it,
// or a superuser), and since PostgreSQL 17 also a holder of the MAINTAIN privilege. Call
// inside pg_call.
inline bool may_refresh(Oid relid, Oid role) {
  if (owns_relation(relid, role)) return true;
#if PG_VERSION_NUM >= 170000
  return pg_class_aclcheck(relid, role, ACL_MAINTAIN) == ACLCHECK_OK;
#else
  return false;
#endif
}

// PostgreSQL 18 gives a grouped query an RTE_GROUP range table entry, and its output refers
// to grouped expressions through Vars of that entry. Whether `rte` is that entry:
inline bool is_grouping_step(const RangeTblEntry* rte) {
#if PG_VERSION_NUM >= 180000
  return rte->rtekind == RTE_GROUP;
#else
  (void)rte;
  return false;
#endif
}

// An expression of a grouped query's output in terms of its FROM items (on 18 the Vars of
// the RTE_GROUP entry are replaced by what they stand for). Call inside pg_call.
inline Node* without_grouping_step(Query* query, Node* expr) {
#if PG_VERSION_NUM >= 180000
  if (query->hasGroupRTE) return flatten_group_exprs(nullptr, query, expr);
#else
  (void)query;
#endif
  return expr;
}

}  // namespace viewmgr::pg::compat
