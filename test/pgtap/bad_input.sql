-- Bad input to register / unregister / sync / drift / dependency_order / graph
-- (SPEC §5): every refusal has the documented SQLSTATE, and leaves the registry and the
-- catalogs exactly as they were.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(224);

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

-- Everything a refused call must leave alone: every registry row, the schema list, and
-- every relation outside the system schemas with its row version (xmin, ctid), storage,
-- owner, population, view definition, index definition and comment.
CREATE FUNCTION vmt.state() RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT concat_ws(E'\n',
    'registry rows: ' || (SELECT count(*) FROM viewmgr.managed_view),
    (SELECT string_agg(m::text, E'\n' ORDER BY m.schema_name, m.relation_name)
       FROM viewmgr.managed_view m),
    'schemas: ' || (SELECT string_agg(nspname, ', ' ORDER BY nspname) FROM pg_namespace
                     WHERE nspname !~ '^pg_(temp|toast_temp)_'),
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

-- The error a statement raises: {sqlstate, message, detail, hint}; {00000} when none.
CREATE FUNCTION vmt.error_of(sql text) RETURNS text[] LANGUAGE plpgsql AS $f$
DECLARE
  st text; msg text; det text; hnt text;
BEGIN
  EXECUTE sql;
  RETURN ARRAY['00000', NULL, NULL, NULL];
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
  RETURN ARRAY[st, msg, det, hnt];
END
$f$;

-- Two tests: the statement fails with errcode (any error when NULL), and nothing changed.
CREATE FUNCTION vmt.refused(sql text, errcode char(5), description text)
RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
  before text := vmt.state();
BEGIN
  RETURN NEXT throws_ok(sql, errcode, NULL, description);
  RETURN NEXT is(vmt.state(), before, description || ': nothing changed');
END
$f$;

-- Three tests: the SQLSTATE, the message (message and detail) matching a regular
-- expression, and nothing changed.
CREATE FUNCTION vmt.refused_matching(sql text, errcode text, pattern text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
  before text := vmt.state();
  e text[];
BEGIN
  e := vmt.error_of(sql);
  RETURN NEXT is(e[1], errcode, description || ': SQLSTATE');
  RETURN NEXT matches(concat_ws(' ', e[2], e[3]), pattern, description || ': message');
  RETURN NEXT is(vmt.state(), before, description || ': nothing changed');
END
$f$;

-- ---------------------------------------------------------------------------------------
-- Fixtures: a table, a managed view and a managed materialized view with an index, so that
-- "nothing changed" has something to protect.

CREATE SCHEMA bi;
CREATE TABLE bi.t (a int PRIMARY KEY, b text);
INSERT INTO bi.t VALUES (1, 'one'), (2, 'two');
CREATE SEQUENCE bi.seq;
CREATE VIEW bi.unmanaged AS SELECT a FROM bi.t;

SELECT is(viewmgr.register('bi.base_v', 'SELECT a, b FROM bi.t'), 'created',
          'fixture: managed view bi.base_v');
SELECT is(viewmgr.register('bi.base_m', 'SELECT a, b FROM bi.t', materialized => true,
                           indexes => '{"UNIQUE (a)"}', comment => 'base matview'),
          'created', 'fixture: managed materialized view bi.base_m');
SELECT is(viewmgr.register('bi.dependent', 'SELECT a FROM bi.base_v'), 'created',
          'fixture: managed view bi.dependent on bi.base_v');

-- ---------------------------------------------------------------------------------------
-- NULL arguments: 22004

SELECT * FROM vmt.refused($$SELECT viewmgr.register(NULL, 'SELECT 1 AS x')$$, '22004',
                          'register: NULL view_name');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.nv', NULL)$$, '22004',
                          'register: NULL definition');
SELECT * FROM vmt.refused($$SELECT viewmgr.register(NULL, NULL)$$, '22004',
                          'register: NULL view_name and definition');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.base_v', NULL)$$, '22004',
                          'register: NULL definition for a managed view');
SELECT * FROM vmt.refused($$SELECT viewmgr.unregister(NULL)$$, '22004',
                          'unregister: NULL view_name');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.nv', 'SELECT 1 AS x', apply => NULL)$$,
                          '22004', 'register: NULL apply');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.nv', 'SELECT 1 AS x', materialized => NULL)$$,
                          '22004', 'register: NULL materialized');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.nv', 'SELECT 1 AS x', depends_on => NULL)$$,
                          '22004', 'register: NULL depends_on');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.nv', 'SELECT 1 AS x', depends_on => ARRAY[NULL]::text[])$$,
                          '22004', 'register: depends_on containing NULL');
SELECT * FROM vmt.refused($$SELECT * FROM viewmgr.sync(NULL)$$, '22004', 'sync: NULL dry_run');
SELECT * FROM vmt.refused($$SELECT viewmgr.graph(NULL)$$, '22004', 'graph: NULL format');

-- ---------------------------------------------------------------------------------------
-- Empty names and definitions: 22023

SELECT * FROM vmt.refused($$SELECT viewmgr.register('', 'SELECT 1 AS x')$$, '22023',
                          'register: empty view_name');
SELECT * FROM vmt.refused($$SELECT viewmgr.register(E' \t\n', 'SELECT 1 AS x')$$, '22023',
                          'register: whitespace-only view_name');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.ev', '')$$, '22023',
                          'register: empty definition');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.ev', E'  \n\t \r\n ')$$, '22023',
                          'register: whitespace-only definition');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.base_v', '   ')$$, '22023',
                          'register: whitespace-only definition for a managed view');
SELECT * FROM vmt.refused($$SELECT viewmgr.unregister('')$$, '22023',
                          'unregister: empty view_name');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.ev', 'SELECT 1 AS x', depends_on => '{""}')$$,
                          '22023', 'register: empty name in depends_on');
-- A definition holding only a comment or a semicolon has no query either (the SQLSTATE is
-- the engine's choice between "empty" and "not a query").
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.ev', '-- nothing here')$$, NULL,
                          'register: comment-only definition');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.ev', ' ; ')$$, NULL,
                          'register: semicolon-only definition');

-- ---------------------------------------------------------------------------------------
-- Names longer than 63 bytes: 42622, never truncated

SELECT * FROM vmt.refused(format('SELECT viewmgr.register(%L, %L)', repeat('u', 64), 'SELECT 1 AS x'),
                          '42622', 'register: 64-byte unqualified name');
SELECT * FROM vmt.refused(format('SELECT viewmgr.register(%L, %L)', 'bi.' || repeat('q', 64), 'SELECT 1 AS x'),
                          '42622', 'register: 64-byte relation part of a qualified name');
SELECT * FROM vmt.refused(format('SELECT viewmgr.register(%L, %L)', repeat('s', 64) || '.v', 'SELECT 1 AS x'),
                          '42622', 'register: 64-byte schema part');
SELECT * FROM vmt.refused(format('SELECT viewmgr.register(%L, %L)', 'bi.' || repeat('é', 32), 'SELECT 1 AS x'),
                          '42622', 'register: 32 two-byte characters (64 bytes)');
SELECT * FROM vmt.refused(format('SELECT viewmgr.register(%L, %L)', 'bi."' || repeat('Q', 64) || '"', 'SELECT 1 AS x'),
                          '42622', 'register: 64-byte quoted identifier');
SELECT * FROM vmt.refused(format('SELECT viewmgr.register(%L, %L)', 'bi.' || repeat('€', 22), 'SELECT 1 AS x'),
                          '42622', 'register: 22 three-byte characters (66 bytes, 22 characters)');
SELECT * FROM vmt.refused(format('SELECT viewmgr.unregister(%L)', 'bi.' || repeat('q', 64)),
                          '42622', 'unregister: 64-byte name');
SELECT * FROM vmt.refused(format('SELECT viewmgr.register(%L, %L, depends_on => ARRAY[%L])',
                                 'bi.dl', 'SELECT 1 AS x', 'bi.' || repeat('d', 64)),
                          '42622', 'register: 64-byte name in depends_on');

-- 63 bytes is the limit and works; a longer name sharing its first 63 bytes does not
-- collide with it.
SELECT is(viewmgr.register('bi.' || repeat('n', 63), 'SELECT 1 AS x'), 'created',
          'register: a 63-byte name works');
SELECT is((SELECT relname::text FROM pg_class
            WHERE relnamespace = 'bi'::regnamespace AND relname = repeat('n', 63)),
          repeat('n', 63), 'the 63-byte name is stored exactly');
SELECT is(viewmgr.register('bi.' || repeat('é', 31) || 'x', 'SELECT 2 AS y'), 'created',
          'register: a 63-byte multi-byte name works');
SELECT is((SELECT count(*)::int FROM pg_class
            WHERE relnamespace = 'bi'::regnamespace AND relname = repeat('é', 31) || 'x'),
          1, 'the 63-byte multi-byte name is stored exactly');
SELECT * FROM vmt.refused(format('SELECT viewmgr.register(%L, %L)', 'bi.' || repeat('n', 64), 'SELECT 3 AS z'),
                          '42622', 'register: 64-byte name whose first 63 bytes name a managed view');
SELECT is(pg_get_viewdef(format('bi.%I', repeat('n', 63))::regclass), ' SELECT 1 AS x;',
          'the view with the 63-byte prefix keeps its definition');

-- Other malformed names.
SELECT * FROM vmt.refused($$SELECT viewmgr.register('a.b.c', 'SELECT 1 AS x')$$, NULL,
                          'register: three-part name');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi."unterminated', 'SELECT 1 AS x')$$, NULL,
                          'register: unterminated quoted identifier');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('no_such_schema.v', 'SELECT 1 AS x')$$, '3F000',
                          'register: schema that does not exist');

-- ---------------------------------------------------------------------------------------
-- Definitions that are not exactly one query

SELECT * FROM vmt.refused_matching($$SELECT viewmgr.register('bi.se', 'SELECT a, b FROM FROM bi.t')$$,
                                   '42601', '^syntax error at or near "FROM"',
                                   'register: syntax error');
SELECT * FROM vmt.refused_matching($$SELECT viewmgr.register('bi.se', 'SELECT a, b FROM')$$,
                                   '42601', '^syntax error at end of input',
                                   'register: syntax error at end of input');
SELECT * FROM vmt.refused_matching($$SELECT viewmgr.register('bi.base_v', E'SELECT a,\n       b\n  FROM bi.t\n WHERE a >')$$,
                                   '42601', '^syntax error at end of input',
                                   'register: syntax error in a new definition of a managed view');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.ms', 'SELECT 1 AS x; SELECT 2 AS y')$$, '42601',
                          'register: two queries');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.ms', 'SELECT 1 AS x; DROP TABLE bi.t')$$, '42601',
                          'register: a query followed by DROP TABLE');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.ms', 'SELECT 1 AS x WITH NO DATA; DROP TABLE bi.t; --', materialized => true)$$,
                          '42601', 'register: attempt to close CREATE MATERIALIZED VIEW and add a statement');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.base_v', 'SELECT a, b FROM bi.t; DELETE FROM bi.t')$$, '42601',
                          'register: several statements for a managed view');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.dml', 'INSERT INTO bi.t VALUES (3, ''three'')')$$, '42601',
                          'register: INSERT');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.dml', 'INSERT INTO bi.t VALUES (3, ''three'') RETURNING a')$$, '42601',
                          'register: INSERT ... RETURNING');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.dml', 'UPDATE bi.t SET b = ''x''')$$, '42601',
                          'register: UPDATE');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.dml', 'DELETE FROM bi.t')$$, '42601',
                          'register: DELETE');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.dml', 'MERGE INTO bi.t USING (SELECT 1 AS a) s ON s.a = t.a WHEN MATCHED THEN DELETE')$$, '42601',
                          'register: MERGE');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.ddl', 'CREATE TABLE bi.x (a int)')$$, '42601',
                          'register: CREATE TABLE');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.ddl', 'DROP TABLE bi.t')$$, '42601',
                          'register: DROP TABLE');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.ddl', 'CREATE TABLE bi.x AS SELECT 1 AS a')$$, '42601',
                          'register: CREATE TABLE AS');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.ddl', 'EXPLAIN SELECT 1')$$, '42601',
                          'register: EXPLAIN');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.dmlcte', 'WITH d AS (DELETE FROM bi.t RETURNING a) SELECT a FROM d')$$, '0A000',
                          'register: data-modifying WITH (DELETE)');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.dmlcte', 'WITH k AS (SELECT 1 AS a), i AS (INSERT INTO bi.t VALUES (9, ''nine'') RETURNING a) SELECT a FROM i')$$, '0A000',
                          'register: data-modifying WITH (INSERT, second CTE)');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.dmlcte', 'WITH u AS (UPDATE bi.t SET b = b RETURNING a) SELECT a FROM u', materialized => true)$$, '0A000',
                          'register: data-modifying WITH (UPDATE) in a materialized view');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.dmlcte', 'SELECT a FROM bi.t UNION ALL (WITH d AS (DELETE FROM bi.t RETURNING a) SELECT a FROM d)')$$, '0A000',
                          'register: data-modifying WITH inside a set operation');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.into', 'SELECT a INTO bi.t2 FROM bi.t')$$, '42601',
                          'register: SELECT INTO');

-- What is refused is refused for its shape: the same kinds of query are accepted.
SELECT is(viewmgr.register('bi.ok_semicolon', 'SELECT 1 AS one;'), 'created',
          'register: a trailing semicolon is accepted');
SELECT is(viewmgr.register('bi.ok_comment', E'SELECT a FROM bi.t -- trailing comment'), 'created',
          'register: a trailing line comment is accepted');
SELECT is(viewmgr.register('bi.ok_values', 'VALUES (1, 2)'), 'created',
          'register: VALUES is accepted');
SELECT is(viewmgr.register('bi.ok_with', 'WITH x AS (SELECT a FROM bi.t) SELECT a FROM x'), 'created',
          'register: WITH ... SELECT is accepted');

-- ---------------------------------------------------------------------------------------
-- Declared dependency cycles: 42P17, naming the cycle

SELECT is(viewmgr.register('bi.ca', 'SELECT 1 AS x', depends_on => '{bi.cb}', apply => false),
          'registered', 'cycle fixture: bi.ca depends on bi.cb');
SELECT * FROM vmt.refused_matching(
  $$SELECT viewmgr.register('bi.cb', 'SELECT 2 AS y', depends_on => '{bi.ca}', apply => false)$$,
  '42P17', '(bi\.ca.*bi\.cb|bi\.cb.*bi\.ca)', 'register: two-view cycle (apply => false)');
SELECT * FROM vmt.refused_matching(
  $$SELECT viewmgr.register('bi.cb', 'SELECT 2 AS y', depends_on => '{bi.ca}')$$,
  '42P17', '(bi\.ca.*bi\.cb|bi\.cb.*bi\.ca)', 'register: two-view cycle (apply => true)');
SELECT * FROM vmt.refused_matching(
  $$SELECT viewmgr.register('bi.selfdep', 'SELECT 1 AS x', depends_on => '{bi.selfdep}', apply => false)$$,
  '42P17', 'bi\.selfdep', 'register: a view depending on itself');
SELECT is(viewmgr.register('bi.c1', 'SELECT 1 AS x', depends_on => '{bi.c2}', apply => false),
          'registered', 'cycle fixture: bi.c1 depends on bi.c2');
SELECT is(viewmgr.register('bi.c2', 'SELECT 1 AS x', depends_on => '{bi.c3}', apply => false),
          'registered', 'cycle fixture: bi.c2 depends on bi.c3');
SELECT * FROM vmt.refused_matching(
  $$SELECT viewmgr.register('bi.c3', 'SELECT 1 AS x', depends_on => '{bi.c1}', apply => false)$$,
  '42P17', '^(?=.*bi\.c1)(?=.*bi\.c2)(?=.*bi\.c3)', 'register: three-view cycle');
-- A cycle closed through a dependency inferred from the definition.
SELECT is(viewmgr.register('bi.r1', 'SELECT n FROM bi.r2', apply => false),
          'registered', 'cycle fixture: bi.r1 reads bi.r2 (not registered yet)');
SELECT * FROM vmt.refused_matching(
  $$SELECT viewmgr.register('bi.r2', 'SELECT 1 AS n', depends_on => '{bi.r1}', apply => false)$$,
  '42P17', '(bi\.r1.*bi\.r2|bi\.r2.*bi\.r1)', 'register: cycle through an inferred dependency');

-- ---------------------------------------------------------------------------------------
-- depends_on naming an unknown view

SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.dep_unknown', 'SELECT 1 AS x', depends_on => '{bi.no_such_view}')$$,
                          '42704', 'register: depends_on an unknown view, apply => true');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.dep_unknown', 'SELECT 1 AS x', depends_on => '{bi.unmanaged}')$$,
                          '42809', 'register: depends_on an existing but unmanaged view, apply => true');
SELECT is(viewmgr.register('bi.dangling', 'SELECT 1 AS x', depends_on => '{bi.later}', apply => false),
          'registered', 'register: depends_on an unknown view is recorded with apply => false');
SELECT * FROM vmt.refused($$SELECT * FROM viewmgr.sync()$$, '42704',
                          'sync: errors while a declared dependency is still unknown');
-- Read functions keep working on such a registry.
SELECT lives_ok($$SELECT * FROM viewmgr.drift()$$, 'drift works with an unresolved declaration');
SELECT lives_ok($$SELECT * FROM viewmgr.dependency_order()$$,
                'dependency_order works with an unresolved declaration');
SELECT lives_ok($$SELECT viewmgr.graph()$$, 'graph works with an unresolved declaration');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = 'bi'::regnamespace
                                               AND relname = 'dangling'),
          'the view with an unresolved declaration was not built');

-- Leave a registry that sync() can apply.
SELECT lives_ok($$SELECT viewmgr.unregister('bi.dangling')$$, 'unregister the dangling declaration');
SELECT lives_ok($$SELECT viewmgr.unregister('bi.ca')$$, 'unregister cycle fixture bi.ca');
SELECT lives_ok($$SELECT viewmgr.unregister('bi.c1')$$, 'unregister cycle fixture bi.c1');
SELECT lives_ok($$SELECT viewmgr.unregister('bi.c2')$$, 'unregister cycle fixture bi.c2');
SELECT lives_ok($$SELECT viewmgr.unregister('bi.r1')$$, 'unregister cycle fixture bi.r1');

-- ---------------------------------------------------------------------------------------
-- Index specifications

SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.mi', 'SELECT a, b FROM bi.t', materialized => true, indexes => '{(no_such_column)}')$$,
                          '42703', 'register: index on a missing column (new view)');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.base_m', 'SELECT a, b FROM bi.t', materialized => true, indexes => '{"UNIQUE (a)", "(no_such_column)"}', comment => 'base matview')$$,
                          '42703', 'register: index on a missing column (managed view)');
-- Declared with apply => false, it fails at registration or, at the latest, at sync().
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.mi', 'SELECT a, b FROM bi.t', materialized => true, indexes => '{(no_such_column)}', apply => false);
                            SELECT * FROM viewmgr.sync()$$,
                          '42703', 'register (apply => false) then sync(): index on a missing column');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.mi', 'SELECT a, b FROM bi.t', materialized => true, indexes => '{"(a); DROP TABLE bi.t"}')$$,
                          '22023', 'register: index spec followed by DROP TABLE');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.mi', 'SELECT a, b FROM bi.t', materialized => true, indexes => '{"(a); DROP TABLE bi.t"}', apply => false)$$,
                          '22023', 'register: index spec followed by DROP TABLE, apply => false');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.mi', 'SELECT a, b FROM bi.t', materialized => true, indexes => '{"(a) WITH (fillfactor = 50); DROP TABLE bi.t"}')$$,
                          '22023', 'register: index spec with options followed by DROP TABLE');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.mi', 'SELECT a, b FROM bi.t', materialized => true, indexes => '{"(a); CREATE INDEX ON bi.t (b)"}')$$,
                          '22023', 'register: index spec followed by an index on another table');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.mi', 'SELECT a, b FROM bi.t', materialized => true, indexes => '{"(a)) ; SELECT (1"}')$$,
                          '22023', 'register: index spec breaking out of its parentheses');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.mi', 'SELECT a, b FROM bi.t', materialized => true, indexes => '{"(a) WHERE"}')$$,
                          '22023', 'register: index spec with a syntax error');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.mi', 'SELECT a, b FROM bi.t', materialized => true, indexes => '{""}')$$,
                          '22023', 'register: empty index spec');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.pi', 'SELECT a, b FROM bi.t', indexes => '{(a)}')$$,
                          '22023', 'register: indexes on a plain view');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.base_v', 'SELECT a, b FROM bi.t', indexes => '{(a)}')$$,
                          '22023', 'register: indexes on a managed plain view');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.pi', 'SELECT a, b FROM bi.t', indexes => '{(a)}', apply => false)$$,
                          '22023', 'register: indexes on a plain view, apply => false');

-- ---------------------------------------------------------------------------------------
-- unregister of a name that is not managed: 42704, and an unmanaged view is not dropped

SELECT * FROM vmt.refused($$SELECT viewmgr.unregister('bi.no_such_view')$$, '42704',
                          'unregister: a name that does not exist');
SELECT * FROM vmt.refused($$SELECT viewmgr.unregister('bi.unmanaged')$$, '42704',
                          'unregister: an existing view that is not managed');
SELECT * FROM vmt.refused($$SELECT viewmgr.unregister('bi.t')$$, '42704',
                          'unregister: a table');
SELECT has_view('bi', 'unmanaged', 'the unmanaged view still exists');

-- ---------------------------------------------------------------------------------------
-- graph formats, view options, other option misuse

SELECT * FROM vmt.refused($$SELECT viewmgr.graph('svg')$$, '22023', 'graph: svg');
SELECT * FROM vmt.refused($$SELECT viewmgr.graph('')$$, '22023', 'graph: empty format');
SELECT * FROM vmt.refused($$SELECT viewmgr.graph('dot; DROP TABLE bi.t')$$, '22023',
                          'graph: format with trailing text');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.vo', 'SELECT a FROM bi.t', view_options => '{foo=bar}')$$,
                          '22023', 'register: unknown view option');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.vo', 'SELECT a FROM bi.t', view_options => '{check_option=sideways}')$$,
                          '22023', 'register: invalid check_option value');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.vo', 'SELECT a FROM bi.t', view_options => '{security_barrier=maybe}')$$,
                          '22023', 'register: invalid security_barrier value');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.vo', 'SELECT a FROM bi.t', view_options => '{"security_barrier=true) AS SELECT 1; DROP TABLE bi.t; --"}')$$,
                          '22023', 'register: view option carrying SQL');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.base_v', 'SELECT a, b FROM bi.t', view_options => '{foo=bar}')$$,
                          '22023', 'register: unknown view option on a managed view');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.vo', 'SELECT a FROM bi.t', materialized => true, view_options => '{security_barrier=true}')$$,
                          '22023', 'register: view options on a materialized view');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.vo', 'SELECT a FROM bi.t', with_data => false)$$,
                          '22023', 'register: with_data => false on a plain view');

-- ---------------------------------------------------------------------------------------
-- Registering over something that is not a view: 42809

SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.t', 'SELECT 1 AS a')$$, '42809',
                          'register: over an existing table');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.t', 'SELECT 1 AS a', apply => false)$$, '42809',
                          'register: over an existing table, apply => false');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.t', 'SELECT 1 AS a', materialized => true)$$, '42809',
                          'register: a materialized view over an existing table');
SELECT * FROM vmt.refused($$SELECT viewmgr.register('bi.seq', 'SELECT 1 AS a')$$, '42809',
                          'register: over an existing sequence');
SELECT has_table('bi', 't', 'the table is still there');
SELECT is((SELECT count(*)::int FROM bi.t), 2, 'and still holds its rows');

-- ---------------------------------------------------------------------------------------
-- After all of the above, the fixtures are intact and in sync.

SELECT is(pg_get_viewdef('bi.base_v'::regclass), vmt.viewdef('SELECT t.a, t.b FROM bi.t'),
          'bi.base_v keeps its definition');
SELECT is((SELECT array_agg(pg_get_indexdef(indexrelid)) FROM pg_index WHERE indrelid = 'bi.base_m'::regclass),
          ARRAY['CREATE UNIQUE INDEX base_m_a_idx ON bi.base_m USING btree (a)'],
          'bi.base_m keeps exactly its declared index');
SELECT is(obj_description('bi.base_m'::regclass, 'pg_class'), 'base matview',
          'bi.base_m keeps its comment');
SELECT is_empty($$SELECT * FROM viewmgr.drift()$$, 'drift() reports nothing');
SELECT is((SELECT array_agg(DISTINCT action) FROM viewmgr.sync()), ARRAY['unchanged'],
          'sync() has nothing to do');

SELECT * FROM finish();
ROLLBACK;
