/* Unit tests for err: filled once, context prepended, system errors. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"

static void
set__fills_code_and_message(void **state)
{
	struct err err = ERR_INIT;

	assert_false(err_isset(&err));
	assert_int_equal(err_set(&err, E_PARSE, "appspec.yml:%d: bad", 3), -1);
	assert_true(err_isset(&err));
	assert_int_equal(err.code, E_PARSE);
	assert_int_equal(err.sys_errno, 0);
	assert_string_equal(err.msg, "appspec.yml:3: bad");
}

static void
set__second_call__keeps_root_cause(void **state)
{
	struct err err = ERR_INIT;

	err_set(&err, E_UNSAFE, "first");
	err_set(&err, E_PARSE, "second");
	assert_int_equal(err.code, E_UNSAFE);
	assert_string_equal(err.msg, "first");
}

static void
set__null_err__returns_minus_one(void **state)
{
	assert_int_equal(err_set(NULL, E_PARSE, "x"), -1);
	assert_int_equal(err_sys(NULL, "x"), -1);
	assert_int_equal(err_prefix(NULL, "x"), -1);
	assert_false(err_isset(NULL));
}

static void
sys__appends_strerror_and_keeps_errno(void **state)
{
	struct err err = ERR_INIT;

	errno = ENOENT;
	err_sys(&err, "cannot open %s", "/x");
	assert_int_equal(err.code, E_SYS);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(
	    err.msg, "cannot open /x: No such file or directory");
}

static void
prefix__prepends_context(void **state)
{
	struct err err = ERR_INIT;

	err_set(&err, E_PARSE, "line 3: bad key");
	err_prefix(&err, "deployment %s", "d-123");
	assert_string_equal(err.msg, "deployment d-123: line 3: bad key");
	assert_int_equal(err.code, E_PARSE);
}

static void
prefix__on_clear_error__does_nothing(void **state)
{
	struct err err = ERR_INIT;

	err_prefix(&err, "context");
	assert_false(err_isset(&err));
	assert_string_equal(err.msg, "");
}

static void
set__long_message__truncated_not_overflowed(void **state)
{
	struct err err = ERR_INIT;
	char big[2000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* a long argument is shortened (head, "…", tail) */
	err_set(&err, E_PARSE, "%s", big);
	assert_int_equal(strlen(err.msg), 64 + 3 + 64);
	err_prefix(&err, "ctx");
	assert_memory_equal(err.msg, "ctx: aaa", 8);
	/* long literal text is cut at the buffer's end */
	err_clear(&err);
	err_set(&err, E_PARSE, "%.1500s", big);
	assert_int_equal(strlen(err.msg), ERR_MSG_MAX - 1);
	err_prefix(&err, "ctx");
	assert_int_equal(strlen(err.msg), ERR_MSG_MAX - 1);
	assert_memory_equal(err.msg, "ctx: aaa", 8);
}

static void
clear__resets(void **state)
{
	struct err err = ERR_INIT;

	err_set(&err, E_LIMIT, "x");
	err_clear(&err);
	assert_false(err_isset(&err));
	err_set(&err, E_PARSE, "y");
	assert_string_equal(err.msg, "y");
}

static void
code_name__names_every_code(void **state)
{
	assert_string_equal(err_code_name(E_UNSAFE), "unsafe");
	assert_string_equal(err_code_name(E_PARSE), "parse");
	assert_string_equal(err_code_name((enum err_code)999), "unknown");
}

static void
set__code_ok__becomes_internal(void **state)
{
	struct err err = ERR_INIT;

	err_set(&err, E_OK, "misuse");
	assert_true(err_isset(&err));
	assert_int_equal(err.code, E_INTERNAL);
}

/* A name of n bytes: "HEAD" 'a'... "TAIL". */
static char *
long_name(size_t n)
{
	char *name = malloc(n + 1);

	assert_non_null(name);
	memset(name, 'a', n);
	memcpy(name, "HEAD", 4);
	memcpy(name + n - 4, "TAIL", 4);
	name[n] = '\0';
	return name;
}

/* Issue 14: a 5,000-byte entry name filled the message and cut the
 * reason; now it is echoed as its first and last 64 bytes around "…". */
static void
set__long_name__shortened_reason_kept(void **state)
{
	struct err err = ERR_INIT;
	char *name = long_name(5000);
	char want[256];

	err_set(&err, E_UNSAFE, "entry '%s': %s; the bundle was rejected", name,
	    "its path leaves the archive");
	snprintf(want, sizeof(want),
	    "entry '%.64s\xe2\x80\xa6%s': its path leaves the archive; the "
	    "bundle was rejected",
	    name, name + 5000 - 64);
	assert_string_equal(err.msg, want);
	free(name);
}

static void
set__long_name__other_conversions_unchanged(void **state)
{
	struct err err = ERR_INIT;
	char *name = long_name(600);
	char want[ERR_MSG_MAX];

	err_set(&err, E_LIMIT,
	    "%d|%5s|%-4ld|%zu|%.2f|%c|%%|%x|%lld|%.3s|%*d|%s|end", -7, "ab",
	    42L, (size_t)9, 1.5, 'q', 255u, -5LL, "abcdef", 4, 3, name);
	snprintf(want, sizeof(want),
	    "-7|   ab|42  |9|1.50|q|%%|ff|-5|abc|   3|%.64s\xe2\x80\xa6%s|end",
	    name, name + 600 - 64);
	assert_string_equal(err.msg, want);
	free(name);
}

static void
set__short_message__long_arg_kept_whole(void **state)
{
	struct err err = ERR_INIT;
	char *name = long_name(300);
	char want[ERR_MSG_MAX];

	err_set(&err, E_INVALID, "'%s' is bad", name);
	snprintf(want, sizeof(want), "'%s' is bad", name);
	assert_string_equal(err.msg, want);
	free(name);
}

static void
sys_and_prefix__long_name__reason_kept(void **state)
{
	struct err err = ERR_INIT;
	char *name = long_name(3000);

	errno = ENOENT;
	err_sys(&err, "cannot open %s", name);
	assert_non_null(strstr(err.msg, "TAIL: No such file or directory"));
	assert_non_null(strstr(err.msg, "cannot open HEAD"));
	err_prefix(&err, "entry '%s'", name);
	assert_true(strlen(err.msg) < ERR_MSG_MAX);
	assert_non_null(strstr(err.msg, "TAIL': cannot open HEAD"));
	assert_non_null(strstr(err.msg, "TAIL: No such file or directory"));
	free(name);
}

/* The cut never splits a UTF-8 character. */
static void
set__long_utf8_name__cut_on_characters(void **state)
{
	struct err err = ERR_INIT;
	char name[1201];
	size_t i;

	for (i = 0; i < 1200; i += 3)
		memcpy(name + i, "\xe2\x82\xac", 3); /* U+20AC */
	name[1200] = '\0';
	err_set(&err, E_PARSE, "%s %s", name, "the reason");
	assert_non_null(strstr(err.msg, " the reason"));
	assert_int_equal(strlen(err.msg), 63 + 3 + 63 + strlen(" the reason"));
	for (i = 0; i < 63; i += 3)
		assert_memory_equal(err.msg + i, "\xe2\x82\xac", 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set__fills_code_and_message),
		cmocka_unit_test(set__second_call__keeps_root_cause),
		cmocka_unit_test(set__null_err__returns_minus_one),
		cmocka_unit_test(sys__appends_strerror_and_keeps_errno),
		cmocka_unit_test(prefix__prepends_context),
		cmocka_unit_test(prefix__on_clear_error__does_nothing),
		cmocka_unit_test(set__long_message__truncated_not_overflowed),
		cmocka_unit_test(clear__resets),
		cmocka_unit_test(code_name__names_every_code),
		cmocka_unit_test(set__code_ok__becomes_internal),
		cmocka_unit_test(set__long_name__shortened_reason_kept),
		cmocka_unit_test(set__long_name__other_conversions_unchanged),
		cmocka_unit_test(set__short_message__long_arg_kept_whole),
		cmocka_unit_test(sys_and_prefix__long_name__reason_kept),
		cmocka_unit_test(set__long_utf8_name__cut_on_characters),
	};

	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
