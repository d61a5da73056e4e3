#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-clock against real servers in the lab: Pebble's Date header (a real
# ACME server), nginx's, and chrony as an SNTP server; the local clock moved
# by faketime(1) (a real skewed clock for the process under test).
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 23

dir=https://192.0.2.90:14000/dir
ca=$LAB_STATE/pebble/ca.pem
off() { jq -r --arg t "$1" '[.checks[] | select(.id=="clock.skew" and .target==$t)][0].evidence.offset_ms' "$T_TMP/out"; }
near() { # near ACTUAL EXPECTED TOLERANCE (ms)
	local d=$(( $1 - $2 )); [ "${d#-}" -le "$3" ]
}

run_tool acme-clock --json --directory "$dir" --ca-bundle "$ca" --url http://192.0.2.80/ --ntp 192.0.2.123
check "in sync: exit 0" rc_is 0
check "in sync: pebble within 1.5 s" near "$(off "$dir")" 0 1500
check "in sync: sntp within 100 ms" near "$(off 192.0.2.123)" 0 100
check "in sync: JSON contract" jq_true '.schema=="acme-diag/1" and .tool=="acme-clock" and .verdict=="ok"'

TOOL_WRAP="faketime -f +600s" run_tool acme-clock --json --directory "$dir" --ca-bundle "$ca" --ntp 192.0.2.123
check "+10 min: fail" rc_is 1
check "+10 min: pebble offset within 2 s of the truth" near "$(off "$dir")" 600000 2000
check "+10 min: sntp offset within 1 s of the truth" near "$(off 192.0.2.123)" 600000 1000
check "+10 min: says ahead" jq_true '[.checks[] | select(.id=="clock.skew")][0].summary | test("ahead of")'
check "+10 min: hint names the fix" jq_true '[.checks[] | select(.id=="clock.skew")][0].hint | test("timedatectl|chronyc")'

TOOL_WRAP="faketime -f -600s" run_tool acme-clock --json --directory "$dir" --ca-bundle "$ca"
check "-10 min: fail" rc_is 1
check "-10 min: offset within 2 s of the truth" near "$(off "$dir")" -600000 2000
check "-10 min: the certificate looked not yet valid, and that is explained" \
	jq_true '[.checks[] | select(.id=="clock.skew")][0].evidence.tls_error | test("not yet valid")'

TOOL_WRAP="faketime -f +45s" run_tool acme-clock --json --ntp 192.0.2.123
check "+45 s: a warning under the default thresholds" finding clock.skew 192.0.2.123 warn
TOOL_WRAP="faketime -f +45s" run_tool acme-clock --json --ntp 192.0.2.123 --warn 60 --fail 120
check "+45 s with --warn 60: ok" finding clock.skew 192.0.2.123 ok

run_tool acme-clock --json --timeout 1 --ntp 192.0.2.99 --ntp 192.0.2.123
check "a dead source beside a good one is a warning" finding clock.source 192.0.2.99 warn
run_tool acme-clock --json --timeout 1 --ntp 192.0.2.99
check "no source answered: error, exit 3" rc_is 3
run_tool acme-clock --json --directory https://192.0.2.90:14000/dir
check "untrusted private CA without --ca-bundle: error naming the certificate" \
	jq_true '[.checks[] | select(.id=="clock.source")][0].summary | test("certificate")'

# NTP host names are looked up on the loop, through the resolvers (c-ares).
run_tool acme-clock --json --ntp ntp.lab.test
check "a host name: resolved through the system resolver, measured" \
	jq_true '[.checks[] | select(.id=="clock.skew" and .target=="ntp.lab.test")][0] | .status=="ok" and .evidence.address=="192.0.2.123"'
run_tool acme-clock --json --ntp no-such-host.lab.test --ntp ntp.lab.test
check "a name that does not exist: said so" \
	jq_true '[.checks[] | select(.id=="clock.source" and .target=="no-such-host.lab.test")][0].summary | test("does not exist")'
run_tool acme-clock --json --timeout 1 --ns 192.0.2.99 --ntp ntp.lab.test
check "our resolver does not answer: the lookup failure is ours, exit 3" rc_is 3
check "our resolver does not answer: named" \
	jq_true '[.checks[] | select(.id=="clock.source")][0].summary | test("cannot look up ntp.lab.test: resolver 192.0.2.99")'

run_tool acme-clock --directory ftp://x
check "usage: non-http URL exits 2" rc_is 2
run_tool acme-clock --warn 100 --fail 10 --ntp 192.0.2.123
check "usage: --fail below --warn exits 2" rc_is 2
done_testing
