-- refresh_all() in a REPEATABLE READ or SERIALIZABLE transaction (SPEC §3 "Staleness": a
-- refresh_all() run right after another one refreshes nothing; "Whenever status says
-- fresh, the view's rows are what its query returns"). Found by helper 6: on main 720bf05 a
-- second refresh_all() in one REPEATABLE READ transaction failed with 40001 "could not
-- serialize access due to concurrent update" in record_refresh_error. The first call had
-- refreshed in worker transactions committed after the caller's snapshot; the second read
-- the old refresh state through that snapshot (everything stale), refreshed again in the
-- session and tripped over the rows the workers had updated.
--
-- Such a transaction now refreshes in its own session, on its own snapshot: what it sees
-- afterwards (status, the views' rows) is what it refreshed, and a second call sees it.
--
-- Workers must see the extension and the tables, so they are committed here, and dropped
-- at the end (the other pgTAP files install the extension themselves). The calls under test
-- come before plan(): plan() writes (temporary tables), and a transaction that has written
-- refreshes in its session anyway, which would hide the defect. A call that fails is caught
-- in rrt.refreshed() (a subtransaction that writes nothing) and its SQLSTATE is returned.
\set ON_ERROR_STOP 1
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
CREATE SCHEMA rrt;
CREATE TABLE rrt.t (id int PRIMARY KEY, v int);
INSERT INTO rrt.t VALUES (1, 1), (2, 2);
SELECT viewmgr.register('rrt.m1', 'SELECT id, v FROM rrt.t', materialized => true,
                        indexes => ARRAY['UNIQUE (id)']) IS NOT NULL AS registered \gset
SELECT viewmgr.register('rrt.m2', 'SELECT sum(v) AS s FROM rrt.t', materialized => true)
  IS NOT NULL AS registered \gset
-- How many views refresh_all(parallel) refreshed, or the SQLSTATE and message it raised.
CREATE FUNCTION rrt.refreshed(parallel int, only_stale boolean DEFAULT true) RETURNS text
  LANGUAGE plpgsql AS $f$
BEGIN
  RETURN (SELECT count(*) FILTER (WHERE action = 'refreshed')
            FROM viewmgr.refresh_all(only_stale => only_stale, parallel => parallel))::text;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END
$f$;
-- The managed materialized views of rrt whose rows differ from their query's, or whose
-- status is not fresh, or that carry an error.
CREATE FUNCTION rrt.wrong() RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  r record;
  out text[] := '{}';
  differs boolean;
BEGIN
  FOR r IN SELECT m.relation_name, m.definition, m.last_error, s.state
             FROM viewmgr.managed_view m
             LEFT JOIN viewmgr.status s ON s.view_name = 'rrt.' || m.relation_name
            WHERE m.schema_name = 'rrt' AND m.materialized ORDER BY 1 LOOP
    EXECUTE format('SELECT EXISTS ((TABLE rrt.%1$I EXCEPT ALL (%2$s)) UNION ALL '
                   '((%2$s) EXCEPT ALL TABLE rrt.%1$I))', r.relation_name, r.definition)
      INTO differs;
    IF differs OR r.state IS DISTINCT FROM 'fresh' OR r.last_error IS NOT NULL THEN
      out := out || (r.relation_name || ' ' || coalesce(r.state, '?') ||
                     CASE WHEN differs THEN ' with other rows' ELSE '' END ||
                     coalesce(' error ' || r.last_error, ''));
    END IF;
  END LOOP;
  RETURN array_to_string(out, '; ');
END
$f$;
COMMIT;

-- REPEATABLE READ, one worker and two.
INSERT INTO rrt.t VALUES (3, 3);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT rrt.refreshed(1) AS rr_first \gset
SELECT rrt.refreshed(1) AS rr_second \gset
SELECT rrt.wrong() AS rr_inside \gset
COMMIT;
SELECT rrt.wrong() AS rr_after \gset

INSERT INTO rrt.t VALUES (4, 4);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT rrt.refreshed(2) AS rr2_first \gset
SELECT rrt.refreshed(2) AS rr2_second \gset
COMMIT;
SELECT rrt.wrong() AS rr2_after \gset

-- SERIALIZABLE
UPDATE rrt.t SET v = v + 10 WHERE id = 1;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT rrt.refreshed(2) AS ser_first \gset
SELECT rrt.refreshed(2) AS ser_second \gset
SELECT rrt.wrong() AS ser_inside \gset
COMMIT;
SELECT rrt.wrong() AS ser_after \gset

-- A write the REPEATABLE READ snapshot cannot see, committed before refresh_all(): the
-- refresh is of what the transaction sees, so the view stays stale afterwards.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) AS rows_seen FROM rrt.t \gset
\setenv PGDATABASE :DBNAME
\! psql -X -q -c 'INSERT INTO rrt.t VALUES (5, 5)'
SELECT rrt.refreshed(2) AS late_first \gset
COMMIT;
SELECT state AS late_state FROM viewmgr.status WHERE view_name = 'rrt.m1' \gset
SELECT rrt.refreshed(1) AS late_again \gset
SELECT rrt.wrong() AS late_after \gset

-- Another session refreshes after the REPEATABLE READ snapshot was taken: this transaction
-- cannot record a refresh over that one. It fails to serialize, as REPEATABLE READ does,
-- and after its rollback nothing is marked failed.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) AS rows_seen2 FROM rrt.t \gset
\! psql -X -q -o /dev/null -c 'SELECT * FROM viewmgr.refresh_all(only_stale => false)'
SELECT rrt.refreshed(1, only_stale => false) AS conflict \gset
ROLLBACK;
SELECT rrt.wrong() AS conflict_after \gset
SELECT count(*) AS failed_history FROM viewmgr.history WHERE outcome = 'failed' AND view_name LIKE 'rrt.%' \gset

BEGIN;
SELECT plan(17);
SELECT is(:'rr_first'::text, '2', 'REPEATABLE READ: the first refresh_all() refreshes both stale views');
SELECT is(:'rr_second'::text, '0',
  'REPEATABLE READ: a second refresh_all() in the same transaction runs and refreshes nothing');
SELECT is(:'rr_inside'::text, '', 'REPEATABLE READ: inside the transaction both views are fresh and right');
SELECT is(:'rr_after'::text, '', 'REPEATABLE READ: after COMMIT both views are fresh and right, no error');
SELECT is(:'rr2_first'::text, '2', 'REPEATABLE READ, parallel => 2: the first call refreshes both');
SELECT is(:'rr2_second'::text, '0', 'REPEATABLE READ, parallel => 2: the second call refreshes nothing');
SELECT is(:'rr2_after'::text, '', 'REPEATABLE READ, parallel => 2: after COMMIT both views are fresh and right');
SELECT is(:'ser_first'::text, '2', 'SERIALIZABLE: the first refresh_all() refreshes both stale views');
SELECT is(:'ser_second'::text, '0', 'SERIALIZABLE: a second refresh_all() refreshes nothing');
SELECT is(:'ser_inside'::text, '', 'SERIALIZABLE: inside the transaction both views are fresh and right');
SELECT is(:'ser_after'::text, '', 'SERIALIZABLE: after COMMIT both views are fresh and right, no error');
SELECT is(:'rows_seen'::text, '4', 'the REPEATABLE READ snapshot was taken before the other session''s write');
SELECT is(:'late_state'::text, 'stale',
  'a write the REPEATABLE READ snapshot could not see leaves the view stale after refresh_all()');
SELECT ok(:'late_again' = '2' AND :'late_after' = '',
  'the next refresh_all() refreshes both and they are right');
SELECT is(left(:'conflict'::text, 5), '40001',
  'a refresh_all() over views another session refreshed after the snapshot fails to serialize');
SELECT is(:'conflict_after'::text, '', 'after its rollback both views are fresh and right, no error');
SELECT is(:'failed_history'::text, '0', 'and no failed refresh is in the history');
SELECT * FROM finish();
ROLLBACK;

DROP EXTENSION pg_viewmgr CASCADE;
DROP SCHEMA rrt CASCADE;
