/* pace: jittered waits for the daemon's poll loop. */
#include "config.h"

#include <stdint.h>
#include <sys/random.h>

#include "clock.h"
#include "pace.h"

static uint64_t
draw(void)
{
	uint64_t rnd;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint64_t)clock_now_ms() * 0x9e3779b97f4a7c15ull;
	return rnd;
}

long long
pace_offset_ms(long long base_ms)
{
	if (base_ms <= 0)
		return 0;
	return (long long)(draw() % ((uint64_t)base_ms + 1));
}

long long
pace_jitter_ms(long long base_ms)
{
	if (base_ms <= 0)
		return 0;
	return base_ms / 2 + pace_offset_ms(base_ms - base_ms / 2);
}

long long
pace_error_backoff_ms(int failures)
{
	static const long table_s[] = { 8, 10, 13, 17, 21, 27, 34, 44, 56, 71,
		90 };

	if (failures < 0)
		failures = 0;
	if (failures > 10)
		failures = 10;
	return pace_jitter_ms(table_s[failures] * 1000LL);
}

long long
pace_idle_ms(
    long long wait_ms, int busy, long long poll_ms, long long min_gap_ms)
{
	if (!busy)
		return pace_jitter_ms(wait_ms);
	if (poll_ms >= min_gap_ms)
		return 0;
	return min_gap_ms - poll_ms;
}
