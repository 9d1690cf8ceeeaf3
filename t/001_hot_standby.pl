# On a streaming hot standby, pg_viewmgr's read functions and viewmgr.status work, and every
# function that would change something refuses with SQLSTATE 25006.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', q{
  CREATE EXTENSION pg_viewmgr;
  CREATE TABLE t (id int PRIMARY KEY, v int);
  INSERT INTO t SELECT g, g FROM generate_series(1, 10) g;
  SELECT viewmgr.register('v', 'SELECT id, v FROM t');
  SELECT viewmgr.register('m', 'SELECT id, v * 2 AS w FROM v', materialized => true,
                          indexes => ARRAY['UNIQUE (id)']);
});
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

# Reading works.
is($standby->safe_psql('postgres',
     "SELECT string_agg(view_name || ':' || kind || ':' || state, ',' ORDER BY view_name) FROM viewmgr.status"),
   'public.m:materialized view:fresh,public.v:view:fresh', 'viewmgr.status works on the standby');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM viewmgr.drift()'), '0', 'drift() works');
is($standby->safe_psql('postgres',
     "SELECT string_agg(step || ':' || level || ':' || view_name, ',' ORDER BY step) FROM viewmgr.dependency_order()"),
   '1:0:public.v,2:1:public.m', 'dependency_order() works');
like($standby->safe_psql('postgres', 'SELECT viewmgr.graph()'), qr/"public\.m" -> "public\.v"/,
     'graph() works');
is($standby->safe_psql('postgres',
     "SELECT string_agg(view_name || ':' || action, ',' ORDER BY view_name) FROM viewmgr.sync(dry_run => true)"),
   'public.m:unchanged,public.v:unchanged', 'sync(dry_run => true) works');
is($standby->safe_psql('postgres',
     "SELECT string_agg(view_name || ':' || operation || ':' || outcome, ',' ORDER BY id) FROM viewmgr.history"),
   'public.v:create:succeeded,public.m:create:succeeded', 'history is readable');

# Changing refuses, with 25006 and a message that says why.
my %changing = (
  'viewmgr.register'            => q{SELECT viewmgr.register('x', 'SELECT 1 AS a')},
  'viewmgr.unregister'          => q{SELECT viewmgr.unregister('v')},
  'viewmgr.sync'                => q{SELECT * FROM viewmgr.sync()},
  'viewmgr.run_with_dependents' => q{SELECT * FROM viewmgr.run_with_dependents('ALTER TABLE t ALTER COLUMN v TYPE bigint')},
  'viewmgr.adopt'               => q{SELECT viewmgr.adopt(schema_name => 'public')},
  'viewmgr.refresh'             => q{SELECT * FROM viewmgr.refresh('m')},
  'viewmgr.refresh_all'         => q{SELECT * FROM viewmgr.refresh_all()},
  'viewmgr.purge_history'       => q{SELECT viewmgr.purge_history()},
  'viewmgr.schedule'            => q{SELECT viewmgr.schedule('* * * * *')},
  'viewmgr.unschedule'          => q{SELECT viewmgr.unschedule()},
);
for my $function (sort keys %changing) {
  my ($ret, $stdout, $stderr) =
    $standby->psql('postgres', $changing{$function}, extra_params => ['-v', 'VERBOSITY=verbose']);
  isnt($ret, 0, "$function fails on the standby");
  like($stderr, qr/25006: cannot run \Q$function\E on a hot standby/,
       "$function refuses with 25006 and says why");
}

# The standby still follows the primary's changes.
$primary->safe_psql('postgres',
  q{SELECT viewmgr.register('v2', 'SELECT id FROM t WHERE v > 5')});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT count(*) FROM viewmgr.status'), '3',
   'a view registered on the primary shows on the standby');

done_testing();
