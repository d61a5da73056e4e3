/* SPDX-License-Identifier: ISC */
/*
 * isolate.h - for fuzz targets that run code which may open connections or
 * resolve names: move the process into a network namespace of its own
 * whose only interface is loopback (up). Whatever a fuzzed document or
 * argument names, nothing leaves the machine: 127.0.0.1 is the harness's
 * own servers, any other address is unreachable. Call it first, from
 * LLVMFuzzerInitialize (one thread). Needs root, or unprivileged user
 * namespaces; without either the target refuses to run.
 */
#ifndef FUZZ_ISOLATE_H
#define FUZZ_ISOLATE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* unshare; include this header first */
#endif
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static void fuzz_isolate(void)
{
	if (unshare(CLONE_NEWNET) && unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
		fprintf(stderr, "fuzz: cannot make a network namespace (%s): run as root\n",
		        strerror(errno));
		exit(1);
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr))) {
		fprintf(stderr, "fuzz: cannot bring up loopback: %s\n", strerror(errno));
		exit(1);
	}
	close(fd);
	/* a proxy from the environment would be unreachable here */
	static const char *const proxies[] = {"http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY",
	                                      "HTTPS_PROXY", "ALL_PROXY"};
	for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
		unsetenv(proxies[i]);
}

#endif
