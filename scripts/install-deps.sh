#!/usr/bin/env bash
# Installs the Debian packages and npm modules the tests need, only when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package providing it
declare -A NEED=(
  [tshark]=tshark [nfcapd]=nfdump [nfdump]=nfdump [nfacctd]=pmacct [pmacctd]=pmacct
  [ipfixDump]=libfixbuf-tools [conntrack]=conntrack [nft]=nftables [ip]=iproute2
  [ping]=iputils-ping [socat]=socat [curl]=curl [tcpdump]=tcpdump [openssl]=openssl
  [clickhouse-server]=clickhouse-server
)
missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages ($pkgs) and not root; install them first" >&2
    exit 1
  fi
  echo "install-deps: installing $pkgs"
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund
fi
