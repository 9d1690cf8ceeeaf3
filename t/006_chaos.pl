# The chaos test (issue 8, SPEC §5 "a backend killed, or the server crashing, mid-operation"):
# round after round, one of viewmgr.sync() rebuilding many views, a rebuild (register()
# changing a definition that has dependents), viewmgr.run_with_dependents() and
# refresh_all(parallel => 2) is interrupted at a random moment by kill -9 of its backend, of
# a refresh worker or of the postmaster, or by pg_terminate_backend() of its backend. After
# each restart:
#   - the registry matches the catalogs: every managed view exists with its kind, and the
#     unmanaged views that depend on managed ones are all still there;
#   - viewmgr.drift() lists nothing the interrupted operation did not leave legitimately (what
#     was pending before it, and 'stale'), and one viewmgr.sync() leaves no drift but 'stale';
#   - no managed materialized view that viewmgr.status calls 'fresh' differs from its query;
#   - no pg_viewmgr refresh worker is left running and no view is still 'refreshing';
#   - rerunning the interrupted operation succeeds.
#
#   VIEWMGR_CHAOS_SEED=N     the seed (default: random; always printed)
#   VIEWMGR_CHAOS_ROUNDS=N   the number of rounds (default 50)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use ViewmgrTap qw(quiet open_session run_sql close_session install_oracle_check oracle_check_sql
  wait_until);

my $ROUNDS = $ENV{VIEWMGR_CHAOS_ROUNDS} // 50;
# CI runs one fixed seed (a landing must not depend on the draw); a developer's run draws one.
my $SEED = $ENV{VIEWMGR_CHAOS_SEED}
  // (($ENV{CI} // '') eq 'true' ? 506026491 : int(rand(2**31 - 1)));
die "VIEWMGR_CHAOS_ROUNDS must be a positive number\n" unless $ROUNDS =~ /^\d+$/ && $ROUNDS > 0;
die "VIEWMGR_CHAOS_SEED must be a number\n" unless $SEED =~ /^\d+$/;
diag("seed: $SEED");
srand($SEED);

my $N_VIEWS = 40;       # managed plain views over b1, a tree under cv_0
my $N_MATVIEWS = 16;    # managed materialized views over them
my $DB = 'postgres';

my $node = PostgreSQL::Test::Cluster->new('chaos');
$node->init;
$node->append_conf('postgresql.conf', q{
max_worker_processes = 16
fsync = off
restart_after_crash = on
log_min_messages = warning
});
$node->start;

sub ri { return int(rand($_[0])); }
sub pick { return $_[ ri(scalar @_) ]; }

# --- the schema -------------------------------------------------------------------------
my @cv_parent = map { $_ == 0 ? undef : int(($_ - 1) / 2) } 0 .. $N_VIEWS - 1;

sub cv_def {
  my ($i, $k, $wide) = @_;
  return $wide ? "SELECT id, a::bigint AS a, c FROM b1 WHERE a >= $k" : "SELECT id, a, c FROM b1 WHERE a >= $k"
    if $i == 0;
  return "SELECT id, a, c FROM cv_$cv_parent[$i] WHERE c % 97 <> " . ($i + $k);
}

sub cm_def {
  my ($i, $k) = @_;
  return "SELECT a % 10 AS k, count(*) AS n, sum(c) + $k AS s FROM cv_" . ($i * 2 % $N_VIEWS) . ' GROUP BY 1';
}

sub lit { my $s = shift; $s =~ s/'/''/g; return "'$s'"; }

my $setup = q{
  CREATE EXTENSION pg_viewmgr;
  CREATE TABLE b1 (id int PRIMARY KEY, a int, c int);
  CREATE TABLE b2 (id int PRIMARY KEY, a int, c int);
  INSERT INTO b1 SELECT g, g % 50, g * 7 % 1000 FROM generate_series(1, 40000) g;
  INSERT INTO b2 SELECT g, g % 30, g * 3 % 1000 FROM generate_series(1, 40000) g;
};
for my $i (0 .. $N_VIEWS - 1) {
  $setup .= "SELECT viewmgr.register('cv_$i', " . lit(cv_def($i, 0, 0)) . ");\n";
}
for my $i (0 .. $N_MATVIEWS - 1) {
  my $idx = $i % 2 ? '' : ", indexes => ARRAY['UNIQUE (k)']";
  $setup .= "SELECT viewmgr.register('cm_$i', " . lit(cm_def($i, 0)) . ", materialized => true$idx);\n";
}
$setup .= q{
  CREATE VIEW u_1 AS SELECT id, a FROM cv_3;
  CREATE VIEW u_2 AS SELECT id, c FROM cv_7;
  SELECT viewmgr.register('dv_0', 'SELECT id, a, c FROM b2');
  SELECT viewmgr.register('dm_0', 'SELECT a % 5 AS k, count(*) AS n, sum(c) AS s FROM dv_0 GROUP BY 1',
                          materialized => true, indexes => ARRAY['UNIQUE (k)']);
  SELECT viewmgr.register('dm_1', 'SELECT count(*) AS n, sum(c) AS s FROM b2', materialized => true);
  CREATE VIEW u_3 AS SELECT id, c FROM dv_0;
  CREATE MATERIALIZED VIEW u_4 AS SELECT id, c FROM dv_0 WHERE id < 100;
};
$node->safe_psql($DB, $setup);
install_oracle_check($node, $DB);
my @UNMANAGED = qw(u_1 u_2 u_3 u_4);

# --- the operations ---------------------------------------------------------------------
my %state = (k => 0, wide => 0, bigint => 0);

# Each operation: its SQL given the state, an optional preparation (run first, not
# interrupted) and how the state moves on once it has run.
my %OPS = (
  sync => {
    prepare => sub {
      my $k = ++$state{k} % 3;
      my $sql = '';
      $sql .= "SELECT viewmgr.register('cv_$_', " . lit(cv_def($_, $k, $state{wide})) . ", apply => false);\n"
        for 0 .. $N_VIEWS - 1;
      $sql .= "SELECT viewmgr.register('cm_$_', " . lit(cm_def($_, $k)) . ", materialized => true"
        . ($_ % 2 ? '' : ", indexes => ARRAY['UNIQUE (k)']") . ", apply => false);\n"
        for 0 .. $N_MATVIEWS - 1;
      return $sql;
    },
    sql => sub { 'SELECT count(*) FROM viewmgr.sync();' },
  },
  rebuild => {
    # a column's type changes: cv_0 and everything that reads it is dropped and recreated
    sql => sub { "SELECT viewmgr.register('cv_0', " . lit(cv_def(0, $state{k} % 3, !$state{wide})) . ');' },
    after => sub { $state{wide} = !$state{wide}; },
  },
  run_with_dependents => {
    sql => sub {
      'SELECT count(*) FROM viewmgr.run_with_dependents('
        . lit('ALTER TABLE b2 ALTER COLUMN c TYPE ' . ($state{bigint} ? 'int' : 'bigint')) . ');';
    },
    after => sub { $state{bigint} = !$state{bigint}; },
  },
  refresh_all => {
    prepare => sub { 'UPDATE b1 SET c = c + 1 WHERE id % ' . (5 + ri(20)) . " = 0;\n"
        . 'UPDATE b2 SET c = c + 1 WHERE id % ' . (5 + ri(20)) . " = 0;\n" },
    sql => sub { 'SELECT action, count(*) FROM viewmgr.refresh_all(only_stale => false, parallel => 2) GROUP BY 1 ORDER BY 1;' },
    workers => 1,
  },
);
my @OP_NAMES = sort keys %OPS;

# --- checks -------------------------------------------------------------------------------
my $CATALOG_SQL = q{
  SELECT coalesce(string_agg(m.schema_name || '.' || m.relation_name || ' ('
                             || CASE WHEN c.oid IS NULL THEN 'missing' ELSE 'relkind ' || c.relkind::text END || ')', ', '), '')
    FROM viewmgr.managed_view m
    LEFT JOIN pg_namespace n ON n.nspname = m.schema_name
    LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.relation_name
   WHERE c.oid IS NULL OR c.relkind::text <> CASE WHEN m.materialized THEN 'm' ELSE 'v' END
};
my $UNMANAGED_SQL = 'SELECT count(*) FROM pg_class WHERE relnamespace = \'public\'::regnamespace AND relname IN ('
  . join(', ', map { "'$_'" } @UNMANAGED) . ')';
my $DRIFT_SQL = q{SELECT view_name || ':' || drift FROM viewmgr.drift() ORDER BY 1};
my $WORKERS_SQL = q{SELECT count(*) FROM pg_stat_activity
                     WHERE backend_type = 'pg_viewmgr refresh worker' OR query LIKE 'pg_viewmgr: refreshing%'};

# A query of the checks: its output, or it dies (a check that cannot run is a failure).
sub must {
  my ($s, $sql) = @_;
  my ($out, $err) = run_sql($s, $sql);
  die "check query failed: $err (SQL: $sql)\n" if $err;
  chomp $out;
  return $out;
}

sub drift_set {
  my ($s) = @_;
  my ($out, $err) = run_sql($s, $DRIFT_SQL);
  die "drift() failed: $err" if $err;
  return { map { ($_ => 1) } grep { length } split /\n/, $out };
}

sub check_fresh_views {
  my ($s, $all) = @_;
  my ($out, $err) = run_sql($s, oracle_check_sql($all));
  if ($err) { run_sql($s, 'ROLLBACK'); return "the check of the materialized views failed: $err"; }
  my @bad;
  for my $line (split /\n/, $out) {
    my ($view, $state, $extra, $missing) = split /\|/, $line;
    next unless defined $missing;
    push @bad, "$view (status '$state') differs from its query: $extra extra rows, $missing missing"
      if $extra != 0 || $missing != 0;
  }
  return @bad;
}

# --- server handling ----------------------------------------------------------------------
sub server_up {
  my $deadline = time + 60;
  while (time < $deadline) {
    # psql can exit before it has read its input (the server refusing connections while it
    # recovers from the crash), and IPC::Run then dies writing to its stdin ('ack Broken
    # pipe'): that is one more "not up yet", not the end of the round.
    my $rc = eval { ($node->psql($DB, 'SELECT 1', timeout => 5))[0] };
    return 1 if defined $rc && $rc == 0;
    usleep(100_000);
  }
  return 0;
}

# Whether process $pid is gone (or a zombie nobody reaps: in a container without an init
# that reaps, a killed postmaster can stay one).
sub process_gone {
  my ($pid) = @_;
  open(my $fh, '<', "/proc/$pid/status") or return 1;
  my $status = do { local $/; <$fh> };
  return $status =~ /^State:\s+Z/m ? 1 : 0;
}

# The System V shared memory segment of the running postmaster: postmaster.pid's 7th line is
# "key shmid".
sub shmem_id {
  open(my $fh, '<', $node->data_dir . '/postmaster.pid') or return undef;
  my @lines = <$fh>;
  return defined $lines[6] && $lines[6] =~ /^\s*\d+\s+(\d+)/ ? $1 : undef;
}

# How many processes still have that segment attached (0 once it is gone).
sub shmem_attached {
  my ($shmid) = @_;
  open(my $fh, '<', '/proc/sysvipc/shm') or return 0;
  while (<$fh>) {
    my @f = split;
    return $f[6] if @f > 6 && $f[1] eq $shmid;
  }
  return 0;
}

sub kill_postmaster {
  my $pid = $node->{_pid};
  my $shmid = shmem_id();
  $node->kill9;
  return { pid => $pid, shmid => $shmid };
}

# The old postmaster's children leave once they notice it is gone (a backend running a
# query, when the query ends); until then PostgreSQL refuses to start ("pre-existing shared
# memory block ... is still in use"). They cannot be found by their parent: the moment the
# postmaster dies they are re-parented to init. What PostgreSQL itself checks is whether any
# process still has the old shared memory segment attached, so that is what we wait for;
# then the stale postmaster.pid (whose process may linger as a zombie) is removed and the
# server started. A start that still fails (a child forked as the postmaster died and not
# yet attached when we looked) is retried until the deadline.
sub restart_after_postmaster_kill {
  my ($old) = @_;
  my $deadline = time + 120;
  while (time < $deadline) {
    last if process_gone($old->{pid}) && !(defined $old->{shmid} && shmem_attached($old->{shmid}));
    usleep(50_000);
  }
  return 0 unless process_gone($old->{pid});
  unlink($node->data_dir . '/postmaster.pid');
  unlink($node->host . '/.s.PGSQL.' . $node->port . '.lock');
  $node->{_pid} = undef;
  while (1) {
    return 1 if quiet(sub { $node->start(fail_ok => 1) });
    return 0 if time >= $deadline;
    diag('the server did not start after the postmaster was killed; retrying: '
      . (slurp_file($node->logfile) =~ /(pre-existing shared memory block[^\n]*)/ ? $1 : 'see the server log'));
    unlink($node->data_dir . '/postmaster.pid');
    usleep(500_000);
  }
}

# --- one round ----------------------------------------------------------------------------
my %duration;    # op -> seconds it takes uninterrupted (measured once)
{
  my $s = open_session($node, $DB);
  for my $op (@OP_NAMES) {
    my $o = $OPS{$op};
    if ($o->{prepare}) { my (undef, $err) = run_sql($s, $o->{prepare}->()); die "prepare $op: $err" if $err; }
    my $t = time;
    my (undef, $err) = run_sql($s, $o->{sql}->());
    die "$op failed before any chaos: $err" if $err;
    $duration{$op} = time - $t;
    $o->{after}->() if $o->{after};
  }
  my (undef, $err) = run_sql($s, 'SELECT count(*) FROM viewmgr.refresh_all();');
  die $err if $err;
  close_session($s);
  diag(join(', ', map { sprintf('%s %.0f ms', $_, 1000 * $duration{$_}) } @OP_NAMES)
    . ' uninterrupted');
}

my $started = time;
my %tally;

# Every operation with every way of ending it, in a shuffled order, again and again.
my @COMBOS;
for my $op (@OP_NAMES) {
  push @COMBOS, map { [$op, $_] } qw(backend postmaster terminate), ($OPS{$op}{workers} ? ('worker') : ());
}
my @queue;
my $interrupted = 0;
for my $round (1 .. $ROUNDS) {
  unless (@queue) {
    my @c = @COMBOS;
    push @queue, splice(@c, ri(scalar @c), 1) while @c;
  }
  my ($op, $target) = @{ shift @queue };
  my $o = $OPS{$op};
  my $fraction = rand(1.1);
  $tally{"$op/$target"}++;
  my %info;
  my @problems = eval { one_round($op, $o, $target, $fraction, \%info) };
  push @problems, "the round died: $@" if $@;
  $interrupted++ if $info{interrupted};
  my $what = sprintf('round %d: %s%s, %s at %.0f%% of its usual %.0f ms%s', $round, $op,
    defined $info{pending} ? " ($info{pending} changes pending)" : '',
    $target eq 'terminate' ? 'pg_terminate_backend() of its backend' : "kill -9 of the $target",
    100 * $fraction, 1000 * $duration{$op},
    $info{interrupted} ? ', interrupted it' : ', after it had ended');
  ok(!@problems, $what) or diag(join("\n", map { "  $_" } @problems));
  repair() if @problems;
}
diag(sprintf('rounds: %d, %d of them interrupted the operation (%s), %.0f s', $ROUNDS, $interrupted,
  join(', ', map { "$_ $tally{$_}" } sort keys %tally), time - $started));
done_testing();

sub one_round {
  my ($op, $o, $target, $fraction, $info) = @_;
  my @problems;
  my $ctl = open_session($node, $DB);
  if ($o->{prepare}) {
    my (undef, $err) = run_sql($ctl, $o->{prepare}->());
    die "preparing $op failed: $err" if $err;
  }
  my $before = drift_set($ctl);
  $info->{pending} = scalar keys %$before if $o->{prepare} && $op eq 'sync';

  # the operation, in a session of its own
  my $sess = open_session($node, $DB);
  my ($pid) = run_sql($sess, 'SELECT pg_backend_pid()');
  chomp $pid;
  my $sql = $o->{sql}->();
  quiet(sub { $sess->query_until(qr/started/, "\\echo started\n$sql\n\\echo op-finished\n") });
  my $t0 = time;
  my $crash = $target ne 'terminate';
  my $killed = 'nothing (the operation had ended)';
  my $old_postmaster;
  if ($target eq 'worker') {
    # a worker, at a random moment of its life
    my $deadline = $t0 + 2 * $duration{$op} + 2;
    my $wpid;
    while (time < $deadline) {
      my ($out) = run_sql($ctl, q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_viewmgr refresh worker' ORDER BY random() LIMIT 1});
      chomp($out);
      if ($out =~ /^\d+$/) { $wpid = $out; last; }
      usleep(2_000);
    }
    if ($wpid) {
      usleep(int(1e6 * $fraction * $duration{$op} / 4));
      $killed = "worker $wpid" if kill 9, $wpid;
    }
    $crash = 0 unless $wpid && $killed ne 'nothing (the operation had ended)';
  }
  else {
    usleep(int(1e6 * $fraction * $duration{$op}));
    if ($target eq 'backend') { $killed = "backend $pid" if kill 9, $pid; }
    elsif ($target eq 'postmaster') { $killed = 'the postmaster'; $old_postmaster = kill_postmaster(); }
    else {
      my ($out, $err) = run_sql($ctl, "SELECT pg_terminate_backend($pid)");
      $killed = "backend $pid (SIGTERM)" if !$err && $out =~ /t/;
    }
  }
  eval { $sess->{run}->pump_nb; 1 };
  my $finished_first = ($sess->{stdout} // '') =~ /op-finished/ ? ' (it had already finished)' : '';
  $info->{interrupted} = !$finished_first && $killed !~ /^nothing/;
  close_session($ctl) if $crash;
  close_session($sess);

  if ($target eq 'postmaster') {
    restart_after_postmaster_kill($old_postmaster) or return ('the server did not start again after the postmaster was killed');
  }
  elsif ($crash) {
    server_up() or return ("the server did not come back after $killed was killed");
  }
  $ctl = open_session($node, $DB) if $crash;
  my $ctx = "(killed $killed$finished_first)";

  # the registry matches the catalogs
  my $bad = must($ctl, $CATALOG_SQL);
  push @problems, "managed views missing or of the wrong kind $ctx: $bad" if $bad ne '';
  my $n_unmanaged = must($ctl, $UNMANAGED_SQL);
  push @problems, "unmanaged views lost $ctx: $n_unmanaged of " . scalar(@UNMANAGED) . ' left'
    if $n_unmanaged != @UNMANAGED;

  # drift lists only what was pending before, or 'stale'
  my $after = drift_set($ctl);
  my @new = grep { !$before->{$_} && !/:stale$/ } sort keys %$after;
  push @problems, "drift() after the interruption lists what was not pending before $ctx: @new" if @new;

  # no fresh view is wrong
  push @problems, map { "$_ $ctx" } check_fresh_views($ctl, 0);

  # no worker left, nothing still 'refreshing'
  wait_until($ctl, "SELECT ($WORKERS_SQL) = 0", 10)
    or push @problems, "pg_viewmgr refresh workers still running 10 s later $ctx: "
    . must($ctl, "SELECT string_agg(pid || ' ' || coalesce(state, '') || ' ' || query, '; ') FROM pg_stat_activity WHERE backend_type = 'pg_viewmgr refresh worker'");
  my $refreshing = must($ctl, q{SELECT count(*) FROM viewmgr.status WHERE state = 'refreshing'});
  push @problems, "$refreshing views still 'refreshing' $ctx" if $refreshing ne '0';

  # one sync() leaves no drift but 'stale'
  my (undef, $err) = run_sql($ctl, 'SELECT count(*) FROM viewmgr.sync();');
  push @problems, "sync() after the interruption failed $ctx: $err" if $err;
  my @left = grep { !/:stale$/ } sort keys %{ drift_set($ctl) };
  push @problems, "drift() after one sync() $ctx: @left" if @left;

  # rerunning the operation succeeds
  my ($out, $rerr) = run_sql($ctl, $o->{sql}->());
  push @problems, "rerunning $op failed $ctx: $rerr" if $rerr;
  push @problems, "rerunning $op: some views failed $ctx: $out" if $op eq 'refresh_all' && $out =~ /^failed\|/m;
  $o->{after}->() if $o->{after};
  if ($op eq 'refresh_all' && !$rerr) {
    push @problems, map { "after the rerun, $_" } check_fresh_views($ctl, 1);
  }
  close_session($ctl);
  return @problems;
}

# After a failed round: put things right so the next rounds test something of their own.
sub repair {
  my $s = eval { open_session($node, $DB) } or return;
  run_sql($s, q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'pg_viewmgr refresh worker'});
  run_sql($s, 'SELECT count(*) FROM viewmgr.sync()');
  run_sql($s, 'SELECT count(*) FROM viewmgr.refresh_all(only_stale => false)');
  close_session($s);
  return;
}
