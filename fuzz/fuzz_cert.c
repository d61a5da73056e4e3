/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: certificate input. The bytes are read as a PEM or DER
 * certificate file (bundles, PKCS#7), then every certificate found goes
 * through what the checks read of it: leaves, issuers, distribution
 * points, AIA, serial, the evidence.
 */
#include <stdint.h>
#include <stdlib.h>

#include "diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_certs c = {0};
	char err[256];
	if (diag_certs_add_buf(&c, data, size, "fuzz", err, sizeof(err)) > 0) {
		diag_certs_mark_leaves(&c);
		for (size_t i = 0; i < c.n; i++) {
			X509 *x = c.v[i].x;
			free(diag_cert_crl_url(x));
			free(diag_cert_ocsp_url(x));
			free(diag_cert_ca_issuers_url(x));
			diag_cert_has_crl_url(x, "http://x/1.crl");
			json_decref(diag_cert_json(x));
			if (i)
				diag_cert_issued_by(x, c.v[0].x);
		}
	}
	diag_certs_free(&c);
	return 0;
}
