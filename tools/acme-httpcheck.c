/* SPDX-License-Identifier: ISC */
/* acme-httpcheck - HTTP-01 reachability, address by address, as the CA sees it. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

enum { K_TOKEN = 256, K_KEYAUTH, K_PROFILE, K_PORT };

static const struct cli_opt opts[] = {
	{"token", 0, "TOKEN", "challenge token to fetch (default: a random probe token, expecting 404)", K_TOKEN},
	{"key-authorization", 0, "KA", "expected body (TOKEN.THUMBPRINT); compared as the CA does", K_KEYAUTH},
	{"ca-profile", 0, "PROFILE", "whose validator to emulate: letsencrypt (default), pebble, rfc8555", K_PROFILE},
	{"port", 0, "PORT", "port of the first request (default 80; labs and private CAs)", K_PORT},
	{0},
};

struct args {
	const char *token, *ka;
	enum http01_profile profile;
	long port;
	const struct cli_tool *tool;
};

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	switch (key) {
	case K_TOKEN:
		a->token = arg;
		return cli_token_arg(a->tool, "--token", arg);
	case K_KEYAUTH:
		a->ka = arg;
		return cli_keyauth_arg(a->tool, "--key-authorization", arg);
	case K_PROFILE:
		if (diag_http01_profile_parse(arg, &a->profile)) {
			cli_error(a->tool, "--ca-profile %s: unknown profile (letsencrypt, pebble or rfc8555)", arg);
			return -1;
		}
		return 0;
	case K_PORT:
		return cli_long(a->tool, "--port", arg, 1, 65535, &a->port);
	}
	return -1;
}

/* The CA's identifier policy first: a name it refuses is not probed. */
static int probe(const void *arg, struct diag_report *r)
{
	const struct http01_opts *o = arg;
	int refused = diag_identifier_check(r, o->domain, 0, o->profile, "http-01");
	if (refused)
		return refused > 0 ? 0 : -1;
	return diag_http01_run(o, r);
}

int main(int argc, char **argv)
{
	struct args a = { .port = 80 };
	const struct cli_tool tool = {
		.name = "acme-httpcheck",
		.bound_timeouts = 26,  /* DNS, then up to 12 hops of twice --timeout */
		.synopsis = "[OPTIONS] DOMAIN",
		.summary =
			"Check HTTP-01 for DOMAIN the way the CA's validator does: every A and AAAA\n"
			"address is fetched on its own and concurrently, redirects are followed under\n"
			"the CA's rules, failures are worded as the CA words them, and the CA profile\n"
			"decides which address the CA would use (Let's Encrypt tries the first AAAA and\n"
			"falls back to the first A only on connect errors; Pebble never falls back).",
		.footer =
			"Examples:\n"
			"  acme-httpcheck example.com\n"
			"  acme-httpcheck -6 example.com\n"
			"  acme-httpcheck --token T --key-authorization T.THUMBPRINT example.com\n"
			"  acme-httpcheck --ca-profile pebble --port 5002 --ns 127.0.0.1:8053 test.example\n",
		.opts = opts, .handle = handle, .ctx = &a,
		.default_timeout_ms = 10000,
	};
	a.tool = &tool;
	struct cli_common c;
	int first;
	int rc = cli_parse(&tool, argc, argv, &c, &first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	if (first >= argc) {
		cli_error(&tool, "give the DOMAIN to check");
		fprintf(stderr, "Try 'acme-httpcheck --help'.\n");
		return DIAG_EXIT_USAGE;
	}
	if (first + 1 < argc) {
		cli_error(&tool, "%s: only one DOMAIN per run", argv[first + 1]);
		return DIAG_EXIT_USAGE;
	}
	const char *domain = argv[first];
	char norm[256], err[160];
	int wildcard = 0;
	if (diag_domain_normalize(domain, norm, sizeof(norm), &wildcard, err, sizeof(err))) {
		cli_error(&tool, "%s: %s", domain, err);
		return DIAG_EXIT_USAGE;
	}
	if (wildcard) {
		cli_error(&tool, "%s: wildcard names can only be validated with DNS-01 (try acme-dnscheck)",
		          domain);
		return DIAG_EXIT_USAGE;
	}
	char token_from_ka[96];
	int bad;
	a.token = cli_http01_token(&tool, a.token, a.ka, token_from_ka, sizeof(token_from_ka), &bad);
	if (bad)
		return DIAG_EXIT_USAGE;
	struct http01_opts o = {
		.domain = norm, .family = c.family, .ns = c.ns, .nns = c.nns,
		.timeout_ms = c.timeout_ms, .port = (uint16_t)a.port, .token = a.token,
		.key_authorization = a.ka, .profile = a.profile,
	};
	return cli_run(&tool, &c, norm, probe, &o);
}
