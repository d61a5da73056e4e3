/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: CRLs. The bytes are parsed as a CRL (DER or PEM);
 * a CRL that parses is verified with a fixed key (it fails, through the
 * whole signature path) and walked, every entry's date and reason read.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "diag.h"

static int entry(void *arg, const struct diag_serial *s, const unsigned char *e, size_t len)
{
	int64_t when;
	int reason;
	char hex[2 * SERIAL_BYTES + 2];
	(void)arg;
	diag_serial_hex(s, hex, sizeof(hex));
	if (!diag_crl_entry(e, len, &when, &reason))
		(void)diag_crl_reason_name(reason);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key;
	if (!key)
		key = EVP_EC_gen("P-256");
	struct diag_crl c;
	char err[256];
	if (diag_crl_parse(data, size, &c, err, sizeof(err)) == 0) {
		diag_crl_verify(&c, key, err, sizeof(err));
		diag_crl_walk(&c, entry, NULL);
	}
	diag_crl_free(&c);
	return 0;
}
