/*
 * Unit tests for status: what `cdagent status` prints for given files in
 * pid_dir and root_dir (a temporary directory).  The test process names
 * itself "cdagent-..." so that its own pid passes for a live daemon.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "daemon.h"
#include "exec.h"
#include "json.h"
#include "status.h"
#include "testutil.h"
#include "xalloc.h"

struct fixture {
	char *dir;
	struct cfg *cfg;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	f->dir = tu_mkdtemp();
	f->cfg = cfg_new();
	free(f->cfg->pid_dir);
	free(f->cfg->root_dir);
	free(f->cfg->log_dir);
	f->cfg->pid_dir = xasprintf("%s/pid", f->dir);
	f->cfg->root_dir = xasprintf("%s/root", f->dir);
	f->cfg->log_dir = xasprintf("%s/log", f->dir);
	assert_int_equal(mkdir(f->cfg->pid_dir, 0755), 0);
	assert_int_equal(mkdir(f->cfg->root_dir, 0755), 0);
	assert_int_equal(mkdir(f->cfg->log_dir, 0755), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	cfg_free(f->cfg);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

/* status_main()'s output into a string (free with free()), rc into *rc. */
static char *
run_status(const struct cfg *cfg, int as_json, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	*rc = status_main(cfg, as_json, out);
	fclose(out);
	return text;
}

/* A pid that was just alive and no longer is. */
static long
dead_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return (long)pid;
}

/* This process as the daemon: its pid file, status and commands. */
static void
pretend_running(const struct fixture *f)
{
	char *cmd_dir =
	    xasprintf("%s/%s", f->cfg->pid_dir, DAEMON_COMMANDS_DIR);
	char *text;
	long now = (long)time(NULL);

	assert_int_equal(prctl(PR_SET_NAME, "cdagent-test"), 0);
	text = xasprintf("%ld\n", (long)getpid());
	free(tu_write(f->cfg->pid_dir, DAEMON_PID_FILE, text));
	free(text);
	text = xasprintf("{\"started\": %ld, \"last_successful_poll\": %ld, "
			 "\"host_identifier\": \"arn:aws:ec2:i-1\", "
			 "\"endpoint\": \"https://cmd.example\", "
			 "\"last_error\": \"throttled\", "
			 "\"last_error_time\": %ld}",
	    now - 100, now - 5, now - 50);
	free(tu_write(f->cfg->pid_dir, DAEMON_STATUS_FILE, text));
	free(text);
	assert_int_equal(mkdir(cmd_dir, 0755), 0);
	text = xasprintf("{\"pid\": %ld, \"deployment_id\": \"d-LIVE\", "
			 "\"command\": \"Install\", \"since\": %ld}",
	    (long)getpid(), now - 7);
	free(tu_write(cmd_dir, "live.json", text));
	free(tu_write(cmd_dir, ".live.json.tmp", text));
	free(text);
	text = xasprintf("{\"pid\": %ld, \"deployment_id\": \"d-DEAD\", "
			 "\"command\": \"Install\", \"since\": %ld}",
	    dead_pid(), now - 7);
	free(tu_write(cmd_dir, "dead.json", text));
	free(text);
	text = xasprintf("{\"pid\": %ld}", (long)getpid());
	free(tu_write(cmd_dir, "nospec.json", text));
	free(text);
	free(cmd_dir);
}

static void
not_running__says_so_naming_pid_file__exit_3(void **state)
{
	struct fixture *f = *state;
	char *expect, *text;
	int rc;

	/* a pid file naming a dead process is not a running daemon */
	expect = xasprintf("%ld\n", dead_pid());
	free(tu_write(f->cfg->pid_dir, DAEMON_PID_FILE, expect));
	free(expect);
	text = run_status(f->cfg, 0, &rc);
	assert_int_equal(rc, STATUS_NOT_RUNNING);
	expect = xasprintf("cdagent is not running (no live process in "
			   "%s/cdagent.pid)\n",
	    f->cfg->pid_dir);
	assert_string_equal(text, expect);
	free(expect);
	free(text);
}

static void
running__host_poll_flights_and_error__exit_0(void **state)
{
	struct fixture *f = *state;
	char *expect, *text;
	int rc;

	pretend_running(f);
	text = run_status(f->cfg, 0, &rc);
	assert_int_equal(rc, STATUS_RUNNING);
	expect = xasprintf("cdagent is running (pid %ld)\n", (long)getpid());
	assert_true(strncmp(text, expect, strlen(expect)) == 0);
	free(expect);
	assert_non_null(strstr(text, "\n  host:        arn:aws:ec2:i-1\n"));
	assert_non_null(strstr(text, "\n  endpoint:    https://cmd.example\n"));
	assert_non_null(strstr(text, "\n  last poll:   "));
	assert_non_null(strstr(text, " UTC ("));
	/* the live record and the one whose spec is not read yet; not the
	 * dead process's, nor a dot file */
	assert_non_null(strstr(text, "\n  in flight:   2 command(s)\n"));
	expect = xasprintf(
	    "    d-LIVE Install (process %ld, since ", (long)getpid());
	assert_non_null(strstr(text, expect));
	free(expect);
	expect = xasprintf("    (spec not read yet) ? (process %ld, since "
			   "never)\n",
	    (long)getpid());
	assert_non_null(strstr(text, expect));
	free(expect);
	assert_null(strstr(text, "d-DEAD"));
	assert_non_null(strstr(text, "\n  last error:  "));
	assert_non_null(strstr(text, "s ago), throttled\n"));
	assert_null(strstr(text, "last deployment:"));
	free(text);
}

static void
last_command__failed__error_and_existing_logs_listed(void **state)
{
	struct fixture *f = *state;
	char *droot = xasprintf("%s/g", f->cfg->root_dir);
	char *logs = xasprintf("%s/d-1/logs", droot);
	char *rev = xasprintf("%s/d-1", droot);
	char *text, *expect;
	int rc;

	assert_int_equal(mkdir(droot, 0755), 0);
	assert_int_equal(mkdir(rev, 0755), 0);
	assert_int_equal(mkdir(logs, 0755), 0);
	free(rev);
	free(tu_write(logs, "scripts.log", "x\n"));
	free(tu_write(f->cfg->log_dir, "codedeploy-local.log", "x\n"));
	text =
	    xasprintf("{\"deployment_id\": \"d-1\", "
		      "\"deployment_group_id\": \"g\", "
		      "\"command\": \"AfterInstall\", \"status\": \"Failed\", "
		      "\"message\": \"Script at specified location: x "
		      "failed with exit code 2\", \"time\": 1700000000, "
		      "\"deployment_root\": \"%s/d-1\", \"local\": true}",
		droot);
	free(tu_write(f->cfg->root_dir, EXEC_LAST_COMMAND_FILE, text));
	free(text);
	text = run_status(f->cfg, 0, &rc);
	assert_int_equal(rc, STATUS_NOT_RUNNING);
	expect = xasprintf("last deployment: d-1 (group g)\n"
			   "  last command: AfterInstall Failed, "
			   "2023-11-14 22:13:20 UTC (");
	assert_non_null(strstr(text, expect));
	free(expect);
	assert_non_null(strstr(text,
	    "\n  error:       Script at specified location: x failed with "
	    "exit code 2\n"));
	expect = xasprintf("  scripts log: %s/d-1/logs/scripts.log\n"
			   "  agent log:   %s/codedeploy-local.log\n",
	    droot, f->cfg->log_dir);
	assert_non_null(strstr(text, expect));
	free(expect);
	free(text);
	free(logs);
	free(droot);
}

static void
json__running_report_has_every_field(void **state)
{
	struct fixture *f = *state;
	struct json *doc = NULL;
	const struct json *flights;
	struct err err = ERR_INIT;
	char *text;
	int rc;

	pretend_running(f);
	text = run_status(f->cfg, 1, &rc);
	assert_int_equal(rc, STATUS_RUNNING);
	assert_int_equal(
	    json_parse(text, strlen(text), "status", &doc, &err), 0);
	assert_true(json_bool_value(json_get(doc, "running")));
	assert_true(
	    json_number_value(json_get(doc, "pid")) == (double)getpid());
	assert_string_equal(
	    json_get_string(doc, "host_identifier"), "arn:aws:ec2:i-1");
	assert_string_equal(
	    json_get_string(doc, "endpoint"), "https://cmd.example");
	assert_string_equal(json_get_string(doc, "last_error"), "throttled");
	flights = json_get(doc, "in_flight");
	assert_int_equal(json_array_size(flights), 2);
	assert_non_null(json_get(doc, "last_deployment"));
	assert_false(json_is_object(json_get(doc, "last_deployment")));
	json_free(doc);
	free(text);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(not_running__says_so_naming_pid_file__exit_3),
		T(running__host_poll_flights_and_error__exit_0),
		T(last_command__failed__error_and_existing_logs_listed),
		T(json__running_report_has_every_field),
	};

	return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
