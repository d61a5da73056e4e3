/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: ACME JSON documents (directory, account, order,
 * authorization, challenge, problem) through the real client code, over
 * real HTTP. This is a harness: no real program serves fuzzed documents, so
 * a small HTTP/1.1 server runs here, on a thread, on 127.0.0.1 in a network
 * namespace of the target's own (isolate.h), and answers every request
 * (GET, HEAD, POST) with the current input's document. A DNS responder on
 * the same thread answers the contacts' lookups of the account probe.
 *
 * Input: byte 0 chooses the statuses and the probe, byte 1 the headers,
 * the rest is the document; "$B" in it stands for http://127.0.0.1:PORT,
 * the server's origin (PORT is chosen at start), so that a document can
 * name URLs the client follows.
 *   byte 0, bits 0-2: status of the first request (200 201 400 403 404 429 500 503)
 *           bits 3-5: status of every later request
 *           bits 6-7: 0 acme-authz's plain GET of $B/order; 1 the same signed
 *                     (POST-as-GET, newNonce from $B/dir); 2, 3 acme-account
 *                     on $B/dir (onlyReturnExisting with an EC P-256 key)
 *   byte 1, bit 0: Content-Type application/problem+json (else application/json)
 *           bit 1: a Link rel="up" to $B/authz/1
 *           bit 2: no Location header (else $B/acct/1)
 *           bits 3-4: the DNS responder's rcode: NOERROR (no data), SERVFAIL,
 *                     NXDOMAIN, REFUSED
 *           bit 5: the account probe knows a kid ($B/acct/1)
 *           bit 6: the account probe knows a contact on record
 * Then report_check.h's property, and at least one finding: a URL given is
 * never left without a word.
 */
#include "isolate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "diag.h"
#include "report_check.h"

#define TIMEOUT_MS 300

static const int statuses[8] = {200, 201, 400, 403, 404, 429, 500, 503};

/* What the server answers; the fuzzing thread sets it, the server reads it. */
static struct {
	pthread_mutex_t mu;
	char base[40];          /* http://127.0.0.1:PORT */
	uint16_t dns_port;
	char *doc;              /* the current document, "$B" replaced */
	size_t len;
	int status_first, status_rest, problem, link_up, no_location, rcode;
	unsigned requests;      /* answered for the current input */
	unsigned long nonce;
} srv = { .mu = PTHREAD_MUTEX_INITIALIZER };

static struct acme_key key;

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;  /* the client went away (a cancelled request) */
		p += k;
		n -= (size_t)k;
	}
}

/* One request on fd: the head, any Content-Length body, then the answer. */
static void serve_http(int fd)
{
	struct timeval tv = { .tv_sec = 1 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[16384];
	size_t n = 0;
	char *end = NULL;
	while (!end && n < sizeof(buf) - 1) {
		ssize_t k = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
		if (k <= 0)
			return;
		n += (size_t)k;
		buf[n] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end)
		return;
	size_t want = 0, have = n - (size_t)(end + 4 - buf);
	for (char *h = strchr(buf, '\n'); h && h < end; h = strchr(h + 1, '\n'))
		if (!strncasecmp(h + 1, "Content-Length:", 15))
			want = strtoul(h + 16, NULL, 10);
	int head = !strncmp(buf, "HEAD ", 5);
	while (have < want) {
		char sink[4096];
		ssize_t k = recv(fd, sink, sizeof(sink), 0);
		if (k <= 0)
			return;
		have += (size_t)k;
	}

	pthread_mutex_lock(&srv.mu);
	int status = srv.requests++ ? srv.status_rest : srv.status_first;
	char hdr[1024];
	int hl = snprintf(hdr, sizeof(hdr),
	                  "HTTP/1.1 %d Fuzz\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	                  "Replay-Nonce: fuzz%08lx\r\n%s%s%s%s%s%s"
	                  "Link: <%s/dir>;rel=\"index\"\r\nConnection: close\r\n\r\n",
	                  status, srv.problem ? "application/problem+json" : "application/json",
	                  srv.len, ++srv.nonce,
	                  srv.no_location ? "" : "Location: ", srv.no_location ? "" : srv.base,
	                  srv.no_location ? "" : "/acct/1\r\n",
	                  srv.link_up ? "Link: <" : "", srv.link_up ? srv.base : "",
	                  srv.link_up ? "/authz/1>;rel=\"up\"\r\n" : "", srv.base);
	char *out = malloc((size_t)hl + srv.len);
	size_t outlen = 0;
	if (out) {
		memcpy(out, hdr, (size_t)hl);
		if (!head && srv.len)
			memcpy(out + hl, srv.doc, srv.len);
		outlen = (size_t)hl + (head ? 0 : srv.len);
	}
	pthread_mutex_unlock(&srv.mu);
	if (out)
		send_all(fd, out, outlen);
	free(out);
}

/* A DNS query on ufd: its header and question back, with the rcode chosen
 * and no records. */
static void serve_dns(int ufd)
{
	unsigned char m[1500];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(ufd, m, sizeof(m), 0, (struct sockaddr *)&from, &fl);
	if (n < 12)
		return;
	size_t p = 12;
	while (p < (size_t)n && m[p] && m[p] < 64)
		p += 1 + m[p];
	if (p + 5 > (size_t)n || m[p])
		return;
	p += 5;
	pthread_mutex_lock(&srv.mu);
	int rcode = srv.rcode;
	pthread_mutex_unlock(&srv.mu);
	m[2] = (unsigned char)(0x80 | (m[2] & 0x79));  /* QR, opcode and RD kept */
	m[3] = (unsigned char)(0x80 | rcode);           /* RA */
	m[4] = 0;
	m[5] = 1;
	memset(m + 6, 0, 6);
	sendto(ufd, m, p, 0, (struct sockaddr *)&from, fl);
}

static void *server(void *arg)
{
	int *fds = arg;
	for (;;) {
		struct pollfd pf[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
		if (poll(pf, 2, -1) < 0)
			continue;
		if (pf[1].revents & POLLIN)
			serve_dns(fds[1]);
		if (pf[0].revents & POLLIN) {
			int c = accept(fds[0], NULL, NULL);
			if (c >= 0) {
				serve_http(c);
				close(c);
			}
		}
	}
	return NULL;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || getsockname(fd, (struct sockaddr *)&a, &len))
		abort();
	return ntohs(a.sin_port);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_isolate();
	static int fds[2];
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	fds[1] = socket(AF_INET, SOCK_DGRAM, 0);
	int one = 1;
	if (fds[0] < 0 || fds[1] < 0 ||
	    setsockopt(fds[0], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		abort();
	snprintf(srv.base, sizeof(srv.base), "http://127.0.0.1:%u", bound_port(fds[0]));
	srv.dns_port = bound_port(fds[1]);
	pthread_t t;
	if (listen(fds[0], 64) || pthread_create(&t, NULL, server, fds))
		abort();

	/* the account key: EC P-256, made once, read as a PEM file would be */
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	BIO *b = BIO_new(BIO_s_mem());
	char *pem = NULL, err[300];
	long pl;
	if (!pk || !b || !PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) ||
	    (pl = BIO_get_mem_data(b, &pem)) <= 0 ||
	    acme_key_from_pem(pem, (size_t)pl, &key, err, sizeof(err)))
		abort();
	BIO_free(b);
	EVP_PKEY_free(pk);
	return 0;
}

/* The document with "$B" replaced by the server's origin. */
static char *expand(const uint8_t *data, size_t size, size_t *len)
{
	size_t bl = strlen(srv.base), n = 0;
	char *out = malloc(size * (bl > 2 ? bl : 2) / 2 + 1);
	if (!out)
		abort();
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '$' && i + 1 < size && data[i + 1] == 'B') {
			memcpy(out + n, srv.base, bl);
			n += bl;
			i++;
		} else {
			out[n++] = (char)data[i];
		}
	}
	*len = n;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t b0 = data[0], b1 = data[1];
	size_t len;
	char *doc = expand(data + 2, size - 2, &len);
	static const int rcodes[4] = {0, 2, 3, 5};
	pthread_mutex_lock(&srv.mu);
	free(srv.doc);
	srv.doc = doc;
	srv.len = len;
	srv.status_first = statuses[b0 & 7];
	srv.status_rest = statuses[(b0 >> 3) & 7];
	srv.problem = b1 & 1;
	srv.link_up = (b1 >> 1) & 1;
	srv.no_location = (b1 >> 2) & 1;
	srv.rcode = rcodes[(b1 >> 3) & 3];
	srv.requests = 0;
	pthread_mutex_unlock(&srv.mu);

	char order[64], dir[64], kid[64];
	snprintf(order, sizeof(order), "%s/order", srv.base);
	snprintf(dir, sizeof(dir), "%s/dir", srv.base);
	snprintf(kid, sizeof(kid), "%s/acct/1", srv.base);
	int mode = b0 >> 6;
	struct diag_report *r = diag_report_new("fuzz", "0", mode < 2 ? order : dir);
	if (!r)
		abort();
	if (mode < 2) {
		const char *urls[] = {order};
		struct authz_opts o = {
			.urls = urls, .nurls = 1, .timeout_ms = TIMEOUT_MS,
			.directory = mode ? dir : NULL, .key = mode ? &key : NULL, .kid = mode ? kid : NULL,
		};
		diag_authz_run(&o, r);
	} else {
		struct diag_server ns;
		if (diag_server_from_ip("127.0.0.1", srv.dns_port, &ns))
			abort();
		struct account_opts o = {
			.directory = dir, .key = &key, .no_clock = 1, .timeout_ms = TIMEOUT_MS,
			.kid = (b1 >> 5) & 1 ? kid : NULL,
			.contact = (b1 >> 6) & 1 ? "mailto:admin@acme-diag.net" : NULL,
			.ns = &ns, .nns = 1,
		};
		diag_account_run(&o, r);
	}
	/* and a URL given is never left without a word */
	if (r->n == 0)
		abort();
	report_check(r);
	diag_report_free(r);
	return 0;
}
