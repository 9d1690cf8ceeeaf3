--
-- 08_declare: viewmgr.declare() declares a whole set of views in one call: set semantics
-- (order does not matter, unchanged views stay untouched and run no DDL), prune, dry_run,
-- and bad input, each refusal leaving the registry and the catalogs as they were.
--
SET client_min_messages = warning;
CREATE EXTENSION pg_viewmgr;
CREATE SCHEMA vm_decl;
CREATE SCHEMA vm_decl_other;
SET search_path = vm_decl, public;
CREATE TABLE vm_decl.orders (id int PRIMARY KEY, customer text, amount numeric(10,2));
INSERT INTO vm_decl.orders VALUES (1, 'alice', 10), (2, 'bob', 20), (3, 'alice', 5);

CREATE TABLE vm_decl.ddl_log (n serial, command text);
CREATE FUNCTION vm_decl.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO vm_decl.ddl_log (command) VALUES (tg_tag); END $$;
CREATE EVENT TRIGGER vm_decl_watch ON ddl_command_start EXECUTE FUNCTION vm_decl.log_ddl();
CREATE EVENT TRIGGER vm_decl_watch_drop ON sql_drop EXECUTE FUNCTION vm_decl.log_ddl();
CREATE FUNCTION vm_decl.ddl_count() RETURNS bigint LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM vm_decl.ddl_log RETURNING 1) SELECT count(*) FROM taken
$$;
-- Everything a refused declare must leave alone.
CREATE FUNCTION vm_decl.state() RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT concat_ws(E'\n',
    (SELECT string_agg(m::text, E'\n' ORDER BY m.schema_name, m.relation_name)
       FROM viewmgr.managed_view m),
    (SELECT string_agg(concat_ws(' | ', c.oid::regclass::text, c.relkind, c.xmin,
                                 CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END),
                       E'\n' ORDER BY c.oid::regclass::text)
       FROM pg_class c WHERE c.relnamespace IN ('vm_decl'::regnamespace, 'vm_decl_other'::regnamespace)
        AND c.relname <> 'ddl_log' AND c.relname <> 'ddl_log_n_seq'))
$f$;

-- The first declaration: in any order (country_totals reads customer_totals, declared
-- after it), one of each kind, unqualified names resolved with the caller's search_path.
SELECT * FROM viewmgr.declare($$[
  {"view_name": "customer_rank", "definition": "SELECT customer, total, rank() OVER (ORDER BY total DESC) AS pos FROM customer_totals",
   "materialized": true, "indexes": ["UNIQUE (customer)"], "comment": "ranked"},
  {"view_name": "customer_totals", "definition": "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer"},
  {"view_name": "big_orders", "definition": "SELECT id, amount FROM orders WHERE amount >= 10",
   "view_options": ["security_barrier=true"], "incremental": false}
]$$);
SELECT * FROM vm_decl.customer_rank ORDER BY pos;
SELECT view_name, kind, state FROM viewmgr.status ORDER BY view_name;
SELECT obj_description('vm_decl.customer_rank'::regclass, 'pg_class') AS comment;
SELECT vm_decl.ddl_count() > 0 AS ran_ddl;

-- The same set again, in another order and spelling: every view unchanged, no DDL, and
-- the registry rows are not even rewritten.
SELECT xmin::text AS registry_xmin FROM viewmgr.managed_view
 WHERE relation_name = 'customer_totals' \gset
SELECT * FROM viewmgr.declare($$[
  {"view_name": "big_orders", "definition": "SELECT id, amount FROM orders WHERE amount >= 10",
   "view_options": ["security_barrier=true"]},
  {"view_name": "vm_decl.customer_totals", "definition": "  SELECT customer, sum(amount) AS total FROM orders GROUP BY customer  "},
  {"view_name": "customer_rank", "definition": "SELECT customer, total, rank() OVER (ORDER BY total DESC) AS pos FROM customer_totals",
   "materialized": true, "indexes": ["UNIQUE (customer)"], "comment": "ranked"}
]$$);
SELECT vm_decl.ddl_count() AS ddl_statements;
SELECT xmin::text = :'registry_xmin' AS registry_row_untouched FROM viewmgr.managed_view
 WHERE relation_name = 'customer_totals';

-- dry_run: the plan, nothing changed.
SELECT vm_decl.state() AS before \gset
SELECT * FROM viewmgr.declare($$[
  {"view_name": "customer_totals", "definition": "SELECT customer, sum(amount) AS total, count(*) AS n FROM orders GROUP BY customer"},
  {"view_name": "customer_rank", "definition": "SELECT customer, total, rank() OVER (ORDER BY total DESC) AS pos FROM customer_totals",
   "materialized": true, "indexes": ["UNIQUE (customer)"], "comment": "ranked"}
]$$, prune => true, dry_run => true);
SELECT vm_decl.state() = :'before' AS dry_run_changed_nothing, vm_decl.ddl_count() AS ddl_statements;

-- A change: customer_totals gains a column (replaced), its dependent is rebuilt, and a
-- view of another schema is declared alongside.
SELECT * FROM viewmgr.declare($$[
  {"view_name": "customer_totals", "definition": "SELECT customer, sum(amount) AS total, count(*) AS n FROM orders GROUP BY customer"},
  {"view_name": "customer_rank", "definition": "SELECT customer, total, rank() OVER (ORDER BY total DESC) AS pos FROM customer_totals",
   "materialized": true, "indexes": ["UNIQUE (customer)"], "comment": "ranked"},
  {"view_name": "big_orders", "definition": "SELECT id, amount FROM orders WHERE amount >= 10",
   "view_options": ["security_barrier=true"]},
  {"view_name": "vm_decl_other.order_count", "definition": "SELECT count(*) AS n FROM vm_decl.orders"}
]$$);
SELECT * FROM vm_decl.customer_totals ORDER BY customer;

-- register() of an unchanged declaration does not rewrite its registry row either.
SELECT vm_decl.ddl_count() >= 0 AS ddl_log_cleared;
SELECT xmin::text AS registry_xmin FROM viewmgr.managed_view
 WHERE relation_name = 'customer_totals' \gset
SELECT viewmgr.register('customer_totals',
  'SELECT customer, sum(amount) AS total, count(*) AS n FROM orders GROUP BY customer', apply => false);
SELECT viewmgr.register('customer_totals',
  'SELECT customer, sum(amount) AS total, count(*) AS n FROM orders GROUP BY customer');
SELECT xmin::text = :'registry_xmin' AS registry_row_untouched, vm_decl.ddl_count() AS ddl_statements
  FROM viewmgr.managed_view WHERE relation_name = 'customer_totals';

-- prune: big_orders is no longer named; vm_decl_other is one of the set's schemas only
-- when the set names a view there, so order_count stays.
SELECT * FROM viewmgr.declare($$[
  {"view_name": "customer_totals", "definition": "SELECT customer, sum(amount) AS total, count(*) AS n FROM orders GROUP BY customer"},
  {"view_name": "customer_rank", "definition": "SELECT customer, total, rank() OVER (ORDER BY total DESC) AS pos FROM customer_totals",
   "materialized": true, "indexes": ["UNIQUE (customer)"], "comment": "ranked"}
]$$, prune => true);
SELECT to_regclass('vm_decl.big_orders') AS big_orders_now;
SELECT view_name FROM viewmgr.status ORDER BY view_name;
SELECT view_name, operation, outcome, detail FROM viewmgr.history
 WHERE operation = 'drop' ORDER BY id;

-- prune refuses where something unmanaged depends on a view it would drop, naming it.
CREATE VIEW vm_decl_other.hand_made AS SELECT n FROM vm_decl_other.order_count;
SELECT vm_decl.state() AS before \gset
SELECT * FROM viewmgr.declare($$[
  {"view_name": "vm_decl_other.other", "definition": "SELECT 1 AS one"}
]$$, prune => true);
SELECT vm_decl.state() = :'before' AS unchanged_after_refusal;
-- and where a managed view of the set still reads one it would prune
SELECT * FROM viewmgr.declare($$[
  {"view_name": "customer_rank", "definition": "SELECT customer, total, rank() OVER (ORDER BY total DESC) AS pos FROM customer_totals",
   "materialized": true, "indexes": ["UNIQUE (customer)"], "comment": "ranked"}
]$$, prune => true);
SELECT vm_decl.state() = :'before' AS unchanged_after_refusal;

-- Bad input: each refused with its SQLSTATE, nothing changed.
SELECT vm_decl.ddl_count() >= 0 AS ddl_log_cleared;
SELECT * FROM viewmgr.declare('{"view_name": "x"}');
SELECT * FROM viewmgr.declare('[{"view_name": "x", "definition": "SELECT 1", "colour": "red"}]');
SELECT * FROM viewmgr.declare('[{"view_name": "x", "definition": "SELECT 1"}, {"view_name": "vm_decl.x", "definition": "SELECT 2"}]');
SELECT * FROM viewmgr.declare('[{"view_name": "x", "definition": "SELECT 1", "indexes": "UNIQUE (x)"}]');
\set VERBOSITY sqlstate
SELECT * FROM viewmgr.declare(NULL);
SELECT * FROM viewmgr.declare('"views"');
SELECT * FROM viewmgr.declare('[1]');
SELECT * FROM viewmgr.declare('[{"view_name": "x", "definition": "SELECT 1", "colour": "red"}]');
SELECT * FROM viewmgr.declare('[{"view_name": "x", "definition": "SELECT 1"}, {"view_name": "vm_decl.x", "definition": "SELECT 2"}]');
SELECT * FROM viewmgr.declare('[{"view_name": "x", "definition": "SELECT 1", "materialized": "yes"}]');
SELECT * FROM viewmgr.declare('[{"view_name": "x", "definition": "SELECT 1", "depends_on": "customer_totals"}]');
SELECT * FROM viewmgr.declare('[{"view_name": "x", "definition": "SELECT 1", "indexes": [1]}]');
SELECT * FROM viewmgr.declare('[{"view_name": 7, "definition": "SELECT 1"}]');
SELECT * FROM viewmgr.declare('[{"view_name": "x"}]');
SELECT * FROM viewmgr.declare('[{"view_name": null, "definition": "SELECT 1"}]');
SELECT * FROM viewmgr.declare('[{"view_name": "x", "definition": "SELECT 1", "materialized": true, "incremental": true}]');
SELECT * FROM viewmgr.declare('[{"view_name": "x", "definition": "DELETE FROM vm_decl.orders"}]');
SELECT * FROM viewmgr.declare('[{"view_name": "a", "definition": "SELECT * FROM b"}, {"view_name": "b", "definition": "SELECT * FROM a"}]');
-- a good view before a bad one: neither is declared
SELECT * FROM viewmgr.declare('[{"view_name": "fine", "definition": "SELECT 1 AS one"}, {"view_name": "broken", "definition": "SELECT FROM WHERE"}]');
\set VERBOSITY default
SELECT vm_decl.state() = :'before' AS unchanged_after_bad_input, vm_decl.ddl_count() AS ddl_statements;
SELECT * FROM viewmgr.declare('[{"view_name": "x", "definition": "SELECT 1", "incremental": true, "materialized": true}]');

-- An empty set declares nothing and, with prune, prunes nothing (it names no schema).
SELECT * FROM viewmgr.declare('[]', prune => true);
SELECT count(*) AS managed FROM viewmgr.managed_view;

DROP VIEW vm_decl_other.hand_made;
DROP EVENT TRIGGER vm_decl_watch;
DROP EVENT TRIGGER vm_decl_watch_drop;
SELECT viewmgr.unregister(view_name, cascade => true) FROM viewmgr.status
 WHERE view_name IN ('vm_decl.customer_totals', 'vm_decl_other.order_count');
DROP SCHEMA vm_decl CASCADE;
DROP SCHEMA vm_decl_other CASCADE;
DROP EXTENSION pg_viewmgr;
RESET search_path;
