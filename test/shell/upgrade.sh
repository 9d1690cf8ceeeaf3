#!/usr/bin/env bash
# TAP test: ALTER EXTENSION pg_viewmgr UPDATE from every earlier release, with data, and the
# updated database object for object the same as a fresh install of the current version.
#
# For each release (scripts/release_sources.sh list: 0.1.0 and 0.2.0) that builds on this
# PostgreSQL, oldest first: build its library from its sources (git history, or the tarball
# scripts/pg_chroot.sh copy exports for a chroot, whose copy has no .git), install it in
# place of the current one (an atomic rename, so running backends keep the file they
# mapped), create that version in a new database and fill its registry and history: views,
# materialized views, indexes, comments, view options, grants, a refresh, a dropped view, a
# registration not applied yet, and a pg_cron job from viewmgr.schedule(). Then put the
# current library back and run the update, as a package upgrade does. After it:
#   - every table of the extension keeps its rows (in the columns both versions have), the
#     views keep their pg_class rows and their data, the pending registration is still
#     pending and nothing else drifted, sync() rebuilds only that one and then has nothing
#     to do, status works;
#   - the pg_cron job is still there, unchanged, its command runs, and schedule() and
#     unschedule() still manage it;
#   - test/shell/extension_objects.sql (catalog facts of every member of the extension) and
#     a schema-only pg_dump --binary-upgrade (which, unlike a plain dump, writes out every
#     member) give the same text as in a fresh install of the current version; a
#     difference fails and prints the diff.
# A release whose sources do not build on this PostgreSQL (0.1.0 on 17 and 18) is left out,
# with a comment line saying so: no installation of that version can exist there.
#
# Needs PGHOST/PGPORT/PGUSER of a running cluster (superuser) with the current pg_viewmgr
# installed, pg_cron preloaded and created in cron.database_name, and write access to
# PostgreSQL's library directory.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
PG_CONFIG=${PG_CONFIG:-pg_config}
PATH=$("$PG_CONFIG" --bindir):$PATH
major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
current_version=$(sed -nE "s/^default_version = '(.*)'/\1/p" pg_viewmgr.control)
libdir=$("$PG_CONFIG" --pkglibdir)
FRESH=viewmgr_upgrade_fresh_$$
WORK=$(mktemp -d)
databases=("$FRESH")

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
n=0
ok() {
  n=$((n + 1))
  if [ "$2" = "$3" ]; then echo "ok $n - $1"; else
    echo "not ok $n - $1"
    echo "#   got:      $2" | sed '2,$s/^/#             /'
    echo "#   expected: $3" | sed '2,$s/^/#             /'
  fi
}
# same_text NAME FILE_GOT FILE_EXPECTED: one assertion; on a difference, the diff.
same_text() {
  n=$((n + 1))
  if diff -u "$3" "$2" >"$WORK/diff"; then echo "ok $n - $1"; else
    echo "not ok $n - $1"
    echo "#   diff from a fresh install of $current_version (-) to the updated database (+):"
    sed 's/^/#   /' "$WORK/diff"
  fi
}

cron_database=$(psql -X -At -d postgres -c "SELECT current_setting('cron.database_name', true)")
cron_database=${cron_database:-postgres}
cq() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$cron_database" -c "$1"; }

# The current library, kept aside while an old one is installed, and put back on exit.
current=$(mktemp "$libdir/pg_viewmgr.current.XXXXXX")
cp "$libdir/pg_viewmgr.so" "$current"
chmod 755 "$current" # mktemp makes it private; the server runs as another user
restore_current() {
  local tmp
  tmp=$(mktemp "$libdir/pg_viewmgr.new.XXXXXX")
  cp "$current" "$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$libdir/pg_viewmgr.so"
}
cleanup() {
  restore_current
  rm -f "$current"
  local db
  for db in "${databases[@]}"; do
    cq "SELECT count(cron.unschedule(jobid)) FROM cron.job WHERE database = '$db'" >/dev/null 2>&1 || true
    dropdb --if-exists "$db" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
install_library() {
  local tmp
  tmp=$(mktemp "$libdir/pg_viewmgr.new.XXXXXX")
  cp "$1" "$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$libdir/pg_viewmgr.so"
}

# The objects of the extension in database $1, as two texts to compare: the catalog facts,
# and the schema-only dump of everything but the test's own schema, without what differs
# between any two databases (oids, xids, WAL positions, the dump's random \restrict key,
# sequence positions) and without the columns an update dropped (kept in pg_attribute as
# "........pg.dropped.N........", invisible to SQL).
describe_extension() {
  local db=$1 out=$2
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f test/shell/extension_objects.sql >"$out.catalog"
  pg_dump --binary-upgrade --schema-only --exclude-schema=up --exclude-schema=up_before -d "$db" |
    sed -E -e '/^\\(un)?restrict /d' -e '/^-- Dumped (from|by) /d' \
      -e '/^SELECT pg_catalog\.binary_upgrade_set_next_/d' \
      -e '/^SELECT pg_catalog\.setval\(/d' \
      -e "s/^(SET relfrozenxid = )'[0-9]+', relminmxid = '[0-9]+'/\1'<xid>', relminmxid = '<mxid>'/" \
      -e "s/^WHERE oid = '[0-9]+';/WHERE oid = '<oid>';/" \
      -e "s/(binary_upgrade_create_empty_extension\('pg_viewmgr', '[^']*', (true|false), '[^']*', )'\{[0-9,]*\}'/\1'{<config tables>}'/" |
    awk '
      # the block that recreates a dropped column, from its comment to the DROP COLUMN
      /^-- For binary upgrade, recreate dropped column\.$/ { skipping = 1 }
      skipping { if ($0 ~ /DROP COLUMN/) skipping = 0; next }
      /pg\.dropped\./ { next }
      { print }' |
    cat -s >"$out.dump"
}

DB=$FRESH
createdb "$FRESH"
q "CREATE EXTENSION pg_viewmgr" >/dev/null
describe_extension "$FRESH" "$WORK/fresh"

# A registry and history to carry through the update. The job's schedule (February 31st)
# never fires: a run during the test would add history between the snapshots.
fill() {
  # pg_cron's job names are unique per user across the cluster: one per database here.
  psql -X -q -v ON_ERROR_STOP=1 -v job="${DB}_all" -d "$DB" >/dev/null <<'SQL'
CREATE SCHEMA up;
CREATE TABLE up.orders (id int PRIMARY KEY, region text, amount numeric);
INSERT INTO up.orders SELECT g, 'r' || g % 5, g FROM generate_series(1, 100) g;
SELECT viewmgr.register('up.by_region', 'SELECT region, sum(amount) AS total FROM up.orders GROUP BY region',
                        comment => 'totals per region', view_options => ARRAY['security_barrier=true']);
SELECT viewmgr.register('up.big', 'SELECT * FROM up.by_region WHERE total > 900',
                        materialized => true, indexes => ARRAY['UNIQUE (region)'], comment => 'big ones');
SELECT viewmgr.register('up.counts', 'SELECT region, count(*) AS n FROM up.orders GROUP BY region',
                        materialized => true);
SELECT viewmgr.register('up.gone', 'SELECT 1 AS one');
SELECT viewmgr.unregister('up.gone');
-- A hand-made dependent and grants, which the update must not touch.
CREATE VIEW up.hand AS SELECT region FROM up.big;
GRANT SELECT ON up.big TO PUBLIC;
GRANT SELECT ON up.by_region TO pg_monitor;
INSERT INTO up.orders VALUES (101, 'r1', 5000);
SELECT * FROM viewmgr.refresh_all();
SELECT viewmgr.schedule('0 0 31 2 *');
SELECT viewmgr.schedule('0 0 31 2 *', job_name => :'job', only_stale => false);
-- Registered, not applied yet: the update must keep it pending.
SELECT viewmgr.register('up.counts', 'SELECT region, count(*) AS n FROM up.orders WHERE id > 0 GROUP BY region',
                        materialized => true, apply => false);
SQL
}

# The tables of the extension.
tables_query="SELECT c.relname FROM pg_class c
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_viewmgr'
 WHERE c.relkind = 'r' ORDER BY c.relname"
# columns TABLE OTHER [NOT]: TABLE's columns (in name order) that OTHER has too (or, with
# NOT, has not).
columns() {
  q "SELECT coalesce(string_agg(quote_ident(a.attname), ', ' ORDER BY a.attname), '')
       FROM pg_attribute a
      WHERE a.attrelid = '$1'::regclass AND a.attnum > 0 AND NOT a.attisdropped
        AND ${3:-} EXISTS (SELECT FROM pg_attribute b WHERE b.attrelid = '$2'::regclass
                            AND b.attname = a.attname AND b.attnum > 0 AND NOT b.attisdropped)"
}
# rows TABLE COLUMNS: the table's rows as JSON over those columns, in a stable order (a
# column whose type the update changed, such as owner from text to regrole, reads the same).
rows() {
  q "SELECT coalesce(string_agg(r, E'\n' ORDER BY r), '(empty)')
       FROM (SELECT row_to_json(t)::text AS r FROM (SELECT $2 FROM $1) t) rows"
}
catalog="SELECT string_agg(c.relname || ':' || c.xmin::text, ',' ORDER BY c.relname)
  FROM pg_class c WHERE c.relnamespace = 'up'::regnamespace"
data="SELECT (SELECT string_agg(region || '=' || total, ',' ORDER BY region) FROM up.big) || ' ' ||
             (SELECT string_agg(region || '=' || n, ',' ORDER BY region) FROM up.counts)"
grants="SELECT string_agg(relname || ' ' || relacl::text, ',' ORDER BY relname)
  FROM pg_class WHERE relnamespace = 'up'::regnamespace AND relacl IS NOT NULL"
jobs_query() {
  echo "SELECT string_agg(concat_ws('|', jobid, jobname, schedule, command, nodename, nodeport, database,
    username, active), E'\n' ORDER BY jobname) FROM cron.job WHERE database = '$1'"
}

# update_from VERSION COMMIT: one release's path to the current version.
update_from() {
  local version=$1 commit=$2 started=$SECONDS old_build stamp
  old_build=$ROOT/build/upgrade/pg$major/$version
  stamp="$commit $("$PG_CONFIG" --version)"
  if [ "$(cat "$old_build/.built-from" 2>/dev/null)" != "$stamp" ] || [ ! -f "$old_build/pg_viewmgr.so" ]; then
    rm -rf "$old_build"
    mkdir -p "$old_build"
    if ! scripts/release_sources.sh extract "$version" "$old_build" >"$old_build.log" 2>&1 ||
      ! make -s -C "$old_build" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" >>"$old_build.log" 2>&1; then
      ok "$version builds on PostgreSQL $major" "failed: see $old_build.log" "built"
      tail -n 5 "$old_build.log" | sed 's/^/#   /' || true
      return
    fi
    echo "$stamp" >"$old_build/.built-from"
    echo "# $version built on PostgreSQL $major in $((SECONDS - started))s"
  fi
  started=$SECONDS

  DB=viewmgr_upgrade_${version//./_}_$$
  databases+=("$DB")
  install_library "$old_build/pg_viewmgr.so"
  createdb "$DB"
  q "CREATE EXTENSION pg_viewmgr VERSION '$version'" >/dev/null
  fill

  # A copy of every table of the extension, to compare with after the update.
  local tables table
  tables=$(q "$tables_query")
  q "CREATE SCHEMA up_before" >/dev/null
  for table in $tables; do
    q "CREATE TABLE up_before.$table AS SELECT * FROM viewmgr.$table" >/dev/null
  done
  local catalog_before data_before grants_before jobs_before
  catalog_before=$(q "$catalog")
  data_before=$(q "$data")
  grants_before=$(q "$grants")
  jobs_before=$(cq "$(jobs_query "$DB")")

  restore_current
  q "ALTER EXTENSION pg_viewmgr UPDATE" >/dev/null
  echo "# $version -> $current_version: ALTER EXTENSION pg_viewmgr UPDATE done"
  ok "$version -> $current_version: the extension is at the current version" \
    "$(q "SELECT extversion FROM pg_extension WHERE extname = 'pg_viewmgr'")" "$current_version"

  # Each table's rows, over the columns it had before and still has.
  local kept dropped
  for table in $tables; do
    if [ -z "$(q "SELECT to_regclass('viewmgr.$table')")" ]; then
      ok "$version -> $current_version: table viewmgr.$table is kept" "dropped" "kept"
      continue
    fi
    kept=$(columns "up_before.$table" "viewmgr.$table")
    dropped=$(columns "up_before.$table" "viewmgr.$table" NOT)
    [ -z "$dropped" ] || echo "# $version -> $current_version: the update dropped viewmgr.$table's columns $dropped"
    if [ "$table" = source_change ]; then
      # The change log is written to by the update itself (0.2.0's DDL triggers log its
      # ALTER TABLE on the registry): the rows it had must still be there.
      ok "$version -> $current_version: viewmgr.$table keeps its rows" \
        "$(q "SELECT count(*) FROM (SELECT $kept FROM up_before.$table EXCEPT ALL
                                    SELECT $kept FROM viewmgr.$table) lost") lost" "0 lost"
    else
      ok "$version -> $current_version: viewmgr.$table keeps its rows" \
        "$(rows "viewmgr.$table" "$kept")" "$(rows "up_before.$table" "$kept")"
    fi
  done
  ok "$version -> $current_version: the update changed no view (pg_class rows untouched)" "$(q "$catalog")" "$catalog_before"
  ok "$version -> $current_version: the materialized views keep their data" "$(q "$data")" "$data_before"
  ok "$version -> $current_version: the grants are kept" "$(q "$grants")" "$grants_before"

  local jobs_after command
  jobs_after=$(cq "$(jobs_query "$DB")")
  ok "$version -> $current_version: the pg_cron jobs are still there, unchanged" "$jobs_after" "$jobs_before"
  command=$(cq "SELECT command FROM cron.job WHERE database = '$DB' AND jobname = '${DB}_all'")
  ok "$version -> $current_version: the job's command runs after the update" \
    "$(q "BEGIN; $command; ROLLBACK" 2>&1 | sed -E 's/^[0-9]+$/a count/')" "a count"

  describe_extension "$DB" "$WORK/updated"
  same_text "$version -> $current_version: every member of the extension as in a fresh install (catalog facts, test/shell/extension_objects.sql)" \
    "$WORK/updated.catalog" "$WORK/fresh.catalog"
  same_text "$version -> $current_version: the same schema dump as a fresh install (pg_dump --binary-upgrade --schema-only)" \
    "$WORK/updated.dump" "$WORK/fresh.dump"

  ok "$version -> $current_version: the pending registration is still pending, nothing else drifted" \
    "$(q "SELECT string_agg(view_name || ' ' || drift, ',' ORDER BY view_name) FROM viewmgr.drift()")" \
    "up.counts definition"
  ok "$version -> $current_version: sync() rebuilds only the pending view" \
    "$(q "SELECT string_agg(view_name || ' ' || action, ',' ORDER BY view_name) FROM viewmgr.sync()")" \
    "up.big unchanged,up.by_region unchanged,up.counts rebuilt"
  ok "$version -> $current_version: a second sync() has nothing to do" \
    "$(q "SELECT string_agg(DISTINCT action, ',') FROM viewmgr.sync()")" "unchanged"
  ok "$version -> $current_version: status after the update" \
    "$(q "SELECT string_agg(view_name || ' ' || state, ',' ORDER BY view_name) FROM viewmgr.status")" \
    "up.big fresh,up.by_region fresh,up.counts fresh"

  local jobid
  jobid=$(cq "SELECT jobid FROM cron.job WHERE database = '$DB' AND jobname = '${DB}_all'")
  ok "$version -> $current_version: schedule() updates the job it made before the update" \
    "$(q "SELECT viewmgr.schedule('0 0 30 2 *', job_name => '${DB}_all')")" "$jobid"
  ok "$version -> $current_version: unschedule() removes the default job" \
    "$(q "SELECT viewmgr.unschedule()")|$(cq "SELECT count(*) FROM cron.job WHERE database = '$DB'")" "t|1"
  echo "# $version -> $current_version on PostgreSQL $major: $((SECONDS - started))s (without building $version)"
}

while read -r version commit majors; do
  if [[ " $majors " != *" $major "* ]]; then
    echo "# $version left out: its sources build on PostgreSQL $majors only, not $major," \
      "so no installation of $version can exist on $major"
    continue
  fi
  update_from "$version" "$commit"
done < <(scripts/release_sources.sh list)

echo "1..$n"
