#!/usr/bin/env bash
# Every option in a tool's table (as its --help prints it) is documented in
# its man page and offered by its bash, zsh and fish completions; every
# finding id the tool's probe can emit is documented in the man page.
# Covers every tool binary found in $BUILD/bin, so new tools are checked too.
. "$(dirname "$0")/../lib/tap.sh"

tools=()
for b in "$BIN"/acme-*; do [ -x "$b" ] && tools+=("$(basename "$b")"); done
# The source file whose finding ids each tool reports.
probe_src() {
	case "$1" in
		acme-dnscheck) echo libdiag/src/dnscheck.c ;;
		acme-httpcheck) echo libdiag/src/http01.c ;;
		acme-clock) echo libdiag/src/clock.c ;;
		acme-account) echo libdiag/src/account.c ;;
		acme-authz) echo libdiag/src/authz.c ;;
		*) echo "" ;;
	esac
}
long_opts() { "$BIN/$1" --help | sed -n 's/^  \(-[A-Za-z0-9], \|    \)--\([a-z0-9-]*\).*/\2/p'; }
ids() { grep -oE '"(dns|dns01|http01|acme|clock|jws|cert)\.[a-z0-9.-]+[a-z0-9]"' "$TOP/$1" | tr -d '"' | sort -u; }

n=0
for t in "${tools[@]}"; do
	n=$((n + 5 + 3 * $(long_opts "$t" | wc -l)))
	src=$(probe_src "$t")
	[ -n "$src" ] && n=$((n + $(ids "$src" | wc -l)))
done
plan $n

# roff escapes every '-' as '\-': compare with the backslashes removed
man_has_opt() { tr -d '\\' <"$TOP/man/$1.1" | grep -qE -- "--$2([^a-z0-9-]|$)"; }
for t in "${tools[@]}"; do
	check "$t: man page exists" test -f "$TOP/man/$t.1"
	check "$t: man page has EXIT STATUS" grep -q '^\.SH EXIT STATUS' "$TOP/man/$t.1"
	check "$t: man page has EXAMPLES" grep -q '^\.SH EXAMPLES' "$TOP/man/$t.1"
	check "$t: man page renders without warnings" bash -c "[ -z \"\$(groff -man -Tutf8 -ww -z '$TOP/man/$t.1' 2>&1)\" ]"
	first=$(long_opts "$t" | head -n1)
	check "$t: bash completes --${first:0:3} to --$first" bash -c "
		. '$TOP/completions/$t.bash'
		COMP_WORDS=($t --${first:0:3}); COMP_CWORD=1
		_$(echo "$t" | tr - _)
		printf '%s\n' \"\${COMPREPLY[@]}\" | grep -qx -- --$first"
	for o in $(long_opts "$t"); do
		check "$t: --$o in the man page" man_has_opt "$t" "$o"
		check "$t: --$o in bash completion" grep -qE -- "(\"| )--$o( |\"|\)|\|)" "$TOP/completions/$t.bash"
		check "$t: --$o in zsh and fish completions" bash -c "grep -qE -- '--$o([]=[}]|$)' '$TOP/completions/_$t' && grep -qE -- '-l $o( |\$)' '$TOP/completions/$t.fish'"
	done
	src=$(probe_src "$t")
	if [ -n "$src" ]; then
		for id in $(ids "$src"); do
			check "$t: finding $id documented" bash -c "sed -n '/^\\.SH FINDINGS/,/^\\.SH /p' '$TOP/man/$t.1' | grep -qF -- '$id'"
		done
	fi
done
done_testing
