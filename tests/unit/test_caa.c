/* SPDX-License-Identifier: ISC */
/* Unit tests: CAA decisions as Boulder makes them (RFC 8659, RFC 8657). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag/caa.h"

static const struct caa_query le = { "letsencrypt.org", NULL, "dns-01", 0 };

static enum caa_result eval(const struct caa_record *r, size_t n, const struct caa_query *q)
{
	char why[300];
	enum caa_result res = diag_caa_evaluate(r, n, q, why, sizeof(why));
	assert_true(strlen(why) > 0);
	return res;
}

static void plain_issue(void **state)
{
	(void)state;
	struct caa_record ok[] = {{0, "issue", "letsencrypt.org"}};
	struct caa_record other[] = {{0, "issue", "ca.example.net"}};
	struct caa_record forbid[] = {{0, "issue", ";"}};
	struct caa_record spaced[] = {{0, "ISSUE", "  LetsEncrypt.org ; "}};
	assert_int_equal(eval(ok, 1, &le), CAA_ALLOWED);
	assert_int_equal(eval(other, 1, &le), CAA_DENIED);
	assert_int_equal(eval(forbid, 1, &le), CAA_DENIED);
	assert_int_equal(eval(spaced, 1, &le), CAA_ALLOWED);
}

static void only_irrelevant_records_allow(void **state)
{
	(void)state;
	struct caa_record r[] = {{0, "iodef", "mailto:x@example.net"}, {0, "issuewild", "ca.example.net"}};
	assert_int_equal(eval(r, 2, &le), CAA_ALLOWED);
}

static void wildcard_prefers_issuewild(void **state)
{
	(void)state;
	struct caa_query w = le;
	w.wildcard = 1;
	struct caa_record r[] = {{0, "issue", "letsencrypt.org"}, {0, "issuewild", ";"}};
	assert_int_equal(eval(r, 2, &w), CAA_DENIED);
	assert_int_equal(eval(r, 2, &le), CAA_ALLOWED);
	struct caa_record only_issue[] = {{0, "issue", "letsencrypt.org"}};
	assert_int_equal(eval(only_issue, 1, &w), CAA_ALLOWED);
}

static void critical_unknown_tag_denies(void **state)
{
	(void)state;
	struct caa_record r128[] = {{128, "tbs", "x"}, {0, "issue", "letsencrypt.org"}};
	struct caa_record r1[] = {{1, "tbs", "x"}, {0, "issue", "letsencrypt.org"}};
	struct caa_record known[] = {{128, "iodef", "mailto:a@b.example"}, {0, "issue", "letsencrypt.org"}};
	assert_int_equal(eval(r128, 2, &le), CAA_DENIED);
	assert_int_equal(eval(r1, 2, &le), CAA_DENIED);
	assert_int_equal(eval(known, 2, &le), CAA_ALLOWED);
}

static void validationmethods(void **state)
{
	(void)state;
	struct caa_record http[] = {{0, "issue", "letsencrypt.org; validationmethods=http-01"}};
	struct caa_record both[] = {{0, "issue", "letsencrypt.org; validationmethods=http-01,dns-01"}};
	struct caa_record dup[] = {{0, "issue", "letsencrypt.org; validationmethods=dns-01; validationmethods=dns-01"}};
	assert_int_equal(eval(http, 1, &le), CAA_DENIED);
	assert_int_equal(eval(both, 1, &le), CAA_ALLOWED);
	assert_int_equal(eval(dup, 1, &le), CAA_DENIED);
}

static void accounturi(void **state)
{
	(void)state;
	const char *v = "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1";
	struct caa_record r[] = {{0, "issue", v}};
	assert_int_equal(eval(r, 1, &le), CAA_UNKNOWN_ACCOUNT);
	struct caa_query mine = le;
	mine.account_uri = "https://acme-v02.api.letsencrypt.org/acme/acct/1";
	assert_int_equal(eval(r, 1, &mine), CAA_ALLOWED);
	mine.account_uri = "https://acme-v02.api.letsencrypt.org/acme/acct/2";
	assert_int_equal(eval(r, 1, &mine), CAA_DENIED);
}

static void malformed_never_matches(void **state)
{
	(void)state;
	struct caa_record r[] = {{0, "issue", "letsencrypt.org; =x"}};
	struct caa_record bad_domain[] = {{0, "issue", "lets/encrypt.org"}};
	assert_int_equal(eval(r, 1, &le), CAA_DENIED);
	assert_int_equal(eval(bad_domain, 1, &le), CAA_DENIED);
}

/* A record read off the wire with a NUL inside: the bytes after it count,
 * so neither the tag nor the issuer matches what comes before the NUL. */
static enum caa_result from_wire(const char *zone_line)
{
	ldns_rr *rr = NULL;
	assert_int_equal(ldns_rr_new_frm_str(&rr, zone_line, 0, NULL, NULL), LDNS_STATUS_OK);
	struct caa_record rec;
	char *tag = NULL, *value = NULL;
	assert_int_equal(diag_caa_from_rr(rr, &rec, &tag, &value), 0);
	enum caa_result res = eval(&rec, 1, &le);
	free(tag);
	free(value);
	ldns_rr_free(rr);
	return res;
}

static void nul_inside_is_kept(void **state)
{
	(void)state;
	assert_int_equal(from_wire("x. 300 IN CAA 0 issue \"letsencrypt.org\""), CAA_ALLOWED);
	assert_int_equal(from_wire("x. 300 IN CAA 0 issue \"letsencrypt.org\\000evil\""), CAA_DENIED);
	/* "issue\0x" is an unknown tag; critical, it forbids issuance */
	assert_int_equal(from_wire("x. 300 IN TYPE257 \\# 13 80 07 697373756500 78 6c657473"), CAA_DENIED);
	assert_int_equal(from_wire("x. 300 IN TYPE257 \\# 13 00 07 697373756500 78 6c657473"), CAA_ALLOWED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_issue),
		cmocka_unit_test(only_irrelevant_records_allow),
		cmocka_unit_test(wildcard_prefers_issuewild),
		cmocka_unit_test(critical_unknown_tag_denies),
		cmocka_unit_test(validationmethods),
		cmocka_unit_test(accounturi),
		cmocka_unit_test(malformed_never_matches),
		cmocka_unit_test(nul_inside_is_kept),
	};
	return cmocka_run_group_tests_name("caa", tests, NULL, NULL);
}
