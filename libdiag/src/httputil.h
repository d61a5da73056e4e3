/* SPDX-License-Identifier: ISC */
/* httputil.h - libdiag internal: small HTTP helpers shared by the probes. */
#ifndef DIAG_HTTPUTIL_H
#define DIAG_HTTPUTIL_H

#include <stddef.h>

/*
 * If the header line data (len bytes, as curl's header callback gets it)
 * is "Name: value" for name (case-insensitive, name without the colon),
 * copy the value without surrounding blanks and the line end into out
 * (truncated to outlen - 1) and return 1; else return 0.
 */
int diag_http_header(const char *data, size_t len, const char *name, char *out, size_t outlen);

/*
 * Do URLs a and b have the same origin (RFC 6454: scheme, host and port,
 * the scheme's default port when none is written)? 0 when either does not
 * parse as a URL.
 */
int diag_url_same_origin(const char *a, const char *b);

#endif
