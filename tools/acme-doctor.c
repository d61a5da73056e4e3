/* SPDX-License-Identifier: ISC */
/* acme-doctor - every check that applies to a name, at once, and the root causes first. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/acmeopts.h"
#include "diag/doctor.h"
#include "doctor/run.h"

#define MAX_LIST 32
#define MAX_NAMES 1000000     /* names per run (-f): memory stays bounded when streaming */
#define DEFAULT_JOBS 64
#define FDS_PER_NAME 8        /* sockets a name may hold at once (addresses, redirects) */

enum {
	K_CHALLENGE = 256, K_PROFILE, K_CLIENT, K_CA_DOMAIN, K_STORE, K_AUTHZ, K_CAPTURE, K_NTP, K_EXPECT,
	K_TOKEN, K_KEYAUTH, K_FORMAT, K_JUNIT, K_JSON_FILE, K_FAIL_ON, K_KUBECTL,
	K_FILE = 'f', K_JOBS = 'j',  /* options with a short form are keyed by it */
};

static const struct cli_opt opts[] = {
	{"challenge", 0, "CHALLENGE", "which validation to check: auto (default: what each name allows), http-01 or dns-01", K_CHALLENGE},
	ACME_OPTS_TABLE,
	{"store", 0, "DIR", "the folder of the --from client's store (default: the client's own)", K_STORE},
	{"ca-profile", 0, "PROFILE", "whose HTTP-01 validation to emulate: letsencrypt (default), pebble, rfc8555", K_PROFILE},
	{"client", 0, "CLIENT", "judge the client's own checks as CLIENT does: cert-manager, lego, certbot, acme.sh, or none (the CA's view alone); default: as cert-manager and lego", K_CLIENT},
	{"ca-domain", 0, "DOMAIN", "CA issuer domain for CAA (default: the directory's caaIdentities)", K_CA_DOMAIN},
	{"authz", 0, "URL", "an authorization, order or challenge URL to explain; repeatable", K_AUTHZ},
	{"capture", 0, "FILE", "captured ACME requests to lint (certbot log, HAR, JSON lines, a JWS)", K_CAPTURE},
	{"ntp", 0, "HOST", "an SNTP server to measure the clock against too; repeatable", K_NTP},
	{"expect", 0, "VALUE", "a TXT value every DNS server must have; repeatable", K_EXPECT},
	{"token", 0, "TOKEN", "the HTTP-01 token to fetch (default: a random probe token, expecting 404)", K_TOKEN},
	{"key-authorization", 0, "KA", "the HTTP-01 body expected (TOKEN.THUMBPRINT)", K_KEYAUTH},
	{"format", 0, "FORMAT", "output: text (default), json, jsonl, junit, github or tap", K_FORMAT},
	{"junit", 0, "FILE", "also write a JUnit XML report to FILE (the terminal keeps its format)", K_JUNIT},
	{"json-file", 0, "FILE", "also write the JSON document to FILE", K_JSON_FILE},
	{"fail-on", 0, "LEVEL", "the verdict that fails the run: fail (default), warn or error", K_FAIL_ON},
	{"file", 'f', "FILE", "read names from FILE, one a line (# comments; - for standard input)", K_FILE},
	{"jobs", 'j', "N", "names checked at once (1-10000; default 64, fewer when descriptors are short)", K_JOBS},
	{"from-kubectl", 0, "FILE", "cert-manager objects from 'kubectl get ... -o json' (- for standard input)", K_KUBECTL},
	{0},
};

struct args {
	struct acme_opts acme;
	struct doctor_opts d;
	const char *store, *capture_path, *junit_path, *json_path, *file, *kubectl;
	const char *authz[MAX_LIST], *ntp[MAX_LIST], *expect[MAX_LIST];
	enum out_format format;
	int format_set, fail_on_set;
	enum diag_status fail_from;
	long jobs;
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
			cli_error(t, "--challenge %s: expected auto, http-01 or dns-01", arg);
			return -1;
		}
		return 0;
	case K_CLIENT:
		if (diag_client_parse(arg, &a->d.clients)) {
			cli_error(t, "--client %s: expected cert-manager, lego, certbot, acme.sh or none", arg);
			return -1;
		}
		a->d.clients_given = 1;
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
		if (cli_host_arg(t, "--ntp", arg))
			return -1;
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
	case K_FORMAT:
		if (out_format_parse(arg, &a->format)) {
			cli_error(t, "--format %s: expected text, json, jsonl, junit, github or tap", arg);
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
	case K_FILE:
		if (a->file) {
			cli_error(t, "-f: give one names file");
			return -1;
		}
		a->file = arg;
		return cli_input_arg(t, "--file", arg);
	case K_JOBS:
		return cli_long(t, "--jobs", arg, 1, 10000, &a->jobs);
	case K_KUBECTL:
		a->kubectl = arg;
		return cli_input_arg(t, "--from-kubectl", arg);
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

/* ---- names ---- */

struct names {
	char **v;        /* as checked: lowercase, no trailing dot, "*." kept */
	size_t n, cap;
};

static int names_add(struct names *l, const char *raw)
{
	char norm[256], err[160];
	int wild = 0;
	char *s = diag_domain_normalize(raw, norm, sizeof(norm), &wild, err, sizeof(err))
		? diag_strdup(raw)  /* kept as given: the check says what is wrong with it */
		: diag_asprintf("%s%s", wild ? "*." : "", norm);
	if (!s || (l->n == l->cap && !(l->v = realloc(l->v, (l->cap = l->cap ? 2 * l->cap : 64) *
	                                                    sizeof(*l->v))))) {
		free(s);
		return -1;
	}
	l->v[l->n++] = s;
	return 0;
}

/* A name given as an argument is checked here: a typo is a usage error. */
static int arg_name(const struct cli_tool *t, const struct doctor_opts *d, const char *name)
{
	char norm[256], err[160];
	int wild = 0;
	if (diag_domain_normalize(name, norm, sizeof(norm), &wild, err, sizeof(err))) {
		cli_error(t, "%s: %s", name, err);
		return -1;
	}
	if (wild && d->challenge == DOCTOR_HTTP01) {
		cli_error(t, "%s: a wildcard can only be validated with DNS-01 (drop --challenge http-01)",
		          name);
		return -1;
	}
	return 0;
}

/* Names from a file, one a line: blanks around, # comments, blank lines. */
static int read_names(const struct cli_tool *t, const char *path, struct names *l)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		cli_error(t, "-f %s: %s", path, strerror(errno));
		return -1;
	}
	char line[1024];
	int rc = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#\r\n")] = '\0';
		char *p = line, *end;
		while (*p == ' ' || *p == '\t')
			p++;
		for (end = p + strlen(p); end > p && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		if (!*p)
			continue;
		if (l->n == MAX_NAMES) {
			cli_error(t, "-f %s: more than %d names", path, MAX_NAMES);
			rc = -1;
		} else if (names_add(l, p)) {
			cli_error(t, "out of memory");
			rc = -1;
		}
	}
	if (ferror(f)) {
		cli_error(t, "-f %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (f != stdin)
		fclose(f);
	return rc;
}

static const struct names *dedupe_of;

static int by_name(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(dedupe_of->v[x], dedupe_of->v[y]);
	return c ? c : (x < y ? -1 : x > y);
}

/* Each name once, in the order first given. */
static void dedupe(struct names *l)
{
	size_t *idx = calloc(l->n ? l->n : 1, sizeof(*idx));
	if (!idx)
		return;  /* duplicates are then checked twice: harmless */
	for (size_t i = 0; i < l->n; i++)
		idx[i] = i;
	dedupe_of = l;
	qsort(idx, l->n, sizeof(*idx), by_name);
	/* equal names are next to each other, the first given first */
	for (size_t i = 1, keep = idx[0]; i < l->n; i++)
		if (!strcmp(l->v[idx[i]], l->v[keep])) {
			free(l->v[idx[i]]);
			l->v[idx[i]] = NULL;
		} else {
			keep = idx[i];
		}
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i])
			l->v[k++] = l->v[i];
	l->n = k;
	free(idx);
}

/* Names at once: what was asked, within the file descriptors this process
 * may open (raised to the hard limit first), so a batch never meets EMFILE. */
static size_t jobs_for(const struct cli_tool *t, long asked, size_t names)
{
	struct rlimit rl;
	size_t budget = DEFAULT_JOBS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		if (rl.rlim_cur < want) {
			rl.rlim_cur = want;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		budget = rl.rlim_cur > 128 ? (size_t)(rl.rlim_cur - 64) / FDS_PER_NAME : 8;
	}
	size_t jobs = asked ? (size_t)asked : DEFAULT_JOBS;
	if (jobs > budget) {
		if (asked)
			fprintf(stderr, "%s: -j %ld: at most %zu names at once with this process's file "
			        "descriptor limit\n", t->name, asked, budget);
		jobs = budget;
	}
	return jobs < names ? jobs : names ? names : 1;
}

/* ---- cert-manager objects ---- */

#define MAX_KUBECTL (256 * 1024 * 1024)

static json_t *read_json(const struct cli_tool *t, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	json_error_t je;
	json_t *doc = NULL;
	if (!f) {
		cli_error(t, "--from-kubectl %s: %s", path, strerror(errno));
		return NULL;
	}
	doc = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		cli_error(t, "--from-kubectl %s: not JSON (line %d: %s)", path, je.line, je.text);
	if (f != stdin)
		fclose(f);
	return doc;
}

/* What the objects give: names (each with its Challenge's type and
 * value), the ACME server and account when none is given, and the
 * authorizations to fetch. */
struct kube {
	struct k8s_input in;
	const char **expect1;      /* a TXT value per name (DNS-01 Challenges) */
	const char **authz;
	size_t nauthz;
	char *contact;
};

static int load_kubectl(const struct cli_tool *t, struct args *a, struct kube *k,
                        struct diag_report *pre)
{
	char err[200];
	json_t *doc = read_json(t, a->kubectl);
	if (!doc)
		return -1;
	int rc = diag_k8s_read(doc, NULL, &k->in, pre, err, sizeof(err));
	json_decref(doc);
	if (rc) {
		cli_error(t, "--from-kubectl %s: %s", a->kubectl, err);
		return -1;
	}
	k->expect1 = calloc(k->in.n ? k->in.n : 1, sizeof(*k->expect1));
	k->authz = calloc(k->in.n + MAX_LIST + 1, sizeof(*k->authz));
	if (!k->expect1 || !k->authz)
		return -1;
	for (size_t i = 0; i < a->d.nauthz; i++)
		k->authz[k->nauthz++] = a->d.authz[i];
	for (size_t i = 0; i < k->in.n; i++) {
		const struct k8s_target *kt = &k->in.t[i];
		k->expect1[i] = kt->challenge == DOCTOR_DNS01 ? kt->key : NULL;
		int seen = !kt->authz_url;
		for (size_t j = 0; !seen && j < k->nauthz; j++)
			seen = !strcmp(k->authz[j], kt->authz_url);
		if (!seen)
			k->authz[k->nauthz++] = kt->authz_url;
	}
	if (!a->acme.directory && k->in.directory)
		a->acme.directory = k->in.directory;
	return 0;
}

static void kube_free(struct kube *k)
{
	diag_k8s_free(&k->in);
	free(k->expect1);
	free(k->authz);
	free(k->contact);
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
	a->d.token = cli_http01_token(t, a->d.token, a->d.key_authorization, token_buf, token_len, &bad);
	if (bad)
		return -1;
	if (a->store && a->acme.from < 0) {
		cli_error(t, "--store goes with --from CLIENT");
		return -1;
	}
	return 0;
}

/* The account: given (--account-key, --from), else the Issuer's from the
 * objects; the authorizations of the objects' Challenges. */
static void account_and_authz(struct args *a, struct kube *k)
{
	struct doctor_opts *d = &a->d;
	d->key = a->acme.have_key ? &a->acme.key : NULL;
	d->key_path = a->acme.key_path;
	d->kid = a->acme.kid;
	d->contact = a->acme.ref.contact[0] ? a->acme.ref.contact : NULL;
	if (!d->key && k->in.have_key) {
		d->key = &k->in.key;
		d->kid = k->in.kid;
		d->contact = k->in.email ? (k->contact = diag_asprintf("mailto:%s", k->in.email)) : NULL;
	}
	if (a->kubectl) {
		d->authz = k->authz;
		d->nauthz = k->nauthz;
	}
}

/* The names given, then those of the objects (a Challenge's name once,
 * with its type and value). Returns how many, into targets and all. */
static size_t make_targets(const struct names *names, const struct kube *k,
                           struct doctor_target *targets, const char **all)
{
	size_t n = 0;
	for (size_t i = 0; i < names->n; i++, n++)
		all[n] = targets[n].n.name = names->v[i];
	for (size_t i = 0; i < k->in.n; i++) {
		const struct k8s_target *kt = &k->in.t[i];
		size_t j;
		for (j = 0; j < n && strcmp(all[j], kt->name); j++)
			;
		if (j < n && !targets[j].object)
			continue;  /* given on the command line too: checked once */
		int http = kt->challenge == DOCTOR_HTTP01;
		targets[n].n = (struct doctor_name){
			.name = kt->name, .challenge = kt->challenge,
			.expect = k->expect1[i] ? &k->expect1[i] : NULL, .nexpect = k->expect1[i] != NULL,
			.token = http ? kt->token : NULL, .key_authorization = http ? kt->key : NULL,
		};
		targets[n].object = kt->object;
		all[n++] = kt->name;
	}
	return n;
}

static int run_main(const struct cli_tool *tool, const struct cli_common *c, struct args *a,
                    char **args, size_t nargs)
{
	struct names names = {0};
	struct kube kube = {0};
	struct jws_capture cap;
	int have_cap = 0, rc = DIAG_EXIT_USAGE;
	struct doctor_target *targets = NULL;
	const char **all = NULL;
	struct doctor_run run = { .tool = tool, .c = c, .o = &a->d };
	run.pre = diag_report_new(tool->name, DIAG_VERSION, NULL);
	for (size_t i = 0; i < nargs; i++)
		if (names_add(&names, args[i]))
			goto out;
	if (!run.pre || (a->file && read_names(tool, a->file, &names)) ||
	    (a->kubectl && load_kubectl(tool, a, &kube, run.pre)))
		goto out;
	dedupe(&names);
	if (!names.n && !kube.in.n) {
		cli_error(tool, a->kubectl ? "no name to check in the objects of %s"
		          : a->file ? "no name to check in %s" : "give the DOMAIN to check (one or more, or "
		          "-f FILE, or --from-kubectl FILE)", a->kubectl ? a->kubectl : a->file);
		fprintf(stderr, "Try 'acme-doctor --help'.\n");
		goto out;
	}
	if (!a->acme.directory)
		a->acme.directory = DOCTOR_LETSENCRYPT;
	if (acme_opts_load(&a->acme, tool, a->store))
		goto out;
	if (a->capture_path && load_capture(tool, a->capture_path, &cap))
		goto out;
	have_cap = a->capture_path != NULL;
	struct doctor_opts *d = &a->d;
	d->family = c->family;
	d->ns = c->ns;
	d->nns = c->nns;
	d->timeout_ms = c->timeout_ms;
	d->directory = a->acme.directory;
	d->ca_bundle = a->acme.ca_bundle;
	d->insecure = a->acme.insecure;
	d->capture = have_cap ? &cap : NULL;
	account_and_authz(a, &kube);
	size_t total = names.n + kube.in.n;
	targets = calloc(total, sizeof(*targets));
	all = calloc(total, sizeof(*all));
	if (!targets || !all) {
		cli_error(tool, "out of memory");
		rc = DIAG_EXIT_ERROR;
		goto out;
	}
	run.ntargets = make_targets(&names, &kube, targets, all);
	run.targets = targets;
	d->domains = all;
	d->ndomains = run.ntargets;
	run.format = a->format;
	run.fail_from = a->fail_from;
	run.jobs = jobs_for(tool, a->jobs, run.ntargets);
	run.progress = isatty(STDERR_FILENO) && !c->quiet && run.ntargets > 1;
	if (CLI_OPTIONS_ONLY)
		rc = DIAG_EXIT_OK;
	else if (a->junit_path && !(run.junit = fopen(a->junit_path, "w")))
		cli_error(tool, "--junit %s: %s", a->junit_path, strerror(errno));
	else if (a->json_path && !(run.json = fopen(a->json_path, "w")))
		cli_error(tool, "--json-file %s: %s", a->json_path, strerror(errno));
	else {
		acme_opts_report(&a->acme, run.pre);
		rc = doctor_run(&run);
	}
	if ((run.junit && fclose(run.junit)) || (run.json && fclose(run.json))) {
		cli_error(tool, "writing a report file: %s", strerror(errno));
		rc = DIAG_EXIT_ERROR;
	}
out:
	diag_report_free(run.pre);
	free(targets);
	free(all);
	for (size_t i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	kube_free(&kube);
	if (have_cap)
		jws_capture_free(&cap);
	acme_opts_free(&a->acme);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	acme_opts_init(&a.acme);
	const struct cli_tool tool = {
		.name = "acme-doctor",
		.synopsis = "[OPTIONS] (DOMAIN... | -f FILE)",
		.summary =
			"Why will the certificate for DOMAIN not renew? Runs every check that applies,\n"
			"at once: DNS (zone and SOA walk at the resolvers, authoritative servers,\n"
			"_acme-challenge TXT, CNAME, CAA), HTTP-01 per address as the CA fetches it\n"
			"(not for a wildcard), the CA's directory and the clock against it, and, when\n"
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
			"  acme-doctor --format jsonl -f domains.txt -j 200 > results.jsonl\n",
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
	char token_buf[96];
	if (check_options(&tool, &c, &a, token_buf, sizeof(token_buf)))
		return DIAG_EXIT_USAGE;
	for (int i = first; i < argc; i++)
		if (arg_name(&tool, &a.d, argv[i]))
			return DIAG_EXIT_USAGE;
	return run_main(&tool, &c, &a, argv + first, (size_t)(argc - first));
}
