/* SPDX-License-Identifier: ISC */
/* run.c - acme-doctor's run: names on one session, outputs as they finish. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor/run.h"

int out_format_parse(const char *s, enum out_format *out)
{
	static const char *const names[] = {"text", "json", "jsonl", "junit", "github", "tap",
	                                     "prometheus"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum out_format)i;
			return 0;
		}
	return -1;
}

/* One target on its way through the run. */
struct item {
	const struct doctor_target *t;
	struct diag_report *rep;   /* its findings: a view of the root (text, json), or a
	                              report of its own, freed once written */
	struct diag_report *tag;   /* the view that tags findings with the name (own report) */
	struct diag_probe *check;
	struct run_state *st;
	int finished;
	int64_t t0;
};

struct run_state {
	struct doctor_run *run;
	struct diag_loop *loop;
	struct diag_doctor *s;
	struct diag_report *root;  /* shared findings; every finding when holding */
	struct item *items;
	size_t n, next_start, next_flush, running, failed_to_start;
	int hold;                  /* text, json or --json-file: all kept to the end */
	int shared_done;
	enum diag_status worst;
	size_t verdicts[DIAG_ERROR + 1];
	size_t tap_n;
	int write_error;
	int64_t t0, progress_at;
	struct sbuf_lines { char **v; size_t n, cap; } summary;  /* GitHub step summary rows */
};

/* ---- writing ---- */

static void put(struct run_state *st, FILE *f, const char *s)
{
	if (!f || st->write_error)
		return;
	if (!s || fputs(s, f) < 0 || fflush(f)) {
		st->write_error = 1;
		cli_error(st->run->tool, "writing output: %s", s ? strerror(errno) : "out of memory");
	}
}

static void put_free(struct run_state *st, FILE *f, char *s)
{
	put(st, f, s);
	free(s);
}

static FILE *main_out(const struct run_state *st, enum out_format want)
{
	return st->run->format == want ? stdout : NULL;
}

static FILE *junit_out(const struct run_state *st)
{
	return st->run->junit ? st->run->junit : main_out(st, OUT_JUNIT);
}

/* ---- a name's findings, with what the session found ---- */

/* A report (owning nothing) of the shared findings and those of rep, for
 * a diagnosis that explains the name's findings by shared causes too. */
static struct diag_diagnosis *diagnose_with_shared(const struct run_state *st,
                                                   const struct diag_report *rep)
{
	size_t cap = st->root->n + rep->n;
	struct diag_finding **v = calloc(cap ? cap : 1, sizeof(*v));
	if (!v)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < st->root->n; i++)
		if (!st->root->v[i]->domain)
			v[n++] = st->root->v[i];
	for (size_t i = 0; i < rep->n; i++)
		v[n++] = rep->v[i];
	struct diag_report m = { .tool = rep->tool, .v = v, .n = n };
	struct diag_diagnosis *d = diag_diagnose(&m);
	free(v);
	return d;
}

static char *jsonl_line(json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	char *line = s ? diag_asprintf("%s\n", s) : NULL;
	free(s);
	json_decref(doc);
	return line;
}

/* The GitHub step summary keeps a row per name that is not ok (bounded). */
static void summary_row(struct run_state *st, const struct item *it, enum diag_status v,
                        const struct diag_diagnosis *d)
{
	struct sbuf_lines *l = &st->summary;
	if (v <= DIAG_OK || l->n >= 1000)
		return;
	const struct diag_finding *f = d && d->n ? d->v[0].root : NULL;
	char *row = diag_asprintf("| %s | %s | %s | %s |\n", it->t->n.name, diag_status_name(v),
	                          f ? (d->v[0].title ? d->v[0].title : f->id) : "",
	                          f && f->hint ? f->hint : "");
	if (!row)
		return;
	for (char *p = row + 1; *p && p[1]; p++)  /* no '|' or line break inside a cell */
		if (*p == '\n')
			*p = ' ';
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char **nv = realloc(l->v, cap * sizeof(*nv));
		if (!nv) {
			free(row);
			return;
		}
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = row;
}

static int named_only(const struct diag_finding *f, void *arg)
{
	(void)arg;
	return f->domain != NULL;
}

/* Write one finished name in every streamed format. */
static void write_item(struct run_state *st, struct item *it)
{
	struct diag_report *rep = it->rep;
	rep->duration_ms = diag_now_ms() - it->t0;
	diag_doctor_sort(rep, NULL);
	enum diag_status v = diag_verdict(rep);
	if (v > st->worst)
		st->worst = v;
	st->verdicts[v]++;
	struct diag_diagnosis *d = diagnose_with_shared(st, rep);
	struct diag_render_opts o = {0};
	if (main_out(st, OUT_JSONL)) {
		json_t *doc = diag_report_json(rep);
		if (doc && d)
			json_object_set_new(doc, "diagnosis", diag_diagnosis_json(d));
		if (doc && it->t->object)
			json_object_set_new(doc, "object", diag_json_str(it->t->object));
		put_free(st, stdout, jsonl_line(doc));
	}
	if (junit_out(st)) {
		char *name = it->t->object ? diag_asprintf("%s (%s)", it->t->n.name, it->t->object)
		                           : diag_strdup(it->t->n.name);
		put_free(st, junit_out(st), name ? diag_render_junit_suite(rep, name, &o) : NULL);
		free(name);
	}
	if (main_out(st, OUT_TAP))
		put_free(st, stdout, diag_render_tap(rep, &o, st->run->fail_from, &st->tap_n));
	if (main_out(st, OUT_GITHUB)) {
		/* causes rooted in shared findings are written with those, at the end */
		struct diag_render_opts named = { .filter = named_only };
		put_free(st, stdout, diag_render_github(rep, d, &named));
	}
	summary_row(st, it, v, d);
	diag_diagnosis_free(d);
}

/* ---- scheduling ---- */

static void progress(struct run_state *st, int last)
{
	if (!st->run->progress)
		return;
	int64_t now = diag_now_ms();
	if (!last && now - st->progress_at < 250)
		return;
	st->progress_at = now;
	double secs = (double)(now - st->t0) / 1000.0;
	double rate = secs > 0 ? (double)st->next_flush / secs : 0;
	double eta = rate > 0 ? (double)(st->n - st->next_flush) / rate : 0;
	if (last)
		fprintf(stderr, "\r\033[Kacme-doctor: %zu names in %.1f s\n", st->n, secs);
	else
		fprintf(stderr, "\r\033[Kacme-doctor: %zu/%zu names, %.1f/s, %.0f s left", st->next_flush,
		        st->n, rate, eta);
}

/* Write, in the order given, the names that are finished, once the shared
 * findings that explain them are in. */
static void flush(struct run_state *st)
{
	if (!diag_doctor_ready(st->s))
		return;
	while (st->next_flush < st->n && st->items[st->next_flush].finished) {
		struct item *it = &st->items[st->next_flush++];
		write_item(st, it);
		if (!st->hold) {  /* bounded memory: a name's findings go once written */
			diag_report_free(it->tag);
			diag_report_free(it->rep);
			it->rep = it->tag = NULL;
		}
		progress(st, 0);
	}
}

static void schedule(struct run_state *st);

static void item_done(void *arg)
{
	struct item *it = arg;
	struct run_state *st = it->st;
	it->check = NULL;
	it->finished = 1;
	st->running--;
	schedule(st);
	flush(st);
}

static int item_start(struct run_state *st, struct item *it)
{
	const char *name = it->t->n.name;
	it->st = st;
	it->t0 = diag_now_ms();
	if (st->hold) {
		it->rep = diag_report_view(st->root, name);
	} else {
		it->rep = diag_report_new(st->root->tool, st->root->version, name);
		it->tag = it->rep ? diag_report_view(it->rep, name) : NULL;
	}
	struct diag_report *into = st->hold ? it->rep : it->tag;
	if (into && it->t->object)
		diag_report_set_object(into, it->t->object);
	it->check = into ? diag_doctor_check(st->s, &it->t->n, into, item_done, it) : NULL;
	if (!it->check) {
		diag_add(st->root, DIAG_ERROR, "doctor.run", name, "cannot check %s: out of memory", name);
		it->finished = 1;
		return -1;
	}
	st->running++;
	return 0;
}

static void schedule(struct run_state *st)
{
	while (st->running < st->run->jobs && st->next_start < st->n)
		if (item_start(st, &st->items[st->next_start++]))
			st->failed_to_start++;
}

static void on_ready(void *arg)
{
	flush(arg);
}

static void on_shared_done(void *arg)
{
	((struct run_state *)arg)->shared_done = 1;
}

/* ---- the end: what is written whole ---- */

static int shared_only(const struct diag_finding *f, void *arg)
{
	(void)arg;
	return !f->domain;
}

/* The shared findings as a report of their own (owning nothing). */
static struct diag_report shared_report(const struct run_state *st, struct diag_finding **v)
{
	size_t n = 0;
	for (size_t i = 0; i < st->root->n; i++)
		if (!st->root->v[i]->domain)
			v[n++] = st->root->v[i];
	struct diag_report r = *st->root;
	r.v = v;
	r.n = n;
	r.cap = n;
	r.observer = NULL;
	return r;
}

static void write_shared(struct run_state *st)
{
	struct diag_finding **v = calloc(st->root->n ? st->root->n : 1, sizeof(*v));
	if (!v) {
		st->write_error = 1;
		return;
	}
	struct diag_report sh = shared_report(st, v);
	enum diag_status sv = diag_verdict(&sh);
	if (sv > st->worst)
		st->worst = sv;
	struct diag_diagnosis *d = diag_diagnose(&sh);
	struct diag_render_opts o = { .filter = shared_only };
	if (main_out(st, OUT_JSONL)) {
		json_t *doc = diag_report_json(&sh);
		json_t *sum = json_pack("{s:I, s:{s:I, s:I, s:I, s:I}, s:s}", "names", (json_int_t)st->n,
		                        "verdicts", "ok", (json_int_t)st->verdicts[DIAG_OK],
		                        "warn", (json_int_t)st->verdicts[DIAG_WARN],
		                        "fail", (json_int_t)st->verdicts[DIAG_FAIL],
		                        "error", (json_int_t)st->verdicts[DIAG_ERROR],
		                        "verdict", diag_status_name(st->worst));
		if (doc) {
			json_object_set_new(doc, "summary", sum);
			json_object_set_new(doc, "diagnosis", d ? diag_diagnosis_json(d) : json_array());
		}
		put_free(st, stdout, jsonl_line(doc));
	}
	if (junit_out(st)) {
		put_free(st, junit_out(st), diag_render_junit_suite(st->root, "acme-doctor", &o));
		put(st, junit_out(st), diag_junit_tail());
	}
	if (main_out(st, OUT_TAP)) {
		put_free(st, stdout, diag_render_tap(st->root, &o, st->run->fail_from, &st->tap_n));
		put_free(st, stdout, diag_asprintf("1..%zu\n", st->tap_n));
	}
	if (main_out(st, OUT_GITHUB)) {
		put_free(st, stdout, diag_render_github(&sh, d, &o));
		const char *path = getenv("GITHUB_STEP_SUMMARY");
		FILE *f = path && *path ? fopen(path, "a") : NULL;
		if (path && *path && !f)
			cli_error(st->run->tool, "GITHUB_STEP_SUMMARY %s: %s", path, strerror(errno));
		if (f) {
			sh.duration_ms = st->root->duration_ms;
			put_free(st, f, diag_render_markdown(&sh, d, st->worst));
			put_free(st, f, diag_asprintf("%zu names: %zu ok, %zu warn, %zu fail, %zu error\n\n",
			                              st->n, st->verdicts[DIAG_OK], st->verdicts[DIAG_WARN],
			                              st->verdicts[DIAG_FAIL], st->verdicts[DIAG_ERROR]));
			if (st->summary.n)
				put(st, f, "| name | verdict | first cause | fix |\n|---|---|---|---|\n");
			for (size_t i = 0; i < st->summary.n; i++)
				put(st, f, st->summary.v[i]);
			fclose(f);
		}
	}
	diag_diagnosis_free(d);
	free(v);
}

/* ---- text and the whole JSON document ---- */

struct section {
	const char *domain;  /* NULL: findings without a name */
	const char *area;
};

static int in_section(const struct diag_finding *f, void *arg)
{
	const struct section *s = arg;
	if (strcmp(diag_doctor_area(f), s->area))
		return 0;
	if (!s->domain || !f->domain)
		return !s->domain && !f->domain;
	return !strcmp(s->domain, f->domain);
}

static void print_section(struct run_state *st, const struct diag_render_opts *base,
                          const struct section *s, const char *object)
{
	struct diag_render_opts o = *base;
	o.filter = in_section;
	o.filter_arg = (void *)s;
	o.no_verdict = 1;
	char *body = diag_render_text(st->root, &o);
	if (body && *body)
		put_free(st, stdout, diag_asprintf("\n== %s%s%s%s%s%s\n", s->domain ? s->domain : "",
		                                   s->domain ? ": " : "", s->area, object ? " (" : "",
		                                   object ? object : "", object ? ")" : ""));
	put_free(st, stdout, body);
}

static void print_text(struct run_state *st, const struct diag_diagnosis *dg)
{
	struct diag_render_opts o = cli_render_opts(st->run->c);
	put_free(st, stdout, diag_diagnosis_text(dg, &o));
	static const char *const per_name[] = {"DNS-01", "HTTP-01", "TLS-ALPN-01"};
	static const char *const shared[] = {"resolvers", "ACME", "capture", "clock", "cert-manager",
	                                     "other"};
	for (size_t i = 0; i < st->run->ntargets; i++)
		for (size_t k = 0; k < sizeof(per_name) / sizeof(per_name[0]); k++)
			print_section(st, &o, &(struct section){ st->run->targets[i].n.name, per_name[k] },
			              st->run->targets[i].object);
	for (size_t k = 0; k < sizeof(shared) / sizeof(shared[0]); k++)
		print_section(st, &o, &(struct section){ NULL, shared[k] }, NULL);
	put(st, stdout, "\n");
	put_free(st, stdout, diag_render_verdict(st->root, &o));
}

static char *json_document(struct run_state *st, const struct diag_diagnosis *dg)
{
	json_t *doc = diag_report_json(st->root);
	if (doc && json_object_set_new(doc, "diagnosis", diag_diagnosis_json(dg))) {
		json_decref(doc);
		return NULL;
	}
	char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	char *out = s ? diag_asprintf("%s\n", s) : NULL;
	free(s);
	json_decref(doc);
	return out;
}

/* OpenMetrics for node_exporter's textfile collector: per name its verdict
 * and each check's worst status; the run's duration and time. */
static void print_metrics(struct run_state *st)
{
	struct diag_metrics *m = diag_metrics_new();
	char *text = m && !diag_metrics_add_report(m, st->root, 0) ? diag_metrics_text(m) : NULL;
	if (!text) {
		cli_error(st->run->tool, "out of memory");
		st->write_error = 1;
	}
	put_free(st, stdout, text);
	diag_metrics_free(m);
}

static void write_whole(struct run_state *st)
{
	diag_doctor_sort(st->root, st->run->o);
	struct diag_diagnosis *dg = diag_diagnose(st->root);
	if (!dg) {
		cli_error(st->run->tool, "out of memory");
		st->write_error = 1;
		return;
	}
	if (st->run->format == OUT_TEXT)
		print_text(st, dg);
	if (st->run->format == OUT_PROMETHEUS)
		print_metrics(st);
	if (st->run->format == OUT_JSON || st->run->json) {
		char *doc = json_document(st, dg);
		if (st->run->format == OUT_JSON)
			put(st, stdout, doc);
		if (st->run->json)
			put(st, st->run->json, doc);
		free(doc);
	}
	diag_diagnosis_free(dg);
}

/* ---- the run ---- */

static int exit_status(const struct run_state *st)
{
	if (st->write_error)
		return DIAG_EXIT_ERROR;
	if (st->worst == DIAG_ERROR)
		return DIAG_EXIT_ERROR;
	return st->worst >= st->run->fail_from && st->worst > DIAG_OK ? DIAG_EXIT_FAIL : DIAG_EXIT_OK;
}

static void free_state(struct run_state *st)
{
	for (size_t i = 0; i < st->n; i++) {
		diag_probe_cancel(st->items[i].check);
		diag_report_free(st->items[i].tag);
		diag_report_free(st->items[i].rep);
	}
	diag_doctor_free(st->s);
	for (size_t i = 0; i < st->summary.n; i++)
		free(st->summary.v[i]);
	free(st->summary.v);
	free(st->items);
	diag_report_free(st->root);
	diag_loop_free(st->loop);
}

int doctor_run(struct doctor_run *run)
{
	struct run_state st = {
		.run = run, .n = run->ntargets, .worst = DIAG_OK, .t0 = diag_now_ms(),
		.hold = run->format == OUT_TEXT || run->format == OUT_JSON ||
		        run->format == OUT_PROMETHEUS || run->json,
	};
	char target[512] = "";
	for (size_t i = 0; i < run->ntargets && strlen(target) < 400; i++)
		snprintf(target + strlen(target), sizeof(target) - strlen(target), "%s%s", i ? " " : "",
		         run->targets[i].n.name);
	if (run->ntargets > 8)
		snprintf(target, sizeof(target), "%zu names", run->ntargets);
	st.loop = diag_loop_new();
	st.root = run->pre;
	run->pre = NULL;
	st.items = calloc(st.n ? st.n : 1, sizeof(*st.items));
	if (st.root && (free(st.root->target), st.root->target = diag_strdup(target), !st.root->target)) {
		diag_report_free(st.root);
		st.root = NULL;
	}
	st.s = st.loop && st.root && st.items
		? diag_doctor_new(st.loop, run->o, st.root, on_ready, on_shared_done, &st) : NULL;
	if (!st.s) {
		cli_error(run->tool, "cannot start: out of memory (or curl and c-ares failed to initialise)");
		free_state(&st);
		return DIAG_EXIT_ERROR;
	}
	for (size_t i = 0; i < st.n; i++)
		st.items[i].t = &run->targets[i];
	if (main_out(&st, OUT_TAP))
		put(&st, stdout, "TAP version 13\n");  /* TAP 14 harnesses read 13; Debian 12's prove rejects 14 */
	if (junit_out(&st))
		put(&st, junit_out(&st), diag_junit_head());
	schedule(&st);
	int rc = diag_loop_run(st.loop);
	flush(&st);  /* a session with no probe left is ready */
	if (rc || st.next_flush < st.n || !st.shared_done)
		diag_add(st.root, DIAG_ERROR, "doctor.run", "", "the run stopped before it finished "
		         "(%s)", rc ? "the event loop failed" : "internal error");
	diag_report_finish(st.root);
	progress(&st, 1);
	if (st.hold)
		write_whole(&st);
	if (st.hold)  /* every finding is in the root: the worst of them all */
		st.worst = diag_verdict(st.root);
	write_shared(&st);
	rc = exit_status(&st);
	free_state(&st);
	return rc;
}
