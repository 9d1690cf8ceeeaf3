#!/usr/bin/env bash
# The Django client's suite: Django's own test runner over clients/django/tests, against the
# cluster the libpq environment names (PGHOST, PGPORT, PGUSER: scripts/run_tests.sh sets them
# and installs the extension first), or, when PGHOST is unset, a throwaway cluster of its own
# (scripts/cluster.sh with $PG_CONFIG; the extension must be installed into that PostgreSQL).
#   clients/django/run_tests.sh [manage.py test arguments, e.g. viewtest.tests.Refresh]
# Prints one "name ... ok" line per test (verbosity 2), which scripts/run_tests.sh counts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

# Debian's python3-django and python3-psycopg2 are for /usr/bin/python3; a python3 earlier in
# PATH (pyenv, a virtualenv) may not have them.
python=${VIEWMGR_PYTHON:-}
if [ -z "$python" ]; then
  for candidate in /usr/bin/python3 python3; do
    if "$candidate" -c 'import django, psycopg2' 2>/dev/null; then
      python=$candidate
      break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "no python3 with Django and psycopg2: apt-get install python3-django python3-psycopg2" >&2
  exit 2
fi

if [ -z "${PGHOST:-}" ]; then
  export VIEWMGR_CLUSTER_DIR=${VIEWMGR_CLUSTER_DIR:-/tmp/pg_viewmgr_django.$$}
  export VIEWMGR_PORT=${VIEWMGR_PORT:-55442}
  trap '"$root/scripts/cluster.sh" stop >/dev/null 2>&1 || true' EXIT
  eval "$("$root/scripts/cluster.sh" start)"
  export PGHOST PGPORT PGUSER PGDATABASE
fi

"$python" -c 'import django; print("Django", django.get_version())'
cd "$here/tests"
# not exec: the EXIT trap must stop a cluster started above
"$python" manage.py test -v 2 --noinput "$@"
