# The staleness oracle (issue 8, SPEC §3 "Staleness"): a seeded randomized test. Random steps
# change a small schema every way PostgreSQL can change what a materialized view's query
# returns — DML of every kind, in replica mode, with triggers disabled, in subtransactions
# and prepared transactions, partitions attached, detached and dropped, inheritance
# children, views in between replaced by register() and by hand, a function, an unmanaged
# materialized view refreshed by hand, a crash that resets the change log — interleaved with
# refresh(), refresh_all() and refresh_all(parallel => 2), with a second session writing
# during a refresh. After every step each managed materialized view that viewmgr.status
# calls 'fresh' must hold exactly what its registered query returns; after every
# refresh_all() every managed materialized view must.
#
#   VIEWMGR_ORACLE_SEED=N    the seed of the random run (default: random, or 1087080868 when
#                            CI=true; always printed)
#   VIEWMGR_ORACLE_STEPS=N   its number of steps (default below, about a minute here)
#   VIEWMGR_ORACLE_KEEP_GOING=1  report every mismatch of a run, not only the first
#   VIEWMGR_ORACLE_RUNS=N    N random runs, seeds SEED, SEED+1, ... (default 1)
#   VIEWMGR_ORACLE_KINDS=dml,crash:5,...  only these step kinds (names in @STEP_KINDS),
#                            optionally with another weight
#   VIEWMGR_ORACLE_TABLES=t1,t2,...     DML only on these tables ('p_*': the partitions)
#   VIEWMGR_ORACLE_TIMEZONE=zone        TimeZone of the random run's sessions (default
#                            Asia/Tokyo; '' for the server's)
#   VIEWMGR_ORACLE_REGRESSION=0  skip the regression seeds (replaying or exploring one seed)
#
# Seeds that once found a defect are run every time, with the steps they need
# (@REGRESSION_SEEDS). A failure prints the seed, the step and the steps before it, and how
# to rerun exactly that run.
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

my $DEFAULT_STEPS = 1500;
my $STEPS = $ENV{VIEWMGR_ORACLE_STEPS} // $DEFAULT_STEPS;
# CI runs one fixed seed (a landing must not depend on the draw); a developer's run draws one.
my $SEED = $ENV{VIEWMGR_ORACLE_SEED}
  // (($ENV{CI} // '') eq 'true' ? 1087080868 : int(rand(2**31 - 1)));
# VIEWMGR_ORACLE_KEEP_GOING=1 (exploring): after a mismatch, refresh everything and go on,
# reporting up to 20 mismatches (or N, when set to N > 1), instead of stopping at the first.
my $KEEP_GOING = $ENV{VIEWMGR_ORACLE_KEEP_GOING} // 0;
die "VIEWMGR_ORACLE_STEPS must be a positive number\n" unless $STEPS =~ /^\d+$/ && $STEPS > 0;
die "VIEWMGR_ORACLE_SEED must be a number\n" unless $SEED =~ /^\d+$/;

# Seeds that found a defect: [seed, steps to run, what it showed, profile (the step kinds
# and tables the run was restricted to, as with VIEWMGR_ORACLE_KINDS/_TABLES)]. Each runs
# every time, in a database of its own, before the random run.
my %P = (
  register  => { kinds => [qw(dml register refresh_all)], tables => [qw(t1 t2)] },
  by_hand   => { kinds => [qw(dml by_hand refresh_all)], tables => [qw(t1 p)] },
  replica   => { kinds => [qw(replica refresh_all)], tables => [qw(t1 t2 p)] },
  disabled  => { kinds => [qw(disabled refresh_all)], tables => [qw(t1 t2 p)] },
  partition => { kinds => [qw(partition refresh_all dml:3)], tables => [qw(p)] },
  inherit   => { kinds => [qw(dml refresh_all)], tables => [qw(ic ic2)] },
  no_inherit => { kinds => [qw(inherit refresh_all dml:2)], tables => [qw(ip)] },
  function  => { kinds => [qw(dml refresh_all)], tables => [qw(tf)] },
  unmanaged => { kinds => [qw(dml:2 refresh_um refresh_all)], tables => [qw(t2)] },
  timezone  => { kinds => [qw(dml refresh_all refresh)], tables => [qw(t3)], timezone => 'Asia/Tokyo' },
  new_source => { kinds => [qw(new_source:5 dml refresh_all)], tables => [qw(t1)] },
  prepared_crash => { kinds => [qw(dml prepare:10 finish_prepared:6 refresh_all crash:3)],
                      tables => [qw(t1 t2)] },
);
# Found on main 77a1ff4 (issue 8); the step given is where the first mismatch showed, the
# steps run are a few more.
my @REGRESSION_SEEDS = (
  [12, 25, 'step 1: v_a re-registered with another filter, m_a and m_b stay fresh with the old rows',
    $P{register}],
  [10, 25, 'step 4: v_d re-registered to read ic; refresh_all() skips m_d and calls it fresh',
    $P{register}],
  [12, 25, 'step 1: CREATE OR REPLACE VIEW by hand on the unmanaged v_b in between, m_b stays fresh',
    $P{by_hand}],
  [11, 35, 'step 15: CREATE OR REPLACE VIEW by hand on the managed v_c, m_c stays fresh', $P{by_hand}],
  [15, 25, 'step 1: INSERT with session_replication_role = replica is not counted', $P{replica}],
  [12, 25, 'step 5: DELETE while the table\'s triggers are disabled is not counted', $P{disabled}],
  [11, 25, 'step 2: DROP TABLE of a partition, m_p and m_c stay fresh with its rows', $P{partition}],
  [15, 25, 'step 1: DETACH PARTITION, m_p and m_c stay fresh with its rows', $P{partition}],
  [14, 25, 'step 1: INSERT into an inheritance child, m_i stays fresh', $P{inherit}],
  [11, 25, 'step 2: ALTER TABLE ic2 NO INHERIT ip, m_i stays fresh with its rows', $P{no_inherit}],
  [14, 25, 'step 1: a write to the table my_rows() reads, m_f (FROM my_rows()) stays fresh',
    $P{function}],
  [14, 25, 'step 4: the unmanaged um refreshed by hand, m_u stays fresh with its old rows',
    $P{unmanaged}],
  [3000, 40, 'step 27: a prepared transaction pending at a crash (change-log reset) commits after '
      . 'refresh_all(); m_a and m_b stay fresh without its rows', $P{prepared_crash}],
  [13, 25, 'step 7: refresh_all() called with TimeZone Asia/Tokyo refreshes m_tz in the server\'s '
      . 'time zone', $P{timezone}],
  [10, 25, 'step 1: a write committed while register() builds m_ns_1 over a table not tracked yet '
      . 'is lost', $P{new_source}],
  [1, 25, 'step 1 (every step kind): COPY into the inheritance child ic2, m_i stays fresh', undef],
  # Found on main 720bf05.
  [510151067, 266, 'step 266 (every step kind): a prepared transaction writes the new, untracked '
      . 'partition p_1; refresh_all() cannot install its trigger meanwhile; once it commits, a '
      . 'refresh installs it without logging the write made before: m_c and m_p fresh without it',
    { timezone => 'Asia/Tokyo' }],
  [510151078, 337, 'step 337 (every step kind): "the refresh never reached the gate": refresh(\'m_gate\') '
      . 'waited (up to statement_timeout) to install the trigger on the untracked partition p_3, '
      . 'whose lock a pending prepared transaction held', { timezone => 'Asia/Tokyo' }],
);

my $node;
my @STEP_KINDS;
my $total_steps = 0;
my $total_checks = 0;
my $run_no = 0;

# --- one run --------------------------------------------------------------------------------

# State of one run: the sessions, what the schema looks like now (the random choices depend
# only on this and the seed, never on what the database answers, so a seed replays exactly).
my %S;

sub ri { return int(rand($_[0])); }
sub pick { return $_[ ri(scalar @_) ]; }
sub chance { return rand() < $_[0]; }

# oracle_run(seed, steps, label, profile): profile {kinds => [names], tables => [names]}
# restricts the run to some step kinds and tables ('p_*': the partitions).
sub oracle_run {
  my ($seed, $steps, $label, $profile) = @_;
  return if eval { oracle_run1($seed, $steps, $label, $profile); 1 };
  fail("$label: the run could not go on");
  diag("ORACLE RUN DIED: seed $seed ($label): $@");
  eval { cleanup_run(); 1 };
  return;
}

sub oracle_run1 {
  my ($seed, $steps, $label, $profile) = @_;
  $profile //= {};
  my @kinds = @STEP_KINDS;
  if ($profile->{kinds}) {
    # 'name' or 'name:weight'
    my %want = map { my ($k, $w) = split /:/; ($k => $w) } @{ $profile->{kinds} };
    @kinds = map { [ $_->[0], $_->[1], $want{ $_->[0] } // $_->[2] ] }
      grep { exists $want{ $_->[0] } } @STEP_KINDS;
    die "unknown step kinds in @{ $profile->{kinds} }\n" unless @kinds == keys %want;
  }
  $run_no++;
  my $db = "oracle_$run_no";
  $node->safe_psql('postgres', "CREATE DATABASE $db");
  setup_schema($db, $profile->{timezone});
  srand($seed);
  %S = (
    db => $db, seed => $seed, steps => $steps, label => $label, log => [],
    parts => { map { ($_ => 'attached') } 0 .. 3 },
    ic2_inherits => 1, pending => [], gxid => 0, checks => 0,
    kinds => \@kinds, tables => $profile->{tables}, timezone => $profile->{timezone},
    rerun_env => join('', map { $profile->{$_} ? 'VIEWMGR_ORACLE_' . uc($_) . '=' . join(',', @{ $profile->{$_} }) . ' ' : '' } qw(kinds tables))
      . 'VIEWMGR_ORACLE_TIMEZONE=' . ($profile->{timezone} // "''") . ' ',
  );
  open_sessions();
  my @failures;
  for my $step (1 .. $steps) {
    $S{step} = $step;
    my $failure = eval { one_step() } // ($@ ? "step $step died (a session hung or went away): $@" : undef);
    $total_steps++;
    next unless $failure;
    push @failures, report_failure($failure);
    last unless $KEEP_GOING;
    # exploring: put everything right and go on
    my (undef, $err) = exec_main('SELECT * FROM viewmgr.refresh_all(only_stale => false);');
    last if $err || @failures >= ($KEEP_GOING > 1 ? $KEEP_GOING : 20);
  }
  if (!@failures || $KEEP_GOING) {
    my $failure = finish_run();
    push @failures, report_failure($failure) if $failure;
  }
  if (@failures) {
    fail("$label: after every step, every fresh view holds what its query returns");
    diag($_) for @failures;
  }
  else {
    pass("$label: $steps steps, $S{checks} checks, every fresh view held what its query returns");
  }
  cleanup_run();
  return;
}

sub report_failure {
  my ($failure) = @_;
  my @last = @{ $S{log} };
  my $n = $ENV{VIEWMGR_ORACLE_SHOW} // ($KEEP_GOING ? 6 : 15);
  @last = @last[ -$n .. -1 ] if @last > $n;
  return "ORACLE FAILURE: seed $S{seed}, step $S{step} of $S{steps} ($S{label})\n"
    . "  rerun: $S{rerun_env}VIEWMGR_ORACLE_SEED=$S{seed} VIEWMGR_ORACLE_STEPS=$S{step} prove -v t/005_staleness_oracle.pl\n"
    . "  $failure\n  last steps:\n" . join('', map { "    $_\n" } @last);
}

sub open_sessions {
  for my $name (qw(main writer holder runner)) {
    $S{$name} = open_session($node, $S{db}, timeout => 120);
    run_sql($S{$name}, "SET statement_timeout = '60s'");
    run_sql($S{$name}, "SET TimeZone = '$S{timezone}'") if $S{timezone};
  }
  ($S{writer_pid}) = run_sql($S{writer}, 'SELECT pg_backend_pid()');
  chomp $S{writer_pid};
  return;
}

sub close_sessions {
  close_session(delete $S{$_}) for qw(main writer holder runner);
  return;
}

sub cleanup_run {
  my $main = $S{main};
  for my $gid (@{ $S{pending} }) {
    run_sql($main, "ROLLBACK PREPARED '$gid'");
  }
  close_sessions();
  return;
}

# The schema, built in the session's time zone ($tz, if given) like everything later.
sub setup_schema {
  my ($db, $tz) = @_;
  $node->safe_psql($db, ($tz ? "SET TimeZone = '$tz';" : '') . q{
    CREATE EXTENSION pg_viewmgr;
    CREATE SEQUENCE ids;
    CREATE TABLE t1 (id bigint DEFAULT nextval('ids'), g int, v int);
    CREATE TABLE t2 (id bigint DEFAULT nextval('ids'), g int, v int);
    CREATE TABLE tf (id bigint DEFAULT nextval('ids'), g int, v int);
    CREATE TABLE t3 (id bigint DEFAULT nextval('ids'), g int, v int);
    CREATE TABLE p (id bigint DEFAULT nextval('ids'), k int NOT NULL, g int, v int)
      PARTITION BY RANGE (k);
    CREATE TABLE p_0 PARTITION OF p FOR VALUES FROM (0) TO (10);
    CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM (10) TO (20);
    CREATE TABLE p_2 PARTITION OF p FOR VALUES FROM (20) TO (30);
    CREATE TABLE p_3 PARTITION OF p FOR VALUES FROM (30) TO (40);
    CREATE TABLE ip (id bigint DEFAULT nextval('ids'), g int, v int);
    CREATE TABLE ic (extra text) INHERITS (ip);
    CREATE TABLE ic2 () INHERITS (ip);
    INSERT INTO t1 (g, v) SELECT i % 10, i FROM generate_series(1, 40) i;
    INSERT INTO t2 (g, v) SELECT i % 7, i * 3 FROM generate_series(1, 30) i;
    INSERT INTO tf (g, v) SELECT i % 5, i FROM generate_series(1, 20) i;
    INSERT INTO t3 (g, v) SELECT i % 24, i FROM generate_series(1, 30) i;
    INSERT INTO p (k, g, v) SELECT i % 40, i % 6, i FROM generate_series(1, 60) i;
    INSERT INTO ip (g, v) SELECT i % 4, i FROM generate_series(1, 10) i;
    INSERT INTO ic (g, v) SELECT i % 4, i * 2 FROM generate_series(1, 10) i;
    INSERT INTO ic2 (g, v) SELECT i % 4, i * 5 FROM generate_series(1, 10) i;

    -- a set-returning SQL function: what reads through it cannot be tracked
    CREATE FUNCTION my_rows() RETURNS TABLE(g int, v int) LANGUAGE sql STABLE
      AS 'SELECT g, v FROM public.tf';
    -- a gate: refreshing m_gate waits while lock 4242 is held elsewhere (after its scan)
    CREATE FUNCTION gate(x bigint) RETURNS bigint LANGUAGE plpgsql VOLATILE
      AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN x; END $$;
    -- an unmanaged materialized view, refreshed by hand
    CREATE MATERIALIZED VIEW um AS SELECT g, v FROM t2 WHERE v % 3 = 0;

    -- managed plain views in between, and one unmanaged plain view between managed ones
    SELECT viewmgr.register('v_a', 'SELECT id, g, v FROM t1 WHERE v >= 0');
    CREATE VIEW v_b AS SELECT g, v FROM v_a WHERE g < 8;
    SELECT viewmgr.register('v_c', 'SELECT k, g, v FROM p WHERE v >= 0');
    SELECT viewmgr.register('v_d', 'SELECT g, v FROM t2');

    -- managed materialized views over all of it
    SELECT viewmgr.register('m_a', 'SELECT g, count(*) AS n, sum(v) AS s FROM v_a GROUP BY g',
                            materialized => true, indexes => ARRAY['UNIQUE (g)']);
    SELECT viewmgr.register('m_b', 'SELECT g, count(*) AS n, sum(v) AS s FROM v_b GROUP BY g',
                            materialized => true);
    SELECT viewmgr.register('m_c', 'SELECT k / 10 AS part, count(*) AS n, sum(v) AS s FROM v_c GROUP BY 1',
                            materialized => true, indexes => ARRAY['UNIQUE (part)']);
    SELECT viewmgr.register('m_p', 'SELECT count(*) AS n, sum(v) AS s, sum(k) AS ks FROM p',
                            materialized => true);
    SELECT viewmgr.register('m_i', 'SELECT count(*) AS n, sum(v) AS s FROM ip',
                            materialized => true);
    SELECT viewmgr.register('m_d', 'SELECT g, count(*) AS n, sum(v) AS s FROM v_d GROUP BY g',
                            materialized => true, indexes => ARRAY['UNIQUE (g)']);
    SELECT viewmgr.register('m_f', 'SELECT g, count(*) AS n, sum(v) AS s FROM my_rows() GROUP BY g',
                            materialized => true);
    SELECT viewmgr.register('m_u', 'SELECT g, count(*) AS n, sum(v) AS s FROM um GROUP BY g',
                            materialized => true, indexes => ARRAY['UNIQUE (g)']);
    SELECT viewmgr.register('m_m', 'SELECT sum(n) AS n, sum(s) AS s FROM m_a',
                            materialized => true);
    SELECT viewmgr.register('m_j', 'SELECT a.g, count(*) AS n, sum(b.v) AS s FROM t1 a JOIN t2 b ON a.g = b.g GROUP BY a.g',
                            materialized => true, indexes => ARRAY['UNIQUE (g)']);
    -- what it holds depends on the session's TimeZone
    SELECT viewmgr.register('m_tz', $$SELECT to_char(timestamptz '2020-01-01 00:00:00+00' + g * interval '1 hour', 'YYYY-MM-DD HH24') AS h, count(*) AS n FROM t3 GROUP BY 1$$,
                            materialized => true, indexes => ARRAY['UNIQUE (h)']);
    SELECT viewmgr.register('m_gate', 'SELECT gate(count(*)) AS n, sum(v) AS s FROM t2',
                            materialized => true);
  });
  install_oracle_check($node, $db);
  return;
}

# --- steps ----------------------------------------------------------------------------------

sub note_step {
  my ($what) = @_;
  push @{ $S{log} }, "step $S{step}: $what";
  shift @{ $S{log} } while @{ $S{log} } > 40;
  return;
}

# Runs SQL in the main session; an error is a failure of the run (returned as text).
sub exec_main {
  my ($sql, $session) = @_;
  $session //= $S{main};
  my ($out, $err) = run_sql($session, $sql);
  if ($err) {
    run_sql($session, 'ROLLBACK');
    run_sql($session, 'RESET session_replication_role');
    my $short = $sql;
    $short =~ s/\s+/ /g;
    $short = substr($short, 0, 300);
    return (undef, "unexpected error in step $S{step}: $err  (SQL: $short)");
  }
  return ($out, undef);
}

sub attached_parts { return grep { $S{parts}{$_} eq 'attached' } sort keys %{ $S{parts} }; }
sub detached_parts { return grep { $S{parts}{$_} eq 'detached' } sort keys %{ $S{parts} }; }
sub dropped_parts { return grep { $S{parts}{$_} eq 'dropped' } sort keys %{ $S{parts} }; }

# The tables a DML step may write, as [table, kind]; kind says which columns it has.
sub dml_targets {
  my @t = (['t1', 'plain'], ['t2', 'plain'], ['tf', 'plain'], ['ip', 'only'], ['ic', 'plain'],
    ['ic2', 'plain'], ['t3', 'plain'], map { ["ns_$_", 'plain'] } 1 .. ($S{new_sources} // 0));
  push @t, ['p', 'part'] if attached_parts();
  push @t, map { ["p_$_", "part:$_"] } attached_parts(), detached_parts();
  if ($S{tables}) {
    my %keep = map { ($_ => 1) } @{ $S{tables} };
    @t = grep { $keep{ $_->[0] } || ($keep{'p_*'} && $_->[0] =~ /^p_/) } @t;
  }
  return @t;
}

# One data-changing statement on table $t (no TRUNCATE: that takes an exclusive lock).
sub dml_sql {
  my ($t, $kind, %o) = @_;
  my $what = $o{insert_only} ? 'insert' : pick(qw(insert insert insert update delete copy));
  my $only = $kind eq 'only' ? 'ONLY ' : '';
  my $n = 1 + ri(8);
  my ($a, $b) = (1 + ri(9), ri(50));
  if ($what eq 'insert' || $what eq 'copy') {
    my @rows;
    for my $i (1 .. $n) {
      my @r = (($i * $a + $b) % 10, ($i * 7 + $b) % 60);
      unshift @r, part_key($kind, $i + $b) if $kind =~ /^part/;
      push @rows, \@r;
    }
    my $cols = $kind =~ /^part/ ? '(k, g, v)' : '(g, v)';
    if ($what eq 'copy') {
      # (psql stops reading a script after COPY ... FROM STDIN data; the server reads it from
      # a program instead, through the same COPY FROM code)
      return "COPY $t $cols FROM PROGRAM 'printf \"" . join('', map { join('\t', @$_) . '\n' } @rows) . "\"';";
    }
    return "INSERT INTO $t $cols VALUES " . join(', ', map { '(' . join(', ', @$_) . ')' } @rows) . ';';
  }
  if ($what eq 'update') {
    my $set = pick('v = v + 1', 'v = v * 2 % 97', 'g = (g + 1) % 10', 'v = NULL', 'v = coalesce(v, 0) + 5');
    return "UPDATE $only$t SET $set WHERE (id + $b) % " . (2 + ri(5)) . ' = 0;';
  }
  return "DELETE FROM $only$t WHERE (id + $b) % " . (2 + ri(6)) . ' = 0;';
}

# A partition key for a row: for the parent, one in an attached partition; for a partition,
# one in its own range (so a detached partition can be attached again).
sub part_key {
  my ($kind, $i) = @_;
  if ($kind eq 'part') {
    my @att = attached_parts();
    return $att[ $i % @att ] * 10 + ($i * 3) % 10;
  }
  my ($part) = $kind =~ /^part:(\d+)/;
  return $part * 10 + ($i * 3) % 10;
}

sub random_dml {
  my (%o) = @_;
  my ($t, $kind) = @{ pick(dml_targets()) };
  return (dml_sql($t, $kind, %o), $t);
}

# Steps that take strong locks first end the prepared transactions still pending (which hold
# row-exclusive locks and would make them wait).
sub finish_pending {
  my @out;
  while (my $gid = shift @{ $S{pending} }) {
    my $how = chance(0.7) ? 'COMMIT' : 'ROLLBACK';
    my (undef, $err) = exec_main("$how PREPARED '$gid';");
    return $err if $err;
    push @out, "$how PREPARED $gid";
  }
  note_step(join('; ', @out)) if @out;
  return undef;
}

sub check_refresh_rows {
  my ($out, $what) = @_;
  for my $line (split /\n/, $out // '') {
    my ($view, $action, $duration, $detail) = split /\|/, $line;
    next unless defined $action;
    return "$what: $view $action ($detail)" if $action eq 'failed';
  }
  return undef;
}

sub step_dml {
  my ($sql) = random_dml();
  note_step("dml: $sql");
  return (exec_main($sql))[1];
}

# Whether the run writes in replica mode at all: the steps that can (TRUNCATE, prepared
# transactions, the gated writer) do so only when the 'replica' kind is part of the run.
sub replica_ok { return scalar grep { $_->[0] eq 'replica' } @{ $S{kinds} }; }

sub step_replica {
  my ($sql) = random_dml();
  note_step("replica: $sql");
  return (exec_main("SET session_replication_role = replica;\n$sql\nRESET session_replication_role;"))[1];
}

sub step_subtransactions {
  my ($sql) = random_dml();
  my ($sql2) = random_dml();
  my ($sql3) = random_dml();
  my $end = chance(0.8) ? 'COMMIT' : 'ROLLBACK';
  my $inner = chance(0.7) ? 'ROLLBACK TO s1' : 'RELEASE s1';
  my $script = "BEGIN;\n$sql\nSAVEPOINT s1;\n$sql2\n$inner;\n$sql3\n$end;";
  note_step("subtransactions: $script");
  return (exec_main($script))[1];
}

# with the table's triggers disabled (tracking is then disabled too)
sub step_triggers_disabled {
  my $err = finish_pending();
  return $err if $err;
  my ($sql, $t) = random_dml();
  my $script = "ALTER TABLE $t DISABLE TRIGGER USER;\n$sql\nALTER TABLE $t ENABLE TRIGGER USER;";
  note_step("triggers disabled: $script");
  return (exec_main($script))[1];
}

sub step_truncate {
  my $err = finish_pending();
  return $err if $err;
  my ($t, $kind) = @{ pick(dml_targets()) };
  my $only = ($kind eq 'only' || chance(0.2)) ? 'ONLY ' : '';
  $only = '' if $t eq 'p';
  my $sql = (chance(0.2) && replica_ok()) ? "SET session_replication_role = replica; TRUNCATE $only$t; RESET session_replication_role;"
    : "TRUNCATE $only$t;";
  note_step($sql);
  return (exec_main($sql))[1];
}

sub step_prepare {
  return step_dml() if @{ $S{pending} } >= 4;
  my $gid = "ox_$S{db}_" . ++$S{gxid};
  my ($sql1) = random_dml(insert_only => 1);
  # Only inserts get prepared: an UPDATE or DELETE would lock rows that later steps write.
  my ($sql2) = random_dml(insert_only => 1);
  my $replica = chance(0.25) && replica_ok();
  my $script = "BEGIN;\n" . ($replica ? "SET LOCAL session_replication_role = replica;\n" : '')
    . "$sql1\nSAVEPOINT s;\n$sql2\n" . (chance(0.5) ? "ROLLBACK TO s;\n" : '')
    . "PREPARE TRANSACTION '$gid';";
  note_step("prepare: $script");
  my (undef, $err) = exec_main($script);
  return $err if $err;
  push @{ $S{pending} }, $gid;
  return undef;
}

sub step_finish_prepared {
  return step_dml() unless @{ $S{pending} };
  my $i = ri(scalar @{ $S{pending} });
  my ($gid) = splice(@{ $S{pending} }, $i, 1);
  my $how = chance(0.7) ? 'COMMIT' : 'ROLLBACK';
  note_step("$how PREPARED '$gid'");
  return (exec_main("$how PREPARED '$gid';"))[1];
}

sub range_of { my $i = shift; return 'FOR VALUES FROM (' . ($i * 10) . ') TO (' . ($i * 10 + 10) . ')'; }

sub step_partition {
  my $err = finish_pending();
  return $err if $err;
  my @att = attached_parts();
  my @det = detached_parts();
  my @drp = dropped_parts();
  my @choices;
  push @choices, 'detach' if @att > 1;
  push @choices, 'attach' if @det;
  push @choices, 'drop' if @att > 1 || @det;
  push @choices, 'create' if @drp;
  my $op = pick(@choices);
  my $sql;
  if ($op eq 'detach') {
    my $i = pick(@att);
    $sql = "ALTER TABLE p DETACH PARTITION p_$i" . (chance(0.2) ? ' CONCURRENTLY' : '') . ';';
    $S{parts}{$i} = 'detached';
  }
  elsif ($op eq 'attach') {
    my $i = pick(@det);
    $sql = "ALTER TABLE p ATTACH PARTITION p_$i " . range_of($i) . ';';
    $S{parts}{$i} = 'attached';
  }
  elsif ($op eq 'drop') {
    my $i = pick(@att > 1 ? (@att, @det) : @det);
    $sql = "DROP TABLE p_$i;";
    $S{parts}{$i} = 'dropped';
  }
  else {
    my $i = pick(@drp);
    if (chance(0.5)) {
      $sql = "CREATE TABLE p_$i PARTITION OF p " . range_of($i) . ';';
      $S{parts}{$i} = 'attached';
    }
    else {
      # a table with rows, attached later
      $sql = "CREATE TABLE p_$i (LIKE p INCLUDING DEFAULTS);\n"
        . "INSERT INTO p_$i (k, g, v) SELECT $i * 10 + x % 10, x % 6, x * 11 % 50 FROM generate_series(1, "
        . (1 + ri(6)) . ') x;';
      $S{parts}{$i} = 'detached';
    }
  }
  note_step("partition $op: $sql");
  return (exec_main($sql))[1];
}

sub step_inherit {
  my $err = finish_pending();
  return $err if $err;
  # The catalog says whether ic2 inherits ip now (a step may have failed or been rolled
  # back by a crash, so a flag kept here could be wrong).
  $S{ic2_inherits} = $node->safe_psql($S{db},
    q{SELECT count(*) FROM pg_inherits WHERE inhrelid = 'ic2'::regclass AND inhparent = 'ip'::regclass}) ne '0';
  my $sql = $S{ic2_inherits} ? 'ALTER TABLE ic2 NO INHERIT ip;' : 'ALTER TABLE ic2 INHERIT ip;';
  $S{ic2_inherits} = !$S{ic2_inherits};
  note_step($sql);
  return (exec_main($sql))[1];
}

sub step_register {
  my $err = finish_pending();
  return $err if $err;
  my $which = pick(qw(v_a v_c v_d));
  my $def;
  if ($which eq 'v_a') { $def = 'SELECT id, g, v FROM t1 WHERE v >= ' . ri(50); }
  elsif ($which eq 'v_c') { $def = 'SELECT k, g, v FROM p WHERE v >= ' . ri(50); }
  else {
    $def = pick('SELECT g, v FROM t2', 'SELECT g, v FROM t1 WHERE g % 2 = 0', 'SELECT g, v FROM ic',
      'SELECT g, v FROM ip', 'SELECT g, v FROM tf WHERE v > ' . ri(20));
  }
  my $sql = "SELECT viewmgr.register('$which', '" . ($def =~ s/'/''/gr) . "');";
  note_step($sql);
  return (exec_main($sql))[1];
}

sub step_replace_by_hand {
  my $err = finish_pending();
  return $err if $err;
  my $sql = chance(0.5)
    ? 'CREATE OR REPLACE VIEW v_b AS SELECT g, v FROM v_a WHERE g < ' . ri(11) . ';'
    : 'CREATE OR REPLACE VIEW v_c AS SELECT k, g, v FROM p WHERE v >= ' . ri(50) . ';';
  note_step("by hand: $sql");
  return (exec_main($sql))[1];
}

sub step_sync {
  my $err = finish_pending();
  return $err if $err;
  note_step('SELECT * FROM viewmgr.sync()');
  return (exec_main('SELECT * FROM viewmgr.sync();'))[1];
}

sub step_refresh_um {
  my $sql = chance(0.5) ? 'REFRESH MATERIALIZED VIEW um;'
    : 'BEGIN; REFRESH MATERIALIZED VIEW um; COMMIT;';
  note_step($sql);
  return (exec_main($sql))[1];
}

my @MATVIEWS = qw(m_a m_b m_c m_p m_i m_d m_f m_u m_m m_j m_gate m_tz);

sub step_refresh_one {
  my $mv = pick(@MATVIEWS);
  my $cascade = chance(0.3) ? ', cascade => true' : '';
  my $conc = pick('', ', concurrently => false', '');
  my $sql = "SELECT * FROM viewmgr.refresh('$mv'$conc$cascade);";
  note_step($sql);
  my ($out, $err) = exec_main($sql);
  return $err if $err;
  $err = check_refresh_rows($out, $sql);
  return $err if $err;
  # the view just refreshed holds what its query returns
  return check_views(0, [$mv]);
}

sub step_refresh_all {
  my $v = rand();
  my $sql;
  if ($v < 0.4) { $sql = 'SELECT * FROM viewmgr.refresh_all();'; }
  elsif ($v < 0.8) { $sql = 'SELECT * FROM viewmgr.refresh_all(parallel => 2);'; }
  elsif ($v < 0.9) {
    # inside a transaction that has written something: refreshes in the calling session
    my ($dml) = random_dml();
    $sql = "BEGIN;\n$dml\nSELECT * FROM viewmgr.refresh_all(parallel => " . (1 + ri(2)) . ");\nCOMMIT;";
  }
  else { $sql = 'SELECT * FROM viewmgr.refresh_all(only_stale => false, parallel => ' . (1 + ri(2)) . ');'; }
  note_step($sql);
  my ($out, $err) = exec_main($sql);
  return $err if $err;
  $err = check_refresh_rows($out, $sql);
  return $err if $err;
  return check_views(1);
}

# A second session commits writes while refresh_all(parallel => 2) runs.
sub step_concurrent_writer {
  my $w = $S{writer};
  my @targets = grep { $_->[0] =~ /^(t1|t2|ic|ip)$/ } dml_targets();
  my ($t) = @targets ? @{ pick(@targets) } : ('t2');
  my $n = 5 + ri(10);
  my $body = "FOR i IN 1..$n LOOP INSERT INTO $t (g, v) VALUES (i % 10, i * 3); COMMIT; "
    . "PERFORM pg_sleep(0.002); END LOOP;";
  my $refresh = pick('SELECT * FROM viewmgr.refresh_all(parallel => 2);',
    'SELECT * FROM viewmgr.refresh_all();');
  note_step("concurrent writer ($n transactions into $t) during $refresh");
  $w->{stderr} = '';
  quiet(sub { $w->query_until(qr/started/, "\\echo started\nDO \$\$ BEGIN $body END \$\$;\n") });
  my ($out, $err) = exec_main($refresh);
  my (undef, $werr) = run_sql($w, 'SELECT 1');
  return "concurrent writer failed: $werr" if $werr;
  return $err if $err;
  $err = check_refresh_rows($out, $refresh);
  return $err if $err;
  # The writer may have committed after the refresh's snapshots: only fresh views must hold.
  return check_views(0);
}

# A write committed while m_gate's refresh is past its scan (the refresh's snapshot cannot
# see it): m_gate must not be fresh afterwards.
sub step_gated_writer {
  my ($holder, $runner, $w) = @S{qw(holder runner writer)};
  my (undef, $err) = run_sql($holder, 'SELECT pg_advisory_lock(4242)');
  return "holder: $err" if $err;
  my $refresh = pick("SELECT * FROM viewmgr.refresh('m_gate');",
    'SELECT * FROM viewmgr.refresh_all(only_stale => false, parallel => 2);',
    "SELECT * FROM viewmgr.refresh('m_gate', concurrently => false);");
  my ($dml) = dml_sql('t2', 'plain');
  my $replica = chance(0.3) && replica_ok();
  $dml = "SET session_replication_role = replica; $dml RESET session_replication_role;" if $replica;
  note_step("gated: $refresh waits after its scan while another session commits: $dml");
  $runner->{stderr} = '';
  quiet(sub { $runner->query_until(qr/started/, "\\echo started\n$refresh\n") });
  my $waiting = wait_until($S{main},
    q{SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted}, 20);
  async_write($dml);
  run_sql($holder, 'SELECT pg_advisory_unlock(4242)');
  my $werr = async_write_result();
  my ($out, $rerr) = run_sql($runner, "SELECT 'end'");
  return "the refresh never reached the gate" unless $waiting;
  return $werr if $werr;
  return "gated refresh failed: $rerr" if $rerr;
  $err = check_refresh_rows($out, $refresh);
  return $err if $err;
  return check_views(0);
}

# The writer session runs $sql without waiting for it; returns once it has committed or
# waits for a lock (a refresh or build that locks the table out keeps the writer waiting
# until it ends, which is fine: the write then comes after it).
sub async_write {
  my ($sql) = @_;
  my $w = $S{writer};
  my $marker = "wdone_$S{db}_$S{step}";
  $w->{stderr} = '';
  quiet(sub { $w->query_until(qr/wstarted/, "\\echo wstarted\n$sql\nSELECT '$marker';\n") });
  wait_until($S{main}, "SELECT (state = 'idle' AND query LIKE '%$marker%') OR wait_event_type = 'Lock' "
      . "FROM pg_stat_activity WHERE pid = $S{writer_pid}", 20);
  return;
}

sub async_write_result {
  my (undef, $err) = run_sql($S{writer}, 'SELECT 1');
  return $err ? "writer: $err" : undef;
}

# A materialized view registered over a table nothing tracked yet, while another session
# commits a write to that table during the build (after the build's scan): the new view
# must not be fresh without that write.
sub step_new_source {
  my $n = ++$S{new_sources};
  my ($holder, $runner) = @S{qw(holder runner)};
  my $rows = 1 + ri(20);
  my ($dml) = dml_sql("ns_$n", 'plain', insert_only => 1);
  my (undef, $err) = exec_main("CREATE TABLE ns_$n (id bigint DEFAULT nextval('ids'), g int, v int);\n"
      . "INSERT INTO ns_$n (g, v) SELECT x % 4, x FROM generate_series(1, $rows) x;");
  return $err if $err;
  my $register = "SELECT viewmgr.register('m_ns_$n', 'SELECT gate(count(*)) AS n, sum(v) AS s FROM ns_$n', "
    . 'materialized => true);';
  note_step("new source: $register waits after its scan while another session commits: $dml");
  (undef, $err) = run_sql($holder, 'SELECT pg_advisory_lock(4242)');
  return "holder: $err" if $err;
  $runner->{stderr} = '';
  quiet(sub { $runner->query_until(qr/started/, "\\echo started\n$register\n") });
  my $waiting = wait_until($S{main},
    q{SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted}, 20);
  async_write($dml);
  run_sql($holder, 'SELECT pg_advisory_unlock(4242)');
  my $werr = async_write_result();
  my (undef, $rerr) = run_sql($runner, "SELECT 'end'");
  return "the build never reached the gate" unless $waiting;
  return $werr if $werr;
  return "register failed: $rerr" if $rerr;
  return check_views(0);
}

# The server crashes (immediate stop) and restarts: crash recovery empties the unlogged change
# log; prepared transactions survive it and may commit afterwards.
sub step_crash {
  note_step('crash: immediate stop and restart' . (@{ $S{pending} } ? " with prepared @{ $S{pending} } pending" : ''));
  close_sessions();
  $node->stop('immediate');
  $node->start;
  open_sessions();
  return undef;
}

# [name, step, weight]; VIEWMGR_ORACLE_KINDS (or a regression seed's profile) can restrict a
# run to some of them.
@STEP_KINDS = (
  ['dml', \&step_dml, 22], ['replica', \&step_replica, 6], ['subtxn', \&step_subtransactions, 8],
  ['disabled', \&step_triggers_disabled, 2], ['truncate', \&step_truncate, 4],
  ['prepare', \&step_prepare, 5], ['finish_prepared', \&step_finish_prepared, 5],
  ['partition', \&step_partition, 5], ['inherit', \&step_inherit, 2],
  ['register', \&step_register, 5], ['by_hand', \&step_replace_by_hand, 4],
  ['sync', \&step_sync, 2], ['refresh_um', \&step_refresh_um, 4],
  ['refresh', \&step_refresh_one, 6], ['refresh_all', \&step_refresh_all, 12],
  ['writer', \&step_concurrent_writer, 2], ['gated', \&step_gated_writer, 2],
  ['crash', \&step_crash, 0.4], ['new_source', \&step_new_source, 0.5],
);

sub one_step {
  my @kinds = @{ $S{kinds} };
  my $weight = 0;
  $weight += $_->[2] for @kinds;
  my $x = rand($weight);
  my $fn;
  for my $k (@kinds) {
    $fn = $k->[1];
    last if ($x -= $k->[2]) < 0;
  }
  my $err = $fn->();
  return $err if $err;
  return check_views(0);
}

# After the last step: end what is pending, refresh everything stale, and every view holds.
sub finish_run {
  $S{step} = 'end';
  my $err = finish_pending();
  return $err if $err;
  $err = check_views(0);
  return $err if $err;
  note_step('final refresh_all()');
  my ($out, $e2) = exec_main('SELECT * FROM viewmgr.refresh_all();');
  return $e2 if $e2;
  $err = check_refresh_rows($out, 'final refresh_all()');
  return $err if $err;
  return check_views(1);
}

# Compares the views (every one with $all, else the fresh ones, plus those in $also).
sub check_views {
  my ($all, $also) = @_;
  my %also = map { ("public.$_" => 1) } @{ $also // [] };
  my ($out, $err) = run_sql($S{main}, oracle_check_sql($all || %also ? 1 : 0));
  if ($err) {
    run_sql($S{main}, 'ROLLBACK');
    return "the check failed: $err";
  }
  my @bad;
  for my $line (split /\n/, $out) {
    my ($view, $state, $extra, $missing) = split /\|/, $line;
    next unless defined $missing;
    next unless $all || !%also || $also{$view} || $state eq 'fresh';
    $S{checks}++;
    $total_checks++;
    push @bad, "$view (status '$state') holds $extra rows its query does not return and lacks $missing it returns"
      if $extra != 0 || $missing != 0;
  }
  return undef unless @bad;
  return ($all ? 'after refresh_all, ' : '') . join('; ', @bad);
}

# --- main ----------------------------------------------------------------------------------

$node = PostgreSQL::Test::Cluster->new('oracle');
$node->init;
$node->append_conf('postgresql.conf', q{
max_prepared_transactions = 20
max_worker_processes = 16
fsync = off
# not off: the crash step (immediate stop) would lose commits already acknowledged, and the
# run's model of the schema (an ATTACH PARTITION lost, seed 1611083857 step 364) would drift
synchronous_commit = on
});
$node->start;

my $started = time;

for my $r (($ENV{VIEWMGR_ORACLE_REGRESSION} // 1) ? @REGRESSION_SEEDS : ()) {
  my ($seed, $steps, $what, $profile) = @$r;
  oracle_run($seed, $steps, "regression seed $seed ($what)", $profile);
}
my %profile;
$profile{kinds} = [ split /[\s,]+/, $ENV{VIEWMGR_ORACLE_KINDS} ] if $ENV{VIEWMGR_ORACLE_KINDS};
$profile{tables} = [ split /[\s,]+/, $ENV{VIEWMGR_ORACLE_TABLES} ] if $ENV{VIEWMGR_ORACLE_TABLES};
# the sessions of the random run are not in the server's time zone (a refresh must see the
# caller's settings, SPEC §3); VIEWMGR_ORACLE_TIMEZONE='' keeps the server's
$profile{timezone} = $ENV{VIEWMGR_ORACLE_TIMEZONE} // 'Asia/Tokyo';
my $runs = $ENV{VIEWMGR_ORACLE_RUNS} // 1;
for my $i (0 .. $runs - 1) {
  my $seed = $SEED + $i;
  diag("seed: $seed");
  oracle_run($seed, $STEPS, "random run, seed $seed", \%profile);
}

diag(sprintf('steps: %d, checks: %d (%.0f s)', $total_steps, $total_checks, time - $started));
done_testing();
