--
-- 06_refresh: refreshing materialized views (SPEC section 3, "Refreshing materialized views"
-- and "Observing"). Every statement here runs in autocommit mode, so refresh_all() refreshes
-- each view in a transaction of its own (background workers).
--   staleness: only views whose sources (tables, transitively through views and materialized
--   views) changed are refreshed, and a second refresh_all() refreshes nothing;
--   TRUNCATE, rolled-back writes and savepoints; only_stale => false; parallel => 2;
--   concurrently (automatic / insisted); refresh() of one view, with cascade; errors;
--   failure isolation; viewmgr.status and viewmgr.history; purge_history().
-- Durations and timestamps vary from run to run: only whether they are set is shown.
--
SET client_min_messages = warning;
CREATE SCHEMA vm_ref;
CREATE TABLE vm_ref.customers (id int PRIMARY KEY, name text);
CREATE TABLE vm_ref.orders (id int PRIMARY KEY, customer_id int, amount int);
CREATE TABLE vm_ref.readings (id int PRIMARY KEY, v int);
CREATE TABLE vm_ref.untouched (id int PRIMARY KEY, v int);
INSERT INTO vm_ref.customers VALUES (1, 'alice'), (2, 'bob');
INSERT INTO vm_ref.orders VALUES (1, 1, 10), (2, 1, 20), (3, 2, 5);
INSERT INTO vm_ref.readings VALUES (1, 100), (2, 200);
INSERT INTO vm_ref.untouched VALUES (1, 1);

-- The SQLSTATE, message and hint of an error a statement raises ('ok' if none).
CREATE FUNCTION vm_ref.error_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  state text;
  message text;
  hint text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RETURN state || ': ' || message || CASE WHEN hint <> '' THEN ' (hint given)' ELSE '' END;
END $$;

CREATE EXTENSION pg_viewmgr;

-- The outcome of each view in a refresh_all() result, durations masked. Arguments as
-- refresh_all's: only_stale, concurrently, parallel.
CREATE FUNCTION vm_ref.outcomes(stale_only boolean DEFAULT true, concurrent boolean DEFAULT NULL,
                                workers int DEFAULT 1)
RETURNS TABLE (view_name text, action text, timed boolean, detail text)
LANGUAGE sql AS $$
  SELECT view_name, action, duration IS NOT NULL, detail
    FROM viewmgr.refresh_all(stale_only, concurrent, workers)
$$;

-- The state of every managed view, without the timestamps.
CREATE FUNCTION vm_ref.states()
RETURNS TABLE (view_name text, kind text, state text, refreshed boolean, timed boolean,
               last_error text)
LANGUAGE sql AS $$
  SELECT view_name, kind, state, last_refreshed_at IS NOT NULL,
         last_refresh_duration IS NOT NULL, last_error
    FROM viewmgr.status ORDER BY view_name
$$;

-- order_totals has a unique index (refreshed CONCURRENTLY automatically); reading_copy has
-- none. customer_totals is a plain view over order_totals; named_totals is a materialized
-- view over that plain view, and top_customer a materialized view over named_totals.
-- big_orders_mv reads orders through a plain view. untouched_mv reads a table nothing writes.
SELECT viewmgr.register('vm_ref.order_totals',
  'SELECT customer_id, sum(amount) AS total, count(*) AS n FROM vm_ref.orders GROUP BY customer_id',
  materialized => true, indexes => ARRAY['UNIQUE (customer_id)'], apply => false);
SELECT viewmgr.register('vm_ref.reading_copy', 'SELECT id, v FROM vm_ref.readings',
  materialized => true, apply => false);
SELECT viewmgr.register('vm_ref.customer_totals',
  'SELECT c.name, t.total FROM vm_ref.customers c JOIN vm_ref.order_totals t ON t.customer_id = c.id',
  apply => false);
SELECT viewmgr.register('vm_ref.named_totals', 'SELECT name, total FROM vm_ref.customer_totals',
  materialized => true, apply => false);
SELECT viewmgr.register('vm_ref.top_customer',
  'SELECT name, total FROM vm_ref.named_totals ORDER BY total DESC, name LIMIT 1',
  materialized => true, apply => false);
SELECT viewmgr.register('vm_ref.big_orders', 'SELECT id, amount FROM vm_ref.orders WHERE amount >= 10',
  apply => false);
SELECT viewmgr.register('vm_ref.big_orders_mv', 'SELECT count(*) AS n, sum(amount) AS total FROM vm_ref.big_orders',
  materialized => true, apply => false);
SELECT viewmgr.register('vm_ref.untouched_mv', 'SELECT id, v FROM vm_ref.untouched',
  materialized => true, apply => false);
SELECT view_name, action FROM viewmgr.sync() ORDER BY view_name;

--
-- Right after sync() built them WITH DATA, nothing is stale.
--
SELECT * FROM vm_ref.states();
SELECT * FROM vm_ref.outcomes();

--
-- A write to orders: exactly the views reading it, directly, through views or through
-- materialized views, are stale; refresh_all() refreshes them, in dependency order.
--
UPDATE vm_ref.orders SET amount = 50 WHERE id = 3;
SELECT view_name, state FROM viewmgr.status ORDER BY view_name;
SELECT * FROM vm_ref.outcomes();
SELECT * FROM vm_ref.order_totals ORDER BY customer_id;
SELECT * FROM vm_ref.named_totals ORDER BY name;
SELECT * FROM vm_ref.top_customer;
SELECT * FROM vm_ref.big_orders_mv;
-- and a refresh_all() right after refreshes nothing
SELECT * FROM vm_ref.outcomes();
SELECT view_name, state FROM viewmgr.status ORDER BY view_name;

-- A write to customers, read only through the plain view customer_totals: named_totals
-- and what reads it.
UPDATE vm_ref.customers SET name = 'Bob' WHERE id = 2;
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY view_name;
SELECT * FROM vm_ref.outcomes();
SELECT * FROM vm_ref.top_customer;
SELECT * FROM vm_ref.outcomes();

-- An INSERT and a DELETE in one transaction on readings: reading_copy only.
BEGIN;
INSERT INTO vm_ref.readings VALUES (3, 300);
DELETE FROM vm_ref.readings WHERE id = 1;
COMMIT;
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY view_name;
SELECT * FROM vm_ref.outcomes();
SELECT * FROM vm_ref.reading_copy ORDER BY id;

--
-- TRUNCATE is a change.
--
TRUNCATE vm_ref.readings;
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY view_name;
SELECT * FROM vm_ref.outcomes();
SELECT count(*) FROM vm_ref.reading_copy;
SELECT * FROM vm_ref.outcomes();

--
-- A write that rolled back. The SPEC allows a false "stale" here; what happens now: the
-- change-log row rolled back with the write, so nothing is stale and nothing is refreshed.
--
BEGIN;
INSERT INTO vm_ref.readings VALUES (9, 900);
ROLLBACK;
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY view_name;
SELECT * FROM vm_ref.outcomes();

-- Savepoints: a write rolled back to a savepoint and then made again in the same
-- transaction is a change (its log row must be written again); a write only inside a
-- rolled-back savepoint of a committed transaction is not a change to refresh for.
BEGIN;
SAVEPOINT s;
INSERT INTO vm_ref.readings VALUES (4, 400);
ROLLBACK TO SAVEPOINT s;
INSERT INTO vm_ref.readings VALUES (5, 500);
COMMIT;
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY view_name;
SELECT * FROM vm_ref.outcomes();
SELECT * FROM vm_ref.reading_copy ORDER BY id;
BEGIN;
SAVEPOINT s;
INSERT INTO vm_ref.readings VALUES (6, 600);
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY view_name;
SELECT * FROM vm_ref.outcomes();

-- A write made after refresh() in the same transaction is a change too, also when other
-- transactions ended in between (here a rolled-back savepoint that wrote stands for them).
CREATE TABLE vm_ref.scratch (a int);
BEGIN;
UPDATE vm_ref.readings SET v = v + 1;
SAVEPOINT s;
INSERT INTO vm_ref.scratch VALUES (1);
ROLLBACK TO SAVEPOINT s;
SELECT view_name, action FROM viewmgr.refresh('vm_ref.reading_copy');
UPDATE vm_ref.readings SET v = 1000;
COMMIT;
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY view_name;
SELECT * FROM vm_ref.outcomes();
SELECT * FROM vm_ref.reading_copy ORDER BY id;

--
-- only_stale => false refreshes everything (automatic CONCURRENTLY where possible);
-- parallel => 2 gives the same outcomes, and never starts a view before what it reads.
--
SELECT * FROM vm_ref.outcomes(stale_only => false);
SELECT * FROM vm_ref.outcomes(stale_only => false, workers => 2);
SELECT viewmgr.purge_history('0 seconds') > 0 AS purged_some;
UPDATE vm_ref.orders SET amount = amount + 1 WHERE id = 1;
UPDATE vm_ref.readings SET v = v + 1;
SELECT * FROM vm_ref.outcomes(workers => 2);
SELECT * FROM vm_ref.outcomes(workers => 2);
SELECT * FROM vm_ref.order_totals ORDER BY customer_id;
SELECT * FROM vm_ref.named_totals ORDER BY name;
SELECT * FROM vm_ref.reading_copy ORDER BY id;
-- each refresh is recorded in viewmgr.history (independent views may have started in
-- any order: by name)
SELECT view_name, operation, outcome, detail, finished_at >= started_at AS timed
  FROM viewmgr.history ORDER BY view_name;
-- rows younger than viewmgr.history_retention (30 days by default) are kept
SELECT viewmgr.purge_history() AS purged;
SELECT viewmgr.purge_history('1 hour') AS purged;
SELECT count(*) FROM viewmgr.history;
SELECT viewmgr.purge_history('0 seconds') AS purged;
SELECT count(*) FROM viewmgr.history;
SELECT viewmgr.purge_history('0 seconds') AS purged;

--
-- concurrently => false never uses CONCURRENTLY; concurrently => true insists: a view
-- without a usable unique index fails (saying why), the others go on, and what reads a
-- failed view is skipped. The failed views show as failed until a refresh succeeds.
--
SELECT * FROM vm_ref.outcomes(stale_only => false, concurrent => false);
SELECT view_name, action,
       CASE WHEN detail LIKE '%concurrently%unique index%' THEN '(says why)' ELSE detail END AS detail
  FROM vm_ref.outcomes(stale_only => false, concurrent => true);
SELECT view_name, state, last_error LIKE '%concurrently%unique index%' AS says_why
  FROM viewmgr.status WHERE kind = 'materialized view' ORDER BY view_name;
SELECT view_name, action, timed FROM vm_ref.outcomes(stale_only => false);
SELECT view_name, state, last_error FROM viewmgr.status WHERE state <> 'fresh';

--
-- refresh() of one view: refreshed whether stale or not, and recorded, so that the
-- materialized views reading it become stale.
--
SELECT view_name, action, duration IS NOT NULL AS timed, detail
  FROM viewmgr.refresh('vm_ref.reading_copy');
SELECT view_name, action, duration IS NOT NULL AS timed, detail
  FROM viewmgr.refresh('vm_ref.order_totals', concurrently => false);
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY view_name;
SELECT * FROM vm_ref.outcomes();
SELECT * FROM vm_ref.outcomes();
-- with cascade: the materialized views downstream too, in dependency order, and only those
SELECT view_name, action, duration IS NOT NULL AS timed, detail
  FROM viewmgr.refresh('vm_ref.order_totals', cascade => true);
SELECT view_name, action, duration IS NOT NULL AS timed, detail
  FROM viewmgr.refresh('vm_ref.named_totals', cascade => true);
SELECT view_name, action, duration IS NOT NULL AS timed, detail
  FROM viewmgr.refresh('vm_ref.top_customer', cascade => true);
-- unqualified names resolve with the caller's search_path
SET search_path = vm_ref, public;
SELECT view_name, action FROM viewmgr.refresh('untouched_mv');
RESET search_path;
-- (refresh() works in the caller's transaction, where a materialized view refreshed after
-- one it reads may count as stale once more; settle that before going on)
SELECT count(*) AS failures FROM viewmgr.refresh_all() WHERE action = 'failed';

-- errors: not managed (42704), not a materialized view (42809), CONCURRENTLY impossible
-- (55000, with a hint), NULL name (22004), bad parallel (22023)
SELECT vm_ref.error_of($$SELECT * FROM viewmgr.refresh('vm_ref.no_such_view')$$);
SELECT vm_ref.error_of($$SELECT * FROM viewmgr.refresh('vm_ref.orders')$$);
SELECT vm_ref.error_of($$SELECT * FROM viewmgr.refresh('vm_ref.customer_totals')$$);
SELECT vm_ref.error_of($$SELECT * FROM viewmgr.refresh('vm_ref.reading_copy', concurrently => true)$$);
SELECT vm_ref.error_of($$SELECT * FROM viewmgr.refresh(NULL)$$);
SELECT vm_ref.error_of($$SELECT * FROM viewmgr.refresh_all(parallel => 0)$$);
SELECT * FROM viewmgr.refresh('vm_ref.reading_copy', concurrently => true);
SELECT * FROM viewmgr.refresh('vm_ref.customer_totals');
-- none of that refreshed anything
SELECT * FROM vm_ref.outcomes();

--
-- Failure isolation: ratio divides by a column that becomes 0. It fails (the error is its
-- detail, its last_error and in history); what reads it is skipped ('upstream failed');
-- the other stale views are refreshed all the same.
--
CREATE TABLE vm_ref.divisors (id int PRIMARY KEY, d int);
INSERT INTO vm_ref.divisors VALUES (1, 1), (2, 4);
SELECT viewmgr.register('vm_ref.ratio', 'SELECT id, 100 / d AS q FROM vm_ref.divisors',
  materialized => true);
SELECT viewmgr.register('vm_ref.ratio_sum', 'SELECT sum(q) AS s FROM vm_ref.ratio',
  materialized => true);
SELECT viewmgr.register('vm_ref.ratio_top', 'SELECT s FROM vm_ref.ratio_sum',
  materialized => true);
SELECT viewmgr.purge_history('0 seconds') > 0 AS purged_some;
UPDATE vm_ref.divisors SET d = 0 WHERE id = 2;
UPDATE vm_ref.readings SET v = v + 1;
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY view_name;
SELECT * FROM vm_ref.outcomes();
SELECT * FROM vm_ref.states();
SELECT * FROM vm_ref.ratio_sum;
SELECT view_name, operation, outcome, detail FROM viewmgr.history ORDER BY id;
-- it stays failed (and is retried) until a refresh succeeds
SELECT * FROM vm_ref.outcomes();
SELECT vm_ref.error_of($$SELECT * FROM viewmgr.refresh('vm_ref.ratio')$$);
UPDATE vm_ref.divisors SET d = 5 WHERE id = 2;
SELECT * FROM vm_ref.outcomes();
SELECT * FROM vm_ref.ratio_top;
SELECT view_name, state, last_error FROM viewmgr.status WHERE view_name LIKE 'vm_ref.ratio%'
 ORDER BY view_name;
SELECT view_name, outcome, count(*) FROM viewmgr.history GROUP BY 1, 2 ORDER BY 1, 2;
SELECT viewmgr.purge_history('0 seconds') AS purged;
SELECT count(*) FROM viewmgr.history;
-- a refresh_all() right after refreshes nothing
SELECT * FROM vm_ref.outcomes();

--
-- refresh_all() keeps history within viewmgr.history_retention: with 0, only the rows of
-- the run itself are left.
--
SET viewmgr.history_retention = 0;
SELECT count(*) FROM vm_ref.outcomes(stale_only => false);
SELECT count(*) FROM vm_ref.outcomes(stale_only => false);
SELECT outcome, count(*) FROM viewmgr.history GROUP BY outcome;
RESET viewmgr.history_retention;

--
-- viewmgr.progress_notices: one NOTICE per view as refresh_all() goes.
--
SET client_min_messages = notice;
SET viewmgr.progress_notices = on;
SELECT count(*) FROM viewmgr.refresh_all(only_stale => false);
RESET viewmgr.progress_notices;
SELECT count(*) FROM viewmgr.refresh_all(only_stale => false);
SET client_min_messages = warning;

--
-- Clean up.
--
SELECT viewmgr.unregister('vm_ref.ratio', cascade => true);
DROP EXTENSION pg_viewmgr;
DROP SCHEMA vm_ref CASCADE;
