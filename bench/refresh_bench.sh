#!/usr/bin/env bash
# Refresh benchmarks (SPEC §6, rows 4, 5, 6 and 8).
#
#   bench/refresh_bench.sh
#
# Row 4 and 5, database bench_rf (bench/refresh_bench_gen.py): 50 tables of 20,000 rows,
# one materialized view per table (grouped aggregates, 500 rows each), registered with
# viewmgr.register; odd-numbered views have a unique index, so refresh_all uses
# REFRESH ... CONCURRENTLY on them.
#   X  a psql script of the 50 REFRESH MATERIALIZED VIEW statements, in the order and with
#      the form (CONCURRENTLY or not) that refresh_all chose in a prior run, each statement
#      in autocommit (its own transaction, as refresh_all does per view)
#   Y  SELECT ... FROM viewmgr.refresh_all(only_stale => false)
#   Z  SELECT ... FROM viewmgr.refresh_all() after writes to the tables of mv01 and mv02
#      only (committed, not timed): exactly those two must be refreshed
#   W  (information) refresh_all() right after Z, when nothing is stale
#   Targets: Y/X <= 1.05, Z/Y <= 10%.
# Row 6, databases copied from one pgbench -i -s 10 template: pgbench (tpcb-like, 4 clients,
# 2 threads, 20 s) on a database where pgbench_accounts is a source of a managed
# materialized view (so its change-tracking trigger fires on every UPDATE) vs a copy of the
# same database without the extension (same materialized view, unmanaged). Each run uses a
# fresh copy; runs alternate. Target: tracked tps >= 95% of plain tps.
# Row 8, database bench_par (max_parallel_workers_per_gather = 0 at database level): one
# table of 300,000 rows and 40 independent materialized views over it, each refreshing in
# 50-200 ms (measured and printed). refresh_all(only_stale => false, parallel => 2) vs
# parallel => 1. Target: parallel => 1 takes >= 1.6x as long.
#
# Timings are taken inside the psql session with clock_timestamp() around the statement(s),
# so connection start-up is excluded. In brackets: the session backend's CPU time
# (/proc/self/schedstat) and, for refresh_all, the CPU time of the background workers it
# started (children reaped by the postmaster, /proc/<postmaster>/stat, 10 ms resolution).
# Every figure is a median of alternating runs, each in a new session after a checkpoint.
# The exit status is 0 whenever the measurement itself worked.
#
# Environment:
#   REFRESH_BENCH_PARTS="4 6 8"   which parts to run (4 covers rows 4 and 5)
#   REFRESH_BENCH_RUNS=7          measured runs of rows 4/5
#   REFRESH_BENCH_WARMUP=1        unmeasured runs of rows 4/5 first
#   REFRESH_BENCH_ROWS=20000      rows per table (rows 4/5)
#   REFRESH_BENCH_VIEWS=50        materialized views (rows 4/5)
#   PGBENCH_RUNS=5, PGBENCH_TIME=20, PGBENCH_SCALE=10, PGBENCH_CLIENTS=4, PGBENCH_JOBS=2
#   PARALLEL_RUNS=5, PARALLEL_ROWS=300000, PARALLEL_VIEWS=40
#   REFRESH_BENCH_INSTALL=private private (default) | system (`make -s install`) | none
#   REFRESH_BENCH_SOURCE=tree     what to build: tree (the working tree, default) or, with
#                                 the private install, a git revision (e.g. HEAD), taken
#                                 with `git archive` into the work directory
#   VIEWMGR_CLUSTER_DIR, VIEWMGR_PORT  the throwaway cluster (default /tmp/vm_refresh_bench,
#                                 55446; removed at exit)
#   REFRESH_BENCH_KEEP=1          keep the work directory (generated SQL, psql output)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PARTS=${REFRESH_BENCH_PARTS:-"4 6 8"}
RUNS=${REFRESH_BENCH_RUNS:-7}
WARMUP=${REFRESH_BENCH_WARMUP:-1}
ROWS=${REFRESH_BENCH_ROWS:-20000}
VIEWS=${REFRESH_BENCH_VIEWS:-50}
PGB_RUNS=${PGBENCH_RUNS:-5}
PGB_TIME=${PGBENCH_TIME:-20}
PGB_SCALE=${PGBENCH_SCALE:-10}
PGB_CLIENTS=${PGBENCH_CLIENTS:-4}
PGB_JOBS=${PGBENCH_JOBS:-2}
PAR_RUNS=${PARALLEL_RUNS:-5}
PAR_ROWS=${PARALLEL_ROWS:-300000}
PAR_VIEWS=${PARALLEL_VIEWS:-40}
export VIEWMGR_CLUSTER_DIR=${VIEWMGR_CLUSTER_DIR:-/tmp/vm_refresh_bench}
export VIEWMGR_PORT=${VIEWMGR_PORT:-55446}

source "$ROOT/bench/lib.sh"
bench_prepare REFRESH_BENCH
PGBENCH="${PG_BIN:-$(pg_config --bindir)}/pgbench"

python3 "$ROOT/bench/refresh_bench_gen.py" "$WORK" --views "$VIEWS" --rows "$ROWS" \
  --par-views "$PAR_VIEWS" --par-rows "$PAR_ROWS"

bench_start_cluster
PM_PID=$(head -n 1 "$VIEWMGR_CLUSTER_DIR/data/postmaster.pid")
TICK_MS=$(awk -v t="$(getconf CLK_TCK)" 'BEGIN {print 1000 / t}')

q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
field() { sed -n "s/^$1 //p" "$2"; }
median() {
  printf '%s\n' "$@" | sort -g |
    awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {if (y > 0) printf "%.3f", x / y; else print "n/a"}'; }
percent() { awk -v x="$1" -v y="$2" 'BEGIN {if (y > 0) printf "%.1f", 100 * x / y; else print "n/a"}'; }
at_most() { awk -v x="$1" -v t="$2" 'BEGIN {print (x != "n/a" && x <= t) ? "PASS" : "MISS"}'; }
at_least() { awk -v x="$1" -v t="$2" 'BEGIN {print (x != "n/a" && x >= t) ? "PASS" : "MISS"}'; }

# Timer: wall clock, the backend's on-CPU time (ns) and the CPU time (clock ticks) of the
# postmaster's reaped children, which includes refresh_all's background workers.
CPU_NS="coalesce(split_part(pg_catalog.pg_read_file('/proc/self/schedstat', 0, 200, true), ' ', 1), '0')::bigint"
CHILD_TICKS="(SELECT split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint
   FROM (SELECT split_part(pg_catalog.pg_read_file('/proc/$PM_PID/stat', 0, 2000, true), ') ', 2) AS s) x)"
timer_start() {
  echo "SELECT clock_timestamp() AS bench_t0, $CPU_NS AS bench_cpu0, $CHILD_TICKS AS bench_kids0 \\gset"
}
timer_end() { # $1: label
  echo "SELECT round(extract(epoch FROM clock_timestamp() - :'bench_t0'::timestamptz) * 1000, 1) AS bench_ms,"
  echo "       round(($CPU_NS - :bench_cpu0) / 1e6, 1) AS bench_cpu,"
  echo "       ($CHILD_TICKS - :bench_kids0) * $TICK_MS AS bench_kids \\gset"
  echo "\\echo $1_MS :bench_ms :bench_cpu :bench_kids"
}
checkpoint() { q -d "$1" -c "CHECKPOINT" >/dev/null; }
# CPU time of the postmaster's reaped children (clock ticks), read directly.
child_ticks() { awk '{sub(/^.*\) /, ""); print $14 + $15}' "/proc/$PM_PID/stat"; }
# Busy CPU time of the whole machine (clock ticks, all cores), and from it how many cores
# other work kept busy over a span: busy ticks minus this cluster's (reaped children, i.e.
# the sessions and workers measured) and the client's, over the span's wall time.
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
now_ns() { date +%s%N; }
other_cores() { # $1 busy ticks, $2 our ticks, $3 wall ns
  awk -v b="$1" -v o="$2" -v ns="$3" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {v = (b - o) / hz / (ns / 1e9); if (v < 0) v = 0; printf "%.2f", v}'
}

PROBLEMS=()
REPORT=()

# ---------------------------------------------------------------------------------------
# Rows 4 and 5
# ---------------------------------------------------------------------------------------
part_refresh_all() {
  local db=bench_rf
  echo "rows 4/5: creating $VIEWS tables x $ROWS rows and $VIEWS materialized views..."
  q -c "CREATE DATABASE $db"
  q -d $db -c "CREATE EXTENSION pg_viewmgr" -f "$WORK/rf_setup.sql" >/dev/null
  q -d $db -c "VACUUM ANALYZE" >/dev/null

  # The form refresh_all chooses for each view, from a prior run: the script uses the same.
  q -d $db -At -F ' ' >"$WORK/rf_prior.out" <<'SQL'
SELECT view_name, action, coalesce(detail, '') LIKE '%concurrently%'
  FROM viewmgr.refresh_all(only_stale => false) WITH ORDINALITY AS r ORDER BY r.ordinality;
SQL
  local n_refreshed n_conc
  n_refreshed=$(awk '$2 == "refreshed"' "$WORK/rf_prior.out" | wc -l)
  n_conc=$(awk '$3 == "t"' "$WORK/rf_prior.out" | wc -l)
  if [ "$n_refreshed" != "$VIEWS" ]; then
    PROBLEMS+=("the prior refresh_all(only_stale => false) refreshed $n_refreshed of $VIEWS views")
  fi
  {
    echo "-- the REFRESH statements of refresh_all's prior run, same order and form; autocommit"
    awk '{printf "REFRESH MATERIALIZED VIEW %s%s;\n", ($3 == "t" ? "CONCURRENTLY " : ""), $1}' \
      "$WORK/rf_prior.out"
  } >"$WORK/rf_script.sql"

  {
    echo "\\set ON_ERROR_STOP on"
    timer_start
    echo "\\i $WORK/rf_script.sql"
    timer_end X
  } >"$WORK/x.sql"
  {
    echo "\\set ON_ERROR_STOP on"
    timer_start
    echo "SELECT count(*) AS n, count(*) FILTER (WHERE action = 'refreshed') AS refreshed,"
    echo "       count(*) FILTER (WHERE detail LIKE '%concurrently%') AS conc,"
    echo "       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM duration) * 1000) AS per_view"
    echo "  FROM viewmgr.refresh_all(only_stale => false) \\gset y_"
    timer_end Y
    echo "\\echo Y_ROWS :y_n :y_refreshed :y_conc :y_per_view"
  } >"$WORK/y.sql"
  {
    echo "\\set ON_ERROR_STOP on"
    timer_start
    echo "SELECT count(*) AS n, count(*) FILTER (WHERE action = 'refreshed') AS refreshed,"
    echo "       coalesce(string_agg(view_name, ',' ORDER BY view_name) FILTER (WHERE action = 'refreshed'), '-') AS names"
    echo "  FROM viewmgr.refresh_all() \\gset z_"
    timer_end Z
    echo "\\echo Z_ROWS :z_n :z_refreshed :z_names"
    echo "-- W: right after, nothing is stale"
    timer_start
    echo "SELECT count(*) FILTER (WHERE action = 'refreshed') AS refreshed FROM viewmgr.refresh_all() \\gset w_"
    timer_end W
    echo "\\echo W_ROWS :w_refreshed"
  } >"$WORK/z.sql"

  local X=() Y=() Z=() W=() XC=() YC=() YK=() ZC=() ZK=() WC=() WK=() PV=()
  local xs ys zs ws i
  run_x() { checkpoint $db; q -d $db -f "$WORK/x.sql" >"$WORK/x.out"; xs=$(field X_MS "$WORK/x.out"); }
  run_y() {
    checkpoint $db
    q -d $db -f "$WORK/y.sql" >"$WORK/y.out"
    ys=$(field Y_MS "$WORK/y.out")
    local n r c
    read -r n r c PER_VIEW <<<"$(field Y_ROWS "$WORK/y.out")"
    if [ "$r" != "$VIEWS" ] || [ "$c" != "$n_conc" ]; then
      PROBLEMS+=("refresh_all(only_stale => false) refreshed $r of $n views, $c concurrently (script: $n_conc)")
    fi
  }
  run_z() {
    q -d $db -f "$WORK/rf_touch.sql" >/dev/null
    checkpoint $db
    q -d $db -f "$WORK/z.sql" >"$WORK/z.out"
    zs=$(field Z_MS "$WORK/z.out")
    ws=$(field W_MS "$WORK/z.out")
    local n r names
    read -r n r names <<<"$(field Z_ROWS "$WORK/z.out")"
    if [ "$r" != 2 ] || [ "$names" != "bench_rf.mv01,bench_rf.mv02" ]; then
      PROBLEMS+=("refresh_all() after writes to t01 and t02 refreshed $r view(s): $names")
    fi
    if [ "$(field W_ROWS "$WORK/z.out")" != 0 ]; then
      PROBLEMS+=("refresh_all() right after another refreshed $(field W_ROWS "$WORK/z.out") view(s)")
    fi
    q -d $db -c "VACUUM bench_rf_data.t01, bench_rf_data.t02" >/dev/null
  }
  for ((i = 1; i <= WARMUP; i++)); do
    run_x
    run_y
    run_z
    echo "  warm-up $i: X ${xs%% *} ms, Y ${ys%% *} ms, Z ${zs%% *} ms"
  done
  for ((i = 1; i <= RUNS; i++)); do
    if ((i % 2)); then run_x; run_y; else run_y; run_x; fi
    run_z
    local a b c
    read -r a b _ <<<"$xs"; X+=("$a") XC+=("$b")
    read -r a b c <<<"$ys"; Y+=("$a") YC+=("$b") YK+=("$c")
    read -r a b c <<<"$zs"; Z+=("$a") ZC+=("$b") ZK+=("$c")
    read -r a b c <<<"$ws"; W+=("$a") WC+=("$b") WK+=("$c")
    PV+=("$PER_VIEW")
    echo "  run $i: X ${X[-1]} ms, Y ${Y[-1]} ms, Z ${Z[-1]} ms, W ${W[-1]} ms" \
      "(CPU: X ${XC[-1]}; Y ${YC[-1]} + workers ${YK[-1]}; Z ${ZC[-1]} + workers ${ZK[-1]} ms)"
  done
  local xm ym zm wm r4 r5
  xm=$(median "${X[@]}") ym=$(median "${Y[@]}") zm=$(median "${Z[@]}") wm=$(median "${W[@]}")
  r4=$(ratio "$ym" "$xm")
  r5=$(percent "$zm" "$ym")
  REPORT+=("" "== rows 4 and 5: refresh_all over $VIEWS materialized views ==")
  REPORT+=("data size: $VIEWS tables x $ROWS rows (+ a 500-row dimension table); $VIEWS materialized views," \
    "  one per table, 500 rows each; $n_conc with a unique index (refreshed CONCURRENTLY), $((VIEWS - n_conc)) plain")
  REPORT+=("medians of $RUNS alternating runs (after $WARMUP warm-up), wall clock [session CPU (+ workers' CPU)]:")
  REPORT+=("$(printf '  X  script of %d REFRESH statements, autocommit each       %9s ms  [%s ms]' \
    "$VIEWS" "$xm" "$(median "${XC[@]}")")")
  REPORT+=("$(printf '  Y  refresh_all(only_stale => false)                       %9s ms  [%s + %s ms]' \
    "$ym" "$(median "${YC[@]}")" "$(median "${YK[@]}")")")
  REPORT+=("$(printf '  Z  refresh_all(), 2 of %d views stale                      %9s ms  [%s + %s ms]' \
    "$VIEWS" "$zm" "$(median "${ZC[@]}")" "$(median "${ZK[@]}")")")
  REPORT+=("$(printf '  W  refresh_all(), nothing stale (information)             %9s ms  [%s + %s ms]' \
    "$wm" "$(median "${WC[@]}")" "$(median "${WK[@]}")")")
  # (no CPU ratio: refresh_all's workers exit on their own after the call, so their CPU time
  # is not collected; wall clock is the figure)
  REPORT+=("row 4: Y/X = ${r4}x  (target <= 1.05x)  $(at_most "$r4" 1.05)")
  REPORT+=("  (Y - X per view: $(awk -v y="$ym" -v x="$xm" -v n="$VIEWS" 'BEGIN {printf "%.2f", (y - x) / n}') ms;" \
    "  median per-view duration reported by refresh_all: $(awk -v p="$(median "${PV[@]}")" 'BEGIN {printf "%.1f", p}') ms;" \
    "  the script X runs each REFRESH in autocommit, like refresh_all's one transaction per view)")
  REPORT+=("row 5: Z/Y = ${r5}%  (target <= 10%)  $(at_most "$r5" 10)    (refreshed in Z: $(field Z_ROWS "$WORK/z.out" | awk '{print $3}'))")
}

# ---------------------------------------------------------------------------------------
# Row 6
# ---------------------------------------------------------------------------------------
part_pgbench() {
  echo "row 6: pgbench -i -s $PGB_SCALE into a template database..."
  q -c "CREATE DATABASE pgb_template"
  "$PGBENCH" -i -q -s "$PGB_SCALE" pgb_template >"$WORK/pgbench_init.out" 2>&1 || {
    cat "$WORK/pgbench_init.out" >&2
    exit 1
  }
  q -d pgb_template -c "VACUUM ANALYZE" >/dev/null
  local MV="SELECT bid, sum(abalance) AS balance, count(*) AS accounts FROM public.pgbench_accounts GROUP BY bid"
  local TRACKED=() PLAIN=() TRACKED_CPU=() PLAIN_CPU=() OTHERS=() i side tps us_per_xact trig log_rows others
  run_side() { # $1: tracked | plain
    q -c "DROP DATABASE IF EXISTS pgb_run" -c "CREATE DATABASE pgb_run TEMPLATE pgb_template STRATEGY FILE_COPY" >/dev/null
    if [ "$1" = tracked ]; then
      q -d pgb_run -c "CREATE EXTENSION pg_viewmgr" \
        -c "SELECT viewmgr.register('public.accounts_by_branch', \$\$$MV\$\$, materialized => true)" >/dev/null
    else
      q -d pgb_run -c "CREATE MATERIALIZED VIEW public.accounts_by_branch AS $MV" >/dev/null
    fi
    trig=$(q -d pgb_run -At -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.pgbench_accounts'::regclass AND tgname = 'viewmgr_track_changes'")
    q -d pgb_run -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
    local k0 k1 b0 b1 t0 t1 xacts client
    sleep 1
    k0=$(child_ticks) b0=$(busy_ticks) t0=$(now_ns)
    # pgbench's own CPU (the client) from the shell's time keyword, in seconds.
    { TIMEFORMAT='%U %S'; time "$PGBENCH" -n -c "$PGB_CLIENTS" -j "$PGB_JOBS" -T "$PGB_TIME" pgb_run \
      >"$WORK/pgbench_$1.out" 2>&1; } 2>"$WORK/pgbench_$1.time" || {
      cat "$WORK/pgbench_$1.out" >&2
      exit 1
    }
    t1=$(now_ns) b1=$(busy_ticks)
    sleep 1 # the postmaster reaps the pgbench backends
    k1=$(child_ticks)
    client=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($1 + $2) * hz}' "$WORK/pgbench_$1.time")
    others=$(other_cores "$((b1 - b0))" "$((k1 - k0 + client))" "$((t1 - t0))")
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$WORK/pgbench_$1.out")
    tps=$(awk -v t="$tps" 'BEGIN {printf "%.1f", t}')
    xacts=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench_$1.out")
    # Server CPU per transaction (µs): the pgbench backends' CPU, once they have exited.
    us_per_xact=$(awk -v k="$((k1 - k0))" -v ms="$TICK_MS" -v n="$xacts" 'BEGIN {printf "%.1f", (n > 0 ? k * ms * 1000 / n : 0)}')
    if [ "$1" = tracked ]; then
      [ "$trig" = 1 ] || PROBLEMS+=("pgbench_accounts has no viewmgr_track_changes trigger in the tracked database")
      log_rows=$(q -d pgb_run -At -c "SELECT count(*) - 1 FROM viewmgr.source_change")
      TRACKED_TRIG=$trig
      TRACKED_LOG=$log_rows
      TRACKED_STALE=$(q -d pgb_run -At -c "SELECT action FROM viewmgr.refresh_all()")
    else
      [ "$trig" = 0 ] || PROBLEMS+=("the plain pgbench database has a viewmgr_track_changes trigger")
    fi
  }
  for ((i = 1; i <= PGB_RUNS; i++)); do
    local o1 o2
    if ((i % 2)); then
      run_side plain; PLAIN+=("$tps") PLAIN_CPU+=("$us_per_xact"); o1=$others
      run_side tracked; TRACKED+=("$tps") TRACKED_CPU+=("$us_per_xact"); o2=$others
    else
      run_side tracked; TRACKED+=("$tps") TRACKED_CPU+=("$us_per_xact"); o2=$others
      run_side plain; PLAIN+=("$tps") PLAIN_CPU+=("$us_per_xact"); o1=$others
    fi
    OTHERS+=("$o1" "$o2")
    echo "  run $i: plain ${PLAIN[-1]} tps, tracked ${TRACKED[-1]} tps" \
      "(cores busy with other work: $o1 / $o2;" \
      "server CPU per transaction: plain ${PLAIN_CPU[-1]} us, tracked ${TRACKED_CPU[-1]} us;" \
      "trigger present: $TRACKED_TRIG; rows appended to viewmgr.source_change: $TRACKED_LOG)"
  done
  local pm tm r6
  pm=$(median "${PLAIN[@]}") tm=$(median "${TRACKED[@]}")
  r6=$(percent "$tm" "$pm")
  REPORT+=("" "== row 6: pgbench with pgbench_accounts tracked ==")
  REPORT+=("data size: pgbench -i -s $PGB_SCALE ($((PGB_SCALE * 100000)) accounts); tpcb-like, $PGB_CLIENTS clients," \
    "  $PGB_JOBS threads, ${PGB_TIME} s per run; a fresh copy of the database per run")
  REPORT+=("tracked: materialized view public.accounts_by_branch ($MV)")
  REPORT+=("  registered with viewmgr.register; trigger viewmgr_track_changes on pgbench_accounts: $([ "$TRACKED_TRIG" = 1 ] && echo present || echo MISSING)")
  REPORT+=("plain: the same materialized view created by hand, no extension")
  local pc tc
  pc=$(median "${PLAIN_CPU[@]}") tc=$(median "${TRACKED_CPU[@]}")
  REPORT+=("medians of $PGB_RUNS alternating runs: plain $pm tps, tracked $tm tps")
  REPORT+=("row 6: tracked/plain = ${r6}%  (target >= 95%)  $(at_least "$r6" 95)")
  REPORT+=("  server CPU per transaction (medians): plain $pc us, tracked $tc us" \
    "  (tracked/plain $(percent "$tc" "$pc")%; less disturbed by other load than tps)")
  REPORT+=("  cores of the $(nproc) kept busy by other work during the runs: median $(median "${OTHERS[@]}"), max $(printf '%s\n' "${OTHERS[@]}" | sort -g | tail -n 1)")
  REPORT+=("  (after the last tracked run: $TRACKED_LOG rows in viewmgr.source_change, refresh_all() then said: $TRACKED_STALE)")
  q -c "DROP DATABASE IF EXISTS pgb_run" -c "DROP DATABASE pgb_template" >/dev/null
}

# ---------------------------------------------------------------------------------------
# Row 8
# ---------------------------------------------------------------------------------------
part_parallel() {
  local db=bench_par
  echo "row 8: creating a table of $PAR_ROWS rows and $PAR_VIEWS materialized views..."
  q -c "CREATE DATABASE $db" -c "ALTER DATABASE $db SET max_parallel_workers_per_gather = 0"
  q -d $db -c "CREATE EXTENSION pg_viewmgr" -f "$WORK/par_setup.sql" >/dev/null
  q -d $db -c "VACUUM ANALYZE" >/dev/null
  # The setting as the refresh workers see it: a probe view, refreshed by them, then dropped.
  local probe
  probe=$(q -d $db -At <<'SQL'
SELECT viewmgr.register('public.setting_probe',
  $$SELECT pg_catalog.current_setting('max_parallel_workers_per_gather') AS workers_per_gather, pg_catalog.pg_backend_pid() AS pid$$,
  materialized => true) \gset
SELECT count(*) FROM viewmgr.refresh_all(only_stale => false, parallel => 2) \gset
SELECT workers_per_gather || ' (worker pid ' || pid || ', session pid ' || pg_catalog.pg_backend_pid() || ')' FROM public.setting_probe;
SELECT viewmgr.unregister('public.setting_probe') \gset
SQL
)
  [[ "$probe" == 0\ * ]] || PROBLEMS+=("refresh workers see max_parallel_workers_per_gather = $probe")
  # A single REFRESH of each view, timed in the session (after one untimed round).
  q -d $db -At -F ' ' >"$WORK/par_single.out" <<'SQL'
CREATE TEMP TABLE single (v text, ms float8);
DO $$
DECLARE r record; t0 timestamptz;
BEGIN
  FOR round IN 1..2 LOOP
    FOR r IN SELECT c.oid::regclass::text AS v FROM pg_class c
              WHERE c.relnamespace = 'bench_par'::regnamespace AND c.relkind = 'm' ORDER BY 1 LOOP
      t0 := clock_timestamp();
      EXECUTE 'REFRESH MATERIALIZED VIEW ' || r.v;
      IF round = 2 THEN
        INSERT INTO single VALUES (r.v, extract(epoch FROM clock_timestamp() - t0) * 1000);
      END IF;
    END LOOP;
  END LOOP;
END $$;
SELECT count(*), round(min(ms)::numeric, 1), round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 1),
       round(max(ms)::numeric, 1), round(sum(ms)::numeric, 1),
       count(*) FILTER (WHERE ms < 50 OR ms > 200), current_setting('max_parallel_workers_per_gather')
  FROM single;
SQL
  local s_n s_min s_med s_max s_sum s_out s_set
  read -r s_n s_min s_med s_max s_sum s_out s_set <"$WORK/par_single.out"
  echo "  single REFRESH: $s_n views, $s_min .. $s_max ms (median $s_med, sum $s_sum ms)," \
    "$s_out outside 50-200 ms; max_parallel_workers_per_gather = $s_set"
  [ "$s_out" = 0 ] || PROBLEMS+=("$s_out of the $s_n parallel-benchmark views refresh outside 50-200 ms ($s_min .. $s_max ms)")

  for p in 1 2; do
    {
      echo "\\set ON_ERROR_STOP on"
      timer_start
      echo "SELECT count(*) FILTER (WHERE action = 'refreshed') AS refreshed,"
      echo "       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM duration) * 1000) AS per_view"
      echo "  FROM viewmgr.refresh_all(only_stale => false, parallel => $p) \\gset r_"
      timer_end P$p
      echo "\\echo P${p}_ROWS :r_refreshed :r_per_view"
    } >"$WORK/p$p.sql"
  done
  local P1=() P2=() C1=() C2=() K1=() K2=() V1=() V2=() O1=() O2=() i ms cpu kids others
  run_p() { # $1: 1 or 2
    checkpoint $db
    local k0 k1 b0 b1 t0 t1
    sleep 0.5
    k0=$(child_ticks) b0=$(busy_ticks) t0=$(now_ns)
    q -d $db -f "$WORK/p$1.sql" >"$WORK/p$1.out"
    t1=$(now_ns) b1=$(busy_ticks)
    sleep 0.5
    k1=$(child_ticks)
    others=$(other_cores "$((b1 - b0))" "$((k1 - k0))" "$((t1 - t0))")
    read -r ms cpu kids <<<"$(field "P$1_MS" "$WORK/p$1.out")"
    read -r refreshed per_view <<<"$(field "P$1_ROWS" "$WORK/p$1.out")"
    [ "$refreshed" = "$PAR_VIEWS" ] || PROBLEMS+=("refresh_all(parallel => $1) refreshed $refreshed of $PAR_VIEWS views")
  }
  run_p 1
  local warm1=$ms
  run_p 2
  echo "  warm-up: parallel 1 $warm1 ms, parallel 2 $ms ms"
  for ((i = 1; i <= PAR_RUNS; i++)); do
    if ((i % 2)); then
      run_p 1; P1+=("$ms") C1+=("$cpu") K1+=("$kids") V1+=("$per_view") O1+=("$others")
      run_p 2; P2+=("$ms") C2+=("$cpu") K2+=("$kids") V2+=("$per_view") O2+=("$others")
    else
      run_p 2; P2+=("$ms") C2+=("$cpu") K2+=("$kids") V2+=("$per_view") O2+=("$others")
      run_p 1; P1+=("$ms") C1+=("$cpu") K1+=("$kids") V1+=("$per_view") O1+=("$others")
    fi
    echo "  run $i: parallel 1 ${P1[-1]} ms, parallel 2 ${P2[-1]} ms" \
      "(CPU: session ${C1[-1]} / ${C2[-1]}, workers ${K1[-1]} / ${K2[-1]} ms;" \
      "cores busy with other work: ${O1[-1]} / ${O2[-1]})"
  done
  local p1 p2 r8
  p1=$(median "${P1[@]}") p2=$(median "${P2[@]}")
  r8=$(ratio "$p1" "$p2")
  REPORT+=("" "== row 8: refresh_all(parallel => 2) vs parallel => 1 ==")
  REPORT+=("data size: one table of $PAR_ROWS rows; $PAR_VIEWS independent materialized views over it" \
    "  (grouped aggregates, plain REFRESH)")
  REPORT+=("max_parallel_workers_per_gather = 0 (ALTER DATABASE); as the refresh workers see it: $probe")
  REPORT+=("single REFRESH per view, in the session: $s_min .. $s_max ms (median $s_med ms, sum $s_sum ms);" \
    "  $([ "$s_out" = 0 ] && echo "all within 50-200 ms" || echo "$s_out OUTSIDE 50-200 ms")")
  REPORT+=("medians of $PAR_RUNS alternating runs, wall clock [session CPU + workers' CPU]:")
  REPORT+=("$(printf '  refresh_all(only_stale => false, parallel => 1)  %9s ms  [%s + %s ms]  per view %s ms' \
    "$p1" "$(median "${C1[@]}")" "$(median "${K1[@]}")" "$(awk -v p="$(median "${V1[@]}")" 'BEGIN {printf "%.1f", p}')")")
  REPORT+=("$(printf '  refresh_all(only_stale => false, parallel => 2)  %9s ms  [%s + %s ms]  per view %s ms' \
    "$p2" "$(median "${C2[@]}")" "$(median "${K2[@]}")" "$(awk -v p="$(median "${V2[@]}")" 'BEGIN {printf "%.1f", p}')")")
  REPORT+=("row 8: speed-up parallel 1 / parallel 2 = ${r8}x  (target >= 1.6x)  $(at_least "$r8" 1.6)")
  REPORT+=("  machine: $(nproc) cores; cores kept busy by other work, median: $(median "${O2[@]}") during parallel => 2, $(median "${O1[@]}") during parallel => 1")
  REPORT+=("  load average before the benchmark: $LOAD_BEFORE")
}

LOAD_BEFORE=$(cut -d ' ' -f 1-3 /proc/loadavg)
for part in $PARTS; do
  case "$part" in
    4 | 5) part_refresh_all ;;
    6) part_pgbench ;;
    8) part_parallel ;;
    *) echo "unknown part '$part' (4, 6 or 8)" >&2; exit 2 ;;
  esac
done

echo
echo "extension built from: $SOURCE_DESC"
printf '%s\n' "${REPORT[@]}"
if [ "${#PROBLEMS[@]}" -gt 0 ]; then
  echo
  echo "problems:"
  printf '%s\n' "${PROBLEMS[@]}" | sort | uniq -c
fi
exit 0
