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

struct args {
	struct acme_opts acme;
	const struct cli_tool *tool;
};

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	return acme_opts_handle(&a->acme, a->tool, key, arg) > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct args a;
	acme_opts_init(&a.acme);
	const struct cli_tool tool = {
		.name = "acme-authz",
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
		.opts = opts, .handle = handle, .ctx = &a, .no_ns = 1, .default_timeout_ms = 10000,
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
		if (!strncmp(argv[i], "https://", 8) || !strncmp(argv[i], "http://", 7)) {
			if (n == MAX_URLS) {
				cli_error(&tool, "at most %d URLs", MAX_URLS);
				return DIAG_EXIT_USAGE;
			}
			urls[n++] = argv[i];
		} else if (a.acme.from >= 0 && !store_dir) {
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
	if (acme_opts_load(&a.acme, &tool, store_dir))
		return DIAG_EXIT_USAGE;
	if (a.acme.have_key && (!a.acme.kid || !a.acme.directory)) {
		cli_error(&tool, "signing needs --kid URL and --directory URL as well as the key");
		acme_opts_free(&a.acme);
		return DIAG_EXIT_USAGE;
	}
	struct authz_opts o = {
		.urls = urls, .nurls = n, .directory = a.acme.directory,
		.key = a.acme.have_key ? &a.acme.key : NULL, .kid = a.acme.kid,
		.ca_bundle = a.acme.ca_bundle, .insecure = a.acme.insecure, .timeout_ms = c.timeout_ms,
	};
	struct diag_report *r = diag_report_new(tool.name, DIAG_VERSION, urls[0]);
	if (!r) {
		acme_opts_free(&a.acme);
		cli_error(&tool, "out of memory");
		return DIAG_EXIT_ERROR;
	}
	acme_opts_report(&a.acme, r);
	diag_authz_run(&o, r);
	rc = cli_finish(&tool, &c, r);
	diag_report_free(r);
	acme_opts_free(&a.acme);
	return rc;
}
