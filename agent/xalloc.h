/*
 * xalloc: allocation that cannot fail.  Out of memory aborts with a message
 * (xalloc_fail); nothing else in the agent calls abort().  Every x* result is
 * freed with free(), secrets with xfree_secret().
 */
#ifndef CDAGENT_XALLOC_H
#define CDAGENT_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grow an array of nmemb elements, checking the multiplication. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/* Wipe len bytes at ptr, then free it.  NULL is a no-op. */
void xfree_secret(void *ptr, size_t len);
/* Wipe a NUL-terminated secret string, then free it.  NULL is a no-op. */
void xfree_secret_str(char *s);

/*
 * Print "cdagent: <what>" on stderr and abort: a library could not
 * allocate (or failed as only out of memory makes it fail).
 */
void xalloc_fail(const char *what) __attribute__((noreturn));

#endif
