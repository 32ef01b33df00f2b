/* utf8: the one UTF-8 validator (utf8.h). */
#include "config.h"

#include "utf8.h"

size_t
utf8_seq_len(const void *p, size_t len)
{
	const unsigned char *s = p;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (need > len || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < need; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	return need;
}

size_t
utf8_valid_prefix(const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq_len(s + i, len - i);
		if (n == 0)
			return i;
		i += n;
	}
	return len;
}
