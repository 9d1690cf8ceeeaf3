--
-- 04_graph: dependency_order() steps and levels, graph() as DOT, cycles, and unregister()
-- with and without cascade.
--
SET client_min_messages = warning;
CREATE SCHEMA vm_graph;
CREATE TABLE vm_graph.events (id int PRIMARY KEY, kind text, amount int, at date);
CREATE TABLE vm_graph.users (id int PRIMARY KEY, name text);
INSERT INTO vm_graph.events VALUES
  (1, 'click', 1, '2024-01-01'), (2, 'buy', 30, '2024-01-02'), (3, 'buy', 12, '2024-01-02');
INSERT INTO vm_graph.users VALUES (1, 'alice'), (2, 'bob');
-- reads a view, invisibly to the parser
CREATE FUNCTION vm_graph.sales_total() RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT sum(amount) FROM vm_graph.sales);
END $$;

CREATE TABLE vm_graph.ddl_log (n serial, command text, object text);
CREATE FUNCTION vm_graph.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vm_graph.ddl_log (command, object)
  SELECT DISTINCT command_tag, object_identity FROM pg_event_trigger_ddl_commands()
   WHERE schema_name IN ('vm_graph', 'public') AND object_identity IS NOT NULL;
END $$;
CREATE FUNCTION vm_graph.log_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vm_graph.ddl_log (command, object)
  SELECT 'DROP ' || upper(object_type), object_identity FROM pg_event_trigger_dropped_objects()
   WHERE schema_name IN ('vm_graph', 'public')
     AND (original OR object_type IN ('view', 'materialized view'));
END $$;
-- How many DDL statements ran since the last look; clears the log.
CREATE FUNCTION vm_graph.ddl_count() RETURNS bigint LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM vm_graph.ddl_log RETURNING 1) SELECT count(*) FROM taken
$$;
-- The views and materialized views created since the last look, in order; clears the log.
CREATE FUNCTION vm_graph.created() RETURNS TABLE (n bigint, command text, object text)
LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM vm_graph.ddl_log RETURNING *)
  SELECT row_number() OVER (ORDER BY taken.n), command, object FROM taken
   WHERE command IN ('CREATE VIEW', 'CREATE MATERIALIZED VIEW') ORDER BY taken.n
$$;
-- The views and materialized views dropped since the last look, by name; clears the log.
CREATE FUNCTION vm_graph.dropped() RETURNS TABLE (command text, object text)
LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM vm_graph.ddl_log RETURNING *)
  SELECT DISTINCT command, object FROM taken
   WHERE command IN ('DROP VIEW', 'DROP MATERIALIZED VIEW') ORDER BY object, command
$$;
-- SQLSTATE and message of an error, or 'ok'.
CREATE FUNCTION vm_graph.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE EXTENSION pg_viewmgr;

CREATE EVENT TRIGGER vm_graph_log_ddl ON ddl_command_end EXECUTE FUNCTION vm_graph.log_ddl();
CREATE EVENT TRIGGER vm_graph_log_drop ON sql_drop EXECUTE FUNCTION vm_graph.log_drop();
SET search_path = vm_graph, public;

-- nothing managed yet
SELECT step, level, view_name, depends_on FROM viewmgr.dependency_order();
SELECT viewmgr.graph();

--
-- a diamond, a chain through a materialized view, a declared dependency, and a view in
-- another schema of the same graph
--
--   clicks   sales ----------+------------+
--      \    /     \          |            |
--     activity   daily (m)  sales_kpi    big_sales
--        |         |       (depends_on   (materialized)
--     summary   daily_report  sales)
--
SELECT viewmgr.register('summary', 'SELECT count(*) AS n FROM activity', apply => false);
SELECT viewmgr.register('activity',
  'SELECT id, kind FROM clicks UNION ALL SELECT id, kind FROM sales', apply => false);
SELECT viewmgr.register('daily_report', 'SELECT at, total FROM daily ORDER BY at', apply => false);
SELECT viewmgr.register('daily', 'SELECT at, sum(amount) AS total FROM sales GROUP BY at',
  materialized => true, indexes => ARRAY['UNIQUE (at)'], apply => false);
SELECT viewmgr.register('sales_kpi', 'SELECT vm_graph.sales_total() AS total',
  depends_on => ARRAY['sales'], apply => false);
SELECT viewmgr.register('clicks', $$SELECT id, kind FROM events WHERE kind = 'click'$$,
  apply => false);
SELECT viewmgr.register('sales', $$SELECT id, kind, amount, at FROM events WHERE kind = 'buy'$$,
  apply => false);
SELECT viewmgr.register('public.big_sales', 'SELECT id FROM vm_graph.sales WHERE amount > 20',
  materialized => true, apply => false);
SELECT viewmgr.register('user_names', 'SELECT name FROM users', apply => false);

-- level: the longest path down to unmanaged relations; steps: the build order
SELECT step, level, view_name, depends_on FROM viewmgr.dependency_order();
-- every view comes after everything it depends on
SELECT count(*) AS violations
  FROM viewmgr.dependency_order() o, unnest(o.depends_on) AS dep
  JOIN viewmgr.dependency_order() d ON d.view_name = dep
 WHERE d.step >= o.step OR d.level >= o.level;
-- sync() builds in the same order
SELECT o.step, s.view_name, s.action
  FROM viewmgr.sync() WITH ORDINALITY AS s(view_name, action, reason, ord)
  JOIN viewmgr.dependency_order() o USING (view_name)
 ORDER BY s.ord;
SELECT * FROM summary;
SELECT * FROM daily_report;
SELECT * FROM sales_kpi;
SELECT * FROM vm_graph.created();
SELECT view_name, depends_on FROM viewmgr.status ORDER BY 1;

--
-- graph() as Graphviz DOT: materialized views are boxes; every managed dependency is an edge
--
SELECT viewmgr.graph();
SELECT viewmgr.graph('dot') = viewmgr.graph() AS dot_is_default;
SELECT vm_graph.try($$SELECT viewmgr.graph('svg')$$);
-- states are marked: a missing view, a view changed by hand, an unpopulated one
DROP VIEW summary;
CREATE OR REPLACE VIEW clicks AS SELECT id, kind FROM events WHERE kind = 'CLICK';
REFRESH MATERIALIZED VIEW daily WITH NO DATA;
SELECT view_name, state FROM viewmgr.status WHERE state <> 'fresh' ORDER BY 1;
SELECT viewmgr.graph();
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
REFRESH MATERIALIZED VIEW daily;
SELECT vm_graph.ddl_count() > 0 AS ddl_ran;
SELECT viewmgr.graph() LIKE '%(missing)%' OR viewmgr.graph() LIKE '%(drifted)%'
    OR viewmgr.graph() LIKE '%(unpopulated)%' AS any_marked;

--
-- a declared dependency cycle is refused, naming the cycle, and nothing changes
--
SELECT vm_graph.try($$SELECT viewmgr.register('clicks', 'SELECT id, kind FROM activity')$$);
SELECT vm_graph.try($$SELECT viewmgr.register('sales',
  $q$SELECT id, kind, amount, at FROM events WHERE kind = 'buy'$q$,
  depends_on => ARRAY['daily_report'], apply => false)$$);
SELECT vm_graph.try($$SELECT viewmgr.register('loop', 'SELECT 1 AS one',
  depends_on => ARRAY['loop'], apply => false)$$);
SELECT count(*) AS still_managed FROM viewmgr.status;
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
SELECT vm_graph.ddl_count() AS ddl_statements;

--
-- unregister
--
-- not managed
SELECT vm_graph.try($$SELECT viewmgr.unregister('vm_graph.events')$$);
SELECT vm_graph.try($$SELECT viewmgr.unregister('no_such_view')$$);
-- managed views depend on it: refused without cascade, and they are named
\set VERBOSITY default
SELECT viewmgr.unregister('sales');
\set VERBOSITY terse
SELECT count(*) AS still_managed FROM viewmgr.status;
-- a leaf: unregistered and dropped
SELECT viewmgr.unregister('summary');
SELECT to_regclass('vm_graph.summary') IS NULL AS dropped;
SELECT * FROM vm_graph.dropped();
-- drop_view => false: no longer managed, but the view stays
SELECT viewmgr.unregister('vm_graph.daily_report', drop_view => false);
SELECT to_regclass('vm_graph.daily_report') IS NOT NULL AS kept;
SELECT vm_graph.ddl_count() AS ddl_statements;
-- daily_report is now an unmanaged view that depends on daily: unregistering daily must
-- not drop it, so it is refused, naming daily_report
\set VERBOSITY default
SELECT viewmgr.unregister('daily');
\set VERBOSITY terse
SELECT view_name FROM viewmgr.status WHERE view_name = 'vm_graph.daily';
SELECT to_regclass('vm_graph.daily') IS NOT NULL AS daily_kept;
-- cascade does not drop unmanaged views either
SELECT vm_graph.try($$SELECT viewmgr.unregister('sales', cascade => true)$$);
SELECT count(*) AS still_managed FROM viewmgr.status;
SELECT vm_graph.ddl_count() AS ddl_statements;
DROP VIEW daily_report;
SELECT * FROM vm_graph.dropped();
-- cascade: sales and every managed view downstream of it are unregistered and dropped
SELECT viewmgr.unregister('sales', cascade => true);
SELECT * FROM vm_graph.dropped();
SELECT step, level, view_name, depends_on FROM viewmgr.dependency_order();
SELECT c.relname FROM pg_class c
 WHERE c.relnamespace IN ('vm_graph'::regnamespace, 'public'::regnamespace)
   AND c.relkind IN ('v', 'm') ORDER BY 1;
SELECT viewmgr.graph();
SELECT view_name, action FROM viewmgr.sync();
-- the rest
SELECT viewmgr.unregister('clicks');
SELECT viewmgr.unregister('user_names', drop_view => false);
SELECT step, level, view_name, depends_on FROM viewmgr.dependency_order();
SELECT view_name, kind, state FROM viewmgr.status;
SELECT * FROM vm_graph.dropped();
SELECT to_regclass('vm_graph.user_names') IS NOT NULL AS user_names_kept;

--
-- clean up
--
DROP EVENT TRIGGER vm_graph_log_ddl;
DROP EVENT TRIGGER vm_graph_log_drop;
DROP EXTENSION pg_viewmgr;
DROP SCHEMA vm_graph CASCADE;
