/* SPDX-License-Identifier: ISC */
/*
 * doctor.h - every probe that applies to a set of names, at once, on one
 * loop: what acme-doctor (and acme-dash) run.
 *
 * For each name: DNS (zone and SOA walk at the resolvers, authoritative
 * servers, _acme-challenge TXT, CNAME, CAA for the CA's domain) unless
 * only HTTP-01 is asked for, and HTTP-01 per address unless the name is a
 * wildcard or only DNS-01 is asked for. Once for all names: an audit of the
 * resolvers (when DNS-01 is checked), the CA's directory, the clock against
 * it (and NTP servers), the account (with a key), authorizations (with
 * URLs) and a capture of requests (with one). Names share one DNS engine:
 * a question asked for one name is not asked again for another, and a
 * dead server costs one timeout in all.
 *
 * Findings about a name are tagged with it (finding->domain, through a
 * report view per name); the others have no domain.
 */
#ifndef DIAG_DOCTOR_H
#define DIAG_DOCTOR_H

#include <stddef.h>

#include "diag/acme.h"
#include "diag/dns.h"
#include "diag/finding.h"
#include "diag/http01.h"
#include "diag/jws.h"
#include "diag/probe.h"

#define DOCTOR_LETSENCRYPT "https://acme-v02.api.letsencrypt.org/directory"
#define DOCTOR_MAX_DOMAINS 100   /* names per run (an order holds at most 100) */

enum doctor_challenge {
	DOCTOR_AUTO = 0,   /* what each name allows: HTTP-01 and DNS-01, DNS-01 for a wildcard */
	DOCTOR_HTTP01,
	DOCTOR_DNS01,
};

/* "auto", "http-01", "dns-01" -> 0 and the value; -1 if unknown. */
int diag_doctor_challenge_parse(const char *s, enum doctor_challenge *out);

struct doctor_opts {
	const char *const *domains;     /* as given ("*.example.com" for a wildcard) */
	size_t ndomains;
	enum doctor_challenge challenge;
	int family;                     /* 0, 4 or 6 */
	const struct diag_server *ns;   /* the ACME client's resolvers; nns 0: the system's */
	size_t nns;
	const char *resolv_conf;        /* NULL: /etc/resolv.conf */
	int timeout_ms;                 /* per query, connection or request; <= 0: 5000 */
	const char *directory;          /* NULL: DOCTOR_LETSENCRYPT */
	const char *ca_bundle;          /* NULL: the system's trust store */
	int insecure;
	enum http01_profile profile;    /* whose HTTP-01 validation to emulate */
	unsigned clients;               /* the ACME clients whose own checks count
	                                   (DIAG_CLIENT_*; 0: none, the CA's view) ... */
	int clients_given;              /* ... when set; else DIAG_CLIENTS_DEFAULT */
	const char *ca_domain;          /* CAA issuer domain; NULL: the directory's
	                                   caaIdentities, else letsencrypt.org */
	/* the account (all optional) */
	const struct acme_key *key;     /* account checks run when set */
	const char *key_path;
	const char *kid;
	const char *contact;
	/* more to check (optional) */
	const char *const *authz;       /* authorization/order/challenge URLs */
	size_t nauthz;
	const struct jws_capture *capture;
	const char *const *ntp;         /* SNTP servers for the clock */
	size_t nntp;
	/* the challenge the client is answering (optional) */
	const char *const *expect;      /* TXT values every server must have */
	size_t nexpect;
	const char *token;              /* HTTP-01 token; NULL: a random probe token */
	const char *key_authorization;  /* HTTP-01 body (each challenge has its own token:
	                                   a DNS-01 value goes in expect, hashed) */
};

/* ---- a session and its checks (batches) ---- */

/* One name to check, with what is its own (a cert-manager Challenge gives
 * its type and value); NULL or DOCTOR_AUTO: the session's. The strings
 * must stay valid until the check is done. */
struct doctor_name {
	const char *name;               /* "example.com" or "*.example.com" */
	enum doctor_challenge challenge;
	const char *const *expect;      /* TXT values (DNS-01) */
	size_t nexpect;
	const char *token;              /* HTTP-01 */
	const char *key_authorization;
};

struct diag_doctor;

/*
 * A session: what every name shares (the DNS engine, the resolver audit,
 * the directory, the clock, the account, authorizations, capture), with
 * its findings in r. ready(arg) runs once the directory and the resolver
 * audit are done (the shared findings that explain names' findings are
 * in r); done(arg) once every shared probe is done. Both run from the
 * loop. NULL when out of memory.
 */
struct diag_doctor *diag_doctor_new(struct diag_loop *loop, const struct doctor_opts *o,
                                    struct diag_report *r, diag_done_cb ready,
                                    diag_done_cb done, void *arg);
int diag_doctor_ready(const struct diag_doctor *d);
struct dns_engine *diag_doctor_engine(struct diag_doctor *d);
/* Cancel what still runs and free it; its checks must be done or
 * cancelled first. NULL-safe. */
void diag_doctor_free(struct diag_doctor *d);

/*
 * Check one name in session d: HTTP-01 at once, DNS once the directory is
 * read; findings into r (a report of its own, or a view). A probe (see
 * probe.h). NULL when out of memory.
 */
struct diag_probe *diag_doctor_check(struct diag_doctor *d, const struct doctor_name *n,
                                     struct diag_report *r, diag_done_cb done, void *arg);

/* ---- the usual run ---- */

/*
 * Start every probe that applies (see probe.h): a session and a check per
 * name, each into a view of r. o, and everything it points to, must stay
 * valid until done. NULL when out of memory.
 */
struct diag_probe *diag_doctor_start(struct diag_loop *loop, const struct doctor_opts *o,
                                     struct diag_report *r, diag_done_cb done, void *arg);
/* The same on a loop of its own, to the end. 0, or -1 (an error finding
 * doctor.run says why). */
int diag_doctor_run(const struct doctor_opts *o, struct diag_report *r);

/*
 * Put a finished report in reading order: per name in the order given (its
 * DNS-01 findings, then HTTP-01), then the resolvers, ACME, capture and
 * clock findings; arrival order within each. o NULL: by area only (one
 * name's report).
 */
void diag_doctor_sort(struct diag_report *r, const struct doctor_opts *o);

/* The section a finding belongs to: "DNS-01", "HTTP-01", "resolvers",
 * "ACME", "capture", "clock", "cert-manager", or "other". */
const char *diag_doctor_area(const struct diag_finding *f);

#endif
