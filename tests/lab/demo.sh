#!/usr/bin/env bash
# make demo: start the lab (real nsd and dnsmasq in a private network
# namespace) and diagnose a few real situations with acme-dnscheck.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
BIN=$top/${1:-build}/bin
state=$(mktemp -d /tmp/acmediag-demo.XXXXXX)
trap 'tests/lab/lab.sh down "$state" >/dev/null 2>&1 || true' EXIT
echo "Starting the lab (nsd x3, dnsmasq x3, documentation addresses, private namespace)..."
tests/lab/lab.sh up "$state" >/dev/null
bold=""; plain=""
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m'; plain=$'\033[0m'; fi
show() {
	printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"
	tests/lab/lab.sh run "$state" "$BIN/$1" "${@:2}" || printf '(exit status %d)\n' $?
}
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
