/* SPDX-License-Identifier: ISC */
/*
 * http01.c - HTTP-01 as the CA fetches it, every address on its own.
 *
 * A probe on the diag loop in three steps, each started by the callback
 * that ends the one before: A and AAAA asked of every resolver at once
 * (ask_addresses, addresses_known); every address fetched at once
 * (start_probes): GET /.well-known/acme-challenge/<token> pinned to that
 * address (CURLOPT_RESOLVE), redirects followed by hand under the CA's
 * policy (redirect hosts resolved on the same engine), the outcome worded
 * as the CA words it; then the judgment (judge): which address the CA would
 * use under the profile, and what it would see. Counters with a guard of
 * one tell when a step is over, since a shared engine may answer before
 * dns_ask returns.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "diag/http01.h"
#include "diag/keyauth.h"
#include "httputil.h"

#define NAMELEN 256
#define MAX_HOPS (HTTP01_MAX_REDIRECTS + 2)
#define KEEP_BODY 512  /* bytes of a non-200 body kept for the report */

int diag_http01_profile_parse(const char *s, enum http01_profile *out)
{
	if (!strcmp(s, "letsencrypt"))
		*out = HTTP01_LETSENCRYPT;
	else if (!strcmp(s, "pebble"))
		*out = HTTP01_PEBBLE;
	else if (!strcmp(s, "rfc8555"))
		*out = HTTP01_RFC8555;
	else
		return -1;
	return 0;
}

const char *diag_http01_profile_name(enum http01_profile p)
{
	switch (p) {
	case HTTP01_LETSENCRYPT: return "letsencrypt";
	case HTTP01_PEBBLE: return "pebble";
	case HTTP01_RFC8555: return "rfc8555";
	}
	return "letsencrypt";
}

/* Trailing space as Go's unicode.IsSpace sees it, in UTF-8: returns the
 * length of a space sequence ending at s[len-1], 0 if none. */
static size_t trailing_space(const unsigned char *s, size_t len)
{
	if (len == 0)
		return 0;
	unsigned char c = s[len - 1];
	if (c == ' ' || (c >= '\t' && c <= '\r'))
		return 1;
	if (len >= 2 && s[len - 2] == 0xc2 && (c == 0x85 || c == 0xa0))
		return 2;
	if (len >= 3) {
		unsigned a = s[len - 3], b = s[len - 2];
		if (a == 0xe1 && b == 0x9a && c == 0x80) return 3;                 /* U+1680 */
		if (a == 0xe2 && b == 0x80 && (c <= 0x8a || c == 0xa8 || c == 0xa9 || c == 0xaf))
			return 3;                                                   /* U+2000-200A, 2028, 2029, 202F */
		if (a == 0xe2 && b == 0x81 && c == 0x9f) return 3;                 /* U+205F */
		if (a == 0xe3 && b == 0x80 && c == 0x80) return 3;                 /* U+3000 */
	}
	return 0;
}

int diag_http01_body_matches(const char *body, size_t len, const char *ka,
                             enum http01_profile p)
{
	const unsigned char *b = (const unsigned char *)body;
	if (p == HTTP01_PEBBLE) {
		while (len && (b[len - 1] == '\n' || b[len - 1] == '\r' || b[len - 1] == '\t'))
			len--;
	} else {
		size_t n;
		while ((n = trailing_space(b, len)))
			len -= n;
	}
	return strlen(ka) == len && memcmp(body, ka, len) == 0;
}

struct range {
	int family;
	const char *prefix;
	int bits;
	const char *name;
};

static const struct range reserved[] = {
	{AF_INET, "0.0.0.0", 8, "\"this network\" (RFC 791)"},
	{AF_INET, "10.0.0.0", 8, "private (RFC 1918)"},
	{AF_INET, "100.64.0.0", 10, "shared CGNAT space (RFC 6598)"},
	{AF_INET, "127.0.0.0", 8, "loopback (RFC 1122)"},
	{AF_INET, "169.254.0.0", 16, "link-local (RFC 3927)"},
	{AF_INET, "172.16.0.0", 12, "private (RFC 1918)"},
	{AF_INET, "192.0.0.0", 24, "IETF protocol assignments (RFC 6890)"},
	{AF_INET, "192.0.2.0", 24, "documentation (RFC 5737)"},
	{AF_INET, "192.88.99.0", 24, "6to4 relay anycast (RFC 7526)"},
	{AF_INET, "192.168.0.0", 16, "private (RFC 1918)"},
	{AF_INET, "198.18.0.0", 15, "benchmarking (RFC 2544)"},
	{AF_INET, "198.51.100.0", 24, "documentation (RFC 5737)"},
	{AF_INET, "203.0.113.0", 24, "documentation (RFC 5737)"},
	{AF_INET, "224.0.0.0", 4, "multicast (RFC 5771)"},
	{AF_INET, "240.0.0.0", 4, "reserved (RFC 1112)"},
	{AF_INET6, "::", 128, "unspecified (RFC 4291)"},
	{AF_INET6, "::1", 128, "loopback (RFC 4291)"},
	{AF_INET6, "::ffff:0:0", 96, "IPv4-mapped (RFC 4291)"},
	{AF_INET6, "64:ff9b::", 96, "IPv4/IPv6 translation (RFC 6052)"},
	{AF_INET6, "100::", 64, "discard-only (RFC 6666)"},
	{AF_INET6, "2001::", 23, "IETF protocol assignments (RFC 2928)"},
	{AF_INET6, "2001:db8::", 32, "documentation (RFC 3849)"},
	{AF_INET6, "2002::", 16, "6to4 (RFC 3056)"},
	{AF_INET6, "fc00::", 7, "unique local (RFC 4193)"},
	{AF_INET6, "fe80::", 10, "link-local (RFC 4291)"},
	{AF_INET6, "ff00::", 8, "multicast (RFC 4291)"},
};

static int prefix_match(const unsigned char *a, const unsigned char *p, int bits)
{
	int full = bits / 8, rest = bits % 8;
	if (memcmp(a, p, (size_t)full))
		return 0;
	if (!rest)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (p[full] & mask);
}

int diag_ip_reserved(const char *ip, const char **why)
{
	unsigned char a[16], p[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, ip, a) != 1)
		return 0;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (reserved[i].family != fam)
			continue;
		inet_pton(fam, reserved[i].prefix, p);
		if (prefix_match(a, p, reserved[i].bits)) {
			if (why)
				*why = reserved[i].name;
			return 1;
		}
	}
	return 0;
}

/* ---- one address: a chain of requests pinned to it ---- */

enum outcome {
	OUT_PENDING = 0,
	OUT_OK,            /* 200 and the body matches (or is not compared) */
	OUT_STATUS,        /* final status other than 200 */
	OUT_MISMATCH,      /* 200, wrong key authorization */
	OUT_BODY_BIG,      /* 200 with a body of 128 bytes or more */
	OUT_REFUSED,       /* connect stage: fallback-eligible from here ... */
	OUT_UNREACH,
	OUT_CONNECT_TIMEOUT, /* ... to here */
	OUT_TIMEOUT_AFTER,
	OUT_RESET,
	OUT_TLS,
	OUT_HTTP_ON_TLS,
	OUT_H2,
	OUT_REDIRECT,      /* redirect policy */
	OUT_DNS,           /* a redirect host did not resolve */
	OUT_OTHER,
	OUT_INTERNAL,      /* our side: out of memory, curl could not start */
	OUT_CA_SLOW,       /* answered, but after the CA would have given up */
};

static int connect_stage(enum outcome o)
{
	return o == OUT_REFUSED || o == OUT_UNREACH || o == OUT_CONNECT_TIMEOUT;
}

struct hop {
	char *url;
	char host[NAMELEN];
	uint16_t port;
	int https;
	char ip[48];
	long status;
	char *location;
	int64_t connect_ms, tls_ms, first_byte_ms, total_ms;
	char tls_version[16];
};

/* Addresses of one family, in the order of the answer. */
struct addr_list {
	char (*v)[48];
	size_t n, cap;
};

struct http01_ctx;

struct addr_probe {
	struct http01_ctx *c;
	char ip[48];
	int family;
	struct hop hops[MAX_HOPS];
	size_t nhops;
	char body[KEEP_BODY + 1];
	size_t bodylen;
	size_t body_seen;
	int aborted_body;
	char server[128];
	CURL *easy;
	struct curl_slist *resolve, *headers;
	char errbuf[CURL_ERROR_SIZE];
	enum outcome out;
	char *why;              /* the outcome in the CA's words; NULL: out of memory */
	int near_limit;         /* answered in time, but close to the CA's limit */
	int undecided;          /* our wait (--timeout) ended before the CA's would */
	const char *from_here;  /* IPv6 cannot be reached from this host: why (not the CA's view) */
	struct dns_q *qa, *q6;  /* lookups of a redirect host (the engine's) */
	size_t dns_pending;
};

/* A resolver asked for the domain's addresses. */
struct http01_resolver {
	struct diag_server srv;
	struct dns_q *qa, *q6;  /* the engine's; NULL when not asked (-4, -6) */
};

/* The probe's handle. */
struct http01_ctx {
	struct diag_probe head;       /* first member (probe.h) */
	struct http01_opts o;         /* a copy: its strings are the ones below, ns NULL */
	char *domain, *token_arg, *ka;
	struct dns_engine *eng;
	int own_engine;
	struct http01_resolver *res;
	size_t nres;
	size_t dns_pending;           /* address lookups still due */
	int dns_oom;
	const struct http01_resolver *used_res;  /* the first that answered */
	struct addr_list v4, v6;      /* every address used_res gave */
	size_t n4, n6;                /* how many of them are probed */
	char *token;                  /* the one fetched (given or random) */
	char *path;                   /* /.well-known/acme-challenge/<token> */
	uint16_t port;
	int timeout_ms;
	struct addr_probe *probes;    /* IPv6 first, as the CA prefers it */
	size_t nprobes;
	size_t probes_left;           /* address probes not finished yet */
	/* the CA's choice, once every address is probed */
	struct addr_probe *used, *first6, *first4;
	int fallback;
};

static void judge(struct http01_ctx *c);

static const char *probe_why(const struct addr_probe *p)
{
	return p->why ? p->why : "out of memory";
}

/* An address is done once: the outcome and its words, then, when it was
 * the last, the judgment. */
static void probe_finish(struct addr_probe *p, enum outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void probe_finish(struct addr_probe *p, enum outcome o, const char *fmt, ...)
{
	if (p->out != OUT_PENDING)
		return;
	va_list ap;
	va_start(ap, fmt);
	p->why = diag_vasprintf(fmt, ap);
	va_end(ap);
	p->out = p->why ? o : OUT_INTERNAL;
	struct http01_ctx *c = p->c;
	if (--c->probes_left == 0)
		judge(c);
}

/* The first max bytes of the body, cut on a character boundary, as text
 * (bytes that are not UTF-8, and NULs, as \xNN). malloc'd, NULL when out
 * of memory. */
static char *body_text(const struct addr_probe *p, size_t max)
{
	return diag_utf8_clean(p->body, diag_utf8_cut(p->body, p->bodylen, max));
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct addr_probe *p = arg;
	size_t len = size * n;
	long code = 0;
	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 300 && code < 400)
		return len;  /* redirect bodies are discarded */
	if (p->bodylen < KEEP_BODY) {
		size_t take = len < KEEP_BODY - p->bodylen ? len : KEEP_BODY - p->bodylen;
		memcpy(p->body + p->bodylen, data, take);
		p->bodylen += take;
		p->body[p->bodylen] = '\0';
	}
	p->body_seen += len;
	/* The CA reads at most 128 bytes: anything longer is refused, so stop
	 * reading there (an endless body costs nothing). Keep a little more
	 * of error pages for the report. */
	if ((code == 200 && p->body_seen >= HTTP01_MAX_BODY) || p->body_seen >= KEEP_BODY) {
		p->aborted_body = 1;
		return 0;
	}
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct addr_probe *p = arg;
	size_t len = size * n;
	diag_http_header(data, len, "Server", p->server, sizeof(p->server));
	return len;
}

static void hop_done(void *arg, CURL *easy, CURLcode res);

static const char *user_agent(enum http01_profile p)
{
	return p == HTTP01_PEBBLE ? "LetsEncrypt-Pebble-VA (linux; acme-diag)"
	                          : "Mozilla/5.0 (compatible; acme-diag emulating Let's Encrypt validation server)";
}

/* The request of hop h as the CA sends it; the first error, or CURLE_OK. */
static CURLcode hop_setopts(struct addr_probe *p, const struct hop *h)
{
	CURL *e = p->easy;
	CURLcode rc = CURLE_OK;
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, h->url);
	SET(CURLOPT_RESOLVE, p->resolve);
	SET(CURLOPT_HTTPHEADER, p->headers);
	SET(CURLOPT_USERAGENT, user_agent(p->c->o.profile));
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_HTTP09_ALLOWED, 1L);  /* to see what a non-HTTP/1 server sends */
	SET(CURLOPT_ACCEPT_ENCODING, "gzip");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)p->c->timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, (long)p->c->timeout_ms * 2);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_SSL_VERIFYPEER, 0L);  /* the CA does not verify either */
	SET(CURLOPT_SSL_VERIFYHOST, 0L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, p);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, p);
	SET(CURLOPT_ERRORBUFFER, p->errbuf);
	SET(CURLOPT_IPRESOLVE, strchr(h->ip, ':') ? (long)CURL_IPRESOLVE_V6 : (long)CURL_IPRESOLVE_V4);
#undef SET
	return rc;
}

/* Start the request of the last hop, pinned to hop->ip. */
static void hop_start(struct addr_probe *p)
{
	struct hop *h = &p->hops[p->nhops - 1];
	p->bodylen = 0;
	p->body_seen = 0;
	p->aborted_body = 0;
	p->body[0] = '\0';
	p->server[0] = '\0';
	p->errbuf[0] = '\0';
	curl_slist_free_all(p->resolve);
	char pin[NAMELEN + 80];
	snprintf(pin, sizeof(pin), strchr(h->ip, ':') ? "%s:%u:[%s]" : "%s:%u:%s", h->host,
	         h->port, h->ip);
	p->resolve = curl_slist_append(NULL, pin);
	if (!p->resolve) {
		probe_finish(p, OUT_INTERNAL, "%s: cannot set up the request (out of memory)", h->ip);
		return;
	}
	curl_easy_reset(p->easy);
	CURLcode rc = hop_setopts(p, h);
	if (rc != CURLE_OK)
		probe_finish(p, OUT_INTERNAL, "%s: cannot set up the request (%s)", h->ip,
		             curl_easy_strerror(rc));
	else if (diag_loop_add_curl(p->c->head.loop, p->easy, hop_done, p))
		probe_finish(p, OUT_INTERNAL, "%s: cannot start the request (out of memory)", h->ip);
}

static struct hop *hop_new(struct addr_probe *p, const char *url)
{
	struct hop *h = &p->hops[p->nhops++];
	memset(h, 0, sizeof(*h));
	h->url = diag_strdup(url);
	return h;
}

static int is_ip_literal(const char *host)
{
	unsigned char b[16];
	return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/* Bytes of s to show in a summary: at most max, cut on a character boundary. */
static int shown(const char *s, size_t max)
{
	return (int)diag_utf8_cut(s, strlen(s), max);
}

/* Copy host (curl keeps brackets around IPv6 literals) into next->host,
 * lowercased. Returns 0, or -1 when it is too long. */
static int set_redirect_host(struct hop *next, const char *host)
{
	size_t hl = strlen(host);
	if (host[0] == '[' && hl > 2) {
		host++;
		hl -= 2;
	}
	if (hl >= NAMELEN)
		return -1;
	memcpy(next->host, host, hl);
	next->host[hl] = '\0';
	for (char *x = next->host; *x; x++)
		*x = (char)(*x >= 'A' && *x <= 'Z' ? *x + 32 : *x);
	return 0;
}

/*
 * Parse the redirect target next->url under the CA's scheme, port and host
 * rules; set next's scheme, port and host. Returns 0, or -1 when the probe
 * is finished.
 */
static int redirect_target(struct addr_probe *p, struct hop *next)
{
	int boulder = p->c->o.profile != HTTP01_PEBBLE;
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int ret = -1;
	if (!u) {
		probe_finish(p, OUT_INTERNAL, "cannot parse the redirect target (out of memory)");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, next->url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		probe_finish(p, OUT_REDIRECT, "Invalid redirect target \"%.*s\"", shown(next->url, 200),
		             next->url);
		goto out;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	if (!scheme || (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))) {
		probe_finish(p, OUT_REDIRECT, "Invalid protocol scheme in redirect target. Only \"http\" "
		             "and \"https\" protocol schemes are supported, not \"%s\"", scheme ? scheme : "");
		goto out;
	}
	next->https = !strcasecmp(scheme, "https");
	long portnum = next->https ? 443 : 80;
	if (port) {
		portnum = strtol(port, NULL, 10);
		if (boulder && portnum != 80 && portnum != 443) {
			probe_finish(p, OUT_REDIRECT, "Invalid port in redirect target. Only ports 80 and 443 "
			             "are supported, not %ld", portnum);
			goto out;
		}
	}
	next->port = (uint16_t)portnum;
	if (!host || !*host) {
		probe_finish(p, OUT_REDIRECT, "Invalid empty host in redirect target");
		goto out;
	}
	if (set_redirect_host(next, host)) {
		probe_finish(p, OUT_REDIRECT, "Invalid host in redirect target: too long");
		goto out;
	}
	size_t hl = strlen(next->host);
	if (boulder && hl >= 11 && !strcmp(next->host + hl - 11, ".well-known")) {
		probe_finish(p, OUT_REDIRECT, "Invalid host in redirect target \"%s\". Check webserver "
		             "config for missing '/' in redirect target.", next->host);
		goto out;
	}
	if (boulder && path && strlen(path) > HTTP01_MAX_URL) {
		probe_finish(p, OUT_REDIRECT, "Redirect target too long");
		goto out;
	}
	ret = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return ret;
}

/*
 * Apply the CA's redirect policy to the Location of hop h; on success set
 * up the next hop (host, port, scheme) and return 0, else finish the probe
 * and return -1.
 */
static int redirect_policy(struct addr_probe *p, const struct hop *h, struct hop *next)
{
	int boulder = p->c->o.profile != HTTP01_PEBBLE;
	int strict_names = p->c->o.profile == HTTP01_LETSENCRYPT;
	if (boulder && h->status != 301 && h->status != 302 && h->status != 307 && h->status != 308) {
		probe_finish(p, OUT_REDIRECT, "received disallowed redirect status code %ld", h->status);
		return -1;
	}
	/* Redirects already followed before this one: Boulder refuses when
	 * that exceeds 10 (so the 12th fails); Go's default client, which
	 * Pebble uses, stops at the 10th. */
	size_t followed = p->nhops - 2;
	if (!boulder && followed + 1 >= 10) {
		probe_finish(p, OUT_REDIRECT, "stopped after 10 redirects");
		return -1;
	}
	if (redirect_target(p, next))
		return -1;
	if (strchr(next->host, '%')) {
		probe_finish(p, OUT_REDIRECT, "Invalid host in redirect target: contains scope zone");
		return -1;
	}
	const char *why = NULL;
	if (is_ip_literal(next->host)) {
		if (strict_names && diag_ip_reserved(next->host, &why)) {
			probe_finish(p, OUT_REDIRECT, "Invalid host in redirect target: %s is %s",
			             next->host, why);
			return -1;
		}
	} else if (strict_names && !diag_public_tld(next->host)) {
		probe_finish(p, OUT_REDIRECT, "Invalid host in redirect target, must end in IANA "
		             "registered TLD (\"%s\")", next->host);
		return -1;
	}
	for (size_t i = 0; boulder && i + 1 < p->nhops; i++)
		if (!strcmp(p->hops[i].url, next->url)) {
			probe_finish(p, OUT_REDIRECT, "Redirect loop detected");
			return -1;
		}
	return 0;
}

/* ---- addresses from DNS answers ---- */

static int addr_list_push(struct addr_list *l, const char *ip)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		void *v = realloc(l->v, cap * sizeof(*l->v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], sizeof(l->v[0]), "%s", ip);
	return 0;
}

/* Append every address of type t in q's answer (none when q has no reply)
 * to list, in the answer's order. 0, or -1 when out of memory. */
static int answer_addrs(const struct dns_q *q, ldns_rr_type t, struct addr_list *list)
{
	ldns_rr_list *l = dns_q_answer(q, t, NULL);
	int ret = 0;
	for (size_t i = 0; l && !ret && i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (!ldns_rr_rd_count(rr))
			continue;
		char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		if (!s || addr_list_push(list, s))
			ret = -1;
		free(s);
	}
	ldns_rr_list_deep_free(l);
	return ret;
}

static int addr_list_has(const struct addr_list *l, const char *ip)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], ip))
			return 1;
	return 0;
}

/* The same addresses, in any order? */
static int same_addresses(const struct addr_list *a, const struct addr_list *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (!addr_list_has(b, a->v[i]) || !addr_list_has(a, b->v[i]))
			return 0;
	return 1;
}

/* The first address of type t in q's answer, into out; 1 if there is one. */
static int first_address(const struct dns_q *q, ldns_rr_type t, char *out, size_t len)
{
	struct addr_list l = {0};
	int ok = answer_addrs(q, t, &l) == 0 && l.n > 0;
	if (ok)
		snprintf(out, len, "%s", l.v[0]);
	free(l.v);
	return ok;
}

/* Ask srv for name's records of type t with cb(arg); *pending counts the
 * answers still due (cb may run before this returns). NULL when out of
 * memory (then cb never runs). */
static struct dns_q *ask_counted(struct http01_ctx *c, const struct diag_server *srv,
                                 const char *name, ldns_rr_type t, dns_ask_cb cb, void *arg,
                                 size_t *pending)
{
	(*pending)++;
	struct dns_q *q = dns_ask(c->eng, srv, name, t, LDNS_RR_CLASS_IN, DNS_Q_RD, cb, arg);
	if (!q)
		(*pending)--;
	return q;
}

/* ---- redirects ---- */

static void redirect_resolved(struct addr_probe *p)
{
	struct hop *h = &p->hops[p->nhops - 1];
	int fam = p->c->o.family;
	if ((fam != 4 && first_address(p->q6, LDNS_RR_TYPE_AAAA, h->ip, sizeof(h->ip))) ||
	    (fam != 6 && first_address(p->qa, LDNS_RR_TYPE_A, h->ip, sizeof(h->ip)))) {
		const char *why;
		if (p->c->o.profile == HTTP01_LETSENCRYPT && diag_ip_reserved(h->ip, &why)) {
			probe_finish(p, OUT_REDIRECT, "Invalid host in redirect target: %s resolves to %s, %s",
			             h->host, h->ip, why);
			return;
		}
		hop_start(p);
		return;
	}
	probe_finish(p, OUT_DNS, "DNS problem: no address for redirect host %s (A: %s, AAAA: %s)",
	             h->host, dns_q_rcode(p->qa) >= 0 ? "no record" : dns_status_text(p->qa->status),
	             dns_q_rcode(p->q6) >= 0 ? "no record" : dns_status_text(p->q6->status));
}

static void redirect_answer(void *arg, struct dns_q *q)
{
	(void)q;
	struct addr_probe *p = arg;
	if (--p->dns_pending == 0)
		redirect_resolved(p);
}

/* Look the redirect host up as the CA would: A and AAAA at the resolver
 * whose answer is used. */
static void resolve_redirect(struct addr_probe *p, const char *host)
{
	struct http01_ctx *c = p->c;
	const struct diag_server *srv = &c->used_res->srv;
	p->dns_pending = 1;  /* a guard: answers may come before dns_ask returns */
	p->qa = ask_counted(c, srv, host, LDNS_RR_TYPE_A, redirect_answer, p, &p->dns_pending);
	p->q6 = ask_counted(c, srv, host, LDNS_RR_TYPE_AAAA, redirect_answer, p, &p->dns_pending);
	if (!p->qa || !p->q6) {
		dns_engine_forget(c->eng, p);
		probe_finish(p, OUT_INTERNAL, "DNS problem: cannot look up %s (out of memory)", host);
		return;
	}
	if (--p->dns_pending == 0)
		redirect_resolved(p);
}

static void follow_redirect(struct addr_probe *p, struct hop *h)
{
	if (p->nhops == MAX_HOPS) {
		probe_finish(p, OUT_REDIRECT, "Too many redirects");
		return;
	}
	struct hop *next = hop_new(p, h->location);
	if (!next->url) {
		probe_finish(p, OUT_INTERNAL, "out of memory");
		return;
	}
	if (redirect_policy(p, h, next))
		return;
	/* Same host: stay on the address under test, so each address is judged
	 * on its own. Another host: resolve it as the CA would. */
	if (!strcmp(next->host, p->hops[0].host)) {
		snprintf(next->ip, sizeof(next->ip), "%s", p->ip);
		hop_start(p);
	} else if (is_ip_literal(next->host)) {
		char lit[sizeof(next->ip)];
		snprintf(lit, sizeof(lit), "%s", next->host);
		memcpy(next->ip, lit, sizeof(lit));
		hop_start(p);
	} else {
		resolve_redirect(p, next->host);
	}
}

/* ---- what a request gave ---- */

/* Does the body look like HTTP/2 frames (a SETTINGS or GOAWAY frame)? */
static int looks_h2(const char *b, size_t n)
{
	return n >= 9 && (b[3] == 0x04 || b[3] == 0x07) && b[0] == 0;
}

static void hop_timings(struct hop *h, CURL *easy)
{
	curl_off_t t;
	if (curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK)
		h->connect_ms = t / 1000;
	if (curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &t) == CURLE_OK)
		h->tls_ms = t / 1000;
	if (curl_easy_getinfo(easy, CURLINFO_STARTTRANSFER_TIME_T, &t) == CURLE_OK)
		h->first_byte_ms = t / 1000;
	if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &t) == CURLE_OK)
		h->total_ms = t / 1000;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &h->status);
}

/* A transfer that failed, in the CA's words. */
static void transfer_error(struct addr_probe *p, const struct hop *h, CURLcode res, long oserr,
                           const char *prefix)
{
	const char *eb = p->errbuf;
	if (res == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED)
		probe_finish(p, OUT_REFUSED, "%s: Connection refused", prefix);
	else if (res == CURLE_COULDNT_CONNECT && (oserr == ENETUNREACH || oserr == EHOSTUNREACH))
		probe_finish(p, OUT_UNREACH, "%s: Network unreachable", prefix);
	else if (res == CURLE_OPERATION_TIMEDOUT &&
	         (h->connect_ms == 0 || strstr(eb, "Connection timed out")) &&
	         !strstr(eb, "Operation timed out"))
		probe_finish(p, OUT_CONNECT_TIMEOUT, "%s: Timeout during connect (likely firewall problem)", prefix);
	else if (res == CURLE_OPERATION_TIMEDOUT)
		probe_finish(p, OUT_TIMEOUT_AFTER, "%s: Timeout after connect (your server may be slow or overloaded)", prefix);
	else if (res == CURLE_COULDNT_CONNECT)
		probe_finish(p, OUT_UNREACH, "%s: %s", prefix, eb[0] ? eb : "could not connect");
	else if ((res == CURLE_RECV_ERROR || res == CURLE_SEND_ERROR) && oserr == ECONNRESET)
		probe_finish(p, OUT_RESET, "%s: Connection reset by peer", prefix);
	else if (res == CURLE_GOT_NOTHING)
		probe_finish(p, OUT_RESET, "%s: Connection closed without a response (EOF)", prefix);
	else if (res == CURLE_SSL_CONNECT_ERROR && h->https &&
	         (strstr(eb, "wrong version number") || strstr(eb, "packet length too long")))
		probe_finish(p, OUT_HTTP_ON_TLS, "%s: Server only speaks HTTP, not TLS", prefix);
	else if (res == CURLE_SSL_CONNECT_ERROR && h->https && p->nhops > 1 &&
	         (strstr(eb, "protocol version") || strstr(eb, "unsupported protocol") ||
	          strstr(eb, "no protocols available")))
		probe_finish(p, OUT_TLS, "%s: validation attempt was redirected to an HTTPS server that "
		             "doesn't support TLSv1.2 or better. See https://community.letsencrypt.org/t/"
		             "rejecting-sha-1-csrs-and-validation-using-tls-1-0-1-1-urls/175144", prefix);
	else if (res == CURLE_SSL_CONNECT_ERROR || res == CURLE_PEER_FAILED_VERIFICATION)
		probe_finish(p, OUT_TLS, "%s: TLS error: %s", prefix, eb);
	else if (res == CURLE_OUT_OF_MEMORY || res == CURLE_FAILED_INIT)
		probe_finish(p, OUT_INTERNAL, "%s: the request could not run (%s)", prefix,
		             curl_easy_strerror(res));
	else
		probe_finish(p, OUT_OTHER, "%s: Error getting validation data (%s)", prefix,
		             eb[0] ? eb : curl_easy_strerror(res));
}

/* A 200: the body as the CA reads and compares it. */
static void judge_body(struct addr_probe *p, const struct hop *h)
{
	const struct http01_opts *o = &p->c->o;
	if (o->profile == HTTP01_PEBBLE && p->aborted_body) {
		/* Pebble reads the whole body; we stop at KEEP_BODY bytes, far past
		 * any key authorization. */
		probe_finish(p, OUT_BODY_BIG, "%s: body of %zu bytes or more from %s: no key "
		             "authorization is that long (Pebble would read all of it)", h->ip,
		             p->body_seen, h->url);
		return;
	}
	const char *ka = o->key_authorization;
	char *got = NULL;
	if (p->body_seen >= HTTP01_MAX_BODY && o->profile != HTTP01_PEBBLE) {
		got = body_text(p, 40);
		probe_finish(p, OUT_BODY_BIG, "%s: Invalid response from %s: \"%s\" (body of %zu bytes or "
		             "more; the CA reads at most %d)", h->ip, h->url, got ? got : "", p->body_seen,
		             HTTP01_MAX_BODY - 1);
	} else if (ka && !diag_http01_body_matches(p->body, p->bodylen, ka, o->profile)) {
		got = body_text(p, 100);
		probe_finish(p, OUT_MISMATCH, "The key authorization file from the server did not match "
		             "this challenge. Expected \"%s\" (got \"%s\")", ka, got ? got : "");
	} else {
		probe_finish(p, OUT_OK, "%s: %ld, %zu bytes%s", h->ip, h->status, p->bodylen,
		             ka ? ", key authorization matches" : "");
	}
	free(got);
}

/* A response arrived: a redirect to follow, a status, or a body. */
static void hop_response(struct addr_probe *p, struct hop *h, CURL *easy, const char *prefix)
{
	if (h->status == 0) {
		if (looks_h2(p->body, p->bodylen))
			probe_finish(p, OUT_H2, "%s: Server is speaking HTTP/2 over HTTP", prefix);
		else
			probe_finish(p, OUT_OTHER, "%s: Error getting validation data (malformed HTTP response)", prefix);
		return;
	}
	if (h->status >= 300 && h->status < 400 && h->status != 304 && h->status != 300) {
		char *loc = NULL;
		curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &loc);
		if (!loc) {
			probe_finish(p, OUT_STATUS, "%s: Invalid response from %s: %ld (redirect without Location)",
			             h->ip, h->url, h->status);
			return;
		}
		h->location = strdup(loc);
		if (!h->location) {
			probe_finish(p, OUT_INTERNAL, "out of memory");
			return;
		}
		follow_redirect(p, h);
		return;
	}
	if (h->status != 200) {
		probe_finish(p, OUT_STATUS, "%s: Invalid response from %s: %ld", h->ip, h->url, h->status);
		return;
	}
	judge_body(p, h);
}

static void hop_done(void *arg, CURL *easy, CURLcode res)
{
	struct addr_probe *p = arg;
	struct hop *h = &p->hops[p->nhops - 1];
	hop_timings(h, easy);
	long oserr = 0;
	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &oserr);
	/* "Fetching URL", the URL cut on a character boundary (every hop's
	 * whole URL is in the evidence) */
	char prefix[900];
	snprintf(prefix, sizeof(prefix), "%s: Fetching %.*s%s", h->ip, shown(h->url, 800), h->url,
	         strlen(h->url) > 800 ? "..." : "");
	if (res == CURLE_WRITE_ERROR && p->aborted_body)
		res = CURLE_OK;  /* we stopped reading on purpose */
	if (res != CURLE_OK)
		transfer_error(p, h, res, oserr, prefix);
	else
		hop_response(p, h, easy, prefix);
}
/* ---- local causes: is anything listening here? ---- */

static int ip_is_local(const char *ip)
{
	struct ifaddrs *ifa = NULL;
	int found = 0;
	if (getifaddrs(&ifa))
		return 0;
	for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
		char buf[INET6_ADDRSTRLEN];
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, sizeof(buf));
		else if (i->ifa_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, buf, sizeof(buf));
		else
			continue;
		found = !strcmp(buf, ip);
	}
	freeifaddrs(ifa);
	return found;
}

/* Can this host reach IPv6 at all? Read from the kernel, as the seeds'
 * operators would check it: the sysctl that disables IPv6, a global
 * address, a default route. NULL when it can; else why not. */
static const char *local_ipv6_gap(void)
{
	FILE *f = fopen("/proc/sys/net/ipv6/conf/all/disable_ipv6", "r");
	int off = 0;
	if (f) {
		off = fgetc(f) == '1';
		fclose(f);
	} else if (access("/proc/net/if_inet6", F_OK)) {
		return "IPv6 is not available in this kernel";
	}
	if (off)
		return "IPv6 is disabled on this host (net.ipv6.conf.all.disable_ipv6 = 1)";
	struct ifaddrs *ifa = NULL;
	int global = 0;
	if (!getifaddrs(&ifa)) {
		for (struct ifaddrs *i = ifa; i && !global; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6)
				continue;
			const struct in6_addr *a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			global = !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_LINKLOCAL(a);
		}
		freeifaddrs(ifa);
	}
	if (!global)
		return "this host has no IPv6 address beyond loopback and link-local";
	/* a default route: destination ::/0 in the kernel's table */
	f = fopen("/proc/net/ipv6_route", "r");
	int route = 0;
	char line[256];
	while (f && !route && fgets(line, sizeof(line), f))
		route = !strncmp(line, "00000000000000000000000000000000 00 ", 36);
	if (f)
		fclose(f);
	return route ? NULL : "this host has no IPv6 default route";
}

/* The inode of a socket listening on port at ip or the wildcard, 0 if none. */
static unsigned long listening_inode(const char *ip, uint16_t port)
{
	int v6 = strchr(ip, ':') != NULL;
	unsigned char want[16];
	inet_pton(v6 ? AF_INET6 : AF_INET, ip, want);
	FILE *f = fopen(v6 ? "/proc/net/tcp6" : "/proc/net/tcp", "r");
	if (!f)
		return 0;
	char line[512];
	unsigned long inode = 0;
	int lines = 0;
	while (!inode && fgets(line, sizeof(line), f) && lines++ < 100000) {
		char local[64];
		unsigned lport, st;
		unsigned long ino;
		if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*s %*s %lu",
		           local, &lport, &st, &ino) != 4 || st != 0x0A || lport != port)
			continue;
		unsigned char a[16] = {0};
		size_t n = strlen(local) / 2;
		if (n != (v6 ? 16u : 4u))
			continue;
		/* /proc prints each 32-bit word in host (little-endian) order */
		for (size_t w = 0; w < n / 4; w++)
			for (size_t b = 0; b < 4; b++) {
				unsigned x;
				sscanf(local + w * 8 + b * 2, "%2x", &x);
				a[w * 4 + 3 - b] = (unsigned char)x;
			}
		static const unsigned char zero[16];
		if (!memcmp(a, zero, n) || !memcmp(a, want, n))
			inode = ino;
	}
	fclose(f);
	return inode;
}

/* Which process holds socket inode? Writes "name (pid N)". */
static int socket_owner(unsigned long inode, char *out, size_t len)
{
	DIR *proc = opendir("/proc");
	if (!proc)
		return 0;
	char target[64];
	snprintf(target, sizeof(target), "socket:[%lu]", inode);
	struct dirent *d;
	int found = 0, scanned = 0;
	while (!found && (d = readdir(proc)) && scanned < 65536) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		scanned++;
		char path[300];
		snprintf(path, sizeof(path), "/proc/%s/fd", d->d_name);
		DIR *fds = opendir(path);
		if (!fds)
			continue;
		struct dirent *fd;
		int nfd = 0;
		while (!found && (fd = readdir(fds)) && nfd++ < 65536) {
			char link[64], fpath[600];
			snprintf(fpath, sizeof(fpath), "%s/%s", path, fd->d_name);
			ssize_t n = readlink(fpath, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, target))
				continue;
			char comm[64] = "?";
			snprintf(fpath, sizeof(fpath), "/proc/%s/comm", d->d_name);
			FILE *c = fopen(fpath, "r");
			if (c) {
				if (fgets(comm, sizeof(comm), c))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(c);
			}
			snprintf(out, len, "%s (pid %s)", comm, d->d_name);
			found = 1;
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

/* ---- the judgment ---- */

/* The status an address's outcome deserves on its own. */
static enum diag_status outcome_status(const struct http01_ctx *c, const struct addr_probe *p)
{
	if (p->from_here)
		return DIAG_ERROR;  /* not checkable from here: our side */
	int tokenless = !c->o.token;
	int offsite = p->nhops > 1 && strcmp(p->hops[p->nhops - 1].host, p->hops[0].host);
	switch (p->out) {
	case OUT_OK:
		if (tokenless && !c->o.key_authorization)
			return DIAG_WARN;  /* a random token answered 200: a catch-all */
		return (offsite && tokenless) || p->near_limit ? DIAG_WARN : DIAG_OK;
	case OUT_STATUS:
		if (tokenless) {
			long st = p->hops[p->nhops - 1].status;
			/* a login wall or deny rule answers every token alike: the
			 * real one gets it too ("Non-200 status code ... 403") */
			if (st == 401 || st == 403)
				return DIAG_FAIL;
			return st == 404 && !offsite ? DIAG_OK : DIAG_WARN;
		}
		return DIAG_FAIL;
	case OUT_INTERNAL:
	case OUT_PENDING:
		return DIAG_ERROR;  /* not checked: our side */
	case OUT_TIMEOUT_AFTER:
		return p->undecided ? DIAG_ERROR : DIAG_FAIL;
	default:
		return DIAG_FAIL;
	}
}

static const char *outcome_hint(const struct http01_ctx *c, const struct addr_probe *p)
{
	switch (p->out) {
	case OUT_CONNECT_TIMEOUT:
		return p->family == AF_INET6
			? "Nothing answers on this IPv6 address: repair IPv6 routing/firewall for port 80, or "
			  "remove the AAAA record. Client options such as acme.sh --force-ipv4 change only "
			  "the client, not the CA."
			: "Open TCP port 80 to the world (firewall, security group, router port forward); the "
			  "CA validates from several networks.";
	case OUT_REFUSED:
		return "Nothing listens on port 80 at this address: start the web server (or the ACME "
		       "client's standalone listener) or fix the port forward.";
	case OUT_UNREACH:
		return "This address cannot be reached from here: check routing, or remove the DNS record "
		       "that points to it.";
	case OUT_H2:
		return "Serve plain HTTP/1.1 on port 80 (nginx: no 'http2' on the port 80 listen line).";
	case OUT_HTTP_ON_TLS:
		return "The redirect points at https on a port that speaks plain HTTP; fix the redirect "
		       "target or the TLS listener.";
	case OUT_TLS:
		return "An https redirect target must offer TLS 1.2 or later (certificate validity is not "
		       "checked).";
	case OUT_BODY_BIG:
	case OUT_MISMATCH:
		return "Serve exactly the key authorization (token.thumbprint) as the body of "
		       "/.well-known/acme-challenge/<token>; check the webroot the ACME client writes to "
		       "and rewrite rules that serve another page.";
	case OUT_REDIRECT:
		return "Fix the redirect: the CA follows only 301/302/307/308 to http/https on ports 80 "
		       "and 443, to public names, at most 10 times, without loops.";
	case OUT_STATUS: {
		long st = p->hops[p->nhops - 1].status;
		if (c->o.token)
			return "The challenge file is not served here: check the webroot, location blocks and "
			       "rewrites for /.well-known/acme-challenge/, and proxies in front of this address.";
		if (st == 401 || st == 403)
			return "Every challenge file would get this answer (the CA: \"Non-200 status code\"): "
			       "an authentication layer, a deny rule or a login wall covers "
			       "/.well-known/acme-challenge/. Exempt that path (nginx: a location block "
			       "without auth_basic or deny; Apache: Require all granted).";
		if (p->nhops > 1 && strcmp(p->hops[p->nhops - 1].host, p->hops[0].host))
			return "The CA follows this redirect to the other host, so the challenge file must be "
			       "served there (a random token getting 404 there is as expected): make the ACME "
			       "client's file reach that host, or serve /.well-known/acme-challenge/ on this "
			       "name without the redirect.";
		return "A random token should get 404; this status suggests a proxy, a login wall or a "
		       "rewrite that would also hide the real challenge file.";
	}
	case OUT_OK:
		return "Every path answers 200: make sure /.well-known/acme-challenge/ is served from the "
		       "directory the ACME client writes to, not by a catch-all page.";
	case OUT_INTERNAL:
		return "The address was not checked (out of memory, or curl could not start the "
		       "request): run the check again.";
	case OUT_CA_SLOW:
		return "Answer the challenge path at once: it is a small static file. A slow backend, a "
		       "proxy waiting on its upstream, or a rate limiter in front of the server are the "
		       "usual causes.";
	case OUT_TIMEOUT_AFTER:
		if (p->undecided)
			return "The check gave up before the CA would: raise --timeout (the whole fetch is "
			       "allowed twice --timeout) to wait as long as the CA does.";
		return "The server accepted the connection but did not answer in time: a slow backend "
		       "or a proxy waiting on its upstream; the challenge file should be served at once.";
	default:
		return "Check the web server at this address.";
	}
}

static json_t *hops_json(const struct addr_probe *p)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < p->nhops; i++) {
		const struct hop *h = &p->hops[i];
		json_array_append_new(a, json_pack("{s:o, s:s, s:i, s:I, s:I, s:I, s:I, s:o}",
			"url", diag_json_str(h->url ? h->url : ""), "ip", h->ip, "status", (int)h->status,
			"connect_ms", (json_int_t)h->connect_ms, "tls_ms", (json_int_t)h->tls_ms,
			"first_byte_ms", (json_int_t)h->first_byte_ms, "total_ms", (json_int_t)h->total_ms,
			"location", diag_json_str(h->location)));
	}
	return a;
}

/* Which address would the CA use? */
static void choose_address(struct http01_ctx *c)
{
	c->first6 = c->n6 ? &c->probes[0] : NULL;
	c->first4 = c->n4 ? &c->probes[c->n6] : NULL;
	c->used = NULL;
	c->fallback = 0;
	if (c->o.profile == HTTP01_RFC8555)
		return;
	c->used = c->first6 ? c->first6 : c->first4;
	if (c->o.profile == HTTP01_LETSENCRYPT && c->first6 && c->first4 &&
	    connect_stage(c->first6->out)) {
		c->used = c->first4;
		c->fallback = 1;
	}
}

static struct diag_finding *add_addr_summary(struct http01_ctx *c, const struct addr_probe *p,
                                             enum diag_status st, const char *note)
{
	struct diag_report *r = c->head.r;
	if (!c->o.token && p->out == OUT_STATUS && p->hops[p->nhops - 1].status == 404 &&
	    st == DIAG_OK)
		return diag_add(r, st, "http01.addr", p->ip, "%s: 404 for a random probe token%s: the "
		                "expected answer before the client places its file", p->ip,
		                p->nhops > 1 ? " after redirects" : "");
	if (!c->o.token && p->out == OUT_STATUS && p->nhops > 1 &&
	    strcmp(p->hops[p->nhops - 1].host, p->hops[0].host))
		return diag_add(r, st, "http01.addr", p->ip, "%s: the challenge path redirects to another "
		                "host, %s, which answers %ld for a random probe token%s", p->ip,
		                p->hops[p->nhops - 1].host, p->hops[p->nhops - 1].status, note);
	if (!c->o.token && p->out == OUT_OK && st == DIAG_WARN) {
		char *page = body_text(p, 40);
		struct diag_finding *f = diag_add(r, st, "http01.addr", p->ip, "%s: 200 for a random "
		                                  "probe token: a catch-all page answers every path "
		                                  "(\"%s\")", p->ip, page ? page : "");
		free(page);
		return f;
	}
	return diag_add(r, st, "http01.addr", p->ip, "%s%s", probe_why(p), note);
}

/* http01.addr: what one address gave, weighed by whether the CA uses it. */
static void report_addr(struct http01_ctx *c, const struct addr_probe *p)
{
	enum diag_status st = outcome_status(c, p);
	int decisive = c->o.profile == HTTP01_RFC8555 || p == c->used ||
	               (c->fallback && p == c->first6);
	const char *note = "";
	if (c->fallback && p == c->first6 && st == DIAG_FAIL) {
		st = DIAG_WARN;
		note = " (the CA falls back to IPv4 after this connect error, about 10 s later)";
	} else if (!decisive && st == DIAG_FAIL) {
		st = DIAG_WARN;
		note = " (not the address the CA uses today)";
	} else if (p->from_here) {
		note = " (not checkable from here: this host cannot reach IPv6)";
	} else if (p->near_limit) {
		note = " (slow: close to the time the CA waits)";
	} else if (p->undecided) {
		note = " (the CA waits longer: not judged)";
	}
	struct diag_finding *f = add_addr_summary(c, p, st, note);
	if (st != DIAG_OK)
		diag_set_hint(f, "%s", outcome_hint(c, p));
	if (p->out == OUT_STATUS && p->bodylen) {
		char *start = body_text(p, 200);
		diag_set_detail(f, "Body starts: %s", start ? start : "(out of memory)");
		free(start);
	}
	diag_evidence(f, "family", json_string(p->family == AF_INET6 ? "ipv6" : "ipv4"));
	diag_evidence(f, "hops", hops_json(p));
	diag_evidence(f, "server", p->server[0] ? diag_json_str(p->server) : json_null());
	diag_evidence(f, "connect_stage_error", json_boolean(connect_stage(p->out)));
	if (f && p->nhops) {
		f->duration_ms = 0;
		for (size_t k = 0; k < p->nhops; k++)
			f->duration_ms += p->hops[k].total_ms;
	}
}

/* http01.consistency: do the addresses answer alike? */
static void report_consistency(struct http01_ctx *c)
{
	if (c->nprobes < 2)
		return;
	int differ = 0;
	const struct addr_probe *a = &c->probes[0];
	for (size_t i = 1; i < c->nprobes; i++) {
		const struct addr_probe *b = &c->probes[i];
		if (a->out != b->out || a->nhops != b->nhops ||
		    a->hops[a->nhops - 1].status != b->hops[b->nhops - 1].status ||
		    strcmp(a->server, b->server))
			differ = 1;
	}
	if (!differ) {
		diag_add(c->head.r, DIAG_OK, "http01.consistency", c->domain,
		         "all %zu addresses answer alike", c->nprobes);
		return;
	}
	struct diag_finding *f = diag_add(c->head.r, DIAG_WARN, "http01.consistency", c->domain,
	                                  "the %zu addresses answer differently", c->nprobes);
	diag_set_hint(f, "Every A and AAAA address must reach the same web server config; "
	              "an AAAA pointing at another host (an old server, a CDN edge, the "
	              "router) is a common cause.");
}

/* http01.ca under rfc8555: every address may be used. */
static struct diag_finding *report_ca_any(struct http01_ctx *c)
{
	enum diag_status worst = DIAG_OK;
	for (size_t i = 0; i < c->nprobes; i++) {
		enum diag_status st = outcome_status(c, &c->probes[i]);
		if (st > worst)
			worst = st;
	}
	return diag_add(c->head.r, worst, "http01.ca", c->domain,
	                "profile rfc8555: the CA may use any of the %zu addresses: %s", c->nprobes,
	                worst == DIAG_OK ? "all work" : "not all work");
}

/* http01.ca under letsencrypt or pebble: the one address the CA uses. */
static struct diag_finding *report_ca_used(struct http01_ctx *c)
{
	const struct addr_probe *used = c->used;
	enum diag_status st = outcome_status(c, used);
	if (c->fallback && st == DIAG_OK)
		st = DIAG_WARN;
	const char *why = c->fallback ? "the first AAAA failed to connect, so it falls back to the first A"
	                  : used->family == AF_INET6 ? "it tries the first AAAA address first"
	                  : "there is no AAAA address";
	int failed = st >= DIAG_FAIL;
	struct diag_finding *f = diag_add(c->head.r, st, "http01.ca", c->domain,
	                                  "profile %s: the CA uses %s (%s)%s%s",
	                                  diag_http01_profile_name(c->o.profile), used->ip, why,
	                                  failed ? ": " : "", failed ? probe_why(used) : "");
	if (st != DIAG_OK)
		diag_set_hint(f, "%s", c->fallback && st == DIAG_WARN
		              ? "Validation works only thanks to the IPv4 fallback, after a 10 s connect "
		                "timeout; CAs without fallback (Pebble, some private CAs) fail. Repair "
		                "IPv6 or remove the AAAA record."
		              : outcome_hint(c, used));
	diag_evidence(f, "address", json_string(used->ip));
	diag_evidence(f, "fallback", json_boolean(c->fallback));
	if (c->o.profile == HTTP01_PEBBLE && c->first6 && c->first4 && connect_stage(c->first6->out))
		diag_set_detail(f, "Pebble uses only the first address and never falls back to IPv4; "
		                "Let's Encrypt would fall back to %s.", c->first4->ip);
	return f;
}

static void report_local(struct http01_ctx *c)
{
	struct diag_report *r = c->head.r;
	for (size_t i = 0; i < c->nprobes; i++) {
		const struct addr_probe *p = &c->probes[i];
		if (!ip_is_local(p->ip))
			continue;
		unsigned long ino = listening_inode(p->ip, c->port);
		struct diag_finding *f;
		if (!ino) {
			/* only an address the CA uses decides (every one under rfc8555) */
			int decisive = c->o.profile == HTTP01_RFC8555 || p == c->used;
			f = diag_add(r, decisive ? DIAG_FAIL : DIAG_WARN, "http01.local", p->ip,
			             "%s is on this host and nothing listens on port %u%s", p->ip, c->port,
			             decisive ? "" : c->fallback && p == c->first6
			             ? " (the CA falls back to IPv4 after this connect error)"
			             : " (not the address the CA uses today)");
			diag_set_hint(f, "Start the web server, or the ACME client's standalone listener "
			              "(certbot --standalone, lego --http), on port %u.", c->port);
			continue;
		}
		char owner[128];
		if (socket_owner(ino, owner, sizeof(owner))) {
			f = diag_add(r, DIAG_OK, "http01.local", p->ip, "port %u on this host is held by %s",
			             c->port, owner);
			diag_set_detail(f, "If the ACME client runs in standalone mode it cannot bind port %u "
			                "while %s holds it (\"port 80 already in use\"): use the webroot "
			                "method, or stop it during renewal (certbot --pre-hook/--post-hook).",
			                c->port, owner);
			diag_evidence(f, "process", diag_json_str(owner));
		} else {
			f = diag_add(r, DIAG_OK, "http01.local", p->ip,
			             "something listens on port %u on this host (process not visible)", c->port);
		}
		diag_evidence(f, "socket_inode", json_integer((json_int_t)ino));
	}
}

/* How long the CA waits for one whole fetch, redirects included (facts in
 * ../shared/reference/ca-behaviour.md): Pebble's HTTP client has a single
 * 15 s timeout; Boulder's VA fetches within the RA's deadline, 20 s in
 * Boulder's own configuration (Let's Encrypt does not publish its value).
 * rfc8555 sets none. 0: no limit. */
static int64_t ca_fetch_ms(enum http01_profile pr)
{
	return pr == HTTP01_PEBBLE ? 15000 : pr == HTTP01_LETSENCRYPT ? 20000 : 0;
}

static int got_answer(enum outcome o)
{
	return o == OUT_OK || o == OUT_STATUS || o == OUT_MISMATCH || o == OUT_BODY_BIG;
}

/* Weigh each address's time by the CA's limit: an answer later than the
 * CA waits is the CA's timeout; one near it is a warning; our own timeout
 * ending before the CA's decides nothing. */
static void judge_time(struct http01_ctx *c, struct addr_probe *p)
{
	int64_t lim = ca_fetch_ms(c->o.profile), took = 0;
	if (!lim)
		return;
	int64_t slowest_dial = 0;
	for (size_t k = 0; k < p->nhops; k++) {
		took += p->hops[k].total_ms;
		if (p->hops[k].connect_ms > slowest_dial)
			slowest_dial = p->hops[k].connect_ms;
	}
	/* Boulder also gives each dial 10 s (singleDialTimeout) */
	if (c->o.profile == HTTP01_LETSENCRYPT && got_answer(p->out) && slowest_dial > 10000) {
		char *w = diag_asprintf("%s: Fetching %s: Timeout during connect (likely firewall "
		                        "problem): a connect took %.1f s, Let's Encrypt dials for 10 s",
		                        p->ip, p->nhops ? p->hops[0].url : c->domain, slowest_dial / 1000.0);
		if (w) {
			free(p->why);
			p->why = w;
			p->out = OUT_CA_SLOW;
		}
	} else if (got_answer(p->out) && took > lim) {
		char *w = diag_asprintf("%s: Fetching %s: %s: the answer took %.1f s, %s gives up after "
		                        "%lld s", p->ip, p->nhops ? p->hops[0].url : c->domain,
		                        c->o.profile == HTTP01_PEBBLE
		                        ? "context deadline exceeded (Client.Timeout exceeded while "
		                          "awaiting headers)"
		                        : "Timeout after connect (your server may be slow or overloaded)",
		                        took / 1000.0, c->o.profile == HTTP01_PEBBLE ? "Pebble"
		                        : "Let's Encrypt (about)", (long long)(lim / 1000));
		if (w) {
			free(p->why);
			p->why = w;
			p->out = OUT_CA_SLOW;
		}
	} else if (got_answer(p->out) && took > lim * 2 / 3) {
		p->near_limit = 1;
	} else if (p->out == OUT_TIMEOUT_AFTER && (int64_t)c->timeout_ms * 2 < lim) {
		p->undecided = 1;
	}
}

/* Every address is done: what the CA would see. */
/* Seed 002: the name's A is this host, which has no IPv6, and the name
 * has an AAAA. The CA tries the AAAA first; nothing answers there. */
static void report_ipv6_gap(struct http01_ctx *c, const char *gap)
{
	const struct addr_probe *a4 = NULL, *a6 = NULL;
	for (size_t i = 0; i < c->nprobes; i++) {
		const struct addr_probe *p = &c->probes[i];
		if (p->family == AF_INET && !a4 && ip_is_local(p->ip))
			a4 = p;
		if (p->family == AF_INET6 && !a6)
			a6 = p;
	}
	if (!a4 || !a6)
		return;
	int le = c->o.profile == HTTP01_LETSENCRYPT;
	struct diag_finding *f = diag_add(c->head.r, le ? DIAG_WARN : DIAG_FAIL, "http01.ipv6-local",
	                                  c->domain, "%s is this host, and %s, but %s also has an "
	                                  "AAAA (%s): the CA tries it first and %s", a4->ip, gap,
	                                  c->domain, a6->ip, le
	                                  ? "falls back to IPv4 only after a 10 s connect timeout"
	                                  : "fails there (no fallback to IPv4)");
	diag_set_hint(f, "Enable IPv6 on this host (sysctl net.ipv6.conf.all.disable_ipv6=0, an "
	              "address and a route) and have the web server listen on [::]:%u, or remove "
	              "the AAAA record. Client options such as acme.sh --force-ipv4 change only how "
	              "the client connects, not how the CA validates.", c->port);
	diag_evidence(f, "ipv4", json_string(a4->ip));
	diag_evidence(f, "ipv6", json_string(a6->ip));
	diag_evidence(f, "local_ipv6", json_string(gap));
}

static void judge(struct http01_ctx *c)
{
	/* an IPv6 address that fails at connect while this host has no IPv6
	 * says nothing about the CA's view */
	const char *gap = NULL;
	for (size_t i = 0; i < c->nprobes; i++) {
		struct addr_probe *p = &c->probes[i];
		if (p->family != AF_INET6 || !(p->out == OUT_UNREACH || p->out == OUT_CONNECT_TIMEOUT ||
		                                p->out == OUT_OTHER))
			continue;
		if (!gap && !(gap = local_ipv6_gap()))
			break;
		p->from_here = gap;
	}
	for (size_t i = 0; i < c->nprobes; i++)
		judge_time(c, &c->probes[i]);
	choose_address(c);
	for (size_t i = 0; i < c->nprobes; i++)
		report_addr(c, &c->probes[i]);
	report_consistency(c);
	struct diag_finding *f = c->o.profile == HTTP01_RFC8555 ? report_ca_any(c) : report_ca_used(c);
	diag_evidence(f, "profile", json_string(diag_http01_profile_name(c->o.profile)));
	diag_evidence(f, "token", diag_json_str(c->token));
	report_local(c);
	if (gap)
		report_ipv6_gap(c, gap);
	diag_probe_finish(&c->head);
}

/* ---- the addresses, from every resolver at once ---- */

static void random_token(char out[64])
{
	unsigned char b[32];
	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0x5a, sizeof(b));
	diag_b64url(b, sizeof(b), out);
}

/* An error on our side: say so, and stop. */
static void internal_error(struct http01_ctx *c, const char *id, const char *what)
{
	struct diag_finding *f = diag_add(c->head.r, DIAG_ERROR, id, c->domain, "%s", what);
	diag_set_hint(f, "The checks did not finish (out of memory): run them again.");
	diag_probe_finish(&c->head);
}

/* A reply the CA would take as the answer: NOERROR or NXDOMAIN. */
static int answered(const struct dns_q *q)
{
	int rc = dns_q_rcode(q);
	return rc == LDNS_RCODE_NOERROR || rc == LDNS_RCODE_NXDOMAIN;
}

/* Did rs answer every question asked of it? */
static int resolver_answered(const struct http01_resolver *rs)
{
	return (rs->qa || rs->q6) && (!rs->qa || answered(rs->qa)) && (!rs->q6 || answered(rs->q6));
}

/* A query's outcome in words: the rcode of a reply, or why there is none. */
static const char *q_outcome(const struct dns_q *q)
{
	int rc = dns_q_rcode(q);
	if (rc >= 0) {
		const ldns_lookup_table *t = ldns_lookup_by_id(ldns_rcodes, rc);
		return t ? t->name : "unknown rcode";
	}
	return q->errtext ? q->errtext : dns_status_text(q->status);
}

/*
 * What rs did not answer, into buf: "timed out" when every question failed
 * alike, else "AAAA: SERVFAIL" or "A: timed out; AAAA: SERVFAIL". Returns
 * how many questions were not answered.
 */
static int resolver_failure(const struct http01_resolver *rs, char *buf, size_t len)
{
	int fa = rs->qa && !answered(rs->qa), f6 = rs->q6 && !answered(rs->q6);
	int asked = (rs->qa != NULL) + (rs->q6 != NULL);
	buf[0] = '\0';
	if (fa + f6 == asked && (asked == 1 || !strcmp(q_outcome(rs->qa), q_outcome(rs->q6))))
		snprintf(buf, len, "%s", q_outcome(fa ? rs->qa : rs->q6));
	else if (fa && f6)
		snprintf(buf, len, "A: %s; AAAA: %s", q_outcome(rs->qa), q_outcome(rs->q6));
	else if (fa || f6)
		snprintf(buf, len, "%s: %s", fa ? "A" : "AAAA", q_outcome(fa ? rs->qa : rs->q6));
	return fa + f6;
}

/* The resolver whose answer is used: the first (in the order given) that
 * answered every question, else the first that answered one. */
static const struct http01_resolver *choose_resolver(const struct http01_ctx *c)
{
	for (size_t i = 0; i < c->nres; i++)
		if (resolver_answered(&c->res[i]))
			return &c->res[i];
	for (size_t i = 0; i < c->nres; i++)
		if (answered(c->res[i].qa) || answered(c->res[i].q6))
			return &c->res[i];
	return NULL;
}

/* Does rs give other addresses than the resolver used, for a type both
 * answered? 1 yes, 0 no, -1 out of memory; its address counts go to n4, n6. */
static int resolver_differs(const struct http01_ctx *c, const struct http01_resolver *rs,
                            size_t *n4, size_t *n6)
{
	const struct http01_resolver *u = c->used_res;
	struct addr_list l4 = {0}, l6 = {0};
	int differ = -1;
	if (!answer_addrs(rs->qa, LDNS_RR_TYPE_A, &l4) && !answer_addrs(rs->q6, LDNS_RR_TYPE_AAAA, &l6))
		differ = (answered(rs->qa) && answered(u->qa) && !same_addresses(&l4, &c->v4)) ||
		         (answered(rs->q6) && answered(u->q6) && !same_addresses(&l6, &c->v6));
	*n4 = l4.n;
	*n6 = l6.n;
	free(l4.v);
	free(l6.v);
	return differ;
}

/* Append to the malloc'd *s; out of memory: *s becomes NULL. */
static void cat(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cat(char **s, const char *fmt, ...)
{
	if (!*s)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *add = diag_vasprintf(fmt, ap);
	va_end(ap);
	char *n = add ? diag_asprintf("%s%s", *s, add) : NULL;
	free(add);
	free(*s);
	*s = n;
}

/*
 * For the summary, what every resolver said that the answer used does not
 * show: "; 192.0.2.99 did not answer (timed out)", "; 192.0.2.53 answers
 * other addresses (1 IPv4, 0 IPv6)". NULL when out of memory.
 */
static char *resolver_notes(const struct http01_ctx *c, int *disagree, int *partial)
{
	char *s = diag_strdup("");
	for (size_t i = 0; i < c->nres; i++) {
		const struct http01_resolver *rs = &c->res[i];
		char fail[256];
		if (resolver_failure(rs, fail, sizeof(fail))) {
			cat(&s, "; %s did not answer (%s)", rs->srv.label, fail);
			*partial |= rs == c->used_res;
		}
		if (rs == c->used_res)
			continue;
		size_t n4, n6;
		int d = resolver_differs(c, rs, &n4, &n6);
		if (d < 0)
			cat(&s, "; %s: not compared (out of memory)", rs->srv.label);
		else if (d)
			cat(&s, "; %s answers other addresses (%zu IPv4, %zu IPv6)", rs->srv.label, n4, n6);
		*disagree |= d > 0;
	}
	return s;
}

static json_t *query_json(const struct dns_q *q, ldns_rr_type t)
{
	if (!q)
		return json_null();
	struct addr_list l = {0};
	json_t *addrs = json_array();
	if (addrs && !answer_addrs(q, t, &l))
		for (size_t i = 0; i < l.n; i++)
			json_array_append_new(addrs, diag_json_str(l.v[i]));
	free(l.v);
	return json_pack("{s:o, s:o, s:I, s:b}", "outcome", diag_json_str(q_outcome(q)),
	                 "addresses", addrs, "rtt_ms", (json_int_t)q->rtt_ms,
	                 "not_asked", q->not_asked);
}

/* Evidence: every resolver's outcome, and the addresses used. */
static void dns_evidence(struct http01_ctx *c, struct diag_finding *f)
{
	json_t *all = json_array();
	for (size_t i = 0; all && i < c->nres; i++) {
		const struct http01_resolver *rs = &c->res[i];
		json_array_append_new(all, json_pack("{s:o, s:b, s:b, s:o, s:o}",
			"server", diag_json_str(rs->srv.label), "used", rs == c->used_res,
			"answered", resolver_answered(rs), "a", query_json(rs->qa, LDNS_RR_TYPE_A),
			"aaaa", query_json(rs->q6, LDNS_RR_TYPE_AAAA)));
	}
	json_t *ja = json_array(), *j6 = json_array();
	for (size_t i = 0; ja && i < c->v4.n; i++)
		json_array_append_new(ja, diag_json_str(c->v4.v[i]));
	for (size_t i = 0; j6 && i < c->v6.n; i++)
		json_array_append_new(j6, diag_json_str(c->v6.v[i]));
	diag_evidence(f, "a", ja);
	diag_evidence(f, "aaaa", j6);
	diag_evidence(f, "resolver", c->used_res ? diag_json_str(c->used_res->srv.label) : json_null());
	diag_evidence(f, "resolvers", all);
}

/* http01.dns when no resolver answered at all. */
static struct diag_finding *report_no_answer(struct http01_ctx *c)
{
	int replied = 0;  /* a reply with another rcode (SERVFAIL, REFUSED): not only our side */
	for (size_t i = 0; i < c->nres; i++)
		replied |= dns_q_rcode(c->res[i].qa) >= 0 || dns_q_rcode(c->res[i].q6) >= 0;
	enum diag_status st = replied ? DIAG_FAIL : DIAG_ERROR;
	if (c->nres == 1) {
		const struct http01_resolver *rs = &c->res[0];
		return diag_add(c->head.r, st, "http01.dns", c->domain, "no address for %s: %s; %s",
		                c->domain, rs->qa ? q_outcome(rs->qa) : "not asked (-6)",
		                rs->q6 ? q_outcome(rs->q6) : "not asked (-4)");
	}
	char *list = diag_strdup("");
	for (size_t i = 0; i < c->nres; i++) {
		char fail[256];
		resolver_failure(&c->res[i], fail, sizeof(fail));
		cat(&list, "%s%s (%s)", i ? "; " : "", c->res[i].srv.label, fail);
	}
	struct diag_finding *f = diag_add(c->head.r, st, "http01.dns", c->domain,
	                                  "no address for %s: no resolver answered: %s", c->domain,
	                                  list ? list : "(out of memory)");
	free(list);
	return f;
}

/* The hint of an http01.dns finding that is not ok. */
static void dns_hint(struct http01_ctx *c, struct diag_finding *f, int no_address, int disagree)
{
	if (no_address)
		diag_set_hint(f, "The CA needs an A or AAAA record for %s that points at the web server "
		              "(the CA reports \"DNS problem: NXDOMAIN looking up A for %s\" or \"No valid "
		              "IP addresses found\").", c->domain, c->domain);
	else if (disagree)
		diag_set_hint(f, "Resolvers that disagree usually mean split-horizon DNS, a local "
		              "override or a stale cache; the CA resolves from the public DNS, so the "
		              "public records must point at the web server.");
	else
		diag_set_hint(f, "A resolver that does not answer A or AAAA queries hides addresses the "
		              "CA will use; name one that answers both with --ns.");
}

/*
 * http01.dns: the addresses from the resolver used, and what the others
 * said. Returns how many addresses there are (0: nothing to probe).
 */
static size_t report_dns(struct http01_ctx *c)
{
	const struct http01_resolver *u = c->used_res;
	size_t n4 = c->v4.n, n6 = c->v6.n;
	int disagree = 0, partial = 0;
	char *notes = u ? resolver_notes(c, &disagree, &partial) : NULL;
	const char *more = notes ? notes : "; (other resolvers not shown: out of memory)";
	struct diag_finding *f;
	if (!u)
		f = report_no_answer(c);
	else if (!n4 && !n6)
		f = diag_add(c->head.r, DIAG_FAIL, "http01.dns", c->domain, "no address for %s: %s; %s%s",
		             c->domain, !u->qa ? "not asked (-6)" : answered(u->qa) ? "no A record" : q_outcome(u->qa),
		             !u->q6 ? "not asked (-4)" : answered(u->q6) ? "no AAAA record" : q_outcome(u->q6),
		             more);
	else
		f = diag_add(c->head.r, disagree || partial ? DIAG_WARN : DIAG_OK, "http01.dns", c->domain,
		             "%zu IPv4 and %zu IPv6 address%s (resolver %s)%s", n4, n6,
		             n4 + n6 == 1 ? "" : "es", u->srv.label, more);
	free(notes);
	if (f && f->status != DIAG_OK)
		dns_hint(c, f, !u || !(n4 + n6), disagree);
	dns_evidence(c, f);
	return u ? n4 + n6 : 0;
}

/* http01.limit: addresses past HTTP01_MAX_ADDRS of a family are not probed. */
static void report_limit(struct http01_ctx *c)
{
	if (c->v4.n == c->n4 && c->v6.n == c->n6)
		return;
	int every = c->o.profile == HTTP01_RFC8555;
	struct diag_finding *f = diag_add(c->head.r, every ? DIAG_WARN : DIAG_OK, "http01.limit",
		c->domain, "probed %zu of %zu IPv6 and %zu of %zu IPv4 addresses (at most %d per "
		"family): %s", c->n6, c->v6.n, c->n4, c->v4.n, HTTP01_MAX_ADDRS,
		every ? "the CA may use one that was not probed"
		      : "enough, the CA uses only the first AAAA and the first A");
	if (every)
		diag_set_hint(f, "Check the other addresses one by one (curl --resolve %s:%u:ADDRESS "
		              "http://%s%s), or publish fewer addresses.", c->domain, c->port,
		              c->domain, c->path);
	diag_evidence(f, "a_total", json_integer((json_int_t)c->v4.n));
	diag_evidence(f, "a_probed", json_integer((json_int_t)c->n4));
	diag_evidence(f, "aaaa_total", json_integer((json_int_t)c->v6.n));
	diag_evidence(f, "aaaa_probed", json_integer((json_int_t)c->n6));
	diag_evidence(f, "max_per_family", json_integer(HTTP01_MAX_ADDRS));
}

/* http01.reserved: addresses Let's Encrypt will not connect to. */
static void report_reserved(struct http01_ctx *c)
{
	if (c->o.profile != HTTP01_LETSENCRYPT)
		return;
	for (size_t i = 0; i < c->n6 + c->n4; i++) {
		const char *ip = i < c->n6 ? c->v6.v[i] : c->v4.v[i - c->n6];
		const char *why;
		if (!diag_ip_reserved(ip, &why))
			continue;
		struct diag_finding *f = diag_add(c->head.r, DIAG_FAIL, "http01.reserved", ip,
		                                  "%s is %s: Let's Encrypt will not connect to it", ip, why);
		diag_set_hint(f, "Publish the server's public address in DNS (a split-horizon view "
		              "may be leaking internal addresses); labs and private CAs can use "
		              "--ca-profile pebble or rfc8555.");
	}
}

/* Start the first request of one address. */
static void probe_begin(struct addr_probe *p, const char *ip, int family, const char *url)
{
	struct http01_ctx *c = p->c;
	snprintf(p->ip, sizeof(p->ip), "%s", ip);
	p->family = family;
	p->easy = curl_easy_init();
	p->headers = curl_slist_append(NULL, "Accept: */*");
	struct hop *h = hop_new(p, url);
	if (!p->easy || !p->headers || !h->url) {
		probe_finish(p, OUT_INTERNAL, "%s: cannot start the request (out of memory, or curl "
		             "could not initialise)", p->ip);
		return;
	}
	snprintf(h->host, sizeof(h->host), "%s", c->domain);
	h->port = c->port;
	snprintf(h->ip, sizeof(h->ip), "%s", p->ip);
	hop_start(p);
}

/* Every probed address at once, IPv6 first, as the CA prefers it. */
static void start_probes(struct http01_ctx *c)
{
	c->nprobes = c->n6 + c->n4;
	c->probes = calloc(c->nprobes, sizeof(*c->probes));
	if (!c->probes) {
		internal_error(c, "http01.run", "cannot probe the addresses (out of memory)");
		return;
	}
	char *url = c->port != 80 ? diag_asprintf("http://%s:%u%s", c->domain, c->port, c->path)
	                          : diag_asprintf("http://%s%s", c->domain, c->path);
	c->probes_left = 1;  /* a guard: a probe may finish before the next starts */
	for (size_t i = 0; i < c->nprobes; i++) {
		struct addr_probe *p = &c->probes[i];
		p->c = c;
		c->probes_left++;
		if (i < c->n6)
			probe_begin(p, c->v6.v[i], AF_INET6, url);
		else
			probe_begin(p, c->v4.v[i - c->n6], AF_INET, url);
	}
	free(url);
	if (--c->probes_left == 0)
		judge(c);
}

/* Every resolver has answered (or not): report, then probe. */
static void addresses_known(struct http01_ctx *c)
{
	if (c->dns_oom) {
		internal_error(c, "http01.dns", "cannot look up the addresses (out of memory)");
		return;
	}
	c->used_res = choose_resolver(c);
	if (c->used_res && (answer_addrs(c->used_res->qa, LDNS_RR_TYPE_A, &c->v4) ||
	                    answer_addrs(c->used_res->q6, LDNS_RR_TYPE_AAAA, &c->v6))) {
		internal_error(c, "http01.dns", "cannot read the addresses (out of memory)");
		return;
	}
	c->n4 = c->v4.n < HTTP01_MAX_ADDRS ? c->v4.n : HTTP01_MAX_ADDRS;
	c->n6 = c->v6.n < HTTP01_MAX_ADDRS ? c->v6.n : HTTP01_MAX_ADDRS;
	if (!report_dns(c)) {
		diag_probe_finish(&c->head);
		return;
	}
	report_limit(c);
	report_reserved(c);
	start_probes(c);
}

static void on_addr_answer(void *arg, struct dns_q *q)
{
	(void)q;
	struct http01_ctx *c = arg;
	if (--c->dns_pending == 0)
		addresses_known(c);
}

/* A and AAAA, as the CA looks them up, at every resolver at once. */
static void ask_addresses(struct http01_ctx *c)
{
	c->dns_pending = 1;  /* a guard: answers may come before dns_ask returns */
	for (size_t i = 0; i < c->nres; i++) {
		struct http01_resolver *rs = &c->res[i];
		if (c->o.family != 6 && !(rs->qa = ask_counted(c, &rs->srv, c->domain, LDNS_RR_TYPE_A,
		                                                 on_addr_answer, c, &c->dns_pending)))
			c->dns_oom = 1;
		if (c->o.family != 4 && !(rs->q6 = ask_counted(c, &rs->srv, c->domain, LDNS_RR_TYPE_AAAA,
		                                                 on_addr_answer, c, &c->dns_pending)))
			c->dns_oom = 1;
	}
	if (--c->dns_pending == 0)
		addresses_known(c);
}

/* ---- the probe's life ---- */

static void http01_cancel(struct diag_probe *hp)
{
	struct http01_ctx *c = (struct http01_ctx *)hp;
	for (size_t i = 0; c->probes && i < c->nprobes; i++) {
		if (c->probes[i].easy)
			diag_loop_remove_curl(hp->loop, c->probes[i].easy);
		if (c->eng)
			dns_engine_forget(c->eng, &c->probes[i]);
	}
	if (c->eng) {
		dns_engine_forget(c->eng, c);
		if (c->own_engine)
			dns_engine_free(c->eng);
		c->eng = NULL;
	}
}

static void http01_destroy(struct diag_probe *hp)
{
	struct http01_ctx *c = (struct http01_ctx *)hp;
	for (size_t i = 0; c->probes && i < c->nprobes; i++) {
		struct addr_probe *p = &c->probes[i];
		for (size_t k = 0; k < p->nhops; k++) {
			free(p->hops[k].url);
			free(p->hops[k].location);
		}
		curl_slist_free_all(p->resolve);
		curl_slist_free_all(p->headers);
		if (p->easy)
			curl_easy_cleanup(p->easy);
		free(p->why);
	}
	free(c->probes);
	free(c->res);
	free(c->v4.v);
	free(c->v6.v);
	free(c->domain);
	free(c->token_arg);
	free(c->ka);
	free(c->token);
	free(c->path);
	free(c);
}

static const struct diag_probe_ops http01_ops = {
	.name = "http01", .cancel = http01_cancel, .destroy = http01_destroy,
};

/* Copy the options, pick the token, the engine and the resolvers. -1: out of memory. */
static int ctx_setup(struct http01_ctx *c, const struct http01_opts *o)
{
	c->o = *o;
	c->domain = diag_strdup(o->domain ? o->domain : "");
	c->token_arg = diag_strdup(o->token);
	c->ka = diag_strdup(o->key_authorization);
	if (!c->domain || (o->token && !c->token_arg) || (o->key_authorization && !c->ka))
		return -1;
	c->o.domain = c->domain;
	c->o.token = c->token_arg;
	c->o.key_authorization = c->ka;
	c->o.ns = NULL;  /* the caller's: read once, below */
	c->o.nns = 0;
	c->o.resolv_conf = NULL;
	c->port = o->port ? o->port : 80;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	char rnd[64];
	if (!o->token)
		random_token(rnd);
	c->token = diag_strdup(o->token ? o->token : rnd);
	c->path = c->token ? diag_asprintf("/.well-known/acme-challenge/%s", c->token) : NULL;
	if (!c->path)
		return -1;
	c->eng = o->engine;
	if (!c->eng) {
		c->eng = dns_engine_new(c->head.loop, c->timeout_ms < 5000 ? c->timeout_ms : 5000);
		c->own_engine = 1;
		if (!c->eng)
			return -1;
	}
	size_t cap = o->nns > 64 ? o->nns : 64;  /* diag_resolvers reads at most 64 from a file */
	struct diag_server *srv = calloc(cap, sizeof(*srv));
	c->res = calloc(cap, sizeof(*c->res));
	if (srv && c->res) {
		c->nres = diag_resolvers(o->ns, o->nns, o->resolv_conf, 0, srv, cap);
		for (size_t i = 0; i < c->nres; i++)
			c->res[i].srv = srv[i];
	}
	free(srv);
	return c->res && srv ? 0 : -1;
}

struct diag_probe *diag_http01_start(struct diag_loop *loop, const struct http01_opts *o,
                                     struct diag_report *r, diag_done_cb done, void *arg)
{
	struct http01_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	diag_probe_init(&c->head, &http01_ops, loop, r, done, arg);
	if (ctx_setup(c, o)) {
		http01_cancel(&c->head);
		http01_destroy(&c->head);
		return NULL;
	}
	if (!c->nres) {
		struct diag_finding *f = diag_add(r, DIAG_ERROR, "http01.dns", c->domain,
		                                  "no usable nameserver in %s",
		                                  o->resolv_conf ? o->resolv_conf : "/etc/resolv.conf");
		diag_set_hint(f, "Name a resolver with --ns SERVER.");
		diag_probe_finish(&c->head);
		return &c->head;
	}
	ask_addresses(c);
	return &c->head;
}

static struct diag_probe *start_adapter(struct diag_loop *loop, const void *opts,
                                        struct diag_report *r, diag_done_cb done, void *arg)
{
	return diag_http01_start(loop, opts, r, done, arg);
}

int diag_http01_run(const struct http01_opts *o, struct diag_report *r)
{
	return diag_probe_run(start_adapter, o, r, "http01.run");
}
