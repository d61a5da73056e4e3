/* SPDX-License-Identifier: ISC */
/* acme-authz - authorization, order and challenge state, with the CA's errors explained. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "common/acmeopts.h"

#define MAX_URLS 32

static const struct cli_opt opts[] = {
	ACME_OPTS_TABLE,
	{0},
};

struct run {
	const struct acme_opts *acme;
	struct authz_opts o;
};

static int probe(const void *arg, struct diag_report *r)
{
	const struct run *x = arg;
	acme_opts_report(x->acme, r);
	return diag_authz_run(&x->o, r);
}

int main(int argc, char **argv)
{
	static struct acme_opts a;
	acme_opts_init(&a);
	const struct cli_tool tool = {
		.name = "acme-authz",
		.bound_timeouts = AUTHZ_RUN_TIMEOUTS + 1,  /* after its own bound (6) */
		.synopsis = "[--directory URL (--account-key FILE --kid URL | --from CLIENT [DIR])] [OPTIONS] URL...",
		.summary =
			"Show what the CA says about authorizations, orders and challenges, given their\n"
			"URLs (an order expands to its authorizations, a challenge to its authorization):\n"
			"status, identifier, expiry, every challenge with its error and validation record\n"
			"(which address the CA connected to), and what to do about each error. Fetches\n"
			"with a signed POST-as-GET when an account is given, a plain GET otherwise.",
		.footer =
			"Examples:\n"
			"  acme-authz https://acme-v02.api.letsencrypt.org/acme/authz/123/456\n"
			"  acme-authz --directory https://ca/dir --from certbot https://ca/acme/order/1/2\n",
		.opts = opts, .handle = acme_opts_cli_handle, .ctx = &a, .no_ns = 1,
		.default_timeout_ms = 10000,
	};
	a.tool = &tool;
	struct cli_common c;
	int first;
	int rc = cli_parse(&tool, argc, argv, &c, &first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	const char *urls[MAX_URLS], *store_dir = NULL;
	size_t n = 0;
	for (int i = first; i < argc; i++) {
		if (cli_is_http_url(argv[i])) {
			if (n == MAX_URLS) {
				cli_error(&tool, "at most %d URLs", MAX_URLS);
				return DIAG_EXIT_USAGE;
			}
			urls[n++] = argv[i];
		} else if (a.from >= 0 && !store_dir) {
			store_dir = argv[i];
		} else {
			cli_error(&tool, "%s: not an http(s) URL", argv[i]);
			return DIAG_EXIT_USAGE;
		}
	}
	if (!n) {
		cli_error(&tool, "give at least one authorization, order or challenge URL");
		return DIAG_EXIT_USAGE;
	}
	if (acme_opts_load(&a, &tool, store_dir))
		return DIAG_EXIT_USAGE;
	if (a.have_key && (!a.kid || !a.directory)) {
		cli_error(&tool, "signing needs --kid URL and --directory URL as well as the key");
		acme_opts_free(&a);
		return DIAG_EXIT_USAGE;
	}
	struct run x = {
		.acme = &a,
		.o = {
			.urls = urls, .nurls = n, .directory = a.directory, .key = a.have_key ? &a.key : NULL,
			.kid = a.kid, .ca_bundle = a.ca_bundle, .insecure = a.insecure,
			.timeout_ms = c.timeout_ms,
		},
	};
	rc = cli_run(&tool, &c, urls[0], probe, &x);
	acme_opts_free(&a);
	return rc;
}
