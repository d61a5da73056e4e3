/* SPDX-License-Identifier: ISC */
/*
 * caa.h - CAA evaluation (RFC 8659, with RFC 8657 accounturi and
 * validationmethods), as Let's Encrypt's Boulder decides it.
 */
#ifndef DIAG_CAA_H
#define DIAG_CAA_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

struct caa_record {
	uint8_t flags;
	const char *tag;    /* "issue", "issuewild", ... (case-insensitive) */
	const char *value;  /* the value as published */
};

struct caa_query {
	const char *ca_domain;    /* the CA's issuer domain, e.g. "letsencrypt.org" */
	const char *account_uri;  /* NULL: unknown (accounturi cannot be checked) */
	const char *method;       /* "dns-01", "http-01", ... */
	int wildcard;             /* the name is a wildcard */
};

enum caa_result {
	CAA_ALLOWED = 0,          /* no relevant records, or one permits us */
	CAA_DENIED,               /* relevant records exist and none permits */
	CAA_UNKNOWN_ACCOUNT,      /* permitted only for an accounturi we were not given */
};

/*
 * Decide for the closest non-empty RRset. why receives one sentence naming
 * the deciding record or rule.
 */
enum caa_result diag_caa_evaluate(const struct caa_record *recs, size_t n,
                                  const struct caa_query *q,
                                  char *why, size_t whylen);

/*
 * A CAA RR as received (flags, tag length, tag, value; whatever ldns made
 * of the rdata) into rec. tag and value are malloc'd NUL-terminated copies
 * that rec points to; the caller frees them. -1 if the rdata is malformed.
 */
int diag_caa_from_rr(const ldns_rr *rr, struct caa_record *rec, char **tag, char **value);

#endif
