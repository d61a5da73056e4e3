/*
 * doctor.c - every probe that applies, at once, on one loop.
 *
 * Everything that does not depend on the CA's directory starts at once:
 * the resolver audit, HTTP-01 per name, the clock (the directory's Date,
 * NTP) and the directory itself. When the directory has answered (or
 * failed), the probes that need it start: DNS per name (CAA is judged for
 * the directory's caaIdentities), the account, authorizations and the
 * capture. The run ends when the last probe is done.
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

/* One name: its view of the report and the options of its probes. */
struct name {
	const char *given;        /* as the user gave it */
	char base[256];           /* without "*." */
	int wildcard;
	int dns, http, alpn;      /* which probes apply */
	struct diag_report *view;
	struct dnscheck_opts dns_o;
	struct http01_opts http_o;
	struct tlsalpn_opts alpn_o;
};

struct slot;

struct doctor {
	struct diag_probe head;   /* first: the handle */
	const struct doctor_opts *o;
	struct dns_engine *eng;
	struct acme_client *acme;
	struct acme_req *dirq;
	struct name *names;
	size_t nnames;
	struct slot **subs;       /* running sub-probes (NULL once done) */
	size_t nsubs, capsubs;
	size_t running;           /* sub-probes and the directory fetch not yet done */
	int any_dns;              /* DNS-01 is checked: the resolvers are audited */
	char ca_domain[256];
	const char *clock_urls[1];
	struct dnscheck_opts audit_o;
	struct clock_opts clock_o;
	struct account_opts acct_o;
	struct authz_opts authz_o;
	struct jws_opts jws_o;
	json_t *dir;              /* the directory, once read */
};

static void doctor_error(struct doctor *d, const char *what)
{
	diag_add(d->head.r, DIAG_ERROR, "doctor.run", "", "%s: out of memory", what);
}

static void maybe_finish(struct doctor *d)
{
	if (d->running == 0)
		diag_probe_finish(&d->head);
}

/* A running sub-probe: the argument of its done callback (allocated on
 * its own, so that its address stays put while the list grows). */
struct slot {
	struct doctor *d;
	size_t i;
	struct diag_probe *p;
};

/* A sub-probe is done: its slot goes (its handle is freed now). */
static void sub_done(void *arg)
{
	struct slot *s = arg;
	struct doctor *d = s->d;
	d->subs[s->i] = NULL;
	free(s);
	d->running--;
	maybe_finish(d);
}

typedef struct diag_probe *(*sub_start_fn)(struct diag_loop *, const void *, struct diag_report *,
                                           diag_done_cb, void *);

/* Start a sub-probe; when it cannot start, an error finding says so. */
static void start_sub(struct doctor *d, sub_start_fn start, const void *opts,
                      struct diag_report *r, const char *what)
{
	struct slot *s = malloc(sizeof(*s));
	if (!s || diag_grow((void **)&d->subs, &d->capsubs, d->nsubs + 1, sizeof(*d->subs))) {
		free(s);
		doctor_error(d, what);
		return;
	}
	*s = (struct slot){ .d = d, .i = d->nsubs };
	s->p = start(d->head.loop, opts, r, sub_done, s);
	if (!s->p) {
		free(s);
		doctor_error(d, what);
		return;
	}
	d->subs[d->nsubs++] = s;
	d->running++;
}

/* Adapters: each probe's start function takes its own options type. */
static struct diag_probe *dns_start(struct diag_loop *l, const void *o, struct diag_report *r,
                                    diag_done_cb done, void *arg)
{
	return diag_dnscheck_start(l, o, r, done, arg);
}

static struct diag_probe *http_start(struct diag_loop *l, const void *o, struct diag_report *r,
                                     diag_done_cb done, void *arg)
{
	return diag_http01_start(l, o, r, done, arg);
}

static struct diag_probe *alpn_start(struct diag_loop *l, const void *o, struct diag_report *r,
                                     diag_done_cb done, void *arg)
{
	return diag_tlsalpn_start(l, o, r, done, arg);
}

static struct diag_probe *clock_start(struct diag_loop *l, const void *o, struct diag_report *r,
                                      diag_done_cb done, void *arg)
{
	return diag_clock_start(l, o, r, done, arg);
}

static struct diag_probe *account_start(struct diag_loop *l, const void *o, struct diag_report *r,
                                        diag_done_cb done, void *arg)
{
	return diag_account_start(l, o, r, done, arg);
}

static struct diag_probe *authz_start(struct diag_loop *l, const void *o, struct diag_report *r,
                                      diag_done_cb done, void *arg)
{
	return diag_authz_start(l, o, r, done, arg);
}

static struct diag_probe *jws_start(struct diag_loop *l, const void *o, struct diag_report *r,
                                    diag_done_cb done, void *arg)
{
	return diag_jws_start(l, o, r, done, arg);
}

/* ---- the probes that need the directory ---- */

static void start_after_directory(struct doctor *d)
{
	const struct doctor_opts *o = d->o;
	for (size_t i = 0; i < d->nnames; i++) {
		struct name *n = &d->names[i];
		if (!n->dns)
			continue;
		n->dns_o.ca_domain = d->ca_domain;
		start_sub(d, dns_start, &n->dns_o, n->view, "DNS checks");
	}
	if (o->key) {
		d->acct_o = (struct account_opts){
			.directory = d->clock_urls[0], .key = o->key, .key_path = o->key_path,
			.kid = o->kid, .contact = o->contact, .ca_bundle = o->ca_bundle,
			.insecure = o->insecure, .timeout_ms = o->timeout_ms, .ns = o->ns, .nns = o->nns,
			.resolv_conf = o->resolv_conf, .family = o->family, .engine = d->eng,
			.no_clock = 1,  /* the clock probe measures the directory's Date */
		};
		start_sub(d, account_start, &d->acct_o, d->head.r, "account checks");
	}
	if (o->nauthz) {
		d->authz_o = (struct authz_opts){
			.urls = o->authz, .nurls = o->nauthz, .directory = d->clock_urls[0],
			.key = o->kid ? o->key : NULL, .kid = o->kid, .ca_bundle = o->ca_bundle,
			.insecure = o->insecure, .timeout_ms = o->timeout_ms,
		};
		start_sub(d, authz_start, &d->authz_o, d->head.r, "authorization checks");
	}
	if (o->capture) {
		d->jws_o = (struct jws_opts){
			.cap = o->capture, .directory = d->dir, .key = o->key,
			.directory_url = d->dir ? NULL : d->clock_urls[0], .ca_bundle = o->ca_bundle,
			.insecure = o->insecure, .timeout_ms = o->timeout_ms,
		};
		start_sub(d, jws_start, &d->jws_o, d->head.r, "capture checks");
	}
}

/* The directory answered (or not): say so when no account probe will,
 * learn the CA's CAA identity, start what needs it. */
static void directory_done(void *arg, struct acme_resp *rs)
{
	struct doctor *d = arg;
	const struct doctor_opts *o = d->o;
	d->dirq = NULL;
	d->running--;
	const char *url = d->clock_urls[0];
	int usable = !rs->err[0] && rs->status == 200 && json_is_object(rs->json);
	if (usable)
		d->dir = json_incref(rs->json);
	const char *caa = json_string_value(json_array_get(
		json_object_get(json_object_get(d->dir, "meta"), "caaIdentities"), 0));
	if (o->ca_domain)
		snprintf(d->ca_domain, sizeof(d->ca_domain), "%s", o->ca_domain);
	else
		snprintf(d->ca_domain, sizeof(d->ca_domain), "%s", caa ? caa : "letsencrypt.org");
	if (!o->key) {  /* with a key, the account probe reads and judges the directory */
		struct diag_finding *f;
		if (usable) {
			int eab = json_is_true(json_object_get(json_object_get(d->dir, "meta"),
			                                       "externalAccountRequired"));
			f = diag_add(d->head.r, DIAG_OK, "acme.directory", url,
			             "directory ok%s; CAA judged for %s%s", eab ? " (external account "
			             "binding required)" : "", d->ca_domain, o->ca_domain ? " (--ca-domain)"
			             : caa ? " (its caaIdentities)" : " (it lists no caaIdentities: "
			             "give --ca-domain for another CA)");
			diag_evidence(f, "externalAccountRequired", json_boolean(eab));
			diag_evidence(f, "caaIdentities", json_incref(json_object_get(
				json_object_get(d->dir, "meta"), "caaIdentities")));
		} else {
			f = diag_add(d->head.r, rs->err[0] ? DIAG_ERROR : DIAG_FAIL, "acme.directory", url,
			             "directory not usable: %s", rs->err[0] ? rs->err
			             : rs->status != 200 ? "not HTTP 200" : "not a JSON object");
			diag_set_hint(f, "Check the URL (--directory), that this host reaches it (proxy, "
			              "firewall egress to port 443) and, for a private CA, --ca-bundle.");
			diag_evidence(f, "status", json_integer(rs->status));
		}
	}
	start_after_directory(d);
	maybe_finish(d);
}

/* ---- set-up ---- */

static int setup_names(struct doctor *d)
{
	const struct doctor_opts *o = d->o;
	d->names = calloc(o->ndomains ? o->ndomains : 1, sizeof(*d->names));
	if (!d->names)
		return -1;
	for (size_t i = 0; i < o->ndomains; i++) {
		struct name *n = &d->names[i];
		char err[160];
		n->given = o->domains[i];
		if (diag_domain_normalize(n->given, n->base, sizeof(n->base), &n->wildcard, err,
		                          sizeof(err))) {
			diag_add(d->head.r, DIAG_ERROR, "doctor.input", n->given, "invalid name: %s", err);
			continue;
		}
		if (!(n->view = diag_report_view(d->head.r, n->given)))
			return -1;
		d->nnames = i + 1;
		/* the zone and CAA matter to both challenges; the rest of DNS-01
		 * (and the client's resolvers) only to DNS-01 */
		n->dns = 1;
		n->http = (o->challenge == DOCTOR_AUTO || o->challenge == DOCTOR_HTTP01) && !n->wildcard;
		n->alpn = o->challenge == DOCTOR_TLSALPN01 && !n->wildcard;
		int dns01 = o->challenge == DOCTOR_AUTO || o->challenge == DOCTOR_DNS01;
		d->any_dns |= dns01;
		n->dns_o = (struct dnscheck_opts){
			.domain = n->given, .family = o->family, .ns = o->ns, .nns = o->nns,
			.resolv_conf = o->resolv_conf, .timeout_ms = o->timeout_ms, .expect = o->expect,
			.nexpect = o->nexpect, .account_uri = o->kid,
			.method = o->challenge == DOCTOR_HTTP01 ? "http-01"
			          : o->challenge == DOCTOR_TLSALPN01 ? "tls-alpn-01" : "dns-01",
			.zone_only = !dns01,
			.engine = d->eng, .resolvers_audited = 1,
		};
		n->http_o = (struct http01_opts){
			.domain = n->base, .family = o->family, .ns = o->ns, .nns = o->nns,
			.resolv_conf = o->resolv_conf, .timeout_ms = o->timeout_ms, .token = o->token,
			.key_authorization = o->key_authorization, .profile = o->profile,
			.engine = d->eng,
		};
		n->alpn_o = (struct tlsalpn_opts){
			.domain = n->base, .family = o->family, .ns = o->ns, .nns = o->nns,
			.resolv_conf = o->resolv_conf, .timeout_ms = o->timeout_ms,
			.key_authorization = o->key_authorization, .profile = o->profile, .engine = d->eng,
		};
	}
	return 0;
}

static void start_now(void *arg)
{
	struct doctor *d = arg;
	const struct doctor_opts *o = d->o;
	if (d->any_dns) {
		d->audit_o = (struct dnscheck_opts){
			.family = o->family, .ns = o->ns, .nns = o->nns, .resolv_conf = o->resolv_conf,
			.timeout_ms = o->timeout_ms, .engine = d->eng,
		};
		start_sub(d, dns_start, &d->audit_o, d->head.r, "resolver audit");
	}
	for (size_t i = 0; i < d->nnames; i++)
		if (d->names[i].http)
			start_sub(d, http_start, &d->names[i].http_o, d->names[i].view, "HTTP-01 checks");
	for (size_t i = 0; i < d->nnames; i++)
		if (d->names[i].alpn)
			start_sub(d, alpn_start, &d->names[i].alpn_o, d->names[i].view, "TLS-ALPN-01 checks");
	d->clock_o = (struct clock_opts){
		.urls = d->clock_urls, .nurls = 1, .ntp = o->ntp, .nntp = o->nntp, .family = o->family,
		.timeout_ms = o->timeout_ms, .warn_s = DIAG_CLOCK_WARN_S, .fail_s = DIAG_CLOCK_FAIL_S,
		.ca_bundle = o->ca_bundle, .insecure = o->insecure, .ns = o->ns, .nns = o->nns,
		.resolv_conf = o->resolv_conf, .engine = d->eng,
	};
	start_sub(d, clock_start, &d->clock_o, d->head.r, "clock checks");
	d->dirq = acme_directory(d->acme, d->clock_urls[0], directory_done, d);
	if (d->dirq) {
		d->running++;
	} else {
		doctor_error(d, "the directory");
		start_after_directory(d);
	}
	maybe_finish(d);
}

/* ---- the probe ---- */

static void doctor_cancel(struct diag_probe *p)
{
	struct doctor *d = (struct doctor *)p;
	for (size_t i = 0; i < d->nsubs; i++)
		if (d->subs[i]) {
			/* a cancelled probe's done never runs: its slot goes here */
			diag_probe_cancel(d->subs[i]->p);
			free(d->subs[i]);
			d->subs[i] = NULL;
		}
	if (d->dirq) {
		acme_req_cancel(d->dirq);
		d->dirq = NULL;
	}
	diag_loop_cancel_timers(p->loop, d);
}

static void doctor_destroy(struct diag_probe *p)
{
	struct doctor *d = (struct doctor *)p;
	for (size_t i = 0; i < d->nnames; i++)
		diag_report_free(d->names[i].view);
	free(d->names);
	free(d->subs);
	acme_client_free(d->acme);
	dns_engine_free(d->eng);
	json_decref(d->dir);
	free(d);
}

static const struct diag_probe_ops doctor_ops = {
	.name = "doctor", .cancel = doctor_cancel, .destroy = doctor_destroy,
};

struct diag_probe *diag_doctor_start(struct diag_loop *loop, const struct doctor_opts *o,
                                     struct diag_report *r, diag_done_cb done, void *arg)
{
	struct doctor *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	diag_probe_init(&d->head, &doctor_ops, loop, r, done, arg);
	d->o = o;
	d->clock_urls[0] = o->directory ? o->directory : DOCTOR_LETSENCRYPT;
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	d->eng = dns_engine_new(loop, timeout);
	d->acme = acme_client_new(loop, o->ca_bundle, o->insecure, timeout);
	if (!d->eng || !d->acme || setup_names(d) || diag_loop_timer(loop, 0, start_now, d)) {
		doctor_destroy(&d->head);
		return NULL;
	}
	return &d->head;
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
	return "other";
}

static const char *const area_order[] = {
	"DNS-01", "HTTP-01", "TLS-ALPN-01", "resolvers", "ACME", "capture", "clock", "other",
};

static size_t sort_key(const struct doctor_opts *o, const struct diag_finding *f)
{
	size_t area = 0, name = o->ndomains;
	for (size_t i = 0; i < sizeof(area_order) / sizeof(area_order[0]); i++)
		if (!strcmp(diag_doctor_area(f), area_order[i]))
			area = i;
	for (size_t i = 0; f->domain && i < o->ndomains; i++)
		if (!strcmp(f->domain, o->domains[i])) {
			name = i;
			break;
		}
	return name * 16 + area;
}

void diag_doctor_sort(struct diag_report *r, const struct doctor_opts *o)
{
	/* insertion sort: stable (arrival order stays within a section), and
	 * reports are small */
	for (size_t i = 1; i < r->n; i++) {
		struct diag_finding *f = r->v[i];
		size_t key = sort_key(o, f), k = i;
		while (k > 0 && sort_key(o, r->v[k - 1]) > key) {
			r->v[k] = r->v[k - 1];
			k--;
		}
		r->v[k] = f;
	}
}
