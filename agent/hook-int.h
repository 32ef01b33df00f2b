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
 * len bytes of hook output as text for the diagnostics JSON and a console:
 * valid UTF-8, each byte of an invalid sequence replaced by U+FFFD, NUL
 * shown as the two characters \0.  Free with free().
 */
char *hook_text_utf8(const char *s, size_t len);

/* Copy src without ANSI escape sequences into dst (room for len bytes);
 * returns the new length. */
size_t hook_strip_ansi(char *dst, const char *src, size_t len);

#endif
