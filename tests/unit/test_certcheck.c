/* SPDX-License-Identifier: ISC */
/* Unit tests: the RFC 9773 CertID (the RFC's own example), lifetimes named
 * by profile, a files-only run (validity, names, key), and the certcheck
 * probe's life on a loop against a TLS server that never answers (cancel
 * at every turn; to the end, an error). */
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

static X509 *make_cert(EVP_PKEY *key, long serial, const unsigned char *aki, size_t akilen,
                       long from, long to, const char *san)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, key);
	if (aki) {
		AUTHORITY_KEYID *a = AUTHORITY_KEYID_new();
		a->keyid = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(a->keyid, aki, (int)akilen);
		X509_add1_ext_i2d(x, NID_authority_key_identifier, a, 0, 0);
		AUTHORITY_KEYID_free(a);
	}
	if (san) {
		X509V3_CTX ctx;
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static void cert_id(void **state)
{
	(void)state;
	/* RFC 9773 section 4.1: AKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4,
	 * serial 00:87:65:43:21 */
	static const unsigned char aki[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
	                                    0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = make_cert(k, 0x87654321L, aki, sizeof(aki), 0, 86400, NULL);
	char id[300];
	assert_int_equal(diag_ari_cert_id(x, id, sizeof(id)), 0);
	assert_string_equal(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	X509 *noaki = make_cert(k, 5, NULL, 0, 0, 86400, NULL);
	assert_int_equal(diag_ari_cert_id(noaki, id, sizeof(id)), -1);
	X509_free(x);
	X509_free(noaki);
	EVP_PKEY_free(k);
}

static void profiles(void **state)
{
	(void)state;
	assert_non_null(strstr(diag_cert_profile(90 * 86400), "classic"));
	assert_non_null(strstr(diag_cert_profile(45 * 86400), "tlsserver"));
	assert_non_null(strstr(diag_cert_profile(160 * 3600), "shortlived"));
	assert_non_null(strstr(diag_cert_profile(90 * 86400 - 1), "90 days"));  /* notAfter inclusive */
	assert_null(diag_cert_profile(30 * 86400));
}

static const struct diag_finding *find(const struct diag_report *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i]->id, id))
			return r->v[i];
	return NULL;
}

static char *write_pem(const char *dir, const char *name, X509 *x, EVP_PKEY *k)
{
	char *path = diag_asprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	if (x)
		PEM_write_X509(f, x);
	else
		PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	return path;
}

static void files_only(void **state)
{
	(void)state;
	char dir[] = "/tmp/certcheck-test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	EVP_PKEY *k = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	/* 90 days, 20 left: renewal due */
	X509 *x = make_cert(k, 7, NULL, 0, -70L * 86400, 20L * 86400, "DNS:a.test,IP:192.0.2.1");
	char *cert = write_pem(dir, "c.pem", x, NULL), *key = write_pem(dir, "k.pem", NULL, other);
	const char *names[] = {"a.test", "192.0.2.1", "b.test"};
	struct certcheck_opts o = { .cert_path = cert, .key_path = key, .names = names, .nnames = 3,
	                            .timeout_ms = 200 };
	struct diag_report *r = diag_report_new("t", "1", "x");
	assert_int_equal(diag_certcheck_run(&o, r), 0);
	const struct diag_finding *v = find(r, "cert.validity"), *n = find(r, "cert.names"),
	                          *kf = find(r, "cert.key");
	assert_non_null(v);
	assert_int_equal(v->status, DIAG_WARN);
	assert_non_null(strstr(v->summary, "classic"));
	assert_non_null(n);
	assert_int_equal(n->status, DIAG_FAIL);
	assert_non_null(strstr(n->summary, "b.test"));
	assert_null(strstr(n->summary, "a.test"));
	assert_non_null(kf);
	assert_int_equal(kf->status, DIAG_FAIL);
	assert_null(find(r, "cert.served"));
	diag_report_free(r);
	unlink(cert);
	unlink(key);
	rmdir(dir);
	free(cert);
	free(key);
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static struct diag_probe *start_adapter(struct diag_loop *loop, const void *opts,
                                        struct diag_report *r, diag_done_cb done, void *arg)
{
	return diag_certcheck_start(loop, opts, r, done, arg);
}

static void cancel_at_every_turn(void **state)
{
	(void)state;
	uint16_t port;
	int fd = silent_tcp(&port);
	char host[64];
	snprintf(host, sizeof(host), "127.0.0.1:%u", port);
	struct certcheck_opts co = { .host = host, .timeout_ms = 300, .directory = "http://127.0.0.1:1/dir" };
	for (int k = 0; k < 8; k++)
		cancel_after_turns(start_adapter, &co, k);
	/* to the end: the handshake never completes, an error */
	struct diag_report *r = diag_report_new("t", "1", "x");
	struct certcheck_opts o = { .host = host, .timeout_ms = 100 };
	assert_int_equal(diag_certcheck_run(&o, r), 0);
	const struct diag_finding *s = find(r, "cert.served");
	assert_non_null(s);
	assert_int_equal(s->status, DIAG_ERROR);
	diag_report_free(r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cert_id),
		cmocka_unit_test(profiles),
		cmocka_unit_test(files_only),
		cmocka_unit_test(cancel_at_every_turn),
	};
	return cmocka_run_group_tests_name("certcheck", tests, NULL, NULL);
}
