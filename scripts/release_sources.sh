#!/usr/bin/env bash
# The released versions of pg_viewmgr and their sources, for the in-place upgrade test
# (test/shell/upgrade.sh), which builds each old release's library to install it and then
# updates from it.
#
#   scripts/release_sources.sh list               one line per release, oldest first:
#                                                 VERSION COMMIT PG_MAJOR...
#   scripts/release_sources.sh export DIR         a tarball of each release's sources into DIR
#                                                 (pg_viewmgr-VERSION-COMMIT.tar), from git
#   scripts/release_sources.sh extract VERSION DEST
#                                                 the sources of VERSION into DEST: from git when
#                                                 this checkout has its history, else from the
#                                                 tarball export left (a copy without .git, such
#                                                 as the one in a PostgreSQL chroot)
#
# Environment:
#   VIEWMGR_RELEASE_SOURCES  where export put (or someone else prepared) the tarballs; default
#                            build/release-sources of this checkout. scripts/pg_chroot.sh copy
#                            exports them there before a chroot run, because the chroot's copy
#                            of the checkout has no .git.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SOURCES=${VIEWMGR_RELEASE_SOURCES:-$ROOT/build/release-sources}

# A release is the last commit whose pg_viewmgr.control has its default_version
# (git log -- pg_viewmgr.control). The PostgreSQL versions are those its sources build on:
# 0.1.0 only ever built on 15 (on 17 and 18 it stops at parser/gramparse.h,
# pg_class_ownercheck and pg_namespace_aclcheck, and 18 hits its #error in compat.hpp);
# 0.2.0 already carried the compat layer for 17 and 18.
releases() {
  cat <<'LIST'
0.1.0 a6d1e573563a903bf71ede2f81f1e8afaee67051 15
0.2.0 b48e15dd39f94288606ffbbb6de6e2c5bc3198a0 15 17 18
LIST
}

usage() {
  echo "usage: $0 list | export DIR | extract VERSION DEST" >&2
  exit 2
}

commit_of() {
  releases | awk -v v="$1" '$1 == v { print $2; found = 1 } END { exit !found }' || {
    echo "$0: $1 is not a release (see $0 list)" >&2
    exit 2
  }
}

has_history() {
  git -C "$ROOT" rev-parse --verify -q "$1^{commit}" >/dev/null 2>&1
}

case "${1:-}" in
  list)
    [ $# = 1 ] || usage
    releases
    ;;
  export)
    [ $# = 2 ] || usage
    mkdir -p "$2"
    releases | while read -r version commit _; do
      tarball=$2/pg_viewmgr-$version-$commit.tar
      # A commit's tree never changes: a tarball already there is the right one.
      [ -s "$tarball" ] && continue
      if ! has_history "$commit"; then
        echo "$0: $version's commit $commit is not in this clone's history" >&2
        exit 1
      fi
      git -C "$ROOT" archive --format=tar -o "$tarball.tmp" "$commit"
      mv "$tarball.tmp" "$tarball"
    done
    ;;
  extract)
    [ $# = 3 ] || usage
    commit=$(commit_of "$2")
    mkdir -p "$3"
    if has_history "$commit"; then
      git -C "$ROOT" archive --format=tar "$commit" | tar -xf - -C "$3"
    elif [ -s "$SOURCES/pg_viewmgr-$2-$commit.tar" ]; then
      tar -xf "$SOURCES/pg_viewmgr-$2-$commit.tar" -C "$3"
    else
      echo "$0: no sources of $2: commit $commit is not in this clone's history and" \
        "$SOURCES/pg_viewmgr-$2-$commit.tar does not exist (scripts/release_sources.sh export" \
        "makes it where the history is)" >&2
      exit 1
    fi
    ;;
  *) usage ;;
esac
