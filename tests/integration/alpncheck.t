#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-alpncheck against the lab's TLS-ALPN-01 responders (openssl s_server
# with a crafted certificate per defect, nginx ssl_preread routers, nginx
# refusing acme-tls/1, plain HTTP on 443, a blackholed IPv6 path), and the
# verdict checked against the real CA: Pebble validating lego's TLS-ALPN-01
# challenge through the ssl_preread router.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 81

ka=$(cat "$LAB_STATE/alpn/ka")
A() { run_tool acme-alpncheck --json --timeout 2 "$@"; }
addr() { finding tlsalpn01.addr "$1" "$2"; }
ca() { finding tlsalpn01.ca "$1" "$2"; }
# says ID TARGET REGEX: the summary of that finding matches (jq's test)
says() {
	jq_true "[.checks[] | select(.id==\"$1\" and .target==\"$2\")][0].summary | test(\"$3\")"
}
sha256() { printf '%s' "$1" | openssl dgst -sha256 -binary | od -An -v -tx1 | tr -d ' \n'; }
PRE='Incorrect validation certificate for tls-alpn-01 challenge\\. '

# A good challenge certificate, for the lab's key authorization.
A --ca-profile pebble --key-authorization "$ka" alpn-good.web.test
check "good: exit 0" rc_is 0
check "good: the address is ok" addr 192.0.2.141 ok
check "good: the CA's view is ok" ca alpn-good.web.test ok
check "good: acme-tls/1 negotiated, TLS 1.2 or newer" jq_true '[.checks[] | select(.id=="tlsalpn01.addr")][0].evidence.handshake | .alpn == "acme-tls/1" and (.tls_version == "TLSv1.2" or .tls_version == "TLSv1.3")'
check "good: the value read is SHA-256 of the key authorization" jq_true "[.checks[] | select(.id==\"tlsalpn01.addr\")][0].evidence | .certificate.acme_identifier.value == \"$(sha256 "$ka")\" and .expected_value == .certificate.acme_identifier.value and .certificate.acme_identifier.critical"
A --ca-profile pebble alpn-good.web.test
check "good, pre-flight: ok, the value not compared" says tlsalpn01.addr 192.0.2.141 'value not compared'
check "good, pre-flight: exit 0" rc_is 0
A --key-authorization "$ka" alpn-good.web.test
check "letsencrypt: a documentation address is refused by the CA" finding tlsalpn01.reserved 192.0.2.141 fail
check "letsencrypt: still probed" addr 192.0.2.141 ok
other=alpn-token.another-thumbprint
A --ca-profile rfc8555 --key-authorization "$other" alpn-good.web.test
check "another key authorization: fail" ca alpn-good.web.test fail
check "another key authorization: Boulder's words, the received and expected values" \
	says tlsalpn01.addr 192.0.2.141 "^${PRE}Requested alpn-good\\\\.web\\\\.test from 192\\\\.0\\\\.2\\\\.141:443\\\\. Received certificate with acmeValidationV1 extension value $(sha256 "$ka") but expected $(sha256 "$other")\\\\.$"
check "another key authorization: the digests in the detail" jq_true '[.checks[] | select(.id=="tlsalpn01.addr")][0].detail | test("^Expected SHA-256")'
A --ca-profile pebble --key-authorization "$other" alpn-good.web.test
check "another key authorization, pebble: Pebble's words" says tlsalpn01.addr 192.0.2.141 "${PRE}Invalid acmeValidation extension value\\\\.$"

# Every certificate defect, in Boulder's words (and Pebble's, where they differ).
A --ca-profile rfc8555 --key-authorization "$ka" alpn-casigned.web.test
check "CA-signed: not self-signed" says tlsalpn01.addr 192.0.2.142 'Received certificate which is not self-signed\\.$'
check "CA-signed: exit 1" rc_is 1
check "CA-signed: on both families" addr 2001:db8::142 fail
A --ca-profile pebble --key-authorization "$ka" alpn-casigned.web.test
check "CA-signed, pebble: Pebble does not check self-signature" ca alpn-casigned.web.test ok
A --ca-profile rfc8555 --key-authorization "$ka" alpn-noncrit.web.test
check "non-critical acmeIdentifier" says tlsalpn01.addr 192.0.2.143 'Received certificate with acmeValidationV1 extension that is not Critical\\.$'
A --ca-profile pebble --key-authorization "$ka" alpn-noncrit.web.test
check "non-critical, pebble: counted as missing" says tlsalpn01.addr 192.0.2.143 "${PRE}Missing acmeValidationV1 extension\\\\.$"
A --ca-profile rfc8555 --key-authorization "$ka" alpn-twonames.web.test
check "two names: Boulder's identifiers error, names sorted" says tlsalpn01.addr 192.0.2.144 'Received certificate with unexpected identifiers \\(\"alpn-twonames\\.web\\.test, www\\.alpn-twonames\\.web\\.test\"\\): \"wrong number of identifiers\"$'
A --ca-profile pebble --key-authorization "$ka" alpn-twonames.web.test
check "two names, pebble: CN and names as Pebble lists them" says tlsalpn01.addr 192.0.2.144 'Received 1 certificate\\(s\\), first certificate had names \"alpn-twonames\\.web\\.test, alpn-twonames\\.web\\.test, www\\.alpn-twonames\\.web\\.test\"$'
A --ca-profile rfc8555 --key-authorization "$ka" alpn-noext.web.test
check "no acmeIdentifier: an unexpected-extensions error (checked before the value)" says tlsalpn01.addr 192.0.2.145 'Received certificate with unexpected extensions: \"Required extension OID 1\\.3\\.6\\.1\\.5\\.5\\.7\\.1\\.31 is not present\"$'
check "no acmeIdentifier: evidence says absent" jq_true '[.checks[] | select(.id=="tlsalpn01.addr")][0].evidence.certificate.acme_identifier.present == false'
A --ca-profile rfc8555 --key-authorization "$ka" alpn-malformed.web.test
check "31-byte value: malformed" says tlsalpn01.addr 192.0.2.146 'Received certificate with malformed acmeValidationV1 extension value\\.$'
A --ca-profile pebble --key-authorization "$ka" alpn-malformed.web.test
check "31-byte value, pebble: well-formed DER, another value" says tlsalpn01.addr 192.0.2.146 'Invalid acmeValidation extension value\\.$'

# What answers instead of a responder.
A --ca-profile pebble alpn-cdn.web.test
check "ALPN ignored: Boulder's words" says tlsalpn01.addr 192.0.2.147 'Cannot negotiate ALPN protocol \"acme-tls/1\" for tls-alpn-01 challenge'
check "ALPN ignored: the issuer named" says tlsalpn01.addr 192.0.2.147 'issued by CN=acme-diag lab CDN CA'
check "ALPN ignored: fail before a challenge too" rc_is 1
A --ca-profile pebble ok.web.test
check "nginx refuses acme-tls/1: the alert" says tlsalpn01.addr 192.0.2.80 'no application protocol'
check "nginx refuses acme-tls/1: what serves TLS without ALPN" says tlsalpn01.addr 192.0.2.80 'without ALPN it serves a certificate for tls\\.web\\.test'
check "nginx refuses acme-tls/1: a failure" ca ok.web.test fail
check "nginx refuses acme-tls/1: the second handshake in evidence" jq_true '[.checks[] | select(.id=="tlsalpn01.addr")][0].evidence | .handshake.alert == 120 and .without_alpn.certificate.names == "tls.web.test"'
A --ca-profile pebble alpn-http.web.test
check "plain HTTP on 443" says tlsalpn01.addr 192.0.2.149 'Server only speaks HTTP, not TLS'
A --ca-profile pebble tls10.web.test
check "TLS 1.0 only: the server's alert" says tlsalpn01.addr 192.0.2.84 'protocol version not supported'

# nginx ssl_preread sends acme-tls/1 to a responder, the rest to the web server.
A --ca-profile pebble --key-authorization "$ka" alpn-preread.web.test
check "ssl_preread router: ok on IPv6" addr 2001:db8::152 ok
check "ssl_preread router: ok on IPv4" addr 192.0.2.152 ok
check "ssl_preread router: the same responder behind both" finding tlsalpn01.consistency alpn-preread.web.test ok
check "ssl_preread router: exit 0" rc_is 0

# Profiles: Boulder falls back to the first A after any error up to the end
# of the handshake, not after a handshake that completes; Pebble never does.
A --key-authorization "$ka" alpn-fallback.web.test
check "IPv6 refuses, letsencrypt: saved by the fallback is a warning" ca alpn-fallback.web.test warn
check "IPv6 refuses, letsencrypt: the CA ends on IPv4" jq_true '[.checks[] | select(.id=="tlsalpn01.ca")][0].evidence | .fallback == true and .address == "192.0.2.151"'
check "IPv6 refuses: the IPv6 address warns" addr 2001:db8::80 warn
check "IPv6 refuses: a fallback-eligible error" jq_true '[.checks[] | select(.id=="tlsalpn01.addr" and .target=="2001:db8::80")][0].evidence.fallback_eligible'
A --ca-profile pebble --key-authorization "$ka" alpn-fallback.web.test
check "IPv6 refuses, pebble: fail" ca alpn-fallback.web.test fail
check "IPv6 refuses, pebble: Pebble's words" says tlsalpn01.ca alpn-fallback.web.test 'Failed to connect to \\[2001:db8::80\\]:443 for the tls-alpn-01 challenge'
A --key-authorization "$ka" alpn-v6wrong.web.test
check "IPv6 completes with a wrong certificate, letsencrypt: fail, no fallback" jq_true '[.checks[] | select(.id=="tlsalpn01.ca")][0] | .status == "fail" and .evidence.fallback == false and .evidence.address == "2001:db8::142"'
check "IPv6 completes: the detail says why there is no fallback" jq_true '[.checks[] | select(.id=="tlsalpn01.ca")][0].detail | test("falls back to IPv4 only after errors")'
check "IPv6 completes: the families present different certificates" says tlsalpn01.consistency alpn-v6wrong.web.test 'different certificates'
check "IPv6 completes: each fingerprint in evidence" jq_true '[.checks[] | select(.id=="tlsalpn01.consistency")][0].evidence.sha256 | (.["2001:db8::142"] != .["192.0.2.150"]) and (.["192.0.2.150"] | length == 64)'
A --ca-profile pebble alpn-v6dead.web.test
check "IPv6 blackholed, pebble: connect timeout" says tlsalpn01.ca alpn-v6dead.web.test 'Timeout during connect \\(likely firewall problem\\)'
check "IPv6 blackholed, pebble: fail" ca alpn-v6dead.web.test fail
A alpn-v6dead.web.test
check "IPv6 blackholed, letsencrypt: the CA tries IPv4" jq_true '[.checks[] | select(.id=="tlsalpn01.ca")][0].evidence | .fallback == true and .address == "192.0.2.92"'
A --key-authorization "$ka" -6 alpn-v6dead.web.test
check "IPv6 only (-6), letsencrypt: Boulder's no-fallback words" says tlsalpn01.ca alpn-v6dead.web.test 'Unable to contact \"alpn-v6dead\\.web\\.test\" at \"2001:db8:dead::92\", no IPv4 addresses to try as fallback'
check "-6: only IPv6 probed" jq_true '[.checks[] | select(.id=="tlsalpn01.addr")] | length == 1 and .[0].target == "2001:db8:dead::92"'

# Outside a challenge: a router whose acme-tls/1 backend is down closes
# the connection (a warning); during one, the same is a failure.
A --ca-profile pebble alpn-lego.web.test
check "router, backend down, pre-flight: warn" ca alpn-lego.web.test warn
check "router, backend down, pre-flight: exit 0" rc_is 0
A --ca-profile pebble --key-authorization "$ka" alpn-lego.web.test
check "router, backend down, during a challenge: fail" ca alpn-lego.web.test fail
# The same warning in text: -q keeps only what is not ok, -v adds the
# details and evidence, --strict makes the warning an exit 1.
run_tool acme-alpncheck --timeout 2 --ca-profile pebble -q alpn-lego.web.test
check "-q: the warnings shown, no ok line" \
	bash -c "grep -q '^warn  tlsalpn01.ca ' '$T_TMP/out' && ! grep -q '^ok ' '$T_TMP/out' && [ $RC -eq 0 ]"
run_tool acme-alpncheck --timeout 2 --ca-profile pebble -v alpn-lego.web.test
check "-v: the evidence of every finding (6) and the CA's detail" \
	bash -c "[ \$(grep -c '^      evidence: {' '$T_TMP/out') -eq 6 ] && grep -q '^ok    tlsalpn01.dns ' '$T_TMP/out' && grep -q 'Pebble uses only the first address and never falls back to IPv4' '$T_TMP/out'"
run_tool acme-alpncheck --timeout 2 --ca-profile pebble --strict alpn-lego.web.test
check "--strict: the warn verdict exits 1" rc_is 1

# -4: the AAAA is not probed.
A --ca-profile pebble --key-authorization "$ka" -4 alpn-preread.web.test
check "-4: only the IPv4 address probed" jq_true '[.checks[] | select(.id=="tlsalpn01.addr")] | length == 1 and .[0].target == "192.0.2.152"'
check "-4: the CA's view from it, exit 0" bash -c "[ $RC -eq 0 ] && jq -e '[.checks[] | select(.id==\"tlsalpn01.ca\")][0].evidence.address == \"192.0.2.152\"' '$T_TMP/out'"

# Resolvers and the address bound: the same as acme-httpcheck's.
A --ca-profile pebble --key-authorization "$ka" --ns 192.0.2.99 --ns 192.0.2.10 alpn-good.web.test
check "dead first --ns: named in tlsalpn01.dns" says tlsalpn01.dns alpn-good.web.test '\\(resolver 192\\.0\\.2\\.10\\); 192\\.0\\.2\\.99 did not answer \\(timed out\\)'
check "dead first --ns: the address still checked" addr 192.0.2.141 ok
A --ca-profile rfc8555 --ns 192.0.2.53 limit.web.test
check "17 A under rfc8555: tlsalpn01.limit warns" finding tlsalpn01.limit limit.web.test warn
check "17 A: 16 probed" jq_true '[.checks[] | select(.id=="tlsalpn01.addr")] | length == 16'
A --ca-profile pebble nosuch.web.test
check "no address: tlsalpn01.dns fails" finding tlsalpn01.dns nosuch.web.test fail

# Text and JSON carry the same findings.
check "--json has as many checks as the text has findings" \
	same_findings acme-alpncheck --timeout 2 --ca-profile pebble ok.web.test

# Bad arguments: exit 2 with a reason.
for bad in "--ca-profile boulder alpn-good.web.test" "--port 0 alpn-good.web.test" "*.alpn-good.web.test" \
	"--key-authorization nodot alpn-good.web.test" "" "alpn-good.web.test alpn-cdn.web.test"; do
	run_tool acme-alpncheck $bad
	check "usage: '$bad' exits 2" rc_is 2
done
run_tool acme-alpncheck '*.alpn-good.web.test'
check "usage: a wildcard is refused with a reason" err_has "wildcard names can only be validated with DNS-01"

# The CA's identifier policy first: a name it refuses is not connected to.
A 192.0.2.141
check "an IP address as a name: exit 1" rc_is 1
check "an IP address as a name: refused in the CA's words" \
	jq_true '[.checks[] | select(.id=="acme.identifier")][0] | .status == "fail" and (.summary | test("IP address"))'
check "an IP address as a name: not probed" jq_true '[.checks[] | select(.id | startswith("tlsalpn01."))] | length == 0'
A --key-authorization "$ka" alpn-good.web.test
check "a lab name (.test): the public-suffix rule left to the CA, then probed" \
	jq_true '([.checks[] | select(.id=="acme.identifier")][0].status == "skip") and ([.checks[] | select(.id=="tlsalpn01.addr" and .status=="ok")] | length == 1)'

# The real CA agrees: Pebble (tlsPort 443) validating lego's TLS-ALPN-01
# challenge through the ssl_preread router at 192.0.2.92, which sends
# acme-tls/1 to lego at 192.0.2.91:10443. The tool is run before the
# challenge (lego's certificate exists only while lego runs): a healthy
# set-up is not a failure, a broken one is.
lego_run() { # lego_run DOMAIN: 0 if Pebble issued a certificate
	rm -rf "$T_TMP/lego"
	"$LAB_SH" run "$LAB_STATE" env LEGO_CA_CERTIFICATES="$LAB_STATE/pebble/ca.pem" \
		lego --server https://192.0.2.90:14000/dir --path "$T_TMP/lego" --email admin@web.test \
		--accept-tos --domains "$1" --tls --tls.port 192.0.2.91:10443 run >"$T_TMP/lego.log" 2>&1
}
for d in lego v6other v6dead; do
	A --ca-profile pebble alpn-$d.web.test
	tool_fail=$(jq -r '[.checks[] | select(.id=="tlsalpn01.ca")][0].status == "fail"' "$T_TMP/out")
	lego_run alpn-$d.web.test; lego_rc=$?
	if [ "$d" = lego ]; then
		check "pebble issued for alpn-$d.web.test, tool agrees" bash -c "[ $lego_rc -eq 0 ] && [ $tool_fail = false ]"
	else
		check "pebble refused alpn-$d.web.test, tool agrees" bash -c "[ $lego_rc -ne 0 ] && [ $tool_fail = true ]"
	fi
done
done_testing
