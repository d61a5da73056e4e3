/* SPDX-License-Identifier: ISC */
/* fetch.c - one capped HTTP transfer on the diag loop (fetch.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/finding.h"
#include "diag/version.h"
#include "fetch.h"
#include "httputil.h"

struct fetch {
	struct diag_loop *loop;
	CURL *easy;
	struct curl_slist *hdrs;
	unsigned char *post;
	size_t max_body;
	int timeout_ms;
	int64_t started;
	struct fetch_result res;
	fetch_cb cb;
	void *arg;
};

static void fetch_free(struct fetch *f)
{
	if (!f)
		return;
	if (f->easy)
		curl_easy_cleanup(f->easy);
	curl_slist_free_all(f->hdrs);
	free(f->post);
	free(f->res.body);
	free(f);
}

static size_t on_body(char *d, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * n;
	if (f->res.len + len > f->max_body) {
		f->res.too_big = 1;
		return 0;
	}
	unsigned char *b = realloc(f->res.body, f->res.len + len + 1);
	if (!b)
		return 0;
	memcpy(b + f->res.len, d, len);
	f->res.body = b;
	f->res.len += len;
	b[f->res.len] = '\0';
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * n;
	char buf[256];
	if (!strncmp(data, "HTTP/", 5)) {  /* a new response (after a redirect): forget the last */
		f->res.content_type[0] = '\0';
		f->res.retry_after = -1;
	}
	if (diag_http_header(data, len, "Content-Type", f->res.content_type, sizeof(f->res.content_type)))
		return len;
	if (diag_http_header(data, len, "Retry-After", buf, sizeof(buf))) {
		char *end;
		long v = strtol(buf, &end, 10);
		if (*buf && !*end && v >= 0)
			f->res.retry_after = v;
		else {
			time_t t = curl_getdate(buf, NULL);
			f->res.retry_after = t > 0 ? (long)(t - (time_t)(diag_wall_ms() / 1000)) : -1;
		}
	} else if (diag_http_header(data, len, "Date", buf, sizeof(buf))) {
		time_t t = curl_getdate(buf, NULL);
		if (t > 0)
			f->res.date_s = (int64_t)t;
	}
	return len;
}

static void on_done(void *arg, CURL *easy, CURLcode rc)
{
	struct fetch *f = arg;
	f->res.rc = rc;
	f->res.ms = diag_now_ms() - f->started;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &f->res.status);
	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &f->res.os_errno);
	char *eff = NULL;
	if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
		snprintf(f->res.effective_url, sizeof(f->res.effective_url), "%s", eff);
	f->cb(f->arg, &f->res);
	fetch_free(f);
}

static CURLcode setopts(struct fetch *f, const struct fetch_opts *o)
{
	CURL *e = f->easy;
	CURLcode rc = CURLE_OK;
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, o->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, 3L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)f->timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, (long)f->timeout_ms);
	SET(CURLOPT_USERAGENT, "acme-diag/" DIAG_VERSION);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, f);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, f);
	if (o->ca_bundle)
		SET(CURLOPT_CAINFO, o->ca_bundle);
	if (o->insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (f->post) {
		SET(CURLOPT_POSTFIELDS, f->post);
		SET(CURLOPT_POSTFIELDSIZE, (long)o->postlen);
		SET(CURLOPT_HTTPHEADER, f->hdrs);
	}
#undef SET
	return rc;
}

struct fetch *fetch_start(struct diag_loop *loop, const struct fetch_opts *o, fetch_cb cb, void *arg)
{
	struct fetch *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->loop = loop;
	f->cb = cb;
	f->arg = arg;
	f->max_body = o->max_body ? o->max_body : 1024 * 1024;
	f->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	f->res.retry_after = -1;
	f->started = diag_now_ms();
	if (o->post) {
		char ct[160];
		snprintf(ct, sizeof(ct), "Content-Type: %s", o->content_type ? o->content_type : "application/octet-stream");
		f->post = malloc(o->postlen ? o->postlen : 1);
		f->hdrs = curl_slist_append(NULL, ct);
		if (!f->post || !f->hdrs) {
			fetch_free(f);
			return NULL;
		}
		memcpy(f->post, o->post, o->postlen);
	}
	if (!(f->easy = curl_easy_init()) || setopts(f, o) != CURLE_OK ||
	    diag_loop_add_curl(loop, f->easy, on_done, f)) {
		fetch_free(f);
		return NULL;
	}
	return f;
}

void fetch_cancel(struct fetch *f)
{
	if (!f)
		return;
	diag_loop_remove_curl(f->loop, f->easy);
	fetch_free(f);
}

const char *fetch_error(const struct fetch_result *r, char *buf, size_t len)
{
	long e = r->os_errno;
	switch (r->rc) {
	case CURLE_OK:
		return NULL;
	case CURLE_WRITE_ERROR:
		if (r->too_big)
			return "the answer is larger than this tool reads";
		return "out of memory while reading the answer";
	case CURLE_COULDNT_RESOLVE_HOST:
		return "the host name does not resolve";
	case CURLE_COULDNT_CONNECT:
		return e == ECONNREFUSED ? "connection refused" :
		       e == ENETUNREACH || e == EHOSTUNREACH ? "network unreachable" :
		       e == ETIMEDOUT ? "connect timed out" : "could not connect";
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(buf, len, "timed out after %.1f s", (double)r->ms / 1000);
		return buf;
	case CURLE_PEER_FAILED_VERIFICATION:
		return "the server's TLS certificate is not trusted";
	case CURLE_SSL_CONNECT_ERROR:
		return "the TLS handshake failed";
	case CURLE_GOT_NOTHING:
		return "the server closed the connection without an answer";
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		return e == ECONNRESET ? "connection reset by the server" : "the connection broke";
	case CURLE_TOO_MANY_REDIRECTS:
		return "more than 3 redirects";
	case CURLE_UNSUPPORTED_PROTOCOL:
		return "not an http or https URL";
	case CURLE_URL_MALFORMAT:
		return "a malformed URL";
	case CURLE_WEIRD_SERVER_REPLY:
		return "an answer that is not HTTP";
	default:
		snprintf(buf, len, "%s", curl_easy_strerror(r->rc));
		return buf;
	}
}
