#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make bench, revocation part: acme-revcheck on bulk revocation data beside
# baselines measured in the same run on the same files (printed, never
# asserted). Needs no lab: files only.
#   1. 100,000 serials against a published list of 3,000,000 (Let's
#      Encrypt's incident format), beside grep -F -f and sort | join.
#   2. a CRL of 1,000,000 entries made by openssl ca -gencrl: parse, verify
#      and look up 1,000 serials, beside openssl crl -text | grep.
# Usage: bench/revocation.sh [BUILD]; BENCH_LIST, BENCH_MINE, BENCH_CRL
# change the sizes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
BIN=$top/$BUILD/bin
RUNS=${BENCH_RUNS:-3}
NLIST=${BENCH_LIST:-3000000}
NMINE=${BENCH_MINE:-100000}
NCRL=${BENCH_CRL:-1000000}
work=$(mktemp -d /tmp/acmediag-revbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# median_ms CMD... : wall-clock median of $RUNS runs, in ms
median_ms() {
	local t=() a b
	for _ in $(seq 1 "$RUNS"); do
		a=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		b=$(date +%s%N)
		t+=($(( (b - a) / 1000000 )))
	done
	printf '%s\n' "${t[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}
peak_mb() {
	/usr/bin/time -f %M -o "$work/peak" "$@" >/dev/null 2>&1 || true
	tail -n1 "$work/peak" | awk '{ printf "%.1f", $1 / 1024 }'  # after time's exit-status line
}

# The incident list: serial, account, names hash, names, as Let's Encrypt
# published it; every 30th of "mine" is on it.
awk -v n="$NLIST" -v m="$NMINE" 'BEGIN {
	srand(1)
	for (i = 0; i < n; i++)
		printf "serial %08x%08x%08x%08x%04x %d 9f3a names: [host%d.example] missing CAA checking results at 2020-02-29\n",
			int(rand() * 4294967295), int(rand() * 4294967295), i, int(rand() * 4294967295), i % 65536, i % 5000, i
}' >incident.txt
awk -v n="$NLIST" -v m="$NMINE" 'BEGIN { srand(2)
	for (i = 0; i < m; i++)
		if (i % 30 == 0) print "LISTED"; else printf "%08x%08x%08x%08x%04x\n",
			int(rand() * 4294967295), int(rand() * 4294967295), n + i, int(rand() * 4294967295), i % 65536 }' >mine.raw
# replace the LISTED markers with serials taken from the list
awk 'NR == FNR { if (FNR % 97 == 1) pick[++np] = $2; next } /^LISTED$/ { print pick[++k]; next } { print }' \
	incident.txt mine.raw >mine.txt
# the baselines need the list's spelling; ours takes any (give it upper case with colons)
tr a-f A-F <mine.txt | sed 's/\(..\)/\1:/g; s/:$//' >mine-colons.txt
listed=$(grep -c . mine.txt)

rev_list() { "$BIN/acme-revcheck" -q --serials incident.txt --list mine-colons.txt; }
grep_list() { sed 's/^/serial /; s/$/ /' mine.txt >pat.txt; grep -F -c -f pat.txt incident.txt; }
join_list() { awk '{ print $2 }' incident.txt | LC_ALL=C sort >l.s; LC_ALL=C sort mine.txt >m.s; LC_ALL=C join l.s m.s | wc -l; }
export -f rev_list grep_list join_list
export BIN
ours_list=$(median_ms bash -c rev_list)
ours_list_mb=$(peak_mb bash -c rev_list)
hits=$({ "$BIN/acme-revcheck" --json -q --serials incident.txt --list mine-colons.txt || true; } |
	jq '[.checks[] | select(.id=="cert.incident" and .status=="fail")] | length')
grep_ms=$(median_ms bash -c grep_list)
join_ms=$(median_ms bash -c join_list)
list_mb=$(( $(stat -c %s incident.txt) / 1048576 ))

# The CRL: an openssl ca database with NCRL revoked entries, then -gencrl.
mkdir -p ca
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca/ca.key 2>/dev/null
openssl req -x509 -new -key ca/ca.key -subj "/CN=bench CA" -days 30 -out ca/ca.pem 2>/dev/null
awk -v n="$NCRL" 'BEGIN { srand(3)
	for (i = 0; i < n; i++)
		printf "R\t301230000000Z\t261101000000Z,keyCompromise\t%08X%08X%08X%04X\tunknown\t/CN=x\n",
			int(rand() * 2147483647) + 16777216, int(rand() * 4294967295), i, i % 65536 }' >ca/index.txt
echo 01 >ca/crlnumber
printf '[ca]\ndefault_ca=b\n[b]\ndatabase=%s/ca/index.txt\ncrlnumber=%s/ca/crlnumber\ncertificate=%s/ca/ca.pem\nprivate_key=%s/ca/ca.key\ndefault_md=sha256\ndefault_crl_days=7\n' \
	"$work" "$work" "$work" "$work" >ca/ca.cnf
/usr/bin/time -f %e -o gen.time openssl ca -batch -config ca/ca.cnf -gencrl -out big.crl.pem >/dev/null 2>&1
gen_s=$(cat gen.time)
openssl crl -in big.crl.pem -outform DER -out big.crl
crl_mb=$(( $(stat -c %s big.crl) / 1048576 ))
# 1,000 serials to look up: 500 on the CRL, 500 not
{ awk -F'\t' 'NR % 2000 == 1 { print $4 }' ca/index.txt | head -n 500
  awk 'BEGIN { for (i = 0; i < 500; i++) printf "7%07X%08X\n", i, i }'; } >look.txt
rev_crl() { "$BIN/acme-revcheck" -q --crl big.crl --issuer ca/ca.pem --list look.txt; }
ossl_crl() { sed 's/^/Serial Number: /' look.txt >look.pat; openssl crl -inform DER -in big.crl -noout -text | grep -c -F -f look.pat; }
export -f rev_crl ossl_crl
ours_crl=$(median_ms bash -c rev_crl)
ours_crl_mb=$(peak_mb bash -c rev_crl)
crl_hits=$({ "$BIN/acme-revcheck" --json -q --crl big.crl --issuer ca/ca.pem --list look.txt || true; } |
	jq '[.checks[] | select(.id=="cert.revocation" and .status=="fail")] | length')
ossl_ms=$(median_ms bash -c ossl_crl)
ossl_hits=$(bash -c ossl_crl || true)

printf '\nacme-revcheck bench (median of %d runs, wall clock; load average %s)\n' "$RUNS" "$(cut -d' ' -f1 /proc/loadavg)"
printf '%-64s %8s\n' "case" "ms"
printf '%-64s %8d\n' "acme-revcheck: $NMINE serials vs a list of $NLIST ($list_mb MB)" "$ours_list"
printf '%-64s %8s\n' "  matches (of $listed listed; expected $(( (NMINE + 29) / 30 )))" "$hits"
printf '%-64s %8s\n' "  peak memory (MB)" "$ours_list_mb"
printf '%-64s %8d\n' "baseline: grep -F -f (the same serials, the list's spelling)" "$grep_ms"
printf '%-64s %8d\n' "baseline: awk | sort, sort, join" "$join_ms"
printf '%-64s %8d\n' "acme-revcheck: CRL of $NCRL entries ($crl_mb MB), verify, 1,000 serials" "$ours_crl"
printf '%-64s %8s\n' "  revoked found (expected 500)" "$crl_hits"
printf '%-64s %8s\n' "  peak memory (MB)" "$ours_crl_mb"
printf '%-64s %8d\n' "baseline: openssl crl -text | grep -F -f (no verification)" "$ossl_ms"
printf '%-64s %8s\n' "  its matches" "$ossl_hits"
printf '%-64s %8s\n' "(openssl ca -gencrl made that CRL in, s)" "$gen_s"
printf '\nExpect: the list in under 2 s on 2 cores and the CRL in under 1 s, each read once.\n'
