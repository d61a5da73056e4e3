/* Unit tests: HTTP-01 body comparison per CA profile, reserved addresses,
 * profile names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"

#define KA "tok.thumb"

static int m(const char *body, enum http01_profile p)
{
	return diag_http01_body_matches(body, strlen(body), KA, p);
}

static void body_comparison(void **state)
{
	(void)state;
	assert_true(m("tok.thumb", HTTP01_LETSENCRYPT));
	assert_true(m("tok.thumb\n", HTTP01_LETSENCRYPT));
	assert_true(m("tok.thumb \t\r\n  ", HTTP01_LETSENCRYPT));
	assert_true(m("tok.thumb\xc2\xa0", HTTP01_LETSENCRYPT));      /* U+00A0 is a Go space */
	assert_true(m("tok.thumb\xe3\x80\x80", HTTP01_LETSENCRYPT));  /* U+3000 too */
	assert_false(m(" tok.thumb", HTTP01_LETSENCRYPT));           /* leading space is not trimmed */
	assert_false(m("tok.thumbx", HTTP01_LETSENCRYPT));
	assert_false(m("tok.thum", HTTP01_LETSENCRYPT));
	assert_false(m("", HTTP01_LETSENCRYPT));
	/* Pebble trims only \n, \r and \t on the right */
	assert_true(m("tok.thumb\r\n\t", HTTP01_PEBBLE));
	assert_false(m("tok.thumb ", HTTP01_PEBBLE));
	assert_false(m("tok.thumb\xc2\xa0", HTTP01_PEBBLE));
}

static void reserved_addresses(void **state)
{
	(void)state;
	const char *why = NULL;
	const char *yes[] = {"10.1.2.3", "127.0.0.1", "192.168.1.1", "172.31.255.255", "100.64.0.1",
	                     "169.254.1.1", "192.0.2.80", "198.51.100.7", "203.0.113.9", "224.0.0.1",
	                     "::1", "fd00::1", "fe80::1", "2001:db8::80", "::ffff:192.0.2.1"};
	const char *no[] = {"1.1.1.1", "172.32.0.1", "8.8.8.8", "2606:4700::1111", "100.128.0.1",
	                    "192.169.0.1", "not-an-ip"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		why = NULL;
		assert_true(diag_ip_reserved(yes[i], &why));
		assert_non_null(why);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(diag_ip_reserved(no[i], &why));
	assert_true(diag_ip_reserved("192.0.2.80", &why));
	assert_non_null(strstr(why, "RFC 5737"));
}

static void profiles(void **state)
{
	(void)state;
	enum http01_profile p;
	assert_int_equal(diag_http01_profile_parse("pebble", &p), 0);
	assert_int_equal(p, HTTP01_PEBBLE);
	assert_int_equal(diag_http01_profile_parse("letsencrypt", &p), 0);
	assert_int_equal(p, HTTP01_LETSENCRYPT);
	assert_int_equal(diag_http01_profile_parse("rfc8555", &p), 0);
	assert_int_equal(diag_http01_profile_parse("boulder", &p), -1);
	assert_string_equal(diag_http01_profile_name(HTTP01_RFC8555), "rfc8555");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(body_comparison),
		cmocka_unit_test(reserved_addresses),
		cmocka_unit_test(profiles),
	};
	return cmocka_run_group_tests_name("http01", tests, NULL, NULL);
}
