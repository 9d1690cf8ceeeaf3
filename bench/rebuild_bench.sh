#!/usr/bin/env bash
# Rebuild benchmark (SPEC §6, third row).
#
#   bench/rebuild_bench.sh
#
# Data set (bench/rebuild_bench_gen.py, fixed seed): a base view bench_rb.base over a table
# of 2,000 rows, and 200 views downstream of it in 4 levels, about half of them managed
# (registered) and half hand-made plain views; some carry grants (table and column level)
# and comments (view and column).
#   A  the hand-written rebuild: DROP VIEW bench_rb.base CASCADE, then CREATE VIEW of the
#      new base and of the 200 dependents, with their GRANT and COMMENT statements, in
#      dependency order, in one transaction
#   B  the pg_viewmgr rebuild: viewmgr.register() of the base view with amount cast to
#      integer (an incompatible column change), which rebuilds the base view and all 200
#      dependents, managed and unmanaged, keeping their grants and comments, in one
#      transaction
# Every figure is measured inside its own psql session with clock_timestamp() before BEGIN
# and after COMMIT, so connection start-up is excluded on both sides; the backend's CPU
# time over the same span (/proc/self/schedstat) is printed in brackets. Runs alternate
# (A, B, then B, A, ...); each starts from a freshly built set of views, vacuumed catalogs
# and a checkpoint. Figures are medians. After each run the grants and comments of all 201
# views are fingerprinted: both sides must end with the same ones. The target is reported
# as PASS/MISS; the exit status is 0 whenever the measurement itself worked.
#
# Environment:
#   REBUILD_BENCH_RUNS=7          measured runs of each side
#   REBUILD_BENCH_WARMUP=1        unmeasured runs of each side first
#   REBUILD_BENCH_SEED=20240616   generator seed
#   REBUILD_BENCH_INSTALL=private private (default) | system (`make -s install`) | none
#   REBUILD_BENCH_SOURCE=tree     what to build: tree (the working tree, default) or, with
#                                 the private install, a git revision (e.g. HEAD), taken
#                                 with `git archive` into the work directory
#   VIEWMGR_CLUSTER_DIR, VIEWMGR_PORT  the throwaway cluster (default /tmp/vm_rebuild_bench,
#                                 55445; removed at exit)
#   REBUILD_BENCH_KEEP=1          keep the work directory (generated SQL, psql output)
# Generator knobs (they change the data set; the target is stated for the defaults):
#   REBUILD_BENCH_DEPENDENTS=200, REBUILD_BENCH_LEVELS=4, REBUILD_BENCH_MANAGED_PERCENT=50,
#   REBUILD_BENCH_ROWS=2000
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${REBUILD_BENCH_RUNS:-7}
WARMUP=${REBUILD_BENCH_WARMUP:-1}
SEED=${REBUILD_BENCH_SEED:-20240616}
export VIEWMGR_CLUSTER_DIR=${VIEWMGR_CLUSTER_DIR:-/tmp/vm_rebuild_bench}
export VIEWMGR_PORT=${VIEWMGR_PORT:-55445}

source "$ROOT/bench/lib.sh"
bench_prepare REBUILD_BENCH

python3 "$ROOT/bench/rebuild_bench_gen.py" "$WORK" --seed "$SEED" \
  --dependents "${REBUILD_BENCH_DEPENDENTS:-200}" --levels "${REBUILD_BENCH_LEVELS:-4}" \
  --managed-percent "${REBUILD_BENCH_MANAGED_PERCENT:-50}" --rows "${REBUILD_BENCH_ROWS:-2000}"
summary() { sed -n "s/^$1=//p" "$WORK/summary.txt"; }
N_DEPS=$(summary dependents)
N_VIEWS=$((N_DEPS + 1))
VSCHEMA=$(summary view_schema)

bench_start_cluster

q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

q -f "$WORK/setup.sql" >/dev/null

# Empty view schema and a fresh extension (empty registry), then the starting views.
reset_state() { # $1: views_managed.sql or views_plain.sql
  q -c "SET client_min_messages = warning" \
    -c "DROP SCHEMA IF EXISTS $VSCHEMA CASCADE" \
    -c "DROP EXTENSION IF EXISTS pg_viewmgr" \
    -c "CREATE EXTENSION pg_viewmgr" \
    -c "CREATE SCHEMA $VSCHEMA" \
    -c "GRANT USAGE ON SCHEMA $VSCHEMA TO bench_rb_reader, bench_rb_analyst" \
    >/dev/null 2>"$WORK/reset.err" || {
    cat "$WORK/reset.err" >&2
    exit 1
  }
  q -f "$WORK/$1" >/dev/null
  q -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
}

# Timer: wall clock and the backend's on-CPU time (ns, Linux), both read in the server.
CPU_NS="coalesce(split_part(pg_catalog.pg_read_file('/proc/self/schedstat', 0, 200, true), ' ', 1), '0')::bigint"
timer_start() {
  echo "SELECT clock_timestamp() AS bench_t0, $CPU_NS AS bench_cpu0 \\gset"
}
timer_end() { # $1: label
  echo "SELECT round(extract(epoch FROM clock_timestamp() - :'bench_t0'::timestamptz) * 1000, 1) AS bench_ms,"
  echo "       round(($CPU_NS - :bench_cpu0) / 1e6, 1) AS bench_cpu \\gset"
  echo "\\echo $1_MS :bench_ms :bench_cpu"
}
# What both sides must end with: the views, their grants and comments (view and column),
# and the new type of base.amount. The definitions and column types are fingerprinted
# separately, for information (a hand-made view is recreated from its stored definition
# by pg_viewmgr but from its original text by the script).
CHECK="SELECT count(*) AS views,
       count(*) FILTER (WHERE c.relacl IS NOT NULL) AS granted,
       count(*) FILTER (WHERE pg_catalog.obj_description(c.oid, 'pg_class') IS NOT NULL) AS commented,
       md5(string_agg(c.relname || '|' || coalesce(c.relacl::text, '') || '|' ||
           coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '') || '|' ||
           coalesce((SELECT string_agg(a.attname || ':' || coalesce(a.attacl::text, '') || ':' ||
                            coalesce(pg_catalog.col_description(a.attrelid, a.attnum), ''), ',' ORDER BY a.attnum)
                       FROM pg_catalog.pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attnum > 0
                        AND (a.attacl IS NOT NULL OR pg_catalog.col_description(a.attrelid, a.attnum) IS NOT NULL)), ''),
           ';' ORDER BY c.relname)) AS props,
       md5(string_agg(c.relname || '|' || pg_catalog.pg_get_viewdef(c.oid), ';' ORDER BY c.relname)) AS defs,
       md5(string_agg(c.relname || '|' || (SELECT string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum)
                         FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0), ';' ORDER BY c.relname)) AS types,
       (SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = '$VSCHEMA.base'::regclass AND a.attname = 'amount') AS base_amount
  FROM pg_catalog.pg_class c WHERE c.relnamespace = '$VSCHEMA'::regnamespace AND c.relkind = 'v' \\gset chk_"
CHECK_ECHO="\\echo CHECK :chk_views :chk_granted :chk_commented :chk_props :chk_defs :chk_types :chk_base_amount"

{
  echo "\\set ON_ERROR_STOP on"
  echo "SET client_min_messages = warning;"
  timer_start
  echo "BEGIN;"
  echo "\\i $WORK/rebuild_script.sql"
  echo "COMMIT;"
  timer_end A
  echo "$CHECK"
  echo "$CHECK_ECHO"
} >"$WORK/a.sql"

{
  echo "\\set ON_ERROR_STOP on"
  echo "SET client_min_messages = warning;"
  timer_start
  echo "BEGIN;"
  echo "\\i $WORK/rebuild_call.sql"
  echo "COMMIT;"
  timer_end B
  echo "\\echo ACTION :rb_action"
  echo "SELECT count(*) AS n FROM viewmgr.history WHERE operation = 'rebuild' \\gset hist_"
  echo "\\echo HISTORY :hist_n"
  echo "$CHECK"
  echo "$CHECK_ECHO"
} >"$WORK/b.sql"

field() { sed -n "s/^$1 //p" "$2"; }

A_TIMES=() B_TIMES=() A_CPU=() B_CPU=()
PROBLEMS=()
A_CHECK= B_CHECK=

check_views() { # $1: side, $2: CHECK line
  local views granted commented props defs types amount
  read -r views granted commented props defs types amount <<<"$2"
  if [ "$views" != "$N_VIEWS" ]; then
    PROBLEMS+=("side $1 ended with $views views; expected $N_VIEWS")
  fi
  if [ "$amount" != integer ]; then
    PROBLEMS+=("side $1: base.amount is '$amount' after the rebuild; expected integer")
  fi
}

run_a() {
  reset_state views_plain.sql
  q -f "$WORK/a.sql" >"$WORK/a.out"
  read -r A_MS A_CPU_MS <<<"$(field A_MS "$WORK/a.out")"
  A_CHECK=$(field CHECK "$WORK/a.out")
  check_views A "$A_CHECK"
}

run_b() {
  reset_state views_managed.sql
  q -f "$WORK/b.sql" >"$WORK/b.out"
  read -r B_MS B_CPU_MS <<<"$(field B_MS "$WORK/b.out")"
  B_CHECK=$(field CHECK "$WORK/b.out")
  check_views B "$B_CHECK"
  if [ "$(field ACTION "$WORK/b.out")" != rebuilt ]; then
    PROBLEMS+=("register() of the base view returned '$(field ACTION "$WORK/b.out")'; expected rebuilt")
  fi
  B_HISTORY=$(field HISTORY "$WORK/b.out")
}

median() {
  printf '%s\n' "$@" | sort -g |
    awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {if (y > 0) printf "%.2f", x / y; else print "n/a"}'; }
verdict() { awk -v x="$1" -v t="$2" 'BEGIN {print (x != "n/a" && x <= t) ? "PASS" : "MISS"}'; }

echo "data set: base view + $N_DEPS dependents in $(summary levels) levels" \
  "($(summary managed) managed, $(summary unmanaged) hand-made) over a table of $(summary rows) rows"
for ((i = 1; i <= WARMUP; i++)); do
  run_a
  run_b
  echo "warm-up $i: A $A_MS ms, B $B_MS ms"
done
SAME_PROPS=yes SAME_DEFS=yes SAME_TYPES=yes
for ((i = 1; i <= RUNS; i++)); do
  # Alternate which side goes first.
  if ((i % 2)); then run_a; run_b; else run_b; run_a; fi
  A_TIMES+=("$A_MS") B_TIMES+=("$B_MS") A_CPU+=("$A_CPU_MS") B_CPU+=("$B_CPU_MS")
  echo "run $i: A $A_MS ms, B $B_MS ms (backend CPU: A $A_CPU_MS, B $B_CPU_MS ms)"
  read -r _ _ _ a_props a_defs a_types _ <<<"$A_CHECK"
  read -r _ _ _ b_props b_defs b_types _ <<<"$B_CHECK"
  [ "$a_props" = "$b_props" ] || SAME_PROPS=no
  [ "$a_defs" = "$b_defs" ] || SAME_DEFS=no
  [ "$a_types" = "$b_types" ] || SAME_TYPES=no
done
[ "$SAME_PROPS" = yes ] || PROBLEMS+=("the grants or comments differ between the two sides after the rebuild")

A_MED=$(median "${A_TIMES[@]}") B_MED=$(median "${B_TIMES[@]}")
A_CPU_MED=$(median "${A_CPU[@]}") B_CPU_MED=$(median "${B_CPU[@]}")
RATIO=$(ratio "$B_MED" "$A_MED")
read -r _ GRANTED COMMENTED _ <<<"$B_CHECK"

echo
echo "== rebuild of a base view with $N_DEPS dependents =="
echo "extension built from: $SOURCE_DESC"
echo "data size: base view over $(summary rows) rows; $N_DEPS dependents in $(summary levels) levels," \
  "$(summary managed) managed + $(summary unmanaged) hand-made, $(summary agg_views) of them aggregates;"
echo "  $(summary granted) views with table grants, $(summary column_granted) with column grants," \
  "$(summary commented) with view comments, $(summary column_commented) with column comments (seed $SEED)"
echo "change: base.amount numeric(12,2) -> amount::int (CREATE OR REPLACE VIEW cannot do it)"
echo "medians of $RUNS alternating runs (after $WARMUP warm-up), wall clock [backend CPU]:"
printf '  A  DROP VIEW base CASCADE + %d CREATE VIEW + GRANT/COMMENT, one transaction  %9s ms  [%s ms]\n' \
  "$N_VIEWS" "$A_MED" "$A_CPU_MED"
printf '  B  viewmgr.register(base, new definition) -> rebuilt, one transaction        %9s ms  [%s ms]\n' \
  "$B_MED" "$B_CPU_MED"
echo "B/A = ${RATIO}x  (target <= 1.3x)  $(verdict "$RATIO" 1.3)    [CPU: $(ratio "$B_CPU_MED" "$A_CPU_MED")x]"
echo "after the rebuild, both sides: $N_VIEWS views, $GRANTED with grants, $COMMENTED with a view comment;" \
  "grants and comments identical: $SAME_PROPS; definitions identical: $SAME_DEFS; column types identical: $SAME_TYPES"
echo "  (pg_viewmgr recreates a hand-made view from its stored definition, the script from its original text;"
echo "   rebuild rows written to viewmgr.history by B: $B_HISTORY)"
if [ "${#PROBLEMS[@]}" -gt 0 ]; then
  echo
  echo "problems:"
  printf '%s\n' "${PROBLEMS[@]}" | sort | uniq -c
fi
exit 0
