#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-ratelimit against real evidence: real certbot and lego getting
# certificates from Pebble (which enforces no limit: a good witness of what
# Let's Encrypt would have refused) and failing real challenges; a 429 from
# a stand-in (tests/integration/data/acme-429.py: Pebble never sends one);
# libpsl's registered domains; cert-manager objects; hostile inputs; and
# the OpenMetrics output read by promtool and by a strict OpenMetrics parser.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 58

dir=https://192.0.2.90:14000/dir
ca=$LAB_STATE/pebble/ca.pem
lab() { "$LAB_SH" run "$LAB_STATE" "$@"; }
R() { run_tool acme-ratelimit --json "$@"; }
cb=$T_TMP/certbot
certbot_do() { lab env REQUESTS_CA_BUNDLE="$ca" certbot certonly --webroot -w "$LAB_STATE/www" \
	--config-dir "$cb/etc" --work-dir "$cb/work" --logs-dir "$cb/logs" --non-interactive --agree-tos \
	-m admin@acme-diag.net --no-eff-email "$@" >>"$T_TMP/certbot.out" 2>&1; }
get() { jq -r "$1" "$T_TMP/out"; }
epoch() { date -u -d "$1" +%s; }

# ---- six certificates for the same name: Let's Encrypt would refuse the sixth
certbot_do --server "$dir" -d ok.web.test
for i in 2 3 4 5 6; do certbot_do --server "$dir" -d ok.web.test --force-renewal; done
check "certbot got six certificates for ok.web.test from Pebble" test -f "$cb/etc/archive/ok.web.test/cert6.pem"
R --from certbot "$cb/etc"
check "duplicate certificate: fail for the set" finding ratelimit.duplicate-certificate ok.web.test fail
check "duplicate certificate: exit 1" rc_is 1
check "duplicate certificate: six seen, the sixth one Let's Encrypt would have refused" \
	jq_true '[.checks[] | select(.id=="ratelimit.duplicate-certificate")][0].evidence | .seen == 6 and .refused == 1 and .left == 0 and .burst == 5'
# The bucket (5, one back every 33.6 h) was emptied by the first five: the
# next slot comes 33 h 36 min after the first certificate was issued.
first=$(epoch "$(openssl x509 -in "$cb/etc/archive/ok.web.test/cert1.pem" -noout -startdate | cut -d= -f2)")
next=$(epoch "$(get '[.checks[] | select(.id=="ratelimit.duplicate-certificate")][0].evidence.next_slot_at')")
check "duplicate certificate: the next slot frees 33 h 36 min after the first (within the minute of the six)" \
	bash -c "d=\$(( $next - $first - 120960 )); [ \$d -ge 0 ] && [ \$d -le 60 ]"
check "duplicate certificate: the summary names the time it frees" \
	jq_true '[.checks[] | select(.id=="ratelimit.duplicate-certificate")][0].summary | test("none left, the next order for it is refused until [0-9-]+ [0-9:]+ UTC \\(in 33 h")'
check "duplicate certificate: the ARI exemption is said, with the CertID to send" \
	jq_true '[.checks[] | select(.id=="ratelimit.duplicate-certificate")][0] | (.hint | test("replaces")) and (.evidence.ari.replaces | test("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$"))'
check "registered domain web.test: the five renewals are not counted" \
	jq_true '[.checks[] | select(.id=="ratelimit.certificates-per-domain" and .target=="web.test")][0] | .status == "ok" and .evidence.used == 1 and .evidence.renewals_not_counted == 5'
check "what the evidence cannot show is said" \
	jq_true '[.checks[] | select(.id=="ratelimit.evidence")][0].detail | test("other machines, other ACME clients or other accounts")'
run_tool acme-ratelimit --from certbot "$cb/etc"
check "text: the failing limit is shown with its hint" bash -c "grep -q '^fail  ratelimit.duplicate-certificate' '$T_TMP/out' && grep -q 'no --force-renewal' '$T_TMP/out'"

# ---- failed validations, from certbot's own log after real failed challenges
for i in 1 2 3 4 5; do certbot_do --server "$dir" -d v6404.web.test; done
R --from certbot "$cb/etc" --log "$cb/logs"
check "five failed validations of v6404.web.test counted from certbot's log: none left" \
	jq_true '[.checks[] | select(.id=="ratelimit.failed-validations" and .target=="v6404.web.test")][0] | .status == "fail" and .evidence.seen == 5 and .evidence.left == 0'
check "failed validations: the account is certbot's (the kid of its requests)" \
	jq_true '[.checks[] | select(.id=="ratelimit.failed-validations")][0].evidence.account | startswith("https://192.0.2.90:14000/my-account/")'
check "failed validations: the hint says to fix validation, not to retry" \
	jq_true '[.checks[] | select(.id=="ratelimit.failed-validations")][0].hint | test("do not retry in a loop")'
check "failed validations: far from the pause (5 of 1,152 in a row)" \
	jq_true '[.checks[] | select(.id=="ratelimit.paused" and .target=="v6404.web.test")][0] | .status == "ok" and .evidence.seen == 5'
check "orders from certbot's log: eleven, the five renewals of ok.web.test not counted" \
	jq_true '[.checks[] | select(.id=="ratelimit.new-orders")][0].evidence | .seen == 6 and .left >= 294 and .used <= 6'
check "the log as a source: read" finding ratelimit.source "$cb/logs" ok

# ---- a 429 answer: certbot against a STAND-IN that answers newOrder as
# Boulder does when the duplicate limit is hit (Pebble has no limits)
lab timeout 150 /usr/bin/python3 "$TOP/tests/integration/data/acme-429.py" 192.0.2.90 14001 \
	"$LAB_STATE/pebble/cert.pem" "$LAB_STATE/pebble/key.pem" https://192.0.2.90:14000 >"$T_TMP/standin.out" 2>&1 &
standin=$!
for i in $(seq 50); do grep -q ready "$T_TMP/standin.out" 2>/dev/null && break; sleep 0.1; done
cb429=$T_TMP/cb429
lab env REQUESTS_CA_BUNDLE="$ca" certbot certonly --webroot -w "$LAB_STATE/www" --server https://192.0.2.90:14001/dir \
	--config-dir "$cb429/etc" --work-dir "$cb429/work" --logs-dir "$cb429/logs" --non-interactive --agree-tos \
	-m admin@acme-diag.net --no-eff-email -d ok.web.test >"$T_TMP/cb429.out" 2>&1
kill "$standin" 2>/dev/null; wait "$standin" 2>/dev/null
check "certbot got the stand-in's 429" grep -q "too many certificates (5) already issued for this exact set" "$cb429/logs/letsencrypt.log"
R --log "$cb429/logs/letsencrypt.log"
check "the 429 is explained: the duplicate-certificate limit, still in force" \
	jq_true '[.checks[] | select(.id=="ratelimit.problem")][0] | .status == "fail" and .evidence.limit == "duplicate-certificate" and .evidence.status == 429 and .evidence.retry_after == 10800'
check "the 429: retry after the time the CA stated (about 3 h from now)" \
	jq_true '[.checks[] | select(.id=="ratelimit.problem")][0].summary | test("retry after [0-9-]+ [0-9:]+ UTC \\(in (2 h 5[0-9]|3 h 0) min\\)")'
check "the 429: the hint says to use the certificate already issued" \
	jq_true '[.checks[] | select(.id=="ratelimit.problem")][0].hint | test("use the certificate you have")'
check "the 429: exit 1" rc_is 1

# ---- lego: its store and its output
lego=$T_TMP/lego
lab env LEGO_CA_CERTIFICATES="$ca" lego --server "$dir" --path "$lego" --email admin@acme-diag.net --accept-tos \
	--domains ok.web.test --http --http.webroot "$LAB_STATE/www" run >"$T_TMP/lego-ok.log" 2>&1
lab env LEGO_CA_CERTIFICATES="$ca" lego --server "$dir" --path "$lego" --email admin@acme-diag.net --accept-tos \
	--domains v6404.web.test --http --http.webroot "$LAB_STATE/www" run >"$T_TMP/lego-fail.log" 2>&1
R --from lego "$lego" --log "$T_TMP/lego-fail.log"
check "lego's store: its certificate read, the server from its certUrl" \
	jq_true '[.checks[] | select(.id=="ratelimit.duplicate-certificate")][0] | .target == "ok.web.test" and .evidence.ca == "192.0.2.90:14000" and .evidence.seen == 1'
check "lego's output: the failed validation counted" \
	jq_true '[.checks[] | select(.id=="ratelimit.failed-validations" and .target=="v6404.web.test")][0].evidence.seen == 1'

# ---- registered domains from the Public Suffix List (libpsl), in a
# certbot-layout store of certificates openssl makes
mk() {  # mk LINEAGE N NAME...: archive/LINEAGE/certN.pem for the names
	local l=$1 n=$2; shift 2
	local san
	san=$(printf 'DNS:%s,' "$@")
	mkdir -p "$T_TMP/psl/archive/$l"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 -subj "/CN=$1" \
		-addext "subjectAltName=${san%,}" -keyout /dev/null -out "$T_TMP/psl/archive/$l/cert$n.pem" 2>/dev/null
}
mk gh1 1 a.github.io
mk gh2 1 www.b.github.io b.github.io
mk uk1 1 x.example.co.uk
mk uk2 1 y.example.co.uk
mk her 1 foo.herokuapp.com
R --from certbot "$T_TMP/psl"
dom() { jq_true "[.checks[] | select(.id==\"ratelimit.certificates-per-domain\" and .target==\"$1\")][0].evidence.used == $2"; }
check "a.github.io is its own registered domain (github.io is a private suffix)" dom a.github.io 1
check "www.b.github.io and b.github.io: one certificate for b.github.io" dom b.github.io 1
check "x. and y.example.co.uk: two under example.co.uk" dom example.co.uk 2
check "foo.herokuapp.com is its own registered domain" dom foo.herokuapp.com 1
check "no bucket for the suffixes themselves" \
	jq_true '[.checks[] | select(.id=="ratelimit.certificates-per-domain") | .target] | index("github.io") == null and index("co.uk") == null'
for i in $(seq 1 51); do mk "n$i" 1 "n$i.example.com"; done
R --from certbot "$T_TMP/psl"
check "51 new sets under example.com: the registered-domain limit fails" \
	jq_true '[.checks[] | select(.id=="ratelimit.certificates-per-domain" and .target=="example.com")][0] | .status == "fail" and .evidence.seen == 51 and .evidence.refused == 1'

# ---- acme.sh's layout (no acme.sh in Debian 12): name/name.cer and its conf
mkdir -p "$T_TMP/acme.sh/ash.example.org_ecc"
cp "$T_TMP/psl/archive/gh1/cert1.pem" "$T_TMP/acme.sh/ash.example.org_ecc/ash.example.org.cer"
echo "Le_API='https://acme-v02.api.letsencrypt.org/directory'" >"$T_TMP/acme.sh/ash.example.org_ecc/ash.example.org.conf"
R --from acme.sh "$T_TMP/acme.sh"
check "acme.sh: the certificate and its server read" \
	jq_true '[.checks[] | select(.id=="ratelimit.duplicate-certificate")][0].evidence.ca == "acme-v02.api.letsencrypt.org"'

# ---- --directory: only one server's evidence is counted (Pebble's
# certificates in certbot's store, Let's Encrypt's in acme.sh's)
R --from certbot "$cb/etc" --from acme.sh "$T_TMP/acme.sh" --directory "$dir"
check "--directory Pebble: every count is Pebble's, acme.sh's Let's Encrypt certificate left out" \
	jq_true '[.checks[] | select(.evidence.ca != null)] | length > 0 and all(.evidence.ca == "192.0.2.90:14000") and ([.[] | select(.target == "a.github.io")] | length == 0)'
check "--directory Pebble: ok.web.test's six still refuse the sixth (exit 1)" \
	bash -c "[ $RC -eq 1 ] && jq -e '[.checks[] | select(.id==\"ratelimit.duplicate-certificate\" and .target==\"ok.web.test\")][0] | .status == \"fail\" and .evidence.seen == 6' '$T_TMP/out'"
R --from certbot "$cb/etc" --from acme.sh "$T_TMP/acme.sh" --directory https://acme-v02.api.letsencrypt.org/directory
check "--directory Let's Encrypt: only its certificate counted, Pebble's six not" \
	jq_true '([.checks[] | select(.id=="ratelimit.duplicate-certificate")] | length == 1 and .[0].target == "a.github.io" and .[0].evidence.ca == "acme-v02.api.letsencrypt.org") and ([.checks[] | select(.target == "ok.web.test" or .target == "web.test")] | length == 0)'
check "--directory Let's Encrypt: nothing over a limit there (exit 0)" rc_is 0

# ---- --format json and text; --json with another --format is refused
run_tool acme-ratelimit --format json --from acme.sh "$T_TMP/acme.sh"
check "--format json: the acme-diag/1 document" \
	jq_true '.tool == "acme-ratelimit" and ([.checks[] | select(.id=="ratelimit.duplicate-certificate")][0].evidence.ca == "acme-v02.api.letsencrypt.org")'
run_tool acme-ratelimit --format text --from certbot "$cb/etc"
check "--format text: text lines, the failing limit first-class, exit 1" \
	bash -c "[ $RC -eq 1 ] && grep -q '^fail  ratelimit.duplicate-certificate' '$T_TMP/out' && grep -q '^verdict: fail' '$T_TMP/out'"
run_tool acme-ratelimit --json --format prometheus --from acme.sh "$T_TMP/acme.sh"
check "--json --format prometheus: exit 2" rc_is 2
check "--json --format prometheus: the reason, nothing on stdout" \
	bash -c "grep -qF -- '--json and --format exclude each other' '$T_TMP/err' && [ ! -s '$T_TMP/out' ]"

# ---- cert-manager's objects
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
later=$(date -u -d '+2 hours' '+%Y-%m-%d %H:%M:%S UTC')
chal() { printf '{"apiVersion":"acme.cert-manager.io/v1","kind":"Challenge","metadata":{"name":"c%s","namespace":"web","creationTimestamp":"%s"},"spec":{"dnsName":"shop.example.com","type":"HTTP-01","url":"https://ca/chall/%s","issuerRef":{"kind":"ClusterIssuer","name":"le"}},"status":{"state":"invalid","reason":"404"}}' "$1" "$now" "$1"; }
{
	printf '{"apiVersion":"v1","kind":"List","items":['
	chal 1; printf ','; chal 2; printf ','; chal 3; printf ','
	printf '{"apiVersion":"acme.cert-manager.io/v1","kind":"Order","metadata":{"name":"o1","namespace":"web","creationTimestamp":"%s"},"spec":{"dnsNames":["shop.example.com"],"issuerRef":{"kind":"ClusterIssuer","name":"le"}},"status":{"state":"errored","failureTime":"%s","reason":"Failed to create Order: 429 urn:ietf:params:acme:error:rateLimited: too many failed authorizations (5) for \\"shop.example.com\\" in the last 1h0m0s, retry after %s: see https://letsencrypt.org/docs/rate-limits/#authorization-failures-per-identifier-per-account"}}' "$now" "$now" "$later"
	printf ']}'
} >"$T_TMP/k8s.json"
run_tool acme-ratelimit --json --from-kubectl - <"$T_TMP/k8s.json"
check "cert-manager: three invalid Challenges counted for the Issuer's account" \
	jq_true '[.checks[] | select(.id=="ratelimit.failed-validations")][0] | .target == "shop.example.com" and .evidence.seen == 3 and .evidence.account == "ClusterIssuer le"'
check "cert-manager: the Order's rateLimited reason explained" \
	jq_true '[.checks[] | select(.id=="ratelimit.problem")][0] | .status == "fail" and .evidence.limit == "failed-validations"'

# ---- metrics for Prometheus: promtool and a strict OpenMetrics parser
run_tool acme-ratelimit --format prometheus --from certbot "$cb/etc" --log "$cb/logs"
cp "$T_TMP/out" "$T_TMP/rl.prom"
check "prometheus: exit 1 like the verdict" rc_is 1
check "prometheus: promtool check metrics passes" bash -c "promtool check metrics <'$T_TMP/rl.prom'"
om_parse() { /usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
want = sys.argv[2:]
missing = [w for w in want if w not in fams]
sys.exit(1 if missing else 0)' "$@"; }
check "prometheus: the OpenMetrics parser reads it, with every family" \
	om_parse "$T_TMP/rl.prom" acme_diag_verdict acme_diag_check_status acme_diag_ratelimit_used acme_diag_ratelimit_limit \
	acme_diag_ratelimit_next_slot_timestamp_seconds acme_diag_certificate_expiry_timestamp_seconds \
	acme_diag_certificate_renewal_window_start_timestamp_seconds acme_diag_run_duration_seconds
check "prometheus: the duplicate limit at 5 of 5 for the set" \
	grep -qx 'acme_diag_ratelimit_used{limit="duplicate-certificate",name="ok.web.test",account="[0-9a-f]*",ca="192.0.2.90:14000"} 5' "$T_TMP/rl.prom"
check "prometheus: labels are bounded (limit, name, account, ca, tool, check only)" \
	bash -c "! grep -v '^#' '$T_TMP/rl.prom' | grep -oE '[a-z_]+=\"' | sort -u | grep -vxE '(limit|name|account|ca|tool|check)=\"'"
run_tool acme-doctor --format prometheus --directory "$dir" --ca-bundle "$ca" --ca-profile pebble --ns 192.0.2.20 healthy.test
cp "$T_TMP/out" "$T_TMP/doc.prom"
check "acme-doctor --format prometheus: promtool passes" bash -c "promtool check metrics <'$T_TMP/doc.prom'"
check "acme-doctor --format prometheus: the OpenMetrics parser reads it" om_parse "$T_TMP/doc.prom" acme_diag_verdict acme_diag_check_status
awk '/^groups:/,/^```$/' "$TOP/README.md" | grep -v '^```' >"$T_TMP/rules.yml"
check "the README's alert rules: promtool check rules passes" promtool check rules "$T_TMP/rules.yml"
check "acme-doctor --format prometheus: the name's verdict" grep -qE '^acme_diag_verdict\{tool="acme-doctor",name="healthy.test"\} [0-3]$' "$T_TMP/doc.prom"

# ---- hostile evidence: clear findings, never a hang or a crash
h=$T_TMP/hostile
mkdir -p "$h"
mkfifo "$h/fifo"
head -c 200000 /dev/urandom >"$h/random.bin"
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "2026-11-30 15:32:45,163:DEBUG:acme.client:Received response:\nHTTP 200\n\n{\"status\":\"invalid\",\"identifier\":{\"value\":\"x%d.example.com\"},\"challenges\":[{\"validated\":\"garbage\"}]\n", i }' >"$h/truncated.log"
printf '%*s' 3000000 '' | tr ' ' '[' >"$h/deep.json"
printf -- '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n' >"$h/bad.pem"
timeout 60 "$BIN/acme-ratelimit" --json --log "$h" >"$T_TMP/out" 2>"$T_TMP/err"
RC=$?
check "a folder with a FIFO, random bytes, a broken log and deep JSON: read, not hung (exit 0 or 1)" bash -c "[ $RC -le 1 ]"
check "the FIFO and friends are passed over and said so" \
	jq_true '[.checks[] | select(.id=="ratelimit.source")][0] | .status == "warn" and .evidence.passed_over >= 1'
mkdir -p "$h/store/archive/x" "$h/store/renewal"
cp "$h/bad.pem" "$h/store/archive/x/cert1.pem"
head -c 5000 /dev/urandom >"$h/store/renewal/x.conf"
R --from certbot "$h/store"
check "a store of broken certificates: a warning, not a crash" jq_true '[.checks[] | select(.id=="ratelimit.source")][0].status == "warn"'
run_tool acme-ratelimit --from certbot "$T_TMP/nowhere"
check "a store that is not there: exit 2" rc_is 2
run_tool acme-ratelimit --log "$h/fifo"
check "--log naming a FIFO: exit 2, not a hang" rc_is 2
# lego error lines without " :: ": each line is searched to its end only
# (the search once ran to the end of the file: over a minute for these)
awk 'BEGIN { for (i = 0; i < 400000; i++) print "2026/11/30 15:33:40 [x.example] acme: error: 403" }' >"$T_TMP/nosep.log"
timeout 60 "$BIN/acme-ratelimit" --json --log "$T_TMP/nosep.log" >"$T_TMP/out" 2>"$T_TMP/err"
RC=$?
check "400,000 lego error lines without ' :: ': read, not hung (exit 0 or 1)" bash -c "[ $RC -le 1 ]"
check "... and none of them counted as a failed validation" \
	jq_true '[.checks[] | select(.id=="ratelimit.failed-validations" and .status != "skip")] | length == 0'
run_tool acme-ratelimit --format yaml --log "$cb/logs"
check "--format yaml: exit 2" rc_is 2
run_tool acme-ratelimit --from lego "$lego" "$lego"
check "a second folder for one --from: exit 2" rc_is 2
done_testing
