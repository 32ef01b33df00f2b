/*
 * sysd: systemd behind the agent's own interface: sd_notify (readiness,
 * status, watchdog) and transient scopes for hooks (StartTransientUnit over
 * the system bus).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "clock.h"
#include "err.h"
#include "fsutil.h"
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

int
sysd_scopes_available(void)
{
	return sd_booted() > 0;
}

/* Whether /proc/<pid>/cgroup names the scope yet. */
static int
in_scope(int pid, const char *name)
{
	char path[64], *text = NULL;
	struct err err = ERR_INIT;
	size_t len;
	int found;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (fsutil_read_file(path, 65536, &text, &len, &err) < 0)
		return 0;
	found = strstr(text, name) != NULL;
	free(text);
	return found;
}

int
sysd_scope_move(
    int pid, const char *name, const char *description, struct err *err)
{
	sd_bus *bus = NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	long long deadline;
	int r, ret = -1;

	r = sd_bus_open_system(&bus);
	if (r < 0) {
		err_set(err, E_SYS, "cannot reach the system bus: %s",
		    strerror(-r));
		goto out;
	}
	r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
	    "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
	    "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", name, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(
		    m, "(sv)", "PIDs", "au", 1, (uint32_t)pid);
	if (r >= 0)
		r = sd_bus_message_append(
		    m, "(sv)", "Description", "s", description);
	if (r >= 0)
		r = sd_bus_message_append(
		    m, "(sv)", "CollectMode", "s", "inactive-or-failed");
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r < 0) {
		err_set(err, E_INTERNAL, "cannot build the D-Bus call: %s",
		    strerror(-r));
		goto out;
	}
	r = sd_bus_call(bus, m, 5 * 1000000ULL, &error, &reply);
	if (r < 0) {
		err_set(err, E_SYS, "systemd refused the scope %s: %s", name,
		    error.message != NULL ? error.message : strerror(-r));
		goto out;
	}
	/* The job runs asynchronously: wait for the move (at most 2 s). */
	deadline = clock_now_ms() + 2000;
	while (!in_scope(pid, name)) {
		struct timespec ts = { 0, 5 * 1000000L };

		if (clock_now_ms() > deadline) {
			err_set(err, E_TIMEOUT,
			    "the scope %s did not take process %d in 2 s", name,
			    pid);
			goto out;
		}
		nanosleep(&ts, NULL);
	}
	ret = 0;
out:
	sd_bus_error_free(&error);
	sd_bus_message_unref(reply);
	sd_bus_message_unref(m);
	sd_bus_flush_close_unref(bus);
	return ret;
}
