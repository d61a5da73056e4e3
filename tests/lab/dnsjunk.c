/*
 * dnsjunk - a deliberately broken DNS responder for the lab's hostile-input
 * tests. This is a stand-in, on purpose: no real DNS server emits malformed
 * replies, so the tests need one that does.
 *
 *   dnsjunk MODE ADDR PORT
 *   MODE: silent   read queries, never answer (UDP and TCP)
 *         garbage  answer each query with random bytes of random length
 *         tc       UDP: the query echoed with QR and TC set, no records;
 *                  TCP: accept, then close at once
 *         short    answer with 5 bytes
 *   and, for HTTP clients (TCP only; the UDP socket is ignored):
 *         endless  a 200 status line, then body bytes forever
 *         stall    send part of the headers, then nothing
 *         reset    read the request, then reset the connection (RST)
 *
 * It runs until killed (the lab wraps it in timeout(1)).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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
	    bind(fd, (struct sockaddr *)&ss, len) || (type == SOCK_STREAM && listen(fd, 16))) {
		perror("dnsjunk: socket");
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

/* One HTTP client at a time, in a child so the listener stays responsive. */
static void http_junk(int c, const char *mode)
{
	pid_t pid = fork();
	if (pid != 0) {
		close(c);
		return;
	}
	char req[2048];
	if (read(c, req, sizeof(req)) < 0)
		_exit(0);
	if (!strcmp(mode, "reset")) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(c);
		_exit(0);
	}
	if (!strcmp(mode, "stall")) {
		const char *part = "HTTP/1.1 200 OK\r\nContent-Type: text/pl";
		if (write(c, part, strlen(part)) < 0)
			_exit(0);
		sleep(600);
		_exit(0);
	}
	const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n";
	if (write(c, head, strlen(head)) < 0)
		_exit(0);
	char body[4096];
	memset(body, 'x', sizeof(body));
	for (int i = 0; i < 1000000; i++)  /* about 4 GB, or until the client leaves */
		if (write(c, body, sizeof(body)) < 0)
			break;
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: dnsjunk silent|garbage|tc|short ADDR PORT\n");
		return 2;
	}
	const char *mode = argv[1];
	if (strcmp(mode, "silent") && strcmp(mode, "garbage") && strcmp(mode, "tc") &&
	    strcmp(mode, "short") && strcmp(mode, "endless") && strcmp(mode, "stall") &&
	    strcmp(mode, "reset")) {
		fprintf(stderr, "dnsjunk: unknown mode %s\n", mode);
		return 2;
	}
	srand((unsigned)time(NULL));
	signal(SIGCHLD, SIG_IGN);  /* no zombies from the HTTP children */
	int port = atoi(argv[3]);
	struct pollfd pfd[2] = {
		{ .fd = bind_socket(SOCK_DGRAM, argv[2], port), .events = POLLIN },
		{ .fd = bind_socket(SOCK_STREAM, argv[2], port), .events = POLLIN },
	};
	unsigned char buf[4096];
	for (;;) {
		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(pfd[0].fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n < 12 || !strcmp(mode, "silent"))
				continue;
			size_t out = (size_t)n;
			if (!strcmp(mode, "garbage")) {
				out = junk(buf, 600);
			} else if (!strcmp(mode, "tc")) {
				buf[2] |= 0x82;  /* QR and TC */
				memset(buf + 6, 0, 6); /* no answer, authority, additional */
			} else {
				out = 5;
			}
			sendto(pfd[0].fd, buf, out, 0, (struct sockaddr *)&from, fl);
		}
		if (pfd[1].revents & POLLIN) {
			int c = accept(pfd[1].fd, NULL, NULL);
			if (c < 0)
				continue;
			if (!strcmp(mode, "endless") || !strcmp(mode, "stall") || !strcmp(mode, "reset")) {
				http_junk(c, mode);
				continue;
			}
			if (!strcmp(mode, "garbage")) {
				size_t n = junk(buf, 600);
				if (write(c, buf, n) < 0)
					perror("dnsjunk: write");
			}
			if (strcmp(mode, "silent"))
				close(c);
			/* silent: the connection is leaked on purpose; the client times out */
		}
	}
}
