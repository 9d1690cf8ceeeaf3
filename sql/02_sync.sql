--
-- 02_sync: declare many views with apply => false, in the wrong order, then apply them with
-- one viewmgr.sync(); dry runs; the no-op second sync; drift() and viewmgr.status after
-- changes made by hand, and sync() repairing them.
--
SET client_min_messages = warning;
CREATE SCHEMA vm_sync;
CREATE TABLE vm_sync.customers (id int PRIMARY KEY, name text, country text);
CREATE TABLE vm_sync.orders (id int PRIMARY KEY, customer_id int, amount numeric(10,2),
                             placed_on date);
INSERT INTO vm_sync.customers VALUES
  (1, 'alice', 'DE'), (2, 'bob', 'FR'), (3, 'carol', 'DE'), (4, 'dave', 'IT');
INSERT INTO vm_sync.orders VALUES
  (1, 1, 100.00, '2024-01-05'), (2, 1, 50.00, '2024-02-10'), (3, 2, 75.00, '2024-01-20'),
  (4, 3, 20.00, '2024-03-01'), (5, 4, 300.00, '2024-03-15'), (6, 3, 5.00, '2024-03-20');
-- A function that reads a view: the parser cannot see through it, so depends_on declares it.
CREATE FUNCTION vm_sync.big_spenders() RETURNS TABLE (id int, revenue numeric)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY SELECT r.id, r.revenue FROM vm_sync.customer_revenue r WHERE r.revenue > 100;
END $$;

CREATE TABLE vm_sync.ddl_log (n serial, command text, object text);
CREATE FUNCTION vm_sync.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vm_sync.ddl_log (command, object)
  SELECT DISTINCT command_tag, object_identity FROM pg_event_trigger_ddl_commands()
   WHERE schema_name IN ('vm_sync') AND object_identity IS NOT NULL;
END $$;
CREATE FUNCTION vm_sync.log_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vm_sync.ddl_log (command, object)
  SELECT 'DROP ' || upper(object_type), object_identity FROM pg_event_trigger_dropped_objects()
   WHERE schema_name IN ('vm_sync')
     AND (original OR object_type IN ('view', 'materialized view'));
END $$;
-- How many DDL statements ran since the last look; clears the log.
CREATE FUNCTION vm_sync.ddl_count() RETURNS bigint LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM vm_sync.ddl_log RETURNING 1) SELECT count(*) FROM taken
$$;
-- The views and materialized views created since the last look, in order; clears the log.
CREATE FUNCTION vm_sync.created() RETURNS TABLE (n bigint, command text, object text)
LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM vm_sync.ddl_log RETURNING *)
  SELECT row_number() OVER (ORDER BY taken.n), command, object FROM taken
   WHERE command IN ('CREATE VIEW', 'CREATE MATERIALIZED VIEW') ORDER BY taken.n
$$;
-- The views and materialized views dropped since the last look, by name; clears the log.
CREATE FUNCTION vm_sync.dropped() RETURNS TABLE (command text, object text)
LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM vm_sync.ddl_log RETURNING *)
  SELECT DISTINCT command, object FROM taken
   WHERE command IN ('DROP VIEW', 'DROP MATERIALIZED VIEW') ORDER BY object, command
$$;

CREATE EXTENSION pg_viewmgr;

CREATE EVENT TRIGGER vm_sync_log_ddl ON ddl_command_end EXECUTE FUNCTION vm_sync.log_ddl();
CREATE EVENT TRIGGER vm_sync_log_drop ON sql_drop EXECUTE FUNCTION vm_sync.log_drop();
SET search_path = vm_sync, public;

--
-- Declared top-down: every view before the views it reads.
--
SELECT viewmgr.register('vip_report',
  'SELECT c.name, b.revenue FROM big_spenders() b JOIN customers c USING (id)',
  depends_on => ARRAY['customer_revenue'], apply => false);
SELECT viewmgr.register('country_summary',
  'SELECT country, revenue, customers FROM country_revenue ORDER BY revenue DESC',
  apply => false);
SELECT viewmgr.register('country_revenue',
  'SELECT country, sum(revenue) AS revenue, count(*) AS customers
     FROM customer_revenue GROUP BY country',
  materialized => true, indexes => ARRAY['UNIQUE (country)', '(revenue) WHERE revenue > 0'],
  apply => false);
SELECT viewmgr.register('customer_revenue',
  'SELECT c.id, c.name, c.country, coalesce(sum(o.amount), 0) AS revenue
     FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
    GROUP BY c.id, c.name, c.country',
  apply => false);
SELECT viewmgr.register('monthly_orders',
  $$SELECT date_trunc('month', placed_on)::date AS month, count(*) AS orders
      FROM orders GROUP BY 1$$,
  materialized => true, indexes => ARRAY['UNIQUE (month)'], apply => false);
SELECT viewmgr.register('empty_until_refreshed', 'SELECT id FROM orders',
  materialized => true, with_data => false, apply => false);

-- nothing is built yet
SELECT vm_sync.ddl_count() AS ddl_statements;
SELECT view_name, drift FROM viewmgr.drift() ORDER BY 1;
SELECT view_name, kind, state, depends_on FROM viewmgr.status ORDER BY 1;
SELECT step, level, view_name, depends_on FROM viewmgr.dependency_order();

--
-- the plan, and nothing done
--
SELECT view_name, action FROM viewmgr.sync(dry_run => true);
SELECT vm_sync.ddl_count() AS ddl_statements;
SELECT count(*) AS views_in_schema FROM pg_class
 WHERE relnamespace = 'vm_sync'::regnamespace AND relkind IN ('v', 'm');

--
-- one sync() builds everything, sources first
--
SELECT view_name, action FROM viewmgr.sync();
SELECT * FROM vm_sync.created();
SELECT * FROM vip_report ORDER BY name;
SELECT * FROM country_summary;
SELECT * FROM monthly_orders ORDER BY month;
SELECT relname, relispopulated FROM pg_class
 WHERE oid IN ('country_revenue'::regclass, 'monthly_orders'::regclass,
               'empty_until_refreshed'::regclass) ORDER BY 1;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid IN ('country_revenue'::regclass, 'monthly_orders'::regclass) ORDER BY 1;
SELECT view_name, drift FROM viewmgr.drift();
SELECT view_name, kind, state FROM viewmgr.status ORDER BY 1;

--
-- a second sync() right after: everything unchanged, no DDL
--
SELECT view_name, action FROM viewmgr.sync();
SELECT view_name, action FROM viewmgr.sync(dry_run => true);
SELECT vm_sync.ddl_count() AS ddl_statements;

--
-- a view dropped by hand: missing; sync() recreates it
--
DROP VIEW country_summary;
SELECT view_name, drift FROM viewmgr.drift();
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY 1;
SELECT view_name, action FROM viewmgr.sync(dry_run => true) WHERE action <> 'unchanged';
SELECT to_regclass('vm_sync.country_summary') IS NULL AS still_missing;
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
SELECT * FROM vm_sync.created();
SELECT * FROM country_summary;
SELECT view_name, drift FROM viewmgr.drift();

-- dropped with CASCADE by hand: the view and what reads it are missing
DROP VIEW customer_revenue CASCADE;
SELECT * FROM vm_sync.dropped();
SELECT view_name, drift FROM viewmgr.drift() ORDER BY 1;
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY 1;
SELECT view_name, action FROM viewmgr.sync();
SELECT * FROM vm_sync.created();
SELECT * FROM country_summary;
SELECT view_name, drift FROM viewmgr.drift();

--
-- CREATE OR REPLACE VIEW by hand: definition drift; sync() puts the registered one back
--
CREATE OR REPLACE VIEW customer_revenue AS
  SELECT c.id, c.name, c.country, 0::numeric AS revenue FROM customers c;
SELECT view_name, drift FROM viewmgr.drift();
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY 1;
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
SELECT vm_sync.ddl_count() > 0 AS ddl_ran;
SELECT * FROM customer_revenue ORDER BY id;
-- what read the view while it was replaced by hand is stale (the view in between returned
-- something else), until it is refreshed
SELECT view_name, drift, detail FROM viewmgr.drift();
SELECT view_name, action FROM viewmgr.refresh('vm_sync.country_revenue');
SELECT view_name, drift FROM viewmgr.drift();
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';

--
-- a declared index of a materialized view dropped by hand: indexes drift; sync() recreates it
--
DROP INDEX monthly_orders_month_idx;
SELECT view_name, drift FROM viewmgr.drift();
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY 1;
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
SELECT vm_sync.ddl_count() > 0 AS ddl_ran;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid = 'monthly_orders'::regclass ORDER BY 1;
SELECT view_name, drift FROM viewmgr.drift();

-- an index of the same name but another definition is not the declared index; sync()
-- creates the declared one next to it and leaves the hand-made one alone
DROP INDEX monthly_orders_month_idx;
CREATE INDEX monthly_orders_month_idx ON monthly_orders (orders);
SELECT view_name, drift FROM viewmgr.drift();
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY 1;
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
SELECT vm_sync.ddl_count() > 0 AS ddl_ran;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid = 'monthly_orders'::regclass ORDER BY 1;
SELECT view_name, drift FROM viewmgr.drift();
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';

--
-- a materialized view registered WITH DATA that holds no data: unpopulated
--
REFRESH MATERIALIZED VIEW monthly_orders WITH NO DATA;
SELECT view_name, drift FROM viewmgr.drift();
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY 1;
REFRESH MATERIALIZED VIEW monthly_orders;
SELECT view_name, drift FROM viewmgr.drift();
-- registered WITH NO DATA and empty is what was asked for: no drift
SELECT relispopulated FROM pg_class WHERE oid = 'empty_until_refreshed'::regclass;
SELECT view_name, drift FROM viewmgr.drift() WHERE view_name = 'vm_sync.empty_until_refreshed';

--
-- a view replaced by a materialized view of the same name by hand: kind drift
--
DROP VIEW country_summary;
CREATE MATERIALIZED VIEW country_summary AS SELECT 'xx'::text AS country;
SELECT view_name, drift FROM viewmgr.drift();
SELECT view_name, kind, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY 1;
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
SELECT relkind FROM pg_class WHERE oid = 'country_summary'::regclass;
SELECT * FROM country_summary;
SELECT vm_sync.ddl_count() > 0 AS ddl_ran;
SELECT view_name, drift FROM viewmgr.drift();

--
-- depends_on naming a view that is not registered: fine with apply => false, an error in
-- sync() until it is registered
--
SELECT viewmgr.register('late_report', 'SELECT 1 AS one', depends_on => ARRAY['late_source'],
  apply => false);
\set VERBOSITY terse
SELECT view_name, action FROM viewmgr.sync();
\set VERBOSITY default
SELECT to_regclass('vm_sync.late_report') IS NULL AS not_built;
SELECT viewmgr.register('late_source', 'SELECT 2 AS two', apply => false);
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
SELECT * FROM vm_sync.created();
SELECT step, level, view_name, depends_on FROM viewmgr.dependency_order()
 WHERE view_name LIKE 'vm_sync.late%';

--
-- the last word: all fresh, a final sync changes nothing
--
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
SELECT view_name, kind, state FROM viewmgr.status ORDER BY 1;
SELECT vm_sync.ddl_count() AS ddl_statements;

--
-- clean up
--
DROP EVENT TRIGGER vm_sync_log_ddl;
DROP EVENT TRIGGER vm_sync_log_drop;
DROP EXTENSION pg_viewmgr;
DROP SCHEMA vm_sync CASCADE;
