-- Names in a rebuilt view bind to what its definition bound to (issue 10, finding 6), for
-- functions, operators and types as well as relations, and whether the view stands or not.
-- A role with CREATE on a schema of the registered search_path puts an object there that the
-- rebuild would bind to instead: a better-matching overload of a function (even from a later
-- schema), an operator or a type hiding pg_catalog's. The rebuild is refused (42501) naming
-- the name and both objects; views, registry, history and the user's DDL stay as they were.
-- Without mallory's objects the same rebuilds run, and a change of a column's type (which
-- moves operators to other overloads in pg_catalog) is not a change of binding.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(36);

SET LOCAL client_min_messages = warning;
CREATE ROLE ob_mallory NOLOGIN;
CREATE SCHEMA ob_evil;
CREATE SCHEMA ob_app;
GRANT USAGE, CREATE ON SCHEMA ob_evil TO ob_mallory;
CREATE TABLE ob_app.items (id int, name varchar(20), qty int);
INSERT INTO ob_app.items VALUES (1, 'Real', 5);

CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $f$
  SELECT (SELECT string_agg(format('%s:%s:%s:%s', relation_name, definition, built_at IS NOT NULL,
                                   built_definition), ' ' ORDER BY relation_name)
            FROM viewmgr.managed_view) || ' | ' ||
         (SELECT count(*) FROM viewmgr.history)::text || ' | ' ||
         (SELECT string_agg(format('%s=%s', c.relname,
                                   CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END),
                            ',' ORDER BY c.relname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname IN ('ob_app', 'ob_evil')) || ' | ' ||
         (SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum)
            FROM pg_attribute WHERE attrelid = 'ob_app.items'::regclass AND attnum > 0)
$f$;
CREATE FUNCTION pg_temp.hint_of(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE h text;
BEGIN
  EXECUTE sql;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
  RETURN h;
END $f$;

-- Mallory's objects, made as her and dropped again between the cases.
CREATE FUNCTION pg_temp.mallory(sql text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  SET LOCAL ROLE ob_mallory;
  EXECUTE sql;
  RESET ROLE;
END $f$;

-- Three views, one per kind of name, all with mallory's schema first in their path. ops
-- and typed list pg_catalog after it, as a path may.
SELECT is(viewmgr.register('ob_app.funcs', 'SELECT id, lower(name) AS lname FROM ob_app.items',
                           search_path => 'ob_evil, ob_app'),
          'created', 'funcs is registered, lower() binding to pg_catalog.lower(text)');
SELECT is(viewmgr.register('ob_app.ops', 'SELECT id FROM ob_app.items WHERE qty = 5',
                           search_path => 'ob_evil, pg_catalog, ob_app'),
          'created', 'ops is registered, = binding to pg_catalog''s');
SELECT is(viewmgr.register('ob_app.typed', 'SELECT id, qty::int8 AS q FROM ob_app.items',
                           search_path => 'ob_evil, pg_catalog, ob_app'),
          'created', 'typed is registered, int8 being pg_catalog.int8');

-- 1. A function: an exact-match overload in the first schema captures lower(varchar).
SELECT pg_temp.mallory($$CREATE FUNCTION ob_evil.lower(varchar) RETURNS text LANGUAGE sql AS 'SELECT ''stolen''::text'$$);
CREATE TEMP TABLE before_fn AS SELECT pg_temp.state() AS s;
SELECT throws_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE ob_app.items ALTER COLUMN name TYPE varchar(30)')$$,
                 '42501',
                 'cannot rebuild ob_app.funcs: "lower" would now resolve to function ob_evil.lower(character varying), not to what it was built on',
                 'run_with_dependents refuses a rebuild that would bind lower() to mallory''s function');
SELECT is(pg_temp.state(), (SELECT s FROM before_fn),
          'the refused run_with_dependents left views, registry, history and the table as they were');
SELECT matches(pg_temp.hint_of($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE ob_app.items ALTER COLUMN name TYPE varchar(30)')$$),
               'ob_evil\.lower', 'the hint names mallory''s function');

-- The same when the view was dropped by hand: sync() would build it again from its text.
DROP VIEW ob_app.funcs;
CREATE TEMP TABLE before_fn_sync AS SELECT pg_temp.state() AS s;
SELECT throws_ok($$SELECT * FROM viewmgr.sync()$$, '42501',
                 'cannot rebuild ob_app.funcs: "lower" would now resolve to function ob_evil.lower(character varying), not to what it was built on',
                 'sync refuses to build a dropped view again bound to mallory''s function');
SELECT is(pg_temp.state(), (SELECT s FROM before_fn_sync), 'the refused sync left everything as it was');
SELECT pg_temp.mallory('DROP FUNCTION ob_evil.lower(varchar)');
SELECT ok(EXISTS (SELECT 1 FROM viewmgr.sync() WHERE view_name = 'ob_app.funcs' AND action = 'created'),
          'with mallory''s function gone, sync builds funcs again');
SELECT is((SELECT lname FROM ob_app.funcs), 'real', 'funcs reads pg_catalog.lower');

-- 2. An operator hiding pg_catalog's =.
SELECT pg_temp.mallory($$CREATE FUNCTION ob_evil.always(int, int) RETURNS boolean LANGUAGE sql AS 'SELECT true'$$);
SELECT pg_temp.mallory('CREATE OPERATOR ob_evil.= (FUNCTION = ob_evil.always, LEFTARG = int, RIGHTARG = int)');
CREATE TEMP TABLE before_op AS SELECT pg_temp.state() AS s;
SELECT throws_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE ob_app.items ALTER COLUMN name TYPE varchar(30)')$$,
                 '42501',
                 'cannot rebuild ob_app.ops: "=" would now resolve to operator ob_evil.=(integer,integer), not to what it was built on',
                 'run_with_dependents refuses a rebuild that would bind = to mallory''s operator');
SELECT is(pg_temp.state(), (SELECT s FROM before_op), 'the refused run_with_dependents left everything as it was');
SELECT pg_temp.mallory('DROP OPERATOR ob_evil.= (int, int)');

-- 3. A type (a domain) hiding pg_catalog.int8. (Not numeric: that is a keyword, always
-- pg_catalog's.)
SELECT pg_temp.mallory('CREATE DOMAIN ob_evil.int8 AS int');
CREATE TEMP TABLE before_ty AS SELECT pg_temp.state() AS s;
SELECT throws_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE ob_app.items ALTER COLUMN name TYPE varchar(30)')$$,
                 '42501',
                 'cannot rebuild ob_app.typed: "int8" would now resolve to type ob_evil.int8, not to what it was built on',
                 'run_with_dependents refuses a rebuild that would bind int8 to mallory''s domain');
SELECT is(pg_temp.state(), (SELECT s FROM before_ty), 'the refused run_with_dependents left everything as it was');
SELECT pg_temp.mallory('DROP DOMAIN ob_evil.int8');

-- 4. A relation, the view dropped by hand (the check before the drop only sees standing views).
SELECT is(viewmgr.register('ob_app.rel', 'SELECT id FROM items', search_path => 'ob_evil, ob_app'),
          'created', 'rel is registered, reading ob_app.items');
DROP VIEW ob_app.rel;
SELECT pg_temp.mallory('CREATE TABLE ob_evil.items (id int)');
CREATE TEMP TABLE before_rel AS SELECT pg_temp.state() AS s;
SELECT throws_ok($$SELECT * FROM viewmgr.sync()$$, '42501',
                 'cannot rebuild ob_app.rel: "items" would now resolve to table ob_evil.items instead of ob_app.items',
                 'sync refuses to build a dropped view again reading mallory''s table, naming both');
SELECT is(pg_temp.state(), (SELECT s FROM before_rel), 'the refused sync left everything as it was');
SELECT pg_temp.mallory('DROP TABLE ob_evil.items');
SELECT ok(EXISTS (SELECT 1 FROM viewmgr.sync() WHERE view_name = 'ob_app.rel'), 'without it, rel is built');

-- 5. Not a change of binding: a column's type changes, and = and int8() move to other
-- pg_catalog overloads.
SELECT ok(EXISTS (SELECT 1 FROM viewmgr.run_with_dependents('ALTER TABLE ob_app.items ALTER COLUMN qty TYPE bigint')
                   WHERE view_name = 'ob_app.ops'),
          'a change of column type rebuilds its readers');
SELECT is((SELECT count(*)::int FROM ob_app.ops), 1, 'ops still filters with pg_catalog''s =');

-- 6. Registered with apply => false: what the definition binds to is recorded then, and its
-- first build binds to the same objects.
SELECT is(viewmgr.register('ob_app.later', 'SELECT id, lower(name) AS lname FROM ob_app.items',
                           search_path => 'ob_evil, ob_app', apply => false),
          'registered', 'later is registered without being built');
SELECT is((SELECT count(*)::int FROM pg_class WHERE relname LIKE 'pg_viewmgr_bindings_probe%'),
          0, 'recording what it binds to (on a scratch view) left no relation behind');
SELECT pg_temp.mallory($$CREATE FUNCTION ob_evil.lower(varchar) RETURNS text LANGUAGE sql AS 'SELECT ''stolen''::text'$$);
CREATE TEMP TABLE before_later AS SELECT pg_temp.state() AS s;
SELECT throws_ok($$SELECT * FROM viewmgr.sync()$$, '42501',
                 'cannot build ob_app.later: "lower" would now resolve to function ob_evil.lower(character varying), not to what it was registered with',
                 'the first build of a view registered with apply => false refuses mallory''s function');
SELECT is(pg_temp.state(), (SELECT s FROM before_later), 'the refused sync left everything as it was');
SELECT pg_temp.mallory('DROP FUNCTION ob_evil.lower(varchar)');
SELECT ok(EXISTS (SELECT 1 FROM viewmgr.sync() WHERE view_name = 'ob_app.later' AND action = 'created'),
          'without it, later is built');
SELECT is((SELECT lname FROM ob_app.later), 'real', 'later reads pg_catalog.lower');

-- 7. A definition that cannot be analysed yet (its table comes later) is still registered;
-- its first build binds anew.
SELECT is(viewmgr.register('ob_app.future', 'SELECT id FROM ob_app.not_yet', apply => false),
          'registered', 'a definition reading a table that does not exist yet is registered');
SELECT is((SELECT bindings FROM viewmgr.managed_view WHERE relation_name = 'future'), NULL,
          'with nothing recorded for it');

-- 8. A materialized view, whose CREATE runs its query: checked before, so mallory's function
-- never runs, not even in a transaction rolled back (a sequence would show it: nextval is
-- not rolled back).
CREATE TABLE ob_app.parts (id int, name varchar(20));
INSERT INTO ob_app.parts VALUES (1, 'Part');
SELECT is(viewmgr.register('ob_app.mat', 'SELECT id, lower(name) AS lname FROM ob_app.parts',
                           search_path => 'ob_evil, ob_app', materialized => true),
          'created', 'mat is registered and filled');
CREATE SEQUENCE ob_evil.calls;
GRANT USAGE, UPDATE ON SEQUENCE ob_evil.calls TO PUBLIC;
SELECT pg_temp.mallory($$CREATE FUNCTION ob_evil.lower(varchar) RETURNS text LANGUAGE sql AS 'SELECT nextval(''ob_evil.calls'')::text'$$);
CREATE TEMP TABLE before_mat AS SELECT pg_temp.state() AS s;
SELECT throws_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE ob_app.parts ALTER COLUMN name TYPE varchar(40)')$$,
                 '42501',
                 'cannot rebuild ob_app.mat: "lower" would now resolve to function ob_evil.lower(character varying), not to what it was built on',
                 'run_with_dependents refuses to rebuild mat bound to mallory''s function');
SELECT is(pg_temp.state(), (SELECT s FROM before_mat), 'the refused run_with_dependents left everything as it was');
SELECT is((SELECT is_called FROM ob_evil.calls), false, 'mallory''s function never ran');

-- 9. An overload from a schema later in the path than pg_catalog captures as well: an exact
-- match beats pg_catalog.lower(text), which needs a cast.
SELECT pg_temp.mallory('DROP FUNCTION ob_evil.lower(varchar)');
CREATE TABLE ob_app.tags (id int, name varchar(20));
SELECT is(viewmgr.register('ob_app.late', 'SELECT id, lower(name) AS lname FROM ob_app.tags',
                           search_path => 'ob_app, ob_evil'),
          'created', 'late is registered, mallory''s schema last in its path');
SELECT pg_temp.mallory($$CREATE FUNCTION ob_evil.lower(varchar) RETURNS text LANGUAGE sql AS 'SELECT ''stolen''::text'$$);
CREATE TEMP TABLE before_late AS SELECT pg_temp.state() AS s;
SELECT throws_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE ob_app.tags ALTER COLUMN name TYPE varchar(40)')$$,
                 '42501',
                 'cannot rebuild ob_app.late: "lower" would now resolve to function ob_evil.lower(character varying), not to what it was built on',
                 'an overload from the last schema of the path is refused too');
SELECT is(pg_temp.state(), (SELECT s FROM before_late), 'the refused run_with_dependents left everything as it was');

-- 10. A registration with nothing recorded (made before 0.3.0): the standing view, as it
-- was built, is what the rebuild is checked against.
UPDATE viewmgr.managed_view SET bindings = NULL WHERE relation_name = 'late';
SELECT throws_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE ob_app.tags ALTER COLUMN name TYPE varchar(40)')$$,
                 '42501',
                 'cannot rebuild ob_app.late: "lower" would now resolve to function ob_evil.lower(character varying), not to what it was built on',
                 'without recorded bindings, the standing view is the reference');

SELECT * FROM finish();
ROLLBACK;
