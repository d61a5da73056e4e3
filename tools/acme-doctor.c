/* acme-doctor - every check that applies to a name, at once, and the root causes first. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/acmeopts.h"
#include "diag/doctor.h"

#define MAX_LIST 32

enum {
	K_CHALLENGE = 256, K_PROFILE, K_CA_DOMAIN, K_STORE, K_AUTHZ, K_CAPTURE, K_NTP, K_EXPECT,
	K_TOKEN, K_KEYAUTH,
};

static const struct cli_opt opts[] = {
	{"challenge", 0, "CHALLENGE", "which validation to check: auto (default: HTTP-01 and DNS-01, as each name allows), http-01, dns-01 or tls-alpn-01", K_CHALLENGE},
	ACME_OPTS_TABLE,
	{"store", 0, "DIR", "the folder of the --from client's store (default: the client's own)", K_STORE},
	{"ca-profile", 0, "PROFILE", "whose HTTP-01 / TLS-ALPN-01 validation to emulate: letsencrypt (default), pebble, rfc8555", K_PROFILE},
	{"ca-domain", 0, "DOMAIN", "CA issuer domain for CAA (default: the directory's caaIdentities)", K_CA_DOMAIN},
	{"authz", 0, "URL", "an authorization, order or challenge URL to explain; repeatable", K_AUTHZ},
	{"capture", 0, "FILE", "captured ACME requests to lint (certbot log, HAR, JSON lines, a JWS)", K_CAPTURE},
	{"ntp", 0, "HOST", "an SNTP server to measure the clock against too; repeatable", K_NTP},
	{"expect", 0, "VALUE", "a TXT value every DNS server must have; repeatable", K_EXPECT},
	{"token", 0, "TOKEN", "the HTTP-01 token to fetch (default: a random probe token, expecting 404)", K_TOKEN},
	{"key-authorization", 0, "KA", "the HTTP-01 body expected, or the TLS-ALPN-01 key authorization (TOKEN.THUMBPRINT)", K_KEYAUTH},
	{0},
};

struct args {
	struct acme_opts acme;
	struct doctor_opts d;
	const char *store, *capture_path;
	const char *authz[MAX_LIST], *ntp[MAX_LIST], *expect[MAX_LIST];
	const struct cli_tool *tool;
};

static int add_list(struct args *a, const char *opt, const char **list, size_t *n, const char *arg)
{
	if (*n == MAX_LIST) {
		cli_error(a->tool, "%s: at most %d", opt, MAX_LIST);
		return -1;
	}
	list[(*n)++] = arg;
	return 0;
}

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	const struct cli_tool *t = a->tool;
	int rc = acme_opts_handle(&a->acme, t, key, arg);
	if (rc)
		return rc > 0 ? 0 : -1;
	switch (key) {
	case K_CHALLENGE:
		if (diag_doctor_challenge_parse(arg, &a->d.challenge)) {
			cli_error(t, "--challenge %s: expected auto, http-01, dns-01 or tls-alpn-01", arg);
			return -1;
		}
		return 0;
	case K_PROFILE:
		if (diag_http01_profile_parse(arg, &a->d.profile)) {
			cli_error(t, "--ca-profile %s: unknown profile (letsencrypt, pebble or rfc8555)", arg);
			return -1;
		}
		return 0;
	case K_CA_DOMAIN: {
		char norm[256], err[160];
		if (diag_domain_normalize(arg, norm, sizeof(norm), NULL, err, sizeof(err)) || strchr(arg, '*')) {
			cli_error(t, "--ca-domain %s: %s", arg, strchr(arg, '*') ? "no wildcards" : err);
			return -1;
		}
		a->d.ca_domain = arg;
		return 0;
	}
	case K_STORE:
		a->store = arg;
		return 0;
	case K_AUTHZ:
		return cli_url_arg(t, "--authz", arg) ? -1 : add_list(a, "--authz", a->authz, &a->d.nauthz, arg);
	case K_CAPTURE:
		a->capture_path = arg;
		return cli_file_arg(t, "--capture", arg);
	case K_NTP:
		if (!*arg || strlen(arg) > 255) {
			cli_error(t, "--ntp: expected a host name or address");
			return -1;
		}
		return add_list(a, "--ntp", a->ntp, &a->d.nntp, arg);
	case K_EXPECT:
		if (!*arg || strlen(arg) > 4096) {
			cli_error(t, "--expect: value must be 1 to 4096 characters");
			return -1;
		}
		return add_list(a, "--expect", a->expect, &a->d.nexpect, arg);
	case K_TOKEN:
		a->d.token = arg;
		return cli_token_arg(t, "--token", arg);
	case K_KEYAUTH:
		a->d.key_authorization = arg;
		return cli_keyauth_arg(t, "--key-authorization", arg);
	}
	return -1;
}

/* ---- output ---- */

struct section {
	const char *domain;  /* NULL: findings without a name */
	const char *area;
};

static int in_section(const struct diag_finding *f, void *arg)
{
	const struct section *s = arg;
	if (strcmp(diag_doctor_area(f), s->area))
		return 0;
	if (!s->domain || !f->domain)
		return !s->domain && !f->domain;
	return !strcmp(s->domain, f->domain);
}

/* One section: a heading and its findings, or nothing when none shows. */
static int print_section(const struct cli_tool *t, struct diag_report *r,
                         const struct diag_render_opts *base, const struct section *s)
{
	struct diag_render_opts o = *base;
	o.filter = in_section;
	o.filter_arg = (void *)s;
	o.no_verdict = 1;
	char *body = diag_render_text(r, &o);
	if (!body)
		return cli_print(t, NULL);
	int rc = 0;
	if (*body) {
		char head[300];
		snprintf(head, sizeof(head), "\n== %s%s%s\n", s->domain ? s->domain : "",
		         s->domain ? ": " : "", s->area);
		rc = cli_print(t, head) || cli_print(t, body);
	}
	free(body);
	return rc;
}

static int print_text(const struct cli_tool *t, const struct cli_common *c, struct diag_report *r,
                      const struct diag_diagnosis *dg, const struct doctor_opts *d)
{
	struct diag_render_opts o = cli_render_opts(c);
	char *s = diag_diagnosis_text(dg, &o);
	int rc = cli_print(t, s);
	free(s);
	static const char *const per_name[] = {"DNS-01", "HTTP-01", "TLS-ALPN-01"};
	static const char *const shared[] = {"resolvers", "ACME", "capture", "clock", "other"};
	for (size_t i = 0; !rc && i < d->ndomains; i++)
		for (size_t k = 0; !rc && k < sizeof(per_name) / sizeof(per_name[0]); k++)
			rc = print_section(t, r, &o, &(struct section){ d->domains[i], per_name[k] });
	for (size_t k = 0; !rc && k < sizeof(shared) / sizeof(shared[0]); k++)
		rc = print_section(t, r, &o, &(struct section){ NULL, shared[k] });
	if (rc)
		return -1;
	s = diag_render_verdict(r, &o);
	rc = cli_print(t, "\n") || cli_print(t, s);
	free(s);
	return rc ? -1 : 0;
}

static int print_json(const struct cli_tool *t, struct diag_report *r, const struct diag_diagnosis *dg)
{
	json_t *doc = diag_report_json(r), *diag = diag_diagnosis_json(dg);
	char *s = NULL;
	if (doc && diag && !json_object_set_new(doc, "diagnosis", diag)) {
		diag = NULL;
		char *d = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		s = d ? diag_asprintf("%s\n", d) : NULL;
		free(d);
	}
	json_decref(diag);
	json_decref(doc);
	int rc = cli_print(t, s);
	free(s);
	return rc;
}

static int finish(const struct cli_tool *t, const struct cli_common *c, struct diag_report *r,
                  const struct doctor_opts *d)
{
	diag_report_finish(r);
	diag_doctor_sort(r, d);
	struct diag_diagnosis *dg = diag_diagnose(r);
	if (!dg) {
		cli_error(t, "out of memory");
		return DIAG_EXIT_ERROR;
	}
	int rc = c->json ? print_json(t, r, dg) : print_text(t, c, r, dg, d);
	diag_diagnosis_free(dg);
	return rc ? DIAG_EXIT_ERROR : diag_exit_status(diag_verdict(r), c->strict);
}

/* ---- main ---- */

static int load_capture(const struct cli_tool *t, const char *path, struct jws_capture *cap)
{
	FILE *f = fopen(path, "rb");
	char *buf = f ? malloc(JWS_MAX_CAPTURE + 1) : NULL;
	size_t n = buf ? fread(buf, 1, JWS_MAX_CAPTURE + 1, f) : 0;
	if (f)
		fclose(f);
	char err[300];
	int rc = -1;
	if (!buf)
		cli_error(t, "--capture %s: cannot read the file", path);
	else if (n > JWS_MAX_CAPTURE)
		cli_error(t, "--capture %s: larger than 64 MiB", path);
	else if (jws_capture_parse(buf, n, cap, err, sizeof(err)))
		cli_error(t, "--capture %s: %s", path, err);
	else
		rc = 0;
	free(buf);
	return rc;
}

/* Names: checked, at most DOCTOR_MAX_DOMAINS, a wildcard only with DNS-01. */
static int check_names(const struct cli_tool *t, struct doctor_opts *d, char **names, size_t n)
{
	if (!n) {
		cli_error(t, "give the DOMAIN to check (one or more)");
		fprintf(stderr, "Try 'acme-doctor --help'.\n");
		return -1;
	}
	if (n > DOCTOR_MAX_DOMAINS) {
		cli_error(t, "at most %d names per run (an order holds at most 100)", DOCTOR_MAX_DOMAINS);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char norm[256], err[160];
		int wild = 0;
		if (diag_domain_normalize(names[i], norm, sizeof(norm), &wild, err, sizeof(err))) {
			cli_error(t, "%s: %s", names[i], err);
			return -1;
		}
		if (wild && (d->challenge == DOCTOR_HTTP01 || d->challenge == DOCTOR_TLSALPN01)) {
			cli_error(t, "%s: a wildcard can only be validated with DNS-01 (drop --challenge %s)",
			          names[i], d->challenge == DOCTOR_HTTP01 ? "http-01" : "tls-alpn-01");
			return -1;
		}
	}
	d->domains = (const char *const *)names;
	d->ndomains = n;
	return 0;
}

int main(int argc, char **argv)
{
	static struct args a;
	acme_opts_init(&a.acme);
	const struct cli_tool tool = {
		.name = "acme-doctor",
		.synopsis = "[OPTIONS] DOMAIN...",
		.summary =
			"Why will the certificate for DOMAIN not renew? Runs every check that applies,\n"
			"at once: DNS (zone and SOA walk at the resolvers, authoritative servers,\n"
			"_acme-challenge TXT, CNAME, CAA), HTTP-01 per address as the CA fetches it\n"
			"(not for a wildcard; TLS-ALPN-01 per address instead with --challenge\n"
			"tls-alpn-01), the CA's directory and the clock against it, and, when\n"
			"given, the account, authorizations and captured requests. Prints the root\n"
			"causes first, in the order to fix them, with whose step fails and the\n"
			"setting to change; then every finding by area.",
		.footer =
			"Examples:\n"
			"  acme-doctor example.com\n"
			"  acme-doctor --challenge dns-01 --ns 192.168.1.1 '*.example.com'\n"
			"  acme-doctor --directory URL --ca-bundle ca.pem --from certbot example.com www.example.com\n"
			"  acme-doctor --authz URL --account-key key.pem --kid URL example.com\n",
		.opts = opts, .handle = handle, .ctx = &a,
	};
	a.tool = &tool;
	a.acme.tool = &tool;
	a.d.authz = a.authz;
	a.d.ntp = a.ntp;
	a.d.expect = a.expect;
	struct cli_common c;
	int first;
	int rc = cli_parse(&tool, argc, argv, &c, &first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	if (check_names(&tool, &a.d, argv + first, (size_t)(argc - first)))
		return DIAG_EXIT_USAGE;
	char token_buf[96];
	int bad;
	a.d.token = cli_http01_token(&tool, a.d.token, a.d.key_authorization, token_buf,
	                             sizeof(token_buf), &bad);
	if (bad)
		return DIAG_EXIT_USAGE;
	if (a.store && a.acme.from < 0) {
		cli_error(&tool, "--store goes with --from CLIENT");
		return DIAG_EXIT_USAGE;
	}
	if (!a.acme.directory)
		a.acme.directory = DOCTOR_LETSENCRYPT;
	if (acme_opts_load(&a.acme, &tool, a.store))
		return DIAG_EXIT_USAGE;
	struct jws_capture cap;
	if (a.capture_path && load_capture(&tool, a.capture_path, &cap)) {
		acme_opts_free(&a.acme);
		return DIAG_EXIT_USAGE;
	}
	struct doctor_opts *d = &a.d;
	d->family = c.family;
	d->ns = c.ns;
	d->nns = c.nns;
	d->timeout_ms = c.timeout_ms;
	d->directory = a.acme.directory;
	d->ca_bundle = a.acme.ca_bundle;
	d->insecure = a.acme.insecure;
	d->key = a.acme.have_key ? &a.acme.key : NULL;
	d->key_path = a.acme.key_path;
	d->kid = a.acme.kid;
	d->contact = a.acme.ref.contact[0] ? a.acme.ref.contact : NULL;
	d->capture = a.capture_path ? &cap : NULL;

	char target[1024] = "";
	for (size_t i = 0; i < d->ndomains; i++)
		snprintf(target + strlen(target), sizeof(target) - strlen(target), "%s%s", i ? " " : "",
		         d->domains[i]);
	struct diag_report *r = diag_report_new(tool.name, DIAG_VERSION, target);
	if (!r) {
		cli_error(&tool, "out of memory");
		rc = DIAG_EXIT_ERROR;
	} else {
		acme_opts_report(&a.acme, r);
		diag_doctor_run(d, r);
		rc = finish(&tool, &c, r, d);
		diag_report_free(r);
	}
	if (a.capture_path)
		jws_capture_free(&cap);
	acme_opts_free(&a.acme);
	return rc;
}
