/* sysd: sd_notify behind the agent's own interface. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "clock.h"
#include "sysd.h"

static long long last_ping_ms;
static uint64_t watchdog_usec;
static int watchdog_checked;

void
sysd_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void
sysd_status(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", buf);
}

void
sysd_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void
sysd_reloading(int done)
{
	sd_notify(0, done ? "READY=1" : "RELOADING=1");
}

int
sysd_watchdog_enabled(void)
{
	if (!watchdog_checked) {
		watchdog_checked = 1;
		if (sd_watchdog_enabled(0, &watchdog_usec) <= 0)
			watchdog_usec = 0;
	}
	return watchdog_usec > 0;
}

void
sysd_watchdog(void)
{
	long long now = clock_now_ms();

	if (!sysd_watchdog_enabled())
		return;
	if (now - last_ping_ms < (long long)(watchdog_usec / 2000))
		return;
	last_ping_ms = now;
	sd_notify(0, "WATCHDOG=1");
}
