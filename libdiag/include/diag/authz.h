/* SPDX-License-Identifier: ISC */
/*
 * authz.h - authorization, order and challenge state from their URLs, with
 * the CA's errors explained. Read-only.
 */
#ifndef DIAG_AUTHZ_H
#define DIAG_AUTHZ_H

#include "diag/acme.h"
#include "diag/finding.h"
#include "diag/probe.h"

struct authz_opts {
	const char *const *urls;   /* authorization, order or challenge URLs (copied) */
	size_t nurls;
	const char *directory;     /* needed to sign (newNonce); NULL: plain GET */
	const struct acme_key *key;/* NULL: plain GET (Boulder allows it; Pebble does not);
	                              must outlive the probe */
	const char *kid;           /* account URL for POST-as-GET */
	const char *ca_bundle;     /* NULL: the system's trust store */
	int insecure;              /* 1: no TLS verification (explicit request only) */
	int timeout_ms;            /* per request; <= 0: 10000 */
	int64_t now_s;             /* "now" for time left; 0: the system clock */
};

/* Resources fetched per run (orders expand; Let's Encrypt orders hold up
 * to 100 identifiers); what is left out is counted in acme.authz.limit. */
#define AUTHZ_MAX_FETCH 300
/* Fetches in flight at once. */
#define AUTHZ_INFLIGHT 16
/* The whole run ends within this many times timeout_ms; what is not
 * fetched by then gets an acme.fetch error. */
#define AUTHZ_RUN_TIMEOUTS 6

/*
 * Start on loop (see probe.h): every URL fetched, an order's
 * authorizations concurrently, findings in the order the URLs and the
 * orders list them. URLs an order or a challenge points to are followed
 * only on the origin of the URL given or of the directory. NULL only when
 * out of memory.
 */
struct diag_probe *diag_authz_start(struct diag_loop *loop, const struct authz_opts *o,
                                    struct diag_report *r, diag_done_cb done, void *arg);
/* The same on a loop of its own, to the end. 0, or -1 (an error finding
 * says why). */
int diag_authz_run(const struct authz_opts *o, struct diag_report *r);

/*
 * The action for an ACME error type (short name, e.g. "connection") and
 * detail, in a sentence or two; NULL when nothing specific is known.
 */
const char *diag_acme_error_hint(const char *type, const char *detail);

#endif
