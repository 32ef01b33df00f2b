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

/*
 * A string argument longer than this is shown as its first and last
 * ERR_NAME_KEEP bytes around "…" when the message would not fit otherwise.
 */
#define ERR_NAME_KEEP 64

/* s shortened to its head, "…" and tail, whole UTF-8 characters only. */
static void
shorten(char *out, size_t size, const char *s, size_t len)
{
	size_t head = ERR_NAME_KEEP, tail = len - ERR_NAME_KEEP;

	while (head > 0 && ((unsigned char)s[head] & 0xc0) == 0x80)
		head--;
	while (tail < len && ((unsigned char)s[tail] & 0xc0) == 0x80)
		tail++;
	snprintf(out, size, "%.*s\xe2\x80\xa6%s", (int)head, s, s + tail);
}

/* A decimal number at *p (a width or precision), capped. */
static int
digits(const char **p)
{
	int v = 0;

	for (; **p >= '0' && **p <= '9'; (*p)++)
		if (v < 100000)
			v = v * 10 + (**p - '0');
	return v;
}

/*
 * vsnprintf() for a message that would not fit: the same text, with every
 * %s argument longer than 2 * ERR_NAME_KEEP + 3 bytes shortened, so a long
 * name never pushes the reason out of the message.  Conversions are those
 * of printf (flags, width, precision, '*', length modifiers) but %n.
 *
 * One function of about 120 lines on purpose: it walks the format once,
 * taking each argument from ap in the order the conversions ask for it.
 * Split, every helper would take the va_list by pointer and the type of
 * each argument would be decided in one place and fetched in another; the
 * conversion parser and the argument fetch read more safely as one loop.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void
format_shortened(char *out, size_t size, const char *fmt, va_list ap)
{
	char spec[64], piece[ERR_MSG_MAX], name[2 * ERR_NAME_KEEP + 8];
	size_t o = 0, n;
	const char *p = fmt;

	out[0] = '\0';
	while (*p != '\0' && o + 1 < size) {
		const char *flags, *len_mod;
		size_t nflags, nlen;
		int width = -1, prec = -1;
		char conv;

		if (*p != '%') {
			out[o++] = *p++;
			out[o] = '\0';
			continue;
		}
		flags = ++p;
		nflags = strspn(p, "-+ #0");
		p += nflags;
		if (*p == '*') {
			width = va_arg(ap, int);
			p++;
		} else if (*p >= '0' && *p <= '9') {
			width = digits(&p);
		}
		if (*p == '.') {
			p++;
			if (*p == '*') {
				prec = va_arg(ap, int);
				p++;
			} else {
				prec = digits(&p);
			}
			if (prec < 0)
				prec = -1;
		}
		len_mod = p;
		nlen = strspn(p, "hlzjtL");
		if (nlen > 2)
			return; /* not a conversion we know: stop here */
		p += nlen;
		conv = *p++;
		n = (size_t)snprintf(
		    spec, sizeof(spec), "%%%.*s", (int)nflags, flags);
		if (width >= 0)
			n += (size_t)snprintf(
			    spec + n, sizeof(spec) - n, "%d", width);
		if (prec >= 0)
			n += (size_t)snprintf(
			    spec + n, sizeof(spec) - n, ".%d", prec);
		snprintf(spec + n, sizeof(spec) - n, "%.*s%c", (int)nlen,
		    len_mod, conv);
		switch (conv) {
		case '%':
			snprintf(piece, sizeof(piece), "%%");
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			size_t slen = s != NULL ? strlen(s) : 0;

			if (s != NULL && prec < 0 &&
			    slen > 2 * ERR_NAME_KEEP + 3) {
				shorten(name, sizeof(name), s, slen);
				s = name;
			}
			snprintf(piece, sizeof(piece), spec, s);
			break;
		}
		case 'c':
			snprintf(piece, sizeof(piece), spec, va_arg(ap, int));
			break;
		case 'd':
		case 'i':
		case 'u':
		case 'o':
		case 'x':
		case 'X':
			if (nlen == 2 && len_mod[0] == 'l')
				snprintf(piece, sizeof(piece), spec,
				    va_arg(ap, long long));
			else if (nlen == 1 && len_mod[0] == 'l')
				snprintf(piece, sizeof(piece), spec,
				    va_arg(ap, long));
			else if (nlen == 1 && strchr("zjt", len_mod[0]) != NULL)
				snprintf(piece, sizeof(piece), spec,
				    va_arg(ap, size_t));
			else
				snprintf(piece, sizeof(piece), spec,
				    va_arg(ap, int));
			break;
		case 'f':
		case 'F':
		case 'e':
		case 'E':
		case 'g':
		case 'G':
		case 'a':
		case 'A':
			if (nlen == 1 && len_mod[0] == 'L')
				snprintf(piece, sizeof(piece), spec,
				    va_arg(ap, long double));
			else
				snprintf(piece, sizeof(piece), spec,
				    va_arg(ap, double));
			break;
		case 'p':
			snprintf(
			    piece, sizeof(piece), spec, va_arg(ap, void *));
			break;
		default:
			return; /* %n or unknown: stop here */
		}
		o += (size_t)snprintf(out + o, size - o, "%s", piece);
		if (o >= size)
			o = size - 1;
	}
}
#pragma GCC diagnostic pop

/* vsnprintf() into out, keeping room for reserve bytes after it when
 * shortening long %s arguments can make the room. */
static void __attribute__((format(printf, 4, 0)))
format_msg(char *out, size_t size, size_t reserve, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(out, size, fmt, ap);
	if (n >= 0 && (size_t)n + reserve >= size)
		format_shortened(out, size, fmt, again);
	va_end(again);
}

/* Shared body of err_set() and err_sys(). */
static void __attribute__((format(printf, 4, 0))) err_vset(struct err *err,
    enum err_code code, int sys_errno, const char *fmt, va_list ap)
{
	size_t len;

	err->code = code == E_OK ? E_INTERNAL : code;
	err->sys_errno = sys_errno;
	format_msg(err->msg, sizeof(err->msg),
	    sys_errno != 0 ? strlen(strerror(sys_errno)) + 2 : 0, fmt, ap);
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
	format_msg(prefix, sizeof(prefix), strlen(err->msg) + 2, fmt, ap);
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
