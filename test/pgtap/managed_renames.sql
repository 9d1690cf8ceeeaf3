-- Managed views themselves renamed or moved (issue 10, finding 7: "the registry follows
-- renames PostgreSQL made"): ALTER VIEW / MATERIALIZED VIEW ... RENAME TO / SET SCHEMA,
-- ALTER SCHEMA ... RENAME of the schema holding them, and RENAME COLUMN of a managed view.
-- The registry follows at the DDL itself (an event trigger), so register(), drift(),
-- status and sync() all see the new names at once, and sync() runs no DDL for them. A
-- rename onto a name registered for another view is refused, changing nothing.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(46);

SET LOCAL client_min_messages = warning;
SET LOCAL search_path = public;

CREATE SCHEMA mr;
CREATE TABLE mr.t (a int, b int);
INSERT INTO mr.t VALUES (1, 10), (2, 20);

CREATE FUNCTION mr.sync_changes() RETURNS text LANGUAGE sql VOLATILE AS $f$
  SELECT string_agg(view_name || ': ' || action, ', ' ORDER BY view_name)
    FROM viewmgr.sync() WHERE action <> 'unchanged';
$f$;
CREATE FUNCTION mr.drift() RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT string_agg(view_name || ': ' || drift, ', ' ORDER BY view_name) FROM viewmgr.drift();
$f$;
CREATE FUNCTION mr.registered(s text, r text) RETURNS boolean LANGUAGE sql STABLE AS $f$
  SELECT EXISTS (SELECT FROM viewmgr.managed_view WHERE schema_name = s AND relation_name = r);
$f$;

SELECT viewmgr.register('mr.v', 'SELECT a, b FROM mr.t');
SELECT viewmgr.register('mr.r', 'SELECT a FROM mr.v WHERE b > 0');
CREATE TEMP TABLE oids AS SELECT 'mr.v'::regclass::oid AS v, 'mr.r'::regclass::oid AS r;

-- 1. A managed view renamed by hand: the registration moves to the new name.
ALTER VIEW mr.v RENAME TO v2;
SELECT ok(mr.registered('mr', 'v2') AND NOT mr.registered('mr', 'v'),
          'renamed by hand: the registration moved to the new name at once');
SELECT is(mr.drift(), NULL, 'renamed by hand: no drift, before any sync()');
SELECT is((SELECT string_agg(view_name || ' ' || state, ', ' ORDER BY view_name) FROM viewmgr.status),
          'mr.r fresh, mr.v2 fresh', 'renamed by hand: status knows the new name');
SELECT is((SELECT reads FROM viewmgr.managed_view WHERE relation_name = 'r'), ARRAY['mr.v2'],
          'renamed by hand: what reads it follows');
SELECT matches((SELECT definition FROM viewmgr.managed_view WHERE relation_name = 'r'), 'mr\.v2',
               'renamed by hand: the reader''s registered definition names the new name');
SELECT is(mr.sync_changes(), NULL, 'renamed by hand: sync() runs no DDL (it used to rename it back)');
SELECT is(to_regclass('mr.v'), NULL, 'renamed by hand: the old name stays free');
SELECT is(ARRAY['mr.v2'::regclass::oid, 'mr.r'::regclass::oid], (SELECT ARRAY[v, r] FROM oids),
          'renamed by hand: the same relations');
SELECT is((SELECT count(*)::int FROM viewmgr.history WHERE view_name = 'mr.v2' AND detail LIKE '%renamed%mr.v%'), 1,
          'renamed by hand: history records the rename');
SELECT is(viewmgr.register('mr.v2', 'SELECT a, b FROM mr.t'), 'unchanged',
          'renamed by hand: registering the new name with the same definition is unchanged');
SELECT lives_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE mr.t ALTER COLUMN a TYPE bigint')$$,
                'renamed by hand: a rebuild of it and its reader works');
SELECT is(mr.drift(), NULL, 'renamed by hand: no drift after the rebuild');

-- 2. SET SCHEMA by hand.
CREATE SCHEMA mr_other;
ALTER VIEW mr.v2 SET SCHEMA mr_other;
SELECT ok(mr.registered('mr_other', 'v2') AND NOT mr.registered('mr', 'v2'),
          'SET SCHEMA by hand: the registration moved');
SELECT is(mr.drift(), NULL, 'SET SCHEMA by hand: no drift');
SELECT is(mr.sync_changes(), NULL, 'SET SCHEMA by hand: sync() runs no DDL');
SELECT is((SELECT reads FROM viewmgr.managed_view WHERE relation_name = 'r'), ARRAY['mr_other.v2'],
          'SET SCHEMA by hand: what reads it follows');

-- 3. Through run_with_dependents.
SELECT lives_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER VIEW mr_other.v2 RENAME TO v3')$$,
                'run_with_dependents: RENAME of a managed view');
SELECT ok(mr.registered('mr_other', 'v3'), 'run_with_dependents: the registration moved');
SELECT is(mr.sync_changes(), NULL, 'run_with_dependents: the next sync() runs no DDL (it used to rename it back)');
SELECT is(to_regclass('mr_other.v2'), NULL, 'run_with_dependents: the old name stays free');

-- 4. A materialized view with an index, renamed by hand: data, index and refresh state kept.
SELECT viewmgr.register('mr.m', 'SELECT a, b FROM mr.t', materialized => true, indexes => ARRAY['(a)']);
CREATE TEMP TABLE moid AS SELECT 'mr.m'::regclass::oid AS oid;
ALTER MATERIALIZED VIEW mr.m RENAME TO m2;
SELECT is(mr.drift(), NULL, 'materialized view renamed: no drift');
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'mr.m2'), 'fresh',
          'materialized view renamed: still fresh (its refresh state moved)');
SELECT is(mr.sync_changes(), NULL, 'materialized view renamed: sync() runs no DDL');
SELECT is('mr.m2'::regclass::oid, (SELECT oid FROM moid), 'materialized view renamed: not rebuilt');
SELECT is((SELECT count(*)::int FROM pg_indexes WHERE schemaname = 'mr' AND tablename = 'm2'), 1,
          'materialized view renamed: one index, as declared');
SELECT results_eq($$SELECT view_name, action FROM viewmgr.refresh('mr.m2')$$,
                  $$VALUES ('mr.m2'::text, 'refreshed'::text)$$, 'materialized view renamed: it refreshes');

-- 5. The schema of a materialized view with an index renamed; only register() runs after.
CREATE SCHEMA ms;
CREATE TABLE ms.t (a int);
INSERT INTO ms.t VALUES (1);
SELECT viewmgr.register('ms.m', 'SELECT a FROM ms.t', materialized => true, indexes => ARRAY['(a)']);
SELECT viewmgr.register('ms.v', 'SELECT a FROM ms.m');
ALTER SCHEMA ms RENAME TO ms2;
SELECT ok(mr.registered('ms2', 'm') AND mr.registered('ms2', 'v') AND NOT mr.registered('ms', 'm'),
          'schema renamed: the registrations moved at once');
SELECT is(mr.drift(), NULL, 'schema renamed: no drift before any sync() (it said missing)');
SELECT is(viewmgr.register('ms2.v', 'SELECT a FROM ms2.m'), 'unchanged',
          'schema renamed: register() of the moved view under its new name is unchanged');
SELECT is(mr.sync_changes(), NULL, 'schema renamed: sync() runs no DDL');
SELECT is((SELECT count(*)::int FROM pg_indexes WHERE schemaname = 'ms2' AND tablename = 'm'), 1,
          'schema renamed: one index (a second one used to be created)');
SELECT is(mr.drift(), NULL, 'schema renamed: no drift after sync()');

-- 6. A rename onto a name registered for another view is refused; nothing changes.
SELECT viewmgr.register('mr.taken', 'SELECT 1 AS one', apply => false);
SELECT viewmgr.register('mr.x', 'SELECT a FROM mr.t');
SELECT throws_ok($$ALTER VIEW mr.x RENAME TO taken$$, '42710',
                 'cannot rename mr.x to mr.taken: mr.taken is registered with pg_viewmgr for another view',
                 'a rename onto another registration''s name is refused');
SELECT ok(to_regclass('mr.x') IS NOT NULL AND to_regclass('mr.taken') IS NULL AND mr.registered('mr', 'x'),
          'the refused rename changed nothing');
SELECT lives_ok($$ALTER VIEW mr.x SET SCHEMA mr_other$$, 'SET SCHEMA onto a free name works');
SELECT viewmgr.unregister('mr.taken');

-- 7. RENAME COLUMN of a managed view: the registry follows (the definition gets the new alias).
SELECT viewmgr.register('mr.c', 'SELECT a, b FROM mr.t');
SELECT viewmgr.register('mr.cr', 'SELECT a FROM mr.c');
ALTER VIEW mr.c RENAME COLUMN a TO aa;
SELECT matches((SELECT definition FROM viewmgr.managed_view WHERE relation_name = 'c'), 'AS aa',
               'RENAME COLUMN of a view: the definition follows');
SELECT is(mr.drift(), NULL, 'RENAME COLUMN of a view: no drift');
SELECT is(mr.sync_changes(), NULL, 'RENAME COLUMN of a view: sync() runs no DDL');
SELECT lives_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE mr.t ALTER COLUMN b TYPE bigint')$$,
                'RENAME COLUMN of a view: a rebuild works');
SELECT is((SELECT attname::text FROM pg_attribute WHERE attrelid = 'mr.c'::regclass AND attnum = 1), 'aa',
          'RENAME COLUMN of a view: the rebuilt view keeps the new name');

-- 8. RENAME COLUMN of a managed materialized view with an index on that column.
SELECT viewmgr.register('mr.mc', 'SELECT a, b FROM mr.t', materialized => true, indexes => ARRAY['(a)']);
ALTER MATERIALIZED VIEW mr.mc RENAME COLUMN a TO aa;
SELECT is(mr.drift(), NULL, 'RENAME COLUMN of a materialized view: no drift (it said indexes)');
SELECT is(mr.sync_changes(), NULL, 'RENAME COLUMN of a materialized view: sync() runs no DDL (it failed)');
SELECT lives_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE mr.t ALTER COLUMN b TYPE int')$$,
                'RENAME COLUMN of a materialized view: a rebuild works');
SELECT is((SELECT count(*)::int FROM pg_indexes WHERE schemaname = 'mr' AND tablename = 'mc' AND indexdef LIKE '%(aa)'), 1,
          'RENAME COLUMN of a materialized view: the rebuilt view has its index on the new column');

-- 9. A collision left by a rename the event trigger did not see (it was disabled) blocks
-- no other rename; sync() names it.
SELECT viewmgr.register('mr.taken2', 'SELECT 2 AS two', apply => false);
SELECT viewmgr.register('mr.y', 'SELECT a FROM mr.t');
ALTER EVENT TRIGGER viewmgr_follow_renames DISABLE;
ALTER VIEW mr.y RENAME TO taken2;
ALTER EVENT TRIGGER viewmgr_follow_renames ENABLE ALWAYS;
SELECT lives_ok($$ALTER TABLE mr.t RENAME TO t_renamed$$,
                'an earlier, unseen collision does not make an unrelated rename fail');
SELECT throws_ok($$SELECT * FROM viewmgr.sync()$$, '42710',
                 'cannot rename mr.y to mr.taken2: mr.taken2 is registered with pg_viewmgr for another view',
                 'sync() refuses the unseen collision, naming both');

SELECT * FROM finish();
ROLLBACK;
