#!/usr/bin/env bash
# The acme-diag lab: real DNS servers from Debian packages in a private
# network namespace, on documentation addresses. Nothing leaves the machine.
#
#   lab.sh deps                       install missing packages (root)
#   lab.sh up STATEDIR                create the namespace, start every server, wait until ready
#   lab.sh down STATEDIR              stop everything, delete the namespace (idempotent)
#   lab.sh run STATEDIR CMD...        run CMD inside the namespace
#   lab.sh zone STATEDIR ns1|ns2|both ZONE FILE   serve FILE as ZONE, wait for its serial
#
# Topology and zones: tests/lab/README.md.
set -euo pipefail
LAB_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$LAB_DIR/../.." && pwd)
LIFETIME=${LAB_LIFETIME:-3600}

die() { echo "lab.sh: $*" >&2; exit 1; }

need_root() { [ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"; }

deps() {
	"$TOP/scripts/install-deps.sh" test
	"$TOP/scripts/install-deps.sh" build
}

ZONES="root test healthy.test missing.test cname.test delegate.test loop.test caa.test split.test wait.test big.test lame.test web.test"

# nsd_conf NAME "ADDR..." "ZONE..."
nsd_conf() {
	local name=$1 addrs=$2 zones=$3 dir=$STATE/$1
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
		echo "  username: \"\""
		echo "  chroot: \"\""
		echo "  hide-version: no"
		echo "  verbosity: 1"
		echo "  rrl-ratelimit: 0   # no response rate limiting: tests and the bench send bursts"
		echo "  tcp-count: 1000"
		echo "  logfile: \"$dir/nsd.log\""
		echo "remote-control:"
		echo "  control-enable: no"
		for z in $zones; do
			local origin=$z file=$z.zone
			[ "$z" = root ] && origin=. && file=root.zone
			[ "$z" = test ] && file=test.zone
			echo "zone:"
			echo "  name: \"$origin\""
			echo "  zonefile: \"$file\""
			local src=$LAB_DIR/zones/$file
			[ -f "$LAB_DIR/zones/$name/$file" ] && src=$LAB_DIR/zones/$name/$file
			cp "$src" "$dir/zones/$file"
		done
	} >"$dir/nsd.conf"
}

# spawn NAME CMD... : start CMD in the namespace with a bounded lifetime
spawn() {
	local name=$1; shift
	ip netns exec "$LAB_NS" timeout "$LIFETIME" "$@" >>"$STATE/$name.out" 2>&1 &
	echo "$! $name" >>"$STATE/pids"
}

# wait_dns NAME ADDR QNAME QTYPE [CLASS]
wait_dns() {
	local name=$1 addr=$2 q=$3 t=$4 cls=${5:-IN}
	for _ in $(seq 1 100); do
		if ip netns exec "$LAB_NS" dig +time=1 +tries=1 +norec @"$addr" "$q" "$t" "$cls" 2>/dev/null \
			| grep -q 'status: NOERROR'; then
			return 0
		fi
		sleep 0.1
	done
	die "$name at $addr did not come up (see $STATE/$name.out)"
}

up() {
	need_root
	[ -n "${1:-}" ] || die "usage: lab.sh up STATEDIR"
	STATE=$1
	mkdir -p "$STATE"
	[ ! -f "$STATE/env" ] || die "$STATE already holds a lab; 'lab.sh down $STATE' first"
	for c in nsd dnsmasq dig ip cc; do command -v "$c" >/dev/null || die "$c missing: run 'lab.sh deps'"; done
	LAB_NS=acmediag-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
	printf 'LAB_NS=%s\nLAB_DIR=%s\n' "$LAB_NS" "$STATE" >"$STATE/env"
	trap 'if [ -z "${LAB_UP_DONE:-}" ]; then echo "lab.sh: start failed; cleaning up" >&2; down "$STATE" >/dev/null 2>&1; fi' EXIT
	ip netns add "$LAB_NS"
	mkdir -p "/etc/netns/$LAB_NS"
	echo "nameserver 192.0.2.10" >"/etc/netns/$LAB_NS/resolv.conf"
	local nx="ip netns exec $LAB_NS"
	$nx ip link set lo up
	$nx sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0 >/dev/null
	for a in 10 11 12 53 54 55 80 81 84 85 86 87 88 89 90 96 97 98 99 123; do $nx ip addr add 192.0.2.$a/32 dev lo; done
	for a in 10 53 54 80 81 82; do $nx ip -6 addr add 2001:db8::$a/128 dev lo nodad; done
	# A blackholed IPv6 path: 2001:db8:dead::/64 is routed into a veth whose
	# far end never answers (a permanent neighbour entry with a MAC nobody
	# has), so a TCP connect there times out as behind a dropping firewall.
	$nx ip link add bh0 type veth peer name bh1
	$nx ip link set bh0 up
	$nx ip link set bh1 up
	$nx ip -6 route add 2001:db8:dead::/64 dev bh0
	for a in 80 81 82 83; do
		$nx ip -6 neigh replace 2001:db8:dead::$a lladdr 02:00:00:00:de:ad dev bh0 nud permanent
	done
	for i in $(seq 1 100); do $nx ip addr add 198.51.100.$i/32 dev lo; done

	local all_zones=$ZONES
	nsd_conf ns1 "192.0.2.53 2001:db8::53" "$all_zones"
	nsd_conf ns2 "192.0.2.54 2001:db8::54" "$all_zones"
	nsd_conf ns3 "192.0.2.55" "root test"
	local bench_addrs=""
	for i in $(seq 1 100); do bench_addrs="$bench_addrs 198.51.100.$i"; done
	nsd_conf bench "$bench_addrs" "$all_zones"
	for n in ns1 ns2 ns3 bench; do spawn "$n" nsd -d -c "$STATE/$n/nsd.conf"; done

	local dm=(dnsmasq -k --no-resolv --no-hosts --bind-interfaces --port=53 --server=192.0.2.53
	          --cache-size=1000 --log-facility=-)
	# The plain resolver, with a home-router style local override for
	# split.test (--local plus a host record): it answers that domain from
	# local data only, so SOA split.test is NODATA there while the
	# authoritative servers have the zone. (--address= and a bare
	# --host-record do not do this in dnsmasq 2.90: SOA is still forwarded.)
	spawn resolver "${dm[@]}" --listen-address=192.0.2.10 --listen-address=2001:db8::10 \
		--pid-file="$STATE/resolver.pid" --local=/split.test/ --host-record=split.test,192.0.2.80
	spawn filterwin2k "${dm[@]}" --listen-address=192.0.2.11 --pid-file="$STATE/filterwin2k.pid" \
		--filterwin2k
	spawn filter-rr "${dm[@]}" --listen-address=192.0.2.12 --pid-file="$STATE/filter-rr.pid" \
		--filter-rr=SOA

	if [ ! -x "$STATE/dnsjunk" ] || [ "$LAB_DIR/dnsjunk.c" -nt "$STATE/dnsjunk" ]; then
		cc -std=c11 -O2 -Wall -Wextra -o "$STATE/dnsjunk" "$LAB_DIR/dnsjunk.c"
	fi
	spawn junk-silent "$STATE/dnsjunk" silent 192.0.2.99 53
	spawn junk-garbage "$STATE/dnsjunk" garbage 192.0.2.98 53
	spawn junk-tc "$STATE/dnsjunk" tc 192.0.2.97 53
	spawn junk-short "$STATE/dnsjunk" short 192.0.2.96 53
	spawn junk-endless "$STATE/dnsjunk" endless 192.0.2.87 80
	spawn junk-stall "$STATE/dnsjunk" stall 192.0.2.88 80
	spawn junk-reset "$STATE/dnsjunk" reset 192.0.2.89 80

	web_up
	pebble_up
	# chrony as an NTP server (it never touches the clock: -x)
	printf 'bindaddress 192.0.2.123\nport 123\nallow all\nlocal stratum 8\ncmdport 0\npidfile %s\ndriftfile %s\n' \
		"$STATE/chronyd.pid" "$STATE/chrony.drift" >"$STATE/chrony.conf"
	spawn chrony chronyd -d -x -f "$STATE/chrony.conf"
	for _ in $(seq 1 100); do
		ip netns exec "$LAB_NS" ss -Hlun 2>/dev/null | grep -q '192.0.2.123:123' && break
		sleep 0.1
	done

	wait_dns ns1 192.0.2.53 healthy.test SOA
	wait_dns ns1-v6 2001:db8::53 healthy.test SOA
	wait_dns ns2 192.0.2.54 healthy.test SOA
	wait_dns ns3 192.0.2.55 test SOA
	wait_dns bench 198.51.100.100 healthy.test SOA
	wait_dns resolver 192.0.2.10 healthy.test SOA
	wait_dns filterwin2k 192.0.2.11 version.bind TXT CH
	wait_dns filter-rr 192.0.2.12 version.bind TXT CH
	LAB_UP_DONE=1
	echo "lab up: namespace $LAB_NS, state in $STATE"
}

# nginx for HTTP-01: a webroot tests write tokens into ($STATE/www), and one
# server per broken set-up (see zones/web.test.zone).
web_up() {
	local w=$STATE/web
	mkdir -p "$w" "$STATE/www/.well-known/acme-challenge"
	chmod 755 "$STATE" "$STATE/www" "$STATE/www/.well-known" "$STATE/www/.well-known/acme-challenge"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=tls.web.test -keyout "$w/key.pem" -out "$w/cert.pem" >/dev/null 2>&1
	local big
	big=$(head -c 200 /dev/zero | tr '\0' x)
	cat >"$w/nginx.conf" <<NGINX
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
	server {
		listen [2001:db8::82]:80;
		return 404;
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
}
NGINX
	spawn nginx nginx -c "$w/nginx.conf"
	for _ in $(seq 1 100); do
		[ -f "$w/nginx.pid" ] && ip netns exec "$LAB_NS" bash -c '</dev/tcp/192.0.2.80/80' 2>/dev/null && return 0
		sleep 0.1
	done
	die "nginx did not come up (see $w/error.log)"
}

# Pebble, Let's Encrypt's test CA, at https://192.0.2.90:14000/dir: it
# resolves through ns1 and validates HTTP-01 on port 80 (the lab's nginx).
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
		spawn pebble pebble -config "$p/pebble.json" -dnsserver 192.0.2.53:53
	for _ in $(seq 1 100); do
		ip netns exec "$LAB_NS" curl -sf --cacert "$p/ca.pem" https://192.0.2.90:14000/dir >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "pebble did not come up (see $STATE/pebble.out)"
}

load_env() {
	[ -n "${1:-}" ] || die "missing STATEDIR"
	STATE=$1
	[ -f "$STATE/env" ] || die "no lab in $STATE (lab.sh up $STATE)"
	# shellcheck disable=SC1091
	. "$STATE/env"
}

down() {
	STATE=${1:-}
	[ -n "$STATE" ] || die "usage: lab.sh down STATEDIR"
	[ -d "$STATE" ] || return 0
	local ns=""
	[ -f "$STATE/env" ] && ns=$(sed -n 's/^LAB_NS=//p' "$STATE/env")
	if [ -f "$STATE/pids" ]; then
		while read -r pid _; do kill "$pid" 2>/dev/null || true; done <"$STATE/pids"
	fi
	if [ -n "$ns" ] && ip netns list 2>/dev/null | grep -qw "$ns"; then
		# anything still alive in the namespace goes too
		for _ in 1 2 3 4 5; do
			pids=$(ip netns pids "$ns" 2>/dev/null || true)
			[ -z "$pids" ] && break
			kill $pids 2>/dev/null || true
			sleep 0.2
		done
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	fi
	[ -n "$ns" ] && rm -rf "/etc/netns/$ns"
	rm -rf "$STATE"
}

zone() {
	load_env "$1"
	local which=$2 zname=$3 file=$4
	[ -f "$file" ] || die "zone file $file not found"
	local serial
	serial=$(awk '/SOA/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }' "$file")
	[ -n "$serial" ] || die "$file: no SOA serial found"
	local insts
	case "$which" in ns1) insts=ns1 ;; ns2) insts=ns2 ;; both) insts="ns1 ns2" ;; *) die "ns1, ns2 or both" ;; esac
	for inst in $insts; do
		cp "$file" "$STATE/$inst/zones/$zname.zone"
		kill -HUP "$(cat "$STATE/$inst/nsd.pid")"
	done
	for inst in $insts; do
		local addr=192.0.2.53
		[ "$inst" = ns2 ] && addr=192.0.2.54
		local ok=0
		for _ in $(seq 1 100); do
			if ip netns exec "$LAB_NS" dig +short +norec @"$addr" "$zname" SOA | awk '{print $3}' | grep -qx "$serial"; then
				ok=1
				break
			fi
			sleep 0.1
		done
		[ "$ok" -eq 1 ] || die "$inst did not load serial $serial of $zname"
	done
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
	deps) deps ;;
	up) up "$@" ;;
	down) down "$@" ;;
	run) load_env "${1:-}"; shift; exec ip netns exec "$LAB_NS" "$@" ;;
	zone) [ $# -eq 4 ] || die "usage: lab.sh zone STATEDIR ns1|ns2|both ZONE FILE"; zone "$@" ;;
	*) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
