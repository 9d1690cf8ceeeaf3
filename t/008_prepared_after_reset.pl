# A prepared transaction that wrote a source before a crash, and commits after the change
# log was emptied by crash recovery, is not lost: a refresh whose snapshot could not see
# every transaction from before the reset still counts as stale (issue 8, finding 5: the
# reset used to be judged by time, so such a view was reported fresh with old rows).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('prepared');
$node->init;
$node->append_conf('postgresql.conf', "max_prepared_transactions = 5\nmax_worker_processes = 16");
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pg_viewmgr;
  CREATE TABLE t (id int PRIMARY KEY);
  INSERT INTO t VALUES (1);
  SELECT viewmgr.register('m', 'SELECT count(*) AS n FROM t', materialized => true);
});
my $state = q{SELECT state || ' ' || (SELECT n FROM m) || ' of ' || (SELECT count(*) FROM t)
                FROM viewmgr.status WHERE view_name = 'public.m'};
is($node->safe_psql('postgres', $state), 'fresh 1 of 1', 'fresh to begin with');

$node->safe_psql('postgres', q{BEGIN; INSERT INTO t VALUES (2); PREPARE TRANSACTION 'p';});
$node->stop('immediate');
$node->start;

# The first refresh_all() after the crash finds the log emptied and refreshes; the prepared
# transaction is still open, so its row is not in the view.
is($node->safe_psql('postgres',
     q{SELECT string_agg(view_name || ':' || action, ',') FROM viewmgr.refresh_all()}),
   'public.m:refreshed', 'after the crash the view is refreshed');
is($node->safe_psql('postgres', $state), 'stale 1 of 1',
   'while a transaction from before the reset is open, the refresh cannot vouch for it: stale');

$node->safe_psql('postgres', q{COMMIT PREPARED 'p'});
is($node->safe_psql('postgres', $state), 'stale 1 of 2',
   'the prepared transaction committed: still stale (its log row was lost), never fresh with 1 of 2');
is($node->safe_psql('postgres',
     q{SELECT string_agg(view_name || ':' || action, ',') FROM viewmgr.refresh_all()}),
   'public.m:refreshed', 'refresh_all() refreshes it');
is($node->safe_psql('postgres', $state), 'fresh 2 of 2', 'and then it is fresh, with both rows');

done_testing();
