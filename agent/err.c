/* err: one error value, filled once at the failing site. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

void
err_clear(struct err *err)
{
	if (err == NULL)
		return;
	err->code = E_OK;
	err->sys_errno = 0;
	err->msg[0] = '\0';
}

int
err_isset(const struct err *err)
{
	return err != NULL && err->code != E_OK;
}

/* Shared body of err_set() and err_sys(). */
static void __attribute__((format(printf, 4, 0))) err_vset(struct err *err,
    enum err_code code, int sys_errno, const char *fmt, va_list ap)
{
	size_t len;

	err->code = code == E_OK ? E_INTERNAL : code;
	err->sys_errno = sys_errno;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (sys_errno != 0) {
		len = strlen(err->msg);
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
		    strerror(sys_errno));
	}
}

int
err_set(struct err *err, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err->code != E_OK)
		return -1;
	va_start(ap, fmt);
	err_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_sys(struct err *err, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (err == NULL || err->code != E_OK) {
		errno = saved;
		return -1;
	}
	va_start(ap, fmt);
	err_vset(err, E_SYS, saved != 0 ? saved : EIO, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

int
err_prefix(struct err *err, const char *fmt, ...)
{
	char prefix[ERR_MSG_MAX];
	char joined[ERR_MSG_MAX];
	size_t len, rest;
	va_list ap;

	if (err == NULL || err->code == E_OK)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* "prefix: msg", cut at the buffer's end */
	len = strlen(prefix);
	if (len > sizeof(joined) - 3)
		len = sizeof(joined) - 3;
	memcpy(joined, prefix, len);
	memcpy(joined + len, ": ", 2);
	len += 2;
	rest = strlen(err->msg);
	if (rest > sizeof(joined) - 1 - len)
		rest = sizeof(joined) - 1 - len;
	memcpy(joined + len, err->msg, rest);
	joined[len + rest] = '\0';
	memcpy(err->msg, joined, sizeof(err->msg));
	return -1;
}

const char *
err_code_name(enum err_code code)
{
	static const char *const names[] = {
		[E_OK] = "ok",
		[E_SYS] = "system",
		[E_NOMEM] = "out-of-memory",
		[E_PARSE] = "parse",
		[E_INVALID] = "invalid",
		[E_NOTFOUND] = "not-found",
		[E_EXISTS] = "exists",
		[E_UNSAFE] = "unsafe",
		[E_LIMIT] = "limit",
		[E_TIMEOUT] = "timeout",
		[E_NETWORK] = "network",
		[E_AUTH] = "auth",
		[E_SERVICE] = "service",
		[E_CANCELED] = "canceled",
		[E_INTERNAL] = "internal",
	};

	if ((size_t)code >= sizeof(names) / sizeof(names[0]) ||
	    names[code] == NULL)
		return "unknown";
	return names[code];
}
