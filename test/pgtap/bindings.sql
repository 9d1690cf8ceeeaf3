-- Names in a rebuilt view bind to what its definition bound to (issue 10, finding 6). A
-- rebuild resolves the registered text again with the registered search_path; a role with
-- CREATE on a schema earlier in that path must not be able to make the rebuild read its own
-- relation. Such a rebuild is refused (42501) naming both relations, before anything is
-- dropped: views, registry and history stay as they were. A shadowing relation created and
-- dropped again changes nothing.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(16);

SET LOCAL client_min_messages = warning;
CREATE ROLE nb_mallory NOLOGIN;
CREATE SCHEMA nb_evil;
CREATE SCHEMA nb_app;
GRANT USAGE, CREATE ON SCHEMA nb_evil TO nb_mallory;
CREATE TABLE nb_app.orders (id int, amount int, note text);
INSERT INTO nb_app.orders VALUES (1, 10, 'real');

CREATE FUNCTION pg_temp.registry() RETURNS text LANGUAGE sql AS $f$
  SELECT string_agg(format('%s.%s:%s:%s:%s', schema_name, relation_name, definition,
                           built_at IS NOT NULL, built_definition), ' ' ORDER BY relation_name)
  FROM viewmgr.managed_view
$f$;
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $f$
  SELECT pg_temp.registry() || ' | ' ||
         (SELECT count(*) FROM viewmgr.history)::text || ' | ' ||
         coalesce(pg_get_viewdef(to_regclass('nb_app.base')), '-') || ' | ' ||
         coalesce(pg_get_viewdef(to_regclass('nb_app.report')), '-') || ' | ' ||
         (SELECT string_agg(format('%s.%s', n.nspname, c.relname), ',' ORDER BY 1)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname IN ('nb_app', 'nb_evil'))
$f$;

-- base is qualified; report names orders unqualified, with nb_evil earlier in its path.
SELECT is(viewmgr.register('nb_app.base', 'SELECT id, amount FROM nb_app.orders'), 'created',
          'base is registered');
SELECT is(viewmgr.register('nb_app.report',
                           'SELECT b.id, o.note FROM nb_app.base b JOIN orders o USING (id)',
                           search_path => 'nb_evil, nb_app'),
          'created', 'report is registered, reading nb_app.orders (nb_evil has none yet)');

-- The attack: mallory puts an orders of her own earlier in report's path.
SET LOCAL ROLE nb_mallory;
CREATE TABLE nb_evil.orders (id int, note text);
INSERT INTO nb_evil.orders VALUES (1, 'stolen');
RESET ROLE;

-- 1. sync after a change of base that needs a drop (a column changes type): report is
-- rebuilt with it, and that rebuild would bind to nb_evil.orders.
SELECT viewmgr.register('nb_app.base', 'SELECT id, amount::bigint AS amount FROM nb_app.orders',
                        apply => false);
CREATE TEMP TABLE before_sync AS SELECT pg_temp.state() AS s;
SELECT throws_ok($$SELECT * FROM viewmgr.sync()$$, '42501',
                 'cannot rebuild nb_app.report: "orders" would now resolve to nb_evil.orders instead of nb_app.orders',
                 'sync refuses a rebuild that would bind report to mallory''s table, naming both');
SELECT is(pg_temp.state(), (SELECT s FROM before_sync),
          'the refused sync left views, registry and history as they were');
SELECT is((SELECT note FROM nb_app.report), 'real', 'report still reads nb_app.orders');

-- 2. run_with_dependents on the table report reads: same refusal, the DDL not run.
SELECT viewmgr.register('nb_app.base', 'SELECT id, amount FROM nb_app.orders', apply => false);
CREATE TEMP TABLE before_rwd AS SELECT pg_temp.state() AS s;
SELECT throws_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE nb_app.orders ALTER COLUMN note TYPE varchar(100)')$$,
                 '42501',
                 'cannot rebuild nb_app.report: "orders" would now resolve to nb_evil.orders instead of nb_app.orders',
                 'run_with_dependents refuses the same, naming both');
SELECT is(pg_temp.state(), (SELECT s FROM before_rwd),
          'the refused run_with_dependents left views, registry and history as they were');
SELECT is((SELECT format_type(atttypid, atttypmod) FROM pg_attribute
            WHERE attrelid = 'nb_app.orders'::regclass AND attname = 'note'),
          'text', 'the DDL of the refused run_with_dependents did not run');

-- The refusal says what to do.
CREATE FUNCTION pg_temp.hint_of(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE h text;
BEGIN
  EXECUTE sql;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
  RETURN h;
END $f$;
SELECT matches(pg_temp.hint_of($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE nb_app.orders ALTER COLUMN note TYPE varchar(100)')$$),
               'nb_evil\.orders', 'the hint names the shadowing relation');

-- 3. Nothing to compare for a view that does not stand yet: its first build binds anew.
SELECT is(viewmgr.register('nb_app.fresh', 'SELECT id FROM orders', search_path => 'nb_evil, nb_app'),
          'created', 'a first build is not refused');
SELECT viewmgr.unregister('nb_app.fresh', drop_view => true);

-- 4. Not an attack: the shadowing table is dropped again; the rebuilds run and report still
-- reads nb_app.orders.
DROP TABLE nb_evil.orders;
SELECT viewmgr.register('nb_app.base', 'SELECT id, amount::bigint AS amount FROM nb_app.orders',
                        apply => false);
SELECT ok(EXISTS (SELECT 1 FROM viewmgr.sync() WHERE view_name = 'nb_app.report' AND action = 'rebuilt'),
          'with the shadow gone, sync rebuilds report');
SELECT is((SELECT note FROM nb_app.report), 'real', 'report reads nb_app.orders after the rebuild');
SELECT ok(EXISTS (SELECT 1 FROM viewmgr.run_with_dependents('ALTER TABLE nb_app.orders ALTER COLUMN note TYPE varchar(100)')
                   WHERE view_name = 'nb_app.report'),
          'with the shadow gone, run_with_dependents rebuilds report');
SELECT is((SELECT note FROM nb_app.report), 'real', 'report reads nb_app.orders after run_with_dependents');

-- 5. A qualified name cannot be redirected: base is rebuilt although mallory has an orders again.
SET LOCAL ROLE nb_mallory;
CREATE TABLE nb_evil.orders (id int, note text);
RESET ROLE;
SELECT viewmgr.unregister('nb_app.report', drop_view => true);
SELECT viewmgr.register('nb_app.base', 'SELECT id, amount FROM nb_app.orders', apply => false);
SELECT ok(EXISTS (SELECT 1 FROM viewmgr.sync() WHERE view_name = 'nb_app.base'),
          'a view naming its relations qualified is rebuilt as usual');
SELECT is((SELECT count(*)::int FROM nb_app.base), 1, 'base reads nb_app.orders');

SELECT * FROM finish();
ROLLBACK;
