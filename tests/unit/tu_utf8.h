/*
 * tu_utf8: whether text is well-formed UTF-8 (RFC 3629: no overlong form,
 * no surrogate, nothing above U+10FFFF) with no NUL.  Written apart from
 * hook-log.c's hook_text_utf8() so that each checks the other; used by
 * tests/unit/test_hook.c and tests/fuzz/fuzz_hooklog.c.
 */
#ifndef CDAGENT_TU_UTF8_H
#define CDAGENT_TU_UTF8_H

static inline int
tu_well_formed_utf8(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	while (*s != 0) {
		int n = *s < 0x80	       ? 0
		    : *s >= 0xc2 && *s <= 0xdf ? 1
		    : *s >= 0xe0 && *s <= 0xef ? 2
		    : *s >= 0xf0 && *s <= 0xf4 ? 3
					       : -1;
		int i;

		if (n < 0 || (*s == 0xe0 && s[1] < 0xa0) ||
		    (*s == 0xed && s[1] > 0x9f) ||
		    (*s == 0xf0 && s[1] < 0x90) || (*s == 0xf4 && s[1] > 0x8f))
			return 0;
		for (i = 1; i <= n; i++)
			if ((s[i] & 0xc0) != 0x80)
				return 0;
		s += n + 1;
	}
	return 1;
}

#endif
