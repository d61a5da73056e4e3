#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The lab's private PKI, made with the real openssl ca: a root, an
# intermediate (with its own openssl ca database), leaves signed by it and
# the CRLs acme-revcheck reads. Run by lab.sh up (no namespace needed).
#
#   pki.sh STATEDIR     writes STATEDIR/pki: certificates, keys, CRLs, the
#                       nginx server blocks that publish them (nginx-pki.conf)
#
# Published by nginx at http://192.0.2.91/ (CRL distribution points and AIA
# caIssuers); an openssl ocsp responder answers at http://192.0.2.92:8093/
# (openssl 3.0 ocsp binds every address: hence a port of its own).
#   leaf-good      CDP inter.crl, OCSP, caIssuers: valid
#   leaf-revoked   the same, revoked (keyCompromise)
#   leaf-shard     CDP shard2.crl, whose IDP names shard2.crl; shard1.crl
#                  (IDP shard1.crl) is another shard of the same CA
#   leaf-nocdp     no CDP, no AIA
#   leaf-le        issued by an intermediate named like Let's Encrypt's (O=Let's
#                  Encrypt), naming an OCSP responder that is gone (nothing at
#                  192.0.2.92:8094), no CDP: as a Let's Encrypt certificate of 2025
# nginx serves leaf-revoked's full chain over TLS at 192.0.2.91:443.
# acme-certcheck: tlsmix.web.test (A 192.0.2.93, AAAA 2001:db8::93):
#   192.0.2.93:443     leaf-web's full chain (the renewed certificate)
#   2001:db8::93:443   leaf-web-old's full chain (not reloaded)
#   192.0.2.94:443     leaf-web alone (cert.pem instead of fullchain.pem)
#   192.0.2.93:8443    openssl s_server: leaf-web, then the root, then the
#                      intermediate (out of order, root included)
#   leaf-due (20 of 90 days left), leaf-expired, leaf-future, leaf-short
#   (160 hours); acme/directory names a renewalInfo stand-in (nginx).
# CRLs: inter.crl (fresh, v2), stale.crl (nextUpdate passed: made under
# faketime), wrongkey.crl (same issuer name, another key), shard1.crl,
# shard2.crl, delta.crl (a deltaCRLIndicator), garbage.crl (random bytes),
# inter.pem.crl (inter.crl as PEM).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: pki.sh STATEDIR" >&2; exit 2; }
P=$1/pki
mkdir -p "$P"
cd "$P"
BASE=http://192.0.2.91
OCSP=http://192.0.2.92:8093
# the configuration reads these for leaves; any value for other commands
export LEAF_NAME=x LEAF_CDP=x LEAF_SAN=DNS:x

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# What every leaf has (the openssl configuration has no inheritance).
leaf_common='basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = ${ENV::LEAF_SAN}'

# ca_conf DIR NAME: an openssl ca configuration with its database in DIR
ca_conf() {
	local d=$1
	mkdir -p "$d/new"
	: >"$d/index.txt"
	echo 1000 >"$d/serial"
	echo 01 >"$d/crlnumber"
	cat >"$d/ca.cnf" <<CNF
[ ca ]
default_ca = lab
[ lab ]
dir = $d
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
default_md = sha256
default_days = 30
default_crl_days = 7
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ leaf ]
$leaf_common
crlDistributionPoints = URI:\${ENV::LEAF_CDP}
authorityInfoAccess = OCSP;URI:$OCSP/, caIssuers;URI:$BASE/inter.der
[ leaf_bare ]
$leaf_common
[ leaf_le ]
$leaf_common
authorityInfoAccess = OCSP;URI:http://192.0.2.92:8094/
[ ocsp ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
[ crl_plain ]
authorityKeyIdentifier = keyid
[ crl_delta ]
authorityKeyIdentifier = keyid
2.5.29.27 = critical, ASN1:INTEGER:1
CNF
	# two shards of the CA's CRL, each naming itself in its IDP
	local n
	for n in 1 2; do
		printf '[ crl_shard%s ]\nauthorityKeyIdentifier = keyid\nissuingDistributionPoint = critical, @idp%s\n' "$n" "$n"
		printf '[ idp%s ]\nfullname = URI:%s/shard%s.crl\nonlyuser = TRUE\n' "$n" "$BASE" "$n"
	done >>"$d/ca.cnf"
}

# The root and the intermediate.
key root.key
openssl req -x509 -new -key root.key -subj "/CN=acme-diag lab Root" -days 30 \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	-out root.pem 2>/dev/null
# intermediate DIR SUBJECT: a CA signed by the root, with its own database
intermediate() {
	ca_conf "$P/$1"
	key "$1/ca.key"
	openssl req -new -key "$1/ca.key" -subj "$2" -out "$1/ca.csr" 2>/dev/null
	printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$1/ext.cnf"
	openssl x509 -req -in "$1/ca.csr" -CA root.pem -CAkey root.key -CAcreateserial -days 30 \
		-extfile "$1/ext.cnf" -out "$1/ca.pem" 2>/dev/null
}
intermediate inter "/O=acme-diag lab/CN=acme-diag lab Inter"
cp inter/ca.pem inter.pem
openssl x509 -in inter.pem -outform DER -out inter.der
# an intermediate named like Let's Encrypt's, whose OCSP responder is gone
intermediate le "/C=US/O=Let's Encrypt/CN=R99 (acme-diag lab)"

# leaf NAME EXTSECTION [CDP [SAN [openssl ca options]]]: a key and a certificate
# signed by the intermediate
leaf() {
	local name=$1 ext=$2 cdp=${3:-$BASE/inter.crl} san=${4:-$1.pki.test}
	shift 4 2>/dev/null || shift $#
	key "$name.key"
	openssl req -new -key "$name.key" -subj "/CN=${san%%,*}" -out "$name.csr" 2>/dev/null
	LEAF_NAME=$san LEAF_CDP=$cdp LEAF_SAN=$(printf 'DNS:%s' "$san" | sed 's/,/,DNS:/g') openssl ca -batch -config inter/ca.cnf \
		-extensions "$ext" -in "$name.csr" -out "$name.pem" -notext "$@" 2>/dev/null
	cat "$name.pem" inter.pem >"$name.fullchain.pem"
}
when() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
leaf leaf-good leaf
leaf leaf-revoked leaf
leaf leaf-shard leaf "$BASE/shard2.crl"
leaf leaf-nocdp leaf_bare
key leaf-le.key
openssl req -new -key leaf-le.key -subj /CN=le.pki.test -out leaf-le.csr 2>/dev/null
LEAF_SAN=DNS:le.pki.test openssl ca -batch -config le/ca.cnf -extensions leaf_le -in leaf-le.csr \
	-out leaf-le.pem -notext 2>/dev/null
cat leaf-le.pem le/ca.pem >leaf-le.fullchain.pem
openssl ca -batch -config inter/ca.cnf -revoke leaf-revoked.pem -crl_reason keyCompromise 2>/dev/null
# acme-certcheck: a served name's current and old certificates, and lifetimes
web=tlsmix.web.test,www.tlsmix.web.test
leaf leaf-web leaf "$BASE/inter.crl" "$web" -days 90
leaf leaf-web-old leaf "$BASE/inter.crl" "$web" -startdate "$(when '-30 days')" -enddate "$(when '+60 days')"
leaf leaf-due leaf "$BASE/inter.crl" due.pki.test -startdate "$(when '-70 days')" -enddate "$(when '+20 days')"
leaf leaf-expired leaf "$BASE/inter.crl" expired.pki.test -startdate "$(when '-100 days')" -enddate "$(when '-10 days')"
leaf leaf-future leaf "$BASE/inter.crl" future.pki.test -startdate "$(when '+2 days')" -enddate "$(when '+92 days')"
leaf leaf-short leaf "$BASE/inter.crl" short.pki.test -startdate "$(when '-10 hours')" -enddate "$(when '+150 hours')"
cat leaf-web.pem root.pem inter.pem >leaf-web.badorder.pem
# The ACME directory of the renewalInfo stand-in (Pebble 2.4 serves no ARI):
# nginx serves it and the answers tests write into acme/renewal-info/.
mkdir -p acme/renewal-info
printf '{"renewalInfo": "%s/acme/renewal-info/"}\n' "$BASE" >acme/directory

# The OCSP responder's own certificate (delegated by the intermediate).
key ocsp.key
openssl req -new -key ocsp.key -subj "/CN=acme-diag lab OCSP" -out ocsp.csr 2>/dev/null
LEAF_NAME=x LEAF_CDP=x openssl ca -batch -config inter/ca.cnf -extensions ocsp -in ocsp.csr \
	-out ocsp.pem -notext 2>/dev/null

crl() { # crl OUT SECTION [openssl ca options]
	local out=$1 sect=$2
	shift 2
	LEAF_NAME=x LEAF_CDP=x openssl ca -batch -config inter/ca.cnf -gencrl -crlexts "$sect" "$@" \
		-out "$out.pem" 2>/dev/null
	openssl crl -in "$out.pem" -outform DER -out "$out"
}
crl inter.crl crl_plain
cp inter.crl.pem inter.pem.crl
crl shard1.crl crl_shard1
crl shard2.crl crl_shard2
crl delta.crl crl_delta
# stale: made ten days ago, valid for one
LEAF_NAME=x LEAF_CDP=x faketime -f -10d openssl ca -batch -config inter/ca.cnf -gencrl \
	-crlexts crl_plain -crldays 1 -out stale.crl.pem 2>/dev/null
openssl crl -in stale.crl.pem -outform DER -out stale.crl
# wrong key: another CA with the intermediate's name signs a CRL
ca_conf "$P/impostor"
key impostor/ca.key
openssl req -x509 -new -key impostor/ca.key -subj "/O=acme-diag lab/CN=acme-diag lab Inter" -days 30 \
	-out impostor/ca.pem 2>/dev/null
LEAF_NAME=x LEAF_CDP=x openssl ca -batch -config impostor/ca.cnf -gencrl -out wrongkey.crl.pem 2>/dev/null
openssl crl -in wrongkey.crl.pem -outform DER -out wrongkey.crl
head -c 3000 /dev/urandom >garbage.crl

cat >nginx-pki.conf <<NGINX
	server {
		listen 192.0.2.91:80;
		root $P;
		location ~ \.(key|csr|cnf)\$ { return 403; }
		location /acme/ { default_type application/json; add_header Retry-After 21600; }
	}
	server {
		listen 192.0.2.93:443 ssl;
		ssl_certificate $P/leaf-web.fullchain.pem;
		ssl_certificate_key $P/leaf-web.key;
		return 200 "current";
	}
	server {
		listen 192.0.2.94:443 ssl;
		ssl_certificate $P/leaf-web.pem;
		ssl_certificate_key $P/leaf-web.key;
		return 200 "leaf only";
	}
	server {
		listen [2001:db8::93]:443 ssl;
		ssl_certificate $P/leaf-web-old.fullchain.pem;
		ssl_certificate_key $P/leaf-web-old.key;
		return 200 "old";
	}
	server {
		listen 192.0.2.91:443 ssl;
		ssl_certificate $P/leaf-revoked.fullchain.pem;
		ssl_certificate_key $P/leaf-revoked.key;
		return 200 "revoked";
	}
NGINX
