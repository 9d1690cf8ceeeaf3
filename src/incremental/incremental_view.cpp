#include "incremental/incremental_view.hpp"

#include <cctype>
#include <vector>

#include "core/error.hpp"
#include "core/incremental_query.hpp"
#include "core/sql_text.hpp"
#include "incremental/query_shape.hpp"
#include "pg/boundary.hpp"
#include "pg/names.hpp"
#include "pg/scopes.hpp"
#include "pg/spi.hpp"
#include "refresh/matview_set.hpp"
#include "refresh/refresh.hpp"
#include "registry/history.hpp"
#include "registry/own_tables.hpp"
#include "registry/refresh_state.hpp"

extern "C" {
#include "catalog/dependency.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "common/md5.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace viewmgr::pg {

namespace {

// Backend-local: on only while pg_viewmgr itself writes an incremental view's table. No
// SQL can set it; the guard trigger reads it.
bool engine_writing = false;

class EngineWriteScope {
 public:
  EngineWriteScope() : was_(engine_writing) { engine_writing = true; }
  ~EngineWriteScope() { engine_writing = was_; }
  EngineWriteScope(const EngineWriteScope&) = delete;
  EngineWriteScope& operator=(const EngineWriteScope&) = delete;

 private:
  bool was_;
};

constexpr const char* kGuardTrigger = "viewmgr_refuse_writes";

// In a refresh's single statement, the INSERT of the recomputed groups waits for the DELETE
// of the old ones (a CTE the INSERT reads runs first): a unique index on the group key
// then sees no duplicate.
constexpr const char* kAfterRemoved = "(SELECT count(*) FROM removed) >= 0";
const char* const kCaptureEvents[] = {"insert", "update", "delete", "truncate"};

// The names of one view's objects, from its table's oid.
struct Objects {
  std::string base;  // ivm_<oid>
  QualifiedName definition_view() const { return {"viewmgr", base + "_definition"}; }
  QualifiedName key_log() const { return {"viewmgr", base + "_keys"}; }
  std::string capture_function() const { return "viewmgr." + quote_ident(base + "_capture"); }
  std::string trigger(const char* event) const { return "viewmgr_" + base + "_" + event; }
};

// Named after the view's qualified name, not the table's oid, so that pg_dump's copies of
// them (it dumps them with the table) are found again after a restore.
Objects objects_for(const QualifiedName& name) {
  std::string display = name.display();
  const char* text = display.c_str();
  std::size_t length = display.size();
  char hex[33];
  bool ok = pg_call([&] {
    const char* error = nullptr;
    return pg_md5_hash(text, length, hex, &error);
  });
  if (!ok) throw Error(sqlstate::kInternalError, "pg_viewmgr: could not hash " + display);
  return Objects{"ivm_" + std::string(hex, 24)};
}

Objects objects_of(Oid table) {
  char* schema = nullptr;
  char* relname = nullptr;
  pg_call([&] {
    relname = get_rel_name(table);
    if (relname != nullptr) schema = get_namespace_name(get_rel_namespace(table));
  });
  if (relname == nullptr || schema == nullptr) {
    throw Error(sqlstate::kUndefinedTable, "relation " + std::to_string(table) + " does not exist");
  }
  return objects_for(QualifiedName{schema, relname});
}

void depend_automatically(Oid class_id, Oid object, Oid table) {
  pg_call([&] {
    ObjectAddress dependent;
    ObjectAddressSet(dependent, class_id, object);
    ObjectAddress extension;
    ObjectAddressSet(extension, ExtensionRelationId, get_extension_oid("pg_viewmgr", false));
    recordDependencyOn(&dependent, &extension, DEPENDENCY_AUTO);
    if (OidIsValid(table)) {
      ObjectAddress on_table;
      ObjectAddressSet(on_table, RelationRelationId, table);
      recordDependencyOn(&dependent, &on_table, DEPENDENCY_AUTO);
    }
  });
}

Oid trigger_oid(Oid relid, const std::string& name) {
  const char* n = name.c_str();
  return pg_call([&] { return get_trigger_oid(relid, n, false); });
}

Oid relation_owner(Oid relid) {
  QueryResult r = spi_query("SELECT relowner FROM pg_catalog.pg_class WHERE oid = $1",
                            {{std::to_string(relid), OIDOID}});
  if (r.rows.empty()) throw Error(sqlstate::kUndefinedTable, "relation " + std::to_string(relid) + " does not exist");
  return to_oid(r.rows[0][0]);
}

std::string joined_columns(const std::vector<std::string>& names, const std::string& prefix = "") {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + prefix + quote_ident(name);
  return out;
}

// "a.k1 IS NOT DISTINCT FROM b.k1 AND ...", NULL keys being groups too, spelt so that an
// index on the source's key column serves it once pushed into the definition:
// (a.k = b.k OR (a.k IS NULL AND b.k IS NULL)).
std::string same_keys(const std::vector<std::string>& columns, const std::string& a, const std::string& b) {
  std::string out;
  for (const auto& c : columns) {
    std::string x = a + "." + quote_ident(c);
    std::string y = b + "." + quote_ident(c);
    out += (out.empty() ? "" : " AND ") + std::string("(") + x + " = " + y + " OR (" + x + " IS NULL AND " + y +
           " IS NULL))";
  }
  return out;
}

// The same, spelt for a hash join: one-element arrays compare NULL elements as equal, with
// the element type's default equality (the one GROUP BY uses), and arrays hash.
std::string same_keys_hashable(const std::vector<std::string>& columns, const std::string& a,
                               const std::string& b) {
  std::string out;
  for (const auto& c : columns) {
    out += (out.empty() ? "" : " AND ") + std::string("ARRAY[") + a + "." + quote_ident(c) + "] = ARRAY[" + b + "." +
           quote_ident(c) + "]";
  }
  return out;
}

// A dollar quote tag that does not occur in `body`.
std::string dollar_quoted(const std::string& body) {
  std::string tag = "$viewmgr$";
  while (body.find(tag) != std::string::npos) tag.insert(tag.size() - 1, "_");
  return tag + body + tag;
}

// What the capture logs for each key, over a row of the source (or of a transition table):
// the column itself, or the key's expression (lower(name), date_trunc('day', ts), ...).
std::string logged_keys(const IncrementalPlan& plan) {
  std::string out;
  for (const auto& key : plan.keys) {
    std::string value = key.source_column.empty() ? "(" + key.source_expression + ")" : quote_ident(key.source_column);
    out += (out.empty() ? "" : ", ") + value;
  }
  return out;
}

std::string capture_function_sql(const QualifiedName& staged, const Objects& objects,
                                 const IncrementalPlan& plan) {
  std::vector<std::string> log_columns;
  for (const auto& key : plan.keys) log_columns.push_back(key.output_column);
  std::string log = objects.key_log().display();
  std::string insert = "INSERT INTO " + log + " (" + joined_columns(log_columns) + ") ";
  std::string cols = logged_keys(plan);
  std::string body =
      "BEGIN\n"
      "  IF TG_OP = 'TRUNCATE' THEN\n"
      "    INSERT INTO " + log + " (" + quote_ident(kTruncatedMarkerColumn) + ") VALUES (true);\n"
      "  ELSIF TG_OP = 'INSERT' THEN\n"
      "    " + insert + "SELECT DISTINCT " + cols + " FROM viewmgr_new;\n"
      "  ELSIF TG_OP = 'DELETE' THEN\n"
      "    " + insert + "SELECT DISTINCT " + cols + " FROM viewmgr_old;\n"
      "  ELSE\n"
      "    " + insert + "SELECT " + cols + " FROM viewmgr_old UNION SELECT " + cols + " FROM viewmgr_new;\n"
      "  END IF;\n"
      "  RETURN NULL;\n"
      "END\n";
  // SECURITY DEFINER: writers of the source append to a log only the view's owner may read.
  return "CREATE FUNCTION " + staged.display() +
         "() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS " +
         dollar_quoted(body);
}

}  // namespace

bool is_incremental_table(Oid relid) {
  if (!OidIsValid(relid)) return false;
  return pg_call([&] {
    return get_rel_relkind(relid) == RELKIND_RELATION && OidIsValid(get_trigger_oid(relid, kGuardTrigger, true));
  });
}

void drop_managed_relation(Oid relid, const std::string& name) {
  char relkind = pg_call([&] { return get_rel_relkind(relid); });
  if (relkind == RELKIND_MATVIEW) {
    spi_execute("DROP MATERIALIZED VIEW " + name);
  } else if (relkind == RELKIND_VIEW) {
    spi_execute("DROP VIEW " + name);
  } else if (is_incremental_table(relid)) {
    // Its objects go with it by their automatic dependencies, except where a restore made
    // them (pg_dump does not keep those): dropped by name first. The capture function
    // takes the triggers on the source with it.
    Objects objects = objects_of(relid);
    ScopedSetting quiet("client_min_messages", "warning");  // no NOTICE for each trigger
    own_tables_query("DROP FUNCTION IF EXISTS " + objects.capture_function() + "() CASCADE");
    own_tables_query("DROP VIEW IF EXISTS " + objects.definition_view().display());
    own_tables_query("DROP TABLE IF EXISTS " + objects.key_log().display());
    spi_execute("DROP TABLE " + name);
  } else {
    throw Error(sqlstate::kWrongObjectType, name + " is not a view",
                "pg_viewmgr never drops objects it did not create.");
  }
}

Oid incremental_definition_view(Oid table) { return relation_oid(objects_of(table).definition_view()); }

void create_incremental_table(const ManagedView& view) {
  IncrementalPlan plan = require_incremental_plan(view.display_name, view.definition, view.search_path);
  if (!view.with_data) {
    throw Error(sqlstate::kFeatureNotSupported,
                "cannot build " + view.display_name + ": with_data => false is not supported for incremental views yet");
  }
  QueryResult found = spi_query("SELECT pg_catalog.to_regclass($1)::pg_catalog.oid", {{plan.source}});
  Oid source = to_oid(found.rows.at(0).at(0));
  Oid owner = pg_call([] { return GetUserId(); });
  QueryResult may = spi_query("SELECT pg_catalog.has_table_privilege($1, $2, 'TRIGGER')",
                              {{std::to_string(owner), OIDOID}, {std::to_string(source), OIDOID}});
  if (may.rows.at(0).at(0) != Value("t")) {
    throw Error(sqlstate::kInsufficientPrivilege,
                "permission denied to maintain " + view.display_name + " incrementally: " + describe_role(owner) +
                    " has no TRIGGER privilege on " + plan.source,
                "Its writes are captured by statement triggers on " + plan.source + ".",
                "GRANT TRIGGER ON " + plan.source + " to the view's owner, or register it with incremental => false.");
  }

  // 1. The table, empty, with the guard that refuses every write but pg_viewmgr's.
  {
    ScopedSearchPath scope(search_path_setting(view.search_path));
    spi_execute("CREATE TABLE " + view.display_name + " AS " + view.definition + " WITH NO DATA");
  }
  Oid table = relation_oid(view.name);
  Objects objects = objects_for(view.name);
  spi_execute(std::string("CREATE TRIGGER ") + kGuardTrigger +
              " BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON " + view.display_name +
              " FOR EACH STATEMENT EXECUTE FUNCTION viewmgr.refuse_incremental_write()");
  spi_execute("ALTER TABLE " + view.display_name + " ENABLE ALWAYS TRIGGER " + kGuardTrigger);
  depend_automatically(TriggerRelationId, trigger_oid(table, kGuardTrigger), InvalidOid);

  // 2. Its definition view, key log and capture function: made by the owner in the view's
  // schema (the definition is only ever analysed with the owner's rights), then moved into
  // schema viewmgr by the extension owner (the view's owner may not create there).
  auto staged = [&](const QualifiedName& final_name) { return QualifiedName{view.name.schema, final_name.name}; };
  {
    ScopedSearchPath scope(search_path_setting(view.search_path));
    spi_execute("CREATE VIEW " + staged(objects.definition_view()).display() + " AS " + view.definition);
  }
  std::string log_columns = "NULL::boolean AS " + quote_ident(kTruncatedMarkerColumn);
  for (const auto& key : plan.keys) {
    std::string value = key.source_column.empty() ? "(" + key.source_expression + ")" : "s." + quote_ident(key.source_column);
    log_columns += ", " + value + " AS " + quote_ident(key.output_column);
  }
  spi_execute("CREATE TABLE " + staged(objects.key_log()).display() + " AS SELECT " + log_columns + " FROM " +
              plan.source + " s WITH NO DATA");
  // Each key column says which source column it logs: a refresh looks for an index on it.
  // An expression's column says which expression (no column is named so).
  for (const auto& key : plan.keys) {
    spi_execute("COMMENT ON COLUMN " + staged(objects.key_log()).display() + "." + quote_ident(key.output_column) +
                " IS " + quote_literal(logged_value(key)));
  }
  QualifiedName staged_function{view.name.schema, objects.base + "_capture"};
  spi_execute(capture_function_sql(staged_function, objects, plan));
  own_tables_query("ALTER VIEW " + staged(objects.definition_view()).display() + " SET SCHEMA viewmgr");
  own_tables_query("ALTER TABLE " + staged(objects.key_log()).display() + " SET SCHEMA viewmgr");
  own_tables_query("ALTER FUNCTION " + staged_function.display() + "() SET SCHEMA viewmgr");
  Oid definition_view = relation_oid(objects.definition_view());
  Oid key_log = relation_oid(objects.key_log());
  QueryResult function = spi_query("SELECT pg_catalog.to_regprocedure($1)::pg_catalog.oid",
                                   {{objects.capture_function() + "()"}});
  depend_automatically(RelationRelationId, definition_view, table);
  depend_automatically(RelationRelationId, key_log, table);
  depend_automatically(ProcedureRelationId, to_oid(function.rows.at(0).at(0)), table);

  // 3. The capture triggers, made by the extension owner (the owner's TRIGGER privilege was
  // checked above; ENABLE ALWAYS needs the table's owner), firing in every session mode.
  // Creating them waits for the source's writers: every write after is logged.
  const char* referencing[] = {"REFERENCING NEW TABLE AS viewmgr_new",
                               "REFERENCING OLD TABLE AS viewmgr_old NEW TABLE AS viewmgr_new",
                               "REFERENCING OLD TABLE AS viewmgr_old", ""};
  for (int i = 0; i < 4; i++) {
    std::string trigger = objects.trigger(kCaptureEvents[i]);
    std::string event = kCaptureEvents[i];
    for (auto& ch : event) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
    own_tables_query("CREATE TRIGGER " + quote_ident(trigger) + " AFTER " + event + " ON " + plan.source + " " +
                     referencing[i] + " FOR EACH STATEMENT EXECUTE FUNCTION " + objects.capture_function() + "()");
    own_tables_query("ALTER TABLE " + plan.source + " ENABLE ALWAYS TRIGGER " + quote_ident(trigger));
    depend_automatically(TriggerRelationId, trigger_oid(source, trigger), table);
  }

  // 4. The rows, with the snapshot they were taken with (as CREATE MATERIALIZED VIEW ...
  // WITH DATA records it), the source tracked for staleness first.
  MatviewSet::track_sources_of({source});
  std::string started = clock_now();
  PinnedSnapshot snapshot = pin_snapshot();
  {
    EngineWriteScope writing;
    spi_execute("INSERT INTO " + view.display_name + " SELECT * FROM " + objects.definition_view().display());
  }
  record_refresh_state(view.name, snapshot, started);
}

std::string refresh_incremental_table(Oid table, const std::string& display_name) {
  Objects objects = objects_of(table);
  std::string log = objects.key_log().display();
  std::string definition = objects.definition_view().display();
  QueryResult columns = spi_query(
      "SELECT attname, pg_catalog.col_description(attrelid, attnum) FROM pg_catalog.pg_attribute "
      "WHERE attrelid = $1::pg_catalog.regclass AND attnum > 0 AND NOT attisdropped AND attname <> $2 "
      "ORDER BY attnum",
      {{log}, {std::string(kTruncatedMarkerColumn)}});
  std::vector<std::string> keys;
  std::vector<std::string> source_keys;
  for (const Row& row : columns.rows) {
    keys.push_back(*row[0]);
    source_keys.push_back(row[1].value_or(""));
  }
  std::string marker = quote_ident(kTruncatedMarkerColumn);

  // Writes captured only while every capture trigger fires always, and none to children
  // the source gained since (ALTER TABLE ... INHERIT).
  std::vector<std::string> trigger_names;
  for (const char* event : kCaptureEvents) trigger_names.push_back(objects.trigger(event));
  // And whether an index of the source leads with a key column: then each affected group is
  // recomputed from its own rows (an index scan per group); else all affected groups in one
  // pass over the source.
  QueryResult capture = spi_query(
      "SELECT count(*) FILTER (WHERE t.tgenabled = 'A'), "
      "  bool_or(EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhparent = t.tgrelid)), "
      "  bool_or(EXISTS (SELECT FROM pg_catalog.pg_index x JOIN pg_catalog.pg_attribute a "
      "    ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0] "
      "    WHERE x.indrelid = t.tgrelid AND x.indisvalid AND x.indpred IS NULL AND a.attname = ANY ($2::text[]))), "
      "  min(t.tgrelid) "
      "FROM pg_catalog.pg_trigger t WHERE t.tgname = ANY ($1::text[])",
      {{to_array_literal(trigger_names)}, {to_array_literal(source_keys)}});
  bool per_group = capture.rows.at(0).at(2) == Value("t");
  std::string full_reason;
  if (capture.rows.at(0).at(0) != Value("4")) {
    full_reason = "its capture triggers are missing or disabled";
  } else if (capture.rows.at(0).at(1) == Value("t")) {
    full_reason = "its source has inheritance children, whose writes are not captured";
  } else {
    std::vector<std::pair<std::string, std::string>> logged;
    for (std::size_t i = 0; i < keys.size(); i++) logged.emplace_back(keys[i], source_keys[i]);
    full_reason = capture_out_of_date(relation_oid(objects.definition_view()), logged, to_oid(capture.rows.at(0).at(3)));
  }

  Oid owner = relation_owner(table);
  ScopedOwner as_owner(owner, display_name);
  EngineWriteScope writing;
  QueryResult pending = spi_query(
      "SELECT (SELECT count(*) FROM (SELECT DISTINCT " + joined_columns(keys) + " FROM " + log + " WHERE " + marker +
      " IS NOT TRUE) d), EXISTS (SELECT FROM " + log + " WHERE " + marker + "), (SELECT count(*) FROM " +
      display_name + ")");
  long long affected = std::stoll(*pending.rows.at(0).at(0));
  bool truncated = pending.rows.at(0).at(1) == Value("t");
  long long stored = std::stoll(*pending.rows.at(0).at(2));
  if (full_reason.empty() && truncated) full_reason = "its source was truncated";
  if (full_reason.empty() && recompute_fully(affected, stored, false)) {
    full_reason = std::to_string(affected) + " of " + std::to_string(stored) + " groups affected";
  }
  if (!full_reason.empty()) {
    // Everything the log holds is covered by a recomputation from the current rows.
    QueryResult done = spi_query(
        "WITH consumed AS (DELETE FROM " + log + " RETURNING 1), "
        "removed AS (DELETE FROM " + display_name + " RETURNING 1), "
        "added AS (INSERT INTO " + display_name + " SELECT * FROM " + definition + " WHERE " + kAfterRemoved +
        " RETURNING 1) "
        "SELECT (SELECT count(*) FROM added)");
    return "full recomputation (" + full_reason + "): " + *done.rows.at(0).at(0) + " groups";
  }
  // What commits after the count is logged for the next refresh.
  if (affected == 0) return "incremental: no groups affected";
  std::string recompute =
      // OFFSET 0 keeps the lateral subquery from being pulled up, so its key condition is
      // pushed into the definition's scan of the source as an index condition.
      per_group ? " SELECT d.* FROM affected a CROSS JOIN LATERAL (SELECT * FROM " + definition + " d WHERE " +
                      same_keys(keys, "d", "a") + " OFFSET 0) d WHERE " + kAfterRemoved
                : " SELECT d.* FROM " + definition + " d WHERE EXISTS (SELECT FROM affected a WHERE " +
                      same_keys_hashable(keys, "d", "a") + ") AND " + kAfterRemoved;
  // One statement, one snapshot: the logged keys it consumes are those whose writes it sees
  // (a key logged by a transaction it does not see stays for the next refresh). Marker rows
  // stay too: a TRUNCATE committed since the count above makes the next refresh a full one.
  QueryResult done = spi_query(
      "WITH consumed AS (DELETE FROM " + log + " WHERE " + marker + " IS NOT TRUE RETURNING " + joined_columns(keys) +
      "), affected AS (SELECT DISTINCT " + joined_columns(keys) + " FROM consumed), "
      "removed AS (DELETE FROM " + display_name + " v USING affected a WHERE " + same_keys_hashable(keys, "v", "a") +
      " RETURNING 1), "
      "added AS (INSERT INTO " + display_name + recompute + " RETURNING 1) "
      "SELECT (SELECT count(*) FROM affected), (SELECT count(*) FROM removed), (SELECT count(*) FROM added)");
  const Row& row = done.rows.at(0);
  return "incremental: " + *row[0] + " groups recomputed (" + *row[1] + " rows removed, " + *row[2] + " added)" +
         (per_group ? "" : "; no index on a group key of the source, so in one pass over it");
}

}  // namespace viewmgr::pg

// The guard trigger on an incremental view's table: C, no C++ objects, PostgreSQL's errors.
extern "C" {
PG_FUNCTION_INFO_V1(viewmgr_refuse_incremental_write);
}

extern "C" Datum viewmgr_refuse_incremental_write(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("viewmgr.refuse_incremental_write() must be called as a trigger")));
  }
  if (viewmgr::pg::engine_writing) return PointerGetDatum(nullptr);
  auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  Relation rel = trigger->tg_relation;
  ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                  errmsg("cannot change incremental materialized view \"%s\"", RelationGetRelationName(rel)),
                  errdetail("Its rows are written only by pg_viewmgr."),
                  errhint("Change its sources and call viewmgr.refresh().")));
  return PointerGetDatum(nullptr);
}
