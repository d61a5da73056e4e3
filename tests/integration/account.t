#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-account against a real Pebble, with accounts made by real clients:
# lego (valid), certbot (RSA JWK key; a forbidden contact; unregistered =
# deactivated), and a key openssl made that no account has.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 48

dir=https://192.0.2.90:14000/dir
ca=$LAB_STATE/pebble/ca.pem
A() { run_tool acme-account --json --directory "$dir" --ca-bundle "$ca" "$@"; }
lab() { "$LAB_SH" run "$LAB_STATE" "$@"; }

# A valid account, created by lego.
lego=$T_TMP/lego
lab env LEGO_CA_CERTIFICATES="$ca" lego --server "$dir" --path "$lego" --email admin@acme-diag.net \
	--accept-tos --domains ok.web.test --http --http.webroot "$LAB_STATE/www" run >"$T_TMP/lego.log" 2>&1
check "lego registered and got a certificate" test -f "$lego/certificates/ok.web.test.crt"
chmod 600 "$lego"/accounts/*/*/keys/*.key
A --from lego "$lego"
check "lego account: exit 0" rc_is 0
check "lego account: store read" jq_true '[.checks[] | select(.id=="acme.store")][0].status == "ok"'
check "lego account: found by key" jq_true '[.checks[] | select(.id=="acme.account.lookup")][0] | .status == "ok" and (.target | startswith("https://192.0.2.90:14000/my-account/"))'
check "lego account: kid matches" jq_true '[.checks[] | select(.id=="acme.account.kid")][0].status == "ok"'
check "lego account: status valid" jq_true '[.checks[] | select(.id=="acme.account.status")][0].status == "ok"'
check "lego account: EC P-256 key" jq_true '[.checks[] | select(.id=="acme.key.type")][0].summary | test("EC P-256 key \\(ES256\\)")'
check "lego account: key mode owner-only" jq_true '[.checks[] | select(.id=="acme.key.file")][0].status == "ok"'
check "directory ok" jq_true '[.checks[] | select(.id=="acme.directory")][0].status == "ok"'
check "clock against the server's Date" jq_true '[.checks[] | select(.id=="clock.skew")][0].status == "ok"'
check "lego account: its contact's domain does not exist, asked at the system's resolver" jq_true '[.checks[] | select(.id=="acme.account.contact")] | length == 1 and .[0].status == "warn" and (.[0].summary | test("acme-diag.net does not exist \\(NXDOMAIN\\): mail from the CA may not arrive")) and ([.[0].evidence.lookups[] | select(.server == "192.0.2.10")] | length == 3)'
key=$(ls "$lego"/accounts/*/*/keys/*.key)
acct=$(jq -r '[.checks[] | select(.id=="acme.account.lookup")][0].target' "$T_TMP/out")

# Contacts looked up where the user says: a server that never answers is
# our side's failure, not the contact's.
A --from lego "$lego" --ns 192.0.2.99 --timeout 2
check "--ns silent: the contact check is an error" jq_true '[.checks[] | select(.id=="acme.account.contact")][0] | .status == "error" and (.summary | test("could not check the domain acme-diag.net: .* timed out at 192.0.2.99"))'
check "--ns silent: the domain is not blamed" jq_true '[.checks[] | select(.id=="acme.account.contact")][0] | (.summary | test("may not arrive|does not exist") | not) and (.hint | test("our side"))'
check "--ns silent: exit 3" rc_is 3
check "--ns silent: MX, A and AAAA each said to have timed out (asked at once: the run's time is in make bench)" \
	jq_true '[.checks[] | select(.id=="acme.account.contact")][0].evidence.lookups | map(select(.result | test("timed out"))) | length == 3'
A --from lego "$lego" --ns 192.0.2.10
check "--ns 192.0.2.10: asked there" jq_true '[.checks[] | select(.id=="acme.account.contact")][0] | .status == "warn" and ([.evidence.lookups[].server] | unique == ["192.0.2.10"])'
A --from lego "$lego" -6
check "-6 and an IPv4-only resolv.conf: no resolver, an error" jq_true '[.checks[] | select(.id=="acme.account.contact")][0] | .status == "error" and (.summary | test("no resolver"))'
run_tool acme-account --directory "$dir" --ca-bundle "$ca" --from lego "$lego" --ns 192.0.2.99:99999
check "--ns with a bad port: exit 2" rc_is 2

# Contacts whose domains exist: the root zone on ns1 gets, for a while, an MX
# for mx-ok.net and a null MX (RFC 7505) for nullmx.net (Pebble takes at most
# two contacts; certbot registers both).
cbm=$T_TMP/certbot-mx
lab env REQUESTS_CA_BUNDLE="$ca" certbot register -m admin@mx-ok.net,admin@nullmx.net --agree-tos \
	--no-eff-email --server "$dir" --config-dir "$cbm/etc" --work-dir "$cbm/work" --logs-dir "$cbm/logs" \
	--non-interactive >>"$T_TMP/certbot.log" 2>&1
root_back() { cp "$TOP/tests/lab/zones/root.zone" "$T_TMP/root.back" && "$LAB_SH" zone "$LAB_STATE" ns1 . "$T_TMP/root.back" >/dev/null; }
trap 'root_back; rm -rf "$T_TMP"' EXIT
{ sed 's/2026112201/2026112299/' "$TOP/tests/lab/zones/root.zone"
  printf 'mx-ok.net. IN MX 10 mail.mx-ok.net.\nmail.mx-ok.net. IN A 192.0.2.80\n'
  printf 'nullmx.net. IN MX 0 .\nnullmx.net. IN A 192.0.2.80\n'; } >"$T_TMP/root.zone"
"$LAB_SH" zone "$LAB_STATE" ns1 . "$T_TMP/root.zone" >/dev/null
A --from certbot "$cbm/etc" --ns 192.0.2.53
check "a contact whose domain has an MX: ok" jq_true '[.checks[] | select(.id=="acme.account.contact")][0] | .status == "ok" and .target == "mailto:admin@mx-ok.net" and (.summary | test("mx-ok.net has MX records"))'
check "a null MX: warn, mail may not arrive" jq_true '[.checks[] | select(.id=="acme.account.contact")][1] | .status == "warn" and .target == "mailto:admin@nullmx.net" and (.summary | test("null MX.*mail from the CA may not arrive"))'
A --from certbot "$cbm/etc" --ns 192.0.2.99 --ns 192.0.2.53 --timeout 2
check "a silent resolver beside one that answers: the answer counts" jq_true '[.checks[] | select(.id=="acme.account.contact")] | map(.status) == ["ok","warn"]'
root_back

# The client signs with a stale kid.
A --account-key "$key" --kid "https://192.0.2.90:14000/my-account/0000stale"
check "stale kid: fail" jq_true '[.checks[] | select(.id=="acme.account.kid")][0].status == "fail"'
check "stale kid: exit 1" rc_is 1
A --account-key "$key" --kid "$acct"
check "--account-key PEM with its kid: exit 0" rc_is 0

# A loose key file.
chmod 644 "$key"
A --account-key "$key"
check "world-readable key: warning" jq_true '[.checks[] | select(.id=="acme.key.file")][0].status == "warn"'
chmod 600 "$key"

# certbot: an RSA key in JWK form, a contact Let's Encrypt refuses.
cb=$T_TMP/certbot
certbot_do() { lab env REQUESTS_CA_BUNDLE="$ca" certbot "$@" --server "$dir" --config-dir "$cb/etc" \
	--work-dir "$cb/work" --logs-dir "$cb/logs" --non-interactive >>"$T_TMP/certbot.log" 2>&1; }
certbot_do register -m admin@example.com --agree-tos --no-eff-email
check "certbot registered" bash -c "ls '$cb'/etc/accounts/*/*/*/private_key.json"
A --from certbot "$cb/etc"
check "certbot account: RSA JWK key loads and signs" jq_true '[.checks[] | select(.id=="acme.account.status")][0].status == "ok"'
check "certbot account: RSA key" jq_true '[.checks[] | select(.id=="acme.key.type")][0].summary | test("RSA 2048")'
check "forbidden contact: Boulder's wording" jq_true '[.checks[] | select(.id=="acme.account.contact")][0].summary | test("contact email has forbidden domain \"example.com\"")'
check "forbidden contact: exit 1" rc_is 1

# The same account after 'certbot unregister' (certbot deletes its files: keep a copy).
adir=$(dirname "$(ls "$cb"/etc/accounts/*/*/*/private_key.json)")
cp "$adir/private_key.json" "$T_TMP/cb-key.json"
cbkid=$(jq -r .uri "$adir/regr.json")
certbot_do unregister
A --account-key "$T_TMP/cb-key.json" --kid "$cbkid"
check "deactivated: lookup fails" jq_true '[.checks[] | select(.id=="acme.account.lookup")][0] | .status == "fail" and (.summary | test("deactivated"))'
check "deactivated: status fails" jq_true '[.checks[] | select(.id=="acme.account.status")][0].status == "fail"'
check "deactivated: exit 1" rc_is 1

# A key no account has.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$T_TMP/fresh.pem" 2>/dev/null
chmod 600 "$T_TMP/fresh.pem"
A --account-key "$T_TMP/fresh.pem"
check "no account: accountDoesNotExist" jq_true '[.checks[] | select(.id=="acme.account.lookup")][0] | .status == "fail" and .evidence.problem == "urn:ietf:params:acme:error:accountDoesNotExist"'
check "no account: P-384 understood" jq_true '[.checks[] | select(.id=="acme.key.type")][0].summary | test("ES384")'

# acme.sh keeps ca/<host>/<path>/account.key and ca.conf (ACCOUNT_URL=...):
# the layout acme.sh writes, with the fresh key (no real acme.sh in Debian 12).
ash=$T_TMP/acme.sh/ca/192.0.2.90:14000/dir
mkdir -p "$ash"
cp "$T_TMP/fresh.pem" "$ash/account.key"
echo "ACCOUNT_URL='https://192.0.2.90:14000/my-account/0000'" >"$ash/ca.conf"
A --from acme.sh "$T_TMP/acme.sh"
check "acme.sh store: key and URL read" jq_true '[.checks[] | select(.id=="acme.store")][0].evidence.kid == "https://192.0.2.90:14000/my-account/0000"'
check "acme.sh store: the stored URL is refused with the key" jq_true '[.checks[] | select(.id=="acme.account.status")][0].summary | test("not found")'

# The private CA: without its bundle the directory is not trusted.
run_tool acme-account --json --directory "$dir" --account-key "$key"
check "no --ca-bundle: the directory's certificate is not trusted" \
	jq_true '[.checks[] | select(.id=="acme.directory")][0] | (.hint | test("--ca-bundle")) and .status == "error"'
check "no --ca-bundle: exit 3" rc_is 3

# Hostile or broken "directories", served by the lab's nginx.
www=$LAB_STATE/www
echo '{"newAccount":"https://192.0.2.90:14000/sign-me-up","newOrder":"x"}' >"$www/dir-missing.json"
printf '<html><body><h1>502 Bad Gateway</h1></body></html>' >"$www/dir.html"
head -c 3000000 /dev/zero | tr '\0' ' ' >"$www/dir-huge.json"
D() { run_tool acme-account --json --directory "$1" --account-key "$key"; }
D http://192.0.2.80/dir-missing.json
check "directory missing newNonce: named" jq_true '[.checks[] | select(.id=="acme.directory")][0].summary | test("lacks \"newNonce\"")'
check "directory missing newNonce: exit 1" rc_is 1
D http://192.0.2.80/dir.html
check "HTML error page: not JSON" jq_true '[.checks[] | select(.id=="acme.directory")][0] | .status=="fail" and (.summary | test("not JSON"))'
D http://192.0.2.80/dir-huge.json
check "huge body: stopped at 1 MiB" jq_true '[.checks[] | select(.id=="acme.directory")][0].summary | test("over 1 MiB")'
D http://loop.web.test/.well-known/acme-challenge/x
check "a redirect is not followed" jq_true '[.checks[] | select(.id=="acme.directory")][0].summary | test("HTTP 302")'

# Bad keys and arguments: exit 2 with a reason.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-128-cbc -pass pass:secret -out "$T_TMP/enc.pem" 2>/dev/null
run_tool acme-account --directory "$dir" --account-key "$T_TMP/enc.pem"
check "password-protected key: exit 2" rc_is 2
check "password-protected key: says so" err_has "password-protected"
printf 'garbage' >"$T_TMP/garbage.pem"
run_tool acme-account --directory "$dir" --account-key "$T_TMP/garbage.pem"
check "garbage key: exit 2" rc_is 2
openssl genpkey -algorithm ed25519 -out "$T_TMP/ed.pem" 2>/dev/null
A --account-key "$T_TMP/ed.pem"
check "Ed25519 key: Let's Encrypt does not take it" jq_true '[.checks[] | select(.id=="acme.key.type")][0].status == "fail"'
done_testing
