/* SPDX-License-Identifier: ISC */
/*
 * addrs.h - libdiag internal: a name's A and AAAA records as a CA's
 * validator looks them up, asked of every chosen resolver at once, and the
 * findings about them that the probes which connect to every address
 * (HTTP-01, TLS-ALPN-01) share: <area>.dns, <area>.limit, <area>.reserved.
 * The ids are the caller's, so each probe's source names its own.
 */
#ifndef DIAG_ADDRS_H
#define DIAG_ADDRS_H

#include <stddef.h>

#include "diag/dns.h"
#include "diag/finding.h"
#include "diag/http01.h"
#include "diag/probe.h"

/* Addresses of one family, as text, in the order of the answer. */
struct addr_list {
	char (*v)[48];
	size_t n, cap;
};

/* 0, or -1 when out of memory. */
int addr_list_push(struct addr_list *l, const char *ip);

/* Append every address of type t (A or AAAA) in q's answer (none when q
 * has no reply) to list. 0, or -1 when out of memory. */
int addrs_from_answer(const struct dns_q *q, ldns_rr_type t, struct addr_list *list);

/* A resolver asked for the name's addresses. */
struct addr_resolver {
	struct diag_server srv;
	struct dns_q *qa, *q6;  /* the engine's; NULL when not asked (-4, -6) */
};

/* The finding ids of one probe: "http01.dns", "http01.limit", ... */
struct addr_ids {
	const char *dns, *limit, *reserved;
};

struct addr_lookup {
	/* set by addr_lookup_init() */
	struct diag_report *r;
	const char *domain;           /* the caller's copy; outlives the lookup */
	int family;                   /* 0 both, 4, 6 */
	const struct addr_ids *ids;
	struct dns_engine *eng;       /* shared, or own (freed by addr_lookup_cancel) */
	int own_engine;
	struct addr_resolver *res;
	size_t nres;
	/* while asking */
	size_t pending;               /* answers still due, plus a guard */
	int oom;
	void (*done)(void *arg);
	void *done_arg;
	/* once read (addr_lookup_read) */
	const struct addr_resolver *used;  /* the first that answered; NULL: none */
	struct addr_list v4, v6;      /* every address `used` gave */
	size_t n4, n6;                /* how many of them are probed (at most max per family) */
	size_t max_per_family;
};

/*
 * Set a lookup up: the resolvers (ns[0..nns), else resolv_conf's, see
 * diag_resolvers), the engine (shared, else one of its own on loop with a
 * timeout of min(timeout_ms, 5 s)). 0, or -1 when out of memory.
 */
int addr_lookup_init(struct addr_lookup *a, struct diag_loop *loop, struct diag_report *r,
                     const char *domain, int family, const struct addr_ids *ids,
                     struct dns_engine *shared, int timeout_ms, const struct diag_server *ns,
                     size_t nns, const char *resolv_conf, size_t max_per_family);

/*
 * Ask every resolver for A and AAAA (not the family left out) at once;
 * done(arg) runs once every answer is in, maybe before this returns.
 * Returns 0, or -1 when there is no usable resolver: then an error finding
 * ids->dns says so, naming resolv_conf, and done never runs.
 */
int addr_lookup_start(struct addr_lookup *a, const char *resolv_conf,
                      void (*done)(void *arg), void *arg);

/*
 * After done: choose the resolver whose answer is used, read its
 * addresses, and report them for the CA profile p: ids->dns (the addresses
 * and what the other resolvers said: ok; warn when they disagree or one did
 * not answer; fail or error when there is no address, or when out of
 * memory), ids->limit when a family has more addresses than are probed
 * (warn under rfc8555, where the CA may use any, with limit_hint; NULL: a
 * generic one), and ids->reserved per address Let's Encrypt refuses
 * (letsencrypt only). Then start(arg) when there are addresses to probe;
 * when there are none, probe has nothing left to do (diag_probe_finish).
 */
void addr_lookup_report(struct addr_lookup *a, enum http01_profile p, const char *limit_hint,
                        struct diag_probe *probe, void (*start)(void *arg), void *arg);

/* ca_id under rfc8555: the CA may use any of the n addresses probed, so
 * the worst of status(arg, i) over them decides. */
struct diag_finding *addr_report_ca_any(struct addr_lookup *a, const char *ca_id, size_t n,
                                        enum diag_status (*status)(void *arg, size_t i),
                                        void *arg);

/* The i-th probed address: IPv6 first (as the CA prefers it), then IPv4;
 * i < n6 + n4. */
const char *addr_probed(const struct addr_lookup *a, size_t i);

/* Ask srv for name's records of type t on the lookup's engine with
 * cb(arg); *pending counts the answers still due (cb may run before this
 * returns). NULL when out of memory (then cb never runs). */
struct dns_q *addr_ask(struct addr_lookup *a, const struct diag_server *srv, const char *name,
                       ldns_rr_type t, dns_ask_cb cb, void *arg, size_t *pending);

/* Detach: the lookup's callbacks are forgotten, an own engine is freed. */
void addr_lookup_cancel(struct addr_lookup *a);
/* Free what the lookup holds (after cancel). */
void addr_lookup_free(struct addr_lookup *a);

#endif
