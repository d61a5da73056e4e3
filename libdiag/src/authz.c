/* authz.c - what the CA says about an order, authorization or challenge. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "diag/authz.h"

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

struct actx {
	const struct authz_opts *o;
	struct diag_report *r;
	struct acme_client c;
	char *seen[AUTHZ_MAX_FETCH];
	size_t nseen;
	int64_t now;
};

static int already(struct actx *x, const char *url)
{
	for (size_t i = 0; i < x->nseen; i++)
		if (!strcmp(x->seen[i], url))
			return 1;
	if (x->nseen == AUTHZ_MAX_FETCH)
		return 1;
	x->seen[x->nseen++] = strdup(url);
	return 0;
}

/* Fetch url as the profile allows: POST-as-GET with kid, or GET. */
static int fetch(struct actx *x, const char *url, struct acme_resp *rs)
{
	if (x->o->key && x->o->kid)
		return acme_post(&x->c, url, x->o->key, x->o->kid, NULL, rs);
	return acme_get(&x->c, url, 0, rs);
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

static void report_fetch_error(struct actx *x, const char *url, const struct acme_resp *rs)
{
	struct diag_finding *f;
	if (rs->err[0]) {
		f = diag_add(x->r, DIAG_ERROR, "acme.fetch", url, "cannot fetch: %s", rs->err);
		diag_set_hint(f, strstr(rs->err, "certificate") ? "Pass --ca-bundle with the CA's root for a "
		              "private ACME server." : "Check the URL and that this host reaches the server.");
		return;
	}
	const char *type = acme_problem_short(&rs->prob);
	if (rs->status == 405 && !x->o->key) {
		f = diag_add(x->r, DIAG_ERROR, "acme.fetch", url, "HTTP 405: this server wants POST-as-GET "
		             "(RFC 8555 6.3), not a plain GET");
		diag_set_hint(f, "Pebble and strict servers answer GET with 405; give --account-key and --kid "
		              "(or --from CLIENT) and --directory so the tool can sign a POST-as-GET. Boulder "
		              "still answers GET for authorizations, challenges and orders.");
		return;
	}
	f = diag_add(x->r, rs->status == 404 ? DIAG_FAIL : DIAG_ERROR, "acme.fetch", url, "HTTP %ld%s%s%s%s",
	             rs->status, rs->prob.type[0] ? " " : "", rs->prob.type[0] ? type : "",
	             rs->prob.detail[0] ? ": " : "", rs->prob.detail);
	const char *h = diag_acme_error_hint(type, rs->prob.detail);
	if (rs->status == 404)
		diag_set_hint(f, "The CA no longer has this resource (expired authorizations and orders are "
		              "deleted, Boulder says \"Expired authorization\"): create a new order.");
	else if (h)
		diag_set_hint(f, "%s", h);
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

static void do_challenge(struct actx *x, const json_t *ch, const char *ident)
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
		f = diag_add(x->r, DIAG_ERROR, "acme.challenge", url ? url : ident,
		             "a challenge without type or status");
		return;
	}
	if (!strcmp(st, "invalid")) {
		struct acme_problem p;
		memset(&p, 0, sizeof(p));
		acme_problem_parse(err, &p);
		f = diag_add(x->r, DIAG_FAIL, "acme.challenge", url ? url : ident, "%s for %s invalid%s%s%s: %s%s%s",
		             type, ident, used[0] ? " (the CA connected to " : "", used, used[0] ? ")" : "",
		             p.type[0] ? acme_problem_short(&p) : "no error given", p.detail[0] ? ": " : "",
		             p.detail);
		report_problem(f, err);
	} else {
		f = diag_add(x->r, st && (!strcmp(st, "valid") || !strcmp(st, "pending") ||
		                          !strcmp(st, "processing")) ? DIAG_OK : DIAG_WARN,
		             "acme.challenge", url ? url : ident, "%s for %s %s%s%s%s", type, ident, st,
		             used[0] ? " (the CA connected to " : "", used, used[0] ? ")" : "");
	}
	diag_evidence(f, "type", json_string(type));
	diag_evidence(f, "status", json_string(st));
	if (json_is_array(vr))
		diag_evidence(f, "validationRecord", json_incref(vr));
	if (used[0])
		diag_evidence(f, "addressUsed", json_string(used));
	const char *token = json_string_value(json_object_get(ch, "token"));
	if (token)
		diag_evidence(f, "token", json_string(token));
}

static void do_authz(struct actx *x, const char *url, const json_t *a)
{
	const json_t *id = json_object_get(a, "identifier");
	const char *value = json_string_value(json_object_get(id, "value"));
	const char *st = json_string_value(json_object_get(a, "status"));
	int wildcard = json_is_true(json_object_get(a, "wildcard"));
	int64_t exp = rfc3339(json_string_value(json_object_get(a, "expires")));
	char ident[300], left[64] = "";
	snprintf(ident, sizeof(ident), "%s%s", wildcard ? "*." : "", value ? value : "?");
	if (exp)
		time_left(left, sizeof(left), exp - x->now);
	struct diag_finding *f;
	if (!st) {
		f = diag_add(x->r, DIAG_ERROR, "acme.authz.status", url, "not an authorization: no status");
		return;
	}
	if (!strcmp(st, "valid")) {
		f = diag_add(x->r, DIAG_OK, "acme.authz.status", url, "%s: valid%s%s", ident,
		             left[0] ? ", " : "", left);
	} else if (!strcmp(st, "pending")) {
		int soon = exp && exp - x->now < 15 * 60;
		f = diag_add(x->r, soon ? DIAG_WARN : DIAG_OK, "acme.authz.status", url,
		             "%s: pending (waiting for the client to answer a challenge)%s%s", ident,
		             left[0] ? ", " : "", left);
		if (soon)
			diag_set_hint(f, "It expires soon: once it does, answering fails with \"authorization "
			              "must be pending\"; fix DNS/HTTP now or start a new order.");
	} else {
		f = diag_add(x->r, DIAG_FAIL, "acme.authz.status", url, "%s: %s%s%s", ident, st,
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
	diag_evidence(f, "identifier", json_string(ident));
	diag_evidence(f, "status", json_string(st));
	diag_evidence(f, "wildcard", json_boolean(wildcard));
	if (exp)
		diag_evidence(f, "expires_in_s", json_integer(exp - x->now));
	json_t *chs = json_object_get(a, "challenges");
	json_t *ch;
	size_t i;
	json_array_foreach(chs, i, ch)
		do_challenge(x, ch, ident);
}

static void do_url(struct actx *x, const char *url, int depth);

static void do_order(struct actx *x, const char *url, const json_t *ord, int depth)
{
	const char *st = json_string_value(json_object_get(ord, "status"));
	json_t *auths = json_object_get(ord, "authorizations");
	json_t *ids = json_object_get(ord, "identifiers");
	int64_t exp = rfc3339(json_string_value(json_object_get(ord, "expires")));
	char left[64] = "";
	if (exp)
		time_left(left, sizeof(left), exp - x->now);
	enum diag_status s = !st ? DIAG_ERROR
	                   : !strcmp(st, "invalid") ? DIAG_FAIL
	                   : DIAG_OK;
	struct diag_finding *f = diag_add(x->r, s, "acme.order.status", url,
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
	diag_evidence(f, "status", st ? json_string(st) : json_null());
	diag_evidence(f, "identifiers", json_incref(ids));
	json_t *au;
	size_t i;
	json_array_foreach(auths, i, au) {
		const char *u = json_string_value(au);
		if (u)
			do_url(x, u, depth + 1);
	}
}

static void do_url(struct actx *x, const char *url, int depth)
{
	if (depth > 2 || already(x, url))
		return;
	struct acme_resp rs;
	if (fetch(x, url, &rs) || rs.status != 200 || !json_is_object(rs.json)) {
		if (!rs.err[0] && rs.status == 200)
			snprintf(rs.err, sizeof(rs.err), "HTTP 200 but not a JSON object");
		report_fetch_error(x, url, &rs);
		acme_resp_free(&rs);
		return;
	}
	const json_t *j = rs.json;
	if (json_object_get(j, "identifier") && json_object_get(j, "challenges")) {
		do_authz(x, url, j);
	} else if (json_object_get(j, "authorizations") && json_object_get(j, "finalize")) {
		do_order(x, url, j, depth);
	} else if (json_object_get(j, "type") && json_object_get(j, "token")) {
		/* a challenge: report the authorization it belongs to (Link: rel="up") */
		if (rs.link_up[0]) {
			char up[1024];
			snprintf(up, sizeof(up), "%s", rs.link_up);
			acme_resp_free(&rs);
			do_url(x, up, depth + 1);
			return;
		}
		do_challenge(x, j, "an authorization the server does not name (no Link rel=\"up\")");
	} else {
		diag_add(x->r, DIAG_ERROR, "acme.fetch", url, "not an order, authorization or challenge");
	}
	acme_resp_free(&rs);
}

int diag_authz_run(const struct authz_opts *o, struct diag_report *r)
{
	struct actx x;
	memset(&x, 0, sizeof(x));
	x.o = o;
	x.r = r;
	x.now = o->now_s ? o->now_s : (int64_t)time(NULL);
	if (acme_client_init(&x.c, o->ca_bundle, o->insecure, o->timeout_ms)) {
		diag_add(r, DIAG_ERROR, "acme.run", "", "cannot start (out of memory)");
		return -1;
	}
	if (o->key && o->directory) {
		struct acme_resp rs;
		if (acme_directory(&x.c, o->directory, &rs)) {
			struct diag_finding *f = diag_add(r, DIAG_ERROR, "acme.fetch", o->directory,
			                                  "directory not usable: %s", rs.err[0] ? rs.err : "not JSON");
			diag_set_hint(f, "Check --directory (and --ca-bundle for a private CA).");
			acme_resp_free(&rs);
			goto out;
		}
		acme_resp_free(&rs);
	}
	for (size_t i = 0; i < o->nurls; i++)
		do_url(&x, o->urls[i], 0);
out:
	for (size_t i = 0; i < x.nseen; i++)
		free(x.seen[i]);
	acme_client_free(&x.c);
	return 0;
}
