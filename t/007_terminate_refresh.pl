# However a refresh_all() caller ends, its refresh workers end with it: terminated
# (pg_terminate_backend, a FATAL that skips C++ destructors) while one worker waits on a lock
# inside a REFRESH and the other is idle, both are gone promptly, not when the lock is
# released or never (issue 8, finding 7).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('terminate');
$node->init;
$node->append_conf('postgresql.conf', 'max_worker_processes = 16');
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pg_viewmgr;
  CREATE TABLE t (id int PRIMARY KEY, v int);
  INSERT INTO t SELECT g, g FROM generate_series(1, 10) g;
  CREATE FUNCTION gate(x int) RETURNS int LANGUAGE plpgsql VOLATILE AS
    $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4712); RETURN x; END $$;
  SELECT viewmgr.register('held', 'SELECT id, gate(v) AS v FROM t', materialized => true,
                          with_data => false);
  SELECT viewmgr.register('after_held', 'SELECT count(*) AS n FROM held', materialized => true,
                          with_data => false);
});

my $holder = $node->background_psql('postgres');
$holder->query_safe('SELECT pg_advisory_lock(4712)');
my $caller = $node->background_psql('postgres', on_error_stop => 0);
$caller->query_until(qr/started/, "\\echo started\nSELECT * FROM viewmgr.refresh_all(parallel => 2);\n");

$node->poll_query_until('postgres',
  q{SELECT count(*) = 1 FROM pg_stat_activity
     WHERE backend_type = 'pg_viewmgr refresh worker' AND query LIKE 'pg_viewmgr: refreshing public.held%'})
  or die 'the refresh worker did not start';
is($node->safe_psql('postgres',
     q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_viewmgr refresh worker'}),
   '2', 'two workers: one refreshing (waiting on the lock), one idle');

$node->safe_psql('postgres',
  q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE query LIKE '%viewmgr.refresh_all(parallel%' AND pid <> pg_backend_pid()
       AND backend_type = 'client backend'});
ok($node->poll_query_until('postgres',
     q{SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_viewmgr refresh worker'}),
   'terminating the caller stops both workers, while the lock is still held');
eval { $caller->quit };
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4712}),
   '1', 'only the holder\'s lock is left');
$holder->quit;

is($node->safe_psql('postgres',
     q{SELECT string_agg(view_name || ':' || action, ',' ORDER BY view_name) FROM viewmgr.refresh_all()}),
   'public.after_held:refreshed,public.held:refreshed', 'the next refresh_all() refreshes both');

done_testing();
