# Small helpers shared by the randomized TAP tests (t/005_staleness_oracle.pl, t/006_chaos.pl):
# persistent psql sessions whose errors are returned instead of dying, and the check that a
# managed materialized view holds exactly what its registered query returns.
package ViewmgrTap;

use strict;
use warnings;
use Exporter 'import';
use Time::HiRes qw(usleep);
use Test::More ();

our @EXPORT_OK = qw(quiet open_session run_sql close_session install_oracle_check
  oracle_check_sql wait_until);

# A background psql session that does not stop at errors; every query's timeout counts from
# that query (long runs must not hit the session's overall timeout); NOTICEs are not errors.
sub open_session {
  my ($node, $db, %opts) = @_;
  my $s = quiet(sub {
    $node->background_psql($db, on_error_stop => 0,
      timeout => $opts{timeout} // $PostgreSQL::Test::Utils::timeout_default);
  });
  $s->set_query_timer_restart();
  run_sql($s, 'SET client_min_messages = warning');
  return $s;
}

# run_sql(session, sql) -> (stdout, stderr). stderr is '' when every statement succeeded.
# Dies (with a message) only when psql itself is gone.
# BackgroundPsql notes every query and its result; thousands of them would drown the TAP
# output, so they go nowhere.
open(my $DEVNULL, '>', '/dev/null') or die "cannot open /dev/null: $!";

sub quiet {
  my ($code) = @_;
  my $tb = Test::More->builder;
  my $orig = $tb->output;
  $tb->output($DEVNULL);
  my @r = eval { $code->() };
  my $e = $@;
  $tb->output($orig);
  die $e if $e;
  return wantarray ? @r : $r[0];
}

sub run_sql {
  my ($s, $sql) = @_;
  $s->{stderr} = '';
  my $out = quiet(sub { scalar $s->query($sql) });
  my $err = $s->{stderr};
  $s->{stderr} = '';
  return ($out, $err);
}

sub close_session {
  my ($s) = @_;
  return unless $s;
  eval { $s->quit; 1 } or eval { $s->{run}->kill_kill; 1 };
  return;
}

# oracle.mismatches(all_views): one row per managed materialized view it compares —
# every view when all_views, else those viewmgr.status calls 'fresh' — with the number of
# rows the view holds that its registered query does not return (extra) and the reverse
# (missing). The query runs with the search_path it was registered with. Call it inside one
# REPEATABLE READ transaction so status and rows are judged on one snapshot.
sub install_oracle_check {
  my ($node, $db) = @_;
  $node->safe_psql($db, q{
    CREATE SCHEMA oracle;
    CREATE FUNCTION oracle.mismatches(all_views boolean)
      RETURNS TABLE(view_name text, state text, extra bigint, missing bigint)
      LANGUAGE plpgsql AS $fn$
    DECLARE
      r record;
      old_path text := current_setting('search_path');
    BEGIN
      FOR r IN
        SELECT m.schema_name, m.relation_name, m.definition, m.search_path, s.state
          FROM viewmgr.managed_view m
          LEFT JOIN viewmgr.status s
                 ON s.view_name IN (m.schema_name || '.' || m.relation_name,
                                    quote_ident(m.schema_name) || '.' || quote_ident(m.relation_name))
         WHERE m.materialized
         ORDER BY m.schema_name, m.relation_name
      LOOP
        CONTINUE WHEN NOT all_views AND r.state IS DISTINCT FROM 'fresh';
        PERFORM set_config('search_path',
                           (SELECT string_agg(quote_ident(x), ',') FROM unnest(r.search_path) x), true);
        view_name := r.schema_name || '.' || r.relation_name;
        state := r.state;
        EXECUTE format('SELECT (SELECT count(*) FROM (TABLE %1$I.%2$I EXCEPT ALL (%3$s)) a),
                               (SELECT count(*) FROM ((%3$s) EXCEPT ALL TABLE %1$I.%2$I) b)',
                       r.schema_name, r.relation_name, r.definition)
          INTO extra, missing;
        PERFORM set_config('search_path', old_path, true);
        RETURN NEXT;
      END LOOP;
    END $fn$;
  });
  return;
}

# The SQL that runs the check on one snapshot; rows: view_name|state|extra|missing.
sub oracle_check_sql {
  my ($all) = @_;
  my $flag = $all ? 'true' : 'false';
  return "BEGIN ISOLATION LEVEL REPEATABLE READ;\n"
    . "SELECT view_name, state, extra, missing FROM oracle.mismatches($flag);\n"
    . "COMMIT;";
}

# wait_until(session, sql, seconds): polls until the query returns 't'; returns whether it did.
sub wait_until {
  my ($s, $sql, $seconds) = @_;
  my $tries = int(($seconds // 10) * 50);
  for (1 .. $tries) {
    my ($out, $err) = run_sql($s, $sql);
    return 1 if !$err && defined $out && $out =~ /^t\s*$/;
    usleep(20_000);
  }
  return 0;
}

1;
