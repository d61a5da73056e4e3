/* SPDX-License-Identifier: ISC */
/*
 * crl.c - CRLs by a bounded DER walk. OpenSSL's d2i_X509_CRL makes an
 * object for every entry (hundreds of bytes each, then a sort on the first
 * lookup): for a mass revocation's CRL of a million entries that is the
 * whole cost. Here the structure is walked in place, OpenSSL decodes only
 * the small parts (issuer, times, extensions), and the signature is checked
 * over the raw TBSCertList bytes, as it was signed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "diag/crl.h"

/* One DER TLV at *p (single-octet tags; definite lengths only). */
struct tlv {
	int tag;
	const unsigned char *start;  /* the tag octet */
	const unsigned char *val;
	size_t len;                  /* of val */
	size_t total;                /* of the whole TLV */
};

static int der_next(const unsigned char **p, const unsigned char *end, struct tlv *t)
{
	const unsigned char *q = *p;
	if (end - q < 2 || (q[0] & 0x1f) == 0x1f)
		return -1;
	t->start = q;
	t->tag = q[0];
	size_t len = q[1];
	q += 2;
	if (len & 0x80) {
		size_t n = len & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return -1;  /* indefinite, or longer than 4 GiB */
		len = 0;
		for (size_t i = 0; i < n; i++)
			len = (len << 8) | q[i];
		q += n;
	}
	if ((size_t)(end - q) < len)
		return -1;
	t->val = q;
	t->len = len;
	t->total = (size_t)(q + len - t->start);
	*p = q + len;
	return 0;
}

static int der_expect(const unsigned char **p, const unsigned char *end, int tag, struct tlv *t)
{
	return der_next(p, end, t) || t->tag != tag ? -1 : 0;
}

static int64_t der_time(const struct tlv *t)
{
	const unsigned char *p = t->start;
	ASN1_TIME *a = d2i_ASN1_TIME(NULL, &p, (long)t->total);
	int64_t v = a ? diag_asn1_time(a) : 0;
	ASN1_TIME_free(a);
	return v;
}

void diag_crl_free(struct diag_crl *c)
{
	free(c->der);
	X509_NAME_free(c->issuer);
	sk_X509_EXTENSION_pop_free(c->exts, X509_EXTENSION_free);
	ISSUING_DIST_POINT_free(c->idp);
	ASN1_OCTET_STRING_free(c->aki);
	ASN1_INTEGER_free(c->number);
	memset(c, 0, sizeof(*c));
}

/* revokedCertificates: each entry SEQUENCE { INTEGER, Time, Extensions OPTIONAL }. */
static int check_entries(struct diag_crl *c)
{
	if (!c->revoked)
		return 0;
	const unsigned char *p = c->revoked, *end = p + c->revoked_len;
	while (p < end) {
		struct tlv e, s, t, x;
		if (der_expect(&p, end, 0x30, &e))
			return -1;
		const unsigned char *q = e.val, *qe = e.val + e.len;
		if (der_expect(&q, qe, 0x02, &s) || s.len == 0 || der_next(&q, qe, &t) ||
		    (t.tag != 0x17 && t.tag != 0x18))
			return -1;
		if (q < qe && (der_expect(&q, qe, 0x30, &x) || q != qe))
			return -1;
		c->entries++;
	}
	return 0;
}

/* crlExtensions: what a client must understand (RFC 5280 5.2). */
static int read_extensions(struct diag_crl *c, const struct tlv *wrap)
{
	const unsigned char *p = wrap->val;
	c->exts = d2i_X509_EXTENSIONS(NULL, &p, (long)wrap->len);
	if (!c->exts || p != wrap->val + wrap->len)
		return -1;
	for (int i = 0; i < sk_X509_EXTENSION_num(c->exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(c->exts, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));
		int crit = X509_EXTENSION_get_critical(e);
		/* an extension given twice makes the CRL malformed (RFC 5280 4.2) */
		if ((nid == NID_issuing_distribution_point && c->idp) || (nid == NID_crl_number && c->number) ||
		    (nid == NID_authority_key_identifier && c->aki))
			return -1;
		if (nid == NID_issuing_distribution_point)
			c->idp = X509V3_EXT_d2i(e);
		else if (nid == NID_delta_crl)
			c->delta = 1;
		else if (nid == NID_crl_number)
			c->number = X509V3_EXT_d2i(e);
		else if (nid == NID_authority_key_identifier) {
			AUTHORITY_KEYID *a = X509V3_EXT_d2i(e);
			if (a && a->keyid)
				c->aki = ASN1_OCTET_STRING_dup(a->keyid);
			AUTHORITY_KEYID_free(a);
		} else if (crit && !c->unknown_critical)
			c->unknown_critical = nid ? nid : -1;
		if (nid == NID_issuing_distribution_point && !c->idp)
			return -1;
	}
	return 0;
}

/* TBSCertList ::= SEQUENCE { version OPTIONAL, signature, issuer, thisUpdate,
 * nextUpdate OPTIONAL, revokedCertificates OPTIONAL, [0] crlExtensions OPTIONAL } */
static const char *parse_tbs(struct diag_crl *c, const struct tlv *tbs)
{
	const unsigned char *p = tbs->val, *end = tbs->val + tbs->len;
	struct tlv t;
	if (der_next(&p, end, &t))
		return "TBSCertList cut short";
	if (t.tag == 0x02) {
		if (t.len != 1 || t.val[0] > 1)
			return "a CRL version other than v1 or v2";
		c->version = t.val[0];
		if (der_next(&p, end, &t))
			return "TBSCertList cut short";
	}
	if (t.tag != 0x30)
		return "no signature algorithm in TBSCertList";
	c->sigalg_inner = t.start;
	c->sigalg_inner_len = t.total;
	if (der_expect(&p, end, 0x30, &t))
		return "no issuer name";
	const unsigned char *n = t.start;
	if (!(c->issuer = d2i_X509_NAME(NULL, &n, (long)t.total)))
		return "an issuer name that does not parse";
	if (der_next(&p, end, &t) || (t.tag != 0x17 && t.tag != 0x18) || !(c->this_update = der_time(&t)))
		return "no valid thisUpdate";
	while (p < end) {
		if (der_next(&p, end, &t))
			return "TBSCertList cut short";
		if ((t.tag == 0x17 || t.tag == 0x18) && !c->next_update && !c->revoked) {
			if (!(c->next_update = der_time(&t)))
				return "a nextUpdate that does not parse";
		} else if (t.tag == 0x30 && !c->revoked) {
			c->revoked = t.val;
			c->revoked_len = t.len;
		} else if (t.tag == 0xa0) {
			if (p != end || read_extensions(c, &t))
				return "crlExtensions that do not parse";
		} else {
			return "an unexpected field in TBSCertList";
		}
	}
	return check_entries(c) ? "a revoked entry that does not parse" : NULL;
}

/* A PEM CRL's DER (malloc'd), or NULL. */
static unsigned char *pem_to_der(const unsigned char *buf, size_t len, size_t *out)
{
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	char *name = NULL, *hdr = NULL;
	unsigned char *data = NULL, *der = NULL;
	long dlen = 0;
	if (b && PEM_read_bio(b, &name, &hdr, &data, &dlen) && !strcmp(name, PEM_STRING_X509_CRL) &&
	    (der = malloc((size_t)dlen + 1))) {
		memcpy(der, data, (size_t)dlen);
		*out = (size_t)dlen;
	}
	OPENSSL_free(name);
	OPENSSL_free(hdr);
	OPENSSL_free(data);
	BIO_free(b);
	ERR_clear_error();
	return der;
}

static int is_pem(const unsigned char *buf, size_t len)
{
	return len > 10 && !memcmp(buf, "-----BEGIN", 10);
}

/* c->der holds the DER: walk it. */
static const char *parse_der(struct diag_crl *c)
{
	const unsigned char *p = c->der, *end = c->der + c->len;
	struct tlv outer, tbs, alg, sig;
	if (der_expect(&p, end, 0x30, &outer) || p != end)
		return "not DER (no CertificateList SEQUENCE spanning the data)";
	p = outer.val;
	end = outer.val + outer.len;
	if (der_expect(&p, end, 0x30, &tbs))
		return "no TBSCertList";
	if (der_expect(&p, end, 0x30, &alg) || der_expect(&p, end, 0x03, &sig) || p != end)
		return "no signature algorithm and value after TBSCertList";
	if (sig.len < 2 || sig.val[0] != 0)
		return "a signature BIT STRING with unused bits";
	c->tbs = tbs.start;
	c->tbslen = tbs.total;
	c->sigalg_outer = alg.start;
	c->sigalg_outer_len = alg.total;
	c->sig = sig.val + 1;
	c->siglen = sig.len - 1;
	return parse_tbs(c, &tbs);
}

int diag_crl_take(unsigned char *buf, size_t len, struct diag_crl *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (len > CRL_MAX_BYTES) {
		snprintf(err, errlen, "larger than %d MiB", CRL_MAX_BYTES >> 20);
		free(buf);
		return -1;
	}
	if (buf && is_pem(buf, len)) {
		c->der = pem_to_der(buf, len, &c->len);
		free(buf);
	} else {
		c->der = buf;
		c->len = len;
	}
	const char *why = c->der ? parse_der(c) : "a PEM file with no X509 CRL block (or out of memory)";
	ERR_clear_error();
	if (why) {
		snprintf(err, errlen, "%s", why);
		diag_crl_free(c);
		return -1;
	}
	return 0;
}

int diag_crl_parse(const unsigned char *buf, size_t len, struct diag_crl *c, char *err, size_t errlen)
{
	unsigned char *copy = len <= CRL_MAX_BYTES ? malloc(len ? len : 1) : NULL;
	if (copy)
		memcpy(copy, buf, len);
	else if (len <= CRL_MAX_BYTES) {
		memset(c, 0, sizeof(*c));
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return diag_crl_take(copy, len, c, err, errlen);
}

int diag_crl_verify(const struct diag_crl *c, EVP_PKEY *key, char *err, size_t errlen)
{
	int ret = -1;
	X509_ALGOR *alg = NULL;
	EVP_MD_CTX *ctx = NULL;
	if (c->sigalg_inner_len != c->sigalg_outer_len ||
	    memcmp(c->sigalg_inner, c->sigalg_outer, c->sigalg_inner_len)) {
		snprintf(err, errlen, "the signature algorithm inside the CRL differs from the one outside");
		goto out;
	}
	const unsigned char *p = c->sigalg_outer;
	int nid, md_nid = NID_undef, pk_nid = NID_undef;
	if (!(alg = d2i_X509_ALGOR(NULL, &p, (long)c->sigalg_outer_len)) ||
	    !OBJ_find_sigid_algs(nid = OBJ_obj2nid(alg->algorithm), &md_nid, &pk_nid) ||
	    nid == NID_rsassaPss) {
		snprintf(err, errlen, "a signature algorithm this tool does not verify");
		goto out;
	}
	const EVP_MD *md = md_nid == NID_undef ? NULL : EVP_get_digestbynid(md_nid);
	if ((md_nid != NID_undef && !md) || !(ctx = EVP_MD_CTX_new()) ||
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) != 1) {
		snprintf(err, errlen, "the issuer's key cannot check this signature algorithm");
		goto out;
	}
	int v = EVP_DigestVerify(ctx, c->sig, c->siglen, c->tbs, c->tbslen);
	if (v == 1) {
		ret = 1;
	} else {
		snprintf(err, errlen, "the signature does not verify with the issuer's key");
		ret = 0;
	}
out:
	ERR_clear_error();
	X509_ALGOR_free(alg);
	EVP_MD_CTX_free(ctx);
	return ret;
}

void diag_crl_walk(const struct diag_crl *c, diag_crl_entry_cb cb, void *arg)
{
	if (!c->revoked)
		return;
	const unsigned char *p = c->revoked, *end = p + c->revoked_len;
	while (p < end) {
		struct tlv e, s;
		if (der_next(&p, end, &e))
			return;  /* checked at parse: not reached */
		const unsigned char *q = e.val;
		if (der_expect(&q, e.val + e.len, 0x02, &s))
			return;
		struct diag_serial k;
		if (diag_serial_from_der(s.val, s.len, &k))
			continue;  /* longer than any serial we hold: cannot match */
		if (cb(arg, &k, e.start, e.total))
			return;
	}
}

int diag_crl_entry(const unsigned char *entry, size_t len, int64_t *when, int *reason)
{
	const unsigned char *p = entry, *end = entry + len;
	struct tlv e, s, t, x;
	*reason = -1;
	if (der_expect(&p, end, 0x30, &e))
		return -1;
	p = e.val;
	end = e.val + e.len;
	if (der_expect(&p, end, 0x02, &s) || der_next(&p, end, &t))
		return -1;
	*when = der_time(&t);
	if (p < end && !der_expect(&p, end, 0x30, &x)) {
		const unsigned char *q = x.start;
		STACK_OF(X509_EXTENSION) *exts = d2i_X509_EXTENSIONS(NULL, &q, (long)x.total);
		ASN1_ENUMERATED *r = exts ? X509V3_get_d2i(exts, NID_crl_reason, NULL, NULL) : NULL;
		if (r)
			*reason = (int)ASN1_ENUMERATED_get(r);
		ASN1_ENUMERATED_free(r);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
		ERR_clear_error();
	}
	return 0;
}

const char *diag_crl_reason_name(int reason)
{
	static const char *names[] = {"unspecified", "keyCompromise", "cACompromise",
		"affiliationChanged", "superseded", "cessationOfOperation", "certificateHold",
		"unused", "removeFromCRL", "privilegeWithdrawn", "aACompromise"};
	if (reason < 0 || reason >= (int)(sizeof(names) / sizeof(names[0])))
		return "unspecified";
	return names[reason];
}

int diag_ocsp_read(const unsigned char *der, size_t len, OCSP_REQUEST *req, OCSP_CERTID *id,
                   X509 *issuer, struct diag_ocsp_answer *a, char *err, size_t errlen)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = len <= INT32_MAX ? d2i_OCSP_RESPONSE(NULL, &p, (long)len) : NULL;
	OCSP_BASICRESP *bs = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509_STORE *store = X509_STORE_new();
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	int st, ret = -1;
	memset(a, 0, sizeof(*a));
	a->status = a->reason = -1;
	if (!resp) {
		snprintf(err, errlen, "the answer is not an OCSP response (%zu bytes)", len);
	} else if ((st = OCSP_response_status(resp)) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(err, errlen, "the responder refused: %s", OCSP_response_status_str(st));
	} else if (!(bs = OCSP_response_get1_basic(resp)) || !chain || !store ||
	           !sk_X509_push(chain, issuer) || !X509_STORE_add_cert(store, issuer)) {
		snprintf(err, errlen, "not a basic OCSP response");
	} else if (X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN),
	           (st = OCSP_check_nonce(req, bs)) == 0) {
		snprintf(err, errlen, "the response's nonce is not ours: a replayed or misrouted answer");
	} else if (a->nonce_checked = st == 1, OCSP_basic_verify(bs, chain, store, 0) <= 0) {
		snprintf(err, errlen, "the response's signature does not verify with the issuer (or a "
		         "responder certificate it delegated to)");
	} else if (!OCSP_resp_find_status(bs, id, &a->status, &a->reason, &rev, &thisupd, &nextupd)) {
		snprintf(err, errlen, "the response says nothing about this certificate");
	} else {
		a->fresh = OCSP_check_validity(thisupd, nextupd, 300, -1);
		a->revoked_at = rev ? diag_asn1_time(rev) : 0;
		a->this_update = diag_asn1_time(thisupd);
		a->next_update = nextupd ? diag_asn1_time(nextupd) : 0;
		ret = 0;
	}
	ERR_clear_error();
	sk_X509_free(chain);
	X509_STORE_free(store);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return ret;
}
