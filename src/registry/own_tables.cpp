#include "registry/own_tables.hpp"

#include <optional>

#include "pg/boundary.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace viewmgr::pg {

namespace {

// The scope of one statement run as the extension owner. Errors arrive as exceptions
// (pg_call), so the destructor restores the user id on the error path too; the
// transaction's abort would restore it anyway.
class ExtensionOwnerScope {
 public:
  ExtensionOwnerScope();
  ~ExtensionOwnerScope();
  ExtensionOwnerScope(const ExtensionOwnerScope&) = delete;
  ExtensionOwnerScope& operator=(const ExtensionOwnerScope&) = delete;

 private:
  Oid saved_user_;
  int saved_security_context_;
};

}  // namespace

namespace {

Oid registry_owner() {
  return pg_call([] {
    // The extension is not relocatable: its schema is always viewmgr.
    Oid nsp = get_namespace_oid("viewmgr", false);
    Oid rel = get_relname_relid("managed_view", nsp);
    if (!OidIsValid(rel)) elog(ERROR, "pg_viewmgr: registry table is missing");
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
    if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for relation %u", rel);
    Oid owner = ((Form_pg_class)GETSTRUCT(tuple))->relowner;
    ReleaseSysCache(tuple);
    return owner;
  });
}

}  // namespace

ExtensionOwnerScope::ExtensionOwnerScope() {
  GetUserIdAndSecContext(&saved_user_, &saved_security_context_);
  Oid owner = registry_owner();
  // SECURITY_LOCAL_USERID_CHANGE keeps SET ROLE and friends from interfering meanwhile.
  SetUserIdAndSecContext(owner, saved_security_context_ | SECURITY_LOCAL_USERID_CHANGE);
}

ExtensionOwnerScope::~ExtensionOwnerScope() {
  SetUserIdAndSecContext(saved_user_, saved_security_context_);
}

QueryResult own_tables_query(const std::string& sql, const std::vector<Param>& params) {
  ExtensionOwnerScope scope;
  return spi_query(sql, params);
}

QueryResult own_tables_probe(const std::string& sql, const std::vector<Param>& params) {
  IndexProbeScope probes;
  return own_tables_query(sql, params);
}

OwnTablesStatement::OwnTablesStatement(const std::string& sql, const std::vector<Oid>& types,
                                       PreparedStatement::Lifetime lifetime, Plan plan)
    : statement_(sql, types, lifetime), plan_(plan) {}

QueryResult OwnTablesStatement::execute(const std::vector<Value>& values, bool read_only) {
  // The settings are those of the execution, not of the preparation: PostgreSQL plans a
  // kept statement at its first execution and again whenever what it reads changes.
  std::optional<IndexProbeScope> probes;
  if (plan_ == Plan::kIndexProbes) probes.emplace();
  ExtensionOwnerScope scope;
  return statement_.execute(values, read_only);
}

}  // namespace viewmgr::pg
