#include "sync/name_bindings.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "pg/names.hpp"
#include "pg/spi.hpp"
#include "sync/definition.hpp"

namespace viewmgr::pg {

namespace {

// The relations the standing view's stored query reads (its _RETURN rule's dependencies).
std::vector<QualifiedName> relations_read_by(Oid relid) {
  QueryResult result = spi_query(
      "SELECT DISTINCT n.nspname, c.relname "
      "FROM pg_catalog.pg_rewrite r "
      "JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
      " AND d.objid = r.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
      "JOIN pg_catalog.pg_class c ON c.oid = d.refobjid "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE r.ev_class = $1 AND d.refobjid <> $1",
      {{std::to_string(relid), OIDOID}}, /*read_only=*/true);
  std::vector<QualifiedName> out;
  for (const auto& row : result.rows) out.push_back({*row[0], *row[1]});
  return out;
}

}  // namespace

void check_name_bindings(const ManagedView& view) {
  if (!view.built_definition.has_value() || *view.built_definition != view.definition ||
      view.built_search_path != view.search_path) {
    return;
  }
  Oid relid = relation_oid(view.name);
  if (!OidIsValid(relid)) return;
  std::vector<QualifiedName> read = relations_read_by(relid);
  for (const auto& ref : parse_definition(view.definition).reads) {
    // A qualified name cannot be redirected by the path.
    if (!ref.schema.empty()) continue;
    auto now = resolve_name({ref.name}, view.search_path, PathRule::kRead,
                            [](const QualifiedName& candidate) {
                              return OidIsValid(relation_oid(candidate));
                            });
    if (!now.has_value()) continue;  // the build itself will say it is missing
    auto same = [&](const QualifiedName& r) {
      return r.schema == now->schema && r.name == now->name;
    };
    if (std::any_of(read.begin(), read.end(), same)) continue;
    // Only a relation of that name read from another schema is a change of binding (a name
    // that is a CTE, or a relation the view no longer reads directly, is not).
    auto was = std::find_if(read.begin(), read.end(),
                            [&](const QualifiedName& r) { return r.name == ref.name; });
    if (was == read.end()) continue;
    throw Error(sqlstate::kInsufficientPrivilege,
                "cannot rebuild " + view.display_name + ": \"" + ref.name +
                    "\" would now resolve to " + now->display() + " instead of " +
                    was->display(),
                "The registered search_path is " + search_path_setting(view.search_path) + ".",
                "Drop or rename " + now->display() +
                    ", or register the view again with a qualified name or another search_path.");
  }
}

}  // namespace viewmgr::pg
