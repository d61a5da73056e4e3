/* SPDX-License-Identifier: ISC */
/*
 * certcheck.h - the certificate a server actually serves, against the one
 * renewed on disk: same certificate (or a reload is due), a complete chain
 * in order without duplicates, the private key that matches, every name
 * covered, validity and the renewal window by lifetime, and the CA's ACME
 * Renewal Information (RFC 9773). Every address of the host is checked on
 * its own and at once.
 *
 * Findings: cert.served per address, cert.consistency across addresses,
 * cert.chain per address, cert.key, cert.names and cert.validity per
 * distinct certificate, cert.ari, cert.input, certcheck.run.
 */
#ifndef DIAG_CERTCHECK_H
#define DIAG_CERTCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "diag/dns.h"
#include "diag/finding.h"
#include "diag/probe.h"

#define CERTCHECK_MAX_NAMES 100

/* Everything is copied or read when the probe starts. */
struct certcheck_opts {
	const char *host;               /* HOST or HOST:PORT to connect to; NULL: files only */
	const char *cert_path;          /* the certificate on disk (cert.pem or fullchain.pem); NULL: none */
	const char *key_path;           /* its private key; NULL: not checked */
	const char *const *names;       /* names the certificate must cover; none: the host's name */
	size_t nnames;
	const char *directory;          /* ACME directory URL, for renewalInfo; NULL: no ARI */
	const char *ca_bundle;          /* trust anchors for the chain and https; NULL: the system's */
	int family;                     /* 0 both, 4, 6 */
	const struct diag_server *ns;
	size_t nns;
	int timeout_ms;
	int64_t now;                    /* seconds; 0: the clock */
};

/*
 * RFC 9773 CertID: base64url(AKI keyIdentifier) "." base64url(the serial's
 * DER content octets), no padding. 0, or -1 when x has no AKI keyIdentifier
 * (out too small: 300 bytes suffice).
 */
int diag_ari_cert_id(X509 *x, char *out, size_t len);

/* A lifetime in seconds as a CA profile names it ("Let's Encrypt classic, 90 days"),
 * or NULL when none is recognised. */
const char *diag_cert_profile(int64_t lifetime_s);

/* The renewal window a CA suggests by default, as Boulder computes ARI's
 * (RFC 9773) for a certificate it has no reason to renew early: centred
 * where a third of the validity is left (half, under 10 days), 1% of the
 * validity either side. Unix times. */
void diag_ari_default_window(int64_t not_before, int64_t not_after, int64_t *start, int64_t *end);

/*
 * For --format prometheus, beside diag_metrics_add_report(): per
 * certificate (each cert.validity finding, by its target) its expiry and
 * the start of its renewal window (the CA's ARI answer for the certificate
 * asked about, else diag_ari_default_window), labelled ca (the ACME
 * directory's host, or ""). 0, or -1 when out of memory.
 */
struct diag_metrics;
int diag_certcheck_metrics(const struct diag_report *r, const char *directory, struct diag_metrics *m);

struct diag_probe *diag_certcheck_start(struct diag_loop *loop, const struct certcheck_opts *o,
                                        struct diag_report *r, diag_done_cb done, void *arg);
int diag_certcheck_run(const struct certcheck_opts *o, struct diag_report *r);

#endif
