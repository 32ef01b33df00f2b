/*
 * pace: when the daemon polls next.  Every wait is jittered so a fleet
 * started (or brought back after an outage) together spreads out instead
 * of polling in lock step: a uniform draw in [base/2, base] for the nap
 * between polls and the error backoff, and a uniform draw in [0, base] for
 * the first poll after start.  The draws come from getrandom(2)
 * (tests replace it with -Wl,--wrap=getrandom).
 */
#ifndef CDAGENT_PACE_H
#define CDAGENT_PACE_H

/* A uniform draw in [base_ms/2, base_ms]; 0 for base_ms <= 0. */
long long pace_jitter_ms(long long base_ms);

/* A uniform draw in [0, base_ms]; 0 for base_ms <= 0. */
long long pace_offset_ms(long long base_ms);

/*
 * The wait after n consecutive failed polls (n >= 1): v1's table
 * floor(1.2675^n * 90 / 1.2675^10) s (8, 10, 13, ... 90 s), jittered.
 */
long long pace_error_backoff_ms(int failures);

/*
 * The wait after a poll that brought no command: the jittered nap when
 * nothing runs, else what is left of min_gap_ms since the poll started
 * (a command in flight keeps one poll outstanding; the gap only bounds the
 * rate when the service answers without holding the poll).
 */
long long pace_idle_ms(
    long long wait_ms, int busy, long long poll_ms, long long min_gap_ms);

#endif
