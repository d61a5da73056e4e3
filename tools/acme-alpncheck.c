/* SPDX-License-Identifier: ISC */
/* acme-alpncheck - TLS-ALPN-01, address by address, as the CA validates it. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

enum { K_KEYAUTH = 256, K_PROFILE, K_PORT };

static const struct cli_opt opts[] = {
	{"key-authorization", 0, "KA", "the challenge's TOKEN.THUMBPRINT: the certificate's acmeIdentifier must hold its SHA-256 (default: pre-flight, no value compared)", K_KEYAUTH},
	{"ca-profile", 0, "PROFILE", "whose validator to emulate: letsencrypt (default), pebble, rfc8555", K_PROFILE},
	{"port", 0, "PORT", "port to connect to (default 443; labs and private CAs)", K_PORT},
	{0},
};

struct args {
	const char *ka;
	enum http01_profile profile;
	long port;
	const struct cli_tool *tool;
};

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	switch (key) {
	case K_KEYAUTH:
		a->ka = arg;
		return cli_keyauth_arg(a->tool, "--key-authorization", arg);
	case K_PROFILE:
		return cli_profile_arg(a->tool, arg, &a->profile);
	case K_PORT:
		return cli_long(a->tool, "--port", arg, 1, 65535, &a->port);
	}
	return -1;
}

/* The CA's identifier policy first: a name it refuses is not probed. */
static int probe(const void *arg, struct diag_report *r)
{
	const struct tlsalpn_opts *o = arg;
	int refused = diag_identifier_check(r, o->domain, 0, o->profile, "tls-alpn-01");
	if (refused)
		return refused > 0 ? 0 : -1;
	return diag_tlsalpn_run(o, r);
}

int main(int argc, char **argv)
{
	struct args a = { .port = 443 };  /* not static: main runs more than once under fuzz_args */
	const struct cli_tool tool = {
		.name = "acme-alpncheck",
		.bound_timeouts = 4,  /* the lookups (2), the handshake, one without ALPN after an alert */
		.synopsis = "[OPTIONS] DOMAIN",
		.summary =
			"Check TLS-ALPN-01 for DOMAIN the way the CA's validator does: every A and AAAA\n"
			"address gets a TLS handshake of its own, concurrently, offering only the ALPN\n"
			"protocol acme-tls/1 with DOMAIN as SNI; failures are worded as the CA words them,\n"
			"the challenge certificate is checked in the CA's order, and the CA profile\n"
			"decides which address the CA would use (Let's Encrypt tries the first AAAA and\n"
			"falls back to the first A after any connection or handshake error; Pebble never\n"
			"falls back). Without --key-authorization it tells what answers acme-tls/1 now.",
		.footer =
			"Examples:\n"
			"  acme-alpncheck example.com\n"
			"  acme-alpncheck --key-authorization \"$TOKEN.$THUMBPRINT\" example.com\n"
			"  acme-alpncheck --ca-profile pebble --port 5001 --ns 127.0.0.1:8053 test.example\n",
		.opts = opts, .handle = handle, .ctx = &a,
		.default_timeout_ms = 10000,
	};
	a.tool = &tool;
	struct cli_common c;
	int first;
	int rc = cli_parse(&tool, argc, argv, &c, &first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	char norm[256];
	if (cli_host_domain(&tool, argc, argv, first, norm, sizeof(norm)))
		return DIAG_EXIT_USAGE;
	struct tlsalpn_opts o = {
		.domain = norm, .family = c.family, .ns = c.ns, .nns = c.nns,
		.timeout_ms = c.timeout_ms, .port = (uint16_t)a.port, .key_authorization = a.ka,
		.profile = a.profile,
	};
	return cli_run(&tool, &c, norm, probe, &o);
}
