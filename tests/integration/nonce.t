#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# badNonce (RFC 8555 6.5) against a real Pebble told to reject nonces
# (PEBBLE_WFE_NONCEREJECT, a percentage of good nonces answered with
# badNonce). At 100 every POST is refused: the client must retry with the
# nonce of each answer, exactly 3 times, count the retries, and then report
# the CA's answer. At 0 (the lab's own Pebble) no retry is made.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 9

ca=$LAB_STATE/pebble/ca.pem
lab() { "$LAB_SH" run "$LAB_STATE" "$@"; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T_TMP/key.pem" 2>/dev/null
chmod 600 "$T_TMP/key.pem"

# A second Pebble on port 14001 (management 15001) with the lab's certificate.
cfg=$T_TMP/pebble.json
jq '.pebble.listenAddress = "192.0.2.90:14001" | .pebble.managementListenAddress = "192.0.2.90:15001"' \
	"$LAB_STATE/pebble/pebble.json" >"$cfg"
log=$T_TMP/pebble.out
# not through a shell function: $! must be the process that becomes timeout(1)
"$LAB_SH" run "$LAB_STATE" env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=100 timeout 120 pebble -config "$cfg" \
	-dnsserver 192.0.2.53:53 >"$log" 2>&1 &
pebble=$!
trap 'kill $pebble 2>/dev/null; wait 2>/dev/null; rm -rf "$T_TMP"' EXIT
# ours, listening (not another one left on the port)
up() { kill -0 "$pebble" 2>/dev/null && grep -q "Listening on: 192.0.2.90:14001" "$log" &&
	lab curl -sf --cacert "$ca" -o /dev/null https://192.0.2.90:14001/dir; }
for _ in $(seq 1 100); do up && break; sleep 0.1; done
check "a Pebble that rejects every nonce is up" up
check "it says so" grep -q "Configured to reject 100% of good nonces" "$log"

dir=https://192.0.2.90:14001/dir
run_tool acme-account --json --directory "$dir" --ca-bundle "$ca" --account-key "$T_TMP/key.pem"
check "the lookup ends with the CA's badNonce" jq_true '[.checks[] | select(.id=="acme.account.lookup")][0] | .status == "fail" and .evidence.problem == "urn:ietf:params:acme:error:badNonce" and (.summary | test("JWS has an invalid anti-replay nonce"))'
check "3 retries counted" jq_true '[.checks[] | select(.id=="acme.account.lookup")][0].evidence.nonce_retries == 3'
check "Pebble got the lookup 4 times (1 + 3 retries), no more" test "$(grep -c 'POST /sign-me-up' "$log")" -eq 4
# Each retry carries the nonce of the answer before it: Pebble names the
# nonce it refused, and hands out a new one with every answer.
check "one newNonce fetch only: the retries use the answers' nonces" \
	test "$(grep -c 'HEAD /nonce-plz\|GET /nonce-plz' "$log")" -eq 1
check "exit 1" rc_is 1

# The lab's Pebble rejects none: no retry.
run_tool acme-account --json --directory https://192.0.2.90:14000/dir --ca-bundle "$ca" --account-key "$T_TMP/key.pem"
check "no rejection: no retry" jq_true '[.checks[] | select(.id=="acme.account.lookup")][0].evidence.nonce_retries == 0'
check "no rejection: the CA's real answer (no account)" jq_true '[.checks[] | select(.id=="acme.account.lookup")][0].evidence.problem == "urn:ietf:params:acme:error:accountDoesNotExist"'
done_testing
