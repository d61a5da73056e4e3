/* SPDX-License-Identifier: ISC */
/*
 * acme.c - ACME requests: directory, nonces, JWS POSTs, problem documents,
 * and the account stores of certbot, lego and acme.sh.
 *
 * Every request is a transfer on the diag loop, several in flight at once;
 * a POST takes a nonce from the client's pool (filled by every response)
 * or fetches one, and retries badNonce answers with their own nonce.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "diag/acme.h"
#include "diag/finding.h"
#include "diag/keyauth.h"
#include "diag/loop.h"
#include "diag/version.h"
#include "httputil.h"

void acme_resp_free(struct acme_resp *r)
{
	if (!r)
		return;
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

const char *acme_problem_short(const struct acme_problem *p)
{
	static const char prefix[] = "urn:ietf:params:acme:error:";
	if (!strncmp(p->type, prefix, sizeof(prefix) - 1))
		return p->type + sizeof(prefix) - 1;
	return p->type;
}

int acme_problem_parse(const json_t *doc, struct acme_problem *p)
{
	memset(p, 0, sizeof(*p));
	if (!json_is_object(doc))
		return -1;
	const char *type = json_string_value(json_object_get(doc, "type"));
	const char *detail = json_string_value(json_object_get(doc, "detail"));
	snprintf(p->type, sizeof(p->type), "%s", type ? type : "about:blank");
	snprintf(p->detail, sizeof(p->detail), "%s", detail ? detail : "");
	json_t *st = json_object_get(doc, "status");
	p->status = json_is_integer(st) ? (long)json_integer_value(st) : 0;
	json_t *subs = json_object_get(doc, "subproblems");
	if (json_is_array(subs)) {
		p->nsub = json_array_size(subs);
		for (size_t i = 0; i < p->nsub && i < 4; i++) {
			json_t *s = json_array_get(subs, i);
			const char *v = json_string_value(json_object_get(json_object_get(s, "identifier"), "value"));
			const char *t = json_string_value(json_object_get(s, "type"));
			const char *d = json_string_value(json_object_get(s, "detail"));
			snprintf(p->sub[i], sizeof(p->sub[i]), "%s: %s: %s", v ? v : "?", t ? t : "?", d ? d : "");
		}
	}
	return 0;
}

static size_t on_body(char *d, size_t size, size_t n, void *arg)
{
	struct acme_resp *r = arg;
	size_t len = size * n;
	if (r->len + len > ACME_MAX_BODY)
		return 0;  /* a hostile or broken server: stop reading */
	char *b = realloc(r->body, r->len + len + 1);
	if (!b)
		return 0;
	memcpy(b + r->len, d, len);
	r->body = b;
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* RFC 8555 6.5.1: a Replay-Nonce is base64url; anything else cannot go
 * into a JWS header, so it is kept apart to be reported, not used. */
static void check_nonce(struct acme_resp *r)
{
	const char *s = r->nonce;
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
	if (!s[n])
		return;
	char *clean = diag_utf8_clean(s, strlen(s));
	size_t k = 0;
	for (const char *c = clean ? clean : ""; *c && k + 5 < sizeof(r->bad_nonce); c++)
		k += (size_t)snprintf(r->bad_nonce + k, sizeof(r->bad_nonce) - k,
		                      (unsigned char)*c < 0x20 || *c == 0x7f ? "\\x%02x" : "%c",
		                      (unsigned char)*c);
	free(clean);
	r->nonce[0] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct acme_resp *r = arg;
	size_t len = size * n;
	char buf[1024];
	if (diag_http_header(data, len, "Replay-Nonce", r->nonce, sizeof(r->nonce))) {
		check_nonce(r);
		return len;
	}
	if (diag_http_header(data, len, "Location", r->location, sizeof(r->location)) ||
	    diag_http_header(data, len, "Content-Type", r->content_type, sizeof(r->content_type)))
		return len;
	if (diag_http_header(data, len, "Retry-After", buf, sizeof(buf))) {
		char *end;
		long v = strtol(buf, &end, 10);
		if (*buf && !*end && v >= 0)
			r->retry_after = v;
		else {
			time_t t = curl_getdate(buf, NULL);
			if (t > 0)
				r->retry_after = (long)(t - (time_t)(diag_wall_ms() / 1000));
		}
	} else if (diag_http_header(data, len, "Date", buf, sizeof(buf))) {
		time_t t = curl_getdate(buf, NULL);
		if (t > 0)
			r->date_s = (int64_t)t;
	} else if (diag_http_header(data, len, "Link", buf, sizeof(buf)) && strstr(buf, "rel=\"up\"")) {
		char *lt = strchr(buf, '<'), *gt = lt ? strchr(lt, '>') : NULL;
		if (lt && gt) {
			*gt = '\0';
			snprintf(r->link_up, sizeof(r->link_up), "%s", lt + 1);
		}
	}
	return len;
}

/* ---- the client ---- */

enum req_kind { REQ_GET, REQ_HEAD, REQ_DIRECTORY, REQ_POST };

struct acme_req {
	struct acme_client *c;
	struct acme_req *prev, *next;   /* the client's requests in flight */
	enum req_kind kind;
	char *url;
	const struct acme_key *key;     /* REQ_POST */
	char *kid;                      /* NULL: sign with jwk */
	json_t *payload;                /* NULL: POST-as-GET */
	char nonce[256];                /* for the next POST: a badNonce answer's nonce */
	int nonce_fetch;                /* the transfer in flight is HEAD newNonce */
	int retries;                    /* badNonce answers retried */
	CURL *easy;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	struct acme_resp resp;
	acme_resp_cb cb;
	void *arg;
	int delivering;                 /* cb is running: the request is over */
};

struct acme_client {
	struct diag_loop *loop;
	char *ca_bundle;
	int insecure;
	int timeout_ms;
	json_t *dir;
	char pool[ACME_NONCE_POOL][256];  /* oldest first */
	size_t npool;
	int nonce_retries;
	struct acme_req *reqs;
};

struct acme_client *acme_client_new(struct diag_loop *loop, const char *ca_bundle, int insecure,
                                    int timeout_ms)
{
	struct acme_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->loop = loop;
	c->insecure = insecure;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	if (ca_bundle && !(c->ca_bundle = strdup(ca_bundle))) {
		free(c);
		return NULL;
	}
	return c;
}

static void req_free(struct acme_req *q)
{
	if (q->easy)
		curl_easy_cleanup(q->easy);
	curl_slist_free_all(q->hdrs);
	acme_resp_free(&q->resp);
	json_decref(q->payload);
	free(q->url);
	free(q->kid);
	free(q);
}

static void req_unlink(struct acme_req *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else if (q->c->reqs == q)
		q->c->reqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
}

/* Detach everything the request has on the loop. */
static void req_detach(struct acme_req *q)
{
	if (q->easy)
		diag_loop_remove_curl(q->c->loop, q->easy);
	diag_loop_cancel_timers(q->c->loop, q);
}

void acme_req_cancel(struct acme_req *q)
{
	if (!q || q->delivering)
		return;
	req_detach(q);
	req_unlink(q);
	req_free(q);
}

void acme_client_free(struct acme_client *c)
{
	if (!c)
		return;
	while (c->reqs)
		acme_req_cancel(c->reqs);
	json_decref(c->dir);
	free(c->ca_bundle);
	free(c);
}

const json_t *acme_client_directory(const struct acme_client *c)
{
	return c->dir;
}

const char *acme_dir_url(const struct acme_client *c, const char *name)
{
	return json_string_value(json_object_get(c->dir, name));
}

int acme_client_nonce_retries(const struct acme_client *c)
{
	return c->nonce_retries;
}

size_t acme_client_nonces(const struct acme_client *c)
{
	return c->npool;
}

static void pool_put(struct acme_client *c, const char *nonce)
{
	if (!nonce[0])
		return;
	if (c->npool == ACME_NONCE_POOL) {  /* the oldest is the likeliest to be stale */
		memmove(c->pool[0], c->pool[1], sizeof(c->pool[0]) * (ACME_NONCE_POOL - 1));
		c->npool--;
	}
	snprintf(c->pool[c->npool++], sizeof(c->pool[0]), "%s", nonce);
}

static int pool_take(struct acme_client *c, char *out, size_t len)
{
	if (!c->npool)
		return -1;
	snprintf(out, len, "%s", c->pool[--c->npool]);
	return 0;
}

/* The request is over: cb sees the response, then the request is freed. */
static void deliver(struct acme_req *q)
{
	req_detach(q);
	req_unlink(q);
	q->delivering = 1;
	q->resp.nonce_retries = q->retries;
	q->cb(q->arg, &q->resp);
	req_free(q);
}

static void deliver_timer(void *arg)
{
	deliver(arg);
}

/* Set the response's error (our side or transport). */
static void set_err(struct acme_req *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct acme_req *q, const char *fmt, ...)
{
	va_list ap;
	acme_resp_free(&q->resp);
	q->resp.retry_after = -1;
	va_start(ap, fmt);
	vsnprintf(q->resp.err, sizeof(q->resp.err), fmt, ap);
	va_end(ap);
}

static void transfer_done(void *arg, CURL *easy, CURLcode rc);

/* Options of one transfer; 0, or -1 when curl refused one. */
static int transfer_setopts(struct acme_req *q, const char *url, int head, const char *post)
{
	CURL *e = q->easy;
	const struct acme_client *c = q->c;
	int ok = curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK &&
	         curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http") == CURLE_OK &&
	         curl_easy_setopt(e, CURLOPT_USERAGENT, "acme-diag/" DIAG_VERSION) == CURLE_OK &&
	         curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms) == CURLE_OK &&
	         curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	         curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
	         curl_easy_setopt(e, CURLOPT_WRITEDATA, &q->resp) == CURLE_OK &&
	         curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
	         curl_easy_setopt(e, CURLOPT_HEADERDATA, &q->resp) == CURLE_OK &&
	         curl_easy_setopt(e, CURLOPT_ERRORBUFFER, q->errbuf) == CURLE_OK &&
	         /* ACME servers do not redirect API requests; follow none (loops, policy) */
	         curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
	if (ok && c->ca_bundle)
		ok = curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_bundle) == CURLE_OK;
	if (ok && c->insecure)
		ok = curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L) == CURLE_OK &&
		     curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) == CURLE_OK;
	if (ok && head)
		ok = curl_easy_setopt(e, CURLOPT_NOBODY, 1L) == CURLE_OK;
	if (ok && post) {
		struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/jose+json");
		q->hdrs = h;
		ok = h && curl_easy_setopt(e, CURLOPT_HTTPHEADER, h) == CURLE_OK &&
		     curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, post) == CURLE_OK;
	}
	return ok ? 0 : -1;
}

/* Start one transfer of q: GET, HEAD or POST with a JOSE body. 0, or -1
 * with the error in q->resp. */
static int transfer_start(struct acme_req *q, const char *url, int head, const char *post)
{
	acme_resp_free(&q->resp);
	q->resp.retry_after = -1;
	q->errbuf[0] = '\0';
	curl_slist_free_all(q->hdrs);
	q->hdrs = NULL;
	if (q->easy)
		curl_easy_reset(q->easy);
	else if (!(q->easy = curl_easy_init())) {
		set_err(q, "cannot start a transfer (curl_easy_init failed)");
		return -1;
	}
	if (transfer_setopts(q, url, head, post)) {
		set_err(q, "cannot set up the transfer to %s", url);
		return -1;
	}
	q->resp.sent_ms = diag_wall_ms();
	if (diag_loop_add_curl(q->c->loop, q->easy, transfer_done, q)) {
		set_err(q, "cannot start the transfer to %s (out of memory)", url);
		return -1;
	}
	return 0;
}

/* What a finished transfer left in q->resp: timing, status, JSON, problem. */
static void transfer_read(struct acme_req *q, CURL *e, CURLcode rc)
{
	struct acme_resp *r = &q->resp;
	curl_off_t first = 0, pre = 0;
	curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pre);
	curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &first);
	r->first_byte_ms = r->sent_ms + first / 1000;
	r->sent_ms += pre / 1000;
	if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status) != CURLE_OK)
		r->status = 0;
	if (rc != CURLE_OK) {
		snprintf(r->err, sizeof(r->err), "%s", rc == CURLE_WRITE_ERROR && r->len >= ACME_MAX_BODY / 2
		         ? "response body over 1 MiB" : q->errbuf[0] ? q->errbuf : curl_easy_strerror(rc));
		return;
	}
	if (r->body && r->len) {
		json_error_t je;
		r->json = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
	}
	r->is_problem = !strncasecmp(r->content_type, "application/problem+json", 24);
	if (r->is_problem || (r->status >= 400 && json_is_object(r->json) && json_object_get(r->json, "type")))
		acme_problem_parse(r->json, &r->prob);
}

static char *b64_str(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n * 4 / 3 + 4);
	if (out)
		diag_b64url((const unsigned char *)s, n, out);
	return out;
}

/* The flattened JWS of q's POST with nonce, as JSON text; NULL on failure. */
static char *jws_body(const struct acme_req *q, const char *nonce)
{
	const struct acme_key *k = q->key;
	json_t *prot = json_pack("{s:s, s:s, s:s}", "alg", k->alg, "nonce", nonce, "url", q->url);
	if (prot && (q->kid ? json_object_set_new(prot, "kid", json_string(q->kid))
	                    : json_object_set(prot, "jwk", k->jwk))) {
		json_decref(prot);
		prot = NULL;
	}
	char *ps = prot ? json_dumps(prot, JSON_COMPACT) : NULL;
	char *pl = q->payload ? json_dumps(q->payload, JSON_COMPACT) : strdup("");
	char *p64 = ps ? b64_str(ps) : NULL, *b64 = pl ? b64_str(pl) : NULL;
	char *input = p64 && b64 ? diag_asprintf("%s.%s", p64, b64) : NULL;
	char *sig = input ? acme_jws_sign(k, input) : NULL;
	json_t *jws = sig ? json_pack("{s:s, s:s, s:s}", "protected", p64, "payload", b64,
	                              "signature", sig) : NULL;
	char *body = jws ? json_dumps(jws, JSON_COMPACT) : NULL;
	json_decref(prot);
	json_decref(jws);
	free(ps);
	free(pl);
	free(p64);
	free(b64);
	free(input);
	free(sig);
	return body;
}

/*
 * The next step of a POST: sign with a nonce (the last badNonce answer's,
 * else the pool's) and send, or fetch a nonce first. 0, or -1 with the
 * error in q->resp.
 */
static int post_next(struct acme_req *q)
{
	struct acme_client *c = q->c;
	char nonce[256];
	if (q->nonce[0]) {
		snprintf(nonce, sizeof(nonce), "%s", q->nonce);
		q->nonce[0] = '\0';
	} else if (pool_take(c, nonce, sizeof(nonce))) {
		const char *nn = acme_dir_url(c, "newNonce");
		if (!nn) {
			set_err(q, "the directory has no newNonce URL");
			return -1;
		}
		q->nonce_fetch = 1;
		return transfer_start(q, nn, 1, NULL);
	}
	q->nonce_fetch = 0;
	char *body = jws_body(q, nonce);
	if (!body) {
		set_err(q, "cannot sign the request to %s", q->url);
		return -1;
	}
	int rc = transfer_start(q, q->url, 0, body);
	free(body);
	return rc;
}

static int is_bad_nonce(const struct acme_resp *r)
{
	return !r->err[0] && r->status == 400 && !strcmp(acme_problem_short(&r->prob), "badNonce");
}

/* A transfer of q ended: go on (nonce fetched, badNonce retry) or deliver. */
static void transfer_done(void *arg, CURL *easy, CURLcode rc)
{
	struct acme_req *q = arg;
	struct acme_client *c = q->c;
	struct acme_resp *r = &q->resp;
	transfer_read(q, easy, rc);
	if (q->nonce_fetch) {
		pool_put(c, r->nonce);
		if (!r->nonce[0]) {
			char why[sizeof(r->err)], bad[sizeof(r->bad_nonce)];
			snprintf(why, sizeof(why), "%s", r->err);  /* set_err clears r */
			snprintf(bad, sizeof(bad), "%s", r->bad_nonce);
			if (bad[0])
				set_err(q, "the Replay-Nonce from %s is not base64url (RFC 8555 6.5.1), so "
				        "no request can be signed with it: \"%s\"", acme_dir_url(c, "newNonce"),
				        bad);
			else
				set_err(q, "no Replay-Nonce from %s%s%s", acme_dir_url(c, "newNonce"),
				        why[0] ? ": " : "", why);
			deliver(q);
		} else if (post_next(q)) {
			deliver(q);
		}
		return;
	}
	if (q->kind == REQ_POST && is_bad_nonce(r) && q->retries < ACME_NONCE_RETRIES) {
		/* RFC 8555 6.5: retry with the nonce of this answer */
		q->retries++;
		c->nonce_retries++;
		snprintf(q->nonce, sizeof(q->nonce), "%s", r->nonce);
		if (post_next(q))
			deliver(q);
		return;
	}
	pool_put(c, r->nonce);
	if (q->kind == REQ_DIRECTORY && r->status == 200 && json_is_object(r->json)) {
		json_decref(c->dir);
		c->dir = json_incref(r->json);
	}
	deliver(q);
}

static struct acme_req *req_new(struct acme_client *c, enum req_kind kind, const char *url,
                                acme_resp_cb cb, void *arg)
{
	struct acme_req *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->c = c;
	q->kind = kind;
	q->cb = cb;
	q->arg = arg;
	q->resp.retry_after = -1;
	if (!(q->url = strdup(url ? url : ""))) {
		free(q);
		return NULL;
	}
	q->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = q;
	c->reqs = q;
	return q;
}

/*
 * The first step of a request failed (the error is in q->resp): cb still
 * runs, from the loop. NULL when even that cannot be arranged.
 */
static struct acme_req *start_failed(struct acme_req *q)
{
	req_detach(q);
	if (diag_loop_timer(q->c->loop, 0, deliver_timer, q) == 0)
		return q;
	req_unlink(q);
	req_free(q);
	return NULL;
}

static struct acme_req *get_start(struct acme_client *c, enum req_kind kind, const char *url,
                                  acme_resp_cb cb, void *arg)
{
	struct acme_req *q = req_new(c, kind, url, cb, arg);
	if (!q)
		return NULL;
	if (transfer_start(q, q->url, kind == REQ_HEAD, NULL))
		return start_failed(q);
	return q;
}

struct acme_req *acme_get(struct acme_client *c, const char *url, int head,
                          acme_resp_cb cb, void *arg)
{
	return get_start(c, head ? REQ_HEAD : REQ_GET, url, cb, arg);
}

struct acme_req *acme_directory(struct acme_client *c, const char *url,
                                acme_resp_cb cb, void *arg)
{
	return get_start(c, REQ_DIRECTORY, url, cb, arg);
}

struct acme_req *acme_post(struct acme_client *c, const char *url, const struct acme_key *k,
                           const char *kid, const json_t *payload, acme_resp_cb cb, void *arg)
{
	struct acme_req *q = req_new(c, REQ_POST, url, cb, arg);
	if (!q)
		return NULL;
	q->key = k;
	if ((kid && !(q->kid = strdup(kid))) || (payload && !(q->payload = json_deep_copy(payload)))) {
		req_unlink(q);
		req_free(q);
		return NULL;
	}
	if (!url || !k) {
		set_err(q, "%s", !url ? "no URL to send the request to" : "no key to sign the request with");
		return start_failed(q);
	}
	if (post_next(q))
		return start_failed(q);
	return q;
}

/* ---- account stores ---- */

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

static int is_dir(const char *p)
{
	struct stat st;
	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* Does a store folder name (lego: "host_port", certbot/acme.sh: "host" or
 * "host:port") belong to the server URL? */
static int server_matches(const char *folder, const char *server)
{
	if (!server)
		return 1;
	const char *h = strstr(server, "://");
	h = h ? h + 3 : server;
	char host[300];
	size_t n = strcspn(h, "/");
	if (n >= sizeof(host))
		n = sizeof(host) - 1;
	memcpy(host, h, n);
	host[n] = '\0';
	char alt[300];
	snprintf(alt, sizeof(alt), "%s", host);
	for (char *p = alt; *p; p++)
		if (*p == ':')
			*p = '_';
	return !strcmp(folder, host) || !strcmp(folder, alt);
}

static int lego_store(const char *dir, const char *server, struct acme_account_ref *out, int max)
{
	char base[1024];
	snprintf(base, sizeof(base), "%s/accounts", dir);
	DIR *d = opendir(base);
	int n = 0;
	if (!d)
		return 0;
	struct dirent *s;
	while ((s = readdir(d)) && n < max) {
		if (s->d_name[0] == '.' || !server_matches(s->d_name, server))
			continue;
		char sdir[1300];
		snprintf(sdir, sizeof(sdir), "%s/%s", base, s->d_name);
		DIR *e = opendir(sdir);
		if (!e)
			continue;
		struct dirent *m;
		while ((m = readdir(e)) && n < max) {
			if (m->d_name[0] == '.')
				continue;
			struct acme_account_ref *a = &out[n];
			memset(a, 0, sizeof(*a));
			snprintf(a->where, sizeof(a->where), "%s/%s", sdir, m->d_name);
			snprintf(a->key_path, sizeof(a->key_path), "%s/keys/%s.key", a->where, m->d_name);
			snprintf(a->contact, sizeof(a->contact), "mailto:%s", m->d_name);
			char path[1100], buf[16384];
			snprintf(path, sizeof(path), "%s/account.json", a->where);
			if (read_file(path, buf, sizeof(buf)) == 0) {
				json_t *j = json_loads(buf, 0, NULL);
				const char *uri = json_string_value(json_object_get(json_object_get(j, "registration"), "uri"));
				if (uri)
					snprintf(a->kid, sizeof(a->kid), "%s", uri);
				json_decref(j);
			}
			n++;
		}
		closedir(e);
	}
	closedir(d);
	return n;
}

/* certbot: accounts/<host>/<path...>/<id>/{private_key.json,regr.json,meta.json} */
static void certbot_fill(struct acme_account_ref *a)
{
	char p[1100], buf[16384];
	snprintf(p, sizeof(p), "%s/regr.json", a->where);
	if (read_file(p, buf, sizeof(buf)) == 0) {
		json_t *j = json_loads(buf, 0, NULL);
		const char *uri = json_string_value(json_object_get(j, "uri"));
		if (uri)
			snprintf(a->kid, sizeof(a->kid), "%s", uri);
		json_decref(j);
	}
}

/* acme.sh: ca/<host>/<path...>/{account.key, ca.conf (ACCOUNT_URL='...')} */
static void acmesh_fill(struct acme_account_ref *a)
{
	char p[1100], buf[16384];
	snprintf(p, sizeof(p), "%s/ca.conf", a->where);
	if (read_file(p, buf, sizeof(buf)) == 0) {
		char *u = strstr(buf, "ACCOUNT_URL='");
		if (u) {
			u += 13;
			size_t k = strcspn(u, "'\n");
			snprintf(a->kid, sizeof(a->kid), "%.*s", (int)k, u);
		}
	}
}

/* Walk a store for folders holding key_name (bounded depth); the first
 * level must name the server's host. fill reads the account URL. */
static void store_walk(const char *dir, int depth, const char *server, const char *key_name,
                       void (*fill)(struct acme_account_ref *), struct acme_account_ref *out,
                       int *n, int max)
{
	char p[1100];
	snprintf(p, sizeof(p), "%s/%s", dir, key_name);
	FILE *f = *n < max ? fopen(p, "r") : NULL;
	if (f) {
		fclose(f);
		struct acme_account_ref *a = &out[*n];
		memset(a, 0, sizeof(*a));
		snprintf(a->where, sizeof(a->where), "%s", dir);
		snprintf(a->key_path, sizeof(a->key_path), "%s", p);
		fill(a);
		(*n)++;
		return;
	}
	if (depth > 6)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) && *n < max) {
		if (e->d_name[0] == '.')
			continue;
		if (depth == 0 && !server_matches(e->d_name, server))
			continue;
		char sub[1100];
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (is_dir(sub))
			store_walk(sub, depth + 1, server, key_name, fill, out, n, max);
	}
	closedir(d);
}

int acme_store_find(enum acme_store s, const char *dir, const char *server,
                    struct acme_account_ref *out, int max, char *err, size_t errlen)
{
	char def[1024];
	const char *home = getenv("HOME");
	if (!dir) {
		switch (s) {
		case STORE_CERTBOT: snprintf(def, sizeof(def), "/etc/letsencrypt"); break;
		case STORE_LEGO: snprintf(def, sizeof(def), ".lego"); break;
		case STORE_ACMESH: snprintf(def, sizeof(def), "%s/.acme.sh", home ? home : "/root"); break;
		}
		dir = def;
	}
	if (!is_dir(dir)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	int n = 0;
	char sub[1100];
	switch (s) {
	case STORE_LEGO:
		n = lego_store(dir, server, out, max);
		break;
	case STORE_CERTBOT:
		snprintf(sub, sizeof(sub), "%s/accounts", dir);
		store_walk(is_dir(sub) ? sub : dir, 0, server, "private_key.json", certbot_fill, out, &n, max);
		break;
	case STORE_ACMESH:
		snprintf(sub, sizeof(sub), "%s/ca", dir);
		store_walk(is_dir(sub) ? sub : dir, 0, server, "account.key", acmesh_fill, out, &n, max);
		break;
	}
	return n;
}
