#include "sync/name_bindings.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "pg/names.hpp"
#include "pg/scopes.hpp"
#include "pg/spi.hpp"
#include "refresh/change_tracking.hpp"
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

// The objects a view's _RETURN rule depends on ($1: the view), one row each, with the
// catalog, schema and name their resolution went by, and how PostgreSQL names them. Objects
// outside any schema (none a definition resolves through the path) are left out; a type's
// name is its typname (pg_identify_object_as_address gives the qualified type as one name).
#define DEPENDENCIES_OF_VIEW                                                                   \
  "SELECT DISTINCT d.refclassid::pg_catalog.regclass::text AS catalog, i.schema, "             \
  "CASE WHEN d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass "                        \
  "THEN (SELECT t.typname::text FROM pg_catalog.pg_type t WHERE t.oid = d.refobjid) "          \
  "ELSE a.object_names[pg_catalog.array_upper(a.object_names, 1)] END AS name, "               \
  "i.type AS kind, i.identity "                                                                \
  "FROM pg_catalog.pg_rewrite r "                                                              \
  "JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "   \
  "AND d.objid = r.oid "                                                                       \
  "CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.refclassid, d.refobjid, 0) i "           \
  "CROSS JOIN LATERAL pg_catalog.pg_identify_object_as_address(d.refclassid, d.refobjid, 0) a " \
  "WHERE r.ev_class = $1 AND r.rulename = '_RETURN' AND i.schema IS NOT NULL "                 \
  "AND NOT (d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = $1)"

// A new binding of a name, found by find_binding_change.
struct BindingChange {
  std::string name;      // as resolved: "lower", "=", "items"
  std::string now;       // "function ob_evil.lower(character varying)"
  std::optional<std::string> before;  // what the definition bound to under that name, if recorded
};

// The first dependency of `relid` outside pg_catalog whose catalog, schema and name are not
// among `view.bindings` (when those apply to its registered definition and search_path).
std::optional<BindingChange> find_binding_change(const ManagedView& view, Oid relid) {
  if (!view.bindings.has_value()) return std::nullopt;
  QueryResult result = spi_query(
      "WITH applies AS (SELECT $2::pg_catalog.jsonb AS b "
      " WHERE $2::pg_catalog.jsonb ->> 'definition' = $3 "
      " AND $2::pg_catalog.jsonb -> 'search_path' = pg_catalog.to_jsonb($4::text[])), "
      "was AS (SELECT w.* FROM applies, pg_catalog.jsonb_to_recordset(applies.b -> 'objects') "
      " AS w(catalog text, schema text, name text, kind text, identity text)), "
      "now AS (" DEPENDENCIES_OF_VIEW ") "
      "SELECT n.name, n.kind OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) n.identity, "
      " (SELECT pg_catalog.string_agg(w.identity, ', ' ORDER BY w.identity) FROM was w "
      "   WHERE w.catalog = n.catalog AND w.name = n.name) "
      "FROM now n WHERE EXISTS (SELECT FROM applies) AND n.schema <> 'pg_catalog' "
      "AND NOT EXISTS (SELECT FROM was w WHERE w.catalog = n.catalog AND w.schema = n.schema "
      " AND w.name = n.name) "
      "ORDER BY n.catalog, n.identity LIMIT 1",
      {{std::to_string(relid), OIDOID},
       {*view.bindings},
       {view.definition},
       {to_array_literal(view.search_path)}},
      // Not read-only: the view was just made by this command, a read-only query's snapshot
      // would not see its dependencies.
      /*read_only=*/false);
  if (result.rows.empty()) return std::nullopt;
  const Row& row = result.rows.front();
  return BindingChange{*row[0], *row[1], row[2]};
}

// Whether `view.bindings` were recorded for its registered definition and search_path.
bool bindings_apply(const ManagedView& view) {
  if (!view.bindings.has_value()) return false;
  QueryResult result = spi_query(
      "SELECT $1::pg_catalog.jsonb ->> 'definition' = $2 "
      "AND $1::pg_catalog.jsonb -> 'search_path' = pg_catalog.to_jsonb($3::text[])",
      {{*view.bindings}, {view.definition}, {to_array_literal(view.search_path)}},
      /*read_only=*/true);
  return result.rows.front()[0] == std::optional<std::string>("t");
}

[[noreturn]] void refuse_binding_change(const ManagedView& view, const BindingChange& change) {
  // Built before: a rebuild. Never built: the first build of a registration recorded with
  // apply => false.
  bool rebuild = view.is_built();
  std::string message = std::string(rebuild ? "cannot rebuild " : "cannot build ") +
                        view.display_name + ": \"" + change.name + "\" would now resolve to " +
                        change.now;
  std::string detail;
  if (change.before.has_value()) {
    message += " instead of " + *change.before;
  } else {
    message += rebuild ? ", not to what it was built on" : ", not to what it was registered with";
    detail = "Nothing of that kind named \"" + change.name +
             "\" outside pg_catalog was bound to before (a built-in object was, or none). ";
  }
  detail += "The registered search_path is " + search_path_setting(view.search_path) + ".";
  throw Error(sqlstate::kInsufficientPrivilege, message, detail,
              "Drop or rename " + change.now + ", or register the view again with \"" +
                  change.name + "\" qualified or another search_path.");
}

// A name no relation of `schema` has, for a scratch view made and rolled back at once.
QualifiedName scratch_name(const std::string& schema) {
  QualifiedName name{schema, "pg_viewmgr_bindings_probe"};
  for (int attempt = 1; OidIsValid(relation_oid(name)); attempt++) {
    name.name = "pg_viewmgr_bindings_probe_" + std::to_string(attempt);
  }
  return name;
}

// Runs `inspect` on a plain view made from `view`'s registered definition and search_path
// under a scratch name in its schema (where whoever registers or builds it may create), in
// a subtransaction that is always rolled back: nothing stays, and no query runs (creating
// a plain view runs none, even for a materialized view's definition). False when the view
// cannot be made (the error is dropped with the subtransaction).
template <typename Fn>
bool with_scratch_view(const ManagedView& view, Fn&& inspect) {
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  pg_call([] { BeginInternalSubTransaction(nullptr); });
  bool made = false;
  try {
    DdlTrackingPause paused;
    QualifiedName scratch = scratch_name(view.name.schema);
    {
      ScopedSearchPath scope(search_path_setting(view.search_path));
      spi_execute("CREATE VIEW " + scratch.display() + " AS " + view.definition);
    }
    made = true;
    inspect(relation_oid(scratch));
  } catch (PgError&) {
    made = false;
  } catch (...) {
    pg_call([] { RollbackAndReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
    throw;
  }
  pg_call([] { RollbackAndReleaseCurrentSubTransaction(); });
  MemoryContextSwitchTo(context);
  CurrentResourceOwner = owner;
  return made;
}

}  // namespace

std::string bindings_of(const ManagedView& view, Oid relid) {
  QueryResult result = spi_query(
      "SELECT pg_catalog.jsonb_build_object('definition', $2::text, "
      "'search_path', pg_catalog.to_jsonb($3::text[]), 'objects', "
      "COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(o) ORDER BY o.catalog, o.identity) "
      "FROM (" DEPENDENCIES_OF_VIEW ") o), '[]'::pg_catalog.jsonb))::text",
      {{std::to_string(relid), OIDOID}, {view.definition}, {to_array_literal(view.search_path)}},
      /*read_only=*/false);  // as in find_binding_change
  return *result.rows.front()[0];
}

void take_standing_bindings(ManagedView& view) {
  if (bindings_apply(view)) return;
  // Only the view as pg_viewmgr built it: the same relation, its rule not replaced by hand
  // since (a view replaced by hand binds to whatever its new query named).
  if (!view.built_definition.has_value() || *view.built_definition != view.definition ||
      view.built_search_path != view.search_path) {
    return;
  }
  Oid relid = relation_oid(view.name);
  if (!OidIsValid(relid) || relid != view.built_relid || rule_xmin(relid) != view.built_rule_xmin) {
    return;
  }
  view.bindings = bindings_of(view, relid);
}

bool refresh_registered_bindings(ManagedView& view, bool probe) {
  if (bindings_apply(view)) return false;
  std::optional<std::string> before = view.bindings;
  take_standing_bindings(view);
  if (probe && view.bindings == before) view.bindings = probe_bindings(view);
  return view.bindings != before;
}

std::optional<std::string> probe_bindings(const ManagedView& view) {
  std::optional<std::string> found;
  // Copied out as text before the subtransaction ends.
  with_scratch_view(view, [&](Oid relid) { found = bindings_of(view, relid); });
  return found;
}

void check_bindings_kept(const ManagedView& view, Oid relid) {
  auto change = find_binding_change(view, relid);
  if (change.has_value()) refuse_binding_change(view, *change);
}

void check_bindings_before_create(const ManagedView& view) {
  if (!view.bindings.has_value()) return;
  std::optional<BindingChange> change;
  with_scratch_view(view, [&](Oid relid) { change = find_binding_change(view, relid); });
  if (change.has_value()) refuse_binding_change(view, *change);
}

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
