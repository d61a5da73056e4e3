/* SPDX-License-Identifier: ISC */
/*
 * ratelimit.h - Let's Encrypt's rate limits, estimated from local
 * evidence: the certificates in certbot, lego and acme.sh stores, the
 * orders and failed validations in their logs and in cert-manager's
 * objects, and the 429 "rateLimited" problem documents the CA sent.
 *
 * Let's Encrypt publishes no usage: the CA's counters are token buckets
 * (Boulder's ratelimits package, GCRA) that only it sees. Each bucket is
 * replayed here from the events read, as Boulder spends it: a certificate
 * spends its exact-set bucket and, unless it renews a set issued in the
 * 120 days before, its registered domains' buckets; a failed validation
 * spends its identifier's bucket of the account and the consecutive
 * failures bucket (which a valid authorization resets); a new order that
 * is no renewal spends the account's. A spend the bucket cannot pay is
 * not made (the CA would have refused that order). What the evidence
 * cannot show (other machines, other clients, other accounts on the same
 * registered domain) is said, never guessed.
 *
 * Reading is synchronous and local: nothing is asked of the network.
 */
#ifndef DIAG_RATELIMIT_H
#define DIAG_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "diag/acme.h"
#include "diag/finding.h"
#include "diag/render_metrics.h"

/* ---- the limits table ---- */

enum rl_limit {
	RL_DUPLICATE = 0,  /* the same set of names: 5 per 7 days */
	RL_PER_DOMAIN,     /* certificates per registered domain: 50 per 7 days */
	RL_FAILED_AUTHZ,   /* failed validations per identifier per account: 5 per hour */
	RL_NEW_ORDERS,     /* new orders per account: 300 per 3 hours */
	RL_PAUSED,         /* consecutive failed validations: 1,152, then paused */
	RL_NLIMITS
};

struct rl_limit_def {
	const char *id;         /* "duplicate-certificate": finding ratelimit.<id>, metric label */
	const char *title;      /* "duplicate certificates" */
	const char *bucket;     /* what a bucket is per: "exact set of names" */
	int64_t burst;          /* the bucket's size */
	int64_t period_s;       /* count refills per period... */
	int64_t count;
	const char *url;        /* the CA's documentation of it */
};

/* The table (RL_NLIMITS rows, in enum order) and the day its numbers were
 * read from letsencrypt.org/docs/rate-limits. */
const struct rl_limit_def *diag_ratelimit_table(void);
extern const char diag_ratelimit_table_date[];

/* ---- evidence ---- */

struct rl_cert {
	char *set;              /* the names, lower case, sorted, unique, joined by "," */
	char **names;           /* the same, one each */
	size_t nnames;
	int64_t not_before, not_after;  /* Unix seconds */
	int64_t issued;         /* when the CA spent for it: notBefore, plus Boulder's
	                           hour of backdating for Let's Encrypt */
	char *server;           /* the ACME server's host, "" when not recorded */
	char *account;          /* the account URL or id, "" when not recorded */
	char *source;           /* the file it was read from */
	char certid[200];       /* its ARI CertID (RFC 9773), "" without an AKI */
	unsigned char sha256[32];
};

enum rl_event_kind { RL_EV_ORDER, RL_EV_AUTHZ_FAILED, RL_EV_AUTHZ_VALID };

struct rl_event {
	enum rl_event_kind kind;
	int64_t at;             /* Unix seconds */
	char *server, *account; /* "" when unknown */
	char *ident;            /* the identifier (authorizations); the names, joined by
	                           "," (orders) */
	char *key;              /* the object's URL (dedupes repeated polls), "" if none */
	char *source;           /* "FILE line N", "Order ns/name" */
	char *replaces;         /* an order's ARI replaces, NULL if none */
};

struct rl_problem {
	int64_t at;             /* when the CA answered */
	char *server, *account;
	char *type;             /* "urn:ietf:params:acme:error:rateLimited" */
	char *detail;
	long status;            /* HTTP status, 0 if not recorded */
	long retry_after;       /* the Retry-After header in seconds, -1 if none */
	char *source;
};

struct ratelimit_evidence {
	struct rl_cert *certs;
	size_t ncerts, capcerts;
	struct rl_event *events;
	size_t nevents, capevents;
	struct rl_problem *problems;
	size_t nproblems, capproblems;
	size_t names;           /* names of all the certificates (bounded by RL_MAX_EVENTS) */
	size_t over_limit;      /* items not kept past the bounds below */
	int clients;            /* bit per enum acme_store read, bit 3: cert-manager */
};

#define RL_MAX_CERTS 100000
#define RL_MAX_EVENTS 1000000
#define RL_MAX_FILE (64 * 1024 * 1024)   /* a log or object file read whole */
#define RL_MAX_FILES 10000               /* files of one directory */

void ratelimit_evidence_free(struct ratelimit_evidence *ev);

/* "2026-11-30T15:33:00Z" (RFC 3339, UTC; fractions and offsets ignored)
 * as Unix seconds, 0 when it is not one. */
int64_t ratelimit_rfc3339(const char *s);

/*
 * Add what the parser of a source saw. Strings are copied (NULL as "").
 * Return 0, or -1 when out of memory; past the bounds the item is counted
 * in over_limit and 0 is returned.
 */
int ratelimit_add_cert_pem(struct ratelimit_evidence *ev, const char *pem, size_t len,
                           const char *server, const char *account, const char *source,
                           size_t *added);
int ratelimit_add_event(struct ratelimit_evidence *ev, enum rl_event_kind kind, int64_t at,
                        const char *server, const char *account, const char *ident,
                        const char *key, const char *source, const char *replaces);
int ratelimit_add_problem(struct ratelimit_evidence *ev, int64_t at, const char *server,
                          const char *account, const char *type, const char *detail, long status,
                          long retry_after, const char *source);

/*
 * A client's store under dir (NULL: its default): the certificates it
 * keeps (certbot: archive/ with every version and renewal/NAME.conf for the
 * server and account; lego: certificates/ and archives/; acme.sh: each
 * name's folder and its .conf). One ratelimit.source finding says what was
 * read and what was passed over. Returns 0, or -1 with err set when dir is
 * not a directory (nothing read).
 */
int ratelimit_read_store(struct ratelimit_evidence *ev, enum acme_store s, const char *dir,
                         struct diag_report *r, char *err, size_t errlen);

/*
 * A log or capture at path, or every regular file of a directory (at most
 * RL_MAX_FILES): certbot's debug log (requests, responses and their Date),
 * lego's and acme.sh's output, a HAR export, a problem document or a file
 * of JSON lines. Unreadable or hostile parts are passed over and counted
 * in the ratelimit.source finding. Returns 0, or -1 with err set when path
 * cannot be read at all.
 */
int ratelimit_read_log(struct ratelimit_evidence *ev, const char *path, struct diag_report *r,
                       char *err, size_t errlen);

/* ---- judgement ---- */

struct ratelimit_opts {
	int64_t now;            /* Unix seconds; 0: the clock */
	const char *server;     /* only evidence of this ACME server (a URL or a host); NULL: all */
};

/*
 * The findings: ratelimit.<limit id> per bucket the evidence touches (ok,
 * warn when a fifth or less is left, fail when the next order is refused;
 * each with when a slot frees), skip for a limit nothing was seen for;
 * ratelimit.problem per rateLimited (or paused) answer, explained;
 * ratelimit.evidence: what was counted and what it cannot show. Returns 0,
 * or -1 when out of memory.
 */
int diag_ratelimit_judge(const struct ratelimit_evidence *ev, const struct ratelimit_opts *o,
                         struct diag_report *r);

/*
 * The series for Prometheus beside diag_metrics_add_report()'s: per bucket
 * of r's ratelimit findings acme_diag_ratelimit_used, _limit,
 * _window_seconds and _next_slot_timestamp_seconds {limit,name,account,ca};
 * per set of names the newest certificate's
 * acme_diag_certificate_expiry_timestamp_seconds and
 * acme_diag_certificate_renewal_window_start_timestamp_seconds (the start
 * of the ARI window Boulder serves by default) {name,ca}. 0, or -1.
 */
int diag_ratelimit_metrics(const struct ratelimit_evidence *ev, const struct ratelimit_opts *o,
                           const struct diag_report *r, struct diag_metrics *m);

/*
 * Which limit a rateLimited problem detail names (Boulder's current and
 * older wordings), RL_NLIMITS when none (then *registrations is set for
 * the new-account limits, 0 otherwise); the "retry after" time it states
 * into *retry_at (Unix seconds, 0 if none).
 */
enum rl_limit diag_ratelimit_detail(const char *detail, int64_t *retry_at, int *registrations);

#endif
