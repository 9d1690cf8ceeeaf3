#!/usr/bin/env bash
# Benchmark (issue 8): staleness checks cost what changed since the last refresh, not the
# size of the change log. Database bench_rf from bench/refresh_bench_gen.py: 50 tables of
# CHANGELOG_BENCH_ROWS rows, one managed materialized view each. After a refresh_all() every
# view is fresh; then the change log is given BIG (default 1,000,000) or SMALL (1,000) rows
# of past write transactions on the tables the fresh views read, and t01 and t02 are
# written, so exactly 2 of 50 views are stale. Timed: refresh_all() (it checks every view's
# staleness, refreshes the 2, and prunes one bounded batch of the log).
#
# The log rows stand for write transactions that committed before the views' last refresh
# (one row per transaction and table, exactly what the tracking trigger appends); they are
# inserted directly, with past transaction ids, because running a million real write
# transactions would take most of the run. Alternating runs, medians.
#
#   bench/changelog_bench.sh
#
# Environment: CHANGELOG_BENCH_RUNS (5), CHANGELOG_BENCH_BIG (1000000), CHANGELOG_BENCH_SMALL
# (1000), CHANGELOG_BENCH_ROWS (20000), CHANGELOG_BENCH_INSTALL / _SOURCE / _KEEP as in
# bench/lib.sh, VIEWMGR_CLUSTER_DIR / VIEWMGR_PORT (default /tmp/vm_changelog_bench, 55447).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${CHANGELOG_BENCH_RUNS:-5}
BIG=${CHANGELOG_BENCH_BIG:-1000000}
SMALL=${CHANGELOG_BENCH_SMALL:-1000}
ROWS=${CHANGELOG_BENCH_ROWS:-20000}
export VIEWMGR_CLUSTER_DIR=${VIEWMGR_CLUSTER_DIR:-/tmp/vm_changelog_bench}
export VIEWMGR_PORT=${VIEWMGR_PORT:-55447}

source "$ROOT/bench/lib.sh"
bench_prepare CHANGELOG_BENCH
python3 "$ROOT/bench/refresh_bench_gen.py" "$WORK" --views 50 --rows "$ROWS" --par-views 1 --par-rows 10 >/dev/null
bench_start_cluster
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

echo "setting up: 50 tables of $ROWS rows, 50 materialized views..."
"${PSQL[@]}" -d postgres -c "CREATE DATABASE bench_rf" >/dev/null
"${PSQL[@]}" -d bench_rf -c "CREATE EXTENSION pg_viewmgr" >/dev/null
"${PSQL[@]}" -d bench_rf -f "$WORK/rf_setup.sql" >/dev/null
"${PSQL[@]}" -d bench_rf -c "SELECT count(*) FROM viewmgr.refresh_all(only_stale => false)" >/dev/null

# fill N: the change log holds N rows of past transactions on t03 ... t50, older than every
# view's last refresh (500 distinct transaction ids: a fresh cluster has not used a million
# yet; the index is read by (table, transaction id >= the refresh's xmin) either way), then
# t01 and t02 are written.
fill() {
  "${PSQL[@]}" -d bench_rf >/dev/null <<SQL
DELETE FROM viewmgr.source_change WHERE relid <> 0;
INSERT INTO viewmgr.source_change (relid, xid, cid)
SELECT t.oid, (b.base - 1 - (g / 48) % 500)::text::xid8, 0
  FROM generate_series(0, $1 - 1) g
 CROSS JOIN (SELECT min(pg_snapshot_xmin(snapshot)::text::bigint) AS base
               FROM viewmgr.refresh_state) b
  JOIN pg_class t ON t.relnamespace = 'bench_rf_data'::regnamespace
                 AND t.relname = 't' || lpad((3 + g % 48)::text, 2, '0');
VACUUM ANALYZE viewmgr.source_change;
SQL
  "${PSQL[@]}" -d bench_rf -f "$WORK/rf_touch.sql" >/dev/null
}

# timed: one refresh_all() in an open session, milliseconds; checks that it refreshed 2.
timed() {
  local out
  out=$("${PSQL[@]}" -d bench_rf -At <<'SQL'
\timing on
SELECT count(*) FILTER (WHERE action = 'refreshed') FROM viewmgr.refresh_all();
SQL
)
  local refreshed ms
  refreshed=$(echo "$out" | head -1)
  ms=$(echo "$out" | sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' | head -1)
  if [ "$refreshed" != 2 ]; then
    echo "refresh_all() refreshed $refreshed views, not 2" >&2
    exit 1
  fi
  echo "$ms"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

fill "$SMALL"; timed >/dev/null  # warm-up
big_times=() small_times=()
for run in $(seq "$RUNS"); do
  fill "$BIG"; big_times+=("$(timed)")
  fill "$SMALL"; small_times+=("$(timed)")
  echo "  run $run: log of $BIG rows ${big_times[-1]} ms, of $SMALL rows ${small_times[-1]} ms"
done
big=$(printf '%s\n' "${big_times[@]}" | median)
small=$(printf '%s\n' "${small_times[@]}" | median)
ratio=$(awk -v a="$big" -v b="$small" 'BEGIN {printf "%.2f", a / b}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r <= 1.5) ? "met" : "NOT met"}')
echo
echo "source: $SOURCE_DESC"
echo "data: 50 tables x $ROWS rows, 50 materialized views, 2 stale; medians of $RUNS alternating runs"
printf '  refresh_all(), change log of %8d rows   %9s ms\n' "$BIG" "$big"
printf '  refresh_all(), change log of %8d rows   %9s ms\n' "$SMALL" "$small"
echo "ratio: $ratio  (target <= 1.5)  $verdict"
