/* SPDX-License-Identifier: ISC */
/*
 * dnscheck.h - the DNS side of DNS-01: zone detection, SOA-filtering
 * resolvers, authoritative servers, _acme-challenge TXT at every server,
 * CNAME delegation, negative caching, propagation wait, CAA; and, with no
 * domain, an audit of the given resolvers.
 */
#ifndef DIAG_DNSCHECK_H
#define DIAG_DNSCHECK_H

#include <stddef.h>

#include "diag/dns.h"
#include "diag/finding.h"
#include "diag/probe.h"

struct dnscheck_opts {
	const char *domain;              /* NULL: audit the resolvers in ns */
	int family;                      /* 0 both, 4 or 6: authoritative addresses used */
	const struct diag_server *ns;    /* resolvers to use; nns 0: system resolvers */
	size_t nns;
	const char *resolv_conf;         /* NULL: /etc/resolv.conf */
	int timeout_ms;                  /* per query, retries included; <= 0: 5000 */
	const char *const *expect;       /* expected TXT values (all must be present) */
	size_t nexpect;
	int wait_s;                      /* 0: no waiting; else poll until agreement */
	int interval_s;                  /* poll interval for wait_s; <= 0: 5 */
	const char *ca_domain;           /* NULL: "letsencrypt.org" */
	const char *account_uri;         /* NULL: unknown */
	const char *method;              /* NULL: "dns-01" */
	struct dns_engine *engine;       /* NULL: the probe's own (timeout_ms); else shared,
	                                    and its timeout applies */
	int zone_only;                   /* 1: the zone, its nameservers and CAA only (what
	                                    HTTP-01 needs): no SOA walk per resolver, no
	                                    CNAME, TXT or negative caching */
	int pebble_strings;              /* 1: judge TXT as Pebble 2.4 does, each
	                                    character-string of a record on its own */
	int resolvers_audited;           /* 1: an audit of the same resolvers runs beside
	                                    (acme-doctor): no dns.resolver.reachable and
	                                    dns.resolver.soa-filtered findings here */
};

/* Limits on remote data. */
#define DNSCHECK_MAX_CNAME 8        /* CNAME hops followed */
#define DNSCHECK_MAX_DEPTH 8        /* delegations followed down */
#define DNSCHECK_MAX_NS 16          /* NS names used per zone */
#define DNSCHECK_MAX_ADDRS 32       /* authoritative addresses queried per zone */
#define DNSCHECK_MAX_RESOLVERS 256  /* --ns servers */

/*
 * Start every applicable check on loop (see probe.h); findings go to r.
 * o must stay valid until done. NULL when out of memory.
 */
struct diag_probe *diag_dnscheck_start(struct diag_loop *loop, const struct dnscheck_opts *o,
                                       struct diag_report *r, diag_done_cb done, void *arg);

/*
 * The same, alone on a loop of its own, to the end. Returns 0; -1 when the
 * run could not start or finish, after adding an error finding that says why.
 */
int diag_dnscheck_run(const struct dnscheck_opts *o, struct diag_report *r);

#endif
