#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, demos and benchmarks (the PostgreSQL of
# $PG_BIN, else of $PG_CONFIG, else of the pg_config in PATH).
#   scripts/cluster.sh start   initdb (if needed) and start it; prints the env to use
#   scripts/cluster.sh stop    stop it and remove its directory
#   scripts/cluster.sh env     print the env (PGHOST, PGPORT, PGUSER) to eval
# The server runs as the postgres user (initdb refuses root), listens only on a Unix socket
# and loopback, and preloads pg_cron.
set -euo pipefail

PG_BIN=${PG_BIN:-$("${PG_CONFIG:-pg_config}" --bindir)}
CLUSTER_DIR=${VIEWMGR_CLUSTER_DIR:-/tmp/pg_viewmgr_cluster}
PORT=${VIEWMGR_PORT:-55432}
DATA="$CLUSTER_DIR/data"
SOCKET_DIR="$CLUSTER_DIR/socket"

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

print_env() {
  echo "export PGHOST=$SOCKET_DIR PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres"
}

case "${1:-}" in
  start)
    if [ ! -f "$DATA/PG_VERSION" ]; then
      mkdir -p "$CLUSTER_DIR" "$SOCKET_DIR"
      if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$CLUSTER_DIR"; fi
      as_postgres "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust --no-sync \
        -E UTF8 --locale=C.UTF-8 >"$CLUSTER_DIR/initdb.log" 2>&1 || {
        cat "$CLUSTER_DIR/initdb.log" >&2
        exit 1
      }
      cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKET_DIR'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
fsync = off
synchronous_commit = off
full_page_writes = off
max_locks_per_transaction = 512
log_min_messages = warning
CONF
    fi
    if ! as_postgres "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      as_postgres "$PG_BIN/pg_ctl" -D "$DATA" -l "$CLUSTER_DIR/server.log" -w -t 60 start \
        >/dev/null || {
        cat "$CLUSTER_DIR/server.log" >&2
        exit 1
      }
    fi
    print_env
    ;;
  stop)
    if [ -f "$DATA/PG_VERSION" ]; then
      as_postgres "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$CLUSTER_DIR"
    ;;
  env)
    print_env
    ;;
  *)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
