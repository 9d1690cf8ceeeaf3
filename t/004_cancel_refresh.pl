# Cancelling a refresh_all() stops its background workers; what they had not finished is
# rolled back, and the next refresh_all() does it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->append_conf('postgresql.conf', 'max_worker_processes = 16');
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pg_viewmgr;
  CREATE TABLE t (id int PRIMARY KEY, v int);
  INSERT INTO t SELECT g, g FROM generate_series(1, 10) g;
  CREATE FUNCTION gate(x int) RETURNS int LANGUAGE plpgsql VOLATILE AS
    $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4711); RETURN x; END $$;
  SELECT viewmgr.register('held', 'SELECT id, gate(v) AS v FROM t', materialized => true,
                          with_data => false);
});

my $holder = $node->background_psql('postgres');
$holder->query_safe('SELECT pg_advisory_lock(4711)');
my $caller = $node->background_psql('postgres', on_error_stop => 0);
$caller->query_until(qr/started/, "\\echo started\nSET viewmgr.progress_notices = on;\nSELECT * FROM viewmgr.refresh_all(parallel => 2);\n");

$node->poll_query_until('postgres',
  q{SELECT count(*) = 1 FROM pg_stat_activity
     WHERE backend_type = 'pg_viewmgr refresh worker' AND query LIKE 'pg_viewmgr: refreshing public.held%'})
  or die 'the refresh worker did not start';
is($node->safe_psql('postgres', q{SELECT state FROM viewmgr.status WHERE view_name = 'public.held'}),
   'refreshing', 'status shows the view being refreshed, from another session');

$node->safe_psql('postgres',
  q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%viewmgr.refresh_all(parallel%' AND pid <> pg_backend_pid()});
ok($node->poll_query_until('postgres',
     q{SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_viewmgr refresh worker'}),
   'cancelling the caller stops its refresh workers');
eval { $caller->quit };
$holder->quit;

is($node->safe_psql('postgres', q{SELECT relispopulated FROM pg_class WHERE relname = 'held'}),
   'f', 'the interrupted refresh left nothing behind');
is($node->safe_psql('postgres',
     q{SELECT string_agg(view_name || ':' || action, ',') FROM viewmgr.refresh_all()}),
   'public.held:refreshed', 'the next refresh_all() refreshes it');

done_testing();
