/* SPDX-License-Identifier: ISC */
/* render.c - text and JSON renderings of a report. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag/diagnosis.h"
#include "diag/render.h"
#include "sbuf.h"

void diag_rfc3339(int64_t wall_ms, char buf[32])
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03dZ", (int)(wall_ms % 1000));
}

static json_t *str_or_null(const char *s)
{
	return diag_json_str(s);
}

static json_t *finding_json(const struct diag_finding *f)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:O, s:o}",
	                      "id", f->id, "target", f->target,
	                      "status", diag_status_name(f->status),
	                      "summary", f->summary,
	                      "detail", str_or_null(f->detail),
	                      "hint", str_or_null(f->hint),
	                      "evidence", f->evidence,
	                      "duration_ms", f->duration_ms >= 0 ? json_integer(f->duration_ms)
	                                                         : json_null());
	enum diag_actor a = diag_finding_actor(f);
	if (o && ((f->domain && json_object_set_new(o, "domain", diag_json_str(f->domain))) ||
	          (f->object && json_object_set_new(o, "object", diag_json_str(f->object))) ||
	          json_object_set_new(o, "who_fails", a ? json_string(diag_actor_name(a)) : json_null()) ||
	          (f->clients && json_object_set_new(o, "clients", diag_json_str(f->clients))))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *diag_report_json(const struct diag_report *r)
{
	char ts[32];
	diag_rfc3339(r->started_ms, ts);
	json_t *checks = json_array();
	if (!checks)
		return NULL;
	/* Every string in a finding is valid UTF-8 (finding.c), so a finding
	 * fails to render only when memory runs out: then the whole document
	 * fails, and the tool says so; a finding is never left out. */
	for (size_t i = 0; i < r->n; i++) {
		json_t *o = finding_json(r->v[i]);
		if (!o || json_array_append_new(checks, o)) {
			json_decref(checks);
			return NULL;
		}
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:I, s:s, s:o}",
	                 "schema", DIAG_JSON_SCHEMA,
	                 "tool", r->tool ? r->tool : "",
	                 "version", r->version ? r->version : "",
	                 "target", str_or_null(r->target),
	                 "started_at", ts,
	                 "duration_ms", (json_int_t)(r->duration_ms >= 0 ? r->duration_ms : 0),
	                 "verdict", diag_status_name(diag_verdict(r)),
	                 "checks", checks);
}

static const char *status_color(enum diag_status st)
{
	switch (st) {
	case DIAG_OK: return "\033[32m";
	case DIAG_WARN: return "\033[33m";
	case DIAG_FAIL: return "\033[31;1m";
	case DIAG_ERROR: return "\033[35;1m";
	case DIAG_SKIP: return "\033[2m";
	}
	return "";
}

static int visible(const struct diag_finding *f, const struct diag_render_opts *o)
{
	if (o->filter && !o->filter(f, o->filter_arg))
		return 0;
	if (o->quiet && (f->status == DIAG_OK || f->status == DIAG_SKIP))
		return 0;
	return 1;
}

/* The verdict and the count of every finding per status. */
static void verdict_line(struct sbuf *b, const struct diag_report *r,
                         const struct diag_render_opts *o)
{
	size_t counts[DIAG_ERROR + 1] = {0};
	for (size_t i = 0; i < r->n; i++)
		counts[r->v[i]->status]++;
	enum diag_status v = diag_verdict(r);
	const char *on = o->color ? status_color(v) : "";
	const char *off = o->color ? "\033[0m" : "";
	sb_printf(b, "verdict: %s%s%s (%zu fail, %zu warn, %zu ok, %zu error, %zu skip) in %lld ms\n",
	          on, diag_status_name(v), off, counts[DIAG_FAIL], counts[DIAG_WARN],
	          counts[DIAG_OK], counts[DIAG_ERROR], counts[DIAG_SKIP],
	          (long long)(r->duration_ms >= 0 ? r->duration_ms : 0));
}

/* A target as it is shown: control characters escaped (targets come from
 * the network too: a newline there would forge a line of output). */
static char *shown(const char *s)
{
	struct sbuf b = {0};
	sb_clean(&b, s);
	sb_printf(&b, "%s", "");
	return sb_take(&b);
}

char *diag_render_text(const struct diag_report *r,
                       const struct diag_render_opts *o)
{
	struct sbuf b = {0};
	size_t idw = 0, tw = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (!visible(r->v[i], o))
			continue;
		char *t = shown(r->v[i]->target);
		size_t a = strlen(r->v[i]->id), tl = t ? strlen(t) : 0;
		free(t);
		if (a > idw)
			idw = a;
		if (tl > tw)
			tw = tl;
	}
	if (tw > 28)
		tw = 28;
	for (size_t i = 0; i < r->n; i++) {
		const struct diag_finding *f = r->v[i];
		if (!visible(f, o))
			continue;
		const char *on = o->color ? status_color(f->status) : "";
		const char *off = o->color ? "\033[0m" : "";
		char *t = shown(f->target);
		if (!t)
			b.failed = 1;
		sb_printf(&b, "%s%-5s%s %-*s %-*s ", on, diag_status_name(f->status),
		          off, (int)idw, f->id, (int)tw, t ? t : "");
		free(t);
		sb_clean(&b, f->summary);
		sb_printf(&b, "\n");
		if (o->verbose && f->detail) {
			sb_printf(&b, "      ");
			sb_clean(&b, f->detail);
			sb_printf(&b, "\n");
		}
		if (f->hint && f->status >= DIAG_WARN) {
			sb_printf(&b, "      hint: ");
			sb_clean(&b, f->hint);
			sb_printf(&b, "\n");
		}
		enum diag_actor who = diag_finding_actor(f);
		if (who) {
			sb_printf(&b, "      who fails: %s", diag_actor_short(who));
			if (f->clients) {
				sb_printf(&b, " (");
				sb_clean(&b, f->clients);
				sb_printf(&b, ")");
			}
			sb_printf(&b, "%s\n", who == DIAG_ACTOR_CLIENT ? "; the CA would validate" : "");
		}
		if (o->verbose && json_object_size(f->evidence) > 0) {
			char *ev = json_dumps(f->evidence, JSON_COMPACT | JSON_SORT_KEYS);
			if (ev) {
				sb_printf(&b, "      evidence: ");
				sb_clean(&b, ev);
				sb_printf(&b, "\n");
				free(ev);
			}
		}
	}
	if (!o->no_verdict)
		verdict_line(&b, r, o);
	if (!b.s && !b.failed)
		sb_printf(&b, "%s", "");  /* an empty section is "", not a failure */
	return sb_take(&b);
}

char *diag_render_verdict(const struct diag_report *r, const struct diag_render_opts *o)
{
	struct sbuf b = {0};
	verdict_line(&b, r, o);
	return sb_take(&b);
}
