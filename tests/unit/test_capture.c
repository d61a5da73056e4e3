/* SPDX-License-Identifier: ISC */
/* Unit tests: reading captures (jws_capture_parse), for what fuzz_capture
 * found: a certbot request without its closing line, and a single JWS
 * document (parsed twice, one copy leaked; make sanitize sees the leak). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"

#define MARK "2026-11-30 15:22:34,784:DEBUG:acme.client:Sending POST request to https://ca.test/"
#define JWS "{\n  \"protected\": \"e30\",\n  \"payload\": \"\",\n  \"signature\": \"AA\"\n}\n"

static size_t held(const struct jws_capture *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += strlen(c->req[i].jws);
	return n;
}

/* The second request lacks its "}": it is unreadable, and the third is
 * read as it is, not swallowed by the second. */
static void certbot_request_without_close(void **state)
{
	(void)state;
	static const char log[] = MARK "a:\n" JWS MARK "b:\n{\n  \"protected\": \"e30\",\n"
	                          MARK "c:\n" JWS;
	struct jws_capture c;
	char err[300];
	assert_int_equal(jws_capture_parse(log, sizeof(log) - 1, &c, err, sizeof(err)), 0);
	assert_string_equal(c.format, "certbot-log");
	assert_int_equal(c.n, 2);
	assert_int_equal(c.skipped, 1);
	assert_string_equal(c.req[0].url, "https://ca.test/a");
	assert_string_equal(c.req[1].url, "https://ca.test/c");
	assert_string_equal(c.req[1].where, "line 10");
	assert_int_equal(strlen(c.req[1].jws), strlen(JWS) - 1);
	jws_capture_free(&c);
}

/* Many requests without their "}", then one "}": each request's block
 * used to run to that "}", over every request after it, so what the
 * capture held grew as the square of the log. */
static void certbot_blocks_do_not_overlap(void **state)
{
	(void)state;
	size_t n = 2000, len = 0;
	char *log = malloc(n * (sizeof(MARK) + 8) + 8);
	assert_non_null(log);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(log + len, MARK "%zu:\n", i);
	len += (size_t)sprintf(log + len, "}\n");
	struct jws_capture c;
	char err[300];
	assert_int_equal(jws_capture_parse(log, len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.skipped, n - 1);
	assert_true(held(&c) < len);
	jws_capture_free(&c);
	free(log);
}

static void one_jws_document(void **state)
{
	(void)state;
	static const char doc[] = "{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"AA\"}";
	struct jws_capture c;
	char err[300];
	assert_int_equal(jws_capture_parse(doc, sizeof(doc) - 1, &c, err, sizeof(err)), 0);
	assert_string_equal(c.format, "jws");
	assert_int_equal(c.n, 1);
	jws_capture_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(certbot_request_without_close),
		cmocka_unit_test(certbot_blocks_do_not_overlap),
		cmocka_unit_test(one_jws_document),
	};
	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
