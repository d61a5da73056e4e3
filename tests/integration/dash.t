#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# acme-dash for real: the binary in a tmux pane (a 100x30 terminal) inside
# the lab's namespace, driven with send-keys and read with capture-pane.
# Rows for lab names with the statuses acme-doctor gives them; a TXT added
# to the second nameserver only, while the dashboard runs, in the row and
# the timeline; the hint of a failing finding; the filter; a resize to
# 60x20 and back; the terminal given back on q and on SIGINT, SIGTERM and
# SIGHUP; colour only without NO_COLOR and --no-color; no terminal, or
# TERM=dumb: exit 2; --once; and with 100 names a key changes the screen
# while probes run (its latency beside tmux's own echo time: make bench).
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 55

dir=https://192.0.2.90:14000/dir
ca=$LAB_STATE/pebble/ca.pem
common="--timeout 2 --directory $dir --ca-bundle $ca --ca-profile pebble"
sock=$T_TMP/tmux.sock
tm() { tmux -S "$sock" "$@"; }
restore_wait() { "$LAB_SH" zone "$LAB_STATE" both wait.test "$TOP/tests/lab/zones/wait.test.zone" >/dev/null 2>&1; }
trap 'tm kill-server 2>/dev/null; restore_wait; rm -rf "$T_TMP"' EXIT

if ! command -v tmux >/dev/null; then
	echo "Bail out! tmux is not installed (scripts/install-deps.sh test installs it)"
	exit 1
fi

# The screen, into $T_TMP/out too, so that a failed check shows it.
capture() { tm capture-pane -p -t dash "$@" >"$T_TMP/screen"; cp "$T_TMP/screen" "$T_TMP/out"; }
has() { grep -qF -- "$1" "$T_TMP/screen"; }
lacks() { ! grep -qF -- "$1" "$T_TMP/screen"; }
# row NAME STATUS [CELLS-REGEX]: a table row with that status (and cells);
# $S in CELLS-REGEX: the spinner a cell shows while a run is on its way
S='( [-|/\\])?'
row() { grep -qE "^[> ] +${1//./\\.} +$2 +${3:-}" "$T_TMP/screen"; }
# wait_for SECONDS CHECK...: capture until CHECK holds
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		capture
		"$@" && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}
# The dashboard in the pane (START_ENV: NAME=VALUE for its environment);
# what follows on the line records how it ended.
start() {
	rm -f "$T_TMP/rc" "$T_TMP/pid"
	tm send-keys -t dash -l "clear; stty -g >$T_TMP/stty.before; ${START_ENV:-} sh -c 'echo \$\$ >$T_TMP/pid; exec \"\$@\"' sh $LAB_SH run $LAB_STATE $BIN/acme-dash $* 2>$T_TMP/dash.err; echo \$? >$T_TMP/rc; stty -g >$T_TMP/stty.after"
	tm send-keys -t dash Enter
	wait_for 15 started
}
# the dashboard's header is on the screen (not only the command line typed)
started() { grep -qE '^acme-dash [0-9]{2}:[0-9]{2} ' "$T_TMP/screen" && [ -s "$T_TMP/pid" ]; }
ended() {
	local end=$((SECONDS + 15))
	until [ -s "$T_TMP/rc" ] && [ -s "$T_TMP/stty.after" ] || [ "$SECONDS" -ge "$end" ]; do sleep 0.1; done
	sleep 0.2
	capture
}
rc_was() { [ "$(cat "$T_TMP/rc" 2>/dev/null)" = "$1" ]; }
terminal_back() { cmp -s "$T_TMP/stty.before" "$T_TMP/stty.after" && ! grep -q 'acme-dash [0-9]' "$T_TMP/screen" && tail -n1 <(grep . "$T_TMP/screen") | grep -q '^dash\$ *$'; }
clean_stderr() { [ ! -s "$T_TMP/dash.err" ]; }
key() { tm send-keys -t dash "$@"; }

tm -f /dev/null new-session -d -s dash -x 100 -y 30 "PS1='dash\$ ' bash --norc --noprofile"
tm set-option -t dash -g status off >/dev/null
sleep 0.3

# wait.test without its TXT on both servers (a serial of our own)
cat >"$T_TMP/wait-none.zone" <<EOF
\$ORIGIN wait.test.
\$TTL 300
@ IN SOA ns1.lab.test. hostmaster.lab.test. 2026112301 3600 600 86400 300
@ IN NS ns1.lab.test.
@ IN NS ns2.lab.test.
@ IN A 192.0.2.80
EOF
sed -e 's/2026112301/2026112302/' "$T_TMP/wait-none.zone" >"$T_TMP/wait-txt.zone"
echo '_acme-challenge IN TXT "wait-token-value"' >>"$T_TMP/wait-txt.zone"
"$LAB_SH" zone "$LAB_STATE" both wait.test "$T_TMP/wait-none.zone" >/dev/null

# ---- rows, the TXT on ns2, the hint, the filter, resize, q ----
start "$common --interval 2 healthy.test missing.test dead.test wait.test"
check "four rows and the shared row, every status in" \
	wait_for 20 has "4 names: 2 ok 0 warn 2 fail 0 error"
# rows fill in as findings arrive (dead.test's run waits on its dead server)
check "healthy.test: ok, the TXT at 4 of 4 authoritative addresses" \
	wait_for 20 row healthy.test ok "ok$S TXT 4/4"
check "missing.test: fail (no address), its lagging secondary a DNS-01 warning" \
	wait_for 20 row missing.test fail "warn$S TXT 2/4 .* fail$S no address"
check "dead.test: fail, the dead nameserver in DNS-01, the dead IPv6 path in HTTP-01" \
	wait_for 20 row dead.test fail "fail$S TXT 4/5 .* fail$S 2001:db8:de"
check "wait.test: ok, no TXT anywhere yet" wait_for 20 row wait.test ok "ok$S TXT 0/4"
check "the shared row: resolvers, ACME server and clock" \
	wait_for 20 grep -qE '^  \(shared\) +ok +ok.* ok directory ok' "$T_TMP/screen"
check "the header counts runs in flight and says when names re-run" eval \
	'has "re-run every 2s | sort status" && grep -qE "^acme-dash [0-9]{2}:[0-9]{2} +4 names: .* \| in flight [0-9]+" "$T_TMP/screen"'

"$LAB_SH" zone "$LAB_STATE" ns2 wait.test "$T_TMP/wait-txt.zone" >/dev/null
check "the TXT published on ns2 only shows in wait.test's row (2 of 4, warn)" \
	wait_for 20 row wait.test warn "warn$S TXT 2/4"
key /
key -l wait
check "typing a filter shows it" wait_for 5 has "/wait"
key Enter
check "/ filters the names: wait.test stays" wait_for 5 row wait.test warn
check "/ filters the names: the others go" lacks "healthy.test"
key Enter
check "Enter opens the name" wait_for 5 has "findings, worst first"
check "its timeline: ns2 (192.0.2.54) now has the TXT" \
	grep -qE '^  [0-9:]{8} changed dns01\.txt 192\.0\.2\.54: ns2\.lab\.test: _acme-challenge\.wait\.test\. has "wait' "$T_TMP/screen"
check "its timeline: the serials now differ" grep -qE '^  [0-9:]{8} ok->warn dns\.auth\.serial wait\.test' "$T_TMP/screen"
check "its timeline: the status changed" grep -qE '^  [0-9:]{8} status ok->warn' "$T_TMP/screen"
key r
check "r re-runs the selected name" wait_for 5 has "re-running wait.test"
key Escape
sleep 0.1
key Escape
check "Esc back to the table, Esc clears the filter" wait_for 5 row healthy.test ok
# no re-runs while we read dead.test (p): a run in flight reorders nothing
# then, and the finding under the selection stays the one we read
key p
check "p pauses the re-runs" wait_for 5 has "paused (p resumes)"
key /
key -l dead
key Enter Enter
check "Enter on dead.test: its causes" wait_for 5 has "causes, the first to fix first"
check "its worst finding first: the nameserver that does not answer" \
	wait_for 15 grep -qE '^> fail DNS-01 dns\.auth\.server 192\.0\.2\.99: nsdead\.lab\.test' "$T_TMP/screen"
check "with its hint" has "fix: The CA and the ACME client's propagation check query every nameserver"
key Enter
check "Enter on the finding: its hint" wait_for 5 has "hint:     The CA and the ACME client's propagation check query every"
check "and its evidence" has "evidence:"
key Escape
sleep 0.1
key Escape
sleep 0.1
key Escape
key p
check "p again resumes them" wait_for 5 has "re-runs resumed"
key Escape  # the message goes with the next key
wait_for 5 row healthy.test ok >/dev/null
tm resize-window -t dash -x 60 -y 20
check "at 60x20 the columns that fit stay" wait_for 5 grep -qE '^  NAME +STATUS +DNS-01 +HTTP-01 ' "$T_TMP/screen"
check "at 60x20 the CLOCK column goes" lacks "CLOCK"
check "at 60x20 the rows are there, not garbled" row dead.test fail "fail$S TXT"
check "at 60x20 the footer is the last line" bash -c "sed -n 20p '$T_TMP/screen' | grep -q '^q quit'"
tm resize-window -t dash -x 100 -y 30
check "back at 100x30 every column is back" wait_for 5 grep -qE '^  NAME +STATUS +DNS-01 +HTTP-01 +ACME +CLOCK +AGE' "$T_TMP/screen"
key q
ended
check "q: exit 0" rc_was 0
check "q: the terminal is as it was (stty) and the pane is back at the prompt" terminal_back
check "nothing on stderr (no sanitizer report)" clean_stderr
restore_wait

# ---- names on standard input: keys from the terminal ----
echo healthy.test >"$T_TMP/one"
start "$common --interval 0 -f - <$T_TMP/one"
check "names from standard input (-f -): the row" wait_for 10 row healthy.test ok
key q
ended
check "names from standard input: keys read from the terminal (q quits, exit 0)" eval 'rc_was 0 && terminal_back'

# ---- signals give the terminal back too ----
start "$common --interval 0 healthy.test"
wait_for 10 row healthy.test ok >/dev/null
key C-c
ended
check "SIGINT (Ctrl-C): exit 130" rc_was 130
check "SIGINT: the terminal is back" terminal_back
start "$common --interval 0 healthy.test"
kill -TERM "$(cat "$T_TMP/pid")"
ended
check "SIGTERM: exit 143, the terminal is back" eval 'rc_was 143 && terminal_back'
start "$common --interval 0 healthy.test"
kill -HUP "$(cat "$T_TMP/pid")"
ended
check "SIGHUP: exit 129, the terminal is back" eval 'rc_was 129 && terminal_back'

# ---- colour only when asked for and possible ----
sgr_color() { tm capture-pane -e -p -t dash | grep -qE $'\e\\[([0-9;]*;)?3[1-7](;[0-9]*)*m'; }
# colour WANT [ENV=VALUE] [OPTION]: healthy.test's screen has colour (WANT 1) or none (0)
colour() {
	local want=$1 env=${2:-} opt=${3:-} got=0
	START_ENV=$env start "$common --interval 0 $opt healthy.test"
	wait_for 10 row healthy.test ok >/dev/null
	sgr_color && got=1
	key q
	ended
	[ "$got" = "$want" ]
}
check "colour on a terminal that has it" colour 1
check "--no-color: no colour" colour 0 "" --no-color
check "NO_COLOR: no colour" colour 0 NO_COLOR=1

# ---- no terminal ----
run_tool acme-dash $common healthy.test
check "not a terminal: exit 2" rc_is 2
check "not a terminal: says so and points to acme-doctor" \
	err_has "standard output is not a terminal; acme-dash needs one (acme-doctor prints"
tm send-keys -t dash -l "clear; TERM=dumb $BIN/acme-dash healthy.test; echo rc=\$?"
tm send-keys -t dash Enter
check "TERM=dumb: exit 2 with a message" wait_for 10 eval 'has "the terminal is dumb (TERM=dumb)" && has "rc=2"'
run_tool acme-dash $common --once healthy.test missing.test
check "--once: one plain snapshot, exit 1 (a name fails)" rc_is 1
check "--once: the rows" bash -c "grep -qE '^  healthy\.test +ok ' '$T_TMP/out' && grep -qE '^  missing\.test +fail ' '$T_TMP/out'"
run_tool acme-dash $common --once -v missing.test
check "--once -v: what is not ok, with its fix" \
	out_has "missing.test: fail http01.dns missing.test: no address for missing.test"
run_tool acme-dash $common --once --jobs 2 healthy.test missing.test split.test cname.test
check "--once --jobs 2: four names two at a time, every row answered, exit 1" \
	bash -c "[ $RC -eq 1 ] && grep -q '4 names: 1 ok, 0 warn, 3 fail, 0 error' '$T_TMP/out' && grep -qE '^  healthy\.test +ok ' '$T_TMP/out' && grep -qE '^  missing\.test +fail ' '$T_TMP/out' && grep -qE '^  split\.test +fail ' '$T_TMP/out' && grep -qE '^  cname\.test +fail ' '$T_TMP/out' && ! grep -q pending '$T_TMP/out'"
run_tool acme-dash $common --once --challenge dns-01 --expect healthy-token-value healthy.test
check "--once --challenge dns-01 --expect the published value: ok on 4 of 4, no HTTP-01 probe, exit 0" \
	bash -c "[ $RC -eq 0 ] && grep -qE '^  healthy\.test +ok +ok TXT 4/4 +- ' '$T_TMP/out'"
run_tool acme-dash $common --once --challenge dns-01 --expect not-the-token healthy.test
check "--once --expect a value no server has: DNS-01 fails on 0 of 4 servers, exit 1" \
	bash -c "[ $RC -eq 1 ] && grep -qE '^  healthy\.test +fail +fail TXT 0/4 ' '$T_TMP/out'"

# ---- 100 names: keys work while probes run (the latency is in make bench) ----
# 98 names of bulk.test and two whose probes wait on a dead server or a
# blackholed IPv6 path, re-run every second: there are always some in flight.
{ seq 1 98 | sed 's/.*/name&.bulk.test/'; echo dead.test; echo v6dead.web.test; } >"$T_TMP/names"
start "$common --timeout 3 --interval 1 -f $T_TMP/names"
check "100 names: every row has answers" wait_for 40 eval 'has "100 names" && ! grep -q "[0-9] pending" "$T_TMP/screen"'
key s
wait_for 5 has "sort name" >/dev/null
now_ms() { echo $(($(date +%s%N) / 1000000)); }
marker() { grep -n '^>' "$T_TMP/screen" | cut -d: -f1; }
# ms from pressing j to the selection one line down
press_j() {
	local before want t0 t1
	before=$(marker)
	want=$((before + 1))
	t0=$(now_ms)
	tm send-keys -t dash j
	while :; do
		tm capture-pane -p -t dash >"$T_TMP/screen"
		[ "$(marker)" = "$want" ] && break
		t1=$(now_ms)
		[ $((t1 - t0)) -gt 5000 ] && break
	done
	echo $(($(now_ms) - t0))
}
# ms from typing x to tmux showing cat's echo of it: tmux's own time
tm new-window -d -t dash:9 cat
press_x() {
	local n=$1 t0
	t0=$(now_ms)
	tm send-keys -t dash:9 x
	until [ "$(tm capture-pane -p -t dash:9 | tr -cd x | wc -c)" -ge "$n" ]; do
		[ $(($(now_ms) - t0)) -gt 5000 ] && break
	done
	echo $(($(now_ms) - t0))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
dash_ms=() base_ms=() busy=0
for i in 1 2 3 4 5 6 7 8 9; do
	wait_for 5 grep -qE 'in flight [1-9]' "$T_TMP/screen" && busy=$((busy + 1))
	dash_ms+=("$(press_j)")
	base_ms+=("$(press_x "$i")")
done
d=$(printf '%s\n' "${dash_ms[@]}" | median)
b=$(printf '%s\n' "${base_ms[@]}" | median)
# The time is reported, not asserted (shared machines are noisy): make
# bench prints it beside tmux's own echo time (DASH_BENCH_OUT).
echo "# key to screen, ms: acme-dash ${dash_ms[*]} (median $d); tmux echoing cat ${base_ms[*]} (median $b)"
[ -n "${DASH_BENCH_OUT:-}" ] && echo "$d $b" >"$DASH_BENCH_OUT"
check "probes were in flight at the key presses ($busy of 9)" test "$busy" -ge 7
moved=0
for ms in "${dash_ms[@]}"; do [ "$ms" -le 5000 ] && moved=$((moved + 1)); done
check "100 names: every key press moved the selection while probes ran ($moved of 9)" test "$moved" -eq 9
key q
ended
check "100 names: q, exit 0, the terminal back" eval 'rc_was 0 && terminal_back'
check "100 names: nothing on stderr" clean_stderr
done_testing
