#include "pg/names.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"
}

namespace viewmgr::pg {

std::string quote_ident(const std::string& identifier) {
  const char* in = identifier.c_str();
  // quote_identifier returns its argument when no quoting is needed, else a palloc'd copy.
  const char* out = pg_call([&] { return quote_identifier(in); });
  return std::string(out);
}

std::string quote_literal(const std::string& text) {
  const char* in = text.c_str();
  return std::string(pg_call([&] { return quote_literal_cstr(in); }));
}

std::string QualifiedName::display() const { return quote_ident(schema) + "." + quote_ident(name); }

std::vector<std::string> expand_search_path(const std::string& setting) {
  std::vector<std::string> schemas;
  List* elements = nullptr;
  const char* text = setting.c_str();
  bool ok = pg_call([&] {
    char* copy = pstrdup(text);
    return SplitIdentifierString(copy, ',', &elements);
  });
  if (!ok) {
    throw Error(sqlstate::kInvalidParameterValue, "invalid search_path: " + setting);
  }
  std::string user_name;
  ListCell* cell;
  foreach (cell, elements) {
    std::string element = static_cast<const char*>(lfirst(cell));
    if (element == "$user") {
      if (user_name.empty()) {
        user_name = pg_call([] { return GetUserNameFromId(GetUserId(), false); });
      }
      element = user_name;
    }
    if (element == "pg_temp" || element.rfind("pg_temp_", 0) == 0) continue;
    schemas.push_back(element);
  }
  return schemas;
}

std::string search_path_setting(const std::vector<std::string>& schemas) {
  std::string out;
  for (const auto& schema : schemas) {
    out += quote_ident(schema);
    out += ", ";
  }
  out += "pg_temp";
  return out;
}

std::vector<std::string> parse_user_name(const std::string& text, const char* what) {
  if (text.find_first_not_of(" \t\r\n\f") == std::string::npos) {
    throw Error(sqlstate::kInvalidParameterValue, std::string(what) + " must not be empty");
  }
  std::vector<std::string> parts = split_qualified_name(text);
  if (parts.size() > 2) {
    throw Error("42602", "improper qualified name (too many dotted names): " + text,
                {}, "Give a view name as name or schema.name.");
  }
  for (const auto& part : parts) {
    if (part.size() >= NAMEDATALEN) {
      throw Error(sqlstate::kNameTooLong,
                  "identifier \"" + part + "\" is too long (" + std::to_string(part.size()) +
                      " bytes)",
                  "PostgreSQL names are limited to " + std::to_string(NAMEDATALEN - 1) +
                      " bytes; pg_viewmgr does not truncate them.");
    }
  }
  return parts;
}

std::optional<QualifiedName> resolve_name(const std::vector<std::string>& parts,
                                          const std::vector<std::string>& path, PathRule rule,
                                          const std::function<bool(const QualifiedName&)>& exists) {
  if (parts.size() == 2) return QualifiedName{parts[0], parts[1]};
  std::vector<std::string> schemas;
  bool path_has_catalog = std::find(path.begin(), path.end(), "pg_catalog") != path.end();
  if (rule == PathRule::kRead && !path_has_catalog) schemas.push_back("pg_catalog");
  for (const auto& schema : path) {
    if (rule == PathRule::kCreate && schema == "pg_catalog") continue;
    schemas.push_back(schema);
  }
  for (const auto& schema : schemas) {
    QualifiedName candidate{schema, parts.back()};
    if (exists(candidate)) return candidate;
  }
  return std::nullopt;
}

QualifiedName resolve_for_create(const std::string& text, const std::vector<std::string>& path) {
  std::vector<std::string> parts = parse_user_name(text, "view_name");
  auto schema_exists = [](const QualifiedName& candidate) {
    const char* s = candidate.schema.c_str();
    return pg_call([&] { return OidIsValid(get_namespace_oid(s, true)); });
  };
  auto name = resolve_name(parts, path, PathRule::kCreate, schema_exists);
  if (!name.has_value()) {
    throw Error("3F000", "no schema has been selected to create view \"" + parts[0] + "\" in",
                {}, "Qualify the view name, or register it with a search_path naming a schema.");
  }
  return *name;
}

Oid find_relation(const std::vector<std::string>& parts, const std::vector<std::string>& path) {
  auto name = resolve_name(parts, path, PathRule::kRead,
                           [](const QualifiedName& candidate) {
                             return OidIsValid(relation_oid(candidate));
                           });
  return name.has_value() ? relation_oid(*name) : InvalidOid;
}

Oid current_user_id() { return GetUserId(); }

std::string current_user_name() {
  return std::string(pg_call([] { return GetUserNameFromId(GetUserId(), false); }));
}

Oid relation_oid(const QualifiedName& name) {
  const char* schema = name.schema.c_str();
  const char* rel = name.name.c_str();
  return pg_call([&] {
    Oid nsp = get_namespace_oid(schema, true);
    return OidIsValid(nsp) ? get_relname_relid(rel, nsp) : InvalidOid;
  });
}

}  // namespace viewmgr::pg

namespace viewmgr::pg {

QualifiedName relation_name(Oid relid) {
  struct Names {
    char* schema;
    char* name;
  };
  Names names = pg_call([&] {
    char* name = get_rel_name(relid);
    if (name == nullptr) elog(ERROR, "cache lookup failed for relation %u", relid);
    return Names{get_namespace_name(get_rel_namespace(relid)), name};
  });
  return {names.schema, names.name};
}

}  // namespace viewmgr::pg
