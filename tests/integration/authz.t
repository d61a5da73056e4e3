#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-authz against a real Pebble, with states made by real clients: an
# authorization that failed HTTP-01 (lego), one left pending while lego
# waits in a DNS-01 hook, a valid order (certbot's log names it), a
# challenge URL, a URL the CA does not know, and a plain GET (405).
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 20

dir=https://192.0.2.90:14000/dir
ca=$LAB_STATE/pebble/ca.pem
Z() { run_tool acme-authz --json --ca-bundle "$ca" "$@"; }
lab() { "$LAB_SH" run "$LAB_STATE" "$@"; }
lego=$T_TMP/lego
authurl() { grep -o 'AuthURL: [^ ]*' "$1" | head -n1 | cut -d' ' -f2; }

# A failed HTTP-01 (IPv6 serves 404): lego then deactivates the authorization.
lab env LEGO_CA_CERTIFICATES="$ca" lego --server "$dir" --path "$lego" --email admin@acme-diag.net \
	--accept-tos --domains v6404.web.test --http --http.webroot "$LAB_STATE/www" run >"$T_TMP/fail.log" 2>&1
au=$(authurl "$T_TMP/fail.log")
check "lego logged the authorization URL" test -n "$au"
Z --directory "$dir" --from lego "$lego" "$au"
check "failed: authorization no longer usable" jq_true '[.checks[] | select(.id=="acme.authz.status")][0] | .status=="fail" and .evidence.identifier=="v6404.web.test"'
check "failed: the challenge error in the CA's words" jq_true '[.checks[] | select(.id=="acme.challenge" and .evidence.status=="invalid")][0].summary | test("unauthorized: Non-200 status code from HTTP: .* returned 404")'
check "failed: hint says what to check" jq_true '[.checks[] | select(.id=="acme.challenge" and .evidence.status=="invalid")][0].hint | test("acme-httpcheck")'
check "failed: 'authorization must be pending' explained" jq_true '[.checks[] | select(.id=="acme.authz.status")][0].hint | test("authorization must be pending")'
check "failed: exit 1" rc_is 1

# Pending: lego waits in its DNS-01 hook while we look.
printf '#!/bin/sh\nsleep 30\n' >"$T_TMP/hang.sh"
chmod +x "$T_TMP/hang.sh"
lab env LEGO_CA_CERTIFICATES="$ca" EXEC_PATH="$T_TMP/hang.sh" lego --server "$dir" --path "$lego" \
	--email admin@acme-diag.net --accept-tos --domains pend.web.test --dns exec run >"$T_TMP/pend.log" 2>&1 &
legopid=$!
for _ in $(seq 1 100); do [ -n "$(authurl "$T_TMP/pend.log")" ] && break; sleep 0.1; done
ap=$(authurl "$T_TMP/pend.log")
Z --directory "$dir" --from lego "$lego" "$ap"
check "pending: ok, waiting for the client" jq_true '[.checks[] | select(.id=="acme.authz.status")][0] | .status=="ok" and .evidence.status=="pending" and .evidence.expires_in_s > 0'
check "pending: every challenge listed" jq_true '[.checks[] | select(.id=="acme.challenge")] | length == 3'
check "pending: exit 0" rc_is 0
kill $legopid 2>/dev/null; wait $legopid 2>/dev/null

# A valid order, found in certbot's debug log; it expands to its authorization.
cb=$T_TMP/certbot
lab env REQUESTS_CA_BUNDLE="$ca" certbot certonly --webroot -w "$LAB_STATE/www" -d ok.web.test \
	--server "$dir" --config-dir "$cb/etc" --work-dir "$cb/work" --logs-dir "$cb/logs" \
	-m admin@acme-diag.net --agree-tos --no-eff-email --non-interactive >"$T_TMP/certbot.out" 2>&1
order=$(grep -o 'https://192.0.2.90:14000/my-order/[A-Za-z0-9_-]*' "$cb/logs/letsencrypt.log" | head -n1)
chal=$(grep -o 'https://192.0.2.90:14000/chalZ/[A-Za-z0-9_-]*' "$cb/logs/letsencrypt.log" | head -n1)
check "certbot logged the order URL" test -n "$order"
Z --directory "$dir" --from certbot "$cb/etc" "$order"
check "order: valid" jq_true '[.checks[] | select(.id=="acme.order.status")][0] | .status=="ok" and .evidence.status=="valid"'
check "order: expanded to its authorization" jq_true '[.checks[] | select(.id=="acme.authz.status")][0] | .evidence.identifier=="ok.web.test" and .evidence.status=="valid"'
check "order: exit 0" rc_is 0
Z --directory "$dir" --from certbot "$cb/etc" "$chal"
check "challenge URL: its state shown (Pebble sends no Link up to the authorization)" \
	jq_true '[.checks[] | select(.id=="acme.challenge")] | length == 1 and (.[0].evidence.status | test("valid|pending"))'

# What the CA does not know, and a plain GET to Pebble.
Z --directory "$dir" --from certbot "$cb/etc" https://192.0.2.90:14000/authZ/no-such-authorization
check "unknown URL: 404 reported as a failure" jq_true '[.checks[] | select(.id=="acme.fetch")][0] | .status=="fail" and (.hint | test("new order"))'
Z "$order"
check "plain GET to Pebble: 405 explained" jq_true '[.checks[] | select(.id=="acme.fetch")][0].hint | test("POST-as-GET")'
check "plain GET to Pebble: exit 3" rc_is 3

# Usage.
run_tool acme-authz
check "usage: no URL exits 2" rc_is 2
run_tool acme-authz --account-key "$T_TMP/hang.sh" "$order"
check "usage: a key that is not a key exits 2" rc_is 2
run_tool acme-authz --ca-bundle "$ca" ftp://x
check "usage: not a URL exits 2" rc_is 2
done_testing
