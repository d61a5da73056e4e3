/* SPDX-License-Identifier: ISC */
/*
 * run.h - acme-dash's checks on the loop, into the model.
 *
 * Names run in rounds: a round is a doctor session of its own (the
 * resolver audit, the directory, the clock, the account) and a check per
 * name on it. A session's DNS engine keeps answers, and a server that
 * timed out, for its whole life (that is what makes a batch cheap); a
 * dashboard must see a TXT that reached the second nameserver a minute
 * ago, so every run of a name is on a fresh session. Names that come due
 * together share one. Findings reach the model through the round's report
 * observer, flushed at the end of every loop turn; a finished round is
 * freed by dash_run_reap(), outside the loop's callbacks.
 */
#ifndef ACME_DASH_RUN_H
#define ACME_DASH_RUN_H

#include <stddef.h>

#include "common/doctoropts.h"
#include "dash/model.h"

struct dash_run;

struct dash_run_opts {
	const struct doctor_opts *o;         /* the session's options (domains: every name) */
	const struct doctor_target *targets; /* row i of the model is targets[i] */
	size_t ntargets;
	size_t jobs;                         /* checks in flight at most, over all rounds */
	long interval_s;                     /* re-run a name this long after its run ended;
	                                        0: only when asked */
};

/* NULL when out of memory. Everything pointed to must outlive it. */
struct dash_run *dash_run_new(struct diag_loop *loop, struct dash_model *m,
                              const struct dash_run_opts *o);
/*
 * Run these rows in a new round (rows already queued or running are left
 * as they are). Returns how many were queued, or -1 when out of memory
 * (an error finding in the shared row says so).
 */
int dash_run_names(struct dash_run *r, const size_t *rows, size_t n);
/* Every row (that is not queued or running already). */
int dash_run_all(struct dash_run *r);
/* Stop (1) or resume (0) the --interval re-runs. */
void dash_run_pause(struct dash_run *r, int paused);
/* A round is still at work. */
int dash_run_busy(const struct dash_run *r);
/* Free the rounds that are done. Not from inside a loop callback. */
void dash_run_reap(struct dash_run *r);
/* Cancel everything and free it (before the loop). NULL-safe. */
void dash_run_free(struct dash_run *r);

#endif
