/* Unit tests for utf8: the sequences RFC 3629 allows and the ones it does
 * not (overlong forms, surrogates, past U+10FFFF, cut short). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

static size_t
seq(const char *s)
{
	return utf8_seq_len(s, strlen(s));
}

static void
seq_len__well_formed__lengths(void **state)
{
	(void)state;
	assert_int_equal(seq("a"), 1);
	assert_int_equal(utf8_seq_len("\0x", 2), 1);
	assert_int_equal(seq("\x7f"), 1);
	assert_int_equal(seq("\xc2\x80"), 2);	      /* U+0080 */
	assert_int_equal(seq("\xdf\xbf"), 2);	      /* U+07FF */
	assert_int_equal(seq("\xe0\xa0\x80"), 3);     /* U+0800 */
	assert_int_equal(seq("\xed\x9f\xbf"), 3);     /* U+D7FF */
	assert_int_equal(seq("\xee\x80\x80"), 3);     /* U+E000 */
	assert_int_equal(seq("\xef\xbf\xbd"), 3);     /* U+FFFD */
	assert_int_equal(seq("\xf0\x90\x80\x80"), 4); /* U+10000 */
	assert_int_equal(seq("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
	assert_int_equal(seq("\xc3\xa9tail"), 2);     /* only the first */
}

static void
seq_len__ill_formed__zero(void **state)
{
	(void)state;
	assert_int_equal(seq("\x80"), 0); /* lone continuation */
	assert_int_equal(seq("\xbf"), 0);
	assert_int_equal(seq("\xc0\x80"), 0);	      /* overlong NUL */
	assert_int_equal(seq("\xc1\xbf"), 0);	      /* overlong */
	assert_int_equal(seq("\xe0\x9f\xbf"), 0);     /* overlong */
	assert_int_equal(seq("\xed\xa0\x80"), 0);     /* surrogate */
	assert_int_equal(seq("\xed\xbf\xbf"), 0);     /* surrogate */
	assert_int_equal(seq("\xf0\x8f\xbf\xbf"), 0); /* overlong */
	assert_int_equal(seq("\xf4\x90\x80\x80"), 0); /* > U+10FFFF */
	assert_int_equal(seq("\xf5\x80\x80\x80"), 0);
	assert_int_equal(seq("\xff"), 0);
	assert_int_equal(seq("\xc3("), 0); /* bad continuation */
	assert_int_equal(seq("\xe2\x82("), 0);
	assert_int_equal(seq("\xf0\x9f\x98("), 0);
	/* cut short by len, even when more bytes follow in memory */
	assert_int_equal(utf8_seq_len("\xc3\xa9", 1), 0);
	assert_int_equal(utf8_seq_len("\xe2\x82\xac", 2), 0);
	assert_int_equal(utf8_seq_len("\xf0\x9f\x98\x80", 3), 0);
}

static void
valid_prefix__offset_of_first_bad_byte(void **state)
{
	static const char good[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";

	(void)state;
	assert_int_equal(utf8_valid_prefix("", 0), 0);
	assert_int_equal(utf8_valid_prefix(good, strlen(good)), strlen(good));
	assert_int_equal(utf8_valid_prefix("a\0b", 3), 3); /* NUL is text */
	assert_int_equal(utf8_valid_prefix("ab\xff"
					   "cd",
			     5),
	    2);
	assert_int_equal(utf8_valid_prefix("ab\xed\xa0\x80", 5), 2);
	assert_int_equal(utf8_valid_prefix("abc\xe2\x82", 5), 3); /* cut */
	assert_int_equal(utf8_valid_prefix("\xc3\xa9\x80", 3), 2);
	/* len bounds the scan: the bad byte past it is not seen */
	assert_int_equal(utf8_valid_prefix("ab\xff", 2), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seq_len__well_formed__lengths),
		cmocka_unit_test(seq_len__ill_formed__zero),
		cmocka_unit_test(valid_prefix__offset_of_first_bad_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
