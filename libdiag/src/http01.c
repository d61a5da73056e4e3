/*
 * http01.c - HTTP-01 as the CA fetches it, every address on its own.
 *
 * Each A and AAAA address gets a probe: a state machine on the diag loop
 * that sends GET /.well-known/acme-challenge/<token> pinned to that address
 * (CURLOPT_RESOLVE), follows redirects by hand under the CA's policy
 * (resolving redirect hosts with the DNS engine on the same loop), and
 * classifies the outcome in the CA's words. Probes run concurrently; the
 * profile then decides which address the CA would use.
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

/* ---- probes ---- */

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

struct hctx;

struct probe {
	struct hctx *c;
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
	char why[700];
	struct dns_q *qa, *q6;  /* resolution of a redirect host */
};

struct hctx {
	const struct http01_opts *o;
	struct diag_report *r;
	struct diag_loop *loop;
	struct dns_engine *eng;
	struct diag_server res[16];
	size_t nres;
	char token[96];
	char path[160];
	uint16_t port;
	int timeout_ms;
	struct probe *probes;
	size_t nprobes;
	struct dns_q *qs[64];   /* every DNS query made, for freeing */
	size_t nqs;
};

static void probe_finish(struct probe *p, enum outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void probe_finish(struct probe *p, enum outcome o, const char *fmt, ...)
{
	p->out = o;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct probe *p = arg;
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
	struct probe *p = arg;
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

/* Start the request of the last hop, pinned to hop->ip. */
static void hop_start(struct probe *p)
{
	struct hctx *c = p->c;
	struct hop *h = &p->hops[p->nhops - 1];
	p->bodylen = 0;
	p->body_seen = 0;
	p->aborted_body = 0;
	p->body[0] = '\0';
	p->server[0] = '\0';
	p->errbuf[0] = '\0';
	curl_slist_free_all(p->resolve);
	p->resolve = NULL;
	char pin[NAMELEN + 80];
	snprintf(pin, sizeof(pin), strchr(h->ip, ':') ? "%s:%u:[%s]" : "%s:%u:%s", h->host,
	         h->port, h->ip);
	p->resolve = curl_slist_append(NULL, pin);
	CURL *e = p->easy;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, h->url);
	curl_easy_setopt(e, CURLOPT_RESOLVE, p->resolve);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent(c->o->profile));
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_HTTP09_ALLOWED, 1L);  /* to see what a non-HTTP/1 server sends */
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms * 2);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);  /* the CA does not verify either */
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, p);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(e, CURLOPT_IPRESOLVE, strchr(h->ip, ':') ? (long)CURL_IPRESOLVE_V6
	                                                          : (long)CURL_IPRESOLVE_V4);
	if (diag_loop_add_curl(c->loop, e, hop_done, p))
		probe_finish(p, OUT_OTHER, "could not start the request");
}

static struct hop *hop_new(struct probe *p, const char *url)
{
	struct hop *h = &p->hops[p->nhops++];
	memset(h, 0, sizeof(*h));
	h->url = strdup(url);
	return h;
}

/* First address of the redirect host in the profile's preference order. */
static void redirect_resolved(struct dns_q *q);

static int is_ip_literal(const char *host)
{
	unsigned char b[16];
	return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/*
 * Apply the CA's redirect policy to the Location of hop h; on success set
 * up the next hop (host, port, scheme) and return 0.
 */
static int redirect_policy(struct probe *p, const struct hop *h, struct hop *next)
{
	struct hctx *c = p->c;
	int boulder = c->o->profile != HTTP01_PEBBLE;
	int strict_names = c->o->profile == HTTP01_LETSENCRYPT;
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
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int ret = -1;
	if (!u || curl_url_set(u, CURLUPART_URL, next->url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		probe_finish(p, OUT_REDIRECT, "Invalid redirect target \"%.200s\"", next->url);
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
	/* curl keeps brackets around IPv6 literals */
	size_t hl = strlen(host);
	const char *hs = host;
	if (hs[0] == '[' && hl > 2) {
		hs++;
		hl -= 2;
	}
	if (hl >= NAMELEN) {
		probe_finish(p, OUT_REDIRECT, "Invalid host in redirect target: too long");
		goto out;
	}
	memcpy(next->host, hs, hl);
	next->host[hl] = '\0';
	for (char *x = next->host; *x; x++)
		*x = (char)(*x >= 'A' && *x <= 'Z' ? *x + 32 : *x);
	if (boulder && hl >= 11 && !strcmp(next->host + hl - 11, ".well-known")) {
		probe_finish(p, OUT_REDIRECT, "Invalid host in redirect target \"%s\". Check webserver "
		             "config for missing '/' in redirect target.", next->host);
		goto out;
	}
	if (boulder && path && strlen(path) > HTTP01_MAX_URL) {
		probe_finish(p, OUT_REDIRECT, "Redirect target too long");
		goto out;
	}
	if (strchr(next->host, '%')) {
		probe_finish(p, OUT_REDIRECT, "Invalid host in redirect target: contains scope zone");
		goto out;
	}
	const char *why = NULL;
	if (is_ip_literal(next->host)) {
		if (strict_names && diag_ip_reserved(next->host, &why)) {
			probe_finish(p, OUT_REDIRECT, "Invalid host in redirect target: %s is %s",
			             next->host, why);
			goto out;
		}
	} else if (strict_names && !diag_public_tld(next->host)) {
		probe_finish(p, OUT_REDIRECT, "Invalid host in redirect target, must end in IANA "
		             "registered TLD (\"%s\")", next->host);
		goto out;
	}
	for (size_t i = 0; boulder && i + 1 < p->nhops; i++)
		if (!strcmp(p->hops[i].url, next->url)) {
			probe_finish(p, OUT_REDIRECT, "Redirect loop detected");
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

static struct dns_q *hctx_ask(struct hctx *c, const char *name, ldns_rr_type t)
{
	if (c->nqs == sizeof(c->qs) / sizeof(c->qs[0]) || !c->nres)
		return NULL;
	struct dns_q *q = dns_q_new(&c->res[0], name, t, LDNS_RR_CLASS_IN, DNS_Q_RD);
	if (q)
		c->qs[c->nqs++] = q;
	return q;
}

static void follow_redirect(struct probe *p, struct hop *h)
{
	struct hctx *c = p->c;
	if (p->nhops == MAX_HOPS) {
		probe_finish(p, OUT_REDIRECT, "Too many redirects");
		return;
	}
	struct hop *next = hop_new(p, h->location);
	if (!next->url) {
		probe_finish(p, OUT_OTHER, "out of memory");
		return;
	}
	if (redirect_policy(p, h, next))
		return;
	/* Same host: stay on the address under test, so each address is judged
	 * on its own. Another host: resolve it as the CA would. */
	if (!strcmp(next->host, p->hops[0].host)) {
		snprintf(next->ip, sizeof(next->ip), "%s", p->ip);
		hop_start(p);
		return;
	}
	if (is_ip_literal(next->host)) {
		char lit[sizeof(next->ip)];
		snprintf(lit, sizeof(lit), "%s", next->host);
		memcpy(next->ip, lit, sizeof(lit));
		hop_start(p);
		return;
	}
	p->qa = hctx_ask(c, next->host, LDNS_RR_TYPE_A);
	p->q6 = hctx_ask(c, next->host, LDNS_RR_TYPE_AAAA);
	if (!p->qa || !p->q6) {
		probe_finish(p, OUT_DNS, "DNS problem: cannot look up %s", next->host);
		return;
	}
	p->qa->on_done = p->q6->on_done = redirect_resolved;
	p->qa->arg = p->q6->arg = p;
	dns_q_send(c->eng, p->qa);
	dns_q_send(c->eng, p->q6);
}

static int first_addr(const struct dns_q *q, ldns_rr_type t, char *out, size_t len)
{
	ldns_rr_list *l = dns_q_answer(q, t, NULL);
	int ok = 0;
	if (l && ldns_rr_list_rr_count(l) && ldns_rr_rd_count(ldns_rr_list_rr(l, 0))) {
		char *s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(l, 0), 0));
		if (s) {
			snprintf(out, len, "%s", s);
			ok = 1;
		}
		free(s);
	}
	ldns_rr_list_deep_free(l);
	return ok;
}

static void redirect_resolved(struct dns_q *q)
{
	struct probe *p = q->arg;
	if (!p->qa->done || !p->q6->done)
		return;
	struct hop *h = &p->hops[p->nhops - 1];
	int fam = p->c->o->family;
	if ((fam != 4 && first_addr(p->q6, LDNS_RR_TYPE_AAAA, h->ip, sizeof(h->ip))) ||
	    (fam != 6 && first_addr(p->qa, LDNS_RR_TYPE_A, h->ip, sizeof(h->ip)))) {
		const char *why;
		if (p->c->o->profile == HTTP01_LETSENCRYPT && diag_ip_reserved(h->ip, &why)) {
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

/* Does the body look like HTTP/2 frames (a SETTINGS or GOAWAY frame)? */
static int looks_h2(const char *b, size_t n)
{
	return n >= 9 && (b[3] == 0x04 || b[3] == 0x07) && b[0] == 0;
}

static void hop_done(void *arg, CURL *easy, CURLcode res)
{
	struct probe *p = arg;
	struct hop *h = &p->hops[p->nhops - 1];
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
	long oserr = 0;
	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &oserr);
	const char *url = h->url;
	char prefix[900];
	snprintf(prefix, sizeof(prefix), "%s: Fetching %s", h->ip, url);

	if (res == CURLE_WRITE_ERROR && p->aborted_body) {
		res = CURLE_OK;  /* we stopped reading on purpose */
	}
	if (res != CURLE_OK) {
		if (res == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED)
			probe_finish(p, OUT_REFUSED, "%s: Connection refused", prefix);
		else if (res == CURLE_COULDNT_CONNECT && (oserr == ENETUNREACH || oserr == EHOSTUNREACH))
			probe_finish(p, OUT_UNREACH, "%s: Network unreachable", prefix);
		else if (res == CURLE_OPERATION_TIMEDOUT &&
		         (h->connect_ms == 0 || strstr(p->errbuf, "Connection timed out")) &&
		         !strstr(p->errbuf, "Operation timed out"))
			probe_finish(p, OUT_CONNECT_TIMEOUT, "%s: Timeout during connect (likely firewall problem)", prefix);
		else if (res == CURLE_OPERATION_TIMEDOUT)
			probe_finish(p, OUT_TIMEOUT_AFTER, "%s: Timeout after connect (your server may be slow or overloaded)", prefix);
		else if (res == CURLE_COULDNT_CONNECT)
			probe_finish(p, OUT_UNREACH, "%s: %s", prefix, p->errbuf[0] ? p->errbuf : "could not connect");
		else if ((res == CURLE_RECV_ERROR || res == CURLE_SEND_ERROR) && oserr == ECONNRESET)
			probe_finish(p, OUT_RESET, "%s: Connection reset by peer", prefix);
		else if (res == CURLE_GOT_NOTHING)
			probe_finish(p, OUT_RESET, "%s: Connection closed without a response (EOF)", prefix);
		else if (res == CURLE_SSL_CONNECT_ERROR && h->https &&
		         (strstr(p->errbuf, "wrong version number") || strstr(p->errbuf, "packet length too long")))
			probe_finish(p, OUT_HTTP_ON_TLS, "%s: Server only speaks HTTP, not TLS", prefix);
		else if (res == CURLE_SSL_CONNECT_ERROR && h->https && p->nhops > 1 &&
		         (strstr(p->errbuf, "protocol version") || strstr(p->errbuf, "unsupported protocol") ||
		          strstr(p->errbuf, "no protocols available")))
			probe_finish(p, OUT_TLS, "%s: validation attempt was redirected to an HTTPS server that "
			             "doesn't support TLSv1.2 or better. See https://community.letsencrypt.org/t/"
			             "rejecting-sha-1-csrs-and-validation-using-tls-1-0-1-1-urls/175144", prefix);
		else if (res == CURLE_SSL_CONNECT_ERROR || res == CURLE_PEER_FAILED_VERIFICATION)
			probe_finish(p, OUT_TLS, "%s: TLS error: %s", prefix, p->errbuf);
		else
			probe_finish(p, OUT_OTHER, "%s: Error getting validation data (%s)", prefix,
			             p->errbuf[0] ? p->errbuf : curl_easy_strerror(res));
		return;
	}
	long httpver = 0;
	curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &httpver);
	if (h->status == 0) {
		if (looks_h2(p->body, p->bodylen))
			probe_finish(p, OUT_H2, "%s: Server is speaking HTTP/2 over HTTP", prefix);
		else
			probe_finish(p, OUT_OTHER, "%s: Error getting validation data (malformed HTTP response)", prefix);
		return;
	}
	int redirect = h->status >= 300 && h->status < 400 && h->status != 304 && h->status != 300;
	if (redirect) {
		char *loc = NULL;
		curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &loc);
		if (!loc) {
			probe_finish(p, OUT_STATUS, "%s: Invalid response from %s: %ld (redirect without Location)",
			             h->ip, url, h->status);
			return;
		}
		h->location = strdup(loc);
		if (!h->location) {
			probe_finish(p, OUT_OTHER, "out of memory");
			return;
		}
		follow_redirect(p, h);
		return;
	}
	if (h->status != 200) {
		probe_finish(p, OUT_STATUS, "%s: Invalid response from %s: %ld", h->ip, url, h->status);
		return;
	}
	if (p->c->o->profile == HTTP01_PEBBLE && p->aborted_body) {
		/* Pebble reads the whole body; we stop at KEEP_BODY bytes, far past
		 * any key authorization. */
		probe_finish(p, OUT_BODY_BIG, "%s: body of %zu bytes or more from %s: no key "
		             "authorization is that long (Pebble would read all of it)", h->ip,
		             p->body_seen, url);
		return;
	}
	if (p->body_seen >= HTTP01_MAX_BODY && p->c->o->profile != HTTP01_PEBBLE) {
		probe_finish(p, OUT_BODY_BIG, "%s: Invalid response from %s: \"%.*s\" (body of %zu bytes or "
		             "more; the CA reads at most %d)", h->ip, url, 40, p->body, p->body_seen,
		             HTTP01_MAX_BODY - 1);
		return;
	}
	const char *ka = p->c->o->key_authorization;
	if (ka && !diag_http01_body_matches(p->body, p->bodylen, ka, p->c->o->profile)) {
		probe_finish(p, OUT_MISMATCH, "The key authorization file from the server did not match "
		             "this challenge. Expected \"%s\" (got \"%.*s\")", ka, 100, p->body);
		return;
	}
	probe_finish(p, OUT_OK, "%s: %ld, %zu bytes%s", h->ip, h->status, p->bodylen,
	             ka ? ", key authorization matches" : "");
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

/* ---- the run ---- */

static void random_token(char out[64])
{
	unsigned char b[32];
	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0x5a, sizeof(b));
	diag_b64url(b, sizeof(b), out);
}

static void collect_addrs(const struct dns_q *q, ldns_rr_type t, char list[][48], size_t *n)
{
	ldns_rr_list *l = dns_q_answer(q, t, NULL);
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l) && *n < HTTP01_MAX_ADDRS; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (!ldns_rr_rd_count(rr))
			continue;
		char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		if (s)
			snprintf(list[(*n)++], 48, "%s", s);
		free(s);
	}
	ldns_rr_list_deep_free(l);
}

/* The status an address's outcome deserves on its own. */
static enum diag_status outcome_status(const struct hctx *c, const struct probe *p)
{
	int tokenless = !c->o->token;
	int offsite = p->nhops > 1 && strcmp(p->hops[p->nhops - 1].host, p->hops[0].host);
	switch (p->out) {
	case OUT_OK:
		if (tokenless && !c->o->key_authorization)
			return DIAG_WARN;  /* a random token answered 200: a catch-all */
		return offsite && tokenless ? DIAG_WARN : DIAG_OK;
	case OUT_STATUS:
		if (tokenless)
			return p->hops[p->nhops - 1].status == 404 && !offsite ? DIAG_OK : DIAG_WARN;
		return DIAG_FAIL;
	default:
		return DIAG_FAIL;
	}
}

static const char *outcome_hint(const struct hctx *c, const struct probe *p)
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
	case OUT_STATUS:
		return c->o->token
			? "The challenge file is not served here: check the webroot, location blocks and "
			  "rewrites for /.well-known/acme-challenge/, and proxies in front of this address."
			: "A random token should get 404; this status suggests a proxy, a login wall or a "
			  "rewrite that would also hide the real challenge file.";
	case OUT_OK:
		return "Every path answers 200: make sure /.well-known/acme-challenge/ is served from the "
		       "directory the ACME client writes to, not by a catch-all page.";
	default:
		return "Check the web server at this address.";
	}
}

static json_t *hops_json(const struct probe *p)
{
	json_t *a = json_array();
	for (size_t i = 0; i < p->nhops; i++) {
		const struct hop *h = &p->hops[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:o}",
			"url", h->url ? h->url : "", "ip", h->ip, "status", (int)h->status,
			"connect_ms", (json_int_t)h->connect_ms, "tls_ms", (json_int_t)h->tls_ms,
			"first_byte_ms", (json_int_t)h->first_byte_ms, "total_ms", (json_int_t)h->total_ms,
			"location", h->location ? json_string(h->location) : json_null()));
	}
	return a;
}

static void report_local(struct hctx *c)
{
	for (size_t i = 0; i < c->nprobes; i++) {
		const struct probe *p = &c->probes[i];
		if (!ip_is_local(p->ip))
			continue;
		unsigned long ino = listening_inode(p->ip, c->port);
		struct diag_finding *f;
		if (!ino) {
			f = diag_add(c->r, DIAG_FAIL, "http01.local", p->ip,
			             "%s is on this host and nothing listens on port %u", p->ip, c->port);
			diag_set_hint(f, "Start the web server, or the ACME client's standalone listener "
			              "(certbot --standalone, lego --http), on port %u.", c->port);
			continue;
		}
		char owner[128];
		if (socket_owner(ino, owner, sizeof(owner))) {
			f = diag_add(c->r, DIAG_OK, "http01.local", p->ip, "port %u on this host is held by %s",
			             c->port, owner);
			diag_set_detail(f, "If the ACME client runs in standalone mode it cannot bind port %u "
			                "while %s holds it (\"port 80 already in use\"): use the webroot "
			                "method, or stop it during renewal (certbot --pre-hook/--post-hook).",
			                c->port, owner);
			diag_evidence(f, "process", json_string(owner));
		} else {
			f = diag_add(c->r, DIAG_OK, "http01.local", p->ip,
			             "something listens on port %u on this host (process not visible)", c->port);
		}
		diag_evidence(f, "socket_inode", json_integer((json_int_t)ino));
	}
}

int diag_http01_run(const struct http01_opts *o, struct diag_report *r)
{
	int ret = -1;
	struct hctx *c = calloc(1, sizeof(*c));
	if (!c) {
		diag_add(r, DIAG_ERROR, "http01.run", "", "out of memory");
		return -1;
	}
	c->o = o;
	c->r = r;
	c->port = o->port ? o->port : 80;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	c->loop = diag_loop_new();
	c->eng = c->loop ? dns_engine_new(c->loop, c->timeout_ms < 5000 ? c->timeout_ms : 5000) : NULL;
	if (!c->eng) {
		diag_add(r, DIAG_ERROR, "http01.run", "", "cannot start the event loop");
		goto out;
	}
	if (o->nns) {
		c->nres = o->nns < 16 ? o->nns : 16;
		memcpy(c->res, o->ns, c->nres * sizeof(*c->res));
	} else {
		c->nres = diag_system_resolvers(NULL, c->res, 16);
	}
	if (!c->nres) {
		struct diag_finding *f = diag_add(r, DIAG_ERROR, "http01.dns", o->domain,
		                                  "no usable nameserver in /etc/resolv.conf");
		diag_set_hint(f, "Name a resolver with --ns SERVER.");
		goto out;
	}
	if (o->token)
		snprintf(c->token, sizeof(c->token), "%s", o->token);
	else
		random_token(c->token);
	snprintf(c->path, sizeof(c->path), "/.well-known/acme-challenge/%s", c->token);

	/* Addresses, as the CA looks them up: A and AAAA in parallel. */
	struct dns_q *qa = o->family != 6 ? hctx_ask(c, o->domain, LDNS_RR_TYPE_A) : NULL;
	struct dns_q *q6 = o->family != 4 ? hctx_ask(c, o->domain, LDNS_RR_TYPE_AAAA) : NULL;
	if (qa)
		dns_q_send(c->eng, qa);
	if (q6)
		dns_q_send(c->eng, q6);
	diag_loop_run(c->loop);
	char v4[HTTP01_MAX_ADDRS][48], v6[HTTP01_MAX_ADDRS][48];
	size_t n4 = 0, n6 = 0;
	collect_addrs(qa, LDNS_RR_TYPE_A, v4, &n4);
	collect_addrs(q6, LDNS_RR_TYPE_AAAA, v6, &n6);
	struct diag_finding *f;
	if (!n4 && !n6) {
		const char *ea = qa ? (dns_q_rcode(qa) >= 0 ? "no A record" : dns_status_text(qa->status)) : "not asked (-6)";
		const char *e6 = q6 ? (dns_q_rcode(q6) >= 0 ? "no AAAA record" : dns_status_text(q6->status)) : "not asked (-4)";
		int transport = (qa && dns_q_rcode(qa) < 0) && (q6 && dns_q_rcode(q6) < 0);
		f = diag_add(r, transport ? DIAG_ERROR : DIAG_FAIL, "http01.dns", o->domain,
		             "no address for %s: %s; %s", o->domain, ea, e6);
		diag_set_hint(f, "The CA needs an A or AAAA record for %s that points at the web server "
		              "(the CA reports \"DNS problem: NXDOMAIN looking up A for %s\" or \"No valid "
		              "IP addresses found\").", o->domain, o->domain);
		ret = 0;
		goto out;
	}
	f = diag_add(r, DIAG_OK, "http01.dns", o->domain, "%zu IPv4 and %zu IPv6 address%s (resolver %s)",
	             n4, n6, n4 + n6 == 1 ? "" : "es", c->res[0].label);
	json_t *ja = json_array(), *j6 = json_array();
	for (size_t i = 0; i < n4; i++)
		json_array_append_new(ja, json_string(v4[i]));
	for (size_t i = 0; i < n6; i++)
		json_array_append_new(j6, json_string(v6[i]));
	diag_evidence(f, "a", ja);
	diag_evidence(f, "aaaa", j6);

	if (o->profile == HTTP01_LETSENCRYPT) {
		for (size_t i = 0; i < n6 + n4; i++) {
			const char *ip = i < n6 ? v6[i] : v4[i - n6];
			const char *why;
			if (diag_ip_reserved(ip, &why)) {
				f = diag_add(r, DIAG_FAIL, "http01.reserved", ip,
				             "%s is %s: Let's Encrypt will not connect to it", ip, why);
				diag_set_hint(f, "Publish the server's public address in DNS (a split-horizon view "
				              "may be leaking internal addresses); labs and private CAs can use "
				              "--ca-profile pebble or rfc8555.");
			}
		}
	}

	/* One probe per address, all at once: IPv6 first, as the CA prefers it. */
	c->nprobes = n6 + n4;
	c->probes = calloc(c->nprobes, sizeof(*c->probes));
	if (!c->probes)
		goto out;
	char url[NAMELEN + 200];
	int explicit_port = c->port != 80;
	snprintf(url, sizeof(url), explicit_port ? "http://%s:%u%s" : "http://%s%.0u%s", o->domain,
	         explicit_port ? c->port : 0u, c->path);
	for (size_t i = 0; i < c->nprobes; i++) {
		struct probe *p = &c->probes[i];
		p->c = c;
		snprintf(p->ip, sizeof(p->ip), "%s", i < n6 ? v6[i] : v4[i - n6]);
		p->family = i < n6 ? AF_INET6 : AF_INET;
		p->easy = curl_easy_init();
		p->headers = curl_slist_append(NULL, "Accept: */*");
		struct hop *h = hop_new(p, url);
		if (!p->easy || !p->headers || !h->url) {
			probe_finish(p, OUT_OTHER, "out of memory");
			continue;
		}
		snprintf(h->host, sizeof(h->host), "%s", o->domain);
		h->port = c->port;
		snprintf(h->ip, sizeof(h->ip), "%s", p->ip);
		hop_start(p);
	}
	diag_loop_run(c->loop);

	/* Which address would the CA use, and what would it see? */
	struct probe *first6 = n6 ? &c->probes[0] : NULL, *first4 = n4 ? &c->probes[n6] : NULL;
	struct probe *used = NULL;
	int fallback = 0;
	if (o->profile == HTTP01_LETSENCRYPT) {
		used = first6 ? first6 : first4;
		if (first6 && first4 && connect_stage(first6->out)) {
			used = first4;
			fallback = 1;
		}
	} else if (o->profile == HTTP01_PEBBLE) {
		used = first6 ? first6 : first4;
	}
	for (size_t i = 0; i < c->nprobes; i++) {
		struct probe *p = &c->probes[i];
		enum diag_status st = outcome_status(c, p);
		int decisive = o->profile == HTTP01_RFC8555 || p == used || (fallback && p == first6);
		const char *note = "";
		if (fallback && p == first6 && st == DIAG_FAIL) {
			st = DIAG_WARN;
			note = " (the CA falls back to IPv4 after this connect error, about 10 s later)";
		} else if (!decisive && st == DIAG_FAIL) {
			st = DIAG_WARN;
			note = " (not the address the CA uses today)";
		}
		if (!o->token && p->out == OUT_STATUS && p->hops[p->nhops - 1].status == 404 &&
		    st == DIAG_OK)
			f = diag_add(r, st, "http01.addr", p->ip, "%s: 404 for a random probe token%s: the "
			             "expected answer before the client places its file", p->ip,
			             p->nhops > 1 ? " after redirects" : "");
		else if (!o->token && p->out == OUT_OK && st == DIAG_WARN)
			f = diag_add(r, st, "http01.addr", p->ip, "%s: 200 for a random probe token: a "
			             "catch-all page answers every path (\"%.40s\")", p->ip, p->body);
		else
			f = diag_add(r, st, "http01.addr", p->ip, "%s%s", p->why, note);
		if (st != DIAG_OK)
			diag_set_hint(f, "%s", outcome_hint(c, p));
		if (p->out == OUT_STATUS && p->bodylen)
			diag_set_detail(f, "Body starts: %.200s", p->body);
		diag_evidence(f, "family", json_string(p->family == AF_INET6 ? "ipv6" : "ipv4"));
		diag_evidence(f, "hops", hops_json(p));
		diag_evidence(f, "server", p->server[0] ? json_string(p->server) : json_null());
		diag_evidence(f, "connect_stage_error", json_boolean(connect_stage(p->out)));
		if (f && p->nhops) {
			f->duration_ms = 0;
			for (size_t k = 0; k < p->nhops; k++)
				f->duration_ms += p->hops[k].total_ms;
		}
	}

	/* Do the addresses answer alike? */
	int differ = 0;
	for (size_t i = 1; i < c->nprobes; i++) {
		const struct probe *a = &c->probes[0], *b = &c->probes[i];
		if (a->out != b->out || a->nhops != b->nhops ||
		    a->hops[a->nhops - 1].status != b->hops[b->nhops - 1].status ||
		    strcmp(a->server, b->server))
			differ = 1;
	}
	if (c->nprobes > 1) {
		if (differ) {
			f = diag_add(r, DIAG_WARN, "http01.consistency", o->domain,
			             "the %zu addresses answer differently", c->nprobes);
			diag_set_hint(f, "Every A and AAAA address must reach the same web server config; "
			              "an AAAA pointing at another host (an old server, a CDN edge, the "
			              "router) is a common cause.");
		} else {
			f = diag_add(r, DIAG_OK, "http01.consistency", o->domain,
			             "all %zu addresses answer alike", c->nprobes);
		}
	}

	/* The CA's view. */
	const char *pname = diag_http01_profile_name(o->profile);
	if (o->profile == HTTP01_RFC8555) {
		enum diag_status worst = DIAG_OK;
		for (size_t i = 0; i < c->nprobes; i++) {
			enum diag_status st = outcome_status(c, &c->probes[i]);
			if (st > worst)
				worst = st;
		}
		f = diag_add(r, worst, "http01.ca", o->domain,
		             "profile rfc8555: the CA may use any of the %zu addresses: %s", c->nprobes,
		             worst == DIAG_OK ? "all work" : "not all work");
	} else {
		enum diag_status st = outcome_status(c, used);
		if (fallback && st == DIAG_OK)
			st = DIAG_WARN;
		const char *why = fallback ? "the first AAAA failed to connect, so it falls back to the first A"
		                  : used->family == AF_INET6 ? "it tries the first AAAA address first"
		                  : "there is no AAAA address";
		f = diag_add(r, st, "http01.ca", o->domain, "profile %s: the CA uses %s (%s)%s%s", pname,
		             used->ip, why, st == DIAG_FAIL ? ": " : "",
		             st == DIAG_FAIL ? used->why : "");
		if (st != DIAG_OK)
			diag_set_hint(f, "%s", fallback && st == DIAG_WARN
			              ? "Validation works only thanks to the IPv4 fallback, after a 10 s connect "
			                "timeout; CAs without fallback (Pebble, some private CAs) fail. Repair "
			                "IPv6 or remove the AAAA record."
			              : outcome_hint(c, used));
		diag_evidence(f, "address", json_string(used->ip));
		diag_evidence(f, "fallback", json_boolean(fallback));
		if (o->profile == HTTP01_PEBBLE && first6 && first4 && connect_stage(first6->out))
			diag_set_detail(f, "Pebble uses only the first address and never falls back to IPv4; "
			                "Let's Encrypt would fall back to %s.", first4->ip);
	}
	diag_evidence(f, "profile", json_string(pname));
	diag_evidence(f, "token", json_string(c->token));
	report_local(c);
	ret = 0;
out:
	for (size_t i = 0; c->probes && i < c->nprobes; i++) {
		struct probe *p = &c->probes[i];
		for (size_t k = 0; k < p->nhops; k++) {
			free(p->hops[k].url);
			free(p->hops[k].location);
		}
		curl_slist_free_all(p->resolve);
		curl_slist_free_all(p->headers);
		if (p->easy)
			curl_easy_cleanup(p->easy);
	}
	free(c->probes);
	for (size_t i = 0; i < c->nqs; i++)
		dns_q_free(c->qs[i]);
	dns_engine_free(c->eng);
	diag_loop_free(c->loop);
	free(c);
	return ret;
}
