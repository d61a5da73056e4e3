/*
 * acme.c - ACME requests: directory, nonces, JWS POSTs, problem documents,
 * and the account stores of certbot, lego and acme.sh.
 *
 * ACME exchanges are a chain (each POST needs the nonce of the previous
 * reply), so a request here is one blocking transfer with a timeout; tools
 * that ask several servers at once use the loop instead.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
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

int acme_client_init(struct acme_client *c, const char *ca_bundle, int insecure, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->ca_bundle = ca_bundle;
	c->insecure = insecure;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c->curl = curl_easy_init();
	return c->curl ? 0 : -1;
}

void acme_client_free(struct acme_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	json_decref(c->dir);
	memset(c, 0, sizeof(*c));
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

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct acme_resp *r = arg;
	size_t len = size * n;
	char buf[1024];
	if (diag_http_header(data, len, "Location", r->location, sizeof(r->location)) ||
	    diag_http_header(data, len, "Replay-Nonce", r->nonce, sizeof(r->nonce)) ||
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

/* One transfer: GET, HEAD or POST with a JOSE body. */
static int transfer(struct acme_client *c, const char *url, int head, const char *post,
                    struct acme_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
	CURL *e = c->curl;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "acme-diag/" DIAG_VERSION);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	/* ACME servers do not redirect API requests; follow none (loops, policy) */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (c->ca_bundle)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_bundle);
	if (c->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (head)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	if (post) {
		hdrs = curl_slist_append(NULL, "Content-Type: application/jose+json");
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, post);
	}
	r->sent_ms = diag_wall_ms();
	CURLcode rc = curl_easy_perform(e);
	curl_off_t first = 0, pre = 0;
	curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pre);
	curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &first);
	r->first_byte_ms = r->sent_ms + first / 1000;
	r->sent_ms += pre / 1000;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		snprintf(r->err, sizeof(r->err), "%s", rc == CURLE_WRITE_ERROR && r->len >= ACME_MAX_BODY / 2
		         ? "response body over 1 MiB" : errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return -1;
	}
	if (r->body && r->len) {
		json_error_t je;
		r->json = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
	}
	r->is_problem = !strncasecmp(r->content_type, "application/problem+json", 24);
	if (r->is_problem || (r->status >= 400 && json_is_object(r->json) && json_object_get(r->json, "type")))
		acme_problem_parse(r->json, &r->prob);
	if (r->nonce[0])
		snprintf(c->nonce, sizeof(c->nonce), "%s", r->nonce);
	return 0;
}

int acme_get(struct acme_client *c, const char *url, int head, struct acme_resp *r)
{
	return transfer(c, url, head, NULL, r);
}

int acme_directory(struct acme_client *c, const char *url, struct acme_resp *r)
{
	if (acme_get(c, url, 0, r))
		return -1;
	if (r->status != 200 || !json_is_object(r->json))
		return -1;
	json_decref(c->dir);
	c->dir = json_incref(r->json);
	return 0;
}

const char *acme_dir_url(const struct acme_client *c, const char *name)
{
	return json_string_value(json_object_get(c->dir, name));
}

static char *b64_str(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n * 4 / 3 + 4);
	if (out)
		diag_b64url((const unsigned char *)s, n, out);
	return out;
}

int acme_post(struct acme_client *c, const char *url, const struct acme_key *k,
              const char *kid, const json_t *payload, struct acme_resp *r)
{
	for (int attempt = 0; attempt < 4; attempt++) {
		if (!c->nonce[0]) {
			const char *nn = acme_dir_url(c, "newNonce");
			struct acme_resp nr;
			if (!nn) {
				memset(r, 0, sizeof(*r));
				snprintf(r->err, sizeof(r->err), "the directory has no newNonce URL");
				return -1;
			}
			int rc = acme_get(c, nn, 1, &nr);
			acme_resp_free(&nr);
			if (rc || !c->nonce[0]) {
				memset(r, 0, sizeof(*r));
				snprintf(r->err, sizeof(r->err), "no Replay-Nonce from %s", nn);
				return -1;
			}
		}
		json_t *prot = json_pack("{s:s, s:s, s:s}", "alg", k->alg, "nonce", c->nonce, "url", url);
		if (kid)
			json_object_set_new(prot, "kid", json_string(kid));
		else
			json_object_set(prot, "jwk", k->jwk);
		c->nonce[0] = '\0';  /* used */
		char *ps = json_dumps(prot, JSON_COMPACT);
		char *pl = payload ? json_dumps(payload, JSON_COMPACT) : strdup("");
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
		if (!body) {
			memset(r, 0, sizeof(*r));
			snprintf(r->err, sizeof(r->err), "cannot sign the request");
			return -1;
		}
		int rc = transfer(c, url, 0, body, r);
		free(body);
		if (rc)
			return -1;
		if (r->status == 400 && !strcmp(acme_problem_short(&r->prob), "badNonce") && attempt < 3) {
			c->nonce_retries++;  /* RFC 8555 6.5: retry with the nonce of this reply */
			acme_resp_free(r);
			continue;
		}
		return 0;
	}
	return 0;
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
