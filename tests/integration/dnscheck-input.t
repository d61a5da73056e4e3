#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-dnscheck: bad arguments (exit 2) and hostile DNS replies (a finding,
# never a crash or a hang). The junk responders are tests/lab/dnsjunk.c, a
# deliberate stand-in: no real DNS server emits malformed replies.
. "$(dirname "$0")/../lib/tap.sh"
if [ -n "${LAB_STATE:-}" ]; then plan 30; else plan 24; fi

usage() { # usage "desc" "stderr text" ARGS...
	local desc=$1 text=$2; shift 2
	run_tool acme-dnscheck "$@"
	check "usage: $desc: exit 2" rc_is 2
	check "usage: $desc: says why" err_has "$text"
}
usage "bad port" "port out of range" --ns 192.0.2.10:99999 example.test
usage "bad domain" "empty label" 'a..example'
usage "no domain, no --ns" "give a DOMAIN" 
usage "unknown option" "unknown option" --frobnicate example.test
usage "missing argument" "needs an argument" example.test --ns
usage "timeout range" "out of range" --timeout 0 example.test
usage "wait range" "out of range" --wait=-1 example.test
usage "-4 with -6" "exclude each other" -4 -6 example.test
usage "--expect without domain" "need a DOMAIN" --ns 192.0.2.10 --expect x
usage "IPv4 server with -6" "excluded by -6" -6 --ns 192.0.2.10 example.test
usage "--interval without waiting" "only makes sense with --wait" --wait 0 --interval 2 example.test

run_tool acme-dnscheck --version
check "--version: exit 0" rc_is 0
check "--version: names the tool" out_has "acme-dnscheck (acme-diag)"

[ -n "${LAB_STATE:-}" ] || done_testing
for junk in 192.0.2.98 192.0.2.97 192.0.2.96; do
	run_tool acme-dnscheck --json --timeout 1 --ns $junk healthy.test
	check "junk $junk: a verdict, not a crash" bash -c "[ $RC -eq 1 ] || [ $RC -eq 3 ]"
	check "junk $junk: valid JSON with findings" jq_true '.checks | length > 0'
done
done_testing
