/* SPDX-License-Identifier: ISC */
/*
 * doctoropts.h - what the tools that run acme-doctor's checks on names
 * share (acme-doctor, acme-dash): their options (the challenge, the CA
 * profile and CAA domain, the TXT values expected, names from -f and
 * --from-kubectl, the account), and everything from those options up to
 * the checks: the targets, each a name with what is its own, and the
 * doctor_opts of the session.
 */
#ifndef ACME_DIAG_DOCTOROPTS_H
#define ACME_DIAG_DOCTOROPTS_H

#include <stddef.h>

#include "acmeopts.h"
#include "cli.h"
#include "diag/doctor.h"
#include "diag/k8s.h"

#define DOCTOR_LIST_MAX 32       /* values of a repeatable option */
#define DOCTOR_MAX_NAMES 1000000 /* names per run (-f): memory stays bounded when streaming */

enum {
	K_DOC_CHALLENGE = 400, K_DOC_STORE, K_DOC_PROFILE, K_DOC_CA_DOMAIN, K_DOC_EXPECT,
	K_DOC_KUBECTL, K_DOC_CLIENT, K_DOC_FILE = 'f', K_DOC_JOBS = 'j',
};

/* Table entries, one a macro, so that each tool keeps its own order. */
#define DOCTOR_OPT_CHALLENGE \
	{"challenge", 0, "CHALLENGE", "which validation to check: auto (default: HTTP-01 and DNS-01, as each name allows), http-01, dns-01 or tls-alpn-01", K_DOC_CHALLENGE}
#define DOCTOR_OPT_STORE \
	{"store", 0, "DIR", "the folder of the --from client's store (default: the client's own)", K_DOC_STORE}
#define DOCTOR_OPT_PROFILE \
	{"ca-profile", 0, "PROFILE", "whose HTTP-01 / TLS-ALPN-01 validation to emulate: letsencrypt (default), pebble, rfc8555", K_DOC_PROFILE}
#define DOCTOR_OPT_CLIENT \
	{"client", 0, "CLIENT", "judge the client's own checks as CLIENT does: cert-manager, lego, certbot, acme.sh, or none (the CA's view alone); default: as cert-manager and lego", K_DOC_CLIENT}
#define DOCTOR_OPT_CA_DOMAIN \
	{"ca-domain", 0, "DOMAIN", "CA issuer domain for CAA (default: the directory's caaIdentities)", K_DOC_CA_DOMAIN}
#define DOCTOR_OPT_EXPECT \
	{"expect", 0, "VALUE", "a TXT value every DNS server must have; repeatable", K_DOC_EXPECT}
#define DOCTOR_OPT_FILE \
	{"file", 'f', "FILE", "read names from FILE, one a line (# comments; - for standard input)", K_DOC_FILE}
#define DOCTOR_OPT_JOBS \
	{"jobs", 'j', "N", "names checked at once (1-10000; default 64, fewer when descriptors are short)", K_DOC_JOBS}
#define DOCTOR_OPT_KUBECTL \
	{"from-kubectl", 0, "FILE", "cert-manager objects from 'kubectl get ... -o json' (- for standard input)", K_DOC_KUBECTL}

/* The groups both tools have, in the order of their --help. */
#define DOCTOR_OPTS_SESSION \
	DOCTOR_OPT_CHALLENGE, ACME_OPTS_TABLE, DOCTOR_OPT_STORE, DOCTOR_OPT_PROFILE, DOCTOR_OPT_CLIENT, \
	DOCTOR_OPT_CA_DOMAIN
#define DOCTOR_OPTS_NAMES DOCTOR_OPT_FILE, DOCTOR_OPT_JOBS, DOCTOR_OPT_KUBECTL

struct doctor_args {
	struct acme_opts acme;
	struct doctor_opts d;            /* d.expect, d.authz and d.ntp point at the lists below */
	const char *store, *file, *kubectl;
	const char *expect[DOCTOR_LIST_MAX], *authz[DOCTOR_LIST_MAX], *ntp[DOCTOR_LIST_MAX];
	long jobs;                       /* -j; 0: not given */
	const struct cli_tool *tool;
};

void doctor_args_init(struct doctor_args *a, const struct cli_tool *t);
/*
 * doctor_args_init(), then the options of t (whose handler has a among
 * its context), then the names given as arguments (from *first on): a
 * typo is a usage error. Returns -1 to go on, or the exit status (0 after
 * --help or --version, 2 on a usage error, printed).
 */
int doctor_args_parse(struct doctor_args *a, const struct cli_tool *t, int argc, char **argv,
                      struct cli_common *c, int *first);
/* An option of the table above or of ACME_OPTS_TABLE: 1 handled, 0 not
 * ours, -1 on error (printed). */
int doctor_args_handle(struct doctor_args *a, int key, const char *arg);
/* Append arg to a repeatable option's list: 0, or -1 (printed) when full. */
int doctor_args_add(struct doctor_args *a, const char *opt, const char **list, size_t *n,
                    const char *arg);
/* A name given as an argument: a typo is a usage error. 0, or -1 (printed). */
int doctor_arg_name(const struct doctor_args *a, const char *name);

/* One name to check and where it came from. */
struct doctor_target {
	struct doctor_name n;  /* what the session checks */
	const char *object;    /* a cert-manager object, "namespace/name"; NULL if none */
};

struct doctor_names {
	char **v;        /* as checked: lowercase, no trailing dot, "*." kept */
	size_t n, cap;
};

/* Everything the checks need, made from the options. */
struct doctor_targets {
	struct doctor_target *v;         /* the names given, then those of the objects */
	const char **all;                /* their names, for a->d.domains */
	size_t n;
	struct diag_report *pre;         /* findings made before the checks (k8s.*, acme.store) */
	/* owned storage */
	struct doctor_names names;
	struct k8s_input kube;
	const char **expect1, **authz;   /* per object: its TXT value; every authorization */
	size_t nauthz;
	char *contact;
};

/*
 * The names (args, -f, --from-kubectl, each once), the account (given,
 * from a client's store or from the objects' Issuer), and a->d filled
 * from them and the common options (domains, resolvers, timeout, the
 * directory: Let's Encrypt's unless given). tool_name names the report of
 * pre. Returns 0, or the exit status after printing why (2: usage or
 * unreadable input, 3: out of memory). Free with doctor_targets_free()
 * either way; a->d points into it until then.
 */
int doctor_targets_load(struct doctor_args *a, const struct cli_common *c, char **args,
                        size_t nargs, struct doctor_targets *out);
void doctor_targets_free(struct doctor_targets *t);

/* Names at once: what was asked (0: the default, 64), within the file
 * descriptors this process may open (raised to the hard limit first), so
 * that a batch never meets EMFILE. */
size_t doctor_jobs(const struct cli_tool *t, long asked, size_t names);

#endif
