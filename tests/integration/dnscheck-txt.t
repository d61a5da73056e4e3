#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-dnscheck: CNAME delegation, loops, huge TXT sets, --wait seeing a
# record appear, negative caching at a real dnsmasq, --key-authorization.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 47

# CNAME-delegated _acme-challenge into another zone.
run_tool acme-dnscheck --json --expect delegated-token-value cname.test
check "cname: exit 0" rc_is 0
check "cname: chain reported" \
	jq_true '[.checks[] | select(.id=="dns01.cname")][0] | .status=="ok" and .evidence.chain==["_acme-challenge.cname.test","cname-test.delegate.test"]'
check "cname: target zone located" \
	jq_true '[.checks[] | select(.id=="dns.zone" and .target=="cname-test.delegate.test")][0].evidence.zone == "delegate.test"'
check "cname: TXT checked at the target's servers" \
	jq_true '[.checks[] | select(.id=="dns01.txt" and .evidence.role=="authoritative" and .evidence.name=="cname-test.delegate.test" and .status=="ok")] | length >= 2'
run_tool acme-dnscheck --json --expect wrong-value cname.test
check "cname: wrong value at the target fails" rc_is 1

# A TXT value whose bytes are not UTF-8 (Latin-1 "caf\xe9 \xff ok"): every
# finding reaches --json, the bytes shown as \xNN, and the text agrees.
run_tool acme-dnscheck --json bytes.healthy.test
check "bytes: exit 0" rc_is 0
check "bytes: the value in the evidence, bad bytes as \\xNN" \
	jq_true '[.checks[] | select(.id=="dns01.txt" and .target=="192.0.2.53")][0].evidence.values == ["caf\\xe9 \\xff ok"]'
check "bytes: and in the summary" \
	jq_true '[.checks[] | select(.id=="dns01.txt" and .target=="192.0.2.53")][0].summary | contains("caf\\xe9 \\xff ok")'
json_n=$(jq '.checks | length' "$T_TMP/out")
run_tool acme-dnscheck bytes.healthy.test
text_n=$(grep -cE '^(ok|warn|fail|skip|error) ' "$T_TMP/out")
check "bytes: --json holds as many findings as the text ($json_n, $text_n)" test "$json_n" -eq "$text_n" -a "$json_n" -gt 5
check "bytes: text shows the same escapes" out_has 'caf\xe9 \xff ok'

# CNAME loop: a clear finding, bounded.
run_tool acme-dnscheck --json loop.test
check "loop: exit 1" rc_is 1
check "loop: reported" jq_true '[.checks[] | select(.id=="dns01.cname" and .status=="fail" and (.summary|test("loop")))] | length == 1'
check "loop: names where it closes" jq_true '[.checks[] | select(.id=="dns01.cname")][0].summary | test("back to _acme-challenge.loop.test$")'

# 300 TXT records: truncated over UDP, fetched over TCP, reported compactly.
run_tool acme-dnscheck --json big.test
check "big: runs" bash -c "[ $RC -le 1 ]"
check "big: every value read at ns1" \
	jq_true '[.checks[] | select(.id=="dns01.txt" and .target=="192.0.2.53")][0].evidence.values | length == 300'
check "big: stale values flagged" finding dns01.stale _acme-challenge.big.test warn
run_tool acme-dnscheck big.test
check "big: text summary is bounded" bash -c "[ \$(awk 'length > 400' '$T_TMP/out' | wc -l) -eq 0 ]"

# --wait sees a record appear; negative caching at dnsmasq is reported.
ka="wait-token.lab-account-thumbprint"
digest=$(printf %s "$ka" | openssl dgst -sha256 -binary | basenc --base64url | tr -d =)
zone() { # zone SERIAL [TXT]
	cat <<ZONE
\$ORIGIN wait.test.
\$TTL 300
@ IN SOA ns1.lab.test. hostmaster.lab.test. $1 3600 600 86400 300
@ IN NS ns1.lab.test.
@ IN NS ns2.lab.test.
@ IN A 192.0.2.80
ZONE
	[ -n "${2:-}" ] && echo "_acme-challenge 60 IN TXT \"$2\""
	return 0
}
serial=$(date +%s)
zone "$serial" >"$T_TMP/wait-empty.zone"
zone $((serial + 1)) "$digest" >"$T_TMP/wait-txt.zone"
"$LAB_SH" zone "$LAB_STATE" both wait.test "$T_TMP/wait-empty.zone" >/dev/null
run_tool acme-dnscheck --json --ns 192.0.2.10 wait.test   # the resolver now caches NXDOMAIN
check "wait: no record yet" jq_true '[.checks[] | select(.id=="dns01.txt" and .target=="192.0.2.10")][0].evidence.values == []'
check "wait: negative caching time reported" \
	jq_true '[.checks[] | select(.id=="dns.resolver.negcache" and .target=="192.0.2.10")][0] | .status=="ok" and .evidence.negative_ttl > 0 and .evidence.negative_ttl <= 300'

( sleep 3; "$LAB_SH" zone "$LAB_STATE" both wait.test "$T_TMP/wait-txt.zone" >/dev/null ) &
adder=$!
run_tool acme-dnscheck --json --ns 192.0.2.53 --wait 40 --interval 1 --key-authorization "$ka" wait.test
wait $adder
check "wait: exit 0 once the record is everywhere" rc_is 0
check "wait: propagation ok" finding dns01.propagation _acme-challenge.wait.test ok
check "wait: first seen after it was added" \
	jq_true '[.checks[] | select(.id=="dns01.txt" and .target=="192.0.2.54")][0].evidence.first_seen_ms >= 2000'
check "wait: the digest of the key authorization was expected" \
	jq_true '[.checks[] | select(.id=="dns01.txt" and .target=="192.0.2.53")][0].evidence.values | index("'"$digest"'") != null'

run_tool acme-dnscheck --json --ns 192.0.2.10 --key-authorization "$ka" wait.test
check "negcache: resolver still answers from its negative cache" finding dns01.txt 192.0.2.10 fail
check "negcache: warned while the authoritative servers have it" finding dns.resolver.negcache 192.0.2.10 warn
check "negcache: authoritative servers have it" finding dns01.txt 192.0.2.53 ok
check "negcache: exit 1" rc_is 1

run_tool acme-dnscheck --json --ns 192.0.2.53 --wait 2 --interval 1 --expect never-published wait.test
check "wait timeout: exit 1" rc_is 1
check "wait timeout: propagation fails" finding dns01.propagation _acme-challenge.wait.test fail
check "wait timeout: servers never seen are null" \
	jq_true '[.checks[] | select(.id=="dns01.propagation")][0].evidence.first_seen_ms["192.0.2.53"] == null'

# Without --expect, servers that disagree are flagged.
run_tool acme-dnscheck --json missing.test
check "agreement: disagreement is a warning" finding dns01.agreement _acme-challenge.missing.test warn
check "agreement: exactly one of ns1 and ns2 named as differing" \
	jq_true '[.checks[] | select(.id=="dns01.agreement")][0].evidence.differing | ((index("192.0.2.54") != null) != (index("192.0.2.53") != null))'
check "agreement: exit 0 (warn)" rc_is 0
run_tool acme-dnscheck --json --strict missing.test
check "agreement: --strict turns the warning into exit 1" rc_is 1

# TXT "good\000evil": the CA compares the whole string, so --expect good is
# not met; the NUL shows as \x00.
run_tool acme-dnscheck --json --expect good nul.healthy.test
check "nul: --expect good fails (exit 1)" rc_is 1
check "nul: the TXT at the authoritative server is not the expected one" finding dns01.txt 192.0.2.53 fail
check "nul: the value shows the NUL as \\x00" \
	jq_true '[.checks[] | select(.id=="dns01.txt" and .target=="192.0.2.53")][0].evidence.values == ["good\\x00evil"]'
run_tool acme-dnscheck --json --expect 'good\x00evil' nul.healthy.test
check "nul: nor is the text good\\x00evil typed by hand" rc_is 1
run_tool acme-dnscheck --json --expect healthy-token-value healthy.test
check "nul: a plain value still matches" rc_is 0

# C1 controls and a bidi override in a TXT value: escaped in every text
# format, kept as they are in JSON (lossless; a JSON reader decides).
c1_clean() { ! LC_ALL=C grep -qP '\xc2[\x80-\x9f]|\xe2\x80\xae|\x07' "$T_TMP/out"; }
c1_escaped() { out_has '\u009b' && c1_clean; }
run_tool acme-dnscheck -v --expect nope c1.healthy.test
check "c1: text output ran (exit 1: value differs)" rc_is 1
check "c1: no C1 control, BEL or override byte reaches the terminal" c1_clean
check "c1: CSI shown as \\u009b" out_has '\u009b2J\u009b31mred\u009d0;pwned\x07 \u202etxt'
run_tool acme-dnscheck --json --expect nope c1.healthy.test
check "c1: JSON keeps the characters" \
	jq_true '[.checks[] | select(.id=="dns01.txt" and .target=="192.0.2.53")][0].evidence.values[0] == "\u009b2J\u009b31mred\u009d0;pwned\u0007 \u202etxt"'
for fmt in text github tap junit; do
	run_tool acme-doctor --format $fmt --challenge dns-01 --expect nope c1.healthy.test
	check "c1: acme-doctor --format $fmt escapes them" c1_escaped
done
done_testing
