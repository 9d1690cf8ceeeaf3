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
