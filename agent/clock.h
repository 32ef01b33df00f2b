/*
 * clock: the agent's time source, in one place so tests can replace it
 * (-Wl,--wrap=clock_now_ms).
 */
#ifndef CDAGENT_CLOCK_H
#define CDAGENT_CLOCK_H

/* Milliseconds on the monotonic clock (for deadlines, never for dates). */
long long clock_now_ms(void);

/* Sleep ms milliseconds (0 or less: return at once), resuming after a
 * signal handler runs. */
void clock_sleep_ms(long long ms);

#endif
