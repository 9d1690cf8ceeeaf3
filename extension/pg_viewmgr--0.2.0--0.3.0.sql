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
