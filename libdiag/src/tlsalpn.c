/* SPDX-License-Identifier: ISC */
/*
 * tlsalpn.c - TLS-ALPN-01 as the CA validates it, every address on its own.
 *
 * A probe on the diag loop in three steps, each started by the callback
 * that ends the one before: A and AAAA asked of every resolver at once
 * (addrs.c; addresses_known); a handshake with every address at once
 * (start_probes): a non-blocking connect, then OpenSSL driven through
 * memory BIOs, so that the bytes the server sends first are ours to look
 * at (a plain HTTP server answers "HTTP/", as Boulder checks) and socket
 * errors keep their errno; the outcome worded as the CA words it (the
 * certificate checks are tlsalpn_cert.c's); then the judgment (judge):
 * which address the CA would use under the profile, and what it would see.
 *
 * Outside a challenge (no key authorization) the same handshake tells what
 * answers acme-tls/1 at each address; when a server refuses the protocol
 * with an alert, a second handshake without ALPN shows what serves TLS
 * there instead (a web server, a proxy or CDN, and whose certificate).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "addrs.h"
#include "diag/tlsalpn.h"

#define ALERT_NO_APP_PROTOCOL 120
#define ALERT_PROTOCOL_VERSION 70
#define READ_CHUNK 16384
#define MAX_IN (256 * 1024)   /* bytes a handshake may receive (certificate chains included) */

/* ---- one handshake ---- */

enum conn_outcome {
	CONN_PENDING = 0,
	CONN_OK,               /* the handshake completed */
	CONN_REFUSED,          /* connect stage ... */
	CONN_UNREACH,
	CONN_HOSTUNREACH,
	CONN_CONNECT_TIMEOUT,  /* ... to here */
	CONN_TIMEOUT_AFTER,    /* connected, no handshake in time */
	CONN_RESET,
	CONN_EOF,              /* closed during the handshake */
	CONN_ALERT,            /* the server sent an alert */
	CONN_HTTP,             /* the server answered in plain HTTP */
	CONN_TLS_LOCAL,        /* our side refused the server's handshake */
	CONN_TOO_BIG,          /* the server sent more than MAX_IN bytes */
	CONN_OTHER,            /* another socket error */
	CONN_INTERNAL,         /* our side: out of memory, no socket */
};

struct tls_conn;
typedef void (*conn_done_cb)(struct tls_conn *t);

struct tls_conn {
	struct diag_loop *loop;
	const char *ip;          /* the owner's */
	int family;
	uint16_t port;
	const char *sni;         /* the owner's */
	SSL_CTX *ctx;            /* the probe's */
	int offer_alpn;
	int64_t started, deadline;
	conn_done_cb done;
	void *owner;
	int fd;
	int connected;
	SSL *ssl;
	BIO *rbio, *wbio;        /* memory BIOs: rbio belongs to ssl once set */
	unsigned char head[5];   /* the first bytes the server sent */
	size_t nhead, nin;
	unsigned char *out;      /* bytes for the server not written yet */
	size_t outlen;
	/* outcome */
	enum conn_outcome outcome;
	int err;                 /* errno of a socket error */
	int alert;               /* alert received, -1 none */
	unsigned long sslerr;    /* OpenSSL's error, for our own failures */
	char alpn[64];           /* negotiated, "" none */
	char version[16];
	unsigned char *der;      /* the first certificate, DER */
	size_t derlen;
	int ncerts;
	int64_t connect_ms, handshake_ms;  /* from the start; -1 not reached */
};

static void conn_step(struct tls_conn *t);

/* Close and free what the connection holds, keep its outcome. */
static void conn_release(struct tls_conn *t)
{
	if (t->fd >= 0) {
		diag_loop_unwatch_fd(t->loop, t->fd);
		close(t->fd);
		t->fd = -1;
	}
	if (t->ssl)
		SSL_free(t->ssl);  /* frees both BIOs */
	else {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
	}
	t->ssl = NULL;
	t->rbio = t->wbio = NULL;
	free(t->out);
	t->out = NULL;
	t->outlen = 0;
}

static void conn_finish(struct tls_conn *t, enum conn_outcome o, int err)
{
	if (t->outcome != CONN_PENDING)
		return;
	t->outcome = o;
	t->err = err;
	conn_release(t);
	t->done(t);
}

static int64_t remaining(const struct tls_conn *t)
{
	int64_t left = t->deadline - diag_now_ms();
	return left > 0 ? left : 0;
}

/* The server's first certificate, the protocol and version agreed. */
static void conn_handshake_done(struct tls_conn *t)
{
	t->handshake_ms = diag_now_ms() - t->started;
	const unsigned char *proto = NULL;
	unsigned int plen = 0;
	SSL_get0_alpn_selected(t->ssl, &proto, &plen);
	if (proto && plen < sizeof(t->alpn)) {
		memcpy(t->alpn, proto, plen);
		t->alpn[plen] = '\0';
	}
	snprintf(t->version, sizeof(t->version), "%s", SSL_get_version(t->ssl));
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(t->ssl);
	t->ncerts = chain ? sk_X509_num(chain) : 0;
	X509 *leaf = SSL_get0_peer_certificate(t->ssl);
	if (leaf) {
		int n = i2d_X509(leaf, &t->der);
		if (n <= 0) {
			t->der = NULL;
			conn_finish(t, CONN_INTERNAL, ENOMEM);
			return;
		}
		t->derlen = (size_t)n;
	}
	conn_finish(t, CONN_OK, 0);
}

static void on_conn_ready(void *arg, int fd, int ready);

/* Write what OpenSSL wants sent; -1 when the connection is finished. */
static int conn_flush(struct tls_conn *t)
{
	size_t pending = BIO_ctrl_pending(t->wbio);
	if (pending) {
		unsigned char *o = realloc(t->out, t->outlen + pending);
		if (!o) {
			conn_finish(t, CONN_INTERNAL, ENOMEM);
			return -1;
		}
		t->out = o;
		int n = BIO_read(t->wbio, t->out + t->outlen, (int)pending);
		t->outlen += n > 0 ? (size_t)n : 0;
	}
	while (t->outlen) {
		ssize_t n = send(t->fd, t->out, t->outlen, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			conn_finish(t, errno == ECONNRESET || errno == EPIPE ? CONN_RESET : CONN_OTHER, errno);
			return -1;
		}
		memmove(t->out, t->out + n, t->outlen - (size_t)n);
		t->outlen -= (size_t)n;
	}
	return 0;
}

/* Wait for the server (or for room to write). */
static void conn_wait(struct tls_conn *t)
{
	int rc = t->outlen ? diag_loop_watch_fd_write(t->loop, t->fd, remaining(t), on_conn_ready, t)
	                   : diag_loop_watch_fd(t->loop, t->fd, remaining(t), on_conn_ready, t);
	if (rc)
		conn_finish(t, CONN_INTERNAL, ENOMEM);
}

/* The handshake failed inside OpenSSL: an alert from the server, or our
 * own refusal. Classified by OpenSSL's reason code. */
static void conn_ssl_failed(struct tls_conn *t)
{
	unsigned long e, last = 0;
	while ((e = ERR_get_error()))
		last = e;
	t->sslerr = last;
	int reason = ERR_GET_REASON(last);
	if (ERR_GET_LIB(last) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET &&
	    reason < SSL_AD_REASON_OFFSET + 256) {
		t->alert = reason - SSL_AD_REASON_OFFSET;
		conn_finish(t, CONN_ALERT, 0);
		return;
	}
	conn_finish(t, ERR_GET_REASON(last) == ERR_R_MALLOC_FAILURE ? CONN_INTERNAL : CONN_TLS_LOCAL, 0);
}

static void conn_step(struct tls_conn *t)
{
	ERR_clear_error();
	int rc = SSL_do_handshake(t->ssl);
	int e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, rc);
	if (e == SSL_ERROR_SSL) {
		/* an alert we send goes out first: a server may log why */
		conn_flush(t);
		if (t->outcome == CONN_PENDING)
			conn_ssl_failed(t);
		return;
	}
	if (conn_flush(t))
		return;
	if (rc == 1)
		conn_handshake_done(t);
	else if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		conn_wait(t);
	else if (e == SSL_ERROR_ZERO_RETURN)
		conn_finish(t, CONN_EOF, 0);  /* close_notify in the handshake: Go sees EOF */
	else
		conn_finish(t, CONN_INTERNAL, 0);
}

/* Bytes from the server: the HTTP check on the first five, then OpenSSL. */
static void conn_read(struct tls_conn *t)
{
	unsigned char buf[READ_CHUNK];
	ssize_t n = recv(t->fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		conn_wait(t);
		return;
	}
	if (n < 0) {
		conn_finish(t, errno == ECONNRESET ? CONN_RESET : CONN_OTHER, errno);
		return;
	}
	if (n == 0) {
		conn_finish(t, CONN_EOF, 0);
		return;
	}
	for (ssize_t i = 0; i < n && t->nhead < sizeof(t->head); i++)
		t->head[t->nhead++] = buf[i];
	/* Go reads the 5-byte record header first: "HTTP/" there is a plain
	 * HTTP server (Boulder's badTLSHeader) */
	if (t->nhead == sizeof(t->head) && !memcmp(t->head, "HTTP/", 5)) {
		conn_finish(t, CONN_HTTP, 0);
		return;
	}
	t->nin += (size_t)n;
	if (t->nin > MAX_IN) {
		conn_finish(t, CONN_TOO_BIG, 0);
		return;
	}
	if (BIO_write(t->rbio, buf, (int)n) != (int)n) {
		conn_finish(t, CONN_INTERNAL, ENOMEM);
		return;
	}
	conn_step(t);
}

/* The TLS side of the connection: a client of TLS 1.2 or newer with the
 * name as SNI, ALPN acme-tls/1 alone (or none), over memory BIOs. */
static void conn_start_tls(struct tls_conn *t)
{
	t->connect_ms = diag_now_ms() - t->started;
	t->connected = 1;
	t->ssl = SSL_new(t->ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	static const unsigned char alpn[] = "\x0a" TLSALPN_PROTOCOL;
	if (!t->ssl || !t->rbio || !t->wbio ||
	    (t->offer_alpn && SSL_set_alpn_protos(t->ssl, alpn, sizeof(alpn) - 1)) ||
	    !SSL_set_tlsext_host_name(t->ssl, t->sni)) {
		conn_finish(t, CONN_INTERNAL, ENOMEM);
		return;
	}
	BIO_set_mem_eof_return(t->rbio, -1);  /* empty is "wait", not end of file */
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_connect_state(t->ssl);
	conn_step(t);
}

static void on_conn_ready(void *arg, int fd, int ready)
{
	(void)fd;
	struct tls_conn *t = arg;
	if (!ready) {
		conn_finish(t, t->connected ? CONN_TIMEOUT_AFTER : CONN_CONNECT_TIMEOUT, ETIMEDOUT);
		return;
	}
	if (!t->connected) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
		if (err == EINPROGRESS) {
			conn_wait(t);
			return;
		}
		if (err) {
			conn_finish(t, err == ECONNREFUSED ? CONN_REFUSED : err == ENETUNREACH ? CONN_UNREACH
			               : err == EHOSTUNREACH ? CONN_HOSTUNREACH
			               : err == ETIMEDOUT ? CONN_CONNECT_TIMEOUT : CONN_OTHER, err);
			return;
		}
		conn_start_tls(t);
		return;
	}
	/* Room to write, or something to read (a write watch reports both):
	 * write what waits, then read; a server that sends without reading
	 * ends at MAX_IN, not in a busy loop. */
	if (t->outlen && conn_flush(t))
		return;
	conn_read(t);
}

/* Connect to t->ip:port; the outcome comes through t->done (maybe before
 * this returns). */
static void conn_start(struct tls_conn *t)
{
	t->fd = -1;
	t->alert = -1;
	t->connect_ms = t->handshake_ms = -1;
	t->started = diag_now_ms();
	struct sockaddr_storage sa = {0};
	socklen_t salen;
	if (t->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(t->port);
		inet_pton(AF_INET6, t->ip, &s6->sin6_addr);
		salen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(t->port);
		inet_pton(AF_INET, t->ip, &s4->sin_addr);
		salen = sizeof(*s4);
	}
	t->fd = socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		int err = errno;
		/* no IPv6 on this host is a path that does not exist, not our failure */
		conn_finish(t, err == EAFNOSUPPORT ? CONN_UNREACH : CONN_INTERNAL, err);
		return;
	}
	if (connect(t->fd, (struct sockaddr *)&sa, salen) == 0) {
		conn_start_tls(t);
		return;
	}
	int err = errno;
	if (err == EINPROGRESS) {
		if (diag_loop_watch_fd_write(t->loop, t->fd, remaining(t), on_conn_ready, t))
			conn_finish(t, CONN_INTERNAL, ENOMEM);
		return;
	}
	conn_finish(t, err == ECONNREFUSED ? CONN_REFUSED : err == ENETUNREACH ||
	               err == EADDRNOTAVAIL ? CONN_UNREACH : err == EHOSTUNREACH ? CONN_HOSTUNREACH
	               : CONN_OTHER, err);
}

static int dial_stage(enum conn_outcome o)
{
	return o != CONN_OK && o != CONN_PENDING;
}

/* ---- one address ---- */

/* Where a validation stops, in Boulder's order. */
enum stage {
	STAGE_PENDING = 0,
	STAGE_DIAL,        /* connect, handshake or no certificate: Boulder falls back after these */
	STAGE_ALPN,        /* acme-tls/1 not negotiated */
	STAGE_CERT,        /* the certificate fails a check */
	STAGE_OK,
	STAGE_INTERNAL,    /* our side */
};

struct tlsalpn_ctx;

struct alpn_addr {
	struct tlsalpn_ctx *c;
	char ip[48];
	char from[64];           /* "IP:PORT", "[IPv6]:PORT" */
	int family;
	struct tls_conn main;    /* offering acme-tls/1 */
	struct tls_conn plain;   /* without ALPN, after a refusal (outcome PENDING if not made) */
	int plain_started;
	struct tlsalpn_cert cert, plain_cert;
	int have_cert, have_plain_cert;
	enum stage stage;
	char *why;               /* in the CA's words; NULL: out of memory */
};

struct tlsalpn_ctx {
	struct diag_probe head;       /* first member (probe.h) */
	struct tlsalpn_opts o;        /* a copy: its strings are the ones below, ns NULL */
	char *domain, *ka;
	unsigned char expected[32];
	struct addr_lookup addrs;
	SSL_CTX *ssl_ctx;
	uint16_t port;
	int timeout_ms;
	struct alpn_addr *probes;     /* IPv6 first, as the CA prefers it */
	size_t nprobes;
	size_t probes_left;
	/* the CA's choice, once every address is probed */
	struct alpn_addr *used, *first6, *first4;
	int fallback, no_fallback;    /* IPv4 after IPv6 failed / IPv6 failed, no IPv4 */
};

static void judge(struct tlsalpn_ctx *c);

static const char *why_of(const struct alpn_addr *p)
{
	return p->why ? p->why : "out of memory";
}

/* Go's texts of TLS alerts ("remote error: tls: <text>"), as Boulder
 * passes them on. */
static const char *alert_text(int alert)
{
	switch (alert) {
	case 0: return "close notify";
	case 10: return "unexpected message";
	case 20: return "bad record MAC";
	case 22: return "record overflow";
	case 40: return "handshake failure";
	case 42: return "bad certificate";
	case 43: return "unsupported certificate";
	case 46: return "unknown certificate";
	case 47: return "illegal parameter";
	case 48: return "unknown certificate authority";
	case 49: return "access denied";
	case 50: return "error decoding message";
	case 51: return "error decrypting message";
	case 70: return "protocol version not supported";
	case 71: return "insufficient security level";
	case 80: return "internal error";
	case 86: return "inappropriate fallback";
	case 90: return "user canceled";
	case 109: return "missing extension";
	case 110: return "unsupported extension";
	case 112: return "unrecognized name";
	case 116: return "certificate required";
	case 120: return "no application protocol";
	}
	return NULL;
}

/* A handshake that failed, in Boulder's words (detailedError), with the
 * address in front, as Boulder puts it; into buf. */
static void dial_words(const struct tls_conn *t, char *buf, size_t len)
{
	const char *ip = t->ip;
	const char *at = alert_text(t->alert);
	switch (t->outcome) {
	case CONN_REFUSED:
		snprintf(buf, len, "%s: Connection refused", ip);
		break;
	case CONN_UNREACH:
		snprintf(buf, len, "%s: Network unreachable", ip);
		break;
	case CONN_CONNECT_TIMEOUT:
		snprintf(buf, len, "%s: Timeout during connect (likely firewall problem)", ip);
		break;
	case CONN_TIMEOUT_AFTER:
		snprintf(buf, len, "%s: Timeout after connect (your server may be slow or overloaded)", ip);
		break;
	case CONN_RESET:
		snprintf(buf, len, "%s: Connection reset by peer", ip);
		break;
	case CONN_HTTP:
		snprintf(buf, len, "%s: Server only speaks HTTP, not TLS", ip);
		break;
	case CONN_ALERT:
		if (at)
			snprintf(buf, len, "%s: remote error: tls: %s", ip, at);
		else
			snprintf(buf, len, "%s: remote error: tls: alert(%d)", ip, t->alert);
		break;
	case CONN_EOF:
		snprintf(buf, len, "%s: Error getting validation data (the server closed the "
		         "connection during the TLS handshake)", ip);
		break;
	case CONN_HOSTUNREACH:
	case CONN_OTHER:
		snprintf(buf, len, "%s: Error getting validation data (%s)", ip, strerror(t->err));
		break;
	case CONN_TOO_BIG:
		snprintf(buf, len, "%s: Error getting validation data (more than %d bytes of "
		         "handshake)", ip, MAX_IN);
		break;
	case CONN_TLS_LOCAL: {
		const char *r = ERR_reason_error_string(t->sslerr);
		snprintf(buf, len, "%s: Error getting validation data (TLS handshake refused: %s)", ip,
		         r ? r : "unknown reason");
		break;
	}
	case CONN_INTERNAL:
		snprintf(buf, len, "%s: not checked: %s", ip,
		         t->err && t->err != ENOMEM ? strerror(t->err) : "out of memory");
		break;
	case CONN_OK:
	case CONN_PENDING:
		snprintf(buf, len, "%s: ok", ip);
		break;
	}
}

static void set_why(struct alpn_addr *p, enum stage st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_why(struct alpn_addr *p, enum stage st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(p->why);
	p->why = diag_vasprintf(fmt, ap);
	va_end(ap);
	p->stage = p->why ? st : STAGE_INTERNAL;
}

/* The outcome of the acme-tls/1 handshake in the profile's CA's words. */
static void word_outcome(struct alpn_addr *p)
{
	struct tlsalpn_ctx *c = p->c;
	const struct tls_conn *t = &p->main;
	int pebble = c->o.profile == HTTP01_PEBBLE;
	if (t->outcome == CONN_INTERNAL) {
		char w[300];
		dial_words(t, w, sizeof(w));
		set_why(p, STAGE_INTERNAL, "%s", w);
		return;
	}
	if (dial_stage(t->outcome)) {
		char w[300];
		dial_words(t, w, sizeof(w));
		if (pebble)
			set_why(p, STAGE_DIAL, "Failed to connect to %s for the tls-alpn-01 challenge (%s)",
			        p->from, w);
		else
			set_why(p, STAGE_DIAL, "%s", w);
		return;
	}
	int alpn_ok = !strcmp(t->alpn, TLSALPN_PROTOCOL);
	/* Boulder looks for a certificate while dialling (an error there falls
	 * back to IPv4), then at ALPN; Pebble the other way round */
	if (!t->der && !pebble) {
		set_why(p, STAGE_DIAL, "No certs presented for tls-alpn-01 challenge");
		return;
	}
	if (!alpn_ok) {
		set_why(p, STAGE_ALPN, "Cannot negotiate ALPN protocol \"%s\" for tls-alpn-01 challenge",
		        TLSALPN_PROTOCOL);
		return;
	}
	if (!t->der) {
		set_why(p, STAGE_CERT, "No certs presented for tls-alpn-01 challenge");
		return;
	}
	if (p->cert.check == TLSALPN_CERT_UNPARSABLE) {
		/* Go refuses a certificate it cannot parse during the handshake */
		set_why(p, STAGE_DIAL, "%s: Error getting validation data (%s)", p->ip, p->cert.why);
		return;
	}
	if (p->cert.check != TLSALPN_CERT_OK) {
		set_why(p, STAGE_CERT, "%s", p->cert.why);
		return;
	}
	set_why(p, STAGE_OK, "%s: %s negotiated, challenge certificate for %s%s", p->ip,
	        TLSALPN_PROTOCOL, c->domain, c->ka ? ", acmeIdentifier matches the key authorization"
	                                            : " (value not compared: no key authorization)");
}

static void probe_done(struct alpn_addr *p)
{
	struct tlsalpn_ctx *c = p->c;
	if (--c->probes_left == 0)
		judge(c);
}

static void plain_done(struct tls_conn *t)
{
	struct alpn_addr *p = t->owner;
	struct tlsalpn_ctx *c = p->c;
	if (t->outcome == CONN_OK && t->der) {
		struct tlsalpn_cert_query q = { .domain = c->domain, .profile = c->o.profile,
		                                .from = p->from, .ncerts = t->ncerts };
		p->have_plain_cert = !diag_tlsalpn_cert_check(t->der, t->derlen, &q, &p->plain_cert);
	}
	probe_done(p);
}

static void main_done(struct tls_conn *t)
{
	struct alpn_addr *p = t->owner;
	struct tlsalpn_ctx *c = p->c;
	if (t->outcome == CONN_OK && t->der) {
		struct tlsalpn_cert_query q = { .domain = c->domain, .profile = c->o.profile,
		                                .expected = c->ka ? c->expected : NULL, .from = p->from,
		                                .ncerts = t->ncerts };
		if (diag_tlsalpn_cert_check(t->der, t->derlen, &q, &p->cert)) {
			set_why(p, STAGE_INTERNAL, "%s: not checked: out of memory", p->ip);
			probe_done(p);
			return;
		}
		p->have_cert = 1;
	}
	word_outcome(p);
	/* Refused with an alert, and no challenge to check: what serves TLS
	 * here instead? A second handshake, without ALPN. */
	if (!c->ka && t->outcome == CONN_ALERT) {
		p->plain_started = 1;
		p->plain = (struct tls_conn){
			.loop = c->head.loop, .ip = p->ip, .family = p->family, .port = c->port,
			.sni = c->domain, .ctx = c->ssl_ctx, .offer_alpn = 0, .done = plain_done,
			.owner = p, .fd = -1,
		};
		p->plain.deadline = diag_now_ms() + c->timeout_ms;
		conn_start(&p->plain);
		return;
	}
	probe_done(p);
}

/* ---- the judgment ---- */

/* The status an address's outcome deserves on its own. */
static enum diag_status addr_status(const struct tlsalpn_ctx *c, const struct alpn_addr *p)
{
	if (p->stage == STAGE_INTERNAL || p->stage == STAGE_PENDING)
		return DIAG_ERROR;
	if (p->stage == STAGE_OK)
		return DIAG_OK;
	if (c->ka)
		return DIAG_FAIL;
	/* Outside a challenge some answers are expected: a router whose
	 * acme-tls/1 backend is not running closes the connection; Caddy,
	 * Traefik and certmagic refuse acme-tls/1 with no challenge pending;
	 * a responder's certificate is not the challenge's yet. */
	const struct tls_conn *t = &p->main;
	if (p->stage == STAGE_CERT)
		return DIAG_WARN;
	if (t->outcome == CONN_EOF || t->outcome == CONN_RESET)
		return DIAG_WARN;
	if (t->outcome == CONN_ALERT && t->alert != ALERT_NO_APP_PROTOCOL &&
	    t->alert != ALERT_PROTOCOL_VERSION)
		return DIAG_WARN;
	return DIAG_FAIL;
}

static const char *addr_hint(const struct tlsalpn_ctx *c, const struct alpn_addr *p)
{
	const struct tls_conn *t = &p->main;
	if (p->stage == STAGE_INTERNAL)
		return "The address was not checked (out of memory, or no socket could be made): run "
		       "the check again.";
	if (p->stage == STAGE_ALPN)
		return "A server that ignores ALPN answers here: a TLS-terminating proxy, CDN or load "
		       "balancer in front, or a web server without acme-tls/1 support. Route acme-tls/1 "
		       "to the ACME client (nginx stream ssl_preread, HAProxy req.ssl_alpn), stop "
		       "terminating TLS in front of this name, or use HTTP-01 or DNS-01.";
	if (p->stage == STAGE_CERT) {
		switch (p->cert.check) {
		case TLSALPN_CERT_NOT_SELF_SIGNED:
			return "acme-tls/1 reaches a server that presents an ordinary certificate, not the "
			       "ACME client's challenge certificate: route acme-tls/1 to the ACME client.";
		case TLSALPN_CERT_EXTENSIONS:
		case TLSALPN_CERT_MISSING:
			return "A challenge certificate carries one subjectAltName and one critical "
			       "acmeIdentifier (1.3.6.1.5.5.7.1.31) extension (RFC 8737): the responder here "
			       "does not make one.";
		case TLSALPN_CERT_IDENTIFIERS:
			return "The challenge certificate must name only this name (one dNSName, no IP "
			       "address): the responder answered for another name; check the SNI routing.";
		case TLSALPN_CERT_NOT_CRITICAL:
			return "The acmeIdentifier extension must be marked critical (RFC 8737 section 3).";
		case TLSALPN_CERT_MALFORMED:
			return "The acmeIdentifier value must be a DER OCTET STRING holding the 32-byte "
			       "SHA-256 of the key authorization.";
		case TLSALPN_CERT_VALUE:
			return "The responder serves the certificate of another challenge (an old token, or "
			       "another account's key): restart the ACME client's TLS-ALPN-01 responder and "
			       "make sure only one client answers for this name.";
		default:
			return "Check the TLS-ALPN-01 responder at this address.";
		}
	}
	switch (t->outcome) {
	case CONN_REFUSED:
		return "Nothing listens on port 443 at this address: TLS-ALPN-01 needs the ACME client "
		       "(lego --tls, acme.sh --alpn, Caddy, Traefik) or a router in front of it (nginx "
		       "ssl_preread, HAProxy) to answer on port 443. certbot has no TLS-ALPN-01.";
	case CONN_CONNECT_TIMEOUT:
		return p->family == AF_INET6
			? "Nothing answers on this IPv6 address: repair IPv6 routing and the firewall for "
			  "port 443, or remove the AAAA record."
			: "Open TCP port 443 to the world (firewall, security group, port forward); the CA "
			  "validates from several networks.";
	case CONN_UNREACH:
	case CONN_HOSTUNREACH:
		return "This address cannot be reached from here: check routing, or remove the DNS "
		       "record that points to it.";
	case CONN_HTTP:
		return "Port 443 speaks plain HTTP here: serve TLS on port 443 (a listen line without "
		       "ssl, or a port forward to the HTTP port).";
	case CONN_ALERT:
		if (t->alert == ALERT_NO_APP_PROTOCOL)
			return "What terminates TLS here does not know acme-tls/1 (a web server, proxy or "
			       "CDN): route acme-tls/1 to the ACME client (nginx stream ssl_preread with a "
			       "map on $ssl_preread_alpn_protocols, HAProxy req.ssl_alpn), or let the "
			       "ACME-aware server (Caddy, Traefik) hold port 443.";
		if (t->alert == ALERT_PROTOCOL_VERSION)
			return "Offer TLS 1.2 or 1.3 on port 443: the CA does not use older versions.";
		return c->ka ? "The server refuses the CA's handshake: check the TLS-ALPN-01 responder "
		               "(its certificate for this name, its ALPN list)."
		             : "Caddy, Traefik and certmagic refuse acme-tls/1 while no challenge is "
		               "pending: check again during the challenge with --key-authorization. "
		               "Otherwise the server refuses the CA's handshake.";
	case CONN_EOF:
	case CONN_RESET:
		return c->ka ? "The connection closed during the handshake: a router in front sends "
		               "acme-tls/1 to a backend that does not answer (its address and port, and "
		               "the ACME client listening there during the challenge)."
		             : "The connection closed during the acme-tls/1 handshake, as a router "
		               "(nginx ssl_preread, HAProxy, sslh) does while its acme-tls/1 backend is "
		               "not running: check again during the challenge with --key-authorization.";
	case CONN_TIMEOUT_AFTER:
		return "The server accepted the connection but did not finish the TLS handshake in time: "
		       "a router waiting for a backend, or an overloaded server.";
	case CONN_TLS_LOCAL:
		return "The server's handshake is not one a TLS 1.2+ client accepts (an old protocol, "
		       "no common cipher, a key too small).";
	default:
		return "Check the TLS server at this address.";
	}
}

/* Who answered, for the summary: "certificate for NAMES issued by ISSUER". */
static char *cert_words(const struct tlsalpn_cert *k)
{
	if (!k->names)
		return NULL;
	return diag_asprintf("certificate for %s, issued by %s%s", k->names[0] ? k->names : "(no name)",
	                     k->issuer && k->issuer[0] ? k->issuer : "(no issuer name)",
	                     k->self_signed ? " (self-signed)" : "");
}

static json_t *cert_json(const struct tlsalpn_cert *k, const struct tls_conn *t)
{
	char value[65] = "";
	for (size_t i = 0; k->value_ok && i < 32; i++)
		snprintf(value + 2 * i, 3, "%02x", k->value[i]);
	return json_pack("{s:s, s:o, s:o, s:o, s:b, s:i, s:{s:b, s:b, s:o}, s:s}",
		"sha256", k->sha256, "subject", diag_json_str(k->subject),
		"issuer", diag_json_str(k->issuer), "names", diag_json_str(k->names),
		"self_signed", k->self_signed, "chain_length", t->ncerts,
		"acme_identifier", "present", k->acme_ext, "critical", k->acme_critical,
		"value", k->value_ok ? json_string(value) : json_null(),
		"check", k->check == TLSALPN_CERT_OK ? "ok" : "failed");
}

static json_t *conn_json(const struct tls_conn *t)
{
	const char *at = alert_text(t->alert);
	return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}",
		"connect_ms", (json_int_t)t->connect_ms, "handshake_ms", (json_int_t)t->handshake_ms,
		"tls_version", t->version[0] ? json_string(t->version) : json_null(),
		"alpn", t->alpn[0] ? diag_json_str(t->alpn) : json_null(),
		"alert", t->alert >= 0 ? json_integer(t->alert) : json_null(),
		"alert_text", at ? json_string(at) : json_null());
}

static const char *stage_name(enum stage s)
{
	switch (s) {
	case STAGE_DIAL: return "dial";
	case STAGE_ALPN: return "alpn";
	case STAGE_CERT: return "certificate";
	case STAGE_OK: return "ok";
	default: return "not checked";
	}
}

/* Which address would the CA use? */
static void choose_address(struct tlsalpn_ctx *c)
{
	c->first6 = c->addrs.n6 ? &c->probes[0] : NULL;
	c->first4 = c->addrs.n4 ? &c->probes[c->addrs.n6] : NULL;
	c->used = NULL;
	if (c->o.profile == HTTP01_RFC8555)
		return;
	c->used = c->first6 ? c->first6 : c->first4;
	/* Boulder: any error up to the end of the handshake at the first AAAA,
	 * and it tries the first A */
	if (c->o.profile == HTTP01_LETSENCRYPT && c->first6 && c->first6->stage == STAGE_DIAL) {
		if (c->first4) {
			c->used = c->first4;
			c->fallback = 1;
		} else {
			c->no_fallback = 1;
		}
	}
}

static struct diag_finding *add_addr_summary(struct tlsalpn_ctx *c, const struct alpn_addr *p,
                                             enum diag_status st, const char *note)
{
	struct diag_report *r = c->head.r;
	char *who = NULL;
	if (p->stage == STAGE_ALPN && p->have_cert)
		who = cert_words(&p->cert);
	else if (p->have_plain_cert)
		who = cert_words(&p->plain_cert);
	struct diag_finding *f;
	if (who && p->stage == STAGE_ALPN)
		f = diag_add(r, st, "tlsalpn01.addr", p->ip, "%s: %s: what answers does not speak "
		             "acme-tls/1 (%s)%s", p->ip, why_of(p), who, note);
	else if (who)
		f = diag_add(r, st, "tlsalpn01.addr", p->ip, "%s; without ALPN it serves a %s%s",
		             why_of(p), who, note);
	else
		f = diag_add(r, st, "tlsalpn01.addr", p->ip, "%s%s", why_of(p), note);
	free(who);
	return f;
}

/* tlsalpn01.addr: what one address gave, weighed by whether the CA uses it. */
static void report_addr(struct tlsalpn_ctx *c, const struct alpn_addr *p)
{
	enum diag_status st = addr_status(c, p);
	int decisive = c->o.profile == HTTP01_RFC8555 || p == c->used ||
	               (c->fallback && p == c->first6);
	const char *note = "";
	if (c->fallback && p == c->first6 && st >= DIAG_WARN && st != DIAG_ERROR) {
		st = DIAG_WARN;
		note = " (the CA tries the first IPv4 address after this error)";
	} else if (!decisive && st == DIAG_FAIL) {
		st = DIAG_WARN;
		note = " (not the address the CA uses today)";
	}
	struct diag_finding *f = add_addr_summary(c, p, st, note);
	if (st != DIAG_OK)
		diag_set_hint(f, "%s", addr_hint(c, p));
	if (c->ka && p->stage == STAGE_CERT && p->cert.check == TLSALPN_CERT_VALUE && p->cert.value_ok) {
		char got[65], want[65];
		for (size_t i = 0; i < 32; i++) {
			snprintf(got + 2 * i, 3, "%02x", p->cert.value[i]);
			snprintf(want + 2 * i, 3, "%02x", c->expected[i]);
		}
		diag_set_detail(f, "Expected SHA-256(key authorization) = %s; the certificate holds %s.",
		                want, got);
	}
	diag_evidence(f, "family", json_string(p->family == AF_INET6 ? "ipv6" : "ipv4"));
	diag_evidence(f, "stage", json_string(stage_name(p->stage)));
	diag_evidence(f, "fallback_eligible", json_boolean(p->stage == STAGE_DIAL));
	diag_evidence(f, "connect_stage_error", json_boolean(p->main.outcome >= CONN_REFUSED &&
	                                                     p->main.outcome <= CONN_CONNECT_TIMEOUT));
	diag_evidence(f, "handshake", conn_json(&p->main));
	diag_evidence(f, "certificate", p->have_cert ? cert_json(&p->cert, &p->main) : json_null());
	if (p->plain_started)
		diag_evidence(f, "without_alpn", json_pack("{s:o, s:o}", "handshake", conn_json(&p->plain),
		              "certificate", p->have_plain_cert ? cert_json(&p->plain_cert, &p->plain)
		                                                : json_null()));
	if (c->ka) {
		char want[65];
		for (size_t i = 0; i < 32; i++)
			snprintf(want + 2 * i, 3, "%02x", c->expected[i]);
		diag_evidence(f, "expected_value", json_string(want));
	}
	if (f)
		f->duration_ms = p->main.handshake_ms >= 0 ? p->main.handshake_ms : p->main.connect_ms;
}

/* What an address shows of the server behind it, to compare addresses:
 * the certificate's fingerprint, or the outcome. */
static void server_key(const struct alpn_addr *p, char *buf, size_t len)
{
	if (p->have_cert)
		snprintf(buf, len, "cert %s", p->cert.sha256);
	else if (p->have_plain_cert)
		snprintf(buf, len, "refused %d, cert %s", p->main.alert, p->plain_cert.sha256);
	else
		snprintf(buf, len, "outcome %d alert %d", (int)p->main.outcome, p->main.alert);
}

/* tlsalpn01.consistency: do the addresses reach the same server? */
static void report_consistency(struct tlsalpn_ctx *c)
{
	if (c->nprobes < 2)
		return;
	char a[128], b[128];
	server_key(&c->probes[0], a, sizeof(a));
	size_t differ = 0;
	const struct alpn_addr *other = NULL;
	for (size_t i = 1; i < c->nprobes; i++) {
		server_key(&c->probes[i], b, sizeof(b));
		if (strcmp(a, b)) {
			differ++;
			if (!other)
				other = &c->probes[i];
		}
	}
	json_t *per = json_object();
	for (size_t i = 0; per && i < c->nprobes; i++) {
		const struct alpn_addr *p = &c->probes[i];
		const struct tlsalpn_cert *k = p->have_cert ? &p->cert : p->have_plain_cert
		                               ? &p->plain_cert : NULL;
		json_object_set_new(per, p->ip, k ? json_string(k->sha256) : json_null());
	}
	struct diag_finding *f;
	if (!differ) {
		f = diag_add(c->head.r, DIAG_OK, "tlsalpn01.consistency", c->domain,
		             "all %zu addresses answer alike%s", c->nprobes,
		             c->probes[0].have_cert || c->probes[0].have_plain_cert
		             ? " (the same certificate)" : "");
	} else {
		const struct alpn_addr *first = &c->probes[0];
		int certs = (first->have_cert || first->have_plain_cert) &&
		            (other->have_cert || other->have_plain_cert);
		f = diag_add(c->head.r, DIAG_WARN, "tlsalpn01.consistency", c->domain,
		             "the %zu addresses answer differently: %s and %s %s", c->nprobes, first->ip,
		             other->ip, certs ? "present different certificates (another server)"
		                              : "do not answer alike");
		diag_set_hint(f, "Every A and AAAA address must reach the same TLS-ALPN-01 responder: "
		              "an AAAA pointing at another host (an old server, a CDN edge, the router) "
		              "is a common cause, and the CA tries IPv6 first.");
	}
	diag_evidence(f, "sha256", per);
}

static enum diag_status probe_status(void *arg, size_t i)
{
	struct tlsalpn_ctx *c = arg;
	return addr_status(c, &c->probes[i]);
}

/* tlsalpn01.ca under letsencrypt or pebble: the one address the CA uses. */
static struct diag_finding *report_ca_used(struct tlsalpn_ctx *c)
{
	const struct alpn_addr *used = c->used;
	enum diag_status st = addr_status(c, used);
	struct diag_finding *f;
	const char *profile = diag_http01_profile_name(c->o.profile);
	if (c->no_fallback) {
		/* Boulder's own words replace the IPv6 error */
		f = diag_add(c->head.r, st, "tlsalpn01.ca", c->domain, "profile %s: the CA uses %s: "
		             "Unable to contact \"%s\" at \"%s\", no IPv4 addresses to try as fallback (%s)",
		             profile, used->ip, c->domain, used->ip, why_of(used));
	} else {
		if (c->fallback && st == DIAG_OK)
			st = DIAG_WARN;
		const char *why = c->fallback ? "the first AAAA failed, so it tries the first A"
		                  : used->family == AF_INET6 ? "it tries the first AAAA address first"
		                  : "there is no AAAA address";
		int failed = st >= DIAG_WARN;
		f = diag_add(c->head.r, st, "tlsalpn01.ca", c->domain, "profile %s: the CA uses %s (%s)%s%s",
		             profile, used->ip, why, failed ? ": " : "", failed ? why_of(used) : "");
	}
	if (st != DIAG_OK)
		diag_set_hint(f, "%s", c->fallback && st == DIAG_WARN && addr_status(c, used) == DIAG_OK
		              ? "Validation works only thanks to Boulder's IPv4 fallback after the IPv6 "
		                "attempt failed; CAs without fallback (Pebble, some private CAs) fail. "
		                "Repair IPv6 or remove the AAAA record."
		              : addr_hint(c, used));
	diag_evidence(f, "address", json_string(used->ip));
	diag_evidence(f, "fallback", json_boolean(c->fallback));
	if (c->o.profile == HTTP01_PEBBLE && c->first6 && c->first4 && c->first6->stage == STAGE_DIAL)
		diag_set_detail(f, "Pebble uses only the first address and never falls back to IPv4; "
		                "Let's Encrypt would try %s after this error.", c->first4->ip);
	if (c->o.profile == HTTP01_LETSENCRYPT && c->first6 && c->first4 && !c->fallback &&
	    (c->first6->stage == STAGE_ALPN || c->first6->stage == STAGE_CERT))
		diag_set_detail(f, "Boulder falls back to IPv4 only after errors up to the end of the "
		                "handshake; an IPv6 server that completes it with the wrong protocol or "
		                "certificate decides the validation.");
	return f;
}

/* Every address is done: what the CA would see. */
static void judge(struct tlsalpn_ctx *c)
{
	choose_address(c);
	for (size_t i = 0; i < c->nprobes; i++)
		report_addr(c, &c->probes[i]);
	report_consistency(c);
	struct diag_finding *f = c->o.profile == HTTP01_RFC8555
		? addr_report_ca_any(&c->addrs, "tlsalpn01.ca", c->nprobes, probe_status, c)
		: report_ca_used(c);
	diag_evidence(f, "profile", json_string(diag_http01_profile_name(c->o.profile)));
	diag_evidence(f, "key_authorization_given", json_boolean(c->ka != NULL));
	diag_evidence(f, "port", json_integer(c->port));
	diag_probe_finish(&c->head);
}

/* ---- the addresses ---- */

static void internal_error(struct tlsalpn_ctx *c, const char *id, const char *what)
{
	struct diag_finding *f = diag_add(c->head.r, DIAG_ERROR, id, c->domain, "%s", what);
	diag_set_hint(f, "The checks did not finish (out of memory): run them again.");
	diag_probe_finish(&c->head);
}

/* Every probed address at once, IPv6 first. */
static void start_probes(void *arg)
{
	struct tlsalpn_ctx *c = arg;
	c->nprobes = c->addrs.n6 + c->addrs.n4;
	c->probes = calloc(c->nprobes, sizeof(*c->probes));
	if (!c->probes) {
		internal_error(c, "tlsalpn01.run", "cannot probe the addresses (out of memory)");
		return;
	}
	for (size_t i = 0; i < c->nprobes; i++) {
		struct alpn_addr *p = &c->probes[i];
		p->c = c;
		p->main.fd = p->plain.fd = -1;
		snprintf(p->ip, sizeof(p->ip), "%s", addr_probed(&c->addrs, i));
		p->family = i < c->addrs.n6 ? AF_INET6 : AF_INET;
		snprintf(p->from, sizeof(p->from), p->family == AF_INET6 ? "[%s]:%u" : "%s:%u", p->ip,
		         c->port);
	}
	c->probes_left = c->nprobes + 1;  /* a guard: a handshake may end before the next starts */
	for (size_t i = 0; i < c->nprobes; i++) {
		struct alpn_addr *p = &c->probes[i];
		p->main = (struct tls_conn){
			.loop = c->head.loop, .ip = p->ip, .family = p->family, .port = c->port,
			.sni = c->domain, .ctx = c->ssl_ctx, .offer_alpn = 1, .done = main_done, .owner = p,
			.fd = -1,
		};
		p->main.deadline = diag_now_ms() + c->timeout_ms;
		conn_start(&p->main);
	}
	if (--c->probes_left == 0)
		judge(c);
}

static void addresses_known(void *arg)
{
	struct tlsalpn_ctx *c = arg;
	char *hint = diag_asprintf("Check the other addresses one by one (openssl s_client -connect "
	                           "ADDRESS:%u -servername %s -alpn %s), or publish fewer addresses.",
	                           c->port, c->domain, TLSALPN_PROTOCOL);
	addr_lookup_report(&c->addrs, c->o.profile, hint, &c->head, start_probes, c);
	free(hint);
}

/* ---- the probe's life ---- */

static void tlsalpn_cancel(struct diag_probe *hp)
{
	struct tlsalpn_ctx *c = (struct tlsalpn_ctx *)hp;
	for (size_t i = 0; c->probes && i < c->nprobes; i++) {
		conn_release(&c->probes[i].main);
		conn_release(&c->probes[i].plain);
	}
	addr_lookup_cancel(&c->addrs);
}

static void tlsalpn_destroy(struct diag_probe *hp)
{
	struct tlsalpn_ctx *c = (struct tlsalpn_ctx *)hp;
	for (size_t i = 0; c->probes && i < c->nprobes; i++) {
		struct alpn_addr *p = &c->probes[i];
		OPENSSL_free(p->main.der);
		OPENSSL_free(p->plain.der);
		diag_tlsalpn_cert_free(&p->cert);
		diag_tlsalpn_cert_free(&p->plain_cert);
		free(p->why);
	}
	free(c->probes);
	addr_lookup_free(&c->addrs);
	SSL_CTX_free(c->ssl_ctx);
	free(c->domain);
	free(c->ka);
	free(c);
}

static const struct addr_ids tlsalpn_ids = {"tlsalpn01.dns", "tlsalpn01.limit", "tlsalpn01.reserved"};

static const struct diag_probe_ops tlsalpn_ops = {
	.name = "tlsalpn01", .cancel = tlsalpn_cancel, .destroy = tlsalpn_destroy,
};

/* The CA's client side: TLS 1.2 or newer, no verification (the challenge
 * certificate is self-signed), Go's key-size floor (security level 1). */
static SSL_CTX *client_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_security_level(ctx, 1);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

/* Copy the options, the digest, the TLS context, the lookup. -1: out of memory. */
static int ctx_setup(struct tlsalpn_ctx *c, const struct tlsalpn_opts *o)
{
	c->o = *o;
	c->domain = diag_strdup(o->domain ? o->domain : "");
	c->ka = diag_strdup(o->key_authorization);
	if (!c->domain || (o->key_authorization && !c->ka))
		return -1;
	if (c->ka && diag_tlsalpn_digest(c->ka, c->expected))
		return -1;
	c->o.domain = c->domain;
	c->o.key_authorization = c->ka;
	c->o.ns = NULL;
	c->o.nns = 0;
	c->o.resolv_conf = NULL;
	c->port = o->port ? o->port : 443;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	if (!(c->ssl_ctx = client_ctx()))
		return -1;
	return addr_lookup_init(&c->addrs, c->head.loop, c->head.r, c->domain, o->family,
	                        &tlsalpn_ids, o->engine, c->timeout_ms, o->ns, o->nns,
	                        o->resolv_conf, TLSALPN_MAX_ADDRS);
}

struct diag_probe *diag_tlsalpn_start(struct diag_loop *loop, const struct tlsalpn_opts *o,
                                      struct diag_report *r, diag_done_cb done, void *arg)
{
	struct tlsalpn_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	diag_probe_init(&c->head, &tlsalpn_ops, loop, r, done, arg);
	if (ctx_setup(c, o)) {
		tlsalpn_cancel(&c->head);
		tlsalpn_destroy(&c->head);
		return NULL;
	}
	if (addr_lookup_start(&c->addrs, o->resolv_conf, addresses_known, c))
		diag_probe_finish(&c->head);
	return &c->head;
}

static struct diag_probe *start_adapter(struct diag_loop *loop, const void *opts,
                                        struct diag_report *r, diag_done_cb done, void *arg)
{
	return diag_tlsalpn_start(loop, opts, r, done, arg);
}

int diag_tlsalpn_run(const struct tlsalpn_opts *o, struct diag_report *r)
{
	return diag_probe_run(start_adapter, o, r, "tlsalpn01.run");
}
