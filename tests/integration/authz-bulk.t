#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-authz on big orders made by a real client: lego asks Pebble for 100
# names at once (and waits in a DNS-01 hook that sleeps, so every
# authorization stays pending). All 100 authorizations are fetched, and
# their findings come in the order the order lists them, although the
# answers arrive in any order. Four such orders (404 resources) go over
# the bound of 300: the cut is reported, and falls on the last ones in
# that order. Then an order (served by nginx) that names authorizations on
# other origins: they are not followed.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 23

dir=https://192.0.2.90:14000/dir
ca=$LAB_STATE/pebble/ca.pem
plog=$LAB_STATE/pebble.out
lego=$T_TMP/lego
lab() { "$LAB_SH" run "$LAB_STATE" "$@"; }
Z() { run_tool acme-authz --json --ca-bundle "$ca" --directory "$dir" --from lego "$lego" "$@"; }
printf '#!/bin/sh\nsleep 60\n' >"$T_TMP/hang.sh"
chmod +x "$T_TMP/hang.sh"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T_TMP"; }
trap cleanup EXIT

# new_orders N: the ids of the orders Pebble added after line N of its log (orders_now)
new_orders() { tail -n +"$(($1 + 1))" "$plog" | sed -n 's/.*Added order "\([^"]*\)".*/\1/p'; }
orders_now() { wc -l <"$plog"; }
# order PREFIX: lego asks for PREFIX1.web.test ... PREFIX100.web.test, in the background
order() {
	local d=() i
	for i in $(seq 1 100); do d+=(--domains "$1$i.web.test"); done
	# not through a shell function: $! must be the process that becomes timeout(1)
	"$LAB_SH" run "$LAB_STATE" env LEGO_CA_CERTIFICATES="$ca" EXEC_PATH="$T_TMP/hang.sh" timeout 90 lego --server "$dir" \
		--path "$lego" --email admin@acme-diag.net --accept-tos "${d[@]}" --dns exec run \
		>"$T_TMP/lego-$1.log" 2>&1 &
	pids+=($!)
}
# wait_orders N COUNT: until COUNT orders were added after line N (at most 30 s)
wait_orders() {
	for _ in $(seq 1 300); do
		[ "$(new_orders "$1" | wc -l)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# One order of 100 names (lego registers the account first).
base=$(orders_now)
order a
check "Pebble took an order of 100 names from lego" wait_orders "$base" 1
o1=https://192.0.2.90:14000/my-order/$(new_orders "$base" | head -n1)
Z "$o1"
check "100: exit 0 (every authorization pending)" rc_is 0
check "100: the order lists 100 authorizations" jq_true '[.checks[] | select(.id=="acme.order.status")][0].evidence.authorizations | length == 100'
check "100: all 100 acme.authz.status findings" jq_true '[.checks[] | select(.id=="acme.authz.status")] | length == 100'
check "100: in the order's order" jq_true '[.checks[] | select(.id=="acme.authz.status") | .target] == [.checks[] | select(.id=="acme.order.status")][0].evidence.authorizations'
check "100: the names lego asked for" jq_true '[.checks[] | select(.id=="acme.authz.status") | .evidence.identifier] | sort == ([range(1;101)] | map("a\(.).web.test") | sort)'
check "100: each authorization followed by its challenges" jq_true '[.checks[] | select(.id=="acme.authz.status" or .id=="acme.challenge") | .id] == ([range(100)] | map(["acme.authz.status","acme.challenge","acme.challenge","acme.challenge"]) | flatten)'
check "100: no acme.authz.limit" jq_true '[.checks[] | select(.id=="acme.authz.limit")] | length == 0'
run_tool acme-authz --ca-bundle "$ca" --directory "$dir" --from lego "$lego" "$o1"
check "100: text output has 100 authorization lines" test "$(grep -c 'acme.authz.status' "$T_TMP/out")" -eq 100

# Three more orders at once: 4 orders and 400 authorizations is 404 resources.
base=$(orders_now)
order b
order c
order d
check "Pebble took three more orders" wait_orders "$base" 3
mapfile -t more < <(new_orders "$base" | head -n3 | sed 's|^|https://192.0.2.90:14000/my-order/|')
Z "$o1" "${more[@]}"
check "404: the bound is reported" jq_true '[.checks[] | select(.id=="acme.authz.limit")] | length == 1 and .[0].status == "warn" and .[0].evidence.fetched == 300 and .[0].evidence.total == 404'
check "404: says how many of how many" jq_true '[.checks[] | select(.id=="acme.authz.limit")][0].summary | test("fetched 300 of 404")'
check "404: 4 orders and 296 authorizations reported" jq_true '([.checks[] | select(.id=="acme.order.status")] | length == 4) and ([.checks[] | select(.id=="acme.authz.status")] | length == 296)'
check "404: the cut falls on the last ones, in the orders' order" jq_true '[.checks[] | select(.id=="acme.authz.status") | .target] == ([.checks[] | select(.id=="acme.order.status") | .evidence.authorizations] | flatten | .[0:296])'
check "404: exit 0 (a warning)" rc_is 0
run_tool acme-authz --strict --json --ca-bundle "$ca" --directory "$dir" --from lego "$lego" "$o1" "${more[@]}"
check "404: --strict makes the cut fail the run" rc_is 1
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
wait 2>/dev/null

# The nonce pool: every answer's Replay-Nonce is used again, so 101 signed
# requests (the order, 100 authorizations) need a newNonce request only for
# the first ones in flight at once (16).
heads=$(grep -c 'HEAD /nonce-plz' "$plog")
posts=$(grep -c 'POST /authZ/' "$plog")
Z "$o1"
check "pool: 100 authorizations fetched with POST-as-GET" test "$(($(grep -c 'POST /authZ/' "$plog") - posts))" -eq 100
check "pool: at most 17 newNonce requests for 101 POSTs" test "$(($(grep -c 'HEAD /nonce-plz' "$plog") - heads))" -le 17

# An order that names authorizations on other origins (a private CA behind a
# proxy that advertises the wrong URL): served by the lab's nginx.
www=$LAB_STATE/www/xo
mkdir -p "$www"
cat >"$www/authz.json" <<'JSON'
{"identifier":{"type":"dns","value":"same.web.test"},"status":"valid","expires":"2099-01-01T00:00:00Z",
 "challenges":[{"type":"http-01","status":"valid","url":"http://192.0.2.80/xo/chall.json","token":"t"}]}
JSON
cat >"$www/order.json" <<'JSON'
{"status":"pending","expires":"2099-01-01T00:00:00Z","finalize":"http://192.0.2.80/xo/finalize",
 "identifiers":[{"type":"dns","value":"same.web.test"},{"type":"dns","value":"other.web.test"},{"type":"dns","value":"port.web.test"}],
 "authorizations":["http://192.0.2.80/xo/authz.json","https://192.0.2.90:14000/authZ/elsewhere","http://[2001:db8::80]/xo/other.json"]}
JSON
cp "$www/authz.json" "$www/other.json"
run_tool acme-authz --json http://192.0.2.80/xo/order.json
check "other origin: the same-origin authorization is read" jq_true '[.checks[] | select(.id=="acme.authz.status")] | length == 1 and .[0].evidence.identifier == "same.web.test"'
check "other origin: both others not followed, and said so" jq_true '[.checks[] | select(.id=="acme.fetch" and .status=="fail" and (.summary | test("not followed.*another origin")))] | map(.target) == ["https://192.0.2.90:14000/authZ/elsewhere","http://[2001:db8::80]/xo/other.json"]'
check "other origin: the server there was not asked" bash -c "! grep -q /xo/other.json '$LAB_STATE/web/access.log'"
check "other origin: exit 1" rc_is 1
run_tool acme-authz --json --directory "$dir" --ca-bundle "$ca" http://192.0.2.80/xo/order.json
check "the directory's origin is followed (Pebble wants POST-as-GET: 405)" jq_true '[.checks[] | select(.id=="acme.fetch" and .target=="https://192.0.2.90:14000/authZ/elsewhere")][0].summary | test("405")'
done_testing
