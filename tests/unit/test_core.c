/* Unit tests: findings, verdict, exit statuses and both renderings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"

static void verdict_is_worst_status(void **state)
{
	(void)state;
	struct diag_report *r = diag_report_new("t", "1", "x");
	assert_int_equal(diag_verdict(r), DIAG_OK); /* empty: ok */
	diag_add(r, DIAG_SKIP, "a", "", "skipped");
	assert_int_equal(diag_verdict(r), DIAG_OK);
	diag_add(r, DIAG_WARN, "b", "", "warn");
	assert_int_equal(diag_verdict(r), DIAG_WARN);
	diag_add(r, DIAG_OK, "c", "", "ok");
	assert_int_equal(diag_verdict(r), DIAG_WARN);
	diag_add(r, DIAG_FAIL, "d", "", "fail");
	assert_int_equal(diag_verdict(r), DIAG_FAIL);
	diag_add(r, DIAG_ERROR, "e", "", "error");
	assert_int_equal(diag_verdict(r), DIAG_ERROR);
	diag_report_free(r);
}

static void exit_statuses(void **state)
{
	(void)state;
	assert_int_equal(diag_exit_status(DIAG_OK, 0), 0);
	assert_int_equal(diag_exit_status(DIAG_WARN, 0), 0);
	assert_int_equal(diag_exit_status(DIAG_WARN, 1), 1);
	assert_int_equal(diag_exit_status(DIAG_FAIL, 0), 1);
	assert_int_equal(diag_exit_status(DIAG_ERROR, 0), 3);
	assert_int_equal(diag_exit_status(DIAG_ERROR, 1), 3);
}

static void json_document_contract(void **state)
{
	(void)state;
	struct diag_report *r = diag_report_new("acme-test", "9.9", "example.test");
	struct diag_finding *f = diag_add(r, DIAG_FAIL, "dns01.txt", "192.0.2.1", "missing %d", 1);
	diag_set_hint(f, "publish it");
	diag_evidence(f, "rtt_ms", json_integer(12));
	diag_add(r, DIAG_OK, "dns.zone", "example.test", "zone");
	diag_report_finish(r);
	json_t *doc = diag_report_json(r);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "schema")), "acme-diag/1");
	assert_string_equal(json_string_value(json_object_get(doc, "tool")), "acme-test");
	assert_string_equal(json_string_value(json_object_get(doc, "version")), "9.9");
	assert_string_equal(json_string_value(json_object_get(doc, "target")), "example.test");
	assert_string_equal(json_string_value(json_object_get(doc, "verdict")), "fail");
	const char *ts = json_string_value(json_object_get(doc, "started_at"));
	assert_non_null(ts);
	assert_int_equal(strlen(ts), 24); /* 2026-11-22T09:00:00.123Z */
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[23], 'Z');
	assert_true(json_is_integer(json_object_get(doc, "duration_ms")));
	json_t *checks = json_object_get(doc, "checks");
	assert_int_equal(json_array_size(checks), 2);
	json_t *c0 = json_array_get(checks, 0);
	assert_string_equal(json_string_value(json_object_get(c0, "id")), "dns01.txt");
	assert_string_equal(json_string_value(json_object_get(c0, "status")), "fail");
	assert_string_equal(json_string_value(json_object_get(c0, "summary")), "missing 1");
	assert_string_equal(json_string_value(json_object_get(c0, "hint")), "publish it");
	assert_true(json_is_null(json_object_get(c0, "detail")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c0, "evidence"), "rtt_ms")), 12);
	json_decref(doc);
	diag_report_free(r);
}

static void text_rendering(void **state)
{
	(void)state;
	struct diag_report *r = diag_report_new("t", "1", NULL);
	struct diag_finding *f = diag_add(r, DIAG_WARN, "dns.auth.serial", "zone.test", "lagging");
	diag_set_hint(f, "check AXFR");
	diag_set_detail(f, "secondary behind");
	diag_add(r, DIAG_OK, "dns.zone", "zone.test", "fine");
	/* a control character from the network must not reach the terminal */
	diag_add(r, DIAG_FAIL, "dns01.txt", "192.0.2.1", "has \"\033[2J\"");
	struct diag_render_opts o = {0};
	char *s = diag_render_text(r, &o);
	assert_non_null(s);
	assert_non_null(strstr(s, "warn  dns.auth.serial"));
	assert_non_null(strstr(s, "hint: check AXFR"));
	assert_null(strstr(s, "secondary behind")); /* detail only with -v */
	assert_non_null(strstr(s, "ok    dns.zone"));
	assert_null(strchr(s, '\033'));
	assert_non_null(strstr(s, "\\x1b[2J"));
	assert_non_null(strstr(s, "verdict: fail (1 fail, 1 warn, 1 ok, 0 error, 0 skip)"));
	free(s);
	o.quiet = 1;
	s = diag_render_text(r, &o);
	assert_null(strstr(s, "ok    dns.zone"));
	assert_non_null(strstr(s, "dns.auth.serial"));
	free(s);
	o.quiet = 0;
	o.verbose = 1;
	s = diag_render_text(r, &o);
	assert_non_null(strstr(s, "secondary behind"));
	free(s);
	o.verbose = 0;
	o.color = 1;
	s = diag_render_text(r, &o);
	assert_non_null(strstr(s, "\033[33mwarn"));
	free(s);
	diag_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verdict_is_worst_status),
		cmocka_unit_test(exit_statuses),
		cmocka_unit_test(json_document_contract),
		cmocka_unit_test(text_rendering),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
