/* SPDX-License-Identifier: ISC */
/*
 * cli.h - what every acme-diag tool shares: the option table and --help
 * generated from it, the common options, and rendering a report to
 * stdout with the exit status contract. Tool side only: libdiag never
 * prints.
 */
#ifndef ACME_DIAG_CLI_H
#define ACME_DIAG_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "diag.h"

#define CLI_MAX_NS 256

struct cli_opt {
	const char *name;   /* long name without "--" */
	int shortopt;       /* 0 if none */
	const char *arg;    /* metavariable, NULL for a flag */
	const char *help;
	int key;            /* passed to the tool's handler; >= 256 or shortopt */
};

struct cli_common {
	int family;                          /* 0 both, 4, 6 */
	struct diag_server ns[CLI_MAX_NS];   /* --ns, parsed after every option */
	size_t nns;
	int timeout_ms;                      /* --timeout, default 5000 */
	int json, verbose, quiet, strict, no_color;
	/* --format prometheus (tools with cli_tool.prometheus): cli_finish
	 * prints OpenMetrics, the report's series (diag_metrics_add_report by
	 * target) and what metrics_more adds (set by the tool; NULL: nothing) */
	int prometheus;
	int (*metrics_more)(const struct diag_report *r, struct diag_metrics *m, const void *arg);
	const void *metrics_arg;
};

struct cli_tool {
	const char *name;       /* "acme-dnscheck" */
	const char *synopsis;   /* "[OPTIONS] [DOMAIN]" */
	const char *summary;    /* one paragraph for --help */
	const char *footer;     /* examples for --help, may be NULL */
	const struct cli_opt *opts;  /* tool options, ended by {0} */
	/* Returns 0, or -1 after calling cli_error(). */
	int (*handle)(void *ctx, int key, const char *arg);
	void *ctx;
	int default_timeout_ms;  /* --timeout when not given; 0: 5000 */
	int no_ns;               /* 1: the tool resolves no names itself; no --ns */
	int no_json;             /* 1: the tool's output is not a report; no --json */
	int prometheus;          /* 1: --format text|json|prometheus is offered */
	/* The run's time bound: bound_timeouts times --timeout, plus
	 * bound_extra_ms (a --wait); past it the checks stop with an error
	 * finding (diag_probe_set_bound). 0: no bound. */
	int bound_timeouts;
	int64_t bound_extra_ms;
	/* 1: operands reach handle() as key 1 where they stand among the
	 * options ("--from lego DIR --from acme.sh DIR"), not after them */
	int operands_in_order;
};

/* Returns 0 to go on (optind_out: first operand), 1 when --help or
 * --version was printed (exit 0), -1 on a usage error (printed; exit 2). */
int cli_parse(const struct cli_tool *t, int argc, char **argv,
              struct cli_common *c, int *optind_out);

/* "tool: fmt" on stderr. */
void cli_error(const struct cli_tool *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Is s an http:// or https:// URL? */
int cli_is_http_url(const char *s);
/* Option argument checks; print "tool: OPT ARG: why" and return -1, or 0. */
/* An http(s) URL whose host is an IP address or a host name. */
int cli_url_arg(const struct cli_tool *t, const char *opt, const char *arg);
/* --ca-bundle FILE with --insecure: one trusts a CA, the other trusts any
 * certificate; given both, say so (exit 2) rather than ignore one. */
int cli_tls_args(const struct cli_tool *t, const char *ca_bundle, int insecure);
/* HOST, HOST:PORT or [IPv6]:PORT, HOST an IP address or a host name. */
int cli_host_arg(const struct cli_tool *t, const char *opt, const char *arg);
/* A regular file the user can read: a FIFO, a device or a directory would
 * block the read forever or be misjudged, so they are refused (exit 2). */
int cli_file_arg(const struct cli_tool *t, const char *opt, const char *path);
/* The same for an input that may also be "-", standard input (the way to
 * give a pipe, which the refusal says). */
int cli_input_arg(const struct cli_tool *t, const char *opt, const char *path);

/* Read no more of a JSON input than this (kubectl's output for thousands
 * of objects is tens of MB). */
#define CLI_MAX_JSON (256u << 20)
/* The JSON document at path ("-": standard input) given with opt (duplicate
 * keys refused), at most CLI_MAX_JSON bytes, streamed to the parser; NULL
 * after saying why. The caller owns it (json_decref). */
json_t *cli_read_json(const struct cli_tool *t, const char *opt, const char *path);

/* An ACME token (1-80 base64url characters) / a key authorization
 * (TOKEN.THUMBPRINT): 0, or -1 after printing why. */
int cli_token_arg(const struct cli_tool *t, const char *opt, const char *arg);
int cli_keyauth_arg(const struct cli_tool *t, const char *opt, const char *arg);
/*
 * The HTTP-01 token and key authorization agree: ka must start with
 * "token."; without a token, it is taken from ka into buf. Returns the
 * token to use (NULL when neither is given), or NULL after printing why
 * (*bad set).
 */
const char *cli_http01_token(const struct cli_tool *t, const char *token, const char *ka,
                             char *buf, size_t len, int *bad);

/*
 * The one DOMAIN operand of a tool that connects to the name's addresses
 * (argv[first], the last operand): normalized into out (lowercase, no
 * trailing dot). Wildcards are refused: HTTP-01 and TLS-ALPN-01 cannot
 * validate them. 0, or -1 after printing why (exit 2).
 */
int cli_host_domain(const struct cli_tool *t, int argc, char **argv, int first,
                    char *out, size_t len);

/* --ca-profile: letsencrypt, pebble or rfc8555 into out; 0, or -1 after
 * printing why. */
int cli_profile_arg(const struct cli_tool *t, const char *arg, enum http01_profile *out);

/* Integer option with a range; prints the error itself. */
int cli_long(const struct cli_tool *t, const char *opt, const char *s,
             long min, long max, long *out);

/*
 * Built for fuzz/fuzz_args.c (-DDIAG_FUZZ_ARGS), a tool reads and checks
 * its options and input files as usual, then stops where its checks would
 * start (cli_run, acme-doctor's run): no probe, no output file, no network.
 */
#ifdef DIAG_FUZZ_ARGS
#define CLI_OPTIONS_ONLY 1
#else
#define CLI_OPTIONS_ONLY 0
#endif

/*
 * Make a report about target, run probe(opts, report), print it and free
 * it; returns the exit status (3 when out of memory; 0 without running
 * anything when CLI_OPTIONS_ONLY).
 */
int cli_run(const struct cli_tool *t, const struct cli_common *c, const char *target,
            int (*probe)(const void *opts, struct diag_report *r), const void *opts);

/* Text rendering options from the common options (colour only on a
 * terminal, never with NO_COLOR or --no-color). */
struct diag_render_opts cli_render_opts(const struct cli_common *c);
/* Write s to stdout; 0, or -1 after printing the error. */
int cli_print(const struct cli_tool *t, const char *s);

/* Print the report (text or JSON) and return the exit status. */
int cli_finish(const struct cli_tool *t, const struct cli_common *c,
               struct diag_report *r);

#endif
