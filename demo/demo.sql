-- pg_viewmgr demo: a small shop schema, its reporting views declared in any order, built by
-- one sync(), drift detected and repaired, a rebuild, then refreshes that skip what is not
-- stale, with status and history.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;

DROP SCHEMA IF EXISTS shop CASCADE;
DROP EXTENSION IF EXISTS pg_viewmgr;
CREATE EXTENSION pg_viewmgr;

CREATE SCHEMA shop;
SET search_path = shop, public;
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers,
                     amount numeric(10,2) NOT NULL, placed_at timestamptz NOT NULL);
INSERT INTO customers SELECT g, 'customer ' || g, (ARRAY['DE','FR','NL','US'])[1 + g % 4]
  FROM generate_series(1, 200) g;
INSERT INTO orders SELECT g, 1 + g % 200, (g % 97) * 3.5, now() - (g % 365) * interval '1 day'
  FROM generate_series(1, 5000) g;

\echo
\echo '== 1. Declare views in any order (apply => false only records them)'
SELECT viewmgr.register('country_revenue',
         'SELECT country, sum(revenue) AS revenue, count(*) AS customers
            FROM customer_revenue GROUP BY country',
         materialized => true, indexes => ARRAY['UNIQUE (country)'], apply => false);
SELECT viewmgr.register('top_customers',
         'SELECT * FROM customer_revenue WHERE revenue > 2000', apply => false);
SELECT viewmgr.register('customer_revenue',
         'SELECT c.id, c.name, c.country, sum(o.amount) AS revenue
            FROM customers c JOIN orders o ON o.customer_id = c.id
           GROUP BY c.id, c.name, c.country',
         comment => 'revenue per customer', apply => false);

\echo
\echo '== 2. The order pg_viewmgr inferred from the SQL itself'
SELECT * FROM viewmgr.dependency_order();

\echo
\echo '== 3. sync(): build everything, in that order'
SELECT * FROM viewmgr.sync();

\echo
\echo '== 4. Status, and a second sync() that has nothing to do'
SELECT view_name, kind, state, depends_on FROM viewmgr.status;
SELECT * FROM viewmgr.sync();

\echo
\echo '== 5. Same definition written differently: unchanged, no DDL'
SELECT viewmgr.register('top_customers',
         'select *   from shop.customer_revenue   -- only the big ones
           where revenue > 2000');

\echo
\echo '== 6. Someone edits a managed view by hand and drops an index'
CREATE OR REPLACE VIEW top_customers AS SELECT * FROM customer_revenue WHERE revenue > 10;
DROP INDEX shop.country_revenue_country_idx;
SELECT * FROM viewmgr.drift();
SELECT view_name, state FROM viewmgr.status;

\echo
\echo '== 7. sync() repairs the drift'
SELECT * FROM viewmgr.sync();
SELECT * FROM viewmgr.drift();

\echo
\echo '== 8. A change that needs a rebuild: revenue becomes an integer, dependents follow'
SELECT viewmgr.register('customer_revenue',
         'SELECT c.id, c.name, c.country, sum(o.amount)::int AS revenue
            FROM customers c JOIN orders o ON o.customer_id = c.id
           GROUP BY c.id, c.name, c.country',
         comment => 'revenue per customer');
SELECT view_name, state FROM viewmgr.status;

\echo
\echo '== 9. Refreshing: only what is stale'
SELECT * FROM viewmgr.refresh_all();
\echo '-- nothing changed since: nothing to do'
SELECT view_name, action, detail FROM viewmgr.refresh_all();
\echo '-- new orders make the revenue views stale'
INSERT INTO orders VALUES (5001, 7, 99.50, now());
SELECT view_name, kind, state FROM viewmgr.status;
SELECT view_name, action, detail FROM viewmgr.refresh_all();
SELECT * FROM shop.country_revenue ORDER BY country;

\echo
\echo '== 10. What ran, and when'
SELECT view_name, operation, outcome, detail FROM viewmgr.history ORDER BY id;
SELECT view_name, state, last_refreshed_at IS NOT NULL AS refreshed, last_error FROM viewmgr.status;

\echo
\echo '== 11. The dependency graph (Graphviz DOT)'
\pset format unaligned
\pset tuples_only on
SELECT viewmgr.graph();
