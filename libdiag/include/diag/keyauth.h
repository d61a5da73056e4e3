/* SPDX-License-Identifier: ISC */
/*
 * keyauth.h - ACME key authorization helpers (RFC 8555 section 8.1, 8.4).
 */
#ifndef DIAG_KEYAUTH_H
#define DIAG_KEYAUTH_H

#include <stddef.h>

/* base64url without padding; out needs 4*ceil(n/3)+1 bytes. Returns length. */
size_t diag_b64url(const unsigned char *in, size_t n, char *out);

/* base64url (padding and standard-alphabet characters tolerated) into out,
 * which needs 3*n/4+3 bytes. Returns the length, or -1 on a bad character. */
long diag_b64url_decode(const char *in, size_t n, unsigned char *out);

/*
 * The DNS-01 TXT value for a key authorization: base64url(SHA-256(ka)),
 * 43 characters. out must hold 44 bytes. Returns 0, or -1 if hashing failed.
 */
int diag_dns01_txt_value(const char *key_authorization, char out[44]);

#endif
