/* SPDX-License-Identifier: ISC */
/* acmeopts.c - shared account options of the ACME tools. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "acmeopts.h"

void acme_opts_init(struct acme_opts *a)
{
	memset(a, 0, sizeof(*a));
	a->from = -1;
}

int acme_opts_handle(struct acme_opts *a, const struct cli_tool *t, int key, const char *arg)
{
	switch (key) {
	case K_ACME_DIRECTORY:
		a->directory = arg;
		return cli_url_arg(t, "--directory", arg) ? -1 : 1;
	case K_ACME_KID:
		a->kid = arg;
		return cli_url_arg(t, "--kid", arg) ? -1 : 1;
	case K_ACME_KEY:
		a->key_path = arg;
		return cli_file_arg(t, "--account-key", arg) ? -1 : 1;
	case K_ACME_FROM:
		if (!strcmp(arg, "certbot")) a->from = STORE_CERTBOT;
		else if (!strcmp(arg, "lego")) a->from = STORE_LEGO;
		else if (!strcmp(arg, "acme.sh")) a->from = STORE_ACMESH;
		else {
			cli_error(t, "--from %s: expected certbot, lego or acme.sh", arg);
			return -1;
		}
		return 1;
	case K_ACME_CA_BUNDLE:
		a->ca_bundle = arg;
		return cli_file_arg(t, "--ca-bundle", arg) || cli_tls_args(t, arg, a->insecure) ? -1 : 1;
	case K_ACME_INSECURE:
		a->insecure = 1;
		return cli_tls_args(t, a->ca_bundle, 1) ? -1 : 1;
	}
	return 0;
}

int acme_opts_cli_handle(void *ctx, int key, const char *arg)
{
	struct acme_opts *a = ctx;
	return acme_opts_handle(a, a->tool, key, arg) > 0 ? 0 : -1;
}

int acme_opts_load(struct acme_opts *a, const struct cli_tool *t, const char *store_dir)
{
	char err[300];
	if (a->from >= 0 && a->key_path) {
		cli_error(t, "give either --account-key FILE or --from CLIENT, not both");
		return -1;
	}
	if (a->from >= 0) {
		struct acme_account_ref refs[8];
		if (!a->directory) {
			cli_error(t, "--from needs --directory URL (the store keeps accounts per server)");
			return -1;
		}
		a->found = acme_store_find((enum acme_store)a->from, store_dir, a->directory, refs, 8, err, sizeof(err));
		if (a->found < 0) {
			cli_error(t, "--from: %s", err);
			return -1;
		}
		if (a->found == 0) {
			cli_error(t, "--from: no account for %s in %s", a->directory,
			          store_dir ? store_dir : "the client's default folder");
			return -1;
		}
		a->ref = refs[0];
		a->key_path = a->ref.key_path;
		if (!a->kid && a->ref.kid[0])
			a->kid = a->ref.kid;
	}
	if (!a->key_path)
		return 0;
	if (acme_key_load(a->key_path, &a->key, err, sizeof(err))) {
		cli_error(t, "%s: %s", a->key_path, err);
		return -1;
	}
	a->have_key = 1;
	return 0;
}

void acme_opts_report(const struct acme_opts *a, struct diag_report *r)
{
	if (a->from < 0)
		return;
	struct diag_finding *f = diag_add(r, DIAG_OK, "acme.store", a->ref.where, "account read from %s%s%s",
	                                  a->ref.where, a->found > 1 ? " (the first of several)" : "",
	                                  a->ref.kid[0] ? "" : "; the store records no account URL");
	diag_evidence(f, "key", json_string(a->ref.key_path));
	diag_evidence(f, "kid", a->ref.kid[0] ? json_string(a->ref.kid) : json_null());
}

void acme_opts_free(struct acme_opts *a)
{
	if (a->have_key)
		acme_key_free(&a->key);
}
