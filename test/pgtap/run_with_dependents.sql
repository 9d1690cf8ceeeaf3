-- viewmgr.run_with_dependents (SPEC §3 "Changing what views are built on", §4): DDL on a
-- base table that views read is run with the dependent views saved, dropped and recreated
-- in dependency order, managed or not, with their grants, comments and data; if any step
-- fails, nothing changes.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(24);

SET LOCAL client_min_messages = warning;
SET LOCAL search_path = public;

CREATE ROLE rwd_reader;
CREATE ROLE rwd_reader2;

CREATE SCHEMA rw;
GRANT USAGE ON SCHEMA rw TO rwd_reader, rwd_reader2;

-- ---------------------------------------------------------------------------------------
-- Helpers

-- A relation's table privileges, one entry per grantee, privilege and grantor, in a fixed
-- order: grantee=privilege[*]/grantor (* = with grant option). The owner's own MAINTAIN,
-- which PostgreSQL 17 added to an owner's default privileges, is left out so that the
-- expected lists are the same on every version; MAINTAIN granted to others is shown.
CREATE FUNCTION rw.acl(rel regclass) RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT string_agg(e, ',' ORDER BY e COLLATE "C")
    FROM (SELECT format('%s=%s%s/%s',
                        CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                             WHEN a.grantee::regrole::text = current_user THEN 'caller'
                             ELSE a.grantee::regrole::text END,
                        a.privilege_type, CASE WHEN a.is_grantable THEN '*' ELSE '' END,
                        CASE WHEN a.grantor::regrole::text = current_user THEN 'caller'
                             ELSE a.grantor::regrole::text END) AS e
            FROM pg_class c, aclexplode(c.relacl) a
           WHERE c.oid = rel
             AND NOT (a.privilege_type = 'MAINTAIN' AND a.grantee = c.relowner
                      AND a.grantor = c.relowner)) s;
$f$;

-- Everything a failed call must leave as it was: the registry rows, and every relation of
-- the schema with its oid, kind, definition, privileges, comment, column types and the
-- number of rows of materialized views.
CREATE FUNCTION rw.snapshot() RETURNS text LANGUAGE plpgsql STABLE AS $f$
DECLARE
  out text;
  r record;
  n bigint;
BEGIN
  SELECT md5(coalesce(string_agg(m::text, E'\n' ORDER BY m.schema_name, m.relation_name), ''))
    INTO out FROM viewmgr.managed_view m;
  FOR r IN
    SELECT c.oid, c.relname, c.relkind, c.relacl::text AS acl, c.relispopulated,
           CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS def,
           obj_description(c.oid, 'pg_class') AS comment,
           (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                              ORDER BY a.attnum)
              FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
      FROM pg_class c
     WHERE c.relnamespace = 'rw'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'i')
     ORDER BY c.relname
  LOOP
    n := NULL;
    IF r.relkind IN ('r', 'm') AND r.relispopulated THEN
      EXECUTE format('SELECT count(*) FROM rw.%I', r.relname) INTO n;
    END IF;
    out := out || E'\n' || concat_ws(' | ', r.relname, r.oid, r.relkind, r.acl, r.def,
                                     r.comment, r.columns, n);
  END LOOP;
  RETURN out;
END
$f$;

-- ---------------------------------------------------------------------------------------
-- A three-level chain over rw.t, managed and unmanaged, one of them materialized:
--
--   rw.t (table: id, c int, note)
--    ├ v1    managed view                  └ mv2  managed matview    └ u3  unmanaged view
--    ├ u1    unmanaged view                └ u2   unmanaged view     └ v3  managed view
--    └ unote unmanaged view reading note
--   rw.t2 (table) └ other  managed view, not built on rw.t

CREATE TABLE rw.t (id int PRIMARY KEY, c int NOT NULL, note text);
INSERT INTO rw.t SELECT g, g * 10, 'n' || g FROM generate_series(1, 20) g;
CREATE TABLE rw.t2 (id int);

SELECT results_eq(
  $$SELECT viewmgr.register('rw.v1', 'SELECT id, c FROM rw.t')
    UNION ALL SELECT viewmgr.register('rw.mv2', 'SELECT id, c FROM rw.v1 WHERE c > 50',
                                      materialized => true, indexes => ARRAY['UNIQUE (id)'])
    UNION ALL SELECT viewmgr.register('rw.other', 'SELECT id FROM rw.t2')$$,
  $$VALUES ('created'), ('created'), ('created')$$,
  'the managed views are created');

CREATE VIEW rw.u1 AS SELECT id, c FROM rw.t WHERE c > 0;
CREATE VIEW rw.u2 AS SELECT id, c FROM rw.u1;
CREATE VIEW rw.u3 AS SELECT id, c FROM rw.mv2;
CREATE VIEW rw.unote AS SELECT id, note FROM rw.t;

SELECT is(viewmgr.register('rw.v3', 'SELECT id, c FROM rw.u2'), 'created',
          'a managed view over an unmanaged view is created');

GRANT SELECT ON rw.v1 TO rwd_reader WITH GRANT OPTION;
GRANT SELECT ON rw.u1 TO rwd_reader;
GRANT SELECT ON rw.mv2 TO rwd_reader2;
GRANT SELECT ON rw.u3 TO rwd_reader;
GRANT SELECT (c) ON rw.u2 TO rwd_reader2;
COMMENT ON VIEW rw.v1 IS 'v1 comment';
COMMENT ON VIEW rw.u2 IS 'u2 comment';
COMMENT ON MATERIALIZED VIEW rw.mv2 IS 'mv2 comment';
COMMENT ON COLUMN rw.u3.c IS 'u3.c comment';
CREATE INDEX mv2_c_hand ON rw.mv2 (c);

CREATE TEMP TABLE oids_before AS
  SELECT relname, oid FROM pg_class
   WHERE relnamespace = 'rw'::regnamespace AND relkind IN ('v', 'm');

-- ---------------------------------------------------------------------------------------
-- Without pg_viewmgr, PostgreSQL refuses the change

SELECT throws_ok($$ALTER TABLE rw.t ALTER COLUMN c TYPE bigint$$, '0A000', NULL,
                 'plain ALTER TABLE ... TYPE is refused while views read the column');

-- ---------------------------------------------------------------------------------------
-- A DDL that fails: error, nothing changed

SELECT rw.snapshot() AS before \gset snap_

SELECT throws_ok($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE rw.t ALTER COLUMN nosuch TYPE bigint')$$,
                 '42703', NULL, 'a DDL that fails raises its own error (undefined column)');

SELECT is(rw.snapshot(), :'snap_before', 'a DDL that fails: nothing changed');

-- ---------------------------------------------------------------------------------------
-- A DDL after which a dependent cannot be recreated: error naming it, nothing changed

SELECT throws_like($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE rw.t DROP COLUMN note')$$,
                   '%unote%',
                   'a dependent view that cannot be recreated is named in the error');

SELECT is(rw.snapshot(), :'snap_before',
          'a dependent view that cannot be recreated: nothing changed');

SELECT is(to_regclass('rw.unote')::text, 'rw.unote',
          'the unmanaged view reading the dropped column still exists');

-- ---------------------------------------------------------------------------------------
-- The column type change, with pg_viewmgr

CREATE TEMP TABLE rwd_rows AS
  SELECT r.view_name, r.action, r.ord
    FROM viewmgr.run_with_dependents('ALTER TABLE rw.t ALTER COLUMN c TYPE bigint')
         WITH ORDINALITY AS r(view_name, action, detail, ord);

SELECT bag_eq(
  $$SELECT view_name, action FROM rwd_rows$$,
  $$VALUES ('rw.v1', 'rebuilt'), ('rw.u1', 'rebuilt'), ('rw.unote', 'rebuilt'),
           ('rw.mv2', 'rebuilt'), ('rw.u2', 'rebuilt'), ('rw.u3', 'rebuilt'),
           ('rw.v3', 'rebuilt')$$,
  'one row per recreated view, managed and unmanaged, and none for views not built on the table');

SELECT is(
  (SELECT string_agg(e.dependent || ' before ' || e.dependency, ', ')
     FROM (VALUES ('rw.mv2', 'rw.v1'), ('rw.u2', 'rw.u1'), ('rw.u3', 'rw.mv2'),
                  ('rw.v3', 'rw.u2')) e(dependent, dependency)
     JOIN rwd_rows a ON a.view_name = e.dependent
     JOIN rwd_rows b ON b.view_name = e.dependency
    WHERE a.ord < b.ord),
  NULL, 'the rows come in dependency order');

SELECT is(format_type(atttypid, atttypmod), 'bigint', 'the table column is bigint')
  FROM pg_attribute WHERE attrelid = 'rw.t'::regclass AND attname = 'c';

SELECT results_eq(
  $$SELECT v, (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                WHERE a.attrelid = ('rw.' || v)::regclass AND a.attname = 'c')
      FROM unnest(ARRAY['mv2', 'u1', 'u2', 'u3', 'v1', 'v3']) v ORDER BY v$$,
  $$VALUES ('mv2', 'bigint'), ('u1', 'bigint'), ('u2', 'bigint'), ('u3', 'bigint'),
           ('v1', 'bigint'), ('v3', 'bigint')$$,
  'the new type propagated through all three levels');

SELECT is(
  (SELECT string_agg(b.relname, ',' ORDER BY b.relname)
     FROM oids_before b JOIN pg_class c ON c.relname = b.relname
                       AND c.relnamespace = 'rw'::regnamespace
    WHERE c.oid = b.oid),
  'other', 'every dependent was recreated; the unrelated view was not touched');

SELECT results_eq(
  $$SELECT v, rw.acl(('rw.' || v)::regclass)
      FROM unnest(ARRAY['mv2', 'u1', 'u3', 'v1']) v ORDER BY v$$,
  $$VALUES
    ('mv2', 'caller=DELETE/caller,caller=INSERT/caller,caller=REFERENCES/caller,caller=SELECT/caller,caller=TRIGGER/caller,caller=TRUNCATE/caller,caller=UPDATE/caller,rwd_reader2=SELECT/caller'),
    ('u1',  'caller=DELETE/caller,caller=INSERT/caller,caller=REFERENCES/caller,caller=SELECT/caller,caller=TRIGGER/caller,caller=TRUNCATE/caller,caller=UPDATE/caller,rwd_reader=SELECT/caller'),
    ('u3',  'caller=DELETE/caller,caller=INSERT/caller,caller=REFERENCES/caller,caller=SELECT/caller,caller=TRIGGER/caller,caller=TRUNCATE/caller,caller=UPDATE/caller,rwd_reader=SELECT/caller'),
    ('v1',  'caller=DELETE/caller,caller=INSERT/caller,caller=REFERENCES/caller,caller=SELECT/caller,caller=TRIGGER/caller,caller=TRUNCATE/caller,caller=UPDATE/caller,rwd_reader=SELECT*/caller')$$,
  'table privileges are kept');

SELECT ok(has_column_privilege('rwd_reader2', 'rw.u2', 'c', 'SELECT')
          AND NOT has_column_privilege('rwd_reader2', 'rw.u2', 'id', 'SELECT'),
          'column privileges are kept');

SELECT results_eq(
  $$SELECT obj_description('rw.v1'::regclass, 'pg_class') COLLATE "default" UNION ALL
    SELECT obj_description('rw.u2'::regclass, 'pg_class') COLLATE "default" UNION ALL
    SELECT obj_description('rw.mv2'::regclass, 'pg_class') COLLATE "default" UNION ALL
    SELECT col_description('rw.u3'::regclass, 2)$$,
  $$VALUES ('v1 comment'), ('u2 comment'), ('mv2 comment'), ('u3.c comment')$$,
  'view and column comments are kept');

SELECT is(
  (SELECT string_agg(c.relname, ', ' ORDER BY c.relname)
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = 'rw.mv2'::regclass),
  'mv2_c_hand, mv2_id_idx', 'the materialized view keeps its declared and hand-made indexes');

SELECT results_eq(
  $$SELECT (SELECT count(*) FROM rw.mv2) UNION ALL SELECT (SELECT count(*) FROM rw.u3)
    UNION ALL SELECT (SELECT count(*) FROM rw.v3) UNION ALL SELECT (SELECT count(*) FROM rw.unote)$$,
  $$VALUES (15::bigint), (15::bigint), (20::bigint), (20::bigint)$$,
  'the data is there: the materialized view was repopulated, the views read the table');

INSERT INTO rw.t VALUES (100, 5000000000, 'big');

SELECT results_eq(
  $$SELECT (SELECT c FROM rw.v1 WHERE id = 100) UNION ALL SELECT (SELECT c FROM rw.v3 WHERE id = 100)$$,
  $$VALUES (5000000000::bigint), (5000000000::bigint)$$,
  'values beyond the old type flow through the recreated views');

SELECT results_eq(
  $$SELECT view_name, action FROM viewmgr.sync() ORDER BY view_name$$,
  $$VALUES ('rw.mv2', 'unchanged'), ('rw.other', 'unchanged'), ('rw.v1', 'unchanged'),
           ('rw.v3', 'unchanged')$$,
  'sync() afterwards reports every managed view unchanged');

SELECT is((SELECT string_agg(view_name || ': ' || drift, ', ') FROM viewmgr.drift()
            WHERE drift <> 'stale'), NULL,
          'drift() afterwards reports no structural drift');
SELECT is((SELECT string_agg(view_name || ': ' || detail, ', ') FROM viewmgr.drift()
            WHERE drift = 'stale'), 'rw.mv2: rw.t changed',
          '... and the materialized view is stale: rw.t was written after its rebuild');

-- ---------------------------------------------------------------------------------------
-- After the change, a second failure still changes nothing

SELECT rw.snapshot() AS after \gset snap_

SELECT throws_like($$SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE rw.t DROP COLUMN note')$$,
                   '%unote%', 'the dependent that cannot be recreated is named again');

SELECT is(rw.snapshot(), :'snap_after', 'and nothing changed');

SELECT * FROM finish();
ROLLBACK;
