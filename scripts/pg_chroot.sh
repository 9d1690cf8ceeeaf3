#!/usr/bin/env bash
# Debian chroots that carry the PostgreSQL versions Debian 12 does not: 17 (Debian 13 trixie)
# and 18 (Debian forky), each with its server headers, pgTAP, pg_cron and the build tools,
# straight from Debian's archive (mmdebstrap, as root).
#
#   scripts/pg_chroot.sh create N          build the chroot for PostgreSQL N, or reuse it
#   scripts/pg_chroot.sh run N CMD [ARG…]  run CMD inside it, as root, with /proc and /dev
#                                          mounted (unmounted again when CMD ends)
#   scripts/pg_chroot.sh copy N            copy this checkout into it, to /work/pg_viewmgr
#                                          (sources afresh, build products kept)
#   scripts/pg_chroot.sh workdir N         print where /work/pg_viewmgr is, seen from here
#   scripts/pg_chroot.sh path N            print the directory of the (shared) base chroot
#   scripts/pg_chroot.sh remove N          delete it, and every checkout's layer over it
#   scripts/pg_chroot.sh enter DIR CMD…    run CMD in any chroot directory, mounted the same
#   scripts/pg_chroot.sh suite N           print the Debian suite that ships PostgreSQL N
#   scripts/pg_chroot.sh mirror            print the Debian mirror the chroots come from
#
# N is 17 (trixie) or 18 (forky); 15 (bookworm) works too, though Debian 12 hosts test it
# without a chroot.
#
# A chroot is reused while its stamp file (suite, mirror and package list) matches what this
# script would build; otherwise it is built again. The base chroot is never written to after
# it is built: each checkout gets a writable layer of its own over it (overlayfs; under
# $VIEWMGR_CHROOT_BASE/layers/), which holds its copy of the sources, its build products and
# its `make install`. So two checkouts (two worktrees, two people) can test against the same
# PostgreSQL version at the same time without installing over each other. The checkout is
# copied in, not mounted: each version keeps its own build products (PGXS builds in the
# source tree).
#
# Environment:
#   VIEWMGR_CHROOT_BASE  where the chroots live (default /var/tmp/pg_viewmgr-chroots)
#   VIEWMGR_MIRROR       Debian mirror (default: the first URI of the host's debian.sources)
set -euo pipefail

BASE=${VIEWMGR_CHROOT_BASE:-/var/tmp/pg_viewmgr-chroots}
LAYERS=$BASE/layers

usage() {
  echo "usage: $0 create N | run N CMD [ARG...] | copy N | workdir N | path N | remove N | enter DIR CMD [ARG...] | suite N | mirror   (N: 15, 17 or 18)" >&2
  exit 2
}

# suite_for N: the Debian suite that ships PostgreSQL N as its default version.
suite_for() {
  case "$1" in
    15) echo bookworm ;;
    17) echo trixie ;;
    18) echo forky ;;
    *)
      echo "no chroot for PostgreSQL $1: 15 is Debian 12's (bookworm), 17 is trixie's, 18 is forky's" >&2
      exit 2
      ;;
  esac
}

# packages_for N: what building and every test suite need. dblink (used by the isolation
# specs) and the other contrib modules are part of postgresql-N itself since Debian's
# PostgreSQL 10 packaging, so there is no separate contrib package to ask for. Django and
# psycopg2 are for the Django client's suite (clients/django).
packages_for() {
  local n=$1
  echo "postgresql-$n,postgresql-server-dev-$n,postgresql-$n-pgtap,postgresql-$n-cron,libtap-parser-sourcehandler-pgtap-perl,libipc-run-perl,g++,make,cmake,libgtest-dev,pkg-config,python3-django,python3-psycopg2"
}

mirror() {
  if [ -n "${VIEWMGR_MIRROR:-}" ]; then
    echo "$VIEWMGR_MIRROR"
    return
  fi
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '/^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' \
      /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "$0: chroots need root (mmdebstrap, mount, chroot)" >&2
    exit 2
  fi
}

stamp_text() {
  local n=$1
  printf 'suite=%s\nmirror=%s\npackages=%s\nlayout=overlay\n' "$(suite_for "$n")" "$(mirror)" \
    "$(packages_for "$n")"
}

create() {
  local n=$1 dir=$BASE/$1 suite
  suite=$(suite_for "$n")
  need_root
  if [ -f "$dir/.pg_viewmgr-stamp" ] && [ "$(cat "$dir/.pg_viewmgr-stamp")" = "$(stamp_text "$n")" ] &&
    [ -x "$dir/usr/lib/postgresql/$n/bin/pg_config" ]; then
    return 0
  fi
  if ! command -v mmdebstrap >/dev/null; then
    echo "installing mmdebstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap \
      </dev/null >/dev/null
  fi
  local aptopts=()
  # forky's Release files carry a short Valid-Until that the archive's copy has outlived.
  if [ "$suite" = forky ]; then aptopts=(--aptopt='Acquire::Check-Valid-Until "false"'); fi
  echo "building the PostgreSQL $n chroot ($suite from $(mirror)) in $dir"
  mkdir -p "$BASE"
  # Layers over an older base make no sense over a new one.
  rm -rf "$dir" "$dir.new" "$LAYERS"/*-"$n"
  # Without a terminal mmdebstrap would read sources from standard input: give it none.
  mmdebstrap --variant=apt --include="$(packages_for "$n")" "${aptopts[@]}" \
    "$suite" "$dir.new" "$(mirror)" </dev/null
  stamp_text "$n" >"$dir.new/.pg_viewmgr-stamp"
  mv "$dir.new" "$dir"
}

# copy N: the checkout this script belongs to (tracked and untracked-but-not-ignored files
# as they are in the work tree; without git, everything but build products) into the chroot
# at /work/pg_viewmgr. Every file of the previous copy except build products (build/, *.o,
# *.d, *.so) is removed first, so a source deleted here disappears there too, and builds
# there stay incremental. The sources of the old releases go along as tarballs in
# build/release-sources (scripts/release_sources.sh), for the upgrade test.
copy() {
  local n=$1 src dest
  need_root
  create "$n"
  src=$(cd "$(dirname "$0")/.." && pwd)
  # Written straight into the layer's upper directory (not mounted now): it shows in the
  # chroot at /work/pg_viewmgr.
  dest=$(layer_dir "$n")/upper/work/pg_viewmgr
  mkdir -p "$dest"
  # Build products of a copy from another checkout (a worktree of another branch) may be
  # newer than this checkout's sources and would be taken as up to date: start clean then.
  if [ "$(cat "$dest/.pg_viewmgr-copied-from" 2>/dev/null)" != "$src" ]; then
    rm -rf "$dest"
    mkdir -p "$dest"
  fi
  find "$dest" -path "$dest/build" -prune -o -type f ! -name '*.o' ! -name '*.d' \
    ! -name '*.so' ! -name .pg_viewmgr-copied-from -print0 | xargs -0 -r rm -f
  echo "$src" >"$dest/.pg_viewmgr-copied-from"
  if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$src" && git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
      tar --null -T - -cf -) | tar -xf - -C "$dest"
    # The copy has no .git: the upgrade test (test/shell/upgrade.sh) builds the old releases
    # from these tarballs of their sources instead (kept under build/, one per commit).
    "$src/scripts/release_sources.sh" export "$dest/build/release-sources"
  else
    (cd "$src" && tar --exclude=./build --exclude=./.git --exclude=./tmp_check \
      --exclude=./results --exclude=./output_iso --exclude='*.o' --exclude='*.so' \
      --exclude='*.d' -cf - .) | tar -xf - -C "$dest"
    # Tarballs of the old releases exported where the history was, if any.
    if [ -d "$src/build/release-sources" ]; then
      mkdir -p "$dest/build/release-sources"
      cp -p "$src"/build/release-sources/*.tar "$dest/build/release-sources/" 2>/dev/null || true
    fi
  fi
}

# layer_dir N: this checkout's writable layer over the chroot of N (named after the
# checkout's directory and a hash of its path).
layer_dir() {
  local src id
  src=$(cd "$(dirname "$0")/.." && pwd -P)
  id=$(printf '%s' "$src" | sha1sum | cut -c1-12)
  echo "$LAYERS/$(basename "$src")-$id-$1"
}

# run N CMD...: the mounts live in a private mount namespace of their own, so even a killed
# run leaves nothing mounted on the host; the trap unmounts them in the normal case too.
run() {
  local n=$1 layer
  shift
  [ $# -gt 0 ] || usage
  create "$n"
  layer=$(layer_dir "$n")
  mkdir -p "$layer/upper" "$layer/work" "$layer/merged"
  exec unshare --mount --propagation private "$0" __layered "$BASE/$n" "$layer" "$@"
}

mounted=()

# layered BASE LAYER CMD...: BASE with LAYER over it, mounted at LAYER/merged, then CMD there.
layered() {
  local base=$1 layer=$2
  shift 2
  mount -t overlay overlay \
    -o "lowerdir=$base,upperdir=$layer/upper,workdir=$layer/work" "$layer/merged"
  mounted+=("$layer/merged")
  inside "$layer/merged" "$@"
}

inside() {
  local dir=$1
  shift
  unmount_all() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
      umount -l "${mounted[$i]}" 2>/dev/null || true
    done
  }
  trap unmount_all EXIT
  mount -t proc proc "$dir/proc" && mounted+=("$dir/proc")
  # /dev with its submounts: /dev/shm (dynamic shared memory) and /dev/pts.
  mount --rbind /dev "$dir/dev" && mounted+=("$dir/dev")
  mount --make-rslave "$dir/dev"
  local status=0
  chroot "$dir" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    "$@" || status=$?
  exit "$status"
}

case "${1:-}" in
  create)
    [ $# = 2 ] || usage
    create "$2"
    ;;
  run)
    [ $# -ge 3 ] || usage
    shift
    run "$@"
    ;;
  copy)
    [ $# = 2 ] || usage
    copy "$2"
    ;;
  workdir)
    [ $# = 2 ] || usage
    suite_for "$2" >/dev/null
    echo "$(layer_dir "$2")/upper/work/pg_viewmgr"
    ;;
  path)
    [ $# = 2 ] || usage
    suite_for "$2" >/dev/null
    echo "$BASE/$2"
    ;;
  remove)
    [ $# = 2 ] || usage
    suite_for "$2" >/dev/null
    need_root
    rm -rf "${BASE:?}/$2" "$LAYERS"/*-"$2"
    ;;
  enter)
    [ $# -ge 3 ] || usage
    need_root
    [ -d "$2/usr" ] || {
      echo "$0: $2 is not a chroot" >&2
      exit 2
    }
    shift
    exec unshare --mount --propagation private "$0" __inside "$@"
    ;;
  suite)
    [ $# = 2 ] || usage
    suite_for "$2"
    ;;
  mirror) mirror ;;
  __inside)
    shift
    inside "$@"
    ;;
  __layered)
    shift
    layered "$@"
    ;;
  *) usage ;;
esac
