#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-dnscheck against the lab: zone detection, filtering and split-horizon
# resolvers, authoritative servers. Real nsd and dnsmasq (tests/lab).
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 33

# Healthy zone through the plain resolver (the namespace's resolv.conf).
run_tool acme-dnscheck --json --expect healthy-token-value healthy.test
check "healthy: exit 0" rc_is 0
check "healthy: verdict ok" jq_true '.verdict == "ok"'
check "healthy: zone found" finding dns.zone _acme-challenge.healthy.test ok
check "healthy: zone is healthy.test" jq_true '[.checks[] | select(.id=="dns.zone")][0].evidence.zone == "healthy.test"'
check "healthy: SOA walk at the resolver finds it" finding dns.zone.soa 192.0.2.10 ok
check "healthy: ns1 authoritative" finding dns.auth.server 192.0.2.53 ok
check "healthy: ns2 over IPv6 authoritative" finding dns.auth.server 2001:db8::54 ok
check "healthy: serials agree" finding dns.auth.serial healthy.test ok
check "healthy: TXT at every authoritative address" \
	jq_true '[.checks[] | select(.id=="dns01.txt" and .evidence.role=="authoritative" and .status=="ok")] | length == 4'
check "healthy: TXT at the resolver" finding dns01.txt 192.0.2.10 ok
check "healthy: JSON contract" jq_true '.schema == "acme-diag/1" and .tool == "acme-dnscheck" and .target == "healthy.test" and (.started_at|test("Z$")) and (.duration_ms|type=="number")'

# Text output: status first, verdict last.
run_tool acme-dnscheck --expect healthy-token-value healthy.test
check "text: a line per finding, status first" out_has "ok    dns.zone"
check "text: verdict line last" bash -c "tail -n1 '$T_TMP/out' | grep -q '^verdict: ok'"

# One authoritative server lacks the record: exit 1, that server named.
run_tool acme-dnscheck --json --expect missing-token-value missing.test
check "missing: exit 1" rc_is 1
check "missing: ns2 IPv4 named" finding dns01.txt 192.0.2.54 fail
check "missing: ns2 IPv6 named" finding dns01.txt 2001:db8::54 fail
check "missing: ns1 has it" finding dns01.txt 192.0.2.53 ok
check "missing: lagging serial is a warning" finding dns.auth.serial missing.test warn

# dnsmasq --filterwin2k: flagged, and the zone is still found.
run_tool acme-dnscheck --json --ns 192.0.2.11 healthy.test
check "filterwin2k: exit 1" rc_is 1
check "filterwin2k: resolver flagged" finding dns.resolver.soa-filtered 192.0.2.11 fail
check "filterwin2k: fingerprint names dnsmasq" \
	jq_true '[.checks[] | select(.id=="dns.resolver.soa-filtered")][0].evidence.fingerprint | test("dnsmasq")'
check "filterwin2k: hint names the client setting" \
	jq_true '[.checks[] | select(.id=="dns.resolver.soa-filtered")][0].hint | test("--dns01-recursive-nameservers")'
check "filterwin2k: walk fails as cert-manager's would" finding dns.zone.soa 192.0.2.11 fail
check "filterwin2k: real zone still found" \
	jq_true '[.checks[] | select(.id=="dns.zone")][0] | .status=="ok" and .evidence.zone=="healthy.test"'

# Split horizon: a local override answers NODATA at the apex; the walk climbs to test.
run_tool acme-dnscheck --json --ns 192.0.2.10 split.test
check "split: exit 1" rc_is 1
check "split: climb flagged" finding dns.zone.split-horizon 192.0.2.10 fail
check "split: walk stops at the TLD" \
	jq_true '[.checks[] | select(.id=="dns.zone.split-horizon")][0].evidence | .walk_zone=="test" and .real_zone=="split.test"'
check "split: real zone found by delegation" \
	jq_true '[.checks[] | select(.id=="dns.zone")][0].evidence | .zone=="split.test" and .found_by=="delegation"'

# Lame delegation: ns3 is listed but does not serve lame.test.
run_tool acme-dnscheck --json lame.test
check "lame: exit 1" rc_is 1
check "lame: ns3 reported lame" finding dns.auth.server 192.0.2.55 fail

# Wildcards map to the base name; -6 keeps to IPv6 authoritative addresses.
run_tool acme-dnscheck --json -6 --ns 2001:db8::10 '*.healthy.test'
check "wildcard -6: exit 0" rc_is 0
check "wildcard -6: challenge name of the base" finding dns.zone _acme-challenge.healthy.test ok
check "wildcard -6: no IPv4 authoritative address queried" \
	jq_true '[.checks[] | select(.id=="dns.auth.server" and (.target|test("^192\\.")))] | length == 0'
done_testing
