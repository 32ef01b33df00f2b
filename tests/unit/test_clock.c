/*
 * Unit tests for clock: the millisecond conversion of clock_now_ms and the
 * sleep of clock_sleep_ms, through wraps of clock_gettime and nanosleep
 * (-Wl,--wrap=...), so that nothing depends on how long anything takes.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"

int __real_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);

/* clock_gettime: the real one unless fake_now is set. */
static int use_fake_now;
static struct timespec fake_now;
static clockid_t asked_clock;

int
__wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	asked_clock = id;
	if (!use_fake_now)
		return __real_clock_gettime(id, ts);
	*ts = fake_now;
	return 0;
}

/*
 * nanosleep never sleeps: it records each request, and the first
 * `interrupts` calls fail with EINTR leaving half of the request undone.
 */
#define MAX_SLEEPS 8
static struct timespec sleeps[MAX_SLEEPS];
static int nsleeps, interrupts;

int
__wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (nsleeps < MAX_SLEEPS)
		sleeps[nsleeps] = *req;
	nsleeps++;
	if (interrupts > 0) {
		long long ns =
		    ((long long)req->tv_sec * 1000000000LL + req->tv_nsec) / 2;

		interrupts--;
		rem->tv_sec = (time_t)(ns / 1000000000LL);
		rem->tv_nsec = (long)(ns % 1000000000LL);
		errno = EINTR;
		return -1;
	}
	return 0;
}

static int
reset(void **state)
{
	use_fake_now = 0;
	nsleeps = interrupts = 0;
	asked_clock = (clockid_t)-1;
	return 0;
}

static void
now_ms__monotonic_clock_in_milliseconds(void **state)
{
	use_fake_now = 1;
	fake_now.tv_sec = 12;
	fake_now.tv_nsec = 345999999; /* truncated, not rounded */
	assert_int_equal(clock_now_ms(), 12345);
	assert_int_equal(asked_clock, CLOCK_MONOTONIC);
	/* past 2^31 ms (24.8 days of uptime) it does not wrap */
	fake_now.tv_sec = 3000000;
	fake_now.tv_nsec = 0;
	assert_true(clock_now_ms() == 3000000000LL);
}

static void
now_ms__real_clock__never_goes_back(void **state)
{
	long long last = clock_now_ms(), now;
	int i;

	assert_true(last >= 0);
	for (i = 0; i < 1000; i++) {
		now = clock_now_ms();
		assert_true(now >= last);
		last = now;
	}
}

static void
sleep_ms__zero_or_negative__returns_at_once(void **state)
{
	clock_sleep_ms(0);
	clock_sleep_ms(-5);
	assert_int_equal(nsleeps, 0);
}

static void
sleep_ms__converts_to_seconds_and_nanoseconds(void **state)
{
	clock_sleep_ms(2750);
	assert_int_equal(nsleeps, 1);
	assert_int_equal(sleeps[0].tv_sec, 2);
	assert_int_equal(sleeps[0].tv_nsec, 750000000L);
	clock_sleep_ms(1);
	assert_int_equal(nsleeps, 2);
	assert_int_equal(sleeps[1].tv_sec, 0);
	assert_int_equal(sleeps[1].tv_nsec, 1000000L);
}

static void
sleep_ms__signal__sleeps_the_rest(void **state)
{
	interrupts = 2;
	clock_sleep_ms(1000);
	assert_int_equal(nsleeps, 3);
	assert_int_equal(sleeps[0].tv_sec, 1);
	assert_int_equal(sleeps[0].tv_nsec, 0);
	assert_int_equal(sleeps[1].tv_sec, 0);
	assert_int_equal(sleeps[1].tv_nsec, 500000000L);
	assert_int_equal(sleeps[2].tv_sec, 0);
	assert_int_equal(sleeps[2].tv_nsec, 250000000L);
}

#define T(name) cmocka_unit_test_setup(name, reset)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(now_ms__monotonic_clock_in_milliseconds),
		T(now_ms__real_clock__never_goes_back),
		T(sleep_ms__zero_or_negative__returns_at_once),
		T(sleep_ms__converts_to_seconds_and_nanoseconds),
		T(sleep_ms__signal__sleeps_the_rest),
	};

	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
