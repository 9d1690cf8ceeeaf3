# Shared by the benchmark scripts (sourced, not run): a work directory, the extension built
# and installed, and a throwaway cluster, all removed at exit.
#
#   bench_prepare NAME   NAME is the script's prefix: NAME_INSTALL, NAME_SOURCE and NAME_KEEP
#                        are read from the environment (see each script's header). Sets ROOT,
#                        WORK, SOURCE_DESC and, for a private install, PG_BIN.
#   bench_start_cluster  starts the cluster (VIEWMGR_CLUSTER_DIR, VIEWMGR_PORT) and exports
#                        its connection settings, PGDATABASE=postgres.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bench_prepare() {
  local name=$1
  local install_var="${name}_INSTALL" source_var="${name}_SOURCE" keep_var="${name}_KEEP"
  local install=${!install_var:-private}
  SOURCE=${!source_var:-tree}
  BENCH_KEEP=${!keep_var:-0}
  local lower
  lower=$(echo "$name" | tr '[:upper:]' '[:lower:]')
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/${lower}.XXXXXX")
  chmod 755 "$WORK"
  trap bench_cleanup EXIT

  cd "$ROOT"
  case "$install" in
    private)
      echo "building the extension and installing it into a private copy of PostgreSQL..."
      local priv="$WORK/pg" dir src
      for dir in bindir pkglibdir sharedir; do
        src=$(pg_config --$dir)
        mkdir -p "$priv$(dirname "$src")"
        cp -a "$src" "$priv$src"
      done
      if [ "$SOURCE" = tree ]; then
        make -s install DESTDIR="$priv" >/dev/null
      else
        # A committed revision, built in the work directory (the working tree is not touched).
        SOURCE=$(git -C "$ROOT" rev-parse --verify "$SOURCE^{commit}")
        mkdir -p "$WORK/src"
        git -C "$ROOT" archive "$SOURCE" | tar -x -C "$WORK/src"
        make -s -C "$WORK/src" -j "$(nproc)" install DESTDIR="$priv" >/dev/null
      fi
      export PG_BIN="$priv$(pg_config --bindir)"
      ;;
    system)
      echo "building and installing the extension (make -s install)..."
      make -s install >/dev/null
      SOURCE=tree
      ;;
    none) SOURCE=installed ;;
    *)
      echo "${install_var} must be private, system or none" >&2
      exit 2
      ;;
  esac
  case "$SOURCE" in
    tree) SOURCE_DESC="working tree at $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src extension 2>/dev/null || echo ' with uncommitted changes')" ;;
    installed) SOURCE_DESC="the extension already installed" ;;
    *) SOURCE_DESC="revision $(git -C "$ROOT" rev-parse --short "$SOURCE")" ;;
  esac
}

bench_cleanup() {
  "$ROOT/scripts/cluster.sh" stop >/dev/null 2>&1 || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    echo "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}

bench_start_cluster() {
  if [ -f "$VIEWMGR_CLUSTER_DIR/data/PG_VERSION" ]; then
    echo "removing a leftover cluster in $VIEWMGR_CLUSTER_DIR..."
    "$ROOT/scripts/cluster.sh" stop >/dev/null
  fi
  echo "starting a throwaway cluster in $VIEWMGR_CLUSTER_DIR (port $VIEWMGR_PORT)..."
  eval "$("$ROOT/scripts/cluster.sh" start)"
  export PGHOST PGPORT PGUSER
  export PGDATABASE=postgres
}
