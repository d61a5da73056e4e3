/* SPDX-License-Identifier: ISC */
/* loopback.h - for unit tests: sockets on 127.0.0.1 that stand for servers
 * (include after cmocka.h and diag.h). */
#ifndef TEST_LOOPBACK_H
#define TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

/* A UDP socket on 127.0.0.1 that never answers: a dead server (a real
 * socket, no stand-in for a DNS server is needed to stay silent). Its
 * address goes to out. */
static inline int silent_server(struct diag_server *out)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	assert_int_equal(diag_server_from_ip("127.0.0.1", ntohs(a.sin_port), out), 0);
	return fd;
}

/* A TCP listener on 127.0.0.1 that never accepts: connections complete in
 * the backlog, requests (HTTP, a TLS handshake) get no answer. */
static inline int silent_tcp(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A done callback that counts. */
static inline void count_done(void *arg)
{
	(*(int *)arg)++;
}

/*
 * Start a probe (start, opts) on a loop of its own, run k turns, cancel it
 * if it is not done: done must not run afterwards, and the loop must have
 * nothing left to do (within 3 s). What every probe's "cancel at every
 * turn" test does for k = 0, 1, ...
 */
static inline void cancel_after_turns(diag_start_fn start, const void *opts, int k)
{
	struct diag_loop *loop = diag_loop_new();
	struct diag_report *r = diag_report_new("t", "1", "x");
	int done = 0;
	struct diag_probe *p = start(loop, opts, r, count_done, &done);
	assert_non_null(p);
	for (int i = 0; i < k && !done; i++)
		assert_true(diag_loop_run_once(loop, 20) >= 0);
	if (!done)
		diag_probe_cancel(p);
	int was = done;
	int64_t end = diag_now_ms() + 3000;
	while (diag_loop_run_once(loop, 50) > 0 && diag_now_ms() < end)
		;
	assert_int_equal(done, was);
	diag_loop_free(loop);
	diag_report_free(r);
}

#endif
