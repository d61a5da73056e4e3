/* SPDX-License-Identifier: ISC */
/*
 * tlsalpn_cert.c - a TLS-ALPN-01 challenge certificate judged as the CA
 * judges it (RFC 8737 section 3; Boulder's va/tlsalpn.go, Pebble's
 * va/va.go), check by check in the CA's order, worded as the CA words it.
 *
 * The certificate is hostile input: it is parsed with OpenSSL's DER
 * decoder, the acmeIdentifier value with a strict DER reading of our own
 * (Go's encoding/asn1 refuses indefinite and non-minimal lengths).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "diag/tlsalpn.h"
#include "sbuf.h"
#include "grow.h"

#define SAN_OID "2.5.29.17"
#define PREFIX "Incorrect validation certificate for tls-alpn-01 challenge. "
#define MAX_NAMES 256   /* names read from one certificate (for the message) */

int diag_tlsalpn_digest(const char *key_authorization, unsigned char out[32])
{
	unsigned int len = 0;
	if (!EVP_Digest(key_authorization, strlen(key_authorization), out, &len, EVP_sha256(), NULL) ||
	    len != 32)
		return -1;
	return 0;
}

void diag_tlsalpn_cert_free(struct tlsalpn_cert *c)
{
	if (!c)
		return;
	free(c->why);
	free(c->names);
	free(c->subject);
	free(c->issuer);
	c->why = c->names = c->subject = c->issuer = NULL;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* s quoted as Go's %q quotes it: "...", with \" \\ and control bytes escaped. */
static void go_quote(struct sbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_printf(b, "\\%c", *p);
		else if (*p == '\n')
			sb_printf(b, "\\n");
		else if (*p == '\t')
			sb_printf(b, "\\t");
		else if (*p == '\r')
			sb_printf(b, "\\r");
		else if (*p < 0x20 || *p == 0x7f)
			sb_printf(b, "\\x%02x", *p);
		else
			sb_printf(b, "%c", *p);
	}
	sb_printf(b, "\"");
}

/* ---- reading the certificate ---- */

/* A DER OCTET STRING at p (n bytes), as Go's asn1.Unmarshal reads one:
 * tag 0x04, a definite minimal length, the content inside n. Its content
 * and the bytes left after it; -1 if it is not one. */
static int der_octet_string(const unsigned char *p, size_t n, const unsigned char **content,
                            size_t *clen, size_t *rest)
{
	if (n < 2 || p[0] != 0x04)
		return -1;
	size_t len = p[1], off = 2;
	if (len & 0x80) {
		size_t nb = len & 0x7f;
		if (nb == 0 || nb > sizeof(size_t) - 1 || n < 2 + nb || p[2] == 0)
			return -1;  /* indefinite, too long, or a leading zero byte */
		len = 0;
		for (size_t i = 0; i < nb; i++)
			len = len << 8 | p[2 + i];
		if (len < 0x80)
			return -1;  /* the short form was due */
		off = 2 + nb;
	}
	if (len > n - off)
		return -1;
	*content = p + off;
	*clen = len;
	*rest = n - off - len;
	return 0;
}

/* The DER of a subjectAltName holding the single dNSName name: what
 * Boulder requires the extension's bytes to be. Length in *len; malloc'd. */
static unsigned char *san_der(const char *name, size_t *len)
{
	size_t n = strlen(name);
	size_t inner_hdr = n < 0x80 ? 2 : n < 0x100 ? 3 : 4;
	size_t inner = inner_hdr + n;
	size_t outer_hdr = inner < 0x80 ? 2 : inner < 0x100 ? 3 : 4;
	if (n > 0xffff || inner > 0xffff)
		return NULL;
	unsigned char *d = malloc(outer_hdr + inner), *p = d;
	if (!d)
		return NULL;
	size_t lens[2] = {inner, n};
	unsigned char tags[2] = {0x30, 0x82};  /* SEQUENCE, [2] IMPLICIT IA5String */
	for (int k = 0; k < 2; k++) {
		*p++ = tags[k];
		if (lens[k] < 0x80) {
			*p++ = (unsigned char)lens[k];
		} else if (lens[k] < 0x100) {
			*p++ = 0x81;
			*p++ = (unsigned char)lens[k];
		} else {
			*p++ = 0x82;
			*p++ = (unsigned char)(lens[k] >> 8);
			*p++ = (unsigned char)lens[k];
		}
	}
	memcpy(p, name, n);
	*len = outer_hdr + inner;
	return d;
}

static char *name_line(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;
	if (b && X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
		char *data;
		long len = BIO_get_mem_data(b, &data);
		if (len >= 0)
			out = diag_utf8_clean(data, (size_t)len);
	}
	BIO_free(b);
	return out;
}

/* An ASN1 string's bytes as a C string (NULs shown as \x00 later). */
static char *asn1_text(const ASN1_STRING *s)
{
	return diag_utf8_clean((const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
}

/* The names of a subjectAltName, in its order (the first MAX_NAMES). */
struct names {
	char *v[MAX_NAMES];
	unsigned char is_dns[MAX_NAMES];
	size_t n;
	size_t dns, ip;         /* how many dNSNames and iPAddresses, all of them */
	char *first_dns;        /* a copy of the first dNSName */
	int oom;
};

static void names_add(struct names *nm, char *s, int is_dns)
{
	if (!s) {
		nm->oom = 1;
		return;
	}
	if (is_dns && !nm->dns++ && !(nm->first_dns = diag_strdup(s)))
		nm->oom = 1;
	if (nm->n == MAX_NAMES) {
		free(s);
		return;
	}
	nm->is_dns[nm->n] = (unsigned char)is_dns;
	nm->v[nm->n++] = s;
}

static void names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->first_dns);
}

/* The last commonName of the subject, as Go keeps it; NULL if none. */
static char *common_name(X509 *x)
{
	const X509_NAME *subj = X509_get_subject_name(x);
	int i = -1, last = -1;
	while ((i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0)
		last = i;
	if (last < 0)
		return NULL;
	return asn1_text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, last)));
}

/* The names of one subjectAltName. -1 when it does not parse. */
static int san_names(const ASN1_OCTET_STRING *val, struct names *nm)
{
	const unsigned char *p = ASN1_STRING_get0_data(val);
	GENERAL_NAMES *gens = d2i_GENERAL_NAMES(NULL, &p, ASN1_STRING_length(val));
	if (!gens)
		return -1;
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		int type;
		const ASN1_STRING *s = GENERAL_NAME_get0_value(g, &type);
		char ip[INET6_ADDRSTRLEN];
		switch (type) {
		case GEN_DNS:
			names_add(nm, asn1_text(s), 1);
			break;
		case GEN_EMAIL:
		case GEN_URI:
			names_add(nm, asn1_text(s), 0);
			break;
		case GEN_IPADD:
			nm->ip++;
			if (ASN1_STRING_length(s) == 4 || ASN1_STRING_length(s) == 16) {
				inet_ntop(ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6,
				          ASN1_STRING_get0_data(s), ip, sizeof(ip));
				names_add(nm, diag_strdup(ip), 0);
			}
			break;
		default:
			break;
		}
	}
	GENERAL_NAMES_free(gens);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Boulder's list of a certificate's names: lowercased, sorted, unique. */
static char *boulder_names(struct names *nm, const char *cn)
{
	const char *v[MAX_NAMES + 1];
	size_t n = 0;
	if (cn && *cn)
		v[n++] = cn;
	for (size_t i = 0; i < nm->n; i++)
		v[n++] = nm->v[i];
	char *low[MAX_NAMES + 1];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(low[k] = diag_strdup(v[i])))
			continue;
		for (char *c = low[k]; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		k++;
	}
	diag_sort(low, k, sizeof(*low), cmp_str);
	struct sbuf b = {0};
	sb_printf(&b, "%s", "");
	for (size_t i = 0, out = 0; i < k; i++) {
		if (!i || strcmp(low[i], low[i - 1]))
			sb_printf(&b, "%s%s", out++ ? ", " : "", low[i]);
	}
	for (size_t i = 0; i < k; i++)
		free(low[i]);
	return sb_take(&b);
}

/* Pebble's: the CN, then the dNSNames, as they are. */
static char *pebble_names(const struct names *nm, const char *cn)
{
	struct sbuf b = {0};
	const char *sep = "";
	sb_printf(&b, "%s", "");
	if (cn && *cn) {
		sb_printf(&b, "%s", cn);
		sep = ", ";
	}
	for (size_t i = 0; i < nm->n; i++)
		if (nm->is_dns[i]) {
			sb_printf(&b, "%s%s", sep, nm->v[i]);
			sep = ", ";
		}
	return sb_take(&b);
}

/* ---- the checks ---- */

struct ext_info {
	int nexts;
	char dup[128];                   /* the first OID seen twice, or "" */
	int has_san, has_acme;
	const X509_EXTENSION *san;       /* the last subjectAltName (Go keeps the last) */
	const X509_EXTENSION *acme;      /* the first acmeIdentifier (Boulder uses it) */
	const X509_EXTENSION *acme_crit; /* the first critical one (Pebble's) */
};

static void read_extensions(X509 *x, struct ext_info *e)
{
	memset(e, 0, sizeof(*e));
	e->nexts = X509_get_ext_count(x);
	for (int i = 0; i < e->nexts; i++) {
		const X509_EXTENSION *ext = X509_get_ext(x, i);
		const ASN1_OBJECT *obj = X509_EXTENSION_get_object((X509_EXTENSION *)ext);
		char oid[128];
		OBJ_obj2txt(oid, sizeof(oid), obj, 1);
		for (int k = 0; k < i && !e->dup[0]; k++)
			if (!OBJ_cmp(obj, X509_EXTENSION_get_object(X509_get_ext(x, k))))
				snprintf(e->dup, sizeof(e->dup), "%s", oid);
		if (!strcmp(oid, SAN_OID)) {
			e->has_san = 1;
			e->san = ext;
		} else if (!strcmp(oid, TLSALPN_OID)) {
			if (!e->acme)
				e->acme = ext;
			if (!e->acme_crit && X509_EXTENSION_get_critical(ext) > 0)
				e->acme_crit = ext;
			e->has_acme = 1;
		}
	}
}

/* Does the subjectAltName's DER equal that of the single dNSName domain? */
static int san_bytes_match(const X509_EXTENSION *san, const char *domain)
{
	size_t len;
	unsigned char *want = san_der(domain, &len);
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data((X509_EXTENSION *)san);
	int ok = want && (size_t)ASN1_STRING_length(v) == len &&
	         !memcmp(ASN1_STRING_get0_data(v), want, len);
	free(want);
	return ok;
}

static int fail_with(struct tlsalpn_cert *out, enum tlsalpn_cert_check check, struct sbuf *b)
{
	out->check = check;
	out->why = sb_take(b);
	return out->why ? 0 : -1;
}

/* Boulder's order (validateTLSALPN01, after the ALPN check). */
static int boulder_checks(const struct tlsalpn_cert_query *q, struct tlsalpn_cert *out,
                          const struct ext_info *e, const struct names *nm)
{
	struct sbuf b = {0};
	sb_printf(&b, PREFIX "Requested %s from %s. ", q->domain, q->from);
	if (!out->self_signed) {
		sb_printf(&b, "Received certificate which is not self-signed.");
		return fail_with(out, TLSALPN_CERT_NOT_SELF_SIGNED, &b);
	}
	char inner[200] = "";
	if (e->dup[0])
		snprintf(inner, sizeof(inner), "Extension OID %s seen twice", e->dup);
	else if (!e->has_acme)
		snprintf(inner, sizeof(inner), "Required extension OID %s is not present", TLSALPN_OID);
	else if (!e->has_san)
		snprintf(inner, sizeof(inner), "Required extension OID %s is not present", SAN_OID);
	if (inner[0]) {
		sb_printf(&b, "Received certificate with unexpected extensions: ");
		go_quote(&b, inner);
		return fail_with(out, TLSALPN_CERT_EXTENSIONS, &b);
	}
	const char *bad = NULL;
	if (nm->dns != 1 || nm->ip != 0)
		bad = "wrong number of identifiers";
	else if (!nm->first_dns || strcasecmp(nm->first_dns, q->domain))
		bad = "identifier does not match expected identifier";
	else if (!san_bytes_match(e->san, q->domain))
		bad = "SAN extension does not match expected bytes";
	if (bad) {
		sb_printf(&b, "Received certificate with unexpected identifiers (");
		go_quote(&b, out->names ? out->names : "");
		sb_printf(&b, "): ");
		go_quote(&b, bad);
		return fail_with(out, TLSALPN_CERT_IDENTIFIERS, &b);
	}
	if (!out->acme_critical) {
		sb_printf(&b, "Received certificate with acmeValidationV1 extension that is not Critical.");
		return fail_with(out, TLSALPN_CERT_NOT_CRITICAL, &b);
	}
	if (!out->value_ok) {
		sb_printf(&b, "Received certificate with malformed acmeValidationV1 extension value.");
		return fail_with(out, TLSALPN_CERT_MALFORMED, &b);
	}
	if (q->expected && memcmp(out->value, q->expected, 32)) {
		char got[65], want[65];
		hex(out->value, 32, got);
		hex(q->expected, 32, want);
		sb_printf(&b, "Received certificate with acmeValidationV1 extension value %s but "
		          "expected %s.", got, want);
		return fail_with(out, TLSALPN_CERT_VALUE, &b);
	}
	free(sb_take(&b));
	return 0;
}

/* Pebble's order: the names, then the first critical acmeIdentifier. */
static int pebble_checks(const struct tlsalpn_cert_query *q, struct tlsalpn_cert *out,
                         const struct ext_info *e, const struct names *nm, const char *cn)
{
	struct sbuf b = {0};
	sb_printf(&b, PREFIX);
	if (nm->dns != 1 || !nm->first_dns || strcasecmp(nm->first_dns, q->domain)) {
		char *names = pebble_names(nm, cn);
		const char *colon = strrchr(q->from, ':');
		sb_printf(&b, "Requested {dns %s} from %s:%s. Received %d certificate(s), first "
		          "certificate had names ", q->domain, q->domain, colon ? colon + 1 : "443",
		          q->ncerts);
		go_quote(&b, names ? names : "");
		free(names);
		return fail_with(out, TLSALPN_CERT_IDENTIFIERS, &b);
	}
	if (!e->acme_crit) {
		sb_printf(&b, "Missing acmeValidationV1 extension.");
		return fail_with(out, TLSALPN_CERT_MISSING, &b);
	}
	/* Pebble reads the first critical acmeIdentifier, with trailing data
	 * allowed, and compares whatever length it holds */
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data((X509_EXTENSION *)e->acme_crit);
	const unsigned char *content;
	size_t clen, rest;
	if (der_octet_string(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), &content,
	                     &clen, &rest)) {
		sb_printf(&b, "Malformed acmeValidation extension value.");
		return fail_with(out, TLSALPN_CERT_MALFORMED, &b);
	}
	if (q->expected && (clen != 32 || memcmp(content, q->expected, 32))) {
		sb_printf(&b, "Invalid acmeValidation extension value.");
		return fail_with(out, TLSALPN_CERT_VALUE, &b);
	}
	free(sb_take(&b));
	return 0;
}

/* The value of acmeIdentifier ext, when it is a 32-byte OCTET STRING
 * with nothing after it (Boulder's rule). */
static void read_value(const X509_EXTENSION *ext, struct tlsalpn_cert *out)
{
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data((X509_EXTENSION *)ext);
	const unsigned char *content;
	size_t clen, rest;
	if (!der_octet_string(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), &content,
	                      &clen, &rest) && clen == 32 && rest == 0) {
		memcpy(out->value, content, 32);
		out->value_ok = 1;
	}
}

static int is_self_signed(X509 *x)
{
	const X509_NAME *s = X509_get_subject_name(x), *i = X509_get_issuer_name(x);
	const unsigned char *sd, *id;
	size_t sl, il;
	if (X509_NAME_get0_der((X509_NAME *)s, &sd, &sl) != 1 ||
	    X509_NAME_get0_der((X509_NAME *)i, &id, &il) != 1 || sl != il || memcmp(sd, id, sl))
		return 0;
	EVP_PKEY *k = X509_get0_pubkey(x);
	int ok = k && X509_verify(x, k) == 1;
	ERR_clear_error();
	return ok;
}

/* What does not parse as DER: Go's TLS client refuses such a certificate
 * during the handshake. 0, or -1 when out of memory. */
static int unparsable(struct tlsalpn_cert *out, const char *what)
{
	ERR_clear_error();
	out->check = TLSALPN_CERT_UNPARSABLE;
	out->why = diag_asprintf("%s does not parse as DER (the CA's TLS client refuses the "
	                         "certificate during the handshake)", what);
	return out->why ? 0 : -1;
}

int diag_tlsalpn_cert_check(const unsigned char *der, size_t len,
                            const struct tlsalpn_cert_query *q, struct tlsalpn_cert *out)
{
	memset(out, 0, sizeof(*out));
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) && mdlen == 32)
		hex(md, 32, out->sha256);
	const unsigned char *p = der;
	X509 *x = len <= 0x7fffffff ? d2i_X509(NULL, &p, (long)len) : NULL;
	struct names nm = {0};
	char *cn = NULL;
	int ret = -1;
	if (!x || p != der + len) {
		ret = unparsable(out, "the certificate");
		goto out;
	}
	out->subject = name_line(X509_get_subject_name(x));
	out->issuer = name_line(X509_get_issuer_name(x));
	out->self_signed = is_self_signed(x);
	struct ext_info e;
	read_extensions(x, &e);
	if (e.san && san_names(X509_EXTENSION_get_data((X509_EXTENSION *)e.san), &nm)) {
		ret = unparsable(out, "the subjectAltName extension");
		goto out;
	}
	cn = common_name(x);
	out->names = boulder_names(&nm, cn);
	const X509_EXTENSION *acme = q->profile == HTTP01_PEBBLE ? e.acme_crit : e.acme;
	out->acme_ext = e.has_acme;
	out->acme_critical = acme && X509_EXTENSION_get_critical(acme) > 0;
	if (acme)
		read_value(acme, out);
	if (nm.oom || !out->names || !out->subject || !out->issuer)
		goto out;
	ret = q->profile == HTTP01_PEBBLE ? pebble_checks(q, out, &e, &nm, cn)
	                                  : boulder_checks(q, out, &e, &nm);
out:
	names_free(&nm);
	free(cn);
	X509_free(x);
	return ret;
}
