#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make install DESTDIR= PREFIX= puts binaries, man pages and completions
# where users' shells and man(1) look, and the installed binary runs.
. "$(dirname "$0")/../lib/tap.sh"
dest=$T_TMP/dest
tools=()
for b in "$BIN"/acme-*; do [ -x "$b" ] && tools+=("$(basename "$b")"); done
plan $((2 + 5 * ${#tools[@]}))
make -C "$TOP" -s install BUILD="$BUILD" DESTDIR="$dest" PREFIX=/usr >"$T_TMP/out" 2>"$T_TMP/err"
RC=$?
check "make install succeeds" rc_is 0
check "library man page installed" test -f "$dest/usr/share/man/man7/libdiag.7"
for t in "${tools[@]}"; do
	check "$t: binary installed and runs" "$dest/usr/bin/$t" --version
	check "$t: man page installed" test -f "$dest/usr/share/man/man1/$t.1"
	check "$t: bash completion installed" test -f "$dest/usr/share/bash-completion/completions/$t"
	check "$t: zsh completion installed" test -f "$dest/usr/share/zsh/site-functions/_$t"
	check "$t: fish completion installed" test -f "$dest/usr/share/fish/vendor_completions.d/$t.fish"
done
done_testing
