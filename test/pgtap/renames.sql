-- Renames PostgreSQL made (issue 10, finding 7): a base column, table or schema renamed by
-- hand leaves the views' stored queries pointing at the same objects; the registry follows
-- at the DDL (its definition is re-derived from the live view) so rebuilds, sync() and
-- drift() keep working, and run_with_dependents runs RENAME / RENAME COLUMN / SET SCHEMA in
-- place.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(35);

SET LOCAL client_min_messages = warning;
SET LOCAL search_path = public;

CREATE SCHEMA rn;
CREATE TABLE rn.t (a int, b int);
INSERT INTO rn.t VALUES (1, 10), (2, 20);

CREATE FUNCTION rn.sync_changes() RETURNS text LANGUAGE sql VOLATILE AS $f$
  SELECT string_agg(view_name || ': ' || action, ', ' ORDER BY view_name)
    FROM viewmgr.sync() WHERE action <> 'unchanged';
$f$;
CREATE FUNCTION rn.drift() RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT string_agg(view_name || ': ' || drift, ', ' ORDER BY view_name) FROM viewmgr.drift();
$f$;

SELECT viewmgr.register('rn.v1', 'SELECT a, b FROM rn.t');
SELECT viewmgr.register('rn.v2', 'SELECT a, b FROM rn.v1 WHERE b > 0');
-- an unmanaged dependent with a grant and a comment
CREATE VIEW rn.u AS SELECT a FROM rn.v2;
COMMENT ON VIEW rn.u IS 'unmanaged';
GRANT SELECT ON rn.u TO PUBLIC;

-- 1. A base column renamed by hand.
ALTER TABLE rn.t RENAME COLUMN b TO bb;
SELECT is(rn.drift(), NULL, 'column renamed by hand: no drift');
SELECT is(rn.sync_changes(), NULL, 'column renamed by hand: sync() runs no DDL');
SELECT matches((SELECT definition FROM viewmgr.managed_view WHERE relation_name = 'v1'), 'bb',
               'column renamed by hand: the registered definition follows');
SELECT lives_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE rn.t ALTER COLUMN a TYPE bigint')$$,
                'column renamed by hand: a later rebuild of its dependents works');
SELECT is(rn.drift(), NULL, 'after the rebuild: no drift');
SELECT is((SELECT count(*)::int FROM rn.u), 2, 'the unmanaged dependent was recreated');

-- 2. A base table renamed by hand.
ALTER TABLE rn.t RENAME TO t2;
SELECT is(rn.sync_changes(), NULL, 'table renamed by hand: sync() runs no DDL');
SELECT matches((SELECT definition FROM viewmgr.managed_view WHERE relation_name = 'v1'), 't2',
               'table renamed by hand: the registered definition follows');
SELECT lives_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE rn.t2 ALTER COLUMN a TYPE int')$$,
                'table renamed by hand: a rebuild works');
SELECT is(rn.drift(), NULL, 'table renamed by hand: no drift');

-- 3. The base table's schema renamed by hand.
CREATE SCHEMA rb;
CREATE TABLE rb.s (k int);
SELECT viewmgr.register('rn.w', 'SELECT k FROM rb.s');
ALTER SCHEMA rb RENAME TO rb2;
SELECT is(rn.sync_changes(), NULL, 'schema renamed by hand: sync() runs no DDL');
SELECT lives_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE rb2.s ALTER COLUMN k TYPE bigint')$$,
                'schema renamed by hand: a rebuild works');
SELECT is(rn.drift(), NULL, 'schema renamed by hand: no drift');

-- 4. run_with_dependents with each rename form: run in place, nothing dropped.
CREATE TEMP TABLE oids AS SELECT 'rn.v1'::regclass::oid AS v1, 'rn.u'::regclass::oid AS u;
SELECT lives_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE rn.t2 RENAME COLUMN bb TO c')$$,
                'run_with_dependents: RENAME COLUMN');
SELECT lives_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE rn.t2 RENAME TO t3')$$,
                'run_with_dependents: RENAME');
CREATE SCHEMA rc;
SELECT lives_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE rn.t3 SET SCHEMA rc')$$,
                'run_with_dependents: SET SCHEMA');
SELECT is(ARRAY['rn.v1'::regclass::oid, 'rn.u'::regclass::oid], (SELECT ARRAY[v1, u] FROM oids),
          'renames through run_with_dependents drop nothing (same relations)');
SELECT is(obj_description('rn.u'::regclass, 'pg_class'), 'unmanaged', 'the dependent keeps its comment');
SELECT ok(has_table_privilege('public', 'rn.u', 'SELECT'), 'the dependent keeps its grant');
SELECT is(rn.drift(), NULL, 'after the renames: no drift');
SELECT is(rn.sync_changes(), NULL, 'after the renames: sync() runs no DDL');

-- 5. A managed view renamed by hand: the registry follows it (managed_renames.sql).
ALTER VIEW rn.v1 RENAME TO v1_moved;
SELECT is(rn.sync_changes(), NULL, 'a managed view renamed by hand: sync() runs no DDL, the registry follows');

CREATE SCHEMA rx;
CREATE TABLE rx.t (a int, b int);
INSERT INTO rx.t VALUES (1, 10), (2, 20);
SELECT viewmgr.register('rx.m', 'SELECT a, b FROM rx.t', materialized => true, indexes => ARRAY['(a)']);
SELECT viewmgr.register('rx.v', 'SELECT a FROM rx.m');
-- 6. mixed renames and other statements are refused, nothing changed
CREATE TEMP TABLE before AS SELECT definition FROM viewmgr.managed_view WHERE relation_name = 'm';
SELECT throws_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE rx.t RENAME COLUMN b TO bb; ALTER TABLE rx.t ALTER COLUMN a TYPE bigint')$$,
                 '0A000', NULL, 'a script mixing a rename with other DDL is refused');
SELECT ok(EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'rx.t'::regclass AND attname = 'b'),
          'the refused script changed nothing');
SELECT is((SELECT definition FROM viewmgr.managed_view WHERE relation_name = 'm'), (SELECT definition FROM before),
          'the refused script left the registry as it was');
-- 7. a materialized view: rename followed, data and indexes kept
CREATE TEMP TABLE moid AS SELECT 'rx.m'::regclass::oid AS oid;
SELECT results_eq($$SELECT view_name, action FROM viewmgr.run_with_dependents('ALTER TABLE rx.t RENAME COLUMN b TO bb')$$,
                  $$VALUES ('rx.m'::text, 'unchanged'::text)$$,
                  'run_with_dependents RENAME COLUMN: the managed view that followed, unchanged');
SELECT is('rx.m'::regclass::oid, (SELECT oid FROM moid), 'the materialized view was not rebuilt');
SELECT is((SELECT count(*)::int FROM rx.m), 2, 'it keeps its data');
SELECT is((SELECT string_agg(view_name || ': ' || drift, ', ') FROM viewmgr.drift()), NULL, 'no drift');
SELECT lives_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE rx.t ALTER COLUMN a TYPE bigint')$$,
                'the materialized view rebuilds after the rename');
SELECT is((SELECT count(*)::int FROM viewmgr.history WHERE view_name = 'rx.m' AND detail LIKE '%renamed%'), 1,
          'history records the followed rename');

-- 8. The schema holding managed views renamed by hand: their registrations move with it.
CREATE SCHEMA zz;
CREATE TABLE zz.t (a int);
SELECT viewmgr.register('zz.v', 'SELECT a FROM zz.t');
SELECT viewmgr.register('rx.z', 'SELECT a FROM zz.v');
ALTER SCHEMA zz RENAME TO zz2;
SELECT is(rn.sync_changes(), NULL, 'schema of managed views renamed: sync() runs no DDL');
SELECT is((SELECT count(*)::int FROM viewmgr.managed_view WHERE schema_name = 'zz2' AND relation_name = 'v'), 1,
          'schema of managed views renamed: the registration moved with it');
SELECT is((SELECT reads FROM viewmgr.managed_view WHERE relation_name = 'z'), ARRAY['zz2.v'],
          'schema of managed views renamed: what reads it follows');
SELECT is(rn.drift(), NULL, 'schema of managed views renamed: no drift after sync()');

SELECT * FROM finish();
ROLLBACK;
