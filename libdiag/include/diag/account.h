/*
 * account.h - is this ACME account usable? Directory, key, account lookup
 * by key, status, kid agreement, contacts, clock. Read-only: no account,
 * order or authorization is ever created or changed.
 */
#ifndef DIAG_ACCOUNT_H
#define DIAG_ACCOUNT_H

#include "diag/acme.h"
#include "diag/finding.h"

struct account_opts {
	const char *directory;     /* directory URL */
	const struct acme_key *key;
	const char *key_path;      /* for the file hygiene check; NULL to skip */
	const char *kid;           /* the account URL the client uses; NULL: unknown */
	const char *contact;       /* a contact the client has on record; NULL: none */
	const char *ca_bundle;
	int insecure;
	int timeout_ms;
	double clock_warn_s, clock_fail_s;
};

int diag_account_run(const struct account_opts *o, struct diag_report *r);

/*
 * Lint one contact URI as Boulder does. Returns DIAG_OK, or DIAG_FAIL with
 * Boulder's wording in why (e.g. "contact email has forbidden domain
 * \"example.com\"").
 */
enum diag_status diag_contact_lint(const char *contact, char *why, size_t whylen);

#endif
