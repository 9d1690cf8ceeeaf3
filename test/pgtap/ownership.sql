-- Ownership and privileges (issue 10, findings 1, 2, 3, 4, 5 and 9): history and last_error
-- are visible per owner, purge_history() removes only what the caller may see,
-- refresh_all() leaves views it may not refresh alone, sync() refills a materialized view
-- registered WITH DATA that was emptied by hand, a name taken by another role's view before
-- the build is refused naming both roles, and a hand-made view whose owner lacks CREATE on
-- its schema is rebuilt like any other when the caller could do it by hand.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(21);

SET LOCAL client_min_messages = warning;
CREATE ROLE own_alice NOLOGIN;
CREATE ROLE own_bob NOLOGIN;
CREATE ROLE own_team NOLOGIN;
GRANT own_alice TO own_team;
CREATE SCHEMA own;
GRANT USAGE ON SCHEMA own TO PUBLIC;
GRANT CREATE ON SCHEMA own TO own_alice;
CREATE TABLE own.t (id int PRIMARY KEY, d int);
ALTER TABLE own.t OWNER TO own_alice;
INSERT INTO own.t VALUES (1, 1), (2, 2);

SET LOCAL ROLE own_alice;
SELECT viewmgr.register('own.ratio', 'SELECT id, 10 / d AS r FROM own.t', materialized => true);
UPDATE own.t SET d = 0 WHERE id = 2;
SELECT count(*) FROM viewmgr.refresh_all();
RESET ROLE;

CREATE FUNCTION pg_temp.sqlstate_of(sql text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE sql;
  RETURN '00000';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $f$;

-- (the rows are made an hour old: purge_history() compares with the transaction's start)
UPDATE viewmgr.history SET started_at = started_at - interval '1 hour',
                           finished_at = finished_at - interval '1 hour';
SELECT ok((SELECT count(*) FROM viewmgr.history WHERE view_name = 'own.ratio') >= 2,
          'the superuser sees alice''s history (a create and a failed refresh)');
SELECT isnt((SELECT last_error FROM viewmgr.status WHERE view_name = 'own.ratio'), NULL,
            'the superuser sees the last error');

-- bob owns nothing: he sees no history and no error text, and can purge none of it.
SET LOCAL ROLE own_bob;
SELECT is((SELECT count(*)::int FROM viewmgr.history), 0, 'bob sees no history of views he does not own');
SELECT is((SELECT last_error FROM viewmgr.status WHERE view_name = 'own.ratio'), NULL,
          'bob does not see the error text in status');
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'own.ratio'), 'failed',
          '... but he sees that the view failed');
SELECT is(pg_temp.sqlstate_of('SELECT last_error FROM viewmgr.managed_view'), '42501',
          'nor can he read last_error from the registry');
SELECT is(viewmgr.purge_history('30 minutes'), 0::bigint, 'purge_history() as bob removes nothing');
SELECT is((SELECT string_agg(view_name || ':' || action || ':' || coalesce(detail, ''), ',')
             FROM viewmgr.refresh_all(only_stale => false)),
          'own.ratio:skipped:not owner', 'refresh_all() as bob skips alice''s view: not owner');
RESET ROLE;
SELECT ok((SELECT count(*) FROM viewmgr.history WHERE view_name = 'own.ratio') >= 2,
          'alice''s history is still there');
SELECT is((SELECT count(*)::int FROM viewmgr.history WHERE view_name = 'own.ratio' AND detail = 'not owner'), 0,
          'bob''s refresh_all() wrote no history for it');
SELECT isnt((SELECT last_error FROM viewmgr.managed_view WHERE relation_name = 'ratio'), NULL,
            '... and left its last_error as it was');

-- A member of alice's role sees and purges her rows.
SET LOCAL ROLE own_team;
SELECT ok((SELECT count(*) FROM viewmgr.history WHERE view_name = 'own.ratio') >= 2,
          'a member of the owner sees the history');
SELECT isnt((SELECT last_error FROM viewmgr.status WHERE view_name = 'own.ratio'), NULL,
            '... and the error text');
SELECT ok(viewmgr.purge_history('30 minutes') >= 2, '... and may purge those rows');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM viewmgr.history WHERE view_name = 'own.ratio'), 0, 'they are gone');

-- sync() refills a view registered WITH DATA that was emptied by hand.
UPDATE own.t SET d = 1 WHERE id = 2;
SET LOCAL ROLE own_alice;
SELECT count(*) FROM viewmgr.refresh_all();
REFRESH MATERIALIZED VIEW own.ratio WITH NO DATA;
SELECT is((SELECT string_agg(action || ': ' || reason, ',') FROM viewmgr.sync() WHERE action <> 'unchanged'),
          'replaced: unpopulated; refilled', 'sync() refills an unpopulated view registered WITH DATA');
RESET ROLE;

-- Owner squatting: alice registers a view without building it; bob creates one of that
-- name first. Building alice's definition as bob would run her query with his rights.
GRANT CREATE ON SCHEMA own TO own_bob;
SET LOCAL ROLE own_alice;
SELECT viewmgr.register('own.daily', 'SELECT count(*) AS n FROM own.t', materialized => true, apply => false);
RESET ROLE;
SET LOCAL ROLE own_bob;
CREATE MATERIALIZED VIEW own.daily AS SELECT 42 AS n;
RESET ROLE;
CREATE TEMP TABLE before_squat AS
  SELECT (SELECT string_agg(m::text, ',') FROM viewmgr.managed_view m) AS registry,
         (SELECT xmin::text || relowner::regrole::text FROM pg_class WHERE oid = 'own.daily'::regclass) AS rel;
SELECT throws_ok($$SELECT * FROM viewmgr.sync()$$, '42501',
                 'cannot take own.daily under management: it is owned by role "own_bob", but role "own_alice" registered it',
                 'sync() refuses to build a view as a role that took its name, naming both roles');
SELECT is((SELECT string_agg(m::text, ',') FROM viewmgr.managed_view m), (SELECT registry FROM before_squat),
          '... the registry is unchanged');
SELECT is((SELECT xmin::text || relowner::regrole::text FROM pg_class WHERE oid = 'own.daily'::regclass),
          (SELECT rel FROM before_squat), '... and bob''s view untouched');
DROP MATERIALIZED VIEW own.daily;
SELECT viewmgr.unregister('own.daily');

-- A hand-made view handed to a role without CREATE on its schema (carol) does not block a
-- rebuild of what it reads: it is rebuilt, still owned by carol.
CREATE ROLE own_carol NOLOGIN;
GRANT USAGE ON SCHEMA own TO own_carol;
SELECT viewmgr.register('own.base', 'SELECT id, d FROM own.t');
CREATE VIEW own.hand AS SELECT id FROM own.base;
ALTER VIEW own.hand OWNER TO own_carol;
SELECT is(viewmgr.register('own.base', 'SELECT id, d::bigint AS d FROM own.t'), 'rebuilt',
          'a rebuild of the managed view succeeds although carol may not create in the schema');
SELECT is((SELECT relowner::regrole::text FROM pg_class WHERE oid = 'own.hand'::regclass), 'own_carol',
          '... and the hand-made view is back, still owned by carol');

SELECT * FROM finish();
ROLLBACK;
