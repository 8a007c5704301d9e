#!/usr/bin/env bash
# Installs the Debian packages uinet needs, only those that are missing.
# Usage: scripts/install-deps.sh [build|test|fuzz]...
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

build_pkgs=(g++ cmake ninja-build ccache pkg-config libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libpcap-dev libssl-dev)
test_pkgs=(iproute2 iputils-ping socat tcpdump ethtool python3 curl nginx-light gnuplot-nox)
fuzz_pkgs=(clang libclang-rt-14-dev)

want=()
for set in "${@:-build}"; do
  case "$set" in
    build) want+=("${build_pkgs[@]}") ;;
    test) want+=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
    fuzz) want+=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
    *) echo "install-deps: unknown set '$set'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
apt-get update -q >/dev/null || true
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
