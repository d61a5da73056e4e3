/* SPDX-License-Identifier: ISC */
/*
 * probe.h - how every probe starts, reports, ends and is cancelled.
 *
 * A probe's start function, diag_X_start(loop, opts, report, done, arg),
 * returns a handle at once (NULL only when out of memory) and does its
 * work from the loop's callbacks, appending findings to report. When it
 * has nothing left to do it calls done(arg) once; the handle is freed
 * right after done returns. done never runs from inside the start
 * function, so the caller always has the handle first.
 *
 * diag_probe_cancel() stops a probe that has not called done yet: its
 * transfers, queries and timers are detached, done never runs, the handle
 * is freed. Several probes may share one loop and one report (through
 * views, diag_report_view), and one DNS engine: the options of each probe
 * say how.
 *
 * Each probe also has diag_X_run(opts, report): a loop of its own, the
 * probe run to the end, the loop freed; what the single tools call.
 */
#ifndef DIAG_PROBE_H
#define DIAG_PROBE_H

#include "diag/finding.h"
#include "diag/loop.h"

typedef void (*diag_done_cb)(void *arg);

struct diag_probe;
struct diag_probe_ops {
	const char *name;                        /* "dnscheck": for messages */
	void (*cancel)(struct diag_probe *p);    /* detach everything (no done, no free) */
	void (*destroy)(struct diag_probe *p);   /* free the handle's memory */
};

/* The head of every probe's handle (its first member). */
struct diag_probe {
	const struct diag_probe_ops *ops;
	struct diag_loop *loop;
	struct diag_report *r;
	diag_done_cb done;
	void *arg;
	int finishing;   /* done is scheduled or running */
};

/* For probe implementations: fill the head. */
void diag_probe_init(struct diag_probe *p, const struct diag_probe_ops *ops,
                     struct diag_loop *loop, struct diag_report *r,
                     diag_done_cb done, void *arg);
/*
 * For probe implementations: the probe has nothing left to do. done runs
 * from a timer of 0 ms (never inside a start function or a caller's
 * callback chain), then the handle is destroyed. Returns 0, or -1 when
 * the timer could not be set (out of memory): then done never runs, the
 * loop runs out of work with the probe unfinished, and its runner reports
 * that (diag_probe_run adds an error finding and cancels it).
 */
int diag_probe_finish(struct diag_probe *p);

/* Stop a probe before it is done: no done callback, handle freed. NULL-safe. */
void diag_probe_cancel(struct diag_probe *p);

typedef struct diag_probe *(*diag_start_fn)(struct diag_loop *loop, const void *opts,
                                            struct diag_report *r, diag_done_cb done,
                                            void *arg);
/*
 * Run one probe alone on a loop of its own until it is done. When the loop
 * cannot be made, the probe cannot start, or the loop fails before the
 * probe is done, an error finding error_id says so. Returns 0, or -1.
 */
int diag_probe_run(diag_start_fn start, const void *opts, struct diag_report *r,
                   const char *error_id);
/*
 * The longest diag_probe_run may take, in ms (0, the default: no bound):
 * when it is reached the probe is cancelled and an error finding error_id
 * says the run was stopped and by what bound. For the command-line tools,
 * which promise an overall time bound (a multiple of --timeout).
 */
void diag_probe_set_bound(int64_t ms);

#endif
