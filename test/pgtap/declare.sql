-- viewmgr.declare(views jsonb, prune, dry_run): a whole set in one call (SPEC §3). Set
-- semantics (order and spelling do not matter; an unchanged set runs no DDL and writes
-- nothing), dry_run, prune within the set's schemas, and bad input refused with its
-- SQLSTATE leaving the registry and the catalogs exactly as they were.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(58);

SET LOCAL client_min_messages = warning;
CREATE SCHEMA dcl;
CREATE SCHEMA dcl_b;
SET LOCAL search_path = dcl, public;
CREATE TABLE dcl.t (id int PRIMARY KEY, g int, v numeric);
INSERT INTO dcl.t SELECT i, i % 3, i FROM generate_series(1, 30) i;

-- Everything a call must leave alone when it refuses or only plans.
CREATE FUNCTION dcl.state() RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT concat_ws(E'\n',
    (SELECT string_agg(m::text || ' ' || m.xmin::text, E'\n' ORDER BY m.schema_name, m.relation_name)
       FROM viewmgr.managed_view m),
    (SELECT string_agg(concat_ws(' | ', c.oid::regclass::text, c.relkind, c.oid, c.xmin,
                                 c.relispopulated,
                                 CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END),
                       E'\n' ORDER BY c.oid::regclass::text)
       FROM pg_class c WHERE c.relnamespace IN ('dcl'::regnamespace, 'dcl_b'::regnamespace)),
    (SELECT count(*)::text FROM viewmgr.history))
$f$;

CREATE TABLE dcl.ddl_log (tag text);
CREATE FUNCTION dcl.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO dcl.ddl_log VALUES (tg_tag); END $$;
CREATE EVENT TRIGGER dcl_ddl ON ddl_command_start EXECUTE FUNCTION dcl.log_ddl();
CREATE FUNCTION dcl.ddl_count() RETURNS bigint LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM dcl.ddl_log RETURNING 1) SELECT count(*) FROM taken
$$;

CREATE FUNCTION dcl.refused(views text, errcode char(5), description text,
                            prune boolean DEFAULT false)
RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
  before text := dcl.state();
BEGIN
  PERFORM dcl.ddl_count();
  RETURN NEXT throws_ok(format('SELECT * FROM viewmgr.declare(%L::jsonb, prune => %L)', views, prune),
                        errcode, NULL, description);
  RETURN NEXT is(dcl.state(), before, description || ': nothing changed');
END
$f$;

-- The set: c reads b reads a, declared in reverse order; b is materialized.
CREATE TABLE dcl.set1 AS SELECT $$[
  {"view_name": "c", "definition": "SELECT g, n FROM b WHERE n > 0"},
  {"view_name": "b", "definition": "SELECT g, count(*) AS n FROM a GROUP BY g", "materialized": true,
   "indexes": ["UNIQUE (g)"]},
  {"view_name": "a", "definition": "SELECT id, g, v FROM t", "comment": "base", "view_options": ["security_barrier=true"]},
  {"view_name": "dcl_b.x", "definition": "SELECT count(*) AS n FROM dcl.a"}
]$$::jsonb AS views;

SELECT results_eq(
  $$SELECT view_name, action FROM viewmgr.declare((SELECT views FROM dcl.set1))$$,
  $$VALUES ('dcl.a', 'created'), ('dcl.b', 'created'), ('dcl_b.x', 'created'), ('dcl.c', 'created')$$,
  'first declaration creates every view, in dependency order');
SELECT is((SELECT count(*) FROM dcl.c), 3::bigint, 'the views are built and populated');
SELECT is((SELECT count(*) FROM viewmgr.managed_view), 4::bigint, 'four registrations');
SELECT is(obj_description('dcl.a'::regclass, 'pg_class'), 'base', 'comment applied');
SELECT ok((SELECT reloptions @> '{security_barrier=true}' FROM pg_class WHERE oid = 'dcl.a'::regclass),
          'view option applied');
SELECT is((SELECT count(*) FROM pg_index WHERE indrelid = 'dcl.b'::regclass), 1::bigint, 'index built');
SELECT is((SELECT reads FROM viewmgr.managed_view WHERE relation_name = 'c'), '{dcl.b}'::text[],
          'an unqualified name resolves to a view declared later in the array');

-- The same set again, reordered and respelled: unchanged, no DDL, nothing written.
SELECT dcl.ddl_count();
SELECT dcl.state() AS s \gset
SELECT results_eq(
  $$SELECT view_name, action FROM viewmgr.declare($j$[
      {"view_name": "dcl_b.x", "definition": "SELECT count(*) AS n FROM dcl.a"},
      {"view_name": "dcl.a", "definition": "  SELECT id, g, v FROM t\n", "view_options": ["security_barrier = on"], "comment": "base"},
      {"view_name": "b", "definition": "SELECT g, count(*) AS n FROM a GROUP BY g", "materialized": true,
       "indexes": ["UNIQUE (g)"], "with_data": true, "incremental": false},
      {"view_name": "c", "definition": "SELECT g, n FROM b WHERE n > 0", "depends_on": []}
    ]$j$)$$,
  $$VALUES ('dcl.a', 'unchanged'), ('dcl.b', 'unchanged'), ('dcl_b.x', 'unchanged'), ('dcl.c', 'unchanged')$$,
  'the same set again: every view unchanged');
SELECT is(dcl.ddl_count(), 0::bigint, 'an unchanged set runs no DDL');
SELECT is(dcl.state(), :'s', 'an unchanged set writes nothing: registry rows, relations and history as they were');

-- dry_run: the plan of a change, nothing changed.
SELECT results_eq(
  $$SELECT view_name, action FROM viewmgr.declare($j$[
      {"view_name": "a", "definition": "SELECT id, g, v, v * 2 AS w FROM t", "comment": "base", "view_options": ["security_barrier=true"]},
      {"view_name": "b", "definition": "SELECT g, count(*) AS n FROM a GROUP BY g", "materialized": true, "indexes": ["UNIQUE (g)"]},
      {"view_name": "c", "definition": "SELECT g, n FROM b WHERE n > 1"}
    ]$j$, prune => true, dry_run => true)$$,
  $$VALUES ('dcl.a', 'replaced'), ('dcl.b', 'unchanged'), ('dcl.c', 'replaced')$$,
  'dry_run returns the plan');
SELECT is(dcl.ddl_count(), 0::bigint, 'dry_run runs no DDL');
SELECT is(dcl.state(), :'s', 'dry_run changes nothing');
SELECT results_eq(
  $$SELECT view_name, action FROM viewmgr.declare($j$[
      {"view_name": "a", "definition": "SELECT id, g, v FROM t", "comment": "base", "view_options": ["security_barrier=true"]},
      {"view_name": "b", "definition": "SELECT g, count(*) AS n FROM a GROUP BY g", "materialized": true, "indexes": ["UNIQUE (g)"]}
    ]$j$, prune => true, dry_run => true)$$,
  $$VALUES ('dcl.a', 'unchanged'), ('dcl.b', 'unchanged'), ('dcl.c', 'dropped')$$,
  'dry_run with prune lists what would be dropped');
SELECT is(dcl.state(), :'s', 'dry_run with prune changes nothing');

-- A change applied: one call, one transaction.
SELECT results_eq(
  $$SELECT view_name, action FROM viewmgr.declare($j$[
      {"view_name": "a", "definition": "SELECT id, g, v FROM t", "comment": "base", "view_options": ["security_barrier=true"]},
      {"view_name": "b", "definition": "SELECT g, count(*) AS n, sum(v) AS total FROM a GROUP BY g", "materialized": true, "indexes": ["UNIQUE (g)"]},
      {"view_name": "c", "definition": "SELECT g, n FROM b WHERE n > 0"},
      {"view_name": "dcl_b.x", "definition": "SELECT count(*) AS n FROM dcl.a"}
    ]$j$)$$,
  $$VALUES ('dcl.a', 'unchanged'), ('dcl.b', 'rebuilt'), ('dcl_b.x', 'unchanged'), ('dcl.c', 'rebuilt')$$,
  'a changed materialized view is rebuilt with its dependent');
SELECT is((SELECT sum(total) FROM dcl.b), 465::numeric, 'the new definition is built');

-- prune: views of the set's schemas that the set no longer names go; other schemas stay.
SELECT results_eq(
  $$SELECT view_name, action FROM viewmgr.declare($j$[
      {"view_name": "a", "definition": "SELECT id, g, v FROM t", "comment": "base", "view_options": ["security_barrier=true"]},
      {"view_name": "b", "definition": "SELECT g, count(*) AS n, sum(v) AS total FROM a GROUP BY g", "materialized": true, "indexes": ["UNIQUE (g)"]}
    ]$j$, prune => true)$$,
  $$VALUES ('dcl.a', 'unchanged'), ('dcl.b', 'unchanged'), ('dcl.c', 'dropped')$$,
  'prune drops what the set no longer names');
SELECT is(to_regclass('dcl.c'), NULL, 'the pruned view is gone');
SELECT is((SELECT count(*) FROM viewmgr.managed_view WHERE relation_name = 'c'), 0::bigint,
          'and unregistered');
SELECT isnt(to_regclass('dcl_b.x'), NULL, 'a view of a schema the set does not name stays');
SELECT is((SELECT count(*) FROM viewmgr.history WHERE view_name = 'dcl.c' AND operation = 'drop'),
          1::bigint, 'the drop is in the history');

-- prune refuses, naming the object, where something unmanaged depends on a pruned view;
-- and where a view of the set still reads one.
CREATE VIEW dcl_b.by_hand AS SELECT n FROM dcl_b.x;
SELECT dcl.refused('[{"view_name": "dcl_b.y", "definition": "SELECT 1 AS one"}]', '2BP01',
                   'prune with an unmanaged dependent', prune => true);
SELECT throws_like($$SELECT * FROM viewmgr.declare('[{"view_name": "dcl_b.y", "definition": "SELECT 1 AS one"}]', prune => true)$$,
                   '%dcl_b.by_hand depends on it%', 'the refusal names the unmanaged dependent');
DROP VIEW dcl_b.by_hand;
SELECT dcl.refused('[{"view_name": "b", "definition": "SELECT g, count(*) AS n, sum(v) AS total FROM a GROUP BY g", "materialized": true}]',
                   '2BP01', 'prune of a view the set still reads', prune => true);

-- A managed view handed to another role by hand: declaring the same set again records the
-- owner PostgreSQL now gives it (as sync() does), with nothing rebuilt.
SELECT count(*) FROM viewmgr.declare('[{"view_name": "dcl_b.owned", "definition": "SELECT 1 AS one"}]');
CREATE ROLE dcl_by_hand NOLOGIN;
ALTER VIEW dcl_b.owned OWNER TO dcl_by_hand;
SELECT is((SELECT owner::text FROM viewmgr.managed_view WHERE schema_name = 'dcl_b' AND relation_name = 'owned'),
          current_user::text, 'before: the registry records the role that declared it');
SELECT is((SELECT action FROM viewmgr.declare('[{"view_name": "dcl_b.owned", "definition": "SELECT 1 AS one"}]')),
          'unchanged', 'declared again: unchanged');
SELECT is((SELECT owner::text FROM viewmgr.managed_view WHERE schema_name = 'dcl_b' AND relation_name = 'owned'),
          'dcl_by_hand', '... and the registry records the role it was handed to');

-- Bad input: every refusal leaves everything as it was.
SELECT dcl.refused('{"view_name": "a"}', '22023', 'an object instead of an array');
SELECT dcl.refused('"a"', '22023', 'a string instead of an array');
SELECT dcl.refused('[1, 2]', '22023', 'an array element that is not an object');
SELECT dcl.refused('[{"view_name": "n1", "definition": "SELECT 1", "colour": "red"}]', '22023', 'an unknown key');
SELECT dcl.refused('[{"view_name": "n1", "definition": "SELECT 1"}, {"view_name": "dcl.n1", "definition": "SELECT 2"}]',
                   '22023', 'a duplicate view_name');
SELECT dcl.refused('[{"view_name": "n1", "definition": "SELECT 1", "materialized": 1}]', '22023', 'a number for a boolean');
SELECT dcl.refused('[{"view_name": "n1", "definition": "SELECT 1", "indexes": [true]}]', '22023', 'an array of non-strings');
SELECT dcl.refused('[{"view_name": "n1", "definition": ["SELECT 1"]}]', '22023', 'an array for a string');
SELECT dcl.refused('[{"definition": "SELECT 1"}]', '22004', 'a missing view_name');
SELECT dcl.refused('[{"view_name": "n1", "definition": null}]', '22004', 'a null definition');
SELECT dcl.refused('[{"view_name": "n1", "definition": "SELECT 1", "materialized": true, "incremental": true}]',
                   '0A000', 'incremental => true for a definition that does not qualify');
SELECT dcl.refused('[{"view_name": "n1", "definition": "SELECT 1 AS one"}, {"view_name": "n2", "definition": "DROP TABLE dcl.t"}]',
                   '42601', 'a good view and a bad definition: neither is declared');
SELECT dcl.refused('[{"view_name": "n1", "definition": "SELECT * FROM n2"}, {"view_name": "n2", "definition": "SELECT * FROM n1"}]',
                   '42P17', 'a cycle within the set');
SELECT throws_ok($$SELECT * FROM viewmgr.declare(NULL)$$, '22004', NULL, 'NULL views');
SELECT throws_like($$SELECT * FROM viewmgr.declare('[{"view_name": "n1", "definition": "SELECT 1", "materialized": true, "incremental": true}]')$$,
                   '%cannot maintain dcl.n1 incrementally: it reads no table%', 'incremental refusal says why');

SELECT * FROM finish();
ROLLBACK;
