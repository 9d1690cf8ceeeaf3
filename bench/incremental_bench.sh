#!/usr/bin/env bash
# Incremental materialized views (issue 12, SPEC §6 rows "incremental refresh" and
# "pgbench ... incremental").
#
#   bench/incremental_bench.sh
#
# Part "refresh", database bench_inc: a table of 5,000,000 rows (id bigint PRIMARY KEY,
# g int, v int, w int; g spreads the rows evenly over 100,000 groups) and the same grouped
# aggregate registered twice,
#   SELECT g, count(*) AS n, sum(v) AS s, avg(v) AS a, min(w) AS lo, max(w) AS hi
#     FROM src GROUP BY g                       (indexes => UNIQUE (g))
# as i_agg with incremental => true and as f_agg refreshed in full; src has an index on g. Each run commits 1,000
# changed rows (not timed: 40% inserts of new rows, 30% updates that move a row to another
# group, 30% deletes), then times
#   I  SELECT ... FROM viewmgr.refresh('i_agg')                       (incremental)
#   F  SELECT ... FROM viewmgr.refresh('f_agg', concurrently => false) (full recomputation)
# in alternating order; after each run both must hold the same rows (EXCEPT ALL both ways).
# Target: I/F <= 2%.
# Part "breakeven": the same two views (part refresh's, if it ran), after changing a
# growing share of the rows (same mix); I and F once per share; the break-even share is where I reaches F (interpolated
# between the shares measured). The history detail of each incremental refresh is printed:
# where the engine itself falls back to a full recomputation, it says so.
# Part "pgbench": pgbench tpcb-like (4 clients, 2 threads, 20 s) on a database where
# pgbench_accounts feeds an incremental materialized view (SELECT bid, sum(abalance),
# count(*) FROM pgbench_accounts GROUP BY bid, registered with incremental => true) vs a copy
# of the same database without the extension (the same materialized view created by hand).
# Fresh copy per run, runs alternate. Target: incremental tps >= 90% of plain tps. After the
# last incremental run the view is refreshed and compared with its definition.
#
# Timings are taken inside the psql session with clock_timestamp() around the statement, so
# connection start-up is excluded; the backend's CPU time (/proc/self/schedstat) is in
# brackets. Every figure is a median of alternating runs, each in a new session after a
# checkpoint. The exit status is 0 whenever the measurement worked (whatever the figures),
# 3 when this build has no incremental materialized views (nothing is measured then), 1 when
# the measurement failed (e.g. the two views differ).
#
# Environment:
#   INCR_BENCH_PARTS="refresh breakeven pgbench"   which parts to run
#   INCR_BENCH_ROWS=5000000      rows of the source table
#   INCR_BENCH_GROUPS=100000     groups of the aggregate
#   INCR_BENCH_CHANGES=1000      changed rows per run (part refresh)
#   INCR_BENCH_RUNS=5            measured runs (part refresh)
#   INCR_BENCH_SHARES="0.1 0.5 1 2 5 10"   shares of the rows changed, in % (part breakeven)
#   PGBENCH_RUNS=3, PGBENCH_TIME=20, PGBENCH_SCALE=10, PGBENCH_CLIENTS=4, PGBENCH_JOBS=2
#   INCR_BENCH_INSTALL=private   private (default) | system (`make -s install`) | none
#   INCR_BENCH_SOURCE=tree       tree (the working tree) or, with the private install, a git
#                                revision built from `git archive`
#   VIEWMGR_CLUSTER_DIR, VIEWMGR_PORT  the throwaway cluster (default /tmp/vm_incr_bench,
#                                55447; removed at exit)
#   INCR_BENCH_KEEP=1            keep the work directory (psql output)
# A quick run: INCR_BENCH_ROWS=200000 INCR_BENCH_GROUPS=4000 INCR_BENCH_RUNS=3
#   INCR_BENCH_SHARES="1 5" PGBENCH_RUNS=1 PGBENCH_TIME=5 PGBENCH_SCALE=1 (the targets are
#   stated for the defaults).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PARTS=${INCR_BENCH_PARTS:-"refresh breakeven pgbench"}
ROWS=${INCR_BENCH_ROWS:-5000000}
NGROUPS=${INCR_BENCH_GROUPS:-100000}
CHANGES=${INCR_BENCH_CHANGES:-1000}
RUNS=${INCR_BENCH_RUNS:-5}
SHARES=${INCR_BENCH_SHARES:-"0.1 0.5 1 2 5 10"}
PGB_RUNS=${PGBENCH_RUNS:-3}
PGB_TIME=${PGBENCH_TIME:-20}
PGB_SCALE=${PGBENCH_SCALE:-10}
PGB_CLIENTS=${PGBENCH_CLIENTS:-4}
PGB_JOBS=${PGBENCH_JOBS:-2}
export VIEWMGR_CLUSTER_DIR=${VIEWMGR_CLUSTER_DIR:-/tmp/vm_incr_bench}
export VIEWMGR_PORT=${VIEWMGR_PORT:-55447}
for n in ROWS NGROUPS CHANGES RUNS PGB_RUNS PGB_TIME PGB_SCALE PGB_CLIENTS PGB_JOBS; do
  [[ ${!n} =~ ^[1-9][0-9]*$ ]] || { echo "$n must be a positive integer (got '${!n}')" >&2; exit 2; }
done
((NGROUPS >= 2 && NGROUPS <= ROWS)) || { echo "INCR_BENCH_GROUPS must be between 2 and INCR_BENCH_ROWS" >&2; exit 2; }

source "$ROOT/bench/lib.sh"
bench_prepare INCR_BENCH
PGBENCH="${PG_BIN:-$(pg_config --bindir)}/pgbench"
bench_start_cluster
export PGOPTIONS='-c client_min_messages=warning'
psql -X -q -c "ALTER SYSTEM SET max_wal_size = '4GB'" -c "SELECT pg_reload_conf()" >/dev/null

q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
median() {
  printf '%s\n' "$@" | sort -g |
    awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
percent() { awk -v x="$1" -v y="$2" 'BEGIN {if (y > 0) printf "%.2f", 100 * x / y; else print "n/a"}'; }
at_most() { awk -v x="$1" -v t="$2" 'BEGIN {print (x != "n/a" && x <= t) ? "PASS" : "MISS"}'; }
at_least() { awk -v x="$1" -v t="$2" 'BEGIN {print (x != "n/a" && x >= t) ? "PASS" : "MISS"}'; }
TICK_MS=$(awk -v t="$(getconf CLK_TCK)" 'BEGIN {print 1000 / t}')
PM_PID=$(head -n 1 "$VIEWMGR_CLUSTER_DIR/data/postmaster.pid")
child_ticks() { awk '{sub(/^.*\) /, ""); print $14 + $15}' "/proc/$PM_PID/stat"; }
CPU_NS="coalesce(split_part(pg_catalog.pg_read_file('/proc/self/schedstat', 0, 200, true), ' ', 1), '0')::bigint"

PROBLEMS=()
REPORT=()

# --- Is there anything to measure? --------------------------------------------------------
q -c "CREATE DATABASE bench_probe"
if ! probe=$(q -d bench_probe -c "CREATE EXTENSION pg_viewmgr" -c "CREATE TABLE t (k int, v int)" \
  -c "SELECT viewmgr.register('p', 'SELECT k, count(*) AS n, sum(v) AS s FROM t GROUP BY k', materialized => true, incremental => true)" 2>&1); then
  echo
  echo "incremental materialized views are not available in this build ($SOURCE_DESC):"
  echo "  $(echo "$probe" | grep -m 1 ERROR || echo "$probe")"
  echo "nothing measured."
  exit 3
fi
q -c "DROP DATABASE bench_probe"

# One timed statement in a new session after a checkpoint: sets T_MS and T_CPU and leaves
# the statement's rows (view|action|duration|detail) in $WORK/$2.out. Not called in $(...),
# so a failing statement ends the script (set -e).
timed() { # $1 database, $2 label, $3 statement
  q -d "$1" -c "CHECKPOINT" >/dev/null
  q -d "$1" -At -F '|' >"$WORK/$2.out" <<SQL
SELECT clock_timestamp() AS bench_t0, $CPU_NS AS bench_cpu0 \gset
$3;
SELECT round(extract(epoch FROM clock_timestamp() - :'bench_t0'::timestamptz) * 1000, 1) AS bench_ms,
       round(($CPU_NS - :bench_cpu0) / 1e6, 1) AS bench_cpu \gset
\echo BENCH_MS :bench_ms :bench_cpu
SQL
  read -r T_MS T_CPU < <(sed -n 's/^BENCH_MS //p' "$WORK/$2.out")
}
# the detail of the refresh row in $WORK/$1.out, and a failure there is a problem
refresh_detail() {
  local line
  line=$(grep -v '^BENCH_MS' "$WORK/$1.out" | head -n 1)
  case "$line" in *"|failed|"*) PROBLEMS+=("$1: $line") ;; esac
  echo "$line" | cut -d '|' -f 2,4
}

# Changes N rows of src the benchmark's way (40% inserts, 30% updates that move a row to
# another group, 30% deletes), committed; round R makes each round touch other rows.
# Sets CHANGED to "inserted updated deleted" (the rows each statement changed).
NEXT_ID=$((ROWS + 1))
change_rows() { # $1 database, $2 rows, $3 round
  local n=$2 r=$3 ins upd del
  ins=$((n * 4 / 10)) upd=$((n * 3 / 10))
  del=$((n - ins - upd))
  # stride: a large prime, so consecutive i pick rows far apart (over many groups)
  q -d "$1" -At >"$WORK/change.out" <<SQL
BEGIN;
WITH i AS (INSERT INTO src SELECT $NEXT_ID + i, (($NEXT_ID + i) * 7919) % $NGROUPS, i % 1000, (i * 31) % 5000
             FROM generate_series(0::bigint, $ins - 1) i RETURNING 1) SELECT count(*) FROM i;
WITH u AS (UPDATE src SET g = (g + 1 + ($r * 13) % ($NGROUPS - 1)) % $NGROUPS, v = v + 1
            WHERE id IN (SELECT 1 + (($r * 1000003 + i * 104729) % $ROWS) FROM generate_series(1::bigint, $upd) i)
           RETURNING 1) SELECT count(*) FROM u;
WITH d AS (DELETE FROM src
            WHERE id IN (SELECT 1 + (($r * 2000029 + i * 15485863 + 7) % $ROWS) FROM generate_series(1::bigint, $del) i)
           RETURNING 1) SELECT count(*) FROM d;
COMMIT;
SQL
  NEXT_ID=$((NEXT_ID + ins))
  CHANGED=$(paste -s -d ' ' "$WORK/change.out")
}

VIEWS_READY=0
AGG="SELECT g, count(*) AS n, sum(v) AS s, avg(v) AS a, min(w) AS lo, max(w) AS hi FROM src GROUP BY g"
DB=bench_inc
setup_views() {
  echo "creating a table of $ROWS rows over $NGROUPS groups and registering i_agg (incremental) and f_agg (full)..."
  q -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
  q -d $DB >/dev/null <<SQL
CREATE EXTENSION pg_viewmgr;
CREATE TABLE src (id bigint PRIMARY KEY, g int NOT NULL, v int, w int);
INSERT INTO src SELECT i, (i * 7919) % $NGROUPS, i % 1000, (i * 31) % 5000 FROM generate_series(1::bigint, $ROWS) i;
-- the group key is indexed, as it would be on a table whose groups are refreshed one by one:
-- without it recomputing a few groups means scanning the whole table
CREATE INDEX src_g ON src (g);
VACUUM ANALYZE src;
SELECT viewmgr.register('i_agg', \$\$$AGG\$\$, materialized => true, incremental => true, indexes => ARRAY['UNIQUE (g)']);
SELECT viewmgr.register('f_agg', \$\$$AGG\$\$, materialized => true, indexes => ARRAY['UNIQUE (g)']);
VACUUM ANALYZE;
SQL
  q -d $DB -At -c "SELECT view_name || ': ' || coalesce(refresh_mode, '?') FROM viewmgr.status WHERE view_name IN ('public.i_agg', 'public.f_agg') ORDER BY 1" |
    sed 's/^/  refresh_mode of /'
  VIEWS_READY=1
}
# both views hold the same rows (and as many groups as the definition)
same_rows() { # $1 label
  local diff
  diff=$(q -d $DB -At -c "SELECT (SELECT count(*) FROM (TABLE i_agg EXCEPT ALL TABLE f_agg) a) + (SELECT count(*) FROM (TABLE f_agg EXCEPT ALL TABLE i_agg) b)")
  if [ "$diff" != 0 ]; then
    PROBLEMS+=("$1: i_agg and f_agg differ in $diff rows")
    echo "  $1: i_agg and f_agg DIFFER in $diff rows" >&2
    return 1
  fi
}

# ---------------------------------------------------------------------------------------
part_refresh() {
  setup_views
  local I=() F=() IC=() FC=() i detail
  run_inc() { timed $DB inc_$i "SELECT * FROM viewmgr.refresh('i_agg')"; I+=("$T_MS") IC+=("$T_CPU"); }
  run_full() { timed $DB full_$i "SELECT * FROM viewmgr.refresh('f_agg', concurrently => false)"; F+=("$T_MS") FC+=("$T_CPU"); }
  for ((i = 1; i <= RUNS; i++)); do
    change_rows $DB "$CHANGES" "$i"
    q -d $DB -c "VACUUM ANALYZE src" >/dev/null
    if ((i % 2)); then run_inc; run_full; else run_full; run_inc; fi
    detail=$(refresh_detail inc_$i)
    refresh_detail full_$i >/dev/null
    same_rows "run $i" || true
    echo "  run $i: changed (inserted updated deleted) $CHANGED; incremental ${I[-1]} ms, full ${F[-1]} ms; i_agg: $detail"
  done
  local im fm r
  im=$(median "${I[@]}") fm=$(median "${F[@]}")
  r=$(percent "$im" "$fm")
  REPORT+=("" "== incremental refresh after $CHANGES changed rows ==")
  REPORT+=("data size: src of $ROWS rows, aggregate of $NGROUPS groups ($AGG), UNIQUE (g) on both views")
  REPORT+=("changes per run: $CHANGES rows (40% inserts, 30% updates moving a row to another group, 30% deletes), committed, not timed")
  REPORT+=("medians of $RUNS alternating runs: incremental $im ms [$(median "${IC[@]}") ms CPU], full $fm ms [$(median "${FC[@]}") ms CPU]")
  REPORT+=("incremental/full = ${r}%  (target <= 2%)  $(at_most "$r" 2)")
}

# ---------------------------------------------------------------------------------------
part_breakeven() {
  # the views of part refresh, when it ran (its changes are committed and refreshed)
  [ "$VIEWS_READY" = 1 ] || setup_views
  local share n ri rf detail fallback="" prev_share="" prev_ratio="" breakeven="" round=100 line
  REPORT+=("" "== break-even share of changed rows (src of $ROWS rows, $NGROUPS groups; one run per share) ==")
  for share in $SHARES; do
    n=$(awk -v s="$share" -v r="$ROWS" 'BEGIN {printf "%d", s * r / 100}')
    ((n > 0)) || continue
    round=$((round + 1))
    change_rows $DB "$n" "$round"
    q -d $DB -c "VACUUM ANALYZE src" >/dev/null
    timed $DB be_inc_$round "SELECT * FROM viewmgr.refresh('i_agg')"
    ri=$T_MS
    timed $DB be_full_$round "SELECT * FROM viewmgr.refresh('f_agg', concurrently => false)"
    rf=$T_MS
    detail=$(refresh_detail be_inc_$round)
    refresh_detail be_full_$round >/dev/null
    same_rows "share $share%" || true
    line=$(printf '  %6s%% changed (%d rows; inserted updated deleted: %s): incremental %9s ms, full %9s ms, ratio %s%%; i_agg: %s' \
      "$share" "$n" "$CHANGED" "$ri" "$rf" "$(percent "$ri" "$rf")" "$detail")
    echo "$line"
    REPORT+=("$line")
    local ratio
    ratio=$(awk -v a="$ri" -v b="$rf" 'BEGIN {printf "%.4f", (b > 0 ? a / b : 0)}')
    if [ -z "$breakeven" ] && awk -v x="$ratio" 'BEGIN {exit !(x >= 1)}'; then
      if [ -n "$prev_share" ]; then
        breakeven=$(awk -v s0="$prev_share" -v r0="$prev_ratio" -v s1="$share" -v r1="$ratio" \
          'BEGIN {printf "about %.2f%% (interpolated between %s%% and %s%%)", s0 + (1 - r0) * (s1 - s0) / (r1 - r0), s0, s1}')
      else
        breakeven="at or below $share% (the smallest share measured)"
      fi
    fi
    prev_share=$share prev_ratio=$ratio
    case "$detail" in *"full recomputation"*) [ -n "$fallback" ] || fallback=$share ;; esac
  done
  REPORT+=("break-even share: ${breakeven:-above the largest share measured (${prev_share}%)}")
  [ -z "$fallback" ] || REPORT+=("  from ${fallback}% changed on, the engine itself recomputed i_agg in full (its detail says so): there I is" \
    "  its full recomputation, not the incremental path, and the break-even share above may lie between the two")
}

# ---------------------------------------------------------------------------------------
part_pgbench() {
  echo "pgbench -i -s $PGB_SCALE into a template database..."
  q -c "DROP DATABASE IF EXISTS pgb_template" -c "CREATE DATABASE pgb_template"
  "$PGBENCH" -i -q -s "$PGB_SCALE" pgb_template >"$WORK/pgbench_init.out" 2>&1 || {
    cat "$WORK/pgbench_init.out" >&2
    exit 1
  }
  q -d pgb_template -c "VACUUM ANALYZE" >/dev/null
  local MV="SELECT bid, sum(abalance) AS balance, count(*) AS accounts FROM public.pgbench_accounts GROUP BY bid"
  local INC=() PLAIN=() INC_CPU=() PLAIN_CPU=() i tps us_per_xact mode="" check=""
  run_side() { # $1: incremental | plain
    q -c "DROP DATABASE IF EXISTS pgb_run" -c "CREATE DATABASE pgb_run TEMPLATE pgb_template STRATEGY FILE_COPY" >/dev/null
    if [ "$1" = incremental ]; then
      q -d pgb_run -c "CREATE EXTENSION pg_viewmgr" \
        -c "SELECT viewmgr.register('public.accounts_by_branch', \$\$$MV\$\$, materialized => true, incremental => true)" >/dev/null
      mode=$(q -d pgb_run -At -c "SELECT refresh_mode FROM viewmgr.status WHERE view_name = 'public.accounts_by_branch'")
    else
      q -d pgb_run -c "CREATE MATERIALIZED VIEW public.accounts_by_branch AS $MV" >/dev/null
    fi
    q -d pgb_run -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
    sleep 1
    local k0 k1 xacts
    k0=$(child_ticks)
    "$PGBENCH" -n -c "$PGB_CLIENTS" -j "$PGB_JOBS" -T "$PGB_TIME" pgb_run >"$WORK/pgbench_$1.out" 2>&1 || {
      cat "$WORK/pgbench_$1.out" >&2
      exit 1
    }
    sleep 1 # the postmaster reaps the pgbench backends
    k1=$(child_ticks)
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$WORK/pgbench_$1.out")
    tps=$(awk -v t="$tps" 'BEGIN {printf "%.1f", t}')
    xacts=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench_$1.out")
    us_per_xact=$(awk -v k="$((k1 - k0))" -v ms="$TICK_MS" -v n="$xacts" 'BEGIN {printf "%.1f", (n > 0 ? k * ms * 1000 / n : 0)}')
    if [ "$1" = incremental ]; then
      # what the writes left for the view: one refresh, then it must hold its definition's rows
      check=$(q -d pgb_run -At -F '|' -c "SELECT action, detail FROM viewmgr.refresh('public.accounts_by_branch')")
      local diff
      diff=$(q -d pgb_run -At -c "SELECT (SELECT count(*) FROM (TABLE accounts_by_branch EXCEPT ALL ($MV)) a) + (SELECT count(*) FROM (($MV) EXCEPT ALL TABLE accounts_by_branch) b)")
      [ "$diff" = 0 ] || PROBLEMS+=("pgbench: after the refresh accounts_by_branch differs from its definition in $diff rows")
      [ "$mode" = incremental ] || PROBLEMS+=("pgbench: viewmgr.status says refresh_mode '$mode' for accounts_by_branch")
    fi
  }
  for ((i = 1; i <= PGB_RUNS; i++)); do
    if ((i % 2)); then
      run_side plain; PLAIN+=("$tps") PLAIN_CPU+=("$us_per_xact")
      run_side incremental; INC+=("$tps") INC_CPU+=("$us_per_xact")
    else
      run_side incremental; INC+=("$tps") INC_CPU+=("$us_per_xact")
      run_side plain; PLAIN+=("$tps") PLAIN_CPU+=("$us_per_xact")
    fi
    echo "  run $i: plain ${PLAIN[-1]} tps, incremental ${INC[-1]} tps (server CPU per transaction: plain ${PLAIN_CPU[-1]} us, incremental ${INC_CPU[-1]} us; then refresh: $check)"
  done
  local pm im r
  pm=$(median "${PLAIN[@]}") im=$(median "${INC[@]}")
  r=$(percent "$im" "$pm")
  REPORT+=("" "== pgbench with pgbench_accounts feeding an incremental materialized view ==")
  REPORT+=("data size: pgbench -i -s $PGB_SCALE ($((PGB_SCALE * 100000)) accounts); tpcb-like, $PGB_CLIENTS clients, $PGB_JOBS threads, $PGB_TIME s per run, fresh copy per run")
  REPORT+=("incremental: public.accounts_by_branch ($MV) registered with incremental => true (refresh_mode: $mode)")
  REPORT+=("plain: the same materialized view created by hand, no extension")
  REPORT+=("medians of $PGB_RUNS alternating runs: plain $pm tps, incremental $im tps")
  REPORT+=("incremental/plain = ${r}%  (target >= 90%)  $(at_least "$r" 90)")
  REPORT+=("  server CPU per transaction (medians): plain $(median "${PLAIN_CPU[@]}") us, incremental $(median "${INC_CPU[@]}") us")
  REPORT+=("  refresh after the last incremental run: $check")
  q -c "DROP DATABASE IF EXISTS pgb_run" -c "DROP DATABASE pgb_template" >/dev/null
}

LOAD_BEFORE=$(cut -d ' ' -f 1-3 /proc/loadavg)
for part in $PARTS; do
  case "$part" in
    refresh) part_refresh ;;
    breakeven) part_breakeven ;;
    pgbench) part_pgbench ;;
    *) echo "unknown part '$part' (refresh, breakeven or pgbench)" >&2; exit 2 ;;
  esac
done

echo
echo "extension built from: $SOURCE_DESC"
echo "machine: $(nproc) cores, load average before the benchmark: $LOAD_BEFORE"
printf '%s\n' "${REPORT[@]}"
if [ "${#PROBLEMS[@]}" -gt 0 ]; then
  echo
  echo "problems:"
  printf '%s\n' "${PROBLEMS[@]}"
  exit 1
fi
exit 0
