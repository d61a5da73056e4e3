/* SPDX-License-Identifier: ISC */
/* diagnosis.c - root causes among a report's findings, in causal order. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/diagnosis.h"
#include "grow.h"
#include "sbuf.h"

#define ST(s) (1u << (s))
#define BAD (ST(DIAG_WARN) | ST(DIAG_FAIL) | ST(DIAG_ERROR))

const char *diag_actor_name(enum diag_actor a)
{
	switch (a) {
	case DIAG_ACTOR_CA: return "ca";
	case DIAG_ACTOR_CLIENT: return "client";
	case DIAG_ACTOR_BOTH: return "both";
	case DIAG_ACTOR_UNKNOWN: break;
	}
	return "unknown";
}

const char *diag_actor_text(enum diag_actor a)
{
	switch (a) {
	case DIAG_ACTOR_CA:
		return "the CA's validation fails (or the CA refuses the request)";
	case DIAG_ACTOR_CLIENT:
		return "the ACME client's own step fails (its pre-check, or its set-up); the CA is not affected";
	case DIAG_ACTOR_BOTH:
		return "both the CA's validation and the ACME client's pre-check fail";
	case DIAG_ACTOR_UNKNOWN:
		break;
	}
	return "see the finding";
}

const char *diag_actor_short(enum diag_actor a)
{
	switch (a) {
	case DIAG_ACTOR_CA: return "the CA's validation";
	case DIAG_ACTOR_CLIENT: return "the ACME client's own check";
	case DIAG_ACTOR_BOTH: return "both the CA and the ACME client's own check";
	case DIAG_ACTOR_UNKNOWN: break;
	}
	return "unknown";
}

/* ---- what explains what ---- */

static int same_target(const struct diag_finding *a, const struct diag_finding *b)
{
	return !strcmp(a->target, b->target);
}

static int same_domain(const struct diag_finding *a, const struct diag_finding *b)
{
	if (!a->domain || !b->domain)
		return !a->domain && !b->domain;
	return !strcmp(a->domain, b->domain);
}

static int is_id(const struct diag_finding *f, const char *id)
{
	return !strcmp(f->id, id);
}

static int has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* Are both ids of one probe's area ("http01.", "tlsalpn01.")? */
static int same_area(const struct diag_finding *a, const struct diag_finding *b)
{
	const char *dot = strchr(a->id, '.');
	size_t n = dot ? (size_t)(dot - a->id) + 1 : strlen(a->id);
	return !strncmp(a->id, b->id, n);
}

/* Is f the finding id of c's area with this suffix ("ca", "addr")? */
static int area_id(const struct diag_finding *c, const struct diag_finding *f, const char *suffix)
{
	const char *dot = strchr(f->id, '.');
	return same_area(c, f) && dot && !strcmp(dot + 1, suffix);
}

static const char *ev_str(const struct diag_finding *f, const char *key)
{
	return json_string_value(json_object_get(f->evidence, key));
}

/* Does the evidence array key hold a string that contains s? */
static int ev_list_mentions(const struct diag_finding *f, const char *key, const char *s)
{
	json_t *a = json_object_get(f->evidence, key), *v;
	size_t i;
	json_array_foreach(a, i, v) {
		const char *x = json_string_value(v);
		if (x && strstr(x, s))
			return 1;
	}
	return 0;
}

typedef int (*explains_fn)(const struct diag_finding *cause, const struct diag_finding *f);

/* What a resolver's failure makes fail at that resolver, for any name. */
static int resolver_explains(const struct diag_finding *c, const struct diag_finding *f)
{
	if (same_target(c, f) && (is_id(f, "dns.zone.soa") || is_id(f, "dns01.txt") ||
	                          is_id(f, "dns.resolver.negcache") || is_id(f, "dns.zone.split-horizon") ||
	                          has_prefix(f->id, "dns.resolver.")))
		return 1;
	return is_id(f, "dns01.agreement") && ev_list_mentions(f, "differing", c->target);
}

/* A zone that cannot be found: everything about the name's DNS. */
static int zone_explains(const struct diag_finding *c, const struct diag_finding *f)
{
	return same_domain(c, f) && !has_prefix(f->id, "dns.resolver.") &&
	       (has_prefix(f->id, "dns.") || has_prefix(f->id, "dns01.") || is_id(f, "http01.dns") ||
	        is_id(f, "tlsalpn01.dns"));
}

/* An authoritative server that does not serve: its TXT, and the
 * disagreement it makes; in a CNAME's zone it is the same server. */
static int authserver_explains(const struct diag_finding *c, const struct diag_finding *f)
{
	if (same_target(c, f) && (is_id(f, "dns01.txt") || is_id(f, "dns.auth.server")))
		return 1;
	return same_domain(c, f) && ((is_id(f, "dns01.agreement") &&
	                              ev_list_mentions(f, "differing", c->target)) ||
	                             is_id(f, "dns01.propagation"));
}

/* A lagging secondary: the TXT missing there, and the disagreement. */
static int serial_explains(const struct diag_finding *c, const struct diag_finding *f)
{
	if (!same_domain(c, f))
		return 0;
	if (is_id(f, "dns01.txt")) {
		char paren[80];
		snprintf(paren, sizeof(paren), "(%s)", f->target);
		return ev_list_mentions(c, "lagging", paren);
	}
	return is_id(f, "dns01.agreement") || is_id(f, "dns01.propagation");
}

/* A CNAME loop or a chain too long: the TXT checks, and a resolver's SOA
 * walk that errs on the looping name (SERVFAIL). */
static int cname_explains(const struct diag_finding *c, const struct diag_finding *f)
{
	if (!same_domain(c, f))
		return 0;
	if (is_id(f, "dns.zone.soa")) {
		const char *walk = ev_str(f, "walk");
		return walk && !strcmp(walk, "error");
	}
	return has_prefix(f->id, "dns01.");
}

static int is_authoritative(const struct diag_finding *f)
{
	const char *role = ev_str(f, "role");
	return role && !strcmp(role, "authoritative");
}

static int is_resolver_role(const struct diag_finding *f)
{
	const char *role = ev_str(f, "role");
	return role && !strcmp(role, "resolver");
}

/* The value missing at authoritative servers: the other servers too, and
 * what the resolvers (which ask them) and the agreement show. */
static int txt_auth_explains(const struct diag_finding *c, const struct diag_finding *f)
{
	return same_domain(c, f) && (is_id(f, "dns01.txt") || is_id(f, "dns01.agreement") ||
	                             is_id(f, "dns01.propagation") || is_id(f, "dns.resolver.negcache"));
}

static int txt_resolver_explains(const struct diag_finding *c, const struct diag_finding *f)
{
	return (same_target(c, f) && is_id(f, "dns.resolver.negcache")) ||
	       (same_domain(c, f) && (is_id(f, "dns01.agreement") || is_id(f, "dns01.propagation")));
}

/* No usable address: nothing of that challenge (HTTP-01, TLS-ALPN-01) can
 * work. */
static int addrs_dns_explains(const struct diag_finding *c, const struct diag_finding *f)
{
	return same_domain(c, f) && same_area(c, f);
}

/* An address that fails: the CA's view and the disagreement follow; a
 * local listener that is missing is the same fact seen from here. */
static int addr_explains(const struct diag_finding *c, const struct diag_finding *f)
{
	if (same_domain(c, f) && (area_id(c, f, "ca") || area_id(c, f, "consistency")))
		return 1;
	return same_target(c, f) && (area_id(c, f, "local") || area_id(c, f, "addr"));
}

static int is_v6_connect(const struct diag_finding *f)
{
	const char *fam = ev_str(f, "family");
	return fam && !strcmp(fam, "ipv6") &&
	       json_is_true(json_object_get(f->evidence, "connect_stage_error"));
}

static int acme_explains(const struct diag_finding *c, const struct diag_finding *f)
{
	/* the directory's Date is one of the clock's sources */
	if (is_id(f, "clock.source") && same_target(c, f))
		return 1;
	return has_prefix(f->id, "acme.account.") || has_prefix(f->id, "acme.authz.") ||
	       has_prefix(f->id, "acme.order.") || is_id(f, "acme.challenge") || is_id(f, "acme.fetch");
}

static int account_explains(const struct diag_finding *c, const struct diag_finding *f)
{
	(void)c;
	return is_id(f, "acme.account.status") || is_id(f, "acme.account.kid");
}

static int authz_explains(const struct diag_finding *c, const struct diag_finding *f)
{
	(void)c;
	return is_id(f, "acme.challenge") || is_id(f, "acme.order.status");
}

/* ---- the rules, in causal order ---- */

struct rule {
	const char *id;
	unsigned statuses;                        /* statuses that make it a cause */
	int (*match)(const struct diag_finding *f);  /* NULL: any */
	int rank;
	enum diag_actor actor;
	const char *title;
	explains_fn explains;                     /* NULL: the same id, domain and rule only */
};

static const struct rule rules[] = {
	{"acme.identifier", BAD, NULL, 1, DIAG_ACTOR_CA,
	 "the CA refuses this name when the order is made", NULL},
	{"dns01.cname", BAD, NULL, 9, DIAG_ACTOR_BOTH,
	 "the _acme-challenge CNAME chain is broken", cname_explains},
	{"dns.resolver.reachable", BAD, NULL, 10, DIAG_ACTOR_CLIENT,
	 "a resolver the ACME client uses does not answer", resolver_explains},
	{"dns.resolver.soa-filtered", BAD, NULL, 11, DIAG_ACTOR_CLIENT,
	 "a resolver filters SOA queries (the zone cannot be found through it)", resolver_explains},
	{"dns.resolver.recursive", BAD, NULL, 12, DIAG_ACTOR_CLIENT,
	 "a resolver does not recurse", resolver_explains},
	{"dns.zone.split-horizon", BAD, NULL, 13, DIAG_ACTOR_CLIENT,
	 "a resolver answers for the zone from local data (split horizon)", resolver_explains},
	{"dns.zone.soa", BAD, NULL, 14, DIAG_ACTOR_CLIENT,
	 "the ACME client's SOA walk fails at a resolver", resolver_explains},
	{"dns.zone", BAD, NULL, 20, DIAG_ACTOR_BOTH,
	 "the zone of the name cannot be found", zone_explains},
	{"dns.auth.server", BAD, NULL, 21, DIAG_ACTOR_BOTH,
	 "an authoritative nameserver does not serve the zone", authserver_explains},
	{"dns.auth.serial", BAD, NULL, 22, DIAG_ACTOR_BOTH,
	 "a secondary nameserver lags behind the primary", serial_explains},
	{"dns01.txt", BAD, is_authoritative, 24, DIAG_ACTOR_BOTH,
	 "the TXT record is missing or wrong at authoritative servers", txt_auth_explains},
	{"dns01.txt", BAD, is_resolver_role, 25, DIAG_ACTOR_CLIENT,
	 "the TXT record has not reached a resolver yet", txt_resolver_explains},
	{"dns.caa", BAD, NULL, 27, DIAG_ACTOR_CA,
	 "a CAA record does not allow this CA", NULL},
	{"http01.dns", BAD, NULL, 30, DIAG_ACTOR_CA,
	 "the name has no usable address", addrs_dns_explains},
	{"http01.reserved", BAD, NULL, 31, DIAG_ACTOR_CA,
	 "an address the CA will not connect to", addr_explains},
	{"http01.local", BAD, NULL, 32, DIAG_ACTOR_CA,
	 "nothing listens on the HTTP port on this host", addr_explains},
	{"http01.addr", BAD, is_v6_connect, 33, DIAG_ACTOR_CA,
	 "the IPv6 path to the web server is broken (the CA tries IPv6 first)", addr_explains},
	{"http01.addr", BAD, NULL, 34, DIAG_ACTOR_CA,
	 "an address does not serve the challenge as the CA expects", addr_explains},
	{"tlsalpn01.dns", BAD, NULL, 35, DIAG_ACTOR_CA,
	 "the name has no usable address", addrs_dns_explains},
	{"tlsalpn01.reserved", BAD, NULL, 36, DIAG_ACTOR_CA,
	 "an address the CA will not connect to", addr_explains},
	{"tlsalpn01.addr", BAD, is_v6_connect, 37, DIAG_ACTOR_CA,
	 "the IPv6 path to port 443 is broken (the CA tries IPv6 first)", addr_explains},
	{"tlsalpn01.addr", BAD, NULL, 38, DIAG_ACTOR_CA,
	 "an address does not answer acme-tls/1 with the challenge certificate", addr_explains},
	{"clock.skew", BAD, NULL, 50, DIAG_ACTOR_CLIENT,
	 "the local clock is off", NULL},
	{"acme.directory", BAD, NULL, 60, DIAG_ACTOR_CLIENT,
	 "the CA's directory is not usable from here", acme_explains},
	{"acme.key.type", BAD, NULL, 61, DIAG_ACTOR_CA,
	 "the account key is of a type the CA refuses", NULL},
	{"acme.account.lookup", BAD, NULL, 62, DIAG_ACTOR_CA,
	 "the account is unknown or deactivated at the CA", account_explains},
	{"acme.account.status", BAD, NULL, 63, DIAG_ACTOR_CA,
	 "the account cannot be used", account_explains},
	{"acme.account.kid", BAD, NULL, 64, DIAG_ACTOR_CA,
	 "the client signs with another account's URL", NULL},
	{"acme.account.contact", BAD, NULL, 65, DIAG_ACTOR_CA,
	 "the CA refuses a contact of the account", NULL},
	{"acme.authz.status", BAD, NULL, 70, DIAG_ACTOR_CA,
	 "an authorization is no longer pending", authz_explains},
	{"acme.challenge", BAD, NULL, 71, DIAG_ACTOR_CA,
	 "a challenge failed at the CA", NULL},
	{"jws.kid", BAD, NULL, 80, DIAG_ACTOR_CA,
	 "the client signs requests with the wrong key header (kid/jwk)", NULL},
	/* cert-manager's own view: the consequences the checks above explain,
	 * kept as causes of their own when nothing above does */
	{"k8s.issuer", BAD, NULL, 58, DIAG_ACTOR_CLIENT,
	 "cert-manager: an Issuer is not Ready", NULL},
	{"k8s.challenge", BAD, NULL, 86, DIAG_ACTOR_CA,
	 "cert-manager: a Challenge failed at the CA", NULL},
	{"k8s.order", BAD, NULL, 87, DIAG_ACTOR_CA,
	 "cert-manager: an Order failed", NULL},
	{"k8s.certificate", BAD, NULL, 88, DIAG_ACTOR_CLIENT,
	 "cert-manager: a Certificate is not Ready", NULL},
	{"k8s.input", BAD, NULL, 99, DIAG_ACTOR_UNKNOWN,
	 "acme-doctor skipped cert-manager objects it could not read", NULL},
};

/* A finding no rule names: ranked by its area. */
static int fallback_rank(const struct diag_finding *f)
{
	static const struct { const char *prefix; int rank; } areas[] = {
		{"dns01.", 26}, {"dns.", 28}, {"http01.", 39}, {"tlsalpn01.", 40}, {"clock.", 55},
		{"acme.", 75}, {"jws.", 85},
	};
	for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
		if (has_prefix(f->id, areas[i].prefix))
			return areas[i].rank;
	return 95;
}

static int rule_matches(const struct rule *ru, const struct diag_finding *f)
{
	return is_id(f, ru->id) && (ru->statuses & ST(f->status)) && (!ru->match || ru->match(f));
}

enum diag_actor diag_finding_actor(const struct diag_finding *f)
{
	if (f->status != DIAG_WARN && f->status != DIAG_FAIL)
		return DIAG_ACTOR_UNKNOWN;
	if (f->actor)
		return f->actor;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rule_matches(&rules[i], f))
			return rules[i].actor;
	static const struct { const char *prefix; enum diag_actor a; } areas[] = {
		{"dns.resolver.", DIAG_ACTOR_CLIENT}, {"dns01.", DIAG_ACTOR_BOTH}, {"dns.", DIAG_ACTOR_BOTH},
		{"http01.", DIAG_ACTOR_CA}, {"tlsalpn01.", DIAG_ACTOR_CA}, {"acme.", DIAG_ACTOR_CA},
		{"jws.", DIAG_ACTOR_CA}, {"clock.", DIAG_ACTOR_CLIENT},
	};
	for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
		if (has_prefix(f->id, areas[i].prefix))
			return areas[i].a;
	return DIAG_ACTOR_UNKNOWN;
}

static int explained_by(const struct rule *ru, const struct diag_finding *c,
                        const struct diag_finding *f)
{
	if (ru && ru->explains && ru->explains(c, f))
		return 1;
	/* the same finding at several places is one cause */
	return is_id(f, c->id) && same_domain(c, f) && (!ru || rule_matches(ru, f));
}

/* ---- building it ---- */

struct work {
	const struct diag_report *r;
	unsigned char *state;  /* per finding: 0 open, 1 a cause, 2 explained */
	struct diag_diagnosis *d;
	size_t cap;
	int failed;
};

static void add_cause(struct work *w, size_t i, const struct rule *ru)
{
	const struct diag_finding *root = w->r->v[i];
	if (diag_grow((void **)&w->d->v, &w->cap, w->d->n + 1, sizeof(*w->d->v))) {
		w->failed = 1;
		return;
	}
	struct diag_cause *c = &w->d->v[w->d->n++];
	*c = (struct diag_cause){
		.root = root, .title = ru ? ru->title : NULL,
		.actor = root->actor ? root->actor : ru ? ru->actor : diag_finding_actor(root),
		.rank = ru ? ru->rank : fallback_rank(root),
		.impact = root->status,
	};
	w->state[i] = 1;
	for (size_t k = 0; k < w->r->n; k++) {
		const struct diag_finding *f = w->r->v[k];
		if (w->state[k] || !(BAD & ST(f->status)) || !explained_by(ru, root, f))
			continue;
		const struct diag_finding **v = realloc(c->explains, (c->nexplains + 1) * sizeof(*v));
		if (!v) {
			w->failed = 1;
			return;
		}
		c->explains = v;
		c->explains[c->nexplains++] = f;
		if (f->status > c->impact)
			c->impact = f->status;
		w->state[k] = 2;
	}
}

static const struct diag_report *sort_report;

static size_t index_of(const struct diag_finding *f)
{
	for (size_t i = 0; i < sort_report->n; i++)
		if (sort_report->v[i] == f)
			return i;
	return 0;
}

static int cause_cmp(const void *a, const void *b)
{
	const struct diag_cause *x = a, *y = b;
	/* what breaks issuance first (an error is "could not check": as bad) */
	int fx = x->impact >= DIAG_FAIL, fy = y->impact >= DIAG_FAIL;
	if (fx != fy)
		return fx ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->root->status != y->root->status)
		return x->root->status > y->root->status ? -1 : 1;
	size_t i = index_of(x->root), k = index_of(y->root);
	return i < k ? -1 : i > k;
}

struct diag_diagnosis *diag_diagnose(const struct diag_report *r)
{
	struct diag_diagnosis *d = calloc(1, sizeof(*d));
	struct work w = { .r = r, .d = d, .state = calloc(r->n ? r->n : 1, 1) };
	if (!d || !w.state) {
		free(w.state);
		free(d);
		return NULL;
	}
	/* Rules in causal order: a cause explains what comes after it. */
	for (size_t ri = 0; ri < sizeof(rules) / sizeof(rules[0]) && !w.failed; ri++)
		for (size_t i = 0; i < r->n && !w.failed; i++)
			if (!w.state[i] && rule_matches(&rules[ri], r->v[i]))
				add_cause(&w, i, &rules[ri]);
	/* Whatever no rule names is a cause of its own: nothing is hidden. */
	for (size_t i = 0; i < r->n && !w.failed; i++)
		if (!w.state[i] && (BAD & ST(r->v[i]->status)))
			add_cause(&w, i, NULL);
	free(w.state);
	if (w.failed) {
		diag_diagnosis_free(d);
		return NULL;
	}
	sort_report = r;
	if (d->n > 1)
		diag_sort(d->v, d->n, sizeof(*d->v), cause_cmp);
	sort_report = NULL;
	return d;
}

void diag_diagnosis_free(struct diag_diagnosis *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].explains);
	free(d->v);
	free(d);
}

/* ---- renderings ---- */

static json_t *ref_json(const struct diag_finding *f)
{
	return json_pack("{s:s, s:s, s:o, s:s}", "id", f->id, "target", f->target,
	                 "domain", diag_json_str(f->domain), "status", diag_status_name(f->status));
}

json_t *diag_diagnosis_json(const struct diag_diagnosis *d)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < d->n; i++) {
		const struct diag_cause *c = &d->v[i];
		json_t *ex = json_array();
		for (size_t k = 0; ex && k < c->nexplains; k++)
			if (json_array_append_new(ex, ref_json(c->explains[k]))) {
				json_decref(ex);
				ex = NULL;
			}
		json_t *o = ex ? json_pack("{s:I, s:s, s:s, s:o, s:s, s:s, s:o, s:s, s:s, s:o, s:s, s:o, s:o}",
		                           "rank", (json_int_t)(i + 1), "id", c->root->id,
		                           "target", c->root->target, "domain", diag_json_str(c->root->domain),
		                           "status", diag_status_name(c->root->status),
		                           "impact", diag_status_name(c->impact),
		                           "title", diag_json_str(c->title ? c->title : c->root->summary),
		                           "actor", diag_actor_name(c->actor),
		                           "who_fails", diag_actor_text(c->actor),
		                           "clients", diag_json_str(c->root->clients),
		                           "summary", c->root->summary, "hint", diag_json_str(c->root->hint),
		                           "explains", ex) : NULL;
		if (!o || json_array_append_new(a, o)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

char *diag_diagnosis_text(const struct diag_diagnosis *d, const struct diag_render_opts *o)
{
	struct sbuf b = {0};
	const char *bold = o->color ? "\033[1m" : "", *off = o->color ? "\033[0m" : "";
	if (!d->n)
		sb_printf(&b, "%sdiagnosis:%s nothing to fix: every check is ok\n", bold, off);
	else
		sb_printf(&b, "%sdiagnosis:%s %zu root cause%s, the first to fix first\n", bold, off,
		          d->n, d->n == 1 ? "" : "s");
	for (size_t i = 0; i < d->n; i++) {
		const struct diag_cause *c = &d->v[i];
		const struct diag_finding *f = c->root;
		sb_printf(&b, "%2zu. %s", i + 1, bold);
		sb_clean(&b, c->title ? c->title : f->summary);
		sb_printf(&b, "%s", off);
		if (f->domain) {
			sb_printf(&b, " (");
			sb_clean(&b, f->domain);
			sb_printf(&b, ")");
		}
		sb_printf(&b, "\n");
		sb_printf(&b, "    %s %s ", diag_status_name(f->status), f->id);
		sb_clean(&b, f->target);
		sb_printf(&b, ": ");
		sb_clean(&b, f->summary);
		sb_printf(&b, "\n");
		if (c->actor != DIAG_ACTOR_UNKNOWN) {
			sb_printf(&b, "    who fails: %s", diag_actor_text(c->actor));
			if (c->root->clients) {
				sb_printf(&b, " (");
				sb_clean(&b, c->root->clients);
				sb_printf(&b, ")");
			}
			sb_printf(&b, "\n");
		}
		if (c->nexplains) {
			sb_printf(&b, "    explains:");
			for (size_t k = 0; k < c->nexplains && k < 8; k++) {
				sb_printf(&b, "%s %s ", k ? "," : "", c->explains[k]->id);
				sb_clean(&b, c->explains[k]->target);
			}
			if (c->nexplains > 8)
				sb_printf(&b, " and %zu more", c->nexplains - 8);
			sb_printf(&b, "\n");
		}
		if (f->hint) {
			sb_printf(&b, "    fix: ");
			sb_clean(&b, f->hint);
			sb_printf(&b, "\n");
		}
	}
	return sb_take(&b);
}
