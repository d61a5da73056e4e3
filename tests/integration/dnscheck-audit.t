#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-dnscheck with only --ns: audit resolvers (real dnsmasq, one silent server).
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 14

run_tool acme-dnscheck --json --timeout 1 --ns 192.0.2.10 --ns 192.0.2.11 --ns 192.0.2.99
check "audit: exit 1 (a resolver fails)" rc_is 1
check "audit: plain dnsmasq reachable" finding dns.resolver.reachable 192.0.2.10 ok
check "audit: plain dnsmasq recursive" finding dns.resolver.recursive 192.0.2.10 ok
check "audit: plain dnsmasq passes SOA" finding dns.resolver.soa-filtered 192.0.2.10 ok
check "audit: TCP works" finding dns.resolver.tcp 192.0.2.10 ok
check "audit: EDNS works" finding dns.resolver.edns 192.0.2.10 ok
check "audit: fingerprint" jq_true '[.checks[] | select(.id=="dns.resolver.fingerprint" and .target=="192.0.2.10")][0].evidence.version_bind | test("dnsmasq")'
check "audit: filterwin2k flagged" finding dns.resolver.soa-filtered 192.0.2.11 fail
check "audit: silent server unreachable" finding dns.resolver.reachable 192.0.2.99 fail
check "audit: the rest skipped for it" finding dns.resolver.tcp 192.0.2.99 skip
check "audit: target is the first server" jq_true '.target == "192.0.2.10"'

run_tool acme-dnscheck --ns 192.0.2.10
check "audit healthy resolver: exit 0" rc_is 0

run_tool acme-dnscheck --json --ns 192.0.2.53
check "audit: an authoritative-only server is not a resolver" finding dns.resolver.recursive 192.0.2.53 fail

run_tool acme-dnscheck -q --ns 192.0.2.11
check "audit -q: ok lines hidden" out_lacks "ok    "
done_testing
