#!/usr/bin/env bash
# Installs what building and testing pg_viewmgr against PostgreSQL N needs, from this
# machine's apt sources:  scripts/install_deps.sh [N]   (default 15, Debian 12's version).
# Does nothing when every package is already there, so every entry point can call it.
# PostgreSQL versions this machine's Debian does not ship are tested in chroots instead
# (scripts/pg_chroot.sh, which installs mmdebstrap itself).
set -euo pipefail

N=${1:-15}
case "$N" in
  [0-9][0-9]) ;;
  *)
    echo "usage: $0 [N]" >&2
    exit 2
    ;;
esac

# dblink, which the isolation specs use, is part of postgresql-N itself (Debian has shipped
# the contrib modules in the server package since PostgreSQL 10).
PACKAGES=(
  build-essential g++ make cmake pkg-config libgtest-dev
  "postgresql-$N" "postgresql-client-$N" "postgresql-server-dev-$N"
  "postgresql-$N-pgtap" libtap-parser-sourcehandler-pgtap-perl
  "postgresql-$N-cron" libipc-run-perl
  # the Django client (clients/django) and its suite
  python3-django python3-psycopg2
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
  </dev/null >/dev/null
