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
# in nsd's zone (tests/lab/lab.sh zone). The run whose check fails and the
# run Pebble validates use two names of the same set-up: the first run's
# lookups leave a negative answer in unbound's cache for its name.
. "$(dirname "$0")/../lib/tap.sh"
require_lab
plan 18

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
sed -e "s/2026112201/\$((2026113000 + n))/" "\$HOOK_BASE" >"$T_TMP/hook.zone"
printf '%s 60 IN TXT "%s"\n' "\$2" "\$3" >>"$T_TMP/hook.zone"
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
		HOOK_ZONE="$zone" HOOK_WHICH="$which" HOOK_BASE="$base" \
		lego --server "$dir" --path "$T_TMP/lego" --email admin@acme-diag.net --accept-tos \
		--domains "$domain" --dns exec "$@" run >"$T_TMP/lego.log" 2>&1
}
who() { # who ID TARGET WHO_FAILS
	jq_true "[.checks[] | select(.id==\"$1\" and .target==\"$2\")][0].who_fails == \"$3\""
}

# 1. A lame nameserver.
lego_dns c$n.lame.test lame.test ns1 "$zones/lame.test.zone"; rc=$?
check "lame: lego's own check fails" test "$rc" -ne 0
check "lame: at the lame server, in lego's words" grep -q 'ns3.lab.test' "$T_TMP/lego.log"
lego_dns v$n.lame.test lame.test ns1 "$zones/lame.test.zone" --dns.disable-cp; rc=$?
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
done_testing
