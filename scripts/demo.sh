#!/usr/bin/env bash
# Sets up everything on a fresh Debian 12 machine and runs the demo: installs dependencies,
# builds and installs pg_viewmgr, starts a throwaway cluster, runs demo/demo.sql, stops the
# cluster. KEEP_CLUSTER=1 leaves the cluster running to explore it with psql;
# VIEWMGR_SKIP_DEPS=1 installs nothing.
#
#   scripts/demo.sh           on PostgreSQL 15 (Debian 12's), or the one of $PG_CONFIG
#   scripts/demo.sh --pg N    on PostgreSQL N: here when it is installed here (or can be),
#                             else inside its Debian chroot (17, 18; scripts/pg_chroot.sh,
#                             as root), on a copy of this checkout
set -euo pipefail
cd "$(dirname "$0")/.."

PG=""
case "${1:-}" in
  "") ;;
  --pg)
    PG=${2:?usage: $0 [--pg N]}
    ;;
  --pg=*) PG=${1#--pg=} ;;
  *)
    echo "usage: $0 [--pg N]" >&2
    exit 2
    ;;
esac

if [ -n "$PG" ]; then
  if [ -x "/usr/lib/postgresql/$PG/bin/pg_config" ] ||
    apt-cache show "postgresql-server-dev-$PG" >/dev/null 2>&1; then
    export PG_CONFIG=/usr/lib/postgresql/$PG/bin/pg_config
    if [ "${VIEWMGR_SKIP_DEPS:-0}" != 1 ]; then scripts/install_deps.sh "$PG"; fi
  else
    if [ "${KEEP_CLUSTER:-0}" = 1 ]; then
      echo "KEEP_CLUSTER=1 needs PostgreSQL $PG installed here; in its chroot the demo" \
        "cluster is always stopped" >&2
      exit 2
    fi
    if [ "$(id -u)" != 0 ]; then
      echo "PostgreSQL $PG is not installed here; its chroot (scripts/pg_chroot.sh) needs root" >&2
      exit 2
    fi
    scripts/pg_chroot.sh copy "$PG"
    # The chroot was built with everything the demo needs.
    exec scripts/pg_chroot.sh run "$PG" /usr/bin/env VIEWMGR_SKIP_DEPS=1 \
      ${VIEWMGR_PORT:+VIEWMGR_PORT="$VIEWMGR_PORT"} /work/pg_viewmgr/scripts/demo.sh --pg "$PG"
  fi
elif [ "${VIEWMGR_SKIP_DEPS:-0}" != 1 ]; then
  scripts/install_deps.sh
fi
PG_CONFIG=${PG_CONFIG:-pg_config}
export PG_CONFIG
PATH=$("$PG_CONFIG" --bindir):$PATH

make -s PG_CONFIG="$PG_CONFIG"
make -s install PG_CONFIG="$PG_CONFIG" >/dev/null

export VIEWMGR_CLUSTER_DIR=${VIEWMGR_CLUSTER_DIR:-/tmp/pg_viewmgr_demo}
export VIEWMGR_PORT=${VIEWMGR_PORT:-55450}
if [ "${KEEP_CLUSTER:-0}" != 1 ]; then trap 'scripts/cluster.sh stop' EXIT; fi
eval "$(scripts/cluster.sh start)"

echo "PostgreSQL: $(psql -X -Atc 'SHOW server_version')"
psql -X -q -f demo/demo.sql

if [ "${KEEP_CLUSTER:-0}" = 1 ]; then
  echo
  echo "The cluster is still running. Connect with:"
  echo "  $(scripts/cluster.sh env) && psql"
  echo "Stop it with: VIEWMGR_CLUSTER_DIR=$VIEWMGR_CLUSTER_DIR scripts/cluster.sh stop"
fi
