#include "sync/live_catalog.hpp"

#include <algorithm>

#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "sync/ddl_text.hpp"
#include "sync/definition.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace viewmgr::pg {

std::optional<LiveRelation> live_relation(const QualifiedName& name) {
  Oid oid = relation_oid(name);
  if (!OidIsValid(oid)) return std::nullopt;
  return pg_call([&] {
    LiveRelation live{};
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(oid));
    if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for relation %u", oid);
    auto* form = (Form_pg_class)GETSTRUCT(tuple);
    live.oid = oid;
    live.relkind = form->relkind;
    live.populated = form->relispopulated;
    live.owner = form->relowner;
    ReleaseSysCache(tuple);
    return live;
  });
}

std::optional<QualifiedName> renamed_to(const ManagedView& view) {
  if (!OidIsValid(view.built_relid) || !view.built_viewdef.has_value()) return std::nullopt;
  Oid relid = view.built_relid;
  struct Found {
    bool exists;
    char relkind;
    char* schema;
    char* name;
  };
  Found found = pg_call([&] {
    Found f{false, 0, nullptr, nullptr};
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tuple)) return f;
    auto* form = (Form_pg_class)GETSTRUCT(tuple);
    f.exists = true;
    f.relkind = form->relkind;
    f.schema = get_namespace_name(form->relnamespace);
    f.name = pstrdup(NameStr(form->relname));
    ReleaseSysCache(tuple);
    return f;
  });
  if (!found.exists || found.relkind != (view.materialized ? RELKIND_MATVIEW : RELKIND_VIEW)) {
    return std::nullopt;
  }
  if (live_canonical_definition(relid) != *view.built_viewdef) return std::nullopt;
  return QualifiedName{found.schema, found.name};
}

std::vector<std::string> live_view_options(Oid relid) {
  QueryResult result = spi_query("SELECT c.reloptions::text FROM pg_catalog.pg_class c WHERE c.oid = $1",
                                 {{std::to_string(relid), OIDOID}});
  if (result.rows.empty() || !result.rows[0][0].has_value()) return {};
  return normalize_view_options(parse_text_array(*result.rows[0][0]));
}

const char* relkind_name(char relkind) {
  switch (relkind) {
    case RELKIND_VIEW: return "view";
    case RELKIND_MATVIEW: return "materialized view";
    case RELKIND_RELATION: return "table";
    case RELKIND_PARTITIONED_TABLE: return "partitioned table";
    case RELKIND_FOREIGN_TABLE: return "foreign table";
    case RELKIND_SEQUENCE: return "sequence";
    default: return "relation";
  }
}

std::vector<LiveIndex> live_indexes(Oid relid) {
  QueryResult result = spi_query(
      "SELECT c.relname, pg_catalog.pg_get_indexdef(i.indexrelid) "
      "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
      "WHERE i.indrelid = $1 ORDER BY 1",
      {{std::to_string(relid), OIDOID}});
  std::vector<LiveIndex> out;
  for (const auto& row : result.rows) out.push_back({*row[0], *row[1]});
  return out;
}

std::optional<std::string> new_index_name(const std::vector<LiveIndex>& before,
                                          const std::vector<LiveIndex>& after) {
  for (const auto& index : after) {
    bool existed = std::any_of(before.begin(), before.end(),
                               [&](const LiveIndex& b) { return b.name == index.name; });
    if (!existed) return index.name;
  }
  return std::nullopt;
}

std::vector<std::string> missing_built_indexes(const ManagedView& view, Oid relid) {
  std::vector<std::string> missing;
  if (!view.materialized || view.built_indexes.empty()) return missing;
  std::vector<LiveIndex> live = live_indexes(relid);
  for (const auto& definition : view.built_indexes) {
    bool present = std::any_of(live.begin(), live.end(),
                               [&](const LiveIndex& index) { return index.definition == definition; });
    if (!present) missing.push_back(definition);
  }
  return missing;
}

}  // namespace viewmgr::pg
