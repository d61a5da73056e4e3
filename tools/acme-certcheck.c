/* SPDX-License-Identifier: ISC */
/* acme-certcheck - the certificate a server serves against the renewed one: chain, key, names, renewal, ARI. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

enum { K_HOST = 256, K_CERT, K_KEY, K_NAME, K_DIRECTORY, K_CA_BUNDLE };

static const struct cli_opt opts[] = {
	{"host", 0, "HOST[:PORT]", "the server to check (port 443 by default), every address on its own", K_HOST},
	{"cert", 0, "FILE", "the renewed certificate on disk (cert.pem or fullchain.pem)", K_CERT},
	{"key", 0, "FILE", "its private key (privkey.pem, tls.key): does it match?", K_KEY},
	{"name", 0, "NAME", "a name the certificate must cover; repeatable (default: the host)", K_NAME},
	{"directory", 0, "URL", "the CA's ACME directory: ask its renewalInfo (ARI) about the certificate", K_DIRECTORY},
	{"ca-bundle", 0, "FILE", "trust anchors for the served chain and for https (a private CA)", K_CA_BUNDLE},
	{0},
};

struct args {
	const char *host, *cert, *key, *directory, *ca_bundle;
	const char *names[CERTCHECK_MAX_NAMES];
	size_t nnames;
	const struct cli_tool *tool;
};

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	const struct cli_tool *t = a->tool;
	char err[160];
	switch (key) {
	case K_HOST:
		if (cli_host_arg(t, "--host", arg))
			return -1;
		if (a->host) {
			cli_error(t, "--host: one server per run");
			return -1;
		}
		a->host = arg;
		return 0;
	case K_CERT:
		a->cert = arg;
		return cli_file_arg(t, "--cert", arg);
	case K_KEY:
		a->key = arg;
		return cli_file_arg(t, "--key", arg);
	case K_NAME: {
		char norm[256];
		int wild = 0;
		if (diag_host_check(arg, err, sizeof(err)) &&
		    diag_domain_normalize(arg, norm, sizeof(norm), &wild, err, sizeof(err))) {
			cli_error(t, "--name %s: %s", arg, err);
			return -1;
		}
		if (a->nnames == CERTCHECK_MAX_NAMES) {
			cli_error(t, "--name: at most %d", CERTCHECK_MAX_NAMES);
			return -1;
		}
		a->names[a->nnames++] = arg;
		return 0;
	}
	case K_DIRECTORY:
		a->directory = arg;
		return cli_url_arg(t, "--directory", arg);
	case K_CA_BUNDLE:
		a->ca_bundle = arg;
		return cli_file_arg(t, "--ca-bundle", arg);
	}
	return -1;
}

static int probe(const void *o, struct diag_report *r)
{
	return diag_certcheck_run(o, r);
}

/* --format prometheus: each certificate's expiry and renewal window too */
static int metrics_more(const struct diag_report *r, struct diag_metrics *m, const void *arg)
{
	return diag_certcheck_metrics(r, arg, m);
}

int main(int argc, char **argv)
{
	struct args a = {0};  /* not static: under fuzz_args main runs again */
	const struct cli_tool tool = {
		.name = "acme-certcheck",
		.bound_timeouts = 6,  /* DNS, the TLS handshake (twice), the directory, renewalInfo */
		.synopsis = "[OPTIONS] (--host HOST[:PORT] | --cert FILE)",
		.summary =
			"Is the renewed certificate the one being served, complete, and when should it\n"
			"renew? Every address of the host is connected to on its own and at once: the\n"
			"served leaf against --cert (a renewal the server has not reloaded), the chain\n"
			"(complete, in order, no duplicates, no root; the cert.pem-instead-of-fullchain.pem\n"
			"mistake named), the key (--key), every name, validity and the renewal window by\n"
			"lifetime (90 d, 64 d, 45 d, 160 h), and the CA's ACME Renewal Information.",
		.footer =
			"Examples:\n"
			"  acme-certcheck --host example.com --cert /etc/letsencrypt/live/example.com/fullchain.pem\n"
			"  acme-certcheck --host example.com --directory https://acme-v02.api.letsencrypt.org/directory\n"
			"  acme-certcheck --cert fullchain.pem --key privkey.pem --name example.com --name www.example.com\n"
			"  acme-certcheck --host example.com --format prometheus > /var/lib/node_exporter/acme-certcheck.prom\n",
		.opts = opts, .handle = handle, .ctx = &a, .default_timeout_ms = 10000, .prometheus = 1,
	};
	a.tool = &tool;
	struct cli_common c;
	int first;
	int rc = cli_parse(&tool, argc, argv, &c, &first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	if (first < argc) {
		cli_error(&tool, "%s: unexpected argument (the server goes with --host)", argv[first]);
		return DIAG_EXIT_USAGE;
	}
	if (!a.host && !a.cert) {
		cli_error(&tool, "give --host HOST[:PORT], --cert FILE, or both");
		fprintf(stderr, "Try 'acme-certcheck --help'.\n");
		return DIAG_EXIT_USAGE;
	}
	struct certcheck_opts o = {
		.host = a.host, .cert_path = a.cert, .key_path = a.key, .names = a.names,
		.nnames = a.nnames, .directory = a.directory, .ca_bundle = a.ca_bundle,
		.family = c.family, .ns = c.ns, .nns = c.nns, .timeout_ms = c.timeout_ms,
	};
	c.metrics_more = metrics_more;
	c.metrics_arg = a.directory;
	return cli_run(&tool, &c, a.host ? a.host : a.cert, probe, &o);
}
