// The registry table viewmgr.managed_view, in this order: the SQL texts (the column list, the
// owner and display-name expressions, the recursive neighbourhood lookups), turning rows
// into ManagedView, the loads (all, one, one declaration, a neighbourhood), the saves (one,
// many, a build's record), deletes, and the registry lock.
#include "registry/registry.hpp"

#include <memory>

#include "core/error.hpp"
#include "core/sql_text.hpp"
#include "pg/boundary.hpp"
#include "pg/lock_holders.hpp"
#include "sync/definition.hpp"
#include "registry/own_tables.hpp"
#include "pg/scopes.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
}

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
  kBindings,
  kIncremental,
  kRegisteredOwner,
};

// The pg_class row `c` is the view registry row `alias` last built, standing under its
// registered name (after a restore built_relid names nothing, or something else).
#define BUILT_RELATION_STANDS(alias)                                                      \
  "c.oid OPERATOR(pg_catalog.=) " alias ".built_relid AND c.relkind IN ('v', 'm') "     \
  "AND c.relname OPERATOR(pg_catalog.=) " alias ".relation_name "                        \
  "AND c.relnamespace OPERATOR(pg_catalog.=) "                                           \
  "pg_catalog.to_regnamespace(pg_catalog.quote_ident(" alias ".schema_name))"

// The owner of a registry row as SQL, as an oid: the owner PostgreSQL records for the view
// last built while it stands (ALTER ... OWNER TO and REASSIGN OWNED hand views over without
// asking pg_viewmgr), else the role stored with the registration.
#define OWNER_OF(alias)                                                                  \
  "COALESCE((SELECT c.relowner FROM pg_catalog.pg_class c WHERE " BUILT_RELATION_STANDS( \
      alias) "), " alias ".owner::pg_catalog.oid)"

#define REGISTRY_COLUMNS                                                                       \
  "m.schema_name, m.relation_name, m.materialized, m.definition, m.search_path, m.depends_on, " \
  "m.reads, m.indexes, m.with_data, m.comment, m.view_options, m.built_definition, "           \
  "m.built_search_path, m.built_index_specs, m.built_with_data, m.built_comment, "             \
  "m.built_view_options, m.built_viewdef, m.built_indexes, m.built_relid, m.built_rule_xmin, " \
  OWNER_OF("m") ", m.last_refreshed_at, m.last_refresh_duration, m.last_error, m.bindings, m.incremental, " \
  "m.owner::pg_catalog.oid "

// The display name of a registry row as SQL: the expression the install script indexes
// (managed_view_display_idx), so lookups by display name use that index.
#define DISPLAY_NAME(alias)                                                   \
  "(pg_catalog.quote_ident(" alias ".schema_name) OPERATOR(pg_catalog.||) '.' " \
  "OPERATOR(pg_catalog.||) pg_catalog.quote_ident(" alias ".relation_name))"

constexpr const char* kSelectAll =
    "SELECT " REGISTRY_COLUMNS "FROM viewmgr.managed_view m ORDER BY m.schema_name, m.relation_name";

constexpr const char* kSelectOne =
    "SELECT " REGISTRY_COLUMNS "FROM viewmgr.managed_view m "
    "WHERE m.schema_name = $1 AND m.relation_name = $2";

// Upstream: follow reads and depends_on to the rows they name (display-name index).
// Downstream: rows whose reads or depends_on contain a name (GIN indexes on both arrays).
// Each step is a LATERAL subquery kept apart (OFFSET 0), so it stays an index probe per
// name rather than a scan of the whole registry joined by hash.
#define ROW_NAMED(name)                                                                   \
  "CROSS JOIN LATERAL (SELECT m.* FROM viewmgr.managed_view m WHERE " DISPLAY_NAME("m") \
  " = " name " OFFSET 0) m "
constexpr const char* kSelectDownstream =
    "WITH RECURSIVE down(name) AS ("
    "  SELECT $1::text "
    "  UNION "
    "  SELECT " DISPLAY_NAME("m") " FROM down CROSS JOIN LATERAL ("
    "    SELECT m.schema_name, m.relation_name FROM viewmgr.managed_view m "
    "    WHERE m.reads OPERATOR(pg_catalog.@>) ARRAY[down.name] "
    "       OR m.depends_on OPERATOR(pg_catalog.@>) ARRAY[down.name] OFFSET 0) m"
    ") SELECT name FROM down";

constexpr const char* kSelectAround =
    "WITH RECURSIVE up(name) AS ("
    "  SELECT pg_catalog.unnest($1::text[]) "
    "  UNION "
    "  SELECT d.name FROM up " ROW_NAMED("up.name")
    "  CROSS JOIN LATERAL pg_catalog.unnest(m.reads OPERATOR(pg_catalog.||) m.depends_on) AS d(name)"
    "), down(name) AS ("
    "  SELECT pg_catalog.unnest($2::text[]) "
    "  UNION "
    "  SELECT " DISPLAY_NAME("m") " FROM down CROSS JOIN LATERAL ("
    "    SELECT m.schema_name, m.relation_name FROM viewmgr.managed_view m "
    "    WHERE m.reads OPERATOR(pg_catalog.@>) ARRAY[down.name] "
    "       OR m.depends_on OPERATOR(pg_catalog.@>) ARRAY[down.name] OFFSET 0) m"
    "), wanted(name) AS ("
    "  SELECT name FROM up UNION SELECT name FROM down "
    "  UNION SELECT d.name FROM down " ROW_NAMED("down.name")
    "  CROSS JOIN LATERAL pg_catalog.unnest(m.reads OPERATOR(pg_catalog.||) m.depends_on) AS d(name)"
    ") SELECT " REGISTRY_COLUMNS "FROM wanted " ROW_NAMED("wanted.name")
    "ORDER BY m.schema_name, m.relation_name";

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

namespace {

std::vector<ManagedView> to_views(const QueryResult& result) {
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
    v.owner = to_oid(row[kOwner]);
    v.last_refreshed_at = row[kLastRefreshedAt];
    v.last_refresh_duration = row[kLastRefreshDuration];
    v.last_error = row[kLastError];
    v.bindings = row[kBindings];
    v.incremental = row[kIncremental] == std::optional<std::string>("t");
    v.registered_owner = to_oid(row[kRegisteredOwner]);
    views.push_back(std::move(v));
  }
  return views;
}

}  // namespace

// Read as the extension owner: last_error is not readable by every role.
std::vector<ManagedView> load_registry() { return to_views(own_tables_query(kSelectAll)); }

std::optional<ManagedView> load_registration(const QualifiedName& name) {
  // Once per register() call: planned once per backend.
  static std::unique_ptr<OwnTablesStatement> select;
  if (!select) {
    select = std::make_unique<OwnTablesStatement>(kSelectOne, std::vector<Oid>{TEXTOID, TEXTOID},
                                                 PreparedStatement::Lifetime::kBackend,
                                                 OwnTablesStatement::Plan::kIndexProbes);
  }
  std::vector<ManagedView> views = to_views(select->execute({name.schema, name.name}, true));
  if (views.empty()) return std::nullopt;
  return std::move(views.front());
}

std::optional<Declaration> load_declaration(const QualifiedName& name) {
  // Once per register() call, thousands of times in a deploy: only the declaration (not the
  // build state, whose texts are the largest and compressed), planned once per backend.
  static std::unique_ptr<OwnTablesStatement> select;
  if (!select) {
    select = std::make_unique<OwnTablesStatement>(
        "SELECT materialized, definition, search_path, depends_on, reads, indexes, with_data, "
        "comment, view_options, " OWNER_OF("m") ", built_viewdef IS NOT NULL, incremental "
        "FROM viewmgr.managed_view m WHERE schema_name = $1 AND relation_name = $2",
        std::vector<Oid>{TEXTOID, TEXTOID}, PreparedStatement::Lifetime::kBackend,
        OwnTablesStatement::Plan::kIndexProbes);
  }
  QueryResult result = select->execute({name.schema, name.name}, true);
  if (result.rows.empty()) return std::nullopt;
  const Row& row = result.rows.front();
  Declaration d;
  ManagedView& v = d.view;
  v.name = name;
  v.display_name = name.display();
  v.materialized = row[0] == Value("t");
  v.definition = *row[1];
  v.search_path = text_array(row[2]);
  v.depends_on = text_array(row[3]);
  v.reads = text_array(row[4]);
  v.indexes = text_array(row[5]);
  v.with_data = row[6] == Value("t");
  v.comment = row[7];
  v.view_options = text_array(row[8]);
  v.owner = to_oid(row[9]);
  d.built = row[10] == Value("t");
  v.incremental = row[11] == Value("t");
  return d;
}

bool registration_exists(const QualifiedName& name) {
  static std::unique_ptr<OwnTablesStatement> select;
  if (!select) {
    select = std::make_unique<OwnTablesStatement>(
        "SELECT 1 FROM viewmgr.managed_view WHERE schema_name = $1 AND relation_name = $2",
        std::vector<Oid>{TEXTOID, TEXTOID}, PreparedStatement::Lifetime::kBackend,
        OwnTablesStatement::Plan::kIndexProbes);
  }
  return !select->execute({name.schema, name.name}, true).rows.empty();
}

std::vector<ManagedView> load_registry_around(const std::vector<std::string>& views,
                                             const std::vector<std::string>& reads) {
  static std::unique_ptr<OwnTablesStatement> select;
  if (!select) {
    select = std::make_unique<OwnTablesStatement>(kSelectAround,
                                                 std::vector<Oid>{TEXTARRAYOID, TEXTARRAYOID},
                                                 PreparedStatement::Lifetime::kBackend);
  }
  std::vector<std::string> up = views;
  up.insert(up.end(), reads.begin(), reads.end());
  IndexProbeScope probes;
  return to_views(select->execute({to_array_literal(up), to_array_literal(views)}, true));
}


std::vector<std::string> downstream_names(const std::string& display_name) {
  static std::unique_ptr<OwnTablesStatement> select;
  IndexProbeScope probes;
  if (!select) {
    select = std::make_unique<OwnTablesStatement>(kSelectDownstream, std::vector<Oid>{TEXTOID},
                                                 PreparedStatement::Lifetime::kBackend);
  }
  std::vector<std::string> names;
  for (const Row& row : select->execute({display_name}, true).rows) names.push_back(*row[0]);
  return names;
}

bool same_registration(const ManagedView& a, const ManagedView& b) {
  return a.name == b.name && a.materialized == b.materialized && a.definition == b.definition &&
         a.search_path == b.search_path && a.depends_on == b.depends_on && a.reads == b.reads &&
         a.indexes == b.indexes && a.with_data == b.with_data && a.comment == b.comment &&
         a.view_options == b.view_options && a.owner == b.owner && a.incremental == b.incremental;
}

void save_registration(const ManagedView& v) {
  // Once per register() call: planned once per backend.
  static std::unique_ptr<OwnTablesStatement> upsert;
  if (!upsert) {
    upsert = std::make_unique<OwnTablesStatement>(
        "INSERT INTO viewmgr.managed_view AS m (schema_name, relation_name, materialized, "
        "definition, search_path, depends_on, reads, indexes, with_data, comment, view_options, "
        "owner, incremental) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::pg_catalog.regrole, $13) "
        "ON CONFLICT (schema_name, relation_name) DO UPDATE SET "
        "materialized = EXCLUDED.materialized, definition = EXCLUDED.definition, "
        "search_path = EXCLUDED.search_path, depends_on = EXCLUDED.depends_on, "
        "reads = EXCLUDED.reads, indexes = EXCLUDED.indexes, with_data = EXCLUDED.with_data, "
        "comment = EXCLUDED.comment, view_options = EXCLUDED.view_options, "
        "owner = EXCLUDED.owner, incremental = EXCLUDED.incremental, "
        "updated_at = pg_catalog.now()",
        std::vector<Oid>{TEXTOID, TEXTOID, BOOLOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID,
                         TEXTARRAYOID, TEXTARRAYOID, BOOLOID, TEXTOID, TEXTARRAYOID, OIDOID, BOOLOID},
        PreparedStatement::Lifetime::kBackend);
  }
  upsert->execute({v.name.schema, v.name.name, bool_value(v.materialized), v.definition,
                   array_value(v.search_path), array_value(v.depends_on), array_value(v.reads),
                   array_value(v.indexes), bool_value(v.with_data), v.comment,
                   array_value(v.view_options), std::to_string(v.owner), bool_value(v.incremental)});
}

void save_registrations(const std::vector<const ManagedView*>& views) {
  if (views.empty()) return;
  if (views.size() == 1) return save_registration(*views.front());
  // One column array each; text[] columns travel as arrays of their literals.
  std::vector<std::string> schema, name, materialized, definition, search_path, depends_on,
      reads, indexes, with_data, view_options, owner, incremental;
  std::vector<std::optional<std::string>> comment;
  for (const ManagedView* v : views) {
    schema.push_back(v->name.schema);
    name.push_back(v->name.name);
    materialized.push_back(*bool_value(v->materialized));
    definition.push_back(v->definition);
    search_path.push_back(to_array_literal(v->search_path));
    depends_on.push_back(to_array_literal(v->depends_on));
    reads.push_back(to_array_literal(v->reads));
    indexes.push_back(to_array_literal(v->indexes));
    with_data.push_back(*bool_value(v->with_data));
    comment.push_back(v->comment);
    view_options.push_back(to_array_literal(v->view_options));
    owner.push_back(std::to_string(v->owner));
    incremental.push_back(*bool_value(v->incremental));
  }
  std::string comments = to_array_literal(comment);
  own_tables_query(
      "INSERT INTO viewmgr.managed_view AS m (schema_name, relation_name, materialized, "
      "definition, search_path, depends_on, reads, indexes, with_data, comment, view_options, "
      "owner, incremental) "
      "SELECT s, r, mat, def, sp::text[], dep::text[], rd::text[], ix::text[], wd, cm, vo::text[], "
      "ow::pg_catalog.regrole, inc FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]), "
      "pg_catalog.unnest($3::boolean[]), pg_catalog.unnest($4::text[]), "
      "pg_catalog.unnest($5::text[]), pg_catalog.unnest($6::text[]), pg_catalog.unnest($7::text[]), "
      "pg_catalog.unnest($8::text[]), pg_catalog.unnest($9::boolean[]), "
      "pg_catalog.unnest($10::text[]), pg_catalog.unnest($11::text[]), "
      "pg_catalog.unnest($12::pg_catalog.oid[]), pg_catalog.unnest($13::boolean[])) "
      "AS u(s, r, mat, def, sp, dep, rd, ix, wd, cm, vo, ow, inc) "
      "ON CONFLICT (schema_name, relation_name) DO UPDATE SET "
      "materialized = EXCLUDED.materialized, definition = EXCLUDED.definition, "
      "search_path = EXCLUDED.search_path, depends_on = EXCLUDED.depends_on, "
      "reads = EXCLUDED.reads, indexes = EXCLUDED.indexes, with_data = EXCLUDED.with_data, "
      "comment = EXCLUDED.comment, view_options = EXCLUDED.view_options, "
      "owner = EXCLUDED.owner, incremental = EXCLUDED.incremental, "
      "updated_at = pg_catalog.now()",
      {{to_array_literal(schema)}, {to_array_literal(name)}, {to_array_literal(materialized)},
       {to_array_literal(definition)}, {to_array_literal(search_path)},
       {to_array_literal(depends_on)}, {to_array_literal(reads)}, {to_array_literal(indexes)},
       {to_array_literal(with_data)}, {comments}, {to_array_literal(view_options)},
       {to_array_literal(owner)}, {to_array_literal(incremental)}});
}

BuildRecorder::BuildRecorder() {
  statement_ = std::make_unique<OwnTablesStatement>(
      "UPDATE viewmgr.managed_view SET reads = $3, built_definition = $4, "
      "built_search_path = $5, built_index_specs = $6, built_with_data = $7, "
      "built_comment = $8, built_view_options = $9, built_viewdef = $10, built_indexes = $11, "
      "built_relid = $12, built_rule_xmin = $13, built_at = pg_catalog.now(), last_error = NULL, "
      "bindings = $14::pg_catalog.jsonb, "
      // the role the build made the owner, which may not be the registering one
      "owner = COALESCE((SELECT c.relowner::pg_catalog.regrole FROM pg_catalog.pg_class c "
      "WHERE c.oid OPERATOR(pg_catalog.=) $12), owner) "
      "WHERE schema_name = $1 AND relation_name = $2",
      std::vector<Oid>{TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID,
                       BOOLOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTARRAYOID, OIDOID, XIDOID,
                       TEXTOID},
      PreparedStatement::Lifetime::kCall, OwnTablesStatement::Plan::kIndexProbes);
}

BuildRecorder::~BuildRecorder() = default;

void BuildRecorder::record(const ManagedView& v) {
  statement_->execute({v.name.schema, v.name.name, array_value(v.reads), v.built_definition,
                       array_value(v.built_search_path), array_value(v.built_index_specs),
                       bool_value(v.built_with_data), v.built_comment,
                       array_value(v.built_view_options), v.built_viewdef,
                       array_value(v.built_indexes), std::to_string(v.built_relid),
                       std::to_string(v.built_rule_xmin), v.bindings});
}

void follow_owner_changes(const std::optional<std::vector<QualifiedName>>& only) {
  if (!only.has_value()) {
    own_tables_query(
        "UPDATE viewmgr.managed_view m SET owner = c.relowner::pg_catalog.regrole "
        "FROM pg_catalog.pg_class c WHERE " BUILT_RELATION_STANDS("m") " "
        "AND c.relowner OPERATOR(pg_catalog.<>) m.owner::pg_catalog.oid");
    return;
  }
  if (only->empty()) return;
  std::vector<std::string> schemas, relations;
  for (const auto& name : *only) {
    schemas.push_back(name.schema);
    relations.push_back(name.name);
  }
  own_tables_probe(
      "UPDATE viewmgr.managed_view m SET owner = c.relowner::pg_catalog.regrole "
      "FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS d(s, r), "
      "pg_catalog.pg_class c WHERE m.schema_name = d.s AND m.relation_name = d.r "
      "AND " BUILT_RELATION_STANDS("m") " "
      "AND c.relowner OPERATOR(pg_catalog.<>) m.owner::pg_catalog.oid",
      {{to_array_literal(schemas)}, {to_array_literal(relations)}});
}

void save_bindings(const ManagedView& v) {
  own_tables_probe("UPDATE viewmgr.managed_view SET bindings = $3::pg_catalog.jsonb "
                   "WHERE schema_name = $1 AND relation_name = $2",
                   {{v.name.schema}, {v.name.name}, {v.bindings}});
}

void delete_registration(const QualifiedName& name) {
  own_tables_probe("DELETE FROM viewmgr.managed_view WHERE schema_name = $1 AND relation_name = $2",
                   {{name.schema}, {name.name}});
  own_tables_probe("DELETE FROM viewmgr.refresh_state WHERE schema_name = $1 AND relation_name = $2",
                   {{name.schema}, {name.name}});
}

void delete_registrations(const std::vector<QualifiedName>& names) {
  if (names.empty()) return;
  std::vector<std::string> schemas, relations;
  for (const auto& name : names) {
    schemas.push_back(name.schema);
    relations.push_back(name.name);
  }
  std::vector<Param> args = {{to_array_literal(schemas)}, {to_array_literal(relations)}};
  for (const char* table : {"managed_view", "refresh_state"}) {
    own_tables_query(std::string("DELETE FROM viewmgr.") + table +
                         " t USING ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS d(s, r) "
                         "WHERE t.schema_name = d.s AND t.relation_name = d.r",
                     args);
  }
}

namespace {

// One advisory lock key for the whole extension ("viewmgr" in ASCII).
constexpr int64 kRegistryLockKey = INT64CONST(8531461325653202290);

}  // namespace

void lock_registry() {
  // Called directly, not through SQL: register() takes it once per call, thousands of times
  // in a deploy. Tried first without waiting, so that only a session that will have to wait
  // pays for finding out whom it waits for.
  bool got = pg_call([] {
    return DatumGetBool(DirectFunctionCall1(pg_try_advisory_xact_lock_int8, Int64GetDatum(kRegistryLockKey)));
  });
  if (got) return;
  std::string holder = advisory_lock_holder(kRegistryLockKey);
  if (holder.empty()) holder = "another session (which ended meanwhile)";
  try {
    pg_call([] { DirectFunctionCall1(pg_advisory_xact_lock_int8, Int64GetDatum(kRegistryLockKey)); });
  } catch (PgError& error) {
    if (error.sqlerrcode() != ERRCODE_LOCK_NOT_AVAILABLE) throw;
    const char* timeout = pg_call([] { return GetConfigOptionByName("lock_timeout", nullptr, false); });
    throw Error(unpack_sql_state(ERRCODE_LOCK_NOT_AVAILABLE),
                "the pg_viewmgr registry is locked by another transaction",
                "Held by " + holder + ".",
                std::string("pg_viewmgr changes managed views one transaction at a time. Wait for that "
                            "transaction to end, or raise lock_timeout (now ") +
                    (timeout != nullptr ? timeout : "?") + ").");
  }
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
