/* SPDX-License-Identifier: ISC */
/* Unit tests: account keys (PEM, JWK), JWS signatures that verify, RFC 7638
 * thumbprints, problem documents, contact rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include "diag.h"

static char *pem_of(EVP_PKEY *pk)
{
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = strndup(data, (size_t)n);
	BIO_free(b);
	return s;
}

static int b64url_decode(const char *s, unsigned char *out)
{
	int n = 0, bits = 0;
	unsigned acc = 0;
	for (; *s; s++) {
		const char *tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		const char *p = strchr(tbl, *s);
		if (!p)
			return -1;
		acc = (acc << 6) | (unsigned)(p - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

static void es256_signature_verifies(void **state)
{
	(void)state;
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	assert_non_null(pk);
	char *pem = pem_of(pk);
	struct acme_key k;
	char err[200];
	assert_int_equal(acme_key_from_pem(pem, strlen(pem), &k, err, sizeof(err)), 0);
	assert_string_equal(k.alg, "ES256");
	assert_string_equal(k.desc, "EC P-256");
	assert_int_equal(strlen(k.thumbprint), 43);
	assert_string_equal(json_string_value(json_object_get(k.jwk, "crv")), "P-256");
	assert_null(json_object_get(k.jwk, "d"));  /* public members only */
	char *sig = acme_jws_sign(&k, "eyJhbGciOiJFUzI1NiJ9.e30");
	assert_non_null(sig);
	unsigned char raw[80];
	assert_int_equal(b64url_decode(sig, raw), 64);  /* r || s, not DER */
	ECDSA_SIG *es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
	unsigned char *der = NULL;
	int dlen = i2d_ECDSA_SIG(es, &der);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk), 1);
	assert_int_equal(EVP_DigestVerify(md, der, (size_t)dlen, (const unsigned char *)"eyJhbGciOiJFUzI1NiJ9.e30", 24), 1);
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	free(sig);
	free(pem);
	acme_key_free(&k);
	EVP_PKEY_free(pk);
}

static void rsa_jwk_thumbprint_and_signature(void **state)
{
	(void)state;
	/* RFC 7638 section 3.1 computes over {"e","kty","n"} in that order:
	 * check ours against that construction for an RSA key from a JWK. */
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	char *pem = pem_of(pk);
	struct acme_key k;
	char err[200];
	assert_int_equal(acme_key_from_pem(pem, strlen(pem), &k, err, sizeof(err)), 0);
	assert_string_equal(k.alg, "RS256");
	char *canon = diag_asprintf("{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
	                            json_string_value(json_object_get(k.jwk, "e")),
	                            json_string_value(json_object_get(k.jwk, "n")));
	unsigned char md[32];
	unsigned int mdlen;
	EVP_Digest(canon, strlen(canon), md, &mdlen, EVP_sha256(), NULL);
	char want[48];
	diag_b64url(md, mdlen, want);
	assert_string_equal(k.thumbprint, want);
	assert_string_equal(json_string_value(json_object_get(k.jwk, "e")), "AQAB");
	char *sig = acme_jws_sign(&k, "a.b");
	unsigned char raw[300];
	assert_int_equal(b64url_decode(sig, raw), 256);
	free(sig);
	free(canon);
	free(pem);
	acme_key_free(&k);
	EVP_PKEY_free(pk);
}

static void bad_keys(void **state)
{
	(void)state;
	struct acme_key k;
	char err[200];
	assert_int_equal(acme_key_from_pem("garbage", 7, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a PEM private key"));
	json_t *j = json_pack("{s:s}", "kty", "oct");
	assert_int_equal(acme_key_from_jwk(j, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unsupported"));
	json_decref(j);
	j = json_pack("{s:s, s:s}", "kty", "RSA", "n", "AQAB");
	assert_int_equal(acme_key_from_jwk(j, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "without"));
	json_decref(j);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", "!!", "y", "AA", "d", "AA");
	assert_int_equal(acme_key_from_jwk(j, &k, err, sizeof(err)), -1);
	json_decref(j);
}

static void problems(void **state)
{
	(void)state;
	json_t *doc = json_loads("{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
	                         "\"detail\":\"Error creating new order\",\"status\":400,"
	                         "\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:caa\","
	                         "\"detail\":\"CAA forbids\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.example\"}}]}",
	                         0, NULL);
	struct acme_problem p;
	assert_int_equal(acme_problem_parse(doc, &p), 0);
	assert_string_equal(acme_problem_short(&p), "rejectedIdentifier");
	assert_int_equal(p.status, 400);
	assert_int_equal(p.nsub, 1);
	assert_string_equal(p.sub[0], "a.example: urn:ietf:params:acme:error:caa: CAA forbids");
	json_decref(doc);
	assert_int_equal(acme_problem_parse(NULL, &p), -1);
}

static void contacts(void **state)
{
	(void)state;
	char why[300];
	assert_int_equal(diag_contact_lint("mailto:admin@acme-diag.net", why, sizeof(why)), DIAG_OK);
	assert_int_equal(diag_contact_lint("mailto:admin@example.com", why, sizeof(why)), DIAG_FAIL);
	assert_string_equal(why, "contact email has forbidden domain \"example.com\"");
	assert_int_equal(diag_contact_lint("tel:+15551234", why, sizeof(why)), DIAG_FAIL);
	assert_non_null(strstr(why, "only contact scheme 'mailto:' is supported"));
	assert_int_equal(diag_contact_lint("mailto:a@b.test", why, sizeof(why)), DIAG_FAIL);
	assert_non_null(strstr(why, "public suffix"));
	assert_int_equal(diag_contact_lint("mailto:a?b@x.net", why, sizeof(why)), DIAG_FAIL);
	assert_int_equal(diag_contact_lint("mailto:noat", why, sizeof(why)), DIAG_FAIL);
	assert_int_equal(diag_contact_lint("mailto:caf\xc3\xa9@x.net", why, sizeof(why)), DIAG_FAIL);
	assert_int_equal(diag_contact_lint("", why, sizeof(why)), DIAG_FAIL);
}

static void error_hints(void **state)
{
	(void)state;
	assert_non_null(strstr(diag_acme_error_hint("malformed", "Unable to update challenge :: authorization must be pending"),
	                       "new order"));
	assert_non_null(strstr(diag_acme_error_hint("malformed", "Cannot update challenge with status invalid, only status pending"),
	                       "new order"));
	assert_non_null(strstr(diag_acme_error_hint("connection", "Timeout during connect"), "acme-httpcheck"));
	assert_non_null(strstr(diag_acme_error_hint("dns", ""), "acme-dnscheck"));
	assert_non_null(strstr(diag_acme_error_hint("caa", ""), "CAA"));
	assert_non_null(strstr(diag_acme_error_hint("rateLimited", ""), "Retry-After"));
	assert_null(diag_acme_error_hint("somethingNew", "x"));
	assert_null(diag_acme_error_hint(NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(es256_signature_verifies),
		cmocka_unit_test(rsa_jwk_thumbprint_and_signature),
		cmocka_unit_test(bad_keys),
		cmocka_unit_test(problems),
		cmocka_unit_test(contacts),
		cmocka_unit_test(error_hints),
	};
	return cmocka_run_group_tests_name("acme", tests, NULL, NULL);
}
