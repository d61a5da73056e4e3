/* acme-account - is this ACME account usable, as the CA sees it? Read-only. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "common/acmeopts.h"

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
		.name = "acme-account",
		.synopsis = "--directory URL (--account-key FILE [--kid URL] | --from CLIENT [DIR]) [OPTIONS]",
		.summary =
			"Check an ACME account the way the CA sees it, without changing anything: the\n"
			"directory, the key file, the account found by the key (onlyReturnExisting), its\n"
			"status, whether the client's kid is that account, the contacts as Let's Encrypt\n"
			"lints them, and the clock against the server.",
		.footer =
			"Examples:\n"
			"  acme-account --directory https://acme-v02.api.letsencrypt.org/directory --from certbot\n"
			"  acme-account --directory https://ca.internal/dir --ca-bundle ca.pem --from lego ~/.lego\n"
			"  acme-account --directory URL --account-key key.pem --kid https://ca/acme/acct/42\n",
		.opts = opts, .handle = handle, .ctx = &a, .no_ns = 1, .default_timeout_ms = 10000,
	};
	a.tool = &tool;
	struct cli_common c;
	int first;
	int rc = cli_parse(&tool, argc, argv, &c, &first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	const char *store_dir = NULL;
	if (first < argc) {
		if (a.acme.from < 0 || first + 1 < argc) {
			cli_error(&tool, "%s: unexpected argument (a DIR operand goes with --from)", argv[first]);
			return DIAG_EXIT_USAGE;
		}
		store_dir = argv[first];
	}
	if (!a.acme.directory) {
		cli_error(&tool, "--directory URL is required");
		return DIAG_EXIT_USAGE;
	}
	if (a.acme.from < 0 && !a.acme.key_path) {
		cli_error(&tool, "give either --account-key FILE or --from CLIENT");
		return DIAG_EXIT_USAGE;
	}
	if (acme_opts_load(&a.acme, &tool, store_dir))
		return DIAG_EXIT_USAGE;
	struct account_opts o = {
		.directory = a.acme.directory, .key = &a.acme.key, .key_path = a.acme.key_path,
		.kid = a.acme.kid, .contact = a.acme.ref.contact[0] ? a.acme.ref.contact : NULL,
		.ca_bundle = a.acme.ca_bundle, .insecure = a.acme.insecure, .timeout_ms = c.timeout_ms,
		.clock_warn_s = 30, .clock_fail_s = 300,
	};
	struct diag_report *r = diag_report_new(tool.name, DIAG_VERSION, a.acme.directory);
	if (!r) {
		acme_opts_free(&a.acme);
		cli_error(&tool, "out of memory");
		return DIAG_EXIT_ERROR;
	}
	acme_opts_report(&a.acme, r);
	diag_account_run(&o, r);
	rc = cli_finish(&tool, &c, r);
	diag_report_free(r);
	acme_opts_free(&a.acme);
	return rc;
}
