/* SPDX-License-Identifier: ISC */
/*
 * doctor.c - every probe that applies, at once, on one loop.
 *
 * A session holds what names share: the DNS engine, the ACME client, the
 * resolver audit, the CA's directory, the clock, and the account,
 * authorizations and capture when given. A check is one name: HTTP-01 (or,
 * when asked for, TLS-ALPN-01) per address at once, DNS once the directory
 * has said which domain CAA is judged for. A batch runs a session and as many checks as it wants in
 * flight; acme-doctor's usual run (diag_doctor_start) is a session and a
 * check per name, into views of one report.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag/account.h"
#include "diag/authz.h"
#include "diag/clock.h"
#include "diag/dnscheck.h"
#include "diag/doctor.h"
#include "diag/policy.h"
#include "diag/clients.h"
#include "grow.h"

int diag_doctor_challenge_parse(const char *s, enum doctor_challenge *out)
{
	if (!strcmp(s, "auto"))
		*out = DOCTOR_AUTO;
	else if (!strcmp(s, "http-01"))
		*out = DOCTOR_HTTP01;
	else if (!strcmp(s, "dns-01"))
		*out = DOCTOR_DNS01;
	else if (!strcmp(s, "tls-alpn-01"))
		*out = DOCTOR_TLSALPN01;
	else
		return -1;
	return 0;
}

/* ---- sub-probes ---- */

/* A running sub-probe: the argument of its done callback (allocated on its
 * own, so that its address stays put while a list grows). */
struct sub {
	struct diag_probe *p;
	void (*done)(void *owner, struct sub *s);  /* the owner's bookkeeping */
	void *owner;
};

static void sub_done(void *arg)
{
	struct sub *s = arg;
	s->p = NULL;  /* freed by the probe framework right after this */
	s->done(s->owner, s);
}

typedef struct diag_probe *(*sub_start_fn)(struct diag_loop *, const void *, struct diag_report *,
                                           diag_done_cb, void *);

/* Start a sub-probe; NULL (after an error finding) when it cannot start. */
static struct sub *sub_start(struct diag_loop *loop, sub_start_fn start, const void *opts,
                             struct diag_report *r, const char *what,
                             void (*done)(void *, struct sub *), void *owner)
{
	struct sub *s = malloc(sizeof(*s));
	if (s) {
		*s = (struct sub){ .done = done, .owner = owner };
		s->p = start(loop, opts, r, sub_done, s);
	}
	if (!s || !s->p) {
		free(s);
		diag_add(r, DIAG_ERROR, "doctor.run", "", "%s: cannot start (out of memory)", what);
		return NULL;
	}
	return s;
}

/* Cancel a sub-probe that has not ended (its done never runs) and free it. */
static void sub_cancel(struct sub *s)
{
	if (!s)
		return;
	diag_probe_cancel(s->p);
	free(s);
}

/* Adapters: each probe's start function takes its own options type. */
#define ADAPTER(fn, start, type)                                                          \
	static struct diag_probe *fn(struct diag_loop *l, const void *o, struct diag_report *r, \
	                             diag_done_cb done, void *arg)                             \
	{                                                                                       \
		return start(l, (const type *)o, r, done, arg);                                  \
	}
ADAPTER(dns_start, diag_dnscheck_start, struct dnscheck_opts)
ADAPTER(http_start, diag_http01_start, struct http01_opts)
ADAPTER(alpn_start, diag_tlsalpn_start, struct tlsalpn_opts)
ADAPTER(clock_start, diag_clock_start, struct clock_opts)
ADAPTER(account_start, diag_account_start, struct account_opts)
ADAPTER(authz_start, diag_authz_start, struct authz_opts)
ADAPTER(jws_start, diag_jws_start, struct jws_opts)

/* ---- the session ---- */

struct check;

struct diag_doctor {
	struct diag_loop *loop;
	const struct doctor_opts *o;
	struct diag_report *r;    /* the shared findings */
	struct dns_engine *eng;
	struct acme_client *acme;
	struct acme_req *dirq;
	const char *dir_url;
	json_t *dir;              /* the directory, once read */
	int dir_done, audit_done, ready_said;
	char ca_domain[256];
	struct sub **subs;        /* the shared sub-probes (NULL once done) */
	size_t nsubs, capsubs, running;
	struct sub *audit;
	struct check **waiting;   /* checks waiting for the directory */
	size_t nwaiting, capwaiting;
	diag_done_cb ready, done;
	void *arg;
	struct dnscheck_opts audit_o;
	struct clock_opts clock_o;
	struct account_opts acct_o;
	struct authz_opts authz_o;
	struct jws_opts jws_o;
	const char *clock_urls[1];
};

static void session_progress(struct diag_doctor *d)
{
	if (!d->ready_said && d->dir_done && d->audit_done) {
		d->ready_said = 1;
		if (d->ready)
			d->ready(d->arg);
	}
	if (d->running == 0 && d->ready_said && d->done) {
		diag_done_cb done = d->done;
		d->done = NULL;  /* once */
		done(d->arg);
	}
}

static unsigned clients_of(const struct doctor_opts *o)
{
	return o->clients_given ? o->clients : DIAG_CLIENTS_DEFAULT;
}

static void shared_done(void *owner, struct sub *s)
{
	struct diag_doctor *d = owner;
	if (s == d->audit)
		diag_clients_judge(d->r, clients_of(d->o));
	for (size_t i = 0; i < d->nsubs; i++)
		if (d->subs[i] == s)
			d->subs[i] = NULL;
	if (s == d->audit) {
		d->audit = NULL;
		d->audit_done = 1;
	}
	free(s);
	d->running--;
	session_progress(d);
}

static struct sub *shared_start(struct diag_doctor *d, sub_start_fn start, const void *opts,
                                const char *what)
{
	if (diag_grow((void **)&d->subs, &d->capsubs, d->nsubs + 1, sizeof(*d->subs))) {
		diag_add(d->r, DIAG_ERROR, "doctor.run", "", "%s: cannot start (out of memory)", what);
		return NULL;
	}
	struct sub *s = sub_start(d->loop, start, opts, d->r, what, shared_done, d);
	if (s) {
		d->subs[d->nsubs++] = s;
		d->running++;
	}
	return s;
}

static void check_directory_ready(struct check *c);

/* The probes that need the directory, once it has answered (or failed). */
static void after_directory(struct diag_doctor *d)
{
	const struct doctor_opts *o = d->o;
	if (o->key) {
		d->acct_o = (struct account_opts){
			.directory = d->dir_url, .key = o->key, .key_path = o->key_path, .kid = o->kid,
			.contact = o->contact, .ca_bundle = o->ca_bundle, .insecure = o->insecure,
			.timeout_ms = o->timeout_ms, .ns = o->ns, .nns = o->nns,
			.resolv_conf = o->resolv_conf, .family = o->family, .engine = d->eng,
			.no_clock = 1,  /* the clock probe measures the directory's Date */
		};
		shared_start(d, account_start, &d->acct_o, "account checks");
	}
	if (o->nauthz) {
		d->authz_o = (struct authz_opts){
			.urls = o->authz, .nurls = o->nauthz, .directory = d->dir_url,
			.key = o->kid ? o->key : NULL, .kid = o->kid, .ca_bundle = o->ca_bundle,
			.insecure = o->insecure, .timeout_ms = o->timeout_ms,
		};
		shared_start(d, authz_start, &d->authz_o, "authorization checks");
	}
	if (o->capture) {
		d->jws_o = (struct jws_opts){
			.cap = o->capture, .directory = d->dir, .key = o->key,
			.directory_url = d->dir ? NULL : d->dir_url, .ca_bundle = o->ca_bundle,
			.insecure = o->insecure, .timeout_ms = o->timeout_ms,
		};
		shared_start(d, jws_start, &d->jws_o, "capture checks");
	}
	/* the waiting checks start their DNS part; a check may end here */
	while (d->nwaiting)
		check_directory_ready(d->waiting[--d->nwaiting]);
}

static void directory_finding(struct diag_doctor *d, const struct acme_resp *rs, const char *caa)
{
	const struct doctor_opts *o = d->o;
	struct diag_finding *f;
	if (d->dir) {
		json_t *meta = json_object_get(d->dir, "meta");
		int eab = json_is_true(json_object_get(meta, "externalAccountRequired"));
		f = diag_add(d->r, DIAG_OK, "acme.directory", d->dir_url,
		             "directory ok%s; CAA judged for %s%s", eab ? " (external account "
		             "binding required)" : "", d->ca_domain, o->ca_domain ? " (--ca-domain)"
		             : caa ? " (its caaIdentities)" : " (it lists no caaIdentities: give "
		             "--ca-domain for another CA)");
		diag_evidence(f, "externalAccountRequired", json_boolean(eab));
		diag_evidence(f, "caaIdentities", json_incref(json_object_get(meta, "caaIdentities")));
		return;
	}
	f = diag_add(d->r, rs->err[0] ? DIAG_ERROR : DIAG_FAIL, "acme.directory", d->dir_url,
	             "directory not usable: %s", rs->err[0] ? rs->err
	             : rs->status != 200 ? "not HTTP 200" : "not a JSON object");
	diag_set_hint(f, "Check the URL (--directory), that this host reaches it (proxy, firewall "
	              "egress to port 443) and, for a private CA, --ca-bundle.");
	diag_evidence(f, "status", json_integer(rs->status));
}

/* The directory answered (or not): say so when no account probe will,
 * learn the CA's CAA identity, start what needs it. */
static void directory_done(void *arg, struct acme_resp *rs)
{
	struct diag_doctor *d = arg;
	const struct doctor_opts *o = d->o;
	d->dirq = NULL;
	d->running--;
	if (!rs->err[0] && rs->status == 200 && json_is_object(rs->json))
		d->dir = json_incref(rs->json);
	const char *caa = json_string_value(json_array_get(
		json_object_get(json_object_get(d->dir, "meta"), "caaIdentities"), 0));
	snprintf(d->ca_domain, sizeof(d->ca_domain), "%s",
	         o->ca_domain ? o->ca_domain : caa ? caa : "letsencrypt.org");
	if (!o->key)  /* with a key, the account probe reads and judges the directory */
		directory_finding(d, rs, caa);
	d->dir_done = 1;
	after_directory(d);
	session_progress(d);
}

static void session_begin(void *arg)
{
	struct diag_doctor *d = arg;
	const struct doctor_opts *o = d->o;
	if (o->challenge == DOCTOR_AUTO || o->challenge == DOCTOR_DNS01) {
		d->audit_o = (struct dnscheck_opts){
			.family = o->family, .ns = o->ns, .nns = o->nns, .resolv_conf = o->resolv_conf,
			.timeout_ms = o->timeout_ms, .engine = d->eng,
		};
		d->audit = shared_start(d, dns_start, &d->audit_o, "resolver audit");
	}
	d->audit_done = !d->audit;
	d->clock_o = (struct clock_opts){
		.urls = d->clock_urls, .nurls = 1, .ntp = o->ntp, .nntp = o->nntp, .family = o->family,
		.timeout_ms = o->timeout_ms, .warn_s = DIAG_CLOCK_WARN_S, .fail_s = DIAG_CLOCK_FAIL_S,
		.ca_bundle = o->ca_bundle, .insecure = o->insecure, .ns = o->ns, .nns = o->nns,
		.resolv_conf = o->resolv_conf, .engine = d->eng,
	};
	shared_start(d, clock_start, &d->clock_o, "clock checks");
	d->dirq = acme_directory(d->acme, d->dir_url, directory_done, d);
	if (d->dirq) {
		d->running++;
	} else {
		diag_add(d->r, DIAG_ERROR, "doctor.run", "", "the directory: cannot start (out of memory)");
		snprintf(d->ca_domain, sizeof(d->ca_domain), "%s",
		         o->ca_domain ? o->ca_domain : "letsencrypt.org");
		d->dir_done = 1;
		after_directory(d);
	}
	session_progress(d);
}

struct diag_doctor *diag_doctor_new(struct diag_loop *loop, const struct doctor_opts *o,
                                    struct diag_report *r, diag_done_cb ready,
                                    diag_done_cb done, void *arg)
{
	struct diag_doctor *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	*d = (struct diag_doctor){
		.loop = loop, .o = o, .r = r, .ready = ready, .done = done, .arg = arg,
		.dir_url = o->directory ? o->directory : DOCTOR_LETSENCRYPT,
	};
	d->clock_urls[0] = d->dir_url;
	d->eng = dns_engine_new(loop, timeout);
	d->acme = acme_client_new(loop, o->ca_bundle, o->insecure, timeout);
	if (!d->eng || !d->acme || diag_loop_timer(loop, 0, session_begin, d)) {
		diag_doctor_free(d);
		return NULL;
	}
	return d;
}

int diag_doctor_ready(const struct diag_doctor *d)
{
	return d->ready_said;
}

struct dns_engine *diag_doctor_engine(struct diag_doctor *d)
{
	return d->eng;
}

void diag_doctor_free(struct diag_doctor *d)
{
	if (!d)
		return;
	diag_loop_cancel_timers(d->loop, d);
	for (size_t i = 0; i < d->nsubs; i++)
		sub_cancel(d->subs[i]);
	acme_req_cancel(d->dirq);
	free(d->subs);
	free(d->waiting);
	acme_client_free(d->acme);
	dns_engine_free(d->eng);
	json_decref(d->dir);
	free(d);
}

/* ---- a check: one name ---- */

struct check {
	struct diag_probe head;   /* first: the handle */
	struct diag_doctor *d;
	struct doctor_name n;     /* strings borrowed from the caller */
	char base[256];
	int wildcard;
	struct sub *dns;
	struct sub *web;          /* HTTP-01 or TLS-ALPN-01 at every address */
	int waiting;              /* in the session's waiting list */
	struct dnscheck_opts dns_o;
	struct http01_opts http_o;
	struct tlsalpn_opts alpn_o;
};

static void check_sub_done(void *owner, struct sub *s)
{
	struct check *c = owner;
	if (s == c->dns)
		c->dns = NULL;
	if (s == c->web)
		c->web = NULL;
	free(s);
	if (!c->dns && !c->web && !c->waiting) {
		diag_clients_judge(c->head.r, clients_of(c->d->o));
		diag_probe_finish(&c->head);
	}
}

static void check_directory_ready(struct check *c)
{
	c->waiting = 0;
	c->dns_o.ca_domain = c->d->ca_domain;
	c->dns = sub_start(c->head.loop, dns_start, &c->dns_o, c->head.r, "DNS checks",
	                   check_sub_done, c);
	if (!c->dns && !c->web)
		diag_probe_finish(&c->head);
}

static void check_cancel(struct diag_probe *p)
{
	struct check *c = (struct check *)p;
	sub_cancel(c->dns);
	sub_cancel(c->web);
	c->dns = c->web = NULL;
	if (c->waiting) {
		struct diag_doctor *d = c->d;
		for (size_t i = 0; i < d->nwaiting; i++)
			if (d->waiting[i] == c)
				d->waiting[i] = d->waiting[--d->nwaiting];
		c->waiting = 0;
	}
	diag_loop_cancel_timers(p->loop, c);
}

static void check_destroy(struct diag_probe *p)
{
	free(p);
}

static const struct diag_probe_ops check_ops = {
	.name = "doctor check", .cancel = check_cancel, .destroy = check_destroy,
};

/* Which probes apply to the name, and their options. */
static void check_setup(struct check *c, enum doctor_challenge ch)
{
	const struct doctor_opts *o = c->d->o;
	const struct doctor_name *n = &c->n;
	c->dns_o = (struct dnscheck_opts){
		.domain = n->name, .family = o->family, .ns = o->ns, .nns = o->nns,
		.resolv_conf = o->resolv_conf, .timeout_ms = o->timeout_ms,
		.expect = n->expect ? n->expect : o->expect,
		.nexpect = n->expect ? n->nexpect : o->nexpect, .account_uri = o->kid,
		.method = ch == DOCTOR_HTTP01 ? "http-01" : ch == DOCTOR_TLSALPN01 ? "tls-alpn-01"
		          : "dns-01",
		/* the zone and CAA matter to every challenge; the rest of DNS-01
		 * (and the client's resolvers) only to DNS-01 */
		.zone_only = ch == DOCTOR_HTTP01 || ch == DOCTOR_TLSALPN01, .engine = c->d->eng,
		.resolvers_audited = 1, .pebble_strings = o->profile == HTTP01_PEBBLE,
	};
	c->http_o = (struct http01_opts){
		.domain = c->base, .family = o->family, .ns = o->ns, .nns = o->nns,
		.resolv_conf = o->resolv_conf, .timeout_ms = o->timeout_ms,
		.token = n->token ? n->token : o->token,
		.key_authorization = n->key_authorization ? n->key_authorization : o->key_authorization,
		.profile = o->profile, .engine = c->d->eng,
	};
	c->alpn_o = (struct tlsalpn_opts){
		.domain = c->base, .family = o->family, .ns = o->ns, .nns = o->nns,
		.resolv_conf = o->resolv_conf, .timeout_ms = o->timeout_ms,
		.key_authorization = c->http_o.key_authorization, .profile = o->profile,
		.engine = c->d->eng,
	};
}

static void check_begin(void *arg)
{
	struct check *c = arg;
	struct diag_doctor *d = c->d;
	char err[160];
	if (diag_domain_normalize(c->n.name, c->base, sizeof(c->base), &c->wildcard, err, sizeof(err))) {
		diag_add(c->head.r, DIAG_ERROR, "doctor.input", c->n.name, "invalid name: %s", err);
		diag_probe_finish(&c->head);
		return;
	}
	enum doctor_challenge ch = c->n.challenge != DOCTOR_AUTO ? c->n.challenge : d->o->challenge;
	/* The CA's identifier policy first: a name it refuses is not probed.
	 * DNS-01's length rule applies when DNS-01 is the only way. */
	const char *method = ch == DOCTOR_HTTP01 ? "http-01" : ch == DOCTOR_TLSALPN01 ? "tls-alpn-01"
	                     : ch == DOCTOR_DNS01 || c->wildcard ? "dns-01" : NULL;
	if (diag_identifier_check(c->head.r, c->base, c->wildcard, d->o->profile, method)) {
		diag_probe_finish(&c->head);
		return;
	}
	check_setup(c, ch);
	if (ch == DOCTOR_TLSALPN01 && !c->wildcard)
		c->web = sub_start(c->head.loop, alpn_start, &c->alpn_o, c->head.r,
		                   "TLS-ALPN-01 checks", check_sub_done, c);
	else if (ch != DOCTOR_DNS01 && !c->wildcard)
		c->web = sub_start(c->head.loop, http_start, &c->http_o, c->head.r, "HTTP-01 checks",
		                   check_sub_done, c);
	if (d->dir_done) {
		check_directory_ready(c);
		return;
	}
	if (diag_grow((void **)&d->waiting, &d->capwaiting, d->nwaiting + 1, sizeof(*d->waiting))) {
		diag_add(c->head.r, DIAG_ERROR, "doctor.run", c->n.name, "DNS checks: out of memory");
		if (!c->web)
			diag_probe_finish(&c->head);
		return;
	}
	d->waiting[d->nwaiting++] = c;
	c->waiting = 1;
}

struct diag_probe *diag_doctor_check(struct diag_doctor *d, const struct doctor_name *n,
                                     struct diag_report *r, diag_done_cb done, void *arg)
{
	struct check *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	diag_probe_init(&c->head, &check_ops, d->loop, r, done, arg);
	c->d = d;
	c->n = *n;
	if (diag_loop_timer(d->loop, 0, check_begin, c)) {
		free(c);
		return NULL;
	}
	return &c->head;
}

/* ---- the usual run: a session and every name, into views of one report ---- */

struct doctor;
struct doctor_slot {
	struct doctor *x;
	size_t i;
};

struct doctor {
	struct diag_probe head;   /* first: the handle */
	struct diag_doctor *s;
	struct diag_report **views;
	struct diag_probe **checks;  /* NULL once done */
	struct doctor_name *names;
	struct doctor_slot *slots;
	size_t n, left;
	int shared_done;
};

static void doctor_progress(struct doctor *x)
{
	if (x->shared_done && x->left == 0)
		diag_probe_finish(&x->head);
}

static void doctor_shared_done(void *arg)
{
	struct doctor *x = arg;
	x->shared_done = 1;
	doctor_progress(x);
}

static void doctor_check_done(void *arg)
{
	struct doctor_slot *s = arg;
	s->x->checks[s->i] = NULL;
	s->x->left--;
	doctor_progress(s->x);
}

static void doctor_cancel(struct diag_probe *p)
{
	struct doctor *x = (struct doctor *)p;
	for (size_t i = 0; i < x->n; i++) {
		diag_probe_cancel(x->checks[i]);
		x->checks[i] = NULL;
	}
	diag_doctor_free(x->s);
	x->s = NULL;
}

static void doctor_destroy(struct diag_probe *p)
{
	struct doctor *x = (struct doctor *)p;
	for (size_t i = 0; i < x->n; i++)
		diag_report_free(x->views[i]);
	free(x->views);
	free(x->checks);
	free(x->names);
	free(x->slots);
	free(x);
}

static const struct diag_probe_ops doctor_ops = {
	.name = "doctor", .cancel = doctor_cancel, .destroy = doctor_destroy,
};

struct diag_probe *diag_doctor_start(struct diag_loop *loop, const struct doctor_opts *o,
                                     struct diag_report *r, diag_done_cb done, void *arg)
{
	struct doctor *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	diag_probe_init(&x->head, &doctor_ops, loop, r, done, arg);
	size_t n = o->ndomains;
	x->views = calloc(n ? n : 1, sizeof(*x->views));
	x->checks = calloc(n ? n : 1, sizeof(*x->checks));
	x->names = calloc(n ? n : 1, sizeof(*x->names));
	struct doctor_slot *slots = x->slots = calloc(n ? n : 1, sizeof(*slots));
	x->s = x->views && x->checks && x->names && slots
		? diag_doctor_new(loop, o, r, NULL, doctor_shared_done, x) : NULL;
	int ok = x->s != NULL;
	for (size_t i = 0; ok && i < n; i++, x->n++) {
		x->names[i] = (struct doctor_name){ .name = o->domains[i] };
		slots[i] = (struct doctor_slot){ .x = x, .i = i };
		ok = (x->views[i] = diag_report_view(r, o->domains[i])) &&
		     (x->checks[i] = diag_doctor_check(x->s, &x->names[i], x->views[i],
		                                       doctor_check_done, &slots[i]));
	}
	x->left = x->n;
	if (!ok) {
		doctor_cancel(&x->head);
		doctor_destroy(&x->head);
		return NULL;
	}
	return &x->head;
}

static struct diag_probe *start_any(struct diag_loop *loop, const void *o, struct diag_report *r,
                                    diag_done_cb done, void *arg)
{
	return diag_doctor_start(loop, o, r, done, arg);
}

int diag_doctor_run(const struct doctor_opts *o, struct diag_report *r)
{
	return diag_probe_run(start_any, o, r, "doctor.run");
}

/* ---- reading order ---- */

const char *diag_doctor_area(const struct diag_finding *f)
{
	if (!strncmp(f->id, "dns.resolver.", 13) && !f->domain)
		return "resolvers";
	if (!strncmp(f->id, "dns.", 4) || !strncmp(f->id, "dns01.", 6))
		return f->domain ? "DNS-01" : "resolvers";
	if (!strncmp(f->id, "http01.", 7))
		return "HTTP-01";
	if (!strncmp(f->id, "tlsalpn01.", 10))
		return "TLS-ALPN-01";
	if (!strncmp(f->id, "acme.", 5))
		return "ACME";
	if (!strncmp(f->id, "jws.", 4))
		return "capture";
	if (!strncmp(f->id, "clock.", 6))
		return "clock";
	if (!strncmp(f->id, "k8s.", 4))
		return "cert-manager";
	return "other";
}

static const char *const area_order[] = {
	"DNS-01", "HTTP-01", "TLS-ALPN-01", "resolvers", "ACME", "capture", "clock", "cert-manager",
	"other",
};

static size_t area_index(const struct diag_finding *f)
{
	const char *a = diag_doctor_area(f);
	for (size_t i = 0; i < sizeof(area_order) / sizeof(area_order[0]); i++)
		if (!strcmp(a, area_order[i]))
			return i;
	return 0;
}

static const char *const *sort_names;

static int by_name(const void *a, const void *b)
{
	return strcmp(sort_names[*(const size_t *)a], sort_names[*(const size_t *)b]);
}

/* The position of domain among o's names (bsearch over a sorted index);
 * o->ndomains for none. */
static size_t name_index(const struct doctor_opts *o, const size_t *sorted, const char *domain)
{
	size_t lo = 0, hi = o->ndomains;
	while (domain && lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(domain, o->domains[sorted[mid]]);
		if (!c)
			return sorted[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return o ? o->ndomains : 0;
}

void diag_doctor_sort(struct diag_report *r, const struct doctor_opts *o)
{
	size_t nn = o ? o->ndomains : 0;
	size_t *sorted = calloc(nn ? nn : 1, sizeof(*sorted));
	size_t *key = calloc(r->n ? r->n : 1, sizeof(*key));
	if (!sorted || !key) {
		free(sorted);
		free(key);
		return;  /* arrival order: readable enough */
	}
	for (size_t i = 0; i < nn; i++)
		sorted[i] = i;
	sort_names = o ? o->domains : NULL;
	if (nn)
		diag_sort(sorted, nn, sizeof(*sorted), by_name);
	for (size_t i = 0; i < r->n; i++)
		key[i] = (o ? name_index(o, sorted, r->v[i]->domain) : 0) * 16 + area_index(r->v[i]);
	/* insertion sort on the keys: stable, and a section is mostly in
	 * order already */
	for (size_t i = 1; i < r->n; i++) {
		struct diag_finding *f = r->v[i];
		size_t k = i, kf = key[i];
		while (k > 0 && key[k - 1] > kf) {
			r->v[k] = r->v[k - 1];
			key[k] = key[k - 1];
			k--;
		}
		r->v[k] = f;
		key[k] = kf;
	}
	free(sorted);
	free(key);
}
