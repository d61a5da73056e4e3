/* SPDX-License-Identifier: ISC */
/* tlschain.c - served chains per address (tlschain.h). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "diag/finding.h"
#include "tlschain.h"

struct addr {
	struct tls_fetch *t;
	struct tls_served s;
	CURL *easy;
	struct curl_slist *pin;
	int64_t started;
};

struct tls_fetch {
	struct diag_loop *loop;
	struct tls_opts o;
	char *host;
	uint16_t port;
	int timeout_ms;
	struct dns_engine *eng;
	struct diag_server srv[16];
	size_t nsrv;
	struct dns_q *qa[16], *q6[16];
	size_t pending;
	struct addr a[2 * TLS_MAX_ADDRS];
	size_t n;
	struct tls_served out[2 * TLS_MAX_ADDRS];
	size_t left;
	tls_done_cb cb;
	void *arg;
	int done;
};

static void finish(struct tls_fetch *t, const char *dns_err)
{
	if (t->done)
		return;
	t->done = 1;
	for (size_t i = 0; i < t->n; i++)
		t->out[i] = t->a[i].s;
	t->cb(t->arg, t->out, t->n, dns_err);
}

/* The chain from curl's certinfo: a "Cert:" PEM per certificate. */
static STACK_OF(X509) *chain_of(CURL *e)
{
	struct curl_certinfo *ci = NULL;
	if (curl_easy_getinfo(e, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs <= 0)
		return NULL;
	STACK_OF(X509) *sk = sk_X509_new_null();
	for (int i = 0; sk && i < ci->num_of_certs && i < TLS_MAX_CHAIN; i++)
		for (struct curl_slist *l = ci->certinfo[i]; l; l = l->next) {
			if (strncmp(l->data, "Cert:", 5))
				continue;
			BIO *b = BIO_new_mem_buf(l->data + 5, -1);
			X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
			BIO_free(b);
			if (x && !sk_X509_push(sk, x))
				X509_free(x);
		}
	ERR_clear_error();
	if (sk && !sk_X509_num(sk)) {
		sk_X509_free(sk);
		sk = NULL;
	}
	return sk;
}

static void addr_done(void *arg, CURL *e, CURLcode rc)
{
	struct addr *a = arg;
	a->s.rc = rc;
	a->s.ms = diag_now_ms() - a->started;
	curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &a->s.os_errno);
	if (rc == CURLE_OK && !(a->s.chain = chain_of(e))) {
		a->s.rc = CURLE_SSL_CONNECT_ERROR;
		snprintf(a->s.err, sizeof(a->s.err), "the server sent no certificate");
	} else if (rc != CURLE_OK) {
		long er = a->s.os_errno;
		snprintf(a->s.err, sizeof(a->s.err), "%s",
		         rc == CURLE_COULDNT_CONNECT ? (er == ECONNREFUSED ? "connection refused" :
		                                        er == ENETUNREACH || er == EHOSTUNREACH ? "network unreachable" :
		                                        "could not connect") :
		         rc == CURLE_OPERATION_TIMEDOUT ? "timed out" :
		         rc == CURLE_SSL_CONNECT_ERROR ? "the TLS handshake failed" :
		         rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ? "the connection was closed during the handshake" :
		         curl_easy_strerror(rc));
	}
	if (--a->t->left == 0)
		finish(a->t, NULL);
}

static int addr_start(struct tls_fetch *t, struct addr *a)
{
	char url[400], pin[400];
	int v6 = a->s.family == AF_INET6;
	snprintf(url, sizeof(url), strchr(t->host, ':') ? "https://[%s]:%u/" : "https://%s:%u/", t->host, t->port);
	snprintf(pin, sizeof(pin), v6 ? "%s:%u:[%s]" : "%s:%u:%s", t->host, t->port, a->s.ip);
	a->t = t;
	a->started = diag_now_ms();
	if (!(a->easy = curl_easy_init()) || !(a->pin = curl_slist_append(NULL, pin)))
		return -1;
	CURL *e = a->easy;
	CURLcode rc = CURLE_OK;
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_RESOLVE, a->pin);
	SET(CURLOPT_CONNECT_ONLY, 1L);
	SET(CURLOPT_CERTINFO, 1L);
	SET(CURLOPT_SSL_VERIFYPEER, 0L);  /* the chain is judged by the caller, as sent */
	SET(CURLOPT_SSL_VERIFYHOST, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)t->timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, (long)t->timeout_ms * 2);
	SET(CURLOPT_IPRESOLVE, v6 ? (long)CURL_IPRESOLVE_V6 : (long)CURL_IPRESOLVE_V4);
#undef SET
	if (rc != CURLE_OK || diag_loop_add_curl(t->loop, e, addr_done, a))
		return -1;
	return 0;
}

static void add_addr(struct tls_fetch *t, const char *ip, int family)
{
	if (t->n == 2 * TLS_MAX_ADDRS)
		return;
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->a[i].s.ip, ip))
			return;
	struct addr *a = &t->a[t->n++];
	snprintf(a->s.ip, sizeof(a->s.ip), "%s", ip);
	a->s.family = family;
}

static void collect(struct tls_fetch *t, const struct dns_q *q, ldns_rr_type type, int family)
{
	ldns_rr_list *l = dns_q_answer(q, type, NULL);
	size_t taken = 0;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l) && taken < TLS_MAX_ADDRS; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *s = ldns_rr_rd_count(rr) ? ldns_rdf2str(ldns_rr_rdf(rr, 0)) : NULL;
		if (s) {
			add_addr(t, s, family);
			taken++;
		}
		free(s);
	}
	ldns_rr_list_deep_free(l);
}

static void start_all(struct tls_fetch *t)
{
	if (!t->n) {
		finish(t, "no address");
		return;
	}
	t->left = t->n + 1;  /* a guard */
	for (size_t i = 0; i < t->n; i++)
		if (addr_start(t, &t->a[i])) {
			t->a[i].s.rc = CURLE_OUT_OF_MEMORY;
			snprintf(t->a[i].s.err, sizeof(t->a[i].s.err), "out of memory");
			t->left--;
		}
	if (--t->left == 0)
		finish(t, NULL);
}

static void addresses_known(struct tls_fetch *t)
{
	/* the first resolver (in the order given) that answered */
	for (size_t i = 0; i < t->nsrv && !t->n; i++) {
		if (dns_q_rcode(t->q6[i]) < 0 && dns_q_rcode(t->qa[i]) < 0)
			continue;
		if (t->q6[i])
			collect(t, t->q6[i], LDNS_RR_TYPE_AAAA, AF_INET6);
		if (t->qa[i])
			collect(t, t->qa[i], LDNS_RR_TYPE_A, AF_INET);
		if (!t->n) {
			finish(t, "no A or AAAA record");
			return;
		}
	}
	if (!t->n) {
		finish(t, t->nsrv && t->qa[0] ? dns_q_outcome(t->qa[0]) : t->nsrv ? dns_q_outcome(t->q6[0]) : "no resolver");
		return;
	}
	start_all(t);
}

static void on_answer(void *arg, struct dns_q *q)
{
	(void)q;
	struct tls_fetch *t = arg;
	if (--t->pending == 0)
		addresses_known(t);
}

static void begin(void *arg)
{
	struct tls_fetch *t = arg;
	unsigned char b[16];
	if (inet_pton(AF_INET, t->host, b) == 1 || inet_pton(AF_INET6, t->host, b) == 1) {
		add_addr(t, t->host, strchr(t->host, ':') ? AF_INET6 : AF_INET);
		start_all(t);
		return;
	}
	if (!(t->eng = dns_engine_new(t->loop, t->timeout_ms < 5000 ? t->timeout_ms : 5000))) {
		finish(t, "out of memory");
		return;
	}
	t->nsrv = diag_resolvers(t->o.ns, t->o.nns, NULL, 0, t->srv, 16);
	if (!t->nsrv) {
		finish(t, "no usable nameserver in /etc/resolv.conf");
		return;
	}
	t->pending = 1;
	for (size_t i = 0; i < t->nsrv; i++) {
		if (t->o.family != 6) {
			t->pending++;
			if (!(t->qa[i] = dns_ask(t->eng, &t->srv[i], t->host, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN,
			                         DNS_Q_RD, on_answer, t)))
				t->pending--;
		}
		if (t->o.family != 4) {
			t->pending++;
			if (!(t->q6[i] = dns_ask(t->eng, &t->srv[i], t->host, LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN,
			                         DNS_Q_RD, on_answer, t)))
				t->pending--;
		}
	}
	if (--t->pending == 0)
		addresses_known(t);
}

struct tls_fetch *tls_fetch_start(struct diag_loop *loop, const struct tls_opts *o,
                                  tls_done_cb cb, void *arg)
{
	struct tls_fetch *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->loop = loop;
	t->o = *o;
	t->cb = cb;
	t->arg = arg;
	t->port = o->port ? o->port : 443;
	t->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	if (!(t->host = diag_strdup(o->host)) || diag_loop_timer(loop, 0, begin, t)) {
		free(t->host);
		free(t);
		return NULL;
	}
	return t;
}

void tls_fetch_free(struct tls_fetch *t)
{
	if (!t)
		return;
	diag_loop_cancel_timers(t->loop, t);
	for (size_t i = 0; i < t->n; i++) {
		struct addr *a = &t->a[i];
		if (a->easy) {
			diag_loop_remove_curl(t->loop, a->easy);
			curl_easy_cleanup(a->easy);
		}
		curl_slist_free_all(a->pin);
		sk_X509_pop_free(a->s.chain, X509_free);
	}
	if (t->eng) {
		dns_engine_forget(t->eng, t);
		dns_engine_free(t->eng);
	}
	free(t->host);
	free(t);
}
