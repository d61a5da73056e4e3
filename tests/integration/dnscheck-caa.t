#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-dnscheck: CAA as Boulder evaluates it, against real zones.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 9

run_tool acme-dnscheck --json caa.test
check "caa forbids letsencrypt.org: exit 1" rc_is 1
check "caa: finding at the owner" finding dns.caa caa.test fail
check "caa: worded like the CA" jq_true '[.checks[] | select(.id=="dns.caa")][0].detail | test("CAA record for caa.test prevents issuance")'

run_tool acme-dnscheck --json www.caa.test
check "caa: inherited by names below (climb)" finding dns.caa caa.test fail

run_tool acme-dnscheck --json --ca-domain ca.example.net www.caa.test
check "caa: the named CA is allowed" finding dns.caa caa.test ok

run_tool acme-dnscheck --json --expect healthy-token-value healthy.test
check "caa: healthy.test permits letsencrypt.org" finding dns.caa healthy.test ok

run_tool acme-dnscheck --json --ca-domain ca.example.net --expect healthy-token-value healthy.test
check "caa: healthy.test forbids another CA" finding dns.caa healthy.test fail
check "caa: exit 1" rc_is 1

run_tool acme-dnscheck --json --expect delegated-token-value cname.test
check "caa: no records anywhere is ok" jq_true '[.checks[] | select(.id=="dns.caa")][0].status == "ok"'
done_testing
