/* SPDX-License-Identifier: ISC */
/* acme-doctor - every check that applies to a name, at once, and the root causes first. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <unistd.h>

#include "common/doctoropts.h"
#include "diag/doctor.h"
#include "doctor/run.h"

enum {
	K_AUTHZ = 256, K_CAPTURE, K_NTP, K_TOKEN, K_KEYAUTH, K_FORMAT, K_JUNIT, K_JSON_FILE, K_FAIL_ON,
};

static const struct cli_opt opts[] = {
	DOCTOR_OPTS_SESSION,
	{"authz", 0, "URL", "an authorization, order or challenge URL to explain; repeatable", K_AUTHZ},
	{"capture", 0, "FILE", "captured ACME requests to lint (certbot log, HAR, JSON lines, a JWS)", K_CAPTURE},
	{"ntp", 0, "HOST", "an SNTP server to measure the clock against too; repeatable", K_NTP},
	DOCTOR_OPT_EXPECT,
	{"token", 0, "TOKEN", "the HTTP-01 token to fetch (default: a random probe token, expecting 404)", K_TOKEN},
	{"key-authorization", 0, "KA", "the HTTP-01 body expected, or the TLS-ALPN-01 key authorization (TOKEN.THUMBPRINT)", K_KEYAUTH},
	{"format", 0, "FORMAT", "output: text (default), json, jsonl, junit, github, tap or prometheus", K_FORMAT},
	{"junit", 0, "FILE", "also write a JUnit XML report to FILE (the terminal keeps its format)", K_JUNIT},
	{"json-file", 0, "FILE", "also write the JSON document to FILE", K_JSON_FILE},
	{"fail-on", 0, "LEVEL", "the verdict that fails the run: fail (default), warn or error", K_FAIL_ON},
	DOCTOR_OPTS_NAMES,
	{0},
};

struct args {
	struct doctor_args c;            /* the names, the challenge, the account... */
	const char *capture_path, *junit_path, *json_path;
	enum out_format format;
	int format_set, fail_on_set;
	enum diag_status fail_from;
};

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	struct doctor_args *c = &a->c;
	const struct cli_tool *t = c->tool;
	int rc = doctor_args_handle(c, key, arg);
	if (rc)
		return rc > 0 ? 0 : -1;
	switch (key) {
	case K_AUTHZ:
		return cli_url_arg(t, "--authz", arg) ? -1
			: doctor_args_add(c, "--authz", c->authz, &c->d.nauthz, arg);
	case K_CAPTURE:
		a->capture_path = arg;
		return cli_file_arg(t, "--capture", arg);
	case K_NTP:
		if (cli_host_arg(t, "--ntp", arg))
			return -1;
		return doctor_args_add(c, "--ntp", c->ntp, &c->d.nntp, arg);
	case K_TOKEN:
		c->d.token = arg;
		return cli_token_arg(t, "--token", arg);
	case K_KEYAUTH:
		c->d.key_authorization = arg;
		return cli_keyauth_arg(t, "--key-authorization", arg);
	case K_FORMAT:
		if (out_format_parse(arg, &a->format)) {
			cli_error(t, "--format %s: expected text, json, jsonl, junit, github, tap or prometheus", arg);
			return -1;
		}
		a->format_set = 1;
		return 0;
	case K_JUNIT:
		a->junit_path = arg;
		return 0;
	case K_JSON_FILE:
		a->json_path = arg;
		return 0;
	case K_FAIL_ON:
		if (!strcmp(arg, "fail"))
			a->fail_from = DIAG_FAIL;
		else if (!strcmp(arg, "warn"))
			a->fail_from = DIAG_WARN;
		else if (!strcmp(arg, "error"))
			a->fail_from = DIAG_ERROR;
		else {
			cli_error(t, "--fail-on %s: expected fail, warn or error", arg);
			return -1;
		}
		a->fail_on_set = 1;
		return 0;
	}
	return -1;
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

/* ---- options that go together ---- */

static int check_options(const struct cli_tool *t, const struct cli_common *c, struct args *a,
                         char *token_buf, size_t token_len)
{
	if (c->json) {
		if (a->format_set && a->format != OUT_JSON) {
			cli_error(t, "--json and --format exclude each other (--json is --format json)");
			return -1;
		}
		a->format = OUT_JSON;
	}
	if (c->strict) {
		if (a->fail_on_set && a->fail_from != DIAG_WARN) {
			cli_error(t, "--strict is --fail-on warn: give one of them");
			return -1;
		}
		a->fail_from = DIAG_WARN;
	}
	if (!a->fail_from)
		a->fail_from = DIAG_FAIL;
	int bad;
	a->c.d.token = cli_http01_token(t, a->c.d.token, a->c.d.key_authorization, token_buf, token_len, &bad);
	return bad ? -1 : 0;
}

static int run_main(const struct cli_tool *tool, const struct cli_common *c, struct args *a,
                    char **args, size_t nargs)
{
	struct doctor_targets tg;
	struct jws_capture cap;
	int have_cap = 0;
	struct doctor_run run = { .tool = tool, .c = c, .o = &a->c.d };
	int rc = doctor_targets_load(&a->c, c, args, nargs, &tg);
	if (rc)
		goto out;
	rc = DIAG_EXIT_USAGE;
	if (a->capture_path && load_capture(tool, a->capture_path, &cap))
		goto out;
	have_cap = a->capture_path != NULL;
	a->c.d.capture = have_cap ? &cap : NULL;
	run.targets = tg.v;
	run.ntargets = tg.n;
	run.format = a->format;
	run.fail_from = a->fail_from;
	run.jobs = doctor_jobs(tool, a->c.jobs, run.ntargets);
	run.progress = isatty(STDERR_FILENO) && !c->quiet && run.ntargets > 1;
	run.pre = tg.pre;
	tg.pre = NULL;
	if (CLI_OPTIONS_ONLY)
		rc = DIAG_EXIT_OK;
	else if (a->junit_path && !(run.junit = fopen(a->junit_path, "w")))
		cli_error(tool, "--junit %s: %s", a->junit_path, strerror(errno));
	else if (a->json_path && !(run.json = fopen(a->json_path, "w")))
		cli_error(tool, "--json-file %s: %s", a->json_path, strerror(errno));
	else
		rc = doctor_run(&run);
	if ((run.junit && fclose(run.junit)) || (run.json && fclose(run.json))) {
		cli_error(tool, "writing a report file: %s", strerror(errno));
		rc = DIAG_EXIT_ERROR;
	}
out:
	diag_report_free(run.pre);
	doctor_targets_free(&tg);
	if (have_cap)
		jws_capture_free(&cap);
	acme_opts_free(&a->c.acme);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	const struct cli_tool tool = {
		.name = "acme-doctor",
		.synopsis = "[OPTIONS] (DOMAIN... | -f FILE)",
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
			"  acme-doctor --authz URL --account-key key.pem --kid URL example.com\n"
			"  acme-doctor --format github example.com\n"
			"  acme-doctor --junit report.xml --fail-on warn example.com\n"
			"  acme-doctor --format jsonl -f domains.txt -j 200 > results.jsonl\n"
			"  acme-doctor --format prometheus example.com > /var/lib/node_exporter/acme.prom\n",
		.opts = opts, .handle = handle, .ctx = &a,
	};
	struct cli_common c;
	int first;
	int rc = doctor_args_parse(&a.c, &tool, argc, argv, &c, &first);
	if (rc >= 0)
		return rc;
	char token_buf[96];
	if (check_options(&tool, &c, &a, token_buf, sizeof(token_buf)))
		return DIAG_EXIT_USAGE;
	return run_main(&tool, &c, &a, argv + first, (size_t)(argc - first));
}
