/* SPDX-License-Identifier: ISC */
/* model.c - acme-dash's names, findings, cells and timelines (no terminal). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dash/grow.h"
#include "dash/model.h"

static const char *const area_names[DASH_NAREAS] = {
	"DNS-01", "HTTP-01", "ACME", "clock", "resolvers", "cert-manager", "other",
};

const char *dash_area_name(enum dash_area a)
{
	return a < DASH_NAREAS ? area_names[a] : "other";
}

enum dash_area dash_area_of(const struct diag_finding *f)
{
	const char *a = diag_doctor_area(f);
	for (int i = 0; i < DASH_NAREAS; i++)
		if (!strcmp(a, area_names[i]))
			return (enum dash_area)i;
	return DASH_OTHER;
}

const char *dash_sort_name(enum dash_sort s)
{
	static const char *const names[DASH_NSORTS] = {"status", "name", "age"};
	return s < DASH_NSORTS ? names[s] : "status";
}

/* Severity for ordering: error > fail > warn > ok > skip. */
static int rank(enum diag_status st)
{
	switch (st) {
	case DIAG_ERROR: return 4;
	case DIAG_FAIL: return 3;
	case DIAG_WARN: return 2;
	case DIAG_OK: return 1;
	default: return 0;
	}
}

static enum diag_status worse(enum diag_status a, enum diag_status b)
{
	return rank(b) > rank(a) ? b : a;
}

static int streq0(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* ---- findings ---- */

static void finding_free(struct dash_finding *x)
{
	if (!x)
		return;
	free(x->f.id);
	free(x->f.domain);
	free(x->f.object);
	free(x->f.target);
	free(x->f.summary);
	free(x->f.detail);
	free(x->f.hint);
	json_decref(x->f.evidence);
	free(x);
}

static struct dash_finding *finding_copy(const struct diag_finding *f, int64_t now_ms)
{
	struct dash_finding *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->f.status = f->status;
	x->f.duration_ms = f->duration_ms;
	x->f.id = diag_strdup(f->id ? f->id : "");
	x->f.domain = diag_strdup(f->domain);
	x->f.object = diag_strdup(f->object);
	x->f.target = diag_strdup(f->target ? f->target : "");
	x->f.summary = diag_strdup(f->summary ? f->summary : "");
	x->f.detail = diag_strdup(f->detail);
	x->f.hint = diag_strdup(f->hint);
	x->f.evidence = f->evidence ? json_incref(f->evidence) : json_object();
	x->area = dash_area_of(f);
	x->seen_ms = now_ms;
	if (!x->f.id || !x->f.target || !x->f.summary || !x->f.evidence ||
	    (f->domain && !x->f.domain) || (f->object && !x->f.object) ||
	    (f->detail && !x->f.detail) || (f->hint && !x->f.hint)) {
		finding_free(x);
		return NULL;
	}
	return x;
}

/*
 * What a summary says, without what changes from one run to the next
 * while nothing changed: durations ("in 3 ms", "cached for 297 s"), the
 * random probe token of HTTP-01 URLs, the side of a clock offset near 0.
 * Two summaries that differ only there are the same answer.
 */
static void words_of(const char *s, char *out, size_t len)
{
	size_t o = 0;
	while (*s && o + 2 < len) {
		if (isdigit((unsigned char)*s)) {
			const char *e = s;
			while (isdigit((unsigned char)*e) || *e == '.' || *e == ',')
				e++;
			const char *u = *e == ' ' ? e + 1 : e;
			size_t ul = !strncmp(u, "ms", 2) ? 2 : *u == 's' ? 1 : 0;
			if (ul && !isalnum((unsigned char)u[ul])) {
				out[o++] = '#';
				s = e;
				continue;
			}
			while (s < e && o + 2 < len)
				out[o++] = *s++;
			continue;
		}
		if (!strncmp(s, "/acme-challenge/", 16)) {
			for (int i = 0; i < 16 && o + 2 < len; i++)
				out[o++] = *s++;
			while (isalnum((unsigned char)*s) || *s == '-' || *s == '_')
				s++;
			out[o++] = '*';
			continue;
		}
		if (!strncmp(s, "ahead", 5) || !strncmp(s, "behind", 6)) {
			s += *s == 'a' ? 5 : 6;
			out[o++] = '~';
			continue;
		}
		out[o++] = *s++;
	}
	out[o] = '\0';
}

static int same_words(const char *a, const char *b)
{
	char wa[1024], wb[1024];
	words_of(a ? a : "", wa, sizeof(wa));
	words_of(b ? b : "", wb, sizeof(wb));
	return !strcmp(wa, wb);
}

/* ---- rows ---- */

static void row_free(struct dash_row *r)
{
	for (size_t i = 0; i < r->n; i++)
		finding_free(r->v[i]);
	for (size_t i = 0; i < r->ntl; i++)
		free(r->tl[i].text);
	free(r->v);
	free(r->tl);
	free(r->name);
	free(r->object);
}

static void row_own(struct dash_row *r)
{
	enum diag_status st = r->n ? DIAG_OK : DIAG_SKIP;
	for (size_t i = 0; i < r->n; i++)
		st = worse(st, r->v[i]->f.status);
	r->own = st;
}

static int row_append(struct dash_row *r, struct dash_finding *x)
{
	if (dash_grow((void **)&r->v, &r->cap, r->n, sizeof(*r->v), 32))
		return -1;
	r->v[r->n++] = x;
	return 0;
}

/* An event on the row's timeline; the oldest goes when it is full. Out of
 * memory loses the event, nothing else. */
static void event(struct dash_row *r, int64_t wall_ms, enum diag_status st, char *text)
{
	if (!text)
		return;
	if (r->ntl == DASH_TIMELINE_MAX) {
		free(r->tl[0].text);
		memmove(r->tl, r->tl + 1, (r->ntl - 1) * sizeof(*r->tl));
		r->ntl--;
	}
	if (dash_grow((void **)&r->tl, &r->captl, r->ntl, sizeof(*r->tl), 8)) {
		free(text);
		return;
	}
	r->tl[r->ntl++] = (struct dash_event){ .wall_ms = wall_ms, .status = st, .text = text };
}

static const char *st_name(enum diag_status st)
{
	return diag_status_name(st);
}

/* ---- the model ---- */

void dash_model_init(struct dash_model *m)
{
	memset(m, 0, sizeof(*m));
	m->shared.own = DIAG_SKIP;
}

void dash_model_free(struct dash_model *m)
{
	for (size_t i = 0; i < m->n; i++)
		row_free(&m->rows[i]);
	row_free(&m->shared);
	free(m->rows);
	free(m->hash);
	memset(m, 0, sizeof(*m));
}

static size_t hash_of(const char *name, const char *object)
{
	size_t h = 1469598103934665603u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	h = (h ^ 0xff) * 1099511628211u;
	for (const char *p = object ? object : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	return h;
}

static void hash_put(struct dash_model *m, size_t idx)
{
	size_t mask = m->hcap - 1;
	for (size_t h = hash_of(m->rows[idx].name, m->rows[idx].object) & mask;; h = (h + 1) & mask)
		if (!m->hash[h]) {
			m->hash[h] = idx + 1;
			return;
		}
}

int dash_model_add(struct dash_model *m, const char *name, const char *object)
{
	if (dash_grow((void **)&m->rows, &m->cap, m->n, sizeof(*m->rows), 64))
		return -1;
	if (2 * (m->n + 1) > m->hcap) {  /* at most half full */
		size_t hcap = m->hcap ? 2 * m->hcap : 128;
		size_t *hash = calloc(hcap, sizeof(*hash));
		if (!hash)
			return -1;
		free(m->hash);
		m->hash = hash;
		m->hcap = hcap;
		for (size_t i = 0; i < m->n; i++)
			hash_put(m, i);
	}
	struct dash_row *r = &m->rows[m->n];
	*r = (struct dash_row){ .name = diag_strdup(name), .object = diag_strdup(object),
	                        .order = m->n, .own = DIAG_SKIP };
	if (!r->name || (object && !r->object)) {
		row_free(r);
		return -1;
	}
	hash_put(m, m->n++);
	m->version++;
	return 0;
}

size_t dash_model_find(const struct dash_model *m, const char *name, const char *object)
{
	if (!name || !m->hcap)
		return DASH_NONE;
	size_t mask = m->hcap - 1;
	for (size_t h = hash_of(name, object) & mask; m->hash[h]; h = (h + 1) & mask) {
		const struct dash_row *r = &m->rows[m->hash[h] - 1];
		if (!strcmp(r->name, name) && streq0(r->object, object))
			return m->hash[h] - 1;
	}
	return DASH_NONE;
}

struct dash_row *dash_model_row(struct dash_model *m, size_t idx)
{
	return idx == DASH_SHARED ? &m->shared : idx < m->n ? &m->rows[idx] : NULL;
}

const struct dash_row *dash_model_crow(const struct dash_model *m, size_t idx)
{
	return idx == DASH_SHARED ? &m->shared : idx < m->n ? &m->rows[idx] : NULL;
}

void dash_model_queue(struct dash_model *m, size_t idx)
{
	struct dash_row *r = dash_model_row(m, idx);
	if (r && r->state == DASH_IDLE) {
		r->state = DASH_QUEUED;
		m->version++;
	}
}

unsigned dash_model_begin(struct dash_model *m, size_t idx, int64_t now_ms)
{
	struct dash_row *r = dash_model_row(m, idx);
	if (!r)
		return 0;
	for (size_t i = 0; i < r->n; i++)
		r->v[i]->stale = !r->v[i]->keep;
	r->state = DASH_RUNNING;
	r->run = ++m->next_run;
	r->started_ms = now_ms;
	m->version++;
	return r->run;
}

int dash_model_finding(struct dash_model *m, size_t idx, unsigned run,
                       const struct diag_finding *f, int64_t now_ms, int64_t wall_ms)
{
	struct dash_row *r = dash_model_row(m, idx);
	if (!r || r->state != DASH_RUNNING || run != r->run)
		return 0;
	/* the previous run's finding it answers again: same id and target,
	 * the one that says the same if several do */
	size_t at = r->n;
	for (size_t i = 0; i < r->n; i++) {
		const struct dash_finding *x = r->v[i];
		if (!x->stale || strcmp(x->f.id, f->id) || !streq0(x->f.target, f->target))
			continue;
		if (at == r->n)
			at = i;
		if (x->f.status == f->status && same_words(x->f.summary, f->summary)) {
			at = i;
			break;
		}
	}
	int again = at < r->n;
	struct dash_finding *nf = finding_copy(f, now_ms);
	if (!nf || (!again && row_append(r, nf))) {
		finding_free(nf);
		return -1;
	}
	if (again) {
		struct dash_finding *old = r->v[at];
		if (r->runs && old->f.status != nf->f.status)
			event(r, wall_ms, nf->f.status, diag_asprintf("%s->%s %s %s: %s",
			      st_name(old->f.status), st_name(nf->f.status), nf->f.id, nf->f.target,
			      nf->f.summary));
		else if (r->runs && !same_words(old->f.summary, nf->f.summary))
			event(r, wall_ms, nf->f.status, diag_asprintf("changed %s %s: %s", nf->f.id,
			      nf->f.target, nf->f.summary));
		r->v[at] = nf;
		finding_free(old);
	} else if (r->runs) {
		event(r, wall_ms, nf->f.status, diag_asprintf("new %s %s %s: %s", st_name(nf->f.status),
		      nf->f.id, nf->f.target, nf->f.summary));
	}
	row_own(r);
	m->version++;
	return 1;
}

void dash_model_end(struct dash_model *m, size_t idx, unsigned run, int64_t now_ms,
                    int64_t wall_ms)
{
	struct dash_row *r = dash_model_row(m, idx);
	if (!r || r->state != DASH_RUNNING || run != r->run)
		return;
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct dash_finding *x = r->v[i];
		if (!x->stale) {
			r->v[k++] = x;
			continue;
		}
		if (r->runs)
			event(r, wall_ms, DIAG_OK, diag_asprintf("gone %s %s (was %s: %s)", x->f.id,
			      x->f.target, st_name(x->f.status), x->f.summary));
		finding_free(x);
	}
	r->n = k;
	row_own(r);
	if (!r->runs) {
		size_t c[DIAG_ERROR + 1] = {0};
		for (size_t i = 0; i < r->n; i++)
			c[r->v[i]->f.status]++;
		event(r, wall_ms, r->own, diag_asprintf("first answers: %s (%zu error, %zu fail, "
		      "%zu warn, %zu ok)", r->n ? st_name(r->own) : "nothing found", c[DIAG_ERROR],
		      c[DIAG_FAIL], c[DIAG_WARN], c[DIAG_OK]));
	} else if (r->last != r->own) {
		event(r, wall_ms, r->own, diag_asprintf("status %s->%s", st_name(r->last),
		      st_name(r->own)));
	}
	r->last = r->own;
	r->runs++;
	r->state = DASH_IDLE;
	r->ended_ms = now_ms;
	m->version++;
}

static int keep_in(struct dash_model *m, size_t idx, const struct diag_finding *f,
                   int64_t now_ms)
{
	struct dash_row *r = dash_model_row(m, idx);
	struct dash_finding *nf = finding_copy(f, now_ms);
	if (!nf || row_append(r, nf)) {
		finding_free(nf);
		return -1;
	}
	nf->keep = 1;
	row_own(r);
	m->version++;
	return 0;
}

int dash_model_keep(struct dash_model *m, const struct diag_finding *f, int64_t now_ms)
{
	size_t idx = f->domain ? dash_model_find(m, f->domain, f->object) : DASH_NONE;
	if (idx != DASH_NONE)
		return keep_in(m, idx, f, now_ms);
	int kept = 0;  /* an object several names came from: in each of their rows */
	for (size_t i = 0; f->object && i < m->n; i++)
		if (streq0(m->rows[i].object, f->object)) {
			if (keep_in(m, i, f, now_ms))
				return -1;
			kept = 1;
		}
	return kept ? 0 : keep_in(m, DASH_SHARED, f, now_ms);
}

/* ---- reading ---- */

int dash_row_pending(const struct dash_model *m, size_t idx)
{
	const struct dash_row *r = dash_model_crow(m, idx);
	return r && !r->n && !r->runs;
}

enum diag_status dash_row_status(const struct dash_model *m, size_t idx)
{
	const struct dash_row *r = dash_model_crow(m, idx);
	if (!r || (!r->n && !r->runs))
		return DIAG_SKIP;
	enum diag_status st = r->n ? r->own : DIAG_OK;
	return idx == DASH_SHARED || m->shared.own == DIAG_SKIP ? st : worse(st, m->shared.own);
}

int dash_row_busy(const struct dash_model *m, size_t idx)
{
	const struct dash_row *r = dash_model_crow(m, idx);
	return r && r->state != DASH_IDLE;
}

void dash_model_cell(const struct dash_model *m, size_t idx, enum dash_area a,
                     struct dash_cell *out)
{
	memset(out, 0, sizeof(*out));
	out->status = DIAG_SKIP;
	if (idx != DASH_SHARED && (a == DASH_ACME || a == DASH_CLOCK || a == DASH_RESOLVERS))
		idx = DASH_SHARED;
	const struct dash_row *r = dash_model_crow(m, idx);
	if (!r)
		return;
	int stale = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct dash_finding *x = r->v[i];
		if (x->area != a)
			continue;
		out->has = 1;
		out->n++;
		stale |= x->stale;
		if (x->seen_ms > out->seen_ms)
			out->seen_ms = x->seen_ms;
		if (x->f.status != DIAG_SKIP && (!out->worst || rank(x->f.status) > rank(out->status))) {
			out->status = x->f.status;
			out->worst = x;
		}
		if (a == DASH_DNS01 && !strcmp(x->f.id, "dns01.txt")) {
			const char *role = json_string_value(json_object_get(x->f.evidence, "role"));
			if (role && !strcmp(role, "authoritative")) {
				out->txt_auth++;
				/* with --expect, a server holding other values fails:
				 * it does not have the record the CA will look for */
				out->txt_have += x->f.status == DIAG_OK &&
				                 json_array_size(json_object_get(x->f.evidence, "values")) > 0;
			}
		}
	}
	if (!out->worst)
		for (size_t i = 0; i < r->n && !out->worst; i++)
			if (r->v[i]->area == a)
				out->worst = r->v[i];
	/* a first run may bring more to an area at any time; a later one has
	 * answered an area again once none of its old answers is left */
	out->pending = r->state != DASH_IDLE && (!r->runs || !out->has || stale);
}

struct sort_key {
	size_t idx;
	int rank;
	int64_t age;
	const char *name;
};

static int key_order(const struct sort_key *a, const struct sort_key *b)
{
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int by_status(const void *pa, const void *pb)
{
	const struct sort_key *a = pa, *b = pb;
	return a->rank != b->rank ? b->rank - a->rank : key_order(a, b);
}

static int by_name(const void *pa, const void *pb)
{
	const struct sort_key *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);
	return c ? c : key_order(a, b);
}

/* Oldest answer first; rows without one last. */
static int by_age(const void *pa, const void *pb)
{
	const struct sort_key *a = pa, *b = pb;
	if (a->age != b->age)
		return !a->age ? 1 : !b->age ? -1 : a->age < b->age ? -1 : 1;
	return key_order(a, b);
}

static int contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; hay && *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return 1;
	return n == 0;
}

size_t dash_model_visible(const struct dash_model *m, const struct dash_query *q,
                          size_t *out)
{
	struct sort_key *keys = malloc((m->n ? m->n : 1) * sizeof(*keys));
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct dash_row *r = &m->rows[i];
		if (q->filter && *q->filter && !contains_nocase(r->name, q->filter) &&
		    !contains_nocase(r->object, q->filter))
			continue;
		enum diag_status st = dash_row_status(m, i);
		if (q->nonok && rank(st) <= rank(DIAG_OK))
			continue;
		if (!keys) {  /* out of memory: unsorted, but every row */
			out[k++] = i;
			continue;
		}
		keys[k++] = (struct sort_key){ .idx = i, .rank = rank(st), .name = r->name,
		                               .age = dash_row_age_base(m, i) };
	}
	if (!keys)
		return k;
	qsort(keys, k, sizeof(*keys), q->sort == DASH_SORT_NAME ? by_name
	      : q->sort == DASH_SORT_AGE ? by_age : by_status);
	for (size_t i = 0; i < k; i++)
		out[i] = keys[i].idx;
	free(keys);
	return k;
}

static int finding_order(const struct dash_finding *a, size_t ia, const struct dash_finding *b,
                         size_t ib)
{
	if (rank(a->f.status) != rank(b->f.status))
		return rank(b->f.status) - rank(a->f.status);
	if (a->area != b->area)
		return a->area < b->area ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

/* Insert x (position pos in its row) into out[0..n), sorted. */
static size_t insert_sorted(const struct dash_finding **out, size_t *pos, size_t n,
                            const struct dash_finding *x, size_t p)
{
	size_t i = n;
	while (i > 0 && finding_order(out[i - 1], pos[i - 1], x, p) > 0) {
		out[i] = out[i - 1];
		pos[i] = pos[i - 1];
		i--;
	}
	out[i] = x;
	pos[i] = p;
	return n + 1;
}

size_t dash_model_nfindings(const struct dash_model *m, size_t idx)
{
	const struct dash_row *r = dash_model_crow(m, idx);
	if (!r)
		return 0;
	size_t n = r->n;
	for (size_t i = 0; idx != DASH_SHARED && i < m->shared.n; i++)
		n += rank(m->shared.v[i]->f.status) > rank(DIAG_OK);
	return n;
}

size_t dash_model_findings(const struct dash_model *m, size_t idx,
                           const struct dash_finding **out, size_t max)
{
	const struct dash_row *r = dash_model_crow(m, idx);
	size_t total = dash_model_nfindings(m, idx);
	size_t *pos = malloc((total ? total : 1) * sizeof(*pos));
	if (!r || !pos) {
		free(pos);
		return 0;
	}
	size_t n = 0;
	for (size_t i = 0; i < r->n && n < max; i++)
		n = insert_sorted(out, pos, n, r->v[i], i);
	size_t own = n;
	for (size_t i = 0; idx != DASH_SHARED && i < m->shared.n && n < max; i++)
		if (rank(m->shared.v[i]->f.status) > rank(DIAG_OK)) {
			/* after the name's own findings, sorted among themselves */
			size_t j = n;
			while (j > own && finding_order(out[j - 1], pos[j - 1], m->shared.v[i], i) > 0) {
				out[j] = out[j - 1];
				pos[j] = pos[j - 1];
				j--;
			}
			out[j] = m->shared.v[i];
			pos[j] = i;
			n++;
		}
	free(pos);
	return n;
}

struct diag_diagnosis *dash_model_diagnose(const struct dash_model *m, size_t idx)
{
	const struct dash_row *r = dash_model_crow(m, idx);
	if (!r)
		return NULL;
	size_t cap = m->shared.n + (idx == DASH_SHARED ? 0 : r->n);
	struct diag_finding **v = calloc(cap ? cap : 1, sizeof(*v));
	if (!v)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < m->shared.n; i++)
		v[n++] = &m->shared.v[i]->f;
	for (size_t i = 0; idx != DASH_SHARED && i < r->n; i++)
		v[n++] = &r->v[i]->f;
	struct diag_report rep = { .tool = "acme-dash", .v = v, .n = n, .cap = cap };
	struct diag_diagnosis *d = diag_diagnose(&rep);
	free(v);
	return d;
}

void dash_model_counts(const struct dash_model *m, struct dash_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < m->n; i++) {
		if (dash_row_pending(m, i))
			c->pending++;
		else
			c->status[dash_row_status(m, i)]++;
		c->running += m->rows[i].state == DASH_RUNNING;
		c->queued += m->rows[i].state == DASH_QUEUED;
	}
}

int64_t dash_row_age_base(const struct dash_model *m, size_t idx)
{
	const struct dash_row *r = dash_model_crow(m, idx);
	if (!r)
		return 0;
	if (r->ended_ms)
		return r->ended_ms;
	int64_t t = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i]->seen_ms > t)
			t = r->v[i]->seen_ms;
	return t;
}
