#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make demo: start the lab (real nsd and dnsmasq in a private network
# namespace) and diagnose a few real situations with acme-dnscheck.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
BIN=$top/${1:-build}/bin
state=$(mktemp -d /tmp/acmediag-demo.XXXXXX)
trap 'tests/lab/lab.sh down "$state" >/dev/null 2>&1 || true' EXIT
echo "Starting the lab (nsd, unbound, dnsmasq, nginx, Pebble, chrony; documentation addresses, private namespace)..."
tests/lab/lab.sh up "$state" >/dev/null
bold=""; plain=""
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m'; plain=$'\033[0m'; fi
show() {
	printf '\n%s$ %s%s\n' "$bold" "${*#"$BIN/"}" "$plain"
	local cmd=$1
	case $cmd in acme-*) cmd=$BIN/$cmd ;; esac
	tests/lab/lab.sh run "$state" "$cmd" "${@:2}" || printf '(exit status %d)\n' $?
}
dir=https://192.0.2.90:14000/dir
ca=$state/pebble/ca.pem
echo
echo "acme-doctor first: every check at once, the root causes first."
echo
echo "A. A healthy name, through a home router in front of a real recursive resolver:"
show acme-doctor --directory "$dir" --ca-bundle "$ca" --ca-profile pebble --ns 192.0.2.21 healthy.test
echo
echo "B. The same router with dnsmasq --filterwin2k (cert-manager: \"Could not find the SOA record\"):"
show acme-doctor -q --directory "$dir" --ca-bundle "$ca" --ca-profile pebble --ns 192.0.2.22 healthy.test
echo
echo "C. A nameserver that never answers and a blackholed IPv6 path, in one name (one timeout in all):"
show acme-doctor -q --timeout 2 --directory "$dir" --ca-bundle "$ca" --ca-profile pebble dead.test
echo
echo "Then each tool on its own."
echo
echo "1. A healthy zone, with the value the ACME client published:"
show acme-dnscheck --expect healthy-token-value healthy.test
echo
echo "2. One authoritative server is missing the record (a lagging secondary):"
show acme-dnscheck -q --expect missing-token-value missing.test
echo
echo "3. A home-router resolver running dnsmasq --filterwin2k:"
show acme-dnscheck -q --ns 192.0.2.11 healthy.test
echo
echo "4. A resolver with a local override for the apex (split horizon):"
show acme-dnscheck -q --ns 192.0.2.10 split.test
echo
echo "5. _acme-challenge delegated by CNAME to another zone:"
show acme-dnscheck -q --expect delegated-token-value cname.test
echo
echo "6. Auditing resolvers without a domain:"
show acme-dnscheck --timeout 1 --ns 192.0.2.10 --ns 192.0.2.11 --ns 192.0.2.99
echo
echo "7. HTTP-01 when the AAAA record's path is blackholed (Let's Encrypt falls back to IPv4; Pebble does not):"
show acme-httpcheck -q --timeout 3 v6dead.web.test
show acme-httpcheck -q --timeout 3 --ca-profile pebble v6dead.web.test
echo
echo "8. The local clock ten minutes fast, against Pebble's Date header and an NTP server:"
show faketime -f +600s "$BIN/acme-clock" --directory https://192.0.2.90:14000/dir --ca-bundle "$state/pebble/ca.pem" --ntp 192.0.2.123
