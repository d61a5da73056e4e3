/* SPDX-License-Identifier: ISC */
/* acme_key.c - account keys: PEM and JWK in, public JWK, thumbprint, JWS signatures. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "diag/acme.h"
#include "diag/keyauth.h"

#define MAX_KEY_FILE (64 * 1024)

void acme_key_free(struct acme_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	json_decref(k->jwk);
	memset(k, 0, sizeof(*k));
}

static json_t *b64_json(const unsigned char *b, size_t n)
{
	char *s = malloc(n * 4 / 3 + 4);
	if (!s)
		return NULL;
	diag_b64url(b, n, s);
	json_t *j = json_string(s);
	free(s);
	return j;
}

static json_t *bn_json(const BIGNUM *bn, int pad)
{
	int n = pad ? pad : BN_num_bytes(bn);
	unsigned char *b = malloc((size_t)(n ? n : 1));
	if (!b)
		return NULL;
	BN_bn2binpad(bn, b, n);
	json_t *j = b64_json(b, (size_t)n);
	free(b);
	return j;
}

/* Public JWK, alg and description from pkey; then the RFC 7638 thumbprint. */
static int describe(struct acme_key *k, char *err, size_t errlen)
{
	int id = EVP_PKEY_get_base_id(k->pkey);
	k->bits = EVP_PKEY_get_bits(k->pkey);
	if (id == EVP_PKEY_RSA) {
		BIGNUM *n = NULL, *e = NULL;
		EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &n);
		EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &e);
		if (n && e)
			k->jwk = json_pack("{s:s, s:o, s:o}", "kty", "RSA", "n", bn_json(n, 0), "e", bn_json(e, 0));
		BN_free(n);
		BN_free(e);
		snprintf(k->alg, sizeof(k->alg), "RS256");
		snprintf(k->desc, sizeof(k->desc), "RSA %d", k->bits);
	} else if (id == EVP_PKEY_EC) {
		char group[64] = "";
		EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL);
		const char *crv = !strcmp(group, "prime256v1") ? "P-256" : !strcmp(group, "secp384r1") ? "P-384"
		                  : !strcmp(group, "secp521r1") ? "P-521" : NULL;
		if (!crv) {
			snprintf(err, errlen, "unsupported EC curve %s (ACME CAs take P-256 or P-384)", group);
			return -1;
		}
		int size = !strcmp(crv, "P-256") ? 32 : !strcmp(crv, "P-384") ? 48 : 66;
		BIGNUM *x = NULL, *y = NULL;
		EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x);
		EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
		if (x && y)
			k->jwk = json_pack("{s:s, s:s, s:o, s:o}", "kty", "EC", "crv", crv,
			                   "x", bn_json(x, size), "y", bn_json(y, size));
		BN_free(x);
		BN_free(y);
		snprintf(k->alg, sizeof(k->alg), "%s", size == 32 ? "ES256" : size == 48 ? "ES384" : "ES512");
		snprintf(k->desc, sizeof(k->desc), "EC %s", crv);
	} else if (id == EVP_PKEY_ED25519) {
		unsigned char pub[32];
		size_t len = sizeof(pub);
		if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &len) == 1)
			k->jwk = json_pack("{s:s, s:s, s:o}", "kty", "OKP", "crv", "Ed25519", "x", b64_json(pub, len));
		snprintf(k->alg, sizeof(k->alg), "EdDSA");
		snprintf(k->desc, sizeof(k->desc), "Ed25519");
	} else {
		snprintf(err, errlen, "unsupported key type (ACME uses RSA, EC P-256/P-384 or Ed25519)");
		return -1;
	}
	if (!k->jwk) {
		snprintf(err, errlen, "cannot read the public key");
		return -1;
	}
	/* RFC 7638: the required members, sorted, no whitespace. */
	char *canon = json_dumps(k->jwk, JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char md[32];
	unsigned int mdlen = 0;
	int ok = canon && EVP_Digest(canon, strlen(canon), md, &mdlen, EVP_sha256(), NULL);
	free(canon);
	if (!ok) {
		snprintf(err, errlen, "cannot compute the key thumbprint");
		return -1;
	}
	diag_b64url(md, mdlen, k->thumbprint);
	return 0;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)u = 1;  /* remember that a password was asked for */
	return 0;
}

int acme_key_from_pem(const char *pem, size_t len, struct acme_key *k, char *err, size_t errlen)
{
	memset(k, 0, sizeof(*k));
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	int asked = 0;
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	k->pkey = PEM_read_bio_PrivateKey(b, NULL, no_password, &asked);
	BIO_free(b);
	ERR_clear_error();
	if (!k->pkey) {
		snprintf(err, errlen, asked ? "the key is password-protected; decrypt a copy first "
		                              "(openssl pkey -in KEY -out plain.pem)"
		                            : "not a PEM private key (PKCS#8, SEC1 EC or PKCS#1 RSA)");
		return -1;
	}
	if (describe(k, err, errlen)) {
		acme_key_free(k);
		return -1;
	}
	return 0;
}

/* A base64url JWK member as a BIGNUM. */
static BIGNUM *jwk_bn(const json_t *jwk, const char *name)
{
	const char *s = json_string_value(json_object_get(jwk, name));
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (n > 2048)
		return NULL;
	unsigned char *buf = malloc(n + 1);
	if (!buf)
		return NULL;
	long o = diag_b64url_decode(s, n, buf);
	if (o < 0) {
		free(buf);
		return NULL;
	}
	BIGNUM *bn = BN_bin2bn(buf, (int)o, NULL);
	free(buf);
	return bn;
}

/* A key from a JWK: the public members, and the private ones when
 * want_private is set. Returns NULL with err set. */
static EVP_PKEY *jwk_to_pkey(const json_t *jwk, int want_private, char *err, size_t errlen)
{
	EVP_PKEY *pk = NULL;
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *bn[8] = {0};
	unsigned char *pub = NULL;
	if (!bld || !kty) {
		snprintf(err, errlen, "not a JWK (no \"kty\")");
		goto out;
	}
	if (!strcmp(kty, "RSA")) {
		static const char *names[8] = {"n", "e", "d", "p", "q", "dp", "dq", "qi"};
		static const char *params_[8] = {
			OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
			OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
			OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
			OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
		for (int i = 0; i < (want_private ? 8 : 2); i++) {
			bn[i] = jwk_bn(jwk, names[i]);
			if (!bn[i] && i < 3) {
				snprintf(err, errlen, "RSA JWK without \"%s\"%s", names[i],
				         i == 2 ? " (a private key is needed)" : "");
				goto out;
			}
			if (bn[i])
				OSSL_PARAM_BLD_push_BN(bld, params_[i], bn[i]);
		}
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else if (!strcmp(kty, "EC")) {
		const char *crv = json_string_value(json_object_get(jwk, "crv"));
		const char *group = crv && !strcmp(crv, "P-256") ? "prime256v1"
		                    : crv && !strcmp(crv, "P-384") ? "secp384r1" : NULL;
		int size = group && !strcmp(group, "prime256v1") ? 32 : 48;
		if (!group) {
			snprintf(err, errlen, "unsupported EC JWK curve \"%s\"", crv ? crv : "");
			goto out;
		}
		bn[0] = jwk_bn(jwk, "x");
		bn[1] = jwk_bn(jwk, "y");
		bn[2] = want_private ? jwk_bn(jwk, "d") : NULL;
		if (!bn[0] || !bn[1] || (want_private && !bn[2]) ||
		    BN_num_bytes(bn[0]) > size || BN_num_bytes(bn[1]) > size) {
			snprintf(err, errlen, "EC JWK without valid x, y%s", want_private ? " or d" : "");
			goto out;
		}
		pub = malloc((size_t)(1 + 2 * size));
		if (!pub)
			goto out;
		pub[0] = 4;  /* uncompressed point */
		BN_bn2binpad(bn[0], pub + 1, size);
		BN_bn2binpad(bn[1], pub + 1 + size, size);
		OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, (size_t)(1 + 2 * size));
		if (bn[2])
			OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn[2]);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	} else if (!strcmp(kty, "OKP") && !want_private) {
		const char *x = json_string_value(json_object_get(jwk, "x"));
		unsigned char raw[64];
		if (x && strlen(x) < 80 && diag_b64url_decode(x, strlen(x), raw) == 32)
			pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
		if (!pk)
			snprintf(err, errlen, "OKP JWK without a valid Ed25519 \"x\"");
		goto out;
	} else {
		snprintf(err, errlen, "unsupported JWK key type \"%s\"", kty);
		goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!ctx || !params || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, want_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		pk = NULL;
		snprintf(err, errlen, "the JWK does not make a valid key");
	}
out:
	ERR_clear_error();
	for (int i = 0; i < 8; i++)
		BN_free(bn[i]);
	free(pub);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

int acme_key_from_jwk(const json_t *jwk, struct acme_key *k, char *err, size_t errlen)
{
	memset(k, 0, sizeof(*k));
	k->pkey = jwk_to_pkey(jwk, 1, err, errlen);
	if (!k->pkey || describe(k, err, errlen)) {
		acme_key_free(k);
		return -1;
	}
	return 0;
}

EVP_PKEY *acme_jwk_public(const json_t *jwk)
{
	char err[160];
	return jwk_to_pkey(jwk, 0, err, sizeof(err));
}

int acme_key_load(const char *path, struct acme_key *k, char *err, size_t errlen)
{
	memset(k, 0, sizeof(*k));
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	char *buf = malloc(MAX_KEY_FILE + 1);
	size_t n = buf ? fread(buf, 1, MAX_KEY_FILE + 1, f) : 0;
	fclose(f);
	if (!buf || n > MAX_KEY_FILE) {
		free(buf);
		snprintf(err, errlen, "not a key file (larger than %d bytes)", MAX_KEY_FILE);
		return -1;
	}
	buf[n] = '\0';
	int ret;
	const char *p = buf;
	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
		p++;
	if (*p == '{') {
		json_error_t je;
		json_t *j = json_loadb(buf, n, 0, &je);
		if (!j) {
			snprintf(err, errlen, "not valid JSON: %s (line %d)", je.text, je.line);
			ret = -1;
		} else {
			ret = acme_key_from_jwk(j, k, err, errlen);
			json_decref(j);
		}
	} else {
		ret = acme_key_from_pem(buf, n, k, err, errlen);
	}
	free(buf);
	return ret;
}

char *acme_jws_sign(const struct acme_key *k, const char *input)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *sig = NULL, *raw = NULL;
	size_t siglen = 0;
	char *out = NULL;
	int id = EVP_PKEY_get_base_id(k->pkey);
	const EVP_MD *digest = id == EVP_PKEY_ED25519 ? NULL
	                       : !strcmp(k->alg, "ES384") ? EVP_sha384()
	                       : !strcmp(k->alg, "ES512") ? EVP_sha512() : EVP_sha256();
	if (!md || EVP_DigestSignInit(md, NULL, digest, NULL, k->pkey) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)input, strlen(input)) != 1 ||
	    !(sig = malloc(siglen)) ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input, strlen(input)) != 1)
		goto out;
	const unsigned char *use = sig;
	size_t uselen = siglen;
	if (id == EVP_PKEY_EC) {
		/* JWS wants r || s, each padded to the curve size, not DER */
		int size = !strcmp(k->alg, "ES256") ? 32 : !strcmp(k->alg, "ES384") ? 48 : 66;
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
		if (!es)
			goto out;
		raw = malloc((size_t)(2 * size));
		if (raw) {
			BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, size);
			BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + size, size);
		}
		ECDSA_SIG_free(es);
		if (!raw)
			goto out;
		use = raw;
		uselen = (size_t)(2 * size);
	}
	out = malloc(uselen * 4 / 3 + 4);
	if (out)
		diag_b64url(use, uselen, out);
out:
	ERR_clear_error();
	free(sig);
	free(raw);
	EVP_MD_CTX_free(md);
	return out;
}
