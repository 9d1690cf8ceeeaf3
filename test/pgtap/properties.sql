-- Properties of the engine (SPEC §3, §4): declaration order does not matter and levels are
-- longest paths; semantically identical definitions are 'unchanged' and run no DDL; a
-- second sync() does nothing; a failing rebuild changes nothing.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(99);

SET LOCAL client_min_messages = warning;
SET LOCAL search_path = public;

-- ---------------------------------------------------------------------------------------
-- Helpers

CREATE SCHEMA vmt;

-- How this server deparses QUERY as a view: PostgreSQL 16 stopped qualifying the columns of
-- a one-relation view (" SELECT a," where 15 printed " SELECT t.a,"), so definition checks
-- compare with this instead of a literal.
CREATE FUNCTION vmt.viewdef(query text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  def text;
BEGIN
  EXECUTE 'CREATE TEMP VIEW vmt_viewdef_probe AS ' || query;
  def := pg_get_viewdef('vmt_viewdef_probe'::regclass);
  DROP VIEW vmt_viewdef_probe;
  RETURN def;
END
$f$;

-- The registry and every relation outside the system schemas, with row versions.
CREATE FUNCTION vmt.state() RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT concat_ws(E'\n',
    'registry rows: ' || (SELECT count(*) FROM viewmgr.managed_view),
    (SELECT string_agg(m::text, E'\n' ORDER BY m.schema_name, m.relation_name)
       FROM viewmgr.managed_view m),
    (SELECT string_agg(concat_ws(' | ', quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                                 c.relkind, c.oid, c.xmin, c.ctid, c.relfilenode,
                                 c.relowner::regrole, c.relispopulated,
                                 CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
                                 CASE WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid) END,
                                 obj_description(c.oid, 'pg_class')),
                       E'\n' ORDER BY n.nspname, c.relname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        AND n.nspname !~ '^pg_(temp|toast_temp)_'));
$f$;

-- The catalog row versions of every relation in a schema: any DDL on a view (CREATE OR
-- REPLACE, DROP and CREATE, ALTER, COMMENT, index changes) writes a new version of one of
-- these rows, with a new ctid and, inside a savepoint, a new xmin.
CREATE FUNCTION vmt.catalog_versions(schema_name text) RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT string_agg(concat_ws(' | ', c.relname, c.oid,
                              'class ' || c.xmin || ' ' || c.ctid, 'file ' || c.relfilenode,
                              (SELECT 'rewrite ' || string_agg(r.xmin || ' ' || r.ctid, ', ')
                                 FROM pg_rewrite r WHERE r.ev_class = c.oid),
                              (SELECT 'attributes ' || string_agg(a.xmin || ' ' || a.ctid, ', ' ORDER BY a.attnum)
                                 FROM pg_attribute a WHERE a.attrelid = c.oid),
                              (SELECT 'comment ' || string_agg(d.xmin || ' ' || d.ctid, ', ')
                                 FROM pg_description d
                                WHERE d.objoid = c.oid AND d.classoid = 'pg_class'::regclass)),
                    E'\n' ORDER BY c.relname)
    FROM pg_class c
   WHERE c.relnamespace = schema_name::regnamespace;
$f$;

-- Two tests: the statement fails with errcode, and nothing changed.
CREATE FUNCTION vmt.refused(sql text, errcode char(5), description text)
RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
  before text := vmt.state();
BEGIN
  RETURN NEXT throws_ok(sql, errcode, NULL, description);
  RETURN NEXT is(vmt.state(), before, description || ': nothing changed');
END
$f$;

-- Two tests: the statement succeeds, and nothing changed.
CREATE FUNCTION vmt.harmless(sql text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
  before text := vmt.state();
BEGIN
  RETURN NEXT lives_ok(sql, description);
  RETURN NEXT is(vmt.state(), before, description || ': nothing changed');
END
$f$;

-- =======================================================================================
-- A. A fixed DAG declared in reverse order, then built by sync()

CREATE SCHEMA pa;
CREATE TABLE pa.base (n int);
INSERT INTO pa.base VALUES (1), (2), (3);

-- Direct dependencies (view -> what it depends on), read or declared.
CREATE TEMP TABLE pa_edges (view_name text, dep text);
INSERT INTO pa_edges VALUES
  ('pa.v1', 'pa.v0'),
  ('pa.v2', 'pa.v0'), ('pa.v2', 'pa.v1'),
  ('pa.v4', 'pa.v2'), ('pa.v4', 'pa.v3'),
  ('pa.v5', 'pa.v4'),
  ('pa.v6', 'pa.v3'),
  ('pa.v7', 'pa.v5'), ('pa.v7', 'pa.v6'), ('pa.v7', 'pa.v0'),
  ('pa.v8', 'pa.v6');

SELECT is(viewmgr.register('pa.v8', 'SELECT 1 AS n', depends_on => '{pa.v6}', apply => false),
          'registered', 'pa.v8 declared (declared dependency only)');
SELECT is(viewmgr.register('pa.v7', 'SELECT n FROM pa.v5 UNION ALL SELECT n FROM pa.v6 UNION ALL SELECT n FROM pa.v0', apply => false),
          'registered', 'pa.v7 declared before what it reads');
SELECT is(viewmgr.register('pa.v6', 'SELECT n FROM pa.v3', apply => false),
          'registered', 'pa.v6 declared');
SELECT is(viewmgr.register('pa.v5', 'SELECT n FROM pa.v4 JOIN pa.base USING (n)', materialized => true, apply => false),
          'registered', 'pa.v5 (materialized) declared');
SELECT is(viewmgr.register('pa.v4', 'SELECT n FROM pa.v2 UNION ALL SELECT n FROM pa.v3', apply => false),
          'registered', 'pa.v4 declared');
SELECT is(viewmgr.register('pa.v3', 'SELECT n FROM pa.base WHERE n > 0', apply => false),
          'registered', 'pa.v3 declared');
SELECT is(viewmgr.register('pa.v2', 'SELECT n FROM pa.v0 UNION ALL SELECT n FROM pa.v1', materialized => true, apply => false),
          'registered', 'pa.v2 (materialized) declared');
SELECT is(viewmgr.register('pa.v1', 'SELECT n FROM pa.v0', apply => false),
          'registered', 'pa.v1 declared');
SELECT is(viewmgr.register('pa.v0', 'SELECT n FROM pa.base', apply => false),
          'registered', 'pa.v0 declared');

SELECT is((SELECT count(*)::int FROM pg_class WHERE relnamespace = 'pa'::regnamespace AND relkind IN ('v', 'm')),
          0, 'apply => false built nothing');

CREATE TEMP TABLE pa_expected_levels (view_name text, level int);
INSERT INTO pa_expected_levels VALUES
  ('pa.v0', 0), ('pa.v1', 1), ('pa.v2', 2), ('pa.v3', 0), ('pa.v4', 3),
  ('pa.v5', 4), ('pa.v6', 1), ('pa.v7', 5), ('pa.v8', 2);

SELECT is(ARRAY(SELECT view_name || '=' || level FROM viewmgr.dependency_order() ORDER BY view_name),
          ARRAY(SELECT view_name || '=' || level FROM pa_expected_levels ORDER BY view_name),
          'dependency_order levels are the longest paths, before sync()');

CREATE TEMP TABLE pa_sync AS SELECT * FROM viewmgr.sync();
SELECT is((SELECT count(*)::int FROM pa_sync), 9, 'sync() reports one row per managed view');
SELECT is(ARRAY(SELECT view_name || ' ' || action FROM pa_sync ORDER BY view_name),
          ARRAY(SELECT view_name || ' created' FROM pa_expected_levels ORDER BY view_name),
          'sync() created every view');
SELECT is(ARRAY(SELECT relname || '=' || relkind::text FROM pg_class
                 WHERE relnamespace = 'pa'::regnamespace AND relkind IN ('v', 'm') ORDER BY relname),
          ARRAY['v0=v', 'v1=v', 'v2=m', 'v3=v', 'v4=v', 'v5=m', 'v6=v', 'v7=v', 'v8=v'],
          'every view exists with its kind');
SELECT is(ARRAY(SELECT view_name || '=' || level FROM viewmgr.dependency_order() ORDER BY view_name),
          ARRAY(SELECT view_name || '=' || level FROM pa_expected_levels ORDER BY view_name),
          'dependency_order levels are the longest paths, after sync()');
SELECT is(ARRAY(SELECT step FROM viewmgr.dependency_order() ORDER BY step),
          ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9], 'steps are numbered 1..9');
SELECT is((SELECT count(*)::int FROM pa_edges e
             JOIN viewmgr.dependency_order() s ON s.view_name = e.view_name
             JOIN viewmgr.dependency_order() d ON d.view_name = e.dep
            WHERE s.step <= d.step OR s.level <= d.level),
          0, 'every view comes after, and one level above, what it depends on');
SELECT is(ARRAY(SELECT view_name || ' ' || depends_on::text FROM viewmgr.dependency_order() ORDER BY view_name),
          ARRAY(SELECT v.view_name || ' ' || ARRAY(SELECT dep FROM pa_edges e WHERE e.view_name = v.view_name ORDER BY dep)::text
                  FROM pa_expected_levels v ORDER BY v.view_name),
          'depends_on lists the direct dependencies');
SELECT is((SELECT count(*)::int FROM pa.v7), 15, 'the built views read what they should');
SELECT ok((SELECT bool_and(relispopulated) FROM pg_class WHERE relnamespace = 'pa'::regnamespace AND relkind = 'm'),
          'the materialized views are populated');

-- =======================================================================================
-- B. A random DAG (fixed seed) declared in random order, then built by sync()

CREATE SCHEMA pr;
CREATE TABLE pr.base (n int);
INSERT INTO pr.base VALUES (1), (2);
CREATE TEMP TABLE pr_nodes (i int PRIMARY KEY, view_name text, materialized boolean,
                            definition text, declared text[], level int);
CREATE TEMP TABLE pr_edges (view_name text, dep text, declared boolean);
CREATE TEMP TABLE pr_registered (view_name text, result text);

DO $$
DECLARE
  n_views constant int := 40;
  deps int[];
  reads text[];
  declared text[];
  lvl int;
  d int;
  k int;
BEGIN
  PERFORM setseed(0.3141);
  FOR i IN 0 .. n_views - 1 LOOP
    deps := '{}';
    IF i > 0 THEN
      k := floor(random() * 4)::int;
      FOR j IN 1 .. k LOOP
        d := floor(random() * i)::int;
        IF NOT d = ANY (deps) THEN deps := deps || d; END IF;
      END LOOP;
    END IF;
    reads := '{}';
    declared := '{}';
    lvl := 0;
    FOREACH d IN ARRAY deps LOOP
      IF random() < 0.25 THEN
        declared := declared || format('pr.r%s', lpad(d::text, 2, '0'));
      ELSE
        reads := reads || format('pr.r%s', lpad(d::text, 2, '0'));
      END IF;
      lvl := greatest(lvl, 1 + (SELECT level FROM pr_nodes WHERE pr_nodes.i = d));
    END LOOP;
    INSERT INTO pr_nodes VALUES (
      i, format('pr.r%s', lpad(i::text, 2, '0')), random() < 0.3,
      CASE WHEN cardinality(reads) = 0 THEN 'SELECT count(*)::int AS n FROM pr.base'
           ELSE 'SELECT count(*)::int AS n FROM ('
                || (SELECT string_agg('SELECT n FROM ' || r, ' UNION ALL ') FROM unnest(reads) r)
                || ') s'
      END,
      declared, lvl);
    INSERT INTO pr_edges SELECT format('pr.r%s', lpad(i::text, 2, '0')), r, false FROM unnest(reads) r;
    INSERT INTO pr_edges SELECT format('pr.r%s', lpad(i::text, 2, '0')), r, true FROM unnest(declared) r;
  END LOOP;
END
$$;

DO $$
DECLARE
  node record;
BEGIN
  FOR node IN SELECT * FROM pr_nodes ORDER BY random() LOOP
    INSERT INTO pr_registered VALUES (
      node.view_name,
      viewmgr.register(node.view_name, node.definition, materialized => node.materialized,
                       depends_on => node.declared, apply => false));
  END LOOP;
END
$$;

SELECT cmp_ok((SELECT max(level) FROM pr_nodes), '>=', 4, 'the random DAG is at least 5 levels deep');
SELECT cmp_ok((SELECT count(*)::int FROM pr_edges WHERE declared), '>', 0,
              'the random DAG has declared dependencies');
SELECT is(ARRAY(SELECT DISTINCT result FROM pr_registered), ARRAY['registered'],
          'all 40 random views registered with apply => false');

CREATE TEMP TABLE pr_sync AS SELECT * FROM viewmgr.sync();
SELECT is(ARRAY(SELECT view_name || ' ' || action FROM pr_sync WHERE view_name LIKE 'pr.%' ORDER BY view_name),
          ARRAY(SELECT view_name || ' created' FROM pr_nodes ORDER BY view_name),
          'sync() created all 40 random views');
SELECT is(ARRAY(SELECT view_name || ' unchanged' FROM pr_sync WHERE view_name NOT LIKE 'pr.%' ORDER BY view_name),
          ARRAY(SELECT view_name || ' ' || action FROM pr_sync WHERE view_name NOT LIKE 'pr.%' ORDER BY view_name),
          'and left the views of part A unchanged');
SELECT is(ARRAY(SELECT relname || '=' || relkind::text FROM pg_class
                 WHERE relnamespace = 'pr'::regnamespace AND relkind IN ('v', 'm') ORDER BY relname),
          ARRAY(SELECT substr(view_name, 4) || '=' || CASE WHEN materialized THEN 'm' ELSE 'v' END
                  FROM pr_nodes ORDER BY view_name),
          'every random view exists with its kind');
SELECT is(ARRAY(SELECT view_name || '=' || level FROM viewmgr.dependency_order()
                 WHERE view_name LIKE 'pr.%' ORDER BY view_name),
          ARRAY(SELECT view_name || '=' || level FROM pr_nodes ORDER BY view_name),
          'dependency_order levels are the longest paths of the random DAG');
SELECT is((SELECT count(*)::int FROM pr_edges e
             JOIN viewmgr.dependency_order() s ON s.view_name = e.view_name
             JOIN viewmgr.dependency_order() d ON d.view_name = e.dep
            WHERE s.step <= d.step OR s.level <= d.level),
          0, 'every random view comes after, and above, what it depends on');
SELECT is(ARRAY(SELECT view_name || ' ' || depends_on::text FROM viewmgr.dependency_order()
                 WHERE view_name LIKE 'pr.%' ORDER BY view_name),
          ARRAY(SELECT v.view_name || ' ' || ARRAY(SELECT DISTINCT dep FROM pr_edges e WHERE e.view_name = v.view_name ORDER BY dep)::text
                  FROM pr_nodes v ORDER BY v.view_name),
          'depends_on lists the direct dependencies of each random view');

-- A second sync() right after does nothing.
CREATE TEMP TABLE pr_versions AS
  SELECT vmt.catalog_versions('pa') AS pa, vmt.catalog_versions('pr') AS pr;
SAVEPOINT second_sync;  -- what is written from here on gets a new transaction id
CREATE TEMP TABLE pr_sync2 AS SELECT * FROM viewmgr.sync();
SELECT is((SELECT count(*)::int FROM pr_sync2), 49, 'the second sync() reports all 49 views');
SELECT is(ARRAY(SELECT DISTINCT action FROM pr_sync2), ARRAY['unchanged'],
          'the second sync() reports every view unchanged');
SELECT is(vmt.catalog_versions('pa'), (SELECT pa FROM pr_versions),
          'the second sync() wrote no catalog row of part A''s views');
SELECT is(vmt.catalog_versions('pr'), (SELECT pr FROM pr_versions),
          'the second sync() wrote no catalog row of the random views');
SELECT is_empty($$SELECT * FROM viewmgr.drift()$$, 'drift() reports nothing');
RELEASE SAVEPOINT second_sync;

-- =======================================================================================
-- C. Semantically identical definitions are 'unchanged' and run no DDL

CREATE SCHEMA ps;
CREATE TABLE ps.t (a int, b text, c int);
INSERT INTO ps.t VALUES (1, 'x', 1), (2, 'y', 2), (3, 'z', 3);

SELECT is(viewmgr.register('ps.v', 'SELECT a, b FROM ps.t WHERE a > 1'), 'created', 'ps.v created');
SELECT is(viewmgr.register('ps.w', 'SELECT a FROM ps.v'), 'created', 'ps.w (reads ps.v) created');
SELECT is(viewmgr.register('ps.m', 'SELECT a, b FROM ps.t WHERE a > 1', materialized => true,
                           indexes => '{"UNIQUE (a)"}', comment => 'm comment'),
          'created', 'ps.m (materialized, index, comment) created');
SELECT is(viewmgr.register('ps.o', 'SELECT a, b FROM ps.t WHERE a > 0',
                           view_options => '{security_barrier=true}', comment => 'o comment'),
          'created', 'ps.o (view option, comment) created');

CREATE TEMP TABLE ps_versions AS SELECT vmt.catalog_versions('ps') AS v;
CREATE TEMP TABLE ps_registry AS
  SELECT relation_name, built_definition, built_index_specs, built_comment, built_viewdef, built_indexes
    FROM viewmgr.managed_view WHERE schema_name = 'ps';
-- New rows: a rebuild or refresh of ps.m would show them.
INSERT INTO ps.t VALUES (10, 'ten', 10);
SAVEPOINT identical;  -- what is written from here on gets a new transaction id

SELECT is(viewmgr.register('ps.v', E'SELECT   a,\n\tb\nFROM   ps.t\n\n  WHERE  a>1   '), 'unchanged',
          'whitespace is not a change');
SELECT is(viewmgr.register('ps.v', 'select A, B from PS.T where A > 1'), 'unchanged',
          'letter case is not a change');
SELECT is(viewmgr.register('ps.v', E'SELECT a, /* block comment */ b FROM ps.t -- line comment\nWHERE a > 1 -- trailing comment'),
          'unchanged', 'comments are not a change');
SELECT is(viewmgr.register('ps.v', 'SELECT a, b FROM t WHERE a > 1', search_path => 'ps'), 'unchanged',
          'leaving out the schema that the search_path supplies is not a change');
SELECT is(viewmgr.register('ps.v', 'SELECT t.a, t.b FROM ps.t WHERE t.a > 1'), 'unchanged',
          'qualifying columns with their table is not a change');
SELECT is(viewmgr.register('ps.v', 'SELECT a, b FROM ps.t WHERE a > 1;'), 'unchanged',
          'a trailing semicolon is not a change');
SELECT is(viewmgr.register('ps.v', 'SELECT a, b FROM ps.t WHERE a > 1'), 'unchanged',
          'the original text is unchanged');
SELECT is(viewmgr.register('ps.w', 'select V.A from PS.V'), 'unchanged',
          'the dependent view re-registered in another spelling is unchanged');
SELECT is(viewmgr.register('ps.m', E'select a,b\n  from ps.t /* same */ where a>1', materialized => true,
                           indexes => '{"UNIQUE (a)"}', comment => 'm comment'),
          'unchanged', 'materialized view: another spelling of the same query is not a change');
SELECT is(viewmgr.register('ps.o', 'SELECT a, b FROM ps.t WHERE (a > 0)',
                           view_options => '{"SECURITY_BARRIER = on"}', comment => 'o comment'),
          'unchanged', 'redundant parentheses and another spelling of a view option are not a change');

SELECT is(vmt.catalog_versions('ps'), (SELECT v FROM ps_versions),
          'no DDL ran: pg_class, pg_rewrite, pg_attribute and pg_description rows are the same versions');
SELECT is((SELECT count(*)::int FROM ps.m), 2, 'ps.m still holds its old data (not refreshed, not rebuilt)');
SELECT is(ARRAY(SELECT relation_name || ' ' || built_definition || ' ' || built_index_specs::text || ' ' || coalesce(built_comment, '') || ' ' || built_viewdef || ' ' || built_indexes::text
                  FROM viewmgr.managed_view WHERE schema_name = 'ps' ORDER BY 1),
          ARRAY(SELECT relation_name || ' ' || built_definition || ' ' || built_index_specs::text || ' ' || coalesce(built_comment, '') || ' ' || built_viewdef || ' ' || built_indexes::text
                  FROM ps_registry ORDER BY 1),
          'the registry still describes the same build');

CREATE TEMP TABLE ps_sync1 AS SELECT * FROM viewmgr.sync();
SELECT is(ARRAY(SELECT view_name || ' ' || action FROM ps_sync1 WHERE view_name LIKE 'ps.%' ORDER BY 1),
          ARRAY['ps.m unchanged', 'ps.o unchanged', 'ps.v unchanged', 'ps.w unchanged'],
          'sync() after identical re-registrations reports every view unchanged');
SELECT is(ARRAY(SELECT DISTINCT action FROM ps_sync1), ARRAY['unchanged'],
          'and every other view too');
CREATE TEMP TABLE ps_sync2 AS SELECT * FROM viewmgr.sync();
SELECT is(ARRAY(SELECT DISTINCT action FROM ps_sync2), ARRAY['unchanged'],
          'a second sync() reports every view unchanged');
SELECT is(vmt.catalog_versions('ps'), (SELECT v FROM ps_versions),
          'the two sync() calls ran no DDL');
SELECT is((SELECT count(*)::int FROM ps.m), 2, 'and did not refresh ps.m');
SELECT is_empty($$SELECT * FROM viewmgr.drift() WHERE drift <> 'stale'$$,
                'drift() reports no structural difference');

-- The same index specification, spelled in another letter case and spacing, is the same
-- option: the index is not dropped and recreated.
CREATE TEMP TABLE ps_versions2 AS SELECT vmt.catalog_versions('ps') AS v;
SAVEPOINT index_spelling;  -- a new transaction id again
SELECT is(viewmgr.register('ps.m', 'SELECT a, b FROM ps.t WHERE a > 1', materialized => true,
                           indexes => '{"unique(a)"}', comment => 'm comment'),
          'unchanged', 'materialized view: the same index spelled in another case and spacing is not a change');
SELECT is(vmt.catalog_versions('ps'), (SELECT v FROM ps_versions2),
          'and no DDL ran for it');

-- Real changes are changes.
SELECT is(viewmgr.register('ps.v', 'SELECT a, b FROM ps.t WHERE a > 2'), 'replaced',
          'a new filter replaces the view');
SELECT matches(pg_get_viewdef('ps.v'::regclass), 'a > 2', 'the new filter is live');
SELECT is(viewmgr.register('ps.v', 'SELECT a, b FROM ps.t WHERE a > 2 ORDER BY a'), 'replaced',
          'an added ORDER BY replaces the view');
SELECT matches(pg_get_viewdef('ps.v'::regclass), 'ORDER BY', 'the ORDER BY is live');
SELECT is(viewmgr.register('ps.v', 'SELECT a, b, c FROM ps.t WHERE a > 2 ORDER BY a'), 'replaced',
          'a column added at the end replaces the view');
SELECT is(viewmgr.register('ps.v', 'SELECT a, c FROM ps.t WHERE a > 2 ORDER BY a'), 'rebuilt',
          'a removed column rebuilds the view');
SELECT is(ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = 'ps.v'::regclass AND attnum > 0 ORDER BY attnum),
          ARRAY['a', 'c'], 'the rebuilt view has the new columns');
SELECT has_view('ps', 'w', 'the dependent view survived the rebuild');
SELECT is((SELECT count(*)::int FROM ps.w), 2, 'and reads the rebuilt view');
SELECT is(viewmgr.register('ps.m', 'SELECT a, b FROM ps.t WHERE a > 0', materialized => true,
                           indexes => '{"UNIQUE (a)"}', comment => 'm comment'),
          'rebuilt', 'a new filter rebuilds the materialized view');
SELECT is((SELECT count(*)::int FROM ps.m), 4, 'the rebuilt materialized view holds current data');

-- =======================================================================================
-- D. A failing register or sync in the middle of a chain changes nothing

CREATE SCHEMA pc;
CREATE TABLE pc.t (x int, y int, z int);
INSERT INTO pc.t VALUES (1, 2, 3);

SELECT is(viewmgr.register('pc.a', 'SELECT x, y, z FROM pc.t'), 'created', 'pc.a created');
SELECT is(viewmgr.register('pc.b', 'SELECT x, y, z FROM pc.a'), 'created', 'pc.b (reads pc.a) created');
SELECT is(viewmgr.register('pc.m', 'SELECT x, z FROM pc.b', materialized => true, indexes => '{(x)}'),
          'created', 'pc.m (materialized, reads pc.b) created');
SELECT is(viewmgr.register('pc.c', 'SELECT z FROM pc.m'), 'created', 'pc.c (reads pc.m) created');

SELECT * FROM vmt.refused($$SELECT viewmgr.register('pc.b', 'SELECT x, y, no_such_column FROM pc.a')$$,
                          '42703', 'a new definition reading a missing column');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('pc.b', 'SELECT x, y FROM pc.a')$$,
                          '42703', 'a rebuild that drops a column a managed dependent reads');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('pc.a', 'SELECT x, z FROM pc.t')$$,
                          '42703', 'a rebuild at the head of the chain that breaks the next view');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('pc.m', 'SELECT x FROM pc.b', materialized => true, indexes => '{(x)}')$$,
                          '42703', 'a materialized view rebuild that breaks its dependent');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('pc.m', 'SELECT x, z FROM pc.b', materialized => true, indexes => '{(x)}', depends_on => '{pc.c}')$$,
                          '42P17', 'a declared dependency that closes a cycle with a reading view');

-- Atomicity of a multi-view rebuild: pc.b is re-declared without z (not applied); then a
-- change of pc.a pulls pc.b into the rebuild, and pc.m, built after pc.a and pc.b, fails.
SELECT is(viewmgr.register('pc.b', 'SELECT x, y FROM pc.a', apply => false), 'registered',
          'pc.b re-declared without z, not applied');
SELECT * FROM vmt.harmless($$SELECT * FROM viewmgr.sync(dry_run => true)$$,
                           'sync(dry_run => true) plans without changing anything');
SELECT * FROM vmt.harmless($$SELECT * FROM viewmgr.drift()$$, 'drift() changes nothing');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('pc.a', 'SELECT x, y, z, 1 AS w FROM pc.t')$$,
                          '42703', 'a rebuild failing in its third view');
SELECT * FROM vmt.refused($$SELECT * FROM viewmgr.sync()$$,
                          '42703', 'sync() failing in the middle of the chain');
SELECT is(pg_get_viewdef('pc.b'::regclass), vmt.viewdef('SELECT a.x, a.y, a.z FROM pc.a'),
          'pc.b still has its built definition');
SELECT is((SELECT count(*)::int FROM pc.c), 1, 'pc.c still reads through the chain');
SELECT is((SELECT array_agg(pg_get_indexdef(indexrelid)) FROM pg_index WHERE indrelid = 'pc.m'::regclass),
          ARRAY['CREATE INDEX m_x_idx ON pc.m USING btree (x)'], 'pc.m still has its index');

-- Declaring pc.b as it was makes the chain consistent again, with nothing to build.
SELECT is(viewmgr.register('pc.b', 'SELECT x, y, z FROM pc.a', apply => false), 'registered',
          'pc.b re-declared as built');
SELECT is(ARRAY(SELECT view_name || ' ' || action FROM viewmgr.sync() WHERE view_name LIKE 'pc.%' ORDER BY 1),
          ARRAY['pc.a unchanged', 'pc.b unchanged', 'pc.c unchanged', 'pc.m unchanged'],
          'sync() then finds nothing to do in the chain');
SELECT is(viewmgr.register('pc.a', 'SELECT x, y, z, 1 AS w FROM pc.t'), 'replaced',
          'the change of pc.a alone succeeds');

SELECT * FROM finish();
ROLLBACK;
