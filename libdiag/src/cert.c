/* SPDX-License-Identifier: ISC */
/*
 * cert.c - certificates as input (PEM, DER, PKCS#7, bundles, directories,
 * Kubernetes Secrets) and the facts the revocation and deployment checks
 * read from them. Errors are told apart by OpenSSL's reason codes, never
 * by the text of a message.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "diag/cert.h"
#include "grow.h"

void diag_certs_free(struct diag_certs *c)
{
	for (size_t i = 0; i < c->n; i++) {
		X509_free(c->v[i].x);
		free(c->v[i].source);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static int push(struct diag_certs *c, X509 *x, const char *source, size_t nth)
{
	if (diag_grow((void **)&c->v, &c->cap, c->n + 1, sizeof(*c->v)))
		return -1;
	char *s = nth > 1 ? diag_asprintf("%s#%zu", source, nth) : diag_strdup(source);
	if (!s)
		return -1;
	c->v[c->n++] = (struct diag_cert){ .x = x, .source = s, .group = c->groups };
	return 0;
}

/* Why OpenSSL refused, from the reason code of its last error. */
static const char *ossl_why(void)
{
	unsigned long e = ERR_peek_last_error();
	int lib = ERR_GET_LIB(e), reason = ERR_GET_REASON(e);
	if (lib == ERR_LIB_PEM) {
		switch (reason) {
		case PEM_R_BAD_BASE64_DECODE: return "bad base64 inside a PEM block";
		case PEM_R_BAD_END_LINE: return "a PEM block with no proper END line";
		case PEM_R_SHORT_HEADER: return "a PEM header cut short";
		case PEM_R_NO_START_LINE: return "no PEM block";
		}
	}
	if (lib == ERR_LIB_ASN1) {
		switch (reason) {
		case ASN1_R_HEADER_TOO_LONG:
		case ASN1_R_TOO_LONG: return "DER cut short";
		case ASN1_R_WRONG_TAG: return "DER that is not a certificate";
		case ASN1_R_NESTED_TOO_DEEP: return "DER nested too deep";
		}
		return "malformed DER";
	}
	if (lib == ERR_LIB_X509 || lib == ERR_LIB_X509V3)
		return "a certificate OpenSSL refuses";
	return e ? "not a certificate" : "no certificate";
}

static int pem_is_cert(const char *name)
{
	return !strcmp(name, PEM_STRING_X509) || !strcmp(name, PEM_STRING_X509_OLD) ||
	       !strcmp(name, PEM_STRING_X509_TRUSTED);
}

/* PEM: every CERTIFICATE block; other blocks (keys, CRLs) are skipped
 * without being decoded further. Returns certificates added or -1. */
static int add_pem(struct diag_certs *c, const unsigned char *buf, size_t len, const char *source,
                   char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	int added = 0, blocks = 0;
	if (!b)
		return -1;
	while (added < CERT_MAX_PER_INPUT && blocks < 4 * CERT_MAX_PER_INPUT) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long dlen = 0;
		ERR_clear_error();
		if (!PEM_read_bio(b, &name, &header, &data, &dlen)) {
			unsigned long e = ERR_peek_last_error();
			if (!(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) &&
			    !added)
				snprintf(err, errlen, "PEM block %d: %s", blocks + 1, ossl_why());
			break;
		}
		blocks++;
		if (pem_is_cert(name)) {
			const unsigned char *p = data;
			X509 *x = d2i_X509(NULL, &p, dlen);
			if (!x || p != data + dlen) {
				snprintf(err, errlen, "PEM block %d: %s", blocks, x ? "trailing bytes after the certificate" : ossl_why());
				X509_free(x);
			} else if (push(c, x, source, (size_t)added + 1)) {
				X509_free(x);
				added = -1;
			} else {
				added++;
			}
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (added < 0)
			break;
	}
	BIO_free(b);
	if (added == 0 && !err[0])
		snprintf(err, errlen, "no certificate among %d PEM block%s", blocks, blocks == 1 ? "" : "s");
	return added;
}

/* DER: one certificate, or PKCS#7 certs-only. */
static int add_der(struct diag_certs *c, const unsigned char *buf, size_t len, const char *source,
                   char *err, size_t errlen)
{
	const unsigned char *p = buf;
	ERR_clear_error();
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (x && p == buf + len) {
		if (push(c, x, source, 1)) {
			X509_free(x);
			return -1;
		}
		return 1;
	}
	X509_free(x);
	p = buf;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	STACK_OF(X509) *certs = p7 && PKCS7_type_is_signed(p7) && p7->d.sign ? p7->d.sign->cert : NULL;
	int added = 0;
	for (int i = 0; certs && i < sk_X509_num(certs) && added < CERT_MAX_PER_INPUT; i++) {
		X509 *y = X509_dup(sk_X509_value(certs, i));
		if (!y || push(c, y, source, (size_t)added + 1)) {
			X509_free(y);
			added = -1;
			break;
		}
		added++;
	}
	if (!p7)
		snprintf(err, errlen, "%s", ossl_why());
	else if (!added)
		snprintf(err, errlen, "a PKCS#7 structure with no certificate");
	PKCS7_free(p7);
	return added;
}

static int looks_pem(const unsigned char *buf, size_t len)
{
	static const char tag[] = "-----BEGIN ";
	for (size_t i = 0; i + sizeof(tag) - 1 <= len; i++)
		if (buf[i] == '-' && !memcmp(buf + i, tag, sizeof(tag) - 1))
			return 1;
	return 0;
}

int diag_certs_add_buf(struct diag_certs *c, const unsigned char *buf, size_t len,
                       const char *source, char *err, size_t errlen)
{
	err[0] = '\0';
	if (!len) {
		snprintf(err, errlen, "empty");
		return 0;
	}
	if (len > INT32_MAX) {
		snprintf(err, errlen, "too large");
		return 0;
	}
	int n = looks_pem(buf, len) ? add_pem(c, buf, len, source, err, errlen)
	                            : add_der(c, buf, len, source, err, errlen);
	ERR_clear_error();
	if (n > 0)
		c->groups++;
	return n;
}

/* Read a whole regular file of at most CERT_MAX_FILE bytes; *special
 * says whether it failed for not being one (a FIFO, a device, a socket). */
static unsigned char *read_file(const char *path, size_t *len, int *special, char *err, size_t errlen)
{
	*special = 0;
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	unsigned char *buf = NULL;
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*special = 1;
		snprintf(err, errlen, "not a regular file");
		goto out;
	}
	if (st.st_size > CERT_MAX_FILE) {
		snprintf(err, errlen, "larger than %d MiB: not a certificate file", CERT_MAX_FILE >> 20);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	size_t n = 0;
	while (buf && n < (size_t)st.st_size) {
		ssize_t got = read(fd, buf + n, (size_t)st.st_size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			snprintf(err, errlen, "%s", got < 0 ? strerror(errno) : "file shrank while read");
			free(buf);
			buf = NULL;
			break;
		}
		n += (size_t)got;
	}
	if (buf)
		*len = n;
	else if (!err[0])
		snprintf(err, errlen, "out of memory");
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

static void input_error(struct diag_report *r, const char *what, const char *why)
{
	struct diag_finding *f = diag_add(r, DIAG_ERROR, "cert.input", what, "%s: %s", what, why);
	diag_set_hint(f, "Give PEM or DER certificates (a bundle, certbot's live/ or archive/ "
	              "directory, or kubectl's Secrets as JSON).");
}

static long add_file(struct diag_certs *c, const char *path, struct diag_report *r, int named)
{
	char err[256] = "";
	size_t len = 0;
	int special;
	unsigned char *buf = read_file(path, &len, &special, err, sizeof(err));
	if (!buf) {
		if (named || !special)
			input_error(r, path, err);
		return 0;
	}
	int n = diag_certs_add_buf(c, buf, len, path, err, sizeof(err));
	free(buf);
	if (n == 0 && named)
		input_error(r, path, err);
	return n;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static long walk(struct diag_certs *c, const char *dir, int depth, struct diag_report *r)
{
	DIR *d = opendir(dir);
	if (!d) {
		input_error(r, dir, strerror(errno));
		return 0;
	}
	/* sorted, so that a run's order does not depend on the file system */
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	long total = 0;
	while ((e = readdir(d)) && n < CERT_MAX_FILES) {
		if (e->d_name[0] == '.')
			continue;
		if (diag_grow((void **)&names, &cap, n + 1, sizeof(*names)) ||
		    !(names[n] = diag_strdup(e->d_name))) {
			total = -1;
			break;
		}
		n++;
	}
	closedir(d);
	diag_sort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char *p = total >= 0 ? diag_asprintf("%s/%s", dir, names[i]) : NULL;
		struct stat st;
		if (p && !stat(p, &st)) {
			long k = 0;
			if (S_ISDIR(st.st_mode) && depth < CERT_MAX_DEPTH)
				k = walk(c, p, depth + 1, r);
			else if (S_ISREG(st.st_mode) && c->files++ < CERT_MAX_FILES)
				k = add_file(c, p, r, 0);
			total = k < 0 ? -1 : total + k;
		}
		free(p);
		free(names[i]);
	}
	free(names);
	return total;
}

long diag_certs_add_path(struct diag_certs *c, const char *path, struct diag_report *r)
{
	struct stat st;
	if (stat(path, &st)) {
		input_error(r, path, strerror(errno));
		return 0;
	}
	return S_ISDIR(st.st_mode) ? walk(c, path, 0, r) : add_file(c, path, r, 1);
}

/* Standard base64 (with padding and line breaks, as JSON carries it). */
static unsigned char *b64_decode(const char *s, size_t len, size_t *out)
{
	unsigned char *buf = malloc(len / 4 * 3 + 4);
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	int n = 0, m = 0;
	if (!buf || !ctx || len > INT32_MAX) {
		free(buf);
		EVP_ENCODE_CTX_free(ctx);
		return NULL;
	}
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, buf, &n, (const unsigned char *)s, (int)len) < 0 ||
	    EVP_DecodeFinal(ctx, buf + n, &m) < 0) {
		free(buf);
		buf = NULL;
	}
	EVP_ENCODE_CTX_free(ctx);
	*out = (size_t)(n + m);
	return buf;
}

static long add_secret(struct diag_certs *c, const json_t *o, struct diag_report *r)
{
	const char *type = json_string_value(json_object_get(o, "type"));
	const json_t *md = json_object_get(o, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *crt = json_string_value(json_object_get(json_object_get(o, "data"), "tls.crt"));
	if (!type || strcmp(type, "kubernetes.io/tls"))
		return 0;
	char *src = diag_asprintf("Secret %s%s%s", ns ? ns : "", ns ? "/" : "", name ? name : "?");
	if (!src)
		return -1;
	long n = 0;
	size_t len = 0;
	unsigned char *der = crt ? b64_decode(crt, strlen(crt), &len) : NULL;
	char err[256] = "";
	if (!crt)
		input_error(r, src, "no tls.crt in data");
	else if (!der)
		input_error(r, src, "tls.crt is not base64");
	else if ((n = diag_certs_add_buf(c, der, len, src, err, sizeof(err))) == 0)
		input_error(r, src, err);
	free(der);
	free(src);
	return n;
}

long diag_certs_add_k8s(struct diag_certs *c, const json_t *doc, struct diag_report *r)
{
	const json_t *items = json_object_get(doc, "items");
	if (!json_is_array(items)) {
		const char *kind = json_string_value(json_object_get(doc, "kind"));
		if (kind && !strcmp(kind, "Secret"))
			return add_secret(c, doc, r);
		input_error(r, "kubectl", "neither a List nor a Secret");
		return 0;
	}
	long total = 0;
	size_t i;
	const json_t *o;
	json_array_foreach(items, i, o) {
		const char *kind = json_string_value(json_object_get(o, "kind"));
		if (kind && strcmp(kind, "Secret"))
			continue;
		long n = add_secret(c, o, r);
		if (n < 0)
			return -1;
		total += n;
	}
	return total;
}

void diag_certs_mark_leaves(struct diag_certs *c)
{
	for (size_t i = 0; i < c->n; i++) {
		c->v[i].leaf = 1;
		for (size_t j = 0; j < c->n && c->v[i].leaf; j++)
			if (j != i && c->v[j].group == c->v[i].group &&
			    X509_check_issued(c->v[i].x, c->v[j].x) == X509_V_OK &&
			    X509_cmp(c->v[i].x, c->v[j].x))
				c->v[i].leaf = 0;
	}
}

/* ---- facts ---- */

int64_t diag_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

void diag_time_str(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, len, "?");
}

void diag_cert_sha256(X509 *x, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	out[0] = '\0';
	if (!X509_digest(x, EVP_sha256(), md, &n))
		return;
	for (unsigned i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

char *diag_name_str(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	if (b && X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		char *p;
		long len = BIO_get_mem_data(b, &p);
		s = diag_utf8_clean(p, (size_t)len);
	}
	BIO_free(b);
	return s;
}

int diag_cert_issued_by(X509 *x, X509 *issuer)
{
	if (X509_check_issued(issuer, x) != X509_V_OK)
		return 0;
	EVP_PKEY *k = X509_get0_pubkey(issuer);
	int ok = k && X509_verify(x, k) == 1;
	ERR_clear_error();
	return ok;
}

/* The first URI of a GENERAL_NAMES. */
static char *first_uri(const GENERAL_NAMES *names)
{
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		if (g->type == GEN_URI)
			return diag_utf8_clean((const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
			                       (size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier));
	}
	return NULL;
}

int diag_cert_has_crl_url(X509 *x, const char *url)
{
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	int found = 0;
	for (int i = 0; dps && !found && i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (!dp->distpoint || dp->distpoint->type != 0)
			continue;
		GENERAL_NAMES *gn = dp->distpoint->name.fullname;
		for (int k = 0; !found && k < sk_GENERAL_NAME_num(gn); k++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(gn, k);
			if (g->type != GEN_URI)
				continue;
			const ASN1_IA5STRING *u = g->d.uniformResourceIdentifier;
			found = (size_t)ASN1_STRING_length(u) == strlen(url) &&
			        !memcmp(ASN1_STRING_get0_data(u), url, strlen(url));
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return found;
}

char *diag_cert_crl_url(X509 *x)
{
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	char *url = NULL;
	for (int i = 0; dps && !url && i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint && dp->distpoint->type == 0)
			url = first_uri(dp->distpoint->name.fullname);
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	ERR_clear_error();
	return url;
}

static char *aia_url(X509 *x, int method)
{
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	char *url = NULL;
	for (int i = 0; aia && !url && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		if (OBJ_obj2nid(ad->method) == method && ad->location->type == GEN_URI)
			url = diag_utf8_clean((const char *)ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier),
			                      (size_t)ASN1_STRING_length(ad->location->d.uniformResourceIdentifier));
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	ERR_clear_error();
	return url;
}

char *diag_cert_ocsp_url(X509 *x)
{
	return aia_url(x, NID_ad_OCSP);
}

char *diag_cert_ca_issuers_url(X509 *x)
{
	return aia_url(x, NID_ad_ca_issuers);
}

json_t *diag_cert_json(X509 *x)
{
	char *sub = diag_name_str(X509_get_subject_name(x));
	char *iss = diag_name_str(X509_get_issuer_name(x));
	char serial[2 * SERIAL_BYTES + 2] = "", nb[32], na[32], fp[65];
	struct diag_serial s;
	if (!diag_serial_from_asn1(X509_get0_serialNumber(x), &s))
		diag_serial_hex(&s, serial, sizeof(serial));
	diag_time_str(diag_asn1_time(X509_get0_notBefore(x)), nb, sizeof(nb));
	diag_time_str(diag_asn1_time(X509_get0_notAfter(x)), na, sizeof(na));
	diag_cert_sha256(x, fp);
	json_t *j = json_pack("{s:o, s:o, s:s, s:s, s:s, s:s}", "subject", diag_json_str(sub),
	                      "issuer", diag_json_str(iss), "serial", serial, "not_before", nb,
	                      "not_after", na, "sha256", fp);
	free(sub);
	free(iss);
	return j ? j : json_object();
}
