-- pg_viewmgr 0.1.0 -> 0.2.0: the registry records the declaration it last built, field by
-- field, instead of SHA-256 fingerprints of it and a stored canonical form of the
-- registered definition (which was derivable: it is analysed when needed now).
\echo Use "ALTER EXTENSION pg_viewmgr UPDATE TO '0.2.0'" to load this file. \quit

ALTER TABLE viewmgr.managed_view
    ADD COLUMN built_definition  text,
    ADD COLUMN built_search_path text[],
    ADD COLUMN built_index_specs text[],
    ADD COLUMN built_with_data   boolean,
    ADD COLUMN built_comment     text;

-- For every view that was built, the declaration as built is the registered one where the
-- 0.1.0 registry shows it applied. Where it cannot tell, the built field is left so that
-- it differs, and the next sync() applies that part again (harmless: a CREATE OR REPLACE
-- after analysis finds the same query, indexes made again, a comment set again).
UPDATE viewmgr.managed_view m SET
    -- 0.1.0 kept the analysed form of the registration; equal to what was built means the
    -- registered text is what was built. Otherwise NULL: the text is analysed and compared.
    built_definition  = CASE WHEN m.canonical_definition IS NOT DISTINCT FROM m.built_viewdef
                             THEN m.definition END,
    built_search_path = m.search_path,
    -- The declared indexes were applied when the last build made as many.
    built_index_specs = CASE WHEN pg_catalog.cardinality(m.indexes)
                                  = pg_catalog.cardinality(COALESCE(m.built_indexes, '{}'))
                             THEN m.indexes ELSE '{}' END,
    built_with_data   = m.with_data,
    -- A declared comment was applied when the view carries it.
    built_comment     = CASE WHEN m.comment IS NULL
                               OR m.comment IS NOT DISTINCT FROM pg_catalog.obj_description(
                                      pg_catalog.to_regclass(pg_catalog.quote_ident(m.schema_name)
                                          || '.' || pg_catalog.quote_ident(m.relation_name)),
                                      'pg_class')
                             THEN m.comment END
  WHERE m.built_viewdef IS NOT NULL;

ALTER TABLE viewmgr.managed_view
    DROP COLUMN canonical_definition,
    DROP COLUMN built_fingerprint,
    DROP COLUMN built_definition_fingerprint;

-- Staleness (see the 0.2.0 install script): an index for the change log, resets judged by
-- transaction id, and the DDL event triggers.
ALTER TABLE viewmgr.source_change ADD COLUMN cid integer;
CREATE INDEX source_change_relid_xid ON viewmgr.source_change (relid, xid);
ALTER TABLE viewmgr.change_log_reset ADD COLUMN reset_xid xid8;
ALTER TABLE viewmgr.refresh_state ADD COLUMN own_xid xid8, ADD COLUMN own_cid integer;
-- 0.1.0's tracking triggers fired in the origin session mode only: from now on they fire in
-- every mode (writes made under session_replication_role = replica before the update were
-- not logged; 0.1.0 could not know them).
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT tgrelid::pg_catalog.regclass AS rel FROM pg_catalog.pg_trigger
            WHERE tgname = 'viewmgr_track_changes' AND tgenabled = 'O' LOOP
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER viewmgr_track_changes', t.rel);
  END LOOP;
END $$;

-- DDL that changes what a relation returns without any DML is logged too, as a change of
-- the relation (and of the tables it is a partition or inheritance child of): views
-- replaced, partitions attached, detached or dropped, inheritance added or removed, tracking
-- triggers disabled or enabled again, materialized views refreshed by hand. DROP TABLE and
-- ALTER TABLE are also seen at their start, while the parents they leave are still known.
-- ENABLE ALWAYS: they fire in every session_replication_role.
-- Like track_change, without a pinned search_path, on purpose: at the start of DROP TABLE
-- and ALTER TABLE it resolves the names the statement gives as that statement will, with the
-- caller's search_path. Its own queries qualify every name and operator.
CREATE FUNCTION viewmgr.track_ddl()
RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'viewmgr_track_ddl';

CREATE EVENT TRIGGER viewmgr_track_ddl_end ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER FOREIGN TABLE', 'ALTER VIEW', 'ALTER MATERIALIZED VIEW',
                 'CREATE VIEW', 'CREATE TABLE', 'REFRESH MATERIALIZED VIEW')
    EXECUTE FUNCTION viewmgr.track_ddl();
CREATE EVENT TRIGGER viewmgr_track_ddl_start ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'ALTER FOREIGN TABLE', 'DROP TABLE', 'DROP FOREIGN TABLE')
    EXECUTE FUNCTION viewmgr.track_ddl();
ALTER EVENT TRIGGER viewmgr_track_ddl_end ENABLE ALWAYS;
ALTER EVENT TRIGGER viewmgr_track_ddl_start ENABLE ALWAYS;

-- Ownership and privileges: history rows belong to their view's owner and are visible to its
-- members (row-level security); last_error is not readable by everyone.
ALTER TABLE viewmgr.history ADD COLUMN owner oid;
UPDATE viewmgr.history h SET owner = c.relowner
  FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(h.view_name);
ALTER TABLE viewmgr.history ENABLE ROW LEVEL SECURITY;
CREATE POLICY history_of_own_views ON viewmgr.history FOR SELECT
    USING (owner IS NOT NULL AND pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));
REVOKE SELECT ON viewmgr.managed_view FROM PUBLIC;
GRANT SELECT (schema_name, relation_name, materialized, definition, search_path, depends_on, reads, indexes, with_data, comment, view_options, built_viewdef, built_indexes, built_view_options, built_relid, built_rule_xmin, owner, registered_at, updated_at, built_at, last_refreshed_at, last_refresh_duration, built_definition, built_search_path, built_index_specs, built_with_data, built_comment)
    ON viewmgr.managed_view TO PUBLIC;

-- Lookups that keep register() independent of the registry's size: a row by its display
-- name (what reads and depends_on hold), and the rows that read or depend on a name. The
-- GIN indexes do without a pending list: a deploy registers thousands of views in one
-- transaction, and every lookup would scan the whole list.
CREATE INDEX managed_view_display_idx ON viewmgr.managed_view
    ((pg_catalog.quote_ident(schema_name) || '.' || pg_catalog.quote_ident(relation_name)));
CREATE INDEX managed_view_reads_idx ON viewmgr.managed_view USING gin (reads) WITH (fastupdate = off);
CREATE INDEX managed_view_depends_on_idx ON viewmgr.managed_view USING gin (depends_on) WITH (fastupdate = off);

-- Declares a whole set of views in one call and one transaction: like register(...,
-- apply => false) for each, then sync(). prune => true also unregisters and drops managed
-- views of the set's schemas that the set no longer names; dry_run => true only plans.
CREATE FUNCTION viewmgr.declare(
    views       jsonb,
    prune       boolean DEFAULT false,
    dry_run     boolean DEFAULT false,
    search_path text    DEFAULT pg_catalog.current_setting('search_path'))
RETURNS TABLE(view_name text, action text, reason text)
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_declare';

COMMENT ON FUNCTION viewmgr.declare(jsonb, boolean, boolean, text) IS
    'declare a whole set of managed views (register each with apply => false, then sync) in one call';
