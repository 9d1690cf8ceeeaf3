-- Security (SPEC §2, §5): privileges are PostgreSQL's own, definitions run with the
-- caller's rights, identifiers are quoted, search_path is pinned, and the registry is
-- written only through the functions.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(94);

SET LOCAL client_min_messages = warning;
SET LOCAL search_path = public;

-- ---------------------------------------------------------------------------------------
-- Helpers (usable by every role)

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
GRANT USAGE ON SCHEMA vmt TO PUBLIC;

-- The registry and every relation outside the system schemas, with row versions.
-- SECURITY DEFINER: it reads whole registry rows, last_error included, which only the
-- extension owner may (the refusals below run as other roles).
CREATE FUNCTION vmt.state() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER AS $f$
  SELECT concat_ws(E'\n',
    'registry rows: ' || (SELECT count(*) FROM viewmgr.managed_view),
    (SELECT string_agg(m::text, E'\n' ORDER BY m.schema_name, m.relation_name)
       FROM viewmgr.managed_view m),
    (SELECT string_agg(concat_ws(' | ', quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                                 c.relkind, c.oid, c.xmin, c.ctid, c.relfilenode,
                                 c.relowner::regrole, c.relispopulated, c.relacl,
                                 CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
                                 CASE WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid) END,
                                 obj_description(c.oid, 'pg_class')),
                       E'\n' ORDER BY n.nspname, c.relname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        AND n.nspname !~ '^pg_(temp|toast_temp)_'));
$f$;

-- The SQLSTATE a statement raises, or 00000.
CREATE FUNCTION vmt.sqlstate_of(sql text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE sql;
  RETURN '00000';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END
$f$;

-- The bigint a query returns, or NULL if it fails.
CREATE FUNCTION vmt.try_bigint(sql text) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE
  n bigint;
BEGIN
  EXECUTE sql INTO n;
  RETURN n;
EXCEPTION WHEN OTHERS THEN
  RETURN NULL;
END
$f$;

-- The text a query returns, or NULL if it fails.
CREATE FUNCTION vmt.try_text(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  t text;
BEGIN
  EXECUTE sql INTO t;
  RETURN t;
EXCEPTION WHEN OTHERS THEN
  RETURN NULL;
END
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

-- ---------------------------------------------------------------------------------------
-- Fixtures, as the superuser who owns the extension

CREATE ROLE alice NOLOGIN;
CREATE ROLE bob NOLOGIN;

-- app: alice may create, bob may only look.
CREATE SCHEMA app;
GRANT USAGE, CREATE ON SCHEMA app TO alice;
GRANT USAGE ON SCHEMA app TO bob;
-- bobs: bob's own schema.
CREATE SCHEMA bobs AUTHORIZATION bob;
-- shared: both may create.
CREATE SCHEMA shared;
GRANT USAGE, CREATE ON SCHEMA shared TO alice, bob;
-- A schema whose name needs quoting.
CREATE SCHEMA "My App";
GRANT USAGE, CREATE ON SCHEMA "My App" TO alice;

CREATE TABLE app.t (a int, b text);
INSERT INTO app.t VALUES (1, 'one'), (2, 'two');
GRANT SELECT ON app.t TO alice, bob;
-- Only alice may read the secret.
CREATE TABLE app.secret (a int);
INSERT INTO app.secret VALUES (42);
GRANT SELECT ON app.secret TO alice;

-- ---------------------------------------------------------------------------------------
-- alice builds views where she may

SET ROLE alice;
SELECT is(viewmgr.register('app.v', 'SELECT a, b FROM app.t'), 'created',
          'alice registers app.v');
SELECT is(viewmgr.register('app.m', 'SELECT a, b FROM app.t', materialized => true,
                           indexes => '{"UNIQUE (a)"}'),
          'created', 'alice registers materialized view app.m');
SELECT is(viewmgr.register('app.secret_m', 'SELECT a FROM app.secret', materialized => true),
          'created', 'alice registers app.secret_m over a table she may read');
SELECT is(viewmgr.register('shared.pending', 'SELECT a FROM app.t', apply => false),
          'registered', 'alice declares shared.pending without building it');
SELECT is(viewmgr.register('app."evil""; DROP TABLE app.t; --"', 'SELECT a FROM app.t',
                           comment => 'it''s; DROP TABLE app.t; --'),
          'created', 'alice registers a view whose name needs quoting');
SELECT is(viewmgr.register('"My App"."Order Totals"', 'SELECT count(*) AS n FROM app.t'),
          'created', 'alice registers a view with spaces and capitals in schema and name');
RESET ROLE;

-- The views belong to alice, not to the extension's owner.
SELECT is((SELECT relowner FROM pg_class WHERE oid = 'app.v'::regclass), 'alice'::regrole::oid,
          'app.v is owned by alice');
SELECT is((SELECT relowner FROM pg_class WHERE oid = 'app.m'::regclass), 'alice'::regrole::oid,
          'app.m is owned by alice');
SELECT isnt((SELECT relowner FROM pg_class WHERE oid = 'app.v'::regclass),
            (SELECT extowner FROM pg_extension WHERE extname = 'pg_viewmgr'),
            'app.v is not owned by the extension owner');
SELECT is((SELECT owner::text FROM viewmgr.managed_view
            WHERE schema_name = 'app' AND relation_name = 'v'),
          'alice', 'the registry records alice as the owner of app.v');

-- Identifiers are quoted: the odd name is a name, not SQL.
SELECT is((SELECT relkind::text FROM pg_class
            WHERE relnamespace = 'app'::regnamespace
              AND relname = 'evil"; DROP TABLE app.t; --'),
          'v', 'the view is created with exactly the name given');
SELECT has_table('app', 't', 'app.t still exists');
SELECT is((SELECT count(*)::int FROM app.t), 2, 'app.t still holds its rows');
SELECT is(obj_description(format('app.%I', 'evil"; DROP TABLE app.t; --')::regclass, 'pg_class'),
          'it''s; DROP TABLE app.t; --', 'the comment is stored exactly as given');
SELECT ok(EXISTS (SELECT 1 FROM viewmgr.status
                   WHERE view_name = 'app."evil""; DROP TABLE app.t; --"'),
          'status shows the name quoted as quote_ident does');
SELECT is((SELECT relowner FROM pg_class
            WHERE relnamespace = '"My App"'::regnamespace AND relname = 'Order Totals'),
          'alice'::regrole::oid, '"My App"."Order Totals" exists, owned by alice');
SELECT ok(EXISTS (SELECT 1 FROM viewmgr.status WHERE view_name = '"My App"."Order Totals"'),
          'status shows "My App"."Order Totals"');

SET ROLE alice;
SELECT lives_ok($$SELECT viewmgr.unregister('app."evil""; DROP TABLE app.t; --"')$$,
                'alice unregisters the oddly named view');
RESET ROLE;
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = 'app'::regnamespace
                                               AND relname = 'evil"; DROP TABLE app.t; --'),
          'the oddly named view is dropped');
SELECT has_table('app', 't', 'app.t still exists after the unregister');

-- ---------------------------------------------------------------------------------------
-- bob cannot get around PostgreSQL's privileges

SET ROLE bob;
SELECT * FROM vmt.refused($$SELECT viewmgr.register('app.w', 'SELECT 1 AS x')$$, '42501',
                          'bob cannot register into a schema where he lacks CREATE');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('app.w', 'SELECT 1 AS x', apply => false)$$, '42501',
                          'bob cannot register there with apply => false either');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('app.w', 'SELECT 1 AS x', materialized => true, apply => false)$$, '42501',
                          'bob cannot declare a materialized view there either');
SELECT * FROM vmt.refused($$SELECT viewmgr.unregister('app.v')$$, '42501',
                          'bob cannot unregister alice''s view');
SELECT * FROM vmt.refused($$SELECT viewmgr.unregister('app.v', drop_view => false)$$, '42501',
                          'bob cannot stop the management of alice''s view');
SELECT * FROM vmt.refused($$SELECT viewmgr.unregister('app.m', cascade => true)$$, '42501',
                          'bob cannot unregister alice''s materialized view with cascade');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('app.v', 'SELECT a FROM app.t')$$, '42501',
                          'bob cannot rebuild alice''s view');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('app.v', 'SELECT a, b FROM app.t WHERE a > 1')$$, '42501',
                          'bob cannot replace alice''s view');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('app.v', 'SELECT a, b FROM app.t WHERE a > 1', apply => false)$$, '42501',
                          'bob cannot re-declare alice''s view with apply => false');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('app.v', 'SELECT a, b FROM app.t')$$, '42501',
                          'bob cannot re-register alice''s view even unchanged');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('app.m', 'SELECT a, b FROM app.t', materialized => true, indexes => '{"UNIQUE (a)", "(b)"}')$$, '42501',
                          'bob cannot change the indexes of alice''s materialized view');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('app.m', 'SELECT a, b FROM app.t')$$, '42501',
                          'bob cannot turn alice''s materialized view into a view');
-- In a schema where bob may create, alice's declaration is still alice's.
SELECT * FROM vmt.refused($$SELECT viewmgr.register('shared.pending', 'SELECT a FROM app.secret', apply => false)$$, '42501',
                          'bob cannot overwrite alice''s pending declaration');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('shared.pending', 'SELECT a FROM app.t')$$, '42501',
                          'bob cannot build alice''s pending declaration as his own');
SELECT * FROM vmt.refused($$SELECT viewmgr.unregister('shared.pending', drop_view => false)$$, '42501',
                          'bob cannot unregister alice''s pending declaration');
-- Definitions run with bob's rights.
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bobs.leak_m', 'SELECT a FROM app.secret', materialized => true)$$, '42501',
                          'bob cannot build a materialized view over a table he cannot read');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bobs.leak_m2', 'SELECT a FROM app.secret_m', materialized => true)$$, '42501',
                          'bob cannot build a materialized view over alice''s materialized view');
-- A plain view over it may be created (CREATE VIEW checks no SELECT rights), but it reads
-- with its owner's rights, bob's.
SELECT is(viewmgr.register('bobs.leak_v', 'SELECT a FROM app.secret'), 'created',
          'bob may create a plain view over a table he cannot read, as CREATE VIEW allows');
SELECT throws_ok($$SELECT * FROM bobs.leak_v$$, '42501', NULL,
                 'but reading it as bob is refused');
RESET ROLE;
SELECT is((SELECT relowner FROM pg_class WHERE oid = 'bobs.leak_v'::regclass), 'bob'::regrole::oid,
          'bobs.leak_v is owned by bob');
SELECT throws_ok($$SELECT * FROM bobs.leak_v$$, '42501', NULL,
                 'even a superuser reads bobs.leak_v with bob''s rights');

-- Still alice's, untouched.
SELECT is(pg_get_viewdef('app.v'::regclass), vmt.viewdef('SELECT t.a, t.b FROM app.t'),
          'app.v keeps alice''s definition');
SELECT is((SELECT definition FROM viewmgr.managed_view
            WHERE schema_name = 'shared' AND relation_name = 'pending'),
          'SELECT a FROM app.t', 'shared.pending keeps alice''s definition');

-- ---------------------------------------------------------------------------------------
-- The registry: readable by everyone, writable only through the functions

SET ROLE bob;
SELECT throws_ok($$INSERT INTO viewmgr.managed_view (schema_name, relation_name, materialized, definition, search_path, owner)
                   VALUES ('bobs', 'forged', false, 'SELECT 1', '{}', 'bob')$$,
                 '42501', NULL, 'bob cannot INSERT into the registry');
SELECT throws_ok($$UPDATE viewmgr.managed_view SET definition = 'SELECT a FROM app.secret'$$,
                 '42501', NULL, 'bob cannot UPDATE the registry');
SELECT throws_ok($$UPDATE viewmgr.managed_view SET owner = 'bob'$$,
                 '42501', NULL, 'bob cannot take over registry rows');
SELECT throws_ok($$DELETE FROM viewmgr.managed_view$$, '42501', NULL,
                 'bob cannot DELETE from the registry');
SELECT throws_ok($$TRUNCATE viewmgr.managed_view$$, '42501', NULL,
                 'bob cannot TRUNCATE the registry');
SELECT is((SELECT count(*)::int FROM viewmgr.managed_view), 6,
          'bob can read the registry');
SELECT is((SELECT count(*)::int FROM viewmgr.status), 6, 'bob can read viewmgr.status');
SELECT lives_ok($$SELECT * FROM viewmgr.drift()$$, 'bob can call drift()');
SELECT lives_ok($$SELECT * FROM viewmgr.dependency_order()$$, 'bob can call dependency_order()');
SELECT lives_ok($$SELECT viewmgr.graph()$$, 'bob can call graph()');
RESET ROLE;

SET ROLE alice;
SELECT throws_ok($$UPDATE viewmgr.managed_view SET definition = 'SELECT 1 AS a' WHERE owner = 'alice'::regrole$$,
                 '42501', NULL, 'alice cannot UPDATE even her own registry rows');
SELECT throws_ok($$DELETE FROM viewmgr.managed_view WHERE owner = 'alice'::regrole$$,
                 '42501', NULL, 'alice cannot DELETE her own registry rows');
RESET ROLE;

SELECT ok(NOT has_table_privilege('public', 'viewmgr.managed_view', 'INSERT, UPDATE, DELETE, TRUNCATE'),
          'PUBLIC holds no write privilege on the registry');
-- Every column but last_error, whose text can hold row values (viewmgr.status shows it to
-- the owner's members).
SELECT ok((SELECT bool_and(has_column_privilege('public', 'viewmgr.managed_view', attname, 'SELECT')
                           = (attname <> 'last_error'))
             FROM pg_attribute WHERE attrelid = 'viewmgr.managed_view'::regclass AND attnum > 0
              AND NOT attisdropped),
          'PUBLIC may read the registry, but for last_error');
SELECT ok(has_table_privilege('public', 'viewmgr.status', 'SELECT'),
          'PUBLIC may read viewmgr.status');
SELECT ok((SELECT 'viewmgr.managed_view'::regclass::oid = ANY (extconfig)
             FROM pg_extension WHERE extname = 'pg_viewmgr'),
          'the registry is marked for pg_dump (pg_extension_config_dump)');

-- ---------------------------------------------------------------------------------------
-- Every function pins a safe search_path

SELECT cmp_ok((SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'viewmgr'::regnamespace),
              '>=', 6, 'schema viewmgr has functions');
-- The change-tracking functions are the exceptions. The trigger function is C code that
-- runs no SQL and resolves no name through search_path, on the write path of every tracked
-- table, where a SET clause would cost writers more than the tracking does. The DDL event
-- trigger must resolve the names a DROP or ALTER TABLE gives as that statement will, with
-- the caller's search_path; its own queries qualify every name and operator.
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'viewmgr'::regnamespace
                   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c
                                    WHERE c LIKE 'search\_path=%')
                 ORDER BY 1),
          '{viewmgr.track_change(),viewmgr.track_ddl()}'::text[],
          'every function in viewmgr sets search_path, but the two C change-tracking functions');
SELECT is((SELECT bool_and(prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') AND NOT prosecdef)
             FROM pg_proc WHERE oid IN ('viewmgr.track_change()'::regprocedure, 'viewmgr.track_ddl()'::regprocedure)),
          true, 'those exceptions are C functions, not SECURITY DEFINER');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text || ': ' || c FROM pg_proc p, unnest(p.proconfig) c
                 WHERE p.pronamespace = 'viewmgr'::regnamespace
                   AND c LIKE 'search\_path=%'
                   AND (c !~ 'pg_temp"?\s*$' OR c ~* '(^|[=,\s])("?public"?|"?\$user"?)\s*(,|$)')
                 ORDER BY 1),
          '{}'::text[], 'each pinned search_path ends with pg_temp and names neither public nor $user');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'viewmgr'::regnamespace AND p.prosecdef
                   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')
                 ORDER BY 1),
          '{}'::text[], 'no SECURITY DEFINER function without a pinned search_path');

-- A search_path trap: objects named like pg_catalog's, in a schema placed before
-- pg_catalog on the caller's path, do not redirect pg_viewmgr's own statements.
CREATE SCHEMA trap;
CREATE TABLE trap.pg_class (oid oid, relname name);
CREATE FUNCTION trap.quote_ident(text) RETURNS text LANGUAGE sql AS $$ SELECT 'trapped' $$;
CREATE FUNCTION trap.current_setting(text) RETURNS text LANGUAGE sql AS $$ SELECT 'trap' $$;
SET LOCAL search_path = trap, pg_catalog, public;
SELECT is(viewmgr.register('app.trap_v', 'SELECT a FROM app.t'), 'created',
          'register works with hostile objects on the caller''s search_path');
SELECT ok(EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relname = 'trap_v'
                    AND relnamespace = 'app'::regnamespace),
          'and creates the view it was asked for');
SELECT ok(EXISTS (SELECT 1 FROM viewmgr.status WHERE view_name = 'app.trap_v'),
          'status names it app.trap_v');
SET LOCAL search_path = public;

-- ---------------------------------------------------------------------------------------
-- sync() builds with the rights of whoever owns the declaration, never more

-- bob's sync() does not build alice's views.
DROP VIEW app.v;
SET ROLE bob;
SELECT vmt.sqlstate_of($$SELECT * FROM viewmgr.sync()$$) AS bob_sync_outcome \gset
RESET ROLE;
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_class WHERE relowner = 'bob'::regrole
                        AND relnamespace IN ('app'::regnamespace, 'shared'::regnamespace)),
          'bob''s sync() created nothing of his in app or shared');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = 'app'::regnamespace
                        AND relname = 'v' AND relowner <> 'alice'::regrole),
          'app.v was not recreated under another owner by bob''s sync()');
SET ROLE alice;
SELECT is((SELECT action FROM viewmgr.sync() WHERE view_name = 'app.v'), 'created',
          'alice''s sync() recreates app.v');
RESET ROLE;
SELECT is((SELECT relowner FROM pg_class WHERE oid = 'app.v'::regclass), 'alice'::regrole::oid,
          'app.v is alice''s again');

-- bob declares a materialized view over the secret; a superuser's sync() must not hand
-- him the secret's rows.
SET ROLE bob;
SELECT vmt.sqlstate_of($$SELECT viewmgr.register('bobs.leak_later', 'SELECT a FROM app.secret', materialized => true, apply => false)$$)
  AS bob_declare_outcome \gset
RESET ROLE;
SELECT vmt.sqlstate_of($$SELECT * FROM viewmgr.sync()$$) AS superuser_sync_outcome \gset
SET ROLE bob;
SELECT is(coalesce(vmt.try_bigint($$SELECT count(*) FROM bobs.leak_later WHERE a = 42$$), 0), 0::bigint,
          'bob cannot read app.secret through a materialized view a superuser''s sync() built for him');
RESET ROLE;

-- Nor may the code of bob's definition run with a superuser's rights.
SELECT vmt.sqlstate_of($$SELECT viewmgr.unregister('bobs.leak_later')$$) AS unregister_outcome \gset
SET ROLE bob;
CREATE FUNCTION bobs.whoami() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT current_user::text $$;
CREATE FUNCTION bobs.grant_me() RETURNS int LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN ALTER ROLE bob CREATEROLE; RETURN 1; END $$;
SELECT vmt.sqlstate_of($$SELECT viewmgr.register('bobs.who_m', 'SELECT bobs.whoami() AS who', materialized => true, apply => false)$$)
  AS bob_declare_who \gset
RESET ROLE;
SELECT vmt.sqlstate_of($$SELECT * FROM viewmgr.sync()$$) AS superuser_sync_who \gset
SELECT is(coalesce(vmt.try_text($$SELECT string_agg(who, ',') FROM bobs.who_m$$), 'bob'), 'bob',
          'a materialized view bob declared is never computed as the superuser running sync()');
SET ROLE bob;
SELECT vmt.sqlstate_of($$SELECT viewmgr.register('bobs.grant_m', 'SELECT bobs.grant_me() AS x', materialized => true, apply => false)$$)
  AS bob_declare_grant \gset
RESET ROLE;
SELECT vmt.sqlstate_of($$SELECT * FROM viewmgr.sync()$$) AS superuser_sync_grant \gset
SELECT ok(NOT (SELECT rolcreaterole FROM pg_roles WHERE rolname = 'bob'),
          'bob cannot raise his own privileges through a superuser''s sync() of his declaration');

-- A superuser rebuilding alice's view keeps alice as its owner.
SELECT is(viewmgr.register('app.v', 'SELECT a FROM app.t'), 'rebuilt',
          'a superuser rebuilds app.v');
SELECT is((SELECT relowner FROM pg_class WHERE oid = 'app.v'::regclass), 'alice'::regrole::oid,
          'app.v is still owned by alice after the rebuild');
SELECT is((SELECT owner::text FROM viewmgr.managed_view
            WHERE schema_name = 'app' AND relation_name = 'v'),
          'alice', 'and the registry still says alice');

SELECT * FROM finish();
ROLLBACK;
