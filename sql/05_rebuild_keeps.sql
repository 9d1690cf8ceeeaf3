--
-- 05_rebuild_keeps: what a rebuild must keep (SPEC section 4). When a view is dropped and
-- recreated, every view that depends on it is rebuilt too, managed or not, and the rebuilt
-- views keep their owner, privileges (table and column level), comments (view and column),
-- view options, and for materialized views their indexes (declared and hand-made) and data.
--
SET client_min_messages = warning;
CREATE SCHEMA vm_keep;
CREATE TABLE vm_keep.readings (id int PRIMARY KEY, sensor text, value numeric(8,2));
INSERT INTO vm_keep.readings VALUES (1, 'a', 1.50), (2, 'b', 2.50), (3, 'a', 4.00);
CREATE ROLE regress_viewmgr_keeper;
CREATE ROLE regress_viewmgr_reader;
GRANT USAGE, CREATE ON SCHEMA vm_keep TO regress_viewmgr_keeper;
GRANT SELECT ON vm_keep.readings TO regress_viewmgr_keeper;
GRANT USAGE ON SCHEMA vm_keep TO regress_viewmgr_reader;

-- Everything a rebuild must keep, one row per view or materialized view of the schema.
-- acl is shown without MAINTAIN (m, PostgreSQL 17), so the output is the same on every
-- version; m is always the last letter of an item's privileges.
CREATE FUNCTION vm_keep.facts() RETURNS TABLE (relname name, relkind "char", owner name,
  acl text, comment text, column_comments text, column_acls text, options text[],
  indexes text, populated boolean)
LANGUAGE sql AS $$
  SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner),
         regexp_replace(c.relacl::text, 'm(\*?)/', '\1/', 'g'),
         obj_description(c.oid, 'pg_class'),
         (SELECT string_agg(a.attname || ': ' || col_description(c.oid, a.attnum), ', '
                            ORDER BY a.attnum)
            FROM pg_attribute a
           WHERE a.attrelid = c.oid AND a.attnum > 0
             AND col_description(c.oid, a.attnum) IS NOT NULL),
         (SELECT string_agg(a.attname || ': ' || a.attacl::text, ', ' ORDER BY a.attnum)
            FROM pg_attribute a
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND a.attacl IS NOT NULL),
         c.reloptions,
         (SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ' ORDER BY 1)
            FROM pg_index i WHERE i.indrelid = c.oid),
         c.relispopulated
    FROM pg_class c
   WHERE c.relnamespace = 'vm_keep'::regnamespace AND c.relkind IN ('v', 'm')
$$;

CREATE EXTENSION pg_viewmgr;
SET search_path = vm_keep, public;

-- by_sensor (materialized) reads base; report reads by_sensor; hand_report (unmanaged)
-- reads report
SELECT viewmgr.register('base', 'SELECT id, sensor, value FROM readings',
  view_options => ARRAY['security_barrier=true']);
SELECT viewmgr.register('by_sensor',
  'SELECT sensor, sum(value) AS total, count(*) AS n FROM base GROUP BY sensor',
  materialized => true, indexes => ARRAY['UNIQUE (sensor)'], comment => 'totals per sensor');
SELECT viewmgr.register('report', 'SELECT sensor, total FROM by_sensor WHERE n > 0');
CREATE VIEW vm_keep.hand_report AS SELECT sensor FROM vm_keep.report;

-- what people did to them by hand
COMMENT ON COLUMN base.value IS 'the reading';
COMMENT ON COLUMN by_sensor.total IS 'sum of readings';
COMMENT ON VIEW report IS 'for the dashboard';
COMMENT ON VIEW hand_report IS 'not managed';
GRANT SELECT ON base TO regress_viewmgr_reader;
GRANT SELECT (sensor, total) ON by_sensor TO regress_viewmgr_reader;
GRANT SELECT ON report, hand_report TO regress_viewmgr_reader;
GRANT SELECT ON by_sensor TO regress_viewmgr_keeper;
ALTER VIEW report OWNER TO regress_viewmgr_keeper;
CREATE INDEX by_sensor_total_hand ON by_sensor (total);
SELECT * FROM vm_keep.facts() ORDER BY relname;
CREATE TEMP TABLE facts_before AS SELECT * FROM vm_keep.facts();
CREATE TEMP TABLE hand_report_before AS
  SELECT pg_get_viewdef('vm_keep.hand_report'::regclass) AS def;

--
-- value changes type: base, by_sensor, report and hand_report are all rebuilt
--
SELECT viewmgr.register('base', 'SELECT id, sensor, value::float8 AS value FROM readings',
  view_options => ARRAY['security_barrier=true']);
SELECT view_name, kind, state FROM viewmgr.status ORDER BY 1;
SELECT view_name, drift FROM viewmgr.drift();
-- nothing that was kept differs (no rows)
SELECT * FROM vm_keep.facts() EXCEPT SELECT * FROM facts_before ORDER BY relname;
SELECT * FROM facts_before EXCEPT SELECT * FROM vm_keep.facts() ORDER BY relname;
-- the unmanaged view is there, with its definition
SELECT pg_get_viewdef('vm_keep.hand_report'::regclass) = def AS hand_report_same
  FROM hand_report_before;
SELECT * FROM hand_report ORDER BY sensor;
SELECT * FROM report ORDER BY sensor;
SELECT attname, atttypid::regtype FROM pg_attribute
 WHERE attrelid = 'vm_keep.by_sensor'::regclass AND attnum > 0 ORDER BY attnum;
-- the reader can still read what it was granted, and nothing more
SET ROLE regress_viewmgr_reader;
SELECT count(*) FROM vm_keep.base;
SELECT sensor, total FROM vm_keep.by_sensor ORDER BY sensor;
SELECT count(*) FROM vm_keep.hand_report;
RESET ROLE;
SELECT has_column_privilege('regress_viewmgr_reader', 'vm_keep.by_sensor', 'n', 'SELECT')
  AS reader_sees_n;

--
-- a kind change keeps them too
--
SELECT viewmgr.register('report', 'SELECT sensor, total FROM by_sensor WHERE n > 0',
  materialized => true);
SELECT relname, relkind, owner, acl, comment FROM vm_keep.facts()
 WHERE relname IN ('report', 'hand_report') ORDER BY relname;
SELECT * FROM hand_report ORDER BY sensor;

--
-- clean up
--
DROP EXTENSION pg_viewmgr;
DROP SCHEMA vm_keep CASCADE;
DROP ROLE regress_viewmgr_reader;
DROP ROLE regress_viewmgr_keeper;
