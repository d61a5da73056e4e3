#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Install the Debian packages acme-diag needs to build and test, when missing.
# Usage: scripts/install-deps.sh [build|test|all]   (default all)
set -euo pipefail
what=${1:-all}
build_pkgs=(gcc libc6-dev make pkg-config libc-ares-dev libldns-dev libcurl4-openssl-dev libssl-dev
            libjansson-dev libcmocka-dev libncurses-dev libpsl-dev publicsuffix)
test_pkgs=(nsd unbound dnsmasq-base time libxml2-utils python3 coreutils nginx-light libnginx-mod-stream pebble lego certbot chrony faketime curl openssl iproute2 bind9-dnsutils jq perl procps groff-base clang libclang-rt-14-dev
           prometheus python3-prometheus-client
           dpkg-dev debhelper lintian mmdebstrap tmux)
pkgs=()
case "$what" in
  build) pkgs=("${build_pkgs[@]}") ;;
  test) pkgs=("${test_pkgs[@]}") ;;
  all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "install-deps.sh: unknown set '$what' (build, test or all)" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Packages that start a system service on install: the lab runs its own
# instances in a namespace, so stop the system ones (they may not run at all).
for svc in chrony nsd nginx unbound prometheus; do
  case " ${missing[*]} " in *" $svc "*|*" $svc-light "*)
    if command -v systemctl >/dev/null && systemctl is-active -q "$svc" 2>/dev/null; then
      systemctl stop "$svc" || true
    fi ;;
  esac
done
