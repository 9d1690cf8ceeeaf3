-- Refreshing materialized views (SPEC §3 "Refreshing materialized views", "Observing", §5)
-- inside a transaction that has already written (CREATE EXTENSION): refresh_all() then
-- refreshes in this session, one subtransaction per view. Bad input, staleness as
-- viewmgr.status shows it, failure isolation, history, and privileges: REFRESH needs
-- ownership, and the change log is not readable by ordinary roles while status still is.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(76);

SET LOCAL client_min_messages = warning;
SET LOCAL search_path = public;

-- ---------------------------------------------------------------------------------------
-- Helpers (usable by every role)

CREATE SCHEMA rft;
GRANT USAGE ON SCHEMA rft TO PUBLIC;

-- The SQLSTATE a statement raises, or 00000.
CREATE FUNCTION rft.sqlstate_of(sql text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE sql;
  RETURN '00000';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END
$f$;

-- The hint of the error a statement raises ('' if none, NULL if it succeeds).
CREATE FUNCTION rft.hint_of(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  hint text;
BEGIN
  EXECUTE sql;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
  RETURN hint;
END
$f$;

-- The state viewmgr.status gives a view.
CREATE FUNCTION rft.state(name text) RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT state FROM viewmgr.status WHERE view_name = name
$f$;

-- Each run of refresh_all() / refresh() is kept here, numbered, to look at afterwards.
CREATE TABLE rft.runs (run int, view_name text, action text, timed boolean, detail text);
GRANT SELECT, INSERT ON rft.runs TO PUBLIC;
CREATE FUNCTION rft.run(n int, sql text) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE
  added bigint;
BEGIN
  EXECUTE format('INSERT INTO rft.runs SELECT %s, view_name, action, duration IS NOT NULL, detail FROM (%s) r',
                 n, sql);
  GET DIAGNOSTICS added = ROW_COUNT;
  RETURN added;
END
$f$;
CREATE FUNCTION rft.outcome(n int, name text) RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT action || coalesce(': ' || nullif(detail, ''), '') FROM rft.runs
   WHERE run = n AND view_name = name
$f$;

-- ---------------------------------------------------------------------------------------
-- Fixtures
--
--   t --- copy (no unique index)
--     \-- t_view (plain) --- t_view_mv
--   u --- u_mv (UNIQUE (id): CONCURRENTLY when possible)
--   d --- ratio (100 / d) --- ratio_sum
--   t --- later_mv (UNIQUE (id), WITH NO DATA)

CREATE TABLE rft.t (id int PRIMARY KEY, v int);
CREATE TABLE rft.u (id int PRIMARY KEY, v int);
CREATE TABLE rft.d (id int PRIMARY KEY, d int);
INSERT INTO rft.t VALUES (1, 10), (2, 20);
INSERT INTO rft.u VALUES (1, 1);
INSERT INTO rft.d VALUES (1, 1), (2, 2);
SELECT viewmgr.register('rft.copy', 'SELECT id, v FROM rft.t', materialized => true);
SELECT viewmgr.register('rft.t_view', 'SELECT id, v * 2 AS w FROM rft.t');
SELECT viewmgr.register('rft.t_view_mv', 'SELECT sum(w) AS w FROM rft.t_view', materialized => true);
SELECT viewmgr.register('rft.u_mv', 'SELECT id, v FROM rft.u', materialized => true,
                        indexes => ARRAY['UNIQUE (id)']);
SELECT viewmgr.register('rft.ratio', 'SELECT id, 100 / d AS q FROM rft.d', materialized => true);
SELECT viewmgr.register('rft.ratio_sum', 'SELECT sum(q) AS s FROM rft.ratio', materialized => true);
SELECT viewmgr.register('rft.later_mv', 'SELECT id, v FROM rft.t', materialized => true,
                        indexes => ARRAY['UNIQUE (id)'], with_data => false);

-- ---------------------------------------------------------------------------------------
-- Bad input

SELECT is(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh(NULL)$$), '22004',
          'refresh(NULL): 22004');
SELECT ok(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh('')$$) IN ('22004', '22023'),
          'refresh(''''): 22004 or 22023');
SELECT is(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh_all(parallel => 0)$$), '22023',
          'refresh_all(parallel => 0): 22023');
SELECT is(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh_all(parallel => -3)$$), '22023',
          'refresh_all(parallel => -3): 22023');
SELECT is(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh_all(parallel => NULL)$$), '22023',
          'refresh_all(parallel => NULL): 22023');
SELECT is(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh_all(only_stale => NULL)$$), '22004',
          'refresh_all(only_stale => NULL): 22004');
SELECT is(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh('rft.no_such_view')$$), '42704',
          'refresh of a name that is not managed: 42704');
SELECT is(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh('rft.t')$$), '42704',
          'refresh of a table (not managed): 42704');
SELECT is(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh('rft.t_view')$$), '42809',
          'refresh of a managed plain view: 42809');
SELECT is(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh('rft.copy', concurrently => true)$$),
          '55000', 'concurrently => true without a unique index: 55000');
SELECT isnt(coalesce(rft.hint_of($$SELECT * FROM viewmgr.refresh('rft.copy', concurrently => true)$$), ''),
            '', '... with a hint');
SELECT is(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh('rft.later_mv', concurrently => true)$$),
          '55000', 'concurrently => true on an unpopulated view (with a unique index): 55000');
SELECT isnt(coalesce(rft.hint_of($$SELECT * FROM viewmgr.refresh('rft.later_mv', concurrently => true)$$), ''),
            '', '... with a hint');
SELECT is((SELECT relispopulated FROM pg_class WHERE oid = 'rft.later_mv'::regclass), false,
          '... and it is still unpopulated');
SELECT is((SELECT count(*) FROM viewmgr.history WHERE operation = 'refresh'), 0::bigint,
          'no refresh was recorded by any of those');

-- ---------------------------------------------------------------------------------------
-- Staleness, as viewmgr.status shows it

SELECT ok(rft.state('rft.later_mv') IN ('unpopulated', 'stale'),
          'a view registered WITH NO DATA is unpopulated or stale, not fresh');
SELECT is(rft.run(1, $$SELECT * FROM viewmgr.refresh('rft.later_mv')$$), 1::bigint,
          'refresh() of the unpopulated view gives one row');
SELECT is(rft.outcome(1, 'rft.later_mv'), 'refreshed', '... refreshed (not concurrently: it was empty)');
SELECT is((SELECT count(*) FROM rft.later_mv), 2::bigint, '... and now holds its rows');

SELECT is((SELECT array_agg(state ORDER BY view_name) FROM viewmgr.status
            WHERE view_name IN ('rft.copy', 'rft.t_view_mv', 'rft.u_mv', 'rft.ratio', 'rft.ratio_sum')),
          ARRAY['fresh', 'fresh', 'fresh', 'fresh', 'fresh'],
          'right after they were built, the materialized views are fresh');
SELECT is(rft.state('rft.t_view'), 'fresh', 'and so is the plain view');

UPDATE rft.t SET v = v + 1 WHERE id = 1;
SELECT is(rft.state('rft.copy'), 'stale', 'a write to t: copy (reads t) is stale');
SELECT is(rft.state('rft.t_view_mv'), 'stale', '... t_view_mv (reads t through a plain view) too');
SELECT is(rft.state('rft.u_mv'), 'fresh', '... u_mv (reads u) is not');
SELECT is(rft.state('rft.ratio'), 'fresh', '... nor ratio (reads d)');
SELECT is(rft.state('rft.t_view'), 'fresh', '... and a plain view is never stale');

SELECT rft.run(2, $$SELECT * FROM viewmgr.refresh_all()$$);
SELECT is(rft.outcome(2, 'rft.copy'), 'refreshed: rft.t changed', 'refresh_all(): copy refreshed, saying why');
SELECT is(rft.outcome(2, 'rft.t_view_mv'), 'refreshed: rft.t changed', '... t_view_mv refreshed');
SELECT is(rft.outcome(2, 'rft.u_mv'), 'skipped: not stale', '... u_mv skipped as not stale');
SELECT is(rft.outcome(2, 'rft.ratio'), 'skipped: not stale', '... ratio skipped as not stale');
SELECT is(rft.outcome(2, 'rft.ratio_sum'), 'skipped: not stale', '... ratio_sum skipped as not stale');
SELECT is((SELECT bool_and(timed) FROM rft.runs WHERE run = 2 AND action = 'refreshed'), true,
          '... refreshed rows have a duration');
SELECT is((SELECT v FROM rft.copy WHERE id = 1), 11, 'copy holds the new value');
SELECT is((SELECT w FROM rft.t_view_mv), 62::bigint, 't_view_mv holds the new sum');
SELECT is((SELECT count(*) FROM viewmgr.status WHERE view_name IN ('rft.copy', 'rft.t_view_mv')
             AND last_refreshed_at IS NOT NULL AND last_refresh_duration IS NOT NULL),
          2::bigint, 'status: last_refreshed_at and last_refresh_duration are set');
-- Nothing is refreshing once refresh_all() has returned. This test's own transaction wrote
-- rft.t before the refresh: the refresh saw that write (the log keeps the writing command),
-- so copy is fresh, and a refresh_all() right after has nothing to do.
SELECT is(rft.state('rft.copy'), 'fresh',
          'after refresh_all() copy is fresh: it saw this transaction''s earlier write of rft.t');
SELECT rft.run(3, $$SELECT * FROM viewmgr.refresh_all()$$);
SELECT is(rft.outcome(3, 'rft.copy'), 'skipped: not stale',
          'inside the writing transaction, a refresh_all() right after refreshes nothing');
UPDATE rft.t SET v = v WHERE id = 1;
SELECT is(rft.state('rft.copy'), 'stale',
          'a write of the same transaction after the refresh makes copy stale again');
SELECT rft.run(31, $$SELECT * FROM viewmgr.refresh_all()$$);
SELECT is(rft.outcome(31, 'rft.copy'), 'refreshed: rft.t changed', '... and refresh_all() refreshes it');

-- CONCURRENTLY automatically where possible (u_mv is populated and has a unique index).
UPDATE rft.u SET v = 2;
SELECT rft.run(4, $$SELECT * FROM viewmgr.refresh('rft.u_mv')$$);
SELECT is(rft.outcome(4, 'rft.u_mv'), 'refreshed: concurrently', 'refresh(): u_mv refreshed concurrently');
SELECT rft.run(5, $$SELECT * FROM viewmgr.refresh('rft.u_mv', concurrently => false)$$);
SELECT is(rft.outcome(5, 'rft.u_mv'), 'refreshed', 'concurrently => false: a plain refresh');

-- ---------------------------------------------------------------------------------------
-- Failure isolation: ratio fails (division by zero); ratio_sum, which reads it, is
-- skipped; copy is refreshed all the same. (ratio was not refreshed before in this
-- transaction.)

SELECT coalesce(max(id), 0) AS history_mark FROM viewmgr.history \gset
UPDATE rft.d SET d = 0 WHERE id = 2;
UPDATE rft.t SET v = v + 1 WHERE id = 2;
SELECT rft.run(8, $$SELECT * FROM viewmgr.refresh_all()$$);
SELECT is(rft.outcome(8, 'rft.ratio'), 'failed: division by zero', 'ratio failed with its error');
SELECT is(rft.outcome(8, 'rft.ratio_sum'), 'skipped: upstream failed', 'ratio_sum skipped: upstream failed');
SELECT is(rft.outcome(8, 'rft.copy'), 'refreshed: rft.t changed', 'copy refreshed all the same');
SELECT is((SELECT v FROM rft.copy WHERE id = 2), 21, '... with the new value');
SELECT is((SELECT string_agg(q::text, ',' ORDER BY id) FROM rft.ratio), '100,50',
          'ratio still holds its old data');
SELECT is(rft.state('rft.ratio'), 'failed', 'status: ratio failed');
SELECT is((SELECT last_error FROM viewmgr.status WHERE view_name = 'rft.ratio'), 'division by zero',
          'status: ratio''s last_error');
SELECT is((SELECT last_error FROM viewmgr.status WHERE view_name = 'rft.copy'), NULL,
          'status: copy has no error');
SELECT is((SELECT string_agg(outcome || ': ' || detail, '; ') FROM viewmgr.history
            WHERE id > :history_mark AND view_name = 'rft.ratio' AND operation = 'refresh'),
          'failed: division by zero', 'history: ratio failed, with the error');
SELECT is((SELECT string_agg(outcome, '; ') FROM viewmgr.history
            WHERE id > :history_mark AND view_name = 'rft.copy' AND operation = 'refresh'),
          'succeeded', 'history: copy succeeded');
SELECT is((SELECT count(*) FROM viewmgr.history WHERE finished_at IS NULL OR finished_at < started_at),
          0::bigint, 'history: every row has started_at <= finished_at');
SELECT is(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh('rft.ratio')$$), '22012',
          'refresh() of the failing view itself raises its error');
UPDATE rft.d SET d = 4 WHERE id = 2;
SELECT rft.run(9, $$SELECT * FROM viewmgr.refresh('rft.ratio', cascade => true)$$);
SELECT is(rft.outcome(9, 'rft.ratio'), 'refreshed', 'once fixed, refresh(cascade) refreshes ratio');
SELECT is(rft.outcome(9, 'rft.ratio_sum'), 'refreshed: reads rft.ratio', '... and ratio_sum after it');
SELECT is((SELECT s FROM rft.ratio_sum), 125::bigint, 'ratio_sum holds the new sum');
SELECT is((SELECT last_error FROM viewmgr.status WHERE view_name = 'rft.ratio'), NULL,
          'ratio''s last_error is cleared');
SELECT is((SELECT count(*) FROM rft.runs WHERE run = 9), 2::bigint,
          'refresh(cascade) reports the named view and what is downstream of it only');

-- ---------------------------------------------------------------------------------------
-- concurrently => true in refresh_all(): the views that cannot be refreshed concurrently
-- fail; the others go on.

SELECT rft.sqlstate_of($$SELECT rft.run(6, 'SELECT * FROM viewmgr.refresh_all(only_stale => false, concurrently => true)')$$)
  AS concurrently_all_outcome, current_setting('search_path') AS path_after \gset
-- (if the call left the session in a bad state, repair what the remaining tests need)
SET LOCAL search_path = public;
SELECT is(:'concurrently_all_outcome'::text, '00000',
          'refresh_all(concurrently => true) does not raise when some views cannot');
SELECT is(:'path_after'::text, 'public', '... and leaves the caller''s search_path alone');
SELECT is(rft.outcome(6, 'rft.u_mv'), 'refreshed: concurrently',
          '... u_mv refreshed concurrently');
SELECT ok(rft.outcome(6, 'rft.copy') LIKE 'failed: %unique index%',
          '... copy failed, saying it has no unique index');
SELECT is(rft.outcome(6, 'rft.t_view_mv'), 'failed: cannot refresh rft.t_view_mv concurrently: it has no unique index on plain columns without a WHERE clause',
          '... t_view_mv failed the same way');
SELECT is(rft.outcome(6, 'rft.ratio_sum'), 'skipped: upstream failed',
          '... ratio_sum skipped (ratio has no unique index either)');

-- ---------------------------------------------------------------------------------------
-- Privileges: REFRESH needs ownership; the change log is private; status works for all.

CREATE ROLE rft_owner;
CREATE ROLE rft_other;
CREATE SCHEMA rft_own AUTHORIZATION rft_owner;
GRANT USAGE ON SCHEMA rft_own TO rft_other;
GRANT SELECT ON rft.t TO rft_owner;
SET ROLE rft_owner;
SELECT viewmgr.register('rft_own.mv', 'SELECT id, v FROM rft.t', materialized => true);
GRANT SELECT ON rft_own.mv TO rft_other;
RESET ROLE;
UPDATE rft.t SET v = 100 WHERE id = 1;

SET ROLE rft_other;
SELECT is(rft.sqlstate_of($$SELECT count(*) FROM viewmgr.source_change$$), '42501',
          'an ordinary role cannot read the change log');
SELECT is((SELECT kind FROM viewmgr.status WHERE view_name = 'rft_own.mv'), 'materialized view',
          '... but viewmgr.status works for it');
SELECT is(rft.state('rft_own.mv'), 'stale',
          '... and tells it rft_own.mv is stale (t was written after it was built)');
SELECT is(rft.sqlstate_of($$DELETE FROM viewmgr.history$$), '42501',
          'nor change viewmgr.history');
SELECT is(rft.sqlstate_of($$SELECT * FROM viewmgr.refresh('rft_own.mv')$$), '42501',
          'refresh() of a view it does not own: 42501');
SELECT is((SELECT v FROM rft_own.mv WHERE id = 1), 11, '... and the data did not change');
SELECT is(rft.sqlstate_of($$SELECT rft.run(10, 'SELECT * FROM viewmgr.refresh_all(only_stale => false)')$$), '00000',
          'refresh_all() as a role that owns none of the views does not raise');
-- Views the caller may not refresh are left alone (SPEC: skipped, not owner).
SELECT is(rft.outcome(10, 'rft_own.mv'), 'skipped: not owner',
          '... rft_own.mv is skipped: not owner');
SELECT is((SELECT v FROM rft_own.mv WHERE id = 1), 11, '... and the data did not change');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM viewmgr.history
            WHERE view_name = 'rft_own.mv' AND operation = 'refresh' AND outcome <> 'succeeded')
          + (SELECT count(*)::int FROM viewmgr.managed_view
              WHERE schema_name = 'rft_own' AND relation_name = 'mv' AND last_error IS NOT NULL), 0,
          '... and neither its history nor its last_error was touched');

SET ROLE rft_owner;
SELECT rft.run(11, $$SELECT * FROM viewmgr.refresh('rft_own.mv')$$);
SELECT is(rft.outcome(11, 'rft_own.mv'), 'refreshed', 'its owner refreshes it');
SELECT is((SELECT v FROM rft_own.mv WHERE id = 1), 100, '... with the new data');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
