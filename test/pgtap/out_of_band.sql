-- Managed views changed by hand (SPEC §3 drift/status/sync, §5 "a managed view dropped or
-- replaced by hand"): drift() and viewmgr.status report what happened, the registry keeps
-- the declaration, and sync() repairs it, touching nothing else.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(45);

SET LOCAL client_min_messages = warning;
SET LOCAL search_path = public;

CREATE SCHEMA ob;
CREATE TABLE ob.t (id int PRIMARY KEY, n int);
INSERT INTO ob.t SELECT g, g % 7 FROM generate_series(1, 30) g;
CREATE TABLE ob.t2 (id int, label text);
INSERT INTO ob.t2 VALUES (1, 'a'), (2, 'b'), (3, 'c');

-- drift() as a comparable list
CREATE FUNCTION ob.drift() RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT string_agg(view_name || ': ' || drift, ', ' ORDER BY view_name, drift)
    FROM viewmgr.drift();
$f$;

-- the rows of a sync() whose action is not 'unchanged'
CREATE FUNCTION ob.sync_changes() RETURNS text LANGUAGE sql VOLATILE AS $f$
  SELECT string_agg(view_name || ': ' || action, ', ' ORDER BY view_name)
    FROM viewmgr.sync() WHERE action <> 'unchanged';
$f$;

SELECT results_eq(
  $$SELECT viewmgr.register('ob.dropme', 'SELECT id, n FROM ob.t WHERE n > 2')
    UNION ALL SELECT viewmgr.register('ob.c1', 'SELECT id, label FROM ob.t2')
    UNION ALL SELECT viewmgr.register('ob.c2', 'SELECT id FROM ob.c1 WHERE id > 1')
    UNION ALL SELECT viewmgr.register('ob.repl', 'SELECT id, n FROM ob.t')
    UNION ALL SELECT viewmgr.register('ob.ren', 'SELECT id FROM ob.t WHERE n = 0')
    UNION ALL SELECT viewmgr.register('ob.kindmv', 'SELECT n, count(*) AS k FROM ob.t GROUP BY n',
                                      materialized => true)
    UNION ALL SELECT viewmgr.register('ob.idxmv', 'SELECT id, n FROM ob.t', materialized => true,
                                      indexes => ARRAY['UNIQUE (id)', '(n)'])$$,
  $$VALUES ('created'), ('created'), ('created'), ('created'), ('created'), ('created'),
           ('created')$$,
  'the managed views are created');

SELECT is(ob.drift(), NULL, 'no drift to begin with');

CREATE TEMP TABLE registry_before AS SELECT * FROM viewmgr.managed_view;
CREATE TEMP TABLE viewdefs AS
  SELECT relname, oid, pg_get_viewdef(oid) AS def FROM pg_class
   WHERE relnamespace = 'ob'::regnamespace AND relkind IN ('v', 'm');

-- ---------------------------------------------------------------------------------------
-- A. A managed view dropped by hand

DROP VIEW ob.dropme;

SELECT is(ob.drift(), 'ob.dropme: missing', 'dropped by hand: drift() says missing');
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'ob.dropme'), 'missing',
          'dropped by hand: status says missing');
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'ob.repl'), 'fresh',
          'dropped by hand: the other views stay fresh');
SELECT is((SELECT definition FROM viewmgr.managed_view
            WHERE schema_name = 'ob' AND relation_name = 'dropme'),
          'SELECT id, n FROM ob.t WHERE n > 2',
          'dropped by hand: the registry still holds its declaration');
SELECT is(ob.sync_changes(), 'ob.dropme: created', 'dropped by hand: sync() recreates it');
SELECT is(pg_get_viewdef('ob.dropme'::regclass),
          (SELECT def FROM viewdefs WHERE relname = 'dropme'),
          'dropped by hand: it is back with its definition');
SELECT is((SELECT count(*) FROM ob.dropme), (SELECT count(*) FROM ob.t WHERE n > 2),
          'dropped by hand: it reads its table again');
SELECT is(ob.drift(), NULL, 'dropped by hand: no drift after sync()');

-- ---------------------------------------------------------------------------------------
-- B. A base table dropped with CASCADE, taking two managed views with it

DROP TABLE ob.t2 CASCADE;

SELECT is(ob.drift(), 'ob.c1: missing, ob.c2: missing',
          'dropped by CASCADE: drift() says both are missing');
SELECT results_eq(
  $$SELECT view_name, state FROM viewmgr.status WHERE view_name IN ('ob.c1', 'ob.c2')
     ORDER BY view_name$$,
  $$VALUES ('ob.c1', 'missing'), ('ob.c2', 'missing')$$,
  'dropped by CASCADE: status says both are missing');
SELECT is((SELECT count(*) FROM viewmgr.managed_view
            WHERE schema_name = 'ob' AND relation_name IN ('c1', 'c2')), 2::bigint,
          'dropped by CASCADE: the registry still holds both');

CREATE TABLE ob.t2 (id int, label text);
INSERT INTO ob.t2 VALUES (1, 'x'), (2, 'y'), (3, 'z'), (4, 'w');

SELECT is(ob.sync_changes(), 'ob.c1: created, ob.c2: created',
          'dropped by CASCADE: sync() recreates both once the table is back');
SELECT results_eq(
  $$SELECT (SELECT count(*) FROM ob.c1) UNION ALL SELECT (SELECT count(*) FROM ob.c2)$$,
  $$VALUES (4::bigint), (3::bigint)$$,
  'dropped by CASCADE: both read the new table');
SELECT is(ob.drift(), NULL, 'dropped by CASCADE: no drift after sync()');

-- ---------------------------------------------------------------------------------------
-- C. CREATE OR REPLACE VIEW by hand

CREATE OR REPLACE VIEW ob.repl AS SELECT id, n FROM ob.t WHERE n > 3;

SELECT is(ob.drift(), 'ob.repl: definition', 'replaced by hand: drift() says definition');
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'ob.repl'), 'drifted',
          'replaced by hand: status says drifted');
SELECT is(ob.sync_changes(), 'ob.repl: replaced', 'replaced by hand: sync() replaces it');
SELECT is(pg_get_viewdef('ob.repl'::regclass), (SELECT def FROM viewdefs WHERE relname = 'repl'),
          'replaced by hand: the registered definition is back');
SELECT is('ob.repl'::regclass::oid, (SELECT oid FROM viewdefs WHERE relname = 'repl'),
          'replaced by hand: replaced in place (same relation)');
SELECT is(ob.drift(), NULL, 'replaced by hand: no drift after sync()');

-- ---------------------------------------------------------------------------------------
-- D. Renamed by hand: the registry follows the rename (managed_renames.sql); a rename the
-- event trigger did not see (it was disabled) is followed by the next sync().

ALTER VIEW ob.ren RENAME TO ren_moved;

SELECT is(ob.drift(), NULL, 'renamed by hand: no drift, the registry follows the new name');
SELECT ok(EXISTS (SELECT FROM viewmgr.status WHERE view_name = 'ob.ren_moved')
          AND NOT EXISTS (SELECT FROM viewmgr.status WHERE view_name = 'ob.ren'),
          'renamed by hand: status knows it under its new name');
SELECT is(ob.sync_changes(), NULL, 'renamed by hand: sync() runs no DDL');
SELECT is('ob.ren_moved'::regclass::oid, (SELECT oid FROM viewdefs WHERE relname = 'ren'),
          'renamed by hand: the same relation');

ALTER EVENT TRIGGER viewmgr_follow_renames DISABLE;
ALTER VIEW ob.ren_moved RENAME TO ren;
ALTER EVENT TRIGGER viewmgr_follow_renames ENABLE ALWAYS;
SELECT results_eq(
  $$SELECT view_name, drift FROM viewmgr.drift()$$,
  $$VALUES ('ob.ren_moved', 'missing')$$,
  'renamed while the event trigger was disabled: drift() says missing');
SELECT matches((SELECT detail FROM viewmgr.drift() WHERE view_name = 'ob.ren_moved'), 'ob\.ren\M.*follows',
               'renamed while the event trigger was disabled: the detail names the new name');
SELECT is(ob.sync_changes(), NULL,
          'renamed while the event trigger was disabled: sync() follows the rename, with no DDL');

-- ---------------------------------------------------------------------------------------
-- E. A materialized view turned into a plain view by hand

DROP MATERIALIZED VIEW ob.kindmv;
CREATE VIEW ob.kindmv AS SELECT n, count(*) AS k FROM ob.t GROUP BY n;

SELECT is(ob.drift(), 'ob.kindmv: kind', 'kind changed by hand: drift() says kind');
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'ob.kindmv'), 'drifted',
          'kind changed by hand: status says drifted');
SELECT is(ob.sync_changes(), 'ob.kindmv: rebuilt', 'kind changed by hand: sync() rebuilds it');
SELECT is((SELECT relkind::text || relispopulated::text FROM pg_class
            WHERE oid = 'ob.kindmv'::regclass), 'mtrue',
          'kind changed by hand: it is a populated materialized view again');
SELECT is((SELECT sum(k) FROM ob.kindmv), 30::numeric,
          'kind changed by hand: it holds the data');
SELECT is(ob.drift(), NULL, 'kind changed by hand: no drift after sync()');

-- ---------------------------------------------------------------------------------------
-- F. A declared index dropped by hand

CREATE TEMP TABLE idx_before AS
  SELECT c.relname, pg_get_indexdef(i.indexrelid) AS def
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
   WHERE i.indrelid = 'ob.idxmv'::regclass;
CREATE TEMP TABLE idxmv_before AS SELECT 'ob.idxmv'::regclass::oid AS oid;

SELECT is((SELECT count(*) FROM idx_before), 2::bigint, 'index dropped by hand: two declared indexes');

DO $$
BEGIN
  EXECUTE format('DROP INDEX ob.%I',
                 (SELECT relname FROM idx_before WHERE def LIKE 'CREATE UNIQUE INDEX %'));
END
$$;

SELECT is(ob.drift(), 'ob.idxmv: indexes', 'index dropped by hand: drift() says indexes');
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'ob.idxmv'), 'drifted',
          'index dropped by hand: status says drifted');
SELECT matches(ob.sync_changes(), '^ob\.idxmv: [a-z]+$',
               'index dropped by hand: sync() acts on it, and on nothing else');
SELECT results_eq(
  $$SELECT c.relname::text COLLATE "default", pg_get_indexdef(i.indexrelid)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid = 'ob.idxmv'::regclass ORDER BY 1$$,
  $$SELECT relname::text COLLATE "default", def FROM idx_before ORDER BY 1$$,
  'index dropped by hand: sync() recreated it as it was');
SELECT is('ob.idxmv'::regclass::oid, (SELECT oid FROM idxmv_before),
          'index dropped by hand: the materialized view itself was not rebuilt');
SELECT is(ob.drift(), NULL, 'index dropped by hand: no drift after sync()');

-- ---------------------------------------------------------------------------------------
-- Afterwards

SELECT results_eq(
  $$SELECT view_name, action FROM viewmgr.sync() ORDER BY view_name$$,
  $$VALUES ('ob.c1', 'unchanged'), ('ob.c2', 'unchanged'), ('ob.dropme', 'unchanged'),
           ('ob.idxmv', 'unchanged'), ('ob.kindmv', 'unchanged'), ('ob.ren', 'unchanged'),
           ('ob.repl', 'unchanged')$$,
  'a further sync() reports every view unchanged');

SELECT results_eq(
  $$SELECT schema_name, relation_name, definition, materialized, indexes
      FROM viewmgr.managed_view ORDER BY relation_name$$,
  $$SELECT schema_name, relation_name, definition, materialized, indexes
      FROM registry_before ORDER BY relation_name$$,
  'the declarations in the registry are as registered: repairs never rewrite them');

SELECT results_eq(
  $$SELECT view_name, state FROM viewmgr.status ORDER BY view_name$$,
  $$VALUES ('ob.c1', 'fresh'), ('ob.c2', 'fresh'), ('ob.dropme', 'fresh'), ('ob.idxmv', 'fresh'),
           ('ob.kindmv', 'fresh'), ('ob.ren', 'fresh'), ('ob.repl', 'fresh')$$,
  'every view is fresh again');

SELECT * FROM finish();
ROLLBACK;
