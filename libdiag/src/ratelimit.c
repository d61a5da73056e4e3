/* SPDX-License-Identifier: ISC */
/*
 * ratelimit.c - Let's Encrypt's rate limits replayed from local evidence:
 * the limits table, the evidence, the token buckets as Boulder spends
 * them (GCRA), and the findings.
 */
#define _GNU_SOURCE  /* timegm, strptime */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "diag/certcheck.h"
#include "diag/keyauth.h"
#include "diag/psl.h"
#include "diag/ratelimit.h"
#include "diag/render.h"
#include "grow.h"

/* ---- the table ---- */

/* Read from letsencrypt.org/docs/rate-limits (lastmod 2026-08-05) and
 * Boulder's ratelimits defaults; one place to change when they change. */
const char diag_ratelimit_table_date[] = "2026-08-05";

static const struct rl_limit_def rl_table[RL_NLIMITS] = {
	[RL_DUPLICATE] = {"duplicate-certificate", "duplicate certificates", "exact set of names",
	                  5, 7 * 86400, 5,
	                  "https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-identifiers"},
	[RL_PER_DOMAIN] = {"certificates-per-domain", "new certificates per registered domain",
	                   "registered domain", 50, 7 * 86400, 50,
	                   "https://letsencrypt.org/docs/rate-limits/#new-certificates-per-registered-domain"},
	[RL_FAILED_AUTHZ] = {"failed-validations", "failed validations", "identifier and account",
	                     5, 3600, 5,
	                     "https://letsencrypt.org/docs/rate-limits/#authorization-failures-per-identifier-per-account"},
	[RL_NEW_ORDERS] = {"new-orders", "new orders", "account", 300, 3 * 3600, 300,
	                   "https://letsencrypt.org/docs/rate-limits/#new-orders-per-account"},
	[RL_PAUSED] = {"paused", "consecutive failed validations (then paused)", "identifier and account",
	               1152, 86400, 1,
	               "https://letsencrypt.org/docs/rate-limits/#consecutive-authorization-failures-per-identifier-per-account"},
};

const struct rl_limit_def *diag_ratelimit_table(void)
{
	return rl_table;
}

/* Boulder: an exact set issued within this long before is a renewal. */
#define RL_RENEWAL_WINDOW (120 * 86400)

/* ---- evidence ---- */

static char *rl_dup(const char *s)
{
	return strdup(s ? s : "");
}

static void rl_host(const char *url, char *out, size_t len);

/* A server as its host[:port], lower case ("" when unknown). */
static char *rl_server(const char *url)
{
	char h[300];
	rl_host(url, h, sizeof(h));
	return strdup(h);
}

static void rl_cert_clear(struct rl_cert *c)
{
	for (size_t k = 0; k < c->nnames; k++)
		free(c->names[k]);
	free(c->names);
	free(c->set);
	free(c->server);
	free(c->account);
	free(c->source);
}

static void rl_event_clear(struct rl_event *e)
{
	free(e->server);
	free(e->account);
	free(e->ident);
	free(e->key);
	free(e->source);
	free(e->replaces);
}

static void rl_problem_clear(struct rl_problem *p)
{
	free(p->server);
	free(p->account);
	free(p->type);
	free(p->detail);
	free(p->source);
}

void ratelimit_evidence_free(struct ratelimit_evidence *ev)
{
	for (size_t i = 0; i < ev->ncerts; i++)
		rl_cert_clear(&ev->certs[i]);
	for (size_t i = 0; i < ev->nevents; i++)
		rl_event_clear(&ev->events[i]);
	for (size_t i = 0; i < ev->nproblems; i++)
		rl_problem_clear(&ev->problems[i]);
	free(ev->certs);
	free(ev->events);
	free(ev->problems);
	memset(ev, 0, sizeof(*ev));
}

int ratelimit_add_event(struct ratelimit_evidence *ev, enum rl_event_kind kind, int64_t at,
                        const char *server, const char *account, const char *ident,
                        const char *key, const char *source, const char *replaces)
{
	if (ev->nevents >= RL_MAX_EVENTS) {
		ev->over_limit++;
		return 0;
	}
	if (diag_grow((void **)&ev->events, &ev->capevents, ev->nevents + 1, sizeof(*ev->events)))
		return -1;
	struct rl_event *e = &ev->events[ev->nevents];
	*e = (struct rl_event){ .kind = kind, .at = at, .server = rl_server(server),
	                        .account = rl_dup(account), .ident = rl_dup(ident), .key = rl_dup(key),
	                        .source = rl_dup(source), .replaces = replaces ? strdup(replaces) : NULL };
	if (!e->server || !e->account || !e->ident || !e->key || !e->source || (replaces && !e->replaces)) {
		rl_event_clear(e);
		return -1;
	}
	ev->nevents++;
	return 0;
}

int ratelimit_add_problem(struct ratelimit_evidence *ev, int64_t at, const char *server,
                          const char *account, const char *type, const char *detail, long status,
                          long retry_after, const char *source)
{
	if (ev->nproblems >= RL_MAX_EVENTS) {
		ev->over_limit++;
		return 0;
	}
	if (diag_grow((void **)&ev->problems, &ev->capproblems, ev->nproblems + 1, sizeof(*ev->problems)))
		return -1;
	struct rl_problem *p = &ev->problems[ev->nproblems];
	*p = (struct rl_problem){ .at = at, .server = rl_server(server), .account = rl_dup(account),
	                          .type = rl_dup(type), .detail = diag_utf8_clean(detail ? detail : "",
	                          detail ? strlen(detail) : 0), .status = status,
	                          .retry_after = retry_after, .source = rl_dup(source) };
	if (!p->server || !p->account || !p->type || !p->detail || !p->source) {
		rl_problem_clear(p);
		return -1;
	}
	ev->nproblems++;
	return 0;
}

static int rl_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names a certificate is for: SAN DNS names and IP addresses (the CN
 * when it has no SAN), lower case, sorted, unique. */
static int rl_cert_names(X509 *x, struct rl_cert *c)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n = gens ? sk_GENERAL_NAME_num(gens) : 0;
	size_t cap = (size_t)(n > 0 ? n : 1);
	if (cap > 1000)
		cap = 1000;  /* Let's Encrypt issues for at most 100 */
	c->names = calloc(cap, sizeof(char *));
	if (!c->names) {
		GENERAL_NAMES_free(gens);
		return -1;
	}
	for (int i = 0; i < n && c->nnames < cap; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char buf[300] = "";
		if (g->type == GEN_DNS) {
			const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
			int len = ASN1_STRING_length(g->d.dNSName);
			if (len <= 0 || len > 253 || memchr(d, 0, (size_t)len))
				continue;
			snprintf(buf, sizeof(buf), "%.*s", len, (const char *)d);
		} else if (g->type == GEN_IPADD) {
			int len = ASN1_STRING_length(g->d.iPAddress);
			const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
			if (len == 4)
				snprintf(buf, sizeof(buf), "%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
			else if (len == 16) {
				struct sbuf_ip { char s[48]; } t;
				snprintf(t.s, sizeof(t.s), "%x:%x:%x:%x:%x:%x:%x:%x", d[0] << 8 | d[1], d[2] << 8 | d[3],
				         d[4] << 8 | d[5], d[6] << 8 | d[7], d[8] << 8 | d[9], d[10] << 8 | d[11],
				         d[12] << 8 | d[13], d[14] << 8 | d[15]);
				snprintf(buf, sizeof(buf), "%s", t.s);
			}
		}
		if (!*buf)
			continue;
		for (char *p = buf; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!(c->names[c->nnames] = diag_utf8_clean(buf, strlen(buf))))
			break;
		c->nnames++;
	}
	GENERAL_NAMES_free(gens);
	if (!c->nnames) {
		char cn[256];
		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) > 0) {
			for (char *p = cn; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			if ((c->names[0] = diag_utf8_clean(cn, strlen(cn))))
				c->nnames = 1;
		}
	}
	if (!c->nnames)
		return -1;
	diag_sort(c->names, c->nnames, sizeof(char *), rl_strcmp);
	size_t k = 0, len = 0;
	for (size_t i = 0; i < c->nnames; i++) {
		if (k && !strcmp(c->names[k - 1], c->names[i])) {
			free(c->names[i]);
			continue;
		}
		c->names[k++] = c->names[i];
		len += strlen(c->names[i]) + 1;
	}
	c->nnames = k;
	if (!(c->set = malloc(len + 1)))
		return -1;
	c->set[0] = '\0';
	for (size_t i = 0, off = 0; i < k; i++)
		off += (size_t)sprintf(c->set + off, "%s%s", i ? "," : "", c->names[i]);
	return 0;
}

static int64_t rl_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

/* RFC 9773 CertID: base64url(AKI keyIdentifier) "." base64url(serial's DER
 * content, with its leading 0x00 when the high bit is set). */
static void rl_certid(X509 *x, char *out, size_t len)
{
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
	const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
	out[0] = '\0';
	if (!aki || !serial)
		return;
	unsigned char sb[80];
	int sl = ASN1_STRING_length(serial), al = ASN1_STRING_length(aki);
	if (sl <= 0 || sl > 64 || al <= 0 || al > 64)
		return;
	const unsigned char *sd = ASN1_STRING_get0_data(serial);
	size_t n = 0;
	if (sd[0] & 0x80)
		sb[n++] = 0;
	memcpy(sb + n, sd, (size_t)sl);
	n += (size_t)sl;
	char a[100], s[120];
	diag_b64url(ASN1_STRING_get0_data(aki), (size_t)al, a);
	diag_b64url(sb, n, s);
	snprintf(out, len, "%s.%s", a, s);
}

/* Let's Encrypt's CA backdates notBefore by an hour: it spent the token
 * then, not at notBefore. */
static int rl_is_letsencrypt(X509 *x, const char *server)
{
	char org[128], host[300];
	rl_host(server, host, sizeof(host));
	host[strcspn(host, ":")] = '\0';
	size_t hl = strlen(host), sl = strlen(".api.letsencrypt.org");
	/* acme-v02 and acme-staging-v02, as hosts: not a URL that merely
	 * contains the text */
	if (hl > sl && !strcmp(host + hl - sl, ".api.letsencrypt.org"))
		return 1;
	return X509_NAME_get_text_by_NID(X509_get_issuer_name(x), NID_organizationName, org,
	                                 sizeof(org)) > 0 && strstr(org, "Let's Encrypt");
}

int ratelimit_add_cert_pem(struct ratelimit_evidence *ev, const char *pem, size_t len,
                           const char *server, const char *account, const char *source,
                           size_t *added)
{
	if (ev->ncerts >= RL_MAX_CERTS || ev->names >= RL_MAX_EVENTS) {
		ev->over_limit++;
		return 0;
	}
	BIO *b = BIO_new_mem_buf(pem, (int)(len > 0x7fffffff ? 0x7fffffff : len));
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	int ret = -1;
	if (!x)
		return -1;  /* not a certificate: the caller counts it */
	if (diag_grow((void **)&ev->certs, &ev->capcerts, ev->ncerts + 1, sizeof(*ev->certs)))
		goto out;
	struct rl_cert *c = &ev->certs[ev->ncerts];
	memset(c, 0, sizeof(*c));
	unsigned int dl = 0;
	c->not_before = rl_asn1_time(X509_get0_notBefore(x));
	c->not_after = rl_asn1_time(X509_get0_notAfter(x));
	c->issued = c->not_before + (rl_is_letsencrypt(x, server) ? 3600 : 0);
	c->server = rl_server(server);
	c->account = rl_dup(account);
	c->source = rl_dup(source);
	rl_certid(x, c->certid, sizeof(c->certid));
	if (!c->not_before || !c->server || !c->account || !c->source || rl_cert_names(x, c) ||
	    !X509_digest(x, EVP_sha256(), c->sha256, &dl)) {
		rl_cert_clear(c);
		goto out;
	}
	ev->ncerts++;
	ev->names += c->nnames;
	if (added)
		(*added)++;
	ret = 0;
out:
	X509_free(x);
	return ret;
}

/* ---- time ---- */

int64_t ratelimit_rfc3339(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static void rl_when(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(buf, len, "?");
}

static void rl_span(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 2 * 86400)
		snprintf(buf, len, "%lld d %lld h", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, len, "%lld h %lld min", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, len, "%lld min", (long long)((s + 59) / 60));
	else
		snprintf(buf, len, "%lld s", (long long)s);
}

static json_t *rl_json_time(int64_t t)
{
	char ts[32];
	diag_rfc3339(t * 1000, ts);
	return json_string(ts);
}

/* ---- the buckets (Boulder's GCRA) ---- */

struct rl_bucket {
	int64_t tat_ms;      /* theoretical arrival time; 0: full */
	int64_t interval_ms; /* one token back every interval */
	int64_t burst;
	size_t spent, refused, seen_in_window;
	int64_t first, last;
};

static void rl_bucket_init(struct rl_bucket *b, enum rl_limit l)
{
	memset(b, 0, sizeof(*b));
	b->interval_ms = rl_table[l].period_s * 1000 / rl_table[l].count;
	b->burst = rl_table[l].burst;
}

/* Spend one token at t if the bucket has it (a spend the bucket cannot
 * pay is a request the CA refuses). Returns 1 when spent. */
static int rl_spend(struct rl_bucket *b, int64_t t)
{
	int64_t now = t * 1000, tat = b->tat_ms > now ? b->tat_ms : now;
	if (!b->first)
		b->first = t;
	b->last = t;
	if (tat + b->interval_ms - b->burst * b->interval_ms > now) {
		b->refused++;
		return 0;
	}
	b->tat_ms = tat + b->interval_ms;
	b->spent++;
	return 1;
}

/* Tokens left at now (Unix s) and when the next comes back. */
static int64_t rl_left(const struct rl_bucket *b, int64_t now, int64_t *next_at)
{
	int64_t n = now * 1000, base = b->tat_ms - b->burst * b->interval_ms;
	int64_t left = n <= base ? 0 : (n - base) / b->interval_ms;
	if (left > b->burst)
		left = b->burst;
	/* the next token comes back when base + (left + 1) * interval passes */
	*next_at = left >= b->burst ? now : (base + (left + 1) * b->interval_ms + 999) / 1000;
	return left;
}

/* ---- grouping ---- */

struct rl_item {
	const char *k1, *k2, *k3;  /* the bucket's key */
	int64_t at;
	size_t idx;                /* into certs or events */
	int spend;                 /* 1 spend, 0 look only, -1 reset (a valid authorization) */
};

static int rl_item_cmp(const void *a, const void *b)
{
	const struct rl_item *x = a, *y = b;
	int c = strcmp(x->k1, y->k1);
	if (!c)
		c = strcmp(x->k2, y->k2);
	if (!c)
		c = strcmp(x->k3, y->k3);
	if (!c)
		c = x->at < y->at ? -1 : x->at > y->at;
	return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

static int rl_same_bucket(const struct rl_item *a, const struct rl_item *b)
{
	return !strcmp(a->k1, b->k1) && !strcmp(a->k2, b->k2) && !strcmp(a->k3, b->k3);
}

/* The host[:port] of a URL (or a host as given), lower case. */
static void rl_host(const char *url, char *out, size_t len)
{
	const char *h = url ? strstr(url, "://") : NULL;
	h = h ? h + 3 : url ? url : "";
	size_t n = strcspn(h, "/?#");
	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)h[i]);
	out[n] = '\0';
}

struct rl_run {
	const struct ratelimit_evidence *ev;
	const struct ratelimit_opts *o;
	struct diag_report *r;
	int64_t now;
	char server[300];      /* the filter's host, "" for all */
	size_t *certs;         /* indexes of the certificates counted (unique, filtered), by time */
	size_t *byset;         /* the same, by server, set and time */
	size_t ncerts;
	size_t judged[RL_NLIMITS];
	int oom;
};

static int rl_server_ok(const struct rl_run *x, const char *server)
{
	char h[300];
	if (!*x->server)
		return 1;
	rl_host(server, h, sizeof(h));
	return !strcmp(h, x->server);
}

static const struct rl_cert *rl_cert_at(const struct rl_run *x, size_t i)
{
	return &x->ev->certs[x->certs[i]];
}

/* The first certificate (in byset order: server, set, time) at or after
 * (server, set, t). */
static size_t rl_lower(const struct rl_run *x, const char *server, const char *set, int64_t t)
{
	size_t lo = 0, hi = x->ncerts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rl_cert *c = &x->ev->certs[x->byset[mid]];
		int cmp = strcmp(c->server, server);
		if (!cmp)
			cmp = strcmp(c->set, set);
		if (!cmp)
			cmp = c->issued < t ? -1 : c->issued > t;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Was a certificate for set issued on server in the 120 days before t
 * (not at t itself)? */
static int rl_renews(const struct rl_run *x, const char *server, const char *set, int64_t t)
{
	size_t i = rl_lower(x, server, set, t - RL_RENEWAL_WINDOW);
	if (i >= x->ncerts)
		return 0;
	const struct rl_cert *c = &x->ev->certs[x->byset[i]];
	return !strcmp(c->server, server) && !strcmp(c->set, set) && c->issued < t;
}

/* The newest certificate of a set on a server, or NULL. */
static const struct rl_cert *rl_newest(const struct rl_run *x, const char *server, const char *set)
{
	size_t i = rl_lower(x, server, set, INT64_MAX);
	if (!i)
		return NULL;
	const struct rl_cert *c = &x->ev->certs[x->byset[i - 1]];
	return !strcmp(c->server, server) && !strcmp(c->set, set) ? c : NULL;
}

/* Boulder's default ARI window (core.RenewalInfoSimple): centred a third
 * of the validity before expiry (half for under 10 days), 2% of it wide. */
static void rl_ari_window(const struct rl_cert *c, int64_t *start, int64_t *end)
{
	diag_ari_default_window(c->not_before, c->not_after, start, end);
}

/* Dedupe (by SHA-256) and order the certificates the filter keeps. */
static const struct ratelimit_evidence *rl_sort_ev;

static int rl_cert_cmp(const void *a, const void *b)
{
	const struct rl_cert *x = &rl_sort_ev->certs[*(const size_t *)a];
	const struct rl_cert *y = &rl_sort_ev->certs[*(const size_t *)b];
	int c = memcmp(x->sha256, y->sha256, sizeof(x->sha256));
	return c ? c : (*(const size_t *)a < *(const size_t *)b ? -1 : 1);
}

static int rl_cert_time_cmp(const void *a, const void *b)
{
	const struct rl_cert *x = &rl_sort_ev->certs[*(const size_t *)a];
	const struct rl_cert *y = &rl_sort_ev->certs[*(const size_t *)b];
	return x->issued < y->issued ? -1 : x->issued > y->issued;
}

static int rl_cert_set_cmp(const void *a, const void *b)
{
	const struct rl_cert *x = &rl_sort_ev->certs[*(const size_t *)a];
	const struct rl_cert *y = &rl_sort_ev->certs[*(const size_t *)b];
	int c = strcmp(x->server, y->server);
	if (!c)
		c = strcmp(x->set, y->set);
	return c ? c : (x->issued < y->issued ? -1 : x->issued > y->issued);
}

static int rl_collect_certs(struct rl_run *x)
{
	const struct ratelimit_evidence *ev = x->ev;
	x->certs = calloc(ev->ncerts ? ev->ncerts : 1, sizeof(size_t));
	if (!x->certs)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < ev->ncerts; i++)
		if (rl_server_ok(x, ev->certs[i].server))
			x->certs[n++] = i;
	rl_sort_ev = ev;
	diag_sort(x->certs, n, sizeof(size_t), rl_cert_cmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!k || memcmp(ev->certs[x->certs[k - 1]].sha256, ev->certs[x->certs[i]].sha256, 32))
			x->certs[k++] = x->certs[i];
	diag_sort(x->certs, k, sizeof(size_t), rl_cert_time_cmp);
	x->ncerts = k;
	if (!(x->byset = calloc(k ? k : 1, sizeof(size_t))))
		return -1;
	memcpy(x->byset, x->certs, k * sizeof(size_t));
	diag_sort(x->byset, k, sizeof(size_t), rl_cert_set_cmp);
	return 0;
}

/* ---- findings ---- */

static const char *rl_period_text(enum rl_limit l)
{
	switch (l) {
	case RL_DUPLICATE: case RL_PER_DOMAIN: return "7 days";
	case RL_FAILED_AUTHZ: return "hour";
	case RL_NEW_ORDERS: return "3 hours";
	default: return "";
	}
}

/* One bucket's finding: how much is left now and when a slot frees. */
static struct diag_finding *rl_bucket_finding(struct rl_run *x, enum rl_limit l, const char *target,
                                              const char *server, const char *account,
                                              const struct rl_bucket *b, size_t in_window,
                                              const char *what, const char *next_what)
{
	const struct rl_limit_def *d = &rl_table[l];
	int64_t next_at, left = rl_left(b, x->now, &next_at);
	int64_t warn_at = d->burst / 5 > 1 ? d->burst / 5 : 1;
	char when[40], in[40], every[40], seen[160];
	rl_when(next_at, when, sizeof(when));
	rl_span(next_at - x->now, in, sizeof(in));
	rl_span(b->interval_ms / 1000, every, sizeof(every));
	if (l == RL_PAUSED)
		snprintf(seen, sizeof(seen), "%zu %s", in_window, what);
	else
		snprintf(seen, sizeof(seen), "%zu %s in the last %s", in_window, what, rl_period_text(l));
	struct diag_finding *f;
	char id[64];
	snprintf(id, sizeof(id), "ratelimit.%s", d->id);
	if (left == 0)
		f = diag_add(x->r, DIAG_FAIL, id, target, "%s; Let's Encrypt allows %lld (one more every %s): "
		             "none left, the next %s is refused until %s (in %s)", seen, (long long)d->burst,
		             every, next_what, when, in);
	else if (left <= warn_at)
		f = diag_add(x->r, DIAG_WARN, id, target, "%s: %lld of %lld left, near the limit; the next "
		             "slot frees at %s (in %s)", seen, (long long)left, (long long)d->burst, when, in);
	else if (left < d->burst)
		f = diag_add(x->r, DIAG_OK, id, target, "%s: %lld of %lld left; the next slot frees at %s",
		             seen, (long long)left, (long long)d->burst, when);
	else
		f = diag_add(x->r, DIAG_OK, id, target, "%s: %lld of %lld left", seen, (long long)left,
		             (long long)d->burst);
	if (!f) {
		x->oom = 1;
		return NULL;
	}
	x->judged[l]++;
	if (b->refused)
		diag_set_detail(f, "%zu of the %zu seen would have been refused by Let's Encrypt (the bucket "
		                "was empty then); a CA without limits (Pebble) issued them.", b->refused,
		                b->spent + b->refused);
	diag_evidence(f, "limit", json_string(d->id));
	diag_evidence(f, "used", json_integer(d->burst - left));
	diag_evidence(f, "left", json_integer(left));
	diag_evidence(f, "burst", json_integer(d->burst));
	diag_evidence(f, "window_seconds", json_integer(d->period_s * d->burst / d->count));
	diag_evidence(f, "refill_seconds", json_integer(b->interval_ms / 1000));
	diag_evidence(f, "next_slot_at", rl_json_time(next_at));
	diag_evidence(f, "seen", json_integer((json_int_t)in_window));
	diag_evidence(f, "refused", json_integer((json_int_t)b->refused));
	diag_evidence(f, "ca", diag_json_str(server));
	diag_evidence(f, "account", diag_json_str(account));
	diag_evidence(f, "table_read", json_string(diag_ratelimit_table_date));
	return f;
}

/* Items in [from, to) of the same bucket: the end of its run. */
static size_t rl_run_end(const struct rl_item *v, size_t n, size_t i)
{
	size_t j = i + 1;
	while (j < n && rl_same_bucket(&v[i], &v[j]))
		j++;
	return j;
}

/* The ARI exemption, where it applies: a renewal of the newest certificate
 * of the set that sends replaces inside the window. */
static void rl_ari_note(struct rl_run *x, struct diag_finding *f, const struct rl_cert *c)
{
	if (!f || !c || !*c->certid)
		return;
	int64_t start, end;
	rl_ari_window(c, &start, &end);
	char s[40], e[40];
	rl_when(start, s, sizeof(s));
	rl_when(end, e, sizeof(e));
	json_t *ari = json_pack("{s:s, s:o, s:o, s:b}", "replaces", c->certid, "start", rl_json_time(start),
	                        "end", rl_json_time(end), "now_inside", x->now >= start && x->now < end);
	diag_evidence(f, "ari", ari);
	const char *hint = f->hint ? f->hint : "";
	if (x->now >= start && x->now < end)
		diag_set_hint(f, "%s%sThe ARI window is open now (until %s): a renewal that sends replaces "
		              "\"%s\" is exempt from every limit.", hint, *hint ? " " : "", e, c->certid);
	else if (x->now < start)
		diag_set_hint(f, "%s%sA renewal that sends ARI's replaces \"%s\" inside the suggested window "
		              "(%s to %s) is exempt from every limit.", hint, *hint ? " " : "", c->certid, s, e);
}

static int rl_duplicates(struct rl_run *x)
{
	struct rl_item *v = calloc(x->ncerts ? x->ncerts : 1, sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < x->ncerts; i++) {
		const struct rl_cert *c = rl_cert_at(x, i);
		v[i] = (struct rl_item){ c->server, c->set, "", c->issued, i, 1 };
	}
	diag_sort(v, x->ncerts, sizeof(*v), rl_item_cmp);
	for (size_t i = 0, j; i < x->ncerts && !x->oom; i = j) {
		j = rl_run_end(v, x->ncerts, i);
		struct rl_bucket b;
		rl_bucket_init(&b, RL_DUPLICATE);
		size_t in_window = 0;
		for (size_t k = i; k < j; k++) {
			rl_spend(&b, v[k].at);
			in_window += v[k].at > x->now - rl_table[RL_DUPLICATE].period_s;
		}
		const struct rl_cert *newest = rl_newest(x, v[i].k1, v[i].k2);
		struct diag_finding *f = rl_bucket_finding(x, RL_DUPLICATE, v[i].k2, v[i].k1, newest->account,
		                                           &b, in_window, "certificates for this exact set",
		                                           "order for it");
		if (f && f->status == DIAG_FAIL)
			diag_set_hint(f, "Stop issuing this set again: the newest certificate (%s) is valid until "
			              "its expiry, so reuse it (certbot: no --force-renewal or --duplicate; lego: "
			              "renew only with --days; cert-manager: do not delete the Certificate or its "
			              "Secret to retry). Adding or removing a name makes another set, counted "
			              "against the registered domain.", newest->source);
		rl_ari_note(x, f, newest);
		diag_evidence(f, "newest", diag_json_str(newest->source));
	}
	free(v);
	return x->oom ? -1 : 0;
}

/* Certificates per registered domain: a certificate that renews its exact
 * set (issued in the 120 days before) is not counted. */
static int rl_per_domain(struct rl_run *x)
{
	size_t n = 0, cap = 0;
	struct rl_item *v = NULL;
	char **regs = NULL;
	size_t nregs = 0, capregs = 0;
	for (size_t i = 0; i < x->ncerts; i++) {
		const struct rl_cert *c = rl_cert_at(x, i);
		int renewal = rl_renews(x, c->server, c->set, c->issued);
		/* each registered domain once per certificate */
		size_t first = nregs;
		for (size_t k = 0; k < c->nnames && !x->oom; k++) {
			char reg[256];
			if (diag_registered_domain(c->names[k], reg, sizeof(reg)))
				continue;
			if (diag_grow((void **)&regs, &capregs, nregs + 1, sizeof(*regs)) ||
			    !(regs[nregs] = strdup(reg)))
				x->oom = 1;
			else
				nregs++;
		}
		if (nregs > first)  /* regs may still be NULL */
			diag_sort(regs + first, nregs - first, sizeof(*regs), rl_strcmp);
		size_t keep = first;
		for (size_t k = first; k < nregs; k++) {
			if (keep == first || strcmp(regs[keep - 1], regs[k]))
				regs[keep++] = regs[k];
			else
				free(regs[k]);
		}
		nregs = keep;
		for (size_t k = first; k < nregs && !x->oom; k++) {
			if (diag_grow((void **)&v, &cap, n + 1, sizeof(*v)))
				x->oom = 1;
			else
				v[n++] = (struct rl_item){ c->server, NULL, "", c->issued, k, !renewal };
		}
	}
	for (size_t i = 0; i < n; i++)
		v[i].k2 = regs[v[i].idx];
	diag_sort(v, n, sizeof(*v), rl_item_cmp);
	for (size_t i = 0, j; i < n && !x->oom; i = j) {
		j = rl_run_end(v, n, i);
		struct rl_bucket b;
		rl_bucket_init(&b, RL_PER_DOMAIN);
		size_t in_window = 0, renewals = 0;
		for (size_t k = i; k < j; k++) {
			if (v[k].spend) {
				rl_spend(&b, v[k].at);
				in_window += v[k].at > x->now - rl_table[RL_PER_DOMAIN].period_s;
			} else {
				renewals++;
			}
		}
		struct diag_finding *f = rl_bucket_finding(x, RL_PER_DOMAIN, v[i].k2, v[i].k1, "", &b, in_window,
		                                           "new certificates under it", "new set of names");
		if (f && f->status == DIAG_FAIL)
			diag_set_hint(f, "Renewals are exempt (a set issued in the last 120 days, or an ARI renewal "
			              "inside its window): renew what exists rather than adding sets, or put more "
			              "names in one certificate (up to 100). A registered domain that needs more "
			              "can ask Let's Encrypt for an override.");
		diag_evidence(f, "renewals_not_counted", json_integer((json_int_t)renewals));
		if (f)
			diag_set_detail(f, "%s%sOther machines, clients and accounts issuing under %s count here "
			                "too: what they issued is not in this evidence (crt.sh shows it all).",
			                f->detail ? f->detail : "", f->detail ? " " : "", v[i].k2);
	}
	free(v);
	for (size_t i = 0; i < nregs; i++)
		free(regs[i]);
	free(regs);
	return x->oom ? -1 : 0;
}

/* Bucket, kind, object URL, time. */
static int rl_item_key_cmp(const void *a, const void *b)
{
	const struct rl_item *x = a, *y = b;
	int c = strcmp(x->k1, y->k1);
	if (!c)
		c = strcmp(x->k2, y->k2);
	if (!c)
		c = strcmp(x->k3, y->k3);
	const struct rl_event *e = &rl_sort_ev->events[x->idx], *f = &rl_sort_ev->events[y->idx];
	if (!c)
		c = (int)e->kind - (int)f->kind;
	if (!c)
		c = strcmp(e->key, f->key);
	if (!c)
		c = x->at < y->at ? -1 : x->at > y->at;
	return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* The events of the server filter, of kinds (a bit per kind), deduped: a
 * client polls an authorization many times, and a log may be given twice. */
static struct rl_item *rl_events(struct rl_run *x, unsigned kinds, size_t *out_n, int by_ident)
{
	const struct ratelimit_evidence *ev = x->ev;
	struct rl_item *v = calloc(ev->nevents ? ev->nevents : 1, sizeof(*v));
	if (!v) {
		x->oom = 1;
		return NULL;
	}
	size_t n = 0;
	for (size_t i = 0; i < ev->nevents; i++) {
		const struct rl_event *e = &ev->events[i];
		if (!(kinds & (1u << e->kind)) || !rl_server_ok(x, e->server))
			continue;
		v[n++] = (struct rl_item){ e->server, e->account, by_ident ? e->ident : "", e->at, i,
		                           e->kind == RL_EV_AUTHZ_VALID ? -1 : 1 };
	}
	/* the same object (URL) in the same state, or the same event twice,
	 * are next to each other in this order; then by time */
	rl_sort_ev = ev;
	diag_sort(v, n, sizeof(*v), rl_item_key_cmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct rl_event *e = &ev->events[v[i].idx];
		const struct rl_event *o = k ? &ev->events[v[k - 1].idx] : NULL;
		int dup = o && rl_same_bucket(&v[k - 1], &v[i]) && o->kind == e->kind &&
		          !strcmp(o->key, e->key) && (*e->key || o->at == e->at);
		if (!dup)
			v[k++] = v[i];
	}
	diag_sort(v, k, sizeof(*v), rl_item_cmp);
	*out_n = k;
	return v;
}

static const char *rl_account_text(const char *account)
{
	return *account ? account : "(account not recorded)";
}

static int rl_failed_validations(struct rl_run *x)
{
	size_t n;
	struct rl_item *v = rl_events(x, 1u << RL_EV_AUTHZ_FAILED, &n, 1);
	if (!v)
		return -1;
	for (size_t i = 0, j; i < n && !x->oom; i = j) {
		j = rl_run_end(v, n, i);
		struct rl_bucket b;
		rl_bucket_init(&b, RL_FAILED_AUTHZ);
		size_t in_window = 0;
		for (size_t k = i; k < j; k++) {
			rl_spend(&b, v[k].at);
			in_window += v[k].at > x->now - rl_table[RL_FAILED_AUTHZ].period_s;
		}
		struct diag_finding *f = rl_bucket_finding(x, RL_FAILED_AUTHZ, v[i].k3, v[i].k1, v[i].k2, &b,
		                                           in_window, "failed validations of this account",
		                                           "order with this name from the account");
		if (f && f->status != DIAG_OK)
			diag_set_hint(f, "Fix the validation before trying again (acme-doctor %s shows why it "
			              "fails), and do not retry in a loop: test against the staging CA. Each "
			              "failure also counts toward the pause after 1,152 in a row.", v[i].k3);
		diag_evidence(f, "last_failure", rl_json_time(v[j - 1].at));
		diag_evidence(f, "source", diag_json_str(x->ev->events[v[j - 1].idx].source));
		if (f)
			diag_set_detail(f, "%s%sAccount %s. Failures of this name by other accounts count in "
			                "their own buckets; those of other machines using this account are not "
			                "in this evidence.", f->detail ? f->detail : "", f->detail ? " " : "",
			                rl_account_text(v[i].k2));
	}
	free(v);
	return x->oom ? -1 : 0;
}

/* 1,152 failed validations in a row (refilling one a day, reset by a
 * valid one) pause the identifier for the account. */
static int rl_pauses(struct rl_run *x)
{
	size_t n;
	struct rl_item *v = rl_events(x, 1u << RL_EV_AUTHZ_FAILED | 1u << RL_EV_AUTHZ_VALID, &n, 1);
	if (!v)
		return -1;
	for (size_t i = 0, j; i < n && !x->oom; i = j) {
		j = rl_run_end(v, n, i);
		struct rl_bucket b;
		rl_bucket_init(&b, RL_PAUSED);
		size_t streak = 0;
		int64_t paused_at = 0;
		for (size_t k = i; k < j; k++) {
			if (v[k].spend < 0) {  /* a valid authorization resets the bucket */
				rl_bucket_init(&b, RL_PAUSED);
				streak = 0;
				paused_at = 0;
				continue;
			}
			streak++;
			if (!rl_spend(&b, v[k].at) && !paused_at)
				paused_at = v[k].at;
		}
		if (!streak)
			continue;  /* only successes: nothing counts toward a pause */
		struct diag_finding *f = rl_bucket_finding(x, RL_PAUSED, v[i].k3, v[i].k1, v[i].k2, &b, streak,
		                                           "failed validations in a row (since the last valid "
		                                           "one)", "order with this name from the account");
		if (f && paused_at) {
			f->status = DIAG_FAIL;
			char when[40];
			rl_when(paused_at, when, sizeof(when));
			diag_set_hint(f, "The identifier was paused for this account at %s: new orders for it "
			              "are refused (\"Your account is temporarily prevented from requesting "
			              "certificates for %s\") until you unpause it at the link in that error "
			              "(https://portal.letsencrypt.org/sfe/v1/unpause), after fixing validation.",
			              when, v[i].k3);
		}
	}
	free(v);
	return x->oom ? -1 : 0;
}

/* An order whose exact set was issued in the 120 days before is a renewal:
 * not counted against new orders. */
static int rl_new_orders(struct rl_run *x)
{
	size_t n;
	struct rl_item *v = rl_events(x, 1u << RL_EV_ORDER, &n, 0);
	if (!v)
		return -1;
	for (size_t i = 0, j; i < n && !x->oom; i = j) {
		j = rl_run_end(v, n, i);
		struct rl_bucket b;
		rl_bucket_init(&b, RL_NEW_ORDERS);
		size_t in_window = 0, renewals = 0;
		for (size_t k = i; k < j; k++) {
			const struct rl_event *e = &x->ev->events[v[k].idx];
			if (rl_renews(x, e->server, e->ident, e->at + 1)) {
				renewals++;
				continue;
			}
			rl_spend(&b, v[k].at);
			in_window += v[k].at > x->now - rl_table[RL_NEW_ORDERS].period_s;
		}
		struct diag_finding *f = rl_bucket_finding(x, RL_NEW_ORDERS, rl_account_text(v[i].k2), v[i].k1,
		                                           v[i].k2, &b, in_window, "new orders from this account",
		                                           "new order");
		if (f && f->status != DIAG_OK)
			diag_set_hint(f, "Something creates orders in a loop: find the client that retries (its "
			              "log, cron or the cert-manager Certificate that keeps failing) and fix the "
			              "cause before it runs again. Renewals of an existing set are not counted.");
		diag_evidence(f, "renewals_not_counted", json_integer((json_int_t)renewals));
	}
	free(v);
	return x->oom ? -1 : 0;
}

/* ---- 429 answers ---- */

/* Case-insensitive strstr. */
static const char *rl_find(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; hay && *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return hay;
	return NULL;
}

enum rl_limit diag_ratelimit_detail(const char *detail, int64_t *retry_at, int *registrations)
{
	*retry_at = 0;
	*registrations = 0;
	if (!detail)
		return RL_NLIMITS;
	const char *ra = rl_find(detail, "retry after ");
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (ra && sscanf(ra + 12, "%4d-%2d-%2d %2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	                 &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6 && tm.tm_year > 1970 && tm.tm_year < 10000 &&
	    tm.tm_mon >= 1 && tm.tm_mon <= 12) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		*retry_at = (int64_t)timegm(&tm);  /* Boulder writes it in UTC */
	}
	if (rl_find(detail, "temporarily prevented") || rl_find(detail, "unpause"))
		return RL_PAUSED;
	if (rl_find(detail, "exact set"))
		return RL_DUPLICATE;
	if (rl_find(detail, "failed authorization") || rl_find(detail, "failed validation"))
		return RL_FAILED_AUTHZ;
	if (rl_find(detail, "new orders"))
		return RL_NEW_ORDERS;
	if (rl_find(detail, "registrations") || rl_find(detail, "new accounts")) {
		*registrations = 1;
		return RL_NLIMITS;
	}
	if (rl_find(detail, "too many certificates") || rl_find(detail, "already issued for"))
		return RL_PER_DOMAIN;
	return RL_NLIMITS;
}

static const char *rl_problem_hint(enum rl_limit l, int registrations, long status)
{
	if (registrations)
		return "Reuse the account instead of creating one per run (certbot keeps it in "
		       "/etc/letsencrypt/accounts, lego in .lego/accounts, cert-manager in the Issuer's "
		       "Secret): new accounts are limited per IP address.";
	switch (l) {
	case RL_DUPLICATE:
		return "The same set of names was issued 5 times in 7 days: use the certificate you have "
		       "(do not force renewals); an ARI renewal that sends replaces inside its window is "
		       "exempt.";
	case RL_PER_DOMAIN:
		return "Too many new certificates under this registered domain: renewals are exempt, so renew "
		       "existing sets and combine names (up to 100 a certificate); ask Let's Encrypt for an "
		       "override if you need more.";
	case RL_FAILED_AUTHZ:
		return "Validation keeps failing: fix it first (acme-doctor shows why), then wait for the "
		       "hour to pass; test against the staging CA.";
	case RL_NEW_ORDERS:
		return "A client creates orders in a loop: stop it and fix why it retries.";
	case RL_PAUSED:
		return "The identifier is paused for this account after too many failed validations: fix "
		       "validation, then unpause it at the link the error gives.";
	default:
		return status == 503 ? "Too many requests per second from this IP address: slow the client "
		                       "down and honour Retry-After."
		                     : "Wait as Retry-After says, and find what sends so many requests.";
	}
}

static int rl_problems(struct rl_run *x)
{
	const struct ratelimit_evidence *ev = x->ev;
	for (size_t i = 0; i < ev->nproblems && !x->oom; i++) {
		const struct rl_problem *p = &ev->problems[i];
		if (!rl_server_ok(x, p->server))
			continue;
		int64_t retry_at;
		int regs;
		enum rl_limit l = diag_ratelimit_detail(p->detail, &retry_at, &regs);
		if (!strstr(p->type, "rateLimited") && l != RL_PAUSED)
			continue;  /* other errors are not about limits */
		if (!retry_at && p->retry_after >= 0 && p->at)
			retry_at = p->at + p->retry_after;
		char at[40], when[40], in[40];
		rl_when(p->at, at, sizeof(at));
		rl_when(retry_at, when, sizeof(when));
		rl_span(retry_at - x->now, in, sizeof(in));
		const char *what = l < RL_NLIMITS ? rl_table[l].title : regs ? "new accounts per IP address"
		                   : p->status == 503 ? "requests per second per IP address" : "a limit";
		char shown[200];
		snprintf(shown, sizeof(shown), "%.*s", (int)diag_utf8_cut(p->detail, strlen(p->detail), 160),
		         p->detail);
		struct diag_finding *f;
		if (retry_at > x->now)
			f = diag_add(x->r, DIAG_FAIL, "ratelimit.problem", p->source, "the CA refused at %s: %s "
			             "(\"%s%s\"); retry after %s (in %s)", at, what, shown,
			             strlen(shown) < strlen(p->detail) ? "..." : "", when, in);
		else
			f = diag_add(x->r, DIAG_OK, "ratelimit.problem", p->source, "the CA refused at %s: %s "
			             "(\"%s%s\"); %s%s", at, what, shown, strlen(shown) < strlen(p->detail) ? "..." : "",
			             retry_at ? "that wait ended at " : "no retry time given", retry_at ? when : "");
		if (!f) {
			x->oom = 1;
			break;
		}
		diag_set_hint(f, "%s", rl_problem_hint(l, regs, p->status));
		diag_set_detail(f, "%s", p->detail);
		diag_evidence(f, "type", diag_json_str(p->type));
		diag_evidence(f, "status", p->status ? json_integer(p->status) : json_null());
		diag_evidence(f, "retry_after", p->retry_after >= 0 ? json_integer(p->retry_after) : json_null());
		diag_evidence(f, "retry_at", retry_at ? rl_json_time(retry_at) : json_null());
		diag_evidence(f, "limit", l < RL_NLIMITS ? json_string(rl_table[l].id)
		                          : regs ? json_string("new-registrations") : json_null());
		diag_evidence(f, "ca", diag_json_str(p->server));
		diag_evidence(f, "account", diag_json_str(p->account));
		const char *url = strstr(p->detail, "https://");
		if (l == RL_PAUSED && url)
			diag_evidence(f, "unpause", diag_json_strn(url, strcspn(url, " \"'")));
	}
	return x->oom ? -1 : 0;
}

/* ---- what was counted, and what it cannot show ---- */

static int rl_evidence(struct rl_run *x)
{
	const struct ratelimit_evidence *ev = x->ev;
	size_t counts[3] = {0}, staging = 0;
	for (size_t i = 0; i < ev->nevents; i++)
		if (rl_server_ok(x, ev->events[i].server))
			counts[ev->events[i].kind]++;
	for (size_t i = 0; i < x->ncerts; i++)
		staging += strstr(rl_cert_at(x, i)->server, "staging") != NULL;
	size_t total = x->ncerts + counts[0] + counts[1] + counts[2] + ev->nproblems;
	struct diag_finding *f = diag_add(x->r, total ? DIAG_OK : DIAG_WARN, "ratelimit.evidence", "",
	                                  "counted %zu certificates, %zu orders, %zu failed and %zu valid "
	                                  "validations, %zu CA answers%s; limits as Let's Encrypt published "
	                                  "them on %s", x->ncerts, counts[0], counts[1], counts[2],
	                                  ev->nproblems, *x->server ? " of that server" : "",
	                                  diag_ratelimit_table_date);
	if (!f)
		return -1;
	diag_set_detail(f, "Local evidence cannot show what other machines, other ACME clients or other "
	                "accounts did: certificates they issued under the same registered domains, their "
	                "orders and failed validations, or anything older than the logs kept.%s%s",
	                staging ? " Certificates from a staging CA are judged with production's numbers "
	                "(staging's are higher)." : "",
	                ev->over_limit ? " Some evidence was past the reading bounds and not counted." : "");
	if (!total)
		diag_set_hint(f, "Nothing was read to count: give the client's store (--from certbot, --from "
		              "lego DIR, --from acme.sh DIR), its logs (--log FILE or DIR), or cert-manager's "
		              "objects (--from-kubectl FILE).");
	diag_evidence(f, "certificates", json_integer((json_int_t)x->ncerts));
	diag_evidence(f, "orders", json_integer((json_int_t)counts[RL_EV_ORDER]));
	diag_evidence(f, "failed_validations", json_integer((json_int_t)counts[RL_EV_AUTHZ_FAILED]));
	diag_evidence(f, "valid_validations", json_integer((json_int_t)counts[RL_EV_AUTHZ_VALID]));
	diag_evidence(f, "answers", json_integer((json_int_t)ev->nproblems));
	diag_evidence(f, "over_limit", json_integer((json_int_t)ev->over_limit));
	diag_evidence(f, "table_read", json_string(diag_ratelimit_table_date));
	json_t *table = json_array();
	for (int l = 0; l < RL_NLIMITS; l++)
		json_array_append_new(table, json_pack("{s:s, s:I, s:I, s:I, s:s}", "limit", rl_table[l].id,
		                                       "burst", (json_int_t)rl_table[l].burst, "count",
		                                       (json_int_t)rl_table[l].count, "period_seconds",
		                                       (json_int_t)rl_table[l].period_s, "url", rl_table[l].url));
	diag_evidence(f, "table", table);
	return 0;
}

static int rl_unseen(struct rl_run *x)
{
	static const char *const feeds[RL_NLIMITS] = {
		[RL_DUPLICATE] = "certificates in a store or cert-manager's objects",
		[RL_PER_DOMAIN] = "certificates in a store or cert-manager's objects",
		[RL_FAILED_AUTHZ] = "failed validations in a client's log or cert-manager's Challenges",
		[RL_NEW_ORDERS] = "orders in a client's log or cert-manager's Orders",
		[RL_PAUSED] = "failed validations in a client's log or cert-manager's Challenges",
	};
	for (int l = 0; l < RL_NLIMITS; l++) {
		if (x->judged[l])
			continue;
		char id[64];
		snprintf(id, sizeof(id), "ratelimit.%s", rl_table[l].id);
		struct diag_finding *f = diag_add(x->r, DIAG_SKIP, id, "", "nothing to count for %s: it is "
		                                  "counted from %s", rl_table[l].title, feeds[l]);
		if (!f)
			return -1;
		diag_evidence(f, "limit", json_string(rl_table[l].id));
	}
	return 0;
}

static int64_t rl_now(const struct ratelimit_opts *o)
{
	return o && o->now ? o->now : diag_wall_ms() / 1000;
}

int diag_ratelimit_judge(const struct ratelimit_evidence *ev, const struct ratelimit_opts *o,
                         struct diag_report *r)
{
	struct rl_run x = { .ev = ev, .o = o, .r = r, .now = rl_now(o) };
	rl_host(o ? o->server : NULL, x.server, sizeof(x.server));
	int ret = -1;
	if (rl_collect_certs(&x) || rl_duplicates(&x) || rl_per_domain(&x) || rl_failed_validations(&x) ||
	    rl_pauses(&x) || rl_new_orders(&x) || rl_problems(&x) || rl_unseen(&x) || rl_evidence(&x))
		goto out;
	ret = 0;
out:
	free(x.certs);
	free(x.byset);
	return ret;
}

/* ---- metrics ---- */

static int rl_metric_families(struct diag_metrics *m)
{
	return diag_metrics_family(m, "acme_diag_ratelimit_used", "gauge", NULL,
	                           "Tokens of a Let's Encrypt rate limit bucket in use now, as replayed "
	                           "from local evidence") ||
	       diag_metrics_family(m, "acme_diag_ratelimit_limit", "gauge", NULL,
	                           "The bucket's size (the limit)") ||
	       diag_metrics_family(m, "acme_diag_ratelimit_window_seconds", "gauge", "seconds",
	                           "The limit's window: the bucket refills whole in this long") ||
	       diag_metrics_family(m, "acme_diag_ratelimit_next_slot_timestamp_seconds", "gauge", "seconds",
	                           "When the bucket next gains a token (Unix time)") ||
	       diag_metrics_cert_families(m);
}

static json_int_t rl_ev_int(const struct diag_finding *f, const char *k)
{
	return json_integer_value(json_object_get(f->evidence, k));
}

int diag_ratelimit_metrics(const struct ratelimit_evidence *ev, const struct ratelimit_opts *o,
                           const struct diag_report *r, struct diag_metrics *m)
{
	if (rl_metric_families(m))
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		const struct diag_finding *f = r->v[i];
		const char *limit = json_string_value(json_object_get(f->evidence, "limit"));
		const char *next = json_string_value(json_object_get(f->evidence, "next_slot_at"));
		if (strncmp(f->id, "ratelimit.", 10) || !strcmp(f->id, "ratelimit.problem") || !limit || !next)
			continue;
		const char *ca = json_string_value(json_object_get(f->evidence, "ca"));
		const char *acct = json_string_value(json_object_get(f->evidence, "account"));
		const char *l[] = {"limit", limit, "name", f->target, "account", acct ? acct : "",
		                   "ca", ca ? ca : "", NULL};
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		int64_t next_s = strptime(next, "%Y-%m-%dT%H:%M:%S", &tm) ? (int64_t)timegm(&tm) : 0;
		if (diag_metrics_sample(m, "acme_diag_ratelimit_used", l, (double)rl_ev_int(f, "used")) ||
		    diag_metrics_sample(m, "acme_diag_ratelimit_limit", l, (double)rl_ev_int(f, "burst")) ||
		    diag_metrics_sample(m, "acme_diag_ratelimit_window_seconds", l,
		                        (double)rl_ev_int(f, "window_seconds")) ||
		    diag_metrics_sample(m, "acme_diag_ratelimit_next_slot_timestamp_seconds", l, (double)next_s))
			return -1;
	}
	struct rl_run x = { .ev = ev, .o = o, .now = rl_now(o) };
	rl_host(o ? o->server : NULL, x.server, sizeof(x.server));
	int ret = -1;
	if (rl_collect_certs(&x))
		goto out;
	for (size_t i = 0; i < x.ncerts; i++) {
		const struct rl_cert *c = &ev->certs[x.byset[i]];
		const struct rl_cert *n = i + 1 < x.ncerts ? &ev->certs[x.byset[i + 1]] : NULL;
		if (n && !strcmp(n->server, c->server) && !strcmp(n->set, c->set))
			continue;  /* the newest of each set only */
		int64_t start, end;
		rl_ari_window(c, &start, &end);
		const char *l[] = {"name", c->set, "ca", c->server, NULL};
		if (diag_metrics_sample(m, "acme_diag_certificate_expiry_timestamp_seconds", l,
		                        (double)c->not_after) ||
		    diag_metrics_sample(m, "acme_diag_certificate_renewal_window_start_timestamp_seconds", l,
		                        (double)start))
			goto out;
	}
	ret = 0;
out:
	free(x.certs);
	free(x.byset);
	return ret;
}
