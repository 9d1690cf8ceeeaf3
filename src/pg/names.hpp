// Names as users write them and as the registry stores them.
#pragma once
#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

namespace viewmgr::pg {

struct QualifiedName {
  std::string schema;
  std::string name;
  // quote_ident(schema) || '.' || quote_ident(name): the form every result and the
  // registry's dependency arrays use.
  std::string display() const;
  bool operator==(const QualifiedName& other) const {
    return schema == other.schema && name == other.name;
  }
};

// quote_ident.
std::string quote_ident(const std::string& identifier);
std::string quote_literal(const std::string& text);

// A search_path setting expanded to schema names ($user replaced), as stored in the
// registry; and back to a setting that can be SET again (pg_temp last, so temporary
// relations never shadow what a managed view reads).
std::vector<std::string> expand_search_path(const std::string& setting);
std::string search_path_setting(const std::vector<std::string>& schemas);

// Splits a user-given name into one or two parts; errors on NULL-like, empty, overlong
// (>= NAMEDATALEN bytes: no silent truncation) and malformed names. `what` names the
// argument in messages.
std::vector<std::string> parse_user_name(const std::string& text, const char* what);

// Where CREATE VIEW would put an unqualified name: the first existing schema of the path.
QualifiedName resolve_for_create(const std::string& text, const std::vector<std::string>& path);

// The current role's name (inside SECURITY INVOKER functions: the caller).
std::string current_user_name();

// Oid of a relation by qualified name, InvalidOid if absent.
Oid relation_oid(const QualifiedName& name);
// And back: the qualified name of an existing relation.
QualifiedName relation_name(Oid relid);

}  // namespace viewmgr::pg
