/* SPDX-License-Identifier: ISC */
/* cli.c - option table, generated --help, common options, rendering. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

enum {
	K_NS = 1000, K_TIMEOUT, K_JSON, K_STRICT, K_NOCOLOR, K_VERSION, K_HELP, K_FORMAT,
};

static const struct cli_opt common_opts[] = {
	{"ipv4", '4', NULL, "use IPv4 only", '4'},
	{"ipv6", '6', NULL, "use IPv6 only", '6'},
	{"ns", 0, "SERVER", "DNS server to use, repeatable: IP, IP:PORT, [IPv6]:PORT or a host name", K_NS},
	{"timeout", 0, "SECONDS", "timeout of each query or connection, 0.1 to 300", K_TIMEOUT},
	{"json", 0, NULL, "print one acme-diag/1 JSON document instead of text", K_JSON},
	{"format", 0, "FORMAT", "output: text (default), json or prometheus (OpenMetrics)", K_FORMAT},
	{"verbose", 'v', NULL, "show details and evidence of each finding", 'v'},
	{"quiet", 'q', NULL, "show only findings that are not ok", 'q'},
	{"strict", 0, NULL, "exit 1 on warnings too", K_STRICT},
	{"no-color", 0, NULL, "never colour the output (NO_COLOR is honoured too)", K_NOCOLOR},
	{"version", 0, NULL, "print the version and exit", K_VERSION},
	{"help", 'h', NULL, "print this help and exit", K_HELP},
	{0},
};

void cli_error(const struct cli_tool *t, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", t->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_is_http_url(const char *s)
{
	return !strncmp(s, "https://", 8) || !strncmp(s, "http://", 7);
}

int cli_url_arg(const struct cli_tool *t, const char *opt, const char *arg)
{
	if (!cli_is_http_url(arg)) {
		cli_error(t, "%s %s: expected an http:// or https:// URL", opt, arg);
		return -1;
	}
	for (const char *p = arg; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			cli_error(t, "%s: a URL has no spaces or control characters (write them %%-encoded)", opt);
			return -1;
		}
	/* the authority: [userinfo@]host[:port], up to the path, query or fragment */
	const char *a = strstr(arg, "://") + 3;
	size_t alen = strcspn(a, "/?#");
	char auth[300], host[256], err[160];
	if (alen >= sizeof(auth)) {
		cli_error(t, "%s %s: the host part is too long", opt, arg);
		return -1;
	}
	memcpy(auth, a, alen);
	auth[alen] = '\0';
	const char *at = strrchr(auth, '@');
	const char *hp = at ? at + 1 : auth;
	uint16_t port;
	if (!*hp) {
		cli_error(t, "%s %s: the URL names no host", opt, arg);
		return -1;
	}
	if (diag_hostport(hp, host, sizeof(host), &port, 443, err, sizeof(err)) ||
	    diag_host_check(host, err, sizeof(err))) {
		cli_error(t, "%s %s: host %s: %s", opt, arg, hp, err);
		return -1;
	}
	return 0;
}

int cli_tls_args(const struct cli_tool *t, const char *ca_bundle, int insecure)
{
	if (!ca_bundle || !insecure)
		return 0;
	cli_error(t, "--insecure and --ca-bundle exclude each other: --ca-bundle %s trusts that CA, "
	          "--insecure trusts any certificate; keep one", ca_bundle);
	return -1;
}

int cli_host_arg(const struct cli_tool *t, const char *opt, const char *arg)
{
	char host[256], err[160];
	uint16_t port;
	if (diag_hostport(arg, host, sizeof(host), &port, 123, err, sizeof(err)) ||
	    diag_host_check(host, err, sizeof(err))) {
		cli_error(t, "%s %s: %s", opt, arg, err);
		return -1;
	}
	return 0;
}

static int regular_file(const struct cli_tool *t, const char *opt, const char *path,
                        int stdin_ok)
{
	struct stat st;
	if (stat(path, &st)) {
		cli_error(t, "%s %s: %s", opt, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		cli_error(t, "%s %s: not a regular file but a %s; give the path of a file%s", opt, path,
		          S_ISDIR(st.st_mode) ? "directory" : S_ISFIFO(st.st_mode) ? "FIFO (a pipe)" :
		          S_ISSOCK(st.st_mode) ? "socket" : "device",
		          stdin_ok ? ", or - to read standard input" : "");
		return -1;
	}
	if (access(path, R_OK)) {
		cli_error(t, "%s %s: %s", opt, path, strerror(errno));
		return -1;
	}
	return 0;
}

int cli_file_arg(const struct cli_tool *t, const char *opt, const char *path)
{
	return regular_file(t, opt, path, 0);
}

int cli_input_arg(const struct cli_tool *t, const char *opt, const char *path)
{
	return strcmp(path, "-") ? regular_file(t, opt, path, 1) : 0;
}

struct bounded_read {
	FILE *f;
	size_t left;
	int over;
};

/* jansson's reader: at most b->left more bytes, then an error if more come. */
static size_t read_bounded(void *buf, size_t len, void *arg)
{
	struct bounded_read *b = arg;
	if (!b->left) {
		if (getc(b->f) == EOF)
			return 0;
		b->over = 1;
		return (size_t)-1;
	}
	size_t n = fread(buf, 1, len < b->left ? len : b->left, b->f);
	b->left -= n;
	return n;
}

json_t *cli_read_json(const struct cli_tool *t, const char *opt, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		cli_error(t, "%s %s: %s", opt, path, strerror(errno));
		return NULL;
	}
	struct bounded_read b = { f, CLI_MAX_JSON, 0 };
	json_error_t je;
	json_t *doc = json_load_callback(read_bounded, &b, JSON_REJECT_DUPLICATES, &je);
	int failed = ferror(f);
	if (f != stdin)
		fclose(f);
	if (b.over)
		cli_error(t, "%s %s: larger than %u MiB; ask kubectl for less (a namespace, -l SELECTOR)",
		          opt, path, CLI_MAX_JSON >> 20);
	else if (failed)
		cli_error(t, "%s %s: read error", opt, path);
	else if (!doc)
		cli_error(t, "%s %s: not JSON (line %d: %s)", opt, path, je.line, je.text);
	if (b.over || failed) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int cli_long(const struct cli_tool *t, const char *opt, const char *s,
             long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno) {
		cli_error(t, "%s %s: not a whole number", opt, s);
		return -1;
	}
	if (v < min || v > max) {
		cli_error(t, "%s %s: out of range (%ld-%ld)", opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int b64url_chars(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

int cli_token_arg(const struct cli_tool *t, const char *opt, const char *arg)
{
	if (*arg && strlen(arg) <= 80 && b64url_chars(arg))
		return 0;
	cli_error(t, "%s %s: expected 1-80 base64url characters (A-Z a-z 0-9 - _)", opt, arg);
	return -1;
}

int cli_keyauth_arg(const struct cli_tool *t, const char *opt, const char *arg)
{
	const char *dot = strchr(arg, '.');
	if (dot && dot != arg && dot[1] && strlen(arg) <= 200)
		return 0;
	cli_error(t, "%s %s: expected TOKEN.THUMBPRINT", opt, arg);
	return -1;
}

const char *cli_http01_token(const struct cli_tool *t, const char *token, const char *ka,
                             char *buf, size_t len, int *bad)
{
	*bad = 0;
	if (ka && token && (strncmp(ka, token, strlen(token)) || ka[strlen(token)] != '.')) {
		cli_error(t, "--key-authorization must start with the token given with --token");
		*bad = 1;
		return NULL;
	}
	if (token || !ka)
		return token;
	size_t n = (size_t)(strchr(ka, '.') - ka);
	if (n >= len) {
		cli_error(t, "--key-authorization: token part too long");
		*bad = 1;
		return NULL;
	}
	memcpy(buf, ka, n);
	buf[n] = '\0';
	return buf;
}

int cli_profile_arg(const struct cli_tool *t, const char *arg, enum http01_profile *out)
{
	if (!diag_http01_profile_parse(arg, out))
		return 0;
	cli_error(t, "--ca-profile %s: unknown profile (letsencrypt, pebble or rfc8555)", arg);
	return -1;
}

int cli_host_domain(const struct cli_tool *t, int argc, char **argv, int first,
                    char *out, size_t len)
{
	if (first >= argc) {
		cli_error(t, "give the DOMAIN to check");
		fprintf(stderr, "Try '%s --help'.\n", t->name);
		return -1;
	}
	if (first + 1 < argc) {
		cli_error(t, "%s: only one DOMAIN per run", argv[first + 1]);
		return -1;
	}
	char err[160];
	int wildcard = 0;
	if (diag_domain_normalize(argv[first], out, len, &wildcard, err, sizeof(err))) {
		cli_error(t, "%s: %s", argv[first], err);
		return -1;
	}
	if (wildcard) {
		cli_error(t, "%s: wildcard names can only be validated with DNS-01 (try acme-dnscheck)",
		          argv[first]);
		return -1;
	}
	return 0;
}

static int offered(const struct cli_tool *t, const struct cli_opt *o)
{
	return !(t->no_ns && o->key == K_NS) && !(t->no_json && o->key == K_JSON) &&
	       (o->key != K_FORMAT || t->prometheus);
}

static void print_opts(FILE *out, const struct cli_tool *t, const struct cli_opt *o)
{
	for (; o->name; o++) {
		if (!offered(t, o))
			continue;
		char help[256];
		snprintf(help, sizeof(help), "%s", o->help);
		if (o->key == K_TIMEOUT && t->bound_timeouts)
			snprintf(help, sizeof(help), "%s (default %g); a run ends within %d of them",
			         o->help, (t->default_timeout_ms ? t->default_timeout_ms : 5000) / 1000.0,
			         t->bound_timeouts);
		else if (o->key == K_TIMEOUT)
			snprintf(help, sizeof(help), "%s (default %g)", o->help,
			         (t->default_timeout_ms ? t->default_timeout_ms : 5000) / 1000.0);
		char left[64];
		if (o->shortopt)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shortopt, o->name,
			         o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
			         o->arg ? o->arg : "");
		if (strlen(left) >= 26)
			fprintf(out, "  %s\n  %-26s %s\n", left, "", help);
		else
			fprintf(out, "  %-26s %s\n", left, help);
	}
}

static void print_help(const struct cli_tool *t)
{
	printf("Usage: %s %s\n\n%s\n\nOptions:\n", t->name, t->synopsis, t->summary);
	print_opts(stdout, t, t->opts);
	printf("\nCommon options:\n");
	print_opts(stdout, t, common_opts);
	printf("\nExit status: 0 ok or warnings (1 with --strict), 1 a check failed,\n"
	       "2 usage error, 3 the checks could not run.\n");
	if (t->footer)
		printf("\n%s", t->footer);
	printf("\nSee %s(1).\n", t->name);
}

/* What a bug report needs: our version and the libraries' at run time. */
static void print_version(const struct cli_tool *t)
{
	char libs[256];
	diag_library_versions(libs, sizeof(libs));
	printf("%s (acme-diag) %s\n%s\n", t->name, DIAG_VERSION, libs);
}

static size_t count(const struct cli_opt *o)
{
	size_t n = 0;
	while (o[n].name)
		n++;
	return n;
}

/* getopt_long's tables from the common options and the tool's: lo (room
 * for all of them and the end) and shorts (already holding its prefix). */
static void getopt_tables(const struct cli_tool *t, struct option *lo, char *shorts)
{
	const struct cli_opt *tables[2] = {common_opts, t->opts};
	size_t k = 0;
	for (int ti = 0; ti < 2; ti++)
		for (const struct cli_opt *o = tables[ti]; o->name; o++) {
			if (!offered(t, o))
				continue;
			lo[k++] = (struct option){ o->name, o->arg ? required_argument : no_argument,
			                           NULL, o->key };
			if (o->shortopt) {
				size_t n = strlen(shorts);
				shorts[n] = (char)o->shortopt;
				shorts[n + 1] = o->arg ? ':' : '\0';
				shorts[n + 2] = '\0';
			}
		}
}

/* --timeout SECONDS into *ms; 0, or -1 after saying what is wrong. */
static int timeout_arg(const struct cli_tool *t, const char *arg, int *ms)
{
	/* digits with at most one '.': strtod alone takes " 5", "0x10", "1e1"
	 * and "inf" */
	size_t ip = strspn(arg, "0123456789"), fp = 0;
	if (arg[ip] == '.')
		fp = 1 + strspn(arg + ip + 1, "0123456789");
	char *end;
	errno = 0;
	double s = strtod(arg, &end);
	if (arg[ip + fp] || ip + fp == 0 || (ip == 0 && fp == 1) || *end || errno) {
		cli_error(t, "--timeout %s: not a number of seconds", arg);
		return -1;
	}
	if (s < 0.1 || s > 300) {
		cli_error(t, "--timeout %s: out of range (0.1-300 seconds)", arg);
		return -1;
	}
	*ms = (int)(s * 1000);
	return 0;
}

/* --format text|json|prometheus as 't', 'j' or 'p'; 0, or -1 after saying
 * what it takes. */
static int format_arg(const struct cli_tool *t, const char *arg, int *format)
{
	static const char *const names[] = {"text", "json", "prometheus"};
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(arg, names[i])) {
			*format = names[i][0];
			return 0;
		}
	cli_error(t, "--format %s: expected text, json or prometheus", arg);
	return -1;
}

/* The --ns texts into c->ns, once the address family is known; 0, or -1
 * after saying which one is wrong. */
static int ns_args(const struct cli_tool *t, struct cli_common *c, const char *const *raw, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char err[160];
		if (diag_server_parse(raw[i], c->family, &c->ns[c->nns], err, sizeof(err))) {
			cli_error(t, "--ns %s: %s", raw[i], err);
			return -1;
		}
		/* the same server twice (1.2.3.4 and 1.2.3.4:53) is asked once */
		size_t seen = 0;
		while (seen < c->nns && strcmp(c->ns[seen].label, c->ns[c->nns].label))
			seen++;
		if (seen == c->nns)
			c->nns++;
	}
	return 0;
}

int cli_parse(const struct cli_tool *t, int argc, char **argv,
              struct cli_common *c, int *optind_out)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = t->default_timeout_ms ? t->default_timeout_ms : 5000;
	size_t nt = count(t->opts), nc = count(common_opts);
	struct option *lo = calloc(nt + nc + 1, sizeof(*lo));
	/* leading ':' reports a missing argument as ':'; '-' first returns
	 * operands in order, as key 1 */
	char shorts[128] = ":";
	if (t->operands_in_order)
		snprintf(shorts, sizeof(shorts), "-:");
	const char *ns_raw[CLI_MAX_NS];
	size_t nns = 0;
	int ret = -1, format = 0;  /* --format: 0 not given, 't', 'j', 'p' */
	if (!lo) {
		cli_error(t, "out of memory");
		return -1;
	}
	getopt_tables(t, lo, shorts);
	opterr = 0;
	/* 0, not 1: glibc's full reset. A parse that stopped inside "-vx"
	 * leaves getopt pointing into that argv; a tool's main may run again
	 * in one process (fuzz/fuzz_args.c). */
	optind = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		switch (ch) {
		case '4': c->family = c->family == 6 ? -1 : 4; break;
		case '6': c->family = c->family == 4 ? -1 : 6; break;
		case 'v': c->verbose++; break;
		case 'q': c->quiet = 1; break;
		case K_JSON: c->json = 1; break;
		case K_FORMAT:
			if (format_arg(t, optarg, &format))
				goto out;
			break;
		case K_STRICT: c->strict = 1; break;
		case K_NOCOLOR: c->no_color = 1; break;
		case K_HELP: print_help(t); ret = 1; goto out;
		case K_VERSION: print_version(t); ret = 1; goto out;
		case K_NS: {
			size_t seen = 0;
			while (seen < nns && strcmp(ns_raw[seen], optarg))
				seen++;
			if (seen < nns)
				break;  /* the same text again: asked once */
			if (nns == CLI_MAX_NS) {
				cli_error(t, "--ns: at most %d servers", CLI_MAX_NS);
				goto out;
			}
			ns_raw[nns++] = optarg;
			break;
		}
		case K_TIMEOUT:
			if (timeout_arg(t, optarg, &c->timeout_ms))
				goto out;
			break;
		case '?':
			if (optopt && optopt < 256)
				cli_error(t, "-%c: unknown option", optopt);
			else
				cli_error(t, "%s: unknown option", argv[optind - 1]);
			fprintf(stderr, "Try '%s --help'.\n", t->name);
			goto out;
		case ':':
			cli_error(t, "%s: needs an argument", argv[optind - 1]);
			goto out;
		default:
			if (t->handle(t->ctx, ch, optarg))
				goto out;
		}
	}
	if (c->family < 0) {
		cli_error(t, "-4 and -6 exclude each other");
		goto out;
	}
	if (c->quiet && c->verbose) {
		cli_error(t, "-q and -v exclude each other");
		goto out;
	}
	if (c->json && format && format != 'j') {
		cli_error(t, "--json and --format exclude each other (--json is --format json)");
		goto out;
	}
	c->json |= format == 'j';
	c->prometheus = format == 'p';
	if (ns_args(t, c, ns_raw, nns))
		goto out;
	*optind_out = optind;
	ret = 0;
out:
	free(lo);
	return ret;
}

struct diag_render_opts cli_render_opts(const struct cli_common *c)
{
	const char *nc = getenv("NO_COLOR");
	return (struct diag_render_opts){
		.verbose = c->verbose, .quiet = c->quiet,
		.color = !c->no_color && !(nc && *nc) && isatty(STDOUT_FILENO),
	};
}

int cli_print(const struct cli_tool *t, const char *s)
{
	if (!s || fputs(s, stdout) < 0 || fflush(stdout)) {
		cli_error(t, "writing output: %s", s ? strerror(errno) : "out of memory");
		return -1;
	}
	return 0;
}

int cli_finish(const struct cli_tool *t, const struct cli_common *c,
               struct diag_report *r)
{
	diag_report_finish(r);
	char *s;
	if (c->prometheus) {
		struct diag_metrics *m = diag_metrics_new();
		s = m && !diag_metrics_add_report(m, r, 1) &&
		    (!c->metrics_more || !c->metrics_more(r, m, c->metrics_arg)) ? diag_metrics_text(m) : NULL;
		diag_metrics_free(m);
	} else if (c->json) {
		json_t *doc = diag_report_json(r);
		char *d = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		s = d ? diag_asprintf("%s\n", d) : NULL;
		free(d);
		json_decref(doc);
	} else {
		struct diag_render_opts o = cli_render_opts(c);
		s = diag_render_text(r, &o);
	}
	int rc = cli_print(t, s);
	free(s);
	return rc ? DIAG_EXIT_ERROR : diag_exit_status(diag_verdict(r), c->strict);
}

int cli_run(const struct cli_tool *t, const struct cli_common *c, const char *target,
            int (*probe)(const void *opts, struct diag_report *r), const void *opts)
{
	if (CLI_OPTIONS_ONLY)
		return DIAG_EXIT_OK;
	struct diag_report *r = diag_report_new(t->name, DIAG_VERSION, target);
	if (!r) {
		cli_error(t, "out of memory");
		return DIAG_EXIT_ERROR;
	}
	if (t->bound_timeouts)
		diag_probe_set_bound((int64_t)t->bound_timeouts * c->timeout_ms + t->bound_extra_ms);
	probe(opts, r);
	int rc = cli_finish(t, c, r);
	diag_report_free(r);
	return rc;
}
