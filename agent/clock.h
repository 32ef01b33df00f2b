/*
 * clock: the agent's time source, in one place so tests can replace it
 * (-Wl,--wrap=clock_now_ms).
 */
#ifndef CDAGENT_CLOCK_H
#define CDAGENT_CLOCK_H

/* Milliseconds on the monotonic clock (for deadlines, never for dates). */
long long clock_now_ms(void);

#endif
