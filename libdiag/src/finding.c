/* finding.c - reports, findings and the verdict rule. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag/finding.h"

int64_t diag_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t diag_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *diag_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *diag_vasprintf(const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *diag_asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = diag_vasprintf(fmt, ap);
	va_end(ap);
	return s;
}

struct diag_report *diag_report_new(const char *tool, const char *version,
                                    const char *target)
{
	struct diag_report *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->tool = diag_strdup(tool);
	r->version = diag_strdup(version);
	r->target = diag_strdup(target);
	r->started_ms = diag_wall_ms();
	r->started_mono = diag_now_ms();
	r->duration_ms = -1;
	return r;
}

static void finding_free(struct diag_finding *f)
{
	if (!f)
		return;
	free(f->id);
	free(f->target);
	free(f->summary);
	free(f->detail);
	free(f->hint);
	json_decref(f->evidence);
	free(f);
}

void diag_report_free(struct diag_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		finding_free(r->v[i]);
	free(r->v);
	free(r->tool);
	free(r->version);
	free(r->target);
	free(r);
}

void diag_report_finish(struct diag_report *r)
{
	r->duration_ms = diag_now_ms() - r->started_mono;
}

struct diag_finding *diag_add(struct diag_report *r, enum diag_status st,
                              const char *id, const char *target,
                              const char *fmt, ...)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct diag_finding **v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		r->v = v;
		r->cap = cap;
	}
	struct diag_finding *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	va_list ap;
	va_start(ap, fmt);
	f->summary = diag_vasprintf(fmt, ap);
	va_end(ap);
	f->id = diag_strdup(id);
	f->target = diag_strdup(target ? target : "");
	f->status = st;
	f->evidence = json_object();
	f->duration_ms = -1;
	if (!f->summary || !f->id || !f->target || !f->evidence) {
		finding_free(f);
		return NULL;
	}
	r->v[r->n++] = f;
	return f;
}

void diag_set_detail(struct diag_finding *f, const char *fmt, ...)
{
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s = diag_vasprintf(fmt, ap);  /* before freeing: fmt's args may use the old text */
	va_end(ap);
	free(f->detail);
	f->detail = s;
}

void diag_set_hint(struct diag_finding *f, const char *fmt, ...)
{
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s = diag_vasprintf(fmt, ap);
	va_end(ap);
	free(f->hint);
	f->hint = s;
}

void diag_evidence(struct diag_finding *f, const char *key, json_t *val)
{
	if (!f || !val) {
		json_decref(val);
		return;
	}
	json_object_set_new(f->evidence, key, val);
}

enum diag_status diag_verdict(const struct diag_report *r)
{
	enum diag_status worst = DIAG_OK;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i]->status > worst)
			worst = r->v[i]->status;
	return worst;
}

const char *diag_status_name(enum diag_status st)
{
	switch (st) {
	case DIAG_SKIP: return "skip";
	case DIAG_OK: return "ok";
	case DIAG_WARN: return "warn";
	case DIAG_FAIL: return "fail";
	case DIAG_ERROR: return "error";
	}
	return "error";
}

int diag_exit_status(enum diag_status verdict, int strict)
{
	switch (verdict) {
	case DIAG_SKIP:
	case DIAG_OK: return DIAG_EXIT_OK;
	case DIAG_WARN: return strict ? DIAG_EXIT_FAIL : DIAG_EXIT_OK;
	case DIAG_FAIL: return DIAG_EXIT_FAIL;
	case DIAG_ERROR: return DIAG_EXIT_ERROR;
	}
	return DIAG_EXIT_ERROR;
}
