/* SPDX-License-Identifier: ISC */
/* Unit tests: acme-doctor's probe ends, and can be cancelled at any turn,
 * with every sub-probe in flight: resolvers, NTP and the CA that never
 * answer (sockets on 127.0.0.1 that read and keep still). Leaks and uses
 * after free show under make sanitize. The lab tests (doctor.t) check what
 * it finds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "diag.h"
#include "loopback.h"

struct fixture {
	int dns_fd, http_fd;
	struct diag_server ns;
	char dir[64], ntp[64];
	const char *domains[2], *ntps[1];
	struct doctor_opts o;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint16_t port;
	f->dns_fd = silent_server(&f->ns);
	f->http_fd = silent_tcp(&port);
	snprintf(f->dir, sizeof(f->dir), "http://127.0.0.1:%u/dir", port);
	snprintf(f->ntp, sizeof(f->ntp), "127.0.0.1:%u", f->ns.port);
	f->domains[0] = "example.test";
	f->domains[1] = "*.example.test";
	f->ntps[0] = f->ntp;
	f->o = (struct doctor_opts){
		.domains = f->domains, .ndomains = 2, .ns = &f->ns, .nns = 1, .timeout_ms = 300,
		.directory = f->dir, .profile = HTTP01_PEBBLE, .ntp = f->ntps, .nntp = 1,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->dns_fd);
	close(f->http_fd);
	free(f);
	return 0;
}

static int has(const struct diag_report *r, const char *id, const char *domain, enum diag_status st)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i]->id, id) && r->v[i]->status == st &&
		    (domain ? r->v[i]->domain && !strcmp(r->v[i]->domain, domain) : !r->v[i]->domain))
			return 1;
	return 0;
}

/* Nothing answers: every part says so, nothing passes as ok, the wildcard
 * gets no HTTP-01, and the run ends. */
static void nothing_answers(void **state)
{
	struct fixture *f = *state;
	struct diag_loop *loop = diag_loop_new();
	struct diag_report *r = diag_report_new("t", "0", NULL);
	int done = 0;
	assert_non_null(diag_doctor_start(loop, &f->o, r, count_done, &done));
	assert_int_equal(done, 0);  /* never inside start */
	assert_int_equal(diag_loop_run(loop), 0);
	assert_int_equal(done, 1);
	assert_true(has(r, "acme.directory", NULL, DIAG_ERROR));
	assert_true(has(r, "clock.source", NULL, DIAG_ERROR));
	assert_true(has(r, "dns.resolver.reachable", NULL, DIAG_FAIL));
	assert_true(has(r, "http01.dns", "example.test", DIAG_ERROR));
	size_t http_wild = 0;
	for (size_t i = 0; i < r->n; i++)
		http_wild += !strncmp(r->v[i]->id, "http01.", 7) && r->v[i]->domain &&
		             !strcmp(r->v[i]->domain, "*.example.test");
	assert_int_equal(http_wild, 0);
	diag_doctor_sort(r, &f->o);
	/* reading order: the first name's findings first, then the second's */
	size_t last_first = 0, first_second = r->n;
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i]->domain && !strcmp(r->v[i]->domain, "example.test"))
			last_first = i;
		if (r->v[i]->domain && !strcmp(r->v[i]->domain, "*.example.test") && i < first_second)
			first_second = i;
	}
	assert_true(last_first < first_second);
	assert_true(diag_verdict(r) == DIAG_ERROR);
	diag_report_free(r);
	diag_loop_free(loop);
}

/* A session's checks each with their own challenge: TLS-ALPN-01 at the
 * addresses instead of HTTP-01 for one name, HTTP-01 for the other, the
 * findings in each name's view. */
static void per_name_challenge(void **state)
{
	struct fixture *f = *state;
	struct diag_loop *loop = diag_loop_new();
	struct diag_report *r = diag_report_new("t", "0", NULL);
	int shared = 0, checked = 0;
	struct diag_doctor *d = diag_doctor_new(loop, &f->o, r, NULL, count_done, &shared);
	assert_non_null(d);
	const struct doctor_name names[] = {
		{ .name = "alpn.example.test", .challenge = DOCTOR_TLSALPN01 },
		{ .name = "example.test", .challenge = DOCTOR_HTTP01 },
	};
	struct diag_report *views[2];
	for (size_t i = 0; i < 2; i++) {
		assert_non_null(views[i] = diag_report_view(r, names[i].name));
		assert_non_null(diag_doctor_check(d, &names[i], views[i], count_done, &checked));
	}
	assert_int_equal(diag_loop_run(loop), 0);
	assert_int_equal(checked, 2);
	assert_int_equal(shared, 1);
	assert_true(has(r, "tlsalpn01.dns", "alpn.example.test", DIAG_ERROR));
	assert_true(has(r, "http01.dns", "example.test", DIAG_ERROR));
	for (size_t i = 0; i < r->n; i++) {
		const struct diag_finding *x = r->v[i];
		if (!strncmp(x->id, "http01.", 7))
			assert_string_equal(x->domain, "example.test");
		if (!strncmp(x->id, "tlsalpn01.", 10))
			assert_string_equal(x->domain, "alpn.example.test");
	}
	for (size_t i = 0; i < 2; i++)
		diag_report_free(views[i]);
	diag_doctor_free(d);
	diag_report_free(r);
	diag_loop_free(loop);
}

/* Cancelled after any number of turns: done never runs, nothing is left
 * on the loop, nothing leaks. */
static void cancel_at_every_turn(void **state)
{
	struct fixture *f = *state;
	struct diag_loop *loop = diag_loop_new();
	int turns = 0, done = 0;
	struct diag_report *r = diag_report_new("t", "0", NULL);
	assert_non_null(diag_doctor_start(loop, &f->o, r, count_done, &done));
	while (!done && turns < 2000) {
		diag_loop_run_once(loop, 50);
		turns++;
	}
	assert_int_equal(done, 1);
	diag_report_free(r);
	for (int k = 0; k <= turns; k += turns > 20 ? turns / 20 : 1) {
		done = 0;
		r = diag_report_new("t", "0", NULL);
		struct diag_probe *p = diag_doctor_start(loop, &f->o, r, count_done, &done);
		assert_non_null(p);
		for (int t = 0; t < k && !done; t++)
			diag_loop_run_once(loop, 50);
		int cancelled = !done;
		if (cancelled)
			diag_probe_cancel(p);
		assert_int_equal(diag_loop_run_once(loop, 0), 0);  /* nothing left behind */
		assert_int_equal(done, cancelled ? 0 : 1);
		diag_report_free(r);
	}
	diag_loop_free(loop);
}

/* The same with TLS-ALPN-01 in flight instead of HTTP-01. */
static void cancel_at_every_turn_alpn(void **state)
{
	struct fixture *f = *state;
	f->o.challenge = DOCTOR_TLSALPN01;
	cancel_at_every_turn(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(nothing_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(per_name_challenge, setup, teardown),
		cmocka_unit_test_setup_teardown(cancel_at_every_turn, setup, teardown),
		cmocka_unit_test_setup_teardown(cancel_at_every_turn_alpn, setup, teardown),
	};
	return cmocka_run_group_tests_name("doctor", tests, NULL, NULL);
}
