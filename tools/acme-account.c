/* acme-account - is this ACME account usable, as the CA sees it? Read-only. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"

enum { K_DIRECTORY = 256, K_KEY, K_KID, K_FROM, K_CA_BUNDLE, K_INSECURE };

static const struct cli_opt opts[] = {
	{"directory", 0, "URL", "the ACME server's directory URL", K_DIRECTORY},
	{"account-key", 0, "FILE", "the account's private key: PEM or JWK JSON", K_KEY},
	{"kid", 0, "URL", "the account URL the client signs with, to compare", K_KID},
	{"from", 0, "CLIENT", "read key and kid from a client's store: certbot, lego or acme.sh (DIR operand: the store)", K_FROM},
	{"ca-bundle", 0, "FILE", "CA certificates to trust (a private ACME CA)", K_CA_BUNDLE},
	{"insecure", 0, NULL, "do not verify the server's TLS certificate (only when you must)", K_INSECURE},
	{0},
};

struct args {
	const char *directory, *key, *kid, *ca_bundle;
	int from, insecure;  /* from: -1 none */
	const struct cli_tool *tool;
};

static int readable(const struct cli_tool *t, const char *opt, const char *path)
{
	if (access(path, R_OK)) {
		cli_error(t, "%s %s: cannot read the file", opt, path);
		return -1;
	}
	return 0;
}

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	switch (key) {
	case K_DIRECTORY:
	case K_KID:
		if (strncmp(arg, "https://", 8) && strncmp(arg, "http://", 7)) {
			cli_error(a->tool, "--%s %s: expected an http(s) URL", key == K_KID ? "kid" : "directory", arg);
			return -1;
		}
		*(key == K_KID ? &a->kid : &a->directory) = arg;
		return 0;
	case K_KEY:
		a->key = arg;
		return readable(a->tool, "--account-key", arg);
	case K_FROM:
		if (!strcmp(arg, "certbot")) a->from = STORE_CERTBOT;
		else if (!strcmp(arg, "lego")) a->from = STORE_LEGO;
		else if (!strcmp(arg, "acme.sh")) a->from = STORE_ACMESH;
		else {
			cli_error(a->tool, "--from %s: expected certbot, lego or acme.sh", arg);
			return -1;
		}
		return 0;
	case K_CA_BUNDLE:
		a->ca_bundle = arg;
		return readable(a->tool, "--ca-bundle", arg);
	case K_INSECURE:
		a->insecure = 1;
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static struct args a = { .from = -1 };
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
	if ((a.from >= 0) == (a.key != NULL)) {
		cli_error(&tool, "give either --account-key FILE or --from CLIENT");
		return DIAG_EXIT_USAGE;
	}
	struct acme_account_ref ref;
	memset(&ref, 0, sizeof(ref));
	const char *key_path = a.key, *kid = a.kid, *contact = NULL;
	char err[300];
	int found = 0;
	if (a.from >= 0) {
		struct acme_account_ref refs[8];
		found = acme_store_find((enum acme_store)a.from, store_dir, a.directory, refs, 8, err, sizeof(err));
		if (found < 0) {
			cli_error(&tool, "--from: %s", err);
			return DIAG_EXIT_USAGE;
		}
		if (found == 0) {
			cli_error(&tool, "--from: no account for %s in %s", a.directory,
			          store_dir ? store_dir : "the client's default folder");
			return DIAG_EXIT_USAGE;
		}
		ref = refs[0];
		key_path = ref.key_path;
		if (!kid && ref.kid[0])
			kid = ref.kid;
		if (ref.contact[0])
			contact = ref.contact;
	}
	struct acme_key key;
	if (acme_key_load(key_path, &key, err, sizeof(err))) {
		cli_error(&tool, "%s: %s", key_path, err);
		return DIAG_EXIT_USAGE;
	}
	struct account_opts o = {
		.directory = a.directory, .key = &key, .key_path = key_path, .kid = kid, .contact = contact,
		.ca_bundle = a.ca_bundle, .insecure = a.insecure, .timeout_ms = c.timeout_ms,
		.clock_warn_s = 30, .clock_fail_s = 300,
	};
	struct diag_report *r = diag_report_new(tool.name, DIAG_VERSION, a.directory);
	if (!r) {
		acme_key_free(&key);
		cli_error(&tool, "out of memory");
		return DIAG_EXIT_ERROR;
	}
	if (a.from >= 0) {
		struct diag_finding *f = diag_add(r, DIAG_OK, "acme.store", ref.where, "account read from %s%s%s",
		                                  ref.where, found > 1 ? " (first of several; others: see evidence)" : "",
		                                  ref.kid[0] ? "" : "; the store records no account URL");
		diag_evidence(f, "key", json_string(ref.key_path));
		diag_evidence(f, "kid", ref.kid[0] ? json_string(ref.kid) : json_null());
	}
	diag_account_run(&o, r);
	rc = cli_finish(&tool, &c, r);
	diag_report_free(r);
	acme_key_free(&key);
	return rc;
}
