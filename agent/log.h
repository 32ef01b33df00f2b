/*
 * log: the agent's log, to journald (with structured fields), stderr and an
 * optional file.
 *
 * There is one process-wide logger; log_open() configures it and log_close()
 * releases it.  Before log_open() messages go to stderr at INFO.  When the
 * journald sink is selected but no journald listens, lines go to stderr
 * instead and logging never fails.  Every message and field value passes
 * through log_redact() first, so a secret that reaches a log call is printed
 * as [REDACTED].
 */
#ifndef CDAGENT_LOG_H
#define CDAGENT_LOG_H

#include <stddef.h>

#include "err.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_FATAL,
};

#define LOG_SINK_JOURNAL 0x1u
#define LOG_SINK_STDERR 0x2u
#define LOG_SINK_FILE 0x4u

enum log_stderr_style {
	/* "cdagent: warning: message", for command-line use. */
	LOG_STDERR_PLAIN,
	/* v1's agent-log line: "2017-08-14 15:00:59 INFO  [ident(pid)]: msg".
	 */
	LOG_STDERR_TIMESTAMPED,
};

/* A journald field passed with one message; name must be [A-Z0-9_]+. */
struct log_field {
	const char *name;
	const char *value;
};

struct log_opts {
	const char *ident;	 /* SYSLOG_IDENTIFIER and the name in lines */
	enum log_level level;	 /* lowest level written */
	unsigned sinks;		 /* LOG_SINK_* */
	const char *file_path;	 /* with LOG_SINK_FILE: appended to, 0640 */
	int stderr_fd;		 /* -1 means 2; tests pass a pipe */
	int journal_no_fallback; /* no journald: do not echo to stderr */
	enum log_stderr_style stderr_style;
};

/* Configure the logger.  Fails only if the log file cannot be opened. */
int log_open(const struct log_opts *opts, struct err *err);
/* Close the log file and return to the stderr-only default. */
void log_close(void);
/*
 * Open the log file again by its path (after logrotate renamed it; SIGHUP).
 * On failure the old file stays in use.  No file sink: nothing to do.
 */
int log_reopen(struct err *err);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Whether a message at level would be written (to skip costly formatting). */
int log_enabled(enum log_level level);

/* "debug", "info", "warn", "error", "fatal". */
const char *log_level_name(enum log_level level);
/* Parse a level name (case-insensitive, "warning" accepted); 0 or -1. */
int log_parse_level(const char *name, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A message with journald fields; the text sinks show only the message. */
void log_fields(enum log_level level, const struct log_field *fields,
    size_t nfields, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * A message for journald only (hook output): written when the journald sink
 * is on and journald listens, and never echoed to stderr or the file.
 */
void log_journal(enum log_level level, const struct log_field *fields,
    size_t nfields, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same for a message of len bytes, any bytes (NULs included): journald
 * gets MESSAGE as a binary field of exactly those bytes, redacted. */
void log_journal_bytes(enum log_level level, const struct log_field *fields,
    size_t nfields, const char *msg, size_t len);

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

/*
 * Return a copy of s with the values of secret-bearing keys replaced by
 * [REDACTED]: HTTP headers (Authorization, X-Amz-Security-Token,
 * X-aws-ec2-metadata-token), key=value and "key": "value" pairs whose key
 * names a secret key, session token, signature, password or token.  Free the
 * result with free().
 */
char *log_redact(const char *s);

/* "libsystemd 252": the version built against (it has no run-time query). */
const char *log_lib_version(void);

#endif
