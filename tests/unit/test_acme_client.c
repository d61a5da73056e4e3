/* SPDX-License-Identifier: ISC */
/*
 * Unit tests: the asynchronous ACME client and the ACME probes, against a
 * scripted HTTP peer on 127.0.0.1 that runs on the same loop. What the lab's
 * Pebble cannot be made to do on demand is scripted here: a badNonce answer
 * that a retry must get past, with the nonce the answer carried; the pool
 * used before newNonce; the bound on the pool; a request cancelled, or the
 * client freed, while others are in flight; and every probe cancelled after
 * every number of loop turns (ASan and UBSan check these in make sanitize).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "diag.h"

/* ---- the scripted peer ---- */

#define MAX_CONN 64

struct conn {
	int fd;
	char buf[65536];
	size_t len;
};

struct peer {
	struct diag_loop *loop;
	int lfd;
	uint16_t port;
	char base[64];                /* http://127.0.0.1:PORT */
	struct conn conns[MAX_CONN];
	int heads;                    /* HEAD /nonce seen */
	int posts;                    /* POSTs seen */
	int reject;                   /* badNonce answers still to give to POST /flaky */
	int nonce_seq;
	char used[16][64];            /* nonces the POSTs carried */
	int nused;
};

/* The nonce in a flattened JWS body, into out. */
static void jws_nonce(const char *body, char *out, size_t len)
{
	out[0] = '\0';
	json_t *j = json_loads(body, 0, NULL);
	const char *p64 = json_string_value(json_object_get(j, "protected"));
	if (p64) {
		unsigned char raw[4096];
		long n = diag_b64url_decode(p64, strlen(p64), raw);
		if (n > 0 && n < (long)sizeof(raw)) {
			json_t *prot = json_loadb((const char *)raw, (size_t)n, 0, NULL);
			snprintf(out, len, "%s", json_string_value(json_object_get(prot, "nonce")) ?
			         json_string_value(json_object_get(prot, "nonce")) : "");
			json_decref(prot);
		}
	}
	json_decref(j);
}

static void reply(struct peer *s, int fd, const char *status, const char *ctype, const char *extra,
                  const char *body, int nonce)
{
	char nh[64] = "";
	if (nonce)
		snprintf(nh, sizeof(nh), "Replay-Nonce: n%d\r\n", ++s->nonce_seq);
	char head[1024];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	                 "Connection: close\r\n%s%s\r\n", status, ctype, strlen(body), nh, extra ? extra : "");
	/* the client may be gone (a cancelled request): then the writes fail */
	if (write(fd, head, (size_t)n) == n && write(fd, body, strlen(body)) < 0)
		return;
}

static void answer(struct peer *s, int fd, const char *method, const char *path, const char *body)
{
	char dir[512];
	if (!strcmp(path, "/dir")) {
		snprintf(dir, sizeof(dir), "{\"newNonce\":\"%s/nonce\",\"newAccount\":\"%s/acct\","
		         "\"newOrder\":\"%s/order\"}", s->base, s->base, s->base);
		reply(s, fd, "200 OK", "application/json", NULL, dir, 0);
	} else if (!strcmp(method, "HEAD") && !strcmp(path, "/nonce")) {
		s->heads++;
		reply(s, fd, "200 OK", "text/plain", NULL, "", 1);
	} else if (!strcmp(method, "POST")) {
		s->posts++;
		if (s->nused < 16)
			jws_nonce(body, s->used[s->nused++], sizeof(s->used[0]));
		if (!strcmp(path, "/slow"))
			return;  /* never answered */
		int bad = !strcmp(path, "/always-bad") || (!strcmp(path, "/flaky") && s->reject-- > 0);
		if (bad) {
			reply(s, fd, "400 Bad Request", "application/problem+json", NULL,
			      "{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"JWS has an invalid "
			      "anti-replay nonce\",\"status\":400}", 1);
		} else if (!strcmp(path, "/acct")) {
			snprintf(dir, sizeof(dir), "Location: %s/acct/1\r\n", s->base);
			reply(s, fd, "200 OK", "application/json", dir, "{\"status\":\"valid\"}", 1);
		} else {
			reply(s, fd, "200 OK", "application/json", NULL, "{\"status\":\"valid\",\"contact\":"
			      "[\"mailto:admin@acme-diag.net\",\"mailto:x@example.com\"]}", 1);
		}
	} else if (!strncmp(path, "/slow", 5)) {
		return;
	} else if (!strcmp(path, "/bigorder")) {
		/* 120 authorizations that never answer: 8 rounds of 16 */
		char *big = malloc(120 * 64 + 256);
		assert_non_null(big);
		size_t n = (size_t)sprintf(big, "{\"status\":\"pending\",\"finalize\":\"f\",\"authorizations\":[");
		for (int i = 1; i <= 120; i++)
			n += (size_t)sprintf(big + n, "%s\"%s/slow/%d\"", i > 1 ? "," : "", s->base, i);
		sprintf(big + n, "]}");
		reply(s, fd, "200 OK", "application/json", NULL, big, 1);
		free(big);
	} else if (!strcmp(path, "/order")) {
		snprintf(dir, sizeof(dir), "{\"status\":\"pending\",\"finalize\":\"%s/f\",\"identifiers\":[],"
		         "\"authorizations\":[\"%s/authz/1\",\"%s/authz/2\",\"%s/slow\",\"https://elsewhere.test/a\"]}",
		         s->base, s->base, s->base, s->base);
		reply(s, fd, "200 OK", "application/json", NULL, dir, 1);
	} else if (!strncmp(path, "/authz/", 7)) {
		reply(s, fd, "200 OK", "application/json", NULL, "{\"identifier\":{\"type\":\"dns\",\"value\":"
		      "\"a.test\"},\"status\":\"valid\",\"challenges\":[{\"type\":\"http-01\",\"status\":\"valid\","
		      "\"token\":\"t\"}]}", 1);
	} else if (!strcmp(path, "/chal-self")) {
		/* a challenge whose Link rel="up" names itself */
		snprintf(dir, sizeof(dir), "Link: <%s/chal-self>;rel=\"up\"\r\n", s->base);
		reply(s, fd, "200 OK", "application/json", dir, "{\"type\":\"http-01\",\"status\":\"pending\","
		      "\"token\":\"t\"}", 1);
	} else {
		reply(s, fd, "404 Not Found", "text/plain", NULL, "no", 1);
	}
}

static void close_conn(struct peer *s, struct conn *c)
{
	diag_loop_unwatch_fd(s->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void on_data(void *arg, int fd, int readable)
{
	struct peer *s = arg;
	(void)readable;
	struct conn *c = NULL;
	for (size_t i = 0; i < MAX_CONN; i++)
		if (s->conns[i].fd == fd)
			c = &s->conns[i];
	if (!c)
		return;
	ssize_t n = read(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		close_conn(s, c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	char *end = strstr(c->buf, "\r\n\r\n");
	if (!end)
		return;
	char *cl = strstr(c->buf, "Content-Length: ");
	size_t want = cl && cl < end ? strtoul(cl + 16, NULL, 10) : 0;
	if (c->len < (size_t)(end + 4 - c->buf) + want)
		return;
	char method[8] = "", path[256] = "";
	sscanf(c->buf, "%7s %255s", method, path);
	answer(s, fd, method, path, end + 4);
	if (strncmp(path, "/slow", 5))
		close_conn(s, c);
}

static void on_accept(void *arg, int fd, int readable)
{
	struct peer *s = arg;
	(void)readable;
	int cfd = accept(fd, NULL, NULL);
	if (cfd < 0)
		return;
	for (size_t i = 0; i < MAX_CONN; i++)
		if (s->conns[i].fd < 0) {
			s->conns[i].fd = cfd;
			s->conns[i].len = 0;
			assert_int_equal(diag_loop_watch_fd_persistent(s->loop, cfd, on_data, s), 0);
			return;
		}
	close(cfd);
}

static void peer_start(struct peer *s, struct diag_loop *loop)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	for (size_t i = 0; i < MAX_CONN; i++)
		s->conns[i].fd = -1;
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t al = sizeof(a);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
	assert_int_equal(listen(s->lfd, 64), 0);
	s->port = ntohs(a.sin_port);
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", s->port);
	assert_int_equal(diag_loop_watch_fd_persistent(loop, s->lfd, on_accept, s), 0);
}

static void peer_stop(struct peer *s)
{
	for (size_t i = 0; i < MAX_CONN; i++)
		if (s->conns[i].fd >= 0)
			close_conn(s, &s->conns[i]);
	diag_loop_unwatch_fd(s->loop, s->lfd);
	close(s->lfd);
}

/* ---- requests ---- */

struct got {
	int calls;
	long status;
	int retries;
	char err[256];
	char problem[160];
	struct acme_client *free_me;  /* freed from inside the callback */
};

static void on_resp(void *arg, struct acme_resp *r)
{
	struct got *g = arg;
	g->calls++;
	g->status = r->status;
	g->retries = r->nonce_retries;
	snprintf(g->err, sizeof(g->err), "%s", r->err);
	snprintf(g->problem, sizeof(g->problem), "%s", acme_problem_short(&r->prob));
	if (g->free_me)
		acme_client_free(g->free_me);
}

struct fixture {
	struct diag_loop *loop;
	struct peer peer;
	struct acme_client *c;
	struct acme_key key;
	char url[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->loop = diag_loop_new();
	assert_non_null(f->loop);
	peer_start(&f->peer, f->loop);
	f->c = acme_client_new(f->loop, NULL, 0, 2000);
	assert_non_null(f->c);
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	assert_non_null(pk);
	char err[200];
	/* a PEM round trip: acme_key_from_pem is the loader the tools use */
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	assert_int_equal(acme_key_from_pem(data, (size_t)n, &f->key, err, sizeof(err)), 0);
	BIO_free(b);
	EVP_PKEY_free(pk);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	acme_client_free(f->c);
	peer_stop(&f->peer);
	diag_loop_free(f->loop);
	acme_key_free(&f->key);
	free(f);
	return 0;
}

static const char *url(struct fixture *f, const char *path)
{
	snprintf(f->url, sizeof(f->url), "%s%s", f->peer.base, path);
	return f->url;
}

static void directory(struct fixture *f)
{
	struct got g = {0};
	assert_non_null(acme_directory(f->c, url(f, "/dir"), on_resp, &g));
	assert_int_equal(g.calls, 0);  /* never inside the call */
	assert_int_equal(diag_loop_run(f->loop), 0);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, 200);
	assert_non_null(acme_dir_url(f->c, "newNonce"));
}

static void bad_nonce_retried_with_the_answers_nonce(void **state)
{
	struct fixture *f = *state;
	directory(f);
	f->peer.reject = 2;
	struct got g = {0};
	assert_non_null(acme_post(f->c, url(f, "/flaky"), &f->key, "kid", NULL, on_resp, &g));
	assert_int_equal(diag_loop_run(f->loop), 0);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, 200);
	assert_int_equal(g.retries, 2);
	assert_int_equal(acme_client_nonce_retries(f->c), 2);
	assert_int_equal(f->peer.heads, 1);           /* the pool was empty once */
	assert_int_equal(f->peer.posts, 3);
	assert_string_equal(f->peer.used[0], "n1");   /* from HEAD newNonce */
	assert_string_equal(f->peer.used[1], "n2");   /* from the first badNonce answer */
	assert_string_equal(f->peer.used[2], "n3");   /* from the second */
	assert_int_equal(acme_client_nonces(f->c), 1); /* n4, from the success */
	/* the next POST takes n4 from the pool: no newNonce request */
	struct got g2 = {0};
	assert_non_null(acme_post(f->c, url(f, "/ok"), &f->key, NULL, NULL, on_resp, &g2));
	assert_int_equal(diag_loop_run(f->loop), 0);
	assert_int_equal(g2.status, 200);
	assert_int_equal(g2.retries, 0);
	assert_int_equal(f->peer.heads, 1);
	assert_string_equal(f->peer.used[3], "n4");
}

static void bad_nonce_retries_are_bounded(void **state)
{
	struct fixture *f = *state;
	directory(f);
	struct got g = {0};
	assert_non_null(acme_post(f->c, url(f, "/always-bad"), &f->key, "kid", NULL, on_resp, &g));
	assert_int_equal(diag_loop_run(f->loop), 0);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, 400);
	assert_string_equal(g.problem, "badNonce");
	assert_int_equal(g.retries, ACME_NONCE_RETRIES);
	assert_int_equal(f->peer.posts, 1 + ACME_NONCE_RETRIES);
}

static void post_without_directory_fails_from_the_loop(void **state)
{
	struct fixture *f = *state;
	struct got g = {0};
	assert_non_null(acme_post(f->c, url(f, "/ok"), &f->key, NULL, NULL, on_resp, &g));
	assert_int_equal(g.calls, 0);
	assert_int_equal(diag_loop_run(f->loop), 0);
	assert_int_equal(g.calls, 1);
	assert_non_null(strstr(g.err, "newNonce"));
}

static void pool_is_bounded(void **state)
{
	struct fixture *f = *state;
	struct got g[ACME_NONCE_POOL + 4];
	memset(g, 0, sizeof(g));
	for (size_t i = 0; i < ACME_NONCE_POOL + 4; i++)
		assert_non_null(acme_get(f->c, url(f, "/authz/1"), 0, on_resp, &g[i]));
	assert_int_equal(diag_loop_run(f->loop), 0);
	for (size_t i = 0; i < ACME_NONCE_POOL + 4; i++)
		assert_int_equal(g[i].status, 200);
	assert_int_equal(acme_client_nonces(f->c), ACME_NONCE_POOL);
}

static void cancel_and_timeout(void **state)
{
	struct fixture *f = *state;
	struct got slow = {0}, cancelled = {0};
	assert_non_null(acme_get(f->c, url(f, "/slow"), 0, on_resp, &slow));
	struct acme_req *q = acme_get(f->c, url(f, "/slow"), 0, on_resp, &cancelled);
	assert_non_null(q);
	assert_int_equal(diag_loop_run_once(f->loop, 50), 1);
	acme_req_cancel(q);
	assert_int_equal(diag_loop_run(f->loop), 0);
	assert_int_equal(cancelled.calls, 0);
	assert_int_equal(slow.calls, 1);           /* the other one timed out (2 s) */
	assert_non_null(strstr(slow.err, "imed out"));
}

static void client_freed_inside_a_callback(void **state)
{
	struct fixture *f = *state;
	directory(f);
	struct got fast = {0}, slow = {0}, post = {0};
	assert_non_null(acme_get(f->c, url(f, "/slow"), 0, on_resp, &slow));
	assert_non_null(acme_post(f->c, url(f, "/slow"), &f->key, "kid", NULL, on_resp, &post));
	fast.free_me = f->c;
	assert_non_null(acme_get(f->c, url(f, "/authz/2"), 0, on_resp, &fast));
	f->c = NULL;
	assert_int_equal(diag_loop_run(f->loop), 0);
	assert_int_equal(fast.calls, 1);
	assert_int_equal(slow.calls, 0);
	assert_int_equal(post.calls, 0);
}

/* ---- probes cancelled at every point ---- */

static void count_done(void *arg)
{
	(*(int *)arg)++;
}

typedef struct diag_probe *(*start_fn)(struct fixture *f, struct diag_report *r, int *done);

static struct diag_probe *start_account(struct fixture *f, struct diag_report *r, int *done)
{
	static struct diag_server ns;
	diag_server_from_ip("127.0.0.1", 9, &ns);  /* discard: nothing answers DNS there */
	struct account_opts o = {
		.directory = url(f, "/dir"), .key = &f->key, .kid = "k", .timeout_ms = 300, .ns = &ns, .nns = 1,
	};
	return diag_account_start(f->loop, &o, r, count_done, done);
}

static struct diag_probe *start_authz(struct fixture *f, struct diag_report *r, int *done)
{
	const char *urls[] = {url(f, "/order")};
	struct authz_opts o = { .urls = urls, .nurls = 1, .timeout_ms = 300 };
	return diag_authz_start(f->loop, &o, r, count_done, done);
}

static struct jws_capture jws_cap;

static struct diag_probe *start_jws(struct fixture *f, struct diag_report *r, int *done)
{
	struct jws_opts o = { .cap = &jws_cap, .directory_url = url(f, "/dir"), .timeout_ms = 300 };
	return diag_jws_start(f->loop, &o, r, count_done, done);
}

/* Run the probe to the end once, counting turns; then again, cancelled
 * after 0, 1, 2... turns. done never runs inside start, nor after cancel. */
static void cancel_everywhere(struct fixture *f, start_fn start, const char *last_id)
{
	int done = 0, turns = 0;
	struct diag_report *r = diag_report_new("t", "0", NULL);
	assert_non_null(start(f, r, &done));
	assert_int_equal(done, 0);
	while (!done && turns < 1000) {
		diag_loop_run_once(f->loop, 100);
		turns++;
	}
	assert_int_equal(done, 1);
	assert_string_equal(r->v[r->n - 1]->id, last_id);
	diag_report_free(r);
	for (int k = 0; k <= turns; k++) {
		done = 0;
		r = diag_report_new("t", "0", NULL);
		struct diag_probe *p = start(f, r, &done);
		assert_non_null(p);
		for (int t = 0; t < k && !done; t++)
			diag_loop_run_once(f->loop, 100);
		int cancelled = !done;
		if (cancelled)
			diag_probe_cancel(p);
		diag_loop_run_once(f->loop, 0);
		assert_int_equal(done, cancelled ? 0 : 1);
		diag_report_free(r);
	}
}

static void probes_cancel_safely(void **state)
{
	struct fixture *f = *state;
	static const char doc[] = "{\"protected\":\"eyJhbGciOiJFUzI1NiJ9\",\"payload\":\"\",\"signature\":\"AA\"}";
	char err[100];
	assert_int_equal(jws_capture_parse(doc, sizeof(doc) - 1, &jws_cap, err, sizeof(err)), 0);
	cancel_everywhere(f, start_account, "acme.account.contact");
	cancel_everywhere(f, start_authz, "acme.fetch");
	cancel_everywhere(f, start_jws, "jws.summary");
	jws_capture_free(&jws_cap);
}

/* ---- the time bound of acme-authz ---- */

/* The authz probe on the peer's path, on the fixture's loop, to its end. */
static struct diag_report *authz_on(struct fixture *f, const char *path, int timeout_ms)
{
	const char *urls[] = {url(f, path)};
	struct authz_opts o = { .urls = urls, .nurls = 1, .timeout_ms = timeout_ms };
	struct diag_report *r = diag_report_new("t", "0", NULL);
	int done = 0;
	assert_non_null(diag_authz_start(f->loop, &o, r, count_done, &done));
	while (!done)
		diag_loop_run_once(f->loop, 100);
	return r;
}

static void authz_run_is_bounded(void **state)
{
	struct diag_report *r = authz_on(*state, "/bigorder", 200);
	/* 8 rounds of timeouts would take 1.6 s; the bound (6 x 200 ms) ends
	 * it first, and says so for what it cut (no clock is read here: the
	 * machine may be slow, the findings are what counts) */
	size_t timed_out = 0, bound = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct diag_finding *g = r->v[i];
		if (strcmp(g->id, "acme.fetch"))
			continue;
		assert_int_equal(g->status, DIAG_ERROR);
		timed_out += strstr(g->summary, "imed out") != NULL;
		bound += strstr(g->summary, "time bound") != NULL;
	}
	assert_int_equal(timed_out + bound, 120);  /* every authorization said */
	assert_true(bound > 0);
	assert_true(timed_out >= 5 * AUTHZ_INFLIGHT);
	diag_report_free(r);
}

/* A challenge whose authorization (Link rel="up") is not fetched, as it
 * was asked already (here: itself), is reported itself: the URL given was
 * left without any finding (found by fuzz_acme). */
static void challenge_up_to_itself(void **state)
{
	struct diag_report *r = authz_on(*state, "/chal-self", 2000);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->v[0]->id, "acme.challenge");
	assert_int_equal(r->v[0]->status, DIAG_OK);
	diag_report_free(r);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);  /* the peer writes to clients that may be gone */
	/* the peer is on 127.0.0.1: no proxy between */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bad_nonce_retried_with_the_answers_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_nonce_retries_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(post_without_directory_fails_from_the_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(pool_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(cancel_and_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(client_freed_inside_a_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(authz_run_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(challenge_up_to_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(probes_cancel_safely, setup, teardown),
	};
	return cmocka_run_group_tests_name("acme_client", tests, NULL, NULL);
}
