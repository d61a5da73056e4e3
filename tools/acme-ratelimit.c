/* SPDX-License-Identifier: ISC */
/* acme-ratelimit - Let's Encrypt's rate limits, estimated from local evidence. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

#define MAX_SOURCES 64

enum { K_FROM = 256, K_KUBECTL, K_LOG, K_DIRECTORY, K_OPERAND = 1 };

static const struct cli_opt opts[] = {
	{"from", 0, "CLIENT", "a client's store: certbot, lego or acme.sh, then its folder if not the default; repeatable", K_FROM},
	{"from-kubectl", 0, "FILE", "cert-manager objects from 'kubectl get ... -o json' (- for standard input)", K_KUBECTL},
	{"log", 0, "PATH", "a log or capture (certbot, lego, acme.sh, HAR, a problem document) or a folder of them; repeatable", K_LOG},
	{"directory", 0, "URL", "count only the evidence of this ACME server (default: every server, each apart)", K_DIRECTORY},
	{0},
};


struct store_arg {
	enum acme_store client;
	const char *dir;  /* NULL: the client's default */
};

struct args {
	const struct cli_tool *tool;
	struct store_arg stores[MAX_SOURCES];
	size_t nstores;
	const char *logs[MAX_SOURCES];
	size_t nlogs;
	const char *kubectl, *directory;
	int dir_pending;  /* the last --from has no folder yet */
};

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	const struct cli_tool *t = a->tool;
	switch (key) {
	case K_FROM: {
		static const char *const names[] = {"certbot", "lego", "acme.sh"};
		size_t i = 0;
		while (i < 3 && strcmp(arg, names[i]))
			i++;
		if (i == 3) {
			cli_error(t, "--from %s: expected certbot, lego or acme.sh", arg);
			return -1;
		}
		if (a->nstores == MAX_SOURCES) {
			cli_error(t, "--from: at most %d", MAX_SOURCES);
			return -1;
		}
		a->stores[a->nstores++] = (struct store_arg){ (enum acme_store)i, NULL };
		a->dir_pending = 1;
		return 0;
	}
	case K_OPERAND:
		if (!a->dir_pending) {
			cli_error(t, "%s: unexpected argument (a folder follows --from CLIENT)", arg);
			return -1;
		}
		a->stores[a->nstores - 1].dir = arg;
		a->dir_pending = 0;
		return 0;
	case K_KUBECTL:
		a->kubectl = arg;
		return cli_input_arg(t, "--from-kubectl", arg);
	case K_LOG:
		if (a->nlogs == MAX_SOURCES) {
			cli_error(t, "--log: at most %d", MAX_SOURCES);
			return -1;
		}
		a->logs[a->nlogs++] = arg;
		return 0;
	case K_DIRECTORY:
		a->directory = arg;
		return cli_url_arg(t, "--directory", arg);
	}
	return -1;
}

/* Every source into ev, each saying what it gave; 0, or -1 after saying
 * which source could not be read (exit 2). */
static int read_sources(const struct args *a, struct ratelimit_evidence *ev, struct diag_report *r)
{
	char err[600];
	for (size_t i = 0; i < a->nstores; i++) {
		const struct store_arg *s = &a->stores[i];
		if (ratelimit_read_store(ev, s->client, s->dir, r, err, sizeof(err))) {
			cli_error(a->tool, "--from: %s", err);
			return -1;
		}
		/* certbot's logs are elsewhere: its default folder's, when it is used */
		if (s->client == STORE_CERTBOT && !s->dir && !a->nlogs &&
		    ratelimit_read_log(ev, "/var/log/letsencrypt", r, err, sizeof(err)) == 0)
			continue;
	}
	for (size_t i = 0; i < a->nlogs; i++)
		if (ratelimit_read_log(ev, a->logs[i], r, err, sizeof(err))) {
			cli_error(a->tool, "--log %s", err);
			return -1;
		}
	if (a->kubectl) {
		json_t *doc = cli_read_json(a->tool, "--from-kubectl", a->kubectl);
		int rc = doc ? diag_k8s_ratelimit(doc, ev, r, err, sizeof(err)) : -1;
		json_decref(doc);
		if (doc && rc)
			cli_error(a->tool, "--from-kubectl %s: %s", a->kubectl, err);
		if (rc)
			return -1;
	}
	return 0;
}

struct rl_metrics {
	const struct ratelimit_evidence *ev;
	const struct ratelimit_opts *o;
};

static int rl_metrics_more(const struct diag_report *r, struct diag_metrics *m, const void *arg)
{
	const struct rl_metrics *x = arg;
	return diag_ratelimit_metrics(x->ev, x->o, r, m);
}

static int run(const struct cli_tool *t, const struct cli_common *c, const struct args *a)
{
	struct ratelimit_evidence ev = {0};
	struct ratelimit_opts o = { .server = a->directory };
	struct diag_report *r = diag_report_new(t->name, DIAG_VERSION, a->directory ? a->directory
	                                        : "local evidence");
	int rc = DIAG_EXIT_USAGE;
	if (!r) {
		cli_error(t, "out of memory");
		return DIAG_EXIT_ERROR;
	}
	if (read_sources(a, &ev, r))
		goto out;
	rc = DIAG_EXIT_OK;
	if (CLI_OPTIONS_ONLY)
		goto out;
	rc = DIAG_EXIT_ERROR;
	if (diag_ratelimit_judge(&ev, &o, r)) {
		cli_error(t, "out of memory");
		goto out;
	}
	/* --format prometheus: the limits' buckets and the certificates too */
	struct rl_metrics ma = { &ev, &o };
	struct cli_common cc = *c;
	cc.metrics_more = rl_metrics_more;
	cc.metrics_arg = &ma;
	rc = cli_finish(t, &cc, r);
out:
	diag_report_free(r);
	ratelimit_evidence_free(&ev);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = {0};  /* not static: main runs more than once under fuzz_args */
	const struct cli_tool tool = {
		.name = "acme-ratelimit",
		.synopsis = "(--from CLIENT [DIR] | --log PATH | --from-kubectl FILE)... [OPTIONS]",
		.summary =
			"Where do you stand against Let's Encrypt's rate limits? Let's Encrypt publishes no\n"
			"usage, so the evidence on your disk is replayed as the CA counts it: certificates in\n"
			"certbot, lego and acme.sh stores, orders and failed validations in their logs and in\n"
			"cert-manager's objects, and the CA's 429 answers. For each limit (duplicate\n"
			"certificate, certificates per registered domain, failed validations, new orders,\n"
			"the pause after consecutive failures): what is used, the limit, and when the next\n"
			"slot frees; and what the evidence cannot show.",
		.footer =
			"Examples:\n"
			"  acme-ratelimit --from certbot\n"
			"  acme-ratelimit --from lego ~/.lego --from acme.sh ~/.acme.sh\n"
			"  kubectl get certificaterequests,orders,challenges -A -o json | acme-ratelimit --from-kubectl -\n"
			"  acme-ratelimit --from certbot --format prometheus > /var/lib/node_exporter/acme-ratelimit.prom\n",
		.opts = opts, .handle = handle, .ctx = &a, .no_ns = 1, .operands_in_order = 1,
		.prometheus = 1,
	};
	a.tool = &tool;
	struct cli_common c;
	int first;
	int rc = cli_parse(&tool, argc, argv, &c, &first);
	if (rc)
		return rc > 0 ? DIAG_EXIT_OK : DIAG_EXIT_USAGE;
	if (!a.nstores && !a.nlogs && !a.kubectl) {
		cli_error(&tool, "give the evidence: --from CLIENT [DIR], --log PATH or --from-kubectl FILE");
		fprintf(stderr, "Try 'acme-ratelimit --help'.\n");
		return DIAG_EXIT_USAGE;
	}
	return run(&tool, &c, &a);
}
