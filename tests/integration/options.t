#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Every tool's documentation and completions keep up with its options.
#
# For every tool binary $BUILD/bin/acme-* (BUILD defaults to build; new tools
# are covered as soon as they are built), the long options are read from
# 'TOOL --help' (lines "  -x, --name ARG" and "      --name ARG") and each
# must be:
#   - documented in man/TOOL.1: an item of its OPTIONS section (a .TP/.TQ tag
#     or an .IP line) naming \-\-name or --name; a mention elsewhere in the
#     page does not count;
#   - offered by completions/TOOL.bash: the function it registers with
#     'complete -F' is run for "TOOL --name" and must return --name;
#   - in completions/_TOOL (zsh): an _arguments spec for --name;
#   - in completions/TOOL.fish: a 'complete ... -l name' line;
# and completed as taking a value when --help gives it one ("--name ARG"),
# as taking none otherwise:
#   - bash: completing "TOOL --name --" offers no option after an option
#     that takes a value (its value is completed: a word, a file or nothing),
#     and offers options after one that takes none;
#   - zsh: the spec's [description] is followed by a ':message:action' for
#     the value ('--name=[...]:ARG:...' or '{-n,--name}'[...]:ARG:...'), and
#     nothing (no '=', no ':') follows it for an option without one;
#   - fish: the line has -r or -x (--require-parameter, --exclusive), or
#     neither for an option without a value.
# The man page must also have EXIT STATUS and EXAMPLES sections and render
# without groff warnings, and the three completion files must parse
# (bash -n, zsh -n, fish -n; skipped when that shell is not installed).
# No lab needed: runs as a plain 'prove tests/integration/options.t'.
. "$(dirname "$0")/../lib/tap.sh"

tools=()
for b in "$BIN"/acme-*; do
	[ -f "$b" ] && [ -x "$b" ] && tools+=("$(basename "$b")")
done
if [ ${#tools[@]} -eq 0 ]; then
	echo "1..0 # SKIP no tool in $BIN (run make first)"
	exit 0
fi

# Long option names of a tool, one a line, from its --help.
long_opts() {
	"$BIN/$1" --help 2>/dev/null |
		sed -n -E 's/^  (-[A-Za-z0-9], |    )--([a-z0-9][a-z0-9-]*).*/\2/p'
}

# Those of them that take a value: the name is followed by one space and a
# placeholder (ARG, HOST[:PORT], FILE|URL, ...), not by the column of spaces
# before the help text or by the end of the line.
value_opts() {
	"$BIN/$1" --help 2>/dev/null |
		sed -n -E 's/^  (-[A-Za-z0-9], |    )--([a-z0-9][a-z0-9-]*) [^ ].*/\2/p'
}

# The text of the OPTIONS items of a man page (tag lines after .TP or .TQ,
# and .IP lines), roff escapes removed: "\-\-foo" becomes "--foo".
man_option_items() {
	awk '
		/^\.SH[ \t]/ { opts = ($0 ~ /^\.SH[ \t]+"?OPTIONS"?[ \t]*$/); tag = 0; next }
		!opts { next }
		tag { print; tag = 0; next }
		/^\.(TP|TQ)([ \t]|$)/ { tag = 1; next }
		/^\.IP[ \t]/ { print }
	' "$1" | sed -e 's/\\&//g' -e 's/\\-/-/g' -e 's/\\(aq/'"'"'/g'
}

# A shell, or nothing when it is not installed.
have() { command -v "$1" >/dev/null 2>&1; }

# The options "TOOL --NAME" makes bash completion offer, for every NAME given,
# and "+NAME" for every NAME after which "TOOL --NAME --" offers options (the
# word after --NAME is taken for an option, not for its value): one bash runs
# the function the file registers with 'complete -F' for each, in an empty
# folder (so that completing file names offers none).
bash_offered() {
	local tool=$1 f=$TOP/completions/$1.bash fn
	shift
	[ -f "$f" ] || return 0
	fn=$(sed -n -E "s/^[[:space:]]*complete[[:space:]].*-F[[:space:]]+([^[:space:]]+)[[:space:]].*\\b$tool\\b.*/\\1/p" "$f" | head -n1)
	[ -n "$fn" ] || return 0
	mkdir -p "$T_TMP/empty"
	(cd "$T_TMP/empty" && bash -c '
		. "$1" >/dev/null 2>&1 || exit 0
		fn=$2 tool=$3
		shift 3
		for o; do
			COMP_WORDS=("$tool" "--$o"); COMP_CWORD=1
			COMP_LINE="$tool --$o"; COMP_POINT=${#COMP_LINE}
			COMPREPLY=()
			"$fn" "$tool" "--$o" "$tool" >/dev/null 2>&1
			for w in "${COMPREPLY[@]}"; do [ "$w" = "--$o" ] && echo "$o"; done
			COMP_WORDS=("$tool" "--$o" "--"); COMP_CWORD=2
			COMP_LINE="$tool --$o --"; COMP_POINT=${#COMP_LINE}
			COMPREPLY=()
			"$fn" "$tool" "--" "--$o" >/dev/null 2>&1
			for w in "${COMPREPLY[@]}"; do
				[[ $w == --* ]] && { echo "+$o"; break; }
			done
		done' _ "$f" "$fn" "$tool" "$@" 2>/dev/null)
}

# Per-tool texts, read once (a process per check would make this slow).
declare -A OPTS VALUED MAN_ITEMS MAN_FINDINGS BASH_OFFERED ZSH_TEXT FISH_TEXT IDS
nl=$'\n'

# The checks; they run in this shell, on the texts above.
help_lists_options() { [ -n "${OPTS[$1]}" ]; }
man_section() { grep -qE "^\\.SH[ \\t]+\"?$2\"?[ \\t]*\$" "$TOP/man/$1.1"; }
man_renders_clean() { [ -z "$(groff -man -Tutf8 -ww -z "$TOP/man/$1.1" 2>&1)" ]; }
man_documents() {
	local re="(^|[^A-Za-z0-9-])--$2([^A-Za-z0-9-]|\$)"
	[[ ${MAN_ITEMS[$1]} =~ $re ]]
}
takes_value() { [[ " ${VALUED[$1]} " == *" $2 "* ]]; }
bash_offers() { [[ "$nl${BASH_OFFERED[$1]}$nl" == *"$nl$2$nl"* ]]; }
# After --NAME bash completes its value (offers no option) if and only if
# --NAME takes one.
bash_value() {
	if takes_value "$1" "$2"; then
		! bash_offers "$1" "+$2"
	else
		bash_offers "$1" "+$2"
	fi
}
# The _arguments spec of --NAME: '--NAME', '*--NAME', '(...)--NAME' or
# '{-n,--NAME}', then '=', '=-', '-' or '+' (the value's place), then
# '[description]' (backslash escapes allowed) and what follows it: the
# ':message:action' of its value.
zsh_has() {
	local q="'" re
	re="[$q*,)]--$2(=-?|[-+])?(\\}$q)?\\[(([^]\\]|\\\\.)*)\\](.?)"
	[[ ${ZSH_TEXT[$1]} =~ $re ]] || return 1
	if takes_value "$1" "$2"; then
		[ "${BASH_REMATCH[5]}" = : ]
	else
		[ -z "${BASH_REMATCH[1]}" ] && [ "${BASH_REMATCH[5]}" != : ]
	fi
}
# Its fish line (quoted words already blanked out, see FISH_TEXT) has -r or
# -x if and only if --NAME takes a value.
fish_has() {
	local re="(^|$nl)([[:space:]]*complete[[:space:]][^$nl]*-l[[:space:]]+$2([[:space:]][^$nl]*)?)($nl|\$)"
	local req="[[:space:]](-[A-Za-z]*[rx][A-Za-z]*|--require-parameter|--exclusive)([[:space:]]|\$)"
	[[ ${FISH_TEXT[$1]} =~ $re ]] || return 1
	if takes_value "$1" "$2"; then
		[[ ${BASH_REMATCH[2]} =~ $req ]]
	else
		! [[ ${BASH_REMATCH[2]} =~ $req ]]
	fi
}
man_finding() { [[ ${MAN_FINDINGS[$1]} == *"$2"* ]]; }
zsh_compdef() { [[ ${ZSH_TEXT[$1]} == "#compdef $1"* ]]; }

# Finding ids (an extra, for tools whose probe source is known): every id
# the probe can emit appears in the man page's FINDINGS section.
probe_src() {
	case "$1" in
	acme-dnscheck) echo libdiag/src/dnscheck.c libdiag/src/policy.c ;;
	acme-httpcheck) echo libdiag/src/http01.c libdiag/src/policy.c ;;
	acme-alpncheck) echo libdiag/src/tlsalpn.c libdiag/src/policy.c ;;
	acme-clock) echo libdiag/src/clock.c ;;
	acme-account) echo libdiag/src/account.c ;;
	acme-authz) echo libdiag/src/authz.c ;;
	acme-jwslint) echo libdiag/src/jws.c ;;
	acme-ratelimit) echo libdiag/src/ratelimit.c libdiag/src/ratelimit_store.c libdiag/src/ratelimit_log.c ;;
	acme-revcheck) echo libdiag/src/revcheck.c libdiag/src/cert.c ;;
	acme-certcheck) echo libdiag/src/certcheck.c libdiag/src/cert.c ;;
	esac
}

skip() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1 # SKIP $2"
}

n=0
for t in "${tools[@]}"; do
	OPTS[$t]=$(long_opts "$t" | tr '\n' ' ')
	VALUED[$t]=$(value_opts "$t" | tr '\n' ' ')
	man=$TOP/man/$t.1
	MAN_ITEMS[$t]=$([ -f "$man" ] && man_option_items "$man")
	MAN_FINDINGS[$t]=$([ -f "$man" ] && sed -n '/^\.SH[ \t]*"*FINDINGS/,/^\.SH /p' "$man" | sed 's/\\-/-/g')
	ZSH_TEXT[$t]=$(cat "$TOP/completions/_$t" 2>/dev/null)
	# Quoted words ('...' or "...", the first quote opening) blanked out to
	# Q: descriptions and conditions do not count as options.
	FISH_TEXT[$t]=$(sed -E "s/('[^']*'|\"[^\"]*\")/Q/g" "$TOP/completions/$t.fish" 2>/dev/null)
	# shellcheck disable=SC2086
	BASH_OFFERED[$t]=$(bash_offered "$t" ${OPTS[$t]})
	src=$(probe_src "$t")
	IDS[$t]=$([ -n "$src" ] && (cd "$TOP" && cat $src) |
		grep -oE '"(dns|dns01|http01|tlsalpn01|acme|clock|jws|cert|ratelimit|revcheck|certcheck)\.[a-z0-9.-]+[a-z0-9]"' |
		tr -d '"' | sort -u | tr '\n' ' ')
	nopt=$(wc -w <<<"${OPTS[$t]}")
	nids=$(wc -w <<<"${IDS[$t]}")
	n=$((n + 9 + 5 * nopt + nids))
done
plan "$n"

for t in "${tools[@]}"; do
	man=$TOP/man/$t.1
	check "$t: --help lists options" help_lists_options "$t"
	check "$t: man page man/$t.1 exists" test -f "$man"
	check "$t: man page has EXIT STATUS" man_section "$t" "EXIT STATUS"
	check "$t: man page has EXAMPLES" man_section "$t" "EXAMPLES"
	if have groff; then
		check "$t: man page renders without groff warnings" man_renders_clean "$t"
	else
		skip "$t: man page renders without groff warnings" "groff not installed"
	fi
	check "$t: completions/$t.bash parses (bash -n)" bash -n "$TOP/completions/$t.bash"
	if have zsh; then
		check "$t: completions/_$t parses (zsh -n)" zsh -n "$TOP/completions/_$t"
	else
		skip "$t: completions/_$t parses (zsh -n)" "zsh not installed"
	fi
	if have fish; then
		check "$t: completions/$t.fish parses (fish -n)" fish -n "$TOP/completions/$t.fish"
	else
		skip "$t: completions/$t.fish parses (fish -n)" "fish not installed"
	fi
	check "$t: zsh completion starts with #compdef $t" zsh_compdef "$t"
	for o in ${OPTS[$t]}; do
		if takes_value "$t" "$o"; then
			what="taking a value" after="its value"
		else
			what="taking no value" after="options"
		fi
		check "$t: --$o documented in OPTIONS of man/$t.1" man_documents "$t" "$o"
		check "$t: --$o offered by bash completion" bash_offers "$t" "$o"
		check "$t: bash completes $after after --$o" bash_value "$t" "$o"
		check "$t: --$o in zsh completion, $what" zsh_has "$t" "$o"
		check "$t: --$o in fish completion (-l $o), $what" fish_has "$t" "$o"
	done
	for id in ${IDS[$t]}; do
		check "$t: finding $id listed in FINDINGS of man/$t.1" man_finding "$t" "$id"
	done
done
done_testing
