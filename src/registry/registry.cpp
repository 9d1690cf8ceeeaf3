#include "registry/registry.hpp"

#include <memory>

#include "core/error.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "sync/definition.hpp"
#include "registry/own_tables.hpp"
#include "pg/spi.hpp"

namespace viewmgr::pg {

namespace {

// Registry columns in the order load_registry selects them.
enum RegistryColumn {
  kSchemaName,
  kRelationName,
  kMaterialized,
  kDefinition,
  kSearchPath,
  kDependsOn,
  kReads,
  kIndexes,
  kWithData,
  kComment,
  kViewOptions,
  kBuiltDefinition,
  kBuiltSearchPath,
  kBuiltIndexSpecs,
  kBuiltWithData,
  kBuiltComment,
  kBuiltViewOptions,
  kBuiltViewdef,
  kBuiltIndexes,
  kBuiltRelid,
  kBuiltRuleXmin,
  kOwner,
  kLastRefreshedAt,
  kLastRefreshDuration,
  kLastError,
};

constexpr const char* kSelectAll =
    "SELECT schema_name, relation_name, materialized, definition, search_path, depends_on, "
    "reads, indexes, with_data, comment, view_options, built_definition, built_search_path, "
    "built_index_specs, built_with_data, built_comment, built_view_options, built_viewdef, "
    "built_indexes, built_relid, built_rule_xmin, owner, "
    "last_refreshed_at, last_refresh_duration, last_error "
    "FROM viewmgr.managed_view ORDER BY schema_name, relation_name";

std::vector<std::string> text_array(const Value& value) {
  return value.has_value() ? parse_text_array(*value) : std::vector<std::string>{};
}

Value array_value(const std::vector<std::string>& items) { return to_array_literal(items); }

Value bool_value(bool b) { return std::string(b ? "true" : "false"); }

}  // namespace

BuildSpec ManagedView::spec() const {
  BuildSpec spec;
  spec.definition = definition;
  spec.search_path = search_path;
  // Compared as PostgreSQL reads them, so spelling (case, spaces) is not a change.
  for (const auto& index : indexes) spec.indexes.push_back({normalize_index_spec(index), index});
  spec.with_data = with_data;
  spec.comment = comment;
  spec.view_options = view_options;
  return spec;
}

BuildSpec ManagedView::built_spec() const {
  BuildSpec spec{built_definition.value_or(""), built_search_path, {}, built_with_data,
                 built_comment, built_view_options};
  for (const auto& index : built_index_specs) {
    spec.indexes.push_back({normalize_index_spec(index), index});
  }
  return spec;
}

std::vector<ManagedView> load_registry() {
  QueryResult result = own_tables_query(kSelectAll);  // last_error is not readable by all
  std::vector<ManagedView> views;
  views.reserve(result.rows.size());
  for (const Row& row : result.rows) {
    ManagedView v;
    v.name = {*row[kSchemaName], *row[kRelationName]};
    v.display_name = v.name.display();
    v.materialized = row[kMaterialized] == std::optional<std::string>("t");
    v.definition = *row[kDefinition];
    v.search_path = text_array(row[kSearchPath]);
    v.depends_on = text_array(row[kDependsOn]);
    v.reads = text_array(row[kReads]);
    v.indexes = text_array(row[kIndexes]);
    v.with_data = row[kWithData] == std::optional<std::string>("t");
    v.comment = row[kComment];
    v.view_options = text_array(row[kViewOptions]);
    v.built_definition = row[kBuiltDefinition];
    v.built_search_path = text_array(row[kBuiltSearchPath]);
    v.built_index_specs = text_array(row[kBuiltIndexSpecs]);
    v.built_with_data = row[kBuiltWithData] != std::optional<std::string>("f");
    v.built_comment = row[kBuiltComment];
    v.built_view_options = text_array(row[kBuiltViewOptions]);
    v.built_viewdef = row[kBuiltViewdef];
    v.built_indexes = text_array(row[kBuiltIndexes]);
    v.built_relid = row[kBuiltRelid] ? to_oid(row[kBuiltRelid]) : InvalidOid;
    v.built_rule_xmin = row[kBuiltRuleXmin]
                            ? static_cast<TransactionId>(std::stoul(*row[kBuiltRuleXmin]))
                            : InvalidTransactionId;
    v.owner = *row[kOwner];
    v.last_refreshed_at = row[kLastRefreshedAt];
    v.last_refresh_duration = row[kLastRefreshDuration];
    v.last_error = row[kLastError];
    views.push_back(std::move(v));
  }
  return views;
}

void save_registration(const ManagedView& v) {
  own_tables_query(
      "INSERT INTO viewmgr.managed_view AS m (schema_name, relation_name, materialized, "
      "definition, search_path, depends_on, reads, indexes, with_data, comment, view_options, "
      "owner) "
      "VALUES ($1, $2, $3::boolean, $4, $5::text[], $6::text[], $7::text[], $8::text[], "
      "$9::boolean, $10, $11::text[], $12::name) "
      "ON CONFLICT (schema_name, relation_name) DO UPDATE SET "
      "materialized = EXCLUDED.materialized, definition = EXCLUDED.definition, "
      "search_path = EXCLUDED.search_path, depends_on = EXCLUDED.depends_on, "
      "reads = EXCLUDED.reads, indexes = EXCLUDED.indexes, with_data = EXCLUDED.with_data, "
      "comment = EXCLUDED.comment, view_options = EXCLUDED.view_options, "
      "owner = EXCLUDED.owner, "
      "updated_at = pg_catalog.now()",
      {{v.name.schema}, {v.name.name}, {bool_value(v.materialized)}, {v.definition},
       {array_value(v.search_path)}, {array_value(v.depends_on)}, {array_value(v.reads)},
       {array_value(v.indexes)}, {bool_value(v.with_data)}, {v.comment},
       {array_value(v.view_options)}, {v.owner}});
}

BuildRecorder::BuildRecorder() {
  statement_ = std::make_unique<OwnTablesStatement>(
      "UPDATE viewmgr.managed_view SET reads = $3, built_definition = $4, "
      "built_search_path = $5, built_index_specs = $6, built_with_data = $7, "
      "built_comment = $8, built_view_options = $9, built_viewdef = $10, built_indexes = $11, "
      "built_relid = $12, built_rule_xmin = $13, built_at = pg_catalog.now(), last_error = NULL "
      "WHERE schema_name = $1 AND relation_name = $2",
      std::vector<Oid>{TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID,
                       BOOLOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTARRAYOID, OIDOID, XIDOID});
}

BuildRecorder::~BuildRecorder() = default;

void BuildRecorder::record(const ManagedView& v) {
  statement_->execute({v.name.schema, v.name.name, array_value(v.reads), v.built_definition,
                       array_value(v.built_search_path), array_value(v.built_index_specs),
                       bool_value(v.built_with_data), v.built_comment,
                       array_value(v.built_view_options), v.built_viewdef,
                       array_value(v.built_indexes), std::to_string(v.built_relid),
                       std::to_string(v.built_rule_xmin)});
}

void delete_registration(const QualifiedName& name) {
  own_tables_query("DELETE FROM viewmgr.managed_view WHERE schema_name = $1 AND relation_name = $2",
                   {{name.schema}, {name.name}});
  own_tables_query("DELETE FROM viewmgr.refresh_state WHERE schema_name = $1 AND relation_name = $2",
                   {{name.schema}, {name.name}});
}

void lock_registry() {
  // One advisory lock key for the whole extension ("viewmgr" in ASCII).
  spi_query("SELECT pg_catalog.pg_advisory_xact_lock(8531461325653202290)");
}

void require_writable(const char* function) {
  bool in_recovery = pg_call([] { return RecoveryInProgress(); });
  if (in_recovery) {
    throw Error(sqlstate::kReadOnlySqlTransaction,
                std::string("cannot run ") + function + " on a hot standby",
                "The server is in recovery: managed views can only be changed on the primary.",
                "Run it on the primary; status, drift and dependency_order work here.");
  }
}

}  // namespace viewmgr::pg
