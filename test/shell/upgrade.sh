#!/usr/bin/env bash
# TAP test: ALTER EXTENSION pg_viewmgr UPDATE from 0.1.0, the first release, with data.
# Builds the 0.1.0 library from this repository's history, installs it in place of the
# current one (an atomic rename, so running backends keep the file they mapped), creates
# version 0.1.0 in a new database and fills its registry and history (views, materialized
# views, indexes, comments, options, a pending registration, a refresh), then puts the
# current library back and runs the update, as a package upgrade does. After it the
# registry, the history and the views are intact and sync() has nothing to do.
# Needs PGHOST/PGPORT/PGUSER of a running cluster with the current pg_viewmgr installed,
# and write access to PostgreSQL's library directory.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
PG_CONFIG=${PG_CONFIG:-pg_config}
# The commit that released 0.1.0 (the last with default_version 0.1.0).
RELEASE_0_1_0=a6d1e573563a903bf71ede2f81f1e8afaee67051
DB=viewmgr_upgrade_$$

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
n=0
ok() {
  n=$((n + 1))
  if [ "$2" = "$3" ]; then echo "ok $n - $1"; else
    echo "not ok $n - $1"
    echo "#   got:      $2"
    echo "#   expected: $3"
  fi
}

version_num=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
if [ "$version_num" != 15 ]; then
  # 0.1.0 only ever built on PostgreSQL 15: no installation on another version can have it.
  echo "1..0 # SKIP 0.1.0 was released for PostgreSQL 15 only (this is $version_num)"
  exit 0
fi

echo "1..9"
release=$(git rev-parse --verify -q "${RELEASE_0_1_0}^{commit}") || {
  echo "not ok 1 - the 0.1.0 release commit is in this clone's history"; exit 0; }
old_build=$ROOT/build/upgrade/0.1.0
if [ ! -f "$old_build/pg_viewmgr.so" ]; then
  rm -rf "$old_build"
  mkdir -p "$old_build"
  git archive "$release" | tar -x -C "$old_build"
  make -s -C "$old_build" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" >"$old_build.log" 2>&1
fi
libdir=$("$PG_CONFIG" --pkglibdir)
current=$(mktemp "$libdir/pg_viewmgr.current.XXXXXX")
cp "$libdir/pg_viewmgr.so" "$current"
chmod 755 "$current"  # mktemp makes it private; the server runs as another user
restore_current() {
  if [ -f "$current" ]; then mv -f "$current" "$libdir/pg_viewmgr.so"; fi
}
trap 'restore_current; dropdb --if-exists "$DB"' EXIT
install_library() {
  local tmp
  tmp=$(mktemp "$libdir/pg_viewmgr.new.XXXXXX")
  cp "$1" "$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$libdir/pg_viewmgr.so"
}

install_library "$old_build/pg_viewmgr.so"
createdb "$DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL'
CREATE EXTENSION pg_viewmgr VERSION '0.1.0';
CREATE SCHEMA up;
CREATE TABLE up.orders (id int PRIMARY KEY, region text, amount numeric);
INSERT INTO up.orders SELECT g, 'r' || g % 5, g FROM generate_series(1, 100) g;
SELECT viewmgr.register('up.by_region', 'SELECT region, sum(amount) AS total FROM up.orders GROUP BY region',
                        comment => 'totals per region', view_options => ARRAY['security_barrier=true']);
SELECT viewmgr.register('up.big', 'SELECT * FROM up.by_region WHERE total > 900',
                        materialized => true, indexes => ARRAY['UNIQUE (region)'], comment => 'big ones');
SELECT viewmgr.register('up.counts', 'SELECT region, count(*) AS n FROM up.orders GROUP BY region',
                        materialized => true);
-- A hand-made dependent and a grant, which the update must not touch.
CREATE VIEW up.hand AS SELECT region FROM up.big;
GRANT SELECT ON up.big TO PUBLIC;
INSERT INTO up.orders VALUES (101, 'r1', 5000);
SELECT * FROM viewmgr.refresh_all();
-- Registered, not applied yet: the update must keep it pending.
SELECT viewmgr.register('up.counts', 'SELECT region, count(*) AS n FROM up.orders WHERE id > 0 GROUP BY region',
                        materialized => true, apply => false);
SQL

registry="SELECT string_agg(concat_ws('|', schema_name, relation_name, materialized, definition, search_path,
  depends_on, reads, indexes, with_data, comment, view_options, built_viewdef, built_indexes, owner,
  last_refreshed_at), E'\n' ORDER BY schema_name, relation_name) FROM viewmgr.managed_view"
history="SELECT string_agg(concat_ws('|', id, view_name, operation, outcome, detail), E'\n' ORDER BY id) FROM viewmgr.history"
catalog="SELECT string_agg(c.relname || ':' || c.xmin::text, ',' ORDER BY c.relname)
  FROM pg_class c WHERE c.relnamespace = 'up'::regnamespace"
data="SELECT (SELECT string_agg(region || '=' || total, ',' ORDER BY region) FROM up.big) || ' ' ||
             (SELECT string_agg(region || '=' || n, ',' ORDER BY region) FROM up.counts)"
registry_before=$(q "$registry")
history_before=$(q "$history")
catalog_before=$(q "$catalog")
data_before=$(q "$data")

restore_current
q "ALTER EXTENSION pg_viewmgr UPDATE" >/dev/null
ok "the extension is at the current version" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'pg_viewmgr'")" \
  "$(sed -nE "s/^default_version = '(.*)'/\1/p" pg_viewmgr.control)"
ok "the registry keeps every declaration and build" "$(q "$registry")" "$registry_before"
ok "the history is intact" "$(q "$history")" "$history_before"
ok "the update changed no view (pg_class rows untouched)" "$(q "$catalog")" "$catalog_before"
ok "the materialized views keep their data" "$(q "$data")" "$data_before"
ok "the pending registration is still pending, nothing else drifted" \
  "$(q "SELECT string_agg(view_name || ' ' || drift, ',' ORDER BY view_name) FROM viewmgr.drift()")" \
  "up.counts definition"
ok "sync() rebuilds only the pending view" \
  "$(q "SELECT string_agg(view_name || ' ' || action, ',' ORDER BY view_name) FROM viewmgr.sync()")" \
  "up.big unchanged,up.by_region unchanged,up.counts rebuilt"
ok "a second sync() has nothing to do" \
  "$(q "SELECT string_agg(DISTINCT action, ',') FROM viewmgr.sync()")" "unchanged"
ok "status after the update" \
  "$(q "SELECT string_agg(view_name || ' ' || state, ',' ORDER BY view_name) FROM viewmgr.status")" \
  "up.big fresh,up.by_region fresh,up.counts fresh"
