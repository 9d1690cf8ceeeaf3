-- Incremental materialized views, further query classes (issue 12, deliverable 2; design
-- in docs/incremental.md): group keys that are immutable expressions of the table's
-- columns, and plain views in between (their expressions and WHERE clauses). Each is
-- accepted, filled, captured and refreshed group by group to exactly what the definition
-- returns; what does not qualify is refused with the reason and changes nothing.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(39);

SET LOCAL client_min_messages = warning;
CREATE SCHEMA ik;
SET LOCAL search_path = ik, public;
CREATE TABLE ik.ev (id serial PRIMARY KEY, name text, a int, ts timestamp, tz timestamptz, v numeric);
INSERT INTO ik.ev (name, a, ts, tz, v)
  SELECT (ARRAY['Ann', 'ann', 'BOB', 'bob', 'Cy'])[1 + i % 5], i, '2024-03-01'::timestamp + i * interval '7 hours',
         '2024-03-01'::timestamptz + i * interval '7 hours', i
    FROM generate_series(1, 200) i;
INSERT INTO ik.ev (name, a, ts, v) VALUES (NULL, NULL, NULL, 1), (NULL, 3, NULL, 2);
CREATE FUNCTION ik.same(tab regclass, def text) RETURNS boolean LANGUAGE plpgsql AS $f$
DECLARE missing bigint; extra bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s EXCEPT ALL SELECT * FROM %s) d', def, tab) INTO missing;
  EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL %s) d', tab, def) INTO extra;
  RETURN missing = 0 AND extra = 0;
END $f$;
CREATE FUNCTION ik.state() RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT concat_ws(E'\n',
    (SELECT string_agg(m::text, E'\n' ORDER BY m.schema_name, m.relation_name) FROM viewmgr.managed_view m),
    (SELECT string_agg(c.oid::regclass::text || ' ' || c.relkind::text, E'\n' ORDER BY c.oid::regclass::text)
       FROM pg_class c WHERE c.relnamespace IN ('ik'::regnamespace, 'viewmgr'::regnamespace)),
    (SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'ik.ev'::regclass),
    (SELECT count(*)::text FROM viewmgr.history))
$f$;

-- 1. Group keys that are expressions of the table's columns.
\set by_expr 'SELECT lower(name) AS lname, a % 10 AS a10, date_trunc(''day'', ts) AS day, count(*) AS n, sum(v) AS total FROM ik.ev GROUP BY 1, 2, 3'
SELECT is(viewmgr.register('ik.by_expr', :'by_expr', materialized => true, incremental => true),
          'created', 'group keys lower(name), a % 10 and date_trunc(''day'', ts) on timestamp');
SELECT ok(ik.same('ik.by_expr', :'by_expr'), 'filled with what the definition returns');
SELECT is((SELECT string_agg(a.attname || ': ' || col_description(a.attrelid, a.attnum), '; ' ORDER BY a.attnum)
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            WHERE c.relname LIKE 'ivm\_%\_keys' AND a.attnum > 1),
          'lname: lower(name); a10: (a % 10); day: date_trunc(''day''::text, ts)',
          'the key log has one column per key, commented with the expression it logs');
INSERT INTO ik.ev (name, a, ts, v) VALUES ('ANN', 1, '2024-03-01 05:00', 100), ('Dee', 1000, '2030-01-01', 1);
SELECT is((SELECT detail FROM viewmgr.refresh('ik.by_expr')),
          'incremental: 2 groups recomputed (1 rows removed, 2 added); no index on a group key of the source, so in one pass over it',
          'inserts: the existing group (''ANN'' is in ''ann'') and a new one');
SELECT ok(ik.same('ik.by_expr', :'by_expr'), 'inserts: what the definition returns');
UPDATE ik.ev SET name = 'Cy' WHERE id IN (1, 2);
SELECT matches((SELECT detail FROM viewmgr.refresh('ik.by_expr')), '^incremental: 4 groups recomputed',
               'an update moving rows between groups touches the old and the new ones');
SELECT ok(ik.same('ik.by_expr', :'by_expr'), 'updates: what the definition returns');
UPDATE ik.ev SET a = NULL, name = NULL, ts = NULL WHERE id = 3;
DELETE FROM ik.ev WHERE name = 'Dee';
SELECT matches((SELECT detail FROM viewmgr.refresh('ik.by_expr')), '^incremental: 3 groups recomputed \(\d+ rows removed',
               'NULL values of the expressions are groups; a group whose last row went');
SELECT ok(NOT EXISTS (SELECT FROM ik.by_expr WHERE day = '2030-01-01'), 'the emptied group is gone');
SELECT ok(ik.same('ik.by_expr', :'by_expr'), 'NULLs and deletes: what the definition returns');
TRUNCATE ik.ev;
INSERT INTO ik.ev (name, a, ts, v) VALUES ('x', 1, '2024-01-01', 1);
SELECT is((SELECT detail FROM viewmgr.refresh('ik.by_expr')), 'full recomputation (its source was truncated): 1 groups',
          'TRUNCATE: recomputed in full');
SELECT ok(ik.same('ik.by_expr', :'by_expr'), 'TRUNCATE: what the definition returns');
INSERT INTO ik.ev (name, a, ts, tz, v)
  SELECT (ARRAY['Ann', 'ann', 'BOB'])[1 + i % 3], i, '2024-03-01'::timestamp + i * interval '7 hours',
         '2024-03-01'::timestamptz + i * interval '7 hours', i
    FROM generate_series(1, 100) i;
SELECT matches((SELECT detail FROM viewmgr.refresh('ik.by_expr')), '^incremental: \d+ groups recomputed', 'a bulk insert');
SELECT ok(ik.same('ik.by_expr', :'by_expr'), 'a bulk insert: what the definition returns');
-- A key expression may be written under another name in the output, or twice.
\set cast_key 'SELECT (a / 7)::text AS bucket, upper(name) AS uname, count(*) AS n, max(v) AS top FROM ik.ev GROUP BY (a / 7)::text, upper(name)'
SELECT is(viewmgr.register('ik.cast_key', :'cast_key', materialized => true, incremental => true), 'created',
          'a cast and upper() as keys');
UPDATE ik.ev SET a = a + 7 WHERE a < 20;
SELECT matches((SELECT detail FROM viewmgr.refresh('ik.cast_key')), '^incremental: \d+ groups recomputed', 'updates of a cast key');
SELECT ok(ik.same('ik.cast_key', :'cast_key'), 'a cast key: what the definition returns');

-- 2. Plain views in between: their expressions and WHERE clauses, nested.
CREATE VIEW ik.recent AS SELECT id, name AS who, a * 2 AS a2, v, ts FROM ik.ev WHERE a > 10;
CREATE VIEW ik.recent_small AS SELECT who, a2 % 7 AS a7, v FROM ik.recent WHERE v < 90;
\set thru 'SELECT upper(who) AS uwho, a7, count(*) AS n, sum(v) AS total FROM ik.recent_small GROUP BY 1, 2'
SELECT is(viewmgr.register('ik.thru', :'thru', materialized => true, incremental => true), 'created',
          'a GROUP BY over a view over a view over the table');
SELECT ok(ik.same('ik.thru', :'thru'), 'filled with what the definition returns');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'ik.ev'::regclass AND tgname LIKE 'viewmgr_ivm_%'), 12,
          'its capture triggers are on the table the views read');
INSERT INTO ik.ev (name, a, v) VALUES ('Ann', 50, 5), ('zed', 5, 5), ('Yo', 60, 95);
UPDATE ik.ev SET v = v + 100 WHERE a = 30;
DELETE FROM ik.ev WHERE a = 40;
SELECT matches((SELECT detail FROM viewmgr.refresh('ik.thru')), '^incremental: \d+ groups recomputed',
               'writes to the table, some outside the views'' WHERE clauses');
SELECT ok(ik.same('ik.thru', :'thru'), 'through views: what the definition returns');
\set thru_col 'SELECT who, count(*) AS n, sum(a2) AS s FROM ik.recent GROUP BY who'
SELECT is(viewmgr.register('ik.thru_col', :'thru_col', materialized => true, incremental => true,
                           indexes => ARRAY['UNIQUE (who)']), 'created', 'a view column that is a column of the table');
CREATE INDEX ON ik.ev (name);
UPDATE ik.ev SET name = 'Zed' WHERE a = 55;
SELECT is((SELECT detail FROM viewmgr.refresh('ik.thru_col')), 'incremental: 2 groups recomputed (1 rows removed, 2 added)',
          'the key is the table''s column name, so its index serves each group');
SELECT ok(ik.same('ik.thru_col', :'thru_col'), 'a renamed column through a view: what the definition returns');
-- A view replaced in between (CREATE OR REPLACE VIEW): its keys now read other columns, so
-- what the capture logs is no longer what the definition groups by.
CREATE OR REPLACE VIEW ik.recent AS SELECT id, lower(name) AS who, a * 3 AS a2, v, ts FROM ik.ev WHERE a > 20;
UPDATE ik.ev SET v = v + 1 WHERE a = 70;
SELECT is((SELECT detail FROM viewmgr.refresh('ik.thru_col')),
          'full recomputation (a view it reads was replaced and its group keys read other columns now): '
            || (SELECT count(DISTINCT lower(name)) FROM ik.ev WHERE a > 20)::text || ' groups',
          'a replaced view in between: recomputed in full, and said why');
SELECT ok(ik.same('ik.thru_col', :'thru_col'), 'after the view was replaced: what the definition returns');
SELECT is((SELECT detail FROM viewmgr.refresh('ik.thru')) ~ '^full recomputation \(a view it reads was replaced', true,
          'the nested one too');
SELECT ok(ik.same('ik.thru', :'thru'), 'nested, after the view was replaced: what the definition returns');

-- 3. What does not qualify is refused with the reason, and nothing changes.
SELECT ik.state() AS before \gset
CREATE VIEW ik.grouped AS SELECT name, count(*) AS n FROM ik.ev GROUP BY name;
CREATE VIEW ik.joined AS SELECT e.name, e.v FROM ik.ev e JOIN ik.ev f ON f.id = e.id;
CREATE VIEW ik.volatile AS SELECT name, v FROM ik.ev WHERE ts < now();
CREATE VIEW ik.sub AS SELECT name, v FROM ik.ev WHERE a IN (SELECT a FROM ik.ev WHERE v > 3);
CREATE VIEW ik.over_grouped AS SELECT name FROM ik.grouped;
CREATE VIEW ik.distinct_rows AS SELECT DISTINCT name, v FROM ik.ev;
SELECT ik.state() AS before \gset
CREATE FUNCTION ik.refused(def text, reason text) RETURNS SETOF text LANGUAGE sql AS $f$
  SELECT throws_ok(format('SELECT viewmgr.register(%L, %L, materialized => true, incremental => true)', 'ik.bad', def),
                   '0A000', 'cannot maintain ik.bad incrementally: ' || reason, 'refused: ' || reason)
$f$;
SELECT ik.refused('SELECT date_trunc(''day'', tz) AS day, count(*) FROM ik.ev GROUP BY 1',
                  'it calls a volatile or stable function, whose result a recomputation may not repeat');
SELECT ik.refused('SELECT count(*) AS n FROM ik.ev GROUP BY lower(name)',
                  'the group key lower(name) is not among the output columns; output it so its groups can be found');
SELECT ik.refused('SELECT ev, count(*) FROM ik.ev GROUP BY ev', 'the group key ev.* is not an expression of the columns of ik.ev');
SELECT ik.refused('SELECT name, count(*) FROM ik.grouped GROUP BY name',
                  'it reads the view ik.grouped, which groups its rows; only plain views that select rows of one table are supported in between');
SELECT ik.refused('SELECT name, count(*) FROM ik.joined GROUP BY name',
                  'it reads the view ik.joined, which does not read exactly one relation; only plain views that select rows of one table are supported in between');
SELECT ik.refused('SELECT name, count(*) FROM ik.volatile GROUP BY name',
                  'it reads the view ik.volatile, which calls a volatile or stable function; only plain views that select rows of one table are supported in between');
SELECT ik.refused('SELECT name, count(*) FROM ik.sub GROUP BY name',
                  'it reads the view ik.sub, which has subqueries; only plain views that select rows of one table are supported in between');
SELECT ik.refused('SELECT name, count(*) FROM ik.over_grouped GROUP BY name',
                  'it reads the view ik.over_grouped, which groups its rows; only plain views that select rows of one table are supported in between');
SELECT ik.refused('SELECT name, count(*) FROM ik.distinct_rows GROUP BY name',
                  'it reads the view ik.distinct_rows, which has DISTINCT; only plain views that select rows of one table are supported in between');
SELECT is(ik.state(), :'before', 'the refusals left the registry, the catalogs and the history as they were');

SELECT * FROM finish();
ROLLBACK;
