/* hook-int: what hook.c and hook-log.c share; not for other modules. */
#ifndef CDAGENT_HOOK_INT_H
#define CDAGENT_HOOK_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hook.h"
#include "log.h"

/* Output lines longer than this are written in pieces (v2 §5.3). */
#define HOOK_LINE_MAX 65536

/* The logs of one lifecycle event: scripts.log, the deployments log, the
 * diagnostics tail, and journald. */
struct hook_log {
	int fd; /* DROOT/logs/scripts.log, or -1 (then memory only) */
	char *path;
	uint64_t size, max;
	int deploy_fd; /* ROOT/deployment-logs/<name>-deployments.log or -1 */
	char *deploy_path;
	uint64_t deploy_size;
	const char *deployment_id;
	char **tail; /* newest last, each hook_text_utf8(entry) "\n" */
	size_t ntail, tail_bytes;
	struct log_field fields[6];
	size_t nfields;
	char pid_text[24];
};

/* Open the logs of event under droot (the current deployment). */
void hook_log_open(struct hook_log *log, const struct hook_context *ctx,
    const char *droot, const char *event);
/* The script now running, for journald's SCRIPT and HOOK_PID fields. */
void hook_log_set_script(struct hook_log *log, const char *location, pid_t pid);
/*
 * One entry ("LifecycleEvent - X", "Script - s", "[stdout]line"); text
 * holds no newline.  ANSI escape sequences are removed first.
 */
void hook_log_entry(
    struct hook_log *log, const char *prefix, const char *text, size_t len);
/* The retained tail, joined; free with free(). */
char *hook_log_tail(const struct hook_log *log);
void hook_log_close(struct hook_log *log);

/* A stream's partial line, split on '\n' or at HOOK_LINE_MAX bytes. */
struct hook_lines {
	const char *prefix; /* "[stdout]" or "[stderr]" */
	char *buf;	    /* HOOK_LINE_MAX bytes */
	size_t len;
};

void hook_lines_init(struct hook_lines *lines, const char *prefix);
/* Feed bytes; every complete line becomes a log entry. */
void hook_lines_feed(struct hook_lines *lines, struct hook_log *log,
    const char *data, size_t len);
/* End of stream: a partial last line becomes its own entry (v1 bug 22). */
void hook_lines_flush(struct hook_lines *lines, struct hook_log *log);
void hook_lines_clear(struct hook_lines *lines);

/*
 * The deadline of one script, as a state machine with the time and the
 * events as inputs (no clock, no signal, no I/O of its own):
 * at the timeout SIGTERM goes to the script's process group; kill_grace
 * later SIGKILL; kill_grace after that, a script that still has not exited
 * (D state) is given up on.  Once the script exits, its output is read
 * until both pipes close or drain_grace has passed.
 */
enum hook_step {
	HOOK_STEP_WAIT,	   /* wait for output or the exit, wait_ms at most */
	HOOK_STEP_SIGTERM, /* timed out: SIGTERM the group, then wait */
	HOOK_STEP_SIGKILL, /* SIGTERM's grace is over: SIGKILL, then wait */
	HOOK_STEP_DONE,	   /* exited, and its output read or given up on */
	HOOK_STEP_GIVE_UP, /* SIGKILL did not end it either: stop waiting */
};

struct hook_deadline {
	long long deadline;    /* SIGTERM at */
	long long kill_at;     /* once timed out: SIGKILL, then give up, at */
	long long drain_until; /* once exited: stop reading output at */
	unsigned kill_grace_ms, drain_grace_ms;
	int exited, timed_out, killed;
};

/* A script started at now with timeout_s seconds to run. */
void hook_deadline_start(struct hook_deadline *d, long long now,
    unsigned timeout_s, unsigned kill_grace_ms, unsigned drain_grace_ms);
/*
 * What to do at now, while outputs_open of the script's pipes are still
 * open; *wait_ms is how long to wait for the next event after doing it.
 */
enum hook_step hook_deadline_step(
    struct hook_deadline *d, long long now, int outputs_open, int *wait_ms);
/* The script was reaped at now. */
void hook_deadline_exited(struct hook_deadline *d, long long now);

/*
 * len bytes of hook output as text for the diagnostics JSON and a console:
 * valid UTF-8, each byte of an invalid sequence replaced by U+FFFD, NUL
 * shown as the two characters \0.  Free with free().
 */
char *hook_text_utf8(const char *s, size_t len);

/* Copy src without ANSI escape sequences into dst (room for len bytes);
 * returns the new length. */
size_t hook_strip_ansi(char *dst, const char *src, size_t len);

#endif
