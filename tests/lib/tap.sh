# SPDX-License-Identifier: ISC
# tests/lib/tap.sh - a small TAP producer for the integration tests (bash).
# Source it; then: plan N; run_tool TOOL ARGS...; ok COND "description"; done_testing
# run_tool runs the tool inside the lab's network namespace and leaves
# $OUT (stdout), $ERR (stderr) and $RC (exit status).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) BIN=$BUILD/bin ;; *) BIN=$TOP/$BUILD/bin ;; esac
LAB_SH=$TOP/tests/lab/lab.sh
T_N=0
T_FAILED=0
T_TMP=$(mktemp -d)
trap 'rm -rf "$T_TMP"' EXIT

plan() { echo "1..$1"; }

# ok CMD... -- description : passes when CMD succeeds
check() {
	local desc=$1; shift
	T_N=$((T_N + 1))
	if "$@" >/dev/null 2>&1; then
		echo "ok $T_N - $desc"
	else
		echo "not ok $T_N - $desc"
		T_FAILED=$((T_FAILED + 1))
		{
			echo "# failed: $*"
			echo "# exit status: ${RC:-}"
			sed 's/^/#   stdout: /' "$T_TMP/out" 2>/dev/null | head -60
			sed 's/^/#   stderr: /' "$T_TMP/err" 2>/dev/null | head -20
		} >&2
	fi
}

# TOOL_WRAP="faketime -f +600s" run_tool ... runs the tool under a wrapper.
run_tool() {
	local tool=$1; shift
	local wrap=()
	[ -n "${TOOL_WRAP:-}" ] && read -r -a wrap <<<"$TOOL_WRAP"
	if [ -n "${LAB_STATE:-}" ]; then
		"$LAB_SH" run "$LAB_STATE" "${wrap[@]}" "$BIN/$tool" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	else
		"${wrap[@]}" "$BIN/$tool" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	fi
	RC=$?
	OUT=$(cat "$T_TMP/out")
	ERR=$(cat "$T_TMP/err")
}

rc_is() { [ "$RC" -eq "$1" ]; }
out_has() { grep -qF -- "$1" "$T_TMP/out"; }
out_lacks() { ! grep -qF -- "$1" "$T_TMP/out"; }
err_has() { grep -qF -- "$1" "$T_TMP/err"; }
# jq_true FILTER : the JSON on stdout satisfies the jq filter (an empty
# stdout satisfies nothing: jq -e alone passes on no input)
jq_true() { [ -s "$T_TMP/out" ] && jq -e "$1" "$T_TMP/out" >/dev/null; }
# finding ID TARGET STATUS : a finding with that id, target and status exists
finding() {
	[ -s "$T_TMP/out" ] && jq -e --arg id "$1" --arg t "$2" --arg s "$3" \
		'[.checks[] | select(.id == $id and .target == $t and .status == $s)] | length > 0' \
		"$T_TMP/out" >/dev/null
}
# no_finding_status ID STATUS : no finding with that id has that status
no_finding_status() {
	[ -s "$T_TMP/out" ] && jq -e --arg id "$1" --arg s "$2" \
		'[.checks[] | select(.id == $id and .status == $s)] | length == 0' "$T_TMP/out" >/dev/null
}

# same_findings TOOL ARGS... : TOOL --json ARGS has as many checks as the
# text of TOOL ARGS has finding lines (and some)
same_findings() {
	local tool=$1 nj nt
	shift
	run_tool "$tool" --json "$@"
	nj=$(jq -e '.checks | length' "$T_TMP/out") || return 1
	run_tool "$tool" "$@"
	nt=$(grep -cE '^(ok|warn|fail|skip|error) ' "$T_TMP/out")
	[ "$nj" -gt 0 ] && [ "$nj" -eq "$nt" ]
}

done_testing() {
	[ "$T_FAILED" -eq 0 ]
	exit $?
}

require_lab() {
	if [ -z "${LAB_STATE:-}" ] || [ ! -f "$LAB_STATE/env" ]; then
		echo "1..0 # SKIP no lab (run through tests/run-integration.sh as root)"
		exit 0
	fi
}
