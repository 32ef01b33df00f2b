/*
 * Unit tests for what the daemon decides without the network
 * (daemon-int.h): the in-flight record of a command, which records a start
 * reports as interrupted, and what an acknowledgement's status leaves to
 * do.  The poll loop and the command processes are tested end to end by
 * tests/integration/daemon.sh and crash.sh.
 */
#include "config.h"

#include <sys/time.h>
#include <time.h>

#include "daemon-int.h"
#include "testutil.h"

/* What the report callback was handed, and what it answers. */
struct reports {
	int n;
	char ids[8][128];
	int fail; /* answer -1: the report did not go through */
};

static int
record_report(const char *deployment_id, const char *host_command_id, void *arg)
{
	struct reports *r = arg;

	if (r->n < 8)
		snprintf(r->ids[r->n], sizeof(r->ids[0]), "%s=%s",
		    deployment_id, host_command_id);
	r->n++;
	return r->fail ? -1 : 0;
}

static void
record__written_then_reported__removed(void **state)
{
	const char *root = *state;
	char *dir = xasprintf("%s/ongoing-deployment", root);
	struct err err = ERR_INIT;
	struct reports seen = { 0 };
	char *path, *text;

	path = daemon_record_write(dir, "d-ABC123", "hc-1", &err);
	assert_non_null(path);
	text = tu_read(path);
	assert_string_equal(text, "hc-1");
	free(text);

	daemon_record_recover(dir, time(NULL), record_report, &seen);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.ids[0], "d-ABC123=hc-1");
	assert_false(tu_exists(path));
	free(path);
	free(dir);
}

static void
record__report_fails__kept_for_next_start(void **state)
{
	const char *root = *state;
	struct err err = ERR_INIT;
	struct reports seen = { .fail = 1 };
	char *path = daemon_record_write(root, "d-1", "hc-9", &err);

	assert_non_null(path);
	daemon_record_recover(root, time(NULL), record_report, &seen);
	assert_int_equal(seen.n, 1);
	assert_true(tu_exists(path));
	seen.fail = 0;
	daemon_record_recover(root, time(NULL), record_report, &seen);
	assert_int_equal(seen.n, 2);
	assert_false(tu_exists(path));
	free(path);
}

static void
record__stale_or_empty__dropped_unreported(void **state)
{
	const char *root = *state;
	struct err err = ERR_INIT;
	struct reports seen = { 0 };
	char *stale = daemon_record_write(root, "d-old", "hc-old", &err);
	char *empty = tu_write(root, "d-empty", "");
	char *fresh = daemon_record_write(root, "d-new", "hc-new", &err);
	time_t now = time(NULL);

	assert_non_null(stale);
	assert_non_null(fresh);
	/* a day and a second old at `now` */
	{
		struct timeval tv[2] = {
			{ now - DAEMON_RECORD_MAX_AGE_S - 1, 0 },
			{ now - DAEMON_RECORD_MAX_AGE_S - 1, 0 },
		};

		assert_int_equal(utimes(stale, tv), 0);
	}
	daemon_record_recover(root, now, record_report, &seen);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.ids[0], "d-new=hc-new");
	assert_false(tu_exists(stale));
	assert_false(tu_exists(empty));
	assert_false(tu_exists(fresh));
	free(stale);
	free(empty);
	free(fresh);
}

static void
record__dotfiles_and_directories__left_alone(void **state)
{
	const char *root = *state;
	struct reports seen = { 0 };
	char *dot = tu_write(root, ".d-tmp", "hc-x");
	char *sub = xasprintf("%s/d-dir", root);

	assert_int_equal(mkdir(sub, 0700), 0);
	daemon_record_recover(root, time(NULL), record_report, &seen);
	assert_int_equal(seen.n, 0);
	assert_true(tu_exists(dot));
	assert_true(tu_exists(sub));
	free(dot);
	free(sub);
}

static void
record__missing_directory__nothing_to_report(void **state)
{
	char *dir = xasprintf("%s/none", (const char *)*state);
	struct reports seen = { 0 };

	daemon_record_recover(dir, time(NULL), record_report, &seen);
	assert_int_equal(seen.n, 0);
	free(dir);
}

static void
record__remove__gone_and_null_is_noop(void **state)
{
	struct err err = ERR_INIT;
	char *path = daemon_record_write(*state, "d-2", "hc-2", &err);
	char *copy = xstrdup(path);

	daemon_record_remove(path);
	assert_false(tu_exists(copy));
	daemon_record_remove(NULL);
	free(copy);
}

static void
record__unwritable_directory__error_names_it(void **state)
{
	char *file = tu_write(*state, "plain", "x");
	char *dir = xasprintf("%s/sub", file);
	struct err err = ERR_INIT;

	/* a directory under a regular file cannot be made */
	assert_null(daemon_record_write(dir, "d-3", "hc-3", &err));
	assert_true(err_isset(&err));
	assert_non_null(strstr(err.msg, "plain"));
	free(dir);
	free(file);
}

static void
ack__status_and_noop__action(void **state)
{
	(void)state;
	assert_int_equal(daemon_ack_action(NULL, 0), DAEMON_ACK_RUN);
	assert_int_equal(daemon_ack_action("InProgress", 1), DAEMON_ACK_RUN);
	assert_int_equal(daemon_ack_action("Succeeded", 0), DAEMON_ACK_DONE);
	assert_int_equal(daemon_ack_action("Succeeded", 1), DAEMON_ACK_DONE);
	assert_int_equal(daemon_ack_action("Failed", 0), DAEMON_ACK_LEAVE);
	assert_int_equal(
	    daemon_ack_action("Failed", 1), DAEMON_ACK_COMPLETE_NOOP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    record__written_then_reported__removed, tu_setup_tmpdir,
		    tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(
		    record__report_fails__kept_for_next_start, tu_setup_tmpdir,
		    tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(
		    record__stale_or_empty__dropped_unreported, tu_setup_tmpdir,
		    tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(
		    record__dotfiles_and_directories__left_alone,
		    tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(
		    record__missing_directory__nothing_to_report,
		    tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(
		    record__remove__gone_and_null_is_noop, tu_setup_tmpdir,
		    tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(
		    record__unwritable_directory__error_names_it,
		    tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test(ack__status_and_noop__action),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
