-- Owners are roles, not names (issue 10, finding 8): renaming an owner role, REASSIGN OWNED
-- and dropping the role of a registration not built yet must not stop sync() for every
-- view. The registry keeps the owner as a role (it follows a rename), a built view belongs
-- to whoever PostgreSQL says owns it (it follows ALTER ... OWNER and REASSIGN OWNED), and a
-- registration whose role is gone is skipped by sync(), naming why, while the rest is built.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(29);

SET LOCAL client_min_messages = warning;
CREATE ROLE or_alice NOLOGIN;
CREATE ROLE or_bob NOLOGIN;
CREATE ROLE or_carol NOLOGIN;
CREATE ROLE "Or Team" NOLOGIN;
CREATE SCHEMA orr;
GRANT USAGE, CREATE ON SCHEMA orr TO or_alice, or_bob, or_carol, "Or Team";
CREATE TABLE orr.t (a int, b int);
INSERT INTO orr.t VALUES (1, 2);
GRANT SELECT ON orr.t TO or_alice, or_bob, or_carol, "Or Team";

CREATE FUNCTION pg_temp.sqlstate_of(sql text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE sql;
  RETURN '00000';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $f$;
CREATE FUNCTION pg_temp.registry() RETURNS text LANGUAGE sql AS $f$
  SELECT string_agg(format('%s.%s:%s:%s:%s', schema_name, relation_name, owner::text,
                           definition, built_at IS NOT NULL), ' ' ORDER BY relation_name)
  FROM viewmgr.managed_view
$f$;
CREATE FUNCTION pg_temp.relowner(rel text) RETURNS text LANGUAGE sql AS $f$
  SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE oid = to_regclass(rel)
$f$;

SET LOCAL ROLE or_alice;
SELECT viewmgr.register('orr.v1', 'SELECT a FROM orr.t');
SELECT viewmgr.register('orr.m1', 'SELECT a, b FROM orr.t', materialized => true);
SELECT viewmgr.register('orr.v2', 'SELECT a FROM orr.v1', apply => false);
RESET ROLE;
SET LOCAL ROLE or_carol;
SELECT viewmgr.register('orr.c1', 'SELECT b FROM orr.t', apply => false);
SELECT viewmgr.register('orr.c2', 'SELECT b FROM orr.c1', apply => false);
RESET ROLE;
SET LOCAL ROLE "Or Team";
SELECT viewmgr.register('orr.team', 'SELECT a FROM orr.t');
RESET ROLE;

-- 1. The owner role is renamed.
ALTER ROLE or_alice RENAME TO or_alice2;
SELECT is((SELECT owner::text FROM viewmgr.managed_view WHERE relation_name = 'v2'), 'or_alice2',
          'the registry follows a renamed owner role');
SELECT is(pg_temp.sqlstate_of('SELECT * FROM viewmgr.status'), '00000', 'status works after the rename');
SELECT is((SELECT string_agg(view_name || ':' || action, ',' ORDER BY view_name) FROM viewmgr.sync()),
          'orr.c1:created,orr.c2:created,orr.m1:unchanged,orr.team:unchanged,orr.v1:unchanged,orr.v2:created',
          'sync() after the rename builds the pending views (it used to refuse: role "or_alice")');
SELECT is(pg_temp.relowner('orr.v2'), 'or_alice2', 'the pending view is built as the renamed role');
SET LOCAL ROLE or_alice2;
SELECT is(viewmgr.register('orr.v1', 'SELECT a FROM orr.t'), 'unchanged',
          'the renamed role re-registers its view: unchanged');
SELECT is(viewmgr.register('orr.v1', 'SELECT a, b FROM orr.t'), 'replaced',
          '... and changes it');
SELECT is((SELECT string_agg(view_name || ':' || action, ',') FROM viewmgr.refresh_all(only_stale => false)),
          'orr.m1:refreshed',
          'refresh_all() as the renamed role refreshes its own materialized view');
RESET ROLE;
SELECT is((SELECT owner::text FROM viewmgr.managed_view WHERE relation_name = 'team'), '"Or Team"',
          'a role whose name needs quoting is kept as that role');
SELECT is(pg_temp.relowner('orr.team'), 'Or Team', '... and owns its view');

-- 2. REASSIGN OWNED hands alice's views to bob.
REASSIGN OWNED BY or_alice2 TO or_bob;
SELECT is(pg_temp.relowner('orr.v1'), 'or_bob', 'REASSIGN OWNED made bob the owner');
SET LOCAL ROLE or_alice2;
SELECT is(pg_temp.sqlstate_of($$SELECT viewmgr.register('orr.v1', 'SELECT a FROM orr.t')$$), '42501',
          'alice, who owns nothing now, may not change the view');
SELECT is(pg_temp.sqlstate_of($$SELECT viewmgr.unregister('orr.v2')$$), '42501',
          '... nor unregister one');
RESET ROLE;
SET LOCAL ROLE or_bob;
SELECT is(viewmgr.register('orr.v1', 'SELECT a FROM orr.t'), 'rebuilt', 'bob, the owner now, may change it');
RESET ROLE;
SELECT is(pg_temp.relowner('orr.v1'), 'or_bob', '... and the view stays his');
SELECT is(pg_temp.relowner('orr.v2'), 'or_bob', '... and so does its dependent, rebuilt');
SELECT is((SELECT string_agg(action, ',') FROM viewmgr.sync() WHERE action <> 'unchanged'), NULL,
          'sync() after REASSIGN OWNED has nothing to do');
SELECT is((SELECT string_agg(DISTINCT owner::text, ',') FROM viewmgr.managed_view
            WHERE relation_name IN ('v1', 'v2', 'm1')), 'or_bob',
          '... and the registry says bob owns the views REASSIGN OWNED gave him');
REVOKE ALL ON SCHEMA orr FROM or_alice2;
REVOKE ALL ON orr.t FROM or_alice2;
DROP ROLE or_alice2;
SELECT is(pg_temp.sqlstate_of('SELECT * FROM viewmgr.sync()'), '00000', 'sync() works after the old owner is dropped');

-- 3. The role of registrations not built yet is dropped.
SET LOCAL ROLE or_carol;
SELECT viewmgr.register('orr.c3', 'SELECT a FROM orr.t', apply => false);
SELECT viewmgr.register('orr.c5', 'SELECT b FROM orr.t', apply => false);
RESET ROLE;
SET LOCAL ROLE or_bob;
SELECT viewmgr.register('orr.c4', 'SELECT a FROM orr.c3', apply => false);
SELECT viewmgr.register('orr.b1', 'SELECT a FROM orr.t', apply => false);
RESET ROLE;
REASSIGN OWNED BY or_carol TO or_bob;
REVOKE ALL ON SCHEMA orr FROM or_carol;
REVOKE ALL ON orr.t FROM or_carol;
DROP ROLE or_carol;
SELECT is((SELECT string_agg(view_name || ':' || action || ':' || coalesce(reason, ''), ',' ORDER BY view_name)
             FROM viewmgr.sync() WHERE action <> 'unchanged'),
          'orr.b1:created:not built yet,'
          'orr.c3:skipped:its owner role no longer exists (re-register or unregister it),'
          'orr.c4:skipped:reads orr.c3, which cannot be built,'
          'orr.c5:skipped:its owner role no longer exists (re-register or unregister it)',
          'sync() skips the registrations of a dropped role and builds the rest');
SELECT is(to_regclass('orr.c3'), NULL, 'the orphaned registration is not built');
SELECT is(pg_temp.relowner('orr.b1'), 'or_bob', 'the other pending view is built');
SELECT is(pg_temp.relowner('orr.c1'), 'or_bob', 'carol''s built views went to bob with REASSIGN OWNED');
SELECT is((SELECT drift FROM viewmgr.drift() WHERE view_name = 'orr.c3'), 'missing',
          'drift() reports the orphaned registration');
SELECT is(pg_temp.sqlstate_of($$SELECT viewmgr.register('orr.c3', 'SELECT a, b FROM orr.t', apply => false)$$),
          '00000', 'a superuser may re-register it (as itself)');
SELECT is((SELECT owner::text FROM viewmgr.managed_view WHERE relation_name = 'c3'), current_user::text,
          '... and owns the registration then');
SELECT is((SELECT string_agg(view_name || ':' || action, ',' ORDER BY view_name) FROM viewmgr.sync() WHERE action <> 'unchanged'),
          'orr.c3:created,orr.c4:created,orr.c5:skipped',
          'sync() builds it and what reads it then, and still skips c5 whose role is gone');
SET LOCAL ROLE or_bob;
SELECT is(pg_temp.sqlstate_of($$SELECT viewmgr.unregister('orr.c5')$$), '42501',
          'another role may not unregister an orphaned registration');
RESET ROLE;
SELECT lives_ok($$SELECT viewmgr.unregister('orr.c5')$$, 'a superuser may');
SELECT is((SELECT count(*)::int FROM viewmgr.managed_view WHERE relation_name = 'c5'), 0, '... and it is gone');

SELECT * FROM finish();
ROLLBACK;
