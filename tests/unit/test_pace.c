/*
 * Tests for pace: the jittered waits of the daemon's poll loop.  getrandom
 * is wrapped so a test chooses the draw (the bounds of each range), or
 * lets the real one run (the spread), or makes it fail (the fallback on
 * the clock).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "pace.h"

enum draw_mode { DRAW_FIXED, DRAW_REAL, DRAW_FAIL };
static enum draw_mode mode = DRAW_FIXED;
static uint64_t fixed_draw;

ssize_t __real_getrandom(void *buf, size_t len, unsigned int flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags);

ssize_t
__wrap_getrandom(void *buf, size_t len, unsigned int flags)
{
	if (mode == DRAW_REAL)
		return __real_getrandom(buf, len, flags);
	if (mode == DRAW_FAIL || len != sizeof(fixed_draw))
		return -1;
	memcpy(buf, &fixed_draw, sizeof(fixed_draw));
	return (ssize_t)len;
}

static int
reset(void **state)
{
	(void)state;
	mode = DRAW_FIXED;
	fixed_draw = 0;
	return 0;
}

static void
jitter__lowest_draw__is_half_the_base(void **state)
{
	(void)state;
	fixed_draw = 0;
	assert_int_equal(pace_jitter_ms(30000), 15000);
	assert_int_equal(pace_jitter_ms(1001), 500);
}

static void
jitter__highest_draw__is_the_base(void **state)
{
	(void)state;
	fixed_draw = 15000; /* the range has 15001 values */
	assert_int_equal(pace_jitter_ms(30000), 30000);
	fixed_draw = 15001; /* wraps round to the bottom */
	assert_int_equal(pace_jitter_ms(30000), 15000);
}

static void
jitter__zero_or_negative_base__is_zero(void **state)
{
	(void)state;
	fixed_draw = 12345;
	assert_int_equal(pace_jitter_ms(0), 0);
	assert_int_equal(pace_jitter_ms(-5), 0);
	assert_int_equal(pace_offset_ms(0), 0);
}

static void
jitter__real_draws__spread_over_the_range(void **state)
{
	long long lo = 1LL << 62, hi = -1;
	int i, low_part = 0, high_part = 0;

	(void)state;
	mode = DRAW_REAL;
	for (i = 0; i < 4000; i++) {
		long long v = pace_jitter_ms(30000);

		assert_in_range(v, 15000, 30000);
		if (v < lo)
			lo = v;
		if (v > hi)
			hi = v;
		low_part += v < 18000;
		high_part += v > 27000;
	}
	/* Each fifth of the range holds about 800 draws; all in one second
	 * (the bug) would leave these at 0 or 4000. */
	assert_in_range(low_part, 400, 1200);
	assert_in_range(high_part, 400, 1200);
	assert_true(hi - lo > 14000);
}

static void
offset__bounds__zero_to_base(void **state)
{
	(void)state;
	fixed_draw = 0;
	assert_int_equal(pace_offset_ms(30000), 0);
	fixed_draw = 30000;
	assert_int_equal(pace_offset_ms(30000), 30000);
	fixed_draw = 30001;
	assert_int_equal(pace_offset_ms(30000), 0);
}

static void
error_backoff__follows_the_v1_table_jittered(void **state)
{
	(void)state;
	fixed_draw = 0;
	assert_int_equal(pace_error_backoff_ms(1), 5000);
	assert_int_equal(pace_error_backoff_ms(10), 45000);
	assert_int_equal(pace_error_backoff_ms(99), 45000);
	fixed_draw = 5000;
	assert_int_equal(pace_error_backoff_ms(1), 10000);
	fixed_draw = 45000;
	assert_int_equal(pace_error_backoff_ms(10), 90000);
}

static void
draw__getrandom_fails__still_in_range(void **state)
{
	int i;

	(void)state;
	mode = DRAW_FAIL;
	for (i = 0; i < 50; i++) {
		assert_in_range(pace_jitter_ms(30000), 15000, 30000);
		assert_in_range(pace_offset_ms(30000), 0, 30000);
	}
}

static void
idle__nothing_running__jittered_nap(void **state)
{
	(void)state;
	fixed_draw = 0;
	assert_int_equal(pace_idle_ms(30000, 0, 50, 1000), 15000);
	fixed_draw = 15000;
	assert_int_equal(pace_idle_ms(30000, 0, 50, 1000), 30000);
}

static void
idle__command_running__no_nap_beyond_the_gap(void **state)
{
	(void)state;
	fixed_draw = 15000;
	/* An answer in 200 ms: the rest of the one-second gap. */
	assert_int_equal(pace_idle_ms(30000, 1, 200, 1000), 800);
	/* A held poll: the next one at once. */
	assert_int_equal(pace_idle_ms(30000, 1, 1000, 1000), 0);
	assert_int_equal(pace_idle_ms(30000, 1, 20000, 1000), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(
		    jitter__lowest_draw__is_half_the_base, reset),
		cmocka_unit_test_setup(
		    jitter__highest_draw__is_the_base, reset),
		cmocka_unit_test_setup(
		    jitter__zero_or_negative_base__is_zero, reset),
		cmocka_unit_test_setup(
		    jitter__real_draws__spread_over_the_range, reset),
		cmocka_unit_test_setup(offset__bounds__zero_to_base, reset),
		cmocka_unit_test_setup(
		    error_backoff__follows_the_v1_table_jittered, reset),
		cmocka_unit_test_setup(
		    draw__getrandom_fails__still_in_range, reset),
		cmocka_unit_test_setup(
		    idle__nothing_running__jittered_nap, reset),
		cmocka_unit_test_setup(
		    idle__command_running__no_nap_beyond_the_gap, reset),
	};

	return cmocka_run_group_tests_name("pace", tests, NULL, NULL);
}
