/* SPDX-License-Identifier: ISC */
/* loopback.h - for unit tests: sockets on 127.0.0.1 that stand for servers
 * (include after cmocka.h and diag.h). */
#ifndef TEST_LOOPBACK_H
#define TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* A UDP socket on 127.0.0.1 that never answers: a dead server (a real
 * socket, no stand-in for a DNS server is needed to stay silent). Its
 * address goes to out. */
static int silent_server(struct diag_server *out)
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
 * the kernel's backlog, requests get no answer (a web server that hangs).
 * Its port goes to port. (Inline: not every test uses it.) */
static inline int mute_listener(uint16_t *port)
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

#endif
