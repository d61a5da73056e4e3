/* SPDX-License-Identifier: ISC */
/*
 * dnscheck.c - the DNS side of DNS-01, and resolver audits.
 *
 * The run is a chain of steps on the caller's loop, each a concurrent
 * fan-out: (1) every resolver gets SOA and NS for every label of the
 * challenge name, TXT, and a CHAOS fingerprint, all at once; (2)
 * delegation is followed down from the deepest zone any source names,
 * asking the authoritative servers directly (RD=0); (3) CNAME targets
 * repeat (2); (4) --wait polls the TXT queries; (5) CAA. A step counts
 * the answers it waits for; when the count reaches zero its continuation
 * starts the next step, so a step waits only for its own slowest query
 * and nothing here ever drains the loop. Questions go through the DNS
 * engine, which asks each (server, name, type) once per run and skips
 * servers that timed out: a dead server costs one timeout in all.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag/caa.h"
#include "diag/dnscheck.h"
#include "diag/probe.h"

#define NAMELEN 256

struct qlist {
	struct dns_q **v;
	size_t n, cap;
};

struct resolver_qs {
	struct dns_q **soa;  /* one per suffix of the challenge name */
	struct dns_q **ns;   /* likewise */
	struct dns_q *txt;   /* TXT _acme-challenge.<name>, RD=1 */
	struct dns_q *ver;   /* CHAOS TXT version.bind */
};

struct authsrv {
	struct diag_server srv;
	char nsname[NAMELEN];
	struct dns_q *soa;  /* SOA <zone>, RD=0 */
	struct dns_q *txt;  /* TXT <name>, RD=0 */
	struct dns_q *own;  /* SOA <name>, RD=0: its negative answer names the real apex */
};

struct zoneinfo {
	char name[NAMELEN];   /* the name looked up (challenge name or CNAME target) */
	char zone[NAMELEN];
	char referred_by[NAMELEN]; /* parent that delegated, "" if none seen */
	char nsnames[DNSCHECK_MAX_NS][NAMELEN];
	size_t nns;
	struct authsrv srv[DNSCHECK_MAX_ADDRS];
	size_t nsrv;
	size_t ns_cut, addr_cut; /* NS names and addresses left out by the bounds */
	char start[NAMELEN];  /* where locating began */
	char err[256];        /* why locating failed, "" on success */
	/* locating, step by step */
	int depth, have_ns;
	struct dns_q *nsq[DNSCHECK_MAX_RESOLVERS];  /* NS <zone> at resolvers, when not seen */
	struct dns_q *qa[DNSCHECK_MAX_NS], *q6[DNSCHECK_MAX_NS];  /* NS name addresses */
	struct dns_q *childq[DNSCHECK_MAX_ADDRS];   /* NS <child> at the servers */
	char child[NAMELEN];
};

/* A list of distinct strings (see strv_add). */
struct strv {
	char **v;
	size_t n;
};

struct txtsrv;
struct audit_qs;
struct ctx;
typedef void (*step_fn)(struct ctx *c);

struct ctx {
	struct diag_probe head;   /* first: the handle */
	const struct dnscheck_opts *o;
	struct diag_report *r;
	struct dns_engine *eng;
	int own_engine;
	int pending;              /* answers the current step still waits for */
	step_fn next;             /* the step after it */
	step_fn located;          /* what follows locate() */
	struct diag_server res[DNSCHECK_MAX_RESOLVERS];
	size_t nres;
	int working;          /* index of a resolver that answered, -1 if none */
	char base[NAMELEN];
	int wildcard;
	char chal[NAMELEN + 16];
	char *suffix[130];
	size_t nsuffix;
	struct resolver_qs *rq;
	const char *ca_domain, *method;
	int64_t t0;
	/* the zone of the challenge name, and of each CNAME target */
	struct zoneinfo *zi, *final, *extra[DNSCHECK_MAX_CNAME];
	size_t nextra;
	struct strv chain;
	const char *cname_problem;
	char loop_back[NAMELEN];
	struct zoneinfo *cur;     /* the zone being located */
	const char *how;          /* how the challenge name's zone was found */
	/* a CNAME target's candidate zone, asked at the working resolver */
	char cand_name[NAMELEN], cand_zone[NAMELEN];
	char *cand_sfx[130];
	struct dns_q *cand_soa[130], *cand_ns[130];
	size_t ncand;
	/* TXT at every server, polled with --wait */
	struct txtsrv *txt;
	size_t ntxt, ntxt_res;
	const char *final_name;
	int64_t deadline;
	/* CAA, one query per label of the base name */
	struct dns_q *caa[130];
	const char *caa_names[130];
	size_t ncaa;
	/* resolver audit */
	struct audit_qs *audit;
};

/* ---- small helpers ---- */

static int is_sub(const char *child, const char *parent)
{
	if (!strcmp(parent, "."))
		return 1;
	size_t c = strlen(child), p = strlen(parent);
	if (c < p)
		return 0;
	if (strcasecmp(child + c - p, parent))
		return 0;
	return c == p || child[c - p - 1] == '.';
}

static size_t label_count(const char *name)
{
	if (!strcmp(name, "."))
		return 0;
	size_t n = 1;
	for (const char *p = name; *p; p++)
		n += *p == '.';
	return n;
}

/*
 * Steps. step_begin() opens a step with a guard count of one, so answers
 * that are already known (the engine calls back before dns_ask returns)
 * cannot end the step while it is still asking; step_end() drops the
 * guard. When the count reaches zero the continuation runs.
 */
static void step_begin(struct ctx *c, step_fn next)
{
	c->pending = 1;
	c->next = next;
}

static void step_end(struct ctx *c)
{
	if (--c->pending > 0)
		return;
	step_fn next = c->next;
	c->next = NULL;
	if (next)
		next(c);
}

static void answered(void *arg, struct dns_q *q)
{
	(void)q;
	step_end(arg);
}

/* Ask within the open step. NULL when out of memory (the step does not
 * wait for it; readers treat NULL as "not sent"). */
static struct dns_q *ask(struct ctx *c, const struct diag_server *srv, const char *name,
                         ldns_rr_type type, ldns_rr_class cls, unsigned flags)
{
	c->pending++;
	struct dns_q *q = dns_ask(c->eng, srv, name, type, cls, flags, answered, c);
	if (!q)
		c->pending--;
	return q;
}

/* "NXDOMAIN", "timed out", ... for a query that did not give a usable answer. */
static const char *q_outcome(const struct dns_q *q)
{
	return dns_q_outcome(q);
}

static int q_ok(const struct dns_q *q)
{
	return q && q->status == DNS_OK && q->pkt;
}

static int q_rc(const struct dns_q *q, int rc)
{
	return q_ok(q) && dns_q_rcode(q) == rc;
}

static int has_rr(const struct dns_q *q, ldns_rr_type t, const char *owner)
{
	ldns_rr_list *l = dns_q_answer(q, t, owner);
	int n = l ? (int)ldns_rr_list_rr_count(l) : 0;
	ldns_rr_list_deep_free(l);
	return n > 0;
}

static int64_t soa_negttl(const ldns_rr *soa)
{
	if (!soa || ldns_rr_rd_count(soa) < 7)
		return -1;
	int64_t min = ldns_rdf2native_int32(ldns_rr_rdf(soa, 6));
	int64_t ttl = ldns_rr_ttl(soa);
	return ttl < min ? ttl : min;
}

static json_t *json_rtt(const struct dns_q *q)
{
	return q ? json_integer(q->rtt_ms) : json_null();
}

/* A per-server finding lasts as long as its query. */
static void set_duration(struct diag_finding *f, const struct dns_q *q)
{
	if (f && q && q->done)
		f->duration_ms = q->rtt_ms;
}

/* A string list as a JSON array and as "a, b, c". */

static void strv_add(struct strv *s, const char *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x))
			return;
	char **v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return;
	s->v = v;
	if ((s->v[s->n] = diag_strdup(x)))
		s->n++;
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int strv_has(const struct strv *s, const char *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x))
			return 1;
	return 0;
}

static json_t *strv_json(const struct strv *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, diag_json_str(s->v[i]));
	return a;
}

/* "a", "b" quoted and comma separated, truncated after max items. */
static char *strv_text(const struct strv *s, size_t max)
{
	size_t len = 1;
	for (size_t i = 0; i < s->n && i < max; i++)
		len += strlen(s->v[i]) + 4;
	len += 32;
	char *out = malloc(len);
	if (!out)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < s->n && i < max; i++) {
		strcat(out, i ? ", \"" : "\"");
		strcat(out, s->v[i]);
		strcat(out, "\"");
	}
	if (s->n > max)
		snprintf(out + strlen(out), 32, " (and %zu more)", s->n - max);
	return out;
}

/* TXT values in the answer; owner NULL takes every TXT (a resolver's answer
 * holds the CNAME chain and the target's records). */
static void txt_values(const struct dns_q *q, const char *owner, struct strv *out)
{
	ldns_rr_list *l = dns_q_answer(q, LDNS_RR_TYPE_TXT, owner);
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		char *v = dns_txt_joined(ldns_rr_list_rr(l, i));
		if (v)
			strv_add(out, v);
		free(v);
	}
	ldns_rr_list_deep_free(l);
}

/* ---- phase 1: resolvers ---- */

static int resolver_answered(const struct ctx *c, size_t r)
{
	const struct resolver_qs *rq = &c->rq[r];
	if (q_ok(rq->txt) || q_ok(rq->ver))
		return 1;
	for (size_t k = 0; k < c->nsuffix; k++)
		if (q_ok(rq->soa[k]) || q_ok(rq->ns[k]))
			return 1;
	return 0;
}

enum walk_kind { WALK_FOUND, WALK_NOTFOUND, WALK_ERROR };

struct walk {
	enum walk_kind kind;
	char zone[NAMELEN];
	char why[300];
	size_t empty_levels;  /* NOERROR, no answer and no authority */
};

/*
 * The SOA walk as cert-manager and lego do it: from the challenge name up,
 * NXDOMAIN, a CNAME or NODATA go up a label; an SOA in the answer is the
 * zone; another rcode or a transport error stops the walk.
 */
static void walk_soa(const struct ctx *c, size_t r, struct walk *w)
{
	memset(w, 0, sizeof(*w));
	w->kind = WALK_NOTFOUND;
	for (size_t k = 0; k < c->nsuffix; k++) {
		const struct dns_q *q = c->rq[r].soa[k];
		if (q_ok(q) && dns_q_rcode(q) == LDNS_RCODE_NOERROR &&
		    ldns_pkt_ancount(q->pkt) == 0 && ldns_pkt_nscount(q->pkt) == 0)
			w->empty_levels++;
	}
	for (size_t k = 0; k < c->nsuffix; k++) {
		const struct dns_q *q = c->rq[r].soa[k];
		if (!q_ok(q)) {
			w->kind = WALK_ERROR;
			snprintf(w->why, sizeof(w->why), "SOA query for %s.: %s", c->suffix[k], q_outcome(q));
			return;
		}
		int rc = dns_q_rcode(q);
		if (rc == LDNS_RCODE_NXDOMAIN)
			continue;
		if (rc != LDNS_RCODE_NOERROR) {
			w->kind = WALK_ERROR;
			snprintf(w->why, sizeof(w->why),
			         "rcode was expected to be 'NOERROR' or 'NXDOMAIN', but got '%s' for %s.",
			         q_outcome(q), c->suffix[k]);
			return;
		}
		if (has_rr(q, LDNS_RR_TYPE_SOA, c->suffix[k])) {
			w->kind = WALK_FOUND;
			snprintf(w->zone, sizeof(w->zone), "%s", c->suffix[k]);
			return;
		}
	}
}

/* The deepest name with an NS RRset in the answer at resolver r. */
static const char *deepest_ns(const struct ctx *c, size_t r)
{
	for (size_t k = 0; k < c->nsuffix; k++)
		if (has_rr(c->rq[r].ns[k], LDNS_RR_TYPE_NS, c->suffix[k]))
			return c->suffix[k];
	return NULL;
}

static void pick_deeper(char *best, const char *cand)
{
	if (cand && label_count(cand) > label_count(best) && strcmp(best, cand))
		snprintf(best, NAMELEN, "%s", cand);
}

static char *fingerprint(const struct dns_q *q)
{
	struct strv v = {0};
	txt_values(q, NULL, &v);
	char *s = v.n ? diag_strdup(v.v[0]) : NULL;
	strv_free(&v);
	return s;
}

/* ---- phase 2: delegation and authoritative servers ---- */

static void add_server(struct zoneinfo *zi, const char *nsname, const char *ip)
{
	struct diag_server s;
	if (diag_server_from_ip(ip, 0, &s))
		return;
	for (size_t i = 0; i < zi->nsrv; i++)
		if (!strcmp(zi->srv[i].srv.ip, s.ip))
			return;
	if (zi->nsrv == DNSCHECK_MAX_ADDRS) {
		zi->addr_cut++;  /* said in dns.auth.limit */
		return;
	}
	struct authsrv *a = &zi->srv[zi->nsrv++];
	memset(a, 0, sizeof(*a));
	a->srv = s;
	snprintf(a->nsname, sizeof(a->nsname), "%s", nsname);
}

static int family_ok(const struct ctx *c, ldns_rr_type t)
{
	if (c->o->family == 4)
		return t == LDNS_RR_TYPE_A;
	if (c->o->family == 6)
		return t == LDNS_RR_TYPE_AAAA;
	return 1;
}

/* Addresses from a list of A/AAAA RRs owned by nsname. */
static void add_addrs(struct ctx *c, struct zoneinfo *zi, const char *nsname, ldns_rr_list *l)
{
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		ldns_rr_type t = ldns_rr_get_type(rr);
		if ((t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA) || !family_ok(c, t))
			continue;
		char *owner = dns_name_str(ldns_rr_owner(rr));
		char *ip = ldns_rr_rd_count(rr) ? ldns_rdf2str(ldns_rr_rdf(rr, 0)) : NULL;
		if (owner && ip && !strcasecmp(owner, nsname))
			add_server(zi, nsname, ip);
		free(owner);
		free(ip);
	}
}

/* Append the targets of the NS records in l to zi's NS names. */
static void nsnames_from(struct zoneinfo *zi, const ldns_rr_list *l)
{
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || !ldns_rr_rd_count(rr))
			continue;
		if (zi->nns == DNSCHECK_MAX_NS) {
			zi->ns_cut++;  /* said in dns.auth.limit */
			continue;
		}
		char *ns = dns_name_str(ldns_rr_rdf(rr, 0));
		if (ns)
			snprintf(zi->nsnames[zi->nns++], NAMELEN, "%s", ns);
		free(ns);
	}
}

/* NS names of zi's zone from the resolvers' phase-1 answers: 1 if found. */
static int nsnames_seen(struct ctx *c, struct zoneinfo *zi)
{
	for (size_t r = 0; r < c->nres; r++)
		for (size_t k = 0; k < c->nsuffix; k++)
			if (!strcasecmp(c->suffix[k], zi->zone) &&
			    has_rr(c->rq[r].ns[k], LDNS_RR_TYPE_NS, zi->zone)) {
				ldns_rr_list *l = dns_q_answer(c->rq[r].ns[k], LDNS_RR_TYPE_NS, zi->zone);
				nsnames_from(zi, l);
				ldns_rr_list_deep_free(l);
				return 1;
			}
	return 0;
}

/* NS names of zi's zone from its own NS queries (nsq). */
static void nsnames_read(struct zoneinfo *zi, size_t n)
{
	for (size_t r = 0; r < n; r++)
		if (has_rr(zi->nsq[r], LDNS_RR_TYPE_NS, zi->zone)) {
			ldns_rr_list *l = dns_q_answer(zi->nsq[r], LDNS_RR_TYPE_NS, zi->zone);
			nsnames_from(zi, l);
			ldns_rr_list_deep_free(l);
			return;
		}
}

/* Ask a working resolver for the addresses of NS names that have none yet. */
static void nsaddrs_ask(struct ctx *c, struct zoneinfo *zi)
{
	memset(zi->qa, 0, sizeof(zi->qa));
	memset(zi->q6, 0, sizeof(zi->q6));
	if (c->working < 0)
		return;
	const struct diag_server *res = &c->res[c->working];
	for (size_t i = 0; i < zi->nns; i++) {
		int have = 0;
		for (size_t k = 0; k < zi->nsrv; k++)
			have |= !strcmp(zi->srv[k].nsname, zi->nsnames[i]);
		if (have)
			continue;
		if (family_ok(c, LDNS_RR_TYPE_A))
			zi->qa[i] = ask(c, res, zi->nsnames[i], LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, DNS_Q_RD);
		if (family_ok(c, LDNS_RR_TYPE_AAAA))
			zi->q6[i] = ask(c, res, zi->nsnames[i], LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, DNS_Q_RD);
	}
}

static void nsaddrs_read(struct ctx *c, struct zoneinfo *zi)
{
	for (size_t i = 0; i < zi->nns; i++) {
		ldns_rr_list *l;
		if (zi->qa[i] && (l = dns_q_answer(zi->qa[i], LDNS_RR_TYPE_A, zi->nsnames[i]))) {
			add_addrs(c, zi, zi->nsnames[i], l);
			ldns_rr_list_deep_free(l);
		}
		if (zi->q6[i] && (l = dns_q_answer(zi->q6[i], LDNS_RR_TYPE_AAAA, zi->nsnames[i]))) {
			add_addrs(c, zi, zi->nsnames[i], l);
			ldns_rr_list_deep_free(l);
		}
	}
}

/* Is owner a zone cut strictly below zone and at or above name? */
static int cut_between(const char *owner, const char *zone, const char *name)
{
	return owner && is_sub(owner, zone) && strcasecmp(owner, zone) && is_sub(name, owner);
}

/* zi now describes the child zone, served by the NS records in ns_rrs,
 * with the glue addresses found in glue. */
static void move_to_child(struct ctx *c, struct zoneinfo *zi, const char *child,
                          const ldns_rr_list *ns_rrs, ldns_rr_list *glue)
{
	snprintf(zi->referred_by, NAMELEN, "%s", zi->zone);
	snprintf(zi->zone, NAMELEN, "%s", child);
	zi->nns = 0;
	zi->nsrv = 0;
	zi->ns_cut = zi->addr_cut = 0;
	nsnames_from(zi, ns_rrs);
	for (size_t i = 0; i < zi->nns; i++)
		add_addrs(c, zi, zi->nsnames[i], glue);
}

/* A referral in q to a zone below zone and at or above name: returns it. */
static int referral(const struct dns_q *q, const char *zone, const char *name,
                    char out[NAMELEN])
{
	if (!q_rc(q, LDNS_RCODE_NOERROR) || ldns_pkt_aa(q->pkt) || ldns_pkt_ancount(q->pkt))
		return 0;
	ldns_rr_list *auth = ldns_pkt_authority(q->pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(auth); i++) {
		ldns_rr *rr = ldns_rr_list_rr(auth, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS)
			continue;
		char *owner = dns_name_str(ldns_rr_owner(rr));
		int ok = cut_between(owner, zone, name);
		if (ok)
			snprintf(out, NAMELEN, "%s", owner);
		free(owner);
		if (ok)
			return 1;
	}
	return 0;
}

/* An apex below zi->zone that the authoritative answers for name reveal:
 * the SOA owner in an AA answer (answer or authority section). */
static int deeper_apex(const struct zoneinfo *zi, const char *name, char out[NAMELEN])
{
	for (size_t i = 0; i < zi->nsrv; i++) {
		const struct dns_q *q = zi->srv[i].own;
		if (!q_ok(q) || !ldns_pkt_aa(q->pkt))
			continue;
		const ldns_rr *soa = NULL;
		ldns_rr_list *ans = ldns_pkt_answer(q->pkt);
		for (size_t k = 0; k < ldns_rr_list_rr_count(ans) && !soa; k++)
			if (ldns_rr_get_type(ldns_rr_list_rr(ans, k)) == LDNS_RR_TYPE_SOA)
				soa = ldns_rr_list_rr(ans, k);
		if (!soa)
			soa = dns_q_authority_soa(q);
		if (!soa)
			continue;
		char *owner = dns_name_str(ldns_rr_owner(soa));
		int deeper = cut_between(owner, zi->zone, name);
		if (deeper)
			snprintf(out, NAMELEN, "%s", owner);
		free(owner);
		if (deeper)
			return 1;
	}
	return 0;
}

/*
 * Locating a zone: find the zone of a name and its authoritative servers,
 * starting at the deepest zone known and following referrals down, asking
 * every authoritative address directly with RD=0. One depth is up to four
 * steps (NS names, their addresses, the servers, a child's NS at the same
 * servers); c->cur is the zone being located, c->located what follows.
 */
static void locate_depth(struct ctx *c);

static void locate_finish(struct ctx *c)
{
	step_fn then = c->located;
	c->located = NULL;
	then(c);
}

static void locate_fail(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void locate_fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->cur->err, sizeof(c->cur->err), fmt, ap);
	va_end(ap);
	locate_finish(c);
}

static void locate(struct ctx *c, struct zoneinfo *zi, const char *name, const char *start,
                   step_fn then)
{
	memset(zi, 0, sizeof(*zi));
	snprintf(zi->name, NAMELEN, "%s", name);
	snprintf(zi->zone, NAMELEN, "%s", start);
	snprintf(zi->start, NAMELEN, "%s", start);
	c->cur = zi;
	c->located = then;
	locate_depth(c);
}

/* A child zone found: go one level down. */
static void locate_down(struct ctx *c)
{
	c->cur->have_ns = 1;
	c->cur->depth++;
	locate_depth(c);
}

/* The child's NS records, asked at the parent's servers, arrived. */
static void locate_child_read(struct ctx *c)
{
	struct zoneinfo *zi = c->cur;
	const struct dns_q *found = NULL;
	for (size_t i = 0; i < zi->nsrv && !found; i++)
		if (has_rr(zi->childq[i], LDNS_RR_TYPE_NS, zi->child))
			found = zi->childq[i];
	if (!found) {
		locate_fail(c, "no NS records for %s at the servers of %s", zi->child, zi->zone);
		return;
	}
	ldns_rr_list *l = dns_q_answer(found, LDNS_RR_TYPE_NS, zi->child);
	char child[NAMELEN];
	snprintf(child, sizeof(child), "%s", zi->child);
	move_to_child(c, zi, child, l, ldns_pkt_additional(found->pkt));
	ldns_rr_list_deep_free(l);
	locate_down(c);
}

/* Every server of the zone answered: a referral goes down; the same
 * servers may also serve a zone cut below (parent and child on one
 * server), which their authoritative answer names; else this is the zone. */
static void locate_judge(struct ctx *c)
{
	struct zoneinfo *zi = c->cur;
	char child[NAMELEN];
	for (size_t i = 0; i < zi->nsrv; i++) {
		const struct dns_q *ref = referral(zi->srv[i].txt, zi->zone, zi->name, child)
		                          ? zi->srv[i].txt
		                          : referral(zi->srv[i].own, zi->zone, zi->name, child)
		                          ? zi->srv[i].own : NULL;
		if (ref) {
			move_to_child(c, zi, child, ldns_pkt_authority(ref->pkt), ldns_pkt_additional(ref->pkt));
			locate_down(c);
			return;
		}
	}
	if (!deeper_apex(zi, zi->name, zi->child)) {
		locate_finish(c);
		return;
	}
	step_begin(c, locate_child_read);
	memset(zi->childq, 0, sizeof(zi->childq));
	for (size_t i = 0; i < zi->nsrv; i++)
		zi->childq[i] = ask(c, &zi->srv[i].srv, zi->child, LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, 0);
	step_end(c);
}

/* Addresses known: ask every server for the zone's SOA and the name. */
static void locate_servers(struct ctx *c)
{
	struct zoneinfo *zi = c->cur;
	nsaddrs_read(c, zi);
	if (zi->nsrv == 0) {
		locate_fail(c, "no %saddress found for the nameservers of %s",
		            c->o->family == 4 ? "IPv4 " : c->o->family == 6 ? "IPv6 " : "", zi->zone);
		return;
	}
	step_begin(c, locate_judge);
	for (size_t i = 0; i < zi->nsrv; i++) {
		zi->srv[i].soa = ask(c, &zi->srv[i].srv, zi->zone, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
		zi->srv[i].txt = ask(c, &zi->srv[i].srv, zi->name, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0);
		zi->srv[i].own = ask(c, &zi->srv[i].srv, zi->name, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
	}
	step_end(c);
}

/* NS names known: look up the addresses that glue did not give. */
static void locate_addrs(struct ctx *c)
{
	struct zoneinfo *zi = c->cur;
	if (zi->nns == 0) {
		locate_fail(c, "no NS records found for %s", zi->zone);
		return;
	}
	step_begin(c, locate_servers);
	nsaddrs_ask(c, zi);
	step_end(c);
}

static void locate_ns_read(struct ctx *c)
{
	nsnames_read(c->cur, c->nres < 4 ? c->nres : 4);
	locate_addrs(c);
}

static void locate_depth(struct ctx *c)
{
	struct zoneinfo *zi = c->cur;
	if (zi->depth >= DNSCHECK_MAX_DEPTH) {
		locate_fail(c, "more than %d delegations below %s", DNSCHECK_MAX_DEPTH, zi->start);
		return;
	}
	if (zi->have_ns || nsnames_seen(c, zi)) {
		locate_addrs(c);
		return;
	}
	/* not in the phase-1 answers: ask up to four resolvers */
	step_begin(c, locate_ns_read);
	memset(zi->nsq, 0, sizeof(zi->nsq));
	for (size_t r = 0; r < c->nres && r < 4; r++)
		zi->nsq[r] = ask(c, &c->res[r], zi->zone, LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, DNS_Q_RD);
	step_end(c);
}

/* For a name with no phase-1 data (a CNAME target): the deepest zone the
 * working resolver names, by SOA walk or NS, all labels at once. The
 * answer is c->cand_zone ("." when none was found). */
static void candidate_read(struct ctx *c);

static void candidate_zone(struct ctx *c, const char *name, step_fn then)
{
	snprintf(c->cand_name, sizeof(c->cand_name), "%s", name);
	snprintf(c->cand_zone, sizeof(c->cand_zone), ".");
	c->ncand = 0;
	if (c->working < 0) {
		then(c);
		return;
	}
	c->located = then;
	const struct diag_server *res = &c->res[c->working];
	step_begin(c, candidate_read);
	for (char *p = c->cand_name; p && *p && c->ncand < 130; c->ncand++) {
		c->cand_sfx[c->ncand] = p;
		c->cand_soa[c->ncand] = ask(c, res, p, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, DNS_Q_RD);
		c->cand_ns[c->ncand] = ask(c, res, p, LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, DNS_Q_RD);
		p = strchr(p, '.');
		if (p)
			p++;
	}
	step_end(c);
}

static void candidate_read(struct ctx *c)
{
	char *out = c->cand_zone;
	for (size_t k = 0; k < c->ncand; k++) {
		/* each suffix points into cand_name and runs to its end */
		if (has_rr(c->cand_soa[k], LDNS_RR_TYPE_SOA, c->cand_sfx[k]) ||
		    has_rr(c->cand_ns[k], LDNS_RR_TYPE_NS, c->cand_sfx[k])) {
			snprintf(out, NAMELEN, "%s", c->cand_sfx[k]);
			break;
		}
		const ldns_rr *a = dns_q_authority_soa(c->cand_soa[k]);
		if (a) {
			char *owner = dns_name_str(ldns_rr_owner(a));
			if (owner && is_sub(c->cand_name, owner))
				pick_deeper(out, owner);
			free(owner);
			if (strcmp(out, "."))
				break;
		}
	}
	locate_finish(c);
}

/* ---- findings ---- */

static const char *HINT_FILTER =
	"Turn the filter off (dnsmasq: drop --filterwin2k / --filter-rr=SOA; OpenWrt: "
	"uci set dhcp.@dnsmasq[0].filterwin2k=0; LuCI: untick \"Filter useless\" / \"Filter "
	"SRV/SOA service discovery\"), or give the ACME client a resolver that does not filter: "
	"cert-manager --dns01-recursive-nameservers=1.1.1.1:53,8.8.8.8:53 (add "
	"--dns01-recursive-nameservers-only if port 53 egress is blocked), lego --dns.resolvers 1.1.1.1:53.";

static void report_resolvers(struct ctx *c, const struct zoneinfo *zi)
{
	for (size_t r = 0; r < c->nres; r++) {
		const char *label = c->res[r].label;
		if (!resolver_answered(c, r)) {
			if (c->o->resolvers_audited)
				continue;  /* the audit says it */
			struct diag_finding *f = diag_add(c->r, DIAG_FAIL, "dns.resolver.reachable", label,
			                                  "resolver did not answer: %s", q_outcome(c->rq[r].txt));
			diag_set_hint(f, "Check the address and that UDP and TCP port %u are reachable from "
			              "here; an ACME client using this resolver cannot check propagation.",
			              c->res[r].port);
			continue;
		}
		struct walk w;
		walk_soa(c, r, &w);
		char *fp = fingerprint(c->rq[r].ver);
		int apex_hidden = 0;  /* the real zone's SOA query came back without SOA */
		if (!zi->err[0]) {
			for (size_t k = 0; k < c->nsuffix; k++)
				if (!strcasecmp(c->suffix[k], zi->zone) &&
				    q_rc(c->rq[r].soa[k], LDNS_RCODE_NOERROR) &&
				    !has_rr(c->rq[r].soa[k], LDNS_RR_TYPE_SOA, zi->zone))
					apex_hidden = 1;
		}
		int filtered = (w.empty_levels == c->nsuffix && c->nsuffix > 0) ||
		               (w.kind == WALK_NOTFOUND && apex_hidden);
		struct diag_finding *f;
		if (filtered && !c->o->resolvers_audited) {
			f = diag_add(c->r, DIAG_FAIL, "dns.resolver.soa-filtered", label,
			             "resolver answers every SOA query with an empty NOERROR%s%s%s",
			             fp ? " (" : "", fp ? fp : "", fp ? ")" : "");
			diag_set_detail(f, "This is the signature of dnsmasq --filterwin2k (OpenWrt "
			                "filterwin2k, LuCI \"Filter useless\" / \"Filter SRV/SOA service "
			                "discovery\") or --filter-rr=SOA: SOA queries are answered NODATA "
			                "without being forwarded. SOA walkers then climb to the root and give "
			                "up: cert-manager fails with \"Could not find the SOA record in the DNS "
			                "tree for the domain '%s.' using nameservers [...]\" (\"Could not find "
			                "the start of authority\" before v1.4), lego with \"could not find the "
			                "start of authority for '%s.'\".", c->chal, c->chal);
			diag_set_hint(f, "%s", HINT_FILTER);
			diag_evidence(f, "empty_soa_levels", json_integer((json_int_t)w.empty_levels));
			diag_evidence(f, "fingerprint", fp ? diag_json_str(fp) : json_null());
		}
		/* The zone a cert-manager/lego walk would settle on at this resolver. */
		if (w.kind == WALK_FOUND && !zi->err[0] && strcasecmp(w.zone, zi->zone) &&
		    is_sub(zi->zone, w.zone)) {
			f = diag_add(c->r, DIAG_FAIL, "dns.zone.split-horizon", label,
			             "SOA walk stops at %s, above the real zone %s", w.zone, zi->zone);
			diag_set_detail(f, "The resolver answers NODATA for SOA %s. (typically a local "
			                "host record or override for the apex), so cert-manager and lego "
			                "take %s as the zone and the DNS provider answers \"zone not found\" "
			                "or creates the record in the wrong place.", zi->zone, w.zone);
			diag_set_hint(f, "Remove the local override for %s on this resolver, or give the ACME "
			              "client a public resolver (cert-manager --dns01-recursive-nameservers, "
			              "lego --dns.resolvers); cert-manager v1.21+ also has "
			              "waitInsteadOfSelfCheck for split-horizon set-ups.", zi->zone);
			diag_evidence(f, "walk_zone", diag_json_str(w.zone));
			diag_evidence(f, "real_zone", diag_json_str(zi->zone));
			diag_evidence(f, "fingerprint", fp ? diag_json_str(fp) : json_null());
		} else if (w.kind == WALK_FOUND && !zi->err[0] && strcasecmp(w.zone, zi->zone)) {
			f = diag_add(c->r, DIAG_FAIL, "dns.zone.soa", label,
			             "SOA walk finds %s, but the authoritative zone is %s", w.zone, zi->zone);
			diag_set_hint(f, "This resolver serves its own data for %s (a local zone or rewrite); "
			              "give the ACME client a public resolver.", w.zone);
		} else if (w.kind == WALK_FOUND) {
			f = diag_add(c->r, DIAG_OK, "dns.zone.soa", label, "zone %s. (SOA answered by %s)",
			             w.zone, label);
		} else if (w.kind == WALK_ERROR) {
			f = diag_add(c->r, DIAG_FAIL, "dns.zone.soa", label, "SOA walk stopped: %s", w.why);
			diag_set_hint(f, "cert-manager aborts on this (\"When querying the SOA record for the "
			              "domain ... rcode was expected to be 'NOERROR' or 'NXDOMAIN'\"); fix the "
			              "resolver or use another with --dns01-recursive-nameservers.");
		} else {
			f = diag_add(c->r, DIAG_FAIL, "dns.zone.soa", label,
			             "no SOA found from %s. up to the TLD: cert-manager reports \"Could not "
			             "find the SOA record in the DNS tree\", lego \"could not find the start "
			             "of authority\"", c->chal);
			diag_set_hint(f, "%s", filtered ? "This resolver filters SOA: see dns.resolver.soa-filtered."
			              : "Give the ACME client a resolver that answers SOA queries "
			                "(cert-manager --dns01-recursive-nameservers, lego --dns.resolvers).");
		}
		if (f) {
			diag_evidence(f, "walk", diag_json_str(w.kind == WALK_FOUND ? "found"
			                                     : w.kind == WALK_ERROR ? "error" : "not-found"));
			if (w.kind == WALK_FOUND)
				diag_evidence(f, "zone", diag_json_str(w.zone));
		}
		free(fp);
	}
}

static void report_zone(struct ctx *c, const struct zoneinfo *zi, const char *how)
{
	if (zi->err[0]) {
		struct diag_finding *f = diag_add(c->r, DIAG_FAIL, "dns.zone", zi->name,
		                                  "cannot find the zone of %s: %s", zi->name, zi->err);
		diag_set_hint(f, "Check that the domain is registered and delegated (whois, the "
		              "parent zone's NS records) and that the resolvers given answer.");
		return;
	}
	struct diag_finding *f = diag_add(c->r, DIAG_OK, "dns.zone", zi->name, "zone of %s is %s.",
	                                  zi->name, zi->zone);
	diag_evidence(f, "zone", diag_json_str(zi->zone));
	diag_evidence(f, "found_by", diag_json_str(how));
	if (zi->referred_by[0])
		diag_evidence(f, "delegated_from", diag_json_str(zi->referred_by));
}

static void report_auth(struct ctx *c, const struct zoneinfo *zi)
{
	if (zi->err[0])
		return;
	struct strv ns = {0};
	for (size_t i = 0; i < zi->nns; i++)
		strv_add(&ns, zi->nsnames[i]);
	char *nstext = strv_text(&ns, 16);
	struct diag_finding *f = diag_add(c->r, DIAG_OK, "dns.auth.ns", zi->zone,
	                                  "%zu nameserver%s: %s; %zu address%s queried",
	                                  zi->nns, zi->nns == 1 ? "" : "s", nstext ? nstext : "", zi->nsrv, zi->nsrv == 1 ? "" : "es");
	diag_evidence(f, "ns", strv_json(&ns));
	free(nstext);
	strv_free(&ns);
	if (zi->ns_cut || zi->addr_cut) {
		f = diag_add(c->r, DIAG_WARN, "dns.auth.limit", zi->zone,
		             "not every nameserver was checked: %zu NS name%s beyond the first %d and %zu "
		             "address%s beyond the first %d left out", zi->ns_cut, zi->ns_cut == 1 ? "" : "s",
		             DNSCHECK_MAX_NS, zi->addr_cut, zi->addr_cut == 1 ? "" : "es", DNSCHECK_MAX_ADDRS);
		diag_set_hint(f, "The CA may ask any of them. Check the rest with acme-dnscheck --ns "
		              "ADDRESS (RD=0 answers are read as authoritative) or dig +norec.");
		diag_evidence(f, "ns_left_out", json_integer((json_int_t)zi->ns_cut));
		diag_evidence(f, "addresses_left_out", json_integer((json_int_t)zi->addr_cut));
	}

	int64_t max_serial = -1;
	size_t good = 0, nbad = 0;
	int64_t serial[DNSCHECK_MAX_ADDRS];
	struct diag_finding *bad[DNSCHECK_MAX_ADDRS];
	for (size_t i = 0; i < zi->nsrv; i++) {
		const struct authsrv *a = &zi->srv[i];
		serial[i] = -1;
		char target[128];
		snprintf(target, sizeof(target), "%s", a->srv.label);
		ldns_rr_list *soa = dns_q_answer(a->soa, LDNS_RR_TYPE_SOA, zi->zone);
		if (!q_ok(a->soa)) {
			f = diag_add(c->r, DIAG_FAIL, "dns.auth.server", target,
			             "%s (%s) did not answer: %s", a->nsname, a->srv.ip, q_outcome(a->soa));
			diag_set_hint(f, "The CA and the ACME client's propagation check query every "
			              "nameserver; fix or remove this server from the NS set of %s.", zi->zone);
		} else if (dns_q_rcode(a->soa) != LDNS_RCODE_NOERROR) {
			f = diag_add(c->r, DIAG_FAIL, "dns.auth.server", target,
			             "%s answered %s for SOA %s.", a->nsname, q_outcome(a->soa), zi->zone);
			diag_set_hint(f, "A server listed in the NS set must serve the zone; cert-manager "
			              "treats REFUSED as a hard error (\"NS %s returned REFUSED\").", a->nsname);
		} else if (!ldns_pkt_aa(a->soa->pkt) || !soa || ldns_rr_list_rr_count(soa) == 0) {
			f = diag_add(c->r, DIAG_FAIL, "dns.auth.server", target,
			             "%s is lame for %s.: no authoritative SOA in its answer", a->nsname, zi->zone);
			diag_set_hint(f, "Load the zone on this server or remove it from the NS set (at the "
			              "registrar or parent zone as well).");
		} else {
			ldns_rr *rr = ldns_rr_list_rr(soa, 0);
			serial[i] = ldns_rr_rd_count(rr) >= 3 ? (int64_t)ldns_rdf2native_int32(ldns_rr_rdf(rr, 2)) : -1;
			if (serial[i] > max_serial)
				max_serial = serial[i];
			good++;
			f = diag_add(c->r, DIAG_OK, "dns.auth.server", target,
			             "%s authoritative for %s., serial %lld, %lld ms", a->nsname, zi->zone,
			             (long long)serial[i], (long long)a->soa->rtt_ms);
		}
		ldns_rr_list_deep_free(soa);
		if (f && f->status == DIAG_FAIL)
			bad[nbad++] = f;
		diag_evidence(f, "nameserver", diag_json_str(a->nsname));
		diag_evidence(f, "address", diag_json_str(a->srv.ip));
		diag_evidence(f, "rtt_ms", json_rtt(a->soa));
		set_duration(f, a->soa);
		if (serial[i] >= 0)
			diag_evidence(f, "serial", json_integer(serial[i]));
	}
	/* The CA asks through a recursive resolver, which moves on to another
	 * server: while one serves the zone, only the client's check of every
	 * nameserver fails (lego: "NS ... returned REFUSED"). */
	for (size_t i = 0; good && i < nbad; i++)
		bad[i]->actor = DIAG_ACTOR_CLIENT;
	if (good > 1) {
		struct strv lag = {0};
		for (size_t i = 0; i < zi->nsrv; i++)
			if (serial[i] >= 0 && serial[i] != max_serial) {
				char buf[200];
				snprintf(buf, sizeof(buf), "%s (%s) %lld", zi->srv[i].nsname, zi->srv[i].srv.ip,
				         (long long)serial[i]);
				strv_add(&lag, buf);
			}
		if (lag.n) {
			char *t = strv_text(&lag, 8);
			f = diag_add(c->r, DIAG_WARN, "dns.auth.serial", zi->zone,
			             "serials differ: newest %lld, lagging %s", (long long)max_serial, t ? t : "");
			diag_set_hint(f, "A secondary has not transferred the latest zone; check NOTIFY and "
			              "zone transfers (AXFR/IXFR) from the primary. Records added recently "
			              "may be missing there.");
			free(t);
		} else {
			f = diag_add(c->r, DIAG_OK, "dns.auth.serial", zi->zone,
			             "all %zu servers at serial %lld", good, (long long)max_serial);
		}
		diag_evidence(f, "newest", json_integer(max_serial));
		diag_evidence(f, "lagging", strv_json(&lag));
		strv_free(&lag);
	}
}

/* ---- TXT at every server ---- */

struct txtsrv {
	const char *label;      /* server label */
	const char *role;       /* "resolver" or "authoritative" */
	const char *nsname;     /* for authoritative servers */
	struct dns_q *q;        /* the latest answer: the run's query, then the last poll */
	struct dns_q *poll;     /* private query re-sent by --wait (NULL until the first poll) */
	const char *owner;      /* owner to read (NULL for resolvers) */
	int64_t first_seen_ms;  /* -1: never */
	int satisfied;
};

static void txt_state(const struct txtsrv *t, struct strv *vals)
{
	txt_values(t->q, t->owner, vals);
}

/* Values off the wire are in dns_txt_joined's form, so the expected ones
 * are put in it too: "good" is not met by "good\x00evil". */
static int expect_met(const struct ctx *c, const struct strv *vals)
{
	for (size_t i = 0; i < c->o->nexpect; i++) {
		const char *e = c->o->expect[i];
		char *esc = dns_txt_escape(e, strlen(e));
		int has = esc && strv_has(vals, esc);
		free(esc);
		if (!has)
			return 0;
	}
	return 1;
}

static int same_set(const struct strv *a, const struct strv *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (!strv_has(b, a->v[i]))
			return 0;
	return 1;
}

/* Evaluate every server; returns 1 when all are satisfied. */
static int txt_evaluate(struct ctx *c, struct txtsrv *t, size_t n, int64_t t0)
{
	int all = 1;
	struct strv ref = {0};
	int have_ref = 0, agree = 1;
	for (size_t i = 0; i < n; i++) {
		struct strv v = {0};
		txt_state(&t[i], &v);
		if (c->o->nexpect) {
			t[i].satisfied = v.n > 0 && expect_met(c, &v);
		} else {
			if (!have_ref) {
				ref = v;
				v = (struct strv){0};
				have_ref = 1;
			} else if (!same_set(&ref, &v)) {
				agree = 0;
			}
			t[i].satisfied = 1;
		}
		if (c->o->nexpect && t[i].satisfied && t[i].first_seen_ms < 0)
			t[i].first_seen_ms = diag_now_ms() - t0;
		strv_free(&v);
		all &= t[i].satisfied;
	}
	if (!c->o->nexpect) {
		all = agree && have_ref && ref.n > 0;
		if (all)
			for (size_t i = 0; i < n; i++)
				if (t[i].first_seen_ms < 0)
					t[i].first_seen_ms = diag_now_ms() - t0;
	}
	strv_free(&ref);
	return all;
}

/* Does an authoritative server other than t answer with the value? */
static int other_auth_has(const struct ctx *c, const struct txtsrv *t)
{
	for (size_t i = c->ntxt_res; i < c->ntxt; i++)
		if (&c->txt[i] != t && c->txt[i].satisfied && q_ok(c->txt[i].q) &&
		    ldns_pkt_aa(c->txt[i].q->pkt))
			return 1;
	return 0;
}

/* What the server at t said, as one finding. */
static void report_txt_server(struct ctx *c, const struct txtsrv *t, const struct strv *v)
{
	const char *final_name = c->final_name;
	char *vt = strv_text(v, 4);
	struct diag_finding *f;
	const char *who = t->nsname ? t->nsname : t->role;
	if (!q_ok(t->q) || (dns_q_rcode(t->q) != LDNS_RCODE_NOERROR &&
	                    dns_q_rcode(t->q) != LDNS_RCODE_NXDOMAIN)) {
		f = diag_add(c->r, c->o->nexpect ? DIAG_FAIL : DIAG_WARN, "dns01.txt", t->label,
		             "%s: TXT %s.: %s", who, final_name, q_outcome(t->q));
		diag_set_hint(f, "The CA's resolver must get an answer here; a server that times "
		              "out or refuses makes validation fail intermittently.");
	} else if (c->o->nexpect && !t->satisfied) {
		const char *absent = dns_q_rcode(t->q) == LDNS_RCODE_NXDOMAIN ? "NXDOMAIN"
		                                                              : "no TXT record";
		f = diag_add(c->r, DIAG_FAIL, "dns01.txt", t->label,
		             "%s: expected value missing at %s. (%s%s)", who, final_name,
		             v->n ? "has " : absent, v->n ? vt : "");
		/* a server that answers without authority (a lame delegation) is
		 * passed over by the CA's resolver when another one has the value;
		 * the client's check of every nameserver still fails at it */
		int lame = !strcmp(t->role, "authoritative") && !ldns_pkt_aa(t->q->pkt) &&
		           other_auth_has(c, t);
		diag_set_hint(f, "%s",
		              !strcmp(t->role, "resolver")
		              ? "The record has not reached this resolver (or it holds a cached "
		                "negative answer); wait, or check with --wait."
		              : lame
		              ? "This server answers without authority (a lame delegation, see "
		                "dns.auth.server): the CA's resolver moves on to a nameserver that has "
		                "the record, but a client that checks every nameserver fails here."
		              : "This authoritative server lacks the record: the CA may ask it. Check "
		                "that the DNS provider published it on every server (zone transfer, "
		                "serial).");
		if (lame && f)
			f->actor = DIAG_ACTOR_CLIENT;
	} else if (v->n) {
		f = diag_add(c->r, DIAG_OK, "dns01.txt", t->label, "%s: %s. has %s%s", who,
		             final_name, vt ? vt : "", c->o->nexpect ? " (expected value present)" : "");
	} else {
		f = diag_add(c->r, DIAG_OK, "dns01.txt", t->label, "%s: no TXT at %s. yet (%s)",
		             who, final_name, dns_q_rcode(t->q) == LDNS_RCODE_NXDOMAIN
		             ? "NXDOMAIN" : "NODATA");
	}
	if (f) {
		diag_evidence(f, "role", diag_json_str(t->role));
		diag_evidence(f, "name", diag_json_str(final_name));
		diag_evidence(f, "values", strv_json(v));
		diag_evidence(f, "rcode", q_ok(t->q) ? diag_json_str(q_outcome(t->q)) : json_null());
		diag_evidence(f, "rtt_ms", json_rtt(t->q));
		set_duration(f, t->q);
		if (c->o->wait_s > 0)
			diag_evidence(f, "first_seen_ms", t->first_seen_ms >= 0
			              ? json_integer(t->first_seen_ms) : json_null());
	}
	free(vt);
}

/* Without --expect: do the servers agree with the authoritative answer
 * (the truth the CA reaches through its own resolvers; the first server
 * otherwise)? */
static void report_agreement(struct ctx *c, const struct strv *union_vals)
{
	const struct txtsrv *t = c->txt;
	size_t n = c->ntxt, refi = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].role, "authoritative")) {
			refi = i;
			break;
		}
	struct strv ref = {0}, odd = {0};
	txt_state(&t[refi], &ref);
	for (size_t i = 0; i < n; i++) {
		struct strv v = {0};
		txt_state(&t[i], &v);
		if (!same_set(&ref, &v))
			strv_add(&odd, t[i].label);
		strv_free(&v);
	}
	struct diag_finding *f;
	if (odd.n) {
		char *list = strv_text(&odd, 8);
		f = diag_add(c->r, DIAG_WARN, "dns01.agreement", c->final_name,
		             "servers disagree about TXT %s.: %s differ%s from %s", c->final_name,
		             list ? list : "", odd.n == 1 ? "s" : "", t[refi].label);
		diag_set_hint(f, "A server that lags, holds a cached (negative) answer or answers from "
		              "local data gives a different answer; the CA may ask any authoritative "
		              "server. Re-run with --expect VALUE to check the value your client set, or "
		              "--wait to watch it propagate.");
		free(list);
	} else {
		f = diag_add(c->r, DIAG_OK, "dns01.agreement", c->final_name,
		             "all %zu servers give the same answer", n);
	}
	diag_evidence(f, "values", strv_json(union_vals));
	diag_evidence(f, "differing", strv_json(&odd));
	strv_free(&ref);
	strv_free(&odd);
}

static void report_propagation(struct ctx *c, int all)
{
	const struct txtsrv *t = c->txt;
	struct diag_finding *f;
	int64_t slowest = -1;
	for (size_t i = 0; i < c->ntxt; i++)
		if (t[i].first_seen_ms > slowest)
			slowest = t[i].first_seen_ms;
	if (all)
		f = diag_add(c->r, DIAG_OK, "dns01.propagation", c->final_name,
		             "all %zu servers agree after %.1f s", c->ntxt, (double)slowest / 1000.0);
	else {
		f = diag_add(c->r, DIAG_FAIL, "dns01.propagation", c->final_name,
		             "not every server had the value after %d s", c->o->wait_s);
		diag_set_hint(f, "Propagation is slower than your wait; if the authoritative servers "
		              "lack it, check the DNS provider; if only resolvers lack it, negative "
		              "caching is the likely cause (see dns.resolver.negcache).");
	}
	json_t *per = json_object();
	for (size_t i = 0; i < c->ntxt; i++)
		json_object_set_new(per, t[i].label, t[i].first_seen_ms >= 0
		                    ? json_integer(t[i].first_seen_ms) : json_null());
	diag_evidence(f, "first_seen_ms", per);
}

static void report_txt(struct ctx *c, int all)
{
	struct strv union_vals = {0};
	for (size_t i = 0; i < c->ntxt; i++) {
		struct strv v = {0};
		txt_state(&c->txt[i], &v);
		for (size_t k = 0; k < v.n; k++)
			strv_add(&union_vals, v.v[k]);
		report_txt_server(c, &c->txt[i], &v);
		strv_free(&v);
	}
	if (!c->o->nexpect && c->ntxt > 1)
		report_agreement(c, &union_vals);
	if (!c->o->nexpect && union_vals.n > 2) {
		struct diag_finding *f = diag_add(c->r, DIAG_WARN, "dns01.stale", c->final_name,
		                                  "%zu different TXT values at %s.", union_vals.n,
		                                  c->final_name);
		diag_set_hint(f, "Clients normally remove their record after validation; values left "
		              "from earlier attempts grow the answer (truncation, TCP) and confuse "
		              "checks. Delete the stale ones.");
		diag_evidence(f, "values", strv_json(&union_vals));
	}
	if (c->o->wait_s > 0)
		report_propagation(c, all);
	strv_free(&union_vals);
}

static void report_negcache(struct ctx *c, const struct txtsrv *t, size_t n, size_t nres,
                            int auth_has)
{
	for (size_t i = 0; i < nres && i < n; i++) {
		const struct dns_q *q = t[i].q;
		if (!q_ok(q))
			continue;
		int rc = dns_q_rcode(q);
		struct strv v = {0};
		txt_values(q, NULL, &v);
		int negative = rc == LDNS_RCODE_NXDOMAIN || (rc == LDNS_RCODE_NOERROR && v.n == 0);
		strv_free(&v);
		if (!negative)
			continue;
		int64_t ttl = soa_negttl(dns_q_authority_soa(q));
		struct diag_finding *f;
		const char *kind = rc == LDNS_RCODE_NXDOMAIN ? "NXDOMAIN" : "NODATA";
		char howlong[80];
		if (ttl >= 0)
			snprintf(howlong, sizeof(howlong), "%lld s", (long long)ttl);
		else
			snprintf(howlong, sizeof(howlong), "an unknown time (the answer carried no SOA)");
		if (auth_has && c->o->nexpect && ttl == 0) {
			f = diag_add(c->r, DIAG_OK, "dns.resolver.negcache", t[i].label,
			             "resolver answered %s while the authoritative servers have the record, "
			             "but keeps no negative answer (0 s): the next lookup asks again", kind);
		} else if (auth_has && c->o->nexpect) {
			f = diag_add(c->r, DIAG_WARN, "dns.resolver.negcache", t[i].label,
			             "resolver answered %s while the authoritative servers have the record; "
			             "it may keep that answer for %s", kind, howlong);
			diag_set_hint(f, "Negative caching: the resolver remembers the missing record for the "
			              "SOA minimum/TTL. Wait that long, flush the resolver cache, or have the "
			              "ACME client check the authoritative servers.");
		} else {
			f = diag_add(c->r, DIAG_OK, "dns.resolver.negcache", t[i].label,
			             "%s may be cached for %s: a record added now may stay invisible here that long",
			             kind, howlong);
		}
		diag_evidence(f, "negative_ttl", ttl >= 0 ? json_integer(ttl) : json_null());
		diag_evidence(f, "rcode", diag_json_str(kind));
	}
}

/* ---- CAA ---- */

static void check_caa(struct ctx *c);

static void caa_read(struct ctx *c);
static void probe_done(struct ctx *c);

/* CAA at every label of the base name, at once, through a working resolver. */
static void caa_start(struct ctx *c)
{
	if (c->working < 0) {
		probe_done(c);
		return;
	}
	const struct diag_server *res = &c->res[c->working];
	step_begin(c, caa_read);
	c->ncaa = 0;
	for (const char *p = c->base; p && *p && c->ncaa < 130; c->ncaa++) {
		c->caa_names[c->ncaa] = p;
		c->caa[c->ncaa] = ask(c, res, p, LDNS_RR_TYPE_CAA, LDNS_RR_CLASS_IN, DNS_Q_RD);
		p = strchr(p, '.');
		if (p)
			p++;
	}
	step_end(c);
}

/* As the CA climbs: the first name with CAA records decides. */
static void caa_read(struct ctx *c)
{
	check_caa(c);
	probe_done(c);
}

static void check_caa(struct ctx *c)
{
	struct dns_q **q = c->caa;
	const char **names = c->caa_names;
	size_t n = c->ncaa;
	for (size_t k = 0; k < n; k++) {
		int rc = dns_q_rcode(q[k]);
		int tld = k + 1 == n;
		if (!q_ok(q[k]) || (rc != LDNS_RCODE_NOERROR && !(rc == LDNS_RCODE_NXDOMAIN && !tld))) {
			if (rc == LDNS_RCODE_NXDOMAIN)
				continue;
			struct diag_finding *f = diag_add(c->r, DIAG_FAIL, "dns.caa", names[k],
			                                  "CAA lookup for %s. failed: %s (the CA fails closed)",
			                                  names[k], q_outcome(q[k]));
			diag_set_hint(f, "Let's Encrypt refuses to issue when a CAA lookup errors (SERVFAIL, "
			              "timeout); make the nameservers answer CAA queries (an empty answer is fine).");
			return;
		}
		ldns_rr_list *l = dns_q_answer(q[k], LDNS_RR_TYPE_CAA, NULL);
		size_t cnt = l ? ldns_rr_list_rr_count(l) : 0;
		if (cnt == 0) {
			ldns_rr_list_deep_free(l);
			continue;
		}
		struct caa_record *recs = calloc(cnt, sizeof(*recs));
		char **tags = calloc(cnt, sizeof(char *)), **vals = calloc(cnt, sizeof(char *));
		size_t m = 0;
		json_t *ev = json_array();
		for (size_t i = 0; recs && tags && vals && i < cnt; i++)
			if (diag_caa_from_rr(ldns_rr_list_rr(l, i), &recs[m], &tags[m], &vals[m]) == 0) {
				json_array_append_new(ev, json_pack("{s:i, s:o, s:o}", "flags", recs[m].flags,
				                                    "tag", diag_json_str(recs[m].tag),
				                                    "value", diag_json_str(recs[m].value)));
				m++;
			}
		struct caa_query cq = {
			.ca_domain = c->ca_domain, .account_uri = c->o->account_uri,
			.method = c->method, .wildcard = c->wildcard,
		};
		char why[300];
		enum caa_result res_caa = diag_caa_evaluate(recs, m, &cq, why, sizeof(why));
		struct diag_finding *f;
		if (res_caa == CAA_ALLOWED)
			f = diag_add(c->r, DIAG_OK, "dns.caa", names[k], "CAA at %s.: %s", names[k], why);
		else if (res_caa == CAA_UNKNOWN_ACCOUNT) {
			f = diag_add(c->r, DIAG_WARN, "dns.caa", names[k], "CAA at %s.: %s", names[k], why);
			diag_set_hint(f, "Pass --account-uri with your ACME account URL to check it; issuance "
			              "from any other account (staging included) is refused.");
		} else {
			f = diag_add(c->r, DIAG_FAIL, "dns.caa", names[k],
			             "CAA record for %s prevents issuance by %s: %s", names[k], c->ca_domain, why);
			diag_set_detail(f, "The CA reports: \"While processing CAA for %s%s: CAA record for %s "
			                "prevents issuance\".", c->wildcard ? "*." : "", c->base, names[k]);
			diag_set_hint(f, "Add a record such as %s. CAA 0 %s \"%s\" (with validationmethods or "
			              "accounturi if you restrict them), or issue from a CA the record allows.",
			              names[k], c->wildcard ? "issuewild" : "issue", c->ca_domain);
		}
		diag_evidence(f, "records", ev);
		diag_evidence(f, "ca_domain", diag_json_str(c->ca_domain));
		diag_evidence(f, "method", diag_json_str(c->method));
		for (size_t i = 0; i < m; i++) {
			free(tags[i]);
			free(vals[i]);
		}
		free(tags);
		free(vals);
		free(recs);
		ldns_rr_list_deep_free(l);
		return;
	}
	diag_add(c->r, DIAG_OK, "dns.caa", c->base, "no CAA records from %s. to the TLD: any CA may issue",
	         c->base);
}

/* ---- resolver audit ---- */

struct audit_qs {
	struct dns_q *soa, *ns, *tcp, *ver, *noedns;
};

static void audit_read(struct ctx *c);

static void audit_start(struct ctx *c)
{
	c->audit = calloc(c->nres, sizeof(*c->audit));
	if (!c->audit) {
		diag_add(c->r, DIAG_ERROR, "dns.run", "", "out of memory");
		probe_done(c);
		return;
	}
	step_begin(c, audit_read);
	for (size_t r = 0; r < c->nres; r++) {
		const struct diag_server *s = &c->res[r];
		struct audit_qs *a = &c->audit[r];
		a->soa = ask(c, s, ".", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, DNS_Q_RD);
		a->ns = ask(c, s, ".", LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, DNS_Q_RD);
		a->tcp = ask(c, s, ".", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, DNS_Q_RD | DNS_Q_TCP);
		a->ver = ask(c, s, "version.bind", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, DNS_Q_RD);
		a->noedns = ask(c, s, ".", LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, DNS_Q_RD | DNS_Q_NOEDNS);
	}
	step_end(c);
}

static void audit_resolver(struct ctx *c, size_t r);

static void audit_read(struct ctx *c)
{
	for (size_t r = 0; r < c->nres; r++)
		audit_resolver(c, r);
	probe_done(c);
}

/* The findings of the audit for resolver r. */
static void audit_resolver(struct ctx *c, size_t r)
{
	const char *label = c->res[r].label;
	const struct audit_qs *x = &c->audit[r];
	struct diag_finding *f;
	if (!q_ok(x->soa) && !q_ok(x->ns) && !q_ok(x->noedns)) {
		f = diag_add(c->r, DIAG_FAIL, "dns.resolver.reachable", label,
		             "no answer: %s", q_outcome(x->soa));
		int tcp = x->soa && x->soa->tcp_failed;
		if (tcp)
			diag_set_hint(f, "It answers over UDP, but with the truncated flag: the whole answer "
			              "only comes over TCP, and TCP port %u is closed or filtered between "
			              "here and the server. DNS needs TCP too (RFC 7766): open it.",
			              c->res[r].port);
		else
			diag_set_hint(f, "Check the address, that a DNS service runs there and that UDP/TCP "
			              "port %u is open from here.", c->res[r].port);
		const char *rest[] = {"dns.resolver.recursive", "dns.resolver.soa-filtered",
		                      "dns.resolver.fingerprint", "dns.resolver.tcp", "dns.resolver.edns"};
		for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
			diag_add(c->r, DIAG_SKIP, rest[i], label, tcp ? "not checked: no complete answer"
			         : "not checked: resolver unreachable");
		return;
	}
	const struct dns_q *any = q_ok(x->soa) ? x->soa : q_ok(x->ns) ? x->ns : x->noedns;
	f = diag_add(c->r, DIAG_OK, "dns.resolver.reachable", label, "answers over UDP in %lld ms",
	             (long long)any->rtt_ms);
	diag_evidence(f, "rtt_ms", json_integer(any->rtt_ms));

	int ra = ldns_pkt_ra(any->pkt);
	int soa_ok = has_rr(x->soa, LDNS_RR_TYPE_SOA, ".");
	int ns_ok = has_rr(x->ns, LDNS_RR_TYPE_NS, ".");
	if (ra && (soa_ok || ns_ok))
		f = diag_add(c->r, DIAG_OK, "dns.resolver.recursive", label, "recursion available (RA set)");
	else {
		f = diag_add(c->r, DIAG_FAIL, "dns.resolver.recursive", label,
		             "does not resolve the root: RA=%d, %s", ra, q_outcome(x->ns));
		diag_set_hint(f, "An ACME client needs a recursive resolver; this looks like an "
		              "authoritative-only server or an ACL that refuses this client.");
	}
	diag_evidence(f, "ra", json_boolean(ra));

	if (q_rc(x->soa, LDNS_RCODE_NOERROR) && !soa_ok && ldns_pkt_nscount(x->soa->pkt) == 0 &&
	    ns_ok) {
		char *fp = fingerprint(x->ver);
		f = diag_add(c->r, DIAG_FAIL, "dns.resolver.soa-filtered", label,
		             "SOA queries get an empty NOERROR while NS works: SOA is filtered%s%s%s",
		             fp ? " (" : "", fp ? fp : "", fp ? ")" : "");
		diag_set_detail(f, "dnsmasq --filterwin2k / --filter-rr=SOA signature. cert-manager "
		                "(\"Could not find the SOA record in the DNS tree\") and lego (\"could not "
		                "find the start of authority\") cannot find any zone through it.");
		diag_set_hint(f, "%s", HINT_FILTER);
		free(fp);
	} else if (soa_ok) {
		f = diag_add(c->r, DIAG_OK, "dns.resolver.soa-filtered", label, "SOA answers pass through");
	} else {
		f = diag_add(c->r, DIAG_SKIP, "dns.resolver.soa-filtered", label,
		             "not determined: the root SOA query got %s", q_outcome(x->soa));
	}

	char *fp = fingerprint(x->ver);
	if (fp)
		f = diag_add(c->r, DIAG_OK, "dns.resolver.fingerprint", label, "version.bind: %s", fp);
	else
		f = diag_add(c->r, DIAG_SKIP, "dns.resolver.fingerprint", label,
		             "no version.bind answer (%s)", q_outcome(x->ver));
	diag_evidence(f, "version_bind", fp ? diag_json_str(fp) : json_null());
	free(fp);

	if (q_ok(x->tcp))
		f = diag_add(c->r, DIAG_OK, "dns.resolver.tcp", label, "answers over TCP in %lld ms",
		             (long long)x->tcp->rtt_ms);
	else {
		f = diag_add(c->r, DIAG_WARN, "dns.resolver.tcp", label, "no answer over TCP: %s",
		             q_outcome(x->tcp));
		diag_set_hint(f, "Large answers (many TXT records, DNSSEC) need TCP; open TCP port %u.",
		              c->res[r].port);
	}

	if (q_ok(x->soa) && ldns_pkt_edns(x->soa->pkt) && dns_q_rcode(x->soa) != LDNS_RCODE_FORMERR)
		f = diag_add(c->r, DIAG_OK, "dns.resolver.edns", label, "EDNS supported (buffer %u)",
		             (unsigned)ldns_pkt_edns_udp_size(x->soa->pkt));
	else {
		f = diag_add(c->r, DIAG_WARN, "dns.resolver.edns", label,
		             "no EDNS in the reply (%s)", q_outcome(x->soa));
		diag_set_hint(f, "Without EDNS answers over 512 bytes are truncated and need TCP.");
	}
}

/* ---- the run ---- */

static void probe_done(struct ctx *c)
{
	diag_probe_finish(&c->head);
}

static void zone_start(struct ctx *c);
static void zone_located(struct ctx *c);
static void cname_next(struct ctx *c);

/* Step 1: at every resolver, SOA and NS for every label of the challenge
 * name, its TXT and a CHAOS fingerprint, all at once. */
static void domain_start(struct ctx *c)
{
	c->t0 = diag_now_ms();
	snprintf(c->chal, sizeof(c->chal), "_acme-challenge.%s", c->base);
	for (char *p = c->chal; p && *p && c->nsuffix < 130;) {
		c->suffix[c->nsuffix++] = p;
		p = strchr(p, '.');
		if (p)
			p++;
	}
	/* suffix[k] points into chal and ends at its end: a valid name string */
	c->rq = calloc(c->nres, sizeof(*c->rq));
	for (size_t r = 0; c->rq && r < c->nres; r++) {
		c->rq[r].soa = calloc(c->nsuffix, sizeof(*c->rq[r].soa));
		c->rq[r].ns = calloc(c->nsuffix, sizeof(*c->rq[r].ns));
		if (!c->rq[r].soa || !c->rq[r].ns) {
			diag_add(c->r, DIAG_ERROR, "dns.run", c->base, "out of memory");
			probe_done(c);
			return;
		}
	}
	if (!c->rq) {
		diag_add(c->r, DIAG_ERROR, "dns.run", c->base, "out of memory");
		probe_done(c);
		return;
	}
	step_begin(c, zone_start);
	for (size_t r = 0; r < c->nres; r++) {
		struct resolver_qs *rq = &c->rq[r];
		for (size_t k = 0; k < c->nsuffix; k++) {
			rq->soa[k] = ask(c, &c->res[r], c->suffix[k], LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, DNS_Q_RD);
			rq->ns[k] = ask(c, &c->res[r], c->suffix[k], LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, DNS_Q_RD);
		}
		rq->txt = ask(c, &c->res[r], c->chal, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, DNS_Q_RD);
		rq->ver = ask(c, &c->res[r], "version.bind", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, DNS_Q_RD);
	}
	step_end(c);
}

/* The deepest zone any source names: SOA walk, NS answers, the SOA in the
 * authority section of a negative TXT answer. Sets c->working and c->how. */
static void zone_candidate(struct ctx *c, char cand[NAMELEN])
{
	snprintf(cand, NAMELEN, ".");
	c->how = "soa-walk";
	c->working = -1;
	for (size_t r = 0; r < c->nres; r++) {
		if (!resolver_answered(c, r))
			continue;
		if (c->working < 0)
			c->working = (int)r;
		struct walk w;
		walk_soa(c, r, &w);
		if (w.kind == WALK_FOUND)
			pick_deeper(cand, w.zone);
	}
	char before[NAMELEN];
	snprintf(before, sizeof(before), "%s", cand);
	for (size_t r = 0; r < c->nres; r++) {
		pick_deeper(cand, deepest_ns(c, r));
		const ldns_rr *soa = dns_q_authority_soa(c->rq[r].txt);
		if (soa) {
			char *owner = dns_name_str(ldns_rr_owner(soa));
			if (owner && is_sub(c->chal, owner))
				pick_deeper(cand, owner);
			free(owner);
		}
	}
	if (strcmp(before, cand))
		c->how = "ns-or-negative-answer";
}

/* Step 2: follow delegation down to the zone of the challenge name. */
static void zone_start(struct ctx *c)
{
	char cand[NAMELEN];
	zone_candidate(c, cand);
	c->zi = calloc(1, sizeof(*c->zi));
	if (!c->zi) {
		diag_add(c->r, DIAG_ERROR, "dns.run", c->base, "out of memory");
		probe_done(c);
		return;
	}
	if (c->working < 0) {
		snprintf(c->zi->name, NAMELEN, "%s", c->chal);
		snprintf(c->zi->err, sizeof(c->zi->err), "no resolver answered");
		zone_located(c);
		return;
	}
	locate(c, c->zi, c->chal, cand, zone_located);
}

static void zone_located(struct ctx *c)
{
	if (c->zi->referred_by[0])
		c->how = "delegation";
	report_zone(c, c->zi, c->how);
	if (!c->o->zone_only)  /* the SOA walk is the DNS-01 client's */
		report_resolvers(c, c->zi);
	report_auth(c, c->zi);
	if (c->o->zone_only) {
		caa_start(c);
		return;
	}
	c->final = c->zi;
	strv_add(&c->chain, c->chal);
	cname_next(c);
}

static void txt_start(struct ctx *c);

/* The chain as one finding; then TXT, unless the chain is broken. */
static void cname_done(struct ctx *c)
{
	if (c->chain.n > 1) {
		char *t = strv_text(&c->chain, DNSCHECK_MAX_CNAME + 2);
		struct diag_finding *f;
		if (c->cname_problem && !strcmp(c->cname_problem, "loop")) {
			f = diag_add(c->r, DIAG_FAIL, "dns01.cname", c->chal, "CNAME loop: %s, back to %s",
			             t ? t : "", c->loop_back);
			diag_set_hint(f, "Point the CNAME chain at a name that holds the TXT record.");
		} else if (c->cname_problem) {
			f = diag_add(c->r, DIAG_FAIL, "dns01.cname", c->chal,
			             "CNAME chain longer than %d hops: %s", DNSCHECK_MAX_CNAME, t ? t : "");
			diag_set_hint(f, "Shorten the chain; resolvers give up on long chains.");
		} else {
			f = diag_add(c->r, DIAG_OK, "dns01.cname", c->chal,
			             "delegated by CNAME: %s; the TXT record belongs in zone %s.",
			             t ? t : "", c->final->err[0] ? "?" : c->final->zone);
			diag_set_detail(f, "The CA follows the CNAME; the ACME client must write the TXT at "
			                "the target (cert-manager cnameStrategy: Follow, acme.sh "
			                "--challenge-alias, lego follows by default).");
		}
		diag_evidence(f, "chain", strv_json(&c->chain));
		free(t);
	}
	if (c->cname_problem)
		caa_start(c);
	else
		txt_start(c);
}

static void cname_located(struct ctx *c)
{
	struct zoneinfo *next = c->extra[c->nextra - 1];
	report_zone(c, next, "cname-target");
	report_auth(c, next);
	c->final = next;
	cname_next(c);
}

static void cname_candidate(struct ctx *c)
{
	struct zoneinfo *next = c->extra[c->nextra - 1];
	if (!strcmp(c->cand_zone, ".")) {
		snprintf(next->name, NAMELEN, "%s", c->cand_name);
		snprintf(next->err, sizeof(next->err), "no zone found for the CNAME target %s", c->cand_name);
		cname_located(c);
		return;
	}
	char tz[NAMELEN], target[NAMELEN];
	snprintf(tz, sizeof(tz), "%s", c->cand_zone);
	snprintf(target, sizeof(target), "%s", c->cand_name);
	locate(c, next, target, tz, cname_located);
}

/* Step 3: a CNAME at the final name's authoritative servers is followed
 * into its own zone, hop by hop (loops and long chains stop it). */
static void cname_next(struct ctx *c)
{
	struct zoneinfo *final = c->final;
	char target[NAMELEN] = "";
	for (size_t i = 0; !final->err[0] && i < final->nsrv && !target[0]; i++) {
		ldns_rr_list *l = dns_q_answer(final->srv[i].txt, LDNS_RR_TYPE_CNAME, final->name);
		if (l && ldns_rr_list_rr_count(l)) {
			char *t = dns_name_str(ldns_rr_rdf(ldns_rr_list_rr(l, 0), 0));
			if (t)
				snprintf(target, sizeof(target), "%s", t);
			free(t);
		}
		ldns_rr_list_deep_free(l);
	}
	if (!target[0]) {
		cname_done(c);
		return;
	}
	if (strv_has(&c->chain, target)) {
		snprintf(c->loop_back, sizeof(c->loop_back), "%s", target);
		c->cname_problem = "loop";
		cname_done(c);
		return;
	}
	strv_add(&c->chain, target);
	if (c->nextra == DNSCHECK_MAX_CNAME) {
		c->cname_problem = "depth";
		cname_done(c);
		return;
	}
	struct zoneinfo *next = calloc(1, sizeof(*next));
	if (!next) {
		diag_add(c->r, DIAG_ERROR, "dns.run", c->base, "out of memory");
		probe_done(c);
		return;
	}
	c->extra[c->nextra++] = next;
	candidate_zone(c, target, cname_candidate);
}

static void txt_finish(struct ctx *c, int all);
static void txt_wait(struct ctx *c);

/* Step 4: TXT at every resolver and every authoritative address of the
 * final name; with --wait, polled until all agree or time is up. */
static void txt_start(struct ctx *c)
{
	c->final_name = c->chain.v ? c->chain.v[c->chain.n - 1] : c->chal;
	c->txt = calloc(c->nres + DNSCHECK_MAX_ADDRS, sizeof(*c->txt));
	if (!c->txt) {
		diag_add(c->r, DIAG_ERROR, "dns.run", c->base, "out of memory");
		probe_done(c);
		return;
	}
	struct txtsrv *t = c->txt;
	size_t n = 0;
	for (size_t r = 0; r < c->nres; r++)
		if (resolver_answered(c, r))
			t[n++] = (struct txtsrv){ .label = c->res[r].label, .role = "resolver",
			                          .q = c->rq[r].txt, .first_seen_ms = -1 };
	c->ntxt_res = n;
	for (size_t i = 0; !c->final->err[0] && i < c->final->nsrv; i++)
		t[n++] = (struct txtsrv){ .label = c->final->srv[i].srv.label,
		                          .role = "authoritative", .nsname = c->final->srv[i].nsname,
		                          .q = c->final->srv[i].txt, .owner = c->final_name,
		                          .first_seen_ms = -1 };
	c->ntxt = n;
	if (c->o->wait_s > 0) {
		c->deadline = c->t0 + (int64_t)c->o->wait_s * 1000;
		txt_wait(c);
		return;
	}
	txt_finish(c, txt_evaluate(c, c->txt, c->ntxt, c->t0));
}

/* Pebble 2.4 compares each character-string of a TXT record on its own;
 * Boulder (and later Pebble) join them. A value split into strings at the
 * authoritative servers passes one and fails the other. */
static void report_split(struct ctx *c)
{
	if (!c->o->pebble_strings)
		return;
	size_t split = 0, strings = 0;
	for (size_t i = c->ntxt_res; i < c->ntxt && !split; i++) {
		ldns_rr_list *l = dns_q_answer(c->txt[i].q, LDNS_RR_TYPE_TXT, c->txt[i].owner);
		for (size_t k = 0; l && k < ldns_rr_list_rr_count(l); k++)
			if (ldns_rr_rd_count(ldns_rr_list_rr(l, k)) > 1) {
				split++;
				strings = ldns_rr_rd_count(ldns_rr_list_rr(l, k));
			}
		ldns_rr_list_deep_free(l);
	}
	if (!split) {
		diag_add(c->r, DIAG_OK, "dns01.txt.split", c->final_name,
		         "every TXT record is one string, as Pebble 2.4 needs");
		return;
	}
	struct diag_finding *f = diag_add(c->r, c->o->nexpect ? DIAG_FAIL : DIAG_WARN,
	                                  "dns01.txt.split", c->final_name,
	                                  "a TXT record at %s. is %zu strings: Pebble 2.4 compares each "
	                                  "string on its own, so the joined value does not match there "
	                                  "(Let's Encrypt and later Pebble join them)",
	                                  c->final_name, strings);
	diag_set_hint(f, "Publish the value as one string (the DNS provider or the client's hook "
	              "splits it), or use a Pebble that joins the strings.");
}

static void txt_finish(struct ctx *c, int all)
{
	report_txt(c, all);
	report_split(c);
	int auth_has = 0;
	for (size_t i = c->ntxt_res; i < c->ntxt; i++)
		auth_has |= c->txt[i].satisfied;
	report_negcache(c, c->txt, c->ntxt, c->ntxt_res, auth_has);
	caa_start(c);
}

static void poll_answered(struct dns_q *q)
{
	step_end(q->arg);
}

/* Re-ask the servers that are not satisfied yet (all of them without
 * --expect, where agreement is the test), with private queries. */
static void txt_poll(void *arg)
{
	struct ctx *c = arg;
	step_begin(c, txt_wait);
	for (size_t i = 0; i < c->ntxt; i++) {
		struct txtsrv *t = &c->txt[i];
		if (t->satisfied && c->o->nexpect)
			continue;
		if (!t->poll) {
			t->poll = dns_q_new(&t->q->server, t->q->qname, t->q->qtype, t->q->qclass, t->q->flags);
			if (!t->poll)
				continue;
			t->poll->on_done = poll_answered;
			t->poll->arg = c;
		}
		t->q = t->poll;
		c->pending++;
		dns_q_send(c->eng, t->poll);  /* on failure it is done, and poll_answered ran */
	}
	step_end(c);
}

static void txt_wait(struct ctx *c)
{
	if (txt_evaluate(c, c->txt, c->ntxt, c->t0)) {
		txt_finish(c, 1);
		return;
	}
	int64_t now = diag_now_ms();
	if (now >= c->deadline) {
		txt_finish(c, 0);
		return;
	}
	int64_t interval = (int64_t)(c->o->interval_s > 0 ? c->o->interval_s : 5) * 1000;
	int64_t d = interval < c->deadline - now ? interval : c->deadline - now;
	if (diag_loop_timer(c->head.loop, d, txt_poll, c)) {
		diag_add(c->r, DIAG_ERROR, "dns.run", c->base, "out of memory (cannot wait)");
		txt_finish(c, 0);
	}
}

/* ---- the probe ---- */

static void dnscheck_cancel(struct diag_probe *p)
{
	struct ctx *c = (struct ctx *)p;
	diag_loop_cancel_timers(p->loop, c);
	if (c->eng)
		dns_engine_forget(c->eng, c);
	for (size_t i = 0; c->txt && i < c->ntxt; i++) {
		dns_q_free(c->txt[i].poll);  /* detaches one in flight */
		c->txt[i].poll = NULL;
	}
	c->next = c->located = NULL;
}

static void dnscheck_destroy(struct diag_probe *p)
{
	struct ctx *c = (struct ctx *)p;
	for (size_t i = 0; c->rq && i < c->nres; i++) {
		free(c->rq[i].soa);
		free(c->rq[i].ns);
	}
	free(c->rq);
	free(c->zi);
	for (size_t i = 0; i < c->nextra; i++)
		free(c->extra[i]);
	strv_free(&c->chain);
	free(c->txt);
	free(c->audit);
	if (c->own_engine)
		dns_engine_free(c->eng);
	free(c);
}

static const struct diag_probe_ops dnscheck_ops = {
	.name = "dnscheck", .cancel = dnscheck_cancel, .destroy = dnscheck_destroy,
};

static void domain_start_cb(void *arg)
{
	domain_start(arg);
}

static void audit_start_cb(void *arg)
{
	audit_start(arg);
}

/* Resolvers and the domain; 0 to go on, -1 when an error finding ends it. */
static int dnscheck_setup(struct ctx *c)
{
	const struct dnscheck_opts *o = c->o;
	const char *conf = o->resolv_conf ? o->resolv_conf : "/etc/resolv.conf";
	c->nres = diag_resolvers(o->ns, o->nns, o->resolv_conf, o->family, c->res,
	                         DNSCHECK_MAX_RESOLVERS);
	if (!c->nres) {
		struct diag_finding *f = o->nns
			? diag_add(c->r, DIAG_ERROR, "dns.resolver.reachable", o->ns[0].label,
			           "no resolver of the address family asked for (-%d)", o->family)
			: diag_add(c->r, DIAG_ERROR, "dns.resolver.reachable", conf,
			           "no usable nameserver in %s", conf);
		diag_set_hint(f, "Name resolvers with --ns SERVER.");
		return -1;
	}
	if (o->nns > DNSCHECK_MAX_RESOLVERS) {
		struct diag_finding *f = diag_add(c->r, DIAG_WARN, "dns.limit", "",
		                                  "only the first %d of %zu resolvers are checked",
		                                  DNSCHECK_MAX_RESOLVERS, o->nns);
		diag_set_hint(f, "Split the resolvers over several runs.");
	}
	if (o->domain) {
		char err[160];
		if (diag_domain_normalize(o->domain, c->base, sizeof(c->base), &c->wildcard, err,
		                          sizeof(err))) {
			diag_add(c->r, DIAG_ERROR, "dns.input", o->domain, "invalid domain: %s", err);
			return -1;
		}
	}
	return 0;
}

struct diag_probe *diag_dnscheck_start(struct diag_loop *loop, const struct dnscheck_opts *o,
                                       struct diag_report *r, diag_done_cb done, void *arg)
{
	struct ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	diag_probe_init(&c->head, &dnscheck_ops, loop, r, done, arg);
	c->o = o;
	c->r = r;
	c->working = -1;
	c->ca_domain = o->ca_domain ? o->ca_domain : "letsencrypt.org";
	c->method = o->method ? o->method : "dns-01";
	c->eng = o->engine;
	if (!c->eng) {
		c->eng = dns_engine_new(loop, o->timeout_ms);
		c->own_engine = 1;
		if (!c->eng) {
			free(c);
			return NULL;
		}
	}
	/* The first step starts from the loop, never inside this call. */
	if (dnscheck_setup(c))
		probe_done(c);
	else if (diag_loop_timer(loop, 0, o->domain ? domain_start_cb : audit_start_cb, c)) {
		dnscheck_destroy(&c->head);
		return NULL;
	}
	return &c->head;
}

static struct diag_probe *start_any(struct diag_loop *loop, const void *o, struct diag_report *r,
                                    diag_done_cb done, void *arg)
{
	return diag_dnscheck_start(loop, o, r, done, arg);
}

int diag_dnscheck_run(const struct dnscheck_opts *o, struct diag_report *r)
{
	return diag_probe_run(start_any, o, r, "dns.run");
}
