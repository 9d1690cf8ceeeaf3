// Names as users write them and as the registry stores them.
#pragma once
#include "pg/postgres.hpp"

#include <functional>
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

// The one rule pg_viewmgr resolves names by, PostgreSQL's own. A qualified name is taken
// as it is. An unqualified one is looked up the way the parser reads a relation name
// (kRead: pg_catalog first unless the path places it, then each schema of the path) or the
// way CREATE places one (kCreate: the first schema of the path, never pg_catalog
// implicitly); the first candidate for which `exists` holds wins. nullopt when none does.
enum class PathRule { kRead, kCreate };
std::optional<QualifiedName> resolve_name(const std::vector<std::string>& parts,
                                          const std::vector<std::string>& path, PathRule rule,
                                          const std::function<bool(const QualifiedName&)>& exists);

// Where CREATE VIEW would put a user-given name: the first existing schema of the path.
QualifiedName resolve_for_create(const std::string& text, const std::vector<std::string>& path);

// An existing relation by name parts (one or two), as a query would read it; InvalidOid if
// absent.
Oid find_relation(const std::vector<std::string>& parts, const std::vector<std::string>& path);

// The current role's name (inside SECURITY INVOKER functions: the caller).
std::string current_user_name();
Oid current_user_id();

// Oid of a relation by qualified name, InvalidOid if absent.
Oid relation_oid(const QualifiedName& name);
// And back: the qualified name of an existing relation.
QualifiedName relation_name(Oid relid);

}  // namespace viewmgr::pg
