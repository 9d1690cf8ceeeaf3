-- Issue 14, findings 7 and 10 (a DBA's afternoon): small inputs that used to be accepted
-- and did something surprising, hints that did not apply, and a state that said the wrong
-- thing. Each refusal has its SQLSTATE, a message naming the culprit, and leaves the
-- registry and the catalogs as they were.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(77);

SET LOCAL client_min_messages = warning;
SET LOCAL search_path = public;

CREATE SCHEMA dbaf;

-- Every registry and history row, and every relation outside the system schemas.
-- SECURITY DEFINER: it is also taken while a test runs as an unprivileged role.
CREATE FUNCTION dbaf.state() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER AS $f$
  SELECT concat_ws(E'\n',
    (SELECT string_agg(m::text, E'\n' ORDER BY m.schema_name, m.relation_name)
       FROM viewmgr.managed_view m),
    (SELECT string_agg(concat_ws(' | ', h.view_name, h.operation, h.outcome, h.detail), E'\n'
                       ORDER BY h.view_name, h.started_at, h.operation)
       FROM viewmgr.history h),
    (SELECT string_agg(concat_ws(' | ', c.oid::regclass::text, c.relkind, c.xmin, c.relowner::regrole,
                                 CASE WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid) END),
                       E'\n' ORDER BY c.oid::regclass::text)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        AND n.nspname !~ '^pg_(temp|toast_temp)_'));
$f$;

-- {sqlstate, message, detail, hint} of the error SQL raises; {00000} when none.
CREATE FUNCTION dbaf.error_of(sql text) RETURNS text[] LANGUAGE plpgsql AS $f$
DECLARE
  st text; msg text; det text; hnt text;
BEGIN
  EXECUTE sql;
  RETURN ARRAY['00000', NULL, NULL, NULL];
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
  RETURN ARRAY[st, msg, det, hnt];
END
$f$;

-- Three tests: the SQLSTATE, message + detail + hint matching PATTERN, nothing changed.
CREATE FUNCTION dbaf.refused(sql text, errcode text, pattern text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
  before text := dbaf.state();
  e text[];
BEGIN
  e := dbaf.error_of(sql);
  RETURN NEXT is(e[1], errcode, description || ': SQLSTATE');
  RETURN NEXT matches(concat_ws(' | ', e[2], e[3], e[4]), pattern, description || ': message');
  RETURN NEXT is(dbaf.state(), before, description || ': nothing changed');
END
$f$;

CREATE TABLE dbaf.t (id int PRIMARY KEY, v int);
INSERT INTO dbaf.t VALUES (1, 10), (2, 20);
SELECT viewmgr.register('dbaf.m', 'SELECT id, v FROM dbaf.t', materialized => true);
SELECT viewmgr.refresh('dbaf.m');

-- ---------------------------------------------------------------------------------------
-- purge_history with a negative age deleted everything (it meant "older than the future").

SELECT dbaf.refused($$SELECT viewmgr.purge_history('-1 day')$$, '22023',
  'older_than must not be negative: "-1 days"', 'purge_history(''-1 day'')');
SELECT dbaf.refused($$SELECT viewmgr.purge_history('1 day ago')$$, '22023',
  'must not be negative', 'purge_history(''1 day ago'') is negative too');
SELECT is(viewmgr.purge_history('1000 years'), 0::bigint, 'a positive age still purges (nothing that old)');
SELECT ok((SELECT count(*) FROM viewmgr.history) > 0, 'and the history is still there');

-- ---------------------------------------------------------------------------------------
-- schedule(job_name => '') made a nameless pg_cron job.

SELECT dbaf.refused($$SELECT viewmgr.schedule('*/5 * * * *', job_name => '')$$, '22023',
  'job_name must not be empty', 'schedule with an empty job name');
SELECT dbaf.refused($$SELECT viewmgr.schedule('*/5 * * * *', job_name => '   ')$$, '22023',
  'job_name must not be empty', 'schedule with a blank job name');
SELECT dbaf.refused($$SELECT viewmgr.unschedule(job_name => '')$$, '22023',
  'job_name must not be empty', 'unschedule with an empty job name');

-- A role that may not use pg_cron was told "permission denied for schema cron" and nothing
-- more: now it is told which role, what it lacks and what to grant.
CREATE ROLE dbaf_no_cron;
GRANT USAGE ON SCHEMA dbaf TO dbaf_no_cron;
SET LOCAL ROLE dbaf_no_cron;
SELECT dbaf.refused($$SELECT viewmgr.schedule('*/5 * * * *')$$, '42501',
  'permission denied to schedule with pg_cron: role "dbaf_no_cron" may not use pg_cron''s functions \| '
  '.*permission denied.*cron.*\| .*GRANT USAGE ON SCHEMA cron TO dbaf_no_cron; '
  'GRANT EXECUTE ON FUNCTION cron.schedule_in_database TO dbaf_no_cron',
  'schedule by a role without pg_cron rights');
RESET ROLE;

-- ---------------------------------------------------------------------------------------
-- register('viewmgr.evil', ...) was accepted, and then DROP EXTENSION failed.

SELECT dbaf.refused($$SELECT viewmgr.register('viewmgr.evil', 'SELECT 1 AS a')$$, '42939',
  'cannot manage viewmgr.evil: schema viewmgr belongs to the extension pg_viewmgr',
  'register in the extension''s own schema');
SELECT dbaf.refused($$SELECT viewmgr.register('viewmgr.evil', 'SELECT 1 AS a', apply => false)$$, '42939',
  'schema viewmgr belongs to the extension pg_viewmgr', 'register(apply => false) there too');
SELECT dbaf.refused($$SELECT * FROM viewmgr.declare('[{"view_name": "viewmgr.evil", "definition": "SELECT 1 AS a"}]')$$,
  '42939', 'schema viewmgr belongs to the extension pg_viewmgr', 'declare there too');

-- ---------------------------------------------------------------------------------------
-- indexes => ARRAY['(id)', '(id)'] built two identical indexes.

SELECT dbaf.refused($$SELECT viewmgr.register('dbaf.m2', 'SELECT id, v FROM dbaf.t', materialized => true,
                                             indexes => ARRAY['(id)', '(id)'])$$, '42710',
  'indexes lists the same index twice: "\(id\)" and "\(id\)"', 'the same index twice');
SELECT dbaf.refused($$SELECT viewmgr.register('dbaf.m2', 'SELECT id, v FROM dbaf.t', materialized => true,
                                             indexes => ARRAY['UNIQUE (id)', 'unique  ( "id" )'])$$, '42710',
  'the same index twice: "UNIQUE \(id\)" and "unique  \( "id" \)"', 'the same index spelt differently');
SELECT dbaf.refused($$SELECT * FROM viewmgr.declare('[{"view_name": "dbaf.m2", "definition": "SELECT id, v FROM dbaf.t",
                                                      "materialized": true, "indexes": ["(v)", "(v)"]}]')$$,
  '42710', 'the same index twice', 'declare with the same index twice');
SELECT is(viewmgr.register('dbaf.m2', 'SELECT id, v FROM dbaf.t', materialized => true,
                           indexes => ARRAY['(id)', 'UNIQUE (id)', '(id) WHERE v > 10', '(id, v)']),
          'created', 'different indexes on the same column are still fine');
SELECT is((SELECT count(*) FROM pg_indexes WHERE schemaname = 'dbaf' AND tablename = 'm2'), 4::bigint,
          'all four built');

-- ---------------------------------------------------------------------------------------
-- A with_data => false materialized view showed "stale"; it has no data at all.

SELECT is(viewmgr.register('dbaf.m_nodata', 'SELECT id FROM dbaf.t', materialized => true, with_data => false),
          'created', 'a materialized view declared without data');
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'dbaf.m_nodata'), 'unpopulated',
          'status says unpopulated');
SELECT is((SELECT count(*) FROM viewmgr.drift() WHERE view_name = 'dbaf.m_nodata'), 0::bigint,
          'and it is not drift: no data was declared');
SELECT viewmgr.refresh('dbaf.m_nodata');
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'dbaf.m_nodata'), 'fresh',
          'after a refresh it is fresh');
REFRESH MATERIALIZED VIEW dbaf.m WITH NO DATA;
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'dbaf.m'), 'unpopulated',
          'a with_data view emptied by hand is unpopulated too');
SELECT viewmgr.refresh('dbaf.m');

-- ---------------------------------------------------------------------------------------
-- depends_on naming a table: the hint said "Register dbaf.t first".

SELECT dbaf.refused($$SELECT viewmgr.register('dbaf.v_dep', 'SELECT 1 AS a', depends_on => ARRAY['dbaf.t'])$$,
  '42809', 'dbaf.v_dep depends on dbaf.t, which is a table, not a managed view \| .*\| .*Remove dbaf.t from depends_on',
  'depends_on naming a table');
SELECT ok((dbaf.error_of($$SELECT viewmgr.register('dbaf.v_dep', 'SELECT 1 AS a', depends_on => ARRAY['dbaf.t'])$$))[4]
          !~ 'Register dbaf.t', 'no hint to register a table');
SELECT dbaf.refused($$SELECT viewmgr.register('dbaf.v_dep', 'SELECT 1 AS a', depends_on => ARRAY['dbaf.nowhere'])$$,
  '42704', 'depends on dbaf.nowhere, which is not a managed view', 'depends_on naming nothing keeps its message');

-- ---------------------------------------------------------------------------------------
-- register took over an existing unmanaged view without a word: now the history says so.

CREATE VIEW dbaf.hand AS SELECT 1 AS x;
SELECT is(viewmgr.register('dbaf.hand', 'SELECT 1 AS x, 2 AS y'), 'replaced', 'register over a hand-made view');
SELECT matches((SELECT detail FROM viewmgr.history WHERE view_name = 'dbaf.hand' ORDER BY started_at DESC LIMIT 1),
               'was not managed', 'its history says it took over an unmanaged view');

-- ---------------------------------------------------------------------------------------
-- Finding 8: declared view options removed by hand were not drift; sync() and registering
-- again said "unchanged" and a security option stayed gone.

SELECT is(viewmgr.register('dbaf.v_opts', 'SELECT id, v FROM dbaf.t WHERE v > 5',
                           view_options => ARRAY['check_option=local', 'security_barrier=true',
                                                 'security_invoker=true']),
          'created', 'a view with three declared options');
ALTER VIEW dbaf.v_opts RESET (check_option);
ALTER VIEW dbaf.v_opts SET (security_invoker = false);
ALTER VIEW dbaf.v_opts RESET (security_barrier);
SELECT is((SELECT string_agg(drift || ': ' || detail, '; ') FROM viewmgr.drift() WHERE view_name = 'dbaf.v_opts'),
          'definition: view options changed outside pg_viewmgr: check_option=local, security_barrier=true, '
          'security_invoker=true not set',
          'drift names every declared option that is gone');
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'dbaf.v_opts'), 'drifted', 'status says drifted');
SELECT is((SELECT action || ': ' || reason FROM viewmgr.sync() WHERE view_name = 'dbaf.v_opts'),
          'replaced: view options changed outside pg_viewmgr: check_option=local, security_barrier=true, '
          'security_invoker=true not set', 'sync() restores them');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'dbaf.v_opts'::regclass),
          ARRAY['check_option=local', 'security_barrier=true', 'security_invoker=true'], 'all three are back');
SELECT is((SELECT count(*) FROM viewmgr.drift() WHERE view_name = 'dbaf.v_opts'), 0::bigint, 'no drift left');
ALTER VIEW dbaf.v_opts SET (security_invoker = false);
SELECT is(viewmgr.register('dbaf.v_opts', 'SELECT id, v FROM dbaf.t WHERE v > 5',
                           view_options => ARRAY['check_option=local', 'security_barrier=true',
                                                 'security_invoker=true']),
          'replaced', 'registering again restores an option set by hand');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'dbaf.v_opts'::regclass),
          ARRAY['check_option=local', 'security_barrier=true', 'security_invoker=true'], 'security_invoker is back');
ALTER VIEW dbaf.v_opts SET (security_barrier = true);
SELECT is((SELECT action FROM viewmgr.sync() WHERE view_name = 'dbaf.v_opts'), 'unchanged',
          'setting a declared option to its declared value by hand is no change');

-- ---------------------------------------------------------------------------------------
-- Finding 4: failures were attributed to the wrong object. A hand-made index that cannot
-- be restored on the rebuilt view is named as such; an unmanaged dependent that cannot be
-- rebuilt is said to be one, with what to do. (PostgreSQL 17 and later deparse the saved
-- view's column unqualified, so the message names "sku" there.)

CREATE TABLE dbaf.items (id int PRIMARY KEY, sku text, qty int);
SELECT viewmgr.register('dbaf.mv_items', 'SELECT id, sku FROM dbaf.items', materialized => true);
CREATE INDEX mv_items_sku_by_hand ON dbaf.mv_items (sku);
SELECT dbaf.refused($$SELECT viewmgr.register('dbaf.mv_items', 'SELECT id, qty FROM dbaf.items', materialized => true)$$,
  '42703', '^cannot build dbaf.mv_items: cannot restore the index mv_items_sku_by_hand, made by hand: '
           'column "sku" does not exist \| .*CREATE INDEX mv_items_sku_by_hand .*\| .*DROP INDEX dbaf.mv_items_sku_by_hand',
  'a hand-made index the new definition cannot carry');
DROP INDEX dbaf.mv_items_sku_by_hand;

SELECT viewmgr.register('dbaf.v_items', 'SELECT id, sku FROM dbaf.items');
CREATE VIEW dbaf.hand_uses_sku AS SELECT sku FROM dbaf.v_items;
SELECT dbaf.refused($$SELECT viewmgr.register('dbaf.v_items', 'SELECT id, qty FROM dbaf.items')$$,
  '42703', '^cannot rebuild dbaf.hand_uses_sku, a view pg_viewmgr does not manage that depends on what it rebuilds: '
           'column (v_items\.sku|"sku") does not exist \| .*\| .*Change or drop dbaf.hand_uses_sku first',
  'an unmanaged dependent the new definition breaks');

-- ---------------------------------------------------------------------------------------
-- Finding 3: run_with_dependents by a table's owner whose views belong to another role is
-- refused before anything is dropped, naming every view it may not rebuild, not only the
-- first.

CREATE ROLE dbaf_app;
CREATE ROLE dbaf_analyst;
CREATE SCHEMA dbaf_sales AUTHORIZATION dbaf_app;
CREATE SCHEMA dbaf_rpt AUTHORIZATION dbaf_analyst;
GRANT USAGE ON SCHEMA dbaf_sales TO dbaf_analyst;
GRANT USAGE ON SCHEMA dbaf TO dbaf_app;
SET LOCAL ROLE dbaf_app;
CREATE TABLE dbaf_sales.order_items (id int PRIMARY KEY, sku text);
GRANT SELECT ON dbaf_sales.order_items TO dbaf_analyst;
SET LOCAL ROLE dbaf_analyst;
SELECT viewmgr.register('dbaf_rpt.v_a', 'SELECT id, sku FROM dbaf_sales.order_items');
SELECT viewmgr.register('dbaf_rpt.v_b', 'SELECT id, sku FROM dbaf_sales.order_items');
CREATE VIEW dbaf_rpt.hand_uses_sku AS SELECT sku FROM dbaf_rpt.v_a;
SET LOCAL ROLE dbaf_app;
SELECT dbaf.refused($$SELECT viewmgr.run_with_dependents('ALTER TABLE dbaf_sales.order_items ALTER COLUMN sku TYPE varchar(20)')$$,
  '42501', '^permission denied to rebuild dbaf_rpt.v_a: role "dbaf_app" does not have the privileges of its owner, '
           'role "dbaf_analyst" \| .* 2 more would be refused too: permission denied to rebuild dbaf_rpt.v_b: .*; '
           'permission denied to rebuild dbaf_rpt.hand_uses_sku: ',
  'every view the table''s owner may not rebuild is named');
RESET ROLE;

-- ---------------------------------------------------------------------------------------
-- Finding 1: a role without TRIGGER on its sources builds materialized views that are stale
-- for ever; the only word was a refresh detail naming one of its tables, without why or
-- what to do. Now every untracked source is named, with the reason and the remedy.

CREATE ROLE dbaf_reporter;
CREATE SCHEMA dbaf_mart AUTHORIZATION dbaf_reporter;
CREATE TABLE dbaf.regions (id int PRIMARY KEY, name text);
CREATE TABLE dbaf.sales (id int PRIMARY KEY, region int, amount int);
INSERT INTO dbaf.regions VALUES (1, 'north');
INSERT INTO dbaf.sales VALUES (1, 1, 10);
GRANT SELECT ON dbaf.regions, dbaf.sales TO dbaf_reporter;
GRANT USAGE ON SCHEMA dbaf TO dbaf_reporter;
SET LOCAL ROLE dbaf_reporter;
SELECT viewmgr.register('dbaf_mart.by_region',
  'SELECT r.name, sum(s.amount) AS amount FROM dbaf.sales s JOIN dbaf.regions r ON r.id = s.region GROUP BY r.name',
  materialized => true);
SELECT matches((SELECT detail FROM viewmgr.drift() WHERE view_name = 'dbaf_mart.by_region' AND drift = 'stale'),
  'reads dbaf.regions, dbaf.sales, whose changes cannot be tracked: no tracking trigger .*TRIGGER privilege',
  'drift() names every untracked source and why');
SELECT matches((SELECT detail FROM viewmgr.history WHERE view_name = 'dbaf_mart.by_region' AND operation = 'create'),
  'changes to dbaf.regions, dbaf.sales cannot be tracked.*GRANT TRIGGER ON dbaf.regions, dbaf.sales TO dbaf_reporter',
  'the build''s history says so when it happens, with the GRANT that fixes it');
SELECT matches((SELECT detail FROM viewmgr.refresh_all() WHERE view_name = 'dbaf_mart.by_region'),
  'reads dbaf.regions, dbaf.sales, whose changes cannot be tracked',
  'refresh_all() names them all too');
RESET ROLE;
GRANT TRIGGER ON dbaf.regions, dbaf.sales TO dbaf_reporter;
SET LOCAL ROLE dbaf_reporter;
SELECT is((SELECT action FROM viewmgr.refresh_all(only_stale => false) WHERE view_name = 'dbaf_mart.by_region'),
          'refreshed', 'after the GRANT a refresh starts tracking');
SELECT is((SELECT count(*) FROM viewmgr.drift() WHERE view_name = 'dbaf_mart.by_region'), 0::bigint,
          'and the view can be fresh');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
