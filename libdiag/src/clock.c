/* SPDX-License-Identifier: ISC */
/* clock.c - local clock offset from HTTP Date headers and SNTP, at once. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "diag/clock.h"
#include "diag/dns.h"
#include "diag/loop.h"
#include "diag/probe.h"
#include "diag/version.h"
#include "httputil.h"

#define NTP_EPOCH_OFFSET 2208988800LL  /* 1900-01-01 to 1970-01-01, seconds */
#define MAX_DISCARD (64 * 1024)

struct clock_sample diag_clock_from_date(int64_t sent_ms, int64_t received_ms, int64_t date_s)
{
	struct clock_sample s;
	int64_t rtt = received_ms - sent_ms;
	if (rtt < 0)
		rtt = 0;
	/* local midpoint against the middle of the server's one-second window */
	int64_t local_mid = sent_ms + rtt / 2;
	s.offset_ms = local_mid - (date_s * 1000 + 500);
	s.uncertainty_ms = rtt / 2 + 500;
	s.rtt_ms = rtt;
	return s;
}

struct clock_sample diag_clock_from_ntp(int64_t t1, int64_t t2, int64_t t3, int64_t t4)
{
	struct clock_sample s;
	/* RFC 4330: offset = ((t2 - t1) + (t3 - t4)) / 2 is the server minus
	 * the client; we report the client minus the server. */
	s.offset_ms = -(((t2 - t1) + (t3 - t4)) / 2);
	s.rtt_ms = (t4 - t1) - (t3 - t2);
	if (s.rtt_ms < 0)
		s.rtt_ms = 0;
	s.uncertainty_ms = s.rtt_ms / 2 + 1;
	return s;
}

enum src_kind { SRC_HTTP, SRC_NTP };

struct cctx;

struct source {
	struct cctx *c;
	enum src_kind kind;
	const char *name;
	int finished;           /* the source has its outcome */
	/* HTTP */
	CURL *easy;
	int64_t start_wall;
	int64_t date_s;
	size_t discarded;
	char errbuf[CURL_ERROR_SIZE];
	long status;
	char tls_note[300];     /* why verification was dropped for a retry */
	/* NTP */
	char host[256];
	uint16_t port;
	struct dns_q *qa, *q6;  /* the host's addresses, when it is a name */
	int lookups;            /* lookups pending (plus a guard while asking) */
	int fd;
	uint8_t req[48];
	int64_t t1;
	/* outcome */
	int ok;
	char why[300];
	struct clock_sample s;
	char server_ip[64];
};

struct cctx {
	struct diag_probe head;  /* first: the handle */
	const struct clock_opts *o;
	struct source *src;
	size_t n, left;          /* sources, and those still running */
	int timeout_ms;
	struct dns_engine *eng;
	int own_engine;
	struct diag_server res[16];
	size_t nres;
};

static void report_sources(struct cctx *c);

/* A source has its outcome; the last one reports them all. */
static void source_done(struct source *src)
{
	if (src->finished)
		return;
	src->finished = 1;
	if (--src->c->left == 0) {
		report_sources(src->c);
		diag_probe_finish(&src->c->head);
	}
}

static void source_fail(struct source *src, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void source_fail(struct source *src, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(src->why, sizeof(src->why), fmt, ap);
	va_end(ap);
	source_done(src);
}

static size_t discard(char *d, size_t size, size_t n, void *arg)
{
	(void)d;
	struct source *src = arg;
	src->discarded += size * n;
	return src->discarded > MAX_DISCARD ? 0 : size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct source *src = arg;
	size_t len = size * n;
	char v[200];
	if (diag_http_header(data, len, "Date", v, sizeof(v))) {
		time_t t = curl_getdate(v, NULL);
		if (t > 0)
			src->date_s = (int64_t)t;
	}
	return len;
}

static void http_done(void *arg, CURL *easy, CURLcode res)
{
	struct source *src = arg;
	curl_off_t pre = 0, first = 0;
	curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
	curl_easy_getinfo(easy, CURLINFO_STARTTRANSFER_TIME_T, &first);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &src->status);
	char *ip = NULL;
	if (curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip)
		snprintf(src->server_ip, sizeof(src->server_ip), "%s", ip);
	if (res == CURLE_WRITE_ERROR && src->discarded > MAX_DISCARD)
		res = CURLE_OK;  /* we stopped reading a large body on purpose */
	/* A certificate "not yet valid" or "expired" may be our own clock's
	 * doing: measure anyway, without verification, and say so. The sample
	 * is then only as trustworthy as the network path. (OpenSSL gives no
	 * reason code through curl here, so curl's text is what there is.) */
	if (res == CURLE_PEER_FAILED_VERIFICATION && !src->tls_note[0] &&
	    (strstr(src->errbuf, "not yet valid") || strstr(src->errbuf, "expired"))) {
		snprintf(src->tls_note, sizeof(src->tls_note), "%s", src->errbuf);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
		src->errbuf[0] = '\0';
		src->date_s = 0;
		src->discarded = 0;
		src->start_wall = diag_wall_ms();
		if (diag_loop_add_curl(src->c->head.loop, easy, http_done, src) == 0)
			return;
	}
	if (res != CURLE_OK && !src->date_s) {
		source_fail(src, "%s", src->errbuf[0] ? src->errbuf : curl_easy_strerror(res));
		return;
	}
	if (!src->date_s) {
		source_fail(src, "no valid Date header in the response (HTTP %ld)", src->status);
		return;
	}
	int64_t sent = src->start_wall + pre / 1000, received = src->start_wall + first / 1000;
	src->s = diag_clock_from_date(sent, received, src->date_s);
	src->ok = 1;
	source_done(src);
}

static int64_t ntp_to_ms(const uint8_t *p)
{
	uint64_t sec = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
	uint64_t frac = (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 | p[7];
	return ((int64_t)sec - NTP_EPOCH_OFFSET) * 1000 + (int64_t)((frac * 1000) >> 32);
}

static void ntp_reply(void *arg, int fd, int readable)
{
	struct source *src = arg;
	if (!readable) {
		source_fail(src, "no SNTP reply (timed out)");
		return;
	}
	uint8_t buf[128];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	int64_t t4 = diag_wall_ms();
	if (n < 0) {
		source_fail(src, "%s", strerror(errno));
		return;
	}
	if (n < 48) {
		source_fail(src, "SNTP reply too short (%zd bytes)", n);
		return;
	}
	int mode = buf[0] & 7, stratum = buf[1];
	if (mode != 4 && mode != 5) {
		source_fail(src, "SNTP reply with mode %d, not a server reply", mode);
		return;
	}
	if (stratum == 0) {
		char kod[5];
		for (int i = 0; i < 4; i++)
			kod[i] = buf[12 + i] >= 0x20 && buf[12 + i] < 0x7f ? (char)buf[12 + i] : '?';
		kod[4] = '\0';
		source_fail(src, "SNTP kiss-o'-death \"%s\"", kod);
		return;
	}
	if (memcmp(buf + 24, src->req + 40, 8)) {
		source_fail(src, "SNTP reply does not answer our request (origin timestamp differs)");
		return;
	}
	src->s = diag_clock_from_ntp(src->t1, ntp_to_ms(buf + 32), ntp_to_ms(buf + 40), t4);
	src->ok = 1;
	source_done(src);
}

/* Send the SNTP request to a numeric address. */
static void ntp_send(struct source *src, const char *ip)
{
	struct diag_server to;
	if (diag_server_from_ip(ip, src->port, &to)) {
		source_fail(src, "bad address %s", ip);
		return;
	}
	snprintf(src->server_ip, sizeof(src->server_ip), "%s", to.ip);
	src->fd = socket(to.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (src->fd < 0 || connect(src->fd, (struct sockaddr *)&to.addr, to.addrlen)) {
		source_fail(src, "%s: %s", to.label, strerror(errno));
		return;
	}
	memset(src->req, 0, sizeof(src->req));
	src->req[0] = 0x23;  /* LI 0, version 4, mode 3 (client) */
	/* A random transmit timestamp: the reply must echo it (RFC 4330 s. 5). */
	if (RAND_bytes(src->req + 40, 8) != 1) {
		source_fail(src, "no random bytes for the request");
		return;
	}
	src->t1 = diag_wall_ms();
	if (send(src->fd, src->req, sizeof(src->req), 0) != (ssize_t)sizeof(src->req)) {
		source_fail(src, "%s: %s", to.label, strerror(errno));
		return;
	}
	if (diag_loop_watch_fd(src->c->head.loop, src->fd, src->c->timeout_ms, ntp_reply, src))
		source_fail(src, "out of memory");
}

/* The host's A and AAAA are in: IPv4 first (unless -6), as NTP is mostly
 * reached; a lookup failure on our side is said as such. */
static void ntp_answered(void *arg, struct dns_q *q)
{
	(void)q;
	struct source *src = arg;
	if (--src->lookups > 0)
		return;
	if (!src->qa && !src->q6) {
		source_fail(src, "out of memory");
		return;
	}
	char ip[64];
	if ((src->qa && dns_q_first_addr(src->qa, LDNS_RR_TYPE_A, ip, sizeof(ip))) ||
	    (src->q6 && dns_q_first_addr(src->q6, LDNS_RR_TYPE_AAAA, ip, sizeof(ip)))) {
		ntp_send(src, ip);
		return;
	}
	const struct dns_q *any = src->qa ? src->qa : src->q6;
	int rc = dns_q_rcode(any);
	if (rc < 0)
		source_fail(src, "cannot look up %s: resolver %s %s", src->host, any->server.label,
		            any->errtext ? any->errtext : dns_status_text(any->status));
	else if (rc == LDNS_RCODE_NXDOMAIN)
		source_fail(src, "%s does not exist (NXDOMAIN)", src->host);
	else
		source_fail(src, "no %saddress for %s", src->c->o->family == 4 ? "IPv4 "
		            : src->c->o->family == 6 ? "IPv6 " : "", src->host);
}

static void ntp_start(struct source *src)
{
	struct cctx *c = src->c;
	char err[160];
	if (diag_hostport(src->name, src->host, sizeof(src->host), &src->port, 123, err, sizeof(err))) {
		source_fail(src, "bad NTP server \"%s\": %s", src->name, err);
		return;
	}
	struct diag_server lit;
	if (diag_server_from_ip(src->host, src->port, &lit) == 0) {
		if ((c->o->family == 4 && lit.family != AF_INET) || (c->o->family == 6 && lit.family != AF_INET6))
			source_fail(src, "address family excluded by -%d", c->o->family);
		else
			ntp_send(src, src->host);
		return;
	}
	if (!c->nres) {
		source_fail(src, "cannot look up %s: no resolver (--ns SERVER, or /etc/resolv.conf)", src->host);
		return;
	}
	/* A and AAAA at the first resolver; dns_ask may answer at once, so a
	 * guard keeps the lookup open until both are asked. */
	src->lookups = 1;
	if (c->o->family != 6) {
		src->lookups++;
		if (!(src->qa = dns_ask(c->eng, &c->res[0], src->host, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN,
		                        DNS_Q_RD, ntp_answered, src)))
			src->lookups--;
	}
	if (c->o->family != 4) {
		src->lookups++;
		if (!(src->q6 = dns_ask(c->eng, &c->res[0], src->host, LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN,
		                        DNS_Q_RD, ntp_answered, src)))
			src->lookups--;
	}
	ntp_answered(src, NULL);
}

static void http_start(struct source *src)
{
	const struct clock_opts *o = src->c->o;
	CURL *e = curl_easy_init();
	src->easy = e;
	if (!e) {
		source_fail(src, "out of memory");
		return;
	}
	curl_easy_setopt(e, CURLOPT_URL, src->name);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "acme-diag/" DIAG_VERSION " (acme-clock)");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)src->c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, src);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, src);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, src->errbuf);
	if (o->family)
		curl_easy_setopt(e, CURLOPT_IPRESOLVE, o->family == 4 ? (long)CURL_IPRESOLVE_V4
		                                                      : (long)CURL_IPRESOLVE_V6);
	if (o->ca_bundle)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_bundle);
	if (o->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	src->start_wall = diag_wall_ms();
	if (diag_loop_add_curl(src->c->head.loop, e, http_done, src))
		source_fail(src, "could not start the request");
}

static const char *HINT =
	"Synchronise the clock: with systemd-timesyncd, 'timedatectl set-ntp true'; with chrony, "
	"'chronyc makestep' once and keep chronyd running; in a container or VM, fix the host's "
	"clock. ACME clients and servers compare certificate validity and renewal times with it.";

struct diag_finding *diag_clock_judge(struct diag_report *r, const char *source,
                                      const char *server, const char *method,
                                      struct clock_sample s, double warn_s, double fail_s)
{
	double off = (double)s.offset_ms / 1000.0, unc = (double)s.uncertainty_ms / 1000.0;
	double mag = off < 0 ? -off : off;
	/* Judge by the smallest skew the measurement allows. */
	double least = mag - unc > 0 ? mag - unc : 0;
	enum diag_status st = least >= fail_s ? DIAG_FAIL : least >= warn_s ? DIAG_WARN : DIAG_OK;
	int sntp = method && !strcmp(method, "sntp");
	struct diag_finding *f = diag_add(r, st, "clock.skew", source,
	                                  "local clock %.1f s %s %s (+/- %.1f s, %s)", mag,
	                                  off >= 0 ? "ahead of" : "behind",
	                                  server && *server ? server : source, unc,
	                                  sntp ? "SNTP" : "Date header");
	if (f && st != DIAG_OK) {
		diag_set_detail(f, "%s", off >= 0
		                ? "A clock ahead sees certificates expire early and renews on the wrong "
		                  "day; it may reject short-lived responses (OCSP, ARI windows) as stale."
		                : "A clock behind sees freshly issued certificates as not yet valid "
		                  "(Let's Encrypt backdates notBefore by one hour, no more), renews late, "
		                  "and may believe an expired certificate is still good.");
		diag_set_hint(f, "%s", HINT);
	}
	diag_evidence(f, "offset_ms", json_integer(s.offset_ms));
	diag_evidence(f, "uncertainty_ms", json_integer(s.uncertainty_ms));
	diag_evidence(f, "rtt_ms", json_integer(s.rtt_ms));
	diag_evidence(f, "method", diag_json_str(sntp ? "sntp" : "http-date"));
	diag_evidence(f, "warn_s", json_real(warn_s));
	diag_evidence(f, "fail_s", json_real(fail_s));
	if (f)
		f->duration_ms = s.rtt_ms;
	return f;
}

/* Every source has its outcome. A source that did not answer is an error
 * only when no source did: otherwise the clock was measured, and the dead
 * source is a warning. */
static void report_sources(struct cctx *c)
{
	size_t good = 0;
	for (size_t i = 0; i < c->n; i++)
		good += c->src[i].ok;
	for (size_t i = 0; i < c->n; i++) {
		struct source *s = &c->src[i];
		const char *kind = s->kind == SRC_HTTP ? "Date header" : "SNTP";
		struct diag_finding *f;
		if (!s->ok) {
			f = diag_add(c->head.r, good ? DIAG_WARN : DIAG_ERROR, "clock.source", s->name,
			             "%s: %s", kind, s->why[0] ? s->why : "no answer");
			diag_set_hint(f, "Check the URL or server and that it is reachable from here "
			              "(--ca-bundle for a private CA).");
			continue;
		}
		f = diag_clock_judge(c->head.r, s->name, s->server_ip,
		                     s->kind == SRC_HTTP ? "http-date" : "sntp", s->s,
		                     c->o->warn_s, c->o->fail_s);
		if (s->tls_note[0]) {
			diag_set_detail(f, "TLS verification failed (%s), as it does when the local clock is "
			                "off; the Date header was read without verification.%s%s", s->tls_note,
			                f && f->detail ? " " : "", f && f->detail ? f->detail : "");
			diag_evidence(f, "tls_error", diag_json_str(s->tls_note));
		}
		if (s->server_ip[0])
			diag_evidence(f, "address", diag_json_str(s->server_ip));
	}
}

static void clock_cancel(struct diag_probe *p)
{
	struct cctx *c = (struct cctx *)p;
	for (size_t i = 0; i < c->n; i++) {
		struct source *s = &c->src[i];
		if (c->eng)
			dns_engine_forget(c->eng, s);
		if (s->easy) {
			diag_loop_remove_curl(p->loop, s->easy);
			curl_easy_cleanup(s->easy);
			s->easy = NULL;
		}
		if (s->fd >= 0) {
			diag_loop_unwatch_fd(p->loop, s->fd);
			close(s->fd);
			s->fd = -1;
		}
	}
}

static void clock_destroy(struct diag_probe *p)
{
	struct cctx *c = (struct cctx *)p;
	if (c->own_engine)
		dns_engine_free(c->eng);
	free(c->src);
	free(c);
}

static const struct diag_probe_ops clock_ops = {
	.name = "clock", .cancel = clock_cancel, .destroy = clock_destroy,
};

static void clock_begin(void *arg)
{
	struct cctx *c = arg;
	if (!c->n) {
		diag_probe_finish(&c->head);
		return;
	}
	/* a source may end at once (a bad name): left counts down from n */
	for (size_t i = 0; i < c->n; i++) {
		struct source *s = &c->src[i];
		if (s->kind == SRC_HTTP)
			http_start(s);
		else
			ntp_start(s);
	}
}

struct diag_probe *diag_clock_start(struct diag_loop *loop, const struct clock_opts *o,
                                    struct diag_report *r, diag_done_cb done, void *arg)
{
	struct cctx *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	diag_probe_init(&c->head, &clock_ops, loop, r, done, arg);
	c->o = o;
	c->n = c->left = o->nurls + o->nntp;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	c->src = calloc(c->n ? c->n : 1, sizeof(*c->src));
	c->eng = o->engine;
	if (!c->eng && o->nntp) {
		c->eng = dns_engine_new(loop, c->timeout_ms);
		c->own_engine = 1;
	}
	if (!c->src || (o->nntp && !c->eng) || diag_loop_timer(loop, 0, clock_begin, c)) {
		clock_destroy(&c->head);
		return NULL;
	}
	c->nres = diag_resolvers(o->ns, o->nns, o->resolv_conf, 0, c->res, 16);
	for (size_t i = 0; i < c->n; i++) {
		struct source *s = &c->src[i];
		s->c = c;
		s->fd = -1;
		s->kind = i < o->nurls ? SRC_HTTP : SRC_NTP;
		s->name = i < o->nurls ? o->urls[i] : o->ntp[i - o->nurls];
	}
	return &c->head;
}

static struct diag_probe *start_any(struct diag_loop *loop, const void *o, struct diag_report *r,
                                    diag_done_cb done, void *arg)
{
	return diag_clock_start(loop, o, r, done, arg);
}

int diag_clock_run(const struct clock_opts *o, struct diag_report *r)
{
	return diag_probe_run(start_any, o, r, "clock.run");
}
