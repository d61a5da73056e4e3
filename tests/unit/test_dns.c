/* Unit tests: server and domain parsing, TXT joining, the DNS-01 digest. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"

static void server_forms(void **state)
{
	(void)state;
	struct diag_server s;
	char err[160];
	assert_int_equal(diag_server_parse("192.0.2.1", 0, &s, err, sizeof(err)), 0);
	assert_string_equal(s.label, "192.0.2.1");
	assert_int_equal(s.port, 53);
	assert_int_equal(diag_server_parse("192.0.2.1:5353", 0, &s, err, sizeof(err)), 0);
	assert_string_equal(s.label, "192.0.2.1:5353");
	assert_int_equal(s.port, 5353);
	assert_int_equal(diag_server_parse("[2001:db8::1]:8053", 0, &s, err, sizeof(err)), 0);
	assert_string_equal(s.label, "[2001:db8::1]:8053");
	assert_string_equal(s.ip, "2001:db8::1");
	assert_int_equal(diag_server_parse("2001:db8::1", 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.family, AF_INET6);
	assert_int_equal(diag_server_parse("[2001:db8::1]", 6, &s, err, sizeof(err)), 0);
}

static void server_errors(void **state)
{
	(void)state;
	struct diag_server s;
	char err[160];
	assert_int_equal(diag_server_parse("192.0.2.1:99999", 0, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "port out of range"));
	assert_int_equal(diag_server_parse("192.0.2.1:0", 0, &s, err, sizeof(err)), -1);
	assert_int_equal(diag_server_parse("192.0.2.1:5x", 0, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a number"));
	assert_int_equal(diag_server_parse("[2001:db8::1", 0, &s, err, sizeof(err)), -1);
	assert_int_equal(diag_server_parse("[192.0.2.1]:53", 0, &s, err, sizeof(err)), -1);
	assert_int_equal(diag_server_parse("", 0, &s, err, sizeof(err)), -1);
	assert_int_equal(diag_server_parse("192.0.2.1", 6, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "-6"));
	assert_int_equal(diag_server_parse("no-such-host.invalid", 0, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot resolve"));
}

static void domain_names(void **state)
{
	(void)state;
	char out[256], err[160];
	int wild = -1;
	assert_int_equal(diag_domain_normalize("WWW.Example.COM.", out, sizeof(out), &wild, err, sizeof(err)), 0);
	assert_string_equal(out, "www.example.com");
	assert_int_equal(wild, 0);
	assert_int_equal(diag_domain_normalize("*.example.com", out, sizeof(out), &wild, err, sizeof(err)), 0);
	assert_string_equal(out, "example.com");
	assert_int_equal(wild, 1);
	const char *bad[] = {"", ".", "a..b", "-a.b", "a-.b", "a.b-", "a*.b", "*a.b", "a b.c",
	                     "a\001.b", "caf\xc3\xa9.example"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(diag_domain_normalize(bad[i], out, sizeof(out), NULL, err, sizeof(err)), -1);
	char label[70];
	memset(label, 'a', 64);
	strcpy(label + 64, ".b");
	assert_int_equal(diag_domain_normalize(label, out, sizeof(out), NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "63"));
	char longname[300];
	for (int i = 0; i < 140; i++)
		memcpy(longname + 2 * i, "a.", 2);
	longname[280] = '\0';
	assert_int_equal(diag_domain_normalize(longname, out, sizeof(out), NULL, err, sizeof(err)), -1);
}

static void txt_strings_are_joined(void **state)
{
	(void)state;
	ldns_rr *rr = NULL;
	assert_int_equal(ldns_rr_new_frm_str(&rr, "x. 300 IN TXT \"abc\" \"def\" \"\"", 0, NULL, NULL),
	                 LDNS_STATUS_OK);
	char *s = dns_txt_joined(rr);
	assert_string_equal(s, "abcdef");
	free(s);
	ldns_rr_free(rr);
}

static void dns01_digest(void **state)
{
	(void)state;
	/* RFC 8555 section 8.4 computes base64url(SHA-256(key authorization)).
	 * Reference value from: printf %s 'token.thumbprint' | openssl dgst
	 * -sha256 -binary | basenc --base64url | tr -d = */
	char out[44];
	assert_int_equal(diag_dns01_txt_value("token.thumbprint", out), 0);
	assert_int_equal(strlen(out), 43);
	assert_string_equal(out, "61rBZ_4knHblO0MNoxFsXZ_eTFUHum0B6IVRbhvUn5I");
	char b[8];
	diag_b64url((const unsigned char *)"\xfb\xff", 2, b);
	assert_string_equal(b, "-_8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(server_forms),
		cmocka_unit_test(server_errors),
		cmocka_unit_test(domain_names),
		cmocka_unit_test(txt_strings_are_joined),
		cmocka_unit_test(dns01_digest),
	};
	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
