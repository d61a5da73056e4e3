#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Hostile input, item by item (issue 13): files that are not files, lenient
# arguments, a DNS server whose TCP is shut, an ACME server with a raw-byte
# Replay-Nonce, captures built to be slow or big. Each case failed before
# its fix. The first part needs no lab; the rest runs in it.
. "$(dirname "$0")/../lib/tap.sh"
plan 53

# Everything here must end: a hang shows as exit 124, never a stuck suite.
export TOOL_WRAP="timeout 60"
key=$T_TMP/key.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key" 2>/dev/null
chmod 600 "$key"
mkfifo "$T_TMP/fifo"
: >"$T_TMP/ca.pem"

# ---- files that are not regular files: refused at once, exit 2
run_tool acme-account --directory https://ca.test/dir --account-key "$T_TMP/fifo"
check "FIFO as --account-key: exit 2, no hang" rc_is 2
check "FIFO as --account-key: says it is a FIFO" err_has "not a regular file but a FIFO"
run_tool acme-clock --ca-bundle "$T_TMP/fifo" --directory https://ca.test/dir
check "FIFO as --ca-bundle: exit 2" rc_is 2
run_tool acme-jwslint "$T_TMP/fifo"
check "FIFO as a capture: exit 2" rc_is 2
check "FIFO as a capture: points to - for a pipe" err_has "or - to read standard input"
run_tool acme-account --directory https://ca.test/dir --account-key "$T_TMP"
check "directory as --account-key: exit 2, named a directory (not 'not a PEM key')" \
	bash -c "[ $RC -eq 2 ] && grep -q 'but a directory' '$T_TMP/err'"
run_tool acme-doctor --ca-bundle /dev/null --directory https://ca.test/dir example.com
check "device as --ca-bundle: exit 2" bash -c "[ $RC -eq 2 ] && grep -q 'but a device' '$T_TMP/err'"
run_tool acme-doctor -f "$T_TMP/fifo"
check "FIFO as acme-doctor -f: exit 2" rc_is 2
check "standard input still reads a pipe" \
	bash -c "echo '{\"protected\":\"x\"}' | timeout 20 '$BIN/acme-jwslint' - >/dev/null 2>&1; [ \$? -ne 2 ]"

# ---- lenient arguments
run_tool acme-dnscheck --ns 1.2.3 example.com
check "--ns 1.2.3: exit 2 (not read as 1.2.0.3)" rc_is 2
check "--ns 1.2.3: says how to write an address" err_has "four numbers 0-255"
run_tool acme-dnscheck --ns 0x7f.1 example.com
check "--ns 0x7f.1: exit 2" rc_is 2
for t in 0x10 " 5" 1e1 inf -1 . ""; do
	run_tool acme-dnscheck --timeout "$t" --ns 192.0.2.1 example.com
	check "--timeout '$t': exit 2" bash -c "[ $RC -eq 2 ] && grep -q 'timeout' '$T_TMP/err'"
done
run_tool acme-account --directory http:// --account-key "$key"
check "--directory http://: exit 2, no host" bash -c "[ $RC -eq 2 ] && grep -q 'names no host' '$T_TMP/err'"
run_tool acme-account --directory 'https://ca test/dir' --account-key "$key"
check "--directory with a space: exit 2" rc_is 2
run_tool acme-clock --ntp 'bad host!'
check "--ntp 'bad host!': exit 2" rc_is 2
run_tool acme-doctor --ntp 1.2.3 example.com
check "acme-doctor --ntp 1.2.3: exit 2" rc_is 2
run_tool acme-account --insecure --ca-bundle "$T_TMP/ca.pem" --directory https://ca.test/dir --account-key "$key"
check "--insecure then --ca-bundle: exit 2" bash -c "[ $RC -eq 2 ] && grep -q 'exclude each other' '$T_TMP/err'"
run_tool acme-clock --ca-bundle "$T_TMP/ca.pem" --insecure --directory https://ca.test/dir
check "--ca-bundle then --insecure (acme-clock): exit 2" rc_is 2
run_tool acme-jwslint --insecure --ca-bundle "$T_TMP/ca.pem" "$T_TMP/ca.pem"
check "--insecure with --ca-bundle (acme-jwslint): exit 2" bash -c "[ $RC -eq 2 ] && grep -q 'exclude each other' '$T_TMP/err'"

# ---- names the CA refuses: said first, in the CA's words, nothing probed
# (no lab needed: nothing is asked of the network)
ident() {
	[ -s "$T_TMP/out" ] && jq -e --arg s "$1" --arg t "$2" \
		'[.checks[] | select(.id=="acme.identifier" and .status==$s)][0].summary | contains($t)' "$T_TMP/out" >/dev/null
}
not_probed() { jq_true '[.checks[] | select(.id != "acme.identifier")] | length == 0'; }
run_tool acme-dnscheck --json _dmarc.example.com
check "_dmarc.example.com: exit 1" rc_is 1
check "_dmarc.example.com: Boulder's words" \
	ident fail 'Cannot issue for "_dmarc.example.com": Domain name contains an invalid character'
check "_dmarc.example.com: not probed" not_probed
long=$(printf '%s.%s.%s.%s.com' "$(printf 'a%.0s' {1..60})" "$(printf 'b%.0s' {1..60})" "$(printf 'c%.0s' {1..60})" "$(printf 'd%.0s' {1..55})")
run_tool acme-dnscheck --json "$long"
check "a 242-byte name: its _acme-challenge name (258 bytes) is what fails, not a resolver" \
	jq_true '[.checks[] | select(.id=="acme.identifier" and .status=="fail")][0].summary | test("is 258 bytes, over the 253 DNS allows")'
check "a 242-byte name: no DNS finding" jq_true '[.checks[] | select(.id | startswith("dns"))] | length == 0'
run_tool acme-httpcheck --json "$long"
check "the same name for HTTP-01: accepted (its length is fine there)" jq_true '[.checks[] | select(.id=="acme.identifier")][0].status == "ok"'
run_tool acme-dnscheck --json a.b.c.d.e.f.g.h.i.j.example.com
check "12 labels: refused" jq_true '[.checks[] | select(.id=="acme.identifier")][0].summary | test("more than 10 labels")'
run_tool acme-dnscheck --json ab--cd.example.com
check "ab--cd: a reserved label form" jq_true '[.checks[] | select(.id=="acme.identifier")][0].summary | test("R-LDH")'
run_tool acme-httpcheck --json 192.0.2.80
check "an IP address as a name: refused, the hint says ip identifier" \
	jq_true '[.checks[] | select(.id=="acme.identifier")][0] | .status == "fail" and (.summary | test("IP address")) and (.hint | test("RFC 8738"))'
run_tool acme-doctor --json --challenge dns-01 --directory https://127.0.0.1:1/dir "$long"
check "acme-doctor: the refusal is the first cause" \
	jq_true '.diagnosis[0].id == "acme.identifier" and ([.checks[] | select(.id == "dns.zone" or (.id | startswith("dns01")))] | length == 0)'
run_tool acme-dnscheck --json --ca-domain ca.internal.example _x.example.com
check "another CA (--ca-domain): an underscore is a warning, not Boulder's refusal" \
	jq_true '[.checks[] | select(.id=="acme.identifier")][0] | .status == "warn" and (.summary | test("public CAs refuse it"))'

# ---- captures: a certbot log in which no request is closed, read once
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "x:DEBUG:acme.client:Sending POST request to https://ca.test/acme/new-order:\n{\n  \"protected\": \"x\",\n" }' >"$T_TMP/open.log"
run_tool acme-jwslint "$T_TMP/open.log"
check "unclosed certbot requests: exit 2, each counted" \
	bash -c "[ $RC -eq 2 ] && grep -q 'no ACME request found (20000 unreadable parts)' '$T_TMP/err'"
# ... and one closed after them: the closed one is read; the open ones are
# unreadable, each (a block never runs past the next request: taking every
# block up to that "}" made the capture grow as the square of the log).
{ head -n 9 "$T_TMP/open.log"; printf 'x:DEBUG:acme.client:Sending POST request to https://ca.test/acme/new-order:\n{\n  "protected": "eyJhbGciOiJFUzI1NiJ9",\n  "payload": "",\n  "signature": "AAAA"\n}\n'; } >"$T_TMP/mixed.log"
run_tool acme-jwslint --json "$T_TMP/mixed.log"
check "mixed certbot log: the closed request read (line 10), the 3 open ones unreadable" \
	jq_true '([.checks[] | select(.id | startswith("jws.")) | .summary] | map(select(test("line 10"))) | length > 0) and ([.checks[] | select(.id=="jws.summary")][0].summary | test("of 1 requests clean; 3 unreadable parts"))'

# ---- a HAR past the request bound: read one entry at a time, the cut said
awk 'BEGIN { printf "{\"log\":{\"version\":\"1.2\",\"entries\":["; for (i = 0; i < 12000; i++) printf "%s{\"request\":{\"method\":\"POST\",\"url\":\"https://ca.test/acme/new-order\",\"headers\":[],\"postData\":{\"text\":\"{\\\"protected\\\":\\\"eyJhbGciOiJFUzI1NiJ9\\\",\\\"payload\\\":\\\"\\\",\\\"signature\\\":\\\"AAAA\\\"}\"}}}", i ? "," : ""; printf "]}}" }' >"$T_TMP/big.har"
run_tool acme-jwslint --json "$T_TMP/big.har"
check "HAR of 12,000 POSTs: the bound is a finding" \
	jq_true '[.checks[] | select(.id=="jws.limit" and .status=="warn")][0].evidence | .limit == 10000 and .not_checked == 2000'
check "HAR of 12,000 POSTs: nothing called unreadable" \
	jq_true '[.checks[] | select(.id=="jws.summary")][0].summary | test("; 0 unreadable parts")'
# a HAR whose entries are odd in every way the walk must skip
printf '{"x":[1,{"a":"]}"}],"log":{"pages":[{"title":"\\"]"}],"entries":[{"request":{"method":"GET"}} , {"request":{"method":"POST","url":"u","postData":{"text":"{\\"protected\\":\\"eyJhbGciOiJub25lIn0\\",\\"payload\\":\\"\\",\\"signature\\":\\"\\"}"}}}]}}' >"$T_TMP/odd.har"
run_tool acme-jwslint --json "$T_TMP/odd.har"
check "HAR with brackets inside strings: read as HAR, its one POST checked" \
	jq_true '([.checks[] | select(.id=="jws.summary")][0] | .target == "har" and (.summary | test("of 1 request")))'

if [ -z "${LAB_STATE:-}" ] || [ ! -f "$LAB_STATE/env" ]; then
	for i in $(seq $((T_N + 1)) 53); do echo "ok $i # SKIP no lab (run through tests/run-integration.sh as root)"; done
	
done_testing
fi
dns() { run_tool acme-dnscheck "$@"; }

# ---- the same --ns many times is asked once
ns256=()
for _ in $(seq 1 256); do ns256+=(--ns 192.0.2.20); done
dns --json "${ns256[@]}" --ns 192.0.2.20:53
check "--ns 192.0.2.20 x256 and :53: one resolver audited" \
	jq_true '[.checks[] | select(.id=="dns.resolver.reachable")] | length == 1'

# ---- truncated over UDP, TCP shut (dnsjunk tc closes TCP at once)
dns --json --timeout 2 --ns 192.0.2.97
check "TC then no TCP: not called silent" \
	jq_true '[.checks[] | select(.id=="dns.resolver.reachable")][0] | .status == "fail" and (.summary | test("truncated and the retry over TCP"))'
check "TC then no TCP: the hint says to open TCP" \
	jq_true '[.checks[] | select(.id=="dns.resolver.reachable")][0].hint | test("truncated flag.*TCP port 53")'

# ---- an ACME server whose Replay-Nonce is raw bytes (a Python server: no
# real ACME server sends one; a broken proxy can)
cat >"$T_TMP/badnonce.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        base = 'http://%s:%d' % self.server.server_address[:2]
        body = json.dumps({'newNonce': base + '/nonce', 'newAccount': base + '/acct', 'newOrder': base + '/order'}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_HEAD(self):
        self.send_response(200)
        self.send_header('Replay-Nonce', 'ab\xff\x1b[31mred\x07')
        self.send_header('Content-Length', '0')
        self.end_headers()
    do_POST = do_HEAD
http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
PY
"$LAB_SH" run "$LAB_STATE" timeout 60 python3 "$T_TMP/badnonce.py" 192.0.2.80 8099 &
py=$!
trap 'kill $py 2>/dev/null; wait 2>/dev/null; rm -rf "$T_TMP"' EXIT
for _ in $(seq 1 50); do "$LAB_SH" run "$LAB_STATE" curl -sf -o /dev/null http://192.0.2.80:8099/dir && break; sleep 0.1; done
run_tool acme-account --json --directory http://192.0.2.80:8099/dir --account-key "$key"
check "raw-byte Replay-Nonce: named as such, escaped" \
	jq_true '[.checks[] | select(.id=="acme.account.lookup")][0] | .status == "error" and (.summary | contains("is not base64url") and contains("ab\\xff\\x1b[31mred\\x07"))'
check "raw-byte Replay-Nonce: not 'cannot sign'" out_lacks "cannot sign"
run_tool acme-account --directory http://192.0.2.80:8099/dir --account-key "$key"
check "raw-byte Replay-Nonce: no ESC or BEL reaches the terminal" bash -c "! LC_ALL=C grep -qP '\\x1b|\\x07' '$T_TMP/out'"

# ---- an order of 200 authorizations that never answer (a Python server:
# it holds every authorization request open, and logs the most it had open
# at once). --timeout 1: the fetches fan out, and what the run's bound
# (6 x --timeout) leaves unfetched is said, each.
cat >"$T_TMP/slowauthz.py" <<'PY'
import http.server, json, sys, threading, time
lock = threading.Lock(); st = {'open': 0, 'peak': 0, 'seen': 0}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        base = 'http://%s:%d' % self.server.server_address[:2]
        if self.path == '/order':
            body = json.dumps({'status': 'pending', 'expires': '2099-01-01T00:00:00Z', 'finalize': base + '/fin',
                'identifiers': [{'type': 'dns', 'value': 'n%d.web.test' % i} for i in range(200)],
                'authorizations': [base + '/authz/%d' % i for i in range(200)]}).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        with lock:
            st['open'] += 1; st['seen'] += 1; st['peak'] = max(st['peak'], st['open'])
            open(sys.argv[3], 'w').write('%d %d\n' % (st['peak'], st['seen']))
        try:
            time.sleep(100)
        finally:
            with lock: st['open'] -= 1
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
S((sys.argv[1], int(sys.argv[2])), H).serve_forever()
PY
"$LAB_SH" run "$LAB_STATE" timeout 60 python3 "$T_TMP/slowauthz.py" 192.0.2.80 8098 "$T_TMP/peak" &
py2=$!
trap 'kill $py $py2 2>/dev/null; wait 2>/dev/null; rm -rf "$T_TMP"' EXIT
for _ in $(seq 1 50); do "$LAB_SH" run "$LAB_STATE" curl -sf -o /dev/null http://192.0.2.80:8098/order && break; sleep 0.1; done
run_tool acme-authz --json --timeout 1 http://192.0.2.80:8098/order
check "200 silent authorizations: the run ends, exit 3" rc_is 3
check "200 silent authorizations: a finding for each" \
	jq_true '[.checks[] | select(.id=="acme.fetch" and .status=="error")] | length == 200'
check "200 silent authorizations: those the bound left are said to be" \
	jq_true '[.checks[] | select(.id=="acme.fetch" and (.summary | test("not fetched within the run.s time bound \\(6 s: 6 x --timeout\\)")))] | length > 0'
check "200 silent authorizations: the tool's own bound ends it, not the backstop" \
	jq_true '[.checks[] | select(.id=="acme.run")] | length == 0'
check "200 silent authorizations: fetched many at once (the server saw >= 8 open)" \
	bash -c "[ \"\$(cut -d' ' -f1 '$T_TMP/peak')\" -ge 8 ]"
done_testing
