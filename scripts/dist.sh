#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make dist: acme-diag-VERSION.tar.gz (in the top directory), from the files
# git tracks as they are in the work tree (a changed file goes in changed,
# and VERSION says -dirty), with VERSION holding the full version so that
# a build from the tarball needs no git. No build output goes in.
# Usage: scripts/dist.sh VERSION [OUTDIR]   (OUTDIR: the top directory)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=${1:?usage: scripts/dist.sh VERSION [OUTDIR]}
out=$(cd "${2:-$top}" && pwd)
name=acme-diag-$version
if [ "$(git -C "$top" rev-parse --show-toplevel 2>/dev/null)" != "$top" ]; then
	echo "dist.sh: $top is not a git checkout: the tracked files are the sources" >&2
	exit 1
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
# Tracked files that exist in the work tree (one deleted there stays out).
git -C "$top" ls-files -z | (cd "$top" && while IFS= read -r -d '' f; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	printf '%s\0' "$f"
done) | tar -C "$top" --null --no-recursion -T - -cf - | tar -C "$stage/$name" -xpf -
echo "$version" >"$stage/$name/VERSION"
# Reproducible: sorted, owned by root, dated by the commit.
mtime=$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" \
	-cf - "$name" | gzip -9n >"$out/$name.tar.gz.tmp"
mv -f "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"
echo "$out/$name.tar.gz"
