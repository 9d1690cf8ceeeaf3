-- viewmgr.adopt (SPEC §3): existing views and materialized views, one or all of a schema,
-- are brought under management without being rebuilt and without touching materialized
-- data; what they read and their indexes are recorded; adopting again adopts nothing; only
-- views (42809) that exist (42P01) and that the caller owns (42501) can be adopted.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(26);

SET LOCAL client_min_messages = warning;
SET LOCAL search_path = public;

-- ---------------------------------------------------------------------------------------
-- Helpers

-- The catalog row versions that any DDL on a relation writes anew: its pg_class row, its
-- pg_rewrite rows, its pg_attribute rows, its comment, and its storage. The adopt calls
-- below run inside a savepoint, so a rewritten row would carry a new xmin and ctid.
CREATE FUNCTION pg_temp.catalog_versions(rel regclass) RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT concat_ws(' | ', c.oid, 'class ' || c.xmin || ' ' || c.ctid, 'file ' || c.relfilenode,
                   (SELECT 'rewrite ' || string_agg(r.xmin || ' ' || r.ctid, ', ' ORDER BY r.oid)
                      FROM pg_rewrite r WHERE r.ev_class = c.oid),
                   (SELECT 'attributes ' || string_agg(a.xmin || ' ' || a.ctid, ', ' ORDER BY a.attnum)
                      FROM pg_attribute a WHERE a.attrelid = c.oid),
                   (SELECT 'comment ' || string_agg(d.xmin || ' ' || d.ctid, ', ')
                      FROM pg_description d
                     WHERE d.objoid = c.oid AND d.classoid = 'pg_class'::regclass),
                   (SELECT 'indexes ' || string_agg(i.indexrelid || ' ' || x.xmin || ' ' || x.ctid
                                                    || ' ' || x.relfilenode, ', ' ORDER BY i.indexrelid)
                      FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
                     WHERE i.indrelid = c.oid))
    FROM pg_class c WHERE c.oid = rel;
$f$;

-- ---------------------------------------------------------------------------------------
-- Views made by hand
--
--   ad.t (table)
--    └ v1   view                 ├ v2  view (security_barrier, comment)
--                                └ mv  materialized view, unique index, data
--   ad1.single  view over ad.t, adopted on its own

CREATE SCHEMA ad;
CREATE SCHEMA ad1;
CREATE TABLE ad.t (id int PRIMARY KEY, amount numeric, label text);
INSERT INTO ad.t SELECT g, g * 2, 'l' || g FROM generate_series(1, 50) g;

CREATE VIEW ad.v1 AS SELECT id, amount, label FROM ad.t;
CREATE VIEW ad.v2 WITH (security_barrier = true) AS
  SELECT id, upper(label) AS label FROM ad.v1 WHERE amount > 10;
COMMENT ON VIEW ad.v2 IS 'made by hand';
CREATE MATERIALIZED VIEW ad.mv AS SELECT id, amount FROM ad.v1;
CREATE UNIQUE INDEX mv_id ON ad.mv (id);
CREATE VIEW ad1.single AS SELECT count(*) AS n FROM ad.t;

CREATE TEMP TABLE versions_before AS
  SELECT v, pg_temp.catalog_versions(v::regclass) AS versions
    FROM unnest(ARRAY['ad.v1', 'ad.v2', 'ad.mv', 'ad1.single']) v;
CREATE TEMP TABLE mv_row_before AS SELECT ctid::text || ' ' || xmin AS version FROM ad.mv WHERE id = 7;

-- Everything below runs in a savepoint: any catalog row or data row adopt() rewrote would
-- carry the savepoint's transaction id.
SAVEPOINT adopting;

-- ---------------------------------------------------------------------------------------
-- Adopting

SELECT is(viewmgr.adopt('ad1.single'), 1, 'adopt(view_name) adopts one view');

SELECT is(viewmgr.adopt(schema_name => 'ad'), 3, 'adopt(schema_name) adopts every view of the schema');

SELECT is(viewmgr.adopt(schema_name => 'ad'), 0, 'adopting a schema again adopts nothing');

SELECT is(viewmgr.adopt('ad.v1'), 0, 'adopting an adopted view again adopts nothing');

SELECT is(viewmgr.adopt('single', search_path => 'ad1'), 0,
          'an unqualified name resolves along search_path (and is already adopted)');

SELECT results_eq(
  $$SELECT schema_name, relation_name, materialized FROM viewmgr.managed_view
     ORDER BY schema_name, relation_name$$,
  $$VALUES ('ad', 'mv', true), ('ad', 'v1', false), ('ad', 'v2', false),
           ('ad1', 'single', false)$$,
  'the registry holds one row per adopted view');

SELECT results_eq(
  $$SELECT view_name, kind, state FROM viewmgr.status ORDER BY view_name$$,
  -- A materialized view adopted with no refresh on record counts as stale: pg_viewmgr cannot
  -- know how old its data is, and never calls it fresh without knowing.
  $$VALUES ('ad.mv', 'materialized view', 'stale'), ('ad.v1', 'view', 'fresh'),
           ('ad.v2', 'view', 'fresh'), ('ad1.single', 'view', 'fresh')$$,
  'adopted views show in viewmgr.status (fresh; an adopted materialized view stale until refreshed)');

SELECT is((SELECT string_agg(view_name || ': ' || drift, ', ') FROM viewmgr.drift()), NULL,
          'drift() reports nothing for adopted views');

-- ---------------------------------------------------------------------------------------
-- Nothing was rebuilt

SELECT results_eq(
  $$SELECT v, pg_temp.catalog_versions(v::regclass) FROM versions_before ORDER BY v$$,
  $$SELECT v, versions FROM versions_before ORDER BY v$$,
  'adopting rewrote no catalog row of the views (pg_class, pg_rewrite, attributes, comment, indexes)');

SELECT is((SELECT count(*) FROM ad.mv), 50::bigint, 'the materialized view still holds its rows');

SELECT is((SELECT ctid::text || ' ' || xmin FROM ad.mv WHERE id = 7),
          (SELECT version FROM mv_row_before),
          'the materialized data was not touched (same row version)');

SELECT is(obj_description('ad.v2'::regclass, 'pg_class'), 'made by hand',
          'the comment set by hand is still there');

SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'ad.v2'::regclass),
          '{security_barrier=true}'::text[], 'the view options set by hand are still there');

-- ---------------------------------------------------------------------------------------
-- What was recorded

SELECT results_eq(
  $$SELECT view_name, level, depends_on FROM viewmgr.dependency_order()
     ORDER BY level, view_name$$,
  $$VALUES ('ad.v1', 0, '{}'::text[]), ('ad1.single', 0, '{}'),
           ('ad.mv', 1, '{ad.v1}'), ('ad.v2', 1, '{ad.v1}')$$,
  'inferred dependencies are recorded (dependency_order depends_on and levels)');

SELECT is(
  (SELECT reads FROM viewmgr.managed_view WHERE schema_name = 'ad' AND relation_name = 'v2'),
  ARRAY['ad.v1'], 'the registry records what an adopted view reads');

SELECT is(
  (SELECT built_indexes FROM viewmgr.managed_view WHERE schema_name = 'ad' AND relation_name = 'mv'),
  ARRAY[pg_get_indexdef('ad.mv_id'::regclass)],
  'the existing index of the materialized view is recorded as built');

SELECT ok(
  (SELECT cardinality(indexes) = 1 AND indexes[1] ~ '^UNIQUE\M.*\(id\)$'
     FROM viewmgr.managed_view WHERE schema_name = 'ad' AND relation_name = 'mv'),
  'the existing index is recorded as a unique index specification on (id)');

SELECT results_eq(
  $$SELECT view_name, action FROM viewmgr.sync() ORDER BY view_name$$,
  $$VALUES ('ad.mv', 'unchanged'), ('ad.v1', 'unchanged'), ('ad.v2', 'unchanged'),
           ('ad1.single', 'unchanged')$$,
  'sync() reports every adopted view unchanged');

SELECT results_eq(
  $$SELECT v, pg_temp.catalog_versions(v::regclass) FROM versions_before ORDER BY v$$,
  $$SELECT v, versions FROM versions_before ORDER BY v$$,
  'sync() after adopting ran no DDL on the views');

SELECT is((SELECT ctid::text || ' ' || xmin FROM ad.mv WHERE id = 7),
          (SELECT version FROM mv_row_before),
          'sync() after adopting did not touch the materialized data');

-- ---------------------------------------------------------------------------------------
-- Refusals

SELECT throws_ok($$SELECT viewmgr.adopt('ad.t')$$, '42809', NULL,
                 'adopting a table is refused (wrong object type)');

SELECT throws_ok($$SELECT viewmgr.adopt('ad.no_such_view')$$, '42P01', NULL,
                 'adopting something that does not exist is refused (undefined table)');

SELECT throws_ok($$SELECT viewmgr.adopt()$$, '22023', NULL,
                 'adopt() needs a view name or a schema name');

-- Another role's view
CREATE ROLE adopt_caller;
CREATE ROLE adopt_other;
CREATE SCHEMA ad2;
GRANT USAGE, CREATE ON SCHEMA ad2 TO adopt_caller, adopt_other;
GRANT USAGE ON SCHEMA ad TO adopt_caller, adopt_other;
GRANT SELECT ON ad.t TO adopt_caller, adopt_other;
CREATE VIEW ad2.theirs AS SELECT id FROM ad.t;
ALTER VIEW ad2.theirs OWNER TO adopt_other;
SET LOCAL ROLE adopt_caller;
CREATE VIEW ad2.mine AS SELECT id FROM ad.t WHERE id > 10;

SELECT throws_ok($$SELECT viewmgr.adopt('ad2.theirs')$$, '42501', NULL,
                 'adopting another role''s view is refused (insufficient privilege)');

SELECT is((SELECT count(*) FROM viewmgr.managed_view WHERE schema_name = 'ad2'), 0::bigint,
          'the refused view was not registered');

SELECT is(viewmgr.adopt('ad2.mine'), 1, 'a role can adopt its own view');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
