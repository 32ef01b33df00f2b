/* Unit tests for err: filled once, context prepended, system errors. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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
	err_set(&err, E_PARSE, "%s", big);
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
	};

	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
