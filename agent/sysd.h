/*
 * sysd: talking to systemd.  As a service (sd_notify): readiness, status
 * lines and the watchdog; each of those calls is a no-op when the agent was
 * not started by systemd (no NOTIFY_SOCKET).  And over the system bus:
 * transient scopes that keep a hook alive across the agent's restart.
 */
#ifndef CDAGENT_SYSD_H
#define CDAGENT_SYSD_H

/* READY=1 with a STATUS= line. */
void sysd_ready(const char *status);
/* STATUS=<printf> (shown by systemctl status). */
void sysd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* STOPPING=1, RELOADING=1 and READY=1 again. */
void sysd_stopping(void);
void sysd_reloading(int done);
/* WATCHDOG=1 when a watchdog is set and half its period has passed. */
void sysd_watchdog(void);
/* Whether systemd asked for watchdog pings (WatchdogSec=). */
int sysd_watchdog_enabled(void);

/*
 * Whether hooks can be put in scopes of their own: the host runs systemd
 * (sd_booted) and its system bus answers.
 */
int sysd_scopes_available(void);

/*
 * Move pid into a new transient scope unit `name` (StartTransientUnit over
 * the system bus), so that stopping or restarting the agent's service does
 * not kill it, and wait until the move is done.  Returns 0, or -1 with err.
 */
struct err;
int sysd_scope_move(
    int pid, const char *name, const char *description, struct err *err);

#endif
