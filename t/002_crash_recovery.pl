# A server crash, or a killed backend, in the middle of sync() leaves the registry and the
# views exactly as before (each call is one transaction); rerunning succeeds. Crash recovery
# empties the unlogged change log, which pg_viewmgr notices: every materialized view then
# counts as stale until it is refreshed, so no change is lost.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pg_viewmgr;
  CREATE TABLE t (id int PRIMARY KEY, v int);
  INSERT INTO t SELECT g, g FROM generate_series(1, 100) g;
  -- Populating a view that calls gate() waits while lock 777 is held elsewhere.
  CREATE FUNCTION gate(x int) RETURNS int LANGUAGE plpgsql VOLATILE AS
    $$ BEGIN PERFORM pg_advisory_xact_lock_shared(777); RETURN x; END $$;
  SELECT viewmgr.register('a', 'SELECT id, v FROM t');
  SELECT viewmgr.register('m', 'SELECT id, v FROM a', materialized => true,
                          indexes => ARRAY['UNIQUE (id)']);
  SELECT viewmgr.register('b', 'SELECT id, gate(v) AS v FROM t', materialized => true, apply => false);
  SELECT viewmgr.register('c', 'SELECT id FROM b', apply => false);
});

my $state_query = q{
  SELECT (SELECT md5(string_agg(concat_ws('|', schema_name, relation_name, definition,
                                          built_definition, built_viewdef), ',' ORDER BY relation_name))
            FROM viewmgr.managed_view)
      || ' ' || (SELECT string_agg(relname || ':' || relkind::text, ',' ORDER BY relname)
                   FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('v', 'm'))
};
my $before = $node->safe_psql('postgres', $state_query);

# Holds a sync() inside the build of b (after a, m and the registry rows were touched).
sub start_blocked_sync {
  my $holder = $node->background_psql('postgres');
  $holder->query_safe('SELECT pg_advisory_lock(777)');
  my $syncer = $node->background_psql('postgres', on_error_stop => 0);
  $syncer->query_until(qr/started/, "\\echo started\nSELECT * FROM viewmgr.sync();\n");
  $node->poll_query_until('postgres',
    q{SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND objid = 777 AND NOT granted})
    or die 'sync() did not reach the gate';
  return ($holder, $syncer);
}

# 1. A backend killed mid-sync.
my ($holder, $syncer) = start_blocked_sync();
my $pid = $node->safe_psql('postgres',
  q{SELECT pid FROM pg_stat_activity WHERE query LIKE '%viewmgr.sync()%' AND pid <> pg_backend_pid()});
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
eval { $syncer->quit };
$holder->quit;
is($node->safe_psql('postgres', $state_query), $before,
   'a backend killed mid-sync leaves the registry and the views as before');

# 2. The whole server crashing mid-sync.
($holder, $syncer) = start_blocked_sync();
$node->stop('immediate');
eval { $syncer->quit };
eval { $holder->quit };
$node->start;
is($node->safe_psql('postgres', $state_query), $before,
   'after a crash mid-sync the registry and the views are as before');

# Crash recovery emptied the unlogged change log: the materialized view is stale now.
is($node->safe_psql('postgres', q{SELECT state FROM viewmgr.status WHERE view_name = 'public.m'}),
   'stale', 'after a crash every materialized view counts as stale (the change log was reset)');

# 3. Rerunning works.
is($node->safe_psql('postgres',
     q{SELECT string_agg(view_name || ':' || action, ',' ORDER BY view_name) FROM viewmgr.sync()}),
   'public.a:unchanged,public.b:created,public.c:created,public.m:unchanged',
   'rerunning sync() after the crash builds what was missing');
is($node->safe_psql('postgres',
     q{SELECT string_agg(view_name || ':' || action, ',' ORDER BY view_name) FROM viewmgr.refresh_all()}),
   'public.b:skipped,public.m:refreshed', 'refresh_all() refreshes what the crash made uncertain');
is($node->safe_psql('postgres',
     q{SELECT count(*) FROM viewmgr.refresh_all() WHERE action = 'refreshed'}),
   '0', 'and then nothing is stale any more');
is($node->safe_psql('postgres', q{SELECT count(*) FROM viewmgr.drift()}), '0', 'no drift left');

done_testing();
