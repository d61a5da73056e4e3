/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: OCSP responses. The bytes are read as the answer to a
 * request about a fixed certificate, with its issuer: status, nonce,
 * signature and the certificate's entry, as acme-revcheck reads them.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "diag.h"

static X509 *cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1001);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_sign(x, ikey ? ikey : key, EVP_sha256());
	X509_NAME_free(n);
	return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static X509 *ca, *leaf;
	static OCSP_REQUEST *req;
	static OCSP_CERTID *id;
	if (!ca) {
		EVP_PKEY *k = EVP_EC_gen("P-256"), *lk = EVP_EC_gen("P-256");
		ca = cert("CA", k, NULL, NULL);
		leaf = cert("leaf", lk, ca, k);
		id = OCSP_cert_to_id(EVP_sha1(), leaf, ca);
		req = OCSP_REQUEST_new();
		OCSP_request_add0_id(req, OCSP_CERTID_dup(id));
		OCSP_request_add1_nonce(req, NULL, -1);
		EVP_PKEY_free(k);
		EVP_PKEY_free(lk);
	}
	struct diag_ocsp_answer a;
	char err[256];
	diag_ocsp_read(data, size, req, id, ca, &a, err, sizeof(err));
	return 0;
}
