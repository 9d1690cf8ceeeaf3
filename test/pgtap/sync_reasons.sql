-- sync()'s reason names what changed in a registration, field by field (an index added or
-- removed, a view option, the comment, with_data, the definition), and the spelling of an
-- index spec is no change. The registration is compared with the declaration the registry
-- recorded at the last build.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(12);

SET LOCAL client_min_messages = warning;
CREATE SCHEMA sr;
CREATE TABLE sr.t (id int PRIMARY KEY, created_at date, grp text);
INSERT INTO sr.t VALUES (1, '2026-01-01', 'a'), (2, '2026-01-02', 'b');

SELECT is(viewmgr.register('sr.m', 'SELECT id, created_at, grp FROM sr.t', materialized => true,
                           indexes => ARRAY['UNIQUE (id)'], comment => 'first'),
          'created', 'sr.m created');
SELECT is(viewmgr.register('sr.v', 'SELECT id, grp FROM sr.t'), 'created', 'sr.v created');

CREATE FUNCTION pg_temp.plan_of(v text) RETURNS text LANGUAGE sql AS
  $$ SELECT action || ': ' || coalesce(reason, '') FROM viewmgr.sync(dry_run => true) WHERE view_name = v $$;

SELECT viewmgr.register('sr.m', 'SELECT id, created_at, grp FROM sr.t', materialized => true,
                        indexes => ARRAY['unique(ID)', '(created_at)'], comment => 'first', apply => false);
SELECT is(pg_temp.plan_of('sr.m'), 'replaced: index (created_at) added',
          'an added index is named; another spelling of the same index is no change');

SELECT viewmgr.register('sr.m', 'SELECT id, created_at, grp FROM sr.t', materialized => true,
                        indexes => ARRAY['(created_at)'], comment => 'first', apply => false);
SELECT is(pg_temp.plan_of('sr.m'), 'replaced: index (created_at) added; index UNIQUE (id) removed',
          'a removed index is named as it was declared');

SELECT viewmgr.register('sr.m', 'SELECT id, created_at, grp FROM sr.t', materialized => true,
                        indexes => ARRAY['UNIQUE (id)'], comment => 'second', apply => false);
SELECT is(pg_temp.plan_of('sr.m'), 'replaced: comment changed', 'a changed comment');

SELECT viewmgr.register('sr.m', 'SELECT id, created_at, grp FROM sr.t', materialized => true,
                        indexes => ARRAY['UNIQUE (id)'], comment => 'first', with_data => false,
                        apply => false);
SELECT is(pg_temp.plan_of('sr.m'), 'replaced: with_data changed', 'with_data changed');

SELECT viewmgr.register('sr.m', 'SELECT id, created_at FROM sr.t', materialized => true,
                        indexes => ARRAY['UNIQUE (id)'], comment => 'other', apply => false);
SELECT is(pg_temp.plan_of('sr.m'), 'rebuilt: definition changed; comment changed',
          'a definition change says so, with the other changes');

SELECT viewmgr.register('sr.m', E'select ID,   created_at, GRP\n from SR.T', materialized => true,
                        indexes => ARRAY['UNIQUE (id)'], comment => 'first', apply => false);
SELECT is(pg_temp.plan_of('sr.m'), 'unchanged: ', 'another spelling of the same query is no change');

SELECT viewmgr.register('sr.v', 'SELECT id, grp FROM sr.t', view_options => ARRAY['security_barrier=true'],
                        apply => false);
SELECT is(pg_temp.plan_of('sr.v'), 'replaced: view option security_barrier=true added',
          'an added view option is named');
SELECT is(viewmgr.register('sr.v', 'SELECT id, grp FROM sr.t', view_options => ARRAY['security_barrier=true']),
          'replaced', 'applying it replaces the view');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'sr.v'::regclass), ARRAY['security_barrier=true'],
          'the option is set');
SELECT viewmgr.register('sr.v', 'SELECT id, grp FROM sr.t', apply => false);
SELECT is(pg_temp.plan_of('sr.v'), 'replaced: view option security_barrier=true removed',
          'a removed view option is named');

SELECT * FROM finish();
ROLLBACK;
