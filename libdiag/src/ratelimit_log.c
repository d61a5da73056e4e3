/* SPDX-License-Identifier: ISC */
/*
 * ratelimit_log.c - what ACME clients' logs say happened: certbot's debug
 * log (each request and the CA's answer with its Date), lego's and
 * acme.sh's output lines, HAR exports and problem documents. Every file is
 * read once, line by line; JSON is parsed by jansson, a bounded piece at a
 * time.
 */
#define _GNU_SOURCE  /* memmem, strptime, timegm */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>

#include "diag/keyauth.h"
#include "diag/ratelimit.h"
#include "ratelimit_io.h"
#include "grow.h"

struct rl_log {
	struct ratelimit_evidence *ev;
	const char *path;
	size_t events, problems, passed_over;
	int oom;
	/* certbot: the request the next response answers */
	char url[2048], kid[1024], idents[4096], replaces[256];
	int is_order;
	/* lego, acme.sh: the time of the last stamped line */
	int64_t now;
};

static void rl_where(const struct rl_log *g, size_t line, char *buf, size_t len)
{
	snprintf(buf, len, "%s line %zu", g->path, line);
}

static void rl_track(struct rl_log *g, int rc, int problem)
{
	if (rc)
		g->oom = 1;
	else if (problem)
		g->problems++;
	else
		g->events++;
}

/* A problem document (RFC 7807) in obj, answered at at. */
static void rl_problem_json(struct rl_log *g, const json_t *obj, int64_t at, long status,
                            long retry_after, const char *server, const char *account,
                            const char *where)
{
	const char *type = json_string_value(json_object_get(obj, "type"));
	const char *detail = json_string_value(json_object_get(obj, "detail"));
	if (!type || strncmp(type, "urn:ietf:params:acme:error:", 27))
		return;
	if (!status && json_is_integer(json_object_get(obj, "status")))
		status = (long)json_integer_value(json_object_get(obj, "status"));
	rl_track(g, ratelimit_add_problem(g->ev, at, server, account, type, detail, status, retry_after,
	                                  where), 1);
}

/* ---- certbot's debug log ---- */

/* "2026-11-30 15:32:45,163:DEBUG:acme.client:..." : the local time, or 0
 * when the line does not start a record. */
static int64_t rl_certbot_stamp(const char *p, const char *end)
{
	if (end - p < 24 || p[4] != '-' || p[10] != ' ' || p[19] != ',' || p[23] != ':')
		return 0;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	char buf[20];
	memcpy(buf, p, 19);
	buf[19] = '\0';
	if (!strptime(buf, "%Y-%m-%d %H:%M:%S", &tm))
		return 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

/* The JSON object of a base64url part of a JWS, or NULL. */
static json_t *rl_b64_json(const char *b64)
{
	size_t n = b64 ? strlen(b64) : 0;
	if (!n || n > 65536)
		return NULL;
	unsigned char *raw = malloc(n * 3 / 4 + 3);
	long len = raw ? diag_b64url_decode(b64, n, raw) : -1;
	json_t *j = len > 0 ? json_loadb((const char *)raw, (size_t)len, 0, NULL) : NULL;
	free(raw);
	return j;
}

static int rl_strptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An order's identifiers, sorted and joined by "," (the exact set). */
static void rl_idents(const json_t *ids, char *out, size_t len)
{
	const char *v[100];
	size_t n = 0, i;
	const json_t *id;
	out[0] = '\0';
	json_array_foreach(ids, i, id) {
		const char *s = json_string_value(json_object_get(id, "value"));
		if (s && n < 100)
			v[n++] = s;
	}
	diag_sort(v, n, sizeof(*v), rl_strptr_cmp);
	size_t off = 0;
	for (i = 0; i < n; i++) {
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		int w = snprintf(out + off, len - off, "%s%s", off ? "," : "", v[i]);
		if (w < 0 || (size_t)w >= len - off)
			break;
		for (size_t k = off; k < off + (size_t)w; k++)
			out[k] = (char)tolower((unsigned char)out[k]);
		off += (size_t)w;
	}
}

/* "Sending POST request to URL:" and its JWS: what the answer is about. */
static void rl_certbot_request(struct rl_log *g, const char *url, size_t ul, const char *body, size_t bl)
{
	snprintf(g->url, sizeof(g->url), "%.*s", (int)(ul < sizeof(g->url) - 1 ? ul : sizeof(g->url) - 1), url);
	g->kid[0] = g->idents[0] = g->replaces[0] = '\0';
	g->is_order = 0;
	json_t *jws = bl < 1024 * 1024 ? json_loadb(body, bl, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	json_t *prot = rl_b64_json(json_string_value(json_object_get(jws, "protected")));
	json_t *payload = rl_b64_json(json_string_value(json_object_get(jws, "payload")));
	const char *kid = json_string_value(json_object_get(prot, "kid"));
	if (kid)
		snprintf(g->kid, sizeof(g->kid), "%s", kid);
	if (json_is_array(json_object_get(payload, "identifiers"))) {
		g->is_order = 1;
		rl_idents(json_object_get(payload, "identifiers"), g->idents, sizeof(g->idents));
	}
	const char *rep = json_string_value(json_object_get(payload, "replaces"));
	if (rep)
		snprintf(g->replaces, sizeof(g->replaces), "%s", rep);
	json_decref(prot);
	json_decref(payload);
	json_decref(jws);
}

/* A header's value in a block of "Name: value" lines, into out. */
static int rl_header(const char *h, size_t hl, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	for (const char *p = h; p < h + hl;) {
		const char *e = memchr(p, '\n', (size_t)(h + hl - p));
		size_t ll = e ? (size_t)(e - p) : (size_t)(h + hl - p);
		if (ll > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ')
				v++;
			size_t vl = (size_t)(p + ll - v);
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			snprintf(out, len, "%.*s", (int)(vl < len ? vl : len - 1), v);
			return 0;
		}
		p = e ? e + 1 : h + hl;
	}
	return -1;
}

/* An answer: an order made, an authorization's end, a problem. */
static void rl_certbot_response(struct rl_log *g, int64_t line_at, const char *p, size_t n,
                                size_t line)
{
	long status = 0;
	if (sscanf(p, "HTTP %ld", &status) != 1)
		return;
	const char *hend = memmem(p, n, "\n\n", 2);
	size_t hl = hend ? (size_t)(hend - p) : n;
	char date[128], ra[32], loc[2048] = "", where[4200];
	time_t d = rl_header(p, hl, "Date", date, sizeof(date)) ? -1 : curl_getdate(date, NULL);
	int64_t at = d > 0 ? (int64_t)d : line_at;
	long retry_after = -1;
	if (!rl_header(p, hl, "Retry-After", ra, sizeof(ra)) && isdigit((unsigned char)ra[0]))
		retry_after = strtol(ra, NULL, 10);
	rl_header(p, hl, "Location", loc, sizeof(loc));
	rl_where(g, line, where, sizeof(where));
	const char *body = hend ? hend + 2 : NULL;
	json_t *j = body && (size_t)(p + n - body) < 4 * 1024 * 1024
	            ? json_loadb(body, (size_t)(p + n - body), JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	const char *st = json_string_value(json_object_get(j, "status"));
	const json_t *ident = json_object_get(j, "identifier");
	if (json_object_get(j, "type") && status >= 400) {
		rl_problem_json(g, j, at, status, retry_after, g->url, g->kid, where);
	} else if (g->is_order && status == 201) {
		rl_track(g, ratelimit_add_event(g->ev, RL_EV_ORDER, at, g->url, g->kid, g->idents, loc, where,
		                                *g->replaces ? g->replaces : NULL), 0);
	} else if (ident && st && (!strcmp(st, "invalid") || !strcmp(st, "valid"))) {
		char name[300];
		snprintf(name, sizeof(name), "%s%s", json_is_true(json_object_get(j, "wildcard")) ? "*." : "",
		         json_string_value(json_object_get(ident, "value")) ? json_string_value(json_object_get(ident, "value")) : "");
		/* the time the CA validated, when the challenge says */
		size_t i;
		const json_t *c;
		json_array_foreach(json_object_get(j, "challenges"), i, c) {
			int64_t v = ratelimit_rfc3339(json_string_value(json_object_get(c, "validated")));
			if (v)
				at = v;
		}
		rl_track(g, ratelimit_add_event(g->ev, strcmp(st, "valid") ? RL_EV_AUTHZ_FAILED : RL_EV_AUTHZ_VALID,
		                                at, g->url, g->kid, name, g->url, where, NULL), 0);
	}
	json_decref(j);
}

static void rl_certbot_record(struct rl_log *g, int64_t at, const char *msg, size_t ml,
                              const char *cont, size_t cl, size_t line)
{
	static const char post[] = "Sending POST request to ";
	const char *m = memmem(msg, ml, post, sizeof(post) - 1);
	if (m) {
		const char *u = m + sizeof(post) - 1;
		size_t ul = (size_t)(msg + ml - u);
		while (ul && (u[ul - 1] == ':' || u[ul - 1] == '\r'))
			ul--;
		rl_certbot_request(g, u, ul, cont, cl);
	} else if (memmem(msg, ml, "Sending GET request to ", 23) || memmem(msg, ml, "Sending HEAD request", 20)) {
		g->is_order = 0;
		g->kid[0] = '\0';
	} else if (memmem(msg, ml, "Received response:", 18) && cl) {
		rl_certbot_response(g, at, cont, cl, line);
	}
}

static void rl_certbot_log(struct rl_log *g, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	const char *msg = NULL, *mend = NULL, *cont = NULL;
	int64_t at = 0;
	size_t lineno = 0, rec_line = 0;
	while (p < end && !g->oom) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		lineno++;
		int64_t t = rl_certbot_stamp(p, le);
		if (t) {
			if (msg)
				rl_certbot_record(g, at, msg, (size_t)(mend - msg), cont ? cont : p,
				                  cont ? (size_t)(p - cont) : 0, rec_line);
			at = t;
			msg = p + 24;
			mend = le;
			cont = nl ? nl + 1 : NULL;
			rec_line = lineno;
		}
		p = nl ? nl + 1 : end;
	}
	if (msg && !g->oom)
		rl_certbot_record(g, at, msg, (size_t)(mend - msg), cont ? cont : end,
		                  cont ? (size_t)(end - cont) : 0, rec_line);
}

/* ---- lego and acme.sh output, one line at a time ---- */

/* "2026/11/30 15:33:40 ..." (lego, local time) or "[Mon Nov 30 15:33:40 UTC
 * 2026] ..." (acme.sh): the time, or 0. */
static int64_t rl_line_stamp(const char *p, const char *le)
{
	struct tm tm;
	char buf[64];
	size_t n = (size_t)(le - p) < sizeof(buf) - 1 ? (size_t)(le - p) : sizeof(buf) - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	memset(&tm, 0, sizeof(tm));
	if (n >= 19 && buf[4] == '/' && strptime(buf, "%Y/%m/%d %H:%M:%S", &tm)) {
		tm.tm_isdst = -1;
		return (int64_t)mktime(&tm);
	}
	if (buf[0] == '[' && strptime(buf + 1, "%a %b %d %H:%M:%S", &tm)) {
		const char *z = strchr(buf, ']');
		const char *y = z && z - buf >= 5 ? z - 4 : NULL;
		if (!y || !isdigit((unsigned char)y[0]))
			return 0;
		tm.tm_year = atoi(y) - 1900;
		int utc = strstr(buf, " UTC ") || strstr(buf, " GMT ");
		tm.tm_isdst = -1;
		return utc ? (int64_t)timegm(&tm) : (int64_t)mktime(&tm);
	}
	return 0;
}

/* The next " :: " from s on the line that ends at le, or NULL: a search
 * never runs past its line (a log of such lines would be read again from
 * each of them). */
static const char *rl_lego_sep(const char *s, const char *le)
{
	return s < le ? memmem(s, (size_t)(le - s), " :: ", 4) : NULL;
}

/* lego: "acme: error: 429 :: POST :: URL :: urn:...:TYPE :: detail" (a
 * request refused) or "[name] acme: error: 403 :: urn:...:TYPE :: detail"
 * (a validation failed). */
static void rl_lego_error(struct rl_log *g, const char *p, const char *le, const char *e, size_t line)
{
	char where[4200], ident[300] = "", url[2048] = "", type[200] = "";
	rl_where(g, line, where, sizeof(where));
	long status = strtol(e + 12, NULL, 10);
	const char *q = rl_lego_sep(e, le);
	if (!q)
		return;
	q += 4;
	if (!strncmp(q, "POST :: ", 8) || !strncmp(q, "GET :: ", 7) || !strncmp(q, "HEAD :: ", 8)) {
		const char *u = rl_lego_sep(q, le) + 4;
		size_t ul = strcspn(u, " \n");
		snprintf(url, sizeof(url), "%.*s", (int)(ul < sizeof(url) - 1 ? ul : sizeof(url) - 1), u);
		if (!(q = rl_lego_sep(u, le)))
			return;
		q += 4;
	}
	size_t tl = strcspn(q, " \n");
	snprintf(type, sizeof(type), "%.*s", (int)(tl < sizeof(type) - 1 ? tl : sizeof(type) - 1), q);
	const char *detail = rl_lego_sep(q, le);
	char det[2048] = "";
	if (detail)
		snprintf(det, sizeof(det), "%.*s", (int)((size_t)(le - detail - 4) < sizeof(det) - 1
		         ? (size_t)(le - detail - 4) : sizeof(det) - 1), detail + 4);
	if (strstr(type, "rateLimited")) {
		rl_track(g, ratelimit_add_problem(g->ev, g->now, url, "", type, det, status, -1, where), 1);
		return;
	}
	if (*url || p[0] != '[')
		return;  /* a request refused for another reason: not a validation */
	size_t il = strcspn(p + 1, "]");
	snprintf(ident, sizeof(ident), "%.*s", (int)(il < sizeof(ident) - 1 ? il : sizeof(ident) - 1), p + 1);
	if (!*ident || strncmp(type, "urn:ietf:params:acme:error:", 27))
		return;  /* no name, or not an ACME error: not a validation */
	rl_track(g, ratelimit_add_event(g->ev, RL_EV_AUTHZ_FAILED, g->now, "", "", ident, "", where, NULL), 0);
}

/* A problem document embedded in a line (acme.sh prints the CA's JSON). */
static void rl_embedded_problem(struct rl_log *g, const char *p, const char *le, size_t line)
{
	const char *t = memmem(p, (size_t)(le - p), "urn:ietf:params:acme:error:", 27);
	if (!t)
		return;
	const char *o = t;
	while (o > p && *o != '{')
		o--;
	if (*o != '{')
		return;
	json_t *j = json_loadb(o, (size_t)(le - o), JSON_DISABLE_EOF_CHECK, NULL);
	char where[4200];
	rl_where(g, line, where, sizeof(where));
	if (json_is_object(j))
		rl_problem_json(g, j, g->now, 0, -1, "", "", where);
	json_decref(j);
}

/* "[a.example, b.example] acme: Obtaining ..." : the names in brackets. */
static void rl_bracket_names(const char *p, char *out, size_t len)
{
	size_t n = strcspn(p + 1, "]"), o = 0;
	for (size_t i = 1; i <= n && o + 1 < len; i++)
		if (p[i] != ' ')
			out[o++] = (char)tolower((unsigned char)p[i]);
	out[o] = '\0';
}

static void rl_lines(struct rl_log *g, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	size_t lineno = 0;
	while (p < end && !g->oom) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		lineno++;
		int64_t t = rl_line_stamp(p, le);
		if (t)
			g->now = t;
		/* past the stamp: lego's message, or its continuation lines */
		const char *m = p;
		if (t && *p != '[')
			m = p + 20;
		else if (t)
			m = memchr(p, ']', (size_t)(le - p)) ? (const char *)memchr(p, ']', (size_t)(le - p)) + 2 : p;
		if (m > le)
			m = le;
		const char *e = memmem(m, (size_t)(le - m), "acme: error: ", 13);
		char where[4200], names[2048];
		if (e) {
			rl_lego_error(g, m, le, e, lineno);
		} else if (*m == '[' && memmem(m, (size_t)(le - m), "] acme: Obtaining ", 18)) {
			rl_bracket_names(m, names, sizeof(names));
			rl_where(g, lineno, where, sizeof(where));
			rl_track(g, ratelimit_add_event(g->ev, RL_EV_ORDER, g->now, "", "", names, "", where, NULL), 0);
		} else if (*m == '[' && memmem(m, (size_t)(le - m), "] The server validated our request", 34)) {
			rl_bracket_names(m, names, sizeof(names));
			rl_where(g, lineno, where, sizeof(where));
			rl_track(g, ratelimit_add_event(g->ev, RL_EV_AUTHZ_VALID, g->now, "", "", names, "", where,
			                                NULL), 0);
		} else if (memmem(m, (size_t)(le - m), ":Verify error:", 14)) {
			/* acme.sh: "example.com:Verify error:detail" */
			const char *v = memmem(m, (size_t)(le - m), ":Verify error:", 14);
			size_t il = (size_t)(v - m);
			snprintf(names, sizeof(names), "%.*s", (int)(il < sizeof(names) - 1 ? il : sizeof(names) - 1), m);
			rl_where(g, lineno, where, sizeof(where));
			rl_track(g, ratelimit_add_event(g->ev, RL_EV_AUTHZ_FAILED, g->now, "", "", names, "", where,
			                                NULL), 0);
		} else {
			rl_embedded_problem(g, m, le, lineno);
		}
		p = nl ? nl + 1 : end;
	}
}

/* ---- HAR and JSON ---- */

static void rl_har(struct rl_log *g, const json_t *doc)
{
	size_t i, k;
	const json_t *e, *h;
	json_array_foreach(json_object_get(json_object_get(doc, "log"), "entries"), i, e) {
		const json_t *rs = json_object_get(e, "response");
		const char *url = json_string_value(json_object_get(json_object_get(e, "request"), "url"));
		long status = (long)json_integer_value(json_object_get(rs, "status"));
		int64_t at = ratelimit_rfc3339(json_string_value(json_object_get(e, "startedDateTime")));
		long retry_after = -1;
		json_array_foreach(json_object_get(rs, "headers"), k, h) {
			const char *n = json_string_value(json_object_get(h, "name"));
			const char *v = json_string_value(json_object_get(h, "value"));
			if (n && v && !strcasecmp(n, "retry-after") && isdigit((unsigned char)v[0]))
				retry_after = strtol(v, NULL, 10);
		}
		const char *text = json_string_value(json_object_get(json_object_get(rs, "content"), "text"));
		json_t *body = text ? json_loads(text, 0, NULL) : NULL;
		char where[4200];
		snprintf(where, sizeof(where), "%s entry %zu", g->path, i + 1);
		if (status >= 400 && json_is_object(body))
			rl_problem_json(g, body, at, status, retry_after, url, "", where);
		json_decref(body);
	}
}

static void rl_parse(struct rl_log *g, const char *buf, size_t len, int64_t mtime)
{
	if (memmem(buf, len, ":acme.client:", 13)) {
		rl_certbot_log(g, buf, len);
		return;
	}
	const char *s = buf;
	while (s < buf + len && isspace((unsigned char)*s))
		s++;
	json_t *doc = *s == '{' && len <= 16 * 1024 * 1024 ? json_loadb(buf, len, 0, NULL) : NULL;
	if (json_is_object(json_object_get(doc, "log")))
		rl_har(g, doc);
	else if (json_is_object(doc))  /* one problem document: answered when it was saved */
		rl_problem_json(g, doc, mtime, 0, -1, "", "", g->path);
	else
		rl_lines(g, buf, len);
	json_decref(doc);
}

static int rl_log_file(struct ratelimit_evidence *ev, const char *path, struct rl_log *total,
                       size_t *files, size_t *unread)
{
	size_t len;
	int why;
	char *buf = rl_read_file(path, RL_MAX_FILE, &len, &why);
	(*files)++;
	if (!buf) {
		(*unread)++;
		return 0;
	}
	struct stat st;
	struct rl_log g = { .ev = ev, .path = path };
	rl_parse(&g, buf, len, stat(path, &st) ? 0 : (int64_t)st.st_mtime);
	free(buf);
	total->events += g.events;
	total->problems += g.problems;
	return g.oom ? -1 : 0;
}

int ratelimit_read_log(struct ratelimit_evidence *ev, const char *path, struct diag_report *r,
                       char *err, size_t errlen)
{
	struct rl_log total = { .ev = ev, .path = path };
	size_t files = 0, unread = 0;
	int truncated = 0, rc = 0;
	struct stat st;
	if (stat(path, &st)) {
		snprintf(err, errlen, "%s: cannot be read", path);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		size_t n;
		char **names = rl_list(path, &n, &truncated);
		for (size_t i = 0; i < n && !rc; i++) {
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s", path, names[i]);
			if (!rl_is_dir(p))
				rc = rl_log_file(ev, p, &total, &files, &unread);
		}
		rl_list_free(names, n);
	} else {
		rc = rl_log_file(ev, path, &total, &files, &unread);
		if (unread) {
			snprintf(err, errlen, "%s: not a regular file of at most 64 MiB", path);
			return -1;
		}
	}
	if (rc) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	struct diag_finding *f = diag_add(r, unread || truncated ? DIAG_WARN : DIAG_OK, "ratelimit.source",
	                                  path, "read %zu file%s: %zu events (orders, validations), %zu CA "
	                                  "answers%s", files, files == 1 ? "" : "s", total.events,
	                                  total.problems, unread ? "; passed over files that are not regular "
	                                  "or are over 64 MiB" : "");
	diag_evidence(f, "files", json_integer((json_int_t)files));
	diag_evidence(f, "events", json_integer((json_int_t)total.events));
	diag_evidence(f, "answers", json_integer((json_int_t)total.problems));
	diag_evidence(f, "passed_over", json_integer((json_int_t)unread));
	return 0;
}
