/* SPDX-License-Identifier: ISC */
/*
 * cert.h - certificates and serial numbers as input: PEM and DER files,
 * bundles, directories (certbot's live/ and archive/), Kubernetes TLS
 * Secrets, served chains; serials compared as integers whatever their
 * spelling; a hash set of serials and a one-pass scan of published lists.
 *
 * Every input is hostile: a file is read up to CERT_MAX_FILE bytes, a
 * directory walk has a depth and a file count, a list line is cut at
 * SERIAL_LINE_KEEP bytes, and a bad block is named, never fatal to the rest.
 */
#ifndef DIAG_CERT_H
#define DIAG_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "diag/finding.h"

/* ---- serial numbers ---- */

#define SERIAL_BYTES 32   /* RFC 5280 allows 20 octets; hostile ones get room */

/* An integer: sign and big-endian magnitude, left-padded with zeros, so
 * that memcmp compares values. */
struct diag_serial {
	unsigned char neg;
	unsigned char b[SERIAL_BYTES];
};

/*
 * Text to serial: hex digits, upper or lower case, with or without colons
 * or spaces between bytes, leading zeros and a 0x prefix allowed
 * ("0ABC", "0a:bc", "abc", "0x0ABC" are one value). 0, or -1 when s is not
 * such a number or has more than SERIAL_BYTES significant bytes.
 */
int diag_serial_parse(const char *s, size_t len, struct diag_serial *out);
/* The content octets of a DER INTEGER (two's complement). 0 or -1. */
int diag_serial_from_der(const unsigned char *p, size_t len, struct diag_serial *out);
int diag_serial_from_asn1(const ASN1_INTEGER *a, struct diag_serial *out);
/* Uppercase hex, whole bytes, as `openssl x509 -serial` prints it ("0ABC");
 * "-" first when negative. out of at least 2 * SERIAL_BYTES + 2 bytes. */
void diag_serial_hex(const struct diag_serial *s, char *out, size_t len);

/* A hash set of serials, each with the caller's index; one serial may
 * carry several indexes (the same serial from two issuers). */
struct diag_serial_set;
struct diag_serial_set *diag_serial_set_new(size_t expect);
void diag_serial_set_free(struct diag_serial_set *s);
/* 0, or -1 when out of memory. */
int diag_serial_set_add(struct diag_serial_set *s, const struct diag_serial *k, size_t idx);
size_t diag_serial_set_count(const struct diag_serial_set *s);
/*
 * The indexes stored under k: *it 0 to start; returns 1 and sets *idx
 * for each, then 0.
 */
int diag_serial_set_next(const struct diag_serial_set *s, const struct diag_serial *k,
                         size_t *it, size_t *idx);

/* ---- published serial lists ---- */

#define SERIAL_LINE_KEEP 4096  /* bytes of a line kept: the serial and its context */

struct diag_list_stats {
	uint64_t lines, serials, malformed, long_lines;
	uint64_t first_malformed;     /* line number, 0 if none */
	uint64_t bytes;
};

/* A list line that matched: idx as stored in the set, the line (cut at
 * SERIAL_LINE_KEEP bytes, not NUL-terminated). Return non-zero to stop. */
typedef int (*diag_list_match_cb)(void *arg, size_t idx, uint64_t lineno,
                                  const char *line, size_t len);

/*
 * Stream the list on fd once, to its end: every line's first token is a
 * serial (a leading "serial " word, as in Let's Encrypt's incident files,
 * is skipped; blank lines and lines starting with '#' are passed over;
 * tokens end at a blank, ',' or ';'); each serial found in set calls cb.
 * Lines of any length cost SERIAL_LINE_KEEP bytes of memory. Returns 0,
 * or -1 on a read error (errno's text in err).
 */
int diag_serial_list_scan(int fd, const struct diag_serial_set *set, diag_list_match_cb cb,
                          void *arg, struct diag_list_stats *st, char *err, size_t errlen);
/* The same over a buffer (unit tests, fuzzing). */
int diag_serial_list_scan_buf(const char *buf, size_t len, const struct diag_serial_set *set,
                              diag_list_match_cb cb, void *arg, struct diag_list_stats *st);

/* Every serial of a list (the lines as diag_serial_list_scan reads them),
 * to cb with its line; non-zero from cb stops. 0, or -1 (err). */
typedef int (*diag_list_serial_cb)(void *arg, const struct diag_serial *s, uint64_t lineno,
                                   const char *line, size_t len);
int diag_serial_list_each(int fd, diag_list_serial_cb cb, void *arg, struct diag_list_stats *st,
                          char *err, size_t errlen);
int diag_serial_list_each_buf(const char *buf, size_t len, diag_list_serial_cb cb, void *arg,
                              struct diag_list_stats *st);

/* ---- certificates ---- */

#define CERT_MAX_FILE (4 * 1024 * 1024)   /* a certificate file, bundle or Secret list */
#define CERT_MAX_FILES 10000              /* files read from directories, per run */
#define CERT_MAX_DEPTH 4                  /* directory levels below a given directory */
#define CERT_MAX_PER_INPUT 64             /* certificates read from one file */

struct diag_cert {
	X509 *x;
	char *source;     /* "path", "path#2", "Secret ns/name", "host:443 192.0.2.1" */
	size_t group;     /* certificates of one input (file, Secret, served chain) */
	int leaf;         /* to check: not the issuer of another certificate of its group */
};

struct diag_certs {
	struct diag_cert *v;
	size_t n, cap;
	size_t groups;
	size_t files;     /* files read from directories so far (CERT_MAX_FILES) */
};

void diag_certs_free(struct diag_certs *c);
/*
 * Every certificate in buf (PEM blocks of any number, other PEM blocks such
 * as keys skipped unread; or one DER certificate; or DER PKCS#7 certs-only,
 * as AIA caIssuers may serve), as one group named source. Returns how many
 * were added, 0 when buf holds none (why in err, from OpenSSL's reason
 * codes), -1 when out of memory.
 */
int diag_certs_add_buf(struct diag_certs *c, const unsigned char *buf, size_t len,
                       const char *source, char *err, size_t errlen);
/*
 * A file, or a directory walked (symbolic links followed, as in certbot's
 * live/; files that hold no certificate, such as privkey.pem or README,
 * passed over). What could not be read becomes a cert.input error finding
 * in r. Returns how many certificates were added, -1 when out of memory.
 */
long diag_certs_add_path(struct diag_certs *c, const char *path, struct diag_report *r);
/*
 * Kubernetes Secrets (kubectl get secrets -o json: a List or one Secret):
 * tls.crt of each Secret of type kubernetes.io/tls, one group per Secret,
 * named "Secret namespace/name". Problems become cert.input findings in r.
 * Returns how many certificates were added, -1 when out of memory.
 */
long diag_certs_add_k8s(struct diag_certs *c, const json_t *doc, struct diag_report *r);
/* Mark the leaves of each group (call after adding). */
void diag_certs_mark_leaves(struct diag_certs *c);

/* ---- certificate facts ---- */

/* Seconds since the epoch of an ASN1_TIME; 0 when it does not parse. */
int64_t diag_asn1_time(const ASN1_TIME *t);
/* RFC 3339 UTC of a time in seconds ("2026-11-30T15:29:17Z"). */
void diag_time_str(int64_t t, char *out, size_t len);
/* SHA-256 of the DER, hex lowercase (65 bytes). */
void diag_cert_sha256(X509 *x, char out[65]);
/* The one-line subject or issuer ("CN=example.com, O=..."), malloc'd. */
char *diag_name_str(const X509_NAME *n);
/* Was x signed by the key of issuer (and does issuer's subject name x's issuer)? */
int diag_cert_issued_by(X509 *x, X509 *issuer);
/* The first URI of the CRL distribution points, AIA OCSP and caIssuers; NULL if none. */
char *diag_cert_crl_url(X509 *x);
char *diag_cert_ocsp_url(X509 *x);
char *diag_cert_ca_issuers_url(X509 *x);
/* Does x carry the CRL distribution point URI url (exact match)? */
int diag_cert_has_crl_url(X509 *x, const char *url);
/* Evidence common to findings about a certificate: subject, issuer, serial,
 * not_before, not_after, sha256. A new reference. */
json_t *diag_cert_json(X509 *x);

#endif
