/* SPDX-License-Identifier: ISC */
/* acme-account - is this ACME account usable, as the CA sees it? Read-only. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "common/acmeopts.h"

static const struct cli_opt opts[] = {
	ACME_OPTS_TABLE,
	{0},
};

struct run {
	const struct acme_opts *acme;
	struct account_opts o;
};

static int probe(const void *arg, struct diag_report *r)
{
	const struct run *x = arg;
	acme_opts_report(x->acme, r);
	return diag_account_run(&x->o, r);
}

int main(int argc, char **argv)
{
	static struct acme_opts a;
	acme_opts_init(&a);
	const struct cli_tool tool = {
		.name = "acme-account",
		.bound_timeouts = 8,
		.synopsis = "--directory URL (--account-key FILE [--kid URL] | --from CLIENT [DIR]) [OPTIONS]",
		.summary =
			"Check an ACME account the way the CA sees it, without changing anything: the\n"
			"directory, the key file, the account found by the key (onlyReturnExisting), its\n"
			"status, whether the client's kid is that account, the contacts as Let's Encrypt\n"
			"lints them (their domains looked up at the resolvers, or --ns), and the clock\n"
			"against the server.",
		.footer =
			"Examples:\n"
			"  acme-account --directory https://acme-v02.api.letsencrypt.org/directory --from certbot\n"
			"  acme-account --directory https://ca.internal/dir --ca-bundle ca.pem --from lego ~/.lego\n"
			"  acme-account --directory URL --account-key key.pem --kid https://ca/acme/acct/42\n",
		.opts = opts, .handle = acme_opts_cli_handle, .ctx = &a,
		.default_timeout_ms = 10000,
	};
	a.tool = &tool;
	struct cli_common c;
	int first;
	int rc = cli_parse(&tool, argc, argv, &c, &first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	const char *store_dir = NULL;
	if (first < argc) {
		if (a.from < 0 || first + 1 < argc) {
			cli_error(&tool, "%s: unexpected argument (a DIR operand goes with --from)", argv[first]);
			return DIAG_EXIT_USAGE;
		}
		store_dir = argv[first];
	}
	if (!a.directory) {
		cli_error(&tool, "--directory URL is required");
		return DIAG_EXIT_USAGE;
	}
	if (a.from < 0 && !a.key_path) {
		cli_error(&tool, "give either --account-key FILE or --from CLIENT");
		return DIAG_EXIT_USAGE;
	}
	if (acme_opts_load(&a, &tool, store_dir))
		return DIAG_EXIT_USAGE;
	struct run x = {
		.acme = &a,
		.o = {
			.directory = a.directory, .key = &a.key, .key_path = a.key_path, .kid = a.kid,
			.contact = a.ref.contact[0] ? a.ref.contact : NULL, .ca_bundle = a.ca_bundle,
			.insecure = a.insecure, .timeout_ms = c.timeout_ms, .clock_warn_s = DIAG_CLOCK_WARN_S,
			.clock_fail_s = DIAG_CLOCK_FAIL_S, .ns = c.ns, .nns = c.nns, .family = c.family,
		},
	};
	rc = cli_run(&tool, &c, a.directory, probe, &x);
	acme_opts_free(&a);
	return rc;
}
