/* SPDX-License-Identifier: ISC */
/*
 * tlsalpn.h - TLS-ALPN-01 (RFC 8737), address by address, as the CA's
 * validator sees it (Boulder's va/tlsalpn.go, or Pebble's).
 *
 * The CA connects to port 443 of an address of the name, offers the ALPN
 * protocol "acme-tls/1" alone with the name as SNI and TLS 1.2 or newer,
 * does not verify the certificate chain, and judges the certificate it is
 * given: self-signed, one subjectAltName naming only the name, a critical
 * acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holding SHA-256 of the key
 * authorization. Profiles are HTTP-01's (enum http01_profile): Boulder
 * tries the first AAAA and falls back to the first A after any error up to
 * the end of the handshake; Pebble uses the first address only.
 */
#ifndef DIAG_TLSALPN_H
#define DIAG_TLSALPN_H

#include <stddef.h>
#include <stdint.h>

#include "diag/dns.h"
#include "diag/finding.h"
#include "diag/http01.h"
#include "diag/probe.h"

#define TLSALPN_PROTOCOL "acme-tls/1"
#define TLSALPN_OID "1.3.6.1.5.5.7.1.31"   /* id-pe-acmeIdentifier */
#define TLSALPN_MAX_ADDRS 16               /* addresses probed per family (more: tlsalpn01.limit) */

/* Which of the CA's checks a certificate fails first, in the CA's order. */
enum tlsalpn_cert_check {
	TLSALPN_CERT_OK = 0,         /* passes (the value too, when it was compared) */
	TLSALPN_CERT_UNPARSABLE,     /* not a DER certificate: the CA's TLS stack refuses it */
	TLSALPN_CERT_NOT_SELF_SIGNED,
	TLSALPN_CERT_EXTENSIONS,     /* an extension twice, or subjectAltName / acmeIdentifier absent */
	TLSALPN_CERT_IDENTIFIERS,    /* not exactly one dNSName equal to the name (or IPs, other bytes) */
	TLSALPN_CERT_NOT_CRITICAL,   /* acmeIdentifier is not critical */
	TLSALPN_CERT_MALFORMED,      /* acmeIdentifier is not a DER OCTET STRING of 32 bytes */
	TLSALPN_CERT_VALUE,          /* another digest than SHA-256(key authorization) */
	TLSALPN_CERT_MISSING,        /* no (critical, for Pebble) acmeIdentifier extension */
};

/* What the CA is asked to check, for diag_tlsalpn_cert_check(). */
struct tlsalpn_cert_query {
	const char *domain;              /* the identifier, lowercase, no trailing dot */
	const unsigned char *expected;   /* 32 bytes, SHA-256 of the key authorization;
	                                    NULL: the value is not compared (pre-flight) */
	enum http01_profile profile;     /* pebble: Pebble's checks and words; else Boulder's */
	const char *from;                /* "IP:PORT" ("[IPv6]:PORT") the certificate came from */
	int ncerts;                      /* certificates the server sent (Pebble's words) */
};

/* A certificate as the CA judged it. Strings are malloc'd, NULL if absent. */
struct tlsalpn_cert {
	enum tlsalpn_cert_check check;   /* the first check that fails */
	char *why;            /* the CA's text for it ("Incorrect validation certificate for
	                         tls-alpn-01 challenge. Requested ..."); NULL when ok */
	char *names;          /* CN, dNSNames, e-mails, IPs, URIs: lowercased, sorted, unique,
	                         ", "-joined, as Boulder lists them */
	char *subject, *issuer;          /* one line (RFC 2253) */
	char sha256[65];                 /* fingerprint of the DER, hex */
	int self_signed;                 /* signature by its own key, subject == issuer */
	int acme_ext, acme_critical;     /* the acmeIdentifier extension: present, critical */
	unsigned char value[32];         /* its value, when it is a 32-byte OCTET STRING */
	int value_ok;
};

/*
 * Judge the DER certificate the server sent first, as the query's CA does,
 * check by check in its order, and describe it. out is filled (free it
 * with diag_tlsalpn_cert_free, whatever this returns). Returns 0, or -1
 * when out of memory.
 */
int diag_tlsalpn_cert_check(const unsigned char *der, size_t len,
                            const struct tlsalpn_cert_query *q, struct tlsalpn_cert *out);
void diag_tlsalpn_cert_free(struct tlsalpn_cert *c);

/* SHA-256 of a key authorization: the acmeIdentifier value. 0, or -1. */
int diag_tlsalpn_digest(const char *key_authorization, unsigned char out[32]);

/*
 * Everything the options point to is copied when the probe starts, except
 * engine, which must outlive the probe.
 */
struct tlsalpn_opts {
	const char *domain;             /* the identifier (no wildcard); required */
	int family;                     /* 0 both, 4, 6: the addresses probed */
	const struct diag_server *ns;   /* resolvers for A/AAAA, all asked at once; nns 0:
	                                   resolv_conf's */
	size_t nns;
	const char *resolv_conf;        /* NULL: /etc/resolv.conf */
	struct dns_engine *engine;      /* shared DNS engine; NULL: the probe makes its own */
	int timeout_ms;                 /* per address, connect and handshake together (the
	                                   CA's dial); <= 0: 10000 */
	uint16_t port;                  /* 0: 443 */
	const char *key_authorization;  /* TOKEN.THUMBPRINT during a challenge; NULL:
	                                   pre-flight (the value is not compared) */
	enum http01_profile profile;
};

/*
 * Probe every address on loop (see probe.h): A and AAAA are asked of every
 * resolver at once, then every address gets its handshake at once, then the
 * CA's view is judged; findings go to r, then done(arg) runs. NULL only
 * when out of memory.
 */
struct diag_probe *diag_tlsalpn_start(struct diag_loop *loop, const struct tlsalpn_opts *o,
                                      struct diag_report *r, diag_done_cb done, void *arg);

/* The same on a loop of its own, to the end. Returns 0, -1 if it could not
 * run to the end (a tlsalpn01.run error finding says why). */
int diag_tlsalpn_run(const struct tlsalpn_opts *o, struct diag_report *r);

#endif
