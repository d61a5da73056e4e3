/* SPDX-License-Identifier: ISC */
/* doctoropts.c - names, options and targets of acme-doctor and acme-dash. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>

#include "doctoropts.h"

#define DEFAULT_JOBS 64
#define FDS_PER_NAME 8        /* sockets a name may hold at once (addresses, redirects) */
#define MAX_KUBECTL (256 * 1024 * 1024)

void doctor_args_init(struct doctor_args *a, const struct cli_tool *t)
{
	memset(a, 0, sizeof(*a));
	acme_opts_init(&a->acme);
	a->acme.tool = t;
	a->tool = t;
	a->d.expect = a->expect;
	a->d.authz = a->authz;
	a->d.ntp = a->ntp;
}

int doctor_args_add(struct doctor_args *a, const char *opt, const char **list, size_t *n,
                    const char *arg)
{
	if (*n == DOCTOR_LIST_MAX) {
		cli_error(a->tool, "%s: at most %d", opt, DOCTOR_LIST_MAX);
		return -1;
	}
	list[(*n)++] = arg;
	return 0;
}

int doctor_args_handle(struct doctor_args *a, int key, const char *arg)
{
	const struct cli_tool *t = a->tool;
	int rc = acme_opts_handle(&a->acme, t, key, arg);
	if (rc)
		return rc;
	switch (key) {
	case K_DOC_CHALLENGE:
		if (diag_doctor_challenge_parse(arg, &a->d.challenge)) {
			cli_error(t, "--challenge %s: expected auto, http-01, dns-01 or tls-alpn-01", arg);
			return -1;
		}
		return 1;
	case K_DOC_PROFILE:
		if (diag_http01_profile_parse(arg, &a->d.profile)) {
			cli_error(t, "--ca-profile %s: unknown profile (letsencrypt, pebble or rfc8555)", arg);
			return -1;
		}
		return 1;
	case K_DOC_CLIENT:
		if (diag_client_parse(arg, &a->d.clients)) {
			cli_error(t, "--client %s: expected cert-manager, lego, certbot, acme.sh or none", arg);
			return -1;
		}
		a->d.clients_given = 1;
		return 1;
	case K_DOC_CA_DOMAIN: {
		char norm[256], err[160];
		if (diag_domain_normalize(arg, norm, sizeof(norm), NULL, err, sizeof(err)) || strchr(arg, '*')) {
			cli_error(t, "--ca-domain %s: %s", arg, strchr(arg, '*') ? "no wildcards" : err);
			return -1;
		}
		a->d.ca_domain = arg;
		return 1;
	}
	case K_DOC_STORE:
		a->store = arg;
		return 1;
	case K_DOC_EXPECT:
		if (!*arg || strlen(arg) > 4096) {
			cli_error(t, "--expect: value must be 1 to 4096 characters");
			return -1;
		}
		return doctor_args_add(a, "--expect", a->expect, &a->d.nexpect, arg) ? -1 : 1;
	case K_DOC_FILE:
		if (a->file) {
			cli_error(t, "-f: give one names file");
			return -1;
		}
		a->file = arg;
		return cli_input_arg(t, "--file", arg) ? -1 : 1;
	case K_DOC_JOBS:
		return cli_long(t, "--jobs", arg, 1, 10000, &a->jobs) ? -1 : 1;
	case K_DOC_KUBECTL:
		a->kubectl = arg;
		return cli_input_arg(t, "--from-kubectl", arg) ? -1 : 1;
	}
	return 0;
}

int doctor_arg_name(const struct doctor_args *a, const char *name)
{
	char norm[256], err[160];
	int wild = 0;
	if (diag_domain_normalize(name, norm, sizeof(norm), &wild, err, sizeof(err))) {
		cli_error(a->tool, "%s: %s", name, err);
		return -1;
	}
	if (wild && (a->d.challenge == DOCTOR_HTTP01 || a->d.challenge == DOCTOR_TLSALPN01)) {
		cli_error(a->tool, "%s: a wildcard can only be validated with DNS-01 (drop --challenge %s)",
		          name, a->d.challenge == DOCTOR_HTTP01 ? "http-01" : "tls-alpn-01");
		return -1;
	}
	return 0;
}

int doctor_args_parse(struct doctor_args *a, const struct cli_tool *t, int argc, char **argv,
                      struct cli_common *c, int *first)
{
	doctor_args_init(a, t);
	int rc = cli_parse(t, argc, argv, c, first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	for (int i = *first; i < argc; i++)
		if (doctor_arg_name(a, argv[i]))
			return DIAG_EXIT_USAGE;
	return -1;
}

/* ---- names ---- */

static int names_add(struct doctor_names *l, const char *raw)
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

/* Names from a file, one a line: blanks around, # comments, blank lines. */
static int read_names(const struct cli_tool *t, const char *path, struct doctor_names *l)
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
		if (l->n == DOCTOR_MAX_NAMES) {
			cli_error(t, "-f %s: more than %d names", path, DOCTOR_MAX_NAMES);
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

static const struct doctor_names *dedupe_of;

static int by_name(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(dedupe_of->v[x], dedupe_of->v[y]);
	return c ? c : (x < y ? -1 : x > y);
}

/* Each name once, in the order first given. */
static void dedupe(struct doctor_names *l)
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

size_t doctor_jobs(const struct cli_tool *t, long asked, size_t names)
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

/* What the objects give: names (each with its Challenge's type and
 * value), the ACME server and account when none is given, and the
 * authorizations to fetch. */
static int load_kubectl(struct doctor_args *a, struct doctor_targets *k)
{
	const struct cli_tool *t = a->tool;
	char err[200];
	json_t *doc = cli_read_json(t, "--from-kubectl", a->kubectl);
	if (!doc)
		return -1;
	int rc = diag_k8s_read(doc, NULL, &k->kube, k->pre, err, sizeof(err));
	json_decref(doc);
	if (rc) {
		cli_error(t, "--from-kubectl %s: %s", a->kubectl, err);
		return -1;
	}
	k->expect1 = calloc(k->kube.n ? k->kube.n : 1, sizeof(*k->expect1));
	k->authz = calloc(k->kube.n + DOCTOR_LIST_MAX + 1, sizeof(*k->authz));
	if (!k->expect1 || !k->authz) {
		cli_error(t, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < a->d.nauthz; i++)
		k->authz[k->nauthz++] = a->d.authz[i];
	for (size_t i = 0; i < k->kube.n; i++) {
		const struct k8s_target *kt = &k->kube.t[i];
		k->expect1[i] = kt->challenge == DOCTOR_DNS01 ? kt->key : NULL;
		int seen = !kt->authz_url;
		for (size_t j = 0; !seen && j < k->nauthz; j++)
			seen = !strcmp(k->authz[j], kt->authz_url);
		if (!seen)
			k->authz[k->nauthz++] = kt->authz_url;
	}
	if (!a->acme.directory && k->kube.directory)
		a->acme.directory = k->kube.directory;
	return 0;
}

/* The account: given (--account-key, --from), else the Issuer's from the
 * objects; the authorizations of the objects' Challenges. */
static void account_and_authz(struct doctor_args *a, struct doctor_targets *k)
{
	struct doctor_opts *d = &a->d;
	d->key = a->acme.have_key ? &a->acme.key : NULL;
	d->key_path = a->acme.key_path;
	d->kid = a->acme.kid;
	d->contact = a->acme.ref.contact[0] ? a->acme.ref.contact : NULL;
	if (!d->key && k->kube.have_key) {
		d->key = &k->kube.key;
		d->kid = k->kube.kid;
		d->contact = k->kube.email ? (k->contact = diag_asprintf("mailto:%s", k->kube.email)) : NULL;
	}
	if (a->kubectl) {
		d->authz = k->authz;
		d->nauthz = k->nauthz;
	}
}

/* The names given, then those of the objects (a Challenge's name once,
 * with its type and value). */
static void make_targets(struct doctor_targets *k)
{
	size_t n = 0;
	for (size_t i = 0; i < k->names.n; i++, n++)
		k->all[n] = k->v[n].n.name = k->names.v[i];
	for (size_t i = 0; i < k->kube.n; i++) {
		const struct k8s_target *kt = &k->kube.t[i];
		size_t j;
		for (j = 0; j < n && strcmp(k->all[j], kt->name); j++)
			;
		if (j < n && !k->v[j].object)
			continue;  /* given on the command line too: checked once */
		int http = kt->challenge == DOCTOR_HTTP01;
		k->v[n].n = (struct doctor_name){
			.name = kt->name, .challenge = kt->challenge,
			.expect = k->expect1[i] ? &k->expect1[i] : NULL, .nexpect = k->expect1[i] != NULL,
			.token = http ? kt->token : NULL, .key_authorization = http ? kt->key : NULL,
		};
		k->v[n].object = kt->object;
		k->all[n++] = kt->name;
	}
	k->n = n;
}

int doctor_targets_load(struct doctor_args *a, const struct cli_common *c, char **args,
                        size_t nargs, struct doctor_targets *k)
{
	const struct cli_tool *t = a->tool;
	memset(k, 0, sizeof(*k));
	if (a->store && a->acme.from < 0) {
		cli_error(t, "--store goes with --from CLIENT");
		return DIAG_EXIT_USAGE;
	}
	if (!(k->pre = diag_report_new(t->name, DIAG_VERSION, NULL))) {
		cli_error(t, "out of memory");
		return DIAG_EXIT_ERROR;
	}
	for (size_t i = 0; i < nargs; i++)
		if (names_add(&k->names, args[i])) {
			cli_error(t, "out of memory");
			return DIAG_EXIT_ERROR;
		}
	if ((a->file && read_names(t, a->file, &k->names)) || (a->kubectl && load_kubectl(a, k)))
		return DIAG_EXIT_USAGE;
	dedupe(&k->names);
	if (!k->names.n && !k->kube.n) {
		cli_error(t, a->kubectl ? "no name to check in the objects of %s"
		          : a->file ? "no name to check in %s" : "give the DOMAIN to check (one or more, or "
		          "-f FILE, or --from-kubectl FILE)", a->kubectl ? a->kubectl : a->file);
		fprintf(stderr, "Try '%s --help'.\n", t->name);
		return DIAG_EXIT_USAGE;
	}
	if (!a->acme.directory)
		a->acme.directory = DOCTOR_LETSENCRYPT;
	if (acme_opts_load(&a->acme, t, a->store))
		return DIAG_EXIT_USAGE;
	struct doctor_opts *d = &a->d;
	d->family = c->family;
	d->ns = c->ns;
	d->nns = c->nns;
	d->timeout_ms = c->timeout_ms;
	d->directory = a->acme.directory;
	d->ca_bundle = a->acme.ca_bundle;
	d->insecure = a->acme.insecure;
	account_and_authz(a, k);
	size_t total = k->names.n + k->kube.n;
	k->v = calloc(total, sizeof(*k->v));
	k->all = calloc(total, sizeof(*k->all));
	if (!k->v || !k->all) {
		cli_error(t, "out of memory");
		return DIAG_EXIT_ERROR;
	}
	make_targets(k);
	d->domains = k->all;
	d->ndomains = k->n;
	acme_opts_report(&a->acme, k->pre);
	return 0;
}

void doctor_targets_free(struct doctor_targets *k)
{
	diag_report_free(k->pre);
	free(k->v);
	free(k->all);
	for (size_t i = 0; i < k->names.n; i++)
		free(k->names.v[i]);
	free(k->names.v);
	diag_k8s_free(&k->kube);
	free(k->expect1);
	free(k->authz);
	free(k->contact);
	memset(k, 0, sizeof(*k));
}
