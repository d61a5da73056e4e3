/*
 * authz.h - authorization, order and challenge state from their URLs, with
 * the CA's errors explained. Read-only.
 */
#ifndef DIAG_AUTHZ_H
#define DIAG_AUTHZ_H

#include "diag/acme.h"
#include "diag/finding.h"

struct authz_opts {
	const char *const *urls;   /* authorization, order or challenge URLs */
	size_t nurls;
	const char *directory;     /* needed to sign (newNonce); NULL: plain GET */
	const struct acme_key *key;/* NULL: plain GET (Boulder allows it; Pebble does not) */
	const char *kid;           /* account URL for POST-as-GET */
	const char *ca_bundle;
	int insecure;
	int timeout_ms;
	int64_t now_s;             /* "now" for time left; 0: the system clock */
};

#define AUTHZ_MAX_FETCH 64     /* resources fetched per run (orders expand) */

int diag_authz_run(const struct authz_opts *o, struct diag_report *r);

/*
 * The action for an ACME error type (short name, e.g. "connection") and
 * detail, in a sentence or two; NULL when nothing specific is known.
 */
const char *diag_acme_error_hint(const char *type, const char *detail);

#endif
