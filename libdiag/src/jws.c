/* jws.c - read captures of ACME requests and check each JWS as Boulder would. */
#define _GNU_SOURCE  /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ec.h>
#include <openssl/err.h>

#include "diag/jws.h"
#include "diag/keyauth.h"

/* ---- captures ---- */

static int add_req(struct jws_capture *c, const char *jws, size_t jlen, const char *url,
                   const char *ctype, const char *where)
{
	if (c->n >= JWS_MAX_REQUESTS)
		return -1;
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

static void har(struct jws_capture *c, const json_t *doc)
{
	json_t *entries = json_object_get(json_object_get(doc, "log"), "entries");
	json_t *e;
	size_t i;
	json_array_foreach(entries, i, e) {
		json_t *rq = json_object_get(e, "request");
		const char *method = json_string_value(json_object_get(rq, "method"));
		const char *url = json_string_value(json_object_get(rq, "url"));
		const char *text = json_string_value(json_object_get(json_object_get(rq, "postData"), "text"));
		char where[48];
		snprintf(where, sizeof(where), "entry %zu", i + 1);
		if (!method || strcmp(method, "POST") || !text) {
			if (!method || strcmp(method, "POST"))
				continue;  /* GETs are not JWS requests */
			c->skipped++;
			continue;
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
}

/* certbot: "...:DEBUG:acme.client:Sending POST request to URL:" then a JSON
 * block that ends with a line holding only "}". */
static void certbot_log(struct jws_capture *c, const char *buf, size_t len)
{
	static const char mark[] = "Sending POST request to ";
	const char *p = buf, *end = buf + len;
	size_t lineno = 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *m = memmem(p, (size_t)(le - p), mark, sizeof(mark) - 1);
		if (m) {
			const char *u = m + sizeof(mark) - 1;
			size_t ul = (size_t)(le - u);
			while (ul && (u[ul - 1] == ':' || u[ul - 1] == '\r'))
				ul--;
			char url[2048];
			snprintf(url, sizeof(url), "%.*s", (int)(ul < sizeof(url) - 1 ? ul : sizeof(url) - 1), u);
			const char *body = nl ? nl + 1 : end, *q = body;
			size_t blines = 0;
			const char *bend = NULL;
			while (q < end && blines < 10000) {
				const char *qn = memchr(q, '\n', (size_t)(end - q));
				const char *qe = qn ? qn : end;
				blines++;
				if (qe - q >= 1 && q[0] == '}' && (qe - q == 1 || q[1] == '\r')) {
					bend = q + 1;
					break;
				}
				if (!qn)
					break;
				q = qn + 1;
			}
			char where[48];
			snprintf(where, sizeof(where), "line %zu", lineno);
			if (!bend || add_req(c, body, (size_t)(bend - body), url, NULL, where))
				c->skipped++;
		}
		if (!nl)
			break;
		p = nl + 1;
		lineno++;
	}
}

int jws_capture_parse(const char *buf, size_t len, struct jws_capture *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (len > JWS_MAX_CAPTURE) {
		snprintf(err, errlen, "capture larger than %d MiB", JWS_MAX_CAPTURE / (1024 * 1024));
		return -1;
	}
	json_error_t je;
	json_t *doc = json_loadb(buf, len, 0, &je);
	if (json_is_object(doc) && json_object_get(doc, "log")) {
		c->format = "har";
		har(c, doc);
	} else if (json_is_object(doc) && json_object_get(doc, "protected")) {
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
	if (c->n == 0) {
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

static enum endpoint classify(const struct jws_opts *o, const char *url, const json_t *payload)
{
	if (url && o->directory) {
		const char *keys[] = {"newAccount", "newOrder", "revokeCert", "keyChange"};
		enum endpoint eps[] = {EP_NEW_ACCOUNT, EP_NEW_ORDER, EP_REVOKE, EP_KEY_CHANGE};
		for (size_t i = 0; i < 4; i++) {
			const char *u = json_string_value(json_object_get(o->directory, keys[i]));
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

/* Same scheme://host[:port] as ref? */
static int same_origin(const char *url, const char *ref)
{
	if (!ref)
		return 1;
	const char *a = strstr(url, "://"), *b = strstr(ref, "://");
	if (!a || !b)
		return 0;
	size_t la = (size_t)(a - url) + 3 + strcspn(a + 3, "/"), lb = (size_t)(b - ref) + 3 + strcspn(b + 3, "/");
	return la == lb && !strncasecmp(url, ref, la);
}

struct seen_nonce {
	char *nonce;
	size_t index;
};

int diag_jws_run(const struct jws_opts *o, struct diag_report *r)
{
	const struct jws_capture *cap = o->cap;
	struct seen_nonce *seen = calloc(cap->n ? cap->n : 1, sizeof(*seen));
	size_t nseen = 0, clean = 0;
	if (!seen) {
		diag_add(r, DIAG_ERROR, "jws.run", "", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cap->n; i++) {
		const struct jws_capture_req *q = &cap->req[i];
		json_t *jws = json_loads(q->jws, 0, NULL), *prot = NULL, *payload = NULL;
		char *payload_raw = NULL, *input = NULL;
		size_t payload_len = 0;
		size_t before = r->n;
		char target[2300];
		const char *p64 = json_string_value(json_object_get(jws, "protected"));
		const char *b64 = json_string_value(json_object_get(jws, "payload"));
		const char *s64 = json_string_value(json_object_get(jws, "signature"));
		if (p64)
			prot = b64_json(p64, NULL, NULL);
		const char *hurl = json_string_value(json_object_get(prot, "url"));
		const char *url = q->url ? q->url : hurl;
		if (b64 && *b64)
			payload = b64_json(b64, &payload_raw, &payload_len);
		enum endpoint ep = classify(o, url, payload);
		const char *alg = NULL, *kid = NULL, *nonce = NULL;
		json_t *jwk = NULL;
		snprintf(target, sizeof(target), "#%zu %s %s", i + 1, ep_name(ep), url ? url : "(no url)");
		struct diag_finding *f;
		if (!jws || !p64 || !b64 || !s64 || !json_is_object(prot)) {
			f = diag_add(r, DIAG_FAIL, "jws.parse", target, "%s: not a flattened JWS (%s)", q->where,
			             !jws ? "not JSON" : !p64 || !b64 || !s64 ? "protected, payload or signature missing"
			             : "protected header is not base64url JSON");
			diag_set_hint(f, "Boulder answers \"Parse error reading JWS\"; the client sends a broken request.");
			goto next;
		}
		if (json_object_get(jws, "header")) {
			f = diag_add(r, DIAG_FAIL, "jws.parse", target, "%s: JWS \"header\" field not allowed; "
			             "all headers must be in \"protected\"", q->where);
		}
		alg = json_string_value(json_object_get(prot, "alg"));
		kid = json_string_value(json_object_get(prot, "kid"));
		jwk = json_object_get(prot, "jwk");
		nonce = json_string_value(json_object_get(prot, "nonce"));
		/* alg */
		static const char *algs[] = {"RS256", "ES256", "ES384", "ES512", "EdDSA"};
		int alg_ok = 0;
		for (size_t k = 0; alg && k < sizeof(algs) / sizeof(algs[0]); k++)
			alg_ok |= !strcmp(alg, algs[k]);
		if (!alg_ok) {
			f = diag_add(r, DIAG_FAIL, "jws.alg", target, "%s: alg %s%s%s is not allowed (badSignatureAlgorithm)",
			             q->where, alg ? "\"" : "", alg ? alg : "missing", alg ? "\"" : "");
			diag_set_hint(f, "ACME accepts asymmetric signatures only (RS256, ES256, ES384, EdDSA "
			              "where listed); \"none\" and MAC algorithms (HS256) are refused.");
		} else if (json_is_object(jwk)) {
			const char *kty = json_string_value(json_object_get(jwk, "kty"));
			int match = kty && ((alg[0] == 'R' && !strcmp(kty, "RSA")) || (alg[0] == 'E' && alg[1] == 'S' &&
			                    !strcmp(kty, "EC")) || (!strcmp(alg, "EdDSA") && !strcmp(kty, "OKP")));
			if (!match)
				diag_add(r, DIAG_FAIL, "jws.alg", target, "%s: alg %s does not match the %s key", q->where,
				         alg, kty ? kty : "untyped");
		}
		/* kid / jwk by endpoint */
		if (kid && jwk) {
			f = diag_add(r, DIAG_FAIL, "jws.kid", target, "%s: jwk and kid header fields are mutually exclusive",
			             q->where);
			diag_set_hint(f, "Send jwk only on newAccount (and revokeCert by certificate key, the "
			              "inner JWS of keyChange); kid everywhere else.");
		} else if (!kid && !jwk) {
			diag_add(r, DIAG_FAIL, "jws.kid", target, "%s: neither kid nor jwk in the protected header",
			         q->where);
		} else if (ep == EP_NEW_ACCOUNT && kid) {
			diag_add(r, DIAG_FAIL, "jws.kid", target, "%s: No embedded JWK in JWS header (newAccount "
			         "must be signed with jwk)", q->where);
		} else if (jwk && ep != EP_NEW_ACCOUNT && ep != EP_REVOKE && ep != EP_UNKNOWN) {
			f = diag_add(r, DIAG_FAIL, "jws.kid", target, "%s: No Key ID in JWS header: %s signed with "
			             "an embedded jwk instead of the account's kid", q->where, ep_name(ep));
			diag_set_hint(f, "After registering, every request except newAccount must carry the "
			              "account URL as kid (RFC 8555 6.2). Strict servers (Boulder, EAB-only "
			              "PKIs) reject this; upgrade the client (cert-manager has shipped this bug).");
		} else if (jwk && ep == EP_UNKNOWN) {
			diag_add(r, DIAG_WARN, "jws.kid", target, "%s: signed with jwk at an endpoint that could not "
			         "be identified; only newAccount and revokeCert take jwk (give --directory)", q->where);
		} else if (kid && o->directory && !same_origin(kid, json_string_value(json_object_get(o->directory, "newAccount")))) {
			f = diag_add(r, DIAG_FAIL, "jws.kid", target, "%s: KeyID header contained an invalid account "
			             "URL: \"%.200s\" is not on this server", q->where, kid);
			diag_set_hint(f, "The client signs with an account of another server (staging vs production, "
			              "an old CA URL): re-register or fix the stored account URL.");
		} else if (kid && !o->directory && !looks_like_account_url(kid)) {
			diag_add(r, DIAG_WARN, "jws.kid", target, "%s: kid \"%.200s\" does not look like an account URL",
			         q->where, kid);
		}
		/* keyChange: the payload is itself a JWS, signed by the new key with jwk */
		if (ep == EP_KEY_CHANGE && payload) {
			const char *ip64 = json_string_value(json_object_get(payload, "protected"));
			json_t *inner = ip64 ? b64_json(ip64, NULL, NULL) : NULL;
			const char *iurl = json_string_value(json_object_get(inner, "url"));
			if (!json_is_object(inner))
				diag_add(r, DIAG_FAIL, "jws.keychange", target, "%s: keyChange payload is not a JWS", q->where);
			else if (!json_is_object(json_object_get(inner, "jwk")) || json_object_get(inner, "kid"))
				diag_add(r, DIAG_FAIL, "jws.keychange", target, "%s: keyChange inner JWS must carry the new "
				         "key as jwk, and no kid", q->where);
			else if (!iurl || !hurl || strcmp(iurl, hurl))
				diag_add(r, DIAG_FAIL, "jws.keychange", target, "%s: keyChange inner JWS url must equal the "
				         "outer url", q->where);
			json_decref(inner);
		}
		/* nonce (keyChange's inner JWS has none; it is not a request of its own) */
		if (!nonce || !*nonce) {
			diag_add(r, DIAG_FAIL, "jws.nonce", target, "%s: JWS has no anti-replay nonce (badNonce)", q->where);
		} else {
			for (size_t k = 0; k < nseen; k++)
				if (!strcmp(seen[k].nonce, nonce)) {
					f = diag_add(r, DIAG_FAIL, "jws.nonce", target, "%s: nonce already used by request #%zu "
					             "(the CA answers badNonce)", q->where, seen[k].index + 1);
					diag_set_hint(f, "Each nonce is good for one request: take the Replay-Nonce of the "
					              "last response (or HEAD newNonce).");
					break;
				}
			if ((seen[nseen].nonce = strdup(nonce)))
				seen[nseen++].index = i;
		}
		/* url */
		if (!hurl) {
			diag_add(r, DIAG_FAIL, "jws.url", target, "%s: JWS header parameter 'url' required", q->where);
		} else if (q->url && strcmp(hurl, q->url)) {
			diag_add(r, DIAG_FAIL, "jws.url", target, "%s: JWS header parameter 'url' incorrect. Expected "
			         "\"%.300s\" got \"%.300s\"", q->where, q->url, hurl);
		}
		/* payload */
		if (b64 && *b64 && !payload) {
			diag_add(r, DIAG_FAIL, "jws.payload", target, "%s: Request payload did not parse as JSON",
			         q->where);
		}
		/* Content-Type */
		if (q->content_type && strncasecmp(q->content_type, "application/jose+json", 21)) {
			diag_add(r, DIAG_FAIL, "jws.content-type", target, "%s: Invalid Content-Type header on POST. "
			         "Content-Type must be \"application/jose+json\" (got \"%.80s\")", q->where,
			         q->content_type[0] ? q->content_type : "none");
		}
		/* signature */
		if (alg_ok && s64) {
			EVP_PKEY *pk = json_is_object(jwk) ? acme_jwk_public(jwk) : NULL;
			EVP_PKEY *use = pk ? pk : (kid && o->key ? o->key->pkey : NULL);
			input = diag_asprintf("%s.%s", p64, b64);
			int v = use && input ? verify(use, alg, input, s64) : -1;
			if (v == 0) {
				f = diag_add(r, DIAG_FAIL, "jws.signature", target, "%s: JWS verification error: the "
				             "signature does not verify with %s", q->where, pk ? "the embedded jwk"
				             : "--account-key");
				diag_set_hint(f, "%s", pk ? "The body was changed after signing, or signed with another key."
				              : "This request was signed with another key than --account-key: the "
				                "client uses a different key for this kid.");
			} else if (json_is_object(jwk) && !pk) {
				diag_add(r, DIAG_FAIL, "jws.signature", target, "%s: the embedded jwk is not a usable public key",
				         q->where);
			}
			EVP_PKEY_free(pk);
		}
	next:
		if (r->n == before) {
			clean++;
			f = diag_add(r, DIAG_OK, "jws.request", target, "%s: %s, %s, nonce and url present%s", q->where,
			             alg, kid ? "kid" : "jwk", (json_is_object(jwk) || o->key) ? ", signature verifies" : "");
		}
		json_decref(jws);
		json_decref(prot);
		json_decref(payload);
		free(payload_raw);
		free(input);
	}
	struct diag_finding *f = diag_add(r, clean == cap->n ? DIAG_OK : DIAG_FAIL, "jws.summary", cap->format,
	                                  "%zu of %zu requests clean; %zu unreadable part%s skipped", clean, cap->n,
	                                  cap->skipped, cap->skipped == 1 ? "" : "s");
	if (cap->skipped)
		f->status = f->status == DIAG_OK ? DIAG_WARN : f->status;
	diag_evidence(f, "format", json_string(cap->format));
	for (size_t k = 0; k < nseen; k++)
		free(seen[k].nonce);
	free(seen);
	return 0;
}
