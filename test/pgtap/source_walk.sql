-- What a materialized view reads, as pg_viewmgr knows it (src/refresh/matview_set.cpp,
-- src/core/source_closure.cpp): the facts of each relation are kept for the session and
-- must follow every change PostgreSQL makes to them, in this transaction, in a rolled-back
-- subtransaction, and in what status, refresh and sync do afterwards. Each block warms the
-- session's knowledge first (status), then changes the catalog, then checks that a write
-- to what the view now reads makes it stale (and that the new source is tracked).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(19);

SET LOCAL client_min_messages = warning;
SET LOCAL search_path = public;

CREATE SCHEMA swk;
CREATE FUNCTION swk.state(name text) RETURNS text LANGUAGE sql AS $f$
  SELECT state FROM viewmgr.status WHERE view_name = name
$f$;
CREATE FUNCTION swk.tracked(rel regclass) RETURNS boolean LANGUAGE sql AS $f$
  SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = rel AND tgname = 'viewmgr_track_changes')
$f$;
CREATE FUNCTION swk.fresh_after_refresh(name text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM * FROM viewmgr.refresh(name);
  RETURN swk.state(name);
END
$f$;

-- 1. A plain view in between is replaced by hand to read another table.
CREATE TABLE swk.t1 (id int PRIMARY KEY, v int);
CREATE TABLE swk.t2 (id int PRIMARY KEY, v int);
CREATE TABLE swk.t3 (id int PRIMARY KEY, v int);
CREATE VIEW swk.between AS SELECT id, v FROM swk.t1;
SELECT is(viewmgr.register('swk.m', 'SELECT count(*) AS n FROM swk.between', materialized => true), 'created',
          'register swk.m');
SELECT is(swk.fresh_after_refresh('swk.m'), 'fresh', 'the view over t1 (through a plain view) is fresh');
CREATE OR REPLACE VIEW swk.between AS SELECT id, v FROM swk.t2;
SELECT is(swk.fresh_after_refresh('swk.m'), 'fresh', 'refreshed after the view in between was replaced');
SELECT ok(swk.tracked('swk.t2'), 'the table the replaced view reads is tracked');
INSERT INTO swk.t2 VALUES (1, 1);
SELECT is(swk.state('swk.m'), 'stale', 'a write to the new source makes the view stale');

-- 2. A replacement rolled back leaves what was known before it.
SELECT is(swk.fresh_after_refresh('swk.m'), 'fresh', 'fresh again');
SAVEPOINT s;
CREATE OR REPLACE VIEW swk.between AS SELECT id, v FROM swk.t3;
SELECT is(swk.fresh_after_refresh('swk.m'), 'fresh', 'fresh over t3 inside the subtransaction');
ROLLBACK TO SAVEPOINT s;
SELECT is(swk.state('swk.m'), 'fresh', 'still fresh after the rollback');
INSERT INTO swk.t2 VALUES (2, 2);
SELECT is(swk.state('swk.m'), 'stale', 'after the rollback a write to t2 (read again) counts');

-- 3. A partition attached after the walk.
CREATE TABLE swk.p (id int, v int) PARTITION BY RANGE (id);
CREATE TABLE swk.p1 PARTITION OF swk.p FOR VALUES FROM (0) TO (100);
SELECT is(viewmgr.register('swk.mp', 'SELECT count(*) AS n FROM swk.p', materialized => true), 'created',
          'register swk.mp');
SELECT is(swk.fresh_after_refresh('swk.mp'), 'fresh', 'the view over a partitioned table is fresh');
CREATE TABLE swk.p2 PARTITION OF swk.p FOR VALUES FROM (100) TO (200);
SELECT is(swk.fresh_after_refresh('swk.mp'), 'fresh', 'fresh after a partition was added');
SELECT ok(swk.tracked('swk.p2'), 'the new partition is tracked');
INSERT INTO swk.p2 VALUES (150, 1);
SELECT is(swk.state('swk.mp'), 'stale', 'a write straight into the new partition makes the view stale');

-- 4. A renamed schema: the tracking trigger is put back on the table under its new name.
CREATE SCHEMA swk_src;
CREATE TABLE swk_src.t (id int);
SELECT is(viewmgr.register('swk.ms', 'SELECT count(*) AS n FROM swk_src.t', materialized => true), 'created',
          'register swk.ms');
SELECT is(swk.fresh_after_refresh('swk.ms'), 'fresh', 'the view over swk_src.t is fresh');
DROP TRIGGER viewmgr_track_changes ON swk_src.t;
SELECT is(swk.state('swk.ms'), 'stale', 'stale while its source has no tracking trigger');
ALTER SCHEMA swk_src RENAME TO swk_src2;
SELECT is(swk.fresh_after_refresh('swk.ms'), 'fresh', 'refreshed after the schema was renamed');
SELECT ok(swk.tracked('swk_src2.t'), 'the trigger is back on the renamed schema''s table');

SELECT * FROM finish();
ROLLBACK;
