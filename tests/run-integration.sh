#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Start the lab once, run every integration test in it with prove, always
# tear the lab down. Usage: tests/run-integration.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export BUILD=${1:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "run-integration.sh: the lab needs root (network namespaces); run as root" >&2
	exit 1
fi
tests/lab/lab.sh deps
state=$(mktemp -d /tmp/acmediag-lab.XXXXXX)
cleanup() { tests/lab/lab.sh down "$state" || true; }
trap cleanup EXIT INT TERM
tests/lab/lab.sh up "$state"
export LAB_STATE=$state
tests/lab/check.sh "$state"   # the lab itself, checked with dig, before anything uses it
prove -f ${PROVE_FLAGS:-} tests/integration/*.t
