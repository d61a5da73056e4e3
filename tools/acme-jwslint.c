/* SPDX-License-Identifier: ISC */
/* acme-jwslint - audit captured ACME requests: kid/jwk, alg, nonce, url, signatures. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

enum { K_DIRECTORY = 256, K_KEY, K_CA_BUNDLE, K_INSECURE };

static const struct cli_opt opts[] = {
	{"directory", 0, "URL", "the server's directory: endpoints are named from it, not guessed from paths", K_DIRECTORY},
	{"account-key", 0, "FILE", "the account key, to verify kid-signed requests (PEM or JWK)", K_KEY},
	{"ca-bundle", 0, "FILE", "CA certificates to trust for --directory (a private CA)", K_CA_BUNDLE},
	{"insecure", 0, NULL, "do not verify the directory's TLS certificate (only when you must)", K_INSECURE},
	{0},
};

struct args {
	const char *directory, *key, *ca_bundle;
	int insecure;
	const struct cli_tool *tool;
};

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	switch (key) {
	case K_DIRECTORY:
		if (cli_url_arg(a->tool, "--directory", arg))
			return -1;
		a->directory = arg;
		return 0;
	case K_KEY:
	case K_CA_BUNDLE:
		if (cli_file_arg(a->tool, key == K_KEY ? "--account-key" : "--ca-bundle", arg) ||
		    (key == K_CA_BUNDLE && cli_tls_args(a->tool, arg, a->insecure)))
			return -1;
		*(key == K_KEY ? &a->key : &a->ca_bundle) = arg;
		return 0;
	case K_INSECURE:
		a->insecure = 1;
		return cli_tls_args(a->tool, a->ca_bundle, 1);
	}
	return -1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		if (cap >= JWS_MAX_CAPTURE) {
			n = cap + 1;  /* too large */
			break;
		}
		char *b = realloc(buf, cap * 2 + 1);
		if (!b) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = b;
		cap *= 2;
	}
	if (f != stdin)
		fclose(f);
	if (buf && n <= JWS_MAX_CAPTURE)
		buf[n] = '\0';
	*len = n;
	return buf;
}

static const struct cli_tool *the_tool;

static int probe(const void *arg, struct diag_report *r)
{
	const struct jws_opts *o = arg;
	int rc = diag_jws_run(o, r);
	/* a directory that could not be read is said on stderr too, as when the
	 * tool fetched it itself */
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i]->id, "jws.directory") && r->v[i]->status != DIAG_OK)
			cli_error(the_tool, "--directory %s: %s (endpoints will be guessed from paths)",
			          o->directory_url, json_string_value(json_object_get(r->v[i]->evidence, "reason")));
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	const struct cli_tool tool = {
		.name = "acme-jwslint",
		.bound_timeouts = 4,
		.synopsis = "[OPTIONS] FILE",
		.summary =
			"Check every ACME request in a capture against RFC 8555's JWS rules as Boulder\n"
			"enforces them: exactly one of kid and jwk (jwk only for newAccount, revokeCert\n"
			"by certificate key and keyChange's inner JWS), an allowed alg matching the key,\n"
			"a nonce never reused, a url header equal to the request URL, a JSON or empty\n"
			"payload, Content-Type application/jose+json, and a signature that verifies.\n"
			"FILE (or - for stdin) is one flattened JWS, JSON lines, a HAR export, or a\n"
			"certbot debug log.",
		.footer =
			"Examples:\n"
			"  acme-jwslint /var/log/letsencrypt/letsencrypt.log\n"
			"  acme-jwslint --directory https://ca.example/dir requests.jsonl\n"
			"  acme-jwslint --account-key account.pem capture.har\n",
		.opts = opts, .handle = handle, .ctx = &a, .no_ns = 1, .default_timeout_ms = 10000,
	};
	a.tool = &tool;
	the_tool = &tool;
	struct cli_common c;
	int first;
	int rc = cli_parse(&tool, argc, argv, &c, &first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	if (first + 1 != argc) {
		cli_error(&tool, "give exactly one capture FILE (or - for standard input)");
		return DIAG_EXIT_USAGE;
	}
	const char *path = argv[first];
	if (cli_input_arg(&tool, "capture", path))
		return DIAG_EXIT_USAGE;
	size_t len = 0;
	char *buf = slurp(path, &len);
	if (!buf) {
		cli_error(&tool, "%s: cannot read the file", path);
		return DIAG_EXIT_USAGE;
	}
	struct jws_capture cap;
	char err[300];
	if (len > JWS_MAX_CAPTURE || jws_capture_parse(buf, len, &cap, err, sizeof(err))) {
		cli_error(&tool, "%s: %s", path, len > JWS_MAX_CAPTURE ? "larger than 64 MiB" : err);
		free(buf);
		return DIAG_EXIT_USAGE;
	}
	free(buf);
	struct acme_key key;
	int have_key = 0;
	if (a.key) {
		if (acme_key_load(a.key, &key, err, sizeof(err))) {
			cli_error(&tool, "%s: %s", a.key, err);
			jws_capture_free(&cap);
			return DIAG_EXIT_USAGE;
		}
		have_key = 1;
	}
	struct jws_opts o = {
		.cap = &cap, .key = have_key ? &key : NULL, .directory_url = a.directory,
		.ca_bundle = a.ca_bundle, .insecure = a.insecure, .timeout_ms = c.timeout_ms,
	};
	rc = cli_run(&tool, &c, path, probe, &o);
	if (have_key)
		acme_key_free(&key);
	jws_capture_free(&cap);
	return rc;
}
