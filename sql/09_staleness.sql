--
-- 09_staleness: every way a source can change counts (SPEC section 3, "Staleness"), and
-- refresh workers never hang on their caller, carry its settings and fall back to the
-- session (issue 8). Each block: a materialized view is made fresh, a source changes in
-- one more way, and viewmgr.status must not say fresh until a refresh has caught up;
-- after refresh_all() the view holds what its query returns. Autocommit throughout, so
-- refresh_all() uses background workers.
--
SET client_min_messages = warning;
CREATE EXTENSION pg_viewmgr;
CREATE SCHEMA vm_st;
SET search_path = vm_st, public;

-- State and why, for one view.
CREATE FUNCTION vm_st.state(v text) RETURNS text LANGUAGE sql AS
  $$ SELECT state FROM viewmgr.status WHERE view_name = v $$;
-- Whether a materialized view holds exactly what its registered definition returns.
CREATE FUNCTION vm_st.holds_query(v text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  def text := (SELECT definition FROM viewmgr.managed_view WHERE schema_name || '.' || relation_name = v);
  n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((TABLE %s EXCEPT ALL %s) UNION ALL (%s EXCEPT ALL TABLE %s)) d',
                 v, def, def, v) INTO n;
  RETURN n = 0;
END $$;
CREATE FUNCTION vm_st.refreshed() RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(view_name, ', ' ORDER BY view_name), '(none)')
       FROM viewmgr.refresh_all() WHERE action = 'refreshed' $$;

-- 1. A managed plain view in between is re-registered to read another table.
CREATE TABLE t1 (id int PRIMARY KEY, v int);
CREATE TABLE t2 (id int PRIMARY KEY, v int);
INSERT INTO t1 VALUES (1, 10), (2, 20);
INSERT INTO t2 VALUES (1, 100);
SELECT viewmgr.register('vm_st.between', 'SELECT id, v FROM vm_st.t1');
SELECT viewmgr.register('vm_st.m1', 'SELECT count(*) AS n, sum(v) AS total FROM vm_st.between', materialized => true);
SELECT vm_st.refreshed();
SELECT vm_st.state('vm_st.m1') AS m1_before;
SELECT viewmgr.register('vm_st.between', 'SELECT id, v FROM vm_st.t2');
SELECT vm_st.state('vm_st.m1') AS m1_after_reregister, vm_st.holds_query('vm_st.m1') AS holds;
SELECT vm_st.refreshed();
SELECT vm_st.state('vm_st.m1') AS m1, vm_st.holds_query('vm_st.m1') AS holds;
-- ... and replaced by hand (an unmanaged view in between, too).
CREATE VIEW vm_st.hand_between AS SELECT id, v FROM vm_st.t1;
SELECT viewmgr.register('vm_st.m1b', 'SELECT count(*) AS n FROM vm_st.hand_between', materialized => true);
SELECT vm_st.refreshed();
CREATE OR REPLACE VIEW vm_st.hand_between AS SELECT id, v FROM vm_st.t1 WHERE v > 10;
SELECT vm_st.state('vm_st.m1b') AS m1b_after_replace, vm_st.holds_query('vm_st.m1b') AS holds;
SELECT vm_st.refreshed();
SELECT vm_st.holds_query('vm_st.m1b') AS holds;

-- 2. Writes with session_replication_role = replica, and while triggers are disabled.
CREATE TABLE t3 (id int PRIMARY KEY, v int);
SELECT viewmgr.register('vm_st.m2', 'SELECT count(*) AS n FROM vm_st.t3', materialized => true);
SELECT vm_st.refreshed();
SET session_replication_role = replica;
INSERT INTO t3 VALUES (1, 1);
RESET session_replication_role;
SELECT vm_st.state('vm_st.m2') AS m2_after_replica_insert, vm_st.holds_query('vm_st.m2') AS holds;
SELECT vm_st.refreshed();
ALTER TABLE t3 DISABLE TRIGGER ALL;
SELECT vm_st.state('vm_st.m2') AS m2_while_disabled;
INSERT INTO t3 VALUES (2, 2);
ALTER TABLE t3 ENABLE TRIGGER ALL;
SELECT vm_st.state('vm_st.m2') AS m2_after_enable, vm_st.holds_query('vm_st.m2') AS holds;
SELECT vm_st.refreshed();
SELECT vm_st.holds_query('vm_st.m2') AS holds;

-- 3. Partitions detached and dropped; rows into an inheritance child.
CREATE TABLE p (id int, v int) PARTITION BY RANGE (id);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10) TO (20);
INSERT INTO p VALUES (1, 1), (11, 11);
SELECT viewmgr.register('vm_st.m3', 'SELECT count(*) AS n FROM vm_st.p', materialized => true);
SELECT vm_st.refreshed();
ALTER TABLE p DETACH PARTITION p2;
SELECT vm_st.state('vm_st.m3') AS m3_after_detach, vm_st.holds_query('vm_st.m3') AS holds;
SELECT vm_st.refreshed();
DROP TABLE p1;
SELECT vm_st.state('vm_st.m3') AS m3_after_drop, vm_st.holds_query('vm_st.m3') AS holds;
SELECT vm_st.refreshed();
ALTER TABLE p ATTACH PARTITION p2 FOR VALUES FROM (10) TO (20);
SELECT vm_st.state('vm_st.m3') AS m3_after_attach, vm_st.holds_query('vm_st.m3') AS holds;
SELECT vm_st.refreshed();
CREATE TABLE parent (id int, v int);
CREATE TABLE child () INHERITS (parent);
SELECT viewmgr.register('vm_st.m4', 'SELECT count(*) AS n FROM vm_st.parent', materialized => true);
SELECT vm_st.refreshed();
INSERT INTO child VALUES (1, 1);
SELECT vm_st.state('vm_st.m4') AS m4_after_child_insert, vm_st.holds_query('vm_st.m4') AS holds;
SELECT vm_st.refreshed();

-- 4. Read through a function: always stale, and status says why. An unmanaged
-- materialized view refreshed by hand.
CREATE FUNCTION vm_st.my_rows() RETURNS SETOF vm_st.t1 LANGUAGE sql STABLE AS $$ SELECT * FROM vm_st.t1 $$;
SELECT viewmgr.register('vm_st.m5', 'SELECT count(*) AS n FROM vm_st.my_rows()', materialized => true);
SELECT vm_st.refreshed();
SELECT vm_st.state('vm_st.m5') AS m5_always;
SELECT drift, detail FROM viewmgr.drift() WHERE view_name = 'vm_st.m5';
CREATE MATERIALIZED VIEW vm_st.hand_mv AS SELECT id, v FROM vm_st.t1;
SELECT viewmgr.register('vm_st.m6', 'SELECT count(*) AS n FROM vm_st.hand_mv', materialized => true);
SELECT vm_st.refreshed();
INSERT INTO t1 VALUES (3, 30);
SELECT vm_st.refreshed();  -- m1b and m5 read t1; m6 reads hand_mv, not refreshed yet
REFRESH MATERIALIZED VIEW vm_st.hand_mv;
SELECT vm_st.state('vm_st.m6') AS m6_after_hand_refresh, vm_st.holds_query('vm_st.m6') AS holds;
SELECT vm_st.refreshed();
SELECT vm_st.holds_query('vm_st.m6') AS holds;

-- 6. refresh_all() in a transaction that holds a lock on a view it refreshes does not wait
-- for itself (statement_timeout only guards this test from hanging).
INSERT INTO t3 VALUES (3, 3);
BEGIN;
SET LOCAL statement_timeout = '30s';
SELECT count(*) FROM vm_st.m2;
SELECT view_name, action FROM viewmgr.refresh_all() ORDER BY 1;
COMMIT;
SELECT vm_st.holds_query('vm_st.m2') AS holds;

-- 8. Workers see the caller's settings: TimeZone and DateStyle as REFRESH would here.
CREATE TABLE events (id int PRIMARY KEY, at timestamptz);
INSERT INTO events VALUES (1, '2026-01-01 00:00:00+00');
SELECT viewmgr.register('vm_st.m7', 'SELECT id, at::text AS local_time, to_char(at, ''HH24:MI'') AS hhmi FROM vm_st.events',
                        materialized => true);
SET TimeZone = 'Asia/Tokyo';
SET DateStyle = 'German';
SELECT view_name, action FROM viewmgr.refresh_all(only_stale => false, parallel => 2) WHERE view_name = 'vm_st.m7';
SELECT local_time, hhmi FROM vm_st.m7;
RESET TimeZone;
RESET DateStyle;

-- 9. drift() lists stale views with the reason.
INSERT INTO t2 VALUES (2, 200);
SELECT view_name, drift, detail FROM viewmgr.drift() WHERE drift = 'stale' ORDER BY 1;

-- 9. When no refresh worker can connect (here: the session user may not connect to this
-- database any more), refresh_all() refreshes in this session instead of failing.
CREATE ROLE regress_vm_st_user LOGIN;
CREATE TABLE vm_st.owned (id int);
ALTER TABLE vm_st.owned OWNER TO regress_vm_st_user;
GRANT USAGE, CREATE ON SCHEMA vm_st TO regress_vm_st_user;
SET SESSION AUTHORIZATION regress_vm_st_user;
SELECT viewmgr.register('vm_st.m8', 'SELECT count(*) AS n FROM vm_st.owned', materialized => true);
INSERT INTO vm_st.owned VALUES (1);
RESET SESSION AUTHORIZATION;
DO $$ BEGIN EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', current_database()); END $$;
SET SESSION AUTHORIZATION regress_vm_st_user;
SELECT view_name, action, detail FROM viewmgr.refresh_all(parallel => 2) WHERE view_name = 'vm_st.m8';
RESET SESSION AUTHORIZATION;
DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO PUBLIC', current_database()); END $$;
SELECT vm_st.holds_query('vm_st.m8') AS holds, vm_st.state('vm_st.m8') AS m8;
SELECT viewmgr.unregister('vm_st.m8');
DROP TABLE vm_st.owned;
REVOKE ALL ON SCHEMA vm_st FROM regress_vm_st_user;
DROP ROLE regress_vm_st_user;
