/* SPDX-License-Identifier: ISC */
/* run.c - acme-dash's rounds of checks, each on a session of its own. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "dash/run.h"

#define GATHER_MAX_MS 2000   /* names due this close together share a round */

enum job_state { JOB_WAIT = 0, JOB_RUN, JOB_DONE };

struct round;

/* One name's check in a round. */
struct job {
	struct round *rd;
	size_t row;
	struct diag_report *view;   /* its findings, tagged with the name */
	struct diag_probe *check;
	enum job_state state;
};

struct round {
	struct dash_run *run;
	struct round *next;
	struct diag_report *root;   /* the session's findings, and the views' */
	struct diag_doctor *s;
	struct doctor_opts o;       /* the run's, with this round's names */
	const char **names;
	struct job *jobs;
	size_t n, left;             /* jobs, and those not done */
	unsigned shared_run;        /* the shared row's run this round feeds */
	int shared_done;
};

struct dash_run {
	struct diag_loop *loop;
	struct dash_model *m;
	struct dash_run_opts o;
	struct round *rounds;       /* oldest first */
	size_t running;             /* checks in flight */
	int64_t *due;               /* per row: its next run (monotonic ms), 0: none */
	int64_t armed;              /* when the re-run timer fires, 0: not set */
	int paused;
};

/* ---- findings into the model ---- */

static void on_finding(void *arg, const struct diag_report *r, const struct diag_finding *f)
{
	struct round *rd = arg;
	struct dash_model *m = rd->run->m;
	(void)r;
	size_t idx = f->domain ? dash_model_find(m, f->domain, f->object) : DASH_SHARED;
	if (idx == DASH_NONE)
		return;  /* not a name of ours: cannot happen, the views are ours */
	unsigned run = idx == DASH_SHARED ? rd->shared_run : m->rows[idx].run;
	dash_model_finding(m, idx, run, f, diag_now_ms(), diag_wall_ms());
}

static void flush_all(void *arg)
{
	struct dash_run *run = arg;
	for (struct round *rd = run->rounds; rd; rd = rd->next)
		diag_report_flush(rd->root);
}

/* ---- re-runs ---- */

static void arm(struct dash_run *run, int64_t at);

static void tick(void *arg)
{
	struct dash_run *run = arg;
	run->armed = 0;
	int64_t now = diag_now_ms(), window = run->o.interval_s * 250;
	if (window > GATHER_MAX_MS)
		window = GATHER_MAX_MS;
	size_t *rows = malloc((run->m->n ? run->m->n : 1) * sizeof(*rows)), n = 0;
	for (size_t i = 0; rows && i < run->m->n; i++)
		if (run->due[i] && run->due[i] <= now + window && !dash_row_busy(run->m, i))
			rows[n++] = i;
	if (n)
		dash_run_names(run, rows, n);
	free(rows);
	arm(run, 0);
}

/* Set the re-run timer for at (0: the earliest due name), unless one is
 * set for sooner. */
static void arm(struct dash_run *run, int64_t at)
{
	if (run->paused || !run->o.interval_s)
		return;
	if (!at)
		for (size_t i = 0; i < run->m->n; i++)
			if (run->due[i] && !dash_row_busy(run->m, i) && (!at || run->due[i] < at))
				at = run->due[i];
	if (!at || (run->armed && run->armed <= at))
		return;
	diag_loop_cancel_timers(run->loop, run);
	int64_t now = diag_now_ms();
	if (diag_loop_timer(run->loop, at > now ? at - now : 0, tick, run) == 0)
		run->armed = at;
}

void dash_run_pause(struct dash_run *run, int paused)
{
	run->paused = paused;
	diag_loop_cancel_timers(run->loop, run);
	run->armed = 0;
	if (!paused)
		arm(run, 0);
}

/* ---- checks ---- */

static void schedule(struct dash_run *run);

/* The check of a job is over (done, or never started): its findings in,
 * its run ended, its next one due. */
static void job_end(struct job *j)
{
	struct round *rd = j->rd;
	struct dash_run *run = rd->run;
	diag_report_flush(rd->root);
	dash_model_end(run->m, j->row, run->m->rows[j->row].run, diag_now_ms(), diag_wall_ms());
	diag_report_free(j->view);
	j->view = NULL;
	j->state = JOB_DONE;
	rd->left--;
	if (run->o.interval_s) {
		run->due[j->row] = diag_now_ms() + run->o.interval_s * 1000;
		arm(run, run->due[j->row]);
	}
}

static void job_done(void *arg)
{
	struct job *j = arg;
	struct dash_run *run = j->rd->run;
	j->check = NULL;  /* freed by the probe framework */
	run->running--;
	job_end(j);
	schedule(run);
}

static void job_start(struct job *j)
{
	struct round *rd = j->rd;
	struct dash_run *run = rd->run;
	const struct doctor_target *t = &run->o.targets[j->row];
	unsigned id = dash_model_begin(run->m, j->row, diag_now_ms());
	j->state = JOB_RUN;
	j->view = diag_report_view(rd->root, t->n.name);
	if (j->view && t->object && diag_report_set_object(j->view, t->object)) {
		diag_report_free(j->view);
		j->view = NULL;
	}
	if (j->view)
		j->check = diag_doctor_check(rd->s, &t->n, j->view, job_done, j);
	if (j->check) {
		run->running++;
		return;
	}
	/* the model hears why at once */
	struct diag_finding f = {
		.id = "doctor.run", .domain = (char *)t->n.name, .object = (char *)t->object,
		.target = (char *)t->n.name, .status = DIAG_ERROR,
		.summary = "cannot check this name: out of memory", .duration_ms = -1,
	};
	dash_model_finding(run->m, j->row, id, &f, diag_now_ms(), diag_wall_ms());
	job_end(j);
}

static void schedule(struct dash_run *run)
{
	for (struct round *rd = run->rounds; rd && run->running < run->o.jobs; rd = rd->next)
		for (size_t i = 0; i < rd->n && run->running < run->o.jobs; i++)
			if (rd->jobs[i].state == JOB_WAIT)
				job_start(&rd->jobs[i]);
}

static void shared_done(void *arg)
{
	struct round *rd = arg;
	rd->shared_done = 1;
	diag_report_flush(rd->root);
	dash_model_end(rd->run->m, DASH_SHARED, rd->shared_run, diag_now_ms(), diag_wall_ms());
}

/* ---- rounds ---- */

static void round_free(struct round *rd)
{
	if (!rd)
		return;
	for (size_t i = 0; rd->jobs && i < rd->n; i++) {
		diag_probe_cancel(rd->jobs[i].check);
		diag_report_free(rd->jobs[i].view);
	}
	diag_doctor_free(rd->s);
	diag_report_free(rd->root);
	free(rd->jobs);
	free(rd->names);
	free(rd);
}

/* Say in the shared row that a round could not start. */
static void cannot_start(struct dash_run *run)
{
	unsigned id = dash_model_begin(run->m, DASH_SHARED, diag_now_ms());
	struct diag_finding f = {
		.id = "doctor.run", .target = "", .status = DIAG_ERROR, .duration_ms = -1,
		.summary = "cannot start the checks: out of memory (or curl and c-ares failed to "
		           "initialise)",
	};
	dash_model_finding(run->m, DASH_SHARED, id, &f, diag_now_ms(), diag_wall_ms());
	dash_model_end(run->m, DASH_SHARED, id, diag_now_ms(), diag_wall_ms());
}

int dash_run_names(struct dash_run *run, const size_t *rows, size_t n)
{
	struct dash_model *m = run->m;
	struct round *rd = calloc(1, sizeof(*rd));
	if (rd) {
		rd->run = run;
		rd->jobs = calloc(n ? n : 1, sizeof(*rd->jobs));
		rd->names = calloc(n ? n : 1, sizeof(*rd->names));
	}
	if (!rd || !rd->jobs || !rd->names) {
		round_free(rd);
		cannot_start(run);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (rows[i] >= m->n || dash_row_busy(m, rows[i]))
			continue;
		size_t k;
		for (k = 0; k < rd->n && rd->jobs[k].row != rows[i]; k++)
			;
		if (k < rd->n)
			continue;  /* asked twice */
		rd->jobs[rd->n] = (struct job){ .rd = rd, .row = rows[i] };
		rd->names[rd->n++] = run->o.targets[rows[i]].n.name;
	}
	if (!rd->n) {
		round_free(rd);
		return 0;
	}
	rd->left = rd->n;
	rd->o = *run->o.o;
	rd->o.domains = rd->names;
	rd->o.ndomains = rd->n;
	rd->root = diag_report_new("acme-dash", DIAG_VERSION, NULL);
	if (rd->root) {
		diag_report_observe(rd->root, on_finding, rd);
		rd->s = diag_doctor_new(run->loop, &rd->o, rd->root, NULL, shared_done, rd);
	}
	if (!rd->s) {
		round_free(rd);
		cannot_start(run);
		return -1;
	}
	rd->shared_run = dash_model_begin(m, DASH_SHARED, diag_now_ms());
	for (size_t i = 0; i < rd->n; i++) {
		dash_model_queue(m, rd->jobs[i].row);
		run->due[rd->jobs[i].row] = 0;
	}
	struct round **tail = &run->rounds;
	while (*tail)
		tail = &(*tail)->next;
	*tail = rd;
	int queued = (int)rd->n;
	schedule(run);
	return queued;
}

int dash_run_all(struct dash_run *run)
{
	size_t *rows = malloc((run->m->n ? run->m->n : 1) * sizeof(*rows));
	if (!rows) {
		cannot_start(run);
		return -1;
	}
	for (size_t i = 0; i < run->m->n; i++)
		rows[i] = i;
	int rc = dash_run_names(run, rows, run->m->n);
	free(rows);
	return rc;
}

int dash_run_busy(const struct dash_run *run)
{
	for (const struct round *rd = run->rounds; rd; rd = rd->next)
		if (rd->left || !rd->shared_done)
			return 1;
	return 0;
}

void dash_run_reap(struct dash_run *run)
{
	for (struct round **p = &run->rounds; *p;) {
		struct round *rd = *p;
		if (rd->left || !rd->shared_done) {
			p = &rd->next;
			continue;
		}
		*p = rd->next;
		round_free(rd);
	}
}

struct dash_run *dash_run_new(struct diag_loop *loop, struct dash_model *m,
                              const struct dash_run_opts *o)
{
	struct dash_run *run = calloc(1, sizeof(*run));
	if (!run)
		return NULL;
	*run = (struct dash_run){ .loop = loop, .m = m, .o = *o };
	if (!run->o.jobs)
		run->o.jobs = 1;
	run->due = calloc(m->n ? m->n : 1, sizeof(*run->due));
	if (!run->due || diag_loop_on_turn(loop, flush_all, run)) {
		free(run->due);
		free(run);
		return NULL;
	}
	return run;
}

void dash_run_free(struct dash_run *run)
{
	if (!run)
		return;
	diag_loop_cancel_timers(run->loop, run);
	diag_loop_remove_turn_hook(run->loop, flush_all, run);
	while (run->rounds) {
		struct round *rd = run->rounds;
		run->rounds = rd->next;
		round_free(rd);
	}
	free(run->due);
	free(run);
}
