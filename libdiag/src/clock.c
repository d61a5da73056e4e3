/* clock.c - local clock offset from HTTP Date headers and SNTP, at once. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "diag/clock.h"
#include "diag/loop.h"
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

struct source {
	enum src_kind kind;
	const char *name;
	/* HTTP */
	CURL *easy;
	int64_t start_wall;
	int64_t date_s;
	size_t discarded;
	char errbuf[CURL_ERROR_SIZE];
	long status;
	/* NTP */
	int fd;
	uint8_t req[48];
	int64_t t1;
	/* outcome */
	int ok;
	char why[300];
	struct clock_sample s;
	char server_ip[64];
	struct diag_loop *loop;
	char tls_note[300];     /* why verification was dropped for a retry */
};

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
	 * is then only as trustworthy as the network path. */
	if (res == CURLE_PEER_FAILED_VERIFICATION && !src->tls_note[0] &&
	    (strstr(src->errbuf, "not yet valid") || strstr(src->errbuf, "expired"))) {
		snprintf(src->tls_note, sizeof(src->tls_note), "%s", src->errbuf);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
		src->errbuf[0] = '\0';
		src->date_s = 0;
		src->discarded = 0;
		src->start_wall = diag_wall_ms();
		if (diag_loop_add_curl(src->loop, easy, http_done, src) == 0)
			return;
	}
	if (res != CURLE_OK && !src->date_s) {
		snprintf(src->why, sizeof(src->why), "%s", src->errbuf[0] ? src->errbuf : curl_easy_strerror(res));
		return;
	}
	if (!src->date_s) {
		snprintf(src->why, sizeof(src->why), "no valid Date header in the response (HTTP %ld)",
		         src->status);
		return;
	}
	int64_t sent = src->start_wall + pre / 1000, received = src->start_wall + first / 1000;
	src->s = diag_clock_from_date(sent, received, src->date_s);
	src->ok = 1;
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
		snprintf(src->why, sizeof(src->why), "no SNTP reply (timed out)");
		return;
	}
	uint8_t buf[128];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	int64_t t4 = diag_wall_ms();
	if (n < 0) {
		snprintf(src->why, sizeof(src->why), "%s", strerror(errno));
		return;
	}
	if (n < 48) {
		snprintf(src->why, sizeof(src->why), "SNTP reply too short (%zd bytes)", n);
		return;
	}
	int mode = buf[0] & 7, stratum = buf[1];
	if (mode != 4 && mode != 5) {
		snprintf(src->why, sizeof(src->why), "SNTP reply with mode %d, not a server reply", mode);
		return;
	}
	if (stratum == 0) {
		snprintf(src->why, sizeof(src->why), "SNTP kiss-o'-death \"%.4s\"", (char *)buf + 12);
		return;
	}
	if (memcmp(buf + 24, src->req + 40, 8)) {
		snprintf(src->why, sizeof(src->why), "SNTP reply does not answer our request (origin timestamp differs)");
		return;
	}
	src->s = diag_clock_from_ntp(src->t1, ntp_to_ms(buf + 32), ntp_to_ms(buf + 40), t4);
	src->ok = 1;
}

static int ntp_start(struct diag_loop *loop, struct source *src, int family, int timeout_ms)
{
	char host[256], port[8] = "123";
	const char *s = src->name;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || (size_t)(close - s - 1) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(close - s - 1), s + 1);
		if (close[1] == ':')
			snprintf(port, sizeof(port), "%s", close + 2);
	} else if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':')) {
		snprintf(host, sizeof(host), "%.*s", (int)(strchr(s, ':') - s), s);
		snprintf(port, sizeof(port), "%s", strchr(s, ':') + 1);
	} else {
		snprintf(host, sizeof(host), "%s", s);
	}
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
	hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc || !res) {
		snprintf(src->why, sizeof(src->why), "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	src->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (src->fd < 0 || connect(src->fd, res->ai_addr, res->ai_addrlen)) {
		snprintf(src->why, sizeof(src->why), "%s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	getnameinfo(res->ai_addr, res->ai_addrlen, src->server_ip, sizeof(src->server_ip), NULL, 0,
	            NI_NUMERICHOST);
	freeaddrinfo(res);
	memset(src->req, 0, sizeof(src->req));
	src->req[0] = 0x23;  /* LI 0, version 4, mode 3 (client) */
	/* A random transmit timestamp: the reply must echo it (RFC 4330 s. 5). */
	if (RAND_bytes(src->req + 40, 8) != 1)
		goto bad;
	src->t1 = diag_wall_ms();
	if (send(src->fd, src->req, sizeof(src->req), 0) != (ssize_t)sizeof(src->req)) {
		snprintf(src->why, sizeof(src->why), "%s", strerror(errno));
		return -1;
	}
	return diag_loop_watch_fd(loop, src->fd, timeout_ms, ntp_reply, src);
bad:
	snprintf(src->why, sizeof(src->why), "bad NTP server \"%s\"", s);
	return -1;
}

static void http_start(struct diag_loop *loop, struct source *src, const struct clock_opts *o,
                       int timeout_ms)
{
	CURL *e = curl_easy_init();
	src->easy = e;
	if (!e) {
		snprintf(src->why, sizeof(src->why), "out of memory");
		return;
	}
	curl_easy_setopt(e, CURLOPT_URL, src->name);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "acme-diag/" DIAG_VERSION " (acme-clock)");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
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
	src->loop = loop;
	if (diag_loop_add_curl(loop, e, http_done, src))
		snprintf(src->why, sizeof(src->why), "could not start the request");
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

int diag_clock_run(const struct clock_opts *o, struct diag_report *r)
{
	int ret = -1;
	size_t n = o->nurls + o->nntp;
	int timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	struct source *src = calloc(n ? n : 1, sizeof(*src));
	struct diag_loop *loop = diag_loop_new();
	if (!src || !loop) {
		diag_add(r, DIAG_ERROR, "clock.run", "", "cannot start (out of memory)");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		src[i].fd = -1;
		if (i < o->nurls) {
			src[i].kind = SRC_HTTP;
			src[i].name = o->urls[i];
			http_start(loop, &src[i], o, timeout_ms);
		} else {
			src[i].kind = SRC_NTP;
			src[i].name = o->ntp[i - o->nurls];
			ntp_start(loop, &src[i], o->family, timeout_ms);
		}
	}
	diag_loop_run(loop);

	size_t good = 0;
	for (size_t i = 0; i < n; i++) {
		struct source *s = &src[i];
		const char *kind = s->kind == SRC_HTTP ? "Date header" : "SNTP";
		struct diag_finding *f;
		if (!s->ok) {
			f = diag_add(r, DIAG_ERROR, "clock.source", s->name, "%s: %s", kind,
			             s->why[0] ? s->why : "no answer");
			diag_set_hint(f, "Check the URL or server and that it is reachable from here "
			              "(--ca-bundle for a private CA).");
			continue;
		}
		good++;
		f = diag_clock_judge(r, s->name, s->server_ip, s->kind == SRC_HTTP ? "http-date" : "sntp",
		                     s->s, o->warn_s, o->fail_s);
		if (s->tls_note[0]) {
			diag_set_detail(f, "TLS verification failed (%s), as it does when the local clock is "
			                "off; the Date header was read without verification.%s%s", s->tls_note,
			                f->detail ? " " : "", f->detail ? f->detail : "");
			diag_evidence(f, "tls_error", json_string(s->tls_note));
		}
		if (s->server_ip[0])
			diag_evidence(f, "address", json_string(s->server_ip));
	}
	/* A source that did not answer is an error only when no source did:
	 * otherwise the clock was measured, and the dead source is a warning. */
	for (size_t i = 0; good && i < r->n; i++)
		if (r->v[i]->status == DIAG_ERROR && !strcmp(r->v[i]->id, "clock.source"))
			r->v[i]->status = DIAG_WARN;
	ret = 0;
out:
	for (size_t i = 0; src && i < n; i++) {
		if (src[i].easy)
			curl_easy_cleanup(src[i].easy);
		if (src[i].fd >= 0)
			close(src[i].fd);
	}
	free(src);
	diag_loop_free(loop);
	return ret;
}
