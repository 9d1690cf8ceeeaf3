-- register() reads and writes the registry by index probes only, whatever the planner's
-- statistics say (issue 11, deliverable 1: its cost must not grow with the number of
-- managed views). The registry is analysed while it holds a handful of rows, the state in
-- which the planner prefers a sequential scan for every lookup; then a deploy's worth of
-- registrations follows, in each of register()'s paths, and pg_stat_xact_user_tables must
-- count no sequential scan of viewmgr.managed_view or viewmgr.refresh_state for any of them.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(8);

SET LOCAL client_min_messages = warning;
SET LOCAL search_path = public;
CREATE SCHEMA rpb;
CREATE TABLE rpb.t (id int PRIMARY KEY, g int);
INSERT INTO rpb.t SELECT i, i % 7 FROM generate_series(1, 50) i;

-- Sequential scans of the registry's tables so far in this transaction.
CREATE FUNCTION rpb.registry_seq_scans() RETURNS bigint LANGUAGE sql AS $f$
  SELECT coalesce(sum(seq_scan), 0)::bigint FROM pg_catalog.pg_stat_xact_user_tables
  WHERE schemaname = 'viewmgr' AND relname IN ('managed_view', 'refresh_state')
$f$;
-- How many sequential scans the register() calls of query `calls` made.
CREATE FUNCTION rpb.seq_scans_of(calls text) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE
  before bigint := rpb.registry_seq_scans();
BEGIN
  EXECUTE 'SELECT count(*) FROM (' || calls || ') AS calls';
  RETURN rpb.registry_seq_scans() - before;
END
$f$;

-- A small, analysed registry: every lookup would be a sequential scan if planned on it.
SELECT is(count(*), 4::bigint, 'four views registered and built') FROM (
  SELECT viewmgr.register('rpb.seed_' || i, 'SELECT id, g FROM rpb.t WHERE g = ' || i) FROM generate_series(1, 4) i) s;
ANALYZE viewmgr.managed_view;
ANALYZE viewmgr.refresh_state;

SELECT is(rpb.seq_scans_of($$
  SELECT viewmgr.register('rpb.v' || i, 'SELECT id, g FROM rpb.t WHERE g < ' || i, apply => false)
     FROM generate_series(1, 60) i$$), 0::bigint,
  'new registrations (apply => false): no sequential scan of the registry');

SELECT is(rpb.seq_scans_of($$
  SELECT viewmgr.register('rpb.w' || i, 'SELECT id, g FROM rpb.v' || i || ' WHERE id > 3', apply => false)
     FROM generate_series(1, 60) i$$), 0::bigint,
  'new registrations reading managed views (apply => false): no sequential scan');

SELECT is(rpb.seq_scans_of($$
  SELECT viewmgr.register('rpb.v' || i, 'SELECT id, g FROM rpb.t WHERE g < ' || i, apply => false)
     FROM generate_series(1, 60) i$$), 0::bigint,
  'the same registrations again (unchanged, apply => false): no sequential scan');

SELECT is(rpb.seq_scans_of($$
  SELECT viewmgr.register('rpb.seed_' || i, 'SELECT id, g FROM rpb.t WHERE g = ' || i)
     FROM generate_series(1, 4) i$$), 0::bigint,
  'unchanged built views again (apply => true, ''unchanged''): no sequential scan');

SELECT is(rpb.seq_scans_of($$
  SELECT viewmgr.register('rpb.x' || i, 'SELECT id, g FROM rpb.seed_1 WHERE id > ' || i)
     FROM generate_series(1, 20) i$$), 0::bigint,
  'new views built over a managed view (apply => true, ''created''): no sequential scan');

SELECT is(rpb.seq_scans_of($$
  SELECT viewmgr.register('rpb.m' || i, 'SELECT g, count(*) AS n FROM rpb.seed_2 WHERE id > ' || i || ' GROUP BY g',
                           materialized => true)
     FROM generate_series(1, 10) i$$), 0::bigint,
  'new materialized views built (apply => true): no sequential scan');

SELECT is(rpb.seq_scans_of($$
  SELECT viewmgr.register('rpb.seed_1', 'SELECT id, g, id + g AS s FROM rpb.t WHERE g = 1')$$), 0::bigint,
  'a changed view rebuilt with its 20 dependents (apply => true): no sequential scan');

SELECT * FROM finish();
ROLLBACK;
