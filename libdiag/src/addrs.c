/* SPDX-License-Identifier: ISC */
/*
 * addrs.c - a name's addresses, asked of every resolver at once, and the
 * findings about them (see addrs.h). Moved here from http01.c so that
 * HTTP-01 and TLS-ALPN-01 look addresses up and word them alike.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrs.h"

/* ---- addresses from DNS answers ---- */

int addr_list_push(struct addr_list *l, const char *ip)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		void *v = realloc(l->v, cap * sizeof(*l->v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], sizeof(l->v[0]), "%s", ip);
	return 0;
}

int addrs_from_answer(const struct dns_q *q, ldns_rr_type t, struct addr_list *list)
{
	ldns_rr_list *l = dns_q_answer(q, t, NULL);
	int ret = 0;
	for (size_t i = 0; l && !ret && i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (!ldns_rr_rd_count(rr))
			continue;
		char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		if (!s || addr_list_push(list, s))
			ret = -1;
		free(s);
	}
	ldns_rr_list_deep_free(l);
	return ret;
}

static int addr_list_has(const struct addr_list *l, const char *ip)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], ip))
			return 1;
	return 0;
}

/* The same addresses, in any order? */
static int same_addresses(const struct addr_list *a, const struct addr_list *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (!addr_list_has(b, a->v[i]) || !addr_list_has(a, b->v[i]))
			return 0;
	return 1;
}

/* ---- setting up, asking, reading ---- */

int addr_lookup_init(struct addr_lookup *a, struct diag_loop *loop, struct diag_report *r,
                     const char *domain, int family, const struct addr_ids *ids,
                     struct dns_engine *shared, int timeout_ms, const struct diag_server *ns,
                     size_t nns, const char *resolv_conf, size_t max_per_family)
{
	a->r = r;
	a->domain = domain;
	a->family = family;
	a->ids = ids;
	a->max_per_family = max_per_family;
	a->eng = shared;
	if (!a->eng) {
		a->eng = dns_engine_new(loop, timeout_ms > 0 && timeout_ms < 5000 ? timeout_ms : 5000);
		a->own_engine = 1;
		if (!a->eng)
			return -1;
	}
	size_t cap = nns > 64 ? nns : 64;  /* diag_resolvers reads at most 64 from a file */
	struct diag_server *srv = calloc(cap, sizeof(*srv));
	a->res = calloc(cap, sizeof(*a->res));
	if (srv && a->res) {
		a->nres = diag_resolvers(ns, nns, resolv_conf, 0, srv, cap);
		for (size_t i = 0; i < a->nres; i++)
			a->res[i].srv = srv[i];
	}
	free(srv);
	return a->res && srv ? 0 : -1;
}

struct dns_q *addr_ask(struct addr_lookup *a, const struct diag_server *srv, const char *name,
                       ldns_rr_type t, dns_ask_cb cb, void *arg, size_t *pending)
{
	(*pending)++;
	struct dns_q *q = dns_ask(a->eng, srv, name, t, LDNS_RR_CLASS_IN, DNS_Q_RD, cb, arg);
	if (!q)
		(*pending)--;
	return q;
}

static void on_answer(void *arg, struct dns_q *q)
{
	(void)q;
	struct addr_lookup *a = arg;
	if (--a->pending == 0)
		a->done(a->done_arg);
}

int addr_lookup_start(struct addr_lookup *a, const char *resolv_conf,
                      void (*done)(void *arg), void *arg)
{
	if (!a->nres) {
		struct diag_finding *f = diag_add(a->r, DIAG_ERROR, a->ids->dns, a->domain,
		                                  "no usable nameserver in %s",
		                                  resolv_conf ? resolv_conf : "/etc/resolv.conf");
		diag_set_hint(f, "Name a resolver with --ns SERVER.");
		return -1;
	}
	a->done = done;
	a->done_arg = arg;
	a->pending = 1;  /* a guard: answers may come before dns_ask returns */
	for (size_t i = 0; i < a->nres; i++) {
		struct addr_resolver *rs = &a->res[i];
		if (a->family != 6 && !(rs->qa = addr_ask(a, &rs->srv, a->domain, LDNS_RR_TYPE_A,
		                                          on_answer, a, &a->pending)))
			a->oom = 1;
		if (a->family != 4 && !(rs->q6 = addr_ask(a, &rs->srv, a->domain, LDNS_RR_TYPE_AAAA,
		                                          on_answer, a, &a->pending)))
			a->oom = 1;
	}
	on_answer(a, NULL);
	return 0;
}

static const struct addr_resolver *choose_resolver(const struct addr_lookup *a);

static int addr_lookup_read(struct addr_lookup *a)
{
	if (a->oom)
		return -1;
	a->used = choose_resolver(a);
	if (a->used && (addrs_from_answer(a->used->qa, LDNS_RR_TYPE_A, &a->v4) ||
	                addrs_from_answer(a->used->q6, LDNS_RR_TYPE_AAAA, &a->v6)))
		return -1;
	a->n4 = a->v4.n < a->max_per_family ? a->v4.n : a->max_per_family;
	a->n6 = a->v6.n < a->max_per_family ? a->v6.n : a->max_per_family;
	return 0;
}

const char *addr_probed(const struct addr_lookup *a, size_t i)
{
	return i < a->n6 ? a->v6.v[i] : a->v4.v[i - a->n6];
}

void addr_lookup_cancel(struct addr_lookup *a)
{
	if (!a->eng)
		return;
	dns_engine_forget(a->eng, a);
	if (a->own_engine)
		dns_engine_free(a->eng);
	a->eng = NULL;
}

void addr_lookup_free(struct addr_lookup *a)
{
	free(a->res);
	free(a->v4.v);
	free(a->v6.v);
	a->res = NULL;
	a->v4.v = a->v6.v = NULL;
}

/* ---- what the resolvers said ---- */

/* A reply the CA would take as the answer: NOERROR or NXDOMAIN. */
static int answered(const struct dns_q *q)
{
	int rc = dns_q_rcode(q);
	return rc == LDNS_RCODE_NOERROR || rc == LDNS_RCODE_NXDOMAIN;
}

/* Did rs answer every question asked of it? */
static int resolver_answered(const struct addr_resolver *rs)
{
	return (rs->qa || rs->q6) && (!rs->qa || answered(rs->qa)) && (!rs->q6 || answered(rs->q6));
}

/* A query's outcome in words: the rcode of a reply, or why there is none. */
static const char *q_outcome(const struct dns_q *q)
{
	int rc = dns_q_rcode(q);
	if (rc >= 0) {
		const ldns_lookup_table *t = ldns_lookup_by_id(ldns_rcodes, rc);
		return t ? t->name : "unknown rcode";
	}
	return q->errtext ? q->errtext : dns_status_text(q->status);
}

/*
 * What rs did not answer, into buf: "timed out" when every question failed
 * alike, else "AAAA: SERVFAIL" or "A: timed out; AAAA: SERVFAIL". Returns
 * how many questions were not answered.
 */
static int resolver_failure(const struct addr_resolver *rs, char *buf, size_t len)
{
	int fa = rs->qa && !answered(rs->qa), f6 = rs->q6 && !answered(rs->q6);
	int asked = (rs->qa != NULL) + (rs->q6 != NULL);
	buf[0] = '\0';
	if (fa + f6 == asked && (asked == 1 || !strcmp(q_outcome(rs->qa), q_outcome(rs->q6))))
		snprintf(buf, len, "%s", q_outcome(fa ? rs->qa : rs->q6));
	else if (fa && f6)
		snprintf(buf, len, "A: %s; AAAA: %s", q_outcome(rs->qa), q_outcome(rs->q6));
	else if (fa || f6)
		snprintf(buf, len, "%s: %s", fa ? "A" : "AAAA", q_outcome(fa ? rs->qa : rs->q6));
	return fa + f6;
}

/* The resolver whose answer is used: the first (in the order given) that
 * answered every question, else the first that answered one. */
static const struct addr_resolver *choose_resolver(const struct addr_lookup *a)
{
	for (size_t i = 0; i < a->nres; i++)
		if (resolver_answered(&a->res[i]))
			return &a->res[i];
	for (size_t i = 0; i < a->nres; i++)
		if (answered(a->res[i].qa) || answered(a->res[i].q6))
			return &a->res[i];
	return NULL;
}

/* Does rs give other addresses than the resolver used, for a type both
 * answered? 1 yes, 0 no, -1 out of memory; its address counts go to n4, n6. */
static int resolver_differs(const struct addr_lookup *a, const struct addr_resolver *rs,
                            size_t *n4, size_t *n6)
{
	const struct addr_resolver *u = a->used;
	struct addr_list l4 = {0}, l6 = {0};
	int differ = -1;
	if (!addrs_from_answer(rs->qa, LDNS_RR_TYPE_A, &l4) && !addrs_from_answer(rs->q6, LDNS_RR_TYPE_AAAA, &l6))
		differ = (answered(rs->qa) && answered(u->qa) && !same_addresses(&l4, &a->v4)) ||
		         (answered(rs->q6) && answered(u->q6) && !same_addresses(&l6, &a->v6));
	*n4 = l4.n;
	*n6 = l6.n;
	free(l4.v);
	free(l6.v);
	return differ;
}

/* Append to the malloc'd *s; out of memory: *s becomes NULL. */
static void cat(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cat(char **s, const char *fmt, ...)
{
	if (!*s)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *add = diag_vasprintf(fmt, ap);
	va_end(ap);
	char *n = add ? diag_asprintf("%s%s", *s, add) : NULL;
	free(add);
	free(*s);
	*s = n;
}

/*
 * For the summary, what every resolver said that the answer used does not
 * show: "; 192.0.2.99 did not answer (timed out)", "; 192.0.2.53 answers
 * other addresses (1 IPv4, 0 IPv6)". NULL when out of memory.
 */
static char *resolver_notes(const struct addr_lookup *a, int *disagree, int *partial)
{
	char *s = diag_strdup("");
	for (size_t i = 0; i < a->nres; i++) {
		const struct addr_resolver *rs = &a->res[i];
		char fail[256];
		if (resolver_failure(rs, fail, sizeof(fail))) {
			cat(&s, "; %s did not answer (%s)", rs->srv.label, fail);
			*partial |= rs == a->used;
		}
		if (rs == a->used)
			continue;
		size_t n4, n6;
		int d = resolver_differs(a, rs, &n4, &n6);
		if (d < 0)
			cat(&s, "; %s: not compared (out of memory)", rs->srv.label);
		else if (d)
			cat(&s, "; %s answers other addresses (%zu IPv4, %zu IPv6)", rs->srv.label, n4, n6);
		*disagree |= d > 0;
	}
	return s;
}

static json_t *query_json(const struct dns_q *q, ldns_rr_type t)
{
	if (!q)
		return json_null();
	struct addr_list l = {0};
	json_t *addrs = json_array();
	if (addrs && !addrs_from_answer(q, t, &l))
		for (size_t i = 0; i < l.n; i++)
			json_array_append_new(addrs, diag_json_str(l.v[i]));
	free(l.v);
	return json_pack("{s:o, s:o, s:I, s:b}", "outcome", diag_json_str(q_outcome(q)),
	                 "addresses", addrs, "rtt_ms", (json_int_t)q->rtt_ms,
	                 "not_asked", q->not_asked);
}

/* Evidence: every resolver's outcome, and the addresses used. */
static void dns_evidence(struct addr_lookup *a, struct diag_finding *f)
{
	json_t *all = json_array();
	for (size_t i = 0; all && i < a->nres; i++) {
		const struct addr_resolver *rs = &a->res[i];
		json_array_append_new(all, json_pack("{s:o, s:b, s:b, s:o, s:o}",
			"server", diag_json_str(rs->srv.label), "used", rs == a->used,
			"answered", resolver_answered(rs), "a", query_json(rs->qa, LDNS_RR_TYPE_A),
			"aaaa", query_json(rs->q6, LDNS_RR_TYPE_AAAA)));
	}
	json_t *ja = json_array(), *j6 = json_array();
	for (size_t i = 0; ja && i < a->v4.n; i++)
		json_array_append_new(ja, diag_json_str(a->v4.v[i]));
	for (size_t i = 0; j6 && i < a->v6.n; i++)
		json_array_append_new(j6, diag_json_str(a->v6.v[i]));
	diag_evidence(f, "a", ja);
	diag_evidence(f, "aaaa", j6);
	diag_evidence(f, "resolver", a->used ? diag_json_str(a->used->srv.label) : json_null());
	diag_evidence(f, "resolvers", all);
}

/* ids->dns when no resolver answered at all. */
static struct diag_finding *report_no_answer(struct addr_lookup *a)
{
	int replied = 0;  /* a reply with another rcode (SERVFAIL, REFUSED): not only our side */
	for (size_t i = 0; i < a->nres; i++)
		replied |= dns_q_rcode(a->res[i].qa) >= 0 || dns_q_rcode(a->res[i].q6) >= 0;
	enum diag_status st = replied ? DIAG_FAIL : DIAG_ERROR;
	if (a->nres == 1) {
		const struct addr_resolver *rs = &a->res[0];
		return diag_add(a->r, st, a->ids->dns, a->domain, "no address for %s: %s; %s",
		                a->domain, rs->qa ? q_outcome(rs->qa) : "not asked (-6)",
		                rs->q6 ? q_outcome(rs->q6) : "not asked (-4)");
	}
	char *list = diag_strdup("");
	for (size_t i = 0; i < a->nres; i++) {
		char fail[256];
		resolver_failure(&a->res[i], fail, sizeof(fail));
		cat(&list, "%s%s (%s)", i ? "; " : "", a->res[i].srv.label, fail);
	}
	struct diag_finding *f = diag_add(a->r, st, a->ids->dns, a->domain,
	                                  "no address for %s: no resolver answered: %s", a->domain,
	                                  list ? list : "(out of memory)");
	free(list);
	return f;
}

/* The hint of an ids->dns finding that is not ok. */
static void dns_hint(struct addr_lookup *a, struct diag_finding *f, int no_address, int disagree)
{
	if (no_address)
		diag_set_hint(f, "The CA needs an A or AAAA record for %s that points at the web server "
		              "(the CA reports \"DNS problem: NXDOMAIN looking up A for %s\" or \"No valid "
		              "IP addresses found\").", a->domain, a->domain);
	else if (disagree)
		diag_set_hint(f, "Resolvers that disagree usually mean split-horizon DNS, a local "
		              "override or a stale cache; the CA resolves from the public DNS, so the "
		              "public records must point at the web server.");
	else
		diag_set_hint(f, "A resolver that does not answer A or AAAA queries hides addresses the "
		              "CA will use; name one that answers both with --ns.");
}

static size_t report_dns(struct addr_lookup *a)
{
	const struct addr_resolver *u = a->used;
	size_t n4 = a->v4.n, n6 = a->v6.n;
	int disagree = 0, partial = 0;
	char *notes = u ? resolver_notes(a, &disagree, &partial) : NULL;
	const char *more = notes ? notes : "; (other resolvers not shown: out of memory)";
	struct diag_finding *f;
	if (!u)
		f = report_no_answer(a);
	else if (!n4 && !n6)
		f = diag_add(a->r, DIAG_FAIL, a->ids->dns, a->domain, "no address for %s: %s; %s%s",
		             a->domain, !u->qa ? "not asked (-6)" : answered(u->qa) ? "no A record" : q_outcome(u->qa),
		             !u->q6 ? "not asked (-4)" : answered(u->q6) ? "no AAAA record" : q_outcome(u->q6),
		             more);
	else
		f = diag_add(a->r, disagree || partial ? DIAG_WARN : DIAG_OK, a->ids->dns, a->domain,
		             "%zu IPv4 and %zu IPv6 address%s (resolver %s)%s", n4, n6,
		             n4 + n6 == 1 ? "" : "es", u->srv.label, more);
	free(notes);
	if (f && f->status != DIAG_OK)
		dns_hint(a, f, !u || !(n4 + n6), disagree);
	dns_evidence(a, f);
	return u ? n4 + n6 : 0;
}

static void report_limit(struct addr_lookup *a, int every, const char *hint)
{
	if (a->v4.n == a->n4 && a->v6.n == a->n6)
		return;
	struct diag_finding *f = diag_add(a->r, every ? DIAG_WARN : DIAG_OK, a->ids->limit,
		a->domain, "probed %zu of %zu IPv6 and %zu of %zu IPv4 addresses (at most %zu per "
		"family): %s", a->n6, a->v6.n, a->n4, a->v4.n, a->max_per_family,
		every ? "the CA may use one that was not probed"
		      : "enough, the CA uses only the first AAAA and the first A");
	if (every)
		diag_set_hint(f, "%s", hint);
	diag_evidence(f, "a_total", json_integer((json_int_t)a->v4.n));
	diag_evidence(f, "a_probed", json_integer((json_int_t)a->n4));
	diag_evidence(f, "aaaa_total", json_integer((json_int_t)a->v6.n));
	diag_evidence(f, "aaaa_probed", json_integer((json_int_t)a->n6));
	diag_evidence(f, "max_per_family", json_integer((json_int_t)a->max_per_family));
}

static void report_reserved(struct addr_lookup *a)
{
	for (size_t i = 0; i < a->n6 + a->n4; i++) {
		const char *ip = addr_probed(a, i);
		const char *why;
		if (!diag_ip_reserved(ip, &why))
			continue;
		struct diag_finding *f = diag_add(a->r, DIAG_FAIL, a->ids->reserved, ip,
		                                  "%s is %s: Let's Encrypt will not connect to it", ip, why);
		diag_set_hint(f, "Publish the server's public address in DNS (a split-horizon view "
		              "may be leaking internal addresses); labs and private CAs can use "
		              "--ca-profile pebble or rfc8555.");
	}
}

void addr_lookup_report(struct addr_lookup *a, enum http01_profile p, const char *limit_hint,
                        struct diag_probe *probe, void (*start)(void *arg), void *arg)
{
	if (addr_lookup_read(a)) {
		struct diag_finding *f = diag_add(a->r, DIAG_ERROR, a->ids->dns, a->domain,
		                                  "cannot look up the addresses (out of memory)");
		diag_set_hint(f, "The checks did not finish (out of memory): run them again.");
		diag_probe_finish(probe);
		return;
	}
	if (!report_dns(a)) {
		diag_probe_finish(probe);
		return;
	}
	report_limit(a, p == HTTP01_RFC8555, limit_hint ? limit_hint
	             : "Check the other addresses one by one, or publish fewer addresses.");
	if (p == HTTP01_LETSENCRYPT)
		report_reserved(a);
	start(arg);
}

struct diag_finding *addr_report_ca_any(struct addr_lookup *a, const char *ca_id, size_t n,
                                        enum diag_status (*status)(void *arg, size_t i),
                                        void *arg)
{
	enum diag_status worst = DIAG_OK;
	for (size_t i = 0; i < n; i++) {
		enum diag_status st = status(arg, i);
		if (st > worst)
			worst = st;
	}
	return diag_add(a->r, worst, ca_id, a->domain,
	                "profile rfc8555: the CA may use any of the %zu addresses: %s", n,
	                worst == DIAG_OK ? "all work" : "not all work");
}
