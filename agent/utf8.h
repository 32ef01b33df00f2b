/*
 * utf8: the one UTF-8 validator (RFC 3629: no overlong form, no surrogate,
 * nothing above U+10FFFF), for the deployment spec (dspec.c) and for hook
 * output shown as text (hook-log.c).
 */
#ifndef CDAGENT_UTF8_H
#define CDAGENT_UTF8_H

#include <stddef.h>

/*
 * The length (1 to 4) of the well-formed UTF-8 sequence at the start of
 * s, which holds len > 0 bytes; 0 when it is not one (a NUL byte is a
 * sequence of length 1).
 */
size_t utf8_seq_len(const void *s, size_t len);

/* The offset of the first byte of s that is not well-formed UTF-8, or len. */
size_t utf8_valid_prefix(const void *s, size_t len);

#endif
