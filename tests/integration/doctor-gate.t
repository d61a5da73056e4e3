#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-doctor as a CI gate and in batches: JUnit checked against a schema
# (tests/integration/data/junit.xsd) with xmllint, GitHub workflow commands
# decoded back, TAP read by prove, JSON Lines a document per name, the
# --fail-on matrix, and 1,000 names of a lab zone with a dead resolver and
# a broken zone in the same batch.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 64

dir=https://192.0.2.90:14000/dir
ca=$LAB_STATE/pebble/ca.pem
G() { run_tool acme-doctor --timeout 2 --directory "$dir" --ca-bundle "$ca" --ca-profile pebble "$@"; }
xsd=$TOP/tests/integration/data/junit.xsd

# JUnit: valid, a suite per name and one for what names share, a testcase
# per finding, failures counted as the JSON counts them.
G --format json --challenge dns-01 --ns 192.0.2.22 --expect nope healthy.test esc.healthy.test
cp "$T_TMP/out" "$T_TMP/all.json"
G --format junit --challenge dns-01 --ns 192.0.2.22 --expect nope healthy.test esc.healthy.test
cp "$T_TMP/out" "$T_TMP/report.xml"
check "junit: exit 1 (failures)" rc_is 1
check "junit: valid against the schema" xmllint --noout --schema "$xsd" "$T_TMP/report.xml"
count() { xmllint --xpath "$1" "$T_TMP/report.xml"; }
check "junit: a suite per name, and the shared one" test "$(count 'count(//testsuite)')" -eq 3
check "junit: a testcase per finding" test "$(count 'count(//testcase)')" -eq "$(jq '.checks | length' "$T_TMP/all.json")"
check "junit: a failure per failed finding" test "$(count 'count(//testcase/failure)')" -eq "$(jq '[.checks[] | select(.status == "fail")] | length' "$T_TMP/all.json")"
check "junit: classname is the name" test "$(count 'count(//testsuite[@name="esc.healthy.test"]/testcase[@classname="esc.healthy.test"])')" -gt 0
check "junit: the hint is the failure's message" \
	bash -c "xmllint --xpath 'string(//testcase[@name=\"dns.resolver.soa-filtered 192.0.2.22\"]/failure/@message)' '$T_TMP/report.xml' | grep -q 'Turn the filter off'"
check "junit: % , : and a line feed from a TXT survive" \
	bash -c "xmllint --xpath 'string(//testsuite[@name=\"esc.healthy.test\"]/testcase[@name=\"dns01.txt 192.0.2.53\"]/failure)' '$T_TMP/report.xml' | grep -q '100%,ok:yes'"

# --junit FILE beside text on the terminal: one run, both.
G --challenge dns-01 --ns 192.0.2.22 --junit "$T_TMP/side.xml" healthy.test
check "--junit FILE: the terminal keeps text" out_has "diagnosis:"
check "--junit FILE: the file is valid JUnit" xmllint --noout --schema "$xsd" "$T_TMP/side.xml"
check "--junit FILE: the report does not decide the exit status (1: a failure)" rc_is 1
G --challenge dns-01 --ns 192.0.2.22 --json-file "$T_TMP/side.json" --format tap healthy.test
check "--json-file FILE: the JSON document beside TAP" jq -e '.tool == "acme-doctor" and (.diagnosis | length) == 1' "$T_TMP/side.json"

# GitHub workflow commands: decoded back, the escaping as the runner wants it.
GITHUB_STEP_SUMMARY=$T_TMP/summary.md
export GITHUB_STEP_SUMMARY
: >"$GITHUB_STEP_SUMMARY"
G --format github --challenge dns-01 --expect nope esc.healthy.test
unset GITHUB_STEP_SUMMARY
check "github: exit 1" rc_is 1
check "github: every line is a workflow command" bash -c "! grep -qv '^::\\(error\\|warning\\) title=[^:]*::' '$T_TMP/out'"
cat >"$T_TMP/decode.py" <<'PY'
import json, re, sys
# Decode workflow commands as the runner does, and compare with the findings.
def unesc(s):
    for a, b in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        s = s.replace(a, b)
    return s
doc = json.load(open(sys.argv[2]))
msgs = set(f["summary"] for f in doc["checks"])
bad = 0
for line in open(sys.argv[1]):
    m = re.match(r"^::(error|warning) title=([^:]*)::(.*)$", line.rstrip("\n"))
    if not m or "," in m.group(2):
        bad += 1
        continue
    msg = unesc(m.group(3)).split(" -- fix: ")[0]
    if msg not in msgs:
        bad += 1
print(bad)
PY
G --format json --challenge dns-01 --expect nope esc.healthy.test
cp "$T_TMP/out" "$T_TMP/esc.json"
G --format github --challenge dns-01 --expect nope esc.healthy.test
check "github: every message decodes to a finding's summary (%, :, , and a line feed)" \
	test "$(python3 "$T_TMP/decode.py" "$T_TMP/out" "$T_TMP/esc.json")" = 0
check "github: the line feed of the TXT is %0A, % is %25" out_has '100%25,ok:yes%0Aline2'
check "github: ':' in a title is %3A (an IPv6 target)" out_has 'title=fail dns01.txt 2001%3Adb8%3A%3A53'
check "github: the cause first" bash -c "head -n1 '$T_TMP/out' | grep -q 'title=cause%3A'"
check "github: a step summary with the run's verdict" grep -q '^### acme-doctor: fail' "$T_TMP/summary.md"
check "github: the summary names the failing name and its first cause" grep -q '^| esc.healthy.test | fail | the TXT record is missing' "$T_TMP/summary.md"

# TAP, read by prove.
G --format tap --ns 192.0.2.21 --challenge dns-01 healthy.test
cp "$T_TMP/out" "$T_TMP/ok.tap"
check "tap: a healthy name: exit 0" rc_is 0
check "tap: prove passes it" prove --exec cat "$T_TMP/ok.tap"
G --format tap --ns 192.0.2.22 --challenge dns-01 healthy.test
cp "$T_TMP/out" "$T_TMP/bad.tap"
check "tap: prove fails a run that fails" bash -c "! prove --exec cat '$T_TMP/bad.tap' >/dev/null 2>&1"
check "tap: the plan counts every finding" bash -c "tail -n1 '$T_TMP/bad.tap' | grep -q '^1\\.\\.[0-9]\\+$'"
check "tap: the failing finding has its hint in YAML" grep -q '^  hint: "Turn the filter off' "$T_TMP/bad.tap"

# JSON Lines: a document per name, then a summary.
G --format jsonl --challenge dns-01 --ns 192.0.2.21 healthy.test missing.test
check "jsonl: three documents" test "$(wc -l <"$T_TMP/out")" -eq 3
check "jsonl: the names in the order given" bash -c "jq -r .target '$T_TMP/out' | head -n2 | tr '\\n' ' ' | grep -qx 'healthy.test missing.test '"
check "jsonl: each an acme-diag/1 document with its diagnosis" bash -c "jq -e 'select(.schema == \"acme-diag/1\") | has(\"diagnosis\")' '$T_TMP/out' | grep -c true | grep -qx 3"
check "jsonl: the summary last" bash -c "tail -n1 '$T_TMP/out' | jq -e '.summary.names == 2 and .summary.verdicts.ok == 1 and .summary.verdicts.warn == 1'"

# --fail-on: which verdict fails the run.
for c in "warn:fail:0" "warn:warn:1" "warn:error:0" "fail:fail:1" "fail:warn:1" "fail:error:0"; do
	IFS=: read -r want level rc <<<"$c"
	if [ "$want" = warn ]; then args=(--challenge dns-01 --ns 192.0.2.21 missing.test); else args=(--challenge dns-01 --ns 192.0.2.22 healthy.test); fi
	G --format jsonl --fail-on "$level" "${args[@]}"
	check "--fail-on $level with a $want verdict: exit $rc" rc_is "$rc"
done
G --format jsonl --challenge dns-01 --ns 192.0.2.21 --strict missing.test
check "--strict is --fail-on warn" rc_is 1
run_tool acme-doctor --timeout 1 --ca-profile pebble --format jsonl --fail-on fail healthy.test
check "an error (the CA unreachable) exits 3 whatever --fail-on" rc_is 3

# A batch: 1,000 names of bulk.test, a broken zone (a CNAME loop), a dead
# resolver beside a live one; duplicates, comments and blank lines.
{
	echo "# customer domains"
	for i in $(seq 1 1000); do echo "name$i.bulk.test"; done
	echo ""
	echo "loop.test   # CNAME loop"
	echo "NAME7.bulk.test."
} >"$T_TMP/names.txt"
log=$LAB_STATE/junk-silent.out
before=$(wc -l <"$log")
G --format jsonl --challenge dns-01 -j 50 --ns 192.0.2.99 --ns 192.0.2.21 -f "$T_TMP/names.txt"
after=$(wc -l <"$log")
check "batch: exit 1 (a dead resolver, a broken zone)" rc_is 1
check "batch: a document per name, once each, and the summary" test "$(wc -l <"$T_TMP/out")" -eq 1002
check "batch: every healthy name ok" bash -c "jq -r 'select(.target | test(\"bulk.test\")) | .verdict' '$T_TMP/out' | sort | uniq -c | grep -qx ' *1000 ok'"
check "batch: the broken zone named, with its cause" bash -c "jq -se '[.[] | select(.target == \"loop.test\")][0] | .verdict == \"fail\" and .diagnosis[0].id == \"dns01.cname\"' '$T_TMP/out' >/dev/null"
check "batch: the dead resolver named once, in the summary" bash -c "tail -n1 '$T_TMP/out' | jq -e '[.checks[] | select(.id == \"dns.resolver.reachable\" and .target == \"192.0.2.99\" and .status == \"fail\")] | length == 1' >/dev/null"
check "batch: the summary counts" bash -c "tail -n1 '$T_TMP/out' | jq -e '.summary.names == 1001 and .summary.verdicts.ok == 1000 and .summary.verdicts.fail == 1' >/dev/null"
n=$((after - before))
check "batch: the dead resolver is asked by the first 50 names only ($n datagrams, not 1,000 names' worth)" test "$n" -ge 1 -a "$n" -le 2500
check "batch: no progress line when stderr is not a terminal" test ! -s "$T_TMP/err"

printf 'healthy.test\n' | "$LAB_SH" run "$LAB_STATE" "$BIN/acme-doctor" --timeout 2 --directory "$dir" --ca-bundle "$ca" \
	--ca-profile pebble --format jsonl --challenge dns-01 -f - >"$T_TMP/out" 2>"$T_TMP/err"
RC=$?
check "-f -: names from standard input" bash -c "head -n1 '$T_TMP/out' | jq -e '.target == \"healthy.test\"' >/dev/null"

# TLS-ALPN-01 in a batch: its findings in every format, like any other's.
ka=$(cat "$LAB_STATE/alpn/ka")
printf 'alpn-good.web.test\nalpn-fallback.web.test\n' >"$T_TMP/alpn.txt"
A() { G --challenge tls-alpn-01 --key-authorization "$ka" -j 2 -f "$T_TMP/alpn.txt" "$@"; }
A --format jsonl
cp "$T_TMP/out" "$T_TMP/alpn.jsonl"
check "alpn, jsonl: exit 1 (IPv6 refuses acme-tls/1, Pebble does not fall back)" rc_is 1
check "alpn, jsonl: a document per name and the summary" test "$(wc -l <"$T_TMP/out")" -eq 3
check "alpn, jsonl: the refusing address failed in its name's document, and is the first cause" \
	bash -c "jq -se '[.[] | select(.target == \"alpn-fallback.web.test\")][0] | ([.checks[] | select(.id == \"tlsalpn01.addr\" and .target == \"2001:db8::80\" and .status == \"fail\")] | length == 1) and .diagnosis[0].id == \"tlsalpn01.addr\"' '$T_TMP/out' >/dev/null"
check "alpn, jsonl: the good responder ok, no HTTP-01 anywhere" \
	bash -c "jq -se '([.[] | select(.target == \"alpn-good.web.test\")][0].verdict == \"ok\") and ([.[].checks[] | select(.id | startswith(\"http01.\"))] | length == 0)' '$T_TMP/out' >/dev/null"
A --format junit
cp "$T_TMP/out" "$T_TMP/report.xml"
check "alpn, junit: valid against the schema" xmllint --noout --schema "$xsd" "$T_TMP/report.xml"
check "alpn, junit: the refusing address a failed testcase of its name" \
	test "$(count 'count(//testsuite[@name="alpn-fallback.web.test"]/testcase[@classname="alpn-fallback.web.test" and @name="tlsalpn01.addr 2001:db8::80"]/failure)')" -eq 1
check "alpn, junit: a testcase per finding" \
	test "$(count 'count(//testcase)')" -eq "$(jq -s '[.[].checks[]] | length' "$T_TMP/alpn.jsonl")"
A --format github
check "alpn, github: the refusing address is the first error" \
	bash -c "head -n1 '$T_TMP/out' | grep -q '^::error title=cause%3A fail tlsalpn01.addr 2001%3Adb8%3A%3A80 (alpn-fallback.web.test)::'"
A --format tap
cp "$T_TMP/out" "$T_TMP/alpn.tap"
check "alpn, tap: prove fails the run" bash -c "! prove --exec cat '$T_TMP/alpn.tap' >/dev/null 2>&1"
check "alpn, tap: the refusing address is not ok" grep -q '^not ok [0-9]* - tlsalpn01.addr 2001:db8::80: ' "$T_TMP/alpn.tap"
A
check "alpn, text: a TLS-ALPN-01 section per name" \
	bash -c "grep -c '^== alpn-[a-z]*.web.test: TLS-ALPN-01\$' '$T_TMP/out' | grep -qx 2"

# Usage.
printf '# nothing\n\n' >"$T_TMP/empty.txt"
for bad in "--format xml healthy.test" "--json --format tap healthy.test" "-j 0 healthy.test" "-f /nonexistent" \
	"-f $T_TMP/empty.txt" "--strict --fail-on error healthy.test" "--fail-on never healthy.test"; do
	run_tool acme-doctor $bad
	check "usage: '$bad' exits 2" rc_is 2
done
done_testing
