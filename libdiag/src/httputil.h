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

#endif
