#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make bench: acme-dnscheck's fan-out beside a sequential baseline measured
# in the same run, on the lab (a real nsd answering on 100 addresses).
# Figures are wall-clock medians of a few runs; they are printed, never
# asserted (the machines are shared and noisy).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${1:-build}
BIN=$top/$BUILD/bin
RUNS=${BENCH_RUNS:-5}
TIMEOUT=${BENCH_TIMEOUT:-2}
state=$(mktemp -d /tmp/acmediag-bench.XXXXXX)
trap 'tests/lab/lab.sh down "$state" >/dev/null 2>&1 || true' EXIT
LAB_BULK=${BENCH_BULK:-10000} tests/lab/lab.sh up "$state" >/dev/null
lab() { tests/lab/lab.sh run "$state" "$@"; }

servers=()
for i in $(seq 1 100); do servers+=("198.51.100.$i"); done
ns_args=()
for s in "${servers[@]}"; do ns_args+=(--ns "$s"); done

# median_ms CMD... : run CMD $RUNS times inside the lab, print the median in ms
median_ms() {
	local t=()
	for _ in $(seq 1 "$RUNS"); do
		local a b
		a=$(date +%s%N)
		lab "$@" >/dev/null 2>&1 || true
		b=$(date +%s%N)
		t+=($(( (b - a) / 1000000 )))
	done
	printf '%s\n' "${t[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

seq_dig() { # sequential baseline: one dig after another, as a script would
	for s in "$@"; do dig +tries=1 +time="$TIMEOUT" @"$s" . SOA >/dev/null || true; done
}
export -f seq_dig
export TIMEOUT

one=$(median_ms "$BIN/acme-dnscheck" --timeout "$TIMEOUT" --ns 198.51.100.1)
ours=$(median_ms "$BIN/acme-dnscheck" --timeout "$TIMEOUT" "${ns_args[@]}")
base=$(median_ms bash -c 'seq_dig "$@"' _ "${servers[@]}")
dead=("${servers[@]:0:99}" 192.0.2.99)
dead_args=()
for s in "${dead[@]}"; do dead_args+=(--ns "$s"); done
ours_dead=$(median_ms "$BIN/acme-dnscheck" --timeout "$TIMEOUT" "${dead_args[@]}")
base_dead=$(median_ms bash -c 'seq_dig "$@"' _ "${dead[@]}")

# HTTP-01: six addresses of which four are blackholed (connect timeouts).
many=(2001:db8:dead::80 2001:db8:dead::81 2001:db8:dead::82 2001:db8:dead::83 2001:db8::80 192.0.2.80)
seq_curl() { # sequential baseline: one curl per address, as a script would
	for a in "$@"; do
		host=$a; case $a in *:*) host="[$a]" ;; esac
		curl -s -o /dev/null --connect-timeout "$TIMEOUT" -H 'Host: many.web.test' \
			"http://$host/.well-known/acme-challenge/bench" || true
	done
}
export -f seq_curl
http_ours=$(median_ms "$BIN/acme-httpcheck" --timeout "$TIMEOUT" --ca-profile rfc8555 many.web.test)
http_base=$(median_ms bash -c 'seq_curl "$@"' _ "${many[@]}")

# One name with a dead authoritative server (dead.test: nsdead never
# answers, for its zone and for the zone its CNAME points into) and a
# blackholed AAAA: acme-doctor against each single tool, and against the
# single tools run one after another (the sum a user waits for today).
dir=https://192.0.2.90:14000/dir
ca=$state/pebble/ca.pem
dns_dead=$(median_ms "$BIN/acme-dnscheck" --timeout "$TIMEOUT" dead.test)
http_dead=$(median_ms "$BIN/acme-httpcheck" --timeout "$TIMEOUT" --ca-profile pebble dead.test)
clock_dir=$(median_ms "$BIN/acme-clock" --timeout "$TIMEOUT" --directory "$dir" --ca-bundle "$ca")
tools_seq() {
	"$BIN/acme-dnscheck" --timeout "$TIMEOUT" dead.test
	"$BIN/acme-httpcheck" --timeout "$TIMEOUT" --ca-profile pebble dead.test
	"$BIN/acme-clock" --timeout "$TIMEOUT" --directory "$dir" --ca-bundle "$ca"
}
export -f tools_seq
export BIN dir ca
tools_sum=$(median_ms bash -c tools_seq)
doctor=$(median_ms "$BIN/acme-doctor" --timeout "$TIMEOUT" --ca-profile pebble --directory "$dir" \
	--ca-bundle "$ca" dead.test)
# A batch: every name of bulk.test (DNS-01 pre-flight: zone, authoritative
# TXT, CAA), against acme-dnscheck run per name in a shell loop over a
# sample, extrapolated. Peak memory from GNU time.
bulk=${BENCH_BULK:-10000}
seq 1 "$bulk" | sed 's/^/name/; s/$/.bulk.test/' >"$state/names.txt"
lab /usr/bin/time -f '%e %M' -o "$state/bulk.time" "$BIN/acme-doctor" --timeout "$TIMEOUT" \
	--directory "$dir" --ca-bundle "$ca" --format jsonl --challenge dns-01 --ns 192.0.2.20 -j 200 \
	-f "$state/names.txt" >"$state/bulk.jsonl" || true
read -r bulk_s bulk_kb <"$state/bulk.time"
bulk_ok=$(tail -n1 "$state/bulk.jsonl" | jq -r '.summary.verdicts.ok')
sample=100
loop_dnscheck() { for i in $(seq 1 "$1"); do "$BIN/acme-dnscheck" --timeout "$TIMEOUT" --ns 192.0.2.20 "name$i.bulk.test" >/dev/null; done; }
export -f loop_dnscheck
loop_ms=$(median_ms bash -c "loop_dnscheck $sample")

# Capture reading is linear: a 16 MB certbot log in which no request has
# its closing "}" line (the worst case of the old rescan), and a 100,000-
# entry HAR, beside a grep over the same bytes (one linear pass).
cap=$(mktemp -d)
awk 'BEGIN { for (i = 0; i < 133000; i++) printf "2026-01-01 00:00:00,000:DEBUG:acme.client:Sending POST request to https://ca.test/acme/new-order:\n{\n  \"protected\": \"x\",\n" }' >"$cap/nobrace.log"
awk 'BEGIN { printf "{\"log\":{\"version\":\"1.2\",\"entries\":["; for (i = 0; i < 100000; i++) printf "%s{\"request\":{\"method\":\"POST\",\"url\":\"https://ca.test/acme/new-order\",\"headers\":[],\"postData\":{\"text\":\"{\\\"protected\\\":\\\"eyJhbGciOiJFUzI1NiJ9\\\",\\\"payload\\\":\\\"\\\",\\\"signature\\\":\\\"AAAA\\\"}\"}}}", i ? "," : ""; printf "]}}" }' >"$cap/big.har"
log_ms=$(median_ms "$BIN/acme-jwslint" "$cap/nobrace.log")
log_base=$(median_ms grep -c "Sending POST request to" "$cap/nobrace.log")
har_ms=$(median_ms "$BIN/acme-jwslint" -q "$cap/big.har")
har_base=$(median_ms grep -c '"POST"' "$cap/big.har")
# (its exit status is the verdict: a finding fails, the bench goes on)
/usr/bin/time -f %M -o "$cap/har.peak" "$BIN/acme-jwslint" -q "$cap/big.har" >/dev/null 2>&1 || true
har_kb=$(tail -n 1 "$cap/har.peak")
har_mb=$(( $(stat -c %s "$cap/big.har") / 1048576 ))
rm -rf "$cap"

# acme-dash: key to screen with 100 names re-run every second, beside the
# time tmux takes to show cat's echo (dash.t measures both, in the lab).
dash_keys=$(mktemp)
LAB_STATE=$state BUILD=$BUILD DASH_BENCH_OUT=$dash_keys prove tests/integration/dash.t >/dev/null 2>&1 || true
read -r dash_key_ms dash_echo_ms <"$dash_keys" || { dash_key_ms=-1; dash_echo_ms=-1; }
rm -f "$dash_keys"

slowest=$dns_dead
[ "$http_dead" -gt "$slowest" ] && slowest=$http_dead
[ "$clock_dir" -gt "$slowest" ] && slowest=$clock_dir

printf '\nacme-diag bench (median of %d runs, --timeout %ss, lab on this machine)\n' "$RUNS" "$TIMEOUT"
printf '%-58s %8s\n' "case" "ms"
printf '%-58s %8d\n' "acme-dnscheck audit, 1 resolver (5 queries)" "$one"
printf '%-58s %8d\n' "acme-dnscheck audit, 100 resolvers at once (500 queries)" "$ours"
printf '%-58s %8d\n' "baseline: 100 x dig one after another (100 queries)" "$base"
printf '%-58s %8d\n' "acme-dnscheck audit, 100 resolvers, 1 never answers" "$ours_dead"
printf '%-58s %8d\n' "baseline: 100 x dig, 1 never answers" "$base_dead"
printf '%-58s %8d\n' "acme-httpcheck, 6 addresses, 4 blackholed (at once)" "$http_ours"
printf '%-58s %8d\n' "baseline: curl per address, one after another" "$http_base"
printf '%-58s %8d\n' "acme-dnscheck dead.test (a dead nameserver in 2 zones)" "$dns_dead"
printf '%-58s %8d\n' "acme-httpcheck dead.test (a blackholed AAAA, pebble)" "$http_dead"
printf '%-58s %8d\n' "acme-clock against the directory" "$clock_dir"
printf '%-58s %8d\n' "the three tools one after another" "$tools_sum"
printf '%-58s %8d\n' "acme-doctor dead.test (all of it, and the audit, at once)" "$doctor"
printf '%-58s %8s\n' "acme-doctor / slowest single tool" "$(awk -v a="$doctor" -v b="$slowest" 'BEGIN { printf "%.2f", a / b }')"
printf '%-58s %8s\n' "acme-doctor -f: $bulk names of bulk.test, -j 200 (s)" "$bulk_s"
printf '%-58s %8s\n' "  names/second" "$(awk -v n="$bulk" -v s="$bulk_s" 'BEGIN { printf "%.0f", n / s }')"
printf '%-58s %8s\n' "  peak memory (MB)" "$(awk -v k="$bulk_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '%-58s %8s\n' "  names ok" "$bulk_ok"
printf '%-58s %8s\n' "baseline: acme-dnscheck per name, $sample in a loop, x$((bulk / sample)) (s)" "$(awk -v m="$loop_ms" -v k=$((bulk / sample)) 'BEGIN { printf "%.1f", m * k / 1000 }')"
printf '%-58s %8d\n' "acme-jwslint, 16 MB certbot log, no request closed" "$log_ms"
printf '%-58s %8d\n' "baseline: grep -c over the same log" "$log_base"
printf '%-58s %8d\n' "acme-jwslint, HAR of 100,000 entries ($har_mb MB)" "$har_ms"
printf '%-58s %8d\n' "baseline: grep -c over the same HAR" "$har_base"
printf '%-58s %8s\n' "  acme-jwslint peak memory on it (MB)" "$(awk -v k="$har_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '%-58s %8s\n' "acme-dash, 100 names in flight: key to screen (median)" "$dash_key_ms"
printf '%-58s %8s\n' "baseline: tmux showing cat's echo of a key (median)" "$dash_echo_ms"
printf '\nExpect: 100 resolvers within a few ms of 1 resolver; one dead server (or four blackholed\n'
printf 'addresses) costs one --timeout; acme-doctor within 1.2x of its slowest single tool, not the sum;\n'
printf '%s names in under 30 s and 200 MB; captures read in a few times grep'"'"'s time, in memory\n' "$bulk"
printf 'of about the file'"'"'s size (the HAR is read one entry at a time); acme-dash within 50 ms of tmux'"'"'s echo.\n'

# Revocation: a published list of millions of serials and a CRL of a
# million entries, beside grep, sort | join and openssl crl | grep.
"$top/bench/revocation.sh" "$BUILD"
