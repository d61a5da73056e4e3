#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# A dead authoritative server costs one timeout for the whole run: dead.test
# and the zone its _acme-challenge CNAME points into (deadalias.test) share
# nsdead.lab.test (192.0.2.99, dnsjunk silent, which logs every datagram it
# reads). It is asked once, in the first zone; in the second the finding says
# it was not asked again.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 9

log=$LAB_STATE/junk-silent.out
before=$(wc -l <"$log")
run_tool acme-dnscheck --json --timeout 1 --expect dead-token-value dead.test
after=$(wc -l <"$log")
check "dead: exit 1 (a nameserver of the zone does not answer)" rc_is 1
check "dead: the dead server fails in dead.test" \
	jq_true '[.checks[] | select(.id=="dns.auth.server" and .target=="192.0.2.99")][0] | .status=="fail" and (.summary|test("timed out"))'
check "dead: in deadalias.test it is not asked again" \
	jq_true '[.checks[] | select(.id=="dns.auth.server" and .target=="192.0.2.99")][1] | .status=="fail" and (.summary|test("not asked again"))'
check "dead: the TXT is found at the live servers through the CNAME" \
	jq_true '[.checks[] | select(.id=="dns01.txt" and .evidence.role=="authoritative" and .status=="ok")] | length == 4'
check "dead: the dead server's TXT is a failure with --expect" finding dns01.txt 192.0.2.99 fail
check "dead: the CNAME is followed into deadalias.test" \
	jq_true '[.checks[] | select(.id=="dns01.cname")][0].summary | test("zone deadalias.test")'
# three questions (the zone's SOA, TXT and SOA of the name), each sent at
# most twice (one retry): the old code asked again in the CNAME's zone
n=$((after - before))
check "dead: at most 6 datagrams reached the dead server (got $n)" test "$n" -ge 1 -a "$n" -le 6

# (How long it takes is measured in make bench, beside the other cases.)

# The same in text, and the dead server is reported, not hidden, with -q.
run_tool acme-dnscheck -q --timeout 1 dead.test
check "dead -q: the dead server shown" out_has "nsdead.lab.test (192.0.2.99) did not answer"
check "dead -q: no ok lines" out_lacks "ok    dns.zone"
done_testing
