/* SPDX-License-Identifier: ISC */
/* finding.c - reports, findings and the verdict rule. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag/finding.h"
#include "grow.h"

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

/* The length of the well-formed UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c >= 0x01 && c <= 0x7f)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;  /* the range of the second byte */
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;  /* no overlongs */
		else if (c == 0xed)
			hi = 0x9f;  /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;  /* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

char *diag_utf8_clean(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t out = 0;
	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq(u + i, len - i);
		out += k ? k : 4;
		i += k ? k : 1;
	}
	char *d = malloc(out + 1), *p = d;
	if (!d)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq(u + i, len - i);
		if (k) {
			memcpy(p, u + i, k);
			p += k;
			i += k;
		} else {
			snprintf(p, 5, "\\x%02x", u[i]);
			p += 4;
			i++;
		}
	}
	*p = '\0';
	return d;
}

size_t diag_utf8_cut(const char *s, size_t len, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	if (len <= max)
		return len;
	/* back up from max to the first byte of the character it falls in */
	size_t k = max;
	while (k > 0 && max - k < 3 && (u[k] & 0xc0) == 0x80)
		k--;
	if ((u[k] & 0xc0) != 0xc0)
		return max;  /* max is on a boundary (or the bytes are not UTF-8) */
	size_t n = utf8_seq(u + k, len - k);
	return n && k + n <= max ? k + n : k;
}

json_t *diag_json_strn(const char *s, size_t len)
{
	if (!s)
		return json_null();
	char *c = diag_utf8_clean(s, len);
	json_t *j = c ? json_stringn(c, strlen(c)) : NULL;
	free(c);
	return j;
}

json_t *diag_json_str(const char *s)
{
	return diag_json_strn(s, s ? strlen(s) : 0);
}

/* A copy of s made valid UTF-8, or NULL. */
static char *clean_copy(const char *s)
{
	return s ? diag_utf8_clean(s, strlen(s)) : NULL;
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
	free(f->domain);
	free(f->object);
	free(f->target);
	free(f->summary);
	free(f->detail);
	free(f->hint);
	free(f->clients);
	json_decref(f->evidence);
	free(f);
}

void diag_report_free(struct diag_report *r)
{
	if (!r)
		return;
	if (!r->parent)
		for (size_t i = 0; i < r->n; i++)
			finding_free(r->v[i]);
	free(r->v);
	free(r->tool);
	free(r->version);
	free(r->target);
	free(r->domain);
	free(r->object);
	free(r);
}

static struct diag_report *root_of(struct diag_report *r)
{
	while (r->parent)
		r = r->parent;
	return r;
}

struct diag_report *diag_report_view(struct diag_report *parent, const char *domain)
{
	struct diag_report *root = root_of(parent);
	struct diag_report *v = diag_report_new(root->tool, root->version, domain ? domain : root->target);
	if (!v)
		return NULL;
	v->parent = parent;
	if (domain && !(v->domain = diag_strdup(domain))) {
		diag_report_free(v);
		return NULL;
	}
	return v;
}

int diag_report_set_object(struct diag_report *v, const char *object)
{
	char *o = diag_strdup(object);
	if (object && !o)
		return -1;
	free(v->object);
	v->object = o;
	return 0;
}

void diag_report_observe(struct diag_report *r, diag_observer_cb cb, void *arg)
{
	r = root_of(r);
	r->observer = cb;
	r->observer_arg = arg;
}

void diag_report_flush(struct diag_report *r)
{
	r = root_of(r);
	/* the observer may add findings (a diagnosis): the loop sees them */
	while (r->observer && r->notified < r->n) {
		const struct diag_finding *f = r->v[r->notified++];
		r->observer(r->observer_arg, r, f);
	}
}

void diag_report_finish(struct diag_report *r)
{
	r->duration_ms = diag_now_ms() - r->started_mono;
	diag_report_flush(r);
}

static int push(struct diag_report *r, struct diag_finding *f)
{
	if (diag_grow((void **)&r->v, &r->cap, r->n + 1, sizeof(*r->v)))
		return -1;
	r->v[r->n++] = f;
	return 0;
}

struct diag_finding *diag_add(struct diag_report *r, enum diag_status st,
                              const char *id, const char *target,
                              const char *fmt, ...)
{
	struct diag_finding *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	va_list ap;
	va_start(ap, fmt);
	char *raw = diag_vasprintf(fmt, ap);
	va_end(ap);
	f->summary = clean_copy(raw);
	free(raw);
	f->id = diag_strdup(id);
	f->target = clean_copy(target ? target : "");
	f->status = st;
	f->evidence = json_object();
	f->duration_ms = -1;
	/* the innermost view that names a domain tags the finding */
	const char *dom = NULL, *obj = NULL;
	for (struct diag_report *v = r; v && !dom; v = v->parent)
		dom = v->domain;
	for (struct diag_report *v = r; v && !obj; v = v->parent)
		obj = v->object;
	f->domain = diag_strdup(dom);
	f->object = diag_strdup(obj);
	if (!f->summary || !f->id || !f->target || !f->evidence || (dom && !f->domain) ||
	    (obj && !f->object)) {
		finding_free(f);
		return NULL;
	}
	/* the root owns it; views keep a pointer (a view that cannot grow only
	 * loses its own list, never the finding) */
	struct diag_report *root = root_of(r);
	if (push(root, f)) {
		finding_free(f);
		return NULL;
	}
	for (struct diag_report *v = r; v != root; v = v->parent)
		push(v, f);
	return f;
}

static void set_text(char **field, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void set_text(char **field, const char *fmt, va_list ap)
{
	char *raw = diag_vasprintf(fmt, ap);  /* before freeing: fmt's args may use the old text */
	char *s = clean_copy(raw);
	free(raw);
	free(*field);
	*field = s;
}

void diag_set_detail(struct diag_finding *f, const char *fmt, ...)
{
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	set_text(&f->detail, fmt, ap);
	va_end(ap);
}

void diag_set_hint(struct diag_finding *f, const char *fmt, ...)
{
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	set_text(&f->hint, fmt, ap);
	va_end(ap);
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
