#include "registry/refresh_state.hpp"

#include <memory>

#include "core/sql_text.hpp"
#include "registry/own_tables.hpp"

namespace viewmgr::pg {

namespace {
constexpr int kPruneBatch = 10000;
}  // namespace

std::optional<std::string> record_refresh_state(const QualifiedName& name, const PinnedSnapshot& seen,
                                                const std::string& started_at) {
  static std::unique_ptr<OwnTablesStatement> record;  // once per view and refresh: planned once
  if (!record) {
    record = std::make_unique<OwnTablesStatement>(
        "WITH state AS ("
        "  INSERT INTO viewmgr.refresh_state AS s (schema_name, relation_name, snapshot, "
        "    refreshed_at, own_xid, own_cid) "
        "  VALUES ($1, $2, $3::pg_catalog.pg_snapshot, pg_catalog.now(), $5::pg_catalog.xid8, $6::integer) "
        "  ON CONFLICT (schema_name, relation_name) DO UPDATE "
        "  SET snapshot = EXCLUDED.snapshot, refreshed_at = EXCLUDED.refreshed_at, "
        "    own_xid = EXCLUDED.own_xid, own_cid = EXCLUDED.own_cid) "
        "UPDATE viewmgr.managed_view SET last_refreshed_at = pg_catalog.now(), "
        "  last_refresh_duration = pg_catalog.clock_timestamp() - $4::timestamptz, last_error = NULL "
        "WHERE schema_name = $1 AND relation_name = $2 RETURNING last_refresh_duration::text",
        std::vector<Oid>{TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID},
        PreparedStatement::Lifetime::kBackend, OwnTablesStatement::Plan::kIndexProbes);
  }
  QueryResult done = record->execute({name.schema, name.name, seen.snapshot, started_at,
                                      seen.own_xid, std::to_string(seen.own_cid)});
  if (done.rows.empty()) return std::nullopt;
  return done.rows[0][0];
}

void record_refresh_error(const QualifiedName& name, const std::string& message) {
  own_tables_probe("UPDATE viewmgr.managed_view SET last_error = $3 "
                   "WHERE schema_name = $1 AND relation_name = $2",
                   {{name.schema}, {name.name}, {message}});
}

bool change_log_intact() {
  return own_tables_query("SELECT EXISTS (SELECT 1 FROM viewmgr.source_change WHERE relid = 0)")
             .rows.at(0).at(0) == Value("t");
}

void recover_change_log() {
  if (change_log_intact()) return;
  // The next transaction id: every transaction before it may have logged rows that are gone.
  own_tables_query("UPDATE viewmgr.change_log_reset SET reset_at = pg_catalog.now(), "
                   "reset_xid = pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())");
  own_tables_query("INSERT INTO viewmgr.source_change VALUES (0, '0')");
}

void delete_seen_changes(const std::vector<std::string>& relids,
                         const std::vector<std::string>& snapshots, std::uint64_t horizon) {
  // At most kPruneBatch rows per call: a refresh never pays for a log that grew large while
  // nothing was refreshed (staleness checks read it by index, so its size does not slow
  // them); later refreshes take the rest.
  own_tables_query(
      "DELETE FROM viewmgr.source_change WHERE ctid = ANY (ARRAY("
      "  SELECT c.ctid FROM viewmgr.source_change c WHERE c.relid <> 0 AND c.xid < $3::pg_catalog.xid8 "
      "  AND NOT EXISTS (SELECT 1 FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.oid[]), "
      "    pg_catalog.unnest($2::pg_catalog.pg_snapshot[])) AS m(rel, snap) "
      "    WHERE m.rel = c.relid AND NOT pg_catalog.pg_visible_in_snapshot(c.xid, m.snap)) "
      "  LIMIT " + std::to_string(kPruneBatch) + "))",
      {{to_array_literal(relids)}, {to_array_literal(snapshots)}, {std::to_string(horizon)}});
}

}  // namespace viewmgr::pg
