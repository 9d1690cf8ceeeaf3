# Without pg_cron loaded, viewmgr.schedule() fails with a clear error that says how to
# install and preload it; everything else works.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('no_cron');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pg_viewmgr;
  CREATE TABLE t (id int PRIMARY KEY);
  SELECT viewmgr.register('m', 'SELECT count(*) AS n FROM t', materialized => true);
});

for my $call ("SELECT viewmgr.schedule('* * * * *')", 'SELECT viewmgr.unschedule()') {
  my ($ret, $stdout, $stderr) =
    $node->psql('postgres', $call, extra_params => ['-v', 'VERBOSITY=verbose']);
  isnt($ret, 0, "$call fails without pg_cron");
  like($stderr, qr/55000: pg_cron is not available/, 'with SQLSTATE 55000 and a clear message');
  like($stderr, qr/postgresql-15-cron.*shared_preload_libraries.*cron\.database_name.*CREATE EXTENSION pg_cron/s,
       'and a hint that says how to install and preload it');
}
is($node->safe_psql('postgres',
     q{SELECT string_agg(view_name || ':' || action, ',') FROM viewmgr.refresh_all(only_stale => false)}),
   'public.m:refreshed', 'refreshing works without pg_cron');

done_testing();
