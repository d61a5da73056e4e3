/* SPDX-License-Identifier: ISC */
/*
 * run.h - acme-doctor's run: names scheduled on one session (at most
 * `jobs` in flight), and every output format, streamed a name at a time
 * where the format allows it (jsonl, junit, github, tap) and whole at the
 * end where it does not (text, json).
 */
#ifndef ACME_DOCTOR_RUN_H
#define ACME_DOCTOR_RUN_H

#include <stdio.h>

#include "common/cli.h"
#include "diag/doctor.h"

enum out_format { OUT_TEXT = 0, OUT_JSON, OUT_JSONL, OUT_JUNIT, OUT_GITHUB, OUT_TAP };

/* "text", "json", ... -> 0 and the value; -1 if unknown. */
int out_format_parse(const char *s, enum out_format *out);

struct doctor_target {
	struct doctor_name n;  /* what the session checks */
	const char *object;    /* a cert-manager object, "namespace/name"; NULL if none */
};

struct doctor_run {
	const struct cli_tool *tool;
	const struct cli_common *c;
	struct doctor_opts *o;           /* o->domains and ndomains: the targets' names */
	const struct doctor_target *targets;
	size_t ntargets;
	enum out_format format;
	enum diag_status fail_from;      /* the verdict that fails the run (exit 1/3) */
	size_t jobs;                     /* names in flight */
	FILE *junit;                     /* --junit FILE, or NULL */
	FILE *json;                      /* --json-file FILE, or NULL */
	int progress;                    /* progress line on stderr */
	struct diag_report *pre;         /* findings made before the run (acme.store); moved in */
};

/* Run it all and print; returns the exit status. */
int doctor_run(struct doctor_run *run);

#endif
