/* SPDX-License-Identifier: ISC */
/*
 * acmeopts.h - the options of tools that talk to an ACME server as an
 * account (acme-account, acme-authz): one table fragment, one handler, one
 * way to find the key and kid (given, or from a client's store).
 */
#ifndef ACME_DIAG_ACMEOPTS_H
#define ACME_DIAG_ACMEOPTS_H

#include "cli.h"

enum {
	K_ACME_DIRECTORY = 300, K_ACME_KEY, K_ACME_KID, K_ACME_FROM, K_ACME_CA_BUNDLE, K_ACME_INSECURE,
};

#define ACME_OPTS_TABLE \
	{"directory", 0, "URL", "the ACME server's directory URL", K_ACME_DIRECTORY}, \
	{"account-key", 0, "FILE", "the account's private key: PEM or JWK JSON", K_ACME_KEY}, \
	{"kid", 0, "URL", "the account URL the client signs with", K_ACME_KID}, \
	{"from", 0, "CLIENT", "read key and kid from a client's store: certbot, lego or acme.sh", K_ACME_FROM}, \
	{"ca-bundle", 0, "FILE", "CA certificates to trust (a private ACME CA)", K_ACME_CA_BUNDLE}, \
	{"insecure", 0, NULL, "do not verify the server's TLS certificate (only when you must)", K_ACME_INSECURE}

struct acme_opts {
	const char *directory, *key_path, *kid, *ca_bundle;
	int from;       /* enum acme_store, or -1 */
	int insecure;
	/* resolved by acme_opts_load() */
	struct acme_key key;
	int have_key;
	struct acme_account_ref ref;
	int found;      /* accounts found in the store */
	const struct cli_tool *tool;  /* for messages */
};

void acme_opts_init(struct acme_opts *a);
/* 1 if key was one of ours and handled, 0 if not ours, -1 on error (printed). */
int acme_opts_handle(struct acme_opts *a, const struct cli_tool *t, int key, const char *arg);
/* A cli_tool handler for tools whose only options are these: ctx is the
 * struct acme_opts, whose tool member is set. */
int acme_opts_cli_handle(void *ctx, int key, const char *arg);
/*
 * Find the key and kid: from --account-key/--kid, or from the --from store
 * (store_dir may be NULL). Loads the key. Returns 0, or -1 after printing
 * the error (exit 2).
 */
int acme_opts_load(struct acme_opts *a, const struct cli_tool *t, const char *store_dir);
/* An acme.store finding when the account came from a store. */
void acme_opts_report(const struct acme_opts *a, struct diag_report *r);
void acme_opts_free(struct acme_opts *a);

#endif
