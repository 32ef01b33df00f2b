/* status: `cdagent status` (see status.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "exec.h"
#include "fsutil.h"
#include "json.h"
#include "status.h"
#include "xalloc.h"

/* The pid in the pid file, if that process is a live cdagent. */
static long
live_pid(const char *dir)
{
	char *path = xasprintf("%s/%s", dir, DAEMON_PID_FILE);
	char *text = NULL, *comm_path, *comm = NULL;
	struct err err = ERR_INIT;
	size_t len;
	long pid = 0;

	if (fsutil_read_file(path, 64, &text, &len, &err) == 0)
		pid = strtol(text, NULL, 10);
	free(text);
	free(path);
	if (pid <= 1 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
		return 0;
	comm_path = xasprintf("/proc/%ld/comm", pid);
	if (fsutil_read_file(comm_path, 64, &comm, &len, &err) == 0 &&
	    strncmp(comm, "cdagent", 7) != 0)
		pid = 0; /* a stale file and a reused pid */
	free(comm);
	free(comm_path);
	return pid;
}

static struct json *
read_json(const char *path)
{
	struct err err = ERR_INIT;
	struct json *doc = NULL;
	char *text = NULL;
	size_t len;

	if (fsutil_read_file(path, 1 << 20, &text, &len, &err) == 0)
		(void)json_parse(text, len, path, &doc, &err);
	free(text);
	return doc;
}

static double
num(const struct json *o, const char *key)
{
	const struct json *v = o != NULL ? json_get(o, key) : NULL;

	return v != NULL ? json_number_value(v) : 0;
}

static void
when(double epoch, char *buf, size_t size)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	char stamp[32];

	if (t <= 0) {
		snprintf(buf, size, "never");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S UTC", &tm);
	snprintf(buf, size, "%s (%lds ago)", stamp, (long)(time(NULL) - t));
}

static int
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/*
 * The last command run (exec.h), with the logs that exist: the
 * deployment's scripts.log and the agent log of the daemon or of
 * `cdagent local`.  NULL when no command was recorded.
 */
static struct json *
last_deployment(const struct cfg *cfg)
{
	char *path = xasprintf("%s/%s", cfg->root_dir, EXEC_LAST_COMMAND_FILE);
	struct json *last = read_json(path), *logs;
	const struct json *local;
	const char *droot;
	char *scripts = NULL, *agent;

	free(path);
	if (last == NULL || !json_is_object(last)) {
		json_free(last);
		return NULL;
	}
	droot = json_get_string(last, "deployment_root");
	local = json_get(last, "local");
	if (droot != NULL)
		scripts = xasprintf("%s/logs/scripts.log", droot);
	agent = xasprintf("%s/%s.log", cfg->log_dir,
	    local != NULL && json_bool_value(local)
		? "codedeploy-local"
		: (cfg->program_name != NULL ? cfg->program_name
					     : "codedeploy-agent"));
	logs = json_object();
	json_set(logs, "scripts",
	    scripts != NULL && exists(scripts) ? json_string(scripts)
					       : json_null());
	json_set(
	    logs, "agent", exists(agent) ? json_string(agent) : json_null());
	json_set(last, "logs", logs);
	free(scripts);
	free(agent);
	return last;
}

static void
print_last_deployment(const struct json *last, FILE *out)
{
	const struct json *logs = json_get(last, "logs");
	const char *s, *msg = json_get_string(last, "message");
	char buf[96];

	when(num(last, "time"), buf, sizeof(buf));
	fprintf(out, "last deployment: %s (group %s)\n",
	    json_get_string(last, "deployment_id"),
	    json_get_string(last, "deployment_group_id"));
	fprintf(out, "  last command: %s %s, %s\n",
	    json_get_string(last, "command"), json_get_string(last, "status"),
	    buf);
	if (msg != NULL &&
	    strcmp(json_get_string(last, "status"), "Failed") == 0)
		fprintf(out, "  error:       %s\n", msg);
	if ((s = json_get_string(logs, "scripts")) != NULL)
		fprintf(out, "  scripts log: %s\n", s);
	if ((s = json_get_string(logs, "agent")) != NULL)
		fprintf(out, "  agent log:   %s\n", s);
}

/*
 * The commands in flight: the records in pid_dir/DAEMON_COMMANDS_DIR whose
 * process is alive, as a JSON array.
 */
static struct json *
in_flight(const char *pid_dir)
{
	char *cmd_dir = xasprintf("%s/%s", pid_dir, DAEMON_COMMANDS_DIR);
	struct json *flights = json_array();
	DIR *dp = opendir(cmd_dir);
	struct dirent *de;

	while (dp != NULL && (de = fsutil_readdir(dp)) != NULL) {
		char *path;
		struct json *c;

		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", cmd_dir, de->d_name);
		c = read_json(path);
		free(path);
		if (c == NULL || kill((pid_t)num(c, "pid"), 0) < 0) {
			json_free(c);
			continue;
		}
		json_push(flights, c);
	}
	if (dp != NULL)
		closedir(dp);
	free(cmd_dir);
	return flights;
}

/* The whole report, as `cdagent status --json` prints it. */
static struct json *
build_report(const struct cfg *cfg, long pid, const struct json *st,
    struct json *flights)
{
	struct json *report = json_object(), *last;

	json_set(report, "running", json_bool(pid > 0));
	json_set(
	    report, "pid", pid > 0 ? json_number((double)pid) : json_null());
	json_set(report, "started", json_number(num(st, "started")));
	json_set(report, "last_successful_poll",
	    json_number(num(st, "last_successful_poll")));
	json_set(report, "host_identifier",
	    json_string(
		st != NULL ? json_get_string(st, "host_identifier") : NULL));
	json_set(report, "endpoint",
	    json_string(st != NULL ? json_get_string(st, "endpoint") : NULL));
	json_set(report, "last_error",
	    json_string(st != NULL ? json_get_string(st, "last_error") : NULL));
	json_set(
	    report, "last_error_time", json_number(num(st, "last_error_time")));
	json_set(report, "in_flight", flights);
	last = last_deployment(cfg);
	json_set(report, "last_deployment", last != NULL ? last : json_null());
	return report;
}

/* The running daemon's lines of the text report. */
static void
print_running(
    long pid, const struct json *st, const struct json *flights, FILE *out)
{
	size_t i, n = json_array_size(flights);
	const char *s;
	char buf[96];

	fprintf(out, "cdagent is running (pid %ld)\n", pid);
	if (st != NULL) {
		if ((s = json_get_string(st, "host_identifier")) != NULL)
			fprintf(out, "  host:        %s\n", s);
		if ((s = json_get_string(st, "endpoint")) != NULL)
			fprintf(out, "  endpoint:    %s\n", s);
		when(num(st, "last_successful_poll"), buf, sizeof(buf));
		fprintf(out, "  last poll:   %s\n", buf);
	}
	fprintf(out, "  in flight:   %zu command(s)\n", n);
	for (i = 0; i < n; i++) {
		const struct json *c = json_array_get(flights, i);
		const char *dep = json_get_string(c, "deployment_id");

		when(num(c, "since"), buf, sizeof(buf));
		fprintf(out, "    %s %s (process %.0f, since %s)\n",
		    dep != NULL ? dep : "(spec not read yet)",
		    json_get_string(c, "command") != NULL
			? json_get_string(c, "command")
			: "?",
		    num(c, "pid"), buf);
	}
	s = st != NULL ? json_get_string(st, "last_error") : NULL;
	if (s != NULL) {
		when(num(st, "last_error_time"), buf, sizeof(buf));
		fprintf(out, "  last error:  %s, %s\n", buf, s);
	}
}

int
status_main(const struct cfg *cfg, int as_json, FILE *out)
{
	char *status_path =
	    xasprintf("%s/%s", cfg->pid_dir, DAEMON_STATUS_FILE);
	long pid = live_pid(cfg->pid_dir);
	struct json *st = pid > 0 ? read_json(status_path) : NULL;
	struct json *flights = pid > 0 ? in_flight(cfg->pid_dir) : json_array();
	struct json *report = build_report(cfg, pid, st, flights);
	const struct json *last = json_get(report, "last_deployment");

	if (as_json) {
		char *text = json_print(report);

		fprintf(out, "%s\n", text);
		free(text);
	} else if (pid <= 0) {
		fprintf(out,
		    "cdagent is not running (no live process in "
		    "%s/%s)\n",
		    cfg->pid_dir, DAEMON_PID_FILE);
	} else {
		print_running(pid, st, flights, out);
	}
	if (!as_json && json_is_object(last))
		print_last_deployment(last, out);
	json_free(report);
	json_free(st);
	free(status_path);
	return pid > 0 ? STATUS_RUNNING : STATUS_NOT_RUNNING;
}
