/* SPDX-License-Identifier: ISC */
/*
 * crl.h - certificate revocation lists read as RFC 5280 says a client must
 * check them: parsed from DER (or PEM) by a bounded walk that never builds
 * one object per entry (a CRL of a million entries costs its bytes, not a
 * million allocations), the signature verified over the raw TBSCertList
 * with the issuer's key, the issuing distribution point and the critical
 * extensions read, thisUpdate and nextUpdate kept.
 */
#ifndef DIAG_CRL_H
#define DIAG_CRL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "diag/cert.h"

#define CRL_MAX_BYTES (256 * 1024 * 1024)  /* a CRL larger than this is refused */

struct diag_crl {
	unsigned char *der;          /* the CRL (owned) */
	size_t len;
	const unsigned char *tbs;    /* TBSCertList, tag and length included */
	size_t tbslen;
	const unsigned char *sigalg_inner, *sigalg_outer;  /* AlgorithmIdentifier TLVs */
	size_t sigalg_inner_len, sigalg_outer_len;
	const unsigned char *sig;    /* signature bits (after the unused-bits octet) */
	size_t siglen;
	long version;                /* 0: v1, 1: v2 */
	X509_NAME *issuer;
	int64_t this_update, next_update;  /* seconds; next_update 0: absent */
	const unsigned char *revoked;      /* contents of revokedCertificates; NULL: none */
	size_t revoked_len;
	size_t entries;
	STACK_OF(X509_EXTENSION) *exts;    /* crlExtensions, NULL if none */
	ISSUING_DIST_POINT *idp;           /* NULL if none */
	ASN1_OCTET_STRING *aki;            /* authorityKeyIdentifier keyIdentifier, NULL if none */
	ASN1_INTEGER *number;              /* cRLNumber, NULL if none */
	int delta;                         /* a deltaCRLIndicator is present */
	int unknown_critical;              /* NID (or -1) of a critical extension not understood; 0 none */
};

/*
 * Parse buf (DER, or one PEM "X509 CRL" block). Entries are walked once to
 * check their structure and count them. 0, or -1 with why in err (the CRL
 * is then empty and safe to free).
 */
int diag_crl_parse(const unsigned char *buf, size_t len, struct diag_crl *c, char *err, size_t errlen);
/* The same, taking buf (malloc'd) over: no copy of a CRL of tens of MB.
 * buf is the CRL's, or freed, whatever the outcome. */
int diag_crl_take(unsigned char *buf, size_t len, struct diag_crl *c, char *err, size_t errlen);
void diag_crl_free(struct diag_crl *c);

/*
 * The signature, with the issuer's public key: 1 verifies, 0 does not,
 * -1 could not be checked (an algorithm we do not support, the inner and
 * outer algorithms differ); why in err when not 1.
 */
int diag_crl_verify(const struct diag_crl *c, EVP_PKEY *key, char *err, size_t errlen);

/* One revoked entry: its serial and the entry's DER (for diag_crl_entry). */
typedef int (*diag_crl_entry_cb)(void *arg, const struct diag_serial *s,
                                 const unsigned char *entry, size_t len);
/* Every entry in order; stops when cb returns non-zero. */
void diag_crl_walk(const struct diag_crl *c, diag_crl_entry_cb cb, void *arg);

/* An entry's revocation date and reasonCode (-1: none given). 0 or -1. */
int diag_crl_entry(const unsigned char *entry, size_t len, int64_t *when, int *reason);
/* RFC 5280 reason names: "keyCompromise"...; "unspecified" for unknown codes. */
const char *diag_crl_reason_name(int reason);

/* ---- OCSP responses ---- */

struct diag_ocsp_answer {
	int status;              /* V_OCSP_CERTSTATUS_GOOD, _REVOKED, _UNKNOWN */
	int reason;              /* when revoked; -1: none given */
	int64_t revoked_at, this_update, next_update;   /* seconds; 0: absent */
	int fresh;               /* inside thisUpdate/nextUpdate (5 minutes of leeway) */
	int nonce_checked;       /* our nonce came back (0: the responder echoes none) */
};

/*
 * Read an OCSP response (DER, len bytes) to request req about id, issued
 * by issuer: successful, basic, our nonce if it carries one, signed by the
 * issuer or a responder certificate it delegated to, an answer for id.
 * 0 with the answer, or -1 with why in err.
 */
int diag_ocsp_read(const unsigned char *der, size_t len, OCSP_REQUEST *req, OCSP_CERTID *id,
                   X509 *issuer, struct diag_ocsp_answer *a, char *err, size_t errlen);

#endif
