/* Unit tests for proc_run: exit status, output tail, no shell. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proc.h"

static void
run__success__captures_output(void **state)
{
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2", NULL };
	char out[64];
	struct err err = ERR_INIT;

	assert_int_equal(proc_run(argv, out, sizeof(out), &err), 0);
	assert_string_equal(out, "out\nerr\n");
}

static void
run__failure__names_command_status_and_output(void **state)
{
	const char *argv[] = { "sh", "-c", "echo nope; exit 3", NULL };
	struct err err = ERR_INIT;

	assert_int_equal(proc_run(argv, NULL, 0, &err), -1);
	assert_string_equal(err.msg, "sh exited with status 3: nope\n");
}

static void
run__missing_program__error(void **state)
{
	const char *argv[] = { "cdagent-no-such-program", NULL };
	struct err err = ERR_INIT;

	assert_int_equal(proc_run(argv, NULL, 0, &err), -1);
	assert_non_null(strstr(err.msg, "cannot run cdagent-no-such-program"));
}

static void
run__arguments_not_interpreted_by_a_shell(void **state)
{
	const char *argv[] = { "echo", "a; touch /tmp/x $(id)", NULL };
	char out[64];
	struct err err = ERR_INIT;

	assert_int_equal(proc_run(argv, out, sizeof(out), &err), 0);
	assert_string_equal(out, "a; touch /tmp/x $(id)\n");
}

static void
run__long_output__keeps_tail(void **state)
{
	const char *argv[] = { "sh", "-c",
		"i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done",
		NULL };
	char out[16];
	struct err err = ERR_INIT;

	assert_int_equal(proc_run(argv, out, sizeof(out), &err), 0);
	assert_string_equal(out, "e1998\nline1999\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(run__success__captures_output),
		cmocka_unit_test(run__failure__names_command_status_and_output),
		cmocka_unit_test(run__missing_program__error),
		cmocka_unit_test(run__arguments_not_interpreted_by_a_shell),
		cmocka_unit_test(run__long_output__keeps_tail),
	};

	return cmocka_run_group_tests_name("proc", tests, NULL, NULL);
}
