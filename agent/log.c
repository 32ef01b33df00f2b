/*
 * log: the agent's log sinks (journald, stderr, file) and secret redaction.
 *
 * This is the only module that includes <systemd/sd-journal.h>.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"
#include "xalloc.h"

#define LOG_MAX_FIELDS 16

static struct {
	char ident[64];
	enum log_level level;
	unsigned sinks;
	int file_fd;
	char *file_path; /* for log_reopen() */
	int stderr_fd;
	enum log_stderr_style stderr_style;
	int journal_no_fallback;
} logger = {
	.ident = "cdagent",
	.level = LOG_LEVEL_INFO,
	.sinks = LOG_SINK_STDERR,
	.file_fd = -1,
	.stderr_fd = 2,
	.stderr_style = LOG_STDERR_PLAIN,
};

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_FATAL] = "fatal",
};

/* v1's agent log pads the upper-case level to five columns. */
static const char *const level_tags[] = {
	[LOG_LEVEL_DEBUG] = "DEBUG",
	[LOG_LEVEL_INFO] = "INFO ",
	[LOG_LEVEL_WARN] = "WARN ",
	[LOG_LEVEL_ERROR] = "ERROR",
	[LOG_LEVEL_FATAL] = "FATAL",
};

/* syslog(3) priorities, as journald's PRIORITY field wants them. */
static const int level_priorities[] = {
	[LOG_LEVEL_DEBUG] = 7,
	[LOG_LEVEL_INFO] = 6,
	[LOG_LEVEL_WARN] = 4,
	[LOG_LEVEL_ERROR] = 3,
	[LOG_LEVEL_FATAL] = 2,
};

static int
level_valid(enum log_level level)
{
	return level >= LOG_LEVEL_DEBUG && level <= LOG_LEVEL_FATAL;
}

const char *
log_level_name(enum log_level level)
{
	return level_valid(level) ? level_names[level] : "unknown";
}

int
log_parse_level(const char *name, enum log_level *out)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(name, "warning") == 0) {
		*out = LOG_LEVEL_WARN;
		return 0;
	}
	return -1;
}

static int
open_file(const char *path, struct err *err)
{
	int fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);

	if (fd < 0)
		return err_sys(err, "cannot open log file %s", path);
	return fd;
}

int
log_open(const struct log_opts *opts, struct err *err)
{
	int fd = -1;

	if (opts->sinks & LOG_SINK_FILE) {
		if (opts->file_path == NULL)
			return err_set(err, E_INVALID,
			    "log: a file sink needs a file path");
		fd = open_file(opts->file_path, err);
		if (fd < 0)
			return -1;
	}
	log_close();
	if (fd >= 0)
		logger.file_path = xstrdup(opts->file_path);
	snprintf(logger.ident, sizeof(logger.ident), "%s",
	    opts->ident != NULL ? opts->ident : "cdagent");
	logger.level = level_valid(opts->level) ? opts->level : LOG_LEVEL_INFO;
	logger.sinks = opts->sinks;
	logger.file_fd = fd;
	logger.stderr_fd = opts->stderr_fd >= 0 ? opts->stderr_fd : 2;
	logger.stderr_style = opts->stderr_style;
	logger.journal_no_fallback = opts->journal_no_fallback;
	return 0;
}

int
log_reopen(struct err *err)
{
	int fd;

	if (logger.file_fd < 0 || logger.file_path == NULL)
		return 0;
	fd = open_file(logger.file_path, err);
	if (fd < 0)
		return -1;
	close(logger.file_fd);
	logger.file_fd = fd;
	return 0;
}

void
log_close(void)
{
	if (logger.file_fd >= 0)
		close(logger.file_fd);
	logger.file_fd = -1;
	free(logger.file_path);
	logger.file_path = NULL;
	logger.sinks = LOG_SINK_STDERR;
	logger.stderr_fd = 2;
	logger.stderr_style = LOG_STDERR_PLAIN;
	logger.journal_no_fallback = 0;
}

void
log_set_level(enum log_level level)
{
	if (level_valid(level))
		logger.level = level;
}

enum log_level
log_get_level(void)
{
	return logger.level;
}

int
log_enabled(enum log_level level)
{
	return level_valid(level) && level >= logger.level;
}

/* Write all of buf, retrying short writes; a log line is never fatal. */
static void
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* One v1-style line: "<YYYY-MM-DD HH:MM:SS> <LEVEL> [ident(pid)]: msg\n". */
static char *
format_timestamped(enum log_level level, const char *msg)
{
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	return xasprintf("%s %s [%s(%ld)]: %s\n", stamp, level_tags[level],
	    logger.ident, (long)getpid(), msg);
}

static void
write_stderr(enum log_level level, const char *msg)
{
	char *line;

	if (logger.stderr_style == LOG_STDERR_TIMESTAMPED)
		line = format_timestamped(level, msg);
	else if (level == LOG_LEVEL_INFO)
		line = xasprintf("%s: %s\n", logger.ident, msg);
	else
		line = xasprintf("%s: %s: %s\n", logger.ident,
		    level == LOG_LEVEL_WARN ? "warning" : level_names[level],
		    msg);
	write_all(logger.stderr_fd, line, strlen(line));
	free(line);
}

static void
write_file(enum log_level level, const char *msg)
{
	char *line = format_timestamped(level, msg);

	write_all(logger.file_fd, line, strlen(line));
	free(line);
}

/* A journald field name: [A-Z0-9_], not starting with '_' (trusted). */
static int
field_name_valid(const char *name)
{
	const char *p;

	if (name == NULL || name[0] == '\0' || name[0] == '_' ||
	    strlen(name) > 64)
		return 0;
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			*p == '_'))
			return 0;
	return 1;
}

/*
 * Send one entry to journald; returns sd_journal_sendv's result.  The
 * message is msg_len bytes, any bytes: its field is passed with an explicit
 * length, so a NUL or a newline in it stays part of the value.
 */
static int
write_journal(enum log_level level, const struct log_field *fields,
    size_t nfields, const char *msg, size_t msg_len)
{
	struct iovec iov[3 + LOG_MAX_FIELDS];
	char *owned[3 + LOG_MAX_FIELDS];
	size_t n = 0, i, len0;
	int r;

	owned[n] = xmalloc(sizeof("MESSAGE=") + msg_len);
	memcpy(owned[n], "MESSAGE=", sizeof("MESSAGE=") - 1);
	memcpy(owned[n] + sizeof("MESSAGE=") - 1, msg, msg_len);
	len0 = sizeof("MESSAGE=") - 1 + msg_len;
	owned[n++][len0] = '\0';
	owned[n++] = xasprintf("PRIORITY=%d", level_priorities[level]);
	owned[n++] = xasprintf("SYSLOG_IDENTIFIER=%s", logger.ident);
	for (i = 0; i < nfields && n < sizeof(owned) / sizeof(owned[0]); i++) {
		char *value;

		if (!field_name_valid(fields[i].name) ||
		    fields[i].value == NULL)
			continue;
		value = log_redact(fields[i].value);
		owned[n++] = xasprintf("%s=%s", fields[i].name, value);
		free(value);
	}
	for (i = 0; i < n; i++) {
		iov[i].iov_base = owned[i];
		iov[i].iov_len = i == 0 ? len0 : strlen(owned[i]);
	}
	r = sd_journal_sendv(iov, (int)n);
	for (i = 0; i < n; i++)
		free(owned[i]);
	return r;
}

static void __attribute__((format(printf, 4, 0)))
log_vemit(enum log_level level, const struct log_field *fields, size_t nfields,
    const char *fmt, va_list ap)
{
	char *raw, *msg;
	int to_stderr;
	int saved = errno;

	if (!log_enabled(level))
		return;
	raw = xvasprintf(fmt, ap);
	msg = log_redact(raw);
	free(raw);

	to_stderr = (logger.sinks & LOG_SINK_STDERR) != 0;
	if ((logger.sinks & LOG_SINK_JOURNAL) &&
	    write_journal(level, fields, nfields, msg, strlen(msg)) < 0 &&
	    !logger.journal_no_fallback)
		to_stderr = 1; /* no journald listening: never lose a line */
	if (to_stderr)
		write_stderr(level, msg);
	if ((logger.sinks & LOG_SINK_FILE) && logger.file_fd >= 0)
		write_file(level, msg);
	free(msg);
	errno = saved;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, NULL, 0, fmt, ap);
	va_end(ap);
}

void
log_fields(enum log_level level, const struct log_field *fields, size_t nfields,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, fields, nfields, fmt, ap);
	va_end(ap);
}

void
log_journal(enum log_level level, const struct log_field *fields,
    size_t nfields, const char *fmt, ...)
{
	char *raw, *msg;
	va_list ap;
	int saved = errno;

	if (!(logger.sinks & LOG_SINK_JOURNAL) || !log_enabled(level))
		return;
	va_start(ap, fmt);
	raw = xvasprintf(fmt, ap);
	va_end(ap);
	msg = log_redact(raw);
	free(raw);
	write_journal(level, fields, nfields, msg, strlen(msg));
	free(msg);
	errno = saved;
}

void
log_journal_bytes(enum log_level level, const struct log_field *fields,
    size_t nfields, const char *msg, size_t len)
{
	size_t cap = len + 1, used = 0, i = 0;
	int saved = errno;
	char *out;

	if (!(logger.sinks & LOG_SINK_JOURNAL) || !log_enabled(level))
		return;
	/* redact each NUL-free piece, keeping the NULs between them */
	out = xmalloc(cap);
	for (;;) {
		const char *nul = memchr(msg + i, '\0', len - i);
		size_t take = nul != NULL ? (size_t)(nul - (msg + i)) : len - i;
		char *piece = xstrndup(msg + i, take);
		char *red = log_redact(piece);
		size_t rlen = strlen(red);

		if (used + rlen + 2 > cap) {
			cap = used + rlen + 2;
			out = xrealloc(out, cap);
		}
		memcpy(out + used, red, rlen);
		used += rlen;
		free(piece);
		free(red);
		if (nul == NULL)
			break;
		out[used++] = '\0';
		i += take + 1;
	}
	write_journal(level, fields, nfields, out, used);
	free(out);
	errno = saved;
}

/*
 * Key names whose values are secret, lower case.  A key matches at a word
 * boundary when followed (after an optional closing quote and blanks) by ':'
 * or '='.
 */
static const char *const secret_keys[] = {
	"authorization",
	"proxy-authorization",
	"x-amz-security-token",
	"x-amz-signature",
	"x-aws-ec2-metadata-token",
	"aws_secret_access_key",
	"aws_secret_key",
	"secret_access_key",
	"secretaccesskey",
	"aws_session_token",
	"sessiontoken",
	"session_token",
	"github_token",
	"github-token",
	"password",
	"passwd",
	"signature",
	"token",
};

static int
is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/*
 * If a secret key starts at s[i], return the offset where its value starts
 * and set *end to where it ends; else return 0.
 */
static size_t
match_secret(const char *s, size_t i, size_t *end)
{
	size_t k, j, klen;
	int quoted_key, quoted_value, header;

	/* a word inside a URL path ("/latest/api/token: ...") is no key */
	if (i > 0 && (is_word_char(s[i - 1]) || s[i - 1] == '/'))
		return 0;
	for (k = 0; k < sizeof(secret_keys) / sizeof(secret_keys[0]); k++) {
		klen = strlen(secret_keys[k]);
		if (strncasecmp(s + i, secret_keys[k], klen) == 0 &&
		    !is_word_char(s[i + klen]))
			break;
	}
	if (k == sizeof(secret_keys) / sizeof(secret_keys[0]))
		return 0;

	quoted_key = i > 0 && (s[i - 1] == '"' || s[i - 1] == '\'');
	j = i + klen;
	if (s[j] == '"' || s[j] == '\'')
		j++;
	while (s[j] == ' ' || s[j] == '\t')
		j++;
	if (s[j] != ':' && s[j] != '=')
		return 0;
	header = s[j] == ':' && !quoted_key;
	j++;
	while (s[j] == ' ' || s[j] == '\t')
		j++;
	quoted_value = s[j] == '"' || s[j] == '\'';
	if (quoted_value) {
		char q = s[j++];
		size_t start = j;

		while (s[j] != '\0' && s[j] != q) {
			if (s[j] == '\\' && s[j + 1] != '\0')
				j++;
			j++;
		}
		*end = j;
		return start;
	}
	if (header) {
		/* "Authorization: AWS4-HMAC-SHA256 ..." runs to end of line */
		size_t start = j;

		while (s[j] != '\0' && s[j] != '\n' && s[j] != '\r')
			j++;
		*end = j;
		return start;
	} else {
		size_t start = j;

		while (s[j] != '\0' && !isspace((unsigned char)s[j]) &&
		    strchr("&,;\"'", s[j]) == NULL)
			j++;
		*end = j;
		return start;
	}
}

char *
log_redact(const char *s)
{
	static const char mark[] = "[REDACTED]";
	size_t len = strlen(s), cap = len + 1, out_len = 0, i = 0;
	char *out = xmalloc(cap);

	while (i < len) {
		size_t end = 0, start = match_secret(s, i, &end);

		if (start != 0 && end > start) {
			size_t need = out_len + (start - i) + sizeof(mark) +
			    (len - end) + 1;

			if (need > cap) {
				cap = need;
				out = xrealloc(out, cap);
			}
			memcpy(out + out_len, s + i, start - i);
			out_len += start - i;
			memcpy(out + out_len, mark, sizeof(mark) - 1);
			out_len += sizeof(mark) - 1;
			i = end;
			continue;
		}
		if (out_len + 2 > cap) {
			cap = cap * 2 + 2;
			out = xrealloc(out, cap);
		}
		out[out_len++] = s[i++];
	}
	out[out_len] = '\0';
	return out;
}

const char *
log_lib_version(void)
{
	return "libsystemd " CD_LIBSYSTEMD_VERSION;
}
