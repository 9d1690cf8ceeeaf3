// register() and unregister(): checking a declaration, recording it in the registry and
// (unless apply => false) building what it touches; and taking a view out of management.
#pragma once

#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace viewmgr::pg {

// register()'s arguments as the user gave them.
struct Registration {
  std::string view_name;
  std::string definition;
  bool materialized = false;
  std::vector<std::string> depends_on;
  std::vector<std::string> indexes;
  bool with_data = true;
  std::optional<std::string> comment;
  bool apply = true;
  std::vector<std::string> view_options;
  bool incremental = false;
  std::string search_path;  // the caller's setting
};

struct ManagedView;
struct QualifiedName;

// The checks register() makes, shared with declare(): argument combinations (22023); the
// privileges plain SQL would ask for (own the view if it exists, else CREATE on the
// schema); being a member of the role that manages an existing registration.
void check_registration_arguments(const Registration& registration);
// What require_create_rights learned of each schema (keyed by name), for declare() to
// check a schema once for all of its views: the schema's oid once it is known not to
// belong to an extension, and whether the caller may CREATE in it, once asked.
struct SchemaRights {
  Oid namespace_oid = InvalidOid;
  std::optional<bool> may_create;
};
using KnownSchemaRights = std::unordered_map<std::string, SchemaRights>;
void require_create_rights(const QualifiedName& name, KnownSchemaRights* known = nullptr);
void require_registry_owner(const ManagedView& view, const char* verb);
// The text without leading and trailing white space.
std::string trim_space(const std::string& text);

// Returns what it did: created, replaced, rebuilt, unchanged or registered.
std::string register_view(Registration registration);

void unregister_view(const std::string& view_name, bool drop_view, bool cascade,
                     const std::string& search_path);

}  // namespace viewmgr::pg
