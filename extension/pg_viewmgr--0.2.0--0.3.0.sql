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
