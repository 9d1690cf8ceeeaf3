#!/usr/bin/env bash
# Deploy benchmark (SPEC §6, the redeploy and 10,000-view rows; issue 11).
#
#   bench/deploy_bench.sh
#
# Data sets: the DAG of bench/sync_bench_gen.py (10 levels, 20% materialized, 50 tables of
# 2,000 rows) with 1,000 views (100 a level) and with 10,000 views (1,000 a level); 100
# views (10 a level) for the small side of the one-register comparison; and the rebuild
# data set of bench/rebuild_bench_gen.py with 2,000 dependents.
#
# Part 1, 1,000 views (runs alternate A B C D / C D A B, each pair from an empty registry):
#   A  first deploy: 1,000 x viewmgr.register(..., apply => false) + viewmgr.sync()
#   B  redeploy: the same 1,000 register calls again + sync(), right after A
#   C  first deploy with one viewmgr.declare() of the same 1,000 views
#   D  redeploy: the same declare() again, right after C
#   Targets: B/A <= 10%, D/C <= 5%, and no DDL during B and D: event triggers
#   (ddl_command_start, sql_drop) log nothing and no transaction id is assigned (nothing
#   at all was written).
# Part 2, 10,000 views (max_locks_per_transaction raised, see below):
#   E  the CREATE [MATERIALIZED] VIEW statements as one psql script in one transaction
#   F  first deploy: 10,000 register(..., apply => false) + sync(), one transaction
#   Target: F/E <= 1.5x (runs alternate E F / F E).
#   Then, with the 10,000 views managed and built: viewmgr.status, drift() and
#   refresh_all() with nothing stale (each <= 1 s); dependency_order(), graph() and a
#   no-op sync() for information.
#   One register(): a new view over a managed view (the same one at both sizes), apply => true (built: 'created') and
#   apply => false, at 10,000 managed views and at 100 (target <= 1.5x, on apply => true).
# Part 3: bench/rebuild_bench.sh with 2,000 dependents (rebuild of a base view vs DROP ...
#   CASCADE + recreate; target <= 1.3x), in a cluster of its own.
#
# Every figure is measured inside its psql session with clock_timestamp() (before BEGIN,
# after COMMIT), so connection start-up is excluded on both sides; the backend's CPU time
# over the same span (/proc/self/schedstat) is printed in brackets. Figures are medians of
# the measured runs. Every reset starts from an empty view schema and a freshly created
# extension, after VACUUM ANALYZE and a checkpoint. PASS/MISS per target; exit status 0
# whenever the measurement itself worked.
#
# 10,000 views in one transaction exceed PostgreSQL's default lock table
# (max_locks_per_transaction 64 x max_connections 100 slots): "out of shared memory", for
# pg_viewmgr and for a plain CREATE script alike. The cluster is started with
# max_locks_per_transaction = DEPLOY_BENCH_MAX_LOCKS (default 256: 25,600 slots).
#
# Environment:
#   DEPLOY_BENCH_RUNS=3           measured runs of each side (parts 1 and 2)
#   DEPLOY_BENCH_SMALL_RUNS=5     measured runs of part 1 (cheap)
#   DEPLOY_BENCH_PROBES=9         measured single register() calls at each size
#   DEPLOY_BENCH_SEED=20240615    generator seed
#   DEPLOY_BENCH_MAX_LOCKS=256    max_locks_per_transaction of the cluster
#   DEPLOY_BENCH_REBUILD=1        0 skips part 3
#   DEPLOY_BENCH_INSTALL=private  private (default) | system | none, as in bench/lib.sh
#   DEPLOY_BENCH_KEEP=1           keep the work directory
#   DEPLOY_BENCH_LARGE_PER_LEVEL=1000  views a level of the large set (1000: the SPEC's
#                                 10,000 views; smaller values for a quick look)
#   DEPLOY_BENCH_DEPENDENTS=2000  dependents of the rebuilt view in part 3
#   VIEWMGR_CLUSTER_DIR, VIEWMGR_PORT  the throwaway cluster (default /tmp/vm_deploy_bench,
#                                 55473; removed at exit)
#   DEPLOY_BENCH_REBUILD_PORT     the port of part 3's cluster (default VIEWMGR_PORT + 1)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${DEPLOY_BENCH_RUNS:-3}
SMALL_RUNS=${DEPLOY_BENCH_SMALL_RUNS:-5}
PROBES=${DEPLOY_BENCH_PROBES:-9}
SEED=${DEPLOY_BENCH_SEED:-20240615}
MAX_LOCKS=${DEPLOY_BENCH_MAX_LOCKS:-256}
export VIEWMGR_CLUSTER_DIR=${VIEWMGR_CLUSTER_DIR:-/tmp/vm_deploy_bench}
export VIEWMGR_PORT=${VIEWMGR_PORT:-55473}
REBUILD_PORT=${DEPLOY_BENCH_REBUILD_PORT:-$((VIEWMGR_PORT + 1))}
LARGE_PER_LEVEL=${DEPLOY_BENCH_LARGE_PER_LEVEL:-1000}
DEPENDENTS=${DEPLOY_BENCH_DEPENDENTS:-2000}

source "$ROOT/bench/lib.sh"
bench_prepare DEPLOY_BENCH

for size in small:10 mid:100 large:$LARGE_PER_LEVEL; do
  python3 "$ROOT/bench/sync_bench_gen.py" "$WORK/${size%%:*}" --seed "$SEED" --per-level "${size##*:}" >/dev/null
  # The register calls without their BEGIN/COMMIT: each side sets its own transaction.
  sed '/^BEGIN;$/d;/^COMMIT;$/d;/^\\set ON_ERROR_STOP/d' "$WORK/${size%%:*}/register.sql" >"$WORK/${size%%:*}/register_body.sql"
done
summary() { sed -n "s/^$2=//p" "$WORK/$1/summary.txt"; }
VSCHEMA=$(summary mid view_schema)

bench_start_cluster
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
# A lock table for 10,000 views in one transaction (see the header).
q -c "ALTER SYSTEM SET max_locks_per_transaction = $MAX_LOCKS" >/dev/null
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_postgres "${PG_BIN:-$(pg_config --bindir)}/pg_ctl" -D "$VIEWMGR_CLUSTER_DIR/data" restart -w \
  -l "$VIEWMGR_CLUSTER_DIR/restart.log" >/dev/null
echo "max_locks_per_transaction = $(q -Atc 'SHOW max_locks_per_transaction'), max_connections = $(q -Atc 'SHOW max_connections')"

q -f "$WORK/mid/setup.sql" >/dev/null
q >/dev/null <<'SQL'
CREATE SCHEMA bench_audit;
CREATE TABLE bench_audit.ddl_log (tag text NOT NULL);
CREATE FUNCTION bench_audit.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO bench_audit.ddl_log (tag) VALUES (tg_tag); END $$;
SQL

settle() { q -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null; }
# After dropping thousands of relations, ext4 spends its time skipping the inodes it freed
# in the last seconds (recently_deleted()) when the next side creates files: whichever side
# runs right after a large drop would pay for the other's files. So a large reset waits
# until the freed inodes are written back and no longer recent, for both sides alike.
LARGE_RESET=0
reset_state() {
  q -c "SET client_min_messages = warning" \
    -c "DROP SCHEMA IF EXISTS $VSCHEMA CASCADE" \
    -c "DROP EXTENSION IF EXISTS pg_viewmgr" \
    -c "CREATE EXTENSION pg_viewmgr" \
    -c "CREATE SCHEMA $VSCHEMA" >/dev/null 2>"$WORK/reset.err" || {
    cat "$WORK/reset.err" >&2
    exit 1
  }
  settle
  if [ "$LARGE_RESET" = 1 ]; then
    sync
    sleep 6
  fi
}

CPU_NS="coalesce(split_part(pg_catalog.pg_read_file('/proc/self/schedstat', 0, 200, true), ' ', 1), '0')::bigint"
timer_start() { echo "SELECT clock_timestamp() AS bench_t0, $CPU_NS AS bench_cpu0 \\gset"; }
timer_end() { # $1: label
  echo "SELECT round(extract(epoch FROM clock_timestamp() - :'bench_t0'::timestamptz) * 1000, 1) AS bench_ms,"
  echo "       round(($CPU_NS - :bench_cpu0) / 1e6, 1) AS bench_cpu \\gset"
  echo "\\echo $1_MS :bench_ms :bench_cpu"
}
watch_on() {
  echo "TRUNCATE bench_audit.ddl_log;"
  echo "CREATE EVENT TRIGGER bench_watch_start ON ddl_command_start EXECUTE FUNCTION bench_audit.log_ddl();"
  echo "CREATE EVENT TRIGGER bench_watch_drop ON sql_drop EXECUTE FUNCTION bench_audit.log_ddl();"
}
watch_off() { # $1: label
  echo "DROP EVENT TRIGGER bench_watch_start;"
  echo "DROP EVENT TRIGGER bench_watch_drop;"
  echo "SELECT count(*) AS ddl FROM bench_audit.ddl_log \\gset w_"
  echo "\\echo $1_DDL :w_ddl :w_xid"
}

# deploy_script SET LABEL WATCH: register calls + sync in one transaction (WATCH=1: a
# redeploy, checked for DDL and writes).
deploy_script() {
  local set=$1 label=$2 watch=$3
  echo "\\set ON_ERROR_STOP on"
  echo "SET client_min_messages = warning;"
  [ "$watch" = 1 ] && watch_on
  timer_start
  echo "BEGIN;"
  echo "\\i $WORK/$set/register_body.sql"
  echo "SELECT count(*) AS n, count(*) FILTER (WHERE action = 'unchanged') AS unchanged FROM viewmgr.sync() \\gset r_"
  echo "SELECT coalesce(pg_catalog.txid_current_if_assigned()::text, 'none') AS xid \\gset w_"
  echo "COMMIT;"
  timer_end "$label"
  echo "\\echo ${label}_ROWS :r_n :r_unchanged"
  [ "$watch" = 1 ] && watch_off "$label"
  return 0
}
declare_script() {
  local set=$1 label=$2 watch=$3
  echo "\\set ON_ERROR_STOP on"
  echo "SET client_min_messages = warning;"
  echo "\\set views \`cat $WORK/$set/declare.json\`"
  [ "$watch" = 1 ] && watch_on
  timer_start
  echo "BEGIN;"
  echo "SELECT count(*) AS n, count(*) FILTER (WHERE action = 'unchanged') AS unchanged FROM viewmgr.declare(:'views') \\gset r_"
  echo "SELECT coalesce(pg_catalog.txid_current_if_assigned()::text, 'none') AS xid \\gset w_"
  echo "COMMIT;"
  timer_end "$label"
  echo "\\echo ${label}_ROWS :r_n :r_unchanged"
  [ "$watch" = 1 ] && watch_off "$label"
  return 0
}
create_script() {
  local set=$1 label=$2
  echo "\\set ON_ERROR_STOP on"
  timer_start
  echo "BEGIN;"
  echo "\\i $WORK/$set/baseline.sql"
  echo "COMMIT;"
  timer_end "$label"
}
# timed_query LABEL SQL: one statement in its own transaction.
timed_query() {
  echo "\\set ON_ERROR_STOP on"
  timer_start
  echo "BEGIN;"
  echo "$2"
  echo "COMMIT;"
  timer_end "$1"
}

deploy_script mid A 0 >"$WORK/a.sql"
deploy_script mid B 1 >"$WORK/b.sql"
declare_script mid C 0 >"$WORK/c.sql"
declare_script mid D 1 >"$WORK/d.sql"
create_script large E >"$WORK/e.sql"
deploy_script large F 0 >"$WORK/f.sql"

field() { sed -n "s/^$1 //p" "$2"; }
ms_of() { field "$1_MS" "$2" | cut -d' ' -f1; }
cpu_of() { field "$1_MS" "$2" | cut -d' ' -f2; }
median() {
  printf '%s\n' "$@" | sort -g |
    awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {if (y > 0) printf "%.2f", x / y; else print "n/a"}'; }
percent() { awk -v x="$1" -v y="$2" 'BEGIN {if (y > 0) printf "%.1f", 100 * x / y; else print "n/a"}'; }
verdict() { awk -v x="$1" -v t="$2" 'BEGIN {print (x != "n/a" && x <= t) ? "PASS" : "MISS"}'; }

declare -A T C
PROBLEMS=()
NO_DDL_B=yes NO_DDL_D=yes EVIDENCE_B= EVIDENCE_D=
record() { # LABEL OUTFILE
  T[$1]+="$(ms_of "$1" "$2") " C[$1]+="$(cpu_of "$1" "$2") "
}
check_rows() { # LABEL OUTFILE N UNCHANGED(expected or '-')
  local got
  got=$(field "$1_ROWS" "$2")
  if [ "$4" = - ]; then
    [ "${got%% *}" = "$3" ] || PROBLEMS+=("$1 reported '$got' (rows, unchanged); expected $3 rows")
  else
    [ "$got" = "$3 $4" ] || PROBLEMS+=("$1 reported '$got' (rows, unchanged); expected $3 $4")
  fi
}
check_ddl() { # LABEL OUTFILE -> sets NO_DDL_<label>, EVIDENCE_<label>
  local ddl xid
  read -r ddl xid <<<"$(field "$1_DDL" "$2")"
  printf -v "EVIDENCE_$1" '%s' "DDL commands seen by event triggers: $ddl; transaction id assigned: $xid"
  if [ "$ddl" != 0 ] || [ "$xid" != none ]; then printf -v "NO_DDL_$1" no; fi
}

N_MID=$(summary mid views)
N_LARGE=$(summary large views)
N_SMALL=$(summary small views)

run_register_pair() {
  reset_state
  q -f "$WORK/a.sql" >"$WORK/a.out"
  q -f "$WORK/b.sql" >"$WORK/b.out"
  record A "$WORK/a.out"
  record B "$WORK/b.out"
  check_rows A "$WORK/a.out" "$N_MID" -
  check_rows B "$WORK/b.out" "$N_MID" "$N_MID"
  check_ddl B "$WORK/b.out"
}
run_declare_pair() {
  reset_state
  q -f "$WORK/c.sql" >"$WORK/c.out"
  q -f "$WORK/d.sql" >"$WORK/d.out"
  record C "$WORK/c.out"
  record D "$WORK/d.out"
  check_rows C "$WORK/c.out" "$N_MID" -
  check_rows D "$WORK/d.out" "$N_MID" "$N_MID"
  check_ddl D "$WORK/d.out"
}

echo "part 1: $N_MID views (redeploys)"
run_register_pair
run_declare_pair # warm-up
T=() C=()
for ((i = 1; i <= SMALL_RUNS; i++)); do
  if ((i % 2)); then run_register_pair; run_declare_pair; else run_declare_pair; run_register_pair; fi
  echo "  run $i: A $(ms_of A "$WORK/a.out") B $(ms_of B "$WORK/b.out") C $(ms_of C "$WORK/c.out") D $(ms_of D "$WORK/d.out") ms"
done

echo "part 2: $N_LARGE views"
LARGE_RESET=1
run_create() {
  reset_state
  q -f "$WORK/e.sql" >"$WORK/e.out" 2>"$WORK/e.err" || { cat "$WORK/e.err" >&2; exit 1; }
  record E "$WORK/e.out"
}
run_first_deploy() {
  reset_state
  q -f "$WORK/f.sql" >"$WORK/f.out" 2>"$WORK/f.err" || { cat "$WORK/f.err" >&2; exit 1; }
  record F "$WORK/f.out"
  check_rows F "$WORK/f.out" "$N_LARGE" -
}
for ((i = 1; i <= RUNS; i++)); do
  if ((i % 2)); then run_create; run_first_deploy; else run_first_deploy; run_create; fi
  echo "  run $i: E $(ms_of E "$WORK/e.out") F $(ms_of F "$WORK/f.out") ms"
done
# Leave the 10,000 views deployed by pg_viewmgr for the rest of part 2.
if ((RUNS % 2 == 0)); then run_first_deploy; fi
settle

read_only_figures() { # label suffix
  local suffix=$1
  timed_query "STATUS$suffix" "SELECT count(*) AS n, count(*) FILTER (WHERE state = 'fresh') AS fresh FROM viewmgr.status \\gset s_
\\echo STATUS${suffix}_ROWS :s_n :s_fresh"
  timed_query "DRIFT$suffix" "SELECT count(*) AS n FROM viewmgr.drift() \\gset s_
\\echo DRIFT${suffix}_ROWS :s_n"
  timed_query "REFRESH$suffix" "SELECT count(*) AS n, count(*) FILTER (WHERE action = 'skipped') AS skipped FROM viewmgr.refresh_all() \\gset s_
\\echo REFRESH${suffix}_ROWS :s_n :s_skipped"
  timed_query "ORDER$suffix" "SELECT count(*) AS n FROM viewmgr.dependency_order() \\gset s_"
  timed_query "GRAPH$suffix" "SELECT length(viewmgr.graph()) AS n \\gset s_"
  timed_query "NOOP$suffix" "SELECT count(*) AS n FROM viewmgr.sync() \\gset s_"
}
# One register of a new view over a managed view, then (untimed) its unregistration. The
# managed view it reads is the same at both sizes (probe_base, over one table), so only
# the size of the registry differs.
probe_script() {
  local label=$1
  echo "SELECT viewmgr.register('$VSCHEMA.probe_base', 'SELECT id AS k, grp FROM bench_data.t01');"
  for ((p = 1; p <= PROBES; p++)); do
    timed_query "${label}_APPLY" "SELECT viewmgr.register('$VSCHEMA.probe_$p', 'SELECT k, grp FROM $VSCHEMA.probe_base WHERE grp < 50') AS action \\gset p_
\\echo ${label}_APPLY_ROWS :p_action"
    timed_query "${label}_NOAPPLY" "SELECT viewmgr.register('$VSCHEMA.probe_na_$p', 'SELECT k, grp FROM $VSCHEMA.probe_base WHERE grp < 40', apply => false) AS action \\gset p_"
    echo "SELECT viewmgr.unregister('$VSCHEMA.probe_$p');"
    echo "SELECT viewmgr.unregister('$VSCHEMA.probe_na_$p', drop_view => false);"
  done
}
collect_all() { # LABEL OUTFILE: every occurrence
  T[$1]+="$(sed -n "s/^$1_MS //p" "$2" | cut -d' ' -f1 | tr '\n' ' ')"
  C[$1]+="$(sed -n "s/^$1_MS //p" "$2" | cut -d' ' -f2 | tr '\n' ' ')"
}

{
  for ((i = 1; i <= RUNS; i++)); do read_only_figures L; done
} >"$WORK/large_reads.sql"
q -f "$WORK/large_reads.sql" >"$WORK/large_reads.out"
for label in STATUSL DRIFTL REFRESHL ORDERL GRAPHL NOOPL; do
  collect_all "$label" "$WORK/large_reads.out"
done
# The single registers run in a session of their own, as a migration's would, not in the
# session that just opened every one of the 10,000 views (status, drift): such a session
# pays per commit for its large caches whatever pg_viewmgr does (PostgreSQL walks the whole
# relation cache at commit once a transaction has touched more than 32 relations).
settle
probe_script LARGE >"$WORK/large_probe.sql"
q -f "$WORK/large_probe.sql" >"$WORK/large_probe.out"
for label in LARGE_APPLY LARGE_NOAPPLY; do collect_all "$label" "$WORK/large_probe.out"; done
STATUS_ROWS=$(field STATUSL_ROWS "$WORK/large_reads.out" | tail -1)
REFRESH_ROWS=$(field REFRESHL_ROWS "$WORK/large_reads.out" | tail -1)
PROBE_ACTION=$(field LARGE_APPLY_ROWS "$WORK/large_probe.out" | sort -u | tr '\n' ' ')
[ "${STATUS_ROWS% *}" = "$N_LARGE" ] || PROBLEMS+=("status at $N_LARGE views gave '$STATUS_ROWS' (rows, fresh)")
[ "$PROBE_ACTION" = "created " ] || PROBLEMS+=("the probe register at $N_LARGE views returned '$PROBE_ACTION'")

# The small side of the one-register comparison: 100 managed views.
LARGE_RESET=0
reset_state
q -f "$WORK/small/register.sql" >/dev/null
q -c "SELECT count(*) FROM viewmgr.sync()" >/dev/null
settle
probe_script SMALL >"$WORK/small_reads.sql"
q -f "$WORK/small_reads.sql" >"$WORK/small_reads.out"
for label in SMALL_APPLY SMALL_NOAPPLY; do collect_all "$label" "$WORK/small_reads.out"; done

med() { median ${T[$1]}; }
medc() { median ${C[$1]}; }
A_MED=$(med A) B_MED=$(med B) C_MED=$(med C) D_MED=$(med D) E_MED=$(med E) F_MED=$(med F)

REBUILD_SUMMARY=
if [ "${DEPLOY_BENCH_REBUILD:-1}" = 1 ]; then
  echo "part 3: rebuild with $DEPENDENTS dependents (bench/rebuild_bench.sh)"
  "$ROOT/scripts/cluster.sh" stop >/dev/null 2>&1 || true
  REBUILD_BENCH_DEPENDENTS=$DEPENDENTS REBUILD_BENCH_RUNS=$RUNS REBUILD_BENCH_WARMUP=1 \
    REBUILD_BENCH_INSTALL=${DEPLOY_BENCH_INSTALL:-private} \
    VIEWMGR_CLUSTER_DIR="$VIEWMGR_CLUSTER_DIR.rebuild" VIEWMGR_PORT=$REBUILD_PORT \
    "$ROOT/bench/rebuild_bench.sh" >"$WORK/rebuild.out" 2>&1 || { cat "$WORK/rebuild.out" >&2; exit 1; }
  REBUILD_SUMMARY=$(sed -n '/^== rebuild/,$p' "$WORK/rebuild.out")
fi

echo
echo "== deploy benchmark =="
echo "extension built from: $SOURCE_DESC"
echo "data sets: $(summary mid tables) tables x $(summary mid rows) rows; DAGs of $(summary mid levels) levels," \
  "20% materialized: $N_MID views ($(summary mid materialized) materialized), $N_LARGE views" \
  "($(summary large materialized) materialized), $N_SMALL views (seed $SEED)"
echo "medians, wall clock [backend CPU]; part 1: $SMALL_RUNS alternating runs, part 2: $RUNS"
echo
echo "-- $N_MID views --"
printf '  A  first deploy: %d register(apply => false) + sync()   %9s ms  [%s ms]\n' "$N_MID" "$A_MED" "$(medc A)"
printf '  B  redeploy: the same register calls + sync()            %9s ms  [%s ms]\n' "$B_MED" "$(medc B)"
printf '  C  first deploy: one declare()                            %9s ms  [%s ms]\n' "$C_MED" "$(medc C)"
printf '  D  redeploy: the same declare()                           %9s ms  [%s ms]\n' "$D_MED" "$(medc D)"
B_PCT=$(percent "$B_MED" "$A_MED") D_PCT=$(percent "$D_MED" "$C_MED")
echo "B/A = ${B_PCT}%  (target <= 10%)  $(verdict "$B_PCT" 10)    [CPU: $(percent "$(medc B)" "$(medc A)")%]"
echo "no DDL during B: $NO_DDL_B  $([ "$NO_DDL_B" = yes ] && echo PASS || echo MISS)  (last run: $EVIDENCE_B)"
echo "D/C = ${D_PCT}%  (target <= 5%)  $(verdict "$D_PCT" 5)    [CPU: $(percent "$(medc D)" "$(medc C)")%]"
echo "no DDL during D: $NO_DDL_D  $([ "$NO_DDL_D" = yes ] && echo PASS || echo MISS)  (last run: $EVIDENCE_D)"
echo "for information: D/A (declare redeploy vs register first deploy) = $(percent "$D_MED" "$A_MED")%"
echo
echo "-- $N_LARGE views (max_locks_per_transaction = $MAX_LOCKS) --"
printf '  E  CREATE script, one transaction                         %9s ms  [%s ms]\n' "$E_MED" "$(medc E)"
printf '  F  first deploy: %d register(apply => false) + sync()  %9s ms  [%s ms]\n' "$N_LARGE" "$F_MED" "$(medc F)"
F_RATIO=$(ratio "$F_MED" "$E_MED")
echo "F/E = ${F_RATIO}x  (target <= 1.5x)  $(verdict "$F_RATIO" 1.5)    [CPU: $(ratio "$(medc F)" "$(medc E)")x]"
for pair in "STATUSL:status (SELECT count(*) FROM viewmgr.status)" "DRIFTL:drift()" \
  "REFRESHL:refresh_all(), nothing stale"; do
  label=${pair%%:*} what=${pair#*:}
  m=$(med "$label")
  s=$(awk -v x="$m" 'BEGIN {printf "%.3f", x / 1000}')
  printf '  %-44s %9s ms  [%s ms]  (target <= 1 s)  %s\n' "$what" "$m" "$(medc "$label")" "$(verdict "$s" 1)"
done
echo "  (status: $STATUS_ROWS rows/fresh; refresh_all: $REFRESH_ROWS rows/skipped)"
printf '  for information: dependency_order() %s ms, graph() %s ms, no-op sync() %s ms\n' \
  "$(med ORDERL)" "$(med GRAPHL)" "$(med NOOPL)"
SA=$(med SMALL_APPLY) LA=$(med LARGE_APPLY) SN=$(med SMALL_NOAPPLY) LN=$(med LARGE_NOAPPLY)
AP_RATIO=$(ratio "$LA" "$SA")
echo "one register() of a new view over a managed view ($PROBES calls each):"
printf '  apply => true  (created):  at %d views %s ms, at %d views %s ms: %sx  (target <= 1.5x)  %s\n' \
  "$N_SMALL" "$SA" "$N_LARGE" "$LA" "$AP_RATIO" "$(verdict "$AP_RATIO" 1.5)"
printf '  apply => false:            at %d views %s ms, at %d views %s ms: %sx  (for information)\n' \
  "$N_SMALL" "$SN" "$N_LARGE" "$LN" "$(ratio "$LN" "$SN")"
if [ -n "$REBUILD_SUMMARY" ]; then
  echo
  echo "-- part 3 (bench/rebuild_bench.sh, REBUILD_BENCH_DEPENDENTS=$DEPENDENTS, RUNS=$RUNS) --"
  echo "$REBUILD_SUMMARY"
fi
if [ "${#PROBLEMS[@]}" -gt 0 ]; then
  echo
  echo "problems:"
  printf '%s\n' "${PROBLEMS[@]}" | sort | uniq -c
fi
exit 0
