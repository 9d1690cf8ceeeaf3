# A partition created after its views were built is not tracked until a refresh installs
# its trigger. A prepared transaction (with a savepoint, as the oracle's step made it) writes
# that partition while it is untracked, refresh_all() runs while it is pending (the trigger
# cannot be created: the prepared transaction holds the partition's lock), then it commits.
# When tracking finally starts, the write made before it is in no log: the views must count
# as stale until a refresh, never fresh with the old rows (oracle seed 510151067, step 266:
# m_c and m_p reported fresh without the prepared rows). Also: refresh_all() does not wait
# for that lock (it used to wait, and a statement_timeout meanwhile was swallowed).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('late_tracking');
$node->init;
$node->append_conf('postgresql.conf', "max_prepared_transactions = 5\nmax_worker_processes = 16");
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION pg_viewmgr;
  CREATE TABLE p (k int NOT NULL, v int) PARTITION BY RANGE (k);
  CREATE TABLE p_0 PARTITION OF p FOR VALUES FROM (0) TO (10);
  CREATE TABLE other (v int);
  INSERT INTO p VALUES (1, 1);
  SELECT viewmgr.register('m_p', 'SELECT count(*) AS n, sum(v) AS s FROM p', materialized => true);
  SELECT viewmgr.register('m_o', 'SELECT count(*) AS n FROM other', materialized => true);
  CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM (10) TO (20);
});
my $state = q{SELECT state || ' ' || (SELECT n FROM m_p) || ' of ' || (SELECT count(*) FROM p)
                FROM viewmgr.status WHERE view_name = 'public.m_p'};
my $actions = q{SELECT string_agg(view_name || ':' || action, ',' ORDER BY view_name)
                  FROM viewmgr.refresh_all()};
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_trigger WHERE tgrelid = 'p_1'::regclass}),
  '0', 'the new partition p_1 has no tracking trigger yet');

$node->safe_psql('postgres', q{
  BEGIN;
  INSERT INTO other VALUES (1);
  SAVEPOINT s;
  INSERT INTO p_1 VALUES (11, 5), (12, 6);
  PREPARE TRANSACTION 'late';
});

# The prepared transaction holds p_1's lock: the trigger cannot be created now.
my $started = time;
my ($rc, $out, $err) = $node->psql('postgres', "SET statement_timeout = '20s'; $actions");
my $took = time - $started;
is($rc, 0, 'refresh_all() succeeds while the prepared transaction is pending') or diag($err);
like($out, qr/public\.m_p:refreshed/, 'it refreshes m_p (p_1 is not tracked: stale)');
cmp_ok($took, '<', 10, sprintf('it does not wait for the prepared transaction\'s lock (%.1f s)', $took));
is($node->safe_psql('postgres', $state), 'stale 1 of 1',
  'm_p still counts as stale: p_1 is not tracked');

$node->safe_psql('postgres', q{COMMIT PREPARED 'late'});
# Now the trigger can be created (by any refresh): tracking starts after the write.
$node->safe_psql('postgres', q{SELECT * FROM viewmgr.refresh('m_o')});
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_trigger WHERE tgrelid = 'p_1'::regclass}),
  '1', 'p_1 is tracked now');
is($node->safe_psql('postgres', $state), 'stale 1 of 3',
  'the write made before tracking started is not lost: m_p is stale, never fresh with 1 of 3');
is($node->safe_psql('postgres', $actions), 'public.m_o:skipped,public.m_p:refreshed',
  'refresh_all() refreshes m_p');
is($node->safe_psql('postgres', $state), 'fresh 3 of 3', 'and then it is fresh, with every row');

# Tracking started by a refresh_all() whose views refresh workers refresh: the workers'
# snapshots do not see the caller's transaction, yet what its log row stands for (writes
# before the trigger fired always) they have seen. Fresh after one run, not stale again.
my $o_state = q{SELECT state || ' ' || (SELECT n FROM m_o) || ' of ' || (SELECT count(*) FROM other)
                  FROM viewmgr.status WHERE view_name = 'public.m_o'};
$node->safe_psql('postgres', q{
  ALTER TABLE other DISABLE TRIGGER viewmgr_track_changes;
  INSERT INTO other VALUES (2);
  ALTER TABLE other ENABLE TRIGGER viewmgr_track_changes;
});
is($node->safe_psql('postgres', $o_state), 'stale 1 of 2', 'm_o is stale (its trigger fires in origin mode only)');
is($node->safe_psql('postgres', $actions),
  'public.m_o:refreshed,public.m_p:skipped', 'refresh_all() makes the trigger fire always and refreshes m_o');
is($node->safe_psql('postgres', $o_state), 'fresh 2 of 2', 'in a worker, and m_o is fresh then');
is($node->safe_psql('postgres', $actions), 'public.m_o:skipped,public.m_p:skipped',
  'a second refresh_all() refreshes nothing');

# The same, with the caller writing the table after the workers' refreshes, in the same
# transaction: that write is logged anew, never taken for one the workers saw.
$node->safe_psql('postgres', q{
  ALTER TABLE other DISABLE TRIGGER viewmgr_track_changes;
  ALTER TABLE other ENABLE TRIGGER viewmgr_track_changes;
});
$node->safe_psql('postgres', "BEGIN; $actions; INSERT INTO other VALUES (3); COMMIT;");
is($node->safe_psql('postgres', $o_state), 'stale 2 of 3',
  'a write by the caller after the hand-over makes m_o stale');

done_testing();
