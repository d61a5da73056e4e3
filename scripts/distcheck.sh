#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make distcheck: the release tarball alone builds, tests and installs.
# Unpacks TARBALL in a fresh directory outside the tree, builds it with
# -Werror, runs the unit tests and the checks that need no lab
# (options.t), installs it to a DESTDIR and compares the installed files
# with what every tool in TOOLS promises (binary, man page, three
# completions; plus libdiag(7)): nothing missing, nothing else. Then
# uninstalls and checks that nothing is left.
# Usage: scripts/distcheck.sh TARBALL TOOL...
set -euo pipefail
# The make that runs this must not steer the tarball's build (BUILD=...
# on its command line travels in MAKEFLAGS).
unset MAKEFLAGS MFLAGS MAKELEVEL BUILD SANFLAGS
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
tools=("$@")
[ ${#tools[@]} -gt 0 ] || { echo "distcheck.sh: no tools given" >&2; exit 2; }
name=$(basename "$tarball" .tar.gz)
version=${name#acme-diag-}
work=$(mktemp -d /tmp/acme-diag-distcheck.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "distcheck: $*" >&2; exit 1; }
say() { echo "== distcheck: $*"; }

say "unpack $name.tar.gz in $work"
tar -C "$work" -xzf "$tarball"
[ "$(ls "$work")" = "$name" ] || fail "the tarball must hold one directory, $name"
src=$work/$name
[ "$(cat "$src/VERSION")" = "$version" ] || fail "VERSION in the tarball is not $version"
# No build output, no packaging output.
junk=$(tar -tzf "$tarball" | grep -E '(^|/)(build|build-san)/|\.(o|a|deb|ddeb|changes|buildinfo)$' || true)
[ -z "$junk" ] || fail "build output in the tarball: $junk"

say "build with -Werror"
make -C "$src" -s -j"$(nproc)" WERROR=1 all
say "unit tests"
make -C "$src" -s WERROR=1 unit >"$work/unit.log" 2>&1 || { cat "$work/unit.log"; fail "unit tests failed"; }
grep -E "^\[  (PASSED|FAILED)" "$work/unit.log"
say "checks that need no lab"
(cd "$src" && BUILD=build prove tests/integration/options.t)

say "install to a DESTDIR"
dest=$work/dest
make -C "$src" -s install DESTDIR="$dest" PREFIX=/usr >/dev/null
expected=$work/expected
{
	echo usr/share/man/man7/libdiag.7
	for t in "${tools[@]}"; do
		echo "usr/bin/$t"
		echo "usr/share/man/man1/$t.1"
		echo "usr/share/bash-completion/completions/$t"
		echo "usr/share/zsh/site-functions/_$t"
		echo "usr/share/fish/vendor_completions.d/$t.fish"
	done
} | sort >"$expected"
(cd "$dest" && find . -type f -o -type l | sed 's|^\./||' | sort) >"$work/installed"
if ! diff -u "$expected" "$work/installed"; then
	fail "installed files differ from what TOOLS promises (- missing, + not expected)"
fi
for t in "${tools[@]}"; do
	[ -x "$dest/usr/bin/$t" ] || fail "$t is not executable"
	v=$("$dest/usr/bin/$t" --version) || fail "$t --version failed"
	[ "$(head -n1 <<<"$v")" = "$t (acme-diag) $version" ] || fail "$t --version: $(head -n1 <<<"$v")"
	grep -q '^c-ares .*, jansson ' <<<"$v" || fail "$t --version names no libraries"
	[ "$(stat -c %a "$dest/usr/share/man/man1/$t.1")" = 644 ] || fail "man page of $t not mode 644"
done
say "every installed binary says $version"

say "uninstall"
make -C "$src" -s uninstall DESTDIR="$dest" PREFIX=/usr
left=$(cd "$dest" && find . -type f -o -type l)
[ -z "$left" ] || fail "left after uninstall: $left"

say "$name.tar.gz is ready for distribution"
