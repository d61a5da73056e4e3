/* SPDX-License-Identifier: ISC */
/*
 * model.h - acme-dash's model: the names, what each run of their checks
 * found, a cell per area, and a timeline of what changed between runs.
 *
 * The probes update it (a finding at a time, through the report observer);
 * the screen and --once read it. Nothing here knows about a terminal, so
 * the unit tests drive it with findings and read rows, cells and timelines.
 *
 * A run of a row: dash_model_begin() marks what the row holds as stale;
 * each finding that arrives replaces the stale finding it matches (same
 * id and target) or is new; dash_model_end() drops what was not found
 * again. So a row always shows its newest answers, old ones until the new
 * ones come, and a change shows the moment its finding arrives. Changes
 * between two runs (a status, or what a finding says) go to the row's
 * timeline. The shared row (DASH_SHARED) holds what every name shares: the
 * resolver audit, the ACME server and account, the clock.
 */
#ifndef ACME_DASH_MODEL_H
#define ACME_DASH_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

enum dash_area {
	DASH_DNS01 = 0, DASH_HTTP01, DASH_ACME, DASH_CLOCK, DASH_RESOLVERS, DASH_K8S, DASH_OTHER,
	DASH_NAREAS,
};

/* "DNS-01", "HTTP-01", "ACME", "clock", "resolvers", "cert-manager", "other" */
const char *dash_area_name(enum dash_area a);
/* The area of a finding (diag_doctor_area, with "capture" as other). */
enum dash_area dash_area_of(const struct diag_finding *f);

#define DASH_SHARED ((size_t)-1)  /* the row of what every name shares */
#define DASH_NONE ((size_t)-2)    /* no such row */
#define DASH_TIMELINE_MAX 200     /* events kept per row (the oldest go) */

struct dash_finding {
	struct diag_finding f;    /* a copy the model owns */
	enum dash_area area;
	int64_t seen_ms;          /* monotonic ms of its arrival */
	int stale;                /* from the previous run, not found again yet */
	int keep;                 /* made before any check (cert-manager objects, the account
	                             store): never stale */
};

struct dash_event {
	int64_t wall_ms;          /* when the change was seen */
	enum diag_status status;  /* what it changed to */
	char *text;               /* "ok->warn dns.auth.serial wait.test: serials differ..." */
};

enum dash_state { DASH_IDLE = 0, DASH_QUEUED, DASH_RUNNING };

struct dash_row {
	char *name;               /* NULL for the shared row */
	char *object;             /* the cert-manager object it came from, NULL if none */
	size_t order;             /* position as given */
	struct dash_finding **v;  /* newest answers, in arrival order */
	size_t n, cap;
	struct dash_event *tl;    /* oldest first */
	size_t ntl, captl;
	enum dash_state state;
	unsigned run;             /* the current (or last) run */
	unsigned runs;            /* runs ended */
	int64_t started_ms, ended_ms;  /* monotonic; ended_ms 0: never ended */
	enum diag_status own;     /* worst of its own findings (skip: none) */
	enum diag_status last;    /* own, when the last run ended */
};

struct dash_model {
	struct dash_row *rows;    /* the names, in the order given */
	size_t n, cap;
	struct dash_row shared;
	size_t *hash, hcap;       /* (name, object) -> row; hcap a power of two */
	unsigned next_run;
	unsigned long version;    /* moves at every change: the screen redraws on it */
};

void dash_model_init(struct dash_model *m);
void dash_model_free(struct dash_model *m);

/* Add a name (object may be NULL). 0, or -1 when out of memory. */
int dash_model_add(struct dash_model *m, const char *name, const char *object);
/* The row of (name, object), or DASH_NONE. */
size_t dash_model_find(const struct dash_model *m, const char *name, const char *object);
/* Row idx, or the shared row for DASH_SHARED. */
struct dash_row *dash_model_row(struct dash_model *m, size_t idx);
const struct dash_row *dash_model_crow(const struct dash_model *m, size_t idx);

/* A run of row idx is waiting for its turn. */
void dash_model_queue(struct dash_model *m, size_t idx);
/* A run of row idx starts; returns its id, for the findings it brings. */
unsigned dash_model_begin(struct dash_model *m, size_t idx, int64_t now_ms);
/*
 * A finding of run `run` of row idx (a copy is kept). Returns 1 when it
 * changed the model, 0 when ignored (an older run's: a newer one has
 * begun), -1 when out of memory. now_ms monotonic, wall_ms for the
 * timeline.
 */
int dash_model_finding(struct dash_model *m, size_t idx, unsigned run,
                       const struct diag_finding *f, int64_t now_ms, int64_t wall_ms);
/* The run has ended: what it did not find again goes. Ignored for any
 * other run than the row's current one. */
void dash_model_end(struct dash_model *m, size_t idx, unsigned run, int64_t now_ms,
                    int64_t wall_ms);
/*
 * A finding made before any check (cert-manager objects, the account
 * store): kept for good, in the row of its name, else in the rows of its
 * object, else in the shared row. 0, or -1 when out of memory.
 */
int dash_model_keep(struct dash_model *m, const struct diag_finding *f, int64_t now_ms);

/* Nothing found yet for the row (never run to any finding). */
int dash_row_pending(const struct dash_model *m, size_t idx);
/* The row's status: the worst of its findings and of the shared ones
 * (the shared row: its own). DIAG_SKIP when it has none yet. */
enum diag_status dash_row_status(const struct dash_model *m, size_t idx);
/* A run is queued or in flight for the row. */
int dash_row_busy(const struct dash_model *m, size_t idx);

struct dash_cell {
	int has;                           /* findings in the area */
	enum diag_status status;           /* the worst of them (skip when all skip) */
	const struct dash_finding *worst;  /* the first with that status */
	size_t n;                          /* findings in the area */
	int pending;                       /* a run is on its way and has not answered
	                                      all of the area (again) yet: the first
	                                      run until it ends */
	int txt_auth, txt_have;            /* DNS-01: authoritative servers asked for the TXT,
	                                      and those that have one (the expected value,
	                                      with --expect) */
	int64_t seen_ms;                   /* the newest arrival in the area */
};

/* The cell of row idx for area a: a name's own areas, the shared row's
 * for ACME and clock. */
void dash_model_cell(const struct dash_model *m, size_t idx, enum dash_area a,
                     struct dash_cell *out);

enum dash_sort { DASH_SORT_STATUS = 0, DASH_SORT_NAME, DASH_SORT_AGE, DASH_NSORTS };
const char *dash_sort_name(enum dash_sort s);  /* "status", "name", "age" */

struct dash_query {
	const char *filter;  /* names containing it (case-insensitive); NULL or "": all */
	int nonok;           /* only rows whose status is warn, fail or error */
	enum dash_sort sort; /* status: worst first; name; age: oldest answer first */
};

/* The rows to show, in order, into out (room for m->n). Returns how many. */
size_t dash_model_visible(const struct dash_model *m, const struct dash_query *q,
                          size_t *out);

/* The findings of row idx, worst first (area order, then arrival within
 * a status), followed for a name by the shared findings that are not ok
 * (from position dash_model_crow(m, idx)->n on). out has room for max.
 * Returns how many. */
size_t dash_model_findings(const struct dash_model *m, size_t idx,
                           const struct dash_finding **out, size_t max);
/* How many dash_model_findings() can return. */
size_t dash_model_nfindings(const struct dash_model *m, size_t idx);

/* The root causes for row idx (its findings and the shared ones), as
 * acme-doctor gives them. NULL when out of memory; diag_diagnosis_free(). */
struct diag_diagnosis *dash_model_diagnose(const struct dash_model *m, size_t idx);

struct dash_counts {
	size_t status[DIAG_ERROR + 1];  /* names per status */
	size_t pending;                 /* names with nothing found yet */
	size_t running, queued;         /* runs in flight, waiting */
};
void dash_model_counts(const struct dash_model *m, struct dash_counts *c);

/* The newest answer of a row (monotonic ms), 0 if none. */
int64_t dash_row_age_base(const struct dash_model *m, size_t idx);

#endif
