#include "pg/scopes.hpp"

#include <exception>

#include "core/error.hpp"
#include "pg/boundary.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/acl.h"
#include "catalog/namespace.h"
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

bool current_user_has_privs_of(const std::string& role) {
  const char* name = role.c_str();
  return pg_call([&] {
    Oid role_oid = get_role_oid(name, true);
    return OidIsValid(role_oid) ? has_privs_of_role(GetUserId(), role_oid) : superuser();
  });
}

ScopedOwner::ScopedOwner(const std::string& owner, const std::string& what) {
  const char* name = owner.c_str();
  struct Check {
    Oid role;
    bool current;
    bool allowed;
  };
  Check check = pg_call([&] {
    Check c{get_role_oid(name, true), false, false};
    c.current = c.role == GetUserId();
    c.allowed = OidIsValid(c.role) && has_privs_of_role(GetUserId(), c.role);
    return c;
  });
  if (check.current) return;
  if (!check.allowed) {
    throw Error(sqlstate::kInsufficientPrivilege,
                "permission denied to build " + what + " as role \"" + owner + "\"",
                "It belongs to role \"" + owner + "\"; only that role or its members can rebuild it.");
  }
  GetUserIdAndSecContext(&saved_user_, &saved_security_context_);
  SetUserIdAndSecContext(check.role, saved_security_context_ | SECURITY_LOCAL_USERID_CHANGE |
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
