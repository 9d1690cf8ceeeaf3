-- pg_viewmgr 0.2.0 -> 0.3.0. Every change to the objects of pg_viewmgr--0.3.0.sql is made
-- here too, in the same order, so that an updated database matches a fresh install object
-- for object (test/shell/upgrade.sh compares their dumps).
\echo Use "ALTER EXTENSION pg_viewmgr UPDATE TO '0.3.0'" to load this file. \quit

-- Owners are roles, not names (issue 10): the owner follows ALTER ROLE ... RENAME. A built
-- view's owner is the one pg_class has (ALTER ... OWNER TO and REASSIGN OWNED may have handed
-- it over since); a role that no longer exists becomes 0, which sync() reports and skips.
UPDATE viewmgr.managed_view m SET owner = pg_catalog.pg_get_userbyid(c.relowner)
  FROM pg_catalog.pg_class c
 WHERE c.oid = m.built_relid AND c.relkind IN ('v', 'm') AND c.relname = m.relation_name
   AND c.relnamespace = pg_catalog.to_regnamespace(pg_catalog.quote_ident(m.schema_name));
ALTER TABLE viewmgr.managed_view ALTER COLUMN owner TYPE regrole
  USING COALESCE(pg_catalog.to_regrole(pg_catalog.quote_ident(owner::text)), '0'::oid::regrole);

-- What a definition binds to (issue 10): NULL for every registration made before; a
-- standing view's next rebuild is checked against what it depends on then, and records it.
ALTER TABLE viewmgr.managed_view ADD COLUMN bindings jsonb;
GRANT SELECT (bindings) ON viewmgr.managed_view TO PUBLIC;

-- Incremental materialized views (issue 12): the registry says which views are kept
-- incrementally, register() takes incremental => (before search_path, as SPEC orders its
-- arguments), status says each materialized view's refresh_mode, and the tables of
-- incremental views refuse writes from anyone but pg_viewmgr.
ALTER TABLE viewmgr.managed_view ADD COLUMN incremental boolean NOT NULL DEFAULT false;
GRANT SELECT (incremental) ON viewmgr.managed_view TO PUBLIC;

CREATE FUNCTION viewmgr.refuse_incremental_write()
RETURNS trigger
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_refuse_incremental_write';

DROP FUNCTION viewmgr.register(text, text, boolean, text[], text[], boolean, text, boolean, text[], text);
CREATE FUNCTION viewmgr.register(
    view_name    text,
    definition   text,
    materialized boolean DEFAULT false,
    depends_on   text[]  DEFAULT '{}',
    indexes      text[]  DEFAULT '{}',
    with_data    boolean DEFAULT true,
    comment      text    DEFAULT NULL,
    apply        boolean DEFAULT true,
    view_options text[]  DEFAULT '{}',
    incremental  boolean DEFAULT false,
    search_path  text    DEFAULT pg_catalog.current_setting('search_path'))
RETURNS text
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_register';

COMMENT ON FUNCTION viewmgr.register(text, text, boolean, text[], text[], boolean, text, boolean, text[], boolean, text) IS
    'declare a managed view (and build it unless apply => false); returns created, replaced, rebuilt, unchanged or registered';

DROP VIEW viewmgr.status;
DROP FUNCTION viewmgr.view_states();
CREATE FUNCTION viewmgr.view_states()
RETURNS TABLE(view_name text, kind text, state text, last_refreshed_at timestamptz,
              last_refresh_duration interval, last_error text, depends_on text[],
              refresh_mode text)
LANGUAGE C STRICT STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_view_states';

CREATE VIEW viewmgr.status AS
    SELECT view_name, kind, state, last_refreshed_at, last_refresh_duration, last_error,
           depends_on, refresh_mode
      FROM viewmgr.view_states();

GRANT SELECT ON viewmgr.status TO PUBLIC;

-- Renames PostgreSQL made (issue 10): at the end of ALTER ... RENAME / SET SCHEMA the
-- registry follows what was renamed, with no DDL: a managed view renamed or moved keeps its
-- registration under the new name (refused when that name is registered for another view),
-- and the views whose query names a renamed table, column, function, type or schema take
-- their live deparsed definition. Other ALTER statements return at once. ENABLE ALWAYS: in
-- every session_replication_role, like the tracking triggers.
CREATE FUNCTION viewmgr.follow_renames()
RETURNS event_trigger
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_follow_renames';
CREATE EVENT TRIGGER viewmgr_follow_renames ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER VIEW', 'ALTER MATERIALIZED VIEW', 'ALTER FOREIGN TABLE',
                 'ALTER SEQUENCE', 'ALTER SCHEMA', 'ALTER FUNCTION', 'ALTER AGGREGATE',
                 'ALTER ROUTINE', 'ALTER TYPE', 'ALTER DOMAIN', 'ALTER COLLATION',
                 'ALTER OPERATOR', 'ALTER TEXT SEARCH CONFIGURATION',
                 'ALTER TEXT SEARCH DICTIONARY')
    EXECUTE FUNCTION viewmgr.follow_renames();
ALTER EVENT TRIGGER viewmgr_follow_renames ENABLE ALWAYS;

-- A reference inside psql: \df+ viewmgr.* and \dv+ viewmgr.* say what each object is for
-- (issue 14). The settings carry their descriptions themselves (SHOW ALL, pg_settings).
COMMENT ON FUNCTION viewmgr.unregister(text, boolean, boolean, text) IS
    'stop managing a view and drop it (drop_view => false keeps it); refuses while managed views depend on it unless cascade => true, and never drops an unmanaged object';
COMMENT ON FUNCTION viewmgr.sync(boolean) IS
    'make the database match the registry: create what is missing, replace or rebuild what changed or drifted, in dependency order; one row per managed view; dry_run => true only plans';
COMMENT ON FUNCTION viewmgr.drift() IS
    'what differs between the registry and the database (missing, definition, kind, indexes, unpopulated, stale), without changing anything';
COMMENT ON FUNCTION viewmgr.dependency_order() IS
    'managed views in the order they are built, with their level (longest dependency path below) and managed dependencies';
COMMENT ON FUNCTION viewmgr.graph(text) IS
    'the dependency graph of managed views as Graphviz DOT, materialized, stale and failed views marked';
COMMENT ON FUNCTION viewmgr.run_with_dependents(text, text) IS
    'run DDL on objects views depend on: the dependent views, managed or not, are saved, dropped and recreated with their grants, comments, options, indexes and data, in the caller''s transaction';
COMMENT ON FUNCTION viewmgr.adopt(text, text, text) IS
    'bring existing views and materialized views (one, or all of a schema) under management as they are: no DDL, data untouched; returns how many';
COMMENT ON FUNCTION viewmgr.refresh(text, boolean, boolean, text) IS
    'refresh one managed materialized view (cascade => true: and the managed materialized views downstream of it); concurrently => NULL uses CONCURRENTLY where it can';
COMMENT ON FUNCTION viewmgr.refresh_all(boolean, boolean, integer) IS
    'refresh managed materialized views in dependency order, only the stale ones unless only_stale => false, each in a transaction of its own; a view that fails or cannot be locked within viewmgr.lock_timeout does not stop the others';
COMMENT ON FUNCTION viewmgr.purge_history(interval) IS
    'delete the rows of viewmgr.history the caller may see that are older than older_than (default: viewmgr.history_retention); returns how many';
COMMENT ON FUNCTION viewmgr.schedule(text, text, boolean) IS
    'create or update a pg_cron job that runs refresh_all() in this database on a cron schedule; returns the job id';
COMMENT ON FUNCTION viewmgr.unschedule(text) IS
    'remove the pg_cron job that schedule() made under that name (default: this database''s); returns whether there was one';
COMMENT ON FUNCTION viewmgr.view_states() IS
    'the rows of viewmgr.status; query the view';
COMMENT ON FUNCTION viewmgr.track_change() IS
    'trigger of change tracking on the sources of managed materialized views: logs that a source changed, once per statement; not to be called';
COMMENT ON FUNCTION viewmgr.track_ddl() IS
    'event trigger of change tracking: logs DDL that changes the sources of managed materialized views; not to be called';
COMMENT ON VIEW viewmgr.status IS
    'one row per managed view: kind, state (fresh, stale, missing, drifted, unpopulated, failed, refreshing), last refresh and its duration, last error (its owner''s members only), managed dependencies';
COMMENT ON TABLE viewmgr.history IS
    'one row per build, rebuild, drop and refresh: operation, times, outcome (succeeded, failed, skipped), detail; each role sees the rows of the views it owns';
COMMENT ON TABLE viewmgr.refresh_state IS
    'pg_viewmgr internal: what each managed materialized view was last refreshed from, to tell whether it is stale';
COMMENT ON TABLE viewmgr.source_change IS
    'pg_viewmgr internal: change log of the sources of managed materialized views (unlogged; emptied as refreshes catch up)';
COMMENT ON TABLE viewmgr.change_log_reset IS
    'pg_viewmgr internal: when crash recovery last emptied the unlogged change log; refreshes older than that count as stale';
COMMENT ON FUNCTION viewmgr.follow_renames() IS
    'event trigger: the registry follows renames and SET SCHEMA of managed views and of what they read, with no DDL; not to be called';
COMMENT ON FUNCTION viewmgr.refuse_incremental_write() IS
    'trigger on the table of an incremental materialized view: refuses every write that pg_viewmgr''s own refresh does not make; not to be called';
