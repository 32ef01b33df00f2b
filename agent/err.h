/*
 * err: one error value, filled once where a failure happens.
 *
 * A function that can fail takes `struct err *err` last and returns -1 (or
 * NULL).  The failing site calls err_set(); callers that know more (which
 * file, which deployment) prepend it with err_prefix().  A second err_set()
 * on a filled error is ignored, so the root cause is never overwritten.
 */
#ifndef CDAGENT_ERR_H
#define CDAGENT_ERR_H

#include <stddef.h>

enum err_code {
	E_OK = 0,
	E_SYS,	   /* a system call failed; sys_errno says why */
	E_NOMEM,   /* never returned: the x* allocators abort instead */
	E_PARSE,   /* malformed input (YAML, JSON, archive) */
	E_INVALID, /* well-formed but not allowed (bad key, bad value) */
	E_NOTFOUND,
	E_EXISTS,
	E_UNSAFE, /* refused for safety (path escape, symlink, device) */
	E_LIMIT,  /* a size or count limit was hit */
	E_TIMEOUT,
	E_NETWORK,
	E_AUTH,
	E_SERVICE, /* a remote service said no */
	E_CANCELED,
	E_INTERNAL,
};

#define ERR_MSG_MAX 512

struct err {
	enum err_code code;
	int sys_errno;
	char msg[ERR_MSG_MAX];
};

/* A cleared error. */
/* clang-format off */
#define ERR_INIT { E_OK, 0, { 0 } }
/* clang-format on */

/* Clear an error for reuse. */
void err_clear(struct err *err);

/*
 * Fill err (if it is not NULL and not already set) and return -1, so a
 * failing site can write `return err_set(err, E_PARSE, "...")`.
 */
int err_set(struct err *err, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Like err_set() for a failed system call: sys_errno is taken from errno and
 * ": strerror(errno)" is appended to the message.
 */
int err_sys(struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepend "context: " to a filled error's message.  Returns -1. */
int err_prefix(struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Whether err holds a failure. */
int err_isset(const struct err *err);

/* A stable name for a code ("parse", "unsafe", ...), for logs and tests. */
const char *err_code_name(enum err_code code);

#endif
