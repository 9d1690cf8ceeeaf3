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
my $major = $node->safe_psql('postgres', 'SHOW server_version_num') / 10000;
$major = int($major);
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
  like($stderr, qr/postgresql-$major-cron.*shared_preload_libraries.*cron\.database_name.*CREATE EXTENSION pg_cron/s,
       "and a hint that says how to install and preload it (the package of PostgreSQL $major)");
}
is($node->safe_psql('postgres',
     q{SELECT string_agg(view_name || ':' || action, ',') FROM viewmgr.refresh_all(only_stale => false)}),
   'public.m:refreshed', 'refreshing works without pg_cron');

# pg_cron loaded at server start but never created in its database: said so, with the
# statement to run, not "schema cron does not exist".
my $loaded = PostgreSQL::Test::Cluster->new('cron_not_created');
$loaded->init;
$loaded->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\n");
$loaded->start;
$loaded->safe_psql('postgres', 'CREATE EXTENSION pg_viewmgr');
for my $call ("SELECT viewmgr.schedule('* * * * *')", 'SELECT viewmgr.unschedule()') {
  my ($ret, $stdout, $stderr) =
    $loaded->psql('postgres', $call, extra_params => ['-v', 'VERBOSITY=verbose']);
  isnt($ret, 0, "$call fails where pg_cron is loaded but not created");
  like($stderr, qr/55000: pg_cron is loaded but not created in database "postgres"/,
       'with SQLSTATE 55000, saying what is missing');
  like($stderr, qr/HINT:  Run CREATE EXTENSION pg_cron in database "postgres"/, 'and what to run');
}
$loaded->stop;

done_testing();
