/* SPDX-License-Identifier: ISC */
/*
 * authz.c - what the CA says about an order, authorization or challenge.
 *
 * Every resource is fetched on the loop, at most AUTHZ_INFLIGHT at once:
 * an order's authorizations concurrently. Each resource is a slot in a
 * tree (the URLs given, then what an order lists or a challenge points
 * up to); a slot's findings wait in a buffer of their own until every
 * slot before it (depth first) is written, so findings stream out yet
 * always come in the order the URLs and the order list them.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag/authz.h"
#include "httputil.h"

const char *diag_acme_error_hint(const char *type, const char *detail)
{
	if (detail && (strstr(detail, "must be pending") || strstr(detail, "only status pending") ||
	               strstr(detail, "Expired authorization") || strstr(detail, "Authorization expired")))
		return "The authorization already left pending (it failed, expired, or was answered "
		       "already): answering its challenge again cannot work. Create a new order (cert-manager "
		       "retries the Order; certbot/lego: run again), after fixing what failed.";
	if (!type)
		return NULL;
	if (!strcmp(type, "connection"))
		return "The CA could not fetch the challenge: check with acme-httpcheck (address by address, "
		       "IPv6 first) and open port 80 (or 443 for tls-alpn-01) to the world.";
	if (!strcmp(type, "dns"))
		return "The CA's DNS lookup failed (NXDOMAIN, SERVFAIL, timeout, DNSSEC): check with "
		       "acme-dnscheck and fix the zone or its nameservers.";
	if (!strcmp(type, "caa"))
		return "A CAA record forbids this CA: see acme-dnscheck's dns.caa and add an issue record "
		       "for the CA (with accounturi/validationmethods if you restrict them).";
	if (!strcmp(type, "unauthorized"))
		return "The CA reached the server but got the wrong answer (a 404, another body, a wrong "
		       "TXT value): check the webroot or the TXT record with acme-httpcheck --token / "
		       "acme-dnscheck --key-authorization.";
	if (!strcmp(type, "tls"))
		return "The TLS handshake the CA made failed: check the server's TLS on the validated port.";
	if (!strcmp(type, "rateLimited"))
		return "A rate limit was hit: wait for the Retry-After time and avoid repeated failing "
		       "attempts (use the staging server while debugging).";
	if (!strcmp(type, "badNonce"))
		return "The client sent a stale nonce; clients retry this themselves. Repeated badNonce: a "
		       "proxy caching responses, or a clock far off.";
	if (!strcmp(type, "accountDoesNotExist"))
		return "The account URL the client signs with is unknown here: see acme-account.";
	if (!strcmp(type, "malformed"))
		return "The CA rejected the request as malformed; see the detail.";
	if (!strcmp(type, "rejectedIdentifier"))
		return "The CA will not issue for this name (policy, blocklist, or not a public domain).";
	if (!strcmp(type, "serverInternal"))
		return "An error on the CA's side: retry later and check the CA's status page.";
	return NULL;
}

static int64_t rfc3339(const char *s)
{
	if (!s)
		return 0;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int y, mo, d, h, mi, sec;
	if (sscanf(s, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	int64_t t = (int64_t)timegm(&tm);
	/* a numeric offset (Z or none is UTC) */
	const char *tz = strlen(s) > 19 ? strpbrk(s + 19, "Zz+-") : NULL;
	if (tz && (*tz == '+' || *tz == '-')) {
		int oh = 0, om = 0;
		if (sscanf(tz + 1, "%d:%d", &oh, &om) >= 1)
			t -= (*tz == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	}
	return t;
}

static void time_left(char *buf, size_t len, int64_t secs)
{
	if (secs < 0)
		snprintf(buf, len, "expired %lld min ago", (long long)(-secs / 60));
	else if (secs < 7200)
		snprintf(buf, len, "%lld min left", (long long)(secs / 60));
	else if (secs < 3 * 86400)
		snprintf(buf, len, "%lld h left", (long long)(secs / 3600));
	else
		snprintf(buf, len, "%lld days left", (long long)(secs / 86400));
}

static void report_problem(struct diag_finding *f, const json_t *err)
{
	struct acme_problem p;
	if (!f || acme_problem_parse(err, &p))
		return;
	const char *h = diag_acme_error_hint(acme_problem_short(&p), p.detail);
	if (h)
		diag_set_hint(f, "%s", h);
	diag_evidence(f, "error", json_incref((json_t *)err));
}

static void do_challenge(struct diag_report *r, const json_t *ch, const char *ident)
{
	const char *type = json_string_value(json_object_get(ch, "type"));
	const char *st = json_string_value(json_object_get(ch, "status"));
	const char *url = json_string_value(json_object_get(ch, "url"));
	json_t *err = json_object_get(ch, "error");
	json_t *vr = json_object_get(ch, "validationRecord");
	struct diag_finding *f;
	char used[128] = "";
	json_t *rec;
	size_t i;
	json_array_foreach(vr, i, rec) {
		const char *a = json_string_value(json_object_get(rec, "addressUsed"));
		if (a) {
			snprintf(used, sizeof(used), "%s", a);
			break;
		}
	}
	if (!type || !st) {
		f = diag_add(r, DIAG_ERROR, "acme.challenge", url ? url : ident,
		             "a challenge without type or status");
		return;
	}
	if (!strcmp(st, "invalid")) {
		struct acme_problem p;
		memset(&p, 0, sizeof(p));
		acme_problem_parse(err, &p);
		f = diag_add(r, DIAG_FAIL, "acme.challenge", url ? url : ident, "%s for %s invalid%s%s%s: %s%s%s",
		             type, ident, used[0] ? " (the CA connected to " : "", used, used[0] ? ")" : "",
		             p.type[0] ? acme_problem_short(&p) : "no error given", p.detail[0] ? ": " : "",
		             p.detail);
		report_problem(f, err);
	} else {
		f = diag_add(r, st && (!strcmp(st, "valid") || !strcmp(st, "pending") ||
		                          !strcmp(st, "processing")) ? DIAG_OK : DIAG_WARN,
		             "acme.challenge", url ? url : ident, "%s for %s %s%s%s%s", type, ident, st,
		             used[0] ? " (the CA connected to " : "", used, used[0] ? ")" : "");
	}
	diag_evidence(f, "type", diag_json_str(type));
	diag_evidence(f, "status", diag_json_str(st));
	if (json_is_array(vr))
		diag_evidence(f, "validationRecord", json_incref(vr));
	if (used[0])
		diag_evidence(f, "addressUsed", diag_json_str(used));
	const char *token = json_string_value(json_object_get(ch, "token"));
	if (token)
		diag_evidence(f, "token", diag_json_str(token));
}

static void do_authz(struct diag_report *r, int64_t now, const char *url, const json_t *a)
{
	const json_t *id = json_object_get(a, "identifier");
	const char *value = json_string_value(json_object_get(id, "value"));
	const char *st = json_string_value(json_object_get(a, "status"));
	int wildcard = json_is_true(json_object_get(a, "wildcard"));
	int64_t exp = rfc3339(json_string_value(json_object_get(a, "expires")));
	char ident[300], left[64] = "";
	snprintf(ident, sizeof(ident), "%s%s", wildcard ? "*." : "", value ? value : "?");
	if (exp)
		time_left(left, sizeof(left), exp - now);
	struct diag_finding *f;
	if (!st) {
		f = diag_add(r, DIAG_ERROR, "acme.authz.status", url, "not an authorization: no status");
		return;
	}
	if (!strcmp(st, "valid")) {
		f = diag_add(r, DIAG_OK, "acme.authz.status", url, "%s: valid%s%s", ident,
		             left[0] ? ", " : "", left);
	} else if (!strcmp(st, "pending")) {
		int soon = exp && exp - now < 15 * 60;
		f = diag_add(r, soon ? DIAG_WARN : DIAG_OK, "acme.authz.status", url,
		             "%s: pending (waiting for the client to answer a challenge)%s%s", ident,
		             left[0] ? ", " : "", left);
		if (soon)
			diag_set_hint(f, "It expires soon: once it does, answering fails with \"authorization "
			              "must be pending\"; fix DNS/HTTP now or start a new order.");
	} else {
		f = diag_add(r, DIAG_FAIL, "acme.authz.status", url, "%s: %s%s%s", ident, st,
		             left[0] ? ", " : "", left);
		if (!strcmp(st, "invalid"))
			diag_set_hint(f, "A challenge failed (see acme.challenge); an invalid authorization cannot "
			              "be retried. Fix the cause, then create a new order: answering again gives "
			              "\"Unable to update challenge :: authorization must be pending\".");
		else
			diag_set_hint(f, "This authorization can no longer be used (deactivated, expired or "
			              "revoked): create a new order; answering its challenge gives "
			              "\"authorization must be pending\".");
	}
	diag_evidence(f, "identifier", diag_json_str(ident));
	diag_evidence(f, "status", diag_json_str(st));
	diag_evidence(f, "wildcard", json_boolean(wildcard));
	if (exp)
		diag_evidence(f, "expires_in_s", json_integer(exp - now));
	json_t *chs = json_object_get(a, "challenges");
	json_t *ch;
	size_t i;
	json_array_foreach(chs, i, ch)
		do_challenge(r, ch, ident);
}


/* ---- the probe: a tree of slots ---- */

struct authz_probe;

struct slot {
	struct authz_probe *p;
	char *url;
	const char *top;            /* the URL given that this one descends from */
	int depth;
	struct diag_report *buf;    /* findings until they are written */
	json_t *follow;             /* URLs it points to, followed once it is written */
	struct slot **kids;         /* one place per URL it points to */
	size_t nkids, capkids, kids_written;
	int done;                   /* fetched, refused or given up */
	int written;                /* own findings moved to the report */
	struct acme_req *req;       /* in flight */
	struct slot *next_wait;     /* queue of slots to fetch */
};

struct authz_probe {
	struct diag_probe head;     /* first */
	char *directory, *kid, *ca_bundle;
	const struct acme_key *key;
	int timeout_ms;
	int64_t now;
	struct acme_client *c;
	struct acme_req *dir_req;
	struct slot root;           /* its kids: the URLs given */
	struct slot *all[AUTHZ_MAX_FETCH];  /* every slot but the root, in creation order */
	size_t nall;
	size_t cut;                 /* resources left out by AUTHZ_MAX_FETCH */
	size_t inflight, unfinished;
	int over;                   /* the time bound was reached */
	struct slot *wait_head, *wait_tail;
	struct deadline {
		struct authz_probe *p;
	} deadline;                 /* the deadline timer's arg */
	int64_t deadline_s;
};

static int already(const struct authz_probe *p, const char *url)
{
	for (size_t i = 0; i < p->nall; i++)
		if (!strcmp(p->all[i]->url, url))
			return 1;
	return 0;
}

/* Room under parent for n more slots; -1 when out of memory. */
static int make_room(struct slot *parent, size_t n)
{
	if (parent->kids || !n)
		return 0;
	if (!(parent->kids = calloc(n, sizeof(*parent->kids))))
		return -1;
	parent->capkids = n;
	return 0;
}

/* A new slot under parent (which has room), queued for fetching; NULL when
 * out of memory or over the bound. */
static struct slot *slot_new(struct authz_probe *p, struct slot *parent, const char *url, const char *top)
{
	if (p->nall == AUTHZ_MAX_FETCH || parent->nkids == parent->capkids)
		return NULL;
	struct slot *s = calloc(1, sizeof(*s));
	if (!s || !(s->url = strdup(url)) || !(s->buf = diag_report_new("acme-authz", "", url))) {
		if (s)
			free(s->url);
		free(s);
		return NULL;
	}
	s->p = p;
	s->top = top ? top : s->url;
	s->depth = parent == &p->root ? 0 : parent->depth + 1;
	p->all[p->nall++] = s;
	parent->kids[parent->nkids++] = s;
	p->unfinished++;
	if (p->wait_tail)
		p->wait_tail->next_wait = s;
	else
		p->wait_head = s;
	p->wait_tail = s;
	return s;
}

static void slot_free(struct slot *s)
{
	json_decref(s->follow);
	diag_report_free(s->buf);
	free(s->kids);
	free(s->url);
	free(s);
}

/* Copy a buffered finding into the report (the report cleans nothing twice:
 * its strings are valid UTF-8 already). */
static void copy_finding(struct diag_report *to, const struct diag_finding *f)
{
	struct diag_finding *g = diag_add(to, f->status, f->id, f->target ? f->target : "", "%s", f->summary);
	if (!g)
		return;
	if (f->detail)
		diag_set_detail(g, "%s", f->detail);
	if (f->hint)
		diag_set_hint(g, "%s", f->hint);
	const char *k;
	json_t *v;
	json_object_foreach(f->evidence, k, v)
		diag_evidence(g, k, json_incref(v));
	g->duration_ms = f->duration_ms;
	g->actor = f->actor;
}

static void follow(struct authz_probe *p, struct slot *s, const char *url);

/*
 * Write what can be written in order; 1 when s and all below it are. The
 * URLs a slot points to are followed when it is written, so what the
 * bound AUTHZ_MAX_FETCH leaves out is decided in the order of the output,
 * whatever order the answers came in.
 */
static int flush(struct authz_probe *p, struct slot *s)
{
	if (!s->done)
		return 0;
	if (!s->written) {
		for (size_t i = 0; s->buf && i < s->buf->n; i++)
			copy_finding(p->head.r, s->buf->v[i]);
		diag_report_free(s->buf);
		s->buf = NULL;
		s->written = 1;
		size_t n = json_array_size(s->follow);
		int room = make_room(s, n) == 0;
		for (size_t i = 0; i < n; i++) {
			const char *url = json_string_value(json_array_get(s->follow, i));
			if (room)
				follow(p, s, url);
			else
				diag_add(p->head.r, DIAG_ERROR, "acme.fetch", url ? url : "", "not fetched: out of memory");
		}
		json_decref(s->follow);
		s->follow = NULL;
	}
	for (; s->kids_written < s->nkids; s->kids_written++)
		if (!flush(p, s->kids[s->kids_written]))
			return 0;
	return 1;
}

/* Follow url once slot s is written (an order's authorization, a
 * challenge's authorization). */
static void follow_later(struct slot *s, const char *url)
{
	if (!s->follow)
		s->follow = json_array();
	if (json_array_append_new(s->follow, json_string(url)))
		diag_add(s->buf, DIAG_ERROR, "acme.fetch", url, "not followed: out of memory");
}

/* May the probe follow url, found under slot s? Same origin as the URL
 * given, or as the directory. */
static int origin_allowed(const struct authz_probe *p, const struct slot *s, const char *url)
{
	return diag_url_same_origin(url, s->top) || (p->directory && diag_url_same_origin(url, p->directory));
}

static void late_finding(const struct authz_probe *p, struct diag_report *r, const char *url)
{
	struct diag_finding *f = diag_add(r, DIAG_ERROR, "acme.fetch", url, "not fetched within the run's "
	                                  "time bound (%lld s: %d x --timeout)", (long long)p->deadline_s,
	                                  AUTHZ_RUN_TIMEOUTS);
	diag_set_hint(f, "The server answers too slowly for this many resources: run again on fewer "
	              "URLs, or with a longer --timeout.");
}

/* Follow url found in slot s, which has just been written: a new slot,
 * or a finding saying why not (in its place in the output). */
static void follow(struct authz_probe *p, struct slot *s, const char *url)
{
	struct diag_report *r = p->head.r;
	struct diag_finding *f;
	if (!url || s->depth >= 2 || already(p, url))
		return;
	if (!origin_allowed(p, s, url)) {
		f = diag_add(r, DIAG_FAIL, "acme.fetch", url, "not followed: %s is on another origin than %s%s%s",
		             url, s->top, p->directory ? " and the directory " : "", p->directory ? p->directory : "");
		diag_set_hint(f, "An ACME server names its own resources; a URL elsewhere is a wrong base URL "
		              "(a private CA behind a proxy that advertises its internal name) or a hostile "
		              "answer. Clients that follow it fail or send signed requests to another host. "
		              "Fix the server's external URL, or give this URL to acme-authz directly.");
		diag_evidence(f, "from", diag_json_str(s->url));
	} else if (p->nall >= AUTHZ_MAX_FETCH) {
		p->cut++;
	} else if (p->over) {
		late_finding(p, r, url);
	} else if (!slot_new(p, s, url, s->top)) {
		diag_add(r, DIAG_ERROR, "acme.fetch", url, "not fetched: out of memory");
	}
}

static void report_fetch_error(const struct authz_probe *p, struct diag_report *r, const char *url,
                               const struct acme_resp *rs)
{
	struct diag_finding *f;
	if (rs->err[0]) {
		f = diag_add(r, DIAG_ERROR, "acme.fetch", url, "cannot fetch: %s", rs->err);
		diag_set_hint(f, strstr(rs->err, "certificate") ? "Pass --ca-bundle with the CA's root for a "
		              "private ACME server." : "Check the URL and that this host reaches the server.");
		return;
	}
	const char *type = acme_problem_short(&rs->prob);
	if (rs->status == 405 && !p->key) {
		f = diag_add(r, DIAG_ERROR, "acme.fetch", url, "HTTP 405: this server wants POST-as-GET "
		             "(RFC 8555 6.3), not a plain GET");
		diag_set_hint(f, "Pebble and strict servers answer GET with 405; give --account-key and --kid "
		              "(or --from CLIENT) and --directory so the tool can sign a POST-as-GET. Boulder "
		              "still answers GET for authorizations, challenges and orders.");
		return;
	}
	f = diag_add(r, rs->status == 404 ? DIAG_FAIL : DIAG_ERROR, "acme.fetch", url, "HTTP %ld%s%s%s%s",
	             rs->status, rs->prob.type[0] ? " " : "", rs->prob.type[0] ? type : "",
	             rs->prob.detail[0] ? ": " : "", rs->prob.detail);
	const char *h = diag_acme_error_hint(type, rs->prob.detail);
	if (rs->status == 404)
		diag_set_hint(f, "The CA no longer has this resource (expired authorizations and orders are "
		              "deleted, Boulder says \"Expired authorization\"): create a new order.");
	else if (rs->status == 403 && !strcmp(type, "unauthorized"))
		diag_set_hint(f, "The account that signed the request does not own this resource: sign with "
		              "the account that created the order (--from, or --account-key and --kid).");
	else if (h)
		diag_set_hint(f, "%s", h);
}

static void do_order(struct authz_probe *p, struct slot *s, const json_t *ord)
{
	const char *st = json_string_value(json_object_get(ord, "status"));
	json_t *auths = json_object_get(ord, "authorizations");
	json_t *ids = json_object_get(ord, "identifiers");
	int64_t exp = rfc3339(json_string_value(json_object_get(ord, "expires")));
	char left[64] = "";
	if (exp)
		time_left(left, sizeof(left), exp - p->now);
	enum diag_status status = !st ? DIAG_ERROR : !strcmp(st, "invalid") ? DIAG_FAIL : DIAG_OK;
	struct diag_finding *f = diag_add(s->buf, status, "acme.order.status", s->url,
	                                  "order %s: %zu identifier%s, %zu authorization%s%s%s",
	                                  st ? st : "without status", json_array_size(ids),
	                                  json_array_size(ids) == 1 ? "" : "s", json_array_size(auths),
	                                  json_array_size(auths) == 1 ? "" : "s", left[0] ? ", " : "", left);
	if (st && !strcmp(st, "invalid")) {
		diag_set_hint(f, "An authorization failed or the order expired: see the authorizations below, "
		              "fix the cause and create a new order.");
		json_t *err = json_object_get(ord, "error");
		if (err)
			report_problem(f, err);
	} else if (st && !strcmp(st, "ready")) {
		diag_set_detail(f, "Every authorization is valid: the client can finalize.");
	}
	diag_evidence(f, "status", st ? diag_json_str(st) : json_null());
	diag_evidence(f, "identifiers", json_incref(ids));
	diag_evidence(f, "authorizations", json_incref(auths));
	json_t *au;
	size_t i;
	json_array_foreach(auths, i, au) {
		const char *u = json_string_value(au);
		if (u)
			follow_later(s, u);
	}
}

/* What the answer for slot s says, into its buffer (and new slots). */
static void read_answer(struct authz_probe *p, struct slot *s, struct acme_resp *rs)
{
	if (rs->err[0] || rs->status != 200 || !json_is_object(rs->json)) {
		if (!rs->err[0] && rs->status == 200)
			snprintf(rs->err, sizeof(rs->err), "HTTP 200 but not a JSON object");
		report_fetch_error(p, s->buf, s->url, rs);
		return;
	}
	const json_t *j = rs->json;
	if (json_object_get(j, "identifier") && json_object_get(j, "challenges")) {
		do_authz(s->buf, p->now, s->url, j);
	} else if (json_object_get(j, "authorizations") && json_object_get(j, "finalize")) {
		do_order(p, s, j);
	} else if (json_object_get(j, "type") && json_object_get(j, "token")) {
		/* a challenge: report the authorization it belongs to (Link:
		 * rel="up"), which lists it; the challenge itself when that
		 * authorization will not be fetched from here (asked already, or
		 * too deep: an "up" that leads to a challenge again), so that a
		 * URL given is never left without a finding */
		if (rs->link_up[0] && s->depth < 2 && !already(p, rs->link_up))
			follow_later(s, rs->link_up);
		else
			do_challenge(s->buf, j, rs->link_up[0] ? "the authorization it names, not fetched again"
			             : "an authorization the server does not name (no Link rel=\"up\")");
	} else {
		diag_add(s->buf, DIAG_ERROR, "acme.fetch", s->url, "not an order, authorization or challenge");
	}
}

static void fetch_more(struct authz_probe *p);

/* Every slot is done: the limit finding, if any, and the end. */
static void maybe_done(struct authz_probe *p)
{
	if (p->unfinished || p->dir_req)
		return;
	if (p->cut) {
		struct diag_finding *f = diag_add(p->head.r, DIAG_WARN, "acme.authz.limit", "",
		                                  "fetched %zu of %zu resources: a run stops at %d",
		                                  p->nall, p->nall + p->cut, AUTHZ_MAX_FETCH);
		diag_set_hint(f, "The resources not fetched were not checked: run again on them (the "
		              "order's authorization URLs) in smaller groups.");
		diag_evidence(f, "fetched", json_integer((json_int_t)p->nall));
		diag_evidence(f, "total", json_integer((json_int_t)(p->nall + p->cut)));
	}
	diag_loop_cancel_timers(p->head.loop, &p->deadline);
	diag_probe_finish(&p->head);
}

static void slot_done(struct authz_probe *p, struct slot *s)
{
	s->done = 1;
	p->unfinished--;
	flush(p, &p->root);
}

static void on_fetched(void *arg, struct acme_resp *rs)
{
	struct slot *s = arg;
	struct authz_probe *p = s->p;
	s->req = NULL;
	p->inflight--;
	read_answer(p, s, rs);
	slot_done(p, s);
	fetch_more(p);
	maybe_done(p);
}

/* Start queued fetches, up to AUTHZ_INFLIGHT at once: POST-as-GET with
 * kid when the account is known, GET otherwise. */
static void fetch_more(struct authz_probe *p)
{
	while (p->wait_head && p->inflight < AUTHZ_INFLIGHT) {
		struct slot *s = p->wait_head;
		p->wait_head = s->next_wait;
		if (!p->wait_head)
			p->wait_tail = NULL;
		s->next_wait = NULL;
		s->req = p->key && p->kid ? acme_post(p->c, s->url, p->key, p->kid, NULL, on_fetched, s)
		                          : acme_get(p->c, s->url, 0, on_fetched, s);
		if (s->req) {
			p->inflight++;
			continue;
		}
		diag_add(s->buf, DIAG_ERROR, "acme.fetch", s->url, "not fetched: out of memory");
		slot_done(p, s);
	}
}

/* The run's time bound: whatever is not fetched yet is given up. */
static void on_deadline(void *arg)
{
	struct authz_probe *p = ((struct deadline *)arg)->p;
	p->over = 1;
	p->wait_head = p->wait_tail = NULL;
	if (p->dir_req) {
		acme_req_cancel(p->dir_req);
		p->dir_req = NULL;
		diag_add(p->head.r, DIAG_ERROR, "acme.fetch", p->directory, "directory not fetched within the "
		         "run's time bound (%lld s)", (long long)p->deadline_s);
	}
	for (size_t i = 0; i < p->nall; i++) {
		struct slot *s = p->all[i];
		if (s->done)
			continue;
		acme_req_cancel(s->req);
		s->req = NULL;
		late_finding(p, s->buf, s->url);
		s->done = 1;
		p->unfinished--;
	}
	p->inflight = 0;
	flush(p, &p->root);
	maybe_done(p);
}

static void on_directory(void *arg, struct acme_resp *rs)
{
	struct authz_probe *p = arg;
	p->dir_req = NULL;
	if (!acme_client_directory(p->c)) {
		struct diag_finding *f = diag_add(p->head.r, DIAG_ERROR, "acme.fetch", p->directory,
		                                  "directory not usable: %s", rs->err[0] ? rs->err : "not JSON");
		diag_set_hint(f, "Check --directory (and --ca-bundle for a private CA).");
		/* nothing can be signed: the URLs are given up */
		p->wait_head = p->wait_tail = NULL;
		for (size_t i = 0; i < p->nall; i++)
			p->all[i]->done = 1;
		p->unfinished = 0;
		flush(p, &p->root);
		maybe_done(p);
		return;
	}
	fetch_more(p);
	maybe_done(p);
}

/* ---- start, cancel, run ---- */

static void authz_cancel(struct diag_probe *hp)
{
	struct authz_probe *p = (struct authz_probe *)hp;
	diag_loop_cancel_timers(p->head.loop, &p->deadline);
	acme_client_free(p->c);   /* every request in flight; no callback runs */
	p->c = NULL;
	p->dir_req = NULL;
	for (size_t i = 0; i < p->nall; i++)
		p->all[i]->req = NULL;
	p->wait_head = p->wait_tail = NULL;
}

static void authz_destroy(struct diag_probe *hp)
{
	struct authz_probe *p = (struct authz_probe *)hp;
	for (size_t i = 0; i < p->nall; i++)
		slot_free(p->all[i]);
	free(p->root.kids);
	free(p->directory);
	free(p->kid);
	free(p->ca_bundle);
	free(p);
}

static const struct diag_probe_ops authz_ops = {"authz", authz_cancel, authz_destroy};

static int authz_setup(struct authz_probe *p, const struct authz_opts *o)
{
	p->key = o->key;
	p->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	p->now = o->now_s ? o->now_s : (int64_t)time(NULL);
	p->root.done = p->root.written = 1;
	p->deadline.p = p;
	p->deadline_s = (int64_t)p->timeout_ms * AUTHZ_RUN_TIMEOUTS / 1000;
	const char *const src[] = {o->directory, o->kid, o->ca_bundle};
	char **dst[] = {&p->directory, &p->kid, &p->ca_bundle};
	for (size_t i = 0; i < 3; i++)
		if (src[i] && !(*dst[i] = strdup(src[i])))
			return -1;
	if (!(p->c = acme_client_new(p->head.loop, p->ca_bundle, o->insecure, p->timeout_ms)))
		return -1;
	if (make_room(&p->root, o->nurls))
		return -1;
	for (size_t i = 0; i < o->nurls && i < AUTHZ_MAX_FETCH; i++)
		if (!already(p, o->urls[i]) && !slot_new(p, &p->root, o->urls[i], NULL))
			return -1;
	if (o->nurls > AUTHZ_MAX_FETCH)
		p->cut += o->nurls - AUTHZ_MAX_FETCH;
	if (diag_loop_timer(p->head.loop, (int64_t)p->timeout_ms * AUTHZ_RUN_TIMEOUTS, on_deadline,
	                    &p->deadline))
		return -1;
	if (p->key && p->directory)  /* signing needs the directory's newNonce first */
		return (p->dir_req = acme_directory(p->c, p->directory, on_directory, p)) ? 0 : -1;
	fetch_more(p);
	return 0;
}

struct diag_probe *diag_authz_start(struct diag_loop *loop, const struct authz_opts *o,
                                    struct diag_report *r, diag_done_cb done, void *arg)
{
	struct authz_probe *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	diag_probe_init(&p->head, &authz_ops, loop, r, done, arg);
	if (authz_setup(p, o)) {
		authz_cancel(&p->head);
		authz_destroy(&p->head);
		return NULL;
	}
	if (!p->unfinished && !p->dir_req)
		maybe_done(p);  /* no URL: done, from the loop */
	return &p->head;
}

static struct diag_probe *start_adapter(struct diag_loop *loop, const void *opts, struct diag_report *r,
                                        diag_done_cb done, void *arg)
{
	return diag_authz_start(loop, opts, r, done, arg);
}

int diag_authz_run(const struct authz_opts *o, struct diag_report *r)
{
	return diag_probe_run(start_adapter, o, r, "acme.run");
}
