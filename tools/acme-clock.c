/* SPDX-License-Identifier: ISC */
/* acme-clock - the local clock against ACME servers' Date headers and SNTP. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

#define MAX_SOURCES 32

enum { K_DIRECTORY = 256, K_URL, K_NTP, K_WARN, K_FAIL, K_CA_BUNDLE, K_INSECURE };

static const struct cli_opt opts[] = {
	{"directory", 0, "URL", "ACME directory URL whose Date header is compared; repeatable", K_DIRECTORY},
	{"url", 0, "URL", "any other http(s) URL to compare with; repeatable", K_URL},
	{"ntp", 0, "HOST", "SNTP server (HOST, HOST:PORT or [IPv6]:PORT) to compare with; repeatable", K_NTP},
	{"warn", 0, "SECONDS", "skew that warns (default 30)", K_WARN},
	{"fail", 0, "SECONDS", "skew that fails (default 300)", K_FAIL},
	{"ca-bundle", 0, "FILE", "CA certificates to trust for https (a private ACME CA)", K_CA_BUNDLE},
	{"insecure", 0, NULL, "do not verify TLS certificates (only when you must)", K_INSECURE},
	{0},
};

struct args {
	const char *urls[MAX_SOURCES], *ntp[MAX_SOURCES];
	size_t nurls, nntp;
	long warn, fail;
	const char *ca_bundle;
	int insecure;
	const struct cli_tool *tool;
};

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	switch (key) {
	case K_DIRECTORY:
	case K_URL:
		if (cli_url_arg(a->tool, key == K_URL ? "--url" : "--directory", arg))
			return -1;
		if (a->nurls == MAX_SOURCES) {
			cli_error(a->tool, "at most %d URLs", MAX_SOURCES);
			return -1;
		}
		a->urls[a->nurls++] = arg;
		return 0;
	case K_NTP:
		if (cli_host_arg(a->tool, "--ntp", arg))
			return -1;
		if (a->nntp == MAX_SOURCES) {
			cli_error(a->tool, "at most %d NTP servers", MAX_SOURCES);
			return -1;
		}
		a->ntp[a->nntp++] = arg;
		return 0;
	case K_WARN:
		return cli_long(a->tool, "--warn", arg, 1, 86400, &a->warn);
	case K_FAIL:
		return cli_long(a->tool, "--fail", arg, 1, 86400, &a->fail);
	case K_CA_BUNDLE:
		if (cli_file_arg(a->tool, "--ca-bundle", arg) || cli_tls_args(a->tool, arg, a->insecure))
			return -1;
		a->ca_bundle = arg;
		return 0;
	case K_INSECURE:
		a->insecure = 1;
		return cli_tls_args(a->tool, a->ca_bundle, 1);
	}
	return -1;
}

static int probe(const void *o, struct diag_report *r)
{
	return diag_clock_run(o, r);
}

int main(int argc, char **argv)
{
	struct args a = { .warn = 30, .fail = 300 };
	const struct cli_tool tool = {
		.name = "acme-clock",
		.bound_timeouts = 3,
		.synopsis = "[OPTIONS] (--directory URL | --url URL | --ntp HOST)...",
		.summary =
			"Measure the local clock's offset from ACME servers (their Date header,\n"
			"corrected for the round trip) and from SNTP servers, all at once, with the\n"
			"uncertainty of each measurement. A clock far off makes new certificates look\n"
			"not yet valid and renewals run at the wrong time.",
		.footer =
			"Examples:\n"
			"  acme-clock --directory https://acme-v02.api.letsencrypt.org/directory\n"
			"  acme-clock --directory https://ca.internal/acme/directory --ca-bundle ca.pem --ntp ntp.internal\n",
		.opts = opts, .handle = handle, .ctx = &a,
	};
	a.tool = &tool;
	struct cli_common c;
	int first;
	int rc = cli_parse(&tool, argc, argv, &c, &first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	if (first < argc) {
		cli_error(&tool, "%s: unexpected argument (URLs go with --directory or --url)", argv[first]);
		return DIAG_EXIT_USAGE;
	}
	if (!a.nurls && !a.nntp) {
		cli_error(&tool, "give at least one --directory URL, --url URL or --ntp HOST");
		fprintf(stderr, "Try 'acme-clock --help'.\n");
		return DIAG_EXIT_USAGE;
	}
	if (a.fail < a.warn) {
		cli_error(&tool, "--fail %ld is below --warn %ld", a.fail, a.warn);
		return DIAG_EXIT_USAGE;
	}
	struct clock_opts o = {
		.urls = a.urls, .nurls = a.nurls, .ntp = a.ntp, .nntp = a.nntp, .family = c.family,
		.timeout_ms = c.timeout_ms, .warn_s = (double)a.warn, .fail_s = (double)a.fail,
		.ca_bundle = a.ca_bundle, .insecure = a.insecure, .ns = c.ns, .nns = c.nns,
	};
	return cli_run(&tool, &c, a.nurls ? a.urls[0] : a.ntp[0], probe, &o);
}
