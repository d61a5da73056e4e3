/* SPDX-License-Identifier: ISC */
/*
 * dnsjunk - a deliberately broken DNS responder for the lab's hostile-input
 * tests. It is a stand-in, on purpose: no real DNS server emits malformed
 * or truncated-to-nothing replies, so the tests need a program that does.
 * Everything else in the lab is a real server from Debian's packages.
 *
 *   dnsjunk MODE ADDR PORT
 *
 *   MODE     UDP                                   TCP
 *   silent   reads queries, never answers; logs    accepts, reads nothing, never answers
 *            "udp query N bytes" on stdout for
 *            each (tests count what reached it)
 *   garbage  random bytes, random length (1-600)   random bytes, then close
 *   tc       the query's header and question with  accept, then close at once
 *            QR and TC set, no records
 *   short    the first 5 bytes of the query        a 5-byte message (length prefix 5)
 *
 *   and, for HTTP clients (TCP only; the UDP socket is bound but ignored):
 *   endless  a 200 status line, then body bytes until the client leaves
 *   stall    part of the headers, then nothing
 *   reset    reads the request, then resets the connection (RST)
 *
 * One UDP and one TCP socket on ADDR:PORT, one poll() loop. It runs until
 * killed: the lab starts it under timeout(1).
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -o dnsjunk dnsjunk.c
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { SILENT, GARBAGE, TC, SHORT, ENDLESS, STALL, RESET };

static const char *const mode_names[] = { "silent", "garbage", "tc", "short",
					  "endless", "stall", "reset" };

/* Connections that "silent" holds open without answering; the oldest is
 * closed when the ring is full, so a long run cannot exhaust descriptors. */
#define HELD 64

static int bind_socket(int type, const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		len = sizeof(*a6);
	} else {
		fprintf(stderr, "dnsjunk: %s: not an IP address\n", addr);
		exit(2);
	}
	int fd = socket(ss.ss_family, type, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || (type == SOCK_STREAM && listen(fd, 64))) {
		fprintf(stderr, "dnsjunk: %s port %d: %s\n", addr, port, strerror(errno));
		exit(1);
	}
	return fd;
}

static size_t junk(unsigned char *buf, size_t max)
{
	size_t n = 1 + (size_t)rand() % max;
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)rand();
	return n;
}

/* Length of the header plus the first question of a DNS message, or 12
 * (the header alone) when the question does not parse. */
static size_t header_and_question(const unsigned char *m, size_t n)
{
	size_t off = 12;
	if (n < 12 || (m[4] == 0 && m[5] == 0))
		return 12;
	while (off < n && m[off] != 0) {
		if ((m[off] & 0xc0) != 0 || off + 1 + m[off] >= n)
			return 12;
		off += 1u + m[off];
	}
	if (off + 5 > n)
		return 12;
	return off + 5; /* the root label, QTYPE, QCLASS */
}

/* Wait up to ms milliseconds for the client's request and read it. */
static ssize_t read_request(int c, unsigned char *buf, size_t size, int ms)
{
	struct pollfd p = { .fd = c, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return -1;
	return read(c, buf, size);
}

static void write_all(int c, const void *data, size_t n)
{
	const unsigned char *p = data;
	while (n > 0) {
		ssize_t w = write(c, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* HTTP junk, in a child so that the listener keeps accepting. The child
 * closes the listening sockets: a stalled child must not keep the port. */
static void http_junk(int c, enum mode mode, const struct pollfd *listeners)
{
	pid_t pid = fork();
	if (pid != 0) {
		close(c);
		return;
	}
	close(listeners[0].fd);
	close(listeners[1].fd);
	unsigned char req[2048];
	if (read_request(c, req, sizeof(req), 5000) < 0)
		_exit(0);
	if (mode == RESET) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(c);
		_exit(0);
	}
	if (mode == STALL) {
		const char *part = "HTTP/1.1 200 OK\r\nContent-Type: text/pl";
		write_all(c, part, strlen(part));
		sleep(600);
		_exit(0);
	}
	const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n";
	write_all(c, head, strlen(head));
	char body[4096];
	memset(body, 'x', sizeof(body));
	for (int i = 0; i < 1000000; i++) /* about 4 GB, or until the client leaves */
		if (write(c, body, sizeof(body)) < 0)
			break;
	_exit(0);
}

static void udp_reply(int fd, enum mode mode)
{
	unsigned char buf[4096];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (mode == SILENT && n >= 0) {
		printf("udp query %zd bytes\n", n);
		fflush(stdout);
	}
	if (n < 12 || mode == SILENT || mode >= ENDLESS)
		return;
	size_t out;
	switch (mode) {
	case GARBAGE:
		out = junk(buf, 600);
		break;
	case TC:
		out = header_and_question(buf, (size_t)n);
		buf[2] |= 0x82;                  /* QR and TC */
		buf[3] &= 0xf0;                  /* RCODE 0 */
		if (out == 12)
			buf[4] = buf[5] = 0;     /* no question either */
		memset(buf + 6, 0, 6);           /* no answer, authority, additional */
		break;
	case SHORT:
	default:
		out = 5;
		break;
	}
	sendto(fd, buf, out, 0, (struct sockaddr *)&from, fl);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: dnsjunk silent|garbage|tc|short|endless|stall|reset ADDR PORT\n");
		return 2;
	}
	int mode = -1;
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (!strcmp(argv[1], mode_names[i]))
			mode = (int)i;
	char *end;
	long port = strtol(argv[3], &end, 10);
	if (mode < 0 || *end != '\0' || port < 1 || port > 65535) {
		fprintf(stderr, "dnsjunk: bad mode or port: %s %s\n", argv[1], argv[3]);
		return 2;
	}
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	signal(SIGCHLD, SIG_IGN); /* no zombies from the HTTP children */
	signal(SIGPIPE, SIG_IGN); /* a client that left is not our problem */
	struct pollfd pfd[2] = {
		{ .fd = bind_socket(SOCK_DGRAM, argv[2], (int)port), .events = POLLIN },
		{ .fd = bind_socket(SOCK_STREAM, argv[2], (int)port), .events = POLLIN },
	};
	int held[HELD];
	size_t next_held = 0;
	for (size_t i = 0; i < HELD; i++)
		held[i] = -1;

	for (;;) {
		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[0].revents & POLLIN)
			udp_reply(pfd[0].fd, (enum mode)mode);
		if (!(pfd[1].revents & POLLIN))
			continue;
		int c = accept(pfd[1].fd, NULL, NULL);
		if (c < 0)
			continue;
		unsigned char buf[4096];
		switch ((enum mode)mode) {
		case SILENT:
			if (held[next_held] >= 0)
				close(held[next_held]);
			held[next_held] = c;
			next_held = (next_held + 1) % HELD;
			break;
		case GARBAGE:
			(void)read_request(c, buf, sizeof(buf), 200);
			write_all(c, buf, junk(buf, 600));
			shutdown(c, SHUT_WR);
			close(c);
			break;
		case SHORT: {
			ssize_t n = read_request(c, buf + 2, sizeof(buf) - 2, 200);
			/* the query's 2-byte length is replaced by 5; the 5 bytes
			 * that follow are the start of the query (its ID, flags) */
			if (n < 7)
				memset(buf + 2, 0, 5);
			else
				memmove(buf + 2, buf + 4, 5);
			buf[0] = 0;
			buf[1] = 5;
			write_all(c, buf, 7);
			shutdown(c, SHUT_WR);
			close(c);
			break;
		}
		case TC:
			close(c);
			break;
		case ENDLESS:
		case STALL:
		case RESET:
		default:
			http_junk(c, (enum mode)mode, pfd);
			break;
		}
	}
}
