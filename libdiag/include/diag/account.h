/* SPDX-License-Identifier: ISC */
/*
 * account.h - is this ACME account usable? Directory, key, account lookup
 * by key, status, kid agreement, contacts, clock. Read-only: no account,
 * order or authorization is ever created or changed.
 */
#ifndef DIAG_ACCOUNT_H
#define DIAG_ACCOUNT_H

#include "diag/acme.h"
#include "diag/dns.h"
#include "diag/finding.h"
#include "diag/probe.h"

struct account_opts {
	const char *directory;     /* directory URL (required) */
	const struct acme_key *key;/* required; must outlive the probe */
	const char *key_path;      /* for the file hygiene check; NULL to skip */
	const char *kid;           /* the account URL the client uses; NULL: unknown */
	const char *contact;       /* a contact the client has on record; NULL: none */
	const char *ca_bundle;     /* NULL: the system's trust store */
	int insecure;              /* 1: no TLS verification (explicit request only) */
	int timeout_ms;            /* per request and per DNS question; <= 0: 10000 */
	double clock_warn_s, clock_fail_s;  /* <= 0: DIAG_CLOCK_WARN_S / DIAG_CLOCK_FAIL_S */
	int no_clock;              /* 1: no clock.skew from the directory's Date (the
	                              clock is measured beside, acme-doctor) */
	/* where the contacts' domains are looked up (diag_resolvers) */
	const struct diag_server *ns;  /* --ns servers, nns of them; 0: resolv_conf's */
	size_t nns;
	const char *resolv_conf;   /* NULL: /etc/resolv.conf */
	int family;                /* 0 both, 4 or 6: resolvers of that family only */
	struct dns_engine *engine; /* shared engine on the same loop; NULL: the probe's own */
};

/*
 * Start the account checks on loop (see probe.h): directory and key file,
 * the account found by its key (onlyReturnExisting), kid, status, and the
 * contacts' domains (MX, A, AAAA at every resolver, at once). Strings and
 * ns are copied; key and engine are not. NULL only when out of memory.
 */
struct diag_probe *diag_account_start(struct diag_loop *loop, const struct account_opts *o,
                                      struct diag_report *r, diag_done_cb done, void *arg);
/* The same on a loop of its own, to the end. Returns 0, or -1 (an error
 * finding says why). */
int diag_account_run(const struct account_opts *o, struct diag_report *r);

/*
 * Lint one contact URI as Boulder does. Returns DIAG_OK, or DIAG_FAIL with
 * Boulder's wording in why (e.g. "contact email has forbidden domain
 * \"example.com\"").
 */
enum diag_status diag_contact_lint(const char *contact, char *why, size_t whylen);

#endif
