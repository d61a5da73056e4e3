#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Who fails, the CA or the client: set-ups where lego's own pre-check fails
# while Pebble, asking through a recursive resolver (unbound), validates
# lego's real DNS-01 challenge. The tool must say so: the finding fails the
# client's step (who_fails "client", the clients named, their settings in
# the hint), --client none leaves the CA's view alone (ok), --client
# certbot skips steps certbot does not take.
#   1. a lame nameserver (ns3 answers lame.test with a referral): lego
#      checks every nameserver and gives up; unbound moves on to ns1;
#   2. a resolver that filters SOA (dnsmasq --filterwin2k, 192.0.2.22):
#      lego's SOA walk through it finds no zone; the CA never walks.
# lego writes the TXT through its exec provider: a hook that publishes it
# in nsd's zone (tests/lab/lab.sh zone) on ns1 and ns2: ns2 is also a root
# server of the lab and answers lame.test from its own copy when unbound
# asks it as one. The run whose check fails and the
# run Pebble validates use two names of the same set-up: the first run's
# lookups leave a negative answer in unbound's cache for its name.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 29

dir=https://192.0.2.90:14000/dir
# names of their own in every run: unbound keeps what earlier runs asked
n=$$
ca=$LAB_STATE/pebble/ca.pem
zones=$TOP/tests/lab/zones

cat >"$T_TMP/hook.sh" <<HOOK
#!/bin/sh
# lego's exec provider: present|cleanup FQDN VALUE
[ "\$1" = present ] || exit 0
n=\$(cat "$T_TMP/count" 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >"$T_TMP/count"
# a serial above every earlier one, also those of earlier runs in this lab
serial=\$(( (\$(date +%s) - 1700000000) * 10 + n + 2030000000 ))
sed -e "s/2026112201/\$serial/" "\$HOOK_BASE" >"$T_TMP/hook.zone"
if [ -n "\${HOOK_SPLIT:-}" ]; then  # the value in two character-strings
	printf '%s 60 IN TXT "%s" "%s"\n' "\$2" "\$(printf %s "\$3" | cut -c1-20)" "\$(printf %s "\$3" | cut -c21-)" >>"$T_TMP/hook.zone"
else
	printf '%s 60 IN TXT "%s"\n' "\$2" "\$3" >>"$T_TMP/hook.zone"
fi
printf '%s' "\$3" >"$T_TMP/value"
"$LAB_SH" zone "$LAB_STATE" "\$HOOK_WHICH" "\$HOOK_ZONE" "$T_TMP/hook.zone" >/dev/null
HOOK
chmod +x "$T_TMP/hook.sh"

# lego_dns DOMAIN ZONE WHICH BASE [LEGO OPTIONS...]: 0 if Pebble issued
lego_dns() {
	local domain=$1 zone=$2 which=$3 base=$4
	shift 4
	rm -rf "$T_TMP/lego"
	"$LAB_SH" run "$LAB_STATE" env LEGO_CA_CERTIFICATES="$ca" EXEC_PATH="$T_TMP/hook.sh" \
		EXEC_PROPAGATION_TIMEOUT=8 EXEC_POLLING_INTERVAL=1 \
		HOOK_ZONE="$zone" HOOK_WHICH="$which" HOOK_BASE="$base" HOOK_SPLIT="${HOOK_SPLIT:-}" \
		lego --server "$dir" --path "$T_TMP/lego" --email admin@acme-diag.net --accept-tos \
		--domains "$domain" --dns exec "$@" run >"$T_TMP/lego.log" 2>&1
}
who() { # who ID TARGET WHO_FAILS
	jq_true "[.checks[] | select(.id==\"$1\" and .target==\"$2\")][0].who_fails == \"$3\""
}

# 1. A lame nameserver.
lego_dns c$n.lame.test lame.test both "$zones/lame.test.zone"; rc=$?
check "lame: lego's own check fails" test "$rc" -ne 0
check "lame: at the lame server, in lego's words" grep -q 'ns3.lab.test' "$T_TMP/lego.log"
lego_dns v$n.lame.test lame.test both "$zones/lame.test.zone" --dns.disable-cp; rc=$?
check "lame: without that check, Pebble validates (the CA is not affected)" test "$rc" -eq 0
value=$(cat "$T_TMP/value")
run_tool acme-dnscheck --json --expect "$value" v$n.lame.test
check "lame: the lame server fails the client's step, not the CA's" who dns.auth.server 192.0.2.55 client
check "lame: its missing TXT too" who dns01.txt 192.0.2.55 client
check "lame: the clients are named" \
	jq_true '[.checks[] | select(.id=="dns01.txt" and .target=="192.0.2.55")][0].clients == "cert-manager, lego"'
check "lame: lego's way round is in the hint" \
	jq_true '[.checks[] | select(.id=="dns.auth.server" and .target=="192.0.2.55")][0].hint | test("--dns.disable-cp")'
check "lame: the servers that have it are ok" finding dns01.txt 192.0.2.53 ok
run_tool acme-dnscheck --json --client none --expect "$value" v$n.lame.test
check "lame --client none: the CA's view alone passes, as Pebble did" bash -c "[ $RC -eq 0 ]"
check "lame --client none: the client's step is a skip that says why" \
	jq_true '[.checks[] | select(.id=="dns.auth.server" and .target=="192.0.2.55")][0] | .status == "skip" and (.summary | test("--client none"))'
run_tool acme-dnscheck --json --client lego --expect "$value" v$n.lame.test
check "lame --client lego: fails, naming lego only" \
	bash -c "[ $RC -eq 1 ] && jq -e '[.checks[] | select(.id==\"dns01.txt\" and .target==\"192.0.2.55\")][0].clients == \"lego\"' '$T_TMP/out' >/dev/null"

# 2. A resolver that filters SOA, used by the client only.
lego_dns c$n.healthy.test healthy.test both "$zones/healthy.test.zone" --dns.resolvers 192.0.2.22:53; rc=$?
check "soa filter: lego's SOA walk fails" bash -c "[ $rc -ne 0 ] && grep -q 'could not find the start of authority\|could not find zone' '$T_TMP/lego.log'"
lego_dns v$n.healthy.test healthy.test both "$zones/healthy.test.zone" --dns.resolvers 192.0.2.22:53 --dns.disable-cp; rc=$?
check "soa filter: without it, Pebble validates" test "$rc" -eq 0
value=$(cat "$T_TMP/value")
run_tool acme-dnscheck --json --ns 192.0.2.22 --expect "$value" v$n.healthy.test
check "soa filter: the client's step fails" who dns.resolver.soa-filtered 192.0.2.22 client
check "soa filter: and only that (the TXT reaches every server)" \
	jq_true '[.checks[] | select(.status == "fail" and .who_fails != "client")] | length == 0'
run_tool acme-dnscheck --ns 192.0.2.22 --expect "$value" v$n.healthy.test
check "soa filter: the text says who fails" \
	out_has "who fails: the ACME client's own check (cert-manager, lego); the CA would validate"
run_tool acme-dnscheck --json --client certbot --ns 192.0.2.22 --expect "$value" v$n.healthy.test
check "soa filter --client certbot: not a step certbot takes, so the verdict is ok" \
	bash -c "[ $RC -eq 0 ] && jq -e '[.checks[] | select(.id==\"dns.resolver.soa-filtered\")][0].detail | test(\"provider.s API\")' '$T_TMP/out' >/dev/null"
run_tool acme-doctor --json --challenge dns-01 --directory "$dir" --ca-bundle "$ca" --ns 192.0.2.22 --expect "$value" v$n.healthy.test
check "acme-doctor: the cause is the client's, named in the diagnosis" \
	jq_true '[.diagnosis[] | select(.id == "dns.resolver.soa-filtered")][0] | .actor == "client" and .clients == "cert-manager, lego"'

# Pebble 2.4 (Debian 12's) compares each character-string of a TXT record
# on its own; Boulder joins them. The value in two strings: Pebble refuses
# lego, and the tool says so under --ca-profile pebble only.
HOOK_SPLIT=1 lego_dns s$n.healthy.test healthy.test both "$zones/healthy.test.zone" --dns.disable-cp; rc=$?
check "split strings: Pebble 2.4 refuses lego's challenge" \
	bash -c "[ $rc -ne 0 ] && grep -q 'Correct value not found' '$T_TMP/lego.log'"
value=$(cat "$T_TMP/value")
run_tool acme-dnscheck --json --ca-profile pebble --expect "$value" s$n.healthy.test
check "split strings, --ca-profile pebble: fails, saying why" \
	jq_true '[.checks[] | select(.id=="dns01.txt.split")][0] | .status == "fail" and (.summary | test("2 strings: Pebble 2.4 compares each"))'
check "split strings, --ca-profile pebble: exit 1" rc_is 1
# (the CA's view alone: lego's own lookup before it published left a
# negative answer in the host resolver's cache, which --client lego reports)
run_tool acme-dnscheck --json --client none --expect "$value" s$n.healthy.test
check "split strings, Let's Encrypt (joins them): no such finding, exit 0" \
	bash -c "[ $RC -eq 0 ] && jq -e '[.checks[] | select(.id==\"dns01.txt.split\")] | length == 0' '$T_TMP/out' >/dev/null"
run_tool acme-dnscheck --json --ca-profile pebble --expect "$value" v$n.healthy.test
check "one string, --ca-profile pebble: ok" finding dns01.txt.split _acme-challenge.v$n.healthy.test ok

# 3. Seed 002: the name's A is this host, which has IPv6 disabled, and the
# name has an AAAA. A network namespace of its own with IPv6 off (sysctl),
# dnsmasq answering for the name and a web server on the A.
v6ns=acmediag-v6off-$$
ip netns add "$v6ns"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; ip netns del "$v6ns" 2>/dev/null; rm -rf "$T_TMP"' EXIT
v6() { ip netns exec "$v6ns" "$@"; }
v6 ip link set lo up
v6 sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
v6 ip addr add 10.99.0.1/32 dev lo
v6 timeout 120 dnsmasq -k --no-resolv --no-hosts --listen-address=10.99.0.1 --bind-interfaces \
	--address=/seed2.test/10.99.0.1 --address=/seed2.test/2001:db8:99::1 --pid-file= 2>"$T_TMP/dnsmasq.err" &
pids+=($!)
mkdir -p "$T_TMP/www/.well-known/acme-challenge"
v6 timeout 120 python3 -m http.server 80 --bind 10.99.0.1 --directory "$T_TMP/www" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do v6 dig +short +time=1 @10.99.0.1 seed2.test A 2>/dev/null | grep -q 10.99.0.1 && break; sleep 0.1; done
seed2() { v6 "$BIN/acme-httpcheck" --json --timeout 2 --ns 10.99.0.1 "$@" seed2.test >"$T_TMP/out" 2>"$T_TMP/err"; RC=$?; }
seed2
check "seed 002: the AAAA is not checkable from here (our side, an error), not the CA's failure" \
	jq_true '[.checks[] | select(.id=="http01.addr" and .target=="2001:db8:99::1")][0] | .status == "error" and (.summary | test("not checkable from here"))'
check "seed 002: the cause is named, with the host's IPv6 state" \
	jq_true '[.checks[] | select(.id=="http01.ipv6-local")][0] | .evidence.local_ipv6 | test("disable_ipv6 = 1")'
check "seed 002: Let's Encrypt falls back after 10 s: a warning" finding http01.ipv6-local seed2.test warn
check "seed 002: the fixes: enable IPv6 or remove the AAAA; --force-ipv4 is only the client's" \
	jq_true '[.checks[] | select(.id=="http01.ipv6-local")][0].hint | test("disable_ipv6=0") and test("remove the AAAA") and test("force-ipv4")'
seed2 --ca-profile pebble
check "seed 002, pebble (no fallback): it fails" finding http01.ipv6-local seed2.test fail
run_tool acme-httpcheck --json --ca-profile pebble ok.web.test
check "with IPv6 working (the lab), no such finding" jq_true '[.checks[] | select(.id=="http01.ipv6-local")] | length == 0'
done_testing
