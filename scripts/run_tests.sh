#!/usr/bin/env bash
# Runs every test suite of pg_viewmgr and ends with one line "N passed, M failed", where N
# and M count individual tests (ctest tests + pg_regress tests + pgTAP assertions + isolation
# specs + TAP assertions + Django tests). Exits non-zero if anything failed.
#
#   scripts/run_tests.sh           every suite on every supported PostgreSQL: 15, 17 and 18
#                                  (VIEWMGR_PG_VERSIONS), one summary table per version and
#                                  one combined "N passed, M failed" line at the end
#   scripts/run_tests.sh --pg N    every suite on PostgreSQL N only
#
# PostgreSQL N runs on this machine when its server headers are installed here (or can be:
# 15 on Debian 12); otherwise inside a Debian chroot that carries it (17: trixie, 18: forky;
# scripts/pg_chroot.sh builds it on first use, as root, and reuses it), on a copy of this
# checkout. For one version:
#
#   1. build and install the extension (make, make install)
#   2. C++ unit tests of src/core: CMake + CTest (GoogleTest, ASan/UBSan)
#   3. a throwaway cluster (scripts/cluster.sh), stopped and removed on exit
#   4. pg_regress: sql/*.sql against expected/*.out (make installcheck)
#   5. pgTAP: test/pgtap/*.sql with pg_prove, in a fresh database with pgtap installed;
#      then test/shell/*.sh (TAP from bash: pg_dump and restore between databases)
#   6. isolation specs: specs/*.spec with pg_isolation_regress (skipped when there are none)
#   7. TAP tests: t/*.pl with prove and PostgreSQL::Test::Cluster (skipped when none)
#   8. the Django client: clients/django/run_tests.sh (Django's test runner) on that cluster
#
# Environment:
#   VIEWMGR_PG_VERSIONS       versions a run without --pg covers (default "15 17 18")
#   VIEWMGR_TEST_PORT         port of the throwaway cluster (default: first free from 55490)
#   VIEWMGR_TEST_CLUSTER_DIR  its directory (default: /tmp/pg_viewmgr_tests.<port>)
#   VIEWMGR_TEST_VERBOSE=1    print every suite's full output, not only failing ones
#   VIEWMGR_SKIP_DEPS=1       do not run scripts/install_deps.sh first
#   PG_CONFIG                 pg_config of the PostgreSQL to build and test against; set
#                             without --pg, only that one PostgreSQL is tested, here
#   VIEWMGR_CHROOT_BASE       where the chroots live (see scripts/pg_chroot.sh)
#   VIEWMGR_PG_CHROOT=1       test every version in its chroot, 15 too (Debian 12 bookworm):
#                             then nothing is installed on this machine, and other checkouts
#                             testing here at the same time cannot install over this one
#   VIEWMGR_TEST_PACKAGES=1   without --pg: also build each version's Debian package and
#                             check it in a fresh chroot (scripts/build_deb.sh --check),
#                             one more test per version (as root)
#
# Safe to rerun: every run builds incrementally, starts from a new cluster and new
# databases, and leaves nothing running. Logs: build/test-logs/ (a chroot run's logs are
# copied to build/test-logs/pgN/).
set -uo pipefail

usage() {
  echo "usage: $0 [--pg N]   (N: 15, 17 or 18; without --pg: all of them)" >&2
  exit 2
}

PG_VERSION_ARG=""
while [ $# -gt 0 ]; do
  case "$1" in
    --pg)
      [ $# -ge 2 ] || usage
      PG_VERSION_ARG=$2
      shift 2
      ;;
    --pg=*)
      PG_VERSION_ARG=${1#--pg=}
      shift
      ;;
    -h | --help) usage ;;
    *)
      echo "unknown argument: $1" >&2
      usage
      ;;
  esac
done
case "$PG_VERSION_ARG" in
  "" | [0-9] | [0-9][0-9]) ;;
  *) usage ;;
esac

cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
VERBOSE=${VIEWMGR_TEST_VERBOSE:-0}
LOG_DIR=$ROOT/build/test-logs
mkdir -p "$LOG_DIR"

is_root() { [ "$(id -u)" = 0 ]; }

duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# --- which PostgreSQL, and where ----------------------------------------------------------
# local_pg_config N: the pg_config of PostgreSQL N on this machine, with PGXS (server-dev).
local_pg_config() {
  local pg_config=/usr/lib/postgresql/$1/bin/pg_config
  if [ -x "$pg_config" ] && [ -f "/usr/lib/postgresql/$1/lib/pgxs/src/makefiles/pgxs.mk" ]; then
    echo "$pg_config"
    return 0
  fi
  return 1
}

# runs_here N: PostgreSQL N is (or, through install_deps.sh, can be) installed on this
# machine: its headers are here, or this machine's apt offers them.
runs_here() {
  [ "${VIEWMGR_PG_CHROOT:-0}" = 1 ] && return 1
  local_pg_config "$1" >/dev/null && return 0
  [ "${VIEWMGR_SKIP_DEPS:-0}" != 1 ] &&
    apt-cache show "postgresql-server-dev-$1" >/dev/null 2>&1
}

# run_in_chroot N: this script with --pg N inside the chroot of PostgreSQL N, on a copy of
# the checkout (the sources are copied afresh; build products stay, so builds there are
# incremental). Its logs are copied back to build/test-logs/pgN/.
run_in_chroot() {
  local n=$1 copy status
  if ! is_root; then
    echo "PostgreSQL $n is not installed here: testing it needs its Debian chroot" \
      "(scripts/pg_chroot.sh), which needs root" >&2
    return 2
  fi
  local started=$SECONDS
  scripts/pg_chroot.sh copy "$n" || return 2
  echo "the PostgreSQL $n chroot is ready, with this checkout in it:" \
    "$(duration $((SECONDS - started)))"
  copy=$(scripts/pg_chroot.sh workdir "$n")
  scripts/pg_chroot.sh run "$n" /usr/bin/env VIEWMGR_SKIP_DEPS=1 \
    VIEWMGR_TEST_VERBOSE="$VERBOSE" ${VIEWMGR_TEST_PORT:+VIEWMGR_TEST_PORT="$VIEWMGR_TEST_PORT"} \
    ${VIEWMGR_TEST_CLUSTER_DIR:+VIEWMGR_TEST_CLUSTER_DIR="$VIEWMGR_TEST_CLUSTER_DIR"} \
    CI="${CI:-}" /work/pg_viewmgr/scripts/run_tests.sh --pg "$n"
  status=$?
  rm -rf "$LOG_DIR/pg$n"
  mkdir -p "$LOG_DIR/pg$n"
  cp -r "$copy/build/test-logs/." "$LOG_DIR/pg$n/" 2>/dev/null || true
  return "$status"
}

if [ -z "$PG_VERSION_ARG" ] && [ -z "${PG_CONFIG:-}" ]; then
  # Every supported version, one after the other (each is a full run of its own; two at
  # once would compete for the same cores). The per-version summary tables come from the
  # runs themselves; this adds one line per version and the combined count.
  ALL_PASSED=0
  ALL_FAILED=0
  VERSION_LINES=()
  for n in ${VIEWMGR_PG_VERSIONS:-15 17 18}; do
    printf '\n######## PostgreSQL %s ########\n' "$n"
    started=$SECONDS
    log=$LOG_DIR/run-pg$n.log
    "$0" --pg "$n" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    if [ -n "$last" ]; then
      passed=${last%% passed*}
      failed=${last#*passed, }
      failed=${failed%% failed}
    else
      passed=0
      failed=0
    fi
    # A run that failed without counting a failure (it could not even start) counts as one.
    if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
    package_note=""
    if [ "${VIEWMGR_TEST_PACKAGES:-0}" = 1 ]; then
      # The Debian package, built and then installed into a fresh chroot where the demo runs
      # against it: one test.
      plog=$LOG_DIR/package-pg$n.log
      pstarted=$SECONDS
      if scripts/build_deb.sh --pg "$n" --check >"$plog" 2>&1; then
        passed=$((passed + 1))
        package_note=", package ok"
      else
        failed=$((failed + 1))
        package_note=", package FAILED"
        tail -n 40 "$plog"
      fi
      echo "package postgresql-$n-viewmgr:${package_note#, package} ($(duration $((SECONDS - pstarted)))), log: $plog"
    fi
    ALL_PASSED=$((ALL_PASSED + passed))
    ALL_FAILED=$((ALL_FAILED + failed))
    verdict=ok
    [ "$failed" = 0 ] || verdict=FAILED
    VERSION_LINES+=("$(printf 'PostgreSQL %-3s %-7s %5d passed, %d failed  (%s%s)' "$n" "$verdict" \
      "$passed" "$failed" "$(duration $((SECONDS - started)))" "$package_note")")
    echo "PostgreSQL $n took $(duration $((SECONDS - started)))"
  done
  printf '\n=== all versions ===\n'
  for line in "${VERSION_LINES[@]}"; do echo "$line"; done
  echo "$ALL_PASSED passed, $ALL_FAILED failed"
  [ "$ALL_FAILED" = 0 ]
  exit
fi

if [ -n "$PG_VERSION_ARG" ]; then
  if runs_here "$PG_VERSION_ARG"; then
    PG_CONFIG=/usr/lib/postgresql/$PG_VERSION_ARG/bin/pg_config
  else
    started=$SECONDS
    out=$LOG_DIR/chroot-pg$PG_VERSION_ARG.out
    run_in_chroot "$PG_VERSION_ARG" 2>&1 | tee "$out"
    status=${PIPESTATUS[0]}
    echo "PostgreSQL $PG_VERSION_ARG (in its chroot) took $(duration $((SECONDS - started)))"
    # End, as every run does, with the count line.
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
    echo "${last:-0 passed, 1 failed}"
    exit "$status"
  fi
fi
PG_CONFIG=${PG_CONFIG:-pg_config}
export PG_CONFIG

# --- bookkeeping ----------------------------------------------------------------------
TOTAL_PASSED=0
TOTAL_FAILED=0
SUITE_LINES=()
SUITES_FAILED=0

# record SUITE PASSED FAILED [NOTE]
record() {
  local suite=$1 passed=$2 failed=$3 note=${4:-}
  TOTAL_PASSED=$((TOTAL_PASSED + passed))
  TOTAL_FAILED=$((TOTAL_FAILED + failed))
  local verdict=ok
  if [ "$failed" -gt 0 ]; then
    verdict=FAILED
    SUITES_FAILED=$((SUITES_FAILED + 1))
  fi
  SUITE_LINES+=("$(printf '%-12s %-7s %5d passed, %d failed%s' "$suite" "$verdict" "$passed" \
    "$failed" "${note:+  ($note)}")")
}

skip() {
  SUITE_LINES+=("$(printf '%-12s %-7s %s' "$1" skipped "$2")")
}

section() { printf '\n=== %s ===\n' "$*"; }

# show LOGFILE FAILED: the whole log when asked for or when the suite failed, else its tail.
show() {
  local log=$1 failed=$2
  if [ "$VERBOSE" = 1 ] || [ "$failed" != 0 ]; then
    cat "$log"
  else
    tail -n 3 "$log"
  fi
}

# Counts TAP results in LOGFILE (verbose prove / pg_prove output): top-level "ok" and
# "not ok" lines of each test file, planned tests that never ran, and a failing run that
# printed no failing test at all. Prints "PASSED FAILED".
count_tap() {
  local log=$1 status=$2
  local passed failed missing
  # TODO tests that fail do not count as failures, as in TAP itself.
  passed=$(grep -Ec '^(ok [0-9]+|not ok [0-9]+.*# *TODO)' "$log")
  failed=$(grep -E '^not ok [0-9]+' "$log" | grep -vc '# *TODO')
  missing=$(sed -nE 's/.*You planned ([0-9]+) tests? but ran ([0-9]+).*/\1 \2/p' "$log" |
    awk '{ if ($1 > $2) n += $1 - $2 } END { print n + 0 }')
  failed=$((failed + missing))
  if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
  echo "$passed $failed"
}

# Counts pg_regress / pg_isolation_regress results: "test name ... ok" / "     name ...
# FAILED" up to PostgreSQL 15, TAP lines "ok 1 - name" / "not ok 2 - name" since 16.
count_regress() {
  local log=$1 status=$2
  local passed failed
  passed=$(grep -Ec '(\.\.\. ok|^ok [0-9]+ )' "$log")
  failed=$(grep -Ec '(\.\.\. FAILED|^not ok [0-9]+ )' "$log")
  if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
  echo "$passed $failed"
}

# count_django LOGFILE STATUS: Django's test runner at verbosity 2 ends each test's line
# with "... ok", "... FAIL", "... ERROR" (or "... skipped ...", not counted).
count_django() {
  local log=$1 status=$2
  local passed failed
  passed=$(grep -Ec '\.\.\. (ok|expected failure)$' "$log")
  failed=$(grep -Ec '\.\.\. (FAIL|ERROR|unexpected success)$' "$log")
  if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
  echo "$passed $failed"
}

# --- the throwaway cluster --------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -n "${VIEWMGR_TEST_PORT:-}" ]; then
  PORT=$VIEWMGR_TEST_PORT
else
  PORT=55490
  while port_in_use "$PORT" || [ -e "/tmp/pg_viewmgr_tests.$PORT" ]; do
    PORT=$((PORT + 1))
    if [ "$PORT" -gt 55589 ]; then
      echo "no free port in 55490-55589; set VIEWMGR_TEST_PORT" >&2
      exit 2
    fi
  done
fi
CLUSTER_DIR=${VIEWMGR_TEST_CLUSTER_DIR:-/tmp/pg_viewmgr_tests.$PORT}
CLUSTER_STARTED=0

cluster() { VIEWMGR_CLUSTER_DIR=$CLUSTER_DIR VIEWMGR_PORT=$PORT scripts/cluster.sh "$@"; }

cleanup() {
  if [ "$CLUSTER_STARTED" = 1 ]; then
    cluster stop >/dev/null 2>&1 || true
    CLUSTER_STARTED=0
  fi
  if [ -n "${TAP_WORK_DIR:-}" ]; then rm -rf "$TAP_WORK_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 0. dependencies ---------------------------------------------------------------------
if [ "${VIEWMGR_SKIP_DEPS:-0}" != 1 ] && [ -x scripts/install_deps.sh ]; then
  scripts/install_deps.sh ${PG_VERSION_ARG:+"$PG_VERSION_ARG"} ||
    echo "warning: scripts/install_deps.sh failed; continuing" >&2
fi
if ! command -v "$PG_CONFIG" >/dev/null; then
  echo "no pg_config ($PG_CONFIG): install PostgreSQL's server headers" >&2
  exit 2
fi
PG_MAJOR=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
# The PostgreSQL client programs (psql, createdb, pg_dump, ...) of the version under test.
PATH=$("$PG_CONFIG" --bindir):$PATH
export PATH
echo "PostgreSQL $PG_MAJOR ($("$PG_CONFIG" --version)), pg_config: $PG_CONFIG"

# --- 1. build and install -----------------------------------------------------------------
section "build and install the extension"
BUILD_OK=1
log=$LOG_DIR/build.log
{
  make -j"$(nproc)" PG_CONFIG="$PG_CONFIG" &&
    if is_root; then
      make install PG_CONFIG="$PG_CONFIG"
    else
      make install PG_CONFIG="$PG_CONFIG" || sudo -n make install PG_CONFIG="$PG_CONFIG"
    fi
} >"$log" 2>&1
status=$?
if [ "$status" = 0 ]; then
  show "$log" 0
  # Building is not a test: it adds to the count only when it fails.
  SUITE_LINES+=("$(printf '%-12s %-7s %s' build ok "built and installed")")
else
  show "$log" 1
  record build 0 1 "make or make install failed"
  BUILD_OK=0
fi

# --- 2. C++ unit tests ------------------------------------------------------------------------
section "C++ unit tests (CMake + CTest)"
if [ ! -f CMakeLists.txt ]; then
  skip unit "no CMakeLists.txt"
else
  log=$LOG_DIR/unit.log
  {
    cmake -S . -B build/unit -DVIEWMGR_BUILD_EXTENSION=OFF &&
      cmake --build build/unit -j2 &&
      ctest --test-dir build/unit --output-on-failure
  } >"$log" 2>&1
  status=$?
  summary=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [ -n "$summary" ]; then
    failed=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$summary")
    total=$(sed -E 's/.*failed out of ([0-9]+).*/\1/' <<<"$summary")
    passed=$((total - failed))
    if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
    show "$log" "$failed"
    record unit "$passed" "$failed"
  elif grep -q 'No tests were found' "$log" && [ "$status" = 0 ]; then
    show "$log" 0
    record unit 0 0 "no tests found"
  else
    show "$log" 1
    record unit 0 1 "cmake, build or ctest failed"
  fi
fi

# --- 3. cluster ----------------------------------------------------------------------------
if [ "$BUILD_OK" = 1 ]; then
  section "throwaway cluster on port $PORT ($CLUSTER_DIR)"
  cluster stop >/dev/null 2>&1 || true # whatever an interrupted run left behind
  CLUSTER_STARTED=1
  if env_lines=$(cluster start 2>"$LOG_DIR/cluster.log"); then
    eval "$env_lines"
    export PGHOST PGPORT PGUSER PGDATABASE
    echo "PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER"
    # pg_cron is preloaded with cron.database_name = postgres; its extension lives there.
    psql -X -q -d postgres -c 'CREATE EXTENSION IF NOT EXISTS pg_cron' >>"$LOG_DIR/cluster.log" 2>&1
  else
    cat "$LOG_DIR/cluster.log"
    record cluster 0 1 "the cluster did not start"
    BUILD_OK=0
  fi
fi

if [ "$BUILD_OK" != 1 ]; then
  for suite in pg_regress pgTAP isolation TAP django; do skip "$suite" "needs the extension and the cluster"; done
else
  # --- 4. pg_regress -------------------------------------------------------------------------
  section "pg_regress (sql/*.sql)"
  if ! compgen -G "sql/*.sql" >/dev/null; then
    skip pg_regress "no sql/*.sql"
  else
    log=$LOG_DIR/pg_regress.log
    rm -rf build/regress
    # ISOLATION and TAP_TESTS run as suites of their own below.
    make installcheck PG_CONFIG="$PG_CONFIG" ISOLATION= TAP_TESTS= >"$log" 2>&1
    status=$?
    read -r passed failed < <(count_regress "$log" "$status")
    show "$log" "$failed"
    if [ "$failed" != 0 ] && [ -f build/regress/regression.diffs ]; then
      echo "--- build/regress/regression.diffs ---"
      cat build/regress/regression.diffs
    fi
    record pg_regress "$passed" "$failed"
  fi

  # --- 5. pgTAP --------------------------------------------------------------------------------
  section "pgTAP (test/pgtap/*.sql)"
  if ! compgen -G "test/pgtap/*.sql" >/dev/null; then
    skip pgTAP "no test/pgtap/*.sql"
  else
    log=$LOG_DIR/pgtap.log
    db=viewmgr_pgtap
    {
      dropdb --if-exists "$db" &&
        createdb "$db" &&
        psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION pgtap' &&
        pg_prove -v -d "$db" test/pgtap/*.sql
    } >"$log" 2>&1
    status=$?
    read -r passed failed < <(count_tap "$log" "$status")
    if [ "$VERBOSE" = 1 ] || [ "$failed" != 0 ]; then
      cat "$log"
    else
      # the pg_prove summary without the per-assertion lines
      grep -E '^(Files=|Result:|All tests successful)' "$log"
    fi
    record pgTAP "$passed" "$failed"
  fi

  # --- 5b. shell TAP tests (need more than one database: pg_dump / restore) -------------------
  section "shell TAP tests (test/shell/*.sh)"
  if ! compgen -G "test/shell/*.sh" >/dev/null; then
    skip shell "no test/shell/*.sh"
  else
    log=$LOG_DIR/shell.log
    prove -v test/shell/*.sh >"$log" 2>&1
    status=$?
    read -r passed failed < <(count_tap "$log" "$status")
    if [ "$VERBOSE" = 1 ] || [ "$failed" != 0 ]; then
      cat "$log"
    else
      grep -E '^(Files=|Result:|All tests successful)' "$log"
    fi
    record shell "$passed" "$failed"
  fi

  # --- 6. isolation ------------------------------------------------------------------------------
  section "isolation (specs/*.spec)"
  if ! compgen -G "specs/*.spec" >/dev/null; then
    skip isolation "no specs/*.spec"
  else
    log=$LOG_DIR/isolation.log
    specs=$(for f in specs/*.spec; do basename "$f" .spec; done | sort | tr '\n' ' ')
    rm -rf output_iso
    make installcheck PG_CONFIG="$PG_CONFIG" REGRESS= TAP_TESTS= ISOLATION="$specs" \
      >"$log" 2>&1
    status=$?
    read -r passed failed < <(count_regress "$log" "$status")
    show "$log" "$failed"
    if [ "$failed" != 0 ] && [ -f output_iso/regression.diffs ]; then
      echo "--- output_iso/regression.diffs ---"
      cat output_iso/regression.diffs
    fi
    record isolation "$passed" "$failed"
  fi

  # --- 7. TAP tests -----------------------------------------------------------------------------
  section "TAP tests (t/*.pl)"
  if ! compgen -G "t/*.pl" >/dev/null; then
    skip TAP "no t/*.pl"
  else
    log=$LOG_DIR/tap.log
    pgxs_top=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)
    bindir=$("$PG_CONFIG" --bindir)
    # PostgreSQL::Test::Cluster runs initdb, which refuses root: as root, run prove as the
    # postgres user on a copy of the checkout that it can read, with tmp_check in a directory
    # it can write.
    TAP_WORK_DIR=$(mktemp -d /tmp/pg_viewmgr_tap.XXXXXX)
    tar --exclude=./build --exclude=./.git --exclude=./tmp_check -cf - . |
      tar -xf - -C "$TAP_WORK_DIR"
    tap_cmd=(env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE
      PATH="$bindir:$PATH" TESTDIR="$TAP_WORK_DIR"
      PG_REGRESS="$pgxs_top/src/test/regress/pg_regress"
      prove -v -I "$pgxs_top/src/test/perl/" -I . t/*.pl)
    if is_root; then
      chown -R postgres: "$TAP_WORK_DIR"
      (cd "$TAP_WORK_DIR" && runuser -u postgres -- "${tap_cmd[@]}") >"$log" 2>&1
    else
      (cd "$TAP_WORK_DIR" && "${tap_cmd[@]}") >"$log" 2>&1
    fi
    status=$?
    read -r passed failed < <(count_tap "$log" "$status")
    if [ "$VERBOSE" = 1 ] || [ "$failed" != 0 ]; then
      cat "$log"
      if [ "$failed" != 0 ] && [ -d "$TAP_WORK_DIR/tmp_check/log" ]; then
        mkdir -p "$LOG_DIR/tap_check"
        cp -r "$TAP_WORK_DIR/tmp_check/log/." "$LOG_DIR/tap_check/"
        echo "server logs of the TAP tests: $LOG_DIR/tap_check/"
      fi
    else
      grep -E '^(Files=|Result:|All tests successful)' "$log"
    fi
    record TAP "$passed" "$failed"
  fi

  # --- 8. the Django client (clients/django) ----------------------------------------------------
  section "Django client (clients/django/tests, Django's test runner)"
  if [ ! -x clients/django/run_tests.sh ]; then
    skip django "no clients/django/run_tests.sh"
  elif ! { /usr/bin/python3 -c 'import django, psycopg2' || python3 -c 'import django, psycopg2'; } 2>/dev/null; then
    record django 0 1 "no python3 with Django and psycopg2 (apt-get install python3-django python3-psycopg2)"
  else
    log=$LOG_DIR/django.log
    # Against this run's cluster (PGHOST and the rest are exported above): the test runner
    # creates and drops its own database there.
    clients/django/run_tests.sh >"$log" 2>&1
    status=$?
    read -r passed failed < <(count_django "$log" "$status")
    show "$log" "$failed"
    record django "$passed" "$failed"
  fi
fi

cleanup

section "summary: PostgreSQL $PG_MAJOR"
for line in "${SUITE_LINES[@]}"; do echo "$line"; done
echo "logs: $LOG_DIR"
echo "PostgreSQL $PG_MAJOR took $(duration "$SECONDS")"
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
if [ "$TOTAL_FAILED" != 0 ] || [ "$SUITES_FAILED" != 0 ]; then
  exit 1
fi
exit 0
