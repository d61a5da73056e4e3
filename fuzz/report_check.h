/* SPDX-License-Identifier: ISC */
/*
 * report_check.h - the property every fuzz target asserts of the report it
 * made (include after diag.h; each target is one file, so the functions are
 * static):
 *   - the acme-diag/1 JSON document is made, parses back, and its .checks
 *     holds one entry per finding, in order, with the finding's status;
 *   - the text rendering (verbose) has one status line per finding, in order;
 *   - the diagnosis covers every finding that is not ok: each one that is
 *     warn, fail or error is a cause or is explained by exactly one.
 * A violation is a crash (abort), which is what libFuzzer reports.
 */
#ifndef FUZZ_REPORT_CHECK_H
#define FUZZ_REPORT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

/* The status a text line starts with ("fail  dns.caa ..."), or -1 for the
 * other lines (detail, hint, evidence, verdict). */
static int report_line_status(const char *s)
{
	for (int st = DIAG_SKIP; st <= DIAG_ERROR; st++) {
		const char *w = diag_status_name((enum diag_status)st);
		size_t n = strlen(w);
		if (!strncmp(s, w, n)) {
			/* the word is padded to 5 columns, then a space */
			size_t k = n;
			while (k < 6 && s[k] == ' ')
				k++;
			if (k == 6)
				return st;
		}
	}
	return -1;
}

static void report_check_json(const struct diag_report *r)
{
	json_t *doc = diag_report_json(r);
	char *js = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_t *back = js ? json_loads(js, 0, NULL) : NULL;
	json_t *checks = json_object_get(back, "checks");
	if (!doc || !js || !back || !json_is_array(checks) || json_array_size(checks) != r->n)
		abort();
	for (size_t i = 0; i < r->n; i++) {
		const char *st = json_string_value(json_object_get(json_array_get(checks, i), "status"));
		if (!st || strcmp(st, diag_status_name(r->v[i]->status)))
			abort();
	}
	json_decref(back);
	free(js);
	json_decref(doc);
}

static void report_check_text(const struct diag_report *r)
{
	struct diag_render_opts o = { .verbose = 1 };
	char *text = diag_render_text(r, &o);
	if (!text)
		abort();
	size_t lines = 0;
	for (const char *p = text; *p; ) {
		int st = report_line_status(p);
		if (st >= 0 && (lines >= r->n || st != (int)r->v[lines]->status))
			abort();
		lines += st >= 0;
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : p + strlen(p);
	}
	if (lines != r->n)
		abort();
	if (getenv("FUZZ_SHOW_REPORT"))  /* to see what an input does: FUZZ_SHOW_REPORT=1 target FILE */
		fputs(text, stderr);
	free(text);
}

static int report_ptr_cmp(const void *a, const void *b)
{
	const void *x = *(const void *const *)a, *y = *(const void *const *)b;
	return x < y ? -1 : x > y;
}

static void report_check_diagnosis(const struct diag_report *r)
{
	struct diag_diagnosis *d = diag_diagnose(r);
	if (!d)
		abort();
	size_t covered = 0, bad = 0, k = 0;
	for (size_t i = 0; i < d->n; i++)
		covered += 1 + d->v[i].nexplains;
	for (size_t i = 0; i < r->n; i++)
		bad += r->v[i]->status >= DIAG_WARN;
	if (covered != bad)
		abort();
	/* each one once, and only those that are not ok */
	const struct diag_finding **all = malloc((covered ? covered : 1) * sizeof(*all));
	if (!all)
		abort();
	for (size_t i = 0; i < d->n; i++) {
		all[k++] = d->v[i].root;
		for (size_t j = 0; j < d->v[i].nexplains; j++)
			all[k++] = d->v[i].explains[j];
	}
	qsort(all, covered, sizeof(*all), report_ptr_cmp);
	for (size_t i = 0; i < covered; i++)
		if (all[i]->status < DIAG_WARN || (i > 0 && all[i] == all[i - 1]))
			abort();
	free(all);
	diag_diagnosis_free(d);
}

/* Finish r (its duration) and assert the property. */
static void report_check(struct diag_report *r)
{
	diag_report_finish(r);
	report_check_json(r);
	report_check_text(r);
	report_check_diagnosis(r);
}

#endif
