-- pg_viewmgr 0.3.0: the registry of managed views and the SQL API. The engine itself is
-- C++ (see src/); this script only declares objects.
\echo Use "CREATE EXTENSION pg_viewmgr" to load this file. \quit

-- Fails if the schema exists: the extension owns it and everything in it.
CREATE SCHEMA viewmgr;
GRANT USAGE ON SCHEMA viewmgr TO PUBLIC;

-- One row per managed view. Written only by pg_viewmgr's functions (which write it as the
-- extension owner); readable by everyone. Column names are mirrored in src/registry/registry.cpp.
CREATE TABLE viewmgr.managed_view (
    schema_name           text        NOT NULL,
    relation_name         text        NOT NULL,
    materialized          boolean     NOT NULL,
    -- the definition as registered (one query, without a trailing semicolon)
    definition            text        NOT NULL,
    -- schemas the definition is resolved with, fixed at registration ($user expanded)
    search_path           text[]      NOT NULL,
    -- declared extra dependencies and dependencies inferred from the definition, as
    -- qualified names (quote_ident(schema) || '.' || quote_ident(name))
    depends_on            text[]      NOT NULL DEFAULT '{}',
    reads                 text[]      NOT NULL DEFAULT '{}',
    indexes               text[]      NOT NULL DEFAULT '{}',
    with_data             boolean     NOT NULL DEFAULT true,
    comment               text,
    view_options          text[]      NOT NULL DEFAULT '{}',
    -- the relation last built: its pg_get_viewdef-style canonical form right after the
    -- build and the definitions of the indexes that build created
    built_viewdef         text,
    built_indexes         text[],
    -- the view options the last build declared; any other option on the view was set by hand
    built_view_options    text[],
    -- the oid of the relation last built; only used to recognise it after a rename by hand
    -- (oids change across dump and restore, names are the identity)
    built_relid           oid,
    -- the raw xmin of that relation's rule row after the build: while both are unchanged the
    -- live definition is what was built, without deparsing it again
    built_rule_xmin       xid,
    -- the role the view belongs to: a role, not a name, so that it follows ALTER ROLE ...
    -- RENAME (and is dumped by name); once built, the view's owner in pg_class, which is what
    -- pg_viewmgr follows when ALTER ... OWNER TO or REASSIGN OWNED hands the view over (it
    -- writes the new owner back at the next build or registration); 0 when the role of a
    -- registration not built yet was dropped
    owner                 regrole     NOT NULL,
    registered_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at            timestamptz NOT NULL DEFAULT pg_catalog.now(),
    built_at              timestamptz,
    last_refreshed_at     timestamptz,
    last_refresh_duration interval,
    last_error            text,
    -- the declaration as it stood when the view was last built (NULL: never built): sync()
    -- compares it field by field with the current one to say what changed
    built_definition      text,
    built_search_path     text[],
    built_index_specs     text[],
    built_with_data       boolean,
    built_comment         text,
    PRIMARY KEY (schema_name, relation_name)
);

-- Lookups that keep register() independent of the registry's size: a row by its display
-- name (what reads and depends_on hold), and the rows that read or depend on a name. The
-- GIN indexes do without a pending list: a deploy registers thousands of views in one
-- transaction, and every lookup would scan the whole list.
CREATE INDEX managed_view_display_idx ON viewmgr.managed_view
    ((pg_catalog.quote_ident(schema_name) || '.' || pg_catalog.quote_ident(relation_name)));
CREATE INDEX managed_view_reads_idx ON viewmgr.managed_view USING gin (reads) WITH (fastupdate = off);
CREATE INDEX managed_view_depends_on_idx ON viewmgr.managed_view USING gin (depends_on) WITH (fastupdate = off);

COMMENT ON TABLE viewmgr.managed_view IS
    'pg_viewmgr registry: one row per managed view; change it only through viewmgr functions';

SELECT pg_catalog.pg_extension_config_dump('viewmgr.managed_view', '');
REVOKE ALL ON viewmgr.managed_view FROM PUBLIC;
-- Readable by everyone but for last_error, whose text can hold row values: viewmgr.status
-- shows it to the owner's members only.
GRANT SELECT (schema_name, relation_name, materialized, definition, search_path, depends_on, reads, indexes, with_data, comment, view_options, built_viewdef, built_indexes, built_view_options, built_relid, built_rule_xmin, owner, registered_at, updated_at, built_at, last_refreshed_at, last_refresh_duration, built_definition, built_search_path, built_index_specs, built_with_data, built_comment)
    ON viewmgr.managed_view TO PUBLIC;

-- One row per build or refresh. Bounded: rows older than viewmgr.history_retention go when
-- refresh_all() runs, or with viewmgr.purge_history().
CREATE TABLE viewmgr.history (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    view_name   text        NOT NULL,
    operation   text        NOT NULL CHECK (operation IN ('create', 'replace', 'rebuild', 'drop', 'refresh')),
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    outcome     text        NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'skipped')),
    detail      text,
    -- the view's owner when the row was written: who may see the row (details can hold row
    -- values from error messages)
    owner       oid
);
CREATE INDEX ON viewmgr.history (finished_at);
REVOKE ALL ON viewmgr.history FROM PUBLIC;
GRANT SELECT ON viewmgr.history TO PUBLIC;
-- A role sees the rows of the views it owns or is a member of the owner of; superusers all.
ALTER TABLE viewmgr.history ENABLE ROW LEVEL SECURITY;
CREATE POLICY history_of_own_views ON viewmgr.history FOR SELECT
    USING (owner IS NOT NULL AND pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));

-- Change tracking for staleness. A statement trigger on every table a managed materialized
-- view reads (directly or through views) appends (table, writing transaction) here, once per
-- transaction and table: append-only, so concurrent writers never wait for each other. The
-- trigger fires in every session_replication_role (ENABLE ALWAYS), so logical replication's
-- apply and bulk loads count too; the event triggers below log DDL that changes what a
-- relation returns without DML.
-- A materialized view is stale when a source has a row whose transaction its last refresh
-- could not see. Unlogged (writers pay no WAL for it); crash recovery empties it, which the
-- row with relid 0 reveals: then every view counts as stale until it is refreshed.
CREATE UNLOGGED TABLE viewmgr.source_change (
    relid oid  NOT NULL,
    xid   xid8 NOT NULL,
    -- the command of that transaction that wrote (a refresh later in the same transaction
    -- saw it); NULL for rows logged by 0.1.0
    cid   integer
);
INSERT INTO viewmgr.source_change VALUES (0, '0');
-- Staleness checks read only the rows of a source newer than a refresh's snapshot.
CREATE INDEX source_change_relid_xid ON viewmgr.source_change (relid, xid);
REVOKE ALL ON viewmgr.source_change FROM PUBLIC;

-- When the change log was last found emptied by crash recovery, and the next transaction id
-- then. A refresh whose snapshot may not have seen every transaction before that id (one
-- taken earlier, or while an older transaction, such as a prepared one, was still open) may
-- have missed changes the lost log rows recorded, so it counts as stale. (reset_xid is NULL
-- for a reset recorded by 0.1.0, which is judged by time.)
CREATE TABLE viewmgr.change_log_reset (reset_at timestamptz NOT NULL);
ALTER TABLE viewmgr.change_log_reset ADD COLUMN reset_xid xid8;
INSERT INTO viewmgr.change_log_reset VALUES ('-infinity', NULL);
REVOKE ALL ON viewmgr.change_log_reset FROM PUBLIC;
GRANT SELECT ON viewmgr.change_log_reset TO PUBLIC;

-- What the last successful refresh of each materialized view could see. Not dumped: after a
-- restore every view counts as stale once.
CREATE TABLE viewmgr.refresh_state (
    schema_name   text        NOT NULL,
    relation_name text        NOT NULL,
    snapshot      pg_snapshot NOT NULL,
    refreshed_at  timestamptz NOT NULL,
    PRIMARY KEY (schema_name, relation_name),
    -- the refreshing transaction and its command: that transaction's own writes of earlier
    -- commands were seen, later ones were not (the snapshot counts it as in progress)
    own_xid       xid8,
    own_cid       integer
);
REVOKE ALL ON viewmgr.refresh_state FROM PUBLIC;
GRANT SELECT ON viewmgr.refresh_state TO PUBLIC;

-- The one function without a pinned search_path, on purpose: it runs on every write to a
-- tracked table, resolves no name through search_path (it appends to viewmgr.source_change
-- by oid from C, no SQL), and a SET clause would make PostgreSQL save and restore settings
-- around every call, which costs writers more than the tracking itself.
CREATE FUNCTION viewmgr.track_change()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'viewmgr_track_change';

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

-- Every function pins search_path. Functions that resolve user-written names take the
-- caller's search_path as a defaulted argument: defaults are evaluated in the caller's
-- session before the function's own SET clause applies.

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
    search_path  text    DEFAULT pg_catalog.current_setting('search_path'))
RETURNS text
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_register';

COMMENT ON FUNCTION viewmgr.register(text, text, boolean, text[], text[], boolean, text, boolean, text[], text) IS
    'declare a managed view (and build it unless apply => false); returns created, replaced, rebuilt, unchanged or registered';

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

CREATE FUNCTION viewmgr.unregister(
    view_name   text,
    drop_view   boolean DEFAULT true,
    cascade     boolean DEFAULT false,
    search_path text    DEFAULT pg_catalog.current_setting('search_path'))
RETURNS void
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_unregister';

CREATE FUNCTION viewmgr.sync(dry_run boolean DEFAULT false)
RETURNS TABLE(view_name text, action text, reason text)
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_sync';

CREATE FUNCTION viewmgr.drift()
RETURNS TABLE(view_name text, drift text, detail text)
LANGUAGE C STRICT STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_drift';

CREATE FUNCTION viewmgr.dependency_order()
RETURNS TABLE(step integer, level integer, view_name text, depends_on text[])
LANGUAGE C STRICT STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_dependency_order';

CREATE FUNCTION viewmgr.graph(format text DEFAULT 'dot')
RETURNS text
LANGUAGE C CALLED ON NULL INPUT STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_graph';

-- Runs DDL on objects views depend on (e.g. ALTER TABLE ... ALTER COLUMN ... TYPE): saves
-- and drops the dependent views, managed or not, runs the DDL and recreates them with their
-- grants, comments, options and indexes, all in the caller's transaction.
CREATE FUNCTION viewmgr.run_with_dependents(
    ddl         text,
    search_path text DEFAULT pg_catalog.current_setting('search_path'))
RETURNS TABLE(view_name text, action text, detail text)
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_run_with_dependents';

-- Takes existing views under management as they are (no DDL, data untouched).
CREATE FUNCTION viewmgr.adopt(
    view_name   text DEFAULT NULL,
    schema_name text DEFAULT NULL,
    search_path text DEFAULT pg_catalog.current_setting('search_path'))
RETURNS integer
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_adopt';

CREATE FUNCTION viewmgr.refresh(
    matview      text,
    concurrently boolean DEFAULT NULL,
    cascade      boolean DEFAULT false,
    search_path  text    DEFAULT pg_catalog.current_setting('search_path'))
RETURNS TABLE(view_name text, action text, duration interval, detail text)
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_refresh';

-- Refreshes managed materialized views in dependency order; each in a transaction of its own
-- (background workers), so a view is locked only while it is refreshed.
CREATE FUNCTION viewmgr.refresh_all(
    only_stale   boolean DEFAULT true,
    concurrently boolean DEFAULT NULL,
    parallel     integer DEFAULT 1)
RETURNS TABLE(view_name text, action text, duration interval, detail text)
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_refresh_all';

CREATE FUNCTION viewmgr.purge_history(older_than interval DEFAULT NULL)
RETURNS bigint
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_purge_history';

-- A pg_cron job that runs refresh_all() in this database, even when pg_cron lives in another
-- database of the cluster. The default job name carries the database name (pg_cron job
-- names are unique per user, not per database); scheduling again under the same name
-- updates the same job.
CREATE FUNCTION viewmgr.schedule(
    schedule   text,
    job_name   text    DEFAULT NULL,
    only_stale boolean DEFAULT true)
RETURNS bigint
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_schedule';

CREATE FUNCTION viewmgr.unschedule(job_name text DEFAULT NULL)
RETURNS boolean
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_unschedule';

-- One row per managed view with its state, computed from the registry and the catalogs.
CREATE FUNCTION viewmgr.view_states()
RETURNS TABLE(view_name text, kind text, state text, last_refreshed_at timestamptz,
              last_refresh_duration interval, last_error text, depends_on text[])
LANGUAGE C STRICT STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'viewmgr_view_states';

CREATE VIEW viewmgr.status AS
    SELECT view_name, kind, state, last_refreshed_at, last_refresh_duration, last_error,
           depends_on
      FROM viewmgr.view_states();

GRANT SELECT ON viewmgr.status TO PUBLIC;

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
