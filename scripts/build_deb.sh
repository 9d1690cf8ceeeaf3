#!/usr/bin/env bash
# Builds the Debian package postgresql-N-viewmgr (debian/, postgresql-common's pg_buildext)
# from this checkout, and optionally checks it in a clean chroot.
#
#   scripts/build_deb.sh [--pg N] [--check]
#
#   --pg N    PostgreSQL N (default 15): built here when its headers are installed here (or
#             can be), else inside its Debian chroot (17: trixie, 18: forky; see
#             scripts/pg_chroot.sh). The .deb lands in build/debs/pgN/.
#   --check   then installs the .deb into a fresh chroot of the suite that ships N (only the
#             package, its dependencies and pg_cron, nothing of the build) and there starts a
#             cluster, runs CREATE EXTENSION pg_viewmgr and the demo (demo/demo.sql).
#
# Needs root for the chroots and to install the packaging tools (postgresql-server-dev-all,
# debhelper, dpkg-dev). The build runs on a copy of the checkout, so neither the checkout nor
# its parent directory gets build products.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

N=15
CHECK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pg)
      N=${2:?usage: $0 [--pg N] [--check]}
      shift 2
      ;;
    --pg=*)
      N=${1#--pg=}
      shift
      ;;
    --check)
      CHECK=1
      shift
      ;;
    *)
      echo "usage: $0 [--pg N] [--check]" >&2
      exit 2
      ;;
  esac
done

OUT=$ROOT/build/debs/pg$N
TOOLS=(build-essential postgresql-server-dev-all debhelper dpkg-dev)

install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    </dev/null >/dev/null
}

# build_here: the package for the PostgreSQL N installed here, into $OUT.
build_here() {
  install_missing "${TOOLS[@]}" "postgresql-server-dev-$N"
  local work version
  version=$(dpkg-parsechangelog -l debian/changelog -S Version)
  work=$(mktemp -d /tmp/pg_viewmgr_deb.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  mkdir "$work/pg-viewmgr-$version"
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
      tar --null -T - -cf - | tar -xf - -C "$work/pg-viewmgr-$version"
  else
    tar --exclude=./build --exclude=./.git --exclude='*.o' --exclude='*.so' --exclude='*.d' \
      -cf - . | tar -xf - -C "$work/pg-viewmgr-$version"
  fi
  (
    cd "$work/pg-viewmgr-$version"
    # debian/control names the binary packages of the versions installed where it is built
    # (committed: Debian 12's 15); generate it for the ones here.
    pg_buildext updatecontrol
    dpkg-buildpackage -us -uc -b
  )
  rm -rf "$OUT"
  mkdir -p "$OUT"
  cp "$work"/*.deb "$OUT/"
  rm -rf "$work"
  trap - EXIT
  echo "built: $(cd "$OUT" && ls ./*.deb)"
}

# check: a fresh chroot of the suite that ships N with the package installed (apt resolves
# its dependencies from the archive) and pg_cron, where the demo runs against it.
check() {
  local suite deb aptopts=()
  suite=$(scripts/pg_chroot.sh suite "$N")
  deb=$(ls "$OUT"/postgresql-"$N"-viewmgr_*.deb | head -n 1)
  [ "$suite" = forky ] && aptopts=(--aptopt='Acquire::Check-Valid-Until "false"')
  CHECK_DIR=$(mktemp -d /var/tmp/pg_viewmgr_pkgcheck.XXXXXX)
  trap 'rm -rf "$CHECK_DIR"' EXIT
  rmdir "$CHECK_DIR"
  local dir=$CHECK_DIR
  echo "a clean $suite chroot with $(basename "$deb") in $dir"
  # The package was built against this machine's PostgreSQL N when this machine's suite
  # ships N, and depends on at least that point release: then the chroot gets this machine's
  # sources too (with its updates and security suites).
  local sources
  sources=$(scripts/pg_chroot.sh mirror)
  if [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = "$suite" ] &&
    [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sources=/etc/apt/sources.list.d/debian.sources
  fi
  # The package is installed with apt inside the chroot (mmdebstrap's own --include of a
  # .deb file does not reach into a root-mode chroot), so apt resolves its dependencies.
  mmdebstrap --variant=apt --include="postgresql-$N,postgresql-$N-cron" "${aptopts[@]}" \
    "$suite" "$dir" "$sources" </dev/null
  mkdir -p "$dir/work/demo"
  cp scripts/cluster.sh demo/demo.sql "$deb" "$dir/work/demo/"
  scripts/pg_chroot.sh enter "$dir" /bin/bash -c "
    set -euo pipefail
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /work/demo/$(basename "$deb") </dev/null >/dev/null
    dpkg-query -W postgresql-$N-viewmgr
    export PG_BIN=/usr/lib/postgresql/$N/bin VIEWMGR_CLUSTER_DIR=/tmp/pkgcheck VIEWMGR_PORT=${VIEWMGR_PORT:-55470}
    trap '/work/demo/cluster.sh stop' EXIT
    eval \"\$(/work/demo/cluster.sh start)\"
    psql -X -v ON_ERROR_STOP=1 -Atc 'CREATE EXTENSION pg_viewmgr' \
      -c \"SELECT 'pg_viewmgr ' || extversion || ' on PostgreSQL ' || current_setting('server_version') FROM pg_extension WHERE extname = 'pg_viewmgr'\"
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'DROP EXTENSION pg_viewmgr'
    psql -X -q -v ON_ERROR_STOP=1 -f /work/demo/demo.sql >/tmp/demo.out
    echo \"the demo ran: \$(wc -l </tmp/demo.out) lines of output\"
  "
  echo "package check passed: $(basename "$deb")"
}

if [ "$(id -u)" != 0 ]; then
  echo "$0 needs root (packaging tools, chroots)" >&2
  exit 2
fi

if [ -x "/usr/lib/postgresql/$N/bin/pg_config" ] ||
  apt-cache show "postgresql-server-dev-$N" >/dev/null 2>&1; then
  build_here
else
  scripts/pg_chroot.sh copy "$N"
  # The packaging tools are not part of the test chroot; apt brings them on first use.
  scripts/pg_chroot.sh run "$N" /bin/bash -c "
    set -e
    export DEBIAN_FRONTEND=noninteractive
    if ! dpkg-query -W debhelper dpkg-dev postgresql-server-dev-all >/dev/null 2>&1; then
      apt-get update -qq && apt-get install -y -qq --no-install-recommends build-essential \
        debhelper dpkg-dev postgresql-server-dev-all </dev/null >/dev/null
    fi
    /work/pg_viewmgr/scripts/build_deb.sh --pg $N"
  rm -rf "$OUT"
  mkdir -p "$OUT"
  cp "$(scripts/pg_chroot.sh workdir "$N")/build/debs/pg$N/"*.deb "$OUT/"
  echo "built: $(cd "$OUT" && ls ./*.deb)"
fi

if [ "$CHECK" = 1 ]; then check; fi
