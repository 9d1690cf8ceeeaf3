#!/usr/bin/env bash
# Installs what building and testing pg_viewmgr needs on Debian 12. Does nothing when every
# package is already there, so every entry point can call it.
set -euo pipefail

PACKAGES=(
  build-essential g++ make cmake pkg-config libgtest-dev
  postgresql-15 postgresql-client-15 postgresql-server-dev-15 postgresql-contrib
  postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
  postgresql-15-cron libipc-run-perl
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
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
