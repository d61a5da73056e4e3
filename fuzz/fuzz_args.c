/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the option parsing of every tool, argv from the
 * fuzzer. Each tools/acme-*.c is built with its main renamed
 * (-Dmain=fuzz_main_acme_doctor, ...) and -DDIAG_FUZZ_ARGS, which stops a
 * tool where its checks would start (CLI_OPTIONS_ONLY in tools/common/cli.h):
 * everything before that runs as it does for a user, the tool's own
 * handler, the checks main makes after cli_parse() and the input files it
 * reads. The exit status must be 0, 1, 2 or 3; a crash, a leak or a hang
 * is a finding.
 *
 * Input: byte 0 chooses the tool (argv[0]); the rest, cut at NUL bytes, is
 * at most MAX_ARGS arguments. The process runs in a network namespace of
 * its own (--ns with a host name resolves while the options are read), in
 * a directory made at start (its working directory during a run) with a few files the arguments can name: a key
 * (key.pem, key.json), a capture (cap.jsonl), a names list (names), cert-
 * manager objects (k8s.json), a FIFO (fifo) and a directory (dir).
 * Standard input is /dev/null ("-").
 */
#include "isolate.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "diag.h"

#define MAX_ARGS 16

int fuzz_main_acme_doctor(int argc, char **argv);
int fuzz_main_acme_dnscheck(int argc, char **argv);
int fuzz_main_acme_httpcheck(int argc, char **argv);
int fuzz_main_acme_clock(int argc, char **argv);
int fuzz_main_acme_account(int argc, char **argv);
int fuzz_main_acme_authz(int argc, char **argv);
int fuzz_main_acme_jwslint(int argc, char **argv);
int fuzz_main_acme_revcheck(int argc, char **argv);
int fuzz_main_acme_certcheck(int argc, char **argv);
int fuzz_main_acme_alpncheck(int argc, char **argv);
int fuzz_main_acme_dash(int argc, char **argv);
int fuzz_main_acme_ratelimit(int argc, char **argv);

/* Byte 0 modulo the count picks the tool: the corpus's inputs start with
 * their tool's index (0 acme-doctor ... 11 acme-ratelimit), so new tools
 * go at the end. */

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
} tools[] = {
	{"acme-doctor", fuzz_main_acme_doctor},
	{"acme-dnscheck", fuzz_main_acme_dnscheck},
	{"acme-httpcheck", fuzz_main_acme_httpcheck},
	{"acme-clock", fuzz_main_acme_clock},
	{"acme-account", fuzz_main_acme_account},
	{"acme-authz", fuzz_main_acme_authz},
	{"acme-jwslint", fuzz_main_acme_jwslint},
	{"acme-revcheck", fuzz_main_acme_revcheck},
	{"acme-certcheck", fuzz_main_acme_certcheck},
	{"acme-alpncheck", fuzz_main_acme_alpncheck},
	{"acme-dash", fuzz_main_acme_dash},
	{"acme-ratelimit", fuzz_main_acme_ratelimit},
};
#define NTOOLS (sizeof(tools) / sizeof(tools[0]))

/* The working directory: the fixtures' during a run (libFuzzer's
 * otherwise: its corpus paths are relative). */
static int here = -1, fixtures = -1;

static char fixtures_dir[] = "/tmp/fuzz_args.XXXXXX";
static const char *const fixture_names[] = {"key.pem", "key.json", "cap.jsonl", "names", "k8s.json",
                                            "fifo", "dir"};

static void remove_fixtures(void)
{
	for (size_t i = 0; i < sizeof(fixture_names) / sizeof(fixture_names[0]); i++)
		unlinkat(fixtures, fixture_names[i], i + 1 == sizeof(fixture_names) / sizeof(fixture_names[0])
		         ? AT_REMOVEDIR : 0);
	rmdir(fixtures_dir);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

/* An EC P-256 account key as a PEM file and as a private JWK. */
static void write_keys(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	BIGNUM *d = NULL;
	unsigned char raw[32];
	char d64[64], err[300];
	struct acme_key k;
	FILE *f = fopen("key.pem", "w");
	if (!pk || !f || !PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) || fclose(f) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) ||
	    BN_bn2binpad(d, raw, sizeof(raw)) != (int)sizeof(raw) ||
	    acme_key_load("key.pem", &k, err, sizeof(err)))
		abort();
	diag_b64url(raw, sizeof(raw), d64);
	json_t *jwk = json_deep_copy(k.jwk);
	char *s = jwk && !json_object_set_new(jwk, "d", json_string(d64)) ? json_dumps(jwk, 0) : NULL;
	if (!s)
		abort();
	put("key.json", s);
	free(s);
	json_decref(jwk);
	acme_key_free(&k);
	BN_free(d);
	EVP_PKEY_free(pk);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_isolate();
	if (!mkdtemp(fixtures_dir) || (here = open(".", O_RDONLY | O_DIRECTORY)) < 0 ||
	    chdir(fixtures_dir) || (fixtures = open(".", O_RDONLY | O_DIRECTORY)) < 0 ||
	    atexit(remove_fixtures))
		abort();
	write_keys();
	put("cap.jsonl", "{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"\"}\n");
	put("names", "example.com\n# a comment\n*.example.com\n");
	put("k8s.json", "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[]}\n");
	if (mkfifo("fifo", 0600) || mkdir("dir", 0700))
		abort();
	if (!freopen("/dev/null", "r", stdin) || fchdir(here))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *argv[MAX_ARGS + 2] = {0};
	int argc = 0;
	argv[argc++] = strdup(tools[data[0] % NTOOLS].name);
	/* each argument a separate allocation: an overread is seen */
	for (size_t i = 1, start = 1; i <= size && argc <= MAX_ARGS; i++) {
		if (i < size && data[i])
			continue;
		if (i > start || i < size) {
			argv[argc] = malloc(i - start + 1);
			if (!argv[argc])
				abort();
			memcpy(argv[argc], data + start, i - start);
			argv[argc++][i - start] = '\0';
		}
		start = i + 1;
	}
	char *given[MAX_ARGS + 2];
	memcpy(given, argv, sizeof(argv));  /* getopt_long permutes argv */
	optind = 0;  /* glibc's full reset (cli_parse does it too) */
	if (fchdir(fixtures))
		abort();
	int rc = tools[data[0] % NTOOLS].main(argc, argv);
	if (rc < 0 || rc > 3 || fchdir(here))
		abort();
	for (int i = 0; i < argc; i++)
		free(given[i]);
	return 0;
}
