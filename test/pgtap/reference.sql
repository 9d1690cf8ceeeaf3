-- Help inside psql (issue 14): every function, view and table of pg_viewmgr has a comment,
-- so that \df+ viewmgr.* and \dv+ viewmgr.* are a reference, and every setting a
-- description (SHOW ALL, pg_settings).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(4);

SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'viewmgr'::regnamespace
                   AND obj_description(p.oid, 'pg_proc') IS NULL ORDER BY 1),
          '{}'::text[], 'every function has a comment');
SELECT is(ARRAY(SELECT c.oid::regclass::text FROM pg_class c
                 WHERE c.relnamespace = 'viewmgr'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
                   AND obj_description(c.oid, 'pg_class') IS NULL ORDER BY 1),
          '{}'::text[], 'every table and view has a comment');
-- The settings exist once the library is loaded.
LOAD 'pg_viewmgr';
SELECT is(ARRAY(SELECT name FROM pg_settings WHERE name LIKE 'viewmgr.%'
                   AND (short_desc IS NULL OR extra_desc IS NULL) ORDER BY 1),
          '{}'::text[], 'every setting has a description and an explanation');
SELECT ok((SELECT count(*) FROM pg_settings WHERE name LIKE 'viewmgr.%') >= 3, 'the settings are there');

SELECT * FROM finish();
ROLLBACK;
