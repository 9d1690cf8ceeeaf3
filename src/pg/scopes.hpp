// RAII scopes over PostgreSQL session state. On the error path they do nothing: the
// transaction (or subtransaction) abort restores GUCs and the user id itself.
#pragma once
#include "pg/postgres.hpp"

#include <string>

namespace viewmgr::pg {

// Sets a setting for the scope, the way a function's SET clause does.
class ScopedSetting {
 public:
  ScopedSetting(const char* name, const std::string& value);
  ~ScopedSetting();
  ScopedSetting(const ScopedSetting&) = delete;
  ScopedSetting& operator=(const ScopedSetting&) = delete;

 private:
  int nest_level_;
};

class ScopedSearchPath : public ScopedSetting {
 public:
  explicit ScopedSearchPath(const std::string& search_path)
      : ScopedSetting("search_path", search_path) {}
};

// Whether the current role has the privileges of `role` (is it, inherits from it, or is a
// superuser). A role that no longer exists: superusers only.
bool current_user_has_privs_of(Oid role);

// A role for messages: `role "alice"`, or `a dropped role (oid 16390)` for one that no
// longer exists.
std::string describe_role(Oid role);
// Whether `role` is a role that exists.
bool role_exists(Oid role);

// Runs the scope as `owner`, the role a view belongs to, the way REFRESH MATERIALIZED VIEW
// runs a definition as its owner: the definition's code never gets the rights of whoever
// called sync(). A security-restricted operation, so that code cannot change the session.
// Refused (42501) unless the current user has the privileges of `owner`, and (42704) when
// `owner` no longer exists; a no-op when the current user is `owner`.
class ScopedOwner {
 public:
  ScopedOwner(Oid owner, const std::string& what);
  ~ScopedOwner();
  ScopedOwner(const ScopedOwner&) = delete;
  ScopedOwner& operator=(const ScopedOwner&) = delete;

 private:
  bool switched_ = false;
  Oid saved_user_ = InvalidOid;
  int saved_security_context_ = 0;
};

// Runs the scope as `role` without any membership check, for pg_viewmgr's own statements
// that put back exactly what that role had done (a grant it had made). Never for user SQL.
class ScopedRole {
 public:
  explicit ScopedRole(const std::string& role);
  ~ScopedRole();
  ScopedRole(const ScopedRole&) = delete;
  ScopedRole& operator=(const ScopedRole&) = delete;

 private:
  Oid saved_user_ = InvalidOid;
  int saved_security_context_ = 0;
};

}  // namespace viewmgr::pg
