/*
 * hook-log: where hook output goes: DROOT/logs/scripts.log in v1's line
 * format (rotated by size as v2 does), the deployments log, the diagnostics
 * tail, and journald with the deployment's fields.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "hook-int.h"
#include "state.h"
#include "utf8.h"
#include "xalloc.h"

#define HOOK_LOG_KEEP 7 /* rotated files: .1 to .7 */
#define HOOK_LOG_DEFAULT_MAX (64ULL * 1024 * 1024)

static int
open_append(const char *path)
{
	int fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd >= 0)
		fchmod(fd, 0644);
	return fd;
}

static uint64_t
file_size(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Shift path.1..path.6 up, path to path.1, and reopen (errors ignored). */
static int
rotate(int fd, const char *path)
{
	char from[4096], to[4096];
	int i;

	close(fd);
	snprintf(to, sizeof(to), "%s.%d", path, HOOK_LOG_KEEP);
	unlink(to);
	for (i = HOOK_LOG_KEEP - 1; i >= 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", path, i);
		snprintf(to, sizeof(to), "%s.%d", path, i + 1);
		rename(from, to);
	}
	snprintf(to, sizeof(to), "%s.1", path);
	rename(path, to);
	return open_append(path);
}

static void
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void
hook_log_open(struct hook_log *log, const struct hook_context *ctx,
    const char *droot, const char *event)
{
	struct err err = ERR_INIT;
	char *dir;

	memset(log, 0, sizeof(*log));
	log->fd = -1;
	log->deploy_fd = -1;
	log->max = ctx->scripts_log_max != 0 ? ctx->scripts_log_max
					     : HOOK_LOG_DEFAULT_MAX;
	log->deployment_id = ctx->deployment_id;
	dir = xasprintf("%s/logs", droot);
	log->path = xasprintf("%s/scripts.log", dir);
	if (fsutil_mkdir_p(dir, 0755, &err) == 0)
		log->fd = open_append(log->path);
	if (log->fd < 0)
		log_warn("cannot write %s (%s); the hook output is kept in "
			 "memory only",
		    log->path, err_isset(&err) ? err.msg : strerror(errno));
	log->size = file_size(log->fd);
	free(dir);

	if (ctx->enable_deployments_log) {
		err_clear(&err);
		dir = xasprintf(
		    "%s/%s", ctx->root_dir, STATE_DEPLOYMENT_LOGS_DIR);
		log->deploy_path = xasprintf("%s/%s-deployments.log", dir,
		    ctx->program_name != NULL ? ctx->program_name
					      : "codedeploy-agent");
		if (fsutil_mkdir_p(dir, 0755, &err) == 0)
			log->deploy_fd = open_append(log->deploy_path);
		log->deploy_size = file_size(log->deploy_fd);
		free(dir);
	}

	log->fields[0] =
	    (struct log_field){ "DEPLOYMENT_ID", ctx->deployment_id };
	log->fields[1] = (struct log_field){ "DEPLOYMENT_GROUP_ID",
		ctx->deployment_group_id };
	log->fields[2] = (struct log_field){ "LIFECYCLE_EVENT", event };
	log->nfields = 3;
}

void
hook_log_set_script(struct hook_log *log, const char *location, pid_t pid)
{
	snprintf(log->pid_text, sizeof(log->pid_text), "%ld", (long)pid);
	log->fields[3] = (struct log_field){ "SCRIPT", location };
	log->fields[4] = (struct log_field){ "HOOK_PID", log->pid_text };
	log->nfields = 5;
}

size_t
hook_strip_ansi(char *dst, const char *src, size_t len)
{
	size_t i = 0, out = 0;

	while (i < len) {
		if (src[i] != '\033') {
			dst[out++] = src[i++];
			continue;
		}
		i++;
		if (i < len && src[i] == '[') {
			/* CSI: parameters and intermediates, then a final byte
			 */
			for (i++; i < len; i++)
				if ((unsigned char)src[i] >= 0x40 &&
				    (unsigned char)src[i] <= 0x7e) {
					i++;
					break;
				}
		} else if (i < len && src[i] == ']') {
			/* OSC: up to BEL or ESC \ */
			for (i++; i < len; i++) {
				if (src[i] == '\007') {
					i++;
					break;
				}
				if (src[i] == '\033' && i + 1 < len &&
				    src[i + 1] == '\\') {
					i += 2;
					break;
				}
			}
		} else if (i < len) {
			i++; /* a two-byte escape */
		}
	}
	return out;
}

char *
hook_text_utf8(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = xmalloc(len * 3 + 1);
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = utf8_seq_len(u + i, len - i);

		if (u[i] == '\0') {
			out[o++] = '\\';
			out[o++] = '0';
			i++;
		} else if (n > 0) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

/*
 * Keep the newest entries whose total fits HOOK_LOG_TAIL_MAX.  Each entry is
 * stored as text (hook_text_utf8() of its bytes, then '\n'), and counted
 * and evicted by that text's length.
 */
static void
tail_add(struct hook_log *log, const char *entry, size_t len)
{
	char *text = hook_text_utf8(entry, len);
	size_t tlen = strlen(text), skip = 0;
	char *copy;

	if (tlen + 1 > HOOK_LOG_TAIL_MAX) {
		skip = tlen + 1 - HOOK_LOG_TAIL_MAX;
		while (
		    skip < tlen && ((unsigned char)text[skip] & 0xc0) == 0x80)
			skip++; /* never split a UTF-8 sequence */
	}
	copy = xasprintf("%s\n", text + skip);
	free(text);
	log->tail =
	    xreallocarray(log->tail, log->ntail + 1, sizeof(*log->tail));
	log->tail[log->ntail++] = copy;
	log->tail_bytes += strlen(copy);
	while (log->tail_bytes > HOOK_LOG_TAIL_MAX) {
		log->tail_bytes -= strlen(log->tail[0]);
		free(log->tail[0]);
		memmove(log->tail, log->tail + 1,
		    (log->ntail - 1) * sizeof(*log->tail));
		log->ntail--;
	}
}

char *
hook_log_tail(const struct hook_log *log)
{
	char *out = xmalloc(log->tail_bytes + 1);
	size_t i, len = 0;

	for (i = 0; i < log->ntail; i++) {
		size_t n = strlen(log->tail[i]);

		memcpy(out + len, log->tail[i], n);
		len += n;
	}
	out[len] = '\0';
	return out;
}

/* Write head, then len bytes of body, then '\n' to *fd, rotating first
 * when the line would take the file past max. */
static void
write_line(int *fd, uint64_t *size, uint64_t max, const char *path,
    const char *head, const char *body, size_t len)
{
	size_t hlen = strlen(head), total = hlen + len + 1;
	char *line;

	if (*fd < 0)
		return;
	line = xmalloc(total);
	memcpy(line, head, hlen);
	memcpy(line + hlen, body, len);
	line[total - 1] = '\n';
	if (*size + total > max && *size > 0) {
		*fd = rotate(*fd, path);
		*size = 0;
	}
	if (*fd >= 0) {
		write_all(*fd, line, total);
		*size += total;
	}
	free(line);
}

void
hook_log_entry(
    struct hook_log *log, const char *prefix, const char *text, size_t len)
{
	size_t plen = strlen(prefix), n, start, end;
	char *entry = xmalloc(plen + len + 1);
	char stamp[32], *head;
	struct timespec ts;
	struct tm tm;

	memcpy(entry, prefix, plen);
	n = plen + hook_strip_ansi(entry + plen, text, len);
	entry[n] = '\0';
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);

	/* scripts.log: the bytes as written, ANSI escapes removed */
	head = xasprintf("%s ", stamp);
	write_line(&log->fd, &log->size, log->max, log->path, head, entry, n);
	free(head);
	if (log->deploy_fd >= 0) {
		/* v1: [time.ms] [DID]<entry without surrounding blanks> */
		for (start = 0;
		     start < n && (entry[start] == ' ' || entry[start] == '\t');
		     start++)
			;
		for (end = n; end > start &&
		     (entry[end - 1] == ' ' || entry[end - 1] == '\t' ||
			 entry[end - 1] == '\r');
		     end--)
			;
		head = xasprintf("[%s.%03ld] [%s]", stamp,
		    (long)(ts.tv_nsec / 1000000), log->deployment_id);
		write_line(&log->deploy_fd, &log->deploy_size,
		    HOOK_LOG_DEFAULT_MAX, log->deploy_path, head, entry + start,
		    end - start);
		free(head);
	}
	log_journal_bytes(LOG_LEVEL_INFO, log->fields, log->nfields, entry, n);
	tail_add(log, entry, n);
	free(entry);
}

void
hook_log_close(struct hook_log *log)
{
	size_t i;

	if (log->fd >= 0)
		close(log->fd);
	if (log->deploy_fd >= 0)
		close(log->deploy_fd);
	for (i = 0; i < log->ntail; i++)
		free(log->tail[i]);
	free(log->tail);
	free(log->path);
	free(log->deploy_path);
	memset(log, 0, sizeof(*log));
	log->fd = -1;
	log->deploy_fd = -1;
}

void
hook_lines_init(struct hook_lines *lines, const char *prefix)
{
	lines->prefix = prefix;
	lines->buf = xmalloc(HOOK_LINE_MAX);
	lines->len = 0;
}

void
hook_lines_feed(struct hook_lines *lines, struct hook_log *log,
    const char *data, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl != NULL ? (size_t)(nl - data) : len;

		if (take > HOOK_LINE_MAX - lines->len)
			take = HOOK_LINE_MAX - lines->len;
		memcpy(lines->buf + lines->len, data, take);
		lines->len += take;
		data += take;
		len -= take;
		if (len > 0 && *data == '\n') {
			hook_log_entry(
			    log, lines->prefix, lines->buf, lines->len);
			lines->len = 0;
			data++;
			len--;
		} else if (lines->len == HOOK_LINE_MAX) {
			hook_log_entry(
			    log, lines->prefix, lines->buf, lines->len);
			lines->len = 0;
		}
	}
}

void
hook_lines_flush(struct hook_lines *lines, struct hook_log *log)
{
	if (lines->len > 0)
		hook_log_entry(log, lines->prefix, lines->buf, lines->len);
	lines->len = 0;
}

void
hook_lines_clear(struct hook_lines *lines)
{
	free(lines->buf);
	lines->buf = NULL;
	lines->len = 0;
}
