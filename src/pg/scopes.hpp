// RAII scopes over PostgreSQL session state. On the error path they do nothing: the
// transaction (or subtransaction) abort restores GUCs and the user id itself.
#pragma once
#include "pg/postgres.hpp"

#include <string>

namespace viewmgr::pg {

// Sets search_path for the scope, the way a function's SET clause does.
class ScopedSearchPath {
 public:
  explicit ScopedSearchPath(const std::string& search_path);
  ~ScopedSearchPath();
  ScopedSearchPath(const ScopedSearchPath&) = delete;
  ScopedSearchPath& operator=(const ScopedSearchPath&) = delete;

 private:
  int nest_level_;
};

// Runs the scope as the registry's owner (the extension owner), so the registry can be
// written only through pg_viewmgr's functions. Only registry reads and writes run inside it,
// never user SQL: definitions always run with the caller's rights.
class ScopedRegistryWriter {
 public:
  ScopedRegistryWriter();
  ~ScopedRegistryWriter();
  ScopedRegistryWriter(const ScopedRegistryWriter&) = delete;
  ScopedRegistryWriter& operator=(const ScopedRegistryWriter&) = delete;

 private:
  Oid saved_user_;
  int saved_security_context_;
};

}  // namespace viewmgr::pg
