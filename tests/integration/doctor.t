#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-doctor in the lab: every broken set-up diagnosed with the same finding
# the single tool gives, and the right root cause first. Real servers: nsd,
# unbound with dnsmasq routers in front (one with --filterwin2k), nginx on a
# blackholed IPv6 path, Pebble with accounts and authorizations made by
# certbot and lego, faketime for a clock ten minutes off.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 79

dir=https://192.0.2.90:14000/dir
ca=$LAB_STATE/pebble/ca.pem
lab() { "$LAB_SH" run "$LAB_STATE" "$@"; }
D() { run_tool acme-doctor --json --timeout 2 --directory "$dir" --ca-bundle "$ca" --ca-profile pebble "$@"; }
# first_cause ID TARGET: the diagnosis starts with that cause
first_cause() { jq_true "(.diagnosis[0].id == \"$1\") and (.diagnosis[0].target == \"$2\")"; }
# explains ID TARGET EXPLAINED_ID EXPLAINED_TARGET
explains() {
	jq -e --arg i "$1" --arg t "$2" --arg ei "$3" --arg et "$4" \
		'[.diagnosis[] | select(.id == $i and .target == $t) | .explains[] | select(.id == $ei and .target == $et)] | length > 0' \
		"$T_TMP/out" >/dev/null
}
# same_as_tool ID TARGET STATUS: the finding was in the single tool's output
# (saved as $T_TMP/tool.json) and is in acme-doctor's
same_as_tool() {
	jq -e --arg i "$1" --arg t "$2" --arg s "$3" \
		'[.checks[] | select(.id == $i and .target == $t and .status == $s)] | length > 0' "$T_TMP/tool.json" >/dev/null &&
		finding "$1" "$2" "$3"
}
keep_tool() { cp "$T_TMP/out" "$T_TMP/tool.json"; }

# A healthy name through a home router in front of a real recursive resolver.
D --ns 192.0.2.21 healthy.test
check "healthy: exit 0" rc_is 0
check "healthy: verdict ok, nothing to fix" jq_true '.verdict == "ok" and (.diagnosis | length) == 0'
check "healthy: the acme-diag/1 document of acme-doctor" jq_true '.schema == "acme-diag/1" and .tool == "acme-doctor" and .target == "healthy.test"'
check "healthy: DNS, HTTP-01, the resolver audit, the directory and the clock all ran" \
	jq_true '[.checks[].id] as $i | all(("dns.zone","dns01.txt","dns.caa","http01.ca","dns.resolver.soa-filtered","acme.directory","clock.skew"); . as $x | $i | index($x))'
check "healthy: findings about the name carry it" jq_true '[.checks[] | select(.id | startswith("dns01.") or startswith("http01."))] | all(.domain == "healthy.test")'
check "healthy: the audit, directory and clock do not" jq_true '[.checks[] | select(.id | startswith("dns.resolver.") or startswith("clock.") or . == "acme.directory")] | all(has("domain") | not)'

# The same in text: the diagnosis first, sections, the verdict last.
run_tool acme-doctor --timeout 2 --directory "$dir" --ca-bundle "$ca" --ca-profile pebble --ns 192.0.2.21 healthy.test
check "text: the diagnosis first" bash -c "head -n1 '$T_TMP/out' | grep -q '^diagnosis: nothing to fix'"
check "text: a section per name and area" out_has "== healthy.test: DNS-01"
check "text: HTTP-01 section" out_has "== healthy.test: HTTP-01"
check "text: the resolvers once" out_has "== resolvers"
check "text: the verdict last" bash -c "tail -n1 '$T_TMP/out' | grep -q '^verdict: ok'"

# A router with --filterwin2k: the client's SOA walk fails; the cause first.
run_tool acme-dnscheck --json --ns 192.0.2.22 healthy.test; keep_tool
D --ns 192.0.2.22 healthy.test
check "filterwin2k: exit 1" rc_is 1
check "filterwin2k: the filtering resolver is the first cause" first_cause dns.resolver.soa-filtered 192.0.2.22
check "filterwin2k: it is the client's step that fails" jq_true '.diagnosis[0].actor == "client"'
check "filterwin2k: it explains the failed SOA walk" explains dns.resolver.soa-filtered 192.0.2.22 dns.zone.soa 192.0.2.22
check "filterwin2k: the same finding as acme-dnscheck" same_as_tool dns.resolver.soa-filtered 192.0.2.22 fail
check "filterwin2k: the hint names the client setting" jq_true '.diagnosis[0].hint | test("dns01-recursive-nameservers")'

# Two names through it: the resolver is audited once, both walks explained.
D --challenge dns-01 --ns 192.0.2.22 healthy.test cname.test
check "two names: the filter reported once" jq_true '[.checks[] | select(.id == "dns.resolver.soa-filtered")] | length == 1'
check "two names: one cause for both names' walks" \
	jq_true '(.diagnosis | length) == 1 and ([.diagnosis[0].explains[] | select(.id == "dns.zone.soa") | .domain] | sort) == ["cname.test","healthy.test"]'
check "two names: both names checked" jq_true '[.checks[] | select(.id == "dns.zone") | .domain] | unique == ["cname.test","healthy.test"]'

# A lagging secondary: the value missing at ns2 follows from its old serial.
run_tool acme-dnscheck --json --expect missing-token-value missing.test; keep_tool
D --challenge dns-01 --expect missing-token-value missing.test
check "lagging: exit 1" rc_is 1
check "lagging: the lagging secondary is the first cause" first_cause dns.auth.serial missing.test
check "lagging: it explains the missing value at ns2" explains dns.auth.serial missing.test dns01.txt 192.0.2.54
check "lagging: the same finding as acme-dnscheck" same_as_tool dns01.txt 192.0.2.54 fail
check "lagging: --challenge dns-01 runs no HTTP-01" jq_true '[.checks[] | select(.id | startswith("http01."))] | length == 0'

# A dead authoritative server and a blackholed AAAA, in one name.
run_tool acme-dnscheck --json --timeout 2 dead.test; keep_tool
log=$LAB_STATE/junk-silent.out
before=$(wc -l <"$log")
D dead.test
after=$(wc -l <"$log")
check "dead: exit 1" rc_is 1
check "dead: the dead nameserver is the first cause" first_cause dns.auth.server 192.0.2.99
check "dead: the same finding as acme-dnscheck" same_as_tool dns.auth.server 192.0.2.99 fail
check "dead: the broken IPv6 path is the second cause" jq_true '.diagnosis[1] | .id == "http01.addr" and .target == "2001:db8:dead::80"'
check "dead: the IPv6 path explains the CA's failure (pebble)" explains http01.addr 2001:db8:dead::80 http01.ca dead.test
n=$((after - before))
check "dead: every probe shares one engine: at most 6 datagrams reached the dead server (got $n)" test "$n" -ge 1 -a "$n" -le 6

# The blackholed AAAA alone: Pebble never falls back.
run_tool acme-httpcheck --json --timeout 2 --ca-profile pebble v6dead.web.test; keep_tool
D v6dead.web.test
check "v6dead: exit 1" rc_is 1
check "v6dead: the IPv6 path first" first_cause http01.addr 2001:db8:dead::80
check "v6dead: the CA's validation fails" jq_true '.diagnosis[0].actor == "ca"'
check "v6dead: the same finding as acme-httpcheck" same_as_tool http01.addr 2001:db8:dead::80 fail
check "v6dead: the CA's view explained, not a cause of its own" jq_true '[.diagnosis[] | select(.id == "http01.ca")] | length == 0'

# The clock ten minutes fast.
TOOL_WRAP="faketime -f +600s" run_tool acme-clock --json --directory "$dir" --ca-bundle "$ca"; keep_tool
TOOL_WRAP="faketime -f +600s" D healthy.test
check "clock: exit 1" rc_is 1
check "clock: the clock is the first cause" first_cause clock.skew "$dir"
check "clock: the same finding as acme-clock" same_as_tool clock.skew "$dir" fail
check "clock: measured once (the directory's Date), not by the account too" jq_true '[.checks[] | select(.id == "clock.skew")] | length == 1'

# A deactivated account (certbot unregister).
cb=$T_TMP/certbot
certbot_do() { lab env REQUESTS_CA_BUNDLE="$ca" certbot "$@" --server "$dir" --config-dir "$cb/etc" \
	--work-dir "$cb/work" --logs-dir "$cb/logs" --non-interactive >>"$T_TMP/certbot.log" 2>&1; }
certbot_do certonly --webroot -w "$LAB_STATE/www" -d ok.web.test -m admin@acme-diag.net --agree-tos --no-eff-email
D --from certbot --store "$cb/etc" healthy.test
check "certbot account: the account checks ran, ok" jq_true '[.checks[] | select(.id == "acme.account.status")][0].status == "ok"'
check "certbot account: the directory said once (by the account checks)" jq_true '[.checks[] | select(.id == "acme.directory")] | length == 1'
D --from certbot --store "$cb/etc" --capture "$cb/logs/letsencrypt.log" healthy.test
check "capture: certbot's requests linted, clean" jq_true '[.checks[] | select(.id == "jws.summary")][0].status == "ok"'
check "capture: in its own section" jq_true '[.checks[] | select(.id | startswith("jws."))] | all(has("domain") | not)'
adir=$(dirname "$(ls "$cb"/etc/accounts/*/*/*/private_key.json)")
cp "$adir/private_key.json" "$T_TMP/cb-key.json"
cbkid=$(jq -r .uri "$adir/regr.json")
certbot_do unregister
run_tool acme-account --json --directory "$dir" --ca-bundle "$ca" --account-key "$T_TMP/cb-key.json" --kid "$cbkid"; keep_tool
D --account-key "$T_TMP/cb-key.json" --kid "$cbkid" healthy.test
check "deactivated: exit 1" rc_is 1
check "deactivated: the account is the first cause" first_cause acme.account.lookup "$dir"
check "deactivated: the same finding as acme-account" same_as_tool acme.account.lookup "$dir" fail
check "deactivated: it explains the refused status request" jq_true '[.diagnosis[0].explains[].id] | index("acme.account.status")'

# A failed authorization (lego: the IPv6 address answers 404 to the CA).
# Without the token the web servers look alike (404 for a random token at
# both addresses): the failed authorization is the cause, with the CA's
# error; a contact warning comes after it.
lego=$T_TMP/lego
lab env LEGO_CA_CERTIFICATES="$ca" lego --server "$dir" --path "$lego" --email admin@acme-diag.net \
	--accept-tos --domains v6404.web.test --http --http.webroot "$LAB_STATE/www" run >"$T_TMP/lego.log" 2>&1
au=$(grep -o 'AuthURL: [^ ]*' "$T_TMP/lego.log" | head -n1 | cut -d' ' -f2)
check "lego logged the failed authorization" test -n "$au"
run_tool acme-authz --json --ca-bundle "$ca" --directory "$dir" --from lego "$lego" "$au"; keep_tool
D --from lego --store "$lego" --authz "$au" v6404.web.test
check "failed authz: exit 1" rc_is 1
check "failed authz: the authorization is the first cause" first_cause acme.authz.status "$au"
check "failed authz: the same finding as acme-authz" same_as_tool acme.authz.status "$au" fail
check "failed authz: it explains the CA's error" \
	jq_true '.diagnosis[0].explains | map(select(.id == "acme.challenge")) | length == 1'
check "failed authz: the CA's error in its words (Pebble does not say which address it used)" \
	jq_true '[.checks[] | select(.id == "acme.challenge" and .status == "fail")][0].summary | test("Non-200 status code from HTTP: .* returned 404")'
check "failed authz: warnings (lego's contact domain) come after what fails" \
	jq_true '[.diagnosis[] | .impact] | . as $a | ($a | index("warn")) as $w | $w == null or all($a[$w:][]; . == "warn")'

# A wildcard: DNS-01 only.
D --ns 192.0.2.21 '*.healthy.test'
check "wildcard: exit 0" rc_is 0
check "wildcard: no HTTP-01" jq_true '[.checks[] | select(.id | startswith("http01."))] | length == 0'
check "wildcard: DNS-01 checked at _acme-challenge of the base name" jq_true '[.checks[] | select(.id == "dns01.txt" and .domain == "*.healthy.test")] | length > 0'

# --challenge http-01: the zone and CAA, no TXT, no resolver audit.
D --challenge http-01 healthy.test
check "http-01: exit 0" rc_is 0
check "http-01: CAA still checked" jq_true '[.checks[] | select(.id == "dns.caa")] | length == 1'
check "http-01: no TXT checks, no audit" jq_true '[.checks[] | select(.id | startswith("dns01.") or startswith("dns.resolver."))] | length == 0'

# --challenge tls-alpn-01: TLS-ALPN-01 per address instead of HTTP-01, the
# zone and CAA for that method, no TXT.
ka=$(cat "$LAB_STATE/alpn/ka")
D --challenge tls-alpn-01 --key-authorization "$ka" alpn-good.web.test
check "tls-alpn-01: exit 0" rc_is 0
check "tls-alpn-01: the responder checked with the key authorization, in the name's view" \
	jq_true '[.checks[] | select(.id == "tlsalpn01.addr" and .status == "ok" and .domain == "alpn-good.web.test")] | length == 1'
check "tls-alpn-01: no HTTP-01, no TXT checks" jq_true '[.checks[] | select(.id | startswith("http01.") or startswith("dns01."))] | length == 0'
check "tls-alpn-01: the zone and CAA still checked" jq_true '[.checks[] | select(.id == "dns.caa" or .id == "dns.zone")] | length == 2'
D --challenge tls-alpn-01 alpn-fallback.web.test
check "tls-alpn-01, IPv6 refuses acme-tls/1: exit 1 under pebble" rc_is 1
check "tls-alpn-01, IPv6 refuses acme-tls/1: that address is the first cause" first_cause tlsalpn01.addr 2001:db8::80
check "tls-alpn-01: the cause explains the CA's view" explains tlsalpn01.addr 2001:db8::80 tlsalpn01.ca alpn-fallback.web.test
D --challenge tls-alpn-01 alpn-v6dead.web.test
check "tls-alpn-01, IPv6 blackholed: the broken IPv6 path is the first cause" \
	jq_true '.diagnosis[0] | .id == "tlsalpn01.addr" and .target == "2001:db8:dead::92" and (.title | test("IPv6 path"))'
run_tool acme-doctor --timeout 2 --directory "$dir" --ca-bundle "$ca" --ca-profile pebble --challenge tls-alpn-01 \
	--key-authorization "$ka" alpn-good.web.test
check "tls-alpn-01, text: its own section" out_has "== alpn-good.web.test: TLS-ALPN-01"
check "tls-alpn-01, text: no HTTP-01 section" out_lacks "== alpn-good.web.test: HTTP-01"

# -q: only what is not ok, empty sections left out.
run_tool acme-doctor -q --timeout 2 --directory "$dir" --ca-bundle "$ca" --ca-profile pebble --ns 192.0.2.22 healthy.test
check "-q: no ok line" out_lacks "ok    "
check "-q: no empty HTTP-01 section" out_lacks "== healthy.test: HTTP-01"

# Usage.
for bad in "" "--challenge http-01 *.healthy.test" "--store /tmp healthy.test" "--challenge tls-alpn-01 *.healthy.test" \
	"--capture /nonexistent healthy.test" "--ca-profile boulder healthy.test"; do
	run_tool acme-doctor $bad
	check "usage: '$bad' exits 2" rc_is 2
done
done_testing
