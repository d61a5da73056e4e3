/* SPDX-License-Identifier: ISC */
/* Unit tests: the rate-limit buckets as Boulder spends them, the CA's
 * detail texts, the log readers on odd input, and the OpenMetrics text. */
#define _GNU_SOURCE
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

static const struct diag_finding *find(const struct diag_report *r, const char *id, const char *target)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i]->id, id) && (!target || !strcmp(r->v[i]->target, target)))
			return r->v[i];
	return NULL;
}

/* Five failures in a minute empty the bucket (5, one back every 12 min):
 * the next order waits for the first token back. */
static void failed_validations_bucket(void **state)
{
	(void)state;
	struct ratelimit_evidence ev = {0};
	int64_t t0 = 1800000000;
	for (int i = 0; i < 5; i++)
		assert_int_equal(ratelimit_add_event(&ev, RL_EV_AUTHZ_FAILED, t0 + i * 10, "https://ca/dir", "acct1",
		                                     "www.example.com", "", "test", NULL), 0);
	/* the same authorization polled again: counted once */
	assert_int_equal(ratelimit_add_event(&ev, RL_EV_AUTHZ_FAILED, t0 + 40, "https://ca/dir", "acct1",
	                                     "www.example.com", "", "test", NULL), 0);
	struct diag_report *r = diag_report_new("t", "1", NULL);
	struct ratelimit_opts o = { .now = t0 + 60 };
	assert_int_equal(diag_ratelimit_judge(&ev, &o, r), 0);
	const struct diag_finding *f = find(r, "ratelimit.failed-validations", "www.example.com");
	assert_non_null(f);
	assert_int_equal(f->status, DIAG_FAIL);
	assert_int_equal(json_integer_value(json_object_get(f->evidence, "left")), 0);
	assert_int_equal(json_integer_value(json_object_get(f->evidence, "seen")), 5);
	/* the first token comes back 12 min after the first failure */
	char want[32];
	diag_rfc3339((t0 + 720) * 1000, want);
	assert_string_equal(json_string_value(json_object_get(f->evidence, "next_slot_at")), want);
	/* an hour on, the bucket is full again */
	diag_report_free(r);
	r = diag_report_new("t", "1", NULL);
	o.now = t0 + 3700;
	assert_int_equal(diag_ratelimit_judge(&ev, &o, r), 0);
	f = find(r, "ratelimit.failed-validations", "www.example.com");
	assert_int_equal(f->status, DIAG_OK);
	assert_int_equal(json_integer_value(json_object_get(f->evidence, "left")), 5);
	/* nothing seen for certificates: a skip, not a pass */
	f = find(r, "ratelimit.duplicate-certificate", "");
	assert_int_equal(f->status, DIAG_SKIP);
	diag_report_free(r);
	ratelimit_evidence_free(&ev);
}

/* A valid authorization resets the consecutive-failures bucket. */
static void pause_resets(void **state)
{
	(void)state;
	struct ratelimit_evidence ev = {0};
	int64_t t0 = 1800000000;
	ratelimit_add_event(&ev, RL_EV_AUTHZ_FAILED, t0, "", "a", "x.example", "u1", "t", NULL);
	ratelimit_add_event(&ev, RL_EV_AUTHZ_FAILED, t0 + 1, "", "a", "x.example", "u2", "t", NULL);
	ratelimit_add_event(&ev, RL_EV_AUTHZ_VALID, t0 + 2, "", "a", "x.example", "u3", "t", NULL);
	ratelimit_add_event(&ev, RL_EV_AUTHZ_FAILED, t0 + 3, "", "a", "x.example", "u4", "t", NULL);
	struct diag_report *r = diag_report_new("t", "1", NULL);
	struct ratelimit_opts o = { .now = t0 + 10 };
	assert_int_equal(diag_ratelimit_judge(&ev, &o, r), 0);
	const struct diag_finding *f = find(r, "ratelimit.paused", "x.example");
	assert_non_null(f);
	assert_int_equal(json_integer_value(json_object_get(f->evidence, "seen")), 1);
	diag_report_free(r);
	ratelimit_evidence_free(&ev);
}

static void detail_texts(void **state)
{
	(void)state;
	int64_t at;
	int regs;
	assert_int_equal(diag_ratelimit_detail("too many certificates (5) already issued for this exact set of "
	                                       "identifiers in the last 168h0m0s, retry after 2026-12-01 "
	                                       "02:00:00 UTC: see https://x", &at, &regs), RL_DUPLICATE);
	assert_int_equal(at, 1796090400);
	assert_int_equal(diag_ratelimit_detail("too many certificates (50) already issued for \"example.com\" "
	                                       "in the last 168h0m0s", &at, &regs), RL_PER_DOMAIN);
	assert_int_equal(at, 0);
	assert_int_equal(diag_ratelimit_detail("Error creating new order :: too many failed authorizations "
	                                       "recently: see https://x", &at, &regs), RL_FAILED_AUTHZ);
	assert_int_equal(diag_ratelimit_detail("too many new orders (300) from this account", &at, &regs),
	                 RL_NEW_ORDERS);
	assert_int_equal(diag_ratelimit_detail("Your account is temporarily prevented from requesting "
	                                       "certificates for a.example and possibly others. Please "
	                                       "visit: https://portal/unpause?jwt=x", &at, &regs), RL_PAUSED);
	assert_int_equal(diag_ratelimit_detail("too many new registrations (10) from this IP address", &at,
	                                       &regs), RL_NLIMITS);
	assert_int_equal(regs, 1);
	assert_int_equal(diag_ratelimit_detail("retry after 9999-99-99 99:99:99", &at, &regs), RL_NLIMITS);
	assert_int_equal(at, 0);
	assert_int_equal(diag_ratelimit_detail(NULL, &at, &regs), RL_NLIMITS);
}

static char *write_tmp(const char *text, size_t len)
{
	char *path = strdup("/tmp/rl-unit-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* A certbot log cut in the middle, lego lines, and bytes that are none of
 * those: read without a crash, what is whole is counted. */
static void logs_odd_input(void **state)
{
	(void)state;
	static const char certbot[] =
		"2026-11-30 15:33:01,460:DEBUG:acme.client:Received response:\nHTTP 200\n"
		"Date: Mon, 30 Nov 2026 15:33:01 GMT\n\n{\"status\": \"invalid\", \"identifier\": "
		"{\"type\": \"dns\", \"value\": \"a.example\"}, \"challenges\": [{\"validated\": \"2026-11-30T15:33:00Z\"}]}\n"
		"2026-11-30 15:33:02,000:DEBUG:acme.client:Received response:\nHTTP 429\n"
		"Retry-After: 60\nDate: Mon, 30 Nov 2026 15:33:02 GMT\n\n{\"type\": \"urn:ietf:params:acme:error:rateLimited\", "
		"\"detail\": \"too many new orders (300) from this acc";
	static const char lego[] =
		"2026/11/30 15:33:40 [INFO] [b.example] acme: Obtaining bundled SAN certificate\n"
		"[b.example] acme: error: 403 :: urn:ietf:params:acme:error:unauthorized :: 404\n"
		"2026/11/30 15:34:40 acme: error: 429 :: POST :: https://ca/new-order :: "
		"urn:ietf:params:acme:error:rateLimited :: too many new orders\n"
		"[] acme: error: :: ::\nacme: error: 1 :: POST :: \n";
	struct ratelimit_evidence ev = {0};
	struct diag_report *r = diag_report_new("t", "1", NULL);
	char err[200];
	char *p1 = write_tmp(certbot, sizeof(certbot) - 1), *p2 = write_tmp(lego, sizeof(lego) - 1);
	char junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7919 % 251);
	char *p3 = write_tmp(junk, sizeof(junk));
	assert_int_equal(ratelimit_read_log(&ev, p1, r, err, sizeof(err)), 0);
	assert_int_equal(ratelimit_read_log(&ev, p2, r, err, sizeof(err)), 0);
	assert_int_equal(ratelimit_read_log(&ev, p3, r, err, sizeof(err)), 0);
	assert_int_equal(ratelimit_read_log(&ev, "/nonexistent/x", r, err, sizeof(err)), -1);
	assert_int_equal(ev.nevents, 3);     /* a.example failed, b.example ordered and failed */
	assert_int_equal(ev.nproblems, 1);   /* lego's 429; certbot's was cut */
	assert_int_equal(ev.events[0].at, 1796052780);
	unlink(p1);
	unlink(p2);
	unlink(p3);
	free(p1);
	free(p2);
	free(p3);
	diag_report_free(r);
	ratelimit_evidence_free(&ev);
}

static void metrics_text(void **state)
{
	(void)state;
	struct diag_metrics *m = diag_metrics_new();
	assert_int_equal(diag_metrics_family(m, "x_seconds", "gauge", "seconds", "a\\b\nc"), 0);
	assert_int_equal(diag_metrics_family(m, "bad-name", "gauge", NULL, ""), -1);
	assert_int_equal(diag_metrics_family(m, "y", "gauge", "seconds", ""), -1);  /* unit not a suffix */
	const char *l[] = {"name", "a\"b\\c\nd", NULL};
	assert_int_equal(diag_metrics_sample(m, "x_seconds", l, 1.5), 0);
	assert_int_equal(diag_metrics_sample(m, "x_seconds", NULL, 3), 0);
	assert_int_equal(diag_metrics_sample(m, "nope", NULL, 3), -1);
	char *t = diag_metrics_text(m);
	assert_string_equal(t, "# TYPE x_seconds gauge\n# UNIT x_seconds seconds\n# HELP x_seconds a\\\\b\\nc\n"
	                    "x_seconds{name=\"a\\\"b\\\\c\\nd\"} 1.5\nx_seconds 3\n# EOF\n");
	free(t);
	diag_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(failed_validations_bucket),
		cmocka_unit_test(pause_resets),
		cmocka_unit_test(detail_texts),
		cmocka_unit_test(logs_odd_input),
		cmocka_unit_test(metrics_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
