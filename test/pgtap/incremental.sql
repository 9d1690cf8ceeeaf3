-- Incremental materialized views (issue 12, SPEC §3; design in docs/incremental.md):
-- registration accepted and refused with the reason (registry and catalogs left as they
-- were), the table only pg_viewmgr may write, and after each kind of write to the source a
-- refresh that recomputes only the affected groups and leaves exactly what the definition
-- returns (EXCEPT ALL both ways), with status.refresh_mode and the history detail.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(67);

SET LOCAL client_min_messages = warning;
CREATE SCHEMA inc;
SET LOCAL search_path = inc, public;
CREATE TABLE inc.sales (id serial PRIMARY KEY, region text, kind int, amount numeric, ok boolean DEFAULT true);
CREATE INDEX ON inc.sales (region);
INSERT INTO inc.sales (region, kind, amount)
  SELECT 'r' || (i % 10), i % 3, i FROM generate_series(1, 200) i;
INSERT INTO inc.sales (region, kind, amount) VALUES (NULL, 0, 5), (NULL, NULL, 6);
CREATE TABLE inc.other (id int PRIMARY KEY, region text);

-- The definitions compared with the tables they keep.
CREATE VIEW inc.by_region_def AS
  SELECT region, count(*) AS n, sum(amount) AS total, avg(amount) AS mean, min(amount) AS low,
         max(amount) AS high, bool_and(ok) AS all_ok, count(DISTINCT kind) AS kinds
    FROM inc.sales GROUP BY region;
CREATE VIEW inc.by_pair_def AS
  SELECT kind, region, count(*) AS n, sum(amount) FILTER (WHERE ok) AS ok_total
    FROM inc.sales WHERE amount > 3 GROUP BY kind, region;
-- True when the table holds exactly the definition's rows (EXCEPT ALL both ways is empty).
CREATE FUNCTION inc.same(tab regclass, def regclass) RETURNS boolean LANGUAGE plpgsql AS $f$
DECLARE missing bigint; extra bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s) d', def, tab) INTO missing;
  EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s) d', tab, def) INTO extra;
  RETURN missing = 0 AND extra = 0;
END $f$;
CREATE FUNCTION inc.last_detail(v text) RETURNS text LANGUAGE sql AS $f$
  SELECT detail FROM viewmgr.history WHERE view_name = v AND operation = 'refresh' ORDER BY id DESC LIMIT 1
$f$;
-- Everything a refused registration must leave alone.
CREATE FUNCTION inc.state() RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT concat_ws(E'\n',
    (SELECT string_agg(m::text, E'\n' ORDER BY m.schema_name, m.relation_name) FROM viewmgr.managed_view m),
    (SELECT string_agg(c.oid::regclass::text || ' ' || c.relkind::text, E'\n' ORDER BY c.oid::regclass::text)
       FROM pg_class c WHERE c.relnamespace IN ('inc'::regnamespace, 'viewmgr'::regnamespace)),
    (SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'inc.sales'::regclass),
    (SELECT count(*)::text FROM viewmgr.history))
$f$;

-- 1. Registration.
SELECT is(viewmgr.register('inc.by_region', 'SELECT region, count(*) AS n, sum(amount) AS total, avg(amount) AS mean,
            min(amount) AS low, max(amount) AS high, bool_and(ok) AS all_ok, count(DISTINCT kind) AS kinds
            FROM inc.sales GROUP BY region',
          materialized => true, incremental => true, indexes => ARRAY['UNIQUE (region)'],
          comment => 'sales per region'),
          'created', 'an incremental view over one table is created');
SELECT is(viewmgr.register('inc.by_pair', 'SELECT kind, region, count(*) AS n, sum(amount) FILTER (WHERE ok) AS ok_total
            FROM inc.sales WHERE amount > 3 GROUP BY kind, region',
          materialized => true, incremental => true),
          'created', 'two group keys, a WHERE clause and FILTER');
SELECT is(viewmgr.register('inc.full_mv', 'SELECT region, count(*) AS n FROM inc.sales GROUP BY region', materialized => true),
          'created', 'a materialized view refreshed in full, for comparison');
SELECT is(viewmgr.register('inc.plain', 'SELECT 1 AS one'), 'created', 'a plain view');
SELECT is((SELECT relkind::text FROM pg_class WHERE oid = 'inc.by_region'::regclass), 'r',
          'its rows live in a table under its name');
SELECT ok(inc.same('inc.by_region', 'inc.by_region_def'), 'filled with what the definition returns');
SELECT ok(inc.same('inc.by_pair', 'inc.by_pair_def'), 'the second one too');
SELECT results_eq($$SELECT view_name, kind, refresh_mode FROM viewmgr.status ORDER BY 1$$,
                  $$VALUES ('inc.by_pair', 'materialized view', 'incremental'),
                           ('inc.by_region', 'materialized view', 'incremental'),
                           ('inc.full_mv', 'materialized view', 'full'),
                           ('inc.plain', 'view', NULL)$$,
                  'status.refresh_mode: incremental, full, NULL for a view');
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'inc.by_region'), 'fresh', 'fresh after its build');
SELECT is((SELECT count(*)::int FROM viewmgr.drift()), 0, 'no drift');
SELECT is((SELECT string_agg(action, ',') FROM viewmgr.sync()), 'unchanged,unchanged,unchanged,unchanged',
          'a second sync changes nothing');
SELECT is(obj_description('inc.by_region'::regclass, 'pg_class'), 'sales per region', 'the declared comment');
SELECT ok(EXISTS (SELECT FROM pg_index WHERE indrelid = 'inc.by_region'::regclass AND indisunique),
          'the declared index');

-- 2. What does not qualify is refused with the reason, and nothing changes.
SELECT inc.state() AS before \gset
CREATE FUNCTION inc.refused(def text, reason text) RETURNS SETOF text LANGUAGE sql AS $f$
  SELECT throws_ok(format('SELECT viewmgr.register(%L, %L, materialized => true, incremental => true)', 'inc.bad', def),
                   '0A000', 'cannot maintain inc.bad incrementally: ' || reason, 'refused: ' || reason)
$f$;
SELECT inc.refused('SELECT count(*) AS n FROM inc.sales', 'it has no GROUP BY');
SELECT inc.refused('SELECT region, count(*) FROM inc.sales GROUP BY region HAVING count(*) > 1', 'HAVING is not supported yet');
SELECT inc.refused('SELECT s.region, count(*) FROM inc.sales s JOIN inc.other o ON o.id = s.id GROUP BY s.region',
                   'it reads a join; only a GROUP BY over one table is supported yet');
SELECT inc.refused('SELECT region, count(*) FROM inc.by_region_def GROUP BY region',
                   'it reads the view inc.by_region_def, which groups its rows; only plain views that select rows of one table are supported in between');
SELECT inc.refused('SELECT ctid, count(*) FROM inc.sales GROUP BY ctid',
                   'the group key ctid is not an expression of the columns of inc.sales');
SELECT inc.refused('SELECT count(*) AS n FROM inc.sales GROUP BY region',
                   'the group key region is not among the output columns; output it so its groups can be found');
SELECT inc.refused('SELECT region, string_agg(kind::text, '','' ORDER BY kind) FROM inc.sales GROUP BY region',
                   'the aggregate string_agg is not supported yet (count, sum, avg, min, max, bool_and, bool_or, every, bit_and and bit_or are)');
SELECT inc.refused('SELECT region, count(*), now() AS at FROM inc.sales GROUP BY region',
                   'it calls a volatile or stable function, whose result a recomputation may not repeat');
SELECT inc.refused('SELECT region, count(*), rank() OVER (ORDER BY count(*)) FROM inc.sales GROUP BY region',
                   'window functions are not supported');
SELECT inc.refused('SELECT region, count(*) FROM inc.sales GROUP BY region LIMIT 3', 'LIMIT and OFFSET are not supported');
SELECT throws_ok($$SELECT viewmgr.register('inc.bad', 'SELECT region, count(*) FROM inc.sales GROUP BY region', incremental => true)$$,
                 '22023', 'incremental => true applies to materialized views only', 'incremental needs materialized');
SELECT throws_ok($$SELECT * FROM viewmgr.declare('[{"view_name": "inc.bad", "definition": "SELECT region FROM inc.sales", "materialized": true, "incremental": true}]')$$,
                 '0A000', 'cannot maintain inc.bad incrementally: it has no GROUP BY', 'declare refuses it the same way');
-- An owner who may not put triggers on the source cannot keep a view of it incrementally.
CREATE ROLE inc_owner;
GRANT USAGE, CREATE ON SCHEMA inc TO inc_owner;
GRANT SELECT ON inc.sales TO inc_owner;
SET LOCAL ROLE inc_owner;
SELECT throws_ok($$SELECT viewmgr.register('inc.bad', 'SELECT region, count(*) AS n FROM inc.sales GROUP BY region',
                                           materialized => true, incremental => true)$$,
                 '42501', 'permission denied to maintain inc.bad incrementally: role "inc_owner" has no TRIGGER privilege on inc.sales',
                 'refused without the TRIGGER privilege on the source');
RESET ROLE;
SELECT is(inc.state(), :'before', 'the refusals left the registry, the catalogs and the history as they were');

-- 3. Only pg_viewmgr writes the table.
SELECT throws_ok($$INSERT INTO inc.by_region (region, n) VALUES ('x', 1)$$, '42809',
                 'cannot change incremental materialized view "by_region"', 'INSERT refused');
SELECT throws_ok($$UPDATE inc.by_region SET n = 0$$, '42809', NULL, 'UPDATE refused');
SELECT throws_ok($$DELETE FROM inc.by_region$$, '42809', NULL, 'DELETE refused');
SELECT throws_ok($$TRUNCATE inc.by_region$$, '42809', NULL, 'TRUNCATE refused');
SET LOCAL session_replication_role = replica;
SELECT throws_ok($$DELETE FROM inc.by_region$$, '42809', NULL, 'refused in session_replication_role replica too');
RESET session_replication_role;
SELECT ok(inc.same('inc.by_region', 'inc.by_region_def'), 'the table is untouched');

-- 4. Each kind of write, then a refresh of just the affected groups.
INSERT INTO inc.sales (region, kind, amount) VALUES ('r1', 1, 1000), ('new', 2, 7);
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'inc.by_region'), 'stale', 'a write makes it stale');
SELECT is((SELECT detail FROM viewmgr.refresh('inc.by_region')),
          'incremental: 2 groups recomputed (1 rows removed, 2 added)', 'an existing group and a new one');
SELECT ok(inc.same('inc.by_region', 'inc.by_region_def'), 'inserts: what the definition returns');

INSERT INTO inc.sales (region, kind, amount) VALUES (NULL, 1, 9);
SELECT is((SELECT detail FROM viewmgr.refresh('inc.by_region')),
          'incremental: 1 groups recomputed (1 rows removed, 1 added)', 'the NULL group is a group');
SELECT ok(inc.same('inc.by_region', 'inc.by_region_def'), 'NULL keys: what the definition returns');

UPDATE inc.sales SET region = 'r2' WHERE region = 'r3' AND kind = 0;
UPDATE inc.sales SET ok = false WHERE id = 5;
SELECT is((SELECT detail FROM viewmgr.refresh('inc.by_region')),
          'incremental: 3 groups recomputed (3 rows removed, 3 added)', 'rows moved from r3 to r2, one changed in r5');
SELECT ok(inc.same('inc.by_region', 'inc.by_region_def'), 'updates moving rows between groups: what the definition returns');

DELETE FROM inc.sales WHERE region = 'new';
SELECT is((SELECT detail FROM viewmgr.refresh('inc.by_region')),
          'incremental: 1 groups recomputed (1 rows removed, 0 added)', 'a group whose last row went');
SELECT ok(NOT EXISTS (SELECT FROM inc.by_region WHERE region = 'new'), 'its row is gone');
SELECT ok(inc.same('inc.by_region', 'inc.by_region_def'), 'deletes: what the definition returns');

SAVEPOINT before_write;
INSERT INTO inc.sales (region, kind, amount) VALUES ('rolled_back', 1, 1);
ROLLBACK TO SAVEPOINT before_write;
INSERT INTO inc.sales (region, kind, amount) VALUES ('kept', 1, 1);
SAVEPOINT inner_write;
UPDATE inc.sales SET region = 'rolled_back_too' WHERE region = 'r4';
ROLLBACK TO SAVEPOINT inner_write;
SELECT is((SELECT detail FROM viewmgr.refresh('inc.by_region')),
          'incremental: 1 groups recomputed (0 rows removed, 1 added)',
          'rolled-back subtransactions log nothing: only the kept group');
SELECT ok(inc.same('inc.by_region', 'inc.by_region_def'), 'rollbacks: what the definition returns');
SELECT is((SELECT detail FROM viewmgr.refresh('inc.by_region')), 'incremental: no groups affected',
          'nothing logged since: nothing recomputed');

SELECT matches((SELECT detail FROM viewmgr.refresh('inc.by_pair')), '^incremental: \d+ groups recomputed',
               'the two-key view: only the affected groups');
SELECT ok(inc.same('inc.by_pair', 'inc.by_pair_def'), 'two group keys: what the definition returns');

-- Writes in session_replication_role = replica (logical replication's apply, bulk loads)
-- and by COPY are captured too.
SET LOCAL session_replication_role = replica;
INSERT INTO inc.sales (region, kind, amount) VALUES ('replicated', 1, 3);
RESET session_replication_role;
COPY inc.sales (region, kind, amount) FROM PROGRAM 'printf "copied\t2\t4\nr1\t2\t5\n"';
SELECT is((SELECT detail FROM viewmgr.refresh('inc.by_region')),
          'incremental: 3 groups recomputed (1 rows removed, 3 added)', 'a replica-mode insert and a COPY are captured');
SELECT ok(inc.same('inc.by_region', 'inc.by_region_def'), 'replica mode and COPY: what the definition returns');

-- Many groups at once: recomputed in full, said in the detail.
INSERT INTO inc.sales (region, kind, amount) SELECT 'g' || i, 1, i FROM generate_series(1, 60) i;
SELECT is((SELECT detail FROM viewmgr.refresh('inc.by_region')), 'incremental: 60 groups recomputed (0 rows removed, 60 added)',
          'under 50 stored groups: group by group');
UPDATE inc.sales SET amount = amount + 1 WHERE region LIKE 'g%';
SELECT is((SELECT detail FROM viewmgr.refresh('inc.by_region')),
          'full recomputation (60 of 74 groups affected): 74 groups', 'a large share of the groups: recomputed in full');
SELECT ok(inc.same('inc.by_region', 'inc.by_region_def'), 'after a full recomputation: what the definition returns');

TRUNCATE inc.sales;
INSERT INTO inc.sales (region, kind, amount) VALUES ('after', 1, 1);
SELECT is((SELECT detail FROM viewmgr.refresh('inc.by_region')),
          'full recomputation (its source was truncated): 1 groups', 'TRUNCATE: recomputed in full');
SELECT ok(inc.same('inc.by_region', 'inc.by_region_def'), 'TRUNCATE: what the definition returns');
SELECT is(inc.last_detail('inc.by_region'), 'full recomputation (its source was truncated): 1 groups',
          'the history detail says so');

-- 5. refresh_all: dependency order and staleness, as for every materialized view.
SELECT is(viewmgr.register('inc.downstream', 'SELECT sum(n) AS n FROM inc.by_region', materialized => true),
          'created', 'a materialized view reading the incremental one');
INSERT INTO inc.sales (region, kind, amount) VALUES ('after', 2, 2);
SELECT results_eq($$SELECT view_name, action FROM viewmgr.refresh_all() ORDER BY 1$$,
                  $$VALUES ('inc.by_pair', 'refreshed'), ('inc.by_region', 'refreshed'), ('inc.downstream', 'refreshed'),
                           ('inc.full_mv', 'refreshed')$$,
                  'refresh_all refreshes the incremental views and what reads them');
SELECT is((SELECT n FROM inc.downstream), 2::numeric, 'the reader saw the refreshed incremental view');
SELECT is((SELECT count(*)::int FROM viewmgr.refresh_all() WHERE action = 'refreshed'), 0,
          'a second refresh_all refreshes nothing');

-- 6. A new definition rebuilds the table, keeping its grants and comment; switching
-- incremental off is a kind change.
GRANT SELECT ON inc.by_region TO PUBLIC;
SELECT is(viewmgr.register('inc.by_region', 'SELECT region, count(*) AS n, max(amount) AS high FROM inc.sales GROUP BY region',
          materialized => true, incremental => true, indexes => ARRAY['UNIQUE (region)'], comment => 'sales per region'),
          'rebuilt', 'a changed definition rebuilds it');
SELECT ok(has_table_privilege('public', 'inc.by_region', 'SELECT'), 'the grant survives the rebuild');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'inc.sales'::regclass AND tgname LIKE 'viewmgr_ivm_%'), 8,
          'two views, four capture triggers each, none left over from the old table');
SELECT is(viewmgr.register('inc.by_pair', 'SELECT kind, region, count(*) AS n, sum(amount) FILTER (WHERE ok) AS ok_total
            FROM inc.sales WHERE amount > 3 GROUP BY kind, region', materialized => true, incremental => false),
          'rebuilt', 'incremental => false: rebuilt as a materialized view');
SELECT is((SELECT relkind::text FROM pg_class WHERE oid = 'inc.by_pair'::regclass), 'm', 'now a real materialized view');

-- 7. unregister takes the capture objects along.
SELECT viewmgr.unregister('inc.downstream');
SELECT viewmgr.unregister('inc.by_region');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'inc.sales'::regclass AND tgname LIKE 'viewmgr_ivm_%'), 0,
          'no capture trigger is left on the source');
SELECT is((SELECT count(*)::int FROM pg_class WHERE relnamespace = 'viewmgr'::regnamespace AND relname LIKE 'ivm\_%'), 0,
          'no definition view or key log is left');

SELECT * FROM finish();
ROLLBACK;
