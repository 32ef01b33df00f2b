/*
 * Tests for hook: real scripts in a scratch deployment root.  Revision
 * selection, order and environment, the process model (background
 * children, timeouts, signals), runas, exit codes, scripts.log and the
 * diagnostics JSON.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "hook-int.h"
#include "hook.h"
#include "state.h"
#include "testutil.h"
#include "tu_utf8.h"
#include "xalloc.h"

struct fx {
	char *root;  /* deployment root */
	char *droot; /* ROOT/dg-1/d-CURRENT */
	char *prev;  /* ROOT/dg-1/d-PREVIOUS */
	char *out;   /* where scripts leave evidence */
	struct hook_context ctx;
};

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->root = tu_mkdtemp();
	chmod(f->root, 0755); /* a runas user must reach the scripts */
	f->droot = xasprintf("%s/dg-1/d-CURRENT", f->root);
	f->prev = xasprintf("%s/dg-1/d-PREVIOUS", f->root);
	f->out = xasprintf("%s/out", f->root);
	mkdir(f->out, 0777);
	chmod(f->out, 0777);
	f->ctx.root_dir = f->root;
	f->ctx.deployment_id = "d-CURRENT";
	f->ctx.deployment_group_id = "dg-1";
	f->ctx.deployment_group_name = "group-name";
	f->ctx.application_name = "app-name";
	f->ctx.program_name = "codedeploy-agent";
	f->ctx.enable_deployments_log = 1;
	f->ctx.kill_grace_ms = 500;
	f->ctx.drain_grace_ms = 300;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tu_rmdir(f->root);
	free(f->droot);
	free(f->prev);
	free(f->out);
	free(f);
	return 0;
}

/* Write an executable script under droot/deployment-archive. */
static void
script(const char *droot, const char *rel, const char *body, mode_t mode)
{
	struct err err = ERR_INIT;
	char *path = xasprintf("%s/deployment-archive/%s", droot, rel);
	char *text = xasprintf("#!/bin/sh\n%s\n", body);
	char *slash = strrchr(path, '/');

	*slash = '\0';
	assert_int_equal(fsutil_mkdir_p(path, 0755, &err), 0);
	*slash = '/';
	assert_int_equal(
	    fsutil_write_atomic(path, text, strlen(text), mode, &err), 0);
	free(path);
	free(text);
}

static void
appspec(const char *droot, const char *text)
{
	char *full = xasprintf("version: 0.0\nos: linux\nhooks:\n%s", text);
	char *dir = xasprintf("%s/deployment-archive", droot);
	struct err err = ERR_INIT;

	assert_int_equal(fsutil_mkdir_p(dir, 0755, &err), 0);
	free(tu_write(dir, "appspec.yml", full));
	free(dir);
	free(full);
}

static char *
out_file(struct fx *f, const char *name)
{
	char *path = xasprintf("%s/%s", f->out, name);
	char *text = tu_read(path);

	free(path);
	return text;
}

/* Whether pid is a live (not zombie) process. */
static int
alive(pid_t pid)
{
	char path[64], *text;
	char *state;
	int live;

	if (kill(pid, 0) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	text = tu_read(path);
	if (text == NULL)
		return 0;
	state = strrchr(text, ')');
	live = state != NULL && state[2] != 'Z' && state[2] != 'X';
	free(text);
	return live;
}

static void
order_and_environment(void **state)
{
	struct fx *f = *state;
	const char *bundle[] = { "BUNDLE_BUCKET=bkt", "BUNDLE_KEY=k/e y",
		NULL };
	struct hook_result res;
	char *env, *order;

	setenv("AWS_REGION", "eu-west-3", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "agent-secret", 1);
	setenv("AWS_SECRET_KEY", "onprem-secret", 1);
	setenv("AWS_SESSION_TOKEN", "agent-token", 1);
	f->ctx.bundle_env = bundle;
	script(f->droot, "scripts/one.sh",
	    "echo one >> \"$OUT/order\"; env > \"$OUT/env\"", 0755);
	script(f->droot, "scripts/two.sh", "echo two >> \"$OUT/order\"", 0755);
	appspec(f->droot,
	    "  BeforeInstall:\n"
	    "    - location: scripts/one.sh\n"
	    "    - location: scripts/two.sh\n");
	setenv("OUT", f->out, 1);
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), 0);
	assert_int_equal(res.code, HOOK_SUCCEEDED);
	assert_int_equal(res.scripts_run, 2);
	order = out_file(f, "order");
	assert_string_equal(order, "one\ntwo\n");
	env = out_file(f, "env");
	assert_non_null(strstr(env, "\nLIFECYCLE_EVENT=BeforeInstall\n"));
	assert_non_null(strstr(env, "\nDEPLOYMENT_ID=d-CURRENT\n"));
	assert_non_null(strstr(env, "\nAPPLICATION_NAME=app-name\n"));
	assert_non_null(strstr(env, "\nDEPLOYMENT_GROUP_NAME=group-name\n"));
	assert_non_null(strstr(env, "\nDEPLOYMENT_GROUP_ID=dg-1\n"));
	assert_non_null(strstr(env, "\nBUNDLE_KEY=k/e y\n"));
	assert_non_null(strstr(env, "\nAWS_REGION=eu-west-3\n"));
	assert_null(strstr(env, "agent-secret"));
	assert_null(strstr(env, "onprem-secret"));
	assert_null(strstr(env, "agent-token"));
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SECRET_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	free(order);
	free(env);
	hook_result_clear(&res);
}

static void
first_failure__stops_the_event_with_code_4(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	char *json;

	script(f->droot, "a.sh", "echo before; echo oops >&2; exit 3", 0755);
	script(f->droot, "b.sh", "echo b > \"$OUT/b\"", 0755);
	appspec(f->droot,
	    "  AfterInstall:\n    - location: a.sh\n"
	    "    - location: b.sh\n");
	setenv("OUT", f->out, 1);
	assert_int_equal(hook_run_event(&f->ctx, "AfterInstall", &res), -1);
	assert_int_equal(res.code, HOOK_SCRIPT_FAILED);
	assert_string_equal(res.script_name, "a.sh");
	assert_string_equal(res.message,
	    "Script at specified location: a.sh failed with exit code 3");
	assert_int_equal(res.exit_code, 3);
	assert_null(out_file(f, "b"));
	assert_non_null(strstr(res.log, "[stdout]before\n"));
	assert_non_null(strstr(res.log, "[stderr]oops\n"));
	json =
	    hook_diagnostics(res.code, res.script_name, res.message, res.log);
	assert_string_equal(json,
	    "{\"error_code\":4,\"script_name\":\"a.sh\",\"message\":\"Script "
	    "at specified location: a.sh failed with exit code 3\",\"log\":"
	    "\"LifecycleEvent - AfterInstall\\nScript - a.sh\\n"
	    "[stdout]before\\n[stderr]oops\\n\"}");
	free(json);
	hook_result_clear(&res);
}

static void
background_child_holding_output__does_not_hang(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	long long start;
	char *pid_text;
	pid_t pid;

	script(f->droot, "start.sh",
	    "sleep 300 &\necho $! > \"$OUT/pid\"\necho started", 0755);
	appspec(f->droot,
	    "  ApplicationStart:\n    - location: start.sh\n"
	    "      timeout: 60\n");
	setenv("OUT", f->out, 1);
	start = clock_now_ms();
	assert_int_equal(hook_run_event(&f->ctx, "ApplicationStart", &res), 0);
	assert_true(clock_now_ms() - start < 5000);
	assert_int_equal(res.exit_code, -1);
	pid_text = out_file(f, "pid");
	assert_non_null(pid_text);
	pid = (pid_t)atol(pid_text);
	assert_true(alive(pid)); /* the application keeps running */
	kill(pid, SIGKILL);
	free(pid_text);
	hook_result_clear(&res);
}

static void
timeout__kills_the_whole_group_with_code_3(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	long long start;
	char *pid_text;
	pid_t pid;
	int i;

	script(f->droot, "slow.sh",
	    "sleep 300 > /dev/null 2>&1 &\necho $! > \"$OUT/grandchild\"\n"
	    "trap '' TERM\nsleep 300",
	    0755);
	appspec(f->droot,
	    "  ValidateService:\n    - location: slow.sh\n"
	    "      timeout: 1\n");
	setenv("OUT", f->out, 1);
	start = clock_now_ms();
	assert_int_equal(hook_run_event(&f->ctx, "ValidateService", &res), -1);
	assert_true(clock_now_ms() - start < 5000);
	assert_int_equal(res.code, HOOK_SCRIPT_TIMED_OUT);
	assert_string_equal(res.message,
	    "Script at specified location: slow.sh failed to complete in 1 "
	    "seconds");
	assert_int_equal(res.exit_code, -1);
	pid_text = out_file(f, "grandchild");
	assert_non_null(pid_text);
	pid = (pid_t)atol(pid_text);
	for (i = 0; i < 50 && alive(pid); i++)
		usleep(20000);
	assert_false(alive(pid));
	free(pid_text);
	hook_result_clear(&res);
}

static void
killed_by_signal__reported(void **state)
{
	struct fx *f = *state;
	struct hook_result res;

	script(f->droot, "die.sh", "kill -9 $$", 0755);
	appspec(f->droot, "  AfterInstall:\n    - location: die.sh\n");
	assert_int_equal(hook_run_event(&f->ctx, "AfterInstall", &res), -1);
	assert_int_equal(res.code, HOOK_SCRIPT_FAILED);
	assert_non_null(strstr(res.message,
	    "failed with exit code 137 "
	    "(killed by signal 9"));
	assert_int_equal(res.exit_code, 137);
	hook_result_clear(&res);
}

static void
missing_script__code_1_with_path(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	char *expect;

	appspec(f->droot, "  BeforeInstall:\n    - location: nope.sh\n");
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), -1);
	assert_int_equal(res.code, HOOK_SCRIPT_MISSING);
	expect = xasprintf("Script does not exist at specified location: "
			   "%s/deployment-archive/nope.sh",
	    f->droot);
	assert_string_equal(res.message, expect);
	free(expect);
	hook_result_clear(&res);
}

static void
missing_appspec__code_5(void **state)
{
	struct fx *f = *state;
	struct hook_result res;

	script(f->droot, "x.sh", "true", 0755);
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), -1);
	assert_int_equal(res.code, HOOK_UNKNOWN_ERROR);
	assert_string_equal(res.script_name, "");
	assert_non_null(strstr(res.message, "appspec.yml"));
	hook_result_clear(&res);
}

static void
location_outside_archive__refused(void **state)
{
	struct fx *f = *state;
	struct hook_result res;

	script(f->droot, "ok.sh", "true", 0755);
	appspec(f->droot, "  BeforeInstall:\n    - location: ../../x.sh\n");
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), -1);
	assert_int_equal(res.code, HOOK_SCRIPT_MISSING);
	assert_non_null(strstr(res.message, "outside the deployment archive"));
	hook_result_clear(&res);
}

static void
not_executable__made_executable_and_run(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	char *path = xasprintf("%s/deployment-archive/plain.sh", f->droot);
	struct stat st;

	script(f->droot, "plain.sh", "exit 0", 0644);
	appspec(f->droot, "  BeforeInstall:\n    - location: plain.sh\n");
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	free(path);
	hook_result_clear(&res);
}

static void
no_shebang__runs_with_sh(void **state)
{
	struct fx *f = *state;
	struct err err = ERR_INIT;
	struct hook_result res;
	char *dir = xasprintf("%s/deployment-archive", f->droot);
	char *text;

	assert_int_equal(fsutil_mkdir_p(dir, 0755, &err), 0);
	free(tu_write(dir, "bare", "echo bare > \"$OUT/bare\"\n"));
	appspec(f->droot, "  BeforeInstall:\n    - location: bare\n");
	setenv("OUT", f->out, 1);
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), 0);
	text = out_file(f, "bare");
	assert_string_equal(text, "bare\n");
	free(text);
	free(dir);
	hook_result_clear(&res);
}

static void
scripts_log__v1_format_partial_line_and_ansi(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	char *log_path = xasprintf("%s/logs/scripts.log", f->droot);
	char *text, *line;
	int n = 0;

	script(f->droot, "s.sh",
	    "printf '\\033[1;31mred\\033[0m plain\\n'; printf 'no newline'",
	    0755);
	appspec(f->droot, "  BeforeInstall:\n    - location: s.sh\n");
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), 0);
	hook_result_clear(&res);
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), 0);
	hook_result_clear(&res);
	text = tu_read(log_path);
	assert_non_null(text);
	for (line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n"), n++) {
		const char *want[] = { "LifecycleEvent - BeforeInstall",
			"Script - s.sh", "[stdout]red plain",
			"[stdout]no newline" };

		/* "YYYY-MM-DD HH:MM:SS " then the entry */
		assert_true(strlen(line) > 20);
		assert_int_equal(line[4], '-');
		assert_int_equal(line[13], ':');
		assert_int_equal(line[19], ' ');
		assert_string_equal(line + 20, want[n % 4]);
	}
	assert_int_equal(n, 8);
	free(text);
	free(log_path);
}

static void
scripts_log__rotates_by_size(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	char *rotated = xasprintf("%s/logs/scripts.log.1", f->droot);

	f->ctx.scripts_log_max = 300;
	script(f->droot, "loud.sh",
	    "i=0; while [ $i -lt 40 ]; do echo line $i; i=$((i+1)); done",
	    0755);
	appspec(f->droot, "  BeforeInstall:\n    - location: loud.sh\n");
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), 0);
	assert_true(tu_exists(rotated));
	free(rotated);
	hook_result_clear(&res);
}

static void
deployments_log__v1_line_format(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	char *path = xasprintf("%s/deployment-logs/"
			       "codedeploy-agent-deployments.log",
	    f->root);
	char *text;

	script(f->droot, "s.sh", "echo '  hi  '", 0755);
	appspec(f->droot, "  BeforeInstall:\n    - location: s.sh\n");
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), 0);
	text = tu_read(path);
	assert_non_null(text);
	assert_int_equal(text[0], '[');
	assert_int_equal(text[24], ']');
	assert_non_null(strstr(text,
	    "] [d-CURRENT]LifecycleEvent - "
	    "BeforeInstall\n"));
	assert_non_null(strstr(text, "] [d-CURRENT][stdout]  hi\n"));
	free(text);
	free(path);
	hook_result_clear(&res);
}

static void
application_stop__runs_from_last_successful(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	char *text;

	script(f->prev, "stop.sh", "echo old > \"$OUT/stop\"", 0755);
	appspec(f->prev, "  ApplicationStop:\n    - location: stop.sh\n");
	setenv("OUT", f->out, 1);
	/* no previous revision: a noop */
	assert_int_equal(hook_run_event(&f->ctx, "ApplicationStop", &res), 0);
	assert_true(res.noop);
	hook_result_clear(&res);
	f->ctx.last_successful_droot = f->prev;
	assert_int_equal(hook_run_event(&f->ctx, "ApplicationStop", &res), 0);
	assert_false(res.noop);
	text = out_file(f, "stop");
	assert_string_equal(text, "old\n");
	free(text);
	hook_result_clear(&res);
}

static void
application_stop__current_archive_daemon_vs_local(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	char *text;

	script(f->prev, "stop.sh", "echo old > \"$OUT/stop\"", 0755);
	appspec(f->prev, "  ApplicationStop:\n    - location: stop.sh\n");
	script(f->droot, "stop.sh", "echo new > \"$OUT/stop\"", 0755);
	appspec(f->droot, "  ApplicationStop:\n    - location: stop.sh\n");
	f->ctx.last_successful_droot = f->prev;
	setenv("OUT", f->out, 1);
	/* v1: the current archive exists, so it is used */
	assert_int_equal(hook_run_event(&f->ctx, "ApplicationStop", &res), 0);
	text = out_file(f, "stop");
	assert_string_equal(text, "new\n");
	free(text);
	hook_result_clear(&res);
	/* codedeploy-local: the previous revision stops (bug 21) */
	f->ctx.local = 1;
	assert_int_equal(hook_run_event(&f->ctx, "ApplicationStop", &res), 0);
	text = out_file(f, "stop");
	assert_string_equal(text, "old\n");
	free(text);
	hook_result_clear(&res);
}

static void
blue_green_rollback__block_traffic_from_most_recent(void **state)
{
	struct fx *f = *state;
	const char *ids[] = { "d-RECENT" };
	struct hook_result res;
	char *recent = xasprintf("%s/dg-1/%s", f->root, ids[0]);
	char *text;

	script(recent, "b.sh", "echo recent > \"$OUT/bbt\"", 0755);
	appspec(recent, "  BeforeBlockTraffic:\n    - location: b.sh\n");
	script(f->prev, "b.sh", "echo last > \"$OUT/bbt\"", 0755);
	appspec(f->prev, "  BeforeBlockTraffic:\n    - location: b.sh\n");
	f->ctx.last_successful_droot = f->prev;
	f->ctx.most_recent_droot = recent;
	f->ctx.deployment_creator = "codeDeployRollback";
	f->ctx.deployment_type = "BLUE_GREEN";
	setenv("OUT", f->out, 1);
	assert_int_equal(
	    hook_run_event(&f->ctx, "BeforeBlockTraffic", &res), 0);
	text = out_file(f, "bbt");
	assert_string_equal(text, "recent\n");
	free(text);
	hook_result_clear(&res);
	f->ctx.deployment_type = "IN_PLACE";
	assert_int_equal(
	    hook_run_event(&f->ctx, "BeforeBlockTraffic", &res), 0);
	text = out_file(f, "bbt");
	assert_string_equal(text, "last\n");
	free(text);
	hook_result_clear(&res);
	free(recent);
}

static void
event_without_scripts__noop_no_log(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	char *log_path = xasprintf("%s/logs/scripts.log", f->droot);

	script(f->droot, "x.sh", "true", 0755);
	appspec(f->droot,
	    "  BeforeInstall:\n    - location: x.sh\n"
	    "  AfterInstall: []\n");
	assert_int_equal(hook_run_event(&f->ctx, "AfterInstall", &res), 0);
	assert_true(res.noop);
	hook_result_clear(&res);
	assert_int_equal(hook_run_event(&f->ctx, "ValidateService", &res), 0);
	assert_true(res.noop);
	assert_false(tu_exists(log_path));
	free(log_path);
	hook_result_clear(&res);
}

static void
runas__missing_user__fails_naming_it(void **state)
{
	struct fx *f = *state;
	struct hook_result res;

	script(f->droot, "x.sh", "true", 0755);
	appspec(f->droot,
	    "  BeforeInstall:\n    - location: x.sh\n"
	    "      runas: cdagent-no-such-user\n");
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), -1);
	assert_int_equal(res.code, HOOK_SCRIPT_FAILED);
	assert_non_null(strstr(res.message, "'cdagent-no-such-user'"));
	assert_int_equal(res.exit_code, -1); /* it never ran */
	assert_non_null(strstr(res.message, "run as user"));
	hook_result_clear(&res);
}

/*
 * The throwaway user of the runas test: made by its setup, removed by its
 * teardown (also when an assertion fails).  Empty: not root, or no useradd.
 */
static char runas_user[32];

static int
setup_runas_user(void **state)
{
	char *cmd;
	int rc;

	runas_user[0] = '\0';
	if (setup(state) != 0)
		return -1;
	if (geteuid() != 0 || access("/usr/sbin/useradd", X_OK) != 0)
		return 0;
	snprintf(runas_user, sizeof(runas_user), "cdtest%ld", (long)getpid());
	cmd = xasprintf("/usr/sbin/useradd -M -d /tmp/%s -s /bin/sh %s",
	    runas_user, runas_user);
	rc = system(cmd);
	free(cmd);
	if (rc != 0) {
		runas_user[0] = '\0';
		teardown(state);
		return -1;
	}
	return 0;
}

static int
teardown_runas_user(void **state)
{
	int rc = 0;

	if (runas_user[0] != '\0') {
		char *cmd = xasprintf("/usr/sbin/userdel %s", runas_user);

		rc = system(cmd) == 0 ? 0 : -1;
		free(cmd);
		runas_user[0] = '\0';
	}
	teardown(state);
	return rc;
}

static void
runas__throwaway_user__uid_home_no_su(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	const char *user = runas_user;
	char *text, *expect;
	struct passwd *pw;

	if (user[0] == '\0')
		skip();
	pw = getpwnam(user);
	assert_non_null(pw);
	script(f->droot, "who.sh",
	    "echo \"$(id -u) $HOME $USER $LOGNAME\" > \"$OUT/who\"; "
	    "[ -t 0 ] && echo tty >> \"$OUT/who\"; exit 0",
	    0755);
	text = xasprintf("  BeforeInstall:\n    - location: who.sh\n"
			 "      runas: %s\n",
	    user);
	appspec(f->droot, text);
	free(text);
	setenv("OUT", f->out, 1);
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), 0);
	text = out_file(f, "who");
	expect = xasprintf(
	    "%ld /tmp/%s %s %s\n", (long)pw->pw_uid, user, user, user);
	assert_string_equal(text, expect);
	free(text);
	free(expect);
	hook_result_clear(&res);
}

static void
diagnostics__capped_and_valid_utf8(void **state)
{
	char *big = xmalloc(20000);
	char *json;

	memset(big, 'x', 19999);
	big[19999] = '\0';
	big[19990] = '\xff';
	json =
	    hook_diagnostics(HOOK_SCRIPT_FAILED, "s\xc3.sh", "bad \xfe", big);
	assert_true(strlen(json) <= HOOK_DIAGNOSTICS_MAX);
	assert_non_null(strstr(json, "\"script_name\":\"s\xef\xbf\xbd.sh\""));
	assert_non_null(strstr(json, "\"message\":\"bad \xef\xbf\xbd\""));
	assert_non_null(strstr(json, "xxx\xef\xbf\xbdxxxxxxxx\"}"));
	free(json);
	json = hook_diagnostics(HOOK_SUCCEEDED, "", "Succeeded: ", "");
	assert_string_equal(json,
	    "{\"error_code\":0,\"script_name\":\"\","
	    "\"message\":\"Succeeded: \",\"log\":\"\"}");
	free(json);
	free(big);
}

static void
tail__keeps_newest_within_limit(void **state)
{
	struct fx *f = *state;
	struct hook_result res;

	script(f->droot, "loud.sh",
	    "i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done; "
	    "exit 1",
	    0755);
	appspec(f->droot, "  BeforeInstall:\n    - location: loud.sh\n");
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), -1);
	assert_true(strlen(res.log) <= HOOK_LOG_TAIL_MAX);
	assert_true(strlen(res.log) > 3500);
	assert_non_null(strstr(res.log, "[stdout]line-399\n"));
	assert_null(strstr(res.log, "line-10\n"));
	hook_result_clear(&res);
}

static void
text_utf8__invalid_replaced_nul_shown(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ "plain", 5, "plain" },
		{ "a\0b", 3, "a\\0b" },
		{ "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
		    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" },
		{ "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" }, /* overlong */
		{ "\xe0\x80\xaf", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xf4\x90\x80\x80", 4,
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xf5", 1, "\xef\xbf\xbd" },
		{ "x\xe2\x82", 3, "x\xef\xbf\xbd\xef\xbf\xbd" }, /* cut short */
		{ "\r\033", 2, "\r\033" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = hook_text_utf8(cases[i].in, cases[i].len);

		assert_string_equal(out, cases[i].want);
		assert_true(tu_well_formed_utf8(out));
		free(out);
	}
}

/* The bug of issue 14: entries holding NUL were counted by their length
 * and evicted by strlen(), so the tail freed the same entry twice. */
static void
tail__nul_bytes__no_double_free(void **state)
{
	struct fx *f = *state;
	struct hook_log log;
	char line[300];
	char *tail;
	int i;

	memset(line, 0, sizeof(line));
	memcpy(line, "zero", 4);
	hook_log_open(&log, &f->ctx, f->droot, "BeforeInstall");
	for (i = 0; i < 200; i++)
		hook_log_entry(&log, "[stdout]", line, sizeof(line));
	tail = hook_log_tail(&log);
	assert_true(strlen(tail) <= HOOK_LOG_TAIL_MAX);
	assert_true(strlen(tail) > HOOK_LOG_TAIL_MAX / 2);
	assert_non_null(strstr(tail, "[stdout]zero\\0\\0\\0"));
	assert_true(tu_well_formed_utf8(tail));
	free(tail);
	hook_log_close(&log);
}

/* A hook printing NUL, invalid UTF-8, CR and ANSI escapes, with no final
 * newline: scripts.log has the bytes as written (ANSI stripped), the
 * diagnostics tail is valid UTF-8 with NUL shown as \0. */
static void
output__any_bytes__scripts_log_verbatim_tail_utf8(void **state)
{
	struct fx *f = *state;
	struct hook_result res;
	struct err err = ERR_INIT;
	char *log_path = xasprintf("%s/logs/scripts.log", f->droot);
	static const char want[] = "[stdout]a\0b\377c\rred end";
	char *text = NULL, *json;
	size_t len = 0, i;
	int found = 0;

	script(f->droot, "s.sh",
	    "printf 'a\\000b\\377c\\r\\033[31mred\\033[0m end'; exit 3", 0755);
	appspec(f->droot, "  BeforeInstall:\n    - location: s.sh\n");
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), -1);
	assert_non_null(strstr(res.log,
	    "[stdout]a\\0b\xef\xbf\xbd"
	    "c\rred end\n"));
	assert_true(tu_well_formed_utf8(res.log));
	json =
	    hook_diagnostics(res.code, res.script_name, res.message, res.log);
	assert_true(tu_well_formed_utf8(json));
	assert_non_null(strstr(json,
	    "a\\\\0b\xef\xbf\xbd"
	    "c\\rred end\\n"));
	free(json);
	hook_result_clear(&res);
	assert_int_equal(
	    fsutil_read_file(log_path, 1 << 20, &text, &len, &err), 0);
	for (i = 0; i + sizeof(want) <= len && !found; i++)
		found = memcmp(text + i, want, sizeof(want) - 1) == 0 &&
		    text[i + sizeof(want) - 1] == '\n';
	assert_true(found);
	free(text);
	free(log_path);
}

/* 64 KiB of /dev/zero and of /dev/urandom, no newline guaranteed: the
 * event runs to its end and reports like any other. */
static void
output__64k_zero_and_urandom__event_reports(void **state)
{
	struct fx *f = *state;
	struct hook_result res;

	script(f->droot, "bin.sh",
	    "head -c 65536 /dev/zero; head -c 65536 /dev/urandom; "
	    "head -c 65536 /dev/urandom >&2; echo done",
	    0755);
	script(f->droot, "fail.sh",
	    "head -c 65536 /dev/urandom; head -c 70000 /dev/zero; exit 9",
	    0755);
	appspec(f->droot,
	    "  BeforeInstall:\n    - location: bin.sh\n"
	    "  AfterInstall:\n    - location: fail.sh\n");
	assert_int_equal(hook_run_event(&f->ctx, "BeforeInstall", &res), 0);
	assert_int_equal(res.code, HOOK_SUCCEEDED);
	hook_result_clear(&res);
	assert_int_equal(hook_run_event(&f->ctx, "AfterInstall", &res), -1);
	assert_int_equal(res.code, HOOK_SCRIPT_FAILED);
	assert_non_null(strstr(res.message, "exit code 9"));
	assert_true(strlen(res.log) <= HOOK_LOG_TAIL_MAX);
	assert_true(tu_well_formed_utf8(res.log));
	assert_non_null(strstr(res.log, "\\0\\0\\0\\0\n"));
	hook_result_clear(&res);
}

/* --- the deadline state machine on its own: time is an input ----------- */

static void
deadline__exits_in_time__drains_then_done(void **state)
{
	struct hook_deadline d;
	int wait_ms = -1;

	(void)state;
	hook_deadline_start(&d, 1000, 10, 500, 300);
	assert_int_equal(
	    hook_deadline_step(&d, 1000, 1, &wait_ms), HOOK_STEP_WAIT);
	assert_int_equal(wait_ms, 10000);
	assert_int_equal(
	    hook_deadline_step(&d, 4000, 1, &wait_ms), HOOK_STEP_WAIT);
	assert_int_equal(wait_ms, 7000);
	hook_deadline_exited(&d, 5000);
	/* exited: wait for the pipes to close, drain_grace at most */
	assert_int_equal(
	    hook_deadline_step(&d, 5000, 1, &wait_ms), HOOK_STEP_WAIT);
	assert_int_equal(wait_ms, 300);
	assert_int_equal(
	    hook_deadline_step(&d, 5100, 1, &wait_ms), HOOK_STEP_WAIT);
	assert_int_equal(wait_ms, 200);
	assert_int_equal(
	    hook_deadline_step(&d, 5100, 0, &wait_ms), HOOK_STEP_DONE);
	assert_false(d.timed_out);
	assert_false(d.killed);
}

static void
deadline__exit_past_deadline_time__still_done_not_timed_out(void **state)
{
	struct hook_deadline d;
	int wait_ms;

	(void)state;
	/* reaped before the deadline step ran: exiting wins over the clock */
	hook_deadline_start(&d, 0, 1, 500, 300);
	hook_deadline_exited(&d, 5000);
	assert_int_equal(
	    hook_deadline_step(&d, 5000, 0, &wait_ms), HOOK_STEP_DONE);
	assert_false(d.timed_out);
}

static void
deadline__output_held_open__given_up_after_drain_grace(void **state)
{
	struct hook_deadline d;
	int wait_ms;

	(void)state;
	hook_deadline_start(&d, 0, 60, 5000, 1000);
	hook_deadline_exited(&d, 2000);
	assert_int_equal(
	    hook_deadline_step(&d, 2999, 1, &wait_ms), HOOK_STEP_WAIT);
	assert_int_equal(wait_ms, 1);
	assert_int_equal(
	    hook_deadline_step(&d, 3000, 1, &wait_ms), HOOK_STEP_DONE);
	assert_int_equal(wait_ms, 0);
	assert_false(d.timed_out);
}

static void
deadline__timeout__sigterm_sigkill_then_give_up(void **state)
{
	struct hook_deadline d;
	int wait_ms;

	(void)state;
	hook_deadline_start(&d, 1000, 10, 500, 300);
	assert_int_equal(
	    hook_deadline_step(&d, 10999, 1, &wait_ms), HOOK_STEP_WAIT);
	assert_int_equal(wait_ms, 1);
	assert_int_equal(
	    hook_deadline_step(&d, 11000, 1, &wait_ms), HOOK_STEP_SIGTERM);
	assert_int_equal(wait_ms, 500);
	assert_true(d.timed_out);
	assert_false(d.killed);
	/* SIGTERM once: the grace runs, then SIGKILL once */
	assert_int_equal(
	    hook_deadline_step(&d, 11200, 1, &wait_ms), HOOK_STEP_WAIT);
	assert_int_equal(wait_ms, 300);
	assert_int_equal(
	    hook_deadline_step(&d, 11500, 0, &wait_ms), HOOK_STEP_SIGKILL);
	assert_int_equal(wait_ms, 500);
	assert_true(d.killed);
	assert_int_equal(
	    hook_deadline_step(&d, 11999, 0, &wait_ms), HOOK_STEP_WAIT);
	assert_int_equal(wait_ms, 1);
	/* still not reaped a grace after SIGKILL (D state): give up */
	assert_int_equal(
	    hook_deadline_step(&d, 12000, 0, &wait_ms), HOOK_STEP_GIVE_UP);
	assert_int_equal(wait_ms, 0);
}

static void
deadline__exits_after_sigterm__timed_out_not_killed(void **state)
{
	struct hook_deadline d;
	int wait_ms;

	(void)state;
	hook_deadline_start(&d, 0, 1, 500, 300);
	assert_int_equal(
	    hook_deadline_step(&d, 1000, 1, &wait_ms), HOOK_STEP_SIGTERM);
	hook_deadline_exited(&d, 1100);
	assert_int_equal(
	    hook_deadline_step(&d, 1100, 1, &wait_ms), HOOK_STEP_WAIT);
	assert_int_equal(wait_ms, 300); /* the drain, not the kill grace */
	assert_int_equal(
	    hook_deadline_step(&d, 1600, 1, &wait_ms), HOOK_STEP_DONE);
	assert_true(d.timed_out);
	assert_false(d.killed);
}

static void
deadline__late_wakeup__each_signal_once_from_now(void **state)
{
	struct hook_deadline d;
	int wait_ms;

	(void)state;
	/* a wakeup long past every deadline: SIGTERM, and its grace runs
	 * from then, not from the deadline */
	hook_deadline_start(&d, 0, 1, 500, 300);
	assert_int_equal(
	    hook_deadline_step(&d, 60000, 1, &wait_ms), HOOK_STEP_SIGTERM);
	assert_int_equal(wait_ms, 500);
	assert_int_equal(
	    hook_deadline_step(&d, 60000, 1, &wait_ms), HOOK_STEP_WAIT);
	assert_int_equal(
	    hook_deadline_step(&d, 90000, 1, &wait_ms), HOOK_STEP_SIGKILL);
	assert_int_equal(
	    hook_deadline_step(&d, 90000, 1, &wait_ms), HOOK_STEP_WAIT);
	assert_int_equal(wait_ms, 500);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(order_and_environment),
		T(first_failure__stops_the_event_with_code_4),
		T(background_child_holding_output__does_not_hang),
		T(timeout__kills_the_whole_group_with_code_3),
		T(killed_by_signal__reported),
		T(missing_script__code_1_with_path),
		T(missing_appspec__code_5),
		T(location_outside_archive__refused),
		T(not_executable__made_executable_and_run),
		T(no_shebang__runs_with_sh),
		T(scripts_log__v1_format_partial_line_and_ansi),
		T(scripts_log__rotates_by_size),
		T(deployments_log__v1_line_format),
		T(application_stop__runs_from_last_successful),
		T(application_stop__current_archive_daemon_vs_local),
		T(blue_green_rollback__block_traffic_from_most_recent),
		T(event_without_scripts__noop_no_log),
		T(runas__missing_user__fails_naming_it),
		cmocka_unit_test_setup_teardown(
		    runas__throwaway_user__uid_home_no_su, setup_runas_user,
		    teardown_runas_user),
		T(diagnostics__capped_and_valid_utf8),
		T(tail__keeps_newest_within_limit),
		T(text_utf8__invalid_replaced_nul_shown),
		T(tail__nul_bytes__no_double_free),
		T(output__any_bytes__scripts_log_verbatim_tail_utf8),
		T(output__64k_zero_and_urandom__event_reports),
		cmocka_unit_test(deadline__exits_in_time__drains_then_done),
		cmocka_unit_test(
		    deadline__exit_past_deadline_time__still_done_not_timed_out),
		cmocka_unit_test(
		    deadline__output_held_open__given_up_after_drain_grace),
		cmocka_unit_test(
		    deadline__timeout__sigterm_sigkill_then_give_up),
		cmocka_unit_test(
		    deadline__exits_after_sigterm__timed_out_not_killed),
		cmocka_unit_test(
		    deadline__late_wakeup__each_signal_once_from_now),
	};

	return cmocka_run_group_tests_name("hook", tests, NULL, NULL);
}
