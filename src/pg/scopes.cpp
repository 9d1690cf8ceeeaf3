#include "pg/scopes.hpp"

#include <exception>

#include "core/error.hpp"
#include "pg/boundary.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/acl.h"
#include "catalog/namespace.h"
#include "utils/syscache.h"
}

namespace viewmgr::pg {

ScopedSetting::ScopedSetting(const char* name, const std::string& setting) {
  const char* value = setting.c_str();
  nest_level_ = pg_call([&] {
    int level = NewGUCNestLevel();
    (void)set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                            false);
    return level;
  });
}

ScopedSetting::~ScopedSetting() {
  if (std::uncaught_exceptions() == 0) AtEOXact_GUC(true, nest_level_);
}

bool current_user_has_privs_of(Oid role) {
  // role_exists() makes its own pg_call: never nested inside another one, whose PG_TRY would
  // be left without restoring PostgreSQL's error stack when the inner one throws.
  if (!role_exists(role)) return pg_call([] { return superuser(); });
  return pg_call([&] { return has_privs_of_role(GetUserId(), role); });
}

bool role_exists(Oid role) {
  return OidIsValid(role) && pg_call([&] { return SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)); });
}

std::string describe_role(Oid role) {
  const char* name = OidIsValid(role) ? pg_call([&] { return GetUserNameFromId(role, true); }) : nullptr;
  if (name == nullptr) return "a dropped role (oid " + std::to_string(role) + ")";
  return "role \"" + std::string(name) + "\"";
}

ScopedOwner::ScopedOwner(Oid owner, const std::string& what) {
  if (!role_exists(owner)) {
    throw Error(sqlstate::kUndefinedObject,
                "cannot build " + what + ": its owner role no longer exists",
                "It was registered by " + describe_role(owner) + ".",
                "Register it again as an existing role (a superuser may), or unregister it.");
  }
  bool current = pg_call([&] { return owner == GetUserId(); });
  if (current) return;
  if (!current_user_has_privs_of(owner)) {
    std::string role = describe_role(owner);
    throw Error(sqlstate::kInsufficientPrivilege, "permission denied to build " + what + " as " + role,
                "It belongs to " + role + "; only that role or its members can rebuild it.");
  }
  GetUserIdAndSecContext(&saved_user_, &saved_security_context_);
  SetUserIdAndSecContext(owner, saved_security_context_ | SECURITY_LOCAL_USERID_CHANGE |
                                    SECURITY_RESTRICTED_OPERATION);
  switched_ = true;
}

ScopedOwner::~ScopedOwner() {
  if (switched_) SetUserIdAndSecContext(saved_user_, saved_security_context_);
}

ScopedRole::ScopedRole(const std::string& role) {
  const char* name = role.c_str();
  Oid role_oid = pg_call([&] { return get_role_oid(name, false); });
  GetUserIdAndSecContext(&saved_user_, &saved_security_context_);
  SetUserIdAndSecContext(role_oid, saved_security_context_ | SECURITY_LOCAL_USERID_CHANGE |
                                       SECURITY_RESTRICTED_OPERATION);
}

ScopedRole::~ScopedRole() { SetUserIdAndSecContext(saved_user_, saved_security_context_); }

}  // namespace viewmgr::pg
