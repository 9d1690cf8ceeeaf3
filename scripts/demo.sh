#!/usr/bin/env bash
# Sets up everything on a fresh Debian 12 machine and runs the demo: installs dependencies,
# builds and installs pg_viewmgr, starts a throwaway cluster, runs demo/demo.sql, stops the
# cluster. KEEP_CLUSTER=1 leaves the cluster running to explore it with psql.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh
make -s
make -s install >/dev/null

export VIEWMGR_CLUSTER_DIR=${VIEWMGR_CLUSTER_DIR:-/tmp/pg_viewmgr_demo}
export VIEWMGR_PORT=${VIEWMGR_PORT:-55450}
if [ "${KEEP_CLUSTER:-0}" != 1 ]; then trap 'scripts/cluster.sh stop' EXIT; fi
eval "$(scripts/cluster.sh start)"

psql -X -q -f demo/demo.sql

if [ "${KEEP_CLUSTER:-0}" = 1 ]; then
  echo
  echo "The cluster is still running. Connect with:"
  echo "  $(scripts/cluster.sh env) && psql"
  echo "Stop it with: VIEWMGR_CLUSTER_DIR=$VIEWMGR_CLUSTER_DIR scripts/cluster.sh stop"
fi
