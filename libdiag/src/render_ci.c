/* SPDX-License-Identifier: ISC */
/*
 * render_ci.c - the renderings CI systems read: JUnit XML (GitLab,
 * Jenkins), GitHub Actions workflow commands and step summary, TAP.
 * Each takes the findings of a report that pass the options' filter, so a
 * batch renders a name at a time.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/render_ci.h"
#include "sbuf.h"

static int shown(const struct diag_finding *f, const struct diag_render_opts *o)
{
	return !o->filter || o->filter(f, o->filter_arg);
}

/* ---- JUnit ---- */

/* XML text: the five entities, and characters XML 1.0 does not allow
 * (controls other than tab, LF, CR) as the text \xNN. */
static void xml_text(struct sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': sb_printf(b, "&amp;"); break;
		case '<': sb_printf(b, "&lt;"); break;
		case '>': sb_printf(b, "&gt;"); break;
		case '"': sb_printf(b, "&quot;"); break;
		case '\'': sb_printf(b, "&apos;"); break;
		case '\t': case '\n': case '\r': sb_printf(b, "%c", c); break;
		default: {
			size_t n = sb_control(b, s);
			if (n)
				s += n - 1;
			else
				sb_printf(b, "%c", c);
		}
		}
	}
}

static void junit_case(struct sbuf *b, const struct diag_finding *f, const char *classname)
{
	sb_printf(b, "    <testcase classname=\"");
	xml_text(b, classname);
	sb_printf(b, "\" name=\"");
	xml_text(b, f->id);
	sb_printf(b, " ");
	xml_text(b, f->target);
	sb_printf(b, "\" time=\"%.3f\">\n", f->duration_ms > 0 ? (double)f->duration_ms / 1000.0 : 0.0);
	const char *tag = f->status == DIAG_FAIL ? "failure" : f->status == DIAG_ERROR ? "error"
	                : f->status == DIAG_SKIP ? "skipped" : NULL;
	if (tag) {
		sb_printf(b, "      <%s message=\"", tag);
		xml_text(b, f->hint ? f->hint : f->summary);
		sb_printf(b, "\" type=\"");
		xml_text(b, f->id);
		sb_printf(b, "\">");
		xml_text(b, f->summary);
		if (f->hint) {
			sb_printf(b, "\nhint: ");
			xml_text(b, f->hint);
		}
		sb_printf(b, "</%s>\n", tag);
	}
	char *ev = json_dumps(f->evidence, JSON_COMPACT | JSON_SORT_KEYS);
	sb_printf(b, "      <system-out>");
	xml_text(b, diag_status_name(f->status));
	sb_printf(b, ": ");
	xml_text(b, f->summary);
	if (f->status == DIAG_WARN && f->hint) {
		sb_printf(b, "\nhint: ");
		xml_text(b, f->hint);
	}
	if (f->detail) {
		sb_printf(b, "\n");
		xml_text(b, f->detail);
	}
	if (ev) {
		sb_printf(b, "\nevidence: ");
		xml_text(b, ev);
	}
	sb_printf(b, "</system-out>\n    </testcase>\n");
	free(ev);
}

char *diag_render_junit_suite(const struct diag_report *r, const char *name,
                              const struct diag_render_opts *o)
{
	size_t counts[DIAG_ERROR + 1] = {0}, n = 0;
	int64_t ms = 0;
	for (size_t i = 0; i < r->n; i++)
		if (shown(r->v[i], o)) {
			counts[r->v[i]->status]++;
			n++;
			if (r->v[i]->duration_ms > 0)
				ms += r->v[i]->duration_ms;
		}
	char ts[32];
	diag_rfc3339(r->started_ms, ts);
	struct sbuf b = {0};
	sb_printf(&b, "  <testsuite name=\"");
	xml_text(&b, name);
	sb_printf(&b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\" "
	          "timestamp=\"%.19s\">\n", n, counts[DIAG_FAIL], counts[DIAG_ERROR], counts[DIAG_SKIP],
	          (double)ms / 1000.0, ts);
	for (size_t i = 0; i < r->n; i++)
		if (shown(r->v[i], o))
			junit_case(&b, r->v[i], name);
	sb_printf(&b, "  </testsuite>\n");
	return sb_take(&b);
}

const char *diag_junit_head(void)
{
	return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"acme-diag\">\n";
}

const char *diag_junit_tail(void)
{
	return "</testsuites>\n";
}

/* ---- GitHub Actions ---- */

/* Workflow command escaping: in data, %, CR and LF; in a property, also
 * ':' and ','. */
static void gh_escape(struct sbuf *b, const char *s, int property)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '%': sb_printf(b, "%%25"); break;
		case '\r': sb_printf(b, "%%0D"); break;
		case '\n': sb_printf(b, "%%0A"); break;
		case ':': sb_printf(b, property ? "%%3A" : ":"); break;
		case ',': sb_printf(b, property ? "%%2C" : ","); break;
		default: {
			size_t n = sb_control(b, s);
			if (n)
				s += n - 1;
			else
				sb_printf(b, "%c", *s);
		}
		}
	}
}

static void gh_line(struct sbuf *b, const struct diag_finding *f, const char *title_prefix)
{
	sb_printf(b, "::%s title=", f->status == DIAG_WARN ? "warning" : "error");
	char *title = diag_asprintf("%s%s %s %s%s%s%s%s%s", title_prefix, diag_status_name(f->status),
	                            f->id, f->target, f->domain || f->object ? " (" : "",
	                            f->domain ? f->domain : "", f->domain && f->object ? " " : "",
	                            f->object ? f->object : "", f->domain || f->object ? ")" : "");
	gh_escape(b, title ? title : f->id, 1);
	free(title);
	sb_printf(b, "::");
	gh_escape(b, f->summary, 0);
	if (f->hint) {
		sb_printf(b, " -- fix: ");
		gh_escape(b, f->hint, 0);
	}
	sb_printf(b, "\n");
}

static int is_cause(const struct diag_diagnosis *d, const struct diag_finding *f)
{
	for (size_t i = 0; d && i < d->n; i++)
		if (d->v[i].root == f)
			return 1;
	return 0;
}

char *diag_render_github(const struct diag_report *r, const struct diag_diagnosis *d,
                         const struct diag_render_opts *o)
{
	struct sbuf b = {0};
	/* The runner shows ten annotations of each kind per step: the root
	 * causes first (in the diagnosis's order), then what they explain,
	 * errors and failures before warnings. */
	for (size_t i = 0; d && i < d->n; i++)
		if (shown(d->v[i].root, o))
			gh_line(&b, d->v[i].root, "cause: ");
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < r->n; i++) {
			const struct diag_finding *f = r->v[i];
			int want = pass == 0 ? f->status >= DIAG_FAIL : f->status == DIAG_WARN;
			if (want && shown(f, o) && !is_cause(d, f))
				gh_line(&b, f, "");
		}
	sb_printf(&b, "%s", "");
	return sb_take(&b);
}

/* A Markdown table cell: no line breaks, '|' escaped. */
static void md_cell(struct sbuf *b, const char *s)
{
	size_t n;
	for (; s && *s; s++) {
		if (*s == '|')
			sb_printf(b, "\\|");
		else if (*s == '\n' || *s == '\r')
			sb_printf(b, " ");
		else if ((n = sb_control(b, s)))
			s += n - 1;
		else
			sb_printf(b, "%c", *s);
	}
}

char *diag_render_markdown(const struct diag_report *r, const struct diag_diagnosis *d,
                           enum diag_status verdict)
{
	struct sbuf b = {0};
	sb_printf(&b, "### %s: %s\n\n", r->tool ? r->tool : "acme-diag",
	          diag_status_name(verdict == DIAG_SKIP ? diag_verdict(r) : verdict));
	if (d && d->n) {
		sb_printf(&b, "| # | cause | name | who fails | fix |\n|---|---|---|---|---|\n");
		for (size_t i = 0; i < d->n; i++) {
			const struct diag_finding *f = d->v[i].root;
			sb_printf(&b, "| %zu | **", i + 1);
			md_cell(&b, d->v[i].title ? d->v[i].title : f->id);
			sb_printf(&b, "**: `%s` ", f->id);
			md_cell(&b, f->target);
			sb_printf(&b, " | ");
			md_cell(&b, f->domain ? f->domain : "");
			sb_printf(&b, " | %s | ", diag_actor_name(d->v[i].actor));
			md_cell(&b, f->hint ? f->hint : f->summary);
			sb_printf(&b, " |\n");
		}
	} else {
		sb_printf(&b, "Nothing to fix: every check is ok.\n");
	}
	size_t counts[DIAG_ERROR + 1] = {0};
	for (size_t i = 0; i < r->n; i++)
		counts[r->v[i]->status]++;
	sb_printf(&b, "\n%zu fail, %zu warn, %zu ok, %zu error, %zu skip\n\n", counts[DIAG_FAIL],
	          counts[DIAG_WARN], counts[DIAG_OK], counts[DIAG_ERROR], counts[DIAG_SKIP]);
	return sb_take(&b);
}

/* ---- TAP ---- */

/* A TAP description: one line, '#' escaped (it starts a directive). */
static void tap_desc(struct sbuf *b, const char *s)
{
	size_t n;
	for (; s && *s; s++) {
		if (*s == '#' || *s == '\\')
			sb_printf(b, "\\%c", *s);
		else if (*s == '\n' || *s == '\r')
			sb_printf(b, " ");
		else if ((n = sb_control(b, s)))
			s += n - 1;
		else
			sb_printf(b, "%c", *s);
	}
}

/* A YAML double-quoted scalar. */
static void yaml_str(struct sbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t n;
		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if ((n = sb_control(b, s)))
			s += n - 1;  /* \xNN and \uNNNN are YAML escapes too */
		else
			sb_printf(b, "%c", c);
	}
	sb_printf(b, "\"");
}

char *diag_render_tap(const struct diag_report *r, const struct diag_render_opts *o,
                      enum diag_status fail_from, size_t *number)
{
	struct sbuf b = {0};
	for (size_t i = 0; i < r->n; i++) {
		const struct diag_finding *f = r->v[i];
		if (!shown(f, o))
			continue;
		int bad = f->status != DIAG_SKIP && f->status >= fail_from;
		sb_printf(&b, "%sok %zu - %s ", bad ? "not " : "", ++*number, f->id);
		tap_desc(&b, f->target);
		sb_printf(&b, ": ");
		tap_desc(&b, f->summary);
		if (f->domain || f->object) {
			sb_printf(&b, " (");
			tap_desc(&b, f->domain ? f->domain : "");
			sb_printf(&b, "%s", f->domain && f->object ? " " : "");
			tap_desc(&b, f->object ? f->object : "");
			sb_printf(&b, ")");
		}
		if (f->status == DIAG_SKIP)
			sb_printf(&b, " # SKIP");
		sb_printf(&b, "\n");
		if (f->status == DIAG_OK || f->status == DIAG_SKIP)
			continue;
		sb_printf(&b, "  ---\n  severity: %s\n  id: ", diag_status_name(f->status));
		yaml_str(&b, f->id);
		sb_printf(&b, "\n  target: ");
		yaml_str(&b, f->target);
		if (f->domain) {
			sb_printf(&b, "\n  domain: ");
			yaml_str(&b, f->domain);
		}
		if (f->object) {
			sb_printf(&b, "\n  object: ");
			yaml_str(&b, f->object);
		}
		if (f->hint) {
			sb_printf(&b, "\n  hint: ");
			yaml_str(&b, f->hint);
		}
		sb_printf(&b, "\n  ...\n");
	}
	sb_printf(&b, "%s", "");
	return sb_take(&b);
}
