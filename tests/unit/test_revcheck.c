/* SPDX-License-Identifier: ISC */
/* Unit tests: serials in every spelling, the serial hash set, list scans
 * (long lines, comments, a last line without newline), certificate input
 * (PEM bundles with keys, DER, garbage, leaves), CRLs made with OpenSSL's
 * API (verified, walked, truncated at every length), and the revcheck
 * probe's life on a loop (a CRL server that never answers: cancel at
 * every turn, time-out to an error). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "diag.h"
#include "loopback.h"

static struct diag_serial S(const char *s)
{
	struct diag_serial k;
	assert_int_equal(diag_serial_parse(s, strlen(s), &k), 0);
	return k;
}

static void serial_spellings(void **state)
{
	(void)state;
	struct diag_serial a = S("0ABC");
	const char *same[] = {"abc", "0abc", "0A:BC", "0x0ABC", "000000abc", "0a:bc"};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		struct diag_serial b = S(same[i]);
		assert_memory_equal(&a, &b, sizeof(a));
	}
	struct diag_serial k;
	const char *bad[] = {"", "xyz", "12g4", ":ab", "ab:", "0x", "-1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(diag_serial_parse(bad[i], strlen(bad[i]), &k), -1);
	/* 32 significant bytes fit, 33 do not; leading zeros never count */
	char big[80];
	memset(big, 'f', 64);
	big[64] = '\0';
	assert_int_equal(diag_serial_parse(big, 64, &k), 0);
	memmove(big + 2, big, 65);
	big[0] = '1';
	big[1] = '0';
	assert_int_equal(diag_serial_parse(big, strlen(big), &k), -1);
	big[0] = '0';
	assert_int_equal(diag_serial_parse(big, strlen(big), &k), 0);
	char hex[80];
	diag_serial_hex(&a, hex, sizeof(hex));
	assert_string_equal(hex, "0ABC");
	/* DER content: a 00 sign byte is not part of the value; two's complement */
	const unsigned char der1[] = {0x00, 0xab, 0xcd}, der2[] = {0xab, 0xcd}, neg[] = {0xff};
	struct diag_serial d1, d2, n;
	assert_int_equal(diag_serial_from_der(der1, 3, &d1), 0);
	assert_int_equal(diag_serial_from_der(der2, 2, &d2), 0);
	assert_int_equal(d1.neg, 0);
	assert_int_equal(d2.neg, 1);  /* 0xabcd as DER is negative */
	assert_int_equal(diag_serial_from_der(neg, 1, &n), 0);
	assert_int_equal(n.neg, 1);
	assert_int_equal(n.b[SERIAL_BYTES - 1], 1);
	diag_serial_hex(&n, hex, sizeof(hex));
	assert_string_equal(hex, "-01");
	struct diag_serial abcd = S("abcd");
	assert_memory_equal(&d1, &abcd, sizeof(d1));
}

static void serial_set(void **state)
{
	(void)state;
	struct diag_serial_set *s = diag_serial_set_new(4);
	assert_non_null(s);
	char buf[32];
	for (size_t i = 0; i < 20000; i++) {
		snprintf(buf, sizeof(buf), "%zx", i * 7919);
		struct diag_serial k = S(buf);
		assert_int_equal(diag_serial_set_add(s, &k, i), 0);
	}
	struct diag_serial dup = S("0");
	assert_int_equal(diag_serial_set_add(s, &dup, 99999), 0);
	assert_int_equal(diag_serial_set_count(s), 20001);
	for (size_t i = 0; i < 20000; i += 997) {
		snprintf(buf, sizeof(buf), "%zx", i * 7919);
		struct diag_serial k = S(buf);
		size_t it = 0, idx, n = 0;
		while (diag_serial_set_next(s, &k, &it, &idx)) {
			assert_true(idx == i || (i == 0 && idx == 99999));
			n++;
		}
		assert_int_equal(n, i == 0 ? 2 : 1);
	}
	struct diag_serial miss = S("2");
	size_t it = 0, idx;
	assert_int_equal(diag_serial_set_next(s, &miss, &it, &idx), 0);
	diag_serial_set_free(s);
}

struct hits {
	size_t n;
	uint64_t line[8];
	size_t idx[8];
};

static int on_hit(void *arg, size_t idx, uint64_t lineno, const char *line, size_t len)
{
	struct hits *h = arg;
	(void)line;
	(void)len;
	if (h->n < 8) {
		h->line[h->n] = lineno;
		h->idx[h->n] = idx;
	}
	h->n++;
	return 0;
}

static void list_scan(void **state)
{
	(void)state;
	struct diag_serial_set *s = diag_serial_set_new(4);
	struct diag_serial a = S("0362"), b = S("ABCDEF");
	diag_serial_set_add(s, &a, 0);
	diag_serial_set_add(s, &b, 1);
	size_t longlen = 10000;
	char *buf = malloc(longlen + 400);
	int n = snprintf(buf, 400, "# comment 0362\n\nserial 000362 131 names: [x]\r\nnot-a-serial\n"
	                 "  0a:bc:de:f0\n12,34\nserial\tabcdef;rest\n0362 ");
	memset(buf + n, 'x', longlen);
	n += (int)longlen;
	n += snprintf(buf + n, 100, "\nabcdef");  /* last line, no newline */
	struct hits h = {0};
	struct diag_list_stats st;
	assert_int_equal(diag_serial_list_scan_buf(buf, (size_t)n, s, on_hit, &h, &st), 0);
	assert_int_equal(h.n, 4);
	assert_int_equal(h.line[0], 3);
	assert_int_equal(h.idx[0], 0);
	assert_int_equal(h.line[1], 7);
	assert_int_equal(h.idx[1], 1);
	assert_int_equal(h.line[2], 8);  /* longer than kept: its serial still counts */
	assert_int_equal(h.line[3], 9);
	assert_int_equal(st.lines, 9);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.first_malformed, 4);
	assert_int_equal(st.long_lines, 1);
	assert_int_equal(st.serials, 6);
	/* the same through a pipe, in chunks */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], buf, (size_t)n), n);
	close(p[1]);
	struct hits h2 = {0};
	char err[64];
	assert_int_equal(diag_serial_list_scan(p[0], s, on_hit, &h2, &st, err, sizeof(err)), 0);
	close(p[0]);
	assert_int_equal(h2.n, 4);
	free(buf);
	diag_serial_set_free(s);
}

/* ---- a CA made with OpenSSL's API ---- */

static EVP_PKEY *ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	return k;
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, long serial, int ca)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	if (ca) {
		X509V3_CTX ctx;
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
	return x;
}

/* A CRL of ca listing serials (reason keyCompromise), as DER. */
static unsigned char *make_crl(X509 *ca, EVP_PKEY *key, const long *serials, size_t n, size_t *len)
{
	X509_CRL *c = X509_CRL_new();
	X509_CRL_set_version(c, 1);
	X509_CRL_set_issuer_name(c, X509_get_subject_name(ca));
	ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
	X509_CRL_set1_lastUpdate(c, t);
	ASN1_TIME_adj(t, time(NULL), 7, 0);
	X509_CRL_set1_nextUpdate(c, t);
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();
		ASN1_INTEGER_set(s, serials[i]);
		X509_REVOKED_set_serialNumber(r, s);
		ASN1_TIME_adj(t, time(NULL), 0, -30);
		X509_REVOKED_set_revocationDate(r, t);
		ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
		ASN1_ENUMERATED_set(e, 1);
		X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
		ASN1_ENUMERATED_free(e);
		ASN1_INTEGER_free(s);
		X509_CRL_add0_revoked(c, r);
	}
	ASN1_TIME_free(t);
	assert_true(X509_CRL_sign(c, key, EVP_sha256()) > 0);
	unsigned char *der = NULL;
	int l = i2d_X509_CRL(c, &der);
	assert_true(l > 0);
	*len = (size_t)l;
	X509_CRL_free(c);
	return der;
}

struct walk {
	struct diag_serial want;
	int found;
	int64_t when;
	int reason;
};

static int on_entry(void *arg, const struct diag_serial *s, const unsigned char *e, size_t len)
{
	struct walk *w = arg;
	if (!memcmp(s, &w->want, sizeof(*s))) {
		w->found = 1;
		assert_int_equal(diag_crl_entry(e, len, &w->when, &w->reason), 0);
	}
	return 0;
}

static void crl_parse_verify_walk(void **state)
{
	(void)state;
	EVP_PKEY *k = ec_key(), *other = ec_key();
	X509 *ca = make_cert("Test CA", k, NULL, NULL, 1, 1);
	long serials[] = {0x1001, 0x80, 0x123456789L};
	size_t len;
	unsigned char *der = make_crl(ca, k, serials, 3, &len);
	struct diag_crl c;
	char err[200];
	assert_int_equal(diag_crl_parse(der, len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.entries, 3);
	assert_int_equal(c.version, 1);
	assert_int_equal(X509_NAME_cmp(c.issuer, X509_get_subject_name(ca)), 0);
	assert_true(c.next_update > c.this_update);
	assert_int_equal(diag_crl_verify(&c, k, err, sizeof(err)), 1);
	assert_int_equal(diag_crl_verify(&c, other, err, sizeof(err)), 0);
	struct walk w = { .want = S("80") };
	diag_crl_walk(&c, on_entry, &w);
	assert_true(w.found);
	assert_int_equal(w.reason, 1);
	assert_string_equal(diag_crl_reason_name(w.reason), "keyCompromise");
	assert_true(w.when > 0);
	/* a flipped bit in the signed part: no longer verifies */
	c.der[c.tbs - c.der + 20] ^= 1;
	assert_int_equal(diag_crl_verify(&c, k, err, sizeof(err)), 0);
	diag_crl_free(&c);
	/* every truncation, and garbage: refused, never a crash */
	for (size_t cut = 0; cut < len; cut++) {
		struct diag_crl t;
		assert_int_equal(diag_crl_parse(der, cut, &t, err, sizeof(err)), -1);
		diag_crl_free(&t);
	}
	for (size_t i = 0; i < len; i += 3) {
		unsigned char *m = malloc(len);
		memcpy(m, der, len);
		m[i] ^= 0x55;
		struct diag_crl t;
		if (diag_crl_parse(m, len, &t, err, sizeof(err)) == 0) {
			diag_crl_verify(&t, k, err, sizeof(err));
			struct walk w2 = { .want = S("80") };
			diag_crl_walk(&t, on_entry, &w2);
		}
		diag_crl_free(&t);
		free(m);
	}
	OPENSSL_free(der);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static char *pem_of(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = strndup(p, (size_t)n);
	BIO_free(b);
	return s;
}

static void cert_input(void **state)
{
	(void)state;
	EVP_PKEY *k = ec_key(), *lk = ec_key();
	X509 *ca = make_cert("Test CA", k, NULL, NULL, 1, 1);
	X509 *leaf = make_cert("leaf.test", lk, ca, k, 0x42, 0);
	char *pl = pem_of(leaf), *pc = pem_of(ca);
	char *bundle = diag_asprintf("%s-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n%s", pl, pc);
	struct diag_certs c = {0};
	char err[200];
	assert_int_equal(diag_certs_add_buf(&c, (unsigned char *)bundle, strlen(bundle), "b.pem", err, sizeof(err)), 2);
	unsigned char *der = NULL;
	int dl = i2d_X509(leaf, &der);
	assert_int_equal(diag_certs_add_buf(&c, der, (size_t)dl, "l.der", err, sizeof(err)), 1);
	diag_certs_mark_leaves(&c);
	assert_int_equal(c.n, 3);
	assert_true(c.v[0].leaf);
	assert_false(c.v[1].leaf);  /* the CA issued the leaf of its group */
	assert_true(c.v[2].leaf);
	assert_string_equal(c.v[1].source, "b.pem#2");
	assert_true(diag_cert_issued_by(leaf, ca));
	assert_false(diag_cert_issued_by(ca, leaf));
	/* garbage, bad base64, trailing junk after DER: 0 certificates, a reason */
	const char *bad = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
	assert_int_equal(diag_certs_add_buf(&c, (const unsigned char *)bad, strlen(bad), "x", err, sizeof(err)), 0);
	assert_true(err[0]);
	assert_int_equal(diag_certs_add_buf(&c, (const unsigned char *)"hello", 5, "x", err, sizeof(err)), 0);
	assert_true(err[0]);
	unsigned char *junk = malloc((size_t)dl + 1);
	memcpy(junk, der, (size_t)dl);
	junk[dl] = 0;
	assert_int_equal(diag_certs_add_buf(&c, junk, (size_t)dl + 1, "x", err, sizeof(err)), 0);
	for (int cut = 1; cut < dl; cut += 7)
		assert_int_equal(diag_certs_add_buf(&c, der, (size_t)cut, "x", err, sizeof(err)), 0);
	assert_int_equal(c.n, 3);
	json_t *j = diag_cert_json(leaf);
	assert_string_equal(json_string_value(json_object_get(j, "serial")), "42");
	json_decref(j);
	free(junk);
	OPENSSL_free(der);
	free(bundle);
	free(pl);
	free(pc);
	diag_certs_free(&c);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(lk);
}

/* ---- the probe on a loop ---- */

static const struct diag_finding *find(const struct diag_report *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i]->id, id))
			return r->v[i];
	return NULL;
}

/* A certificate file whose CRL is at url (given with --crl). */
static char *write_leaf(char *dir)
{
	EVP_PKEY *k = ec_key(), *lk = ec_key();
	X509 *ca = make_cert("Test CA", k, NULL, NULL, 1, 1);
	X509 *leaf = make_cert("leaf.test", lk, ca, k, 0x42, 0);
	char *pl = pem_of(leaf), *pc = pem_of(ca);
	char *path = diag_asprintf("%s/chain.pem", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "%s%s", pl, pc);
	fclose(f);
	free(pl);
	free(pc);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(lk);
	return path;
}

static struct diag_probe *start_adapter(struct diag_loop *loop, const void *opts,
                                        struct diag_report *r, diag_done_cb done, void *arg)
{
	return diag_revcheck_start(loop, opts, r, done, arg);
}

static void cancel_at_every_turn(void **state)
{
	(void)state;
	char dir[] = "/tmp/revcheck-test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = write_leaf(dir);
	uint16_t port;
	int web = silent_tcp(&port);
	char *url = diag_asprintf("http://127.0.0.1:%u/ca.crl", port);
	const char *paths[] = {path}, *crls[] = {url};
	struct revcheck_opts co = { .paths = paths, .npaths = 1, .crls = crls, .ncrls = 1, .timeout_ms = 300 };
	for (int k = 0; k < 8; k++)
		cancel_after_turns(start_adapter, &co, k);
	/* to the end: the CRL server never answers, an error, never "not revoked" */
	struct diag_report *r = diag_report_new("t", "1", "x");
	struct revcheck_opts o = { .paths = paths, .npaths = 1, .crls = crls, .ncrls = 1, .timeout_ms = 100 };
	assert_int_equal(diag_revcheck_run(&o, r), 0);
	const struct diag_finding *crl = find(r, "cert.revocation.crl"), *rev = find(r, "cert.revocation");
	assert_non_null(crl);
	assert_int_equal(crl->status, DIAG_ERROR);
	assert_non_null(strstr(crl->summary, "timed out"));
	assert_non_null(rev);
	assert_int_equal(rev->status, DIAG_ERROR);
	diag_report_free(r);
	close(web);
	unlink(path);
	rmdir(dir);
	free(path);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serial_spellings),
		cmocka_unit_test(serial_set),
		cmocka_unit_test(list_scan),
		cmocka_unit_test(crl_parse_verify_walk),
		cmocka_unit_test(cert_input),
		cmocka_unit_test(cancel_at_every_turn),
	};
	return cmocka_run_group_tests_name("revcheck", tests, NULL, NULL);
}
