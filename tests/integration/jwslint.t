#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-jwslint on real captures: certbot's debug log from a run against
# Pebble in the lab (clean), and captures whose flaws are made here by
# signing with openssl: a newOrder signed with jwk, a reused nonce, a
# wrong url, a bad signature, kid and jwk together, alg none, a HAR with
# the wrong Content-Type, and unreadable lines.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 32

dir=https://192.0.2.90:14000/dir
ca=$LAB_STATE/pebble/ca.pem
J() { run_tool acme-jwslint --json "$@"; }
finding_in() { jq -e --arg id "$1" --arg s "$2" --arg t "$3" \
	'[.checks[] | select(.id==$id and .status==$s and (.target|contains($t)))] | length > 0' "$T_TMP/out" >/dev/null; }

# A real certbot run: every request clean.
cb=$T_TMP/certbot
"$LAB_SH" run "$LAB_STATE" env REQUESTS_CA_BUNDLE="$ca" certbot certonly --webroot -w "$LAB_STATE/www" \
	-d ok.web.test --server "$dir" --config-dir "$cb/etc" --work-dir "$cb/work" --logs-dir "$cb/logs" \
	-m admin@acme-diag.net --agree-tos --no-eff-email --non-interactive >"$T_TMP/certbot.out" 2>&1
log=$cb/logs/letsencrypt.log
J "$log"
check "certbot log: exit 0" rc_is 0
check "certbot log: read as a certbot log" jq_true '[.checks[] | select(.id=="jws.summary")][0].target == "certbot-log"'
check "certbot log: newAccount signed with jwk, verified" finding_in jws.request ok "newAccount"
check "certbot log: every request clean" jq_true '([.checks[] | select(.id=="jws.request")] | length) >= 6 and ([.checks[] | select(.status != "ok")] | length) == 0'
key=$(ls "$cb"/etc/accounts/*/*/*/private_key.json)
J --account-key "$key" "$log"
check "with the account key, kid requests verify too" jq_true '[.checks[] | select(.id=="jws.request")] | all(.summary | test("signature verifies"))'
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T_TMP/other.pem" 2>/dev/null
J --account-key "$T_TMP/other.pem" "$log"
check "with another key, kid requests do not verify" finding_in jws.signature fail "newOrder"
run_tool acme-jwslint --json --directory "$dir" --ca-bundle "$ca" "$log"
check "--directory: exit 0" rc_is 0
check "--directory: the directory was read (no fallback to path guessing)" jq_true '[.checks[] | select(.id=="jws.directory")] | length == 1 and .[0].status == "ok"'
check "--directory: nothing on stderr" test ! -s "$T_TMP/err"
run_tool acme-jwslint --json --directory "$dir" "$log"
check "--directory without its CA: a warning, endpoints guessed" jq_true '[.checks[] | select(.id=="jws.directory")][0] | .status == "warn" and (.summary | test("certificate"))'
check "--directory without its CA: said on stderr too" err_has "(endpoints will be guessed from paths)"
check "--directory without its CA: the requests are still checked" jq_true '([.checks[] | select(.id=="jws.request")] | length) >= 6'

# Captures with flaws, signed here with openssl (RS256).
k=$T_TMP/k.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k" 2>/dev/null
b64() { basenc --base64url -w0 | tr -d '='; }
n=$(openssl rsa -in "$k" -noout -modulus | cut -d= -f2 | basenc --base16 -d | b64)
jwk="{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"$n\"}"
mk() { # mk PROTECTED_JSON PAYLOAD_TEXT -> flattened JWS
	local p b s
	p=$(printf '%s' "$1" | b64)
	b=$(printf '%s' "$2" | b64)
	s=$(printf '%s.%s' "$p" "$b" | openssl dgst -sha256 -sign "$k" | b64)
	printf '{"protected":"%s","payload":"%s","signature":"%s"}' "$p" "$b" "$s"
}
line() { printf '{"url":"%s","jws":%s}\n' "$1" "$2"; }
base=https://ca.example/acme
kid="$base/acct/42"
{
	line "$base/new-acct" "$(mk "{\"alg\":\"RS256\",\"jwk\":$jwk,\"nonce\":\"n1\",\"url\":\"$base/new-acct\"}" '{"termsOfServiceAgreed":true}')"
	line "$base/new-order" "$(mk "{\"alg\":\"RS256\",\"jwk\":$jwk,\"nonce\":\"n2\",\"url\":\"$base/new-order\"}" '{"identifiers":[{"type":"dns","value":"a.example"}]}')"
	line "$base/authz/1" "$(mk "{\"alg\":\"RS256\",\"kid\":\"$kid\",\"nonce\":\"n3\",\"url\":\"$base/authz/1\"}" '')"
	line "$base/authz/2" "$(mk "{\"alg\":\"RS256\",\"kid\":\"$kid\",\"nonce\":\"n3\",\"url\":\"$base/authz/2\"}" '')"
	line "$base/chall/3" "$(mk "{\"alg\":\"RS256\",\"kid\":\"$kid\",\"nonce\":\"n4\",\"url\":\"$base/chall/WRONG\"}" '{}')"
	line "$base/acct/42" "$(mk "{\"alg\":\"RS256\",\"kid\":\"$kid\",\"jwk\":$jwk,\"nonce\":\"n5\",\"url\":\"$base/acct/42\"}" '')"
	line "$base/new-order" "$(mk "{\"alg\":\"none\",\"kid\":\"$kid\",\"nonce\":\"n6\",\"url\":\"$base/new-order\"}" '{}')"
	good=$(mk "{\"alg\":\"RS256\",\"jwk\":$jwk,\"nonce\":\"n7\",\"url\":\"$base/new-acct\"}" '{"onlyReturnExisting":true}')
	tampered=$(printf '%s' "$good" | jq -c --arg p "$(printf '{"onlyReturnExisting":false}' | b64)" '.payload = $p')
	line "$base/new-acct" "$tampered"
	echo 'this line is not JSON'
	echo '{"json":"but not a request"}'
} >"$T_TMP/cap.jsonl"
J "$T_TMP/cap.jsonl"
check "jsonl: exit 1" rc_is 1
check "newAccount with jwk is clean" finding_in jws.request ok "#1 newAccount"
check "newOrder signed with jwk: No Key ID in JWS header" jq_true '[.checks[] | select(.id=="jws.kid" and (.target|startswith("#2 newOrder")))][0].summary | test("No Key ID in JWS header")'
check "POST-as-GET with kid is clean" finding_in jws.request ok "#3 authorization"
check "reused nonce: names the first use" jq_true '[.checks[] | select(.id=="jws.nonce" and (.target|startswith("#4")))][0].summary | test("request #3")'
check "wrong url: expected and got" jq_true '[.checks[] | select(.id=="jws.url" and (.target|startswith("#5")))][0].summary | test("Expected .*chall/3.* got .*chall/WRONG")'
check "kid and jwk together" jq_true '[.checks[] | select(.id=="jws.kid" and (.target|startswith("#6")))][0].summary | test("mutually exclusive")'
check "alg none refused" finding_in jws.alg fail "#7"
check "tampered payload: signature fails" finding_in jws.signature fail "#8"
check "unreadable lines counted" jq_true '[.checks[] | select(.id=="jws.summary")][0].summary | test("2 unreadable parts")'

# With the real directory, a kid on another server is refused as Boulder does.
run_tool acme-jwslint --json --directory "$dir" --ca-bundle "$ca" "$T_TMP/cap.jsonl"
check "--directory: a kid of another server" jq_true '[.checks[] | select(.id=="jws.kid" and (.target|startswith("#3")))][0].summary | test("invalid account URL")'

# keyChange: the payload is a JWS by the new key, with jwk and the outer url.
inner_ok=$(mk "{\"alg\":\"RS256\",\"jwk\":$jwk,\"url\":\"$base/key-change\"}" "{\"account\":\"$kid\"}")
inner_bad=$(mk "{\"alg\":\"RS256\",\"kid\":\"$kid\",\"url\":\"$base/key-change\"}" "{\"account\":\"$kid\"}")
{
	line "$base/key-change" "$(mk "{\"alg\":\"RS256\",\"kid\":\"$kid\",\"nonce\":\"k1\",\"url\":\"$base/key-change\"}" "$inner_ok")"
	line "$base/key-change" "$(mk "{\"alg\":\"RS256\",\"kid\":\"$kid\",\"nonce\":\"k2\",\"url\":\"$base/key-change\"}" "$inner_bad")"
} >"$T_TMP/keychange.jsonl"
J "$T_TMP/keychange.jsonl"
check "keyChange with a jwk inner JWS is clean" finding_in jws.request ok "#1 keyChange"
check "keyChange inner JWS with kid is refused" finding_in jws.keychange fail "#2 keyChange"

# A HAR export with a wrong Content-Type.
req=$(mk "{\"alg\":\"RS256\",\"kid\":\"$kid\",\"nonce\":\"h1\",\"url\":\"$base/new-order\"}" '{"identifiers":[]}')
jq -n --arg body "$req" --arg url "$base/new-order" '{log:{entries:[
	{request:{method:"GET",url:"https://ca.example/dir",headers:[]}},
	{request:{method:"POST",url:$url,headers:[{name:"Content-Type",value:"application/json"}],postData:{text:$body}}}]}}' >"$T_TMP/cap.har"
J "$T_TMP/cap.har"
check "har: read as HAR" jq_true '[.checks[] | select(.id=="jws.summary")][0].target == "har"'
check "har: wrong Content-Type named" finding_in jws.content-type fail "#1 newOrder"

# One flattened JWS, from standard input.
printf '%s' "$good" >"$T_TMP/one.json"
run_tool acme-jwslint --json - <"$T_TMP/one.json"
check "one JWS on stdin: clean, exit 0" rc_is 0

# Bad input.
run_tool acme-jwslint
check "usage: no file exits 2" rc_is 2
printf 'nothing here\n' >"$T_TMP/empty.txt"
run_tool acme-jwslint "$T_TMP/empty.txt"
check "no request in the file: exit 2" rc_is 2
check "no request in the file: says so" err_has "no ACME request found"
run_tool acme-jwslint "$T_TMP/missing-file"
check "missing file: exit 2" rc_is 2
done_testing
