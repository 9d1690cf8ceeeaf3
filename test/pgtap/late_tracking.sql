-- A source that becomes trackable after its views were built (issue 14, finding 9; SPEC §3
-- "Staleness": a change committed before or during a refresh must never be lost). The view
-- owner lacks TRIGGER on the table, so no tracking trigger can be installed and the view
-- counts as stale; a row is written while nothing tracks it; then the table's owner grants
-- TRIGGER, and the next refresh installs the trigger. On main 720bf05 that refresh_all()
-- said 'not stale', the view kept 1 row of 2 and status said 'fresh': the write made before
-- tracking started was in no log. When tracking starts, the table counts as changed once.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(10);
SET LOCAL client_min_messages = warning;
SET LOCAL check_function_bodies = off;  -- the helpers name ltr.m before it exists

CREATE ROLE ltr_app;
CREATE ROLE ltr_analyst;
CREATE SCHEMA ltr AUTHORIZATION ltr_analyst;
GRANT USAGE, CREATE ON SCHEMA ltr TO ltr_app;
SET ROLE ltr_app;
CREATE TABLE ltr.t (id int PRIMARY KEY);
INSERT INTO ltr.t VALUES (1);
GRANT SELECT ON ltr.t TO ltr_analyst;
RESET ROLE;

-- The view's state, its rows and the table's: 'stale 1 of 2'.
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
  SELECT s.state || ' ' || (SELECT n FROM ltr.m) || ' of ' || (SELECT count(*) FROM ltr.t)
    FROM viewmgr.status s WHERE s.view_name = 'ltr.m'
$$;
CREATE FUNCTION pg_temp.action() RETURNS text LANGUAGE sql AS $$
  SELECT action || coalesce(' (' || detail || ')', '') FROM viewmgr.refresh_all() WHERE view_name = 'ltr.m'
$$;
CREATE FUNCTION pg_temp.tracked() RETURNS boolean LANGUAGE sql AS $$
  SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'ltr.t'::regclass AND tgname = 'viewmgr_track_changes')
$$;

SET ROLE ltr_analyst;
SELECT viewmgr.register('ltr.m', 'SELECT count(*) AS n FROM ltr.t', materialized => true);
RESET ROLE;
SELECT ok(NOT pg_temp.tracked(), 'without TRIGGER on ltr.t, the analyst''s build cannot track it');
SELECT is(pg_temp.state(), 'stale 1 of 1', 'so the view counts as stale');

-- A write while nothing tracks the table.
SET ROLE ltr_app;
INSERT INTO ltr.t VALUES (2);
RESET ROLE;
SELECT is(pg_temp.state(), 'stale 1 of 2', 'a write to the untracked table: still stale');

-- Without the privilege, refresh_all() refreshes it each time (it cannot know).
SET ROLE ltr_analyst;
SELECT matches(pg_temp.action(), '^refreshed', 'refresh_all() refreshes a view over an untracked table');
RESET ROLE;
SELECT is(pg_temp.state(), 'stale 2 of 2', 'still stale afterwards: the table is not tracked');

-- Another write while untracked, then the table becomes trackable.
SET ROLE ltr_app;
INSERT INTO ltr.t VALUES (3);
GRANT TRIGGER ON ltr.t TO ltr_analyst;
RESET ROLE;
-- A refresh of anything installs the trigger (ensure_tracking), before any view is judged.
SET ROLE ltr_analyst;
SELECT viewmgr.register('ltr.other', 'SELECT 1 AS one', materialized => true);
SELECT * FROM viewmgr.refresh('ltr.other');
RESET ROLE;
SELECT ok(pg_temp.tracked(), 'with TRIGGER granted, a refresh installs the tracking trigger');
SELECT is(pg_temp.state(), 'stale 2 of 3',
  'the write made before tracking started is not lost: stale, never fresh with 2 of 3');

SET ROLE ltr_analyst;
SELECT matches(pg_temp.action(), '^refreshed', 'refresh_all() refreshes the view');
RESET ROLE;
SELECT is(pg_temp.state(), 'fresh 3 of 3', 'then it is fresh, with every row');
SET ROLE ltr_analyst;
SELECT is(pg_temp.action(), 'skipped (not stale)', 'and a second refresh_all() leaves it alone');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
