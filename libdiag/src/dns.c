/* SPDX-License-Identifier: ISC */
/* dns.c - queries to chosen servers: ldns builds and parses, c-ares sends. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag/dns.h"
#include "diag/finding.h"
#include "grow.h"

#define EDNS_BUFSIZE 1232  /* the DNS flag day 2020 value: no fragmentation */

/* One c-ares channel per (server, transport): c-ares sends a query to the
 * servers of its channel, and we want exactly one server per query. */
struct chan {
	struct sockaddr_storage addr;
	int tcp;
	ares_channel ch;
};

/* Questions in flight to one server, and those waiting for a slot: a
 * batch must not flood a server (a home router's dnsmasq refuses beyond
 * 150 forwarded questions at once). */
#define DNS_INFLIGHT_PER_SERVER 64
struct srvq {
	struct sockaddr_storage addr;
	unsigned inflight;
	struct dns_q *head, *tail;  /* waiting, through q->qnext */
	unsigned tcp_opens;         /* TCP connections c-ares opened after a truncated UDP reply */
};

/* A send in progress: c-ares's callback argument. The query may be freed
 * (or the engine go away) before c-ares calls back: then q is NULL, or the
 * engine is dying, and the callback only frees this. */
struct dns_send {
	struct dns_engine *e;
	struct dns_q *q;
	struct srvq *srv;
	unsigned tcp_at_send;  /* srv->tcp_opens when sent */
};

/* A probe that asked questions (the arg of dns_ask), and what it asked. */
struct owner {
	void *arg;
	struct dns_q **qs;
	size_t n, cap;
};

struct dns_engine {
	struct diag_loop *loop;
	int timeout_ms;
	int dying;
	struct chan *chans;
	size_t nchans, cap;
	/* queries of dns_ask(), owned here: a hash index (chained through
	 * q->hnext) and, per asker, the queries it asked, so that what only
	 * one probe ever asked goes when that probe forgets it */
	struct dns_q **buckets;
	size_t nbuckets, ncache;
	struct owner *owners;
	size_t nowners, capowners;
	struct sockaddr_storage *dead;  /* servers that timed out */
	struct srvq **srvs;             /* per server: in flight and waiting */
	size_t nsrvs, capsrvs;
	size_t ndead, capdead;
};

const char *dns_status_text(enum dns_status st)
{
	switch (st) {
	case DNS_OK: return "reply";
	case DNS_TIMEOUT: return "timed out";
	case DNS_REFUSED_CONN: return "connection refused or unreachable";
	case DNS_BADREPLY: return "malformed reply";
	case DNS_ERROR: return "query failed";
	}
	return "query failed";
}

int diag_server_from_ip(const char *ip, uint16_t port, struct diag_server *out)
{
	memset(out, 0, sizeof(*out));
	if (!port)
		port = DIAG_DNS_PORT;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&out->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->addr;
	if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		out->addrlen = sizeof(*a4);
		out->family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		out->addrlen = sizeof(*a6);
		out->family = AF_INET6;
	} else {
		return -1;
	}
	out->port = port;
	inet_ntop(out->family, out->family == AF_INET ? (void *)&a4->sin_addr
	                                                : (void *)&a6->sin6_addr,
	          out->ip, sizeof(out->ip));
	if (port == DIAG_DNS_PORT)
		snprintf(out->label, sizeof(out->label), "%s", out->ip);
	else if (out->family == AF_INET6)
		snprintf(out->label, sizeof(out->label), "[%s]:%u", out->ip, port);
	else
		snprintf(out->label, sizeof(out->label), "%s:%u", out->ip, port);
	return 0;
}

static int parse_port(const char *s, uint16_t *port, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	if (!*s || !isdigit((unsigned char)*s)) {
		snprintf(err, errlen, "port is not a number");
		return -1;
	}
	unsigned long v = strtoul(s, &end, 10);
	if (*end) {
		snprintf(err, errlen, "port is not a number");
		return -1;
	}
	if (errno || v == 0 || v > 65535) {
		snprintf(err, errlen, "port out of range (1-65535)");
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

int diag_hostport(const char *s, char *host, size_t hostlen, uint16_t *port,
                  uint16_t default_port, char *err, size_t errlen)
{
	const char *colon;
	size_t n;
	*port = default_port;
	if (!s || !*s) {
		snprintf(err, errlen, "empty server");
		return -1;
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close) {
			snprintf(err, errlen, "missing ']' after IPv6 address");
			return -1;
		}
		n = (size_t)(close - s - 1);
		if (close[1] == ':') {
			if (parse_port(close + 2, port, err, errlen))
				return -1;
		} else if (close[1]) {
			snprintf(err, errlen, "unexpected text after ']'");
			return -1;
		}
		s++;
	} else if ((colon = strchr(s, ':')) && strchr(colon + 1, ':')) {
		n = strlen(s);  /* two colons or more: a bare IPv6 address, no port */
	} else {
		n = colon ? (size_t)(colon - s) : strlen(s);
		if (colon && parse_port(colon + 1, port, err, errlen))
			return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty host");
		return -1;
	}
	if (n >= hostlen) {
		snprintf(err, errlen, "server name too long");
		return -1;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
}

int diag_host_check(const char *host, char *err, size_t errlen)
{
	unsigned char b[16];
	if (inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1)
		return 0;
	char name[256];
	int wild = 0;
	if (diag_domain_normalize(host, name, sizeof(name), &wild, err, errlen))
		return -1;
	if (wild) {
		snprintf(err, errlen, "a wildcard is not a host");
		return -1;
	}
	const char *last = strrchr(name, '.');
	last = last ? last + 1 : name;
	size_t digits = strspn(last, "0123456789");
	int hex = !strncmp(last, "0x", 2) && last[2] && !last[2 + strspn(last + 2, "0123456789abcdef")];
	if (!last[digits] || hex) {
		snprintf(err, errlen, "not an IP address (write IPv4 as four numbers 0-255, as 192.0.2.1) "
		         "nor a host name");
		return -1;
	}
	return 0;
}

int diag_server_parse(const char *s, int family, struct diag_server *out,
                      char *err, size_t errlen)
{
	char host[256];
	uint16_t port;
	if (diag_hostport(s, host, sizeof(host), &port, DIAG_DNS_PORT, err, errlen))
		return -1;
	int bracketed = s[0] == '[', v6 = strchr(host, ':') != NULL;
	if (diag_server_from_ip(host, port, out)) {
		if (bracketed || v6) {
			snprintf(err, errlen, bracketed ? "not an IPv6 address inside [ ]"
			         : "not an IPv6 address (write [IPv6]:PORT for a port)");
			return -1;
		}
		if (diag_host_check(host, err, errlen))
			return -1;
		struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
		hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
		int rc = getaddrinfo(host, NULL, &hints, &res);
		if (rc || !res) {
			snprintf(err, errlen, "cannot resolve host name: %s", gai_strerror(rc));
			return -1;
		}
		char ip[INET6_ADDRSTRLEN];
		void *src = res->ai_family == AF_INET
			? (void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
			: (void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
		inet_ntop(res->ai_family, src, ip, sizeof(ip));
		freeaddrinfo(res);
		diag_server_from_ip(ip, port, out);
	} else if (bracketed && out->family != AF_INET6) {
		snprintf(err, errlen, "not an IPv6 address inside [ ]");
		return -1;
	}
	if ((family == 4 && out->family != AF_INET) || (family == 6 && out->family != AF_INET6)) {
		snprintf(err, errlen, "address family excluded by -%d", family);
		return -1;
	}
	return 0;
}

size_t diag_system_resolvers(const char *path, struct diag_server *out, size_t max)
{
	FILE *f = fopen(path ? path : "/etc/resolv.conf", "r");
	if (!f)
		return 0;
	char line[512];
	size_t n = 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char word[32], addr[128];
		if (sscanf(line, "%31s %127s", word, addr) != 2 || strcmp(word, "nameserver"))
			continue;
		char *pct = strchr(addr, '%');  /* link-local scope: not supported */
		if (pct)
			continue;
		if (diag_server_from_ip(addr, 0, &out[n]) == 0)
			n++;
	}
	fclose(f);
	return n;
}

size_t diag_resolvers(const struct diag_server *ns, size_t nns, const char *resolv_conf,
                      int family, struct diag_server *out, size_t max)
{
	struct diag_server sys[64];
	if (!nns) {
		nns = diag_system_resolvers(resolv_conf, sys, sizeof(sys) / sizeof(sys[0]));
		ns = sys;
	}
	size_t n = 0;
	for (size_t i = 0; i < nns && n < max; i++)
		if (!(family == 4 && ns[i].family != AF_INET) && !(family == 6 && ns[i].family != AF_INET6))
			out[n++] = ns[i];
	return n;
}

int diag_domain_normalize(const char *in, char *out, size_t outlen,
                          int *wildcard_out, char *err, size_t errlen)
{
	int wildcard = 0;
	if (!in || !*in) {
		snprintf(err, errlen, "empty domain name");
		return -1;
	}
	if (in[0] == '*') {
		if (in[1] != '.') {
			snprintf(err, errlen, "a wildcard must be written *.name");
			return -1;
		}
		wildcard = 1;
		in += 2;
	}
	size_t len = strlen(in);
	if (len && in[len - 1] == '.')
		len--;
	if (len == 0) {
		snprintf(err, errlen, "the root is not a domain to check");
		return -1;
	}
	if (len > 253) {
		snprintf(err, errlen, "name longer than 253 characters");
		return -1;
	}
	if (len + 1 > outlen) {
		snprintf(err, errlen, "name too long");
		return -1;
	}
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '.') {
			if (label == 0) {
				snprintf(err, errlen, "empty label");
				return -1;
			}
			if (in[i - 1] == '-') {
				snprintf(err, errlen, "label ends with '-'");
				return -1;
			}
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (label == 0 && c == '-') {
				snprintf(err, errlen, "label starts with '-'");
				return -1;
			}
			if (++label > 63) {
				snprintf(err, errlen, "label longer than 63 characters");
				return -1;
			}
		} else if (c == '*') {
			snprintf(err, errlen, "'*' is only allowed as the whole first label");
			return -1;
		} else {
			snprintf(err, errlen, "invalid character '%s%c' (use the A-label "
			         "(xn--) form of internationalised names)",
			         c < 0x20 || c >= 0x7f ? "\\" : "", c < 0x20 || c >= 0x7f ? '?' : c);
			return -1;
		}
		out[i] = (char)tolower(c);
	}
	if (in[len - 1] == '-') {
		snprintf(err, errlen, "label ends with '-'");
		return -1;
	}
	out[len] = '\0';
	if (wildcard_out)
		*wildcard_out = wildcard;
	return 0;
}

struct dns_engine *dns_engine_new(struct diag_loop *loop, int timeout_ms)
{
	struct dns_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->loop = loop;
	e->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	return e;
}

int dns_engine_timeout(const struct dns_engine *e)
{
	return e->timeout_ms;
}

void dns_engine_free(struct dns_engine *e)
{
	if (!e)
		return;
	/* Destroying a channel calls back every query in it: those callbacks
	 * see the engine dying and only free their send records. */
	e->dying = 1;
	for (size_t i = 0; i < e->nchans; i++)
		diag_loop_ares_free(e->loop, e->chans[i].ch);
	free(e->chans);
	for (size_t b = 0; b < e->nbuckets; b++)
		for (struct dns_q *q = e->buckets[b], *next; q; q = next) {
			next = q->hnext;
			dns_q_free(q);
		}
	free(e->buckets);
	for (size_t i = 0; i < e->nowners; i++)
		free(e->owners[i].qs);
	free(e->owners);
	for (size_t i = 0; i < e->nsrvs; i++) {
		for (struct dns_q *q = e->srvs[i]->head; q; q = q->qnext)
			q->queued_in = NULL;  /* private queries outlive the engine */
		free(e->srvs[i]);
	}
	free(e->srvs);
	free(e->dead);
	free(e);
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
}

/* c-ares opens a TCP connection on a UDP channel only to retry a truncated
 * reply: count them, so that a failed retry is told apart from silence. */
static int on_socket(ares_socket_t fd, int type, void *data)
{
	(void)fd;
	if (type == SOCK_STREAM)
		((struct srvq *)data)->tcp_opens++;
	return ARES_SUCCESS;
}

static ares_channel engine_channel(struct dns_engine *e, const struct diag_server *s, int tcp,
                                   struct srvq *sq)
{
	for (size_t i = 0; i < e->nchans; i++)
		if (e->chans[i].tcp == tcp && same_addr(&e->chans[i].addr, &s->addr))
			return e->chans[i].ch;
	if (diag_grow((void **)&e->chans, &e->cap, e->nchans + 1, sizeof(*e->chans)))
		return NULL;
	struct ares_options o;
	memset(&o, 0, sizeof(o));
	/* c-ares doubles the timeout on the retry: t + 2t = the budget. */
	o.timeout = e->timeout_ms / 3 > 0 ? e->timeout_ms / 3 : 1;
	o.tries = 2;
	o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | (tcp ? ARES_FLAG_USEVC : 0);
	o.lookups = (char *)"b";
	ares_channel ch;
	int rc = diag_loop_ares_channel(e->loop, &ch, &o,
	                                ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	                                ARES_OPT_FLAGS | ARES_OPT_LOOKUPS);
	if (rc != ARES_SUCCESS)
		return NULL;
	struct ares_addr_port_node node;
	memset(&node, 0, sizeof(node));
	node.family = s->family;
	if (s->family == AF_INET)
		node.addr.addr4 = ((const struct sockaddr_in *)&s->addr)->sin_addr;
	else
		memcpy(&node.addr.addr6, &((const struct sockaddr_in6 *)&s->addr)->sin6_addr,
		       sizeof(node.addr.addr6));
	node.udp_port = node.tcp_port = s->port;
	if (ares_set_servers_ports(ch, &node) != ARES_SUCCESS) {
		diag_loop_ares_free(e->loop, ch);
		return NULL;
	}
	if (!tcp)
		ares_set_socket_callback(ch, on_socket, sq);
	e->chans[e->nchans++] = (struct chan){ .addr = s->addr, .tcp = tcp, .ch = ch };
	return ch;
}

struct dns_q *dns_q_new(const struct diag_server *srv, const char *qname,
                        ldns_rr_type type, ldns_rr_class cls, unsigned flags)
{
	struct dns_q *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	size_t n = strlen(qname);
	q->qname = (n && qname[n - 1] == '.') ? diag_strdup(qname) : diag_asprintf("%s.", qname);
	if (!q->qname) {
		free(q);
		return NULL;
	}
	q->server = *srv;
	q->qtype = type;
	q->qclass = cls;
	q->flags = flags;
	return q;
}

/* Take q out of its server's waiting list. */
static void unqueue(struct dns_q *q)
{
	struct srvq *sq = q->queued_in;
	if (!sq)
		return;
	for (struct dns_q **pp = &sq->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->qnext)
		if (*pp == q) {
			*pp = q->qnext;
			if (sq->tail == q)
				sq->tail = prev;
			break;
		}
	q->qnext = NULL;
	q->queued_in = NULL;
}

void dns_q_reset(struct dns_q *q)
{
	unqueue(q);
	if (q->inflight) {
		q->inflight->q = NULL;  /* the old send's reply, if any, is dropped */
		q->inflight = NULL;
	}
	ldns_pkt_free(q->pkt);
	q->pkt = NULL;
	q->done = 0;
	q->status = DNS_OK;
	q->errtext = NULL;
	q->rtt_ms = 0;
	q->wire_len = 0;
	q->not_asked = 0;
	q->tcp_failed = 0;
}

void dns_q_free(struct dns_q *q)
{
	if (!q)
		return;
	unqueue(q);
	if (q->inflight)
		q->inflight->q = NULL;
	ldns_pkt_free(q->pkt);
	free(q->waiters);
	free(q->qname);
	free(q);
}

static void q_finish(struct dns_q *q, enum dns_status st, const char *why)
{
	q->done = 1;
	q->status = st;
	q->errtext = why;
	q->rtt_ms = diag_now_ms() - q->sent_ms;
	if (q->on_done)
		q->on_done(q);
	/* Waiters run in the order they asked; a waiter may ask more (and
	 * register on other queries), never on this one, which is done. */
	for (size_t i = 0; i < q->nwaiters; i++) {
		struct dns_waiter w = q->waiters[i];
		if (w.cb)
			w.cb(w.arg, q);
	}
	q->nwaiters = 0;
}

static int is_dead(const struct dns_engine *e, const struct sockaddr_storage *a);
static void mark_dead(struct dns_engine *e, const struct sockaddr_storage *a);

static void pump(struct dns_engine *e, struct srvq *sq);
static void q_outcome_of(struct dns_engine *e, struct dns_q *q, int status,
                         unsigned char *abuf, int alen);

/* The server answered over UDP with the TC bit and c-ares's retry over TCP
 * failed (a firewall that lets only UDP through): not silence, so the
 * server is not marked dead either. */
static void tcp_retry_failed(struct dns_q *q, int status)
{
	q->tcp_failed = 1;
	if (status == ARES_ETIMEOUT)
		q_finish(q, DNS_TIMEOUT, "the reply over UDP was truncated and the retry over TCP timed out");
	else if (status == ARES_ECONNREFUSED)
		q_finish(q, DNS_REFUSED_CONN, "the reply over UDP was truncated and the retry over TCP "
		         "was refused or closed without an answer");
	else
		q_finish(q, DNS_ERROR, "the reply over UDP was truncated and the retry over TCP failed");
}

static void ares_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	struct dns_send *sd = arg;
	struct dns_q *q = sd->q;
	struct dns_engine *e = sd->e;
	struct srvq *sq = sd->srv;
	unsigned tcp_at_send = sd->tcp_at_send;
	free(sd);
	if (q)
		q->inflight = NULL;
	if (e->dying)  /* the engine is going: no outcome, nothing sent */
		return;
	sq->inflight--;
	if (q && status != ARES_SUCCESS && !(q->flags & DNS_Q_TCP) && sq->tcp_opens != tcp_at_send)
		tcp_retry_failed(q, status);
	else if (q)
		q_outcome_of(e, q, status, abuf, alen);
	pump(e, sq);
}

static void q_outcome_of(struct dns_engine *e, struct dns_q *q, int status,
                         unsigned char *abuf, int alen)
{
	switch (status) {
	case ARES_SUCCESS:
		dns_q_set_reply(q, abuf, alen > 0 ? (size_t)alen : 0);
		return;
	case ARES_ETIMEOUT:
		mark_dead(e, &q->server.addr);
		q_finish(q, DNS_TIMEOUT, "timed out");
		return;
	case ARES_ECONNREFUSED:
		q_finish(q, DNS_REFUSED_CONN, "connection refused or unreachable");
		return;
	case ARES_EBADRESP:
		q_finish(q, DNS_BADREPLY, "malformed reply");
		return;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		q_finish(q, DNS_ERROR, "query cancelled");
		return;
	default:
		q_finish(q, DNS_ERROR, ares_strerror(status));
		return;
	}
}

int dns_q_set_reply(struct dns_q *q, const uint8_t *buf, size_t len)
{
	ldns_pkt *pkt = NULL;
	if (!buf || len == 0) {
		q_finish(q, DNS_BADREPLY, "empty reply");
		return -1;
	}
	if (ldns_wire2pkt(&pkt, buf, len) != LDNS_STATUS_OK || !pkt) {
		q_finish(q, DNS_BADREPLY, "reply does not parse as DNS");
		return -1;
	}
	ldns_pkt_free(q->pkt);
	q->pkt = pkt;
	q->wire_len = len;
	q_finish(q, DNS_OK, NULL);
	return 0;
}

static struct srvq *server_queue(struct dns_engine *e, const struct sockaddr_storage *a)
{
	for (size_t i = 0; i < e->nsrvs; i++)
		if (same_addr(&e->srvs[i]->addr, a))
			return e->srvs[i];
	struct srvq *sq = calloc(1, sizeof(*sq));
	if (!sq || diag_grow((void **)&e->srvs, &e->capsrvs, e->nsrvs + 1, sizeof(*e->srvs))) {
		free(sq);
		return NULL;
	}
	sq->addr = *a;
	e->srvs[e->nsrvs++] = sq;
	return sq;
}

/* Put q on the wire now. */
static int transmit(struct dns_engine *e, struct srvq *sq, struct dns_q *q)
{
	int ret = -1;
	uint8_t *wire = NULL;
	size_t len = 0;
	ldns_pkt *pkt = NULL;
	struct dns_send *sd = NULL;
	q->sent_ms = diag_now_ms();
	ldns_rdf *dn = ldns_dname_new_frm_str(q->qname);
	if (!dn) {
		q_finish(q, DNS_ERROR, "invalid query name");
		return -1;
	}
	pkt = ldns_pkt_query_new(dn, q->qtype, q->qclass,
	                         (q->flags & DNS_Q_RD) ? LDNS_RD : 0);
	if (!pkt) {
		ldns_rdf_deep_free(dn);
		goto out;
	}
	if (!(q->flags & DNS_Q_NOEDNS))
		ldns_pkt_set_edns_udp_size(pkt, EDNS_BUFSIZE);
	if (ldns_pkt2wire(&wire, pkt, &len) != LDNS_STATUS_OK)
		goto out;
	ares_channel ch = engine_channel(e, &q->server, (q->flags & DNS_Q_TCP) != 0, sq);
	sd = ch ? malloc(sizeof(*sd)) : NULL;
	if (!sd)
		goto out;
	*sd = (struct dns_send){ .e = e, .q = q, .srv = sq, .tcp_at_send = sq->tcp_opens };
	q->inflight = sd;
	sq->inflight++;
	ares_send(ch, wire, (int)len, ares_done, sd);  /* may call back at once */
	ret = 0;
out:
	ldns_pkt_free(pkt);
	free(wire);
	if (ret && !q->done)
		q_finish(q, DNS_ERROR, "could not build or send the query");
	return ret;
}

/* Send what waits for sq while it has free slots; a server found dead
 * meanwhile is not asked. */
static void pump(struct dns_engine *e, struct srvq *sq)
{
	while (sq->head && sq->inflight < DNS_INFLIGHT_PER_SERVER) {
		struct dns_q *q = sq->head;
		unqueue(q);
		if (is_dead(e, &sq->addr)) {
			q->not_asked = 1;
			q_finish(q, DNS_TIMEOUT, "no answer earlier in this run (not asked again)");
		} else {
			transmit(e, sq, q);
		}
	}
}

int dns_q_send(struct dns_engine *e, struct dns_q *q)
{
	dns_q_reset(q);
	q->sent_ms = diag_now_ms();
	struct srvq *sq = server_queue(e, &q->server.addr);
	if (!sq) {
		q_finish(q, DNS_ERROR, "could not build or send the query");
		return -1;
	}
	if (sq->inflight < DNS_INFLIGHT_PER_SERVER && !sq->head)
		return transmit(e, sq, q);
	/* wait for a slot: FIFO, so every question is asked in turn */
	q->queued_in = sq;
	q->qnext = NULL;
	if (sq->tail)
		sq->tail->qnext = q;
	else
		sq->head = q;
	sq->tail = q;
	return 0;
}

/* ---- shared questions ---- */

static int is_dead(const struct dns_engine *e, const struct sockaddr_storage *a)
{
	for (size_t i = 0; i < e->ndead; i++)
		if (same_addr(&e->dead[i], a))
			return 1;
	return 0;
}

static void mark_dead(struct dns_engine *e, const struct sockaddr_storage *a)
{
	if (is_dead(e, a) || diag_grow((void **)&e->dead, &e->capdead, e->ndead + 1, sizeof(*e->dead)))
		return;
	e->dead[e->ndead++] = *a;
}

/* FNV-1a over the question: server address and port, name (any case),
 * type, class, flags. */
static size_t question_hash(const struct sockaddr_storage *a, const char *abs, ldns_rr_type type,
                            ldns_rr_class cls, unsigned flags)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p;
	size_t n;
	if (a->ss_family == AF_INET) {
		p = (const unsigned char *)&((const struct sockaddr_in *)a)->sin_addr;
		n = 4;
	} else {
		p = (const unsigned char *)&((const struct sockaddr_in6 *)a)->sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	uint16_t port = a->ss_family == AF_INET ? ((const struct sockaddr_in *)a)->sin_port
	                                       : ((const struct sockaddr_in6 *)a)->sin6_port;
	unsigned extra[4] = { port, (unsigned)type, (unsigned)cls, flags };
	for (size_t i = 0; i < 4; i++)
		h = (h ^ extra[i]) * 1099511628211ULL;
	for (const char *c = abs; *c; c++)
		h = (h ^ (unsigned char)tolower((unsigned char)*c)) * 1099511628211ULL;
	return (size_t)h;
}

static size_t q_hash(const struct dns_q *q)
{
	return question_hash(&q->server.addr, q->qname, q->qtype, q->qclass, q->flags);
}

static struct dns_q *cache_find(struct dns_engine *e, const struct diag_server *srv,
                                const char *abs, ldns_rr_type type, ldns_rr_class cls,
                                unsigned flags)
{
	if (!e->nbuckets)
		return NULL;
	size_t b = question_hash(&srv->addr, abs, type, cls, flags) % e->nbuckets;
	for (struct dns_q *q = e->buckets[b]; q; q = q->hnext)
		if (q->qtype == type && q->qclass == cls && q->flags == flags &&
		    same_addr(&q->server.addr, &srv->addr) && !strcasecmp(q->qname, abs))
			return q;
	return NULL;
}

/* Room for one more query in the index (growing it keeps chains short). */
static int cache_reserve(struct dns_engine *e)
{
	if (e->ncache + 1 <= e->nbuckets * 2)
		return 0;
	size_t nb = e->nbuckets ? e->nbuckets * 4 : 256;
	struct dns_q **nv = calloc(nb, sizeof(*nv));
	if (!nv)
		return -1;
	for (size_t b = 0; b < e->nbuckets; b++)
		for (struct dns_q *q = e->buckets[b], *next; q; q = next) {
			next = q->hnext;
			size_t k = q_hash(q) % nb;
			q->hnext = nv[k];
			nv[k] = q;
		}
	free(e->buckets);
	e->buckets = nv;
	e->nbuckets = nb;
	return 0;
}

static void cache_insert(struct dns_engine *e, struct dns_q *q)
{
	size_t b = q_hash(q) % e->nbuckets;
	q->hnext = e->buckets[b];
	e->buckets[b] = q;
	e->ncache++;
}

static void cache_remove(struct dns_engine *e, struct dns_q *q)
{
	for (struct dns_q **pp = &e->buckets[q_hash(q) % e->nbuckets]; *pp; pp = &(*pp)->hnext)
		if (*pp == q) {
			*pp = q->hnext;
			e->ncache--;
			return;
		}
}

static struct owner *owner_of(struct dns_engine *e, void *arg, int create)
{
	for (size_t i = 0; i < e->nowners; i++)
		if (e->owners[i].arg == arg)
			return &e->owners[i];
	if (!create || diag_grow((void **)&e->owners, &e->capowners, e->nowners + 1, sizeof(*e->owners)))
		return NULL;
	e->owners[e->nowners] = (struct owner){ .arg = arg };
	return &e->owners[e->nowners++];
}

/* Record that arg asked q (once per arg). 0, or -1 when out of memory. */
static int own(struct dns_engine *e, struct dns_q *q, void *arg)
{
	struct owner *o = owner_of(e, arg, 1);
	if (!o)
		return -1;
	for (size_t i = 0; i < o->n; i++)
		if (o->qs[i] == q)
			return 0;
	if (diag_grow((void **)&o->qs, &o->cap, o->n + 1, sizeof(*o->qs)))
		return -1;
	o->qs[o->n++] = q;
	q->holders++;
	q->askers++;
	return 0;
}

struct dns_q *dns_ask(struct dns_engine *e, const struct diag_server *srv, const char *qname,
                      ldns_rr_type type, ldns_rr_class cls, unsigned flags,
                      dns_ask_cb cb, void *arg)
{
	size_t n = strlen(qname);
	char *abs = (n && qname[n - 1] == '.') ? diag_strdup(qname) : diag_asprintf("%s.", qname);
	if (!abs)
		return NULL;
	struct dns_q *q = cache_find(e, srv, abs, type, cls, flags);
	free(abs);
	int fresh = !q;
	if (fresh && (cache_reserve(e) || !(q = dns_q_new(srv, qname, type, cls, flags))))
		return NULL;
	if ((!q->done && cb &&
	     diag_grow((void **)&q->waiters, &q->capwaiters, q->nwaiters + 1, sizeof(*q->waiters))) ||
	    (arg && own(e, q, arg))) {
		if (fresh)
			dns_q_free(q);  /* never cached: a later ask sends it anew */
		return NULL;
	}
	if (fresh)
		cache_insert(e, q);
	if (!q->done && cb)
		q->waiters[q->nwaiters++] = (struct dns_waiter){ .cb = cb, .arg = arg };
	if (fresh) {
		if (is_dead(e, &srv->addr)) {
			q->sent_ms = diag_now_ms();
			q->not_asked = 1;
			q_finish(q, DNS_TIMEOUT, "no answer earlier in this run (not asked again)");
		} else {
			dns_q_send(e, q);
		}
	} else if (q->done && cb) {
		cb(arg, q);
	}
	return q;
}

void dns_engine_forget(struct dns_engine *e, void *arg)
{
	size_t i;
	for (i = 0; i < e->nowners && e->owners[i].arg != arg; i++)
		;
	if (i == e->nowners)
		return;
	struct owner o = e->owners[i];
	e->owners[i] = e->owners[--e->nowners];
	for (size_t k = 0; k < o.n; k++) {
		struct dns_q *q = o.qs[k];
		for (size_t w = 0; w < q->nwaiters; w++)
			if (q->waiters[w].arg == arg)
				q->waiters[w].cb = NULL;
		/* An answer only this probe ever asked for is not asked again by
		 * anyone else in the run: it goes (the zone's SOA, NS, CAA, asked
		 * for every name, stay). A query still in flight is detached. */
		if (--q->holders == 0 && q->askers <= 1) {
			cache_remove(e, q);
			dns_q_free(q);
		}
	}
	free(o.qs);
}

size_t dns_engine_cached(const struct dns_engine *e)
{
	return e->ncache;
}

const char *dns_q_outcome(const struct dns_q *q)
{
	if (!q)
		return "not sent (out of memory)";
	if (q->status != DNS_OK)
		return q->errtext ? q->errtext : dns_status_text(q->status);
	ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, dns_q_rcode(q));
	return lt ? lt->name : "unknown rcode";
}

int dns_q_rcode(const struct dns_q *q)
{
	if (!q || !q->done || q->status != DNS_OK || !q->pkt)
		return -1;
	return (int)ldns_pkt_get_rcode(q->pkt);
}

ldns_rr_list *dns_q_answer(const struct dns_q *q, ldns_rr_type t, const char *name)
{
	if (dns_q_rcode(q) < 0)
		return NULL;
	ldns_rdf *owner = NULL;
	if (name) {
		char *abs = diag_asprintf("%s%s", name,
		                          name[0] && name[strlen(name) - 1] == '.' ? "" : ".");
		owner = abs ? ldns_dname_new_frm_str(abs) : NULL;
		free(abs);
		if (!owner)
			return NULL;
	}
	ldns_rr_list *ans = ldns_pkt_answer(q->pkt);
	ldns_rr_list *out = ldns_rr_list_new();
	for (size_t i = 0; out && i < ldns_rr_list_rr_count(ans); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);
		if (ldns_rr_get_type(rr) != t)
			continue;
		if (owner && ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
			continue;
		ldns_rr_list_push_rr(out, ldns_rr_clone(rr));
	}
	ldns_rdf_deep_free(owner);
	return out;
}

int dns_q_first_addr(const struct dns_q *q, ldns_rr_type t, char *out, size_t len)
{
	ldns_rr_list *l = dns_q_answer(q, t, NULL);
	int ok = 0;
	for (size_t i = 0; l && !ok && i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *s = ldns_rr_rd_count(rr) ? ldns_rdf2str(ldns_rr_rdf(rr, 0)) : NULL;
		if (s) {
			snprintf(out, len, "%s", s);
			ok = 1;
		}
		free(s);
	}
	ldns_rr_list_deep_free(l);
	return ok;
}

const ldns_rr *dns_q_authority_soa(const struct dns_q *q)
{
	if (dns_q_rcode(q) < 0)
		return NULL;
	ldns_rr_list *auth = ldns_pkt_authority(q->pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(auth); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(auth, i)) == LDNS_RR_TYPE_SOA)
			return ldns_rr_list_rr(auth, i);
	return NULL;
}

char *dns_txt_escape(const void *bytes, size_t n)
{
	const unsigned char *b = bytes;
	size_t len = 0;
	char *s = malloc(n * 4 + 1);  /* a NUL grows to four characters */
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\0') {
			memcpy(s + len, "\\x00", 4);
			len += 4;
		} else if (b[i] == '\\') {
			s[len++] = '\\';
			s[len++] = '\\';
		} else {
			s[len++] = (char)b[i];
		}
	}
	s[len] = '\0';
	return s;
}

char *dns_txt_joined(const ldns_rr *rr)
{
	size_t cap = 0, len = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		cap += ldns_rdf_size(ldns_rr_rdf(rr, i));
	unsigned char *raw = malloc(cap + 1);
	if (!raw)
		return NULL;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rd = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(rd);
		size_t sz = ldns_rdf_size(rd);
		if (ldns_rdf_get_type(rd) != LDNS_RDF_TYPE_STR || sz == 0)
			continue;
		size_t n = d[0];  /* character-string: length byte, then bytes */
		if (n > sz - 1)
			n = sz - 1;
		memcpy(raw + len, d + 1, n);
		len += n;
	}
	char *s = dns_txt_escape(raw, len);
	free(raw);
	return s;
}

char *dns_name_str(const ldns_rdf *rdf)
{
	char *s = ldns_rdf2str(rdf);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (n > 1 && s[n - 1] == '.')
		s[n - 1] = '\0';
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

int diag_public_tld(const char *name)
{
	static const char *special[] = {"local", "localhost", "internal", "test", "invalid", "example",
	                                "lan", "home", "corp", "intranet", "private", "localdomain",
	                                "onion", "alt"};
	size_t n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	const char *dot = NULL;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '.')
			dot = name + i;
	if (!dot || (size_t)(dot - name) + 1 >= n)
		return 0;  /* a single label, or an empty TLD */
	const char *tld = dot + 1;
	size_t tl = n - (size_t)(tld - name);
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strlen(special[i]) == tl && !strncasecmp(tld, special[i], tl))
			return 0;
	if (n >= 10 && !strncasecmp(name + n - 10, ".home.arpa", 10))
		return 0;
	for (size_t i = 0; i < tl; i++)
		if (!isalnum((unsigned char)tld[i]) && tld[i] != '-')
			return 0;
	return 1;
}
