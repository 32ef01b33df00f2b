/*
 * Unit tests for check: what a revision is checked for before it may
 * disrupt anything (scripts, sources, destinations, users and groups),
 * which problems are errors and which warnings, and the file:line:col.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "testutil.h"
#include "xalloc.h"

#define HDR "version: 0.0\nos: linux\n"

static void
mkdir_in(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);

	assert_int_equal(mkdir(path, 0755), 0);
	free(path);
}

/* Parse text as dir's appspec, check it; the report's text, one a line. */
static char *
check_text(const char *dir, const char *text, unsigned flags, size_t *nerrors)
{
	struct check_report rep;
	struct appspec *as = NULL;
	struct err err = ERR_INIT;
	char *out = xstrdup("");
	size_t i;

	memset(&rep, 0, sizeof(rep));
	if (appspec_parse(text, strlen(text), "appspec.yml", NULL, &as, &err) <
	    0)
		fail_msg("unexpected error: %s", err.msg);
	(void)check_revision(dir, as, flags, &rep);
	for (i = 0; i < rep.ndiags; i++) {
		char *joined = xasprintf("%s%s %s\n", out,
		    rep.diags[i].is_error ? "E" : "W", rep.diags[i].msg);

		free(out);
		out = joined;
	}
	*nerrors = rep.nerrors;
	check_report_clear(&rep);
	appspec_free(as);
	return out;
}

static void
check__valid_revision__no_diagnostics(void **state)
{
	const char *dir = *state;
	size_t nerrors;
	char *out;

	mkdir_in(dir, "s");
	free(tu_write(dir, "s/start.sh", "#!/bin/sh\n"));
	mkdir_in(dir, "content");
	out = check_text(dir,
	    HDR "files:\n  - source: content\n    destination: /srv/app\n"
		"hooks:\n  ApplicationStart:\n    - location: s/start.sh\n"
		"      runas: root\n",
	    CHECK_HOST, &nerrors);
	assert_string_equal(out, "");
	assert_int_equal(nerrors, 0);
	free(out);
}

static void
check__missing_script__error_with_line_and_col(void **state)
{
	size_t nerrors;
	char *out = check_text(*state,
	    HDR "hooks:\n  AfterInstall:\n    - location: s/nope.sh\n", 0,
	    &nerrors);

	assert_int_equal(nerrors, 1);
	assert_non_null(strstr(out,
	    "E appspec.yml:5:7: hook AfterInstall: script 's/nope.sh' does "
	    "not exist in the revision"));
	free(out);
}

static void
check__script_is_a_directory__error(void **state)
{
	const char *dir = *state;
	size_t nerrors;
	char *out;

	mkdir_in(dir, "s");
	out = check_text(dir,
	    HDR "hooks:\n  AfterInstall:\n    - location: s\n", 0, &nerrors);
	assert_int_equal(nerrors, 1);
	assert_non_null(strstr(out, "script 's' is a directory"));
	free(out);
}

static void
check__script_escaping_the_revision__error(void **state)
{
	size_t nerrors;
	char *out = check_text(*state,
	    HDR "hooks:\n  AfterInstall:\n    - location: ../../etc/passwd\n",
	    0, &nerrors);

	assert_int_equal(nerrors, 1);
	assert_non_null(strstr(out, "resolves outside the revision"));
	free(out);
}

static void
check__missing_source__error_root_source_fine(void **state)
{
	size_t nerrors;
	char *out = check_text(*state,
	    HDR "files:\n  - source: gone\n    destination: /srv\n"
		"  - source: /\n    destination: /srv\n",
	    0, &nerrors);

	assert_int_equal(nerrors, 1);
	assert_non_null(strstr(out,
	    "E appspec.yml:4:5: files: source 'gone' does not exist in the "
	    "revision"));
	free(out);
}

static void
check__relative_destination__error_with_line_and_col(void **state)
{
	const char *text =
	    HDR "files:\n  - source: /\n    destination: srv/app\n";
	struct appspec *as = NULL;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(
	    appspec_parse(text, strlen(text), "appspec.yml", NULL, &as, &err),
	    -1);
	assert_null(as);
	assert_non_null(strstr(err.msg,
	    "appspec.yml:5:18: files[0].destination: "
	    "'srv/app' is relative"));
}

static void
check__no_archive__revision_files_not_looked_at(void **state)
{
	size_t nerrors;
	char *out = check_text(NULL,
	    HDR "files:\n  - source: gone\n    destination: /srv\n"
		"hooks:\n  AfterInstall:\n    - location: s/nope.sh\n",
	    0, &nerrors);

	(void)state;
	assert_int_equal(nerrors, 0);
	assert_string_equal(out, "");
	free(out);
}

static void
check__missing_runas_user__error_only_with_host(void **state)
{
	const char *dir = *state;
	const char *text = HDR "hooks:\n  AfterInstall:\n"
			       "    - location: a.sh\n"
			       "      runas: no-such-user-cdagent\n";
	size_t nerrors;
	char *out;

	free(tu_write(dir, "a.sh", "#!/bin/sh\n"));
	out = check_text(dir, text, 0, &nerrors);
	assert_int_equal(nerrors, 0);
	free(out);
	out = check_text(dir, text, CHECK_HOST, &nerrors);
	assert_int_equal(nerrors, 1);
	assert_non_null(strstr(out,
	    "E appspec.yml:5:7: runas user "
	    "'no-such-user-cdagent' does not exist "
	    "on this host"));
	free(out);
}

static void
check__missing_user_with_before_install__warning(void **state)
{
	const char *dir = *state;
	size_t nerrors;
	char *out;

	free(tu_write(dir, "a.sh", "#!/bin/sh\n"));
	out = check_text(dir,
	    HDR "hooks:\n  BeforeInstall:\n    - location: a.sh\n"
		"  AfterInstall:\n    - location: a.sh\n"
		"      runas: no-such-user-cdagent\n",
	    CHECK_HOST, &nerrors);
	assert_int_equal(nerrors, 0);
	assert_non_null(strstr(out, "a BeforeInstall script may create it"));
	free(out);
}

static void
check__permissions_owner_and_group__checked_on_host(void **state)
{
	size_t nerrors;
	char *out = check_text(*state,
	    HDR "permissions:\n  - object: /srv\n"
		"    owner: no-such-user-cdagent\n"
		"    group: no-such-group-cdagent\n",
	    CHECK_HOST, &nerrors);

	assert_int_equal(nerrors, 2);
	assert_non_null(strstr(out, "owner 'no-such-user-cdagent'"));
	assert_non_null(strstr(out, "group 'no-such-group-cdagent'"));
	free(out);
}

static void
check__destination_is_a_file__error_on_host(void **state)
{
	const char *dir = *state;
	char *file = tu_write(dir, "plain", "x");
	char *text =
	    xasprintf(HDR "files:\n  - source: /\n    destination: %s\n", file);
	size_t nerrors;
	char *out = check_text(dir, text, CHECK_HOST, &nerrors);

	assert_int_equal(nerrors, 1);
	assert_non_null(strstr(out, "is not a directory"));
	free(out);
	free(text);
	free(file);
}

static void
check__destination_is_a_file_with_before_install__warning(void **state)
{
	const char *dir = *state;
	char *file = tu_write(dir, "plain", "x");
	char *script = tu_write(dir, "b.sh", "#!/bin/sh\n");
	char *text =
	    xasprintf(HDR "files:\n  - source: /\n    destination: %s\n"
			  "hooks:\n  BeforeInstall:\n"
			  "    - location: b.sh\n",
		file);
	size_t nerrors;
	char *out = check_text(dir, text, CHECK_HOST, &nerrors);

	assert_int_equal(nerrors, 0);
	assert_non_null(strstr(out, "a BeforeInstall script may remove it"));
	free(out);
	free(text);
	free(script);
	free(file);
}

static void
check__appspec_warnings__carried_over(void **state)
{
	size_t nerrors;
	char *out = check_text(*state, HDR "colour: blue\n", 0, &nerrors);

	assert_int_equal(nerrors, 0);
	assert_non_null(strstr(out, "W appspec.yml:3:1: unknown key 'colour'"));
	free(out);
}

#define T(name)                                                                \
	cmocka_unit_test_setup_teardown(                                       \
	    name, tu_setup_tmpdir, tu_teardown_tmpdir)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(check__valid_revision__no_diagnostics),
		T(check__missing_script__error_with_line_and_col),
		T(check__script_is_a_directory__error),
		T(check__script_escaping_the_revision__error),
		T(check__missing_source__error_root_source_fine),
		T(check__relative_destination__error_with_line_and_col),
		T(check__no_archive__revision_files_not_looked_at),
		T(check__missing_runas_user__error_only_with_host),
		T(check__missing_user_with_before_install__warning),
		T(check__permissions_owner_and_group__checked_on_host),
		T(check__destination_is_a_file__error_on_host),
		T(check__destination_is_a_file_with_before_install__warning),
		T(check__appspec_warnings__carried_over),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
