/* SPDX-License-Identifier: ISC */
/* render_metrics.c - the OpenMetrics text format, for Prometheus. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/render_metrics.h"
#include "grow.h"
#include "sbuf.h"

struct metrics_family {
	char *name, *type, *unit, *help;
	struct sbuf samples;
};

struct diag_metrics {
	struct metrics_family *f;
	size_t n, cap;
};

struct diag_metrics *diag_metrics_new(void)
{
	return calloc(1, sizeof(struct diag_metrics));
}

void diag_metrics_free(struct diag_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->f[i].name);
		free(m->f[i].type);
		free(m->f[i].unit);
		free(m->f[i].help);
		free(m->f[i].samples.s);
	}
	free(m->f);
	free(m);
}

static int metrics_name_ok(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_:") == strlen(s);
}

static struct metrics_family *metrics_find(const struct diag_metrics *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->f[i].name, name))
			return &m->f[i];
	return NULL;
}

int diag_metrics_family(struct diag_metrics *m, const char *name, const char *type,
                        const char *unit, const char *help)
{
	if (metrics_find(m, name))
		return 0;
	size_t nl = name ? strlen(name) : 0, ul = unit ? strlen(unit) : 0;
	if (!metrics_name_ok(name) || (unit && (nl <= ul + 1 || strcmp(name + nl - ul, unit) ||
	                                        name[nl - ul - 1] != '_')))
		return -1;
	if (diag_grow((void **)&m->f, &m->cap, m->n + 1, sizeof(*m->f)))
		return -1;
	struct metrics_family *f = &m->f[m->n];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	f->type = strdup(type);
	f->unit = unit ? strdup(unit) : NULL;
	f->help = strdup(help ? help : "");
	if (!f->name || !f->type || !f->help || (unit && !f->unit)) {
		free(f->name);
		free(f->type);
		free(f->unit);
		free(f->help);
		return -1;
	}
	m->n++;
	return 0;
}

/* A label value or help text as the format escapes it. */
static void metrics_escape(struct sbuf *b, const char *s, int quote)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			sb_printf(b, "\\\\");
		else if (*s == '\n')
			sb_printf(b, "\\n");
		else if (*s == '"' && quote)
			sb_printf(b, "\\\"");
		else
			sb_printf(b, "%c", *s);
	}
}

int diag_metrics_sample(struct diag_metrics *m, const char *name, const char *const *labels,
                        double value)
{
	struct metrics_family *f = metrics_find(m, name);
	if (!f)
		return -1;
	struct sbuf *b = &f->samples;
	sb_printf(b, "%s", name);
	for (size_t i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
		sb_printf(b, "%s%s=\"", i ? "," : "{", labels[i]);
		metrics_escape(b, labels[i + 1], 1);
		sb_printf(b, "\"");
	}
	if (labels && labels[0] && labels[1])
		sb_printf(b, "}");
	if (isnan(value))
		sb_printf(b, " NaN\n");
	else if (value == floor(value) && fabs(value) < 1e15)
		sb_printf(b, " %.0f\n", value);
	else
		sb_printf(b, " %.15g\n", value);
	return b->failed ? -1 : 0;
}

int diag_metrics_status_value(enum diag_status st)
{
	switch (st) {
	case DIAG_SKIP: return -1;
	case DIAG_OK: return 0;
	case DIAG_WARN: return 1;
	case DIAG_FAIL: return 2;
	case DIAG_ERROR: return 3;
	}
	return 3;
}

/* The worst status, skip only when nothing else. */
static enum diag_status metrics_worse(enum diag_status a, enum diag_status b)
{
	if (a == DIAG_SKIP)
		return b;
	if (b == DIAG_SKIP)
		return a;
	return a > b ? a : b;
}

struct metrics_key {
	const char *name, *check;
	enum diag_status st;
};

static int metrics_key_cmp(const void *a, const void *b)
{
	const struct metrics_key *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->check, y->check);
}

static int metrics_checks(struct diag_metrics *m, const struct diag_report *r, int by_target,
                          const char *tool)
{
	struct metrics_key *k = calloc(r->n ? r->n : 1, sizeof(*k));
	if (!k)
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		const struct diag_finding *f = r->v[i];
		k[i] = (struct metrics_key){ f->domain ? f->domain : by_target ? f->target : "", f->id,
		                             f->status };
	}
	/* one sample per name and check: the worst of its findings */
	diag_sort(k, r->n, sizeof(*k), metrics_key_cmp);
	int rc = 0;
	for (size_t i = 0; i < r->n && !rc;) {
		size_t j = i;
		enum diag_status st = DIAG_SKIP;
		for (; j < r->n && !metrics_key_cmp(&k[i], &k[j]); j++)
			st = metrics_worse(st, k[j].st);
		const char *l[] = {"tool", tool, "name", k[i].name, "check", k[i].check, NULL};
		rc = diag_metrics_sample(m, "acme_diag_check_status", l, diag_metrics_status_value(st));
		i = j;
	}
	/* the verdict of each name, then of the run */
	for (size_t i = 0; i < r->n && !rc;) {
		size_t j = i;
		enum diag_status st = DIAG_OK;
		for (; j < r->n && !strcmp(k[i].name, k[j].name); j++)
			if (k[j].st != DIAG_SKIP && k[j].st > st)
				st = k[j].st;
		const char *l[] = {"tool", tool, "name", k[i].name, NULL};
		if (*k[i].name)
			rc = diag_metrics_sample(m, "acme_diag_verdict", l, diag_metrics_status_value(st));
		i = j;
	}
	free(k);
	return rc;
}

int diag_metrics_add_report(struct diag_metrics *m, const struct diag_report *r, int by_target)
{
	const char *tool = r->tool ? r->tool : "acme-diag";
	if (diag_metrics_family(m, "acme_diag_verdict", "gauge", NULL,
	                        "Worst status of the checks, per name and for the run (name=\"\"): "
	                        "0 ok, 1 warn, 2 fail, 3 error") ||
	    diag_metrics_family(m, "acme_diag_check_status", "gauge", NULL,
	                        "Worst status of each check per name: -1 skip, 0 ok, 1 warn, 2 fail, 3 error") ||
	    diag_metrics_family(m, "acme_diag_run_duration_seconds", "gauge", "seconds",
	                        "How long the run took") ||
	    diag_metrics_family(m, "acme_diag_run_timestamp_seconds", "gauge", "seconds",
	                        "When the run started (Unix time)"))
		return -1;
	const char *l[] = {"tool", tool, "name", "", NULL};
	const char *lt[] = {"tool", tool, NULL};
	if (diag_metrics_sample(m, "acme_diag_verdict", l, diag_metrics_status_value(diag_verdict(r))) ||
	    metrics_checks(m, r, by_target, tool) ||
	    diag_metrics_sample(m, "acme_diag_run_duration_seconds", lt,
	                        r->duration_ms >= 0 ? (double)r->duration_ms / 1000.0 : 0) ||
	    diag_metrics_sample(m, "acme_diag_run_timestamp_seconds", lt, (double)r->started_ms / 1000.0))
		return -1;
	return 0;
}

int diag_metrics_cert_families(struct diag_metrics *m)
{
	return diag_metrics_family(m, "acme_diag_certificate_expiry_timestamp_seconds", "gauge", "seconds",
	                           "notAfter of the certificate (Unix time)") ||
	       diag_metrics_family(m, "acme_diag_certificate_renewal_window_start_timestamp_seconds", "gauge",
	                           "seconds", "Start of the certificate's renewal window: the CA's ARI "
	                           "answer, or the window it suggests by default (Unix time)");
}

char *diag_metrics_text(const struct diag_metrics *m)
{
	struct sbuf b = {0};
	for (size_t i = 0; i < m->n; i++) {
		const struct metrics_family *f = &m->f[i];
		sb_printf(&b, "# TYPE %s %s\n", f->name, f->type);
		if (f->unit)
			sb_printf(&b, "# UNIT %s %s\n", f->name, f->unit);
		sb_printf(&b, "# HELP %s ", f->name);
		metrics_escape(&b, f->help, 0);
		sb_printf(&b, "\n%s", f->samples.s ? f->samples.s : "");
		if (f->samples.failed)
			b.failed = 1;
	}
	sb_printf(&b, "# EOF\n");
	return sb_take(&b);
}
