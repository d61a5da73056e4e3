/* SPDX-License-Identifier: ISC */
/* Unit tests: acme-dash's model and view without a terminal. Findings go
 * in as the probes make them (ids, targets, evidence); rows, cells,
 * timelines and frames come out. The lab test (dash.t) drives the real
 * binary under tmux. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <cmocka.h>

#include "dash/model.h"
#include "dash/view.h"

/* A finding as a probe makes it: dns01.txt carries its role and values. */
static struct diag_finding *mk(struct diag_report *r, const char *domain, enum diag_status st,
                               const char *id, const char *target, const char *summary)
{
	struct diag_finding *f = diag_add(r, st, id, target, "%s", summary);
	free(f->domain);
	f->domain = domain ? strdup(domain) : NULL;
	if (st > DIAG_OK)
		diag_set_hint(f, "fix %s at %s", id, target);
	return f;
}

static struct diag_finding *txt(struct diag_report *r, const char *domain, const char *server,
                                int has)
{
	struct diag_finding *f = mk(r, domain, DIAG_OK, "dns01.txt", server,
	                            has ? "ns: _acme-challenge has \"v\"" : "ns: no TXT yet (NXDOMAIN)");
	diag_evidence(f, "role", json_string("authoritative"));
	json_t *vals = json_array();
	if (has)
		json_array_append_new(vals, json_string("v"));
	diag_evidence(f, "values", vals);
	return f;
}

struct fixture {
	struct dash_model m;
	struct diag_report *r;   /* findings are made here, then fed */
	int64_t now;
};

static int setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));
	dash_model_init(&x->m);
	x->r = diag_report_new("test", "0", NULL);
	x->now = 1000000;
	assert_int_equal(dash_model_add(&x->m, "a.test", NULL), 0);
	assert_int_equal(dash_model_add(&x->m, "b.test", NULL), 0);
	assert_int_equal(dash_model_add(&x->m, "c.test", "Challenge ns/c-1"), 0);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *x = *state;
	dash_model_free(&x->m);
	diag_report_free(x->r);
	free(x);
	return 0;
}

/* Feed the last finding made into row idx's run. */
static int feed(struct fixture *x, size_t idx, unsigned run)
{
	x->now += 10;
	return dash_model_finding(&x->m, idx, run, x->r->v[x->r->n - 1], x->now, 1796000000000 + x->now);
}

static const struct dash_event *last_event(const struct dash_row *r)
{
	return r->ntl ? &r->tl[r->ntl - 1] : NULL;
}

static int has_event(const struct dash_row *r, const char *text)
{
	for (size_t i = 0; i < r->ntl; i++)
		if (strstr(r->tl[i].text, text))
			return 1;
	return 0;
}

/* One run of a.test: its DNS-01 (2 of 3 servers with the TXT) and
 * HTTP-01 (a dead IPv6 address), and the shared ACME and clock. */
static void first_run(struct fixture *x)
{
	unsigned sh = dash_model_begin(&x->m, DASH_SHARED, x->now);
	unsigned a = dash_model_begin(&x->m, 0, x->now);
	txt(x->r, "a.test", "192.0.2.53", 1); feed(x, 0, a);
	txt(x->r, "a.test", "192.0.2.54", 0); feed(x, 0, a);
	txt(x->r, "a.test", "2001:db8::53", 1); feed(x, 0, a);
	mk(x->r, "a.test", DIAG_WARN, "dns01.agreement", "_acme-challenge.a.test", "servers disagree"); feed(x, 0, a);
	mk(x->r, "a.test", DIAG_FAIL, "http01.addr", "2001:db8:dead::80", "Timeout during connect in 5000 ms"); feed(x, 0, a);
	mk(x->r, "a.test", DIAG_OK, "http01.addr", "192.0.2.80", "404 for a random probe token"); feed(x, 0, a);
	mk(x->r, NULL, DIAG_OK, "acme.directory", "https://ca/dir", "directory ok"); feed(x, DASH_SHARED, sh);
	mk(x->r, NULL, DIAG_OK, "clock.skew", "https://ca/dir", "local clock 0.3 s ahead of ca"); feed(x, DASH_SHARED, sh);
	dash_model_end(&x->m, 0, a, x->now, 0);
	dash_model_end(&x->m, DASH_SHARED, sh, x->now, 0);
}

/* With --expect, a server that has other TXT values fails (dns01.txt):
 * it is not counted among those that have the record. */
static void txt_count_is_the_expected_value(void **state)
{
	struct fixture *x = *state;
	unsigned run = dash_model_begin(&x->m, 1, x->now);
	txt(x->r, "b.test", "192.0.2.53", 1); feed(x, 1, run);
	txt(x->r, "b.test", "192.0.2.54", 1)->status = DIAG_FAIL; feed(x, 1, run);
	txt(x->r, "b.test", "2001:db8::53", 0); feed(x, 1, run);
	dash_model_end(&x->m, 1, run, x->now, 0);
	struct dash_cell c;
	dash_model_cell(&x->m, 1, DASH_DNS01, &c);
	assert_int_equal(c.txt_auth, 3);
	assert_int_equal(c.txt_have, 1);
	assert_int_equal(c.status, DIAG_FAIL);
}

static void cells_per_area(void **state)
{
	struct fixture *x = *state;
	/* during a first run, every cell may get more: pending */
	unsigned b = dash_model_begin(&x->m, 1, x->now);
	mk(x->r, "b.test", DIAG_OK, "dns.zone", "b.test", "zone"); feed(x, 1, b);
	struct dash_cell c;
	dash_model_cell(&x->m, 1, DASH_DNS01, &c);
	assert_true(c.has && c.pending);
	first_run(x);
	dash_model_cell(&x->m, 0, DASH_DNS01, &c);
	assert_true(c.has);
	assert_int_equal(c.status, DIAG_WARN);
	assert_string_equal(c.worst->f.id, "dns01.agreement");
	assert_int_equal(c.txt_auth, 3);
	assert_int_equal(c.txt_have, 2);
	assert_false(c.pending);
	dash_model_cell(&x->m, 0, DASH_HTTP01, &c);
	assert_int_equal(c.status, DIAG_FAIL);
	assert_string_equal(c.worst->f.target, "2001:db8:dead::80");
	/* ACME and clock of a name are the shared row's */
	dash_model_cell(&x->m, 1, DASH_CLOCK, &c);
	assert_true(c.has);
	assert_int_equal(c.status, DIAG_OK);
	assert_string_equal(c.worst->f.id, "clock.skew");
	/* a name never run: nothing yet */
	dash_model_cell(&x->m, 2, DASH_DNS01, &c);
	assert_false(c.has);
	assert_true(dash_row_pending(&x->m, 2));
	assert_int_equal(dash_row_status(&x->m, 0), DIAG_FAIL);
	struct dash_counts n;
	dash_model_counts(&x->m, &n);
	assert_int_equal(n.status[DIAG_FAIL], 1);
	assert_int_equal(n.status[DIAG_OK], 1);
	assert_int_equal(n.pending, 1);
	assert_int_equal(n.running, 1);
}

/* A shared failure makes every name that has answers fail too. */
static void shared_status_counts(void **state)
{
	struct fixture *x = *state;
	first_run(x);
	unsigned b = dash_model_begin(&x->m, 1, x->now);
	mk(x->r, "b.test", DIAG_OK, "dns.zone", "_acme-challenge.b.test", "zone b.test"); feed(x, 1, b);
	dash_model_end(&x->m, 1, b, x->now, 0);
	assert_int_equal(dash_row_status(&x->m, 1), DIAG_OK);
	unsigned sh = dash_model_begin(&x->m, DASH_SHARED, x->now);
	mk(x->r, NULL, DIAG_FAIL, "clock.skew", "https://ca/dir", "local clock 400 s behind"); feed(x, DASH_SHARED, sh);
	assert_int_equal(dash_row_status(&x->m, 1), DIAG_FAIL);
	assert_int_equal(dash_row_status(&x->m, 2), DIAG_SKIP);  /* still nothing of its own */
}

/* While a run is on its way, the old answers stay and the cell says it
 * is pending until the area has answered again. */
static void rerun_keeps_old_answers(void **state)
{
	struct fixture *x = *state;
	first_run(x);
	unsigned a = dash_model_begin(&x->m, 0, x->now);
	struct dash_cell c;
	dash_model_cell(&x->m, 0, DASH_HTTP01, &c);
	assert_true(c.has && c.pending);
	assert_int_equal(c.status, DIAG_FAIL);
	mk(x->r, "a.test", DIAG_OK, "http01.addr", "2001:db8:dead::80", "404 for a random probe token"); feed(x, 0, a);
	dash_model_cell(&x->m, 0, DASH_HTTP01, &c);
	assert_true(c.pending);  /* 192.0.2.80 has not answered again */
	mk(x->r, "a.test", DIAG_OK, "http01.addr", "192.0.2.80", "404 for a random probe token"); feed(x, 0, a);
	dash_model_cell(&x->m, 0, DASH_HTTP01, &c);
	assert_false(c.pending);
	assert_int_equal(c.status, DIAG_OK);
	assert_true(dash_row_busy(&x->m, 0));
	dash_model_end(&x->m, 0, a, x->now, 0);
	assert_false(dash_row_busy(&x->m, 0));
	/* what the run did not find again is gone */
	dash_model_cell(&x->m, 0, DASH_DNS01, &c);
	assert_false(c.has);
	assert_true(has_event(&x->m.rows[0], "gone dns01.agreement _acme-challenge.a.test"));
}

/* The timeline: the first answers, then each change between runs; a
 * summary that differs only in a duration or the random probe token is
 * the same answer. */
static void timeline_records_changes(void **state)
{
	struct fixture *x = *state;
	first_run(x);
	const struct dash_row *r = &x->m.rows[0];
	assert_int_equal(r->ntl, 1);
	assert_non_null(strstr(r->tl[0].text, "first answers: fail"));
	unsigned a = dash_model_begin(&x->m, 0, x->now);
	txt(x->r, "a.test", "192.0.2.53", 1); feed(x, 0, a);
	txt(x->r, "a.test", "192.0.2.54", 1); feed(x, 0, a);          /* ns2 now has the TXT */
	txt(x->r, "a.test", "2001:db8::53", 1); feed(x, 0, a);
	mk(x->r, "a.test", DIAG_WARN, "dns01.agreement", "_acme-challenge.a.test", "servers disagree"); feed(x, 0, a);
	mk(x->r, "a.test", DIAG_FAIL, "http01.addr", "2001:db8:dead::80", "Timeout during connect in 5001 ms"); feed(x, 0, a);
	mk(x->r, "a.test", DIAG_WARN, "http01.addr", "192.0.2.80", "200 for a random probe token"); feed(x, 0, a);
	assert_int_equal(r->ntl, 3);
	assert_non_null(strstr(r->tl[1].text, "changed dns01.txt 192.0.2.54: ns: _acme-challenge has \"v\""));
	assert_int_equal(r->tl[1].wall_ms, 1796000000000 + x->now - 40);
	assert_non_null(strstr(last_event(r)->text, "ok->warn http01.addr 192.0.2.80"));
	assert_int_equal(last_event(r)->status, DIAG_WARN);
	dash_model_end(&x->m, 0, a, x->now, 0);
	assert_int_equal(r->ntl, 3);  /* the status is fail as before: no status event */

	/* the HTTP-01 URL's random token and a duration change each run */
	a = dash_model_begin(&x->m, 0, x->now);
	mk(x->r, "a.test", DIAG_FAIL, "http01.addr", "2001:db8:dead::80", "Timeout during connect in 4990 ms"); feed(x, 0, a);
	mk(x->r, "a.test", DIAG_OK, "http01.ca", "a.test", "GET http://a.test/.well-known/acme-challenge/AbC-1_x in 3 ms"); feed(x, 0, a);
	size_t before = r->ntl;
	dash_model_end(&x->m, 0, a, x->now, 0);
	assert_true(r->ntl > before);  /* the rest is gone; status fail->fail */
	a = dash_model_begin(&x->m, 0, x->now);
	before = r->ntl;
	mk(x->r, "a.test", DIAG_FAIL, "http01.addr", "2001:db8:dead::80", "Timeout during connect in 5000 ms"); feed(x, 0, a);
	mk(x->r, "a.test", DIAG_OK, "http01.ca", "a.test", "GET http://a.test/.well-known/acme-challenge/ZZZ9 in 12 ms"); feed(x, 0, a);
	assert_int_equal(r->ntl, before);
	dash_model_end(&x->m, 0, a, x->now, 0);
	assert_int_equal(r->ntl, before);
	/* the row's status itself */
	a = dash_model_begin(&x->m, 0, x->now);
	mk(x->r, "a.test", DIAG_OK, "http01.addr", "2001:db8:dead::80", "404"); feed(x, 0, a);
	mk(x->r, "a.test", DIAG_OK, "http01.ca", "a.test", "GET http://a.test/.well-known/acme-challenge/Q in 1 ms"); feed(x, 0, a);
	dash_model_end(&x->m, 0, a, x->now, 0);
	assert_non_null(strstr(last_event(r)->text, "status fail->ok"));
}

/* A newer run of the shared row wins: the older one's late findings and
 * its end are ignored. */
static void older_run_ignored(void **state)
{
	struct fixture *x = *state;
	unsigned old = dash_model_begin(&x->m, DASH_SHARED, x->now);
	unsigned cur = dash_model_begin(&x->m, DASH_SHARED, x->now);
	mk(x->r, NULL, DIAG_FAIL, "acme.directory", "https://ca/dir", "not usable");
	assert_int_equal(feed(x, DASH_SHARED, old), 0);
	dash_model_end(&x->m, DASH_SHARED, old, x->now, 0);
	assert_int_equal(x->m.shared.n, 0);
	assert_true(dash_row_busy(&x->m, DASH_SHARED));
	assert_int_equal(feed(x, DASH_SHARED, cur), 1);
	dash_model_end(&x->m, DASH_SHARED, cur, x->now, 0);
	assert_int_equal(x->m.shared.own, DIAG_FAIL);
	/* and a row that is not running takes nothing */
	mk(x->r, "b.test", DIAG_OK, "dns.zone", "b.test", "zone");
	assert_int_equal(feed(x, 1, x->m.rows[1].run), 0);
}

/* Findings made before the checks stay for good, in their object's row. */
static void kept_findings(void **state)
{
	struct fixture *x = *state;
	assert_int_equal(dash_model_add(&x->m, "www.c.test", "Challenge ns/c-1"), 0);
	struct diag_finding *f = mk(x->r, NULL, DIAG_FAIL, "k8s.challenge", "Challenge ns/c-1", "pending");
	f->object = strdup("Challenge ns/c-1");
	assert_int_equal(dash_model_keep(&x->m, f, x->now), 0);
	assert_int_equal(x->m.rows[2].n, 1);
	assert_int_equal(x->m.rows[3].n, 1);  /* every name of the object */
	assert_int_equal(x->m.rows[0].n, 0);
	unsigned c = dash_model_begin(&x->m, 2, x->now);
	dash_model_end(&x->m, 2, c, x->now, 0);
	assert_int_equal(x->m.rows[2].n, 1);
	assert_int_equal(dash_row_status(&x->m, 2), DIAG_FAIL);
	struct dash_cell cell;
	dash_model_cell(&x->m, 2, DASH_K8S, &cell);
	assert_int_equal(cell.status, DIAG_FAIL);
	/* without a row of its own: the shared row */
	mk(x->r, NULL, DIAG_OK, "acme.store", "/etc/x", "account read");
	assert_int_equal(dash_model_keep(&x->m, x->r->v[x->r->n - 1], x->now), 0);
	assert_int_equal(x->m.shared.n, 1);
}

static void visible_rows(void **state)
{
	struct fixture *x = *state;
	first_run(x);  /* a.test fail; b.test, c.test pending */
	unsigned b = dash_model_begin(&x->m, 1, x->now);
	mk(x->r, "b.test", DIAG_OK, "dns.zone", "b.test", "zone"); feed(x, 1, b);
	dash_model_end(&x->m, 1, b, x->now + 5000, 0);
	size_t out[3];
	struct dash_query q = { .sort = DASH_SORT_STATUS };
	assert_int_equal(dash_model_visible(&x->m, &q, out), 3);
	assert_int_equal(out[0], 0);  /* fail first */
	assert_int_equal(out[1], 1);  /* then ok */
	assert_int_equal(out[2], 2);  /* nothing yet: last */
	q.sort = DASH_SORT_NAME;
	q.filter = "B.TE";
	assert_int_equal(dash_model_visible(&x->m, &q, out), 1);
	assert_int_equal(out[0], 1);
	q.filter = "c-1";  /* the object too */
	assert_int_equal(dash_model_visible(&x->m, &q, out), 1);
	assert_int_equal(out[0], 2);
	q.filter = NULL;
	q.nonok = 1;
	assert_int_equal(dash_model_visible(&x->m, &q, out), 1);
	assert_int_equal(out[0], 0);
	q.nonok = 0;
	q.sort = DASH_SORT_AGE;  /* oldest answer first, none last */
	assert_int_equal(dash_model_visible(&x->m, &q, out), 3);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[2], 2);
}

/* A name's findings worst first, the shared ones that are not ok after;
 * its diagnosis explains them with the shared causes too. */
static void findings_and_causes(void **state)
{
	struct fixture *x = *state;
	first_run(x);
	unsigned sh = dash_model_begin(&x->m, DASH_SHARED, x->now);
	mk(x->r, NULL, DIAG_WARN, "dns.resolver.edns", "192.0.2.10", "no EDNS"); feed(x, DASH_SHARED, sh);
	size_t n = dash_model_nfindings(&x->m, 0);
	assert_int_equal(n, 7);
	const struct dash_finding *v[8];
	assert_int_equal(dash_model_findings(&x->m, 0, v, 8), 7);
	assert_string_equal(v[0]->f.id, "http01.addr");
	assert_int_equal(v[0]->f.status, DIAG_FAIL);
	assert_string_equal(v[1]->f.id, "dns01.agreement");
	assert_string_equal(v[6]->f.id, "dns.resolver.edns");
	struct diag_diagnosis *d = dash_model_diagnose(&x->m, 0);
	assert_non_null(d);
	assert_true(d->n >= 2);
	int shared = 0;
	for (size_t i = 0; i < d->n; i++)
		shared |= !strcmp(d->v[i].root->id, "dns.resolver.edns");
	assert_true(shared);
	diag_diagnosis_free(d);
}

/* ---- the view ---- */

static char *line(const struct dash_frame *f, int y)
{
	static char buf[512];
	char *s = dash_line_text(&f->line[y]);
	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	return buf;
}

static int frame_has(const struct dash_frame *f, const char *text)
{
	for (int y = 0; y < f->rows; y++)
		if (strstr(line(f, y), text))
			return 1;
	return 0;
}

/* A view of a rows x cols terminal, --interval 30. */
static void ui_sized(struct dash_ui *ui, int rows, int cols)
{
	dash_ui_init(ui, 30);
	ui->rows = rows;
	ui->cols = cols;
}

static void frame_table(void **state)
{
	struct fixture *x = *state;
	first_run(x);
	struct dash_ui ui;
	struct dash_frame f = {0};
	ui_sized(&ui, 30, 100);
	assert_int_equal(dash_frame_build(&f, &ui, &x->m, x->now, 0), 0);
	assert_non_null(strstr(line(&f, 0), "3 names: 0 ok 0 warn 1 fail 0 error 2 pending"));
	assert_non_null(strstr(line(&f, 1), "re-run every 30s | sort status"));
	assert_non_null(strstr(line(&f, 2), "NAME"));
	assert_non_null(strstr(line(&f, 2), "CLOCK"));
	assert_non_null(strstr(line(&f, 3), "(shared)"));
	/* a.test: status, the TXT count, the dead address */
	const char *a = line(&f, 4);
	assert_non_null(strstr(a, "> a.test"));
	assert_non_null(strstr(a, "fail   warn TXT 2/3"));
	assert_non_null(strstr(a, "fail Timeout"));
	assert_true(f.line[4].selected);
	/* narrow: columns go, nothing is wider than the terminal */
	ui.cols = 60;
	ui.rows = 20;
	assert_int_equal(dash_frame_build(&f, &ui, &x->m, x->now, 0), 0);
	assert_null(strstr(line(&f, 2), "CLOCK"));
	assert_non_null(strstr(line(&f, 2), "HTTP-01"));
	for (int y = 0; y < f.rows; y++)
		assert_true(strlen(line(&f, y)) <= 60);
	ui.cols = 30;
	assert_int_equal(dash_frame_build(&f, &ui, &x->m, x->now, 0), 0);
	assert_null(strstr(line(&f, 2), "DNS-01"));
	assert_non_null(strstr(line(&f, 2), "STATUS"));
	dash_frame_free(&f);
	dash_ui_free(&ui);
}

static void keys_move_filter_and_open(void **state)
{
	struct fixture *x = *state;
	first_run(x);
	struct dash_ui ui;
	struct dash_frame f = {0};
	ui_sized(&ui, 30, 100);
	dash_frame_build(&f, &ui, &x->m, x->now, 0);
	assert_int_equal(ui.sel, 0);
	assert_true(dash_ui_key(&ui, &x->m, 'j') & DASH_UI_REDRAW);
	assert_int_equal(ui.sel, 1);
	dash_ui_key(&ui, &x->m, DASH_KEY_HOME);
	assert_int_equal(ui.sel, DASH_SHARED);
	dash_ui_key(&ui, &x->m, DASH_KEY_DOWN);
	assert_int_equal(ui.sel, 0);
	/* '/' types a filter; Enter keeps it */
	dash_ui_key(&ui, &x->m, '/');
	dash_ui_key(&ui, &x->m, 'c');
	dash_ui_key(&ui, &x->m, 'x');
	dash_ui_key(&ui, &x->m, DASH_KEY_BACKSPACE);
	dash_frame_build(&f, &ui, &x->m, x->now, 0);
	assert_true(f.cursor);
	assert_non_null(strstr(line(&f, 29), "/c"));
	assert_int_equal(dash_ui_key(&ui, &x->m, 'q'), DASH_UI_REDRAW);  /* typed, not quit */
	dash_ui_key(&ui, &x->m, DASH_KEY_BACKSPACE);
	dash_ui_key(&ui, &x->m, DASH_KEY_ENTER);
	assert_string_equal(ui.filter, "c");
	dash_frame_build(&f, &ui, &x->m, x->now, 0);
	assert_false(frame_has(&f, "a.test"));
	assert_true(frame_has(&f, "c.test"));
	assert_int_equal(ui.sel, 2);  /* a.test hidden: the first name shown */
	dash_ui_key(&ui, &x->m, DASH_KEY_ESC);  /* clears it */
	dash_frame_build(&f, &ui, &x->m, x->now, 0);
	assert_true(frame_has(&f, "a.test"));
	/* f: only names that are not ok */
	dash_ui_key(&ui, &x->m, 'f');
	dash_frame_build(&f, &ui, &x->m, x->now, 0);
	assert_true(frame_has(&f, "a.test"));
	assert_false(frame_has(&f, "b.test"));
	assert_true(frame_has(&f, "non-ok only"));
	dash_ui_key(&ui, &x->m, 'f');
	/* Enter: the name's findings worst first, with the hint; Enter again: detail */
	ui.sel = 0;
	dash_ui_key(&ui, &x->m, DASH_KEY_ENTER);
	assert_int_equal(ui.mode, DASH_MODE_NAME);
	dash_frame_build(&f, &ui, &x->m, x->now, 0);
	assert_true(frame_has(&f, "> fail HTTP-01 http01.addr 2001:db8:dead::80"));
	assert_true(frame_has(&f, "fix: fix http01.addr at 2001:db8:dead::80"));
	assert_true(frame_has(&f, "first answers: fail"));
	dash_ui_key(&ui, &x->m, DASH_KEY_ENTER);
	assert_int_equal(ui.mode, DASH_MODE_DETAIL);
	dash_frame_build(&f, &ui, &x->m, x->now, 0);
	assert_true(frame_has(&f, "hint:     fix http01.addr at 2001:db8:dead::80"));
	assert_true(frame_has(&f, "evidence:"));
	dash_ui_key(&ui, &x->m, DASH_KEY_ESC);
	assert_int_equal(ui.mode, DASH_MODE_NAME);
	dash_ui_key(&ui, &x->m, DASH_KEY_BACKSPACE);
	assert_int_equal(ui.mode, DASH_MODE_TABLE);
	/* the keys that act beyond the view */
	assert_true(dash_ui_key(&ui, &x->m, 'r') & DASH_UI_RERUN);
	assert_true(dash_ui_key(&ui, &x->m, 'R') & DASH_UI_RERUN_ALL);
	assert_true(dash_ui_key(&ui, &x->m, 'p') & DASH_UI_PAUSE);
	assert_true(ui.paused);
	dash_ui_key(&ui, &x->m, 's');
	assert_int_equal(ui.sort, DASH_SORT_NAME);
	dash_ui_key(&ui, &x->m, '?');
	assert_int_equal(ui.mode, DASH_MODE_HELP);
	dash_ui_key(&ui, &x->m, 'x');
	assert_int_equal(ui.mode, DASH_MODE_TABLE);
	assert_true(dash_ui_key(&ui, &x->m, 'q') & DASH_UI_QUIT);
	dash_frame_free(&f);
	dash_ui_free(&ui);
}

/* Redraws when something would look different, not on a busy timer. */
static void next_change(void **state)
{
	struct fixture *x = *state;
	struct dash_ui ui;
	dash_ui_init(&ui, 30);
	first_run(x);  /* ended at x->now */
	int64_t t = dash_view_next_change(&x->m, &ui, x->now + 200, 0);
	assert_int_equal(t, x->now + 1000);  /* the age "0s" becomes "1s" */
	dash_model_begin(&x->m, 1, x->now);
	t = dash_view_next_change(&x->m, &ui, x->now + 200, 0);
	assert_true(t > x->now + 200 && t <= x->now + 450);  /* a spinner turns */
	char age[16];
	dash_age_text(59999, age, sizeof(age));
	assert_string_equal(age, "59s");
	dash_age_text(3 * 3600000 + 5, age, sizeof(age));
	assert_string_equal(age, "3h");
	dash_ui_free(&ui);
}

/* Text from the network fits its cell by display columns: control
 * characters are spaces, bytes that are not characters are '?', and
 * outside a UTF-8 locale every byte that is not ASCII is. */
static void text_fits_columns(void **state)
{
	struct fixture *x = *state;
	struct dash_ui ui;
	struct dash_frame f = {0};
	ui_sized(&ui, 30, 160);  /* HTTP-01 is 40 columns wide */
	unsigned a = dash_model_begin(&x->m, 0, x->now);
	mk(x->r, "a.test", DIAG_FAIL, "http01.addr", "192.0.2.80", "x");
	free(x->r->v[x->r->n - 1]->summary);  /* as a probe could have it, before cleaning */
	x->r->v[x->r->n - 1]->summary = strdup("caf\xc3\xa9\tok \xff\xe6\x97\xa5\xe6\x9c\xac end");
	feed(x, 0, a);
	dash_model_end(&x->m, 0, a, x->now, 0);
	dash_frame_build(&f, &ui, &x->m, x->now, 0);
	assert_non_null(strstr(line(&f, 4), "fail caf?? ok ??????? end"));
	if (setlocale(LC_CTYPE, "C.UTF-8")) {
		dash_frame_build(&f, &ui, &x->m, x->now, 0);
		assert_non_null(strstr(line(&f, 4), "fail caf\xc3\xa9 ok ?\xe6\x97\xa5\xe6\x9c\xac end"));
		/* a wide character takes two columns: one left is not enough */
		ui.cols = 89;  /* HTTP-01 is 15 columns: "fail caf\xc3\xa9 ok ?" takes 14 */
		dash_frame_build(&f, &ui, &x->m, x->now, 0);
		assert_non_null(strstr(line(&f, 4), "fail caf\xc3\xa9 ok ? -"));
		setlocale(LC_CTYPE, "C");
	}
	dash_frame_free(&f);
	dash_ui_free(&ui);
}

static void snapshot_text(void **state)
{
	struct fixture *x = *state;
	first_run(x);
	char *s = dash_snapshot(&x->m, 120, 1, x->now, 0);
	assert_non_null(s);
	assert_non_null(strstr(s, "3 names: 0 ok, 0 warn, 1 fail, 0 error"));
	assert_non_null(strstr(s, "  a.test "));
	assert_non_null(strstr(s, "\na.test: fail http01.addr 2001:db8:dead::80: Timeout"));
	assert_non_null(strstr(s, "  fix: fix http01.addr at 2001:db8:dead::80\n"));
	assert_null(strstr(s, "a.test: ok"));  /* -v lists what is not ok */
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(cells_per_area, setup, teardown),
		cmocka_unit_test_setup_teardown(txt_count_is_the_expected_value, setup, teardown),
		cmocka_unit_test_setup_teardown(shared_status_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(rerun_keeps_old_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(timeline_records_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(older_run_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(kept_findings, setup, teardown),
		cmocka_unit_test_setup_teardown(visible_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(findings_and_causes, setup, teardown),
		cmocka_unit_test_setup_teardown(frame_table, setup, teardown),
		cmocka_unit_test_setup_teardown(keys_move_filter_and_open, setup, teardown),
		cmocka_unit_test_setup_teardown(next_change, setup, teardown),
		cmocka_unit_test_setup_teardown(text_fits_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_text, setup, teardown),
	};
	return cmocka_run_group_tests_name("dash", tests, NULL, NULL);
}
