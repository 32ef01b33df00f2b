/*
 * daemon: `cdagent run`.
 *
 * Process model.  The main process only polls and supervises: it holds the
 * configuration, the credentials and one Commands API connection, and
 * never runs a deployment itself.  Each command the service hands out is
 * carried out by a child process forked for it (acknowledge, fetch and
 * check the spec, download/install/run hooks, complete), which exits when
 * the command is done.  So:
 *   - memory is returned to the system after every deployment, and the
 *     idle daemon stays small whatever the bundles were (v1 grew without
 *     bound: its issues #6, #32, #308);
 *   - a crash while deploying (a bad archive hitting a bug) costs one
 *     command, reported by the next start as code 7, not the agent;
 *   - commands of different deployment groups run side by side, and two
 *     of one group queue on a lock file (flock on
 *     ROOT/.cdagent-locks/<GID>.lock), which also holds across restarts;
 *   - the parent de-duplicates by HostCommandIdentifier: a command the
 *     service re-delivers while its child runs is not started twice.
 * Connections.  A command process makes no Commands API connection of its
 * own: its calls (spec, acknowledge, complete) and its heartbeats go over a
 * unix socket to the relay process (relay.c), one per agent, started with
 * the first command and kept: it holds one kept-alive TLS connection that
 * every command of every deployment reuses, and it parsed the CA store
 * once.  The main process keeps its own connection for the poll, which may
 * be held open by the service while a command's calls go through the
 * relay.  Why a process and not a pool in the main process: the poll is
 * a blocking long poll, the main process stays single-threaded and small,
 * and a TLS stream cannot be shared by two processes (one copy of the
 * session state each); why not session resumption in the children: every
 * command would still cost a TCP and TLS handshake and a CA store parse.
 * So a deployment of 7 commands costs the host no new Commands API
 * connection while the relay's is alive (curl reuses it while it was idle
 * less than about two minutes), and one when it has to reconnect, plus the
 * DownloadBundle's S3 connection(s).
 *
 * Pace.  Every wait is jittered (pace.c): the first poll comes a random
 * time in [0, wait_between_runs] after start, the nap after an empty poll
 * and the error backoff are drawn from [base/2, base].  While a command
 * runs there is no nap: the next poll goes out as soon as the last one
 * returned (at most one a second when the service does not hold polls),
 * and a command's end (SIGCHLD) wakes any nap, so the next command of the
 * deployment is asked for at once.
 *
 * Children die with the main process (PR_SET_PDEATHSIG), as v1's threads
 * did; hooks they started keep running (their own session, and under
 * systemd their own transient scope, or the unit's KillMode=process).  A record
 * per in-flight command, written atomically before it runs
 * (ROOT/ongoing-deployment/<DID>, v1 §3.9), lets the next start report every
 * interrupted command as Failed, code 7.
 *
 * Signals: SIGTERM/SIGINT stop polling and wait for running commands up to
 * kill_agent_max_wait_time_seconds; SIGHUP re-reads the configuration and
 * reopens the log file (logrotate).
 *
 * Upgrades.  A package upgrade must neither wait for a deployment nor
 * fail one.  So the packages queue the restart (`systemctl --no-block
 * try-restart`) and return at once; systemd sends this process SIGTERM,
 * and drain() lets every running command finish and report itself (once:
 * its child does the reporting) while no new command is taken (the
 * service hands it out again later); then the process exits 0 and systemd
 * starts the new binary, which polls.  The old binary's code keeps
 * running from its inode meanwhile.  Restarting at once instead would
 * fail the running event (its child dies with us, and the next start
 * reports code 7), and running two agents side by side would race on the
 * pid file, the status file and the Commands API host identity.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmdsvc.h"
#include "creds.h"
#include "daemon-int.h"
#include "daemon.h"
#include "dspec.h"
#include "exec.h"
#include "fsutil.h"
#include "hook.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "pace.h"
#include "relay.h"
#include "state.h"
#include "sysd.h"
#include "xalloc.h"

#define MAX_CHILDREN 16
/* While a command runs: the least time from one poll to the next. */
#define BUSY_POLL_GAP_MS 1000

struct child {
	pid_t pid;
	char *host_command_id;
	char *command;
};

struct daemon {
	struct cfg *cfg;
	const char *cfg_path;
	struct cfg_onprem *onprem;
	struct creds_chain *chain;
	char *region;
	char *host_id;
	char *endpoint;
	struct cmdsvc *svc;
	pid_t relay_pid; /* the relay process, or 0 */
	int relay_ctl;	 /* its control socket, or -1 */
	char *state_dir;
	char *tracking_dir;
	struct child children[MAX_CHILDREN];
	size_t nchildren;
	time_t started;
	time_t last_poll_ok;
	time_t last_error_at;
	char last_error[ERR_MSG_MAX];
	int errors; /* consecutive failed polls */
	unsigned long polls;
	unsigned long commands;
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;
static volatile sig_atomic_t child_exited; /* since the last poll began */

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else if (sig == SIGCHLD)
		child_exited = 1;
	else
		stop_requested = 1;
}

static void
install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL); /* to cut sleeps short */
	signal(SIGPIPE, SIG_IGN);
}

static int
tick(void *arg)
{
	(void)arg;
	sysd_watchdog();
	return stop_requested;
}

/* The status file `cdagent status` reads, replaced atomically. */
static void
write_status(struct daemon *d, const char *state)
{
	struct json *o = json_object();
	struct err err = ERR_INIT;
	char *path = xasprintf("%s/%s", d->state_dir, DAEMON_STATUS_FILE);
	char *text;

	json_set(o, "pid", json_number((double)getpid()));
	json_set(o, "state", json_string(state));
	json_set(o, "started", json_number((double)d->started));
	json_set(
	    o, "last_successful_poll", json_number((double)d->last_poll_ok));
	json_set(o, "polls", json_number((double)d->polls));
	json_set(o, "commands", json_number((double)d->commands));
	json_set(o, "host_identifier", json_string(d->host_id));
	json_set(o, "endpoint", json_string(d->endpoint));
	json_set(o, "last_error",
	    json_string(d->last_error[0] != '\0' ? d->last_error : NULL));
	json_set(o, "last_error_time", json_number((double)d->last_error_at));
	text = json_print(o);
	/* Rewritten after every poll: replaced atomically, never flushed. */
	if (fsutil_write_replace(path, text, strlen(text), 0644, &err) < 0)
		log_warn("cannot write the status file: %s", err.msg);
	free(text);
	json_free(o);
	free(path);
}

static void
note_error(struct daemon *d, const char *msg)
{
	snprintf(d->last_error, sizeof(d->last_error), "%s", msg);
	d->last_error_at = time(NULL);
}

/* Sleep up to ms, waking for signals and children; pings the watchdog. */
static void
nap(long long ms)
{
	long long until = clock_now_ms() + ms;

	while (!stop_requested && !reload_requested && !child_exited) {
		long long left = until - clock_now_ms();
		struct timespec ts;

		if (left <= 0)
			break;
		if (left > 1000)
			left = 1000;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		sysd_watchdog();
		if (nanosleep(&ts, NULL) < 0 && errno == EINTR)
			break;
	}
}

/* The Commands API client's settings, from the configuration. */
static void
svc_opts(const struct daemon *d, struct cmdsvc_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->endpoint = d->endpoint;
	opts->region = d->region;
	opts->secure = d->cfg->enable_auth_policy;
	opts->read_timeout_ms = d->cfg->http_read_timeout * 1000;
	opts->proxy_uri = d->cfg->proxy_uri;
	opts->creds = creds_chain_sigv4;
	opts->creds_arg = d->chain;
}

/* --- one command, in its own process -------------------------------------- */

struct run {
	struct daemon *d;
	struct relay *relay; /* the Commands API, through the relay process */
	const struct cmdsvc_command *cmd;
	char *status_path;
	int completed;
};

static void
write_command_status(struct run *r, const struct exec_spec *spec)
{
	struct json *o = json_object();
	struct err err = ERR_INIT;
	char *text;

	json_set(o, "pid", json_number((double)getpid()));
	json_set(o, "host_command_id", json_string(r->cmd->host_command_id));
	json_set(o, "command", json_string(r->cmd->command_name));
	json_set(o, "deployment_id",
	    json_string(spec != NULL ? spec->deployment_id : NULL));
	json_set(o, "deployment_group_id",
	    json_string(spec != NULL ? spec->deployment_group_id : NULL));
	json_set(o, "since", json_number((double)time(NULL)));
	text = json_print(o);
	if (fsutil_write_atomic(
		r->status_path, text, strlen(text), 0644, &err) < 0)
		log_warn("%s", err.msg);
	free(text);
	json_free(o);
}

/* Send the one PutHostCommandComplete of this command. */
static void
complete(struct run *r, enum hook_code code, const char *script,
    const char *message, const char *log_tail)
{
	struct err err = ERR_INIT;
	char *diag = hook_diagnostics(code, script != NULL ? script : "",
	    message != NULL ? message : "", log_tail != NULL ? log_tail : "");
	const char *status = code == HOOK_SUCCEEDED ? "Succeeded" : "Failed";

	if (r->completed) {
		free(diag);
		return;
	}
	r->completed = 1;
	if (relay_complete(
		r->relay, r->cmd->host_command_id, status, diag, &err) < 0)
		log_error("%s %s: could not report %s: %s",
		    r->cmd->command_name, r->cmd->host_command_id, status,
		    err.msg);
	else
		log_info("%s %s: reported %s", r->cmd->command_name,
		    r->cmd->host_command_id, status);
	free(diag);
}

/* Heartbeats (PostHostCommandUpdate) every interval seconds, by the relay. */
static void
start_heartbeat(struct run *r, long interval_s)
{
	struct err err = ERR_INIT;

	if (interval_s <= 0)
		return;
	if (relay_heartbeat(
		r->relay, r->cmd->host_command_id, interval_s, &err) < 0)
		log_warn("no heartbeats for %s: %s", r->cmd->host_command_id,
		    err.msg);
}

/* Take the deployment group's lock, waiting for a running command. */
static int
lock_group(struct daemon *d, const char *gid, struct err *err)
{
	char *dir = xasprintf("%s/.cdagent-locks", d->cfg->root_dir);
	char *path = xasprintf("%s/%s.lock", dir, gid);
	int fd = -1;

	if (fsutil_mkdir_p(dir, 0700, err) < 0)
		goto out;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err_sys(err, "cannot open %s", path);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		log_info("deployment group %s is busy with another command; "
			 "waiting",
		    gid);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				err_sys(err, "cannot lock %s", path);
				close(fd);
				fd = -1;
				goto out;
			}
		}
	}
out:
	free(dir);
	free(path);
	return fd;
}

/*
 * Fetch and parse the command's deployment specification into spec.
 * Returns 0, or -1 once the failure is reported (PutHostCommandComplete).
 */
static int
fetch_spec(struct run *r, struct exec_spec *spec)
{
	const struct cmdsvc_command *cmd = r->cmd;
	struct dspec_opts dopts = { dspec_developer_mode() };
	struct cmdsvc_spec cs;
	struct err err = ERR_INIT;
	int ret = -1;

	memset(&cs, 0, sizeof(cs));
	if (relay_get_spec(r->relay, cmd->deployment_execution_id,
		r->d->host_id, &cs, &err) < 0) {
		err_prefix(&err, "GetDeploymentSpecification failed");
		complete(r, HOOK_UNKNOWN_ERROR, "", err.msg, "");
		goto out;
	}
	if (strcmp(cs.deployment_system, "CodeDeploy") != 0) {
		char *msg = xasprintf("Deployment system mismatch: CodeDeploy "
				      "!= %s",
		    cs.deployment_system);

		complete(r, HOOK_UNKNOWN_ERROR, "", msg, "");
		free(msg);
		goto out;
	}
	if (dspec_parse_envelope(cs.format, cs.payload,
		cs.payload != NULL ? strlen(cs.payload) : 0, &dopts, spec,
		&err) < 0) {
		err_prefix(&err, "Failed to parse deployment spec");
		log_error("%s %s: %s", cmd->command_name, cmd->host_command_id,
		    err.msg);
		complete(r, HOOK_UNKNOWN_ERROR, "", err.msg, "");
		goto out;
	}
	ret = 0;
out:
	cmdsvc_spec_clear(&cs);
	return ret;
}

/*
 * PutHostCommandAcknowledgement, and what its status leaves to do: 1 to
 * carry the command out, 0 when it is settled (already done, failed, or
 * the acknowledgement failed and the service hands it out again).
 */
static int
acknowledge(struct run *r, int noop)
{
	const struct cmdsvc_command *cmd = r->cmd;
	struct err err = ERR_INIT;
	char *ack_status = NULL;
	int ret = 0;

	if (relay_ack(r->relay, cmd->host_command_id, noop, &ack_status, &err) <
	    0) {
		log_error("%s %s: acknowledgement failed: %s",
		    cmd->command_name, cmd->host_command_id, err.msg);
		r->completed = 1; /* not ours to complete: it comes again */
		goto out;
	}
	switch (daemon_ack_action(ack_status, noop)) {
	case DAEMON_ACK_RUN:
		ret = 1;
		break;
	case DAEMON_ACK_DONE:
		log_info("%s %s: the service says it is already done",
		    cmd->command_name, cmd->host_command_id);
		r->completed = 1;
		break;
	case DAEMON_ACK_COMPLETE_NOOP:
	case DAEMON_ACK_LEAVE:
		log_info("%s %s: acknowledged as Failed%s", cmd->command_name,
		    cmd->host_command_id,
		    noop ? "; completing the noop command" : "");
		if (noop)
			complete(r, HOOK_SUCCEEDED, "",
			    "Succeeded: CompletedNoopCommand", "");
		else
			r->completed = 1;
		break;
	}
out:
	free(ack_status);
	return ret;
}

/* A journal line about the command, with the deployment's fields. */
static void
log_deployment(struct run *r, const struct exec_spec *spec,
    enum log_level level, const char *outcome, const char *detail)
{
	const char *event = r->cmd->command_name;

	log_fields(level,
	    (const struct log_field[]){
		{ "DEPLOYMENT_ID", spec->deployment_id },
		{ "DEPLOYMENT_GROUP_ID", spec->deployment_group_id },
		{ "LIFECYCLE_EVENT", event },
	    },
	    3, "%s for deployment %s %s%s%s", event, spec->deployment_id,
	    outcome, detail != NULL ? ": " : "", detail != NULL ? detail : "");
}

/*
 * Carry out one command, in its own process: the specification, the
 * acknowledgement, the group's lock and the in-flight record, then
 * exec_command, and the one PutHostCommandComplete whatever happened.
 */
static void
run_command(struct run *r)
{
	struct daemon *d = r->d;
	const struct cmdsvc_command *cmd = r->cmd;
	struct exec_spec spec;
	struct exec_env env;
	struct exec_result res;
	struct bundle_env benv;
	struct err err = ERR_INIT;
	char *tracking = NULL;
	int lock_fd = -1;

	memset(&spec, 0, sizeof(spec));
	memset(&res, 0, sizeof(res));
	write_command_status(r, NULL);
	if (fetch_spec(r, &spec) < 0)
		goto out;
	write_command_status(r, &spec);

	memset(&benv, 0, sizeof(benv));
	benv.cfg = d->cfg;
	benv.region = d->region;
	benv.creds = creds_chain_sigv4;
	benv.creds_arg = d->chain;
	memset(&env, 0, sizeof(env));
	env.cfg = d->cfg;
	env.bundle = &benv;
	/* Under systemd, hooks outlive a stop or restart of the agent. */
	env.hook_scopes =
	    getenv("INVOCATION_ID") != NULL && sysd_scopes_available();

	if (!acknowledge(r, exec_command_noop(&env, &spec, cmd->command_name)))
		goto out;
	start_heartbeat(r, (long)d->cfg->command_heartbeat_seconds);
	lock_fd = lock_group(d, spec.deployment_group_id, &err);
	if (lock_fd < 0) {
		complete(r, HOOK_UNKNOWN_ERROR, "", err.msg, "");
		goto out;
	}
	tracking = daemon_record_write(
	    d->tracking_dir, spec.deployment_id, cmd->host_command_id, &err);
	if (tracking == NULL) {
		complete(r, HOOK_UNKNOWN_ERROR, "", err.msg, "");
		goto out;
	}
	log_deployment(r, &spec, LOG_LEVEL_INFO, "started", NULL);
	if (exec_command(&env, &spec, cmd->command_name, &res) < 0)
		log_deployment(
		    r, &spec, LOG_LEVEL_ERROR, "failed", res.message);
	else
		log_deployment(r, &spec, LOG_LEVEL_INFO, "succeeded", NULL);
	complete(r, res.code, res.script_name, res.message, res.log);
out:
	if (!r->completed)
		complete(r, HOOK_UNKNOWN_ERROR, "",
		    err_isset(&err) ? err.msg : "the command failed", "");
	daemon_record_remove(tracking);
	if (lock_fd >= 0)
		close(lock_fd);
	exec_result_clear(&res);
	exec_spec_clear(&spec);
}

/* The child: carry out cmd and exit.  Never returns. */
static void
child_main(struct daemon *d, const struct cmdsvc_command *cmd)
{
	struct err err = ERR_INIT;
	struct run r;
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
	signal(SIGTERM, SIG_IGN); /* the parent decides when to give up */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	memset(&r, 0, sizeof(r));
	r.d = d;
	r.cmd = cmd;
	r.status_path = xasprintf(
	    "%s/%s/%d.json", d->state_dir, DAEMON_COMMANDS_DIR, (int)getpid());
	/*
	 * Nothing of the parent's connections is shared with a child (d->svc
	 * is never used nor freed here); the credentials chain is made again
	 * for S3.
	 */
	d->svc = NULL;
	d->chain = creds_chain_new(d->cfg, d->onprem, &err);
	if (d->chain != NULL)
		r.relay = relay_connect(d->relay_ctl, &err);
	if (r.relay == NULL) {
		log_error("%s %s: %s", cmd->command_name, cmd->host_command_id,
		    err.msg);
		_exit(1);
	}
	run_command(&r);
	(void)unlink(r.status_path);
	_exit(0);
}

/* --- the main process ------------------------------------------------------
 */

static int
find_child(const struct daemon *d, const char *host_command_id)
{
	size_t i;

	for (i = 0; i < d->nchildren; i++)
		if (strcmp(d->children[i].host_command_id, host_command_id) ==
		    0)
			return (int)i;
	return -1;
}

static void
reap(struct daemon *d)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		size_t i;

		if (pid == d->relay_pid) {
			log_error(
			    "the relay process %d ended (%s %d); starting "
			    "another with the next command",
			    (int)pid, WIFSIGNALED(status) ? "signal" : "status",
			    WIFSIGNALED(status) ? WTERMSIG(status)
						: WEXITSTATUS(status));
			d->relay_pid = 0;
			close(d->relay_ctl);
			d->relay_ctl = -1;
			continue;
		}

		for (i = 0; i < d->nchildren; i++) {
			struct child *c = &d->children[i];
			char *path;

			if (c->pid != pid)
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				log_error("the process for %s %s ended badly "
					  "(%s %d)",
				    c->command, c->host_command_id,
				    WIFSIGNALED(status) ? "signal" : "status",
				    WIFSIGNALED(status) ? WTERMSIG(status)
							: WEXITSTATUS(status));
			path = xasprintf("%s/%s/%d.json", d->state_dir,
			    DAEMON_COMMANDS_DIR, (int)pid);
			(void)unlink(path);
			free(path);
			free(c->host_command_id);
			free(c->command);
			d->children[i] = d->children[--d->nchildren];
			break;
		}
	}
}

/* The relay process's own: a client and its loop.  Never returns. */
static void
relay_main(struct daemon *d, int ctl_fd)
{
	struct cmdsvc_opts opts;
	struct cmdsvc *svc = NULL;
	struct err err = ERR_INIT;
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "cdagent-relay"); /* for ps and top */
	if (getppid() == 1)
		_exit(1);
	/* It serves the command processes for as long as they run. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	d->svc = NULL; /* the main process's connection: never touched here */
	d->chain = creds_chain_new(d->cfg, d->onprem, &err);
	if (d->chain != NULL) {
		svc_opts(d, &opts);
		svc = cmdsvc_new(&opts, &err);
	}
	if (svc == NULL) {
		log_error("the relay process cannot start: %s", err.msg);
		_exit(1);
	}
	relay_serve(svc, ctl_fd);
	cmdsvc_free(svc);
	creds_chain_free(d->chain);
	_exit(0);
}

/* Start the relay process unless it runs; -1 when it cannot be started. */
static int
ensure_relay(struct daemon *d)
{
	struct err err = ERR_INIT;
	int fds[2];
	pid_t pid;

	if (d->relay_pid > 0)
		return 0;
	if (relay_socketpair(fds, &err) < 0) {
		log_error("%s", err.msg);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_error(
		    "cannot start the relay process: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[1]);
		relay_main(d, fds[0]);
	}
	close(fds[0]);
	d->relay_pid = pid;
	d->relay_ctl = fds[1];
	log_debug("relay process %d started", (int)pid);
	return 0;
}

static void
stop_relay(struct daemon *d)
{
	if (d->relay_ctl >= 0)
		close(d->relay_ctl);
	d->relay_ctl = -1;
	if (d->relay_pid <= 0)
		return;
	kill(d->relay_pid, SIGKILL);
	while (waitpid(d->relay_pid, NULL, 0) < 0 && errno == EINTR)
		;
	d->relay_pid = 0;
}

static void
start_child(struct daemon *d, const struct cmdsvc_command *cmd)
{
	struct child *c;
	pid_t pid;

	if (ensure_relay(d) < 0)
		return;
	pid = fork();
	if (pid < 0) {
		log_error("cannot start a process for %s: %s",
		    cmd->command_name, strerror(errno));
		return;
	}
	if (pid == 0)
		child_main(d, cmd);
	c = &d->children[d->nchildren++];
	c->pid = pid;
	c->host_command_id = xstrdup(cmd->host_command_id);
	c->command = xstrdup(cmd->command_name);
	d->commands++;
	log_info("%s %s (%s): started in process %d", cmd->command_name,
	    cmd->host_command_id, cmd->deployment_execution_id, (int)pid);
}

/* Report one interrupted command as Failed, code 7; 0 once reported. */
static int
report_interrupted(
    const char *deployment_id, const char *host_command_id, void *arg)
{
	struct daemon *d = arg;
	struct err err = ERR_INIT;
	char *diag = hook_diagnostics(
	    HOOK_FAILED_AFTER_RESTART, "", DAEMON_RESTART_MESSAGE, "");
	int ret;

	(void)deployment_id;
	ret = cmdsvc_complete(d->svc, host_command_id, "Failed", diag, &err);
	if (ret < 0)
		log_error("could not report command %s: %s; will try "
			  "again at the next start",
		    host_command_id, err.msg);
	free(diag);
	return ret;
}

/* v1 §3.9 / v2 §2.10: report every interrupted command as Failed (7). */
static void
recover(struct daemon *d)
{
	daemon_record_recover(
	    d->tracking_dir, time(NULL), report_interrupted, d);
}

static int
write_pid_file(struct daemon *d, struct err *err)
{
	char *path = xasprintf("%s/%s", d->state_dir, DAEMON_PID_FILE);
	char buf[32];
	int ret;

	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	ret = fsutil_write_atomic(path, buf, strlen(buf), 0644, err);
	free(path);
	return ret;
}

static void
remove_state_files(struct daemon *d)
{
	char *path = xasprintf("%s/%s", d->state_dir, DAEMON_PID_FILE);

	(void)unlink(path);
	free(path);
	path = xasprintf("%s/%s", d->state_dir, DAEMON_STATUS_FILE);
	(void)unlink(path);
	free(path);
}

/* The start-up TLS check (v1 §1.9): any HTTP reply will do. */
static int
check_endpoint(struct daemon *d, struct err *err)
{
	struct http_opts hopts;
	struct http_client *http;
	struct http_req *req;
	struct http_resp resp;
	int ret;

	memset(&hopts, 0, sizeof(hopts));
	hopts.proxy_uri = d->cfg->proxy_uri;
	hopts.read_timeout_ms = 10000;
	hopts.connect_timeout_ms = 10000;
	hopts.tick = tick;
	http = http_client_new(&hopts, err);
	if (http == NULL)
		return -1;
	req = http_req_new("GET", d->endpoint);
	http_req_timeout(req, 15000);
	memset(&resp, 0, sizeof(resp));
	ret = http_send(http, req, &resp, err);
	http_resp_clear(&resp);
	http_req_free(req);
	http_client_free(http);
	return ret;
}

/*
 * Who this host is and how it signs: the on-premises file, region, host
 * identifier and credentials.  A failure here is the administrator's to fix
 * (a restart finds the same host), so daemon_main exits EX_CONFIG for it.
 */
static int
setup_identity(struct daemon *d, struct err *err)
{
	struct sigv4_credentials probe;

	if (cfg_onprem_load(d->cfg->on_premises_config_file, &d->onprem, err) <
	    0)
		return -1;
	d->chain = creds_chain_new(d->cfg, d->onprem, err);
	if (d->chain == NULL)
		return -1;
	if (creds_region(d->chain, &d->region, err) < 0 ||
	    cfg_check_fips(d->cfg, d->region, err) < 0 ||
	    creds_host_identifier(d->chain, &d->host_id, err) < 0)
		return -1;
	/* Fail now on missing credentials, not at the first poll. */
	return creds_chain_sigv4(d->chain, &probe, NULL, err);
}

/*
 * The start-up TLS check (v1 §1.9): a certificate that does not verify
 * ends the start at once; an endpoint that cannot be reached is tried per
 * RETRY_START_CHECK, so READY=1 (and `systemctl start`, and a package
 * install) never waits longer than its max_ms, and then the start fails
 * with one line and systemd's Restart= tries again later.  Returns 0 to go
 * on (also when a stop was asked for meanwhile), else daemon_main's exit
 * code.
 */
static int
start_check(struct daemon *d)
{
	long long deadline = clock_now_ms() + RETRY_START_CHECK.max_ms;
	long long wait_ms = RETRY_START_CHECK.first_ms, retry_ms;
	struct err err = ERR_INIT;

	while (!stop_requested) {
		err_clear(&err);
		if (check_endpoint(d, &err) == 0)
			break;
		if (err.code == E_AUTH || clock_now_ms() + wait_ms > deadline) {
			/* A certificate that does not verify needs a CA
			 * bundle or proxy fixed; an endpoint that cannot
			 * be reached yet is worth a restart. */
			log_error("cannot start: %s", err.msg);
			return err.code == E_AUTH ? EX_CONFIG : 1;
		}
		if (stop_requested)
			break;
		retry_ms = pace_jitter_ms(wait_ms);
		log_error("%s; trying again in %.1f s", err.msg,
		    (double)retry_ms / 1000);
		sysd_status("cannot reach %s: %s", d->endpoint, err.msg);
		nap(retry_ms);
		wait_ms *= 2;
	}
	return 0;
}

static int
setup(struct daemon *d, struct err *err)
{
	struct cmdsvc_opts opts;

	d->endpoint = cmdsvc_endpoint(d->cfg, d->region, NULL);
	svc_opts(d, &opts);
	opts.tick = tick;
	d->svc = cmdsvc_new(&opts, err);
	if (d->svc == NULL)
		return -1;
	d->state_dir = xstrdup(d->cfg->pid_dir);
	d->tracking_dir = xasprintf(
	    "%s/%s", d->cfg->root_dir, d->cfg->ongoing_deployment_tracking);
	if (fsutil_mkdir_p(d->state_dir, 0755, err) < 0)
		return -1;
	{
		char *cdir =
		    xasprintf("%s/%s", d->state_dir, DAEMON_COMMANDS_DIR);
		int r = fsutil_mkdir_p(cdir, 0755, err);

		free(cdir);
		if (r < 0)
			return -1;
	}
	return write_pid_file(d, err);
}

static void
reload(struct daemon *d)
{
	struct cfg *fresh = cfg_new();
	struct err err = ERR_INIT;

	reload_requested = 0;
	sysd_reloading(0);
	/* logrotate's postrotate sends SIGHUP too: write to the new file.
	 * A command child still running keeps the old one until it ends
	 * (hence delaycompress in the logrotate snippet). */
	if (log_reopen(&err) < 0) {
		log_error(
		    "reload: %s; still writing the old log file", err.msg);
		err_clear(&err);
	}
	if (d->cfg_path != NULL &&
	    cfg_load_file(fresh, d->cfg_path, &err) < 0) {
		log_error(
		    "reload: %s; keeping the running configuration", err.msg);
		cfg_free(fresh);
		sysd_reloading(1);
		return;
	}
	/* Values the loop reads each time; endpoint and paths need a
	 * restart. */
	d->cfg->wait_between_runs = fresh->wait_between_runs;
	d->cfg->max_revisions = fresh->max_revisions;
	d->cfg->kill_agent_max_wait_time_seconds =
	    fresh->kill_agent_max_wait_time_seconds;
	d->cfg->verbose = fresh->verbose;
	log_set_level(fresh->verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	for (size_t i = 0; i < fresh->ndiags; i++)
		log_warn("reload: %s", fresh->diags[i].msg);
	cfg_free(fresh);
	log_info("configuration reloaded from %s",
	    d->cfg_path != NULL ? d->cfg_path : "built-in defaults");
	sysd_reloading(1);
}

static void
drain(struct daemon *d)
{
	long long deadline =
	    clock_now_ms() + d->cfg->kill_agent_max_wait_time_seconds * 1000;
	long long last_note = 0;

	sysd_stopping();
	write_status(d, "stopping");
	while (d->nchildren > 0 && clock_now_ms() < deadline) {
		struct timespec ts = { 0, 100 * 1000000L };

		if (clock_now_ms() - last_note >= 10000) {
			last_note = clock_now_ms();
			log_info("stopping: waiting for %zu running "
				 "command(s)",
			    d->nchildren);
			sysd_status("stopping, waiting for %zu command(s)",
			    d->nchildren);
		}
		nanosleep(&ts, NULL);
		reap(d);
		/* still alive while we wait (the stop may be an upgrade's
		 * restart during a long hook) */
		sysd_watchdog();
	}
	if (d->nchildren > 0)
		log_warn("stopping with %zu command(s) still running after "
			 "%lld s; they will be reported as failed at the next "
			 "start",
		    d->nchildren, d->cfg->kill_agent_max_wait_time_seconds);
}

static void
poll_once(struct daemon *d)
{
	struct cmdsvc_command cmd;
	struct err err = ERR_INIT;
	long long wait_ms = d->cfg->wait_between_runs * 1000LL, t0;
	int rc, dup_repolls = 0;

again:
	memset(&cmd, 0, sizeof(cmd));
	reap(d);
	child_exited = 0; /* a command ending from now on wakes the nap */
	t0 = clock_now_ms();
	rc = cmdsvc_poll(d->svc, d->host_id, &cmd, &err);
	d->polls++;
	if (rc < 0) {
		long long wait;

		if (stop_requested)
			return;
		if (d->errors < 10)
			d->errors++;
		wait = pace_error_backoff_ms(d->errors) - (clock_now_ms() - t0);
		log_error(
		    "cannot poll %s for commands: %s", d->endpoint, err.msg);
		note_error(d, err.msg);
		write_status(d, "polling");
		sysd_status("poll failed %d time(s): %s", d->errors, err.msg);
		if (wait > 0)
			nap(wait);
		return;
	}
	d->errors = 0;
	d->last_poll_ok = time(NULL);
	if (rc == 0) {
		write_status(d, "polling");
		if (d->nchildren == 0)
			sysd_status("idle, last poll %s", "just now");
		nap(pace_idle_ms(wait_ms, d->nchildren > 0, clock_now_ms() - t0,
		    BUSY_POLL_GAP_MS));
		return;
	}
	if (cmd.host_identifier == NULL ||
	    strcmp(cmd.host_identifier, d->host_id) != 0) {
		/* Exact, not v1's substring test (bug 10). */
		log_warn("ignoring command %s for host '%s': this host is "
			 "'%s'",
		    cmd.host_command_id,
		    cmd.host_identifier != NULL ? cmd.host_identifier : "",
		    d->host_id);
		cmdsvc_command_clear(&cmd);
		nap(pace_jitter_ms(wait_ms));
		return;
	}
	if (cmd.command_name == NULL || *cmd.command_name == '\0' ||
	    cmd.deployment_execution_id == NULL) {
		log_warn("ignoring command %s: it has no CommandName or "
			 "DeploymentExecutionId",
		    cmd.host_command_id);
		cmdsvc_command_clear(&cmd);
		nap(pace_jitter_ms(wait_ms));
		return;
	}
	if (find_child(d, cmd.host_command_id) >= 0) {
		log_debug("command %s is already running; not starting it "
			  "again",
		    cmd.host_command_id);
		cmdsvc_command_clear(&cmd);
		if (dup_repolls++ < 1 && !stop_requested)
			goto again;
		nap(pace_jitter_ms(wait_ms));
		return;
	}
	if (d->nchildren >= MAX_CHILDREN) {
		log_warn("%zu commands are running; leaving %s for later",
		    d->nchildren, cmd.host_command_id);
		cmdsvc_command_clear(&cmd);
		nap(pace_jitter_ms(wait_ms));
		return;
	}
	start_child(d, &cmd);
	sysd_status(
	    "deploying: %s %s", cmd.command_name, cmd.deployment_execution_id);
	write_status(d, "polling");
	cmdsvc_command_clear(&cmd);
	/* "poll when pending": the next command may be waiting already */
}

int
daemon_main(struct cfg *cfg, const char *cfg_path)
{
	struct daemon d;
	struct err err = ERR_INIT;
	int ret = 1;

	memset(&d, 0, sizeof(d));
	d.relay_ctl = -1;
	d.cfg = cfg;
	d.cfg_path = cfg_path;
	d.started = time(NULL);
	install_handlers();
	if (setup_identity(&d, &err) < 0) {
		log_error("cannot start: %s", err.msg);
		ret = EX_CONFIG;
		goto out;
	}
	if (setup(&d, &err) < 0) {
		log_error("cannot start: %s", err.msg);
		goto out;
	}
	log_info("cdagent %s started: host %s, region %s, endpoint %s, "
		 "credentials from %s",
	    PACKAGE_VERSION, d.host_id, d.region, d.endpoint,
	    creds_chain_source(d.chain));
	ret = start_check(&d);
	if (ret != 0)
		goto out;
	recover(&d);
	write_status(&d, "polling");
	sysd_ready("idle, polling for commands");
	/* A fleet started together does not poll in the same second. */
	nap(pace_offset_ms(d.cfg->wait_between_runs * 1000LL));
	while (!stop_requested) {
		if (reload_requested)
			reload(&d);
		poll_once(&d);
		sysd_watchdog();
	}
	log_info("stopping");
	drain(&d);
	ret = 0;
out:
	stop_relay(&d);
	if (d.state_dir != NULL)
		remove_state_files(&d);
	cmdsvc_free(d.svc);
	creds_chain_free(d.chain);
	cfg_onprem_free(d.onprem);
	free(d.region);
	free(d.host_id);
	free(d.endpoint);
	free(d.state_dir);
	free(d.tracking_dir);
	while (d.nchildren > 0) {
		d.nchildren--;
		free(d.children[d.nchildren].host_command_id);
		free(d.children[d.nchildren].command);
	}
	return ret;
}
