/* SPDX-License-Identifier: ISC */
/*
 * render.h - the two renderings of a report: human text and acme-diag/1 JSON.
 *
 * Both return newly allocated data; printing is the tool's job.
 */
#ifndef DIAG_RENDER_H
#define DIAG_RENDER_H

#include <jansson.h>

#include "diag/finding.h"

#define DIAG_JSON_SCHEMA "acme-diag/1"

struct diag_render_opts {
	int verbose;  /* 0 default; 1 adds detail and evidence */
	int quiet;    /* 1: only non-ok findings (the verdict line stays) */
	int color;    /* 1: ANSI colour (the tool decides: tty and no NO_COLOR) */
	/* optional: only findings for which filter returns 1 are shown (and
	 * set the column widths); the verdict still counts every finding */
	int (*filter)(const struct diag_finding *f, void *arg);
	void *filter_arg;
	int no_verdict; /* 1: no verdict line (a section of a longer output) */
};

/*
 * Text: one line per finding, status first; hint lines under non-ok
 * findings; the verdict line last. Returns a malloc'd string or NULL.
 */
char *diag_render_text(const struct diag_report *r,
                       const struct diag_render_opts *o);

/* Only the verdict line, counted over every finding. */
char *diag_render_verdict(const struct diag_report *r, const struct diag_render_opts *o);

/*
 * The acme-diag/1 document:
 * {"schema","tool","version","target","started_at","duration_ms",
 *  "verdict","checks":[{id,target,status,summary,detail,hint,evidence,
 *  duration_ms[,domain][,object]}]}. detail/hint are null when unset;
 * domain and object are there only for findings added through a view that
 * names them. New
 * reference, or NULL when out of memory (never a document that lacks a
 * finding).
 */
json_t *diag_report_json(const struct diag_report *r);

/* RFC 3339 UTC with milliseconds, e.g. 2026-11-22T09:00:00.123Z. */
void diag_rfc3339(int64_t wall_ms, char buf[32]);

#endif
