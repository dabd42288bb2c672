#!/usr/bin/env bash
# Installs the Debian packages the tests need (prometheus with promtool, kcat) when
# they are missing. Needs root for apt-get; otherwise says what to install.
set -euo pipefail
missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
[ ${#missing[@]} -eq 0 ] && exit 0
packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need the Debian packages: $packages" >&2
  echo "Install them as root: apt-get install -y $packages" >&2
  exit 1
fi
echo "Installing Debian packages: $packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps the Prometheus install small; no service is started here.
apt-get install -y -qq --no-install-recommends $packages >/dev/null
