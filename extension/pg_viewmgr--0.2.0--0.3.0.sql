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
