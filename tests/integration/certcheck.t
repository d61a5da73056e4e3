#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-certcheck against real servers: nginx serving tlsmix.web.test's
# renewed full chain on IPv4 and an old one on IPv6 (not reloaded), the leaf
# alone (cert.pem instead of fullchain.pem), openssl s_server sending its
# chain out of order with the root, certificates of every lifetime from the
# lab PKI (openssl ca), and ARI from a stand-in renewalInfo server: Pebble
# 2.4 serves no ARI, so nginx serves a directory naming renewalInfo and the
# answers this test writes (tests/lab/pki.sh).
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 46

P=$LAB_STATE/pki
C() { run_tool acme-certcheck --json --timeout 2 "$@"; }
st() { finding "$@"; }
h4="tlsmix.web.test:443 192.0.2.93"
h6="tlsmix.web.test:443 2001:db8::93"

# The renewed certificate on IPv4, the old one still served on IPv6.
C --host tlsmix.web.test --cert "$P/leaf-web.fullchain.pem" --key "$P/leaf-web.key" --ca-bundle "$P/root.pem"
check "IPv4 serves the renewed certificate" st cert.served "$h4" ok
check "IPv6 still serves the old one: reload named" jq_true "[.checks[] | select(.id==\"cert.served\" and .target==\"$h6\")][0] | .status==\"fail\" and (.summary | test(\"not reloaded\")) and (.hint | test(\"nginx -s reload\"))"
check "the addresses differ" st cert.consistency tlsmix.web.test:443 warn
check "each address's chain verified" jq_true '[.checks[] | select(.id=="cert.chain" and .status=="ok")] | length == 2'
check "the key matches" st cert.key "$P/leaf-web.fullchain.pem" ok
check "the host's name is covered" st cert.names "$P/leaf-web.fullchain.pem" ok
check "a 90-day certificate is recognised" jq_true "[.checks[] | select(.id==\"cert.validity\" and .target==\"$P/leaf-web.fullchain.pem\")][0].summary | test(\"classic profile, 90 days\")"
check "exit 1" rc_is 1
C -4 --host tlsmix.web.test --cert "$P/leaf-web.fullchain.pem" --ca-bundle "$P/root.pem"
check "-4: only the IPv4 address" jq_true '[.checks[] | select(.id=="cert.served")] | length == 1 and .[0].status == "ok"'
check "-4: exit 0" rc_is 0

# --ns: the name resolved through the lab's unbound, which answers what
# web.test serves (192.0.2.80), not the plain resolver's override (.86).
C --ns 192.0.2.20 --host stale.web.test
check "--ns 192.0.2.20: stale.web.test at 192.0.2.80 as its zone says, served" \
	jq_true '[.checks[] | select(.id=="cert.served")] | length == 1 and .[0].target == "stale.web.test:443 192.0.2.80" and .[0].status == "ok"'
C --host stale.web.test
check "without --ns: the system resolver's override, 192.0.2.86, is what is probed" \
	jq_true '[.checks[] | select(.id=="cert.served")] | length == 1 and .[0].target == "stale.web.test:443 192.0.2.86"'

# -q keeps what is not ok; -v adds the evidence.
run_tool acme-certcheck --timeout 2 -q --host tlsmix.web.test --cert "$P/leaf-web.fullchain.pem" --ca-bundle "$P/root.pem"
check "-q: the failure and the warning, no ok line, no evidence" \
	bash -c "grep -q '^fail  cert.served ' '$T_TMP/out' && grep -q '^warn  cert.consistency ' '$T_TMP/out' && ! grep -q '^ok ' '$T_TMP/out' && ! grep -q 'evidence:' '$T_TMP/out'"
run_tool acme-certcheck --timeout 2 -v --host tlsmix.web.test --cert "$P/leaf-web.fullchain.pem" --ca-bundle "$P/root.pem"
check "-v: the ok lines too, with their evidence" \
	bash -c "grep -q '^ok    cert.chain ' '$T_TMP/out' && [ \$(grep -c '^      evidence: {' '$T_TMP/out') -ge 6 ]"

# The chain as served.
C --host 192.0.2.94 --name tlsmix.web.test --ca-bundle "$P/root.pem"
check "leaf only: the cert.pem mistake named" jq_true '[.checks[] | select(.id=="cert.chain")][0] | .status=="fail" and (.summary | test("fullchain.pem")) and .evidence.length == 1'
C --host 192.0.2.93:8443 --name tlsmix.web.test --ca-bundle "$P/root.pem"
check "s_server: out of order, duplicated, root included: a warning" jq_true '[.checks[] | select(.id=="cert.chain")][0] | .status=="warn" and .evidence.in_order==false and .evidence.root_included and .evidence.duplicates >= 1'
C --host 192.0.2.93 --name tlsmix.web.test
check "a private root not trusted: fails with OpenSSL's reason" jq_true '[.checks[] | select(.id=="cert.chain")][0] | .status=="fail" and .evidence.verify_error == 20'

# Names and keys.
C --host 192.0.2.93 --name tlsmix.web.test --name www.tlsmix.web.test --name other.example --ca-bundle "$P/root.pem"
check "a name not covered: fail, named" jq_true '[.checks[] | select(.id=="cert.names")][0] | .status=="fail" and (.summary | test("other.example")) and (.summary | test("www") | not)'
C --cert "$P/leaf-web.pem" --key "$P/leaf-good.key" --name tlsmix.web.test
check "a key of another certificate: fail, as cert-manager words it" jq_true '[.checks[] | select(.id=="cert.key")][0] | .status=="fail" and (.summary | test("do not have matching public keys"))'
printf -- '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n' >"$T_TMP/bad.key"
C --cert "$P/leaf-web.pem" --key "$T_TMP/bad.key"
check "a key file that is no key: input error" st cert.input "$T_TMP/bad.key" error

# Lifetimes and the renewal window (files only).
C --cert "$P/leaf-due.pem"
check "20 of 90 days left: renewal due" jq_true '[.checks[] | select(.id=="cert.validity")][0] | .status=="warn" and (.summary | test("renewal due"))'
check "renewal due: exit 0 (a warning)" rc_is 0
run_tool acme-certcheck --strict --timeout 2 --cert "$P/leaf-due.pem"
check "renewal due with --strict: exit 1" rc_is 1
C --cert "$P/leaf-expired.pem"
check "expired: fail" jq_true '[.checks[] | select(.id=="cert.validity")][0] | .status=="fail" and (.summary | test("expired"))'
C --cert "$P/leaf-future.pem"
check "not valid yet: fail" jq_true '[.checks[] | select(.id=="cert.validity")][0] | .status=="fail" and (.summary | test("not valid yet"))'
C --cert "$P/leaf-short.pem"
check "160 hours: the shortlived profile, ok" jq_true '[.checks[] | select(.id=="cert.validity")][0] | .status=="ok" and (.summary | test("shortlived"))'

# ARI through the stand-in (nginx serving a directory and renewalInfo files).
dir=http://192.0.2.91/acme/directory
id=$(run_tool acme-certcheck --json --cert "$P/leaf-web.pem" --directory "$dir"; jq -r '[.checks[] | select(.id=="cert.ari")][0].target' "$T_TMP/out")
# the CertID as RFC 9773 builds it, computed here with openssl
aki=$(openssl x509 -in "$P/leaf-web.pem" -noout -ext authorityKeyIdentifier | sed -n 's/^ *\(keyid:\)\{0,1\}\([0-9A-F:]*\)$/\2/p' | tr -d ': \n')
ser=$(openssl x509 -in "$P/leaf-web.pem" -noout -serial | cut -d= -f2)
b64u() { xxd -r -p | base64 -w0 | tr '+/' '-_' | tr -d '='; }
check "CertID: base64url(AKI).base64url(serial)" test "$id" = "$(printf %s "$aki" | b64u).$(printf %s "$ser" | b64u)"
check "unknown to the CA (404): a warning" st cert.ari "$id" warn
ri=$P/acme/renewal-info
past=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ); past2=$(date -u -d '-1 hours' +%Y-%m-%dT%H:%M:%SZ)
printf '{"suggestedWindow":{"start":"%s","end":"%s"},"explanationURL":"https://community.example/incident"}' "$past" "$past2" >"$ri/$id"
C --cert "$P/leaf-web.pem" --directory "$dir"
check "a window in the past: renew now (fail)" jq_true '[.checks[] | select(.id=="cert.ari")][0] | .status=="fail" and (.summary | test("renew now"))'
check "the explanation URL is reported" jq_true '[.checks[] | select(.id=="cert.ari")][0].evidence.explanation_url == "https://community.example/incident"'
check "Retry-After in the evidence" jq_true '[.checks[] | select(.id=="cert.ari")][0].evidence.retry_after_s == 21600'
printf '{"suggestedWindow":{"start":"%s","end":"%s"}}' "$past" "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%S.123+00:00)" >"$ri/$id"
C --cert "$P/leaf-web.pem" --directory "$dir"
check "inside the window: renew now (warn)" st cert.ari "$id" warn
ahead=$(date -u -d '+40 days' +%Y-%m-%dT%H:%M:%SZ)
printf '{"suggestedWindow":{"start":"%s","end":"%s"}}' "$ahead" "$(date -u -d '+42 days' +%Y-%m-%dT%H:%M:%SZ)" >"$ri/$id"
C --cert "$P/leaf-web.pem" --directory "$dir"
check "a window ahead: ok" st cert.ari "$id" ok

# --format prometheus: the certificate's expiry and its renewal window (the
# CA's ARI answer above; without --directory, the window Boulder suggests
# by default: a third of the validity left, 1% earlier).
epoch() { date -u -d "$1" +%s; }
na=$(epoch "$(openssl x509 -in "$P/leaf-web.pem" -noout -enddate | cut -d= -f2)")
nb=$(epoch "$(openssl x509 -in "$P/leaf-web.pem" -noout -startdate | cut -d= -f2)")
run_tool acme-certcheck --format prometheus --cert "$P/leaf-web.pem" --directory "$dir"
check "--format prometheus: promtool check metrics passes" bash -c "promtool check metrics <'$T_TMP/out'"
check "--format prometheus: the expiry and the ARI window's start, by file and CA host" bash -c "
	grep -qxF 'acme_diag_certificate_expiry_timestamp_seconds{name=\"$P/leaf-web.pem\",ca=\"192.0.2.91\"} $na' '$T_TMP/out' &&
	grep -qxF 'acme_diag_certificate_renewal_window_start_timestamp_seconds{name=\"$P/leaf-web.pem\",ca=\"192.0.2.91\"} $(epoch "$ahead")' '$T_TMP/out'"
v=$((na + 1 - nb))
run_tool acme-certcheck --format prometheus --cert "$P/leaf-web.pem"
check "--format prometheus without ARI: the default window's start" \
	grep -qxF "acme_diag_certificate_renewal_window_start_timestamp_seconds{name=\"$P/leaf-web.pem\",ca=\"\"} $((na - v / 3 - v / 100))" "$T_TMP/out"
check "--format prometheus: the check statuses too" grep -qxF "acme_diag_check_status{tool=\"acme-certcheck\",name=\"$P/leaf-web.pem\",check=\"cert.validity\"} 0" "$T_TMP/out"
run_tool acme-certcheck --json --format prometheus --cert "$P/leaf-web.pem"
check "--json --format prometheus: refused (exit 2)" rc_is 2
printf '{"suggestedWindow":{"start":"%s","end":"%s"}}' "$past2" "$past" >"$ri/$id"
C --cert "$P/leaf-web.pem" --directory "$dir"
check "end before start: invalid, treated as no answer (warn)" jq_true '[.checks[] | select(.id=="cert.ari")][0] | .status=="warn" and (.summary | test("no valid suggestedWindow"))'
printf 'not json' >"$ri/$id"
C --cert "$P/leaf-web.pem" --directory "$dir"
check "an answer that is not JSON: error" st cert.ari "$dir" error
rm -f "$ri/$id"
cat "$P/root.pem" "$LAB_STATE/pebble/ca.pem" >"$T_TMP/both.pem"
C --host 192.0.2.93 --ca-bundle "$T_TMP/both.pem" --name tlsmix.web.test --directory https://192.0.2.90:14000/dir
check "Pebble 2.4's directory has no renewalInfo: skip" jq_true '[.checks[] | select(.id=="cert.ari")][0].status == "skip"'

# Servers that do not speak TLS, or never answer.
C --host 192.0.2.94:8443
check "nothing listening: error, connection refused" jq_true '[.checks[] | select(.id=="cert.served")][0] | .status=="error" and (.summary | test("refused"))'
check "nothing listening: exit 3" rc_is 3
C --timeout 1 --host 192.0.2.88:80
check "a server that never answers the handshake: error" st cert.served "192.0.2.88:80 192.0.2.88" error
C --host 192.0.2.80:80
check "plain HTTP where TLS was expected: error" st cert.served "192.0.2.80:80 192.0.2.80" error
run_tool acme-certcheck --name x.example
check "neither --host nor --cert: usage error" rc_is 2

done_testing
