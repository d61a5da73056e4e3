/* SPDX-License-Identifier: ISC */
/* probe.c - the life of a probe: start, done (deferred), cancel, run alone. */
#include <stdlib.h>

#include "diag/probe.h"

void diag_probe_init(struct diag_probe *p, const struct diag_probe_ops *ops,
                     struct diag_loop *loop, struct diag_report *r,
                     diag_done_cb done, void *arg)
{
	p->ops = ops;
	p->loop = loop;
	p->r = r;
	p->done = done;
	p->arg = arg;
	p->finishing = 0;
}

static void finish_now(void *arg)
{
	struct diag_probe *p = arg;
	diag_done_cb done = p->done;
	void *darg = p->arg;
	p->ops->cancel(p);  /* nothing should be left; make sure */
	p->ops->destroy(p);
	if (done)
		done(darg);
}

int diag_probe_finish(struct diag_probe *p)
{
	if (p->finishing)
		return 0;
	/* Never done at once (that could be inside a start function or in the
	 * middle of the loop's callbacks): without memory for the timer, the
	 * probe stays unfinished; its runner sees the loop run out of work
	 * before done and says so (diag_probe_run), and cancel frees it. */
	if (diag_loop_timer(p->loop, 0, finish_now, p))
		return -1;
	p->finishing = 1;
	return 0;
}

void diag_probe_cancel(struct diag_probe *p)
{
	if (!p)
		return;
	diag_loop_cancel_timers(p->loop, p);
	p->ops->cancel(p);
	p->ops->destroy(p);
}

static int64_t run_bound_ms;  /* 0: none */

void diag_probe_set_bound(int64_t ms)
{
	run_bound_ms = ms > 0 ? ms : 0;
}

struct run {
	struct diag_loop *loop;
	struct diag_probe *p;
	int done, over;
};

static void run_done(void *arg)
{
	struct run *x = arg;
	x->done = 1;
	diag_loop_cancel_timers(x->loop, x);  /* the bound: not needed now */
}

static void run_over(void *arg)
{
	struct run *x = arg;
	if (x->done)
		return;
	x->over = 1;
	diag_probe_cancel(x->p);  /* its queries and transfers go: the loop ends */
	x->p = NULL;
}

int diag_probe_run(diag_start_fn start, const void *opts, struct diag_report *r,
                   const char *error_id)
{
	struct run x = { .loop = diag_loop_new() };
	if (!x.loop) {
		diag_add(r, DIAG_ERROR, error_id, "", "cannot start the event loop (curl or c-ares "
		         "failed to initialise, or out of memory)");
		return -1;
	}
	x.p = start(x.loop, opts, r, run_done, &x);
	if (!x.p || (run_bound_ms && diag_loop_timer(x.loop, run_bound_ms, run_over, &x))) {
		diag_add(r, DIAG_ERROR, error_id, "", "cannot start the checks (out of memory)");
		diag_probe_cancel(x.p);
		diag_loop_free(x.loop);
		return -1;
	}
	int rc = diag_loop_run(x.loop);
	if (x.over) {
		struct diag_finding *f = diag_add(r, DIAG_ERROR, error_id, "",
		                                  "stopped after %.1f s, the bound of this run: the checks "
		                                  "still waiting were not finished", run_bound_ms / 1000.0);
		diag_set_hint(f, "The findings above are those made in time. Something answered slowly "
		              "at every step (a resolver, a nameserver, the CA): the findings say which; "
		              "a larger --timeout raises the bound.");
		diag_evidence(f, "bound_ms", json_integer(run_bound_ms));
	} else if (!x.done) {
		struct diag_finding *f = diag_add(r, DIAG_ERROR, error_id, "", rc
		                                  ? "the event loop failed (poll error); the checks did not finish"
		                                  : "the checks stopped before they finished (internal error)");
		diag_set_hint(f, "The findings above are incomplete. Please report this with the command line.");
		diag_probe_cancel(x.p);
	}
	diag_loop_free(x.loop);
	return x.done ? 0 : -1;
}
