--
-- 01_register: what viewmgr.register() does and returns.
--   created / unchanged / replaced / rebuilt / registered; semantic sameness of definitions;
--   quoted, mixed-case and non-ASCII names; name resolution; search_path pinned at
--   registration; bad input.
--
-- Every DDL statement run on objects in schema vm_reg is logged by event triggers, so the
-- tests can show that "unchanged" ran no DDL at all, and what was created from scratch.
--
SET client_min_messages = warning;
CREATE SCHEMA vm_reg;
CREATE SCHEMA "vm Other";
CREATE TABLE vm_reg.orders (id int PRIMARY KEY, customer text, amount numeric(10,2), status text);
INSERT INTO vm_reg.orders VALUES
  (1, 'alice', 10.00, 'open'), (2, 'bob', 20.00, 'closed'),
  (3, 'alice', 5.50, 'open'), (4, 'carol', 7.25, 'open');
-- Two tables of the same name in two schemas, for search_path pinning.
CREATE TABLE vm_reg.catalog (item text);
INSERT INTO vm_reg.catalog VALUES ('from vm_reg');
CREATE TABLE "vm Other".catalog (item text);
INSERT INTO "vm Other".catalog VALUES ('from vm Other');

CREATE TABLE vm_reg.ddl_log (n serial, command text, object text);
CREATE FUNCTION vm_reg.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vm_reg.ddl_log (command, object)
  SELECT DISTINCT command_tag, object_identity FROM pg_event_trigger_ddl_commands()
   WHERE schema_name = 'vm_reg' AND object_identity IS NOT NULL;
END $$;
CREATE FUNCTION vm_reg.log_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vm_reg.ddl_log (command, object)
  SELECT 'DROP ' || upper(object_type), object_identity FROM pg_event_trigger_dropped_objects()
   WHERE schema_name = 'vm_reg' AND (original OR object_type IN ('view', 'materialized view'));
END $$;
-- How many DDL statements ran since the last look; clears the log.
CREATE FUNCTION vm_reg.ddl_count() RETURNS bigint LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM vm_reg.ddl_log RETURNING 1) SELECT count(*) FROM taken
$$;
-- The views and materialized views created since the last look, in order; clears the log.
CREATE FUNCTION vm_reg.created() RETURNS TABLE (n bigint, command text, object text)
LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM vm_reg.ddl_log RETURNING *)
  SELECT row_number() OVER (ORDER BY taken.n), command, object FROM taken
   WHERE command IN ('CREATE VIEW', 'CREATE MATERIALIZED VIEW') ORDER BY taken.n
$$;
-- SQLSTATE and message of an error, or 'ok'.
CREATE FUNCTION vm_reg.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- SQLSTATE of an error and whether its message mentions `word` (else the message), or 'ok'.
CREATE FUNCTION vm_reg.error_naming(sql text, word text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || CASE WHEN strpos(SQLERRM, word) > 0 THEN ', mentions ' || word
                          ELSE ': ' || SQLERRM END;
END $$;

CREATE EXTENSION pg_viewmgr;

CREATE EVENT TRIGGER vm_reg_log_ddl ON ddl_command_end EXECUTE FUNCTION vm_reg.log_ddl();
CREATE EVENT TRIGGER vm_reg_log_drop ON sql_drop EXECUTE FUNCTION vm_reg.log_drop();
SET search_path = vm_reg, public;

--
-- created, then the same definition again: unchanged, and no DDL at all
--
SELECT viewmgr.register('vm_reg.open_orders',
  $$SELECT id, customer, amount FROM vm_reg.orders WHERE status = 'open'$$);
SELECT * FROM vm_reg.created();
SELECT * FROM vm_reg.open_orders ORDER BY id;
SELECT oid AS open_orders_oid FROM pg_class WHERE oid = 'vm_reg.open_orders'::regclass \gset
SELECT xmin AS open_orders_rule_xmin FROM pg_rewrite WHERE ev_class = 'vm_reg.open_orders'::regclass \gset

SELECT viewmgr.register('vm_reg.open_orders',
  $$SELECT id, customer, amount FROM vm_reg.orders WHERE status = 'open'$$);
-- whitespace, letter case, comments and redundant schema qualification are no change
SELECT viewmgr.register('vm_reg.open_orders', $$
    select ID,   Customer,
           AMOUNT            -- what is owed
      from ORDERS /* the table */
     where STATUS = 'open'
$$);
SELECT viewmgr.register('open_orders',
  $$SELECT orders.id, orders.customer, orders.amount FROM orders WHERE orders.status = 'open';$$);
SELECT vm_reg.ddl_count() AS ddl_statements;
SELECT 'vm_reg.open_orders'::regclass::oid = :open_orders_oid AS same_relation,
       (SELECT xmin FROM pg_rewrite WHERE ev_class = 'vm_reg.open_orders'::regclass)::text
         = :'open_orders_rule_xmin' AS rule_untouched;
-- the registry keeps the text as registered last
SELECT definition FROM viewmgr.managed_view WHERE relation_name = 'open_orders';

--
-- real changes: "replaced" keeps the relation (CREATE OR REPLACE), "rebuilt" makes a new one
--
-- a filter
SELECT viewmgr.register('vm_reg.open_orders',
  $$SELECT id, customer, amount FROM vm_reg.orders WHERE status = 'open' AND amount > 6$$);
SELECT vm_reg.ddl_count() > 0 AS ddl_ran,
       'vm_reg.open_orders'::regclass::oid = :open_orders_oid AS same_relation;
SELECT * FROM vm_reg.open_orders ORDER BY id;
-- an ORDER BY
SELECT viewmgr.register('vm_reg.open_orders',
  $$SELECT id, customer, amount FROM vm_reg.orders WHERE status = 'open' AND amount > 6
    ORDER BY amount DESC$$);
SELECT vm_reg.ddl_count() > 0 AS ddl_ran,
       'vm_reg.open_orders'::regclass::oid = :open_orders_oid AS same_relation;
SELECT * FROM vm_reg.open_orders;
-- a new column at the end
SELECT viewmgr.register('vm_reg.open_orders',
  $$SELECT id, customer, amount, status FROM vm_reg.orders WHERE status = 'open' AND amount > 6
    ORDER BY amount DESC$$);
SELECT vm_reg.ddl_count() > 0 AS ddl_ran,
       'vm_reg.open_orders'::regclass::oid = :open_orders_oid AS same_relation;
SELECT * FROM vm_reg.open_orders;
-- a column dropped: CREATE OR REPLACE cannot do it, so drop and create
SELECT viewmgr.register('vm_reg.open_orders',
  $$SELECT id, customer FROM vm_reg.orders WHERE status = 'open' AND amount > 6
    ORDER BY amount DESC$$);
SELECT vm_reg.ddl_count() > 0 AS ddl_ran,
       'vm_reg.open_orders'::regclass::oid <> :open_orders_oid AS new_relation;
SELECT * FROM vm_reg.open_orders;
SELECT oid AS open_orders_oid FROM pg_class WHERE oid = 'vm_reg.open_orders'::regclass \gset
-- a column type change
SELECT viewmgr.register('vm_reg.open_orders',
  $$SELECT id::bigint AS id, customer FROM vm_reg.orders WHERE status = 'open' AND amount > 6
    ORDER BY amount DESC$$);
SELECT vm_reg.ddl_count() > 0 AS ddl_ran,
       'vm_reg.open_orders'::regclass::oid <> :open_orders_oid AS new_relation;
SELECT attname, atttypid::regtype FROM pg_attribute
 WHERE attrelid = 'vm_reg.open_orders'::regclass AND attnum > 0 ORDER BY attnum;
-- and the same text again: unchanged
SELECT viewmgr.register('vm_reg.open_orders',
  $$SELECT id::bigint AS id, customer FROM vm_reg.orders WHERE status = 'open' AND amount > 6
    ORDER BY amount DESC$$);
SELECT vm_reg.ddl_count() AS ddl_statements;

--
-- a materialized view: unchanged leaves its data alone
--
SELECT viewmgr.register('vm_reg.customer_totals',
  $$SELECT customer, sum(amount) AS total FROM vm_reg.orders GROUP BY customer$$,
  materialized => true, indexes => ARRAY['UNIQUE (customer)'], comment => 'per customer');
SELECT * FROM vm_reg.created();
SELECT * FROM vm_reg.customer_totals ORDER BY customer;
SELECT pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid = 'vm_reg.customer_totals'::regclass;
SELECT obj_description('vm_reg.customer_totals'::regclass, 'pg_class') AS comment;
SELECT oid AS totals_oid FROM pg_class WHERE oid = 'vm_reg.customer_totals'::regclass \gset
INSERT INTO vm_reg.orders VALUES (5, 'dave', 1.00, 'open');
SELECT viewmgr.register('vm_reg.customer_totals',
  $$SELECT Customer, SUM(amount) AS total FROM orders GROUP BY 1$$,
  materialized => true, indexes => ARRAY['UNIQUE (customer)'], comment => 'per customer');
SELECT vm_reg.ddl_count() AS ddl_statements;
-- still the old data: no dave
SELECT * FROM vm_reg.customer_totals ORDER BY customer;
-- a real change rebuilds it, with its index, its comment and new data
SELECT viewmgr.register('vm_reg.customer_totals',
  $$SELECT customer, sum(amount) AS total FROM vm_reg.orders WHERE status = 'open' GROUP BY customer$$,
  materialized => true, indexes => ARRAY['UNIQUE (customer)'], comment => 'per customer');
SELECT vm_reg.ddl_count() > 0 AS ddl_ran,
       'vm_reg.customer_totals'::regclass::oid <> :totals_oid AS new_relation;
SELECT * FROM vm_reg.customer_totals ORDER BY customer;
SELECT pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid = 'vm_reg.customer_totals'::regclass;
SELECT obj_description('vm_reg.customer_totals'::regclass, 'pg_class') AS comment;

--
-- apply => false: recorded, not built
--
SELECT viewmgr.register('vm_reg.later', 'SELECT 1 AS one', apply => false);
SELECT to_regclass('vm_reg.later') IS NULL AS not_built;
-- a changed declaration of a built view: the view stays as it is until sync()
SELECT viewmgr.register('vm_reg.open_orders', 'SELECT id, customer FROM vm_reg.orders',
  apply => false);
SELECT vm_reg.ddl_count() AS ddl_statements;
SELECT count(*) AS open_only FROM vm_reg.open_orders;
SELECT view_name, drift FROM viewmgr.drift() ORDER BY 1, 2;
SELECT view_name, action FROM viewmgr.sync();
SELECT count(*) AS all_orders FROM vm_reg.open_orders;
SELECT view_name, drift FROM viewmgr.drift() ORDER BY 1, 2;
SELECT vm_reg.ddl_count() > 0 AS ddl_ran;

--
-- names: quoted, mixed case, spaces, non-ASCII, unqualified
--
SELECT viewmgr.register('"Sales Report"', 'SELECT customer, amount FROM orders');
SELECT viewmgr.register('ünïcode', 'SELECT id FROM orders');
SELECT viewmgr.register('"MixedCase"', 'SELECT id FROM orders');
SELECT viewmgr.register('UnQuoted', 'SELECT id FROM orders');
SELECT viewmgr.register('vm_reg."say ""hi"""', 'SELECT 1 AS hi');
SELECT viewmgr.register('"vm Other"."dotted.name"', 'SELECT 2 AS two');
SELECT * FROM vm_reg.created();
SELECT c.relname, c.relkind FROM pg_class c
 WHERE c.relnamespace IN ('vm_reg'::regnamespace, '"vm Other"'::regnamespace)
   AND c.relkind IN ('v', 'm') ORDER BY c.relname COLLATE "C";
-- view_name is schema-qualified and quoted exactly as quote_ident quotes
SELECT s.view_name, s.kind, s.state,
       s.view_name = quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS quoted_like_quote_ident
  FROM viewmgr.status s
  JOIN pg_class c ON c.oid = s.view_name::regclass
  JOIN pg_namespace n ON n.oid = c.relnamespace
 ORDER BY s.view_name COLLATE "C";
SELECT * FROM "Sales Report" ORDER BY customer, amount;
-- the same names again: unchanged
SELECT viewmgr.register('vm_reg."Sales Report"', 'SELECT customer, amount FROM vm_reg.orders');
SELECT viewmgr.register('VM_REG.ünïcode', 'SELECT id FROM orders');
SELECT viewmgr.register('"vm_reg".ünïcode', 'select ID from ORDERS');
SELECT vm_reg.ddl_count() AS ddl_statements;
-- an unqualified name goes into the first existing schema of search_path
SET search_path = vm_no_such_schema, "vm Other", vm_reg;
SELECT viewmgr.register('first_existing', 'SELECT 1 AS x');
SELECT view_name FROM viewmgr.status WHERE view_name LIKE '%first_existing' ORDER BY 1;
SELECT to_regclass('"vm Other".first_existing') IS NOT NULL AS in_vm_other;

--
-- search_path is pinned at registration
--
SET search_path = vm_reg, public;
SELECT viewmgr.register('vm_reg.pinned', 'SELECT item FROM catalog', apply => false);
SET search_path = "vm Other", public;
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
SELECT * FROM vm_reg.pinned;
-- dropped by hand and built again by sync() under yet another search_path: same table
DROP VIEW vm_reg.pinned;
SET search_path = public;
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
SELECT * FROM vm_reg.pinned;
-- the relation it reads (not pg_get_viewdef: since PostgreSQL 16 it no longer qualifies the
-- columns of a one-relation view)
SELECT DISTINCT d.refobjid::regclass AS reads
  FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
 WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
   AND r.ev_class = 'vm_reg.pinned'::regclass AND d.refobjid <> 'vm_reg.pinned'::regclass;
-- the same text registered under another search_path means another table: a real change
SET search_path = "vm Other", public;
SELECT viewmgr.register('vm_reg.pinned', 'SELECT item FROM catalog');
SELECT * FROM vm_reg.pinned;
SET search_path = vm_reg, public;
SELECT viewmgr.register('vm_reg.pinned', 'SELECT item FROM catalog');
SELECT * FROM vm_reg.pinned;
SELECT vm_reg.ddl_count() > 0 AS ddl_ran;

--
-- view options are part of the declaration: set, changed, and taken away again
--
SELECT viewmgr.register('vm_reg.guarded', 'SELECT id, customer FROM vm_reg.orders',
  view_options => ARRAY['security_barrier=true']);
SELECT reloptions FROM pg_class WHERE oid = 'vm_reg.guarded'::regclass;
SELECT viewmgr.register('vm_reg.guarded', 'SELECT id, customer FROM vm_reg.orders',
  view_options => ARRAY['check_option = LOCAL']);
SELECT reloptions FROM pg_class WHERE oid = 'vm_reg.guarded'::regclass;
SELECT viewmgr.register('vm_reg.guarded', 'SELECT id, customer FROM vm_reg.orders',
  view_options => ARRAY['check_option=local']);
SELECT viewmgr.register('vm_reg.guarded', 'SELECT id, customer FROM vm_reg.orders');
SELECT reloptions FROM pg_class WHERE oid = 'vm_reg.guarded'::regclass;
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
SELECT vm_reg.ddl_count() > 0 AS ddl_ran;

--
-- bad input: an error, and nothing changed
--
SELECT count(*) AS managed_before FROM viewmgr.managed_view \gset
SELECT vm_reg.try($$SELECT viewmgr.register(NULL, 'SELECT 1')$$);
SELECT vm_reg.try($$SELECT viewmgr.register('', 'SELECT 1')$$);
SELECT vm_reg.try($$SELECT viewmgr.register('bad', NULL)$$);
SELECT vm_reg.try($$SELECT viewmgr.register('bad', '')$$);
SELECT vm_reg.try($$SELECT viewmgr.register('bad', '  ')$$);
SELECT vm_reg.try($$SELECT viewmgr.register(repeat('n', 64), 'SELECT 1')$$);
SELECT vm_reg.try($$SELECT viewmgr.register(repeat('ü', 32), 'SELECT 1')$$);
SELECT vm_reg.try($$SELECT viewmgr.register('bad', 'SELECT 1; SELECT 2')$$);
SELECT vm_reg.try($$SELECT viewmgr.register('bad', 'SELECT 1; DROP TABLE vm_reg.orders')$$);
SELECT vm_reg.try($$SELECT viewmgr.register('bad', 'DELETE FROM vm_reg.orders')$$);
SELECT vm_reg.try($$SELECT viewmgr.register('bad', 'CREATE TABLE vm_reg.t (a int)')$$);
SELECT vm_reg.try($$SELECT viewmgr.register('bad', 'SELECT 1 INTO vm_reg.t')$$);
SELECT vm_reg.try($$SELECT viewmgr.register('bad',
  'WITH d AS (DELETE FROM vm_reg.orders RETURNING *) SELECT * FROM d', apply => false)$$);
SELECT vm_reg.try($$SELECT viewmgr.register('bad', 'SELECT 1', depends_on => ARRAY['vm_reg.nope'])$$);
SELECT vm_reg.error_naming($$SELECT viewmgr.register('bad', 'SELECT id FROM vm_reg.orders',
  materialized => true, indexes => ARRAY['(no_such_column)'])$$, 'no_such_column');
SELECT vm_reg.try($$SELECT viewmgr.register('bad', 'SELECT id FROM vm_reg.orders',
  materialized => true, indexes => ARRAY['(id); DROP TABLE vm_reg.orders'])$$);
SELECT vm_reg.try($$SELECT viewmgr.register('vm_reg.orders', 'SELECT 1')$$);
SELECT vm_reg.error_naming($$SELECT viewmgr.register('bad',
  'SELECT no_such_column FROM vm_reg.orders')$$, 'no_such_column');
-- a syntax error reports its position in the definition
SELECT viewmgr.register('bad', 'SELECT id,
  FROM vm_reg.orders');
SELECT count(*) = :managed_before AS registry_unchanged FROM viewmgr.managed_view;
SELECT to_regclass('vm_reg.bad') IS NULL AS no_bad_view, to_regclass('vm_reg.t') IS NULL AS no_t;
SELECT count(*) AS orders FROM vm_reg.orders;
SELECT vm_reg.ddl_count() AS ddl_statements;

--
-- privileges are checked at registration, also with apply => false
--
CREATE ROLE regress_viewmgr_nocreate;
GRANT USAGE ON SCHEMA vm_reg TO regress_viewmgr_nocreate;
SET ROLE regress_viewmgr_nocreate;
SELECT vm_reg.try($$SELECT viewmgr.register('vm_reg.sneaky', 'SELECT 1', apply => false)$$);
SELECT vm_reg.try($$SELECT viewmgr.register('vm_reg.open_orders', 'SELECT 1', apply => false)$$);
RESET ROLE;
SELECT count(*) = :managed_before AS registry_unchanged FROM viewmgr.managed_view;

--
-- clean up
--
DROP EVENT TRIGGER vm_reg_log_ddl;
DROP EVENT TRIGGER vm_reg_log_drop;
DROP EXTENSION pg_viewmgr;
DROP SCHEMA vm_reg CASCADE;
DROP SCHEMA "vm Other" CASCADE;
DROP ROLE regress_viewmgr_nocreate;
