#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Check the lab with dig: every zone on every authoritative server, the
# resolvers' real behaviour (the README's observations), the junk responders,
# lab.sh run and lab.sh zone.
#
#   tests/lab/check.sh            start a lab, check it, take it down (root)
#   tests/lab/check.sh STATEDIR   check a lab that is up (it changes wait.test
#                                 and puts it back)
#
# Prints one line a check and ends with 'N passed, N failed'; exit 1 on a failure.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=$HERE/lab.sh
if [ $# -eq 0 ]; then
	state=$(mktemp -d /tmp/acmediag-labcheck.XXXXXX)
	trap '"$LAB" down "$state"' EXIT
	"$LAB" up "$state"
else
	state=$1
fi
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; [ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/#   /'; }

# q ARGS...: dig inside the lab, full output
q() { "$LAB" run "$state" dig +time=2 +tries=1 "$@" 2>&1 || true; }

# has NAME OUTPUT REGEX...: every extended regex matches OUTPUT
has() {
	local name=$1 out=$2 re
	shift 2
	for re in "$@"; do
		grep -Eq -- "$re" <<<"$out" || { not_ok "$name" "wanted /$re/ in:"$'\n'"$out"; return 0; }
	done
	ok "$name"
}
# lacks NAME OUTPUT REGEX: the regex does not match OUTPUT
lacks() {
	if grep -Eq -- "$3" <<<"$2"; then not_ok "$1" "did not want /$3/ in:"$'\n'"$2"; else ok "$1"; fi
}

AA='flags: qr aa'
SOA1='IN[[:space:]]+SOA[[:space:]]+ns1\.lab\.test\. hostmaster\.lab\.test\. 2026112201 3600 600 86400 300'

echo "# every zone, authoritatively, at ns1 (v4 and v6) and ns2"
for srv in 192.0.2.53 2001:db8::53 192.0.2.54 2001:db8::54; do
	for z in . test healthy.test cname.test delegate.test loop.test caa.test split.test wait.test big.test lame.test web.test dead.test deadalias.test; do
		has "$srv: SOA $z" "$(q +norec @"$srv" "$z" SOA)" 'status: NOERROR' "$AA" "^${z%.}\.?[[:space:]]+300[[:space:]]+$SOA1"
	done
done
has "bench 198.51.100.1: SOA healthy.test" "$(q +norec @198.51.100.1 healthy.test SOA)" 'status: NOERROR' "$AA" "$SOA1"
has "bench 198.51.100.57: TXT healthy.test" "$(q +norec @198.51.100.57 _acme-challenge.healthy.test TXT)" '"healthy-token-value"'
has "bench 198.51.100.100: SOA healthy.test" "$(q +norec @198.51.100.100 healthy.test SOA)" 'status: NOERROR' "$AA"

echo "# the root and test. delegations"
out=$(q +norec @192.0.2.53 . NS)
has "root NS with glue" "$out" 'IN[[:space:]]+NS[[:space:]]+ns1\.lab\.test\.' 'IN[[:space:]]+NS[[:space:]]+ns2\.lab\.test\.' 'ns1\.lab\.test\..*A[[:space:]]+192\.0\.2\.53' 'ns2\.lab\.test\..*AAAA[[:space:]]+2001:db8::54'
out=$(q +norec @192.0.2.55 healthy.test SOA)
has "ns3: referral from test. for healthy.test" "$out" 'status: NOERROR' 'flags: qr;' 'ANSWER: 0' '^healthy\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+NS'
out=$(q +norec @192.0.2.55 _acme-challenge.lame.test TXT)
has "ns3: lame for lame.test (a referral, not aa)" "$out" 'status: NOERROR' 'flags: qr;' 'ANSWER: 0' \
	'^lame\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+NS[[:space:]]+ns1\.lab\.test\.' '^lame\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+NS[[:space:]]+ns3\.lab\.test\.'
has "ns3: serves test. itself" "$(q +norec @192.0.2.55 test SOA)" "$AA" "$SOA1"
has "ns3.lab.test A" "$(q +norec +short @192.0.2.53 ns3.lab.test A)" '^192\.0\.2\.55$'
for s in 192.0.2.53 192.0.2.54; do
	has "$s: lame.test TXT" "$(q +norec +short @$s _acme-challenge.lame.test TXT)" '^"lame-token-value"$'
done

echo "# zone contents"
has "healthy TXT" "$(q +norec +short @192.0.2.54 _acme-challenge.healthy.test TXT)" '^"healthy-token-value"$'
has "healthy www A" "$(q +norec +short @192.0.2.53 www.healthy.test A)" '^192\.0\.2\.80$'
has "healthy www AAAA" "$(q +norec +short @192.0.2.53 www.healthy.test AAAA)" '^2001:db8::80$'
has "healthy apex A" "$(q +norec +short @192.0.2.53 healthy.test A)" '^192\.0\.2\.80$'
has "healthy CAA" "$(q +norec +short @192.0.2.53 healthy.test CAA)" '^0 issue "letsencrypt.org"$'
has "missing: ns1 has the TXT" "$(q +norec +short @192.0.2.53 _acme-challenge.missing.test TXT)" '^"missing-token-value"$'
has "missing: ns1 serial 2026112202" "$(q +norec +short @192.0.2.53 missing.test SOA)" ' 2026112202 '
has "missing: ns2 lacks it (NXDOMAIN)" "$(q +norec @192.0.2.54 _acme-challenge.missing.test TXT)" 'status: NXDOMAIN' "$AA"
has "missing: ns2 serial 2026112201" "$(q +norec +short @192.0.2.54 missing.test SOA)" ' 2026112201 '
out=$(q +norec @192.0.2.53 _acme-challenge.cname.test TXT)
has "cname: CNAME, and nsd adds the TXT it also serves" "$out" 'CNAME[[:space:]]+cname-test\.delegate\.test\.' '"delegated-token-value"'
has "delegate TXT" "$(q +norec +short @192.0.2.54 cname-test.delegate.test TXT)" '^"delegated-token-value"$'
out=$(q +norec @192.0.2.53 _acme-challenge.loop.test TXT)
has "loop: three CNAMEs back to the start" "$out" '^_acme-challenge\.loop\.test\..*CNAME[[:space:]]+a\.loop\.test\.' '^a\.loop\.test\..*CNAME[[:space:]]+b\.loop\.test\.' '^b\.loop\.test\..*CNAME[[:space:]]+_acme-challenge\.loop\.test\.'
out=$(q +norec @192.0.2.53 dead.test NS)
has "dead: NS set includes nsdead (192.0.2.99)" "$out" 'NS[[:space:]]+nsdead\.lab\.test\.' 'NS[[:space:]]+ns1\.lab\.test\.'
has "ntp.lab.test A" "$(q +norec +short @192.0.2.53 ntp.lab.test A)" '^192\.0\.2\.123$'
has "nsdead.lab.test A" "$(q +norec +short @192.0.2.53 nsdead.lab.test A)" '^192\.0\.2\.99$'
out=$(q +norec @192.0.2.54 _acme-challenge.dead.test TXT)
has "dead: CNAME into deadalias.test, TXT there" "$out" 'CNAME[[:space:]]+_acme-challenge\.deadalias\.test\.' '"dead-token-value"'
has "dead: apex AAAA on the blackholed path" "$(q +norec +short @192.0.2.53 dead.test AAAA)" '^2001:db8:dead::80$'
has "caa CAA" "$(q +norec +short @192.0.2.53 caa.test CAA)" '^0 issue "ca.example.net"$'
has "caa TXT" "$(q +norec +short @192.0.2.53 _acme-challenge.caa.test TXT)" '^"caa-token-value"$'
has "caa www A" "$(q +norec +short @192.0.2.53 www.caa.test A)" '^192\.0\.2\.81$'
has "split TXT at ns1" "$(q +norec +short @192.0.2.53 _acme-challenge.split.test TXT)" '^"split-token-value"$'
has "split apex A" "$(q +norec +short @192.0.2.53 split.test A)" '^192\.0\.2\.80$'
has "wait: no TXT at first" "$(q +norec @192.0.2.53 _acme-challenge.wait.test TXT)" 'status: NXDOMAIN'
out=$(q +norec +ignore @192.0.2.53 _acme-challenge.big.test TXT)
has "big: UDP reply truncated" "$out" 'flags: qr aa tc'
out=$(q +norec +tcp @192.0.2.53 _acme-challenge.big.test TXT +short)
n=$(grep -c . <<<"$out"); d=$(sort -u <<<"$out" | grep -c .)
if [ "$n" -eq 300 ] && [ "$d" -eq 300 ]; then ok "big: 300 distinct TXT over TCP"; else not_ok "big: 300 distinct TXT over TCP" "$n records, $d distinct"; fi
n=$(q +norec @192.0.2.54 _acme-challenge.big.test TXT +short | grep -c . || true)
if [ "$n" -eq 300 ]; then ok "big: dig falls back to TCP at ns2"; else not_ok "big: dig falls back to TCP at ns2" "$n records"; fi

echo "# version.bind"
has "ns1 version.bind" "$(q +short @192.0.2.53 version.bind CH TXT)" '^"NSD 4\.'
has "resolver version.bind" "$(q +short @192.0.2.10 version.bind CH TXT)" '^"dnsmasq-2\.'

echo "# the plain resolver (dnsmasq forwarding to ns1)"
out=$(q @192.0.2.10 _acme-challenge.cname.test TXT)
has "resolver: CNAME and TXT" "$out" 'status: NOERROR' 'flags: qr.* rd ra' 'CNAME[[:space:]]+cname-test\.delegate\.test\.' '"delegated-token-value"'
has "resolver v6: healthy TXT" "$(q +short @2001:db8::10 _acme-challenge.healthy.test TXT)" '^"healthy-token-value"$'
has "resolver: big.test over TCP" "$(q +tcp @192.0.2.10 _acme-challenge.big.test TXT)" 'ANSWER: 300'
out=$(q @192.0.2.10 split.test SOA)
has "split override: SOA split.test is NODATA at the resolver" "$out" 'status: NOERROR' 'ANSWER: 0' 'AUTHORITY: 0'
has "split override: ns1 has the SOA" "$(q +norec @192.0.2.53 split.test SOA)" "$AA" "$SOA1"
has "split override: SOA test still works" "$(q @192.0.2.10 test SOA)" 'status: NOERROR' 'ANSWER: 1' "$SOA1"
has "split override: split.test A is the local record" "$(q @192.0.2.10 split.test A)" 'split\.test\.[[:space:]]+0[[:space:]]+IN[[:space:]]+A[[:space:]]+192\.0\.2\.80'
has "split override: _acme-challenge.split.test NXDOMAIN at the resolver" "$(q @192.0.2.10 _acme-challenge.split.test TXT)" 'status: NXDOMAIN'
has "stale override: stale.web.test A is the resolver's own record" "$(q @192.0.2.10 stale.web.test A)" 'stale\.web\.test\.[[:space:]]+0[[:space:]]+IN[[:space:]]+A[[:space:]]+192\.0\.2\.86' 'ANSWER: 1,'
has "stale override: ns1 has another address" "$(q +norec +short @192.0.2.53 stale.web.test A)" '^192\.0\.2\.80$'
has "stale override: AAAA stale.web.test is NODATA at the resolver" "$(q @192.0.2.10 stale.web.test AAAA)" 'status: NOERROR' 'ANSWER: 0'
has "limit.web.test: 17 A at ns1" "$(q +norec @192.0.2.53 limit.web.test A)" 'ANSWER: 17,'

echo "# filterwin2k and filter-rr=SOA (what dnsmasq 2.90 really answers)"
out=$(q @192.0.2.11 healthy.test SOA)
has "filterwin2k: SOA healthy.test NOERROR, no answer, no authority" "$out" 'status: NOERROR' 'ANSWER: 0' 'AUTHORITY: 0'
has "filterwin2k: SOA test filtered too" "$(q @192.0.2.11 test SOA)" 'status: NOERROR' 'ANSWER: 0' 'AUTHORITY: 0'
has "filterwin2k: TXT passes" "$(q +short @192.0.2.11 _acme-challenge.healthy.test TXT)" '^"healthy-token-value"$'
out=$(q @192.0.2.12 healthy.test SOA)
has "filter-rr=SOA: the SOA is still in the answer, with EDE 17" "$out" 'status: NOERROR' 'ANSWER: 1' 'EDE: 17 \(Filtered\)' "$SOA1"
has "filter-rr=SOA: TXT passes" "$(q +short @192.0.2.12 _acme-challenge.healthy.test TXT)" '^"healthy-token-value"$'

echo "# unbound (a real recursive resolver from the lab root) and the routers in front of it"
out=$(q @192.0.2.20 _acme-challenge.cname.test TXT)
has "unbound: recursion, follows the CNAME into delegate.test" "$out" 'status: NOERROR' 'flags: qr rd ra;' 'CNAME[[:space:]]+cname-test\.delegate\.test\.' '"delegated-token-value"'
has "unbound v6: healthy TXT" "$(q +short @2001:db8::20 _acme-challenge.healthy.test TXT)" '^"healthy-token-value"$'
has "unbound: NXDOMAIN with the zone's SOA" "$(q @192.0.2.20 nosuch.healthy.test A)" 'status: NXDOMAIN' '^healthy\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+SOA'
has "unbound: refuses RD=0 for what it has not cached" "$(q +norec @192.0.2.20 www.caa.test A)" 'status: (REFUSED|NOERROR)'
has "router (dnsmasq -> unbound): healthy TXT" "$(q +short @192.0.2.21 _acme-challenge.healthy.test TXT)" '^"healthy-token-value"$'
has "router-filter (--filterwin2k -> unbound): SOA filtered" "$(q @192.0.2.22 healthy.test SOA)" 'status: NOERROR' 'ANSWER: 0' 'AUTHORITY: 0'
has "router-filter: TXT passes" "$(q +short @192.0.2.22 _acme-challenge.healthy.test TXT)" '^"healthy-token-value"$'
has "unbound: the dead nameserver does not stop it" "$(q +short @192.0.2.20 _acme-challenge.dead.test TXT)" '"dead-token-value"'

echo "# the junk responders"
has "silent: no answer over UDP" "$(q +time=1 @192.0.2.99 healthy.test SOA)" 'timed out|no servers could be reached'
has "silent: no answer over TCP" "$(q +time=1 +tcp @192.0.2.99 healthy.test SOA)" 'timed out|no servers could be reached'
out=$(q +time=1 @192.0.2.98 healthy.test SOA)
lacks "garbage: no valid answer" "$out" 'status: NOERROR'
out=$(q +time=1 @192.0.2.97 healthy.test SOA +ignore)
has "tc: UDP reply is the question with QR and TC" "$out" 'flags: qr tc' 'QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0'
has "tc: TCP closed at once" "$(q +time=1 +tcp @192.0.2.97 healthy.test SOA)" 'end of file|connection reset|communications error|no servers could be reached'
has "short: 5-byte reply" "$(q +time=1 @192.0.2.96 healthy.test SOA)" 'unexpected end of input|short|Message too short|FORMERR|communications error|no servers could be reached'

echo "# TLS-ALPN-01: the s_server responders, the ssl_preread routers, plain HTTP on 443"
# tls ADDR NAME [ALPN]: openssl s_client's view of a handshake (acme-tls/1
# offered unless ALPN is "-"), the certificate's text after it
tls() {
	local alpn=(-alpn "${3:-acme-tls/1}")
	[ "${3:-}" != - ] || alpn=()
	"$LAB" run "$state" bash -c 'echo | timeout 5 openssl s_client -connect "$1" -servername "$2" "${@:3}" 2>&1 |
		tee /dev/stderr | openssl x509 -noout -text 2>/dev/null' _ "$1" "$2" "${alpn[@]}" 2>&1 || true
}
ka=$(cat "$state/alpn/ka")
digest=$(printf '%s' "$ka" | openssl dgst -sha256 -binary | od -An -v -tx1 | tr -d ' \n')
has "alpn/ka: the lab's key authorization" "$ka" '^alpn-token\.'
for n in good fallback noncrit twonames noext malformed v6wrong; do
	out=$(q +norec +short @192.0.2.53 "alpn-$n.web.test" A)
	addr=${out##*$'\n'}
	has "alpn-$n: acme-tls/1 negotiated at $addr, self-signed" "$(tls "$addr:443" "alpn-$n.web.test")" \
		'ALPN protocol: acme-tls/1' "Issuer: CN ?= ?alpn-$n\.web\.test" "DNS:alpn-$n\.web\.test"
done
has "alpn-good: the acmeIdentifier holds SHA-256 of the key authorization, critical" \
	"$(tls 192.0.2.141:443 alpn-good.web.test)" '1\.3\.6\.1\.5\.5\.7\.1\.31: critical'
out=$(openssl x509 -in "$state/alpn/alpn-good.pem" -outform DER | od -An -v -tx1 | tr -d ' \n')
has "alpn-good: the value's bytes are 04 20 and the digest" "$out" "0420$digest"
has "alpn-noncrit: acmeIdentifier not critical" "$(tls 192.0.2.143:443 alpn-noncrit.web.test)" '1\.3\.6\.1\.5\.5\.7\.1\.31: *$'
has "alpn-twonames: two names" "$(tls 192.0.2.144:443 alpn-twonames.web.test)" 'DNS:alpn-twonames\.web\.test, DNS:www\.alpn-twonames\.web\.test'
lacks "alpn-noext: no acmeIdentifier" "$(tls 192.0.2.145:443 alpn-noext.web.test)" '1\.3\.6\.1\.5\.5\.7\.1\.31'
for a in 192.0.2.142 '[2001:db8::142]'; do
	has "alpn-casigned $a: acme-tls/1, signed by the lab CDN CA" "$(tls "$a:443" alpn-casigned.web.test)" \
		'ALPN protocol: acme-tls/1' 'Issuer: CN ?= ?acme-diag lab CDN CA'
done
out=$(tls 192.0.2.147:443 alpn-cdn.web.test)
has "alpn-cdn: ALPN ignored, an ordinary certificate of the CDN CA" "$out" 'No ALPN negotiated' 'Issuer: CN ?= ?acme-diag lab CDN CA'
for a in 192.0.2.152 '[2001:db8::152]'; do
	has "ssl_preread $a: acme-tls/1 to the alpn-preread responder" "$(tls "$a:443" alpn-preread.web.test)" \
		'ALPN protocol: acme-tls/1' 'Subject: CN ?= ?alpn-preread\.web\.test'
	has "ssl_preread $a: http/1.1 to the web server" "$(tls "$a:443" alpn-preread.web.test http/1.1)" 'Subject: CN ?= ?tls\.web\.test'
done
has "ssl_preread 192.0.2.92: acme-tls/1 to lego's port, closed without lego" \
	"$(tls 192.0.2.92:443 alpn-lego.web.test)" 'no peer certificate available'
has "ssl_preread 192.0.2.92: no ALPN to the web server" "$(tls 192.0.2.92:443 alpn-lego.web.test -)" 'Subject: CN ?= ?tls\.web\.test'
has "nginx 192.0.2.80: refuses acme-tls/1 (alert 120)" "$(tls 192.0.2.80:443 ok.web.test)" 'alert number 120|no application protocol'
has "alpn-http: plain HTTP on port 443" "$("$LAB" run "$state" curl -s -o /dev/null -w '%{http_code}' http://192.0.2.149:443/ 2>&1)" '^404$'
has "alpn-v6dead: AAAA on the blackholed path" "$(q +norec +short @192.0.2.53 alpn-v6dead.web.test AAAA)" '^2001:db8:dead::92$'
has "alpn-v6other: AAAA at nginx" "$(q +norec +short @192.0.2.53 alpn-v6other.web.test AAAA)" '^2001:db8::80$'
echo "# the PKI (tests/lab/pki.sh): CRLs, OCSP, TLS servers"
P=$state/pki
# r CMD...: a command in the lab, stdout and stderr, never failing
r() { "$LAB" run "$state" "$@" 2>&1 || true; }
has "nginx serves the CRL, as openssl reads it" "$(r sh -c "curl -s http://192.0.2.91/inter.crl | openssl crl -inform DER -noout -CAfile $P/inter.pem -issuer")" 'verify OK|acme-diag lab Inter'
has "openssl ocsp: leaf-revoked revoked" "$(r openssl ocsp -issuer "$P/inter.pem" -cert "$P/leaf-revoked.pem" -url http://192.0.2.92:8093/ -CAfile "$P/root.pem" -timeout 3)" 'leaf-revoked.pem: revoked'
has "nginx TLS 192.0.2.93: tlsmix's renewed chain" "$(r sh -c "openssl s_client -connect 192.0.2.93:443 -servername tlsmix.web.test -CAfile $P/root.pem </dev/null")" 'Verify return code: 0'
has "nginx TLS [2001:db8::93]: the old certificate" "$(r sh -c "openssl s_client -connect [2001:db8::93]:443 -servername tlsmix.web.test </dev/null | openssl x509 -noout -serial")" "serial=$(openssl x509 -in "$P/leaf-web-old.pem" -noout -serial | cut -d= -f2)"
has "openssl s_server 192.0.2.93:8443: four certificates sent" "$(r sh -c "openssl s_client -connect 192.0.2.93:8443 -showcerts </dev/null | grep -c 'BEGIN CERTIFICATE'")" '^4$'
has "nginx: the renewalInfo stand-in's directory" "$(r curl -s http://192.0.2.91/acme/directory)" '"renewalInfo": "http://192.0.2.91/acme/renewal-info/"'

echo "# lab.sh run and lab.sh zone"
has "run: the system resolver is 192.0.2.10" "$(q _acme-challenge.healthy.test TXT)" 'SERVER: 192\.0\.2\.10#53' '"healthy-token-value"'
set +e; "$LAB" run "$state" sh -c 'exit 7'; rc=$?; set -e
if [ "$rc" -eq 7 ]; then ok "run: exit status passed through"; else not_ok "run: exit status passed through" "got $rc"; fi
if "$LAB" zone "$state" both wait.test "$HERE/zones/wait.test.with-txt"; then
	for s in 192.0.2.53 192.0.2.54; do
		has "zone: $s serves the new wait.test" "$(q +norec @$s _acme-challenge.wait.test TXT)" "$AA" '"wait-token-value"'
		has "zone: $s serial 2026112202" "$(q +norec +short @$s wait.test SOA)" ' 2026112202 '
	done
else
	not_ok "zone: both wait.test wait.test.with-txt"
fi
if "$LAB" zone "$state" both wait.test "$HERE/zones/wait.test.zone"; then
	has "zone: and back (serial down to 2026112201)" "$(q +norec @192.0.2.54 _acme-challenge.wait.test TXT)" 'status: NXDOMAIN'
else
	not_ok "zone: back to wait.test.zone"
fi
if "$LAB" zone "$state" ns1 missing.test "$HERE/zones/ns2/missing.test.zone"; then
	has "zone: a lower serial is served too" "$(q +norec @192.0.2.53 _acme-challenge.missing.test TXT)" 'status: NXDOMAIN'
else
	not_ok "zone: ns1 missing.test with ns2's file"
fi
"$LAB" zone "$state" ns1 missing.test "$HERE/zones/missing.test.zone"
has "zone: ns1 missing.test restored" "$(q +norec +short @192.0.2.53 _acme-challenge.missing.test TXT)" '"missing-token-value"'
if "$LAB" zone "$state" ns1 nosuch.test "$HERE/zones/wait.test.zone" 2>/dev/null; then
	not_ok "zone: refuses a zone the instance does not serve"
else
	ok "zone: refuses a zone the instance does not serve"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
