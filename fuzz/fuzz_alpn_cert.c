/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the TLS-ALPN-01 certificate checks. The bytes are the
 * DER certificate a server sends first, judged for alpn.test under every
 * profile, with and without an expected value (the SHA-256 of a key
 * authorization, as the probe passes it). The properties checked: a
 * verdict and its words agree (words exactly when a check fails, Boulder's
 * and Pebble's prefixes), the names and the fingerprint are always given
 * for a certificate that parses, the value is kept only when well-formed.
 *   make fuzz FUZZ_SECONDS=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define PREFIX "Incorrect validation certificate for tls-alpn-01 challenge. "

static void check(const uint8_t *data, size_t size, enum http01_profile p,
                  const unsigned char *expected)
{
	struct tlsalpn_cert_query q = { .domain = "alpn.test", .expected = expected, .profile = p,
	                                .from = "[2001:db8::1]:443", .ncerts = 1 };
	struct tlsalpn_cert c;
	if (diag_tlsalpn_cert_check(data, size, &q, &c)) {
		diag_tlsalpn_cert_free(&c);  /* out of memory: nothing to check */
		return;
	}
	if (strlen(c.sha256) != 64)
		abort();
	if ((c.check == TLSALPN_CERT_OK) != (c.why == NULL))
		abort();
	if (c.check != TLSALPN_CERT_UNPARSABLE) {
		if (!c.names || !c.subject || !c.issuer)
			abort();
		if (c.why && strncmp(c.why, PREFIX, strlen(PREFIX)))
			abort();
		if (c.why && p != HTTP01_PEBBLE &&
		    strncmp(c.why + strlen(PREFIX), "Requested alpn.test from [2001:db8::1]:443. ", 44))
			abort();
	}
	if (!expected && c.check == TLSALPN_CERT_VALUE)
		abort();  /* nothing to compare with */
	if (c.check == TLSALPN_CERT_OK && p != HTTP01_PEBBLE && (!c.value_ok || !c.acme_critical))
		abort();
	diag_tlsalpn_cert_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char expected[32];
	if (diag_tlsalpn_digest("token.thumbprint", expected))
		return 0;
	const enum http01_profile profiles[] = {HTTP01_LETSENCRYPT, HTTP01_PEBBLE, HTTP01_RFC8555};
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		check(data, size, profiles[i], expected);
		check(data, size, profiles[i], NULL);
	}
	return 0;
}
