/* SPDX-License-Identifier: ISC */
/*
 * jws.c - read captures of ACME requests and check each JWS as Boulder
 * would. The checks are pure computation: the probe runs them from the
 * loop, a batch per turn, after fetching the directory when asked to.
 */
#define _GNU_SOURCE  /* memmem */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ec.h>
#include <openssl/err.h>

#include "diag/jws.h"
#include "diag/keyauth.h"
#include "httputil.h"

/* ---- captures ---- */

static int add_req(struct jws_capture *c, const char *jws, size_t jlen, const char *url,
                   const char *ctype, const char *where)
{
	if (c->n >= JWS_MAX_REQUESTS) {
		c->over_limit++;  /* not unreadable: said apart (jws.limit) */
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct jws_capture_req *v = realloc(c->req, cap * sizeof(*v));
		if (!v)
			return -1;
		c->req = v;
		c->cap = cap;
	}
	struct jws_capture_req *r = &c->req[c->n];
	memset(r, 0, sizeof(*r));
	r->jws = strndup(jws, jlen);
	r->url = url ? strdup(url) : NULL;
	r->content_type = ctype ? strdup(ctype) : NULL;
	snprintf(r->where, sizeof(r->where), "%s", where);
	if (!r->jws) {
		free(r->url);
		free(r->content_type);
		return -1;
	}
	c->n++;
	return 0;
}

static int add_json(struct jws_capture *c, const json_t *jws, const char *url, const char *ctype,
                    const char *where)
{
	char *s = json_dumps(jws, JSON_COMPACT);
	int rc = s ? add_req(c, s, strlen(s), url, ctype, where) : -1;
	free(s);
	return rc;
}

void jws_capture_free(struct jws_capture *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->req[i].jws);
		free(c->req[i].url);
		free(c->req[i].content_type);
	}
	free(c->req);
	memset(c, 0, sizeof(*c));
}

static void har_entry(struct jws_capture *c, const json_t *e, size_t i)
{
	json_t *rq = json_object_get(e, "request");
	const char *method = json_string_value(json_object_get(rq, "method"));
	const char *url = json_string_value(json_object_get(rq, "url"));
	const char *text = json_string_value(json_object_get(json_object_get(rq, "postData"), "text"));
	char where[48];
	snprintf(where, sizeof(where), "entry %zu", i + 1);
	if (!method || strcmp(method, "POST"))
		return;  /* GETs are not JWS requests */
	if (!text) {
		c->skipped++;
		return;
	}
	const char *ctype = NULL;
	json_t *h;
	size_t k;
	json_array_foreach(json_object_get(rq, "headers"), k, h) {
		const char *name = json_string_value(json_object_get(h, "name"));
		if (name && !strcasecmp(name, "content-type"))
			ctype = json_string_value(json_object_get(h, "value"));
	}
	if (add_req(c, text, strlen(text), url, ctype ? ctype : "", where))
		c->skipped++;
}

/* A HAR is read one entry at a time: a browser's export of a long session
 * holds many entries, and a whole document in jansson costs some 30 times
 * its size. The walk below only finds where things are; jansson parses. */

static const char *ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Past the JSON string at p ('"'), or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Past the JSON value at p, or NULL. Containers are skipped by counting
 * brackets outside strings (no recursion: depth costs nothing); jansson
 * checks the entries themselves. */
static const char *skip_value(const char *p, const char *end)
{
	if (p >= end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p == '{' || *p == '[') {
		size_t depth = 0;
		while (p < end) {
			if (*p == '"') {
				if (!(p = skip_string(p, end)))
					return NULL;
				continue;
			}
			if (*p == '{' || *p == '[')
				depth++;
			else if ((*p == '}' || *p == ']') && --depth == 0)
				return p + 1;
			p++;
		}
		return NULL;
	}
	/* a number, true, false or null */
	while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
	       *p != '\n' && *p != '\r')
		p++;
	return p;
}

/* In the object at p ('{'), the value of member key: a pointer to it, or
 * NULL. */
static const char *member(const char *p, const char *end, const char *key)
{
	size_t klen = strlen(key);
	p = ws(p + 1, end);
	while (p < end && *p == '"') {
		const char *k = p + 1, *ke = skip_string(p, end);
		if (!ke)
			return NULL;
		p = ws(ke, end);
		if (p >= end || *p != ':')
			return NULL;
		p = ws(p + 1, end);
		if ((size_t)(ke - 1 - k) == klen && !memcmp(k, key, klen))
			return p;
		if (!(p = skip_value(p, end)))
			return NULL;
		p = ws(p, end);
		if (p < end && *p == ',')
			p = ws(p + 1, end);
	}
	return NULL;
}

/* buf is a HAR (an object whose "log" has an "entries" array): read its
 * entries and return 1; else 0, nothing read. */
static int har(struct jws_capture *c, const char *buf, size_t len)
{
	const char *end = buf + len, *p = ws(buf, end);
	if (p >= end || *p != '{' || !(p = member(p, end, "log")) || *p != '{' ||
	    !(p = member(p, end, "entries")) || *p != '[')
		return 0;
	c->format = "har";
	p = ws(p + 1, end);
	for (size_t i = 0; p < end && *p != ']'; i++) {
		json_error_t je;
		json_t *e = json_loadb(p, (size_t)(end - p), JSON_DISABLE_EOF_CHECK, &je);
		if (!e) {
			c->skipped++;  /* the rest cannot be split into entries */
			break;
		}
		har_entry(c, e, i);
		json_decref(e);
		p = ws(p + je.position, end);
		if (p < end && *p == ',')
			p = ws(p + 1, end);
	}
	return 1;
}

/* certbot: "...:DEBUG:acme.client:Sending POST request to URL:" then a JSON
 * block that ends with a line holding only "}". Read in one pass, line by
 * line: a request's block ends at its "}" line, and never runs past the
 * next request (a request without its "}" is unreadable, not the start of
 * one block that holds every request after it: copying those would grow
 * as the square of the log), nor more than 10,000 lines on (a "}" that far
 * closes something else). */
static void certbot_log(struct jws_capture *c, const char *buf, size_t len)
{
	static const char mark[] = "Sending POST request to ";
	const char *p = buf, *end = buf + len;
	const char *body = NULL;  /* the open request's block, NULL when none is open */
	size_t lineno = 1, body_line = 0;
	char url[2048], where[48];
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *m = memmem(p, (size_t)(le - p), mark, sizeof(mark) - 1);
		if (body && (m || lineno - body_line >= 10000)) {
			c->skipped++;  /* no "}" before the next request, or too far */
			body = NULL;
		}
		if (m) {
			const char *u = m + sizeof(mark) - 1;
			size_t ul = (size_t)(le - u);
			while (ul && (u[ul - 1] == ':' || u[ul - 1] == '\r'))
				ul--;
			snprintf(url, sizeof(url), "%.*s", (int)(ul < sizeof(url) - 1 ? ul : sizeof(url) - 1), u);
			snprintf(where, sizeof(where), "line %zu", lineno);
			body = nl ? nl + 1 : end;
			body_line = lineno + 1;
		} else if (body && p[0] == '}' && (le - p == 1 || p[1] == '\r')) {
			if (add_req(c, body, (size_t)(p + 1 - body), url, NULL, where))
				c->skipped++;
			body = NULL;
		}
		if (!nl)
			break;
		p = nl + 1;
		lineno++;
	}
	if (body)
		c->skipped++;
}

int jws_capture_parse(const char *buf, size_t len, struct jws_capture *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (len > JWS_MAX_CAPTURE) {
		snprintf(err, errlen, "capture larger than %d MiB", JWS_MAX_CAPTURE / (1024 * 1024));
		return -1;
	}
	json_error_t je;
	json_t *doc = NULL;
	if (har(c, buf, len)) {
		/* read */
	} else if ((doc = json_loadb(buf, len, 0, &je)) && json_is_object(doc) &&
	           json_object_get(doc, "protected")) {
		/* (json_is_object is a macro that names its argument twice) */
		c->format = "jws";
		if (add_json(c, doc, NULL, NULL, "document"))
			c->skipped++;
	} else if (memmem(buf, len, "Sending POST request to ", 24)) {
		c->format = "certbot-log";
		certbot_log(c, buf, len);
	} else {
		c->format = "jsonl";
		const char *p = buf, *end = buf + len;
		size_t lineno = 0;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *le = nl ? nl : end;
			lineno++;
			const char *s = p;
			while (s < le && (*s == ' ' || *s == '\t' || *s == '\r'))
				s++;
			if (s < le) {
				json_t *j = json_loadb(s, (size_t)(le - s), 0, &je);
				char where[48];
				snprintf(where, sizeof(where), "line %zu", lineno);
				json_t *inner = json_object_get(j, "jws");
				const char *url = json_string_value(json_object_get(j, "url"));
				const char *ct = json_string_value(json_object_get(j, "content_type"));
				int bad = json_is_object(inner) ? add_json(c, inner, url, ct, where)
				          : json_is_object(j) && json_object_get(j, "protected")
				          ? add_json(c, j, NULL, NULL, where) : -1;
				if (bad)
					c->skipped++;
				json_decref(j);
			}
			if (!nl)
				break;
			p = nl + 1;
		}
	}
	json_decref(doc);
	if (c->n == 0 && !c->over_limit) {
		snprintf(err, errlen, "no ACME request found (%zu unreadable %s)", c->skipped,
		         c->skipped == 1 ? "part" : "parts");
		return -1;
	}
	return 0;
}

/* ---- checking ---- */

static json_t *b64_json(const char *s, char **raw, size_t *rawlen)
{
	size_t n = strlen(s);
	unsigned char *buf = malloc(n + 4);
	if (!buf)
		return NULL;
	long len = diag_b64url_decode(s, n, buf);
	if (len < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	json_t *j = len ? json_loadb((char *)buf, (size_t)len, 0, NULL) : NULL;
	if (raw) {
		*raw = (char *)buf;
		*rawlen = (size_t)len;
	} else {
		free(buf);
	}
	return j;
}

/* 1 verified, 0 does not verify, -1 cannot tell (unsupported alg). */
static int verify(EVP_PKEY *pk, const char *alg, const char *input, const char *sig64)
{
	size_t sl = strlen(sig64);
	unsigned char *sig = malloc(sl + 4);
	unsigned char *der = NULL;
	int ret = -1;
	long len = sig ? diag_b64url_decode(sig64, sl, sig) : -1;
	const EVP_MD *md = !strcmp(alg, "RS256") || !strcmp(alg, "ES256") ? EVP_sha256()
	                   : !strcmp(alg, "RS384") || !strcmp(alg, "ES384") ? EVP_sha384()
	                   : !strcmp(alg, "RS512") || !strcmp(alg, "ES512") ? EVP_sha512() : NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (len < 0 || !ctx)
		goto out;
	const unsigned char *use = sig;
	size_t uselen = (size_t)len;
	if (alg[0] == 'E' && alg[1] == 'S') {
		/* r || s into DER for OpenSSL */
		if (len % 2 || len > 132) {
			ret = 0;
			goto out;
		}
		ECDSA_SIG *es = ECDSA_SIG_new();
		if (!es)
			goto out;
		ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)len / 2, NULL), BN_bin2bn(sig + len / 2, (int)len / 2, NULL));
		int dl = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		if (dl <= 0)
			goto out;
		use = der;
		uselen = (size_t)dl;
	} else if (strcmp(alg, "EdDSA") && !md) {
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, strcmp(alg, "EdDSA") ? md : NULL, NULL, pk) != 1)
		goto out;
	ret = EVP_DigestVerify(ctx, use, uselen, (const unsigned char *)input, strlen(input)) == 1;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	free(sig);
	return ret;
}

enum endpoint { EP_UNKNOWN, EP_NEW_ACCOUNT, EP_NEW_ORDER, EP_REVOKE, EP_KEY_CHANGE, EP_FINALIZE,
                EP_ACCOUNT, EP_ORDER, EP_AUTHZ, EP_CHALLENGE, EP_CERT };

static const char *ep_name(enum endpoint e)
{
	static const char *names[] = {"unknown endpoint", "newAccount", "newOrder", "revokeCert",
	                              "keyChange", "finalize", "account", "order", "authorization",
	                              "challenge", "certificate"};
	return names[e];
}

static enum endpoint classify(const json_t *directory, const char *url, const json_t *payload)
{
	if (url && directory) {
		const char *keys[] = {"newAccount", "newOrder", "revokeCert", "keyChange"};
		enum endpoint eps[] = {EP_NEW_ACCOUNT, EP_NEW_ORDER, EP_REVOKE, EP_KEY_CHANGE};
		for (size_t i = 0; i < 4; i++) {
			const char *u = json_string_value(json_object_get(directory, keys[i]));
			if (u && !strcmp(u, url))
				return eps[i];
		}
	}
	if (url) {
		/* Boulder's and Pebble's paths */
		static const struct { const char *part; enum endpoint e; } paths[] = {
			{"/new-acct", EP_NEW_ACCOUNT}, {"/sign-me-up", EP_NEW_ACCOUNT}, {"/new-reg", EP_NEW_ACCOUNT},
			{"/new-order", EP_NEW_ORDER}, {"/order-plz", EP_NEW_ORDER},
			{"/revoke-cert", EP_REVOKE}, {"/key-change", EP_KEY_CHANGE},
			{"/rollover-account-key", EP_KEY_CHANGE}, {"/finalize", EP_FINALIZE},
			{"/acct/", EP_ACCOUNT}, {"/my-account/", EP_ACCOUNT}, {"/reg/", EP_ACCOUNT},
			{"/my-order/", EP_ORDER}, {"/order/", EP_ORDER}, {"/authz", EP_AUTHZ}, {"/authZ/", EP_AUTHZ},
			{"/chall", EP_CHALLENGE}, {"/chalZ/", EP_CHALLENGE}, {"/cert/", EP_CERT}, {"/certZ/", EP_CERT},
		};
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			if (strstr(url, paths[i].part))
				return paths[i].e;
	}
	if (json_object_get(payload, "termsOfServiceAgreed") || json_object_get(payload, "onlyReturnExisting"))
		return EP_NEW_ACCOUNT;
	if (json_object_get(payload, "identifiers"))
		return EP_NEW_ORDER;
	if (json_object_get(payload, "csr"))
		return EP_FINALIZE;
	if (json_object_get(payload, "certificate"))
		return EP_REVOKE;
	return EP_UNKNOWN;
}

static int looks_like_account_url(const char *kid)
{
	return strstr(kid, "/acct/") || strstr(kid, "/my-account/") || strstr(kid, "/reg/") ||
	       strstr(kid, "/account/");
}

struct seen_nonce {
	char *nonce;
	size_t index;
};

struct jws_probe {
	struct diag_probe head;        /* first */
	const struct jws_capture *cap;
	const struct acme_key *key;
	json_t *directory;             /* NULL: endpoints named from URL paths */
	char *directory_url;
	struct acme_client *c;
	struct seen_nonce *seen;
	size_t nseen;
	size_t next;                   /* the next request to check */
	size_t clean;
};

#define JWS_BATCH 64  /* requests checked per turn of the loop */

/* One request being checked, and how many findings it got. */
struct jreq {
	struct jws_probe *p;
	const struct jws_capture_req *q;
	size_t index;
	json_t *jws, *prot, *payload, *jwk;
	char *payload_raw;
	size_t payload_len;
	const char *p64, *b64, *s64, *hurl, *url, *alg, *kid, *nonce;
	enum endpoint ep;
	int alg_ok;
	size_t nfound;
	char target[2300];
};

/* A finding about request x: "<where>: <summary>". */
static struct diag_finding *req_add(struct jreq *x, enum diag_status st, const char *id,
                                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static struct diag_finding *req_add(struct jreq *x, enum diag_status st, const char *id,
                                    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = diag_vasprintf(fmt, ap);
	va_end(ap);
	x->nfound++;
	struct diag_finding *f = diag_add(x->p->head.r, st, id, x->target, "%s: %s", x->q->where,
	                                  s ? s : "(out of memory)");
	free(s);
	return f;
}

/* Decode the JWS; -1 (with a jws.parse finding) when it is not one. */
static int req_parse(struct jreq *x)
{
	const struct jws_capture_req *q = x->q;
	x->jws = json_loads(q->jws, 0, NULL);
	x->p64 = json_string_value(json_object_get(x->jws, "protected"));
	x->b64 = json_string_value(json_object_get(x->jws, "payload"));
	x->s64 = json_string_value(json_object_get(x->jws, "signature"));
	if (x->p64)
		x->prot = b64_json(x->p64, NULL, NULL);
	x->hurl = json_string_value(json_object_get(x->prot, "url"));
	x->url = q->url ? q->url : x->hurl;
	if (x->b64 && *x->b64)
		x->payload = b64_json(x->b64, &x->payload_raw, &x->payload_len);
	x->ep = classify(x->p->directory, x->url, x->payload);
	snprintf(x->target, sizeof(x->target), "#%zu %s %s", x->index + 1, ep_name(x->ep),
	         x->url ? x->url : "(no url)");
	if (!x->jws || !x->p64 || !x->b64 || !x->s64 || !json_is_object(x->prot)) {
		struct diag_finding *f = req_add(x, DIAG_FAIL, "jws.parse", "not a flattened JWS (%s)",
		                                 !x->jws ? "not JSON" : !x->p64 || !x->b64 || !x->s64
		                                 ? "protected, payload or signature missing"
		                                 : "protected header is not base64url JSON");
		diag_set_hint(f, "Boulder answers \"Parse error reading JWS\"; the client sends a broken request.");
		return -1;
	}
	if (json_object_get(x->jws, "header"))
		req_add(x, DIAG_FAIL, "jws.parse", "JWS \"header\" field not allowed; all headers must be in "
		        "\"protected\"");
	x->alg = json_string_value(json_object_get(x->prot, "alg"));
	x->kid = json_string_value(json_object_get(x->prot, "kid"));
	x->jwk = json_object_get(x->prot, "jwk");
	x->nonce = json_string_value(json_object_get(x->prot, "nonce"));
	return 0;
}

static void check_alg(struct jreq *x)
{
	static const char *algs[] = {"RS256", "ES256", "ES384", "ES512", "EdDSA"};
	const char *alg = x->alg;
	for (size_t k = 0; alg && k < sizeof(algs) / sizeof(algs[0]); k++)
		x->alg_ok |= !strcmp(alg, algs[k]);
	if (!x->alg_ok) {
		struct diag_finding *f = req_add(x, DIAG_FAIL, "jws.alg", "alg %s%s%s is not allowed "
		                                 "(badSignatureAlgorithm)", alg ? "\"" : "", alg ? alg : "missing",
		                                 alg ? "\"" : "");
		diag_set_hint(f, "ACME accepts asymmetric signatures only (RS256, ES256, ES384, EdDSA "
		              "where listed); \"none\" and MAC algorithms (HS256) are refused.");
	} else if (json_is_object(x->jwk)) {
		const char *kty = json_string_value(json_object_get(x->jwk, "kty"));
		int match = kty && ((alg[0] == 'R' && !strcmp(kty, "RSA")) || (alg[0] == 'E' && alg[1] == 'S' &&
		                    !strcmp(kty, "EC")) || (!strcmp(alg, "EdDSA") && !strcmp(kty, "OKP")));
		if (!match)
			req_add(x, DIAG_FAIL, "jws.alg", "alg %s does not match the %s key", alg, kty ? kty : "untyped");
	}
}

/* kid or jwk, as the endpoint wants. */
static void check_kid(struct jreq *x)
{
	const json_t *dir = x->p->directory;
	const char *kid = x->kid;
	enum endpoint ep = x->ep;
	struct diag_finding *f;
	if (kid && x->jwk) {
		f = req_add(x, DIAG_FAIL, "jws.kid", "jwk and kid header fields are mutually exclusive");
		diag_set_hint(f, "Send jwk only on newAccount (and revokeCert by certificate key, the "
		              "inner JWS of keyChange); kid everywhere else.");
	} else if (!kid && !x->jwk) {
		req_add(x, DIAG_FAIL, "jws.kid", "neither kid nor jwk in the protected header");
	} else if (ep == EP_NEW_ACCOUNT && kid) {
		req_add(x, DIAG_FAIL, "jws.kid", "No embedded JWK in JWS header (newAccount must be signed with jwk)");
	} else if (x->jwk && ep != EP_NEW_ACCOUNT && ep != EP_REVOKE && ep != EP_UNKNOWN) {
		f = req_add(x, DIAG_FAIL, "jws.kid", "No Key ID in JWS header: %s signed with an embedded jwk "
		            "instead of the account's kid", ep_name(ep));
		diag_set_hint(f, "After registering, every request except newAccount must carry the "
		              "account URL as kid (RFC 8555 6.2). Strict servers (Boulder, EAB-only "
		              "PKIs) reject this; upgrade the client (cert-manager has shipped this bug).");
	} else if (x->jwk && ep == EP_UNKNOWN) {
		req_add(x, DIAG_WARN, "jws.kid", "signed with jwk at an endpoint that could not be identified; "
		        "only newAccount and revokeCert take jwk (give --directory)");
	} else if (kid && dir && !diag_url_same_origin(kid, json_string_value(json_object_get(dir, "newAccount")))) {
		f = req_add(x, DIAG_FAIL, "jws.kid", "KeyID header contained an invalid account URL: \"%.200s\" "
		            "is not on this server", kid);
		diag_set_hint(f, "The client signs with an account of another server (staging vs production, "
		              "an old CA URL): re-register or fix the stored account URL.");
	} else if (kid && !dir && !looks_like_account_url(kid)) {
		req_add(x, DIAG_WARN, "jws.kid", "kid \"%.200s\" does not look like an account URL", kid);
	}
}

/* keyChange: the payload is itself a JWS, signed by the new key with jwk. */
static void check_keychange(struct jreq *x)
{
	if (x->ep != EP_KEY_CHANGE || !x->payload)
		return;
	const char *ip64 = json_string_value(json_object_get(x->payload, "protected"));
	json_t *inner = ip64 ? b64_json(ip64, NULL, NULL) : NULL;
	const char *iurl = json_string_value(json_object_get(inner, "url"));
	if (!json_is_object(inner))
		req_add(x, DIAG_FAIL, "jws.keychange", "keyChange payload is not a JWS");
	else if (!json_is_object(json_object_get(inner, "jwk")) || json_object_get(inner, "kid"))
		req_add(x, DIAG_FAIL, "jws.keychange", "keyChange inner JWS must carry the new key as jwk, and no kid");
	else if (!iurl || !x->hurl || strcmp(iurl, x->hurl))
		req_add(x, DIAG_FAIL, "jws.keychange", "keyChange inner JWS url must equal the outer url");
	json_decref(inner);
}

/* A nonce, never used before in the capture (keyChange's inner JWS has
 * none; it is not a request of its own). */
static void check_nonce(struct jreq *x)
{
	struct jws_probe *p = x->p;
	if (!x->nonce || !*x->nonce) {
		req_add(x, DIAG_FAIL, "jws.nonce", "JWS has no anti-replay nonce (badNonce)");
		return;
	}
	for (size_t k = 0; k < p->nseen; k++)
		if (!strcmp(p->seen[k].nonce, x->nonce)) {
			struct diag_finding *f = req_add(x, DIAG_FAIL, "jws.nonce", "nonce already used by request "
			                                 "#%zu (the CA answers badNonce)", p->seen[k].index + 1);
			diag_set_hint(f, "Each nonce is good for one request: take the Replay-Nonce of the "
			              "last response (or HEAD newNonce).");
			break;
		}
	if ((p->seen[p->nseen].nonce = strdup(x->nonce)))
		p->seen[p->nseen++].index = x->index;
	else
		req_add(x, DIAG_ERROR, "jws.run", "out of memory: later reuse of this nonce goes unseen");
}

/* url header, payload and Content-Type. */
static void check_url_payload(struct jreq *x)
{
	const struct jws_capture_req *q = x->q;
	if (!x->hurl)
		req_add(x, DIAG_FAIL, "jws.url", "JWS header parameter 'url' required");
	else if (q->url && strcmp(x->hurl, q->url))
		req_add(x, DIAG_FAIL, "jws.url", "JWS header parameter 'url' incorrect. Expected \"%.300s\" got "
		        "\"%.300s\"", q->url, x->hurl);
	if (x->b64 && *x->b64 && !x->payload)
		req_add(x, DIAG_FAIL, "jws.payload", "Request payload did not parse as JSON");
	if (q->content_type && strncasecmp(q->content_type, "application/jose+json", 21))
		req_add(x, DIAG_FAIL, "jws.content-type", "Invalid Content-Type header on POST. Content-Type must "
		        "be \"application/jose+json\" (got \"%.80s\")", q->content_type[0] ? q->content_type : "none");
}

static void check_signature(struct jreq *x)
{
	if (!x->alg_ok || !x->s64)
		return;
	EVP_PKEY *pk = json_is_object(x->jwk) ? acme_jwk_public(x->jwk) : NULL;
	EVP_PKEY *use = pk ? pk : (x->kid && x->p->key ? x->p->key->pkey : NULL);
	char *input = diag_asprintf("%s.%s", x->p64, x->b64);
	int v = use && input ? verify(use, x->alg, input, x->s64) : -1;
	if (v == 0) {
		struct diag_finding *f = req_add(x, DIAG_FAIL, "jws.signature", "JWS verification error: the "
		                                 "signature does not verify with %s",
		                                 pk ? "the embedded jwk" : "--account-key");
		diag_set_hint(f, "%s", pk ? "The body was changed after signing, or signed with another key."
		              : "This request was signed with another key than --account-key: the "
		                "client uses a different key for this kid.");
	} else if (json_is_object(x->jwk) && !pk) {
		req_add(x, DIAG_FAIL, "jws.signature", "the embedded jwk is not a usable public key");
	}
	EVP_PKEY_free(pk);
	free(input);
}

static void check_request(struct jws_probe *p, size_t i)
{
	struct jreq x = { .p = p, .q = &p->cap->req[i], .index = i };
	if (req_parse(&x) == 0) {
		check_alg(&x);
		check_kid(&x);
		check_keychange(&x);
		check_nonce(&x);
		check_url_payload(&x);
		check_signature(&x);
	}
	if (x.nfound == 0) {  /* no finding about this request: it is clean */
		p->clean++;
		diag_add(p->head.r, DIAG_OK, "jws.request", x.target, "%s: %s, %s, nonce and url present%s",
		         x.q->where, x.alg, x.kid ? "kid" : "jwk",
		         (json_is_object(x.jwk) || p->key) ? ", signature verifies" : "");
	}
	json_decref(x.jws);
	json_decref(x.prot);
	json_decref(x.payload);
	free(x.payload_raw);
}

/* ---- the probe ---- */

static void jws_summary(struct jws_probe *p)
{
	const struct jws_capture *cap = p->cap;
	struct diag_finding *f = diag_add(p->head.r, p->clean == cap->n ? DIAG_OK : DIAG_FAIL, "jws.summary",
	                                  cap->format, "%zu of %zu requests clean; %zu unreadable part%s skipped",
	                                  p->clean, cap->n, cap->skipped, cap->skipped == 1 ? "" : "s");
	if (f && cap->skipped && f->status == DIAG_OK)
		f->status = DIAG_WARN;
	diag_evidence(f, "format", json_string(cap->format));
	if (cap->over_limit) {
		f = diag_add(p->head.r, DIAG_WARN, "jws.limit", cap->format,
		             "only the first %d requests were checked; %zu more in the capture were not",
		             JWS_MAX_REQUESTS, cap->over_limit);
		diag_set_hint(f, "Split the capture (one session, or the requests around the failure) and "
		              "check each part.");
		diag_evidence(f, "limit", json_integer(JWS_MAX_REQUESTS));
		diag_evidence(f, "not_checked", json_integer((json_int_t)cap->over_limit));
	}
}

/* A batch of requests per turn, so that other probes on the loop go on. */
static void check_batch(void *arg)
{
	struct jws_probe *p = arg;
	size_t end = p->next + JWS_BATCH < p->cap->n ? p->next + JWS_BATCH : p->cap->n;
	for (; p->next < end; p->next++)
		check_request(p, p->next);
	if (p->next < p->cap->n) {
		if (diag_loop_timer(p->head.loop, 0, check_batch, p) == 0)
			return;
		diag_add(p->head.r, DIAG_ERROR, "jws.run", "", "out of memory after %zu of %zu requests",
		         p->next, p->cap->n);
	}
	jws_summary(p);
	diag_probe_finish(&p->head);
}

static void on_directory(void *arg, struct acme_resp *rs)
{
	struct jws_probe *p = arg;
	const json_t *dir = acme_client_directory(p->c);
	struct diag_finding *f;
	if (dir) {
		p->directory = json_deep_copy(dir);
		f = diag_add(p->head.r, DIAG_OK, "jws.directory", p->directory_url,
		             "directory read: endpoints are named from it");
	} else {
		char *why = rs->err[0] ? diag_strdup(rs->err) : rs->status == 200 ? diag_strdup("not a JSON object")
		            : diag_asprintf("HTTP %ld", rs->status);
		f = diag_add(p->head.r, DIAG_WARN, "jws.directory", p->directory_url, "directory not usable: %s; "
		             "endpoints are guessed from URL paths", why ? why : "out of memory");
		diag_set_hint(f, "Check --directory (and --ca-bundle for a private CA).");
		diag_evidence(f, "reason", diag_json_str(why));
		diag_evidence(f, "status", json_integer(rs->status));
		free(why);
	}
	check_batch(p);
}

static void jws_cancel(struct diag_probe *hp)
{
	struct jws_probe *p = (struct jws_probe *)hp;
	acme_client_free(p->c);
	p->c = NULL;
	diag_loop_cancel_timers(p->head.loop, p);
}

static void jws_destroy(struct diag_probe *hp)
{
	struct jws_probe *p = (struct jws_probe *)hp;
	for (size_t k = 0; k < p->nseen; k++)
		free(p->seen[k].nonce);
	free(p->seen);
	json_decref(p->directory);
	free(p->directory_url);
	free(p);
}

static const struct diag_probe_ops jws_ops = {"jws", jws_cancel, jws_destroy};

static int jws_setup(struct jws_probe *p, const struct jws_opts *o)
{
	p->cap = o->cap;
	p->key = o->key;
	if (!(p->seen = calloc(o->cap->n ? o->cap->n : 1, sizeof(*p->seen))))
		return -1;
	if (o->directory) {
		p->directory = json_deep_copy(o->directory);
		return p->directory ? 0 : -1;
	}
	if (!o->directory_url)
		return 0;
	if (!(p->directory_url = strdup(o->directory_url)) ||
	    !(p->c = acme_client_new(p->head.loop, o->ca_bundle, o->insecure, o->timeout_ms)))
		return -1;
	return acme_directory(p->c, o->directory_url, on_directory, p) ? 0 : -1;
}

struct diag_probe *diag_jws_start(struct diag_loop *loop, const struct jws_opts *o,
                                  struct diag_report *r, diag_done_cb done, void *arg)
{
	struct jws_probe *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	diag_probe_init(&p->head, &jws_ops, loop, r, done, arg);
	if (jws_setup(p, o) || (!p->c && diag_loop_timer(loop, 0, check_batch, p))) {
		jws_cancel(&p->head);
		jws_destroy(&p->head);
		return NULL;
	}
	return &p->head;
}

static struct diag_probe *start_adapter(struct diag_loop *loop, const void *opts, struct diag_report *r,
                                        diag_done_cb done, void *arg)
{
	return diag_jws_start(loop, opts, r, done, arg);
}

int diag_jws_run(const struct jws_opts *o, struct diag_report *r)
{
	return diag_probe_run(start_adapter, o, r, "jws.run");
}
