#!/usr/bin/env bash
# sync() benchmark (SPEC §6, first two rows).
#
#   bench/sync_bench.sh
#
# Data set: 50 tables of 2,000 rows, 1,000 views in a 10-level DAG (100 per level), 20% of
# them materialized, generated deterministically by bench/sync_bench_gen.py.
#   A  the CREATE [MATERIALIZED] VIEW statements as one psql script, in topological order,
#      in one transaction
#   B  the same 1,000 views registered with viewmgr.register(..., apply => false) in
#      shuffled order (not timed), then SELECT ... FROM viewmgr.sync() in one transaction
#   C  a second, no-op sync() right after B in the same session: it must report every view
#      'unchanged' and run no DDL
# Every figure is measured inside its own psql session with clock_timestamp() before BEGIN
# and after COMMIT, so connection start-up is excluded on both sides. The backend's CPU
# time over the same span (/proc/self/schedstat) is printed too: it is much less sensitive
# to other load on the machine. Runs alternate A, B+C, A, B+C, ...; each starts from an
# empty view schema, a freshly created extension (empty registry), vacuumed catalogs and a
# checkpoint. Figures are medians. Targets are reported as PASS/MISS; the exit status is 0
# whenever the measurement itself worked.
#
# The extension is built from this working tree and, by default, installed into a private
# copy of the PostgreSQL installation inside the benchmark's work directory, so that other
# `make install`s on the machine cannot swap the module under a running benchmark.
#
# Environment:
#   SYNC_BENCH_RUNS=5          measured runs of each side
#   SYNC_BENCH_WARMUP=1        unmeasured runs of each side first
#   SYNC_BENCH_SEED=20240615   generator seed
#   SYNC_BENCH_INSTALL=private private (default) | system (`make -s install`) | none (use
#                              what is installed)
#   VIEWMGR_CLUSTER_DIR, VIEWMGR_PORT  the throwaway cluster (removed at exit)
#   SYNC_BENCH_KEEP=1          keep the work directory (generated SQL, psql output)
# Generator knobs (they change the data set; the targets are stated for the defaults):
#   SYNC_BENCH_TABLES, SYNC_BENCH_ROWS, SYNC_BENCH_LEVELS, SYNC_BENCH_PER_LEVEL,
#   SYNC_BENCH_MAT_PERCENT
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${SYNC_BENCH_RUNS:-5}
WARMUP=${SYNC_BENCH_WARMUP:-1}
SEED=${SYNC_BENCH_SEED:-20240615}
export VIEWMGR_CLUSTER_DIR=${VIEWMGR_CLUSTER_DIR:-/tmp/pg_viewmgr_sync_bench}
export VIEWMGR_PORT=${VIEWMGR_PORT:-55471}

source "$ROOT/bench/lib.sh"
bench_prepare SYNC_BENCH

python3 "$ROOT/bench/sync_bench_gen.py" "$WORK" --seed "$SEED" \
  --tables "${SYNC_BENCH_TABLES:-50}" --rows "${SYNC_BENCH_ROWS:-2000}" \
  --levels "${SYNC_BENCH_LEVELS:-10}" --per-level "${SYNC_BENCH_PER_LEVEL:-100}" \
  --materialized-percent "${SYNC_BENCH_MAT_PERCENT:-20}"
summary() { sed -n "s/^$1=//p" "$WORK/summary.txt"; }
N_TABLES=$(summary tables)
N_ROWS=$(summary rows)
N_VIEWS=$(summary views)
N_LEVELS=$(summary levels)
N_MAT=$(summary materialized)
VSCHEMA=$(summary view_schema)

bench_start_cluster

q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

q -f "$WORK/setup.sql" >/dev/null
# Records every DDL command run while its event triggers exist (only around figure C).
q >/dev/null <<'SQL'
CREATE SCHEMA bench_audit;
CREATE TABLE bench_audit.ddl_log (tag text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION bench_audit.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO bench_audit.ddl_log (tag) VALUES (tg_tag); END $$;
SQL

# Empty view schema, fresh extension (empty registry), vacuumed catalogs, a checkpoint.
reset_state() {
  q -c "DROP SCHEMA IF EXISTS $VSCHEMA CASCADE" \
    -c "DROP EXTENSION IF EXISTS pg_viewmgr" \
    -c "CREATE EXTENSION pg_viewmgr" \
    -c "CREATE SCHEMA $VSCHEMA" >/dev/null 2>"$WORK/reset.err" || {
    cat "$WORK/reset.err" >&2
    exit 1
  }
  settle
}
settle() { q -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null; }

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
OBJECTS="SELECT count(*) FILTER (WHERE c.relkind = 'v') AS views,
       count(*) FILTER (WHERE c.relkind = 'm') AS matviews,
       count(*) FILTER (WHERE c.relkind = 'm' AND c.relispopulated) AS populated
  FROM pg_class c WHERE c.relnamespace = '$VSCHEMA'::regnamespace \\gset obj_"

{
  echo "\\set ON_ERROR_STOP on"
  timer_start
  echo "BEGIN;"
  echo "\\i $WORK/baseline.sql"
  echo "COMMIT;"
  timer_end A
  echo "$OBJECTS"
  echo "\\echo A_OBJECTS :obj_views :obj_matviews :obj_populated"
} >"$WORK/a.sql"

{
  echo "\\set ON_ERROR_STOP on"
  echo "-- B: the first sync"
  timer_start
  echo "BEGIN;"
  echo "SELECT count(*) AS n, count(*) FILTER (WHERE action = 'created') AS created FROM viewmgr.sync() \\gset b_"
  echo "COMMIT;"
  timer_end B
  echo "\\echo B_ROWS :b_n :b_created"
  echo "$OBJECTS"
  echo "\\echo B_OBJECTS :obj_views :obj_matviews :obj_populated"
  echo "-- C: a no-op sync right after, watched by event triggers and the catalogs"
  echo "TRUNCATE bench_audit.ddl_log;"
  echo "CREATE EVENT TRIGGER bench_watch_start ON ddl_command_start EXECUTE FUNCTION bench_audit.log_ddl();"
  echo "CREATE EVENT TRIGGER bench_watch_drop ON sql_drop EXECUTE FUNCTION bench_audit.log_ddl();"
  echo "SELECT count(*) AS n, max(xmin::text::bigint) AS xmin FROM pg_class WHERE relnamespace = '$VSCHEMA'::regnamespace \\gset pre_"
  timer_start
  echo "BEGIN;"
  echo "SELECT count(*) AS n, count(*) FILTER (WHERE action = 'unchanged') AS unchanged FROM viewmgr.sync() \\gset c_"
  # No transaction id means the sync wrote nothing at all: no DDL, no registry update.
  echo "SELECT coalesce(pg_catalog.txid_current_if_assigned()::text, 'none') AS xid \\gset c_"
  echo "COMMIT;"
  timer_end C
  echo "\\echo C_ROWS :c_n :c_unchanged"
  echo "\\echo C_XID :c_xid"
  echo "DROP EVENT TRIGGER bench_watch_start;"
  echo "DROP EVENT TRIGGER bench_watch_drop;"
  echo "SELECT count(*) AS ddl FROM bench_audit.ddl_log \\gset c_"
  echo "SELECT count(*) AS n, max(xmin::text::bigint) AS xmin FROM pg_class WHERE relnamespace = '$VSCHEMA'::regnamespace \\gset post_"
  echo "\\echo C_DDL :c_ddl"
  echo "\\echo C_CATALOG :pre_n :pre_xmin :post_n :post_xmin"
} >"$WORK/sync.sql"

{
  echo "\\set ON_ERROR_STOP on"
  echo "-- a no-op sync from a new session (cold caches), for information"
  timer_start
  echo "BEGIN;"
  echo "SELECT count(*) AS n FROM viewmgr.sync() \\gset d_"
  echo "COMMIT;"
  timer_end D
} >"$WORK/noop_new_session.sql"

field() { sed -n "s/^$1 //p" "$2"; }

A_TIMES=() B_TIMES=() C_TIMES=() D_TIMES=() REG_TIMES=()
A_CPU=() B_CPU=() C_CPU=() D_CPU=()
PROBLEMS=()
NO_DDL=yes
C_EVIDENCE=

run_a() {
  reset_state
  q -f "$WORK/a.sql" >"$WORK/a.out"
  read -r A_MS A_CPU_MS <<<"$(field A_MS "$WORK/a.out")"
  local objects
  objects=$(field A_OBJECTS "$WORK/a.out")
  if [ "$objects" != "$((N_VIEWS - N_MAT)) $N_MAT $N_MAT" ]; then
    PROBLEMS+=("the CREATE script built '$objects' (views, matviews, populated)")
  fi
}

run_b() {
  reset_state
  local t0 t1 out="$WORK/b.out"
  t0=$(date +%s%N)
  q -f "$WORK/register.sql" >/dev/null
  t1=$(date +%s%N)
  REG_MS=$(((t1 - t0) / 1000000))
  settle
  q -f "$WORK/sync.sql" >"$out"
  q -f "$WORK/noop_new_session.sql" >>"$out"
  read -r B_MS B_CPU_MS <<<"$(field B_MS "$out")"
  read -r C_MS C_CPU_MS <<<"$(field C_MS "$out")"
  read -r D_MS D_CPU_MS <<<"$(field D_MS "$out")"
  if [ "$(field B_ROWS "$out")" != "$N_VIEWS $N_VIEWS" ]; then
    PROBLEMS+=("the first sync reported '$(field B_ROWS "$out")' (rows, created); expected $N_VIEWS $N_VIEWS")
  fi
  if [ "$(field B_OBJECTS "$out")" != "$((N_VIEWS - N_MAT)) $N_MAT $N_MAT" ]; then
    PROBLEMS+=("the first sync built '$(field B_OBJECTS "$out")' (views, matviews, populated)")
  fi
  if [ "$(field C_ROWS "$out")" != "$N_VIEWS $N_VIEWS" ]; then
    PROBLEMS+=("the no-op sync reported '$(field C_ROWS "$out")' (rows, unchanged); expected $N_VIEWS $N_VIEWS")
  fi
  local ddl xid pre_n pre_x post_n post_x
  ddl=$(field C_DDL "$out")
  xid=$(field C_XID "$out")
  read -r pre_n pre_x post_n post_x <<<"$(field C_CATALOG "$out")"
  C_EVIDENCE="DDL commands seen by event triggers: $ddl; transaction id assigned: $xid; pg_class rows in $VSCHEMA before/after: $pre_n/$post_n, newest xmin $pre_x/$post_x"
  if [ "$ddl" != 0 ] || [ "$xid" != none ] || [ "$pre_n" != "$post_n" ] || [ "$pre_x" != "$post_x" ]; then
    NO_DDL=no
  fi
}

median() {
  printf '%s\n' "$@" | sort -g |
    awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {if (y > 0) printf "%.2f", x / y; else print "n/a"}'; }
percent() { awk -v x="$1" -v y="$2" 'BEGIN {if (y > 0) printf "%.1f", 100 * x / y; else print "n/a"}'; }
verdict() { awk -v x="$1" -v t="$2" 'BEGIN {print (x != "n/a" && x <= t) ? "PASS" : "MISS"}'; }

echo "data set: $N_TABLES tables x $N_ROWS rows; $N_VIEWS views in $N_LEVELS levels, $N_MAT materialized"
for ((i = 1; i <= WARMUP; i++)); do
  run_a
  run_b
  echo "warm-up $i: A $A_MS ms, B $B_MS ms, C $C_MS ms"
done
for ((i = 1; i <= RUNS; i++)); do
  run_a
  run_b
  A_TIMES+=("$A_MS") B_TIMES+=("$B_MS") C_TIMES+=("$C_MS") D_TIMES+=("$D_MS")
  A_CPU+=("$A_CPU_MS") B_CPU+=("$B_CPU_MS") C_CPU+=("$C_CPU_MS") D_CPU+=("$D_CPU_MS")
  REG_TIMES+=("$REG_MS")
  echo "run $i: A $A_MS ms, B $B_MS ms, C $C_MS ms (backend CPU: A $A_CPU_MS, B $B_CPU_MS, C $C_CPU_MS ms)"
done

A_MED=$(median "${A_TIMES[@]}") B_MED=$(median "${B_TIMES[@]}") C_MED=$(median "${C_TIMES[@]}")
D_MED=$(median "${D_TIMES[@]}") REG_MED=$(median "${REG_TIMES[@]}")
A_CPU_MED=$(median "${A_CPU[@]}") B_CPU_MED=$(median "${B_CPU[@]}") C_CPU_MED=$(median "${C_CPU[@]}")
D_CPU_MED=$(median "${D_CPU[@]}")
RATIO=$(ratio "$B_MED" "$A_MED")
PCT=$(percent "$C_MED" "$B_MED")

echo
echo "== viewmgr.sync() benchmark =="
echo "data size: $N_TABLES tables x $N_ROWS rows; $N_VIEWS views in a $N_LEVELS-level DAG, $N_MAT materialized (seed $SEED)"
echo "medians of $RUNS alternating runs (after $WARMUP warm-up), wall clock [backend CPU]:"
printf '  A  CREATE script, one transaction        %9s ms  [%s ms]\n' "$A_MED" "$A_CPU_MED"
printf '  B  first viewmgr.sync()                  %9s ms  [%s ms]\n' "$B_MED" "$B_CPU_MED"
printf '  C  no-op viewmgr.sync() right after B    %9s ms  [%s ms]\n' "$C_MED" "$C_CPU_MED"
echo "B/A = ${RATIO}x  (target <= 1.2x)  $(verdict "$RATIO" 1.2)    [CPU: $(ratio "$B_CPU_MED" "$A_CPU_MED")x]"
echo "C/B = ${PCT}%  (target <= 5%)  $(verdict "$PCT" 5)    [CPU: $(percent "$C_CPU_MED" "$B_CPU_MED")%]"
echo "no DDL during C: $NO_DDL  $([ "$NO_DDL" = yes ] && echo PASS || echo MISS)"
echo "  (last run: $C_EVIDENCE)"
echo "for information: no-op sync() from a new session $D_MED ms [$D_CPU_MED ms];" \
  "registering the $N_VIEWS views with apply => false (not part of B) $REG_MED ms"
if [ "${#PROBLEMS[@]}" -gt 0 ]; then
  echo
  echo "problems:"
  printf '%s\n' "${PROBLEMS[@]}" | sort | uniq -c
fi
exit 0
