#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The acme-diag lab: real DNS servers from Debian packages (nsd, dnsmasq), an
# nginx, openssl s_server TLS-ALPN-01 responders, Pebble and chrony, in a
# private network namespace, on documentation addresses. Nothing leaves the
# machine.
#
#   lab.sh deps                       install missing Debian packages (root)
#   lab.sh up STATEDIR                create the namespace, start every server, wait until each answers
#   lab.sh down STATEDIR              stop everything, delete the namespace and STATEDIR (idempotent)
#   lab.sh run STATEDIR CMD...        run CMD inside the namespace; its exit status is passed through
#   lab.sh zone STATEDIR ns1|ns2|both ZONE FILE   serve FILE as ZONE there, wait for its SOA serial
#
# Environment: LAB_BULK (default 1000): names in the generated zone
# bulk.test. LAB_LIFETIME (default 3600): every server runs under
# timeout(1) for that many seconds. LAB_WAIT (default 20): seconds a server
# may take to answer in up, or to serve a new serial in zone. LAB_KEEP=1:
# a failed up leaves the namespace and STATEDIR behind for inspection.
#
# Topology, zones and what the servers really answer: tests/lab/README.md.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
LIFETIME=${LAB_LIFETIME:-3600}
WAIT=${LAB_WAIT:-20}

die() { echo "lab.sh: $*" >&2; exit 1; }
usage() { sed -n '6,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
need_root() { [ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"; }

[[ $LIFETIME =~ ^[0-9]+[smhd]?$ ]] || die "LAB_LIFETIME=$LIFETIME: not a duration for timeout(1)"
[[ $WAIT =~ ^[0-9]+$ ]] || die "LAB_WAIT=$WAIT: not a number of seconds"

# The packages are listed once, in scripts/install-deps.sh (which also stops
# the system services that nsd, nginx and chrony start on install).
deps() {
	"$TOP/scripts/install-deps.sh" test
	"$TOP/scripts/install-deps.sh" build
}

# Every zone ns1, ns2 and the bench instance serve; ns3 serves only root and test.
ZONES="root test healthy.test missing.test cname.test delegate.test loop.test caa.test split.test wait.test big.test lame.test web.test dead.test deadalias.test bulk.test"

zone_file() { case "$1" in root | .) echo root.zone ;; *) echo "${1%.}.zone" ;; esac; }
zone_origin() { case "$1" in root | .) echo . ;; *) echo "${1%.}." ;; esac; }

# gen_bulk N: the zone bulk.test with N names (name1 ... nameN), each with
# an A record and "_acme-challenge TXT bulk-token-value": what a hosting
# provider pre-flights (make bench: LAB_BULK=10000). Generated at start up
# rather than committed.
gen_bulk() {
	local n=$1
	mkdir -p "$STATE/gen"
	{
		printf '$ORIGIN bulk.test.\n$TTL 300\n'
		printf '@ IN SOA ns1.lab.test. hostmaster.lab.test. 2026112201 3600 600 86400 300\n'
		printf '@ IN NS ns1.lab.test.\n@ IN NS ns2.lab.test.\n'
		printf '@ IN CAA 0 issue "letsencrypt.org"\n'
		awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++)
			printf "name%d IN A 192.0.2.80\n_acme-challenge.name%d IN TXT \"bulk-token-value\"\n", i, i }'
	} >"$STATE/gen/bulk.test.zone"
}

# soa_serial FILE: the serial of the first SOA record (comments, parentheses
# and an owner, TTL or class before SOA are all fine).
soa_serial() {
	awk '{ sub(/;.*/, ""); gsub(/[()]/, " ")
	       for (i = 1; i <= NF; i++) {
	         if (found) { if (++n == 3) { print $i; exit } }
	         else if (toupper($i) == "SOA") found = 1 } }' "$1"
}

# nsd_conf NAME "ADDR..." "ZONE...": STATEDIR/NAME/nsd.conf and the zone
# files it serves (tests/lab/zones/NAME/FILE overrides tests/lab/zones/FILE)
nsd_conf() {
	local name=$1 addrs=$2 zones=$3 dir=$STATE/$1 a z srcs=()
	mkdir -p "$dir/zones"
	{
		echo "server:"
		for a in $addrs; do echo "  ip-address: $a"; done
		echo "  port: 53"
		echo "  database: \"\""
		echo "  zonesdir: \"$dir/zones\""
		echo "  pidfile: \"$dir/nsd.pid\""
		echo "  xfrdfile: \"$dir/xfrd.state\""
		echo "  zonelistfile: \"$dir/zone.list\""
		echo "  xfrdir: \"$dir\""
		echo "  logfile: \"$dir/nsd.log\""
		echo "  username: \"\""
		echo "  chroot: \"\""
		echo "  hide-version: no"
		echo "  verbosity: 1"
		echo "  rrl-ratelimit: 0   # no response rate limiting: tests and the bench send bursts"
		echo "  tcp-count: 1000"
		echo "remote-control:"
		echo "  control-enable: no   # reloads are SIGHUP (lab.sh zone)"
		for z in $zones; do
			echo "zone:"
			if [ "$z" = root ]; then echo '  name: "."'; else echo "  name: \"$z.\""; fi
			echo "  zonefile: \"$z.zone\""
			if [ -f "$STATE/gen/$z.zone" ]; then
				srcs+=("$STATE/gen/$z.zone")
			elif [ -f "$HERE/zones/$name/$z.zone" ]; then
				srcs+=("$HERE/zones/$name/$z.zone")
			else
				srcs+=("$HERE/zones/$z.zone")
			fi
		done
	} >"$dir/nsd.conf"
	cp "${srcs[@]}" "$dir/zones/"
	nsd-checkconf "$dir/nsd.conf" || die "nsd $name: bad configuration $dir/nsd.conf"
}

nsx() { ip netns exec "$LAB_NS" "$@"; }

# spawn NAME CMD... : start CMD in the namespace with a bounded lifetime,
# output to STATEDIR/NAME.out
spawn() {
	local name=$1; shift
	ip netns exec "$LAB_NS" timeout "$LIFETIME" "$@" >>"$STATE/$name.out" 2>&1 &
	echo "$! $name" >>"$STATE/pids"
	PIDS[$name]=$!
}

# not_up NAME WHY [LOG]: the named server did not come up; show its log
not_up() {
	local name=$1 why=$2 log=${3:-$STATE/$1.out}
	{
		echo "lab.sh: $name $why"
		if [ -s "$log" ]; then
			echo "lab.sh: last lines of $log:"
			tail -n 15 "$log" | sed 's/^/    /'
		fi
	} >&2
	exit 1
}

# Readiness checks, one a line: NAME LOG KIND ARG... (KIND: dns ADDR QNAME
# QTYPE, a NOERROR answer over UDP (rdns: the same with recursion desired); udp|tcp ADDR PORT, a socket listening
# there; connect ADDR PORT, a TCP connection accepted; https URL CAFILE).
CHECKS=()
expect() { CHECKS+=("$*"); }

# probe: run the pending checks, all in one process inside the namespace,
# and print the index of each that does not pass yet
probe() {
	local i kind args
	for i in "${!CHECKS[@]}"; do
		read -r _ _ kind args <<<"${CHECKS[$i]}"
		echo "$i $kind $args"
	done | nsx bash -c "$(declare -f probe_inner); probe_inner"
}

# probe_inner, inside the namespace: reads "INDEX KIND ARG..." lines, runs
# the network checks in parallel, looks the sockets up in one ss listing
probe_inner() {
	local want="" i kind a b c
	while read -r i kind a b c; do
		case $kind in
		dns) { dig +time=1 +tries=1 +norec @"$a" "$b" "$c" 2>/dev/null | grep -q "status: NOERROR" || echo "$i"; } & ;;
		rdns) { dig +time=1 +tries=1 @"$a" "$b" "$c" 2>/dev/null | grep -q "status: NOERROR" || echo "$i"; } & ;;
		connect) { timeout 1 bash -c "</dev/tcp/$a/$b" 2>/dev/null || echo "$i"; } & ;;
		https) { curl -sf --max-time 1 --cacert "$b" "$a" >/dev/null 2>&1 || echo "$i"; } & ;;
		udp | tcp)
			if [[ $a == *:* ]]; then a="[$a]"; fi
			want+="$i $kind $a:$b"$'\n' ;;
		*) echo "$i" ;;
		esac
	done
	printf '%s' "$want" |
		awk 'NR == FNR { have[$1 " " $5]; next } !(($2 " " $3) in have) { print $1 }' <(ss -Hlnut; echo) -
	wait
}

# await_all: poll until every check passes, for at most $WAIT s; fail at
# once, naming the server, if its process has exited
await_all() {
	local deadline=$((SECONDS + WAIT)) failing i name log kind args
	while :; do
		mapfile -t failing < <(probe)
		[ ${#failing[@]} -gt 0 ] || return 0
		for i in "${failing[@]}"; do
			read -r name log kind args <<<"${CHECKS[$i]}"
			if [ -n "${PIDS[$name]:-}" ] && ! kill -0 "${PIDS[$name]}" 2>/dev/null; then
				not_up "$name" "exited during start-up" "$log"
			fi
		done
		local keep=()
		for i in "${failing[@]}"; do keep+=("${CHECKS[$i]}"); done
		CHECKS=("${keep[@]}")
		if [ "$SECONDS" -ge "$deadline" ]; then
			read -r name log kind args <<<"${CHECKS[0]}"
			not_up "$name" "did not come up within ${WAIT}s ($kind $args failed)" "$log"
		fi
		sleep 0.1
	done
}

up() {
	need_root
	[ $# -eq 1 ] || usage
	local c
	for c in nsd nsd-checkconf nsd-checkzone unbound unbound-checkconf dnsmasq dig ip ss sysctl cc timeout openssl nginx pebble chronyd curl; do
		command -v "$c" >/dev/null || die "$c missing: run 'tests/lab/lab.sh deps' (as root)"
	done
	[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] ||
		die "nginx's stream module missing (libnginx-mod-stream): run 'tests/lab/lab.sh deps' (as root)"
	mkdir -p "$1"
	STATE=$(cd "$1" && pwd)
	[ ! -e "$STATE/env" ] || die "$STATE already holds a lab; 'lab.sh down $STATE' first"
	# down removes STATEDIR whole, so it must be new or empty (a dnsjunk
	# built there before may stay: it is reused).
	local f base origin
	for f in "$STATE"/* "$STATE"/.[!.]* "$STATE"/..?*; do
		[ ! -e "$f" ] || [ "$f" = "$STATE/dnsjunk" ] ||
			die "$STATE is not empty; give a new or empty directory (lab.sh down removes it whole)"
	done
	: >"$STATE/.acmediag-lab"   # marks the directory as one that down may remove
	trap up_exit EXIT
	trap 'exit 130' INT TERM HUP

	# dnsjunk builds in the background meanwhile (half a second saved).
	if [ ! -x "$STATE/dnsjunk" ] || [ "$HERE/dnsjunk.c" -nt "$STATE/dnsjunk" ]; then
		cc -std=c11 -O2 -Wall -Wextra -o "$STATE/dnsjunk" "$HERE/dnsjunk.c" >"$STATE/dnsjunk.build" 2>&1 &
		CC_PID=$!
	fi

	# Every zone file is checked before nsd starts, for a clear message;
	# in the background too, while the namespace is set up.
	(
		for f in "$HERE"/zones/*.zone "$HERE"/zones/*/*.zone "$HERE"/zones/wait.test.with-txt; do
			base=${f##*/}
			base=${base%.with-txt}
			base=${base%.zone}
			if [ "$base" = root ]; then origin=.; else origin=$base.; fi
			nsd-checkzone "$origin" "$f" >/dev/null 2>&1 || echo "$origin $f"
		done
	) >"$STATE/zonecheck" &
	ZC_PID=$!

	local i
	for i in 1 2 3 4 5; do
		LAB_NS=acmediag-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
		[ -e "/run/netns/$LAB_NS" ] || break
	done
	printf 'LAB_NS=%s\nLAB_DIR=%s\n' "$LAB_NS" "$STATE" >"$STATE/env"
	ip netns add "$LAB_NS"
	mkdir -p "/etc/netns/$LAB_NS"
	echo "nameserver 192.0.2.10" >"/etc/netns/$LAB_NS/resolv.conf"
	nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
		net.ipv6.conf.lo.disable_ipv6=0 >/dev/null
	# Every address is on the namespace's lo, added in one ip -batch run.
	# 2001:db8:dead::/64 is routed into a veth whose far end never answers
	# (a permanent neighbour entry with a MAC nobody has), so a TCP connect
	# there times out as behind a dropping firewall.
	{
		echo "link set lo up"
		for a in 10 11 12 20 21 22 53 54 55 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 96 97 98 99 123 \
			141 142 143 144 145 146 147 148 149 150 151 152; do
			echo "addr add 192.0.2.$a/32 dev lo"
		done
		for a in 10 20 53 54 80 81 82 92 93 142 152; do echo "addr add 2001:db8::$a/128 dev lo nodad"; done
		for i in $(seq 1 100); do echo "addr add 198.51.100.$i/32 dev lo"; done
		echo "link add bh0 type veth peer name bh1"
		echo "link set bh0 up"
		echo "link set bh1 up"
		echo "route add 2001:db8:dead::/64 dev bh0"
		for a in 80 81 82 83 92; do
			echo "neigh replace 2001:db8:dead::$a lladdr 02:00:00:00:de:ad dev bh0 nud permanent"
		done
	} | ip -n "$LAB_NS" -batch - || die "could not set up the addresses in $LAB_NS"

	wait "$ZC_PID"
	ZC_PID=
	if [ -s "$STATE/zonecheck" ]; then
		read -r origin f <"$STATE/zonecheck"
		die "zone file $f does not load (nsd-checkzone $origin $f)"
	fi

	gen_bulk "${LAB_BULK:-1000}"
	nsd-checkzone bulk.test. "$STATE/gen/bulk.test.zone" >/dev/null ||
		die "generated zone $STATE/gen/bulk.test.zone does not load"
	# nsd: ns1 and ns2 (ns2 with its overrides from zones/ns2), ns3 lame
	# for every child of test., and one bench instance on 100 addresses.
	nsd_conf ns1 "192.0.2.53 2001:db8::53" "$ZONES"
	nsd_conf ns2 "192.0.2.54 2001:db8::54" "$ZONES"
	nsd_conf ns3 "192.0.2.55" "root test"
	local bench_addrs=""
	for i in $(seq 1 100); do bench_addrs="$bench_addrs 198.51.100.$i"; done
	nsd_conf bench "$bench_addrs" "$ZONES"
	local n
	for n in ns1 ns2 ns3 bench; do spawn "$n" nsd -d -c "$STATE/$n/nsd.conf"; done

	# dnsmasq: --listen-address with --bind-interfaces binds only the
	# addresses given, so the three instances share lo. Logs (with the
	# queries) go to STATEDIR/NAME.out.
	local dm=(dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces --port=53
	          --server=192.0.2.53 --cache-size=1000 --log-facility=- --log-queries)
	# The plain resolver, with a home router's local override for split.test:
	# --local makes dnsmasq answer that domain from local data only, the host
	# record gives its apex an address. SOA split.test is then NODATA here
	# while the authoritative servers have the zone. (--address= or a bare
	# --host-record do not do this in dnsmasq 2.90: SOA is still forwarded.)
	# A bare host record for stale.web.test: this resolver answers an old
	# address (192.0.2.86) while the zone has moved on (192.0.2.80).
	spawn resolver "${dm[@]}" --listen-address=192.0.2.10 --listen-address=2001:db8::10 \
		--pid-file="$STATE/resolver.pid" --local=/split.test/ --host-record=split.test,192.0.2.80 \
		--host-record=stale.web.test,192.0.2.86
	spawn filterwin2k "${dm[@]}" --listen-address=192.0.2.11 --pid-file="$STATE/filterwin2k.pid" \
		--filterwin2k
	spawn filter-rr "${dm[@]}" --listen-address=192.0.2.12 --pid-file="$STATE/filter-rr.pid" \
		--filter-rr=SOA

	# The realistic chain: unbound recursing from the lab root (as the CA's
	# validators do), and home-router dnsmasq forwarders in front of it.
	unbound_up
	local dmu=(dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces --port=53
	           --server=192.0.2.20 --cache-size=1000 --log-facility=- --log-queries)
	spawn router "${dmu[@]}" --listen-address=192.0.2.21 --pid-file="$STATE/router.pid"
	spawn router-filter "${dmu[@]}" --listen-address=192.0.2.22 --pid-file="$STATE/router-filter.pid" \
		--filterwin2k

	# The junk responders: the one stand-in (dnsjunk.c says why).
	if [ -n "${CC_PID:-}" ]; then
		wait "$CC_PID" ||
			not_up dnsjunk "did not build (cc -O2 -o $STATE/dnsjunk $HERE/dnsjunk.c)" "$STATE/dnsjunk.build"
		CC_PID=
	fi
	local junk=(silent:192.0.2.99:53 garbage:192.0.2.98:53 tc:192.0.2.97:53 short:192.0.2.96:53
	            endless:192.0.2.87:80 stall:192.0.2.88:80 reset:192.0.2.89:80)
	local j mode addr port
	for j in "${junk[@]}"; do
		IFS=: read -r mode addr port <<<"$j"
		spawn "junk-$mode" "$STATE/dnsjunk" "$mode" "$addr" "$port"
	done

	"$HERE/pki.sh" "$STATE" || die "pki.sh: could not make the lab PKI in $STATE/pki"
	alpn_up
	web_up
	pki_up
	pebble_up
	# chrony as an NTP server (it never touches the clock: -x)
	printf 'bindaddress 192.0.2.123\nport 123\nallow all\nlocal stratum 8\ncmdport 0\npidfile %s\ndriftfile %s\n' \
		"$STATE/chronyd.pid" "$STATE/chrony.drift" >"$STATE/chrony.conf"
	spawn chrony chronyd -d -x -f "$STATE/chrony.conf"

	# Wait until every server answers.
	expect ns1 "$STATE/ns1/nsd.log" dns 192.0.2.53 healthy.test SOA
	expect ns1 "$STATE/ns1/nsd.log" dns 2001:db8::53 healthy.test SOA
	expect ns2 "$STATE/ns2/nsd.log" dns 192.0.2.54 healthy.test SOA
	expect ns2 "$STATE/ns2/nsd.log" dns 2001:db8::54 healthy.test SOA
	expect ns3 "$STATE/ns3/nsd.log" dns 192.0.2.55 test SOA
	expect bench "$STATE/bench/nsd.log" dns 198.51.100.1 healthy.test SOA
	expect bench "$STATE/bench/nsd.log" dns 198.51.100.100 healthy.test SOA
	expect resolver "$STATE/resolver.out" dns 192.0.2.10 healthy.test SOA
	expect resolver "$STATE/resolver.out" dns 2001:db8::10 healthy.test SOA
	expect filterwin2k "$STATE/filterwin2k.out" dns 192.0.2.11 _acme-challenge.healthy.test TXT
	expect filter-rr "$STATE/filter-rr.out" dns 192.0.2.12 _acme-challenge.healthy.test TXT
	expect unbound "$STATE/unbound.out" udp 192.0.2.20 53
	expect unbound "$STATE/unbound.out" udp 2001:db8::20 53
	expect router "$STATE/router.out" rdns 192.0.2.21 healthy.test SOA
	expect router-filter "$STATE/router-filter.out" rdns 192.0.2.22 _acme-challenge.healthy.test TXT
	for j in "${junk[@]}"; do
		IFS=: read -r mode addr port <<<"$j"
		expect "junk-$mode" "$STATE/junk-$mode.out" udp "$addr" "$port"
		expect "junk-$mode" "$STATE/junk-$mode.out" tcp "$addr" "$port"
	done
	expect nginx "$STATE/web/error.log" connect 192.0.2.80 80
	expect nginx "$STATE/web/error.log" connect 192.0.2.152 443
	for j in "${ALPN_SERVERS[@]}"; do
		IFS=: read -r mode addr _ v6 <<<"$j"
		expect "alpn-$mode" "$STATE/alpn-$mode.out" connect "$addr" 443
		[ -z "$v6" ] || expect "alpn-$mode-v6" "$STATE/alpn-$mode-v6.out" connect "2001:db8::${addr##*.}" 443
	done
	expect nginx "$STATE/web/error.log" connect 192.0.2.91 80
	expect ocsp "$STATE/ocsp.out" connect 192.0.2.92 8093
	expect s_server "$STATE/s_server.out" tcp 192.0.2.93 8443
	expect pebble "$STATE/pebble.out" https https://192.0.2.90:14000/dir "$STATE/pebble/ca.pem"
	expect chrony "$STATE/chrony.out" udp 192.0.2.123 123
	await_all
	UP_DONE=1
	echo "lab up: namespace $LAB_NS, state in $STATE"
}

up_exit() {
	local rc=$?
	[ -z "${UP_DONE:-}" ] || return 0
	local p
	for p in ${CC_PID:-} ${ZC_PID:-}; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done || true
	if [ -n "${LAB_KEEP:-}" ]; then
		echo "lab.sh: up failed; LAB_KEEP is set, so $STATE and namespace ${LAB_NS:-?} are left for inspection ('lab.sh down $STATE' removes them)" >&2
	else
		echo "lab.sh: up failed; cleaning up (LAB_KEEP=1 keeps $STATE for inspection)" >&2
		down "$STATE" >/dev/null 2>&1 || true
	fi
	exit "$rc"
}

# unbound at 192.0.2.20 and 2001:db8::20: a recursive resolver whose root
# hints are the lab's root servers (ns1 and ns2, which serve "."), so it
# climbs from the root and follows delegations and CNAMEs like a real one.
# The lab zones are unsigned: the iterator only, no validator.
unbound_up() {
	local u=$STATE/unbound
	mkdir -p "$u"
	cat >"$u/root.hints" <<HINTS
.                3600000 NS ns1.lab.test.
.                3600000 NS ns2.lab.test.
ns1.lab.test.    3600000 A 192.0.2.53
ns1.lab.test.    3600000 AAAA 2001:db8::53
ns2.lab.test.    3600000 A 192.0.2.54
ns2.lab.test.    3600000 AAAA 2001:db8::54
HINTS
	cat >"$u/unbound.conf" <<CONF
server:
	interface: 192.0.2.20
	interface: 2001:db8::20
	port: 53
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$u"
	pidfile: "$u/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	access-control: 0.0.0.0/0 allow
	access-control: ::/0 allow
	root-hints: "$u/root.hints"
	do-not-query-localhost: no
	module-config: "iterator"
	# unbound answers .test itself (RFC 6761 special-use) unless told not to
	local-zone: "test." nodefault
	prefetch: no
	# answers change while tests run (lab.sh zone): keep them briefly
	cache-max-ttl: 2
	cache-max-negative-ttl: 2
remote-control:
	control-enable: no
CONF
	unbound-checkconf "$u/unbound.conf" >/dev/null || die "unbound: bad configuration $u/unbound.conf"
	spawn unbound unbound -d -c "$u/unbound.conf"
}

# The lab's TLS-ALPN-01 key authorization: the s_server responders below
# serve challenge certificates for it (tests read it from STATEDIR/alpn/ka).
ALPN_KA=alpn-token.thumbprint-of-the-lab-account

# TLS-ALPN-01 responders: one openssl s_server per certificate, each made
# here with openssl req/x509 and an extension section (see README.md).
# MODE:ADDRESS:NAME[:v6]; MODE names the certificate's defect.
ALPN_SERVERS=(good:192.0.2.141:alpn-good casigned:192.0.2.142:alpn-casigned:v6
              noncrit:192.0.2.143:alpn-noncrit twonames:192.0.2.144:alpn-twonames
              noext:192.0.2.145:alpn-noext malformed:192.0.2.146:alpn-malformed
              cdn:192.0.2.147:alpn-cdn preread:192.0.2.148:alpn-preread
              v6wrong:192.0.2.150:alpn-v6wrong fallback:192.0.2.151:alpn-fallback)

# alpn_cert DIR NAME EXTENSIONS [CA]: DIR/NAME.pem and DIR/NAME.key, a P-256
# certificate for NAME.web.test with the extension lines given; self-signed,
# or signed by DIR/CA.pem when CA is given.
alpn_cert() {
	local d=$1 n=$2 ext=$3 ca=${4:-}
	printf '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = %s.web.test\n[ext]\n%s\n' \
		"$n" "$ext" >"$d/$n.cnf"
	if [ -z "$ca" ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-config "$d/$n.cnf" -extensions ext -keyout "$d/$n.key" -out "$d/$n.pem" >/dev/null 2>&1
	else
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -config "$d/$n.cnf" \
			-keyout "$d/$n.key" -out "$d/$n.csr" >/dev/null 2>&1 &&
		openssl x509 -req -in "$d/$n.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" -CAcreateserial \
			-days 2 -extfile "$d/$n.cnf" -extensions ext -out "$d/$n.pem" >/dev/null 2>&1
	fi || die "openssl could not make the TLS-ALPN-01 certificate $n ($d/$n.cnf)"
}

alpn_up() {
	local d=$STATE/alpn j mode addr name v6 digest ext
	mkdir -p "$d"
	printf '%s' "$ALPN_KA" >"$d/ka"
	digest=$(printf '%s' "$ALPN_KA" | openssl dgst -sha256 -binary | od -An -v -tx1 | tr -d ' \n')
	[ ${#digest} -eq 64 ] || die "openssl dgst gave no SHA-256 of the key authorization"
	local acme="1.3.6.1.5.5.7.1.31 = critical,DER:0420$digest"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=acme-diag lab CDN CA" -keyout "$d/cdn-ca.key" -out "$d/cdn-ca.pem" >/dev/null 2>&1 ||
		die "openssl could not make the lab's CDN CA"
	for j in "${ALPN_SERVERS[@]}"; do
		IFS=: read -r mode addr name v6 <<<"$j"
		ext="subjectAltName = DNS:$name.web.test"$'\n'"$acme"
		case $mode in
		noncrit) ext="subjectAltName = DNS:$name.web.test"$'\n'"1.3.6.1.5.5.7.1.31 = DER:0420$digest" ;;
		twonames) ext="subjectAltName = DNS:$name.web.test,DNS:www.$name.web.test"$'\n'"$acme" ;;
		noext) ext="subjectAltName = DNS:$name.web.test" ;;
		malformed) ext="subjectAltName = DNS:$name.web.test"$'\n'"1.3.6.1.5.5.7.1.31 = critical,DER:041f${digest:0:62}" ;;
		cdn) ext="subjectAltName = DNS:$name.web.test" ;;
		esac
		case $mode in
		casigned | cdn) alpn_cert "$d" "$name" "$ext" cdn-ca ;;
		*) alpn_cert "$d" "$name" "$ext" ;;
		esac
	done
	for j in "${ALPN_SERVERS[@]}"; do
		IFS=: read -r mode addr name v6 <<<"$j"
		local cmd=(openssl s_server -quiet -www -accept "$addr:443" -cert "$d/$name.pem" -key "$d/$name.key")
		# the "CDN" ignores ALPN; every other one speaks acme-tls/1
		[ "$mode" = cdn ] || cmd+=(-alpn acme-tls/1)
		spawn "alpn-$mode" "${cmd[@]}"
		if [ -n "$v6" ]; then
			spawn "alpn-$mode-v6" openssl s_server -quiet -www -accept "[2001:db8::${addr##*.}]:443" \
				-cert "$d/$name.pem" -key "$d/$name.key" -alpn acme-tls/1
		fi
	done
}

# nginx for HTTP-01: a webroot tests write tokens into ($STATE/www), and one
# server per broken set-up (see zones/web.test.zone); for TLS-ALPN-01, a
# plain HTTP server on port 443 and two ssl_preread routers (nginx stream)
# that send acme-tls/1 to a backend and everything else to the web server:
# 192.0.2.92 to lego (tests run it at 192.0.2.91:10443), 192.0.2.152 to the
# alpn-preread responder.
web_up() {
	local w=$STATE/web
	mkdir -p "$w" "$STATE/www/.well-known/acme-challenge"
	chmod 755 "$STATE" "$STATE/www" "$STATE/www/.well-known" "$STATE/www/.well-known/acme-challenge"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=tls.web.test -keyout "$w/key.pem" -out "$w/cert.pem" >/dev/null 2>&1
	local big
	big=$(head -c 200 /dev/zero | tr '\0' x)
	# A Japanese 404 page (UTF-8, 313 bytes; byte 200 is inside a character)
	mkdir -p "$w/utf8"
	printf '%s' '<html lang="ja"><head><meta charset="utf-8"><title>ページが見つかりません</title></head><body><h1>404 ページが見つかりません</h1><p>お探しのページは移動または削除された可能性があります。トップページからもう一度お試しください。</p></body></html>' >"$w/utf8/404.html"
	printf 'staff:$apr1$lab$3Zmz9zQTyOQ0YQv1kS0o1.\n' >"$w/htpasswd"
	cat >"$w/nginx.conf" <<NGINX
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off;
worker_processes 1;
pid $w/nginx.pid;
error_log $w/error.log;
events { worker_connections 512; }
http {
	access_log $w/access.log;
	default_type text/plain;
	ssl_certificate $w/cert.pem;
	ssl_certificate_key $w/key.pem;
	server {
		listen 192.0.2.80:80 default_server;
		listen [2001:db8::80]:80 default_server;
		listen 192.0.2.80:443 ssl default_server;
		listen [2001:db8::80]:443 ssl default_server;
		root $STATE/www;
		location = /.well-known/acme-challenge/big-body { return 200 "$big"; }
	}
	server {
		listen 192.0.2.80:80;
		listen [2001:db8::80]:80;
		server_name redir8080.web.test;
		return 301 http://redir8080.web.test:8080\$request_uri;
	}
	server {
		listen 192.0.2.80:80;
		listen [2001:db8::80]:80;
		server_name loop.web.test;
		rewrite ^/\.well-known/acme-challenge/(.*)\$ /loop-b/\$1 redirect;
		rewrite ^/loop-b/(.*)\$ /.well-known/acme-challenge/\$1 redirect;
	}
	server {
		listen 192.0.2.80:80;
		listen [2001:db8::80]:80;
		server_name tls.web.test;
		return 301 https://tls.web.test\$request_uri;
	}
	# a deny rule and a login wall over the challenge path (the seeds'
	# auth-middleware cases), and a redirect of it to another host that
	# serves the files (allowed: the CA follows it)
	server {
		listen 192.0.2.80:80;
		listen [2001:db8::80]:80;
		server_name deny.web.test;
		location /.well-known/acme-challenge/ { deny all; }
	}
	server {
		listen 192.0.2.80:80;
		listen [2001:db8::80]:80;
		server_name login.web.test;
		location / { auth_basic "staff only"; auth_basic_user_file $w/htpasswd; root $STATE/www; }
	}
	server {
		listen 192.0.2.80:80;
		listen [2001:db8::80]:80;
		server_name offhost.web.test;
		return 302 http://ok.web.test\$request_uri;
	}
	server {
		listen [2001:db8::82]:80;
		return 404;
	}
	server {
		listen 192.0.2.83:80;
		root $w/utf8;
		error_page 404 /404.html;
		location = /404.html { internal; }
	}
	server {
		listen 192.0.2.84:80;
		return 301 https://tls10.web.test\$request_uri;
	}
	server {
		listen 192.0.2.84:443 ssl;
		ssl_protocols TLSv1;
		ssl_ciphers DEFAULT:@SECLEVEL=0;
		root $STATE/www;
	}
	server {
		listen 192.0.2.85:80 http2;
		root $STATE/www;
	}
	server {
		listen 192.0.2.86:80;
		location / { return 200 "Welcome to our site"; }
	}
	server {
		listen 192.0.2.149:443;
		return 404;
	}
	include $STATE/pki/nginx-pki.conf;
}
stream {
	error_log $w/stream-error.log info;
	map \$ssl_preread_alpn_protocols \$to_lego {
		~\bacme-tls/1\b 192.0.2.91:10443;
		default 192.0.2.80:443;
	}
	map \$ssl_preread_alpn_protocols \$to_responder {
		~\bacme-tls/1\b 192.0.2.148:443;
		default 192.0.2.80:443;
	}
	server {
		listen 192.0.2.92:443;
		listen [2001:db8::92]:443;
		ssl_preread on;
		proxy_pass \$to_lego;
	}
	server {
		listen 192.0.2.152:443;
		listen [2001:db8::152]:443;
		ssl_preread on;
		proxy_pass \$to_responder;
	}
}
NGINX
	spawn nginx nginx -c "$w/nginx.conf"
}

# The lab PKI's OCSP responder (tests/lab/pki.sh): openssl ocsp over the
# intermediate's openssl ca database, signing with a delegated responder
# certificate. openssl 3.0 binds every address, hence port 8093; -timeout
# and -multi, or a connection that sends nothing (the readiness check) blocks
# every request behind it.
pki_up() {
	local p=$STATE/pki
	spawn ocsp openssl ocsp -index "$p/inter/index.txt" -CA "$p/inter.pem" -rsigner "$p/ocsp.pem" \
		-rkey "$p/ocsp.key" -port 8093 -nmin 60 -ignore_err -timeout 3 -multi 4
	# a TLS server sending its chain out of order with the root (acme-certcheck)
	spawn s_server openssl s_server -accept 192.0.2.93:8443 -cert "$p/leaf-web.pem" -key "$p/leaf-web.key" \
		-cert_chain "$p/leaf-web.badorder.pem" -www -quiet
}

# Pebble, Let's Encrypt's test CA, at https://192.0.2.90:14000/dir: it
# resolves through unbound (as Let's Encrypt's validators do) and validates
# HTTP-01 on port 80 (the lab's nginx) and TLS-ALPN-01 on port 443 (tlsPort;
# the ssl_preread router at 192.0.2.92 takes acme-tls/1 to lego).
# Its TLS certificate comes from a lab CA in $STATE/pebble/ca.pem.
pebble_up() {
	local p=$STATE/pebble
	mkdir -p "$p"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=acme-diag lab CA" -keyout "$p/ca.key" -out "$p/ca.pem" >/dev/null 2>&1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=pebble.lab.test \
		-keyout "$p/key.pem" -out "$p/req.pem" >/dev/null 2>&1
	printf 'subjectAltName=IP:192.0.2.90,DNS:pebble.lab.test\n' >"$p/ext.cnf"
	openssl x509 -req -in "$p/req.pem" -CA "$p/ca.pem" -CAkey "$p/ca.key" -CAcreateserial \
		-days 2 -extfile "$p/ext.cnf" -out "$p/cert.pem" >/dev/null 2>&1
	cat >"$p/pebble.json" <<JSON
{"pebble": {"listenAddress": "192.0.2.90:14000", "managementListenAddress": "192.0.2.90:15000",
 "certificate": "$p/cert.pem", "privateKey": "$p/key.pem", "httpPort": 80, "tlsPort": 443,
 "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
	PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
		spawn pebble pebble -config "$p/pebble.json" -dnsserver 192.0.2.20:53
}

load_env() {
	[ -n "${1:-}" ] || usage
	STATE=$1
	[ -f "$STATE/env" ] || die "no lab in $STATE (lab.sh up $STATE)"
	LAB_NS=$(sed -n 's/^LAB_NS=//p' "$STATE/env")
	[[ $LAB_NS =~ ^[A-Za-z0-9_.-]+$ ]] || die "$STATE/env: no usable LAB_NS"
	[ -e "/run/netns/$LAB_NS" ] || die "the lab in $STATE is down (no namespace $LAB_NS)"
}

down() {
	[ $# -eq 1 ] || usage
	local state=$1 ns="" pids i
	[ -d "$state" ] || return 0
	need_root
	[ -f "$state/env" ] && ns=$(sed -n 's/^LAB_NS=//p' "$state/env")
	if [[ $ns =~ ^[A-Za-z0-9_.-]+$ ]]; then
		if [ -e "/run/netns/$ns" ]; then
			# Every process in the namespace is one the lab started (the
			# servers, their timeout wrappers, their children): TERM, then
			# KILL what is left after 3 s. timeout forwards TERM to its server.
			for i in $(seq 1 40); do
				mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
				[ ${#pids[@]} -gt 0 ] || break
				if [ "$i" -eq 1 ]; then kill "${pids[@]}" 2>/dev/null || true; fi
				if [ "$i" -ge 30 ]; then kill -9 "${pids[@]}" 2>/dev/null || true; fi
				sleep 0.1
			done
			mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
			[ ${#pids[@]} -eq 0 ] || echo "lab.sh: processes ${pids[*]} survive in $ns" >&2
			ip netns del "$ns" 2>/dev/null || true
		fi
		rm -rf "/etc/netns/${ns:?}"
	fi
	# STATEDIR goes only if it is a lab's (a marker or an env file), or empty.
	if [ -e "$state/.acmediag-lab" ] || [ -e "$state/env" ]; then
		rm -rf "$state"
	else
		rmdir "$state" 2>/dev/null || echo "lab.sh: $state is not a lab state directory; left as it is" >&2
	fi
}

zone() {
	[ $# -eq 4 ] || usage
	load_env "$1"
	local which=$2 zname=$3 src=$4 insts inst serial file origin
	case "$which" in ns1 | ns2) insts=$which ;; both) insts="ns1 ns2" ;; *) usage ;; esac
	[ -f "$src" ] || die "zone file $src not found"
	file=$(zone_file "$zname")
	origin=$(zone_origin "$zname")
	nsd-checkzone "$origin" "$src" >/dev/null || die "$src is not a valid zone file for $origin (nsd-checkzone)"
	serial=$(soa_serial "$src")
	[[ $serial =~ ^[0-9]+$ ]] || die "$src: no SOA serial found"
	for inst in $insts; do
		[ -f "$STATE/$inst/zones/$file" ] || die "$inst does not serve $origin"
	done
	for inst in $insts; do
		# a new file in place at once (nsd never reads a half-written one),
		# then SIGHUP: nsd 4.6 rereads the zone files that changed
		cp "$src" "$STATE/$inst/zones/.$file.new"
		mv -f "$STATE/$inst/zones/.$file.new" "$STATE/$inst/zones/$file"
		kill -HUP "$(cat "$STATE/$inst/nsd.pid")" || die "$inst: no nsd to reload (pid file $STATE/$inst/nsd.pid)"
	done
	for inst in $insts; do
		local addr=192.0.2.53 deadline=$((SECONDS + WAIT))
		[ "$inst" = ns2 ] && addr=192.0.2.54
		until [ "$(nsx dig +short +norec +time=1 +tries=1 @"$addr" "$origin" SOA 2>/dev/null | awk '{ print $3 }')" = "$serial" ]; do
			[ "$SECONDS" -lt "$deadline" ] ||
				die "$inst ($addr) does not serve serial $serial of $origin after ${WAIT}s (see $STATE/$inst/nsd.log)"
			sleep 0.05
		done
	done
}

declare -A PIDS=()
cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
	deps) [ $# -eq 0 ] || usage; deps ;;
	up) up "$@" ;;
	down) down "$@" ;;
	run)
		[ $# -ge 2 ] || usage
		load_env "$1"; shift
		exec ip netns exec "$LAB_NS" "$@" ;;
	zone) zone "$@" ;;
	*) usage ;;
esac
