/* SPDX-License-Identifier: ISC */
/* Unit tests: registered domains and suffixes from the Public Suffix List
 * (libpsl), and the CA's identifier policy that reads them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"

static void reg_is(const char *name, const char *want)
{
	char out[256];
	assert_int_equal(diag_registered_domain(name, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

/* As Let's Encrypt counts "certificates per registered domain": private
 * suffixes are suffixes, an unknown TLD is one, a suffix counts as itself. */
static void registered_domains(void **state)
{
	(void)state;
	reg_is("www.example.com", "example.com");
	reg_is("new.blog.example.co.uk", "example.co.uk");   /* the docs' example */
	reg_is("a.b.github.io", "b.github.io");              /* private section */
	reg_is("c.github.io", "c.github.io");
	reg_is("foo.herokuapp.com", "foo.herokuapp.com");
	reg_is("WWW.Example.COM.", "example.com");           /* case, trailing dot */
	reg_is("ok.web.test", "web.test");                   /* no rule: the "*" default */
	reg_is("co.uk", "co.uk");                            /* a suffix: itself */
	reg_is("github.io", "github.io");
	reg_is("192.0.2.7", "192.0.2.7");                    /* IPv4: the address */
	reg_is("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"); /* IPv6: its /64 */
	char out[8];
	assert_int_equal(diag_registered_domain("", out, sizeof(out)), -1);
	assert_int_equal(diag_registered_domain("a-long-name.example.com", out, sizeof(out)), -1);
}

static void icann_suffixes(void **state)
{
	(void)state;
	char out[256];
	assert_int_equal(diag_icann_suffix("a.b.github.io", out, sizeof(out)), 0);
	assert_string_equal(out, "io");          /* the private section does not count */
	assert_int_equal(diag_icann_suffix("example.co.uk", out, sizeof(out)), 0);
	assert_string_equal(out, "co.uk");
	assert_int_equal(diag_icann_suffix("co.uk", out, sizeof(out)), 0);
	assert_string_equal(out, "co.uk");
	assert_int_equal(diag_icann_suffix("foo.test", out, sizeof(out)), -1);   /* no explicit rule */
	assert_int_equal(diag_icann_suffix("foo.madeup", out, sizeof(out)), -1);
	assert_int_equal(diag_icann_suffix("", out, sizeof(out)), -1);
	assert_true(diag_special_use_name("x.test"));
	assert_true(diag_special_use_name("printer.home.arpa"));
	assert_true(diag_special_use_name("localhost"));
	assert_true(diag_special_use_name("a.b.onion"));
	assert_false(diag_special_use_name("contest.com"));    /* a label, not a suffix of one */
	assert_false(diag_special_use_name("example.co.uk"));
	char v[96];
	diag_psl_version(v, sizeof(v));
	assert_non_null(strstr(v, "libpsl "));
}

/* The status and summary of the acme.identifier finding for a name. */
static enum diag_status ident(const char *name, int wildcard, const char *want)
{
	struct diag_report *r = diag_report_new("t", "1", name);
	diag_identifier_check(r, name, wildcard, HTTP01_LETSENCRYPT, NULL);
	assert_int_equal(r->n, 1);
	if (want)
		assert_non_null(strstr(r->v[0]->summary, want));
	enum diag_status st = r->v[0]->status;
	diag_report_free(r);
	return st;
}

/* Boulder's rule: under an ICANN suffix, not one itself; a special-use
 * name is a skip (only a private CA issues for it). */
static void identifier_policy(void **state)
{
	(void)state;
	assert_int_equal(ident("example.co.uk", 0, "accepts"), DIAG_OK);
	assert_int_equal(ident("a.github.io", 0, "accepts"), DIAG_OK);
	assert_int_equal(ident("github.io", 0, "accepts"), DIAG_OK);   /* private suffix: ICANN "io" */
	assert_int_equal(ident("co.uk", 0, "Domain name is an ICANN TLD"), DIAG_FAIL);
	assert_int_equal(ident("co.uk", 1, "is a wildcard for an ICANN TLD"), DIAG_FAIL);
	assert_int_equal(ident("com", 1, "is a wildcard for an ICANN TLD"), DIAG_FAIL);
	assert_int_equal(ident("example.com", 1, "accepts"), DIAG_OK);
	assert_int_equal(ident("foo.madeup", 0, "does not end with a valid public suffix"), DIAG_FAIL);
	assert_int_equal(ident("healthy.test", 0, "only a private CA"), DIAG_SKIP);
	assert_int_equal(ident("nas.home.arpa", 0, "only a private CA"), DIAG_SKIP);
	assert_int_equal(ident("a_b.test", 0, "invalid character"), DIAG_FAIL);  /* the name's own fault first */
}

static void contacts_and_suffixes(void **state)
{
	(void)state;
	char why[300];
	assert_int_equal(diag_contact_lint("mailto:admin@example.co.uk", why, sizeof(why)), DIAG_OK);
	assert_int_equal(diag_contact_lint("mailto:admin@co.uk", why, sizeof(why)), DIAG_FAIL);
	assert_string_equal(why, "contact email has invalid domain: Domain name is an ICANN TLD");
	assert_int_equal(diag_contact_lint("mailto:admin@corp.madeup", why, sizeof(why)), DIAG_FAIL);
	assert_string_equal(why, "contact email has invalid domain: Domain name does not end with a "
	                    "valid public suffix (TLD)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registered_domains),
		cmocka_unit_test(icann_suffixes),
		cmocka_unit_test(identifier_policy),
		cmocka_unit_test(contacts_and_suffixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
