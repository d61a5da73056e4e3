/* SPDX-License-Identifier: ISC */
/* acme-dnscheck - the DNS side of DNS-01, or an audit of resolvers. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

#define MAX_EXPECT 64

enum {
	K_EXPECT = 256, K_KEYAUTH, K_WAIT, K_INTERVAL, K_CA_DOMAIN, K_ACCOUNT_URI, K_METHOD, K_CLIENT, K_PROFILE,
};

static const struct cli_opt opts[] = {
	{"expect", 0, "VALUE", "TXT value that must be present at every server, repeatable", K_EXPECT},
	{"key-authorization", 0, "KA", "expect base64url(SHA-256(KA)), the value the CA checks; repeatable", K_KEYAUTH},
	{"wait", 0, "SECONDS", "poll until every server agrees, at most this long (0-86400)", K_WAIT},
	{"interval", 0, "SECONDS", "time between polls with --wait (1-3600, default 5)", K_INTERVAL},
	{"ca-domain", 0, "DOMAIN", "CA issuer domain for CAA (default letsencrypt.org)", K_CA_DOMAIN},
	{"account-uri", 0, "URI", "ACME account URL, checked against CAA accounturi", K_ACCOUNT_URI},
	{"method", 0, "METHOD", "validation method for CAA validationmethods (default dns-01)", K_METHOD},
	{"ca-profile", 0, "PROFILE", "whose rules to apply: letsencrypt (default), pebble (Pebble 2.4 compares each TXT string on its own), rfc8555", K_PROFILE},
	{"client", 0, "CLIENT", "judge the client's own checks as CLIENT does: cert-manager, lego, certbot, acme.sh, or none (the CA's view alone); default: as cert-manager and lego", K_CLIENT},
	{0},
};

struct args {
	const char *expect[MAX_EXPECT];
	char digests[MAX_EXPECT][44];
	size_t nexpect;
	long wait, interval;
	const char *ca_domain, *account_uri, *method;
	int waited_set, interval_set;
	unsigned clients;
	enum http01_profile profile;
	int profile_set;
	const struct cli_tool *tool;
};

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	const struct cli_tool *t = a->tool;
	switch (key) {
	case K_EXPECT:
	case K_KEYAUTH:
		if (a->nexpect == MAX_EXPECT) {
			cli_error(t, "at most %d expected values", MAX_EXPECT);
			return -1;
		}
		if (!*arg || strlen(arg) > 4096) {
			cli_error(t, "--%s: value must be 1 to 4096 characters",
			          key == K_EXPECT ? "expect" : "key-authorization");
			return -1;
		}
		if (key == K_KEYAUTH) {
			if (!strchr(arg, '.')) {
				cli_error(t, "--key-authorization %s: expected TOKEN.THUMBPRINT", arg);
				return -1;
			}
			if (diag_dns01_txt_value(arg, a->digests[a->nexpect])) {
				cli_error(t, "--key-authorization: hashing failed");
				return -1;
			}
			a->expect[a->nexpect] = a->digests[a->nexpect];
		} else {
			a->expect[a->nexpect] = arg;
		}
		a->nexpect++;
		return 0;
	case K_WAIT:
		if (cli_long(t, "--wait", arg, 0, 86400, &a->wait))
			return -1;
		a->waited_set = a->wait > 0;  /* --wait 0: no waiting */
		return 0;
	case K_INTERVAL:
		a->interval_set = 1;
		return cli_long(t, "--interval", arg, 1, 3600, &a->interval);
	case K_CA_DOMAIN: {
		char norm[256], err[160];
		if (diag_domain_normalize(arg, norm, sizeof(norm), NULL, err, sizeof(err)) ||
		    strchr(arg, '*')) {
			cli_error(t, "--ca-domain %s: %s", arg, strchr(arg, '*') ? "no wildcards" : err);
			return -1;
		}
		a->ca_domain = arg;
		return 0;
	}
	case K_ACCOUNT_URI:
		if (cli_url_arg(t, "--account-uri", arg))
			return -1;
		a->account_uri = arg;
		return 0;
	case K_METHOD:
		for (const char *p = arg; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
				cli_error(t, "--method %s: expected a name such as dns-01 or http-01", arg);
				return -1;
			}
		if (!*arg) {
			cli_error(t, "--method: empty");
			return -1;
		}
		a->method = arg;
		return 0;
	case K_PROFILE:
		if (diag_http01_profile_parse(arg, &a->profile)) {
			cli_error(t, "--ca-profile %s: unknown profile (letsencrypt, pebble or rfc8555)", arg);
			return -1;
		}
		a->profile_set = 1;
		return 0;
	case K_CLIENT:
		if (diag_client_parse(arg, &a->clients)) {
			cli_error(t, "--client %s: expected cert-manager, lego, certbot, acme.sh or none", arg);
			return -1;
		}
		return 0;
	}
	return -1;
}

struct run {
	struct dnscheck_opts o;
	unsigned clients;
	int profile_set;
	enum http01_profile profile;
	char name[256];     /* the DOMAIN normalized, "*." taken off */
	int wildcard;
};

/* The CA's identifier policy first: a name it refuses is not probed. */
static int probe(const void *arg, struct diag_report *r)
{
	const struct run *x = arg;
	if (x->o.domain) {
		/* Boulder's rules when the CA is Let's Encrypt (the CAA issuer
		 * domain says which), the rules of any CA otherwise */
		enum http01_profile pol = x->profile_set ? x->profile
		                          : !x->o.ca_domain || !strcmp(x->o.ca_domain, "letsencrypt.org")
		                          ? HTTP01_LETSENCRYPT : HTTP01_RFC8555;
		int refused = diag_identifier_check(r, x->name, x->wildcard, pol,
		                                    x->o.method ? x->o.method : "dns-01");
		if (refused)
			return refused > 0 ? 0 : -1;
	}
	int rc = diag_dnscheck_run(&x->o, r);
	diag_clients_judge(r, x->clients);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = { .interval = 5, .clients = DIAG_CLIENTS_DEFAULT };
	struct cli_tool tool = {
		.name = "acme-dnscheck",
		.bound_timeouts = 16,
		.synopsis = "[OPTIONS] [DOMAIN]",
		.summary =
			"Check the DNS side of ACME DNS-01 for DOMAIN: zone detection by SOA (and\n"
			"resolvers that filter SOA), the authoritative servers, _acme-challenge TXT at\n"
			"every resolver and authoritative address, CNAME delegation, negative caching\n"
			"and CAA. With no DOMAIN, audit the resolvers given with --ns.",
		.footer =
			"Examples:\n"
			"  acme-dnscheck example.com\n"
			"  acme-dnscheck --ns 8.8.8.8 --ns 1.1.1.1 --expect \"$TXT\" --wait 300 example.com\n"
			"  acme-dnscheck --ns 192.168.1.1          # does this resolver strip SOA?\n"
			"  acme-dnscheck --json example.com | jq .verdict\n",
		.opts = opts, .handle = handle, .ctx = &a,
	};
	a.tool = &tool;
	struct cli_common c;
	int first;
	int rc = cli_parse(&tool, argc, argv, &c, &first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	const char *domain = NULL;
	if (first < argc)
		domain = argv[first++];
	if (first < argc) {
		cli_error(&tool, "%s: only one DOMAIN per run", argv[first]);
		return DIAG_EXIT_USAGE;
	}
	if (!domain && !c.nns) {
		cli_error(&tool, "give a DOMAIN to check, or --ns SERVER to audit a resolver");
		fprintf(stderr, "Try 'acme-dnscheck --help'.\n");
		return DIAG_EXIT_USAGE;
	}
	struct run x = {0};
	if (domain) {
		char err[160];
		if (diag_domain_normalize(domain, x.name, sizeof(x.name), &x.wildcard, err, sizeof(err))) {
			cli_error(&tool, "%s: %s", domain, err);
			return DIAG_EXIT_USAGE;
		}
	} else if (a.nexpect || a.waited_set || a.account_uri) {
		cli_error(&tool, "--expect, --key-authorization, --wait and --account-uri need a DOMAIN");
		return DIAG_EXIT_USAGE;
	}
	if (a.interval_set && !a.waited_set) {
		cli_error(&tool, "--interval only makes sense with --wait");
		return DIAG_EXIT_USAGE;
	}

	x.o = (struct dnscheck_opts){
		.domain = domain, .family = c.family, .ns = c.ns, .nns = c.nns,
		.timeout_ms = c.timeout_ms, .expect = a.expect, .nexpect = a.nexpect,
		.wait_s = (int)a.wait, .interval_s = (int)a.interval,
		.ca_domain = a.ca_domain, .account_uri = a.account_uri, .method = a.method,
	};
	x.clients = a.clients;
	x.profile = a.profile;
	x.profile_set = a.profile_set;
	x.o.pebble_strings = a.profile_set && a.profile == HTTP01_PEBBLE;
	tool.bound_extra_ms = (int64_t)a.wait * 1000;  /* --wait polls on top */
	return cli_run(&tool, &c, domain ? domain : c.ns[0].label, probe, &x);
}
