/* SPDX-License-Identifier: ISC */
/* view.c - acme-dash's view state, keys and frames (no terminal here). */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "dash/grow.h"
#include "dash/view.h"

#define SPIN_MS 250
static const char spinner[] = "|/-\\";

/* ---- text that fits ---- */

/*
 * Walk s for at most w display columns: in a UTF-8 locale a character
 * takes its width (a wide one two); otherwise every byte that is not
 * ASCII shows as '?', and so does a byte that is not UTF-8. Control
 * characters become spaces. Copies what fits to out (when not NULL: room
 * for strlen(s) + 1), sets *cols to the columns used; returns the bytes
 * of s walked.
 */
static size_t walk(const char *s, int w, char *out, int *cols)
{
	int c = 0;
	size_t o = 0;
	mbstate_t st;
	memset(&st, 0, sizeof(st));
	int utf8 = MB_CUR_MAX > 1;
	const char *p = s;
	while (*p && c < w) {
		unsigned char ch = (unsigned char)*p;
		wchar_t wc;
		size_t k = ch < 0x80 || !utf8 ? 1 : mbrtowc(&wc, p, strlen(p), &st);
		int cw = ch < 0x80 || !utf8 ? 1 : k == (size_t)-1 || k == (size_t)-2 || k == 0 ? -1
			: wcwidth(wc);
		if (cw < 0) {  /* not a character: one '?' for the byte */
			memset(&st, 0, sizeof(st));
			k = cw = 1;
			ch = '?';
		} else if (c + cw > w) {
			break;
		}
		if (out && k == 1) {
			out[o++] = ch < 0x20 || ch == 0x7f ? ' ' : ch < 0x80 ? (char)ch : '?';
		} else if (out) {
			memcpy(out + o, p, k);
			o += k;
		}
		c += cw;
		p += k;
	}
	if (out)
		out[o] = '\0';
	if (cols)
		*cols = c;
	return (size_t)(p - s);
}

/* s cut to at most w columns (see walk()); NULL when out of memory. */
static char *fit(const char *s, int w, int *cols)
{
	char *out = malloc(strlen(s) + 1);
	if (out)
		walk(s, w, out, cols);
	return out;
}

/* The bytes of s that fit w columns. */
static size_t fit_len(const char *s, int w)
{
	return walk(s, w, NULL, NULL);
}

/* ---- frames ---- */

void dash_frame_free(struct dash_frame *f)
{
	for (int y = 0; f->line && y < f->rows; y++) {
		for (size_t i = 0; i < f->line[y].n; i++)
			free(f->line[y].seg[i].text);
		free(f->line[y].seg);
	}
	free(f->line);
	memset(f, 0, sizeof(*f));
}

static int frame_reset(struct dash_frame *f, int rows, int cols)
{
	dash_frame_free(f);
	f->rows = rows;
	f->cols = cols;
	f->line = calloc((size_t)(rows > 0 ? rows : 1), sizeof(*f->line));
	return f->line ? 0 : -1;
}

/* Put s at (y, x), at most w columns (w <= 0: to the end of the line).
 * Returns the columns used; out of memory drops the text. */
static int put(struct dash_frame *f, int y, int x, enum dash_attr a, const char *s, int w)
{
	if (y < 0 || y >= f->rows || x >= f->cols || !s || !*s)
		return 0;
	if (w <= 0 || x + w > f->cols)
		w = f->cols - x;
	struct dash_line *l = &f->line[y];
	if (dash_grow((void **)&l->seg, &l->cap, l->n, sizeof(*l->seg), 8))
		return 0;
	int used = 0;
	char *t = fit(s, w, &used);
	if (!t)
		return 0;
	l->seg[l->n++] = (struct dash_seg){ .x = x, .attr = a, .text = t };
	return used;
}

char *dash_line_text(const struct dash_line *l)
{
	size_t len = 0;
	for (size_t i = 0; i < l->n; i++)
		len += (size_t)l->seg[i].x + strlen(l->seg[i].text) + 1;
	char *s = calloc(len + 1, 1);
	if (!s)
		return NULL;
	size_t end = 0;  /* bytes; columns and bytes agree for ASCII, which is what tests read */
	for (size_t i = 0; i < l->n; i++) {
		size_t x = (size_t)l->seg[i].x;
		while (end < x)
			s[end++] = ' ';
		size_t n = strlen(l->seg[i].text);
		memcpy(s + x, l->seg[i].text, n);
		if (x + n > end)
			end = x + n;
	}
	while (end > 0 && s[end - 1] == ' ')
		end--;
	s[end] = '\0';
	return s;
}

enum dash_attr dash_status_attr(enum diag_status st)
{
	switch (st) {
	case DIAG_OK: return DASH_A_OK;
	case DIAG_WARN: return DASH_A_WARN;
	case DIAG_FAIL: return DASH_A_FAIL;
	case DIAG_ERROR: return DASH_A_ERROR;
	default: return DASH_A_SKIP;
	}
}

/* ---- times ---- */

void dash_age_text(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
}

/* When the age text of an answer seen at base next changes. */
static int64_t age_next(int64_t base, int64_t now)
{
	int64_t age = now - base, unit = age < 60000 ? 1000 : age < 3600000 ? 60000
		: age < 86400000 ? 3600000 : 86400000;
	return base + (age / unit + 1) * unit;
}

enum clock_form { CLOCK_HM, CLOCK_HMS, CLOCK_FULL };

/* Local time: 12:03, 12:03:41 or 2026-11-22 12:03:41. */
static void clock_text(int64_t wall_ms, enum clock_form form, char *buf, size_t len)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	if (!localtime_r(&t, &tm))
		snprintf(buf, len, "?");
	else if (form == CLOCK_HM)
		snprintf(buf, len, "%02d:%02d", tm.tm_hour, tm.tm_min);
	else if (form == CLOCK_HMS)
		snprintf(buf, len, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- the table's columns ---- */

enum col { C_NAME, C_STATUS, C_DNS, C_HTTP, C_ACME, C_CLOCK, C_AGE, C_N };

static const struct {
	const char *title;
	int min, want;
} coldef[C_N] = {
	/* ACME and CLOCK say the same on every row (they are shared): narrow */
	[C_NAME] = {"NAME", 12, 24}, [C_STATUS] = {"STATUS", 6, 6}, [C_DNS] = {"DNS-01", 10, 40},
	[C_HTTP] = {"HTTP-01", 10, 40}, [C_ACME] = {"ACME", 9, 12}, [C_CLOCK] = {"CLOCK", 9, 12},
	[C_AGE] = {"AGE", 4, 4},
};

/* What stays when the terminal is narrow: first things first. */
static const enum col priority[C_N] = { C_NAME, C_STATUS, C_DNS, C_HTTP, C_AGE, C_ACME, C_CLOCK };

struct layout {
	int x[C_N], w[C_N];   /* w 0: not shown */
};

#define MARK_W 2          /* the selection mark and a space */

/* Columns for a line cols wide: the most important that fit at their
 * least, then the room left shared out. */
static void layout_for(int cols, struct layout *L)
{
	memset(L, 0, sizeof(*L));
	int avail = cols - MARK_W, used = 0, shown = 0;
	for (int i = 0; i < C_N; i++) {
		enum col c = priority[i];
		int need = coldef[c].min + (shown ? 1 : 0);
		if (used + need > avail)
			break;  /* drop it and everything less important */
		L->w[c] = coldef[c].min;
		used += need;
		shown++;
	}
	int extra = avail - used;
	for (int grew = 1; extra > 0 && grew;) {   /* towards what each wants */
		grew = 0;
		for (int i = 0; i < C_N && extra > 0; i++) {
			enum col c = priority[i];
			if (L->w[c] && L->w[c] < coldef[c].want) {
				L->w[c]++;
				extra--;
				grew = 1;
			}
		}
	}
	static const enum col wide[] = { C_DNS, C_HTTP, C_NAME };
	for (int i = 0; extra > 0; i = (i + 1) % 3)   /* the rest: the cells that say most */
		if (L->w[wide[i]]) {
			L->w[wide[i]]++;
			extra--;
		} else if (!L->w[C_DNS] && !L->w[C_HTTP]) {
			L->w[C_NAME] += extra;
			extra = 0;
		}
	int x = MARK_W;
	for (int c = 0; c < C_N; c++)
		if (L->w[c]) {
			L->x[c] = x;
			x += L->w[c] + 1;
		}
}

/* The few words of a cell: the TXT count for DNS-01, the worst finding's
 * summary when not ok, else the one finding's summary or how many. */
static void cell_words(const struct dash_cell *c, enum dash_area a, char *buf, size_t len)
{
	buf[0] = '\0';
	size_t o = 0;
	if (a == DASH_DNS01 && c->txt_auth)
		o = (size_t)snprintf(buf, len, "TXT %d/%d", c->txt_have, c->txt_auth);
	if (o >= len)
		return;
	if (c->worst && (c->status > DIAG_OK || (c->n == 1 && !o)))
		snprintf(buf + o, len - o, "%s%s", o ? " " : "", c->worst->f.summary);
	else if (!o && c->n)
		snprintf(buf, len, "%zu ok", c->n);
}

static char spin_char(int64_t now_ms)
{
	return spinner[(now_ms / SPIN_MS) % 4];
}

/* A cell at (y, x), w wide: status word (coloured), a spinner while its
 * answers are on their way, and its words. */
static void put_cell(struct dash_frame *f, int y, int x, int w, const struct dash_model *m,
                     size_t idx, enum dash_area a, int64_t now_ms)
{
	struct dash_cell c;
	dash_model_cell(m, idx, a, &c);
	char spin[3] = { spin_char(now_ms), ' ', '\0' };
	if (!c.has) {
		put(f, y, x, DASH_A_DIM, c.pending ? spin : "-", w);
		return;
	}
	const char *word = diag_status_name(c.status);
	int used = put(f, y, x, dash_status_attr(c.status), word, w);
	if (used < w)
		used++;
	if (c.pending && used < w)
		used += put(f, y, x + used, DASH_A_DIM, spin, w - used);
	char words[512];
	cell_words(&c, a, words, sizeof(words));
	if (used < w)
		put(f, y, x + used, DASH_A_NORMAL, words, w - used);
}

static void put_row(struct dash_frame *f, int y, const struct layout *L,
                    const struct dash_model *m, size_t idx, int selected, int64_t now_ms)
{
	const struct dash_row *r = dash_model_crow(m, idx);
	if (selected) {
		f->line[y].selected = 1;
		put(f, y, 0, DASH_A_BOLD, ">", 1);
	}
	char name[600];
	if (idx == DASH_SHARED)
		snprintf(name, sizeof(name), "(shared)");
	else
		snprintf(name, sizeof(name), "%s%s%s%s", r->name, r->object ? " (" : "",
		         r->object ? r->object : "", r->object ? ")" : "");
	put(f, y, L->x[C_NAME], idx == DASH_SHARED ? DASH_A_DIM : DASH_A_NORMAL, name, L->w[C_NAME]);
	char spin[2] = { spin_char(now_ms), '\0' };
	if (dash_row_pending(m, idx))
		put(f, y, L->x[C_STATUS], DASH_A_DIM, dash_row_busy(m, idx) ? spin : "-",
		    L->w[C_STATUS]);
	else {
		enum diag_status st = dash_row_status(m, idx);
		put(f, y, L->x[C_STATUS], dash_status_attr(st), diag_status_name(st), L->w[C_STATUS]);
	}
	static const struct { enum col c; enum dash_area a; } cells[] = {
		{C_DNS, DASH_DNS01}, {C_HTTP, DASH_HTTP01}, {C_ACME, DASH_ACME}, {C_CLOCK, DASH_CLOCK},
	};
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		enum dash_area a = cells[i].a;
		if (!L->w[cells[i].c])
			continue;
		if (idx == DASH_SHARED && a == DASH_HTTP01)
			continue;
		if (idx == DASH_SHARED && a == DASH_DNS01)
			a = DASH_RESOLVERS;  /* the resolvers every name's DNS-01 goes through */
		put_cell(f, y, L->x[cells[i].c], L->w[cells[i].c], m, idx, a, now_ms);
	}
	if (L->w[C_AGE]) {
		int64_t base = dash_row_age_base(m, idx);
		char age[16] = "-";
		if (base)
			dash_age_text(now_ms - base, age, sizeof(age));
		put(f, y, L->x[C_AGE], DASH_A_DIM, age, L->w[C_AGE]);
	}
}

static void put_titles(struct dash_frame *f, int y, const struct layout *L)
{
	for (int c = 0; c < C_N; c++)
		if (L->w[c])
			put(f, y, L->x[c], DASH_A_TITLE, coldef[c].title, L->w[c]);
}

/* ---- the view state and keys ---- */

void dash_ui_init(struct dash_ui *ui, long interval)
{
	memset(ui, 0, sizeof(*ui));
	ui->interval = interval;
	ui->sel = DASH_NONE;
	ui->rows = 24;
	ui->cols = 80;
}

void dash_ui_free(struct dash_ui *ui)
{
	free(ui->did);
	free(ui->dtarget);
	ui->did = ui->dtarget = NULL;
}

/* The table's rows: the shared row, then the names shown. malloc'd. */
static size_t table_list(const struct dash_model *m, const struct dash_ui *ui, size_t **out)
{
	size_t *v = malloc((m->n + 1) * sizeof(*v));
	*out = v;
	if (!v)
		return 0;
	struct dash_query q = { .filter = ui->filter, .nonok = ui->nonok, .sort = ui->sort };
	v[0] = DASH_SHARED;
	return 1 + dash_model_visible(m, &q, v + 1);
}

/* Where the selection is in list; a selection that is not shown moves to
 * the first name (or the shared row when none is shown). */
static size_t table_pos(struct dash_ui *ui, const size_t *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == ui->sel)
			return i;
	size_t p = n > 1 ? 1 : 0;
	ui->sel = list[p];
	return p;
}

/* The header's two lines, a title line (column titles, or what the pane
 * shows), the body, the footer. */
#define TITLE_Y 2
#define BODY_Y 3

static int body_rows(const struct dash_ui *ui)
{
	int b = ui->rows - BODY_Y - 1;
	return b > 1 ? b : 1;
}

/* Move a position by key within [0, n); returns 1 when the key moves. */
static int move_by_key(size_t *pos, size_t n, int key, int page)
{
	size_t p = *pos;
	switch (key) {
	case DASH_KEY_UP: case 'k': p = p ? p - 1 : 0; break;
	case DASH_KEY_DOWN: case 'j': p = p + 1 < n ? p + 1 : p; break;
	case DASH_KEY_PGUP: p = p > (size_t)page ? p - (size_t)page : 0; break;
	case DASH_KEY_PGDN: p = p + (size_t)page < n ? p + (size_t)page : n ? n - 1 : 0; break;
	case DASH_KEY_HOME: case 'g': p = 0; break;
	case DASH_KEY_END: case 'G': p = n ? n - 1 : 0; break;
	default: return 0;
	}
	*pos = p;
	return 1;
}

static int filter_key(struct dash_ui *ui, int key)
{
	size_t n = strlen(ui->filter);
	if (key == DASH_KEY_ENTER) {
		ui->editing = 0;
	} else if (key == DASH_KEY_ESC) {
		ui->editing = 0;
		ui->filter[0] = '\0';
	} else if (key == DASH_KEY_BACKSPACE) {
		if (n)
			ui->filter[n - 1] = '\0';
	} else if (key >= 0x20 && key < 0x7f && n + 1 < sizeof(ui->filter)) {
		ui->filter[n] = (char)key;
		ui->filter[n + 1] = '\0';
	}
	ui->top = 0;
	return DASH_UI_REDRAW;
}

static int table_key(struct dash_ui *ui, const struct dash_model *m, int key)
{
	switch (key) {
	case '/':
		ui->editing = 1;
		return DASH_UI_REDRAW;
	case 'f':
		ui->nonok = !ui->nonok;
		ui->top = 0;
		return DASH_UI_REDRAW;
	case 's':
		ui->sort = (enum dash_sort)((ui->sort + 1) % DASH_NSORTS);
		snprintf(ui->msg, sizeof(ui->msg), "sorted by %s", dash_sort_name(ui->sort));
		return DASH_UI_REDRAW;
	case DASH_KEY_ESC:
		ui->filter[0] = '\0';
		ui->nonok = 0;
		return DASH_UI_REDRAW;
	case DASH_KEY_ENTER:
		ui->mode = DASH_MODE_NAME;
		ui->fsel = ui->ftop = 0;
		return DASH_UI_REDRAW;
	}
	size_t *list, n = table_list(m, ui, &list);
	if (!list)
		return 0;
	size_t p = table_pos(ui, list, n);
	int moved = move_by_key(&p, n, key, body_rows(ui) - 1);
	ui->sel = list[p];
	free(list);
	return moved ? DASH_UI_REDRAW : 0;
}

static void set_detail(struct dash_ui *ui, const struct dash_finding *x)
{
	dash_ui_free(ui);
	ui->did = diag_strdup(x->f.id);
	ui->dtarget = diag_strdup(x->f.target);
	ui->dtop = 0;
}

static int name_key(struct dash_ui *ui, const struct dash_model *m, int key)
{
	size_t n = dash_model_nfindings(m, ui->sel);
	if (key == DASH_KEY_ESC || key == DASH_KEY_BACKSPACE || key == 'h') {
		ui->mode = DASH_MODE_TABLE;
		return DASH_UI_REDRAW;
	}
	if (key == DASH_KEY_ENTER) {
		const struct dash_finding **v = n ? malloc(n * sizeof(*v)) : NULL;
		size_t k = v ? dash_model_findings(m, ui->sel, v, n) : 0;
		if (ui->fsel < k) {
			set_detail(ui, v[ui->fsel]);
			ui->mode = DASH_MODE_DETAIL;
		}
		free(v);
		return DASH_UI_REDRAW;
	}
	return move_by_key(&ui->fsel, n, key, body_rows(ui) / 2) ? DASH_UI_REDRAW : 0;
}

static int detail_key(struct dash_ui *ui, int key)
{
	if (key == DASH_KEY_ESC || key == DASH_KEY_BACKSPACE || key == 'h') {
		ui->mode = DASH_MODE_NAME;
		return DASH_UI_REDRAW;
	}
	/* the frame stops the scroll at the last line */
	return move_by_key(&ui->dtop, (size_t)-1, key, body_rows(ui) - 1) ? DASH_UI_REDRAW : 0;
}

int dash_ui_key(struct dash_ui *ui, const struct dash_model *m, int key)
{
	int had_msg = ui->msg[0] != '\0';
	ui->msg[0] = '\0';
	if (key == DASH_KEY_RESIZE)
		return DASH_UI_REDRAW;
	if (key == DASH_KEY_REFRESH || key == 0x0c)  /* Ctrl-L */
		return DASH_UI_REDRAW | DASH_UI_REFRESH;
	if (ui->editing)
		return filter_key(ui, key);
	if (ui->mode == DASH_MODE_HELP) {
		if (key == 'q')
			return DASH_UI_QUIT;
		ui->mode = ui->help_from;
		return DASH_UI_REDRAW;
	}
	switch (key) {
	case 'q':
		return DASH_UI_QUIT;
	case '?':
		ui->help_from = ui->mode;
		ui->mode = DASH_MODE_HELP;
		return DASH_UI_REDRAW;
	case 'p':
		ui->paused = !ui->paused;
		return DASH_UI_REDRAW | DASH_UI_PAUSE;
	case 'R':
		return DASH_UI_REDRAW | DASH_UI_RERUN_ALL;
	case 'r':
		return DASH_UI_REDRAW | (ui->sel == DASH_SHARED ? DASH_UI_RERUN_ALL : DASH_UI_RERUN);
	}
	int rc = ui->mode == DASH_MODE_TABLE ? table_key(ui, m, key)
		: ui->mode == DASH_MODE_NAME ? name_key(ui, m, key) : detail_key(ui, key);
	return rc | (had_msg ? DASH_UI_REDRAW : 0);
}

/* ---- the header and footer ---- */

static void put_header(struct dash_frame *f, const struct dash_ui *ui,
                       const struct dash_model *m, int64_t wall_ms)
{
	struct dash_counts c;
	dash_model_counts(m, &c);
	char clk[16], buf[160];
	clock_text(wall_ms, CLOCK_HM, clk, sizeof(clk));
	int x = put(f, 0, 0, DASH_A_BOLD, "acme-dash", 0);
	snprintf(buf, sizeof(buf), " %s  %zu name%s:", clk, m->n, m->n == 1 ? "" : "s");
	x += put(f, 0, x, DASH_A_NORMAL, buf, 0);
	static const enum diag_status order[] = { DIAG_OK, DIAG_WARN, DIAG_FAIL, DIAG_ERROR };
	for (size_t i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), " %zu ", c.status[order[i]]);
		x += put(f, 0, x, DASH_A_NORMAL, buf, 0);
		x += put(f, 0, x, dash_status_attr(order[i]), diag_status_name(order[i]), 0);
	}
	if (c.pending) {
		snprintf(buf, sizeof(buf), " %zu pending", c.pending);
		x += put(f, 0, x, DASH_A_DIM, buf, 0);
	}
	snprintf(buf, sizeof(buf), " | in flight %zu", c.running + (m->shared.state == DASH_RUNNING));
	x += put(f, 0, x, DASH_A_NORMAL, buf, 0);
	if (c.queued) {
		snprintf(buf, sizeof(buf), ", queued %zu", c.queued);
		put(f, 0, x, DASH_A_NORMAL, buf, 0);
	}
	/* the second line: how the names are shown and re-run */
	if (ui->paused)
		snprintf(buf, sizeof(buf), "paused (p resumes)");
	else if (ui->interval)
		snprintf(buf, sizeof(buf), "re-run every %lds", ui->interval);
	else
		snprintf(buf, sizeof(buf), "re-run on r or R");
	x = put(f, 1, 0, ui->paused ? DASH_A_WARN : DASH_A_DIM, buf, 0);
	snprintf(buf, sizeof(buf), " | sort %s%s%s", dash_sort_name(ui->sort),
	         ui->nonok ? " | non-ok only" : "", ui->filter[0] && !ui->editing ? " | filter /" : "");
	x += put(f, 1, x, DASH_A_DIM, buf, 0);
	if (ui->filter[0] && !ui->editing)
		put(f, 1, x, DASH_A_BOLD, ui->filter, 0);
}

static void put_footer(struct dash_frame *f, const struct dash_ui *ui)
{
	int y = f->rows - 1;
	if (ui->editing) {
		int x = put(f, y, 0, DASH_A_BOLD, "/", 1);
		x += put(f, y, x, DASH_A_NORMAL, ui->filter, 0);
		f->cursor = 1;
		f->cx = x < f->cols ? x : f->cols - 1;
		f->cy = y;
		put(f, y, x + 2, DASH_A_DIM, "Enter keep  Esc clear", 0);
		return;
	}
	if (ui->msg[0]) {
		put(f, y, 0, DASH_A_BOLD, ui->msg, 0);
		return;
	}
	static const char *const keys[] = {
		[DASH_MODE_TABLE] = "q quit  j/k move  Enter findings  r re-run  R all  / filter  "
		                    "f non-ok  s sort  p pause  ? help",
		[DASH_MODE_NAME] = "Esc back  j/k move  Enter detail  r re-run  R all  p pause  ? help  "
		                   "q quit",
		[DASH_MODE_DETAIL] = "Esc back  j/k scroll  r re-run  ? help  q quit",
		[DASH_MODE_HELP] = "any key: back  q quit",
	};
	put(f, y, 0, DASH_A_DIM, keys[ui->mode], 0);
}

/* ---- the table ---- */

static void build_table(struct dash_frame *f, struct dash_ui *ui, const struct dash_model *m,
                        int64_t now_ms)
{
	struct layout L;
	layout_for(f->cols, &L);
	put_titles(f, TITLE_Y, &L);
	size_t *list, n = table_list(m, ui, &list);
	if (!list)
		return;
	size_t p = table_pos(ui, list, n), body = (size_t)body_rows(ui);
	if (p < ui->top)
		ui->top = p;
	if (p >= ui->top + body)
		ui->top = p - body + 1;
	if (ui->top + body > n)
		ui->top = n > body ? n - body : 0;
	for (size_t i = ui->top; i < n && i < ui->top + body; i++)
		put_row(f, BODY_Y + (int)(i - ui->top), &L, m, list[i], list[i] == ui->sel, now_ms);
	if (n == 1 && m->n)
		put(f, BODY_Y + 1, MARK_W, DASH_A_DIM, ui->filter[0] || ui->nonok
		    ? "no name matches (Esc shows all)" : "", 0);
	free(list);
}

/* ---- the name pane ---- */

/* Lines of text with what they show, before they are placed. */
struct pane_line {
	enum dash_attr attr;
	char *text;
	enum dash_attr lead_attr;  /* a status word first, coloured; DASH_A_NORMAL: none */
	const char *lead;
	long finding;              /* the finding it belongs to, -1 none */
};

struct pane {
	struct pane_line *v;
	size_t n, cap;
};

static void pane_add(struct pane *p, enum dash_attr a, const char *lead, enum dash_attr la,
                     long finding, char *text)
{
	if (!text)
		return;
	if (dash_grow((void **)&p->v, &p->cap, p->n, sizeof(*p->v), 64)) {
		free(text);
		return;
	}
	p->v[p->n++] = (struct pane_line){ .attr = a, .text = text, .lead = lead, .lead_attr = la,
	                                   .finding = finding };
}

static void pane_free(struct pane *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].text);
	free(p->v);
}

/* Text wrapped to width columns, each line added with prefix. */
static void pane_wrap(struct pane *p, enum dash_attr a, const char *prefix, const char *s,
                      int width)
{
	int w = width - (int)strlen(prefix);
	if (w < 10)
		w = 10;
	const char *q = s ? s : "";
	do {
		size_t k = fit_len(q, w);
		const char *nl = memchr(q, '\n', k);
		if (nl)
			k = (size_t)(nl - q);
		else if (q[k] && q[k] != ' ') {  /* break at a space when there is one */
			size_t b = k;
			while (b > 0 && q[b - 1] != ' ')
				b--;
			if (b > 0)
				k = b;
		}
		pane_add(p, a, NULL, DASH_A_NORMAL, -1, diag_asprintf("%s%.*s", prefix, (int)k, q));
		q += k;
		while (*q == ' ' || *q == '\n')
			q++;
	} while (*q);
}

static void build_causes(struct pane *p, const struct dash_model *m, size_t idx)
{
	struct diag_diagnosis *d = dash_model_diagnose(m, idx);
	if (!d)
		return;
	if (!d->n)
		pane_add(p, DASH_A_DIM, NULL, DASH_A_NORMAL, -1, diag_strdup("causes: none, nothing to fix"));
	else
		pane_add(p, DASH_A_BOLD, NULL, DASH_A_NORMAL, -1,
		         diag_asprintf("causes, the first to fix first (%zu):", d->n));
	for (size_t i = 0; i < d->n && i < 5; i++) {
		const struct diag_cause *c = &d->v[i];
		pane_add(p, DASH_A_NORMAL, diag_status_name(c->impact), dash_status_attr(c->impact), -1,
		         diag_asprintf("%zu. %s (%s; %s)", i + 1, c->title ? c->title : c->root->id,
		                       c->root->target, diag_actor_text(c->actor)));
	}
	if (d->n > 5)
		pane_add(p, DASH_A_DIM, NULL, DASH_A_NORMAL, -1, diag_asprintf("... and %zu more", d->n - 5));
	diag_diagnosis_free(d);
}

static void put_pane_line(struct dash_frame *f, int y, const struct pane_line *l, int selected)
{
	int x = 0;
	if (selected) {
		f->line[y].selected = 1;
		put(f, y, 0, DASH_A_BOLD, ">", 1);
	}
	x = MARK_W;
	if (l->lead) {
		x += put(f, y, x, l->lead_attr, l->lead, 0);
		x++;
	}
	put(f, y, x, l->attr, l->text, 0);
}

static void build_name(struct dash_frame *f, struct dash_ui *ui, const struct dash_model *m,
                       int64_t now_ms)
{
	const struct dash_row *r = dash_model_crow(m, ui->sel);
	if (!r) {
		ui->mode = DASH_MODE_TABLE;
		return;
	}
	char title[700], age[16] = "-";
	int64_t base = dash_row_age_base(m, ui->sel);
	if (base)
		dash_age_text(now_ms - base, age, sizeof(age));
	enum diag_status st = dash_row_status(m, ui->sel);
	int x = put(f, TITLE_Y, 0, DASH_A_TITLE, ui->sel == DASH_SHARED ? "(shared: every name)"
	            : r->name, 0);
	x += put(f, TITLE_Y, x, DASH_A_TITLE, " ", 1);
	x += put(f, TITLE_Y, x, dash_status_attr(st), dash_row_pending(m, ui->sel) ? "pending"
	         : diag_status_name(st), 0);
	snprintf(title, sizeof(title), "%s%s%s  answers %s old%s", r->object ? "  " : "",
	         r->object ? r->object : "", "", age, r->state == DASH_RUNNING ? ", a run in flight"
	         : r->state == DASH_QUEUED ? ", a run queued" : "");
	put(f, TITLE_Y, x, DASH_A_NORMAL, title, 0);

	/* the findings, worst first, with their hints; the causes above */
	struct pane p = {0};
	build_causes(&p, m, ui->sel);
	size_t nf = dash_model_nfindings(m, ui->sel);
	const struct dash_finding **v = nf ? malloc(nf * sizeof(*v)) : NULL;
	nf = v ? dash_model_findings(m, ui->sel, v, nf) : 0;
	if (ui->fsel >= nf)
		ui->fsel = nf ? nf - 1 : 0;
	pane_add(&p, DASH_A_BOLD, NULL, DASH_A_NORMAL, -1, diag_asprintf("findings, worst first (%zu):", nf));
	for (size_t i = 0; i < nf; i++) {
		const struct diag_finding *fd = &v[i]->f;
		int shared = ui->sel != DASH_SHARED && i >= r->n;
		pane_add(&p, v[i]->stale ? DASH_A_DIM : DASH_A_NORMAL, diag_status_name(fd->status),
		         dash_status_attr(fd->status), (long)i,
		         diag_asprintf("%s%s %s %s: %s", shared ? "shared " : "", dash_area_name(v[i]->area),
		                       fd->id, fd->target, fd->summary));
		if (fd->status > DIAG_OK && fd->hint)
			pane_add(&p, DASH_A_DIM, NULL, DASH_A_NORMAL, (long)i, diag_asprintf("     fix: %s", fd->hint));
	}
	free(v);

	/* the timeline below, newest first */
	int body = body_rows(ui);
	int tlh = r->ntl ? (int)r->ntl : 1;
	int tlmax = body / 3 > 3 ? body / 3 : 3;
	if (tlh > tlmax)
		tlh = tlmax;
	int listh = body - tlh - 1;
	if (listh < 1)
		listh = 1;
	/* keep the selected finding's lines in view */
	size_t first = 0, last = 0;
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].finding == (long)ui->fsel) {
			if (!last)
				first = i;
			last = i + 1;
		}
	if (last) {
		if (first < ui->ftop)
			ui->ftop = first;
		if (last > ui->ftop + (size_t)listh)
			ui->ftop = last - (size_t)listh;
		if (ui->fsel == 0 && last <= (size_t)listh)
			ui->ftop = 0;  /* the first finding: the causes above it too */
	}
	if (ui->ftop + (size_t)listh > p.n)
		ui->ftop = p.n > (size_t)listh ? p.n - (size_t)listh : 0;
	for (int i = 0; i < listh && ui->ftop + (size_t)i < p.n; i++) {
		const struct pane_line *l = &p.v[ui->ftop + (size_t)i];
		put_pane_line(f, BODY_Y + i, l, l->finding == (long)ui->fsel && l->lead && nf);
	}
	pane_free(&p);
	int y = BODY_Y + listh;
	put(f, y++, 0, DASH_A_TITLE, "timeline, newest first", 0);
	if (!r->ntl)
		put(f, y, MARK_W, DASH_A_DIM, "nothing yet: changes between runs show here", 0);
	for (int i = 0; i < tlh && (size_t)i < r->ntl; i++) {
		const struct dash_event *e = &r->tl[r->ntl - 1 - (size_t)i];
		char clk[16];
		clock_text(e->wall_ms, CLOCK_HMS, clk, sizeof(clk));
		int tx = MARK_W + put(f, y + i, MARK_W, DASH_A_DIM, clk, 0) + 1;
		put(f, y + i, tx, dash_status_attr(e->status) == DASH_A_OK ? DASH_A_NORMAL
		    : dash_status_attr(e->status), e->text, 0);
	}
}

/* ---- one finding ---- */

static const struct dash_finding *detail_finding(const struct dash_ui *ui,
                                                 const struct dash_model *m)
{
	size_t nf = dash_model_nfindings(m, ui->sel);
	const struct dash_finding **v = nf ? malloc(nf * sizeof(*v)) : NULL;
	nf = v ? dash_model_findings(m, ui->sel, v, nf) : 0;
	const struct dash_finding *x = NULL;
	for (size_t i = 0; i < nf && !x; i++)
		if (ui->did && ui->dtarget && !strcmp(v[i]->f.id, ui->did) &&
		    !strcmp(v[i]->f.target, ui->dtarget))
			x = v[i];
	free(v);
	return x;
}

static void build_detail(struct dash_frame *f, struct dash_ui *ui, const struct dash_model *m,
                         int64_t now_ms)
{
	const struct dash_finding *x = detail_finding(ui, m);
	struct pane p = {0};
	int w = f->cols - MARK_W;
	if (!x) {
		put(f, TITLE_Y, 0, DASH_A_TITLE, ui->did ? ui->did : "", 0);
		put(f, BODY_Y, MARK_W, DASH_A_DIM, "gone: the last run did not find this again (Esc)", 0);
		return;
	}
	const struct diag_finding *fd = &x->f;
	int tx = put(f, TITLE_Y, 0, dash_status_attr(fd->status), diag_status_name(fd->status), 0);
	char *title = diag_asprintf(" %s %s (%s)", fd->id, fd->target, dash_area_name(x->area));
	put(f, TITLE_Y, tx, DASH_A_TITLE, title, 0);
	free(title);
	if (fd->domain)
		pane_wrap(&p, DASH_A_NORMAL, "name:     ", fd->domain, w);
	if (fd->object)
		pane_wrap(&p, DASH_A_NORMAL, "object:   ", fd->object, w);
	pane_wrap(&p, DASH_A_NORMAL, "summary:  ", fd->summary, w);
	if (fd->detail)
		pane_wrap(&p, DASH_A_NORMAL, "detail:   ", fd->detail, w);
	if (fd->hint)
		pane_wrap(&p, DASH_A_BOLD, "hint:     ", fd->hint, w);
	char age[16];
	dash_age_text(now_ms - x->seen_ms, age, sizeof(age));
	char *when = fd->duration_ms >= 0 ? diag_asprintf("%lld ms; answered %s ago%s",
	             (long long)fd->duration_ms, age, x->stale ? " (a new run is on its way)" : "")
		: diag_asprintf("answered %s ago%s", age, x->stale ? " (a new run is on its way)" : "");
	pane_wrap(&p, DASH_A_DIM, "took:     ", when, w);
	free(when);
	pane_add(&p, DASH_A_BOLD, NULL, DASH_A_NORMAL, -1, diag_strdup("evidence:"));
	char *ev = json_dumps(fd->evidence, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	for (char *line = ev, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		pane_wrap(&p, DASH_A_NORMAL, "  ", line, w);
		if (!next)
			break;
	}
	free(ev);
	size_t body = (size_t)body_rows(ui);
	if (ui->dtop + body > p.n)
		ui->dtop = p.n > body ? p.n - body : 0;
	for (size_t i = 0; i < body && ui->dtop + i < p.n; i++)
		put_pane_line(f, BODY_Y + (int)i, &p.v[ui->dtop + i], 0);
	pane_free(&p);
}

/* ---- help ---- */

static void build_help(struct dash_frame *f)
{
	static const char *const lines[] = {
		"acme-dash: every name's checks, live. Keys:",
		"  Up/Down j/k   move; PgUp/PgDn Home/End (g/G) jump",
		"  Enter         the selected name: causes, findings worst first with hints, timeline",
		"                on a finding: its detail and evidence",
		"  Esc Backspace back (in the table: clear the filter)",
		"  r             re-run the selected name (the shared row: every name)",
		"  R             re-run every name",
		"  /             filter names (Enter keeps it, Esc clears it)",
		"  f             only names that are not ok",
		"  s             sort: status (worst first), name, age (oldest answer first)",
		"  p             pause (or resume) the --interval re-runs",
		"  Ctrl-L        repaint the screen",
		"  ?             this help;  q  quit",
		"",
		"A cell: its worst status, a spinner while a run is on its way, a few words;",
		"DNS-01 counts the authoritative servers that have the _acme-challenge TXT.",
		"The (shared) row: the resolvers, the ACME server and account, the clock.",
	};
	put(f, TITLE_Y, 0, DASH_A_TITLE, "help", 0);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		put(f, BODY_Y + (int)i, 0, DASH_A_NORMAL, lines[i], 0);
}

int dash_frame_build(struct dash_frame *f, struct dash_ui *ui, const struct dash_model *m,
                     int64_t now_ms, int64_t wall_ms)
{
	if (frame_reset(f, ui->rows, ui->cols))
		return -1;
	if (ui->rows < BODY_Y + 2 || ui->cols < 24) {
		put(f, 0, 0, DASH_A_BOLD, "acme-dash: terminal too small", 0);
		return 0;
	}
	put_header(f, ui, m, wall_ms);
	switch (ui->mode) {
	case DASH_MODE_TABLE: build_table(f, ui, m, now_ms); break;
	case DASH_MODE_NAME: build_name(f, ui, m, now_ms); break;
	case DASH_MODE_DETAIL: build_detail(f, ui, m, now_ms); break;
	case DASH_MODE_HELP: build_help(f); break;
	}
	if (ui->mode == DASH_MODE_TABLE && !f->line[TITLE_Y].n)
		build_table(f, ui, m, now_ms);  /* a pane whose row is gone fell back */
	put_footer(f, ui);
	return 0;
}

int64_t dash_view_next_change(const struct dash_model *m, const struct dash_ui *ui,
                              int64_t now_ms, int64_t wall_ms)
{
	(void)ui;
	int busy = m->shared.state != DASH_IDLE;
	for (size_t i = 0; i < m->n && !busy; i++)
		busy = m->rows[i].state != DASH_IDLE;
	if (busy)
		return (now_ms / SPIN_MS + 1) * SPIN_MS;
	int64_t next = now_ms + (60000 - wall_ms % 60000);  /* the clock's minute */
	int64_t base = dash_row_age_base(m, DASH_SHARED);
	if (base && age_next(base, now_ms) < next)
		next = age_next(base, now_ms);
	for (size_t i = 0; i < m->n; i++)
		if ((base = dash_row_age_base(m, i)) && age_next(base, now_ms) < next)
			next = age_next(base, now_ms);
	return next;
}

/* ---- --once ---- */

struct text {
	char *s;
	size_t len, cap;
	int oom;
};

/* Append s (taking it); out of memory marks t. */
static void text_add(struct text *t, char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (!s || t->oom) {
		t->oom = 1;
		free(s);
		return;
	}
	if (t->len + n + 1 > t->cap) {
		size_t cap = 2 * (t->len + n + 1);
		char *ns = realloc(t->s, cap);
		if (!ns) {
			t->oom = 1;
			free(s);
			return;
		}
		t->s = ns;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n + 1);
	t->len += n;
	free(s);
}

char *dash_snapshot(const struct dash_model *m, int width, int verbose, int64_t now_ms,
                    int64_t wall_ms)
{
	struct dash_counts c;
	dash_model_counts(m, &c);
	struct dash_frame f = {0};
	struct text t = {0};
	if (width < 40)
		width = 40;
	if (frame_reset(&f, (int)m->n + 3, width))
		return NULL;
	char clk[32], head[256];
	clock_text(wall_ms, CLOCK_FULL, clk, sizeof(clk));
	snprintf(head, sizeof(head), "acme-dash %s: %zu name%s: %zu ok, %zu warn, %zu fail, %zu error",
	         clk, m->n, m->n == 1 ? "" : "s", c.status[DIAG_OK], c.status[DIAG_WARN],
	         c.status[DIAG_FAIL], c.status[DIAG_ERROR]);
	put(&f, 0, 0, DASH_A_NORMAL, head, 0);
	struct layout L;
	layout_for(width, &L);
	put_titles(&f, 1, &L);
	put_row(&f, 2, &L, m, DASH_SHARED, 0, now_ms);
	for (size_t i = 0; i < m->n; i++)
		put_row(&f, 3 + (int)i, &L, m, i, 0, now_ms);
	for (int y = 0; y < f.rows; y++) {
		text_add(&t, dash_line_text(&f.line[y]));
		text_add(&t, diag_strdup("\n"));
	}
	dash_frame_free(&f);
	for (size_t i = 0; verbose && i <= m->n; i++) {
		size_t idx = i == m->n ? DASH_SHARED : i;
		size_t nf = dash_model_nfindings(m, idx);
		const struct dash_finding **v = nf ? malloc(nf * sizeof(*v)) : NULL;
		nf = v ? dash_model_findings(m, idx, v, nf) : 0;
		size_t own = dash_model_crow(m, idx)->n;  /* the shared ones: once, under (shared) */
		for (size_t k = 0; k < nf && k < own; k++) {
			const struct diag_finding *fd = &v[k]->f;
			if (fd->status <= DIAG_OK)
				continue;
			text_add(&t, diag_asprintf("\n%s: %s %s %s: %s\n", idx == DASH_SHARED ? "(shared)"
			                           : m->rows[idx].name, diag_status_name(fd->status), fd->id,
			                           fd->target, fd->summary));
			if (fd->hint)
				text_add(&t, diag_asprintf("  fix: %s\n", fd->hint));
		}
		free(v);
	}
	if (t.oom) {
		free(t.s);
		return NULL;
	}
	return t.s ? t.s : diag_strdup("");
}
