/* SPDX-License-Identifier: ISC */
/* acme-revcheck - certificates against their CA's CRL (verified), OCSP and published serial lists. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cli.h"

#define MAX_ITEMS 64

enum { K_HOST = 256, K_KUBE, K_CRL, K_ISSUER, K_SERIALS, K_LIST, K_CACHE, K_CA_BUNDLE };

static const struct cli_opt opts[] = {
	{"host", 0, "HOST[:PORT]", "check the chain a TLS server serves, every address on its own; repeatable", K_HOST},
	{"from-kubectl", 0, "FILE", "TLS Secrets from 'kubectl get secrets -A -o json' (- for stdin)", K_KUBE},
	{"crl", 0, "FILE|URL", "use this CRL instead of the certificates' distribution points; repeatable", K_CRL},
	{"issuer", 0, "FILE", "issuer certificate(s), to verify CRLs and OCSP answers; repeatable", K_ISSUER},
	{"serials", 0, "FILE", "a published list of serials (an incident's) to match, read once (- for stdin)", K_SERIALS},
	{"list", 0, "FILE", "serials to check, one a line, besides certificates", K_LIST},
	{"cache", 0, "DIR", "keep fetched CRLs in DIR and reuse them until their nextUpdate", K_CACHE},
	{"ca-bundle", 0, "FILE", "CA certificates to trust for https CRL, OCSP and issuer URLs", K_CA_BUNDLE},
	{0},
};

struct args {
	const char *hosts[MAX_ITEMS], *crls[MAX_ITEMS], *issuers[MAX_ITEMS];
	size_t nhosts, ncrls, nissuers;
	const char *kube, *serials, *list, *cache, *ca_bundle;
	const struct cli_tool *tool;
};

static int push(const struct cli_tool *t, const char **v, size_t *n, const char *opt, const char *arg)
{
	if (*n == MAX_ITEMS) {
		cli_error(t, "%s: at most %d", opt, MAX_ITEMS);
		return -1;
	}
	v[(*n)++] = arg;
	return 0;
}

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	const struct cli_tool *t = a->tool;
	struct stat st;
	switch (key) {
	case K_HOST:
		if (cli_host_arg(t, "--host", arg))
			return -1;
		return push(t, a->hosts, &a->nhosts, "--host", arg);
	case K_KUBE:
		a->kube = arg;
		return cli_input_arg(t, "--from-kubectl", arg);
	case K_CRL:
		if (cli_is_http_url(arg) ? cli_url_arg(t, "--crl", arg) : cli_file_arg(t, "--crl", arg))
			return -1;
		return push(t, a->crls, &a->ncrls, "--crl", arg);
	case K_ISSUER:
		if (cli_file_arg(t, "--issuer", arg))
			return -1;
		return push(t, a->issuers, &a->nissuers, "--issuer", arg);
	case K_SERIALS:
		a->serials = arg;
		return cli_input_arg(t, "--serials", arg);
	case K_LIST:
		a->list = arg;
		return cli_input_arg(t, "--list", arg);
	case K_CACHE:
		if (stat(arg, &st) || !S_ISDIR(st.st_mode)) {
			cli_error(t, "--cache %s: not a directory", arg);
			return -1;
		}
		a->cache = arg;
		return 0;
	case K_CA_BUNDLE:
		a->ca_bundle = arg;
		return cli_file_arg(t, "--ca-bundle", arg);
	}
	return -1;
}

static int probe(const void *o, struct diag_report *r)
{
	return diag_revcheck_run(o, r);
}

int main(int argc, char **argv)
{
	struct args a = {0};  /* not static: under fuzz_args main runs again */
	const struct cli_tool tool = {
		.name = "acme-revcheck",
		.bound_timeouts = 12,  /* DNS, TLS (twice), issuers, then CRLs (four times) and OCSP */
		.synopsis = "[OPTIONS] [FILE|DIR]...",
		.summary =
			"Is any of these certificates revoked, or on a CA's incident list? Each certificate\n"
			"(PEM or DER files and bundles, certbot's live/ or archive/ directories, Kubernetes\n"
			"TLS Secrets, the chain a server serves) is checked against its CA's CRL, found\n"
			"through its CRL distribution point: the CRL's signature is verified with the\n"
			"issuer's key, its scope (issuing distribution point) and freshness are checked, and\n"
			"a CRL that does not verify is an error, never \"not revoked\". An OCSP responder the\n"
			"certificate names is asked too. --serials reads a published list of any size once\n"
			"against every serial; serials compare as integers, however they are spelled.",
		.footer =
			"Examples:\n"
			"  acme-revcheck /etc/letsencrypt/live/*/cert.pem\n"
			"  acme-revcheck --host example.com\n"
			"  acme-revcheck --serials incident.txt --list mine.txt\n"
			"  kubectl get secrets -A -o json | acme-revcheck --from-kubectl -\n"
			"  acme-revcheck --crl ca.crl --issuer ca.pem leaf.pem\n",
		.opts = opts, .handle = handle, .ctx = &a, .default_timeout_ms = 10000,
	};
	a.tool = &tool;
	struct cli_common c;
	int first;
	int rc = cli_parse(&tool, argc, argv, &c, &first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	for (int i = first; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) || !S_ISDIR(st.st_mode)) {
			if (cli_file_arg(&tool, "certificate", argv[i]))
				return DIAG_EXIT_USAGE;
		}
	}
	if (first == argc && !a.nhosts && !a.kube && !a.list) {
		cli_error(&tool, "give certificate FILEs or DIRs, --host, --from-kubectl or --list");
		fprintf(stderr, "Try 'acme-revcheck --help'.\n");
		return DIAG_EXIT_USAGE;
	}
	if (a.list && first == argc && !a.nhosts && !a.kube && !a.serials && !a.ncrls) {
		cli_error(&tool, "--list: bare serials are checked against --serials or --crl; give one");
		return DIAG_EXIT_USAGE;
	}
	int stdins = (a.kube && !strcmp(a.kube, "-")) + (a.serials && !strcmp(a.serials, "-")) +
	             (a.list && !strcmp(a.list, "-"));
	if (stdins > 1) {
		cli_error(&tool, "only one of --from-kubectl, --serials and --list can read standard input");
		return DIAG_EXIT_USAGE;
	}
	json_t *kube = NULL;
	if (a.kube && !(kube = cli_read_json(&tool, "--from-kubectl", a.kube)))
		return DIAG_EXIT_USAGE;
	struct revcheck_opts o = {
		.paths = (const char *const *)argv + first, .npaths = (size_t)(argc - first), .k8s = kube,
		.hosts = a.hosts, .nhosts = a.nhosts, .crls = a.crls, .ncrls = a.ncrls,
		.issuers = a.issuers, .nissuers = a.nissuers, .serials_path = a.serials,
		.list_path = a.list, .cache_dir = a.cache, .ca_bundle = a.ca_bundle, .family = c.family,
		.ns = c.ns, .nns = c.nns, .timeout_ms = c.timeout_ms,
	};
	const char *target = first < argc ? argv[first] : a.nhosts ? a.hosts[0] : a.kube ? a.kube : a.list;
	rc = cli_run(&tool, &c, target, probe, &o);
	json_decref(kube);
	return rc;
}
