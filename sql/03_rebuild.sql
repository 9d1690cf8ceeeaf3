--
-- 03_rebuild: changes that CREATE OR REPLACE cannot make. The changed view and every managed
-- view downstream of it are dropped and recreated in dependency order, in one transaction;
-- a failure leaves everything as it was.
--
SET client_min_messages = warning;
CREATE SCHEMA vm_rb;
CREATE TABLE vm_rb.items (id int PRIMARY KEY, name text, price numeric(10,2), qty int);
INSERT INTO vm_rb.items VALUES
  (1, 'apple', 1.50, 10), (2, 'pear', 2.25, 0), (3, 'plum', 0.75, 7), (4, 'fig', 3.00, 2);

CREATE TABLE vm_rb.ddl_log (n serial, command text, object text);
CREATE FUNCTION vm_rb.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vm_rb.ddl_log (command, object)
  SELECT DISTINCT command_tag, object_identity FROM pg_event_trigger_ddl_commands()
   WHERE schema_name IN ('vm_rb') AND object_identity IS NOT NULL;
END $$;
CREATE FUNCTION vm_rb.log_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vm_rb.ddl_log (command, object)
  SELECT 'DROP ' || upper(object_type), object_identity FROM pg_event_trigger_dropped_objects()
   WHERE schema_name IN ('vm_rb')
     AND (original OR object_type IN ('view', 'materialized view'));
END $$;
-- How many DDL statements ran since the last look; clears the log.
CREATE FUNCTION vm_rb.ddl_count() RETURNS bigint LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM vm_rb.ddl_log RETURNING 1) SELECT count(*) FROM taken
$$;
-- The views and materialized views created since the last look, in order; clears the log.
CREATE FUNCTION vm_rb.created() RETURNS TABLE (n bigint, command text, object text)
LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM vm_rb.ddl_log RETURNING *)
  SELECT row_number() OVER (ORDER BY taken.n), command, object FROM taken
   WHERE command IN ('CREATE VIEW', 'CREATE MATERIALIZED VIEW') ORDER BY taken.n
$$;
-- The views and materialized views dropped since the last look, by name; clears the log.
CREATE FUNCTION vm_rb.dropped() RETURNS TABLE (command text, object text)
LANGUAGE sql AS $$
  WITH taken AS (DELETE FROM vm_rb.ddl_log RETURNING *)
  SELECT DISTINCT command, object FROM taken
   WHERE command IN ('DROP VIEW', 'DROP MATERIALIZED VIEW') ORDER BY object, command
$$;
-- SQLSTATE of an error and whether its message mentions `word` (else the message), or 'ok'.
CREATE FUNCTION vm_rb.error_naming(sql text, word text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || CASE WHEN strpos(SQLERRM, word) > 0 THEN ', mentions ' || word
                          ELSE ': ' || SQLERRM END;
END $$;
-- Views and materialized views of the schema with their OIDs and definitions, to prove that
-- nothing changed.
CREATE FUNCTION vm_rb.snapshot() RETURNS TABLE (relname name, relkind "char", oid oid, def text)
LANGUAGE sql AS $$
  SELECT c.relname, c.relkind, c.oid, pg_get_viewdef(c.oid)
    FROM pg_class c WHERE c.relnamespace = 'vm_rb'::regnamespace AND c.relkind IN ('v', 'm')
$$;

CREATE EXTENSION pg_viewmgr;
-- What the registry says about each view, without its timestamps.
CREATE FUNCTION vm_rb.registry() RETURNS SETOF jsonb LANGUAGE sql AS $$
  SELECT (SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(m))
           WHERE key NOT LIKE '%\_at')
    FROM viewmgr.managed_view m
$$;

CREATE EVENT TRIGGER vm_rb_log_ddl ON ddl_command_end EXECUTE FUNCTION vm_rb.log_ddl();
CREATE EVENT TRIGGER vm_rb_log_drop ON sql_drop EXECUTE FUNCTION vm_rb.log_drop();
SET search_path = vm_rb, public;

-- base -> priced -> totals (materialized) -> report, and base -> in_stock;
-- on_items reads the table only and is not downstream of base.
SELECT viewmgr.register('base', 'SELECT id, name, price, qty FROM items');
SELECT viewmgr.register('priced', 'SELECT id, name, price * qty AS stock_value FROM base');
SELECT viewmgr.register('totals',
  'SELECT count(*) AS items, sum(stock_value) AS stock_value FROM priced',
  materialized => true, indexes => ARRAY['(items)']);
SELECT viewmgr.register('report', 'SELECT items, stock_value FROM totals');
SELECT viewmgr.register('in_stock', 'SELECT id, name FROM base WHERE qty > 0');
SELECT viewmgr.register('on_items', 'SELECT id FROM items');
SELECT step, level, view_name, depends_on FROM viewmgr.dependency_order();
SELECT * FROM vm_rb.created();
SELECT * FROM report;

--
-- an incompatible change (a column changes type), planned first
--
SELECT viewmgr.register('base', 'SELECT id, name, price::float8 AS price, qty FROM items',
  apply => false);
SELECT view_name, action, reason FROM viewmgr.sync(dry_run => true);
SELECT vm_rb.ddl_count() AS ddl_statements;

-- applied inside a transaction that is rolled back: everything is as before
CREATE TEMP TABLE before AS SELECT * FROM vm_rb.snapshot();
CREATE TEMP TABLE registry_before AS SELECT * FROM vm_rb.registry();
BEGIN;
SELECT view_name, action FROM viewmgr.sync();
SELECT s.relname, s.oid <> b.oid AS new_relation
  FROM vm_rb.snapshot() s JOIN before b USING (relname) ORDER BY 1;
SELECT attname, atttypid::regtype FROM pg_attribute
 WHERE attrelid = 'vm_rb.base'::regclass AND attnum > 0 ORDER BY attnum;
ROLLBACK;
SELECT (SELECT count(*) FROM vm_rb.snapshot() s NATURAL JOIN before b) AS same_views,
       (SELECT count(*) FROM before) AS views;
SELECT count(*) AS registry_rows_changed FROM (
  SELECT * FROM vm_rb.registry() EXCEPT SELECT * FROM registry_before) changed;

-- applied for real: the same views are rebuilt, on_items is left alone
SELECT view_name, action FROM viewmgr.sync();
SELECT vm_rb.ddl_count() > 0 AS ddl_ran;
SELECT s.relname, s.oid <> b.oid AS new_relation
  FROM vm_rb.snapshot() s JOIN before b USING (relname) ORDER BY 1;
SELECT * FROM report;
SELECT * FROM in_stock ORDER BY id;
SELECT attname, atttypid::regtype FROM pg_attribute
 WHERE attrelid = 'vm_rb.base'::regclass AND attnum > 0 ORDER BY attnum;
SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'vm_rb.totals'::regclass;
SELECT relispopulated FROM pg_class WHERE oid = 'vm_rb.totals'::regclass;
SELECT view_name, kind, state FROM viewmgr.status ORDER BY 1;
SELECT view_name, drift FROM viewmgr.drift();
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';

-- register() with apply => true does the same and reports what happened to the view itself
SELECT viewmgr.register('base', 'SELECT id, name, price, qty::bigint AS qty FROM items');
SELECT vm_rb.ddl_count() > 0 AS ddl_ran;
SELECT * FROM report;

--
-- a failure part-way leaves the database and the registry exactly as they were
--
DROP TABLE before;
DROP TABLE registry_before;
CREATE TEMP TABLE before AS SELECT * FROM vm_rb.snapshot();
CREATE TEMP TABLE registry_before AS SELECT * FROM vm_rb.registry();
-- priced reads base.name, which the new definition no longer has
SELECT vm_rb.error_naming($$SELECT viewmgr.register('base',
  'SELECT id, price::numeric(12,2) AS price, qty FROM items')$$, 'name');
-- the same through sync()
SELECT viewmgr.register('base', 'SELECT id, price::numeric(12,2) AS price, qty FROM items',
  apply => false);
SELECT vm_rb.error_naming('SELECT * FROM viewmgr.sync()', 'name');
SELECT (SELECT count(*) FROM vm_rb.snapshot() s NATURAL JOIN before b) AS same_views,
       (SELECT count(*) FROM before) AS views;
SELECT vm_rb.ddl_count() AS ddl_statements;
-- put the declaration back: nothing to do
SELECT viewmgr.register('base', 'SELECT id, name, price, qty::bigint AS qty FROM items');
SELECT count(*) AS registry_rows_changed FROM (
  SELECT * FROM vm_rb.registry() EXCEPT SELECT * FROM registry_before) changed;
SELECT view_name, drift FROM viewmgr.drift();

--
-- a view that becomes a materialized view, and back
--
SELECT viewmgr.register('priced', 'SELECT id, name, price * qty AS stock_value FROM base',
  materialized => true, apply => false);
SELECT view_name, action, reason FROM viewmgr.sync(dry_run => true) WHERE action <> 'unchanged';
SELECT view_name, action FROM viewmgr.sync() WHERE action <> 'unchanged';
SELECT vm_rb.ddl_count() > 0 AS ddl_ran;
SELECT view_name, kind, state FROM viewmgr.status ORDER BY 1;
SELECT relname, relkind FROM vm_rb.snapshot() ORDER BY 1;
SELECT * FROM report;
SELECT viewmgr.register('priced', 'SELECT id, name, price * qty AS stock_value FROM base');
SELECT vm_rb.ddl_count() > 0 AS ddl_ran;
SELECT view_name, kind, state FROM viewmgr.status ORDER BY 1;
SELECT * FROM report;

--
-- an unmanaged view that could not survive the rebuild: an error naming it, nothing changed
--
CREATE VIEW vm_rb.hand_made AS SELECT id, name FROM vm_rb.in_stock;
DROP TABLE before;
CREATE TEMP TABLE before AS SELECT * FROM vm_rb.snapshot();
SELECT vm_rb.ddl_count() AS hand_made_ddl;
-- in_stock loses its column "name"
SELECT vm_rb.error_naming($$SELECT viewmgr.register('in_stock',
  'SELECT id FROM base WHERE qty > 0')$$, 'hand_made');
SELECT viewmgr.register('in_stock', 'SELECT id FROM base WHERE qty > 0', apply => false);
SELECT vm_rb.error_naming('SELECT * FROM viewmgr.sync()', 'hand_made');
SELECT (SELECT count(*) FROM vm_rb.snapshot() s NATURAL JOIN before b) AS same_views,
       (SELECT count(*) FROM before) AS views;
SELECT * FROM vm_rb.hand_made ORDER BY id;
SELECT vm_rb.ddl_count() AS ddl_statements;
SELECT viewmgr.register('in_stock', 'SELECT id, name FROM base WHERE qty > 0');

--
-- clean up
--
DROP EVENT TRIGGER vm_rb_log_ddl;
DROP EVENT TRIGGER vm_rb_log_drop;
DROP EXTENSION pg_viewmgr;
DROP SCHEMA vm_rb CASCADE;
