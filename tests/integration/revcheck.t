#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-revcheck against real components: the lab PKI made with openssl ca
# (tests/lab/pki.sh: CRLs fresh, stale, signed by another key, sharded with
# an IDP, delta; served by nginx as the certificates' distribution points;
# an openssl ocsp responder), nginx serving a revoked chain over TLS, and
# Pebble issuing a certificate to lego and revoking it with 'lego revoke'.
# Pebble 2.4 publishes no CRL: the test makes the CRL Pebble would publish
# with openssl ca -gencrl, from Pebble's own intermediate key and the
# revocation Pebble records (its management API, cert-status-by-serial).
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 61

P=$LAB_STATE/pki
R() { run_tool acme-revcheck --json --timeout 2 "$@"; }
st() { finding "$@"; }
lab() { "$LAB_SH" run "$LAB_STATE" "$@"; }
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }

# Distribution points, OCSP and AIA, as the certificates name them.
R "$P/leaf-good.pem" "$P/leaf-revoked.pem" "$P/leaf-shard.pem"
check "good: not revoked" st cert.revocation "$P/leaf-good.pem" ok
check "good: the CRL verified, as its distribution point names it" st cert.revocation.crl http://192.0.2.91/inter.crl ok
check "good: OCSP good, signed, nonce checked" jq_true "[.checks[] | select(.id==\"cert.revocation.ocsp\" and .target==\"$P/leaf-good.pem\")][0] | .status==\"ok\" and .evidence.nonce==\"checked\""
check "revoked: fail with date and reason" jq_true "[.checks[] | select(.id==\"cert.revocation\" and .target==\"$P/leaf-revoked.pem\")][0] | .status==\"fail\" and .evidence.reason==\"keyCompromise\" and (.evidence.revoked_at | test(\"^20..-\"))"
check "revoked: OCSP says revoked too" st cert.revocation.ocsp "$P/leaf-revoked.pem" fail
check "shard: its own shard's CRL (IDP) covers it" st cert.revocation "$P/leaf-shard.pem" ok
check "shard: fetched from its distribution point" st cert.revocation.crl http://192.0.2.91/shard2.crl ok
check "issuer fetched from AIA caIssuers" jq_true '[.checks[] | select(.id=="cert.revocation")] | all(.evidence.issuer_found)'
check "each CRL fetched once" jq_true '[.checks[] | select(.id=="cert.revocation.crl")] | length == 2'
check "exit 1 (a revoked certificate)" rc_is 1
R "$P/leaf-nocdp.pem"
check "no CDP, no OCSP: could not determine is an error" st cert.revocation "$P/leaf-nocdp.pem" error
check "no source: exit 3" rc_is 3
check "no CDP, no AIA, no chain: the issuer is not found" st cert.issuer "$P/leaf-nocdp.pem" warn
R --crl "$P/inter.crl" --issuer "$P/inter.pem" "$P/leaf-nocdp.pem"
check "--crl FILE --issuer: checked" st cert.revocation "$P/leaf-nocdp.pem" ok
R "$P/leaf-le.fullchain.pem"
check "Let's Encrypt's OCSP gone: skip, said so" jq_true '[.checks[] | select(.id=="cert.revocation.ocsp")][0] | .status=="skip" and (.summary | test("Let.s Encrypt ended OCSP in 2025"))'
check "... and the certificate sends to its CRL" jq_true '[.checks[] | select(.id=="cert.revocation")][0] | .status=="error" and (.summary | test("CRL is the source"))'

# CRLs that must not say "not revoked".
R --crl "$P/stale.crl" "$P/leaf-good.fullchain.pem"
check "stale CRL: a warning" st cert.revocation.crl "$P/stale.crl" warn
check "stale CRL: said so" jq_true '[.checks[] | select(.id=="cert.revocation.crl")][0].summary | test("stale: its nextUpdate")'
R --crl "$P/wrongkey.crl" --issuer "$P/inter.pem" "$P/leaf-nocdp.pem"
check "CRL signed by another key: error" st cert.revocation.crl "$P/wrongkey.crl" error
check "... and the certificate is undetermined, not 'not revoked'" st cert.revocation "$P/leaf-nocdp.pem" error
R --crl http://192.0.2.91/shard1.crl "$P/leaf-shard.fullchain.pem"
check "another shard (IDP names shard1, the certificate shard2): not vouched for by that CRL" jq_true '[.checks[] | select(.id=="cert.revocation")][0] | .status=="warn" and (.summary | test("another shard"))'
R --crl "$P/delta.crl" "$P/leaf-good.fullchain.pem"
check "delta CRL refused" jq_true '[.checks[] | select(.id=="cert.revocation.crl")][0] | .status=="error" and (.summary | test("delta CRL"))'
R --crl "$P/inter.pem.crl" "$P/leaf-revoked.fullchain.pem"
check "a PEM CRL reads as DER does" st cert.revocation "$P/leaf-revoked.fullchain.pem" fail
R --crl "$P/garbage.crl" "$P/leaf-good.fullchain.pem"
check "random bytes as a CRL: error, named" jq_true '[.checks[] | select(.id=="cert.revocation.crl")][0] | .status=="error" and (.summary | test("not a CRL"))'
R --crl http://192.0.2.91/missing.crl "$P/leaf-good.fullchain.pem"
check "CRL URL answering 404: error" jq_true '[.checks[] | select(.id=="cert.revocation.crl")][0].summary | test("HTTP 404")'
R --timeout 1 --crl http://192.0.2.88/stall.crl "$P/leaf-good.fullchain.pem"
check "CRL server that never answers: timed out, exit 3" jq_true '[.checks[] | select(.id=="cert.revocation.crl")][0].summary | test("timed out")'
check "slow server: exit 3" rc_is 3

# The chain a server serves (nginx, the revoked leaf's full chain).
R --host 192.0.2.91
check "--host: the served leaf is revoked" st cert.revocation "192.0.2.91:443 192.0.2.91" fail
check "--host: only the leaf is checked (the intermediate is its issuer)" jq_true '[.checks[] | select(.id=="cert.revocation")] | length == 1'
R --host 192.0.2.91:444
check "--host nothing listening: input error" jq_true '[.checks[] | select(.id=="cert.input")][0].summary | test("connection refused")'
# --host NAME resolved through --ns: the lab's unbound gives stale.web.test
# as its zone says (192.0.2.80), the system resolver its override (.86,
# where nothing listens on 443).
R --ns 192.0.2.20 --host stale.web.test
check "--ns 192.0.2.20 --host NAME: the address its zone gives, connected to" \
	jq_true '([.checks[] | select(.id=="cert.revocation")] | length == 1 and .[0].target == "stale.web.test:443 192.0.2.80") and ([.checks[] | select(.id=="cert.input")] | length == 0)'
R --host stale.web.test
check "--host NAME without --ns: the system resolver's address (refused)" \
	jq_true '[.checks[] | select(.id=="cert.input")][0].summary | test("at 192\\.0\\.2\\.86: connection refused")'

# The stale CRL's warning in text: -q shows only it; --strict exits 1.
run_tool acme-revcheck --timeout 2 -q --crl "$P/stale.crl" "$P/leaf-good.fullchain.pem"
check "-q: the stale CRL's warning, no ok line" \
	bash -c "grep -q '^warn  cert.revocation.crl ' '$T_TMP/out' && ! grep -q '^ok ' '$T_TMP/out' && grep -q '^verdict: warn' '$T_TMP/out'"
check "-q: a warning alone exits 0" rc_is 0
run_tool acme-revcheck --timeout 2 --strict --crl "$P/stale.crl" "$P/leaf-good.fullchain.pem"
check "--strict: the stale CRL's warning exits 1" rc_is 1

# Published serial lists: a Let's Encrypt-style incident file.
good=$(serial_of "$P/leaf-good.pem")
{
	echo "# an incident list"
	printf 'serial %036x 131 b8dc names: [leaf-good.pki.test] missing CAA checking results at 2026-11-30\n' "0x$good"
	for i in $(seq 1 200); do printf 'serial %036x 99 aa names: [x%d.example]\n' $((i * 7919 + 123456)) "$i"; done
	echo "not a serial line"
	printf 'serial %s %s\n' 0ABCDEF "$(head -c 9000 /dev/zero | tr '\0' x)"
} >"$T_TMP/incident.txt"
R --serials "$T_TMP/incident.txt" "$P/leaf-good.pem" "$P/leaf-revoked.pem"
check "incident: the listed serial (zero-padded lowercase) matches" st cert.incident "$P/leaf-good.pem" fail
check "incident: the line is named" jq_true "[.checks[] | select(.id==\"cert.incident\" and .target==\"$P/leaf-good.pem\")][0].evidence.line == 2"
check "incident: another certificate is not on it" st cert.incident "$P/leaf-revoked.pem" ok
check "incident: the list read once, malformed and long lines counted" jq_true '[.checks[] | select(.id=="cert.incident.list")][0].evidence | .serials == 202 and .malformed_lines == 1 and .long_lines == 1'
printf '%s\n' "$(echo "$good" | sed 's/../&:/g; s/:$//' | tr A-F a-f)" 0abcdef 0x00000ABCDEF >"$T_TMP/mine.txt"
R --serials "$T_TMP/incident.txt" --list "$T_TMP/mine.txt"
check "--list: a serial with colons matches" st cert.incident "$T_TMP/mine.txt:1" fail
check "--list: leading zeros and case do not matter" jq_true '[.checks[] | select(.id=="cert.incident" and .status=="fail")] | length == 3'
printf 'hello\nworld\n' >"$T_TMP/words.txt"
R --serials "$T_TMP/words.txt" "$P/leaf-good.pem"
check "a list with no serial: error, not 'not listed'" st cert.incident.list "$T_TMP/words.txt" error
check "a list with no serial: no cert.incident ok" no_finding_status cert.incident ok

# Kubernetes TLS Secrets.
b64() { base64 -w0 <"$1"; }
jq -n --arg rev "$(b64 "$P/leaf-revoked.fullchain.pem")" --arg good "$(b64 "$P/leaf-good.fullchain.pem")" '{
	apiVersion: "v1", kind: "List", items: [
	{kind: "Secret", type: "kubernetes.io/tls", metadata: {namespace: "web", name: "revoked-tls"}, data: {"tls.crt": $rev, "tls.key": "eA=="}},
	{kind: "Secret", type: "kubernetes.io/tls", metadata: {namespace: "web", name: "good-tls"}, data: {"tls.crt": $good}},
	{kind: "Secret", type: "kubernetes.io/tls", metadata: {namespace: "web", name: "junk-tls"}, data: {"tls.crt": "bm90IGEgY2VydA=="}},
	{kind: "Secret", type: "Opaque", metadata: {namespace: "web", name: "other"}, data: {"x": "eA=="}}]}' >"$T_TMP/secrets.json"
R --from-kubectl "$T_TMP/secrets.json"
check "kubectl: the revoked Secret" st cert.revocation "Secret web/revoked-tls" fail
check "kubectl: the good Secret" st cert.revocation "Secret web/good-tls" ok
check "kubectl: a tls.crt that is no certificate is named" st cert.input "Secret web/junk-tls" error
run_tool acme-revcheck --json --timeout 2 --from-kubectl - <"$T_TMP/secrets.json"
check "kubectl from standard input" st cert.revocation "Secret web/revoked-tls" fail

# certbot-style directories: live/ links into archive/; each certificate once.
mkdir -p "$T_TMP/le/archive/x" "$T_TMP/le/live/x"
cp "$P/leaf-good.pem" "$T_TMP/le/archive/x/cert1.pem"
cp "$P/leaf-good.fullchain.pem" "$T_TMP/le/archive/x/fullchain1.pem"
cp "$P/leaf-good.key" "$T_TMP/le/archive/x/privkey1.pem"
ln -s ../../archive/x/cert1.pem "$T_TMP/le/live/x/cert.pem"
echo "certbot README" >"$T_TMP/le/live/x/README"
R "$T_TMP/le"
check "a certbot tree: one certificate, checked once" jq_true '[.checks[] | select(.id=="cert.revocation")] | length == 1 and .[0].status == "ok"'
check "a certbot tree: keys and READMEs passed over" jq_true '[.checks[] | select(.id=="cert.input")] | length == 0'

# The cache: a CRL kept until its nextUpdate, used without a fetch.
mkdir -p "$T_TMP/cache"
R --cache "$T_TMP/cache" "$P/leaf-good.pem"
check "cache: first run fetches" jq_true '[.checks[] | select(.id=="cert.revocation.crl")][0].evidence.from_cache == false'
R --cache "$T_TMP/cache" "$P/leaf-good.pem"
check "cache: second run reads it" jq_true '[.checks[] | select(.id=="cert.revocation.crl")][0].evidence.from_cache == true'

# Hostile input files.
printf -- '-----BEGIN CERTIFICATE-----\n!!!notbase64!!!\n-----END CERTIFICATE-----\n' >"$T_TMP/bad.pem"
head -c 5000000 /dev/zero >"$T_TMP/huge.pem"
head -c 2000 /dev/urandom >"$T_TMP/random.der"
R "$T_TMP/bad.pem" "$T_TMP/huge.pem" "$T_TMP/random.der" "$P/leaf-good.pem"
check "bad base64: named" jq_true "[.checks[] | select(.id==\"cert.input\" and .target==\"$T_TMP/bad.pem\")][0].summary | test(\"base64|PEM\")"
check "a 5 MB file: refused by size" jq_true "[.checks[] | select(.id==\"cert.input\" and .target==\"$T_TMP/huge.pem\")][0].summary | test(\"larger than\")"
check "random bytes: not a certificate" st cert.input "$T_TMP/random.der" error
check "the good file among them is still checked" st cert.revocation "$P/leaf-good.pem" ok
run_tool acme-revcheck /nonexistent.pem
check "a missing file: usage error, exit 2" rc_is 2

# Pebble issues to lego and revokes through 'lego revoke'.
dir=https://192.0.2.90:14000/dir
ca=$LAB_STATE/pebble/ca.pem
lego=$T_TMP/lego
lab env LEGO_CA_CERTIFICATES="$ca" lego --server "$dir" --path "$lego" --email admin@acme-diag.net \
	--accept-tos --domains ok.web.test --http --http.webroot "$LAB_STATE/www" run >"$T_TMP/lego.log" 2>&1
cp "$lego/certificates/ok.web.test.crt" "$T_TMP/pebble-kept.pem"
lab env LEGO_CA_CERTIFICATES="$ca" lego --server "$dir" --path "$lego" --email admin@acme-diag.net \
	--accept-tos --domains ok.web.test --http --http.webroot "$LAB_STATE/www" run >>"$T_TMP/lego.log" 2>&1
cp "$lego/certificates/ok.web.test.crt" "$T_TMP/pebble-revoked.pem"
lab env LEGO_CA_CERTIFICATES="$ca" lego --server "$dir" --path "$lego" --email admin@acme-diag.net \
	--accept-tos --domains ok.web.test revoke --reason 1 >>"$T_TMP/lego.log" 2>&1
check "lego got two certificates from Pebble" test "$(serial_of "$T_TMP/pebble-kept.pem")" != "$(serial_of "$T_TMP/pebble-revoked.pem")"
rs=$(serial_of "$T_TMP/pebble-revoked.pem" | tr A-F a-f)
lab curl -s --cacert "$ca" "https://192.0.2.90:15000/cert-status-by-serial/$rs" >"$T_TMP/status.json"
check "Pebble records the revocation" jq -e '.Status == "Revoked" and .Reason == 1' "$T_TMP/status.json"
# The CRL Pebble would publish: its intermediate's key, its revocation.
pc=$T_TMP/pebbleca
mkdir -p "$pc"
lab curl -s --cacert "$ca" https://192.0.2.90:15000/intermediates/0 >"$pc/ca.pem"
lab curl -s --cacert "$ca" https://192.0.2.90:15000/intermediate-keys/0 >"$pc/ca.key"
exp=$(date -u -d "$(openssl x509 -in "$T_TMP/pebble-revoked.pem" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
revd=$(date -u -d "$(jq -r '.RevokedAt | sub(" \\+0000 UTC$"; "") | sub("\\.[0-9]+"; "")' "$T_TMP/status.json")" +%y%m%d%H%M%SZ)
printf 'R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=ok.web.test\n' "$exp" "$revd" "$(serial_of "$T_TMP/pebble-revoked.pem")" >"$pc/index.txt"
echo 01 >"$pc/crlnumber"
printf '[ca]\ndefault_ca=p\n[p]\ndatabase=%s/index.txt\ncrlnumber=%s/crlnumber\ncertificate=%s/ca.pem\nprivate_key=%s/ca.key\ndefault_md=sha256\ndefault_crl_days=7\n' \
	"$pc" "$pc" "$pc" "$pc" >"$pc/ca.cnf"
openssl ca -batch -config "$pc/ca.cnf" -gencrl -out "$pc/crl.pem" 2>/dev/null
R --crl "$pc/crl.pem" "$T_TMP/pebble-revoked.pem" "$T_TMP/pebble-kept.pem"
check "Pebble's revoked certificate: revoked (keyCompromise)" jq_true "[.checks[] | select(.id==\"cert.revocation\" and .target==\"$T_TMP/pebble-revoked.pem\")][0] | .status==\"fail\" and .evidence.reason==\"keyCompromise\""
check "Pebble's other certificate: not revoked" st cert.revocation "$T_TMP/pebble-kept.pem" ok
check "the CRL verified with Pebble's intermediate from lego's bundle" st cert.revocation.crl "$pc/crl.pem" ok

done_testing
