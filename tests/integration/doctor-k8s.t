#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-doctor --from-kubectl: cert-manager objects as input. The List in
# tests/integration/data/cert-manager-list.json is written by hand from
# cert-manager's API types (cert-manager.io/v1, acme.cert-manager.io/v1; no
# cluster runs here); its server, account and authorization are filled in
# from a real lego account at the lab's Pebble and a real pending
# authorization (lego waits in its DNS-01 hook). The Challenge is for
# missing.test, whose TXT is missing on the lagging secondary ns2.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 22

dir=https://192.0.2.90:14000/dir
ca=$LAB_STATE/pebble/ca.pem
lab() { "$LAB_SH" run "$LAB_STATE" "$@"; }
lego=$T_TMP/lego
printf '#!/bin/sh\nsleep 60\n' >"$T_TMP/hang.sh"
chmod +x "$T_TMP/hang.sh"
lab env LEGO_CA_CERTIFICATES="$ca" EXEC_PATH="$T_TMP/hang.sh" timeout 60 lego --server "$dir" --path "$lego" \
	--email admin@acme-diag.net --accept-tos --domains missing.test --dns exec run >"$T_TMP/lego.log" 2>&1 &
legopid=$!
for _ in $(seq 1 100); do grep -q 'AuthURL' "$T_TMP/lego.log" && break; sleep 0.1; done
au=$(grep -o 'AuthURL: [^ ]*' "$T_TMP/lego.log" | head -n1 | cut -d' ' -f2)
check "lego left a pending authorization" test -n "$au"
key=$(ls "$lego"/accounts/*/*/keys/*.key)
kid=$(jq -r .registration.uri "$lego"/accounts/*/*/account.json)
sed -e "s|@DIRECTORY@|$dir|; s|@DIRECTORY_BASE@|https://192.0.2.90:14000|g; s|@KID@|$kid|; s|@AUTHZ@|$au|" \
	-e "s|@KEY_B64@|$(base64 -w0 <"$key")|" "$TOP/tests/integration/data/cert-manager-list.json" >"$T_TMP/list.json"
K() { run_tool acme-doctor --timeout 2 --ca-bundle "$ca" --ca-profile pebble --from-kubectl "$T_TMP/list.json" "$@"; }

K --json
ch='shop/shop-tls-1-1234567890-4242'
check "exit 1: the secondary lacks the TXT" rc_is 1
check "the server that lacks it named, with the Challenge" \
	jq_true "[.checks[] | select(.id == \"dns01.txt\" and .target == \"192.0.2.54\" and .status == \"fail\" and .object == \"$ch\")] | length == 1"
check "the Challenge's value is what is expected (its spec.key)" \
	jq_true '[.checks[] | select(.id == "dns01.txt" and .target == "192.0.2.53")][0].summary | test("missing-token-value.*expected value present")'
check "a DNS-01 Challenge: no HTTP-01 for its name" jq_true '[.checks[] | select(.domain == "missing.test" and (.id | startswith("http01.")))] | length == 0'
check "missing.test checked once (Challenge, Order and Certificate name it)" jq_true '[.checks[] | select(.id == "dns.zone" and .domain == "missing.test" and .target == "_acme-challenge.missing.test")] | length == 1'
check "the Certificate's other name checked as well (auto: HTTP-01 too)" jq_true '[.checks[] | select(.domain == "healthy.test" and .id == "http01.ca")] | length == 1'
check "the Issuer's server was used" jq_true "[.checks[] | select(.id == \"acme.directory\")][0].target == \"$dir\""
check "the Issuer's account key (from its Secret) and URL: the account checks ran" \
	jq_true "[.checks[] | select(.id == \"acme.account.status\")][0] | .status == \"ok\" and .target == \"$kid\""
check "the Challenge's authorization fetched with that account: pending" \
	jq_true "[.checks[] | select(.id == \"acme.authz.status\" and .target == \"$au\")][0].evidence.status == \"pending\""
check "the Certificate's condition explained, with cert-manager's back-off" \
	jq_true '[.checks[] | select(.id == "k8s.certificate")][0] | .status == "fail" and .object == "shop/shop-tls" and (.hint | test("waits 2 h"))'
check "the lagging secondary is the first cause" jq_true '.diagnosis[0].id == "dns.auth.serial"'
check "a Challenge cert-manager cannot have written: reported, skipped" \
	jq_true '[.checks[] | select(.id == "k8s.input" and .object == "shop/broken-challenge")][0].status == "warn"'
check "an item that is not an object: reported, skipped" jq_true '[.checks[] | select(.id == "k8s.input" and (.summary | test("item 7")))] | length == 1'
check "an unknown kind: skipped, said" jq_true '[.checks[] | select(.id == "k8s.input" and .object == "shop/unrelated")][0].status == "skip"'

# The object in the other formats.
K --format tap
check "tap: the object in the description" out_has "(missing.test $ch)"
K --format junit
check "junit: the suite names the object" bash -c "grep -q 'testsuite name=\"missing.test ($ch)\"' '$T_TMP/out'"
K --format jsonl
check "jsonl: the name's document carries the object" bash -c "jq -se --arg o '$ch' '[.[] | select(.target == \"missing.test\")][0].object == \$o' '$T_TMP/out' >/dev/null"

kill "$legopid" 2>/dev/null
pkill -f "lego --server $dir --path $lego" 2>/dev/null
wait "$legopid" 2>/dev/null

# Input that is not kubectl's.
printf '{"kind": "List", "items": [' >"$T_TMP/broken.json"
run_tool acme-doctor --from-kubectl "$T_TMP/broken.json"
check "not JSON: exit 2" rc_is 2
printf '{"items": 3}' >"$T_TMP/odd.json"
run_tool acme-doctor --from-kubectl "$T_TMP/odd.json"
check "JSON that kubectl does not write: exit 2" rc_is 2
# More than the 256 MiB read of a JSON input (spaces, then an object):
# refused with what to do, not read into memory whole.
run_tool acme-doctor --from-kubectl - < <(head -c 270000000 /dev/zero | tr '\0' ' ')
check "a 270 MB input on stdin: exit 2" rc_is 2
check "... saying it is too large and how to ask for less" bash -c "grep -q 'larger than 256 MiB; ask kubectl for less' '$T_TMP/err'"
done_testing
