/* SPDX-License-Identifier: ISC */
/* Unit tests: clock offset arithmetic from Date headers and SNTP. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "diag.h"

static void from_date(void **state)
{
	(void)state;
	/* sent at 1000.2 s, reply at 1000.4 s, server said 1000: its clock read
	 * 1000.0-1000.999 somewhere in between, so we are 0.2 s behind its middle */
	struct clock_sample s = diag_clock_from_date(1000200, 1000400, 1000);
	assert_int_equal(s.rtt_ms, 200);
	assert_int_equal(s.offset_ms, 1000300 - 1000500);
	assert_int_equal(s.uncertainty_ms, 600);
	/* ten minutes ahead */
	s = diag_clock_from_date(1600000, 1600010, 1000);
	assert_int_equal(s.offset_ms, 1600005 - 1000500);
	/* a negative round trip (clock stepped) is taken as zero */
	s = diag_clock_from_date(1000, 900, 1);
	assert_int_equal(s.rtt_ms, 0);
	assert_int_equal(s.uncertainty_ms, 500);
}

static void from_ntp(void **state)
{
	(void)state;
	/* server 600 s behind us, 10 ms each way, 2 ms in the server */
	int64_t t1 = 2000000, t2 = t1 + 10 - 600000, t3 = t2 + 2, t4 = t1 + 22;
	struct clock_sample s = diag_clock_from_ntp(t1, t2, t3, t4);
	assert_int_equal(s.offset_ms, 600000);
	assert_int_equal(s.rtt_ms, 20);
	/* in sync */
	s = diag_clock_from_ntp(100, 105, 106, 111);
	assert_int_equal(s.offset_ms, 0);
	assert_int_equal(s.rtt_ms, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(from_date),
		cmocka_unit_test(from_ntp),
	};
	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
