#include "sync/name_bindings.hpp"

#include <algorithm>
#include <memory>
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

// What a view just built binds to, and the first new binding, in one statement planned once
// per backend (it runs for every build). $1: the view; $2: the bindings to compare with (NULL:
// none); $3, $4: the registered definition and search_path.
//   now:     what the view's _RETURN rule depends on, by catalog, schema and name, for the
//            kinds of object a name in a query resolves to through the search_path
//            (relations, functions, operators, types, collations, text search
//            configurations and dictionaries); read from the catalogs directly, which is
//            much cheaper than pg_identify_object for every dependency.
//   applies: $2, when it was recorded for $3 and $4.
//   change:  the first dependency outside pg_catalog with no binding of the same catalog,
//            schema and name in $2, named for the error by pg_identify_object.
// Returns one row: the bindings to record, then (all NULL without a change) the name, what
// it would bind to now, and what of that catalog and name it bound to before.
constexpr const char* kBindingsOfView =
    "WITH now AS MATERIALIZED ("
    " SELECT DISTINCT o.catalog, n.nspname::text AS schema, o.name, d.refclassid, d.refobjid "
    " FROM pg_catalog.pg_rewrite r "
    " JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
    "  AND d.objid = r.oid "
    " CROSS JOIN LATERAL ("
    "  SELECT 'pg_class' AS catalog, c.relnamespace AS ns, c.relname::text AS name "
    "   FROM pg_catalog.pg_class c WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "   AND c.oid = d.refobjid AND c.oid <> $1 "
    "  UNION ALL SELECT 'pg_proc', p.pronamespace, p.proname::text FROM pg_catalog.pg_proc p "
    "   WHERE d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND p.oid = d.refobjid "
    "  UNION ALL SELECT 'pg_operator', o.oprnamespace, o.oprname::text FROM pg_catalog.pg_operator o "
    "   WHERE d.refclassid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND o.oid = d.refobjid "
    "  UNION ALL SELECT 'pg_type', t.typnamespace, t.typname::text FROM pg_catalog.pg_type t "
    "   WHERE d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.oid = d.refobjid "
    "  UNION ALL SELECT 'pg_collation', l.collnamespace, l.collname::text FROM pg_catalog.pg_collation l "
    "   WHERE d.refclassid = 'pg_catalog.pg_collation'::pg_catalog.regclass AND l.oid = d.refobjid "
    "  UNION ALL SELECT 'pg_ts_config', f.cfgnamespace, f.cfgname::text FROM pg_catalog.pg_ts_config f "
    "   WHERE d.refclassid = 'pg_catalog.pg_ts_config'::pg_catalog.regclass AND f.oid = d.refobjid "
    "  UNION ALL SELECT 'pg_ts_dict', x.dictnamespace, x.dictname::text FROM pg_catalog.pg_ts_dict x "
    "   WHERE d.refclassid = 'pg_catalog.pg_ts_dict'::pg_catalog.regclass AND x.oid = d.refobjid"
    " ) o "
    " JOIN pg_catalog.pg_namespace n ON n.oid = o.ns "
    " WHERE r.ev_class = $1 AND r.rulename = '_RETURN'), "
    "applies AS (SELECT $2::pg_catalog.jsonb AS b "
    " WHERE $2::pg_catalog.jsonb ->> 'definition' = $3 "
    " AND $2::pg_catalog.jsonb -> 'search_path' = pg_catalog.to_jsonb($4::text[])), "
    "was AS (SELECT w.* FROM applies, pg_catalog.jsonb_to_recordset(applies.b -> 'objects') "
    " AS w(catalog text, schema text, name text)), "
    "change AS (SELECT n.* FROM now n WHERE EXISTS (SELECT FROM applies) "
    " AND n.schema <> 'pg_catalog' "
    " AND NOT EXISTS (SELECT FROM was w WHERE w.catalog = n.catalog AND w.schema = n.schema "
    "  AND w.name = n.name) "
    " ORDER BY n.catalog, n.schema, n.name LIMIT 1) "
    "SELECT pg_catalog.jsonb_build_object('definition', $3, "
    " 'search_path', pg_catalog.to_jsonb($4::text[]), 'objects', "
    " COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
    "   'catalog', u.catalog, 'schema', u.schema, 'name', u.name) "
    "   ORDER BY u.catalog, u.schema, u.name) "
    "  FROM (SELECT DISTINCT catalog, schema, name FROM now) u), '[]'::pg_catalog.jsonb))::text, "
    " c.name, i.type OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) i.identity, "
    " (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(w.schema) OPERATOR(pg_catalog.||) '.' "
    "   OPERATOR(pg_catalog.||) pg_catalog.quote_ident(w.name), ', ' ORDER BY w.schema) "
    "  FROM was w WHERE w.catalog = c.catalog AND w.name = c.name) "
    "FROM (SELECT) one LEFT JOIN change c ON true "
    "LEFT JOIN LATERAL pg_catalog.pg_identify_object(c.refclassid, c.refobjid, 0) i ON true";

// A new binding of a name, found by read_bindings.
struct BindingChange {
  std::string name;      // as resolved: "lower", "=", "items"
  std::string now;       // "function ob_evil.lower(character varying)"
  std::optional<std::string> before;  // what it bound to under that name, if recorded
};

struct ReadBindings {
  std::string bindings;  // what `relid` binds to, as ManagedView::bindings holds it
  std::optional<BindingChange> change;  // against `compared_with`, when that applies
};

ReadBindings read_bindings(const ManagedView& view, Oid relid,
                           const std::optional<std::string>& compared_with) {
  static std::unique_ptr<PreparedStatement> statement;
  if (!statement) {
    statement = std::make_unique<PreparedStatement>(
        kBindingsOfView, std::vector<Oid>{OIDOID, TEXTOID, TEXTOID, TEXTARRAYOID},
        PreparedStatement::Lifetime::kBackend);
  }
  // Not read-only: the view was just made by this command, a read-only query's snapshot
  // would not see its dependencies.
  QueryResult result = statement->execute(
      {std::to_string(relid), compared_with, view.definition, to_array_literal(view.search_path)},
      /*read_only=*/false);
  const Row& row = result.rows.front();
  ReadBindings read{*row[0], std::nullopt};
  if (row[1].has_value()) read.change = BindingChange{*row[1], *row[2], row[3]};
  return read;
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
  return read_bindings(view, relid, std::nullopt).bindings;
}

void take_standing_bindings(ManagedView& view) {
  // Only the view as pg_viewmgr built it: the same relation, its rule not replaced by hand
  // since (a view replaced by hand binds to whatever its new query named). What it depends
  // on is then what its build recorded, or newer (renames PostgreSQL made since).
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

void check_bindings_kept(ManagedView& view, Oid relid) {
  ReadBindings read = read_bindings(view, relid, view.bindings);
  if (read.change.has_value()) refuse_binding_change(view, *read.change);
  // What the build binds to now; mark_built records it.
  view.bindings = std::move(read.bindings);
  view.bindings_relid = relid;
}

void check_bindings_before_create(const ManagedView& view) {
  if (!view.bindings.has_value()) return;
  std::optional<BindingChange> change;
  with_scratch_view(view, [&](Oid relid) { change = read_bindings(view, relid, view.bindings).change; });
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
