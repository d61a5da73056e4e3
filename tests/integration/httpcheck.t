#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-httpcheck against the lab's nginx (IPv4 and IPv6 documentation
# addresses, a blackholed IPv6 path, broken set-ups per name in web.test),
# and the verdict checked against the real CA: Pebble validating lego's
# HTTP-01 challenge in the same set-ups.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 99

www=$LAB_STATE/www/.well-known/acme-challenge
ka=tok-lab.thumbprint-of-the-lab-account
printf '%s' "$ka" >"$www/tok-lab"
H() { run_tool acme-httpcheck --json --timeout 2 "$@"; }
ca() { finding http01.ca "$1" "$2"; }
addr() { finding http01.addr "$1" "$2"; }

# Both families healthy; the body compared as the CA does.
H --ca-profile pebble --token tok-lab --key-authorization "$ka" ok.web.test
check "ok: exit 0 under pebble" rc_is 0
check "ok: IPv6 address fetched" addr 2001:db8::80 ok
check "ok: IPv4 address fetched" addr 192.0.2.80 ok
check "ok: the CA uses the first AAAA" jq_true '[.checks[] | select(.id=="http01.ca")][0].evidence.address == "2001:db8::80"'
check "ok: timings in evidence" jq_true '[.checks[] | select(.id=="http01.addr")][0].evidence.hops[0] | has("connect_ms") and has("total_ms")'
H --token tok-lab --key-authorization "$ka" ok.web.test
check "letsencrypt: documentation addresses are refused by the CA" finding http01.reserved 192.0.2.80 fail
check "letsencrypt: still probed" addr 192.0.2.80 ok
H -6 --ca-profile pebble ok.web.test
check "-6: only IPv6 probed" jq_true '[.checks[] | select(.id=="http01.addr")] | length == 1 and .[0].target == "2001:db8::80"'
check "no token: 404 for a random token is healthy" rc_is 0

# IPv6 connect timeout, IPv4 fine: Let's Encrypt falls back, Pebble does not.
H v6dead.web.test
check "v6dead letsencrypt: saved by fallback is a warning" ca v6dead.web.test warn
check "v6dead letsencrypt: the CA ends on IPv4" jq_true '[.checks[] | select(.id=="http01.ca")][0].evidence | .fallback == true and .address == "192.0.2.80"'
check "v6dead: worded like the CA" jq_true '[.checks[] | select(.id=="http01.addr" and .target=="2001:db8:dead::80")][0].summary | test("Timeout during connect \\(likely firewall problem\\)")'
check "v6dead: a connect-stage error" jq_true '[.checks[] | select(.id=="http01.addr" and .target=="2001:db8:dead::80")][0].evidence.connect_stage_error'
H --ca-profile pebble v6dead.web.test
check "v6dead pebble: fail" ca v6dead.web.test fail
check "v6dead pebble: exit 1" rc_is 1

# IPv6 refused: also a connect-stage error.
H v6refused.web.test
check "v6refused letsencrypt: warn (fallback)" ca v6refused.web.test warn
check "v6refused: Connection refused" jq_true '[.checks[] | select(.id=="http01.addr" and .target=="2001:db8::81")][0].summary | test("Connection refused")'
check "v6refused: local cause found (nothing listens), a warning: the CA falls back" \
	jq_true '[.checks[] | select(.id=="http01.local" and .target=="2001:db8::81")][0] | .status == "warn" and (.summary | test("falls back"))'
H --ca-profile pebble v6refused.web.test
check "v6refused pebble: fail" ca v6refused.web.test fail
check "v6refused pebble: the local cause fails (Pebble uses that address)" finding http01.local 2001:db8::81 fail
H --ca-profile rfc8555 v6refused.web.test
check "v6refused rfc8555: the local cause fails (any address may be used)" finding http01.local 2001:db8::81 fail

# The AAAA serves; the A is on this host with nothing on port 80. The CA
# (Let's Encrypt or Pebble) uses the AAAA and validates: the local finding
# is a warning, not a failed verdict. Under rfc8555 every address counts.
H --token tok-lab a4local.web.test
check "a4local: the CA's address works" ca a4local.web.test ok
check "a4local: nothing on the unused A is a warning" \
	jq_true '[.checks[] | select(.id=="http01.local" and .target=="192.0.2.81")][0] | .status == "warn" and (.summary | test("not the address the CA uses"))'
H --ca-profile pebble --token tok-lab a4local.web.test
check "a4local pebble: exit 0 (the lab's documentation addresses fail Let's Encrypt's reserved-address rule)" rc_is 0
check "a4local pebble: a warning still" finding http01.local 192.0.2.81 warn
H --ca-profile rfc8555 --token tok-lab a4local.web.test
check "a4local rfc8555: fail" finding http01.local 192.0.2.81 fail

# Pre-flight without a token: a 403 or 401 on the challenge path fails (the
# real token gets the same answer); a redirect to another host is said.
H --ca-profile pebble deny.web.test
check "deny: a 403 for a random token fails at the address the CA uses" \
	jq_true '[.checks[] | select(.id=="http01.addr" and .target=="2001:db8::80")][0].status == "fail"'
check "deny: the verdict fails" ca deny.web.test fail
check "deny: the hint names the deny rule" jq_true '[.checks[] | select(.id=="http01.addr")][0].hint | test("Exempt that path")'
check "deny: exit 1" rc_is 1
H --ca-profile pebble login.web.test
check "login: a 401 fails too" jq_true '[.checks[] | select(.id=="http01.addr")][0] | .status == "fail" and (.summary | test("401"))'
H --ca-profile pebble offhost.web.test
check "offhost: the redirect to another host is said" \
	jq_true '[.checks[] | select(.id=="http01.addr")][0] | .status == "warn" and (.summary | test("redirects to another host, ok.web.test"))'
check "offhost: the hint says the file must be served there, not 'a proxy'" \
	jq_true '[.checks[] | select(.id=="http01.addr")][0].hint | (test("served there") and (test("proxy") | not))'

# IPv6 answers 404 while IPv4 serves: no fallback after a connect, for both CAs.
H --token tok-lab v6404.web.test
check "v6404 letsencrypt: fail" ca v6404.web.test fail
check "v6404: the 404 named" jq_true '[.checks[] | select(.id=="http01.addr" and .target=="2001:db8::82")][0].summary | test(": 404$")'
check "v6404: addresses disagree" finding http01.consistency v6404.web.test warn
H --ca-profile pebble --token tok-lab v6404.web.test
check "v6404 pebble: fail" ca v6404.web.test fail

# Redirects.
H --token tok-lab redir8080.web.test
check "redirect to :8080 refused by Boulder's policy" jq_true '[.checks[] | select(.id=="http01.addr")][0].summary | test("Invalid port in redirect target. Only ports 80 and 443 are supported, not 8080")'
check "redirect to :8080: exit 1" rc_is 1
H --ca-profile pebble --token tok-lab redir8080.web.test
check "pebble follows to :8080 (and finds nothing there)" jq_true '[.checks[] | select(.id=="http01.addr")][0].summary | test("8080.*Connection refused")'
H --ca-profile rfc8555 --token tok-lab loop.web.test
check "redirect loop detected" jq_true '[.checks[] | select(.id=="http01.addr")][0].summary | test("Redirect loop detected")'
check "redirect loop: hops recorded" jq_true '[.checks[] | select(.id=="http01.addr")][0].evidence.hops | length == 3'
H --token tok-lab loop.web.test
check "letsencrypt: a .test redirect host is not an IANA TLD" jq_true '[.checks[] | select(.id=="http01.addr")][0].summary | test("IANA registered TLD")'
H --ca-profile pebble --token tok-lab loop.web.test
check "pebble: Go stops after 10 redirects" jq_true '[.checks[] | select(.id=="http01.addr")][0].summary | test("stopped after 10 redirects")'
H --ca-profile rfc8555 --token tok-lab --key-authorization "$ka" tls.web.test
check "https redirect with a self-signed certificate is fine" rc_is 0
check "https hop recorded" jq_true '[.checks[] | select(.id=="http01.addr")][0].evidence.hops[1].url | startswith("https://tls.web.test/")'
H --ca-profile rfc8555 --token tok-lab tls10.web.test
check "https server limited to TLS 1.0 refused" jq_true '[.checks[] | select(.id=="http01.addr")][0].summary | test("doesn.t support TLSv1.2 or better")'

# Bodies and key authorizations.
printf 'tok-space.thumbprint-of-the-lab-account\n  ' >"$www/tok-space"
H --token tok-space --key-authorization "tok-space.thumbprint-of-the-lab-account" ok.web.test
check "trailing whitespace trimmed as Boulder does" addr 192.0.2.80 ok
printf 'tok-space.thumbprint-of-the-lab-account\n  ' >"$www/tok-space"
H --ca-profile pebble --token tok-space --key-authorization "tok-space.thumbprint-of-the-lab-account" ok.web.test
check "pebble trims only \\n\\r\\t: trailing spaces mismatch" addr 2001:db8::80 fail
H --ca-profile pebble --token tok-lab --key-authorization "tok-lab.another-thumbprint" ok.web.test
check "key authorization mismatch: fail" ca ok.web.test fail
check "mismatch worded like the CA" jq_true '[.checks[] | select(.id=="http01.addr")][0].summary | test("did not match this challenge. Expected")'
H --ca-profile rfc8555 --token big-body big.web.test
check "body of 128 bytes or more refused" jq_true '[.checks[] | select(.id=="http01.addr")][0].summary | test("the CA reads at most 127")'
H --ca-profile pebble catchall.web.test
check "no token: a 200 catch-all page is a warning" addr 192.0.2.86 warn
check "no token: catch-all exit 0 (warn)" rc_is 0
H --ca-profile pebble h2.web.test
check "HTTP/2 over plain HTTP recognised" jq_true '[.checks[] | select(.id=="http01.addr")][0].summary | test("Server is speaking HTTP/2 over HTTP")'

# Text from the server: cut on character boundaries, bytes that are not
# UTF-8 shown as \xNN; the JSON parses and keeps every finding the text shows.
# same_count OPTIONS... : --json has as many checks as the text has finding lines
same_count() {
	local nj nt
	H "$@"
	nj=$(jq -e '.checks | length' "$T_TMP/out") || return 1
	run_tool acme-httpcheck --timeout 2 "$@"
	nt=$(grep -cE '^(ok|warn|fail|skip|error) ' "$T_TMP/out")
	[ "$nj" -gt 0 ] && [ "$nj" -eq "$nt" ]
}
page=$(cat "$LAB_STATE/web/utf8/404.html")
H utf8.web.test
check "utf8 404: the JSON parses" jq -e . "$T_TMP/out"
check "utf8 404: 404 for a random token is ok" addr 192.0.2.83 ok
check "utf8 404: the body's start, cut on a character boundary at 200 bytes" \
	jq -e --arg page "$page" '[.checks[] | select(.id=="http01.addr")][0].detail
		| startswith("Body starts: ") and (.[13:] as $t | ($page | startswith($t))
		and ($t | utf8bytelength) >= 197 and ($t | utf8bytelength) <= 200)' "$T_TMP/out"
check "utf8 404: --json has as many checks as the text has findings" same_count utf8.web.test
printf '\xe9t\xe9 \xff' >"$www/tok-latin1"
H --ca-profile pebble --token tok-latin1 --key-authorization tok-latin1.thumbprint ok.web.test
check "latin-1 body: the JSON parses" jq -e . "$T_TMP/out"
check "latin-1 body: mismatch, the body's bytes as \\xNN" jq_true '[.checks[] | select(.id=="http01.addr" and .target=="2001:db8::80")][0] | .status == "fail" and (.summary | endswith("(got \"\\xe9t\\xe9 \\xff\")"))'
check "latin-1 body: --json has as many checks as the text has findings" \
	same_count --ca-profile pebble --token tok-latin1 --key-authorization tok-latin1.thumbprint ok.web.test

# Several resolvers: all asked at once, the first that answers is used.
H --ca-profile pebble --token tok-lab --key-authorization "$ka" --ns 192.0.2.99 --ns 192.0.2.10 ok.web.test
check "dead first --ns: addresses found through the second" finding http01.dns ok.web.test ok
check "dead first --ns: named in http01.dns" jq_true '[.checks[] | select(.id=="http01.dns")][0].summary | test("\\(resolver 192\\.0\\.2\\.10\\); 192\\.0\\.2\\.99 did not answer \\(timed out\\)")'
check "dead first --ns: each resolver's outcome in evidence" jq_true '[.checks[] | select(.id=="http01.dns")][0].evidence.resolvers | map([.server, .answered, .used]) == [["192.0.2.99", false, false], ["192.0.2.10", true, true]]'
check "dead first --ns: both addresses probed" jq_true '[.checks[] | select(.id=="http01.addr" and .status=="ok")] | length == 2'
check "dead first --ns: exit 0, as for a healthy name" rc_is 0
H --ca-profile pebble --ns 192.0.2.10 --ns 192.0.2.53 stale.web.test
check "resolvers disagree: warn" finding http01.dns stale.web.test warn
check "resolvers disagree: the other one named" jq_true '[.checks[] | select(.id=="http01.dns")][0].summary | test("192\\.0\\.2\\.53 answers other addresses")'
check "resolvers disagree: the first resolver's address probed" jq_true '[.checks[] | select(.id=="http01.addr")] | map(.target) == ["192.0.2.86"]'

# More addresses than are probed (16 per family): said, not silent.
H --ca-profile rfc8555 --ns 192.0.2.53 limit.web.test
check "17 A under rfc8555: http01.limit warns" finding http01.limit limit.web.test warn
check "17 A: how many probed of how many" jq_true '[.checks[] | select(.id=="http01.limit")][0].summary | test("16 of 17 IPv4")'
check "17 A: 16 probed" jq_true '[.checks[] | select(.id=="http01.addr")] | length == 16'
H --ca-profile pebble --ns 192.0.2.53 limit.web.test
check "17 A under pebble (first address only): http01.limit ok" finding http01.limit limit.web.test ok
H --ca-profile pebble ok.web.test
check "two addresses: no http01.limit" jq_true '[.checks[] | select(.id=="http01.limit")] | length == 0'

# Hostile servers: bounded time and memory, a clear finding.
H --ca-profile pebble endless.web.test
check "endless body: stops reading, a verdict" jq_true '.checks | length > 0'
H --ca-profile pebble --token tok-lab endless.web.test
check "endless body with a token: body too large" jq_true '[.checks[] | select(.id=="http01.addr")][0].status == "fail"'
H --ca-profile pebble stall.web.test
check "headers never finish: timeout after connect" jq_true '[.checks[] | select(.id=="http01.addr")][0].summary | test("Timeout after connect")'
H --ca-profile pebble reset.web.test
check "reset: reported" jq_true '[.checks[] | select(.id=="http01.addr")][0].summary | test("reset|closed")'
H --ca-profile pebble --port 53 garbage.web.test
check "garbage: malformed response" jq_true '[.checks[] | select(.id=="http01.addr")][0].status == "fail"'

# Bad arguments: exit 2 with a reason.
for bad in "--ca-profile boulder ok.web.test" "--port 0 ok.web.test" "*.ok.web.test" "--token a/b ok.web.test" "" "--key-authorization nodot ok.web.test"; do
	run_tool acme-httpcheck $bad
	check "usage: '$bad' exits 2" rc_is 2
done

# The real CA agrees: Pebble validating lego's HTTP-01 challenge.
lego_run() { # lego_run DOMAIN: 0 if Pebble issued a certificate
	rm -rf "$T_TMP/lego"
	"$LAB_SH" run "$LAB_STATE" env LEGO_CA_CERTIFICATES="$LAB_STATE/pebble/ca.pem" \
		lego --server https://192.0.2.90:14000/dir --path "$T_TMP/lego" --email admin@web.test \
		--accept-tos --domains "$1" --http --http.webroot "$LAB_STATE/www" run >"$T_TMP/lego.log" 2>&1
}
for d in ok a4local offhost deny login v6refused v6404 v6dead; do
	lego_run $d.web.test; lego_rc=$?
	H --ca-profile pebble --token tok-lab --key-authorization "$ka" $d.web.test
	tool_fail=$(jq -r '[.checks[] | select(.id=="http01.ca")][0].status == "fail"' "$T_TMP/out")
	if [ "$d" = ok ] || [ "$d" = a4local ] || [ "$d" = offhost ]; then
		check "pebble issued for $d.web.test, tool agrees" bash -c "[ $lego_rc -eq 0 ] && [ $tool_fail = false ]"
	else
		check "pebble refused $d.web.test, tool agrees" bash -c "[ $lego_rc -ne 0 ] && [ $tool_fail = true ]"
	fi
done

# A server that answers late (a Python server on 192.0.2.82: it serves the
# webroot after the delay written in a file; no nginx setting delays an
# answer). Pebble waits 15 s for the whole fetch: later is its timeout,
# whatever --timeout says; our wait shorter than the CA's decides nothing.
cat >"$T_TMP/slow.py" <<'PY'
import http.server, os, sys, time
root, delay = sys.argv[3], sys.argv[4]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        time.sleep(float(open(delay).read()))
        path = os.path.join(root, self.path.lstrip('/'))
        try:
            body = open(path, 'rb').read(); code = 200
        except OSError:
            body = b'not found'; code = 404
        try:
            self.send_response(code)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up first: that is the point
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
S((sys.argv[1], int(sys.argv[2])), H).serve_forever()
PY
echo 17 >"$T_TMP/delay"
"$LAB_SH" run "$LAB_STATE" timeout 300 python3 "$T_TMP/slow.py" 192.0.2.82 80 "$LAB_STATE/www" "$T_TMP/delay" \
	2>"$T_TMP/slow.err" &
slow=$!
trap 'kill $slow 2>/dev/null; wait 2>/dev/null; rm -rf "$T_TMP"' EXIT
echo 0 >"$T_TMP/delay"
for _ in $(seq 1 50); do "$LAB_SH" run "$LAB_STATE" curl -s -o /dev/null http://192.0.2.82/ && break; sleep 0.1; done
echo 17 >"$T_TMP/delay"
run_tool acme-httpcheck --json --timeout 10 --ca-profile pebble --token tok-lab --key-authorization "$ka" slow.web.test
check "slow (17 s): Pebble's 15 s timeout fails it, though --timeout allows 20 s" \
	jq_true '[.checks[] | select(.id=="http01.ca")][0] | .status == "fail" and (.summary | test("took 1[78]\\.[0-9] s, Pebble gives up after 15 s"))'
lego_run slow.web.test; lrc=$?
check "slow (17 s): Pebble refuses lego's challenge too" bash -c "[ $lrc -ne 0 ] && grep -q 'Client.Timeout exceeded\\|context deadline exceeded' '$T_TMP/lego.log'"
echo 11 >"$T_TMP/delay"
run_tool acme-httpcheck --json --timeout 10 --ca-profile pebble --token tok-lab --key-authorization "$ka" slow.web.test
check "slow (11 s): within Pebble's 15 s, but close: a warning" \
	jq_true '[.checks[] | select(.id=="http01.addr")][0] | .status == "warn" and (.summary | test("close to the time the CA waits"))'
lego_run slow.web.test; lrc=$?
check "slow (11 s): Pebble issues for lego" test "$lrc" -eq 0
run_tool acme-httpcheck --json --timeout 4 --ca-profile pebble --token tok-lab --key-authorization "$ka" slow.web.test
check "slow (11 s), --timeout 4: our 8 s wait decides nothing (error, not fail)" \
	jq_true '[.checks[] | select(.id=="http01.addr")][0] | .status == "error" and (.hint | test("raise --timeout"))'
done_testing
