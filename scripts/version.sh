#!/bin/sh
# SPDX-License-Identifier: ISC
# Print acme-diag's version; the Makefile and debian/rules ask it.
#
# In a git checkout of acme-diag (this tree is the top of a work tree):
#   git describe --tags --always --dirty --match 'v[0-9]*'
#   - a release tag vX.Y.Z is reachable: X.Y.Z, X.Y.Z-N-gHASH (N commits
#     after it), with -dirty when tracked files are changed;
#   - no release tag: the VERSION file holds the version being prepared
#     (X.Y.Z) and the commit is added: X.Y.Z-gHASH[-dirty], a snapshot
#     that comes before release X.Y.Z.
#   When git cannot describe the checkout (git missing, a repository owned
#   by another user): X.Y.Z-unknown, never the bare release number.
# Elsewhere (a release tarball, whose VERSION make dist wrote): VERSION.
#
# --debian prints the same version in Debian's syntax, ordered as the
# releases are: X.Y.Z, X.Y.Z+N.gHASH (after X.Y.Z), X.Y.Z~gHASH (before
# it), a dirty tree or an unknown commit as .dirty / ~unknown.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
file=$(sed -n '1{s/[[:space:]]//g;p;}' "$top/VERSION" 2>/dev/null || true)
case "$file" in
[0-9]*) ;;
*) echo "version.sh: $top/VERSION: no version in it" >&2; exit 1 ;;
esac

version=$file
if [ -e "$top/.git" ]; then
	described=
	if command -v git >/dev/null 2>&1 &&
		[ "$(git -C "$top" rev-parse --show-toplevel 2>/dev/null)" = "$top" ]; then
		described=$(git -C "$top" describe --tags --always --dirty --match 'v[0-9]*' 2>/dev/null || true)
	fi
	base=${file%%-*}
	case "$described" in
	v[0-9]*) version=${described#v} ;;
	'') version=$base-unknown ;;
	*) version=$base-g$described ;;
	esac
fi

if [ "${1:-}" = --debian ]; then
	# X.Y.Z[-N]-gHASH[-dirty] | X.Y.Z[-dirty] | X.Y.Z-unknown
	echo "$version" | sed -E \
		-e 's/-dirty$/.dirty/' \
		-e 's/^([^-]+)-([0-9]+)-g([0-9a-f]+)/\1+\2.g\3/' \
		-e 's/^([^-]+)-g([0-9a-f]+)/\1~g\2/' \
		-e 's/^([^-]+)-unknown/\1~unknown/'
else
	echo "$version"
fi
