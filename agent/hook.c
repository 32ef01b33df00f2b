/*
 * hook: revision selection, script checks, and the process model of one
 * lifecycle event's scripts.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "appspec.h"
#include "clock.h"
#include "fsutil.h"
#include "hook-int.h"
#include "json.h"
#include "log.h"
#include "state.h"
#include "sysd.h"
#include "xalloc.h"

extern char **environ;

#define HOOK_DEFAULT_KILL_GRACE_MS 5000
#define HOOK_DEFAULT_DRAIN_GRACE_MS 1000
#define HOOK_SANE_PATH                                                         \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Variables a hook never inherits: the agent's credentials (v1 bugs 2, 3). */
static const char *const secret_env[] = {
	"AWS_ACCESS_KEY_ID",
	"AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_FILE",
	"AWS_CREDENTIALS_FILE",
	"AWS_ACCESS_KEY",
	"AWS_SECRET_KEY",
	"AMAZON_ACCESS_KEY_ID",
	"AMAZON_SECRET_ACCESS_KEY",
	"AMAZON_SESSION_TOKEN",
	"CODEDEPLOY_GITHUB_TOKEN",
	"GITHUB_TOKEN",
};

static const char *const loader_env[] = {
	"LD_PRELOAD",
	"LD_LIBRARY_PATH",
	"LD_AUDIT",
};

enum revision_source { REV_CURRENT, REV_LAST_SUCCESSFUL, REV_MOST_RECENT };

static enum revision_source
source_for(const struct hook_context *ctx, const char *event)
{
	int bg_rollback = ctx->deployment_creator != NULL &&
	    ctx->deployment_type != NULL &&
	    strcmp(ctx->deployment_creator, "codeDeployRollback") == 0 &&
	    strcmp(ctx->deployment_type, "BLUE_GREEN") == 0;

	if (strcmp(event, "BeforeBlockTraffic") == 0 ||
	    strcmp(event, "AfterBlockTraffic") == 0)
		return bg_rollback ? REV_MOST_RECENT : REV_LAST_SUCCESSFUL;
	if (strcmp(event, "ApplicationStop") == 0)
		return REV_LAST_SUCCESSFUL;
	if (bg_rollback &&
	    (strcmp(event, "BeforeAllowTraffic") == 0 ||
		strcmp(event, "AfterAllowTraffic") == 0))
		return REV_LAST_SUCCESSFUL;
	return REV_CURRENT;
}

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *
hook_select_revision(
    const struct hook_context *ctx, const char *event, char **owned)
{
	enum revision_source source = source_for(ctx, event);
	struct err err = ERR_INIT;
	char *current, *archive;
	int have_archive;

	*owned = NULL;
	current = state_droot(
	    ctx->root_dir, ctx->deployment_group_id, ctx->deployment_id, &err);
	if (current == NULL)
		return NULL;
	if (source == REV_CURRENT) {
		*owned = current;
		return current;
	}
	archive = xasprintf("%s/%s", current, STATE_ARCHIVE_DIR);
	have_archive = is_dir(archive);
	free(archive);
	if (have_archive && !ctx->local) {
		/* v1: once this deployment's archive exists it is used */
		*owned = current;
		return current;
	}
	free(current);
	return source == REV_MOST_RECENT ? ctx->most_recent_droot
					 : ctx->last_successful_droot;
}

static void
set_result(struct hook_result *res, enum hook_code code, const char *script,
    char *message)
{
	free(res->script_name);
	free(res->message);
	res->code = code;
	res->script_name = xstrdup(script != NULL ? script : "");
	res->message = message;
}

void
hook_result_clear(struct hook_result *res)
{
	free(res->script_name);
	free(res->message);
	free(res->log);
	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
}

static int
env_named(const char *entry, const char *const *names, size_t n)
{
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = strlen(names[i]);
		if (strncmp(entry, names[i], len) == 0 && entry[len] == '=')
			return 1;
	}
	return 0;
}

struct envp {
	char **v;
	size_t n;
};

static void
env_put(struct envp *env, char *entry)
{
	size_t i, klen = strcspn(entry, "=");

	for (i = 0; i < env->n; i++)
		if (strncmp(env->v[i], entry, klen) == 0 &&
		    env->v[i][klen] == '=') {
			free(env->v[i]);
			env->v[i] = entry;
			return;
		}
	env->v = xreallocarray(env->v, env->n + 2, sizeof(*env->v));
	env->v[env->n++] = entry;
	env->v[env->n] = NULL;
}

static void
env_free(struct envp *env)
{
	size_t i;

	for (i = 0; i < env->n; i++)
		free(env->v[i]);
	free(env->v);
}

/* The environment of a hook (v1 §8.6, v2 §5.1), secrets removed. */
static struct envp
build_env(
    const struct hook_context *ctx, const char *event, const struct passwd *pw)
{
	static const char *const allowlist[] = { "PATH", "HOME", "USER" };
	struct envp env = { xcalloc(1, sizeof(char *)), 0 };
	char **e;
	size_t i;

	for (e = environ; *e != NULL; e++) {
		if (env_named(*e, secret_env,
			sizeof(secret_env) / sizeof(secret_env[0])))
			continue;
		if (ctx->restrict_env_to_allowlist &&
		    !env_named(*e, allowlist, 3))
			continue;
		env_put(&env, xstrdup(*e));
	}
	env_put(&env, xasprintf("LIFECYCLE_EVENT=%s", event));
	env_put(&env, xasprintf("DEPLOYMENT_ID=%s", ctx->deployment_id));
	env_put(&env,
	    xasprintf("APPLICATION_NAME=%s",
		ctx->application_name != NULL ? ctx->application_name : ""));
	env_put(&env,
	    xasprintf("DEPLOYMENT_GROUP_NAME=%s",
		ctx->deployment_group_name != NULL ? ctx->deployment_group_name
						   : ""));
	env_put(&env,
	    xasprintf("DEPLOYMENT_GROUP_ID=%s", ctx->deployment_group_id));
	for (i = 0; ctx->bundle_env != NULL && ctx->bundle_env[i] != NULL; i++)
		env_put(&env, xstrdup(ctx->bundle_env[i]));
	if (pw != NULL) {
		env_put(&env, xasprintf("HOME=%s", pw->pw_dir));
		env_put(&env, xasprintf("USER=%s", pw->pw_name));
		env_put(&env, xasprintf("LOGNAME=%s", pw->pw_name));
		env_put(&env,
		    xasprintf("SHELL=%s",
			pw->pw_shell != NULL && pw->pw_shell[0] != '\0'
			    ? pw->pw_shell
			    : "/bin/sh"));
		env_put(&env, xstrdup("PATH=" HOOK_SANE_PATH));
	}
	if (ctx->strip_loader_env) {
		size_t out = 0;

		for (i = 0; i < env.n; i++) {
			if (env_named(env.v[i], loader_env, 3))
				free(env.v[i]);
			else
				env.v[out++] = env.v[i];
		}
		env.n = out;
		env.v[out] = NULL;
	}
	return env;
}

/* What a child needs, prepared before fork (the child only makes
 * async-signal-safe calls). */
struct spawn {
	const char *path;
	char **envp;
	int run_as;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
	int out_fd, err_fd, null_fd, status_fd;
	int go_fd; /* >= 0: wait for a byte (the move to a scope) first */
};

static void __attribute__((noreturn)) child(const struct spawn *sp)
{
	char *const argv[] = { (char *)(uintptr_t)sp->path, NULL };
	char *const sh_argv[] = { (char *)(uintptr_t) "/bin/sh",
		(char *)(uintptr_t)sp->path, NULL };
	sigset_t none;
	int code, i;

	setsid();
	if (sp->go_fd >= 0) {
		char go;

		while (read(sp->go_fd, &go, 1) < 0 && errno == EINTR)
			;
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
	if (dup2(sp->null_fd, 0) < 0 || dup2(sp->out_fd, 1) < 0 ||
	    dup2(sp->err_fd, 2) < 0)
		goto fail;
	if (sp->run_as &&
	    (setgroups((size_t)sp->ngroups, sp->groups) < 0 ||
		setgid(sp->gid) < 0 || setuid(sp->uid) < 0))
		goto fail;
	execve(sp->path, argv, sp->envp);
	if (errno == ENOEXEC)
		execve("/bin/sh", sh_argv, sp->envp); /* no #! line: v1 */
fail:
	code = errno;
	if (write(sp->status_fd, &code, sizeof(code)) < 0) {
		/* nothing more a child can do */
	}
	_exit(127);
}

/*
 * Start the script with posix_spawn (glibc: clone with CLONE_VM |
 * CLONE_VFORK, no copy of the agent's page tables), in a session of its
 * own, every signal at its default and unblocked, stdin /dev/null.  Only
 * for a child that neither waits for the parent (a scope move) nor changes
 * its ids (runas), and only for a script that starts with "#!": one
 * without (run under /bin/sh, as v1 does, when execve says ENOEXEC) is
 * forked too, so that every exec failure is reported by the child as
 * before.  Returns the pid, or -1 (the caller then forks).
 */
static pid_t
spawn_vfork(const struct spawn *sp)
{
	char *const argv[] = { (char *)(uintptr_t)sp->path, NULL };
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t all, none;
	pid_t pid = -1;
	char magic[2];
	int fd;

	fd = open(sp->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, magic, sizeof(magic)) != 2 ||
	    memcmp(magic, "#!", 2) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	sigfillset(&all);
	sigemptyset(&none);
	if (posix_spawn_file_actions_init(&actions) != 0)
		return -1;
	if (posix_spawnattr_init(&attr) != 0) {
		posix_spawn_file_actions_destroy(&actions);
		return -1;
	}
	if (posix_spawn_file_actions_adddup2(&actions, sp->null_fd, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&actions, sp->out_fd, 1) != 0 ||
	    posix_spawn_file_actions_adddup2(&actions, sp->err_fd, 2) != 0 ||
	    posix_spawnattr_setflags(&attr,
		POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
		    POSIX_SPAWN_SETSIGMASK) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &all) != 0 ||
	    posix_spawnattr_setsigmask(&attr, &none) != 0)
		goto out;
	if (posix_spawn(&pid, sp->path, &actions, &attr, argv, sp->envp) != 0)
		pid = -1;
out:
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&actions);
	return pid;
}

static int
pidfd_open_compat(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

struct run_outcome {
	int spawn_errno; /* exec failed */
	int status;	 /* wait status */
	int timed_out;
	int killed; /* SIGKILL was needed */
	int outputs_left_open;
};

/* Read what is available on fd into lines; returns 0 at end of stream. */
static int
pump(int fd, struct hook_lines *lines, struct hook_log *log)
{
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0) {
		hook_lines_feed(lines, log, buf, (size_t)n);
		return 1;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	return 0;
}

/*
 * Put a just-forked script into a transient scope of its own, so that
 * stopping or restarting the agent's service does not kill what the hook
 * started (v1 #169).  Without systemd, or if systemd refuses, the script
 * stays in the agent's cgroup: the unit's KillMode=process leaves it
 * running when the agent stops or restarts, but it is counted, limited and
 * killed (systemctl kill) as part of the agent's service.  A warning says
 * so.
 */
static void
move_to_scope(const struct hook_context *ctx, const char *location, pid_t pid)
{
	struct err err = ERR_INIT;
	char *name = xasprintf("cdagent-hook-%s-%d.scope",
	    ctx->deployment_id != NULL ? ctx->deployment_id : "local",
	    (int)pid);
	char *desc = xasprintf("cdagent hook %s of deployment %s", location,
	    ctx->deployment_id != NULL ? ctx->deployment_id : "(local)");

	if (sysd_scope_move((int)pid, name, desc, &err) < 0)
		log_warn(
		    "%s runs in the agent's own cgroup: %s", location, err.msg);
	free(name);
	free(desc);
}

/* --- the deadline of one script (hook-int.h) ---------------------------- */

void
hook_deadline_start(struct hook_deadline *d, long long now, unsigned timeout_s,
    unsigned kill_grace_ms, unsigned drain_grace_ms)
{
	memset(d, 0, sizeof(*d));
	d->deadline = now + (long long)timeout_s * 1000;
	d->kill_grace_ms = kill_grace_ms;
	d->drain_grace_ms = drain_grace_ms;
}

void
hook_deadline_exited(struct hook_deadline *d, long long now)
{
	d->exited = 1;
	d->drain_until = now + d->drain_grace_ms;
}

enum hook_step
hook_deadline_step(
    struct hook_deadline *d, long long now, int outputs_open, int *wait_ms)
{
	enum hook_step step = HOOK_STEP_WAIT;
	long long until;

	*wait_ms = 0;
	if (d->exited) {
		if (!outputs_open || now >= d->drain_until)
			return HOOK_STEP_DONE;
		until = d->drain_until;
	} else if (now < (d->timed_out ? d->kill_at : d->deadline)) {
		until = d->timed_out ? d->kill_at : d->deadline;
	} else if (!d->killed) {
		/* SIGTERM at the deadline, then SIGKILL a grace later */
		step = d->timed_out ? HOOK_STEP_SIGKILL : HOOK_STEP_SIGTERM;
		d->killed = d->timed_out;
		d->timed_out = 1;
		d->kill_at = now + d->kill_grace_ms;
		until = d->kill_at;
	} else {
		return HOOK_STEP_GIVE_UP; /* unkillable (D state) */
	}
	*wait_ms = until > now ? (int)(until - now) : 0;
	return step;
}

/* --- one script: spawn, read its output, deadline and reaping ----------- */

/* The pipes of one script: [0] the agent's end, [1] the script's, -1 when
 * closed; go only with scopes. */
struct script_io {
	int out[2], err[2], status[2], go[2];
};

static void
close_pair(int fds[2])
{
	int i;

	for (i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static void
close_io(struct script_io *io)
{
	close_pair(io->out);
	close_pair(io->err);
	close_pair(io->status);
	close_pair(io->go);
}

/*
 * Start the script of sp, its output and status going to io's pipes; with
 * scopes, move it into its own scope before it runs.  Returns its pid once
 * it has run execve (*spawn_errno: 0, or why execve failed), or -1 with
 * err set.
 */
static pid_t
spawn_script(const struct hook_context *ctx, struct spawn *sp,
    const char *location, struct script_io *io, int *spawn_errno,
    struct err *err)
{
	pid_t pid;

	if (pipe2(io->out, O_CLOEXEC) < 0 || pipe2(io->err, O_CLOEXEC) < 0 ||
	    pipe2(io->status, O_CLOEXEC) < 0 ||
	    (ctx->use_scopes && pipe2(io->go, O_CLOEXEC) < 0)) {
		err_sys(err, "cannot create pipes for %s", location);
		return -1;
	}
	sp->out_fd = io->out[1];
	sp->err_fd = io->err[1];
	sp->status_fd = io->status[1];
	sp->go_fd = io->go[0];
	pid = sp->run_as || sp->go_fd >= 0 ? -1 : spawn_vfork(sp);
	if (pid < 0)
		pid = fork();
	if (pid < 0) {
		err_sys(err, "cannot start %s", location);
		return -1;
	}
	if (pid == 0)
		child(sp);
	close(io->out[1]);
	close(io->err[1]);
	close(io->status[1]);
	io->out[1] = io->err[1] = io->status[1] = -1;
	if (io->go[1] >= 0) {
		move_to_scope(ctx, location, pid);
		if (write(io->go[1], "g", 1) < 0)
			log_warn(
			    "cannot release %s: %s", location, strerror(errno));
		close_pair(io->go);
	}
	if (read(io->status[0], spawn_errno, sizeof(*spawn_errno)) !=
	    (ssize_t)sizeof(*spawn_errno))
		*spawn_errno = 0;
	return pid;
}

/* Signal the script's process group, or the script before its setsid(). */
static void
signal_group(pid_t pid, int sig)
{
	if (kill(-pid, sig) < 0)
		kill(pid, sig);
}

/*
 * Read the script's output into log and enforce its deadline on its
 * process group (hook_deadline_step) until it is reaped and its output
 * drained.  Never blocks past the deadline + grace periods.  Returns 0
 * once the script is reaped, or -1 with err set.
 */
static int
watch_script(const struct hook_context *ctx, pid_t pid, struct script_io *io,
    unsigned timeout_s, struct hook_log *log, const char *location,
    struct run_outcome *out, struct err *err)
{
	unsigned kill_grace = ctx->kill_grace_ms != 0
	    ? ctx->kill_grace_ms
	    : HOOK_DEFAULT_KILL_GRACE_MS;
	unsigned drain_grace = ctx->drain_grace_ms != 0
	    ? ctx->drain_grace_ms
	    : HOOK_DEFAULT_DRAIN_GRACE_MS;
	struct hook_lines out_lines, err_lines;
	struct hook_deadline dl;
	int pidfd = pidfd_open_compat(pid), open_out = 1, open_err = 1;

	hook_lines_init(&out_lines, "[stdout]");
	hook_lines_init(&err_lines, "[stderr]");
	fcntl(io->out[0], F_SETFL, O_NONBLOCK);
	fcntl(io->err[0], F_SETFL, O_NONBLOCK);
	hook_deadline_start(
	    &dl, clock_now_ms(), timeout_s, kill_grace, drain_grace);
	for (;;) {
		struct pollfd fds[3];
		int wait_ms;
		enum hook_step step = hook_deadline_step(
		    &dl, clock_now_ms(), open_out || open_err, &wait_ms);

		if (step == HOOK_STEP_DONE)
			break;
		if (step == HOOK_STEP_GIVE_UP) {
			log_error(
			    "%s did not exit after SIGKILL; giving up on it",
			    location);
			break;
		}
		if (step == HOOK_STEP_SIGTERM)
			signal_group(pid, SIGTERM);
		else if (step == HOOK_STEP_SIGKILL)
			signal_group(pid, SIGKILL);
		fds[0] =
		    (struct pollfd){ open_out ? io->out[0] : -1, POLLIN, 0 };
		fds[1] =
		    (struct pollfd){ open_err ? io->err[0] : -1, POLLIN, 0 };
		fds[2] = (struct pollfd){ dl.exited ? -1 : pidfd, POLLIN, 0 };
		if (pidfd < 0 && !dl.exited && wait_ms > 100)
			wait_ms = 100; /* no pidfd: poll waitpid */
		if (poll(fds, 3, wait_ms) < 0 && errno != EINTR) {
			err_sys(err, "cannot wait for %s", location);
			break;
		}
		if (open_out && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
			open_out = pump(io->out[0], &out_lines, log);
		if (open_err && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
			open_err = pump(io->err[0], &err_lines, log);
		if (!dl.exited && waitpid(pid, &out->status, WNOHANG) == pid)
			hook_deadline_exited(&dl, clock_now_ms());
	}
	if (!dl.exited && waitpid(pid, &out->status, WNOHANG) == pid)
		hook_deadline_exited(&dl, clock_now_ms());
	out->timed_out = dl.timed_out;
	out->killed = dl.killed;
	if (dl.exited && (open_out || open_err)) {
		out->outputs_left_open = 1;
		log_warn("%s exited but a process it started still holds its "
			 "%s; no longer reading it (redirect the output of "
			 "background processes)",
		    location, open_out ? "stdout" : "stderr");
	}
	hook_lines_flush(&out_lines, log);
	hook_lines_flush(&err_lines, log);
	hook_lines_clear(&out_lines);
	hook_lines_clear(&err_lines);
	if (pidfd >= 0)
		close(pidfd);
	if (!dl.exited && !err_isset(err))
		err_set(err, E_TIMEOUT, "%s could not be stopped", location);
	return dl.exited ? 0 : -1;
}

/* Run one script: spawn it, then watch it until it is reaped. */
static int
run_script(const struct hook_context *ctx, struct spawn *sp, unsigned timeout_s,
    struct hook_log *log, const char *location, struct run_outcome *out,
    struct err *err)
{
	struct script_io io = { { -1, -1 }, { -1, -1 }, { -1, -1 },
		{ -1, -1 } };
	pid_t pid;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	pid = spawn_script(ctx, sp, location, &io, &out->spawn_errno, err);
	if (pid >= 0) {
		hook_log_set_script(log, location, pid);
		ret = watch_script(
		    ctx, pid, &io, timeout_s, log, location, out, err);
	}
	close_io(&io);
	return ret;
}

/* Look the runas user up before fork: name, ids, groups. */
static int
lookup_user(const char *name, struct passwd *pw, char **pwbuf, struct spawn *sp,
    struct err *err)
{
	struct passwd *found = NULL;
	size_t size = 16384;
	int ngroups = 64, r;

	*pwbuf = xmalloc(size);
	r = getpwnam_r(name, pw, *pwbuf, size, &found);
	if (found == NULL)
		return err_set(err, E_NOTFOUND,
		    "the runas user '%s' does not exist on this host%s%s", name,
		    r != 0 ? ": " : "", r != 0 ? strerror(r) : "");
	sp->run_as = 1;
	sp->uid = pw->pw_uid;
	sp->gid = pw->pw_gid;
	sp->groups = xcalloc((size_t)ngroups, sizeof(gid_t));
	if (getgrouplist(name, pw->pw_gid, sp->groups, &ngroups) < 0) {
		sp->groups =
		    xreallocarray(sp->groups, (size_t)ngroups, sizeof(gid_t));
		getgrouplist(name, pw->pw_gid, sp->groups, &ngroups);
	}
	sp->ngroups = ngroups;
	return 0;
}

/* Format a failure message, v1's wording (Appendix A / v2 §5.6). */
static char *
exit_message(const char *location, const char *runas, int status)
{
	char who[300] = "";

	if (runas != NULL)
		snprintf(who, sizeof(who), " run as user %s", runas);
	if (WIFSIGNALED(status))
		return xasprintf("Script at specified location: %s%s failed "
				 "with exit code %d (killed by signal %d, %s)",
		    location, who, 128 + WTERMSIG(status), WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	return xasprintf("Script at specified location: %s%s failed with exit "
			 "code %d",
	    location, who, WEXITSTATUS(status));
}

/*
 * The script's path inside archive (v1 §8.3 a-b): it must be there and not
 * a directory, and is made executable (with a warning, as v1 does) when it
 * is not.  Returns 0 with *path set, or -1 with res set.
 */
static int
locate_script(const char *archive, const struct appspec_script *script,
    char **path, struct hook_result *res)
{
	const char *location = script->location;
	struct err err = ERR_INIT;
	struct stat st;

	while (*location == '/')
		location++;
	if (fsutil_join_safe(archive, location, path, &err) < 0) {
		set_result(res, HOOK_SCRIPT_MISSING, script->location,
		    xasprintf("Script at specified location: %s resolves "
			      "outside the deployment archive (%s)",
			script->location, err.msg));
		return -1;
	}
	if (stat(*path, &st) < 0 || S_ISDIR(st.st_mode)) {
		set_result(res, HOOK_SCRIPT_MISSING, script->location,
		    xasprintf("Script does not exist at specified location: %s",
			*path));
		return -1;
	}
	if ((st.st_mode & 0111) == 0 || access(*path, X_OK) < 0) {
		log_warn("Script at specified location: %s is not executable. "
			 "Trying to make it executable.",
		    script->location);
		if (chmod(*path, (st.st_mode & 07777) | 0111) < 0) {
			set_result(res, HOOK_SCRIPT_EXECUTABILITY,
			    script->location,
			    xasprintf("Unable to set script at specified "
				      "location: %s as executable: %s",
				script->location, strerror(errno)));
			return -1;
		}
	}
	return 0;
}

/* What a script that ran comes to (v1 §8.3 d); 0 when it succeeded. */
static int
judge_outcome(const struct appspec_script *script,
    const struct run_outcome *outcome, struct hook_result *res)
{
	int status = outcome->status;

	if (outcome->spawn_errno != 0) {
		set_result(res, HOOK_SCRIPT_FAILED, script->location,
		    xasprintf("Script at specified location: %s%s%s failed "
			      "with error %s",
			script->location,
			script->runas != NULL ? " run as user " : "",
			script->runas != NULL ? script->runas : "",
			strerror(outcome->spawn_errno)));
		return -1;
	}
	if (outcome->timed_out) {
		set_result(res, HOOK_SCRIPT_TIMED_OUT, script->location,
		    xasprintf("Script at specified location: %s failed to "
			      "complete in %u seconds",
			script->location, script->timeout));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	set_result(res, HOOK_SCRIPT_FAILED, script->location,
	    exit_message(script->location, script->runas, status));
	res->exit_code =
	    WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	return -1;
}

/* One script: v1 §8.3 steps a-d.  Returns 0 on success. */
static int
run_one(const struct hook_context *ctx, const char *event, const char *archive,
    const struct appspec_script *script, struct hook_log *log,
    struct hook_result *res)
{
	struct passwd pw, *pwp = NULL;
	struct spawn sp;
	struct run_outcome outcome;
	struct err err = ERR_INIT;
	struct envp env = { NULL, 0 };
	char *path = NULL, *pwbuf = NULL;
	int ret = -1;

	memset(&sp, 0, sizeof(sp));
	sp.null_fd = -1;
	if (locate_script(archive, script, &path, res) < 0)
		goto out;
	hook_log_entry(
	    log, "Script - ", script->location, strlen(script->location));
	if (script->runas != NULL) {
		if (lookup_user(script->runas, &pw, &pwbuf, &sp, &err) < 0) {
			set_result(res, HOOK_SCRIPT_FAILED, script->location,
			    xasprintf("Script at specified location: %s run as "
				      "user %s failed with error: %s",
				script->location, script->runas, err.msg));
			goto out;
		}
		pwp = &pw;
	}
	if (script->sudo && geteuid() != 0)
		log_warn("%s asks for sudo; cdagent does not run sudo, the "
			 "script runs as %s",
		    script->location,
		    script->runas != NULL ? script->runas : "the agent's user");
	log_info("Lifecycle script user context switch: event %s, script %s, "
		 "target user %s",
	    event, path, script->runas != NULL ? script->runas : "(self)");
	env = build_env(ctx, event, pwp);
	sp.path = path;
	sp.envp = env.v;
	sp.null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (run_script(ctx, &sp, script->timeout, log, script->location,
		&outcome, &err) < 0) {
		set_result(res, HOOK_SCRIPT_FAILED, script->location,
		    xasprintf("Script at specified location: %s failed with "
			      "error %s",
			script->location, err.msg));
		goto out;
	}
	res->scripts_run++;
	ret = judge_outcome(script, &outcome, res);
out:
	if (sp.null_fd >= 0)
		close(sp.null_fd);
	free(sp.groups);
	env_free(&env);
	free(pwbuf);
	free(path);
	return ret;
}

int
hook_run_event(
    const struct hook_context *ctx, const char *event, struct hook_result *res)
{
	struct appspec_opts opts = { ctx->custom_events, ctx->ncustom_events };
	const struct appspec_hook *hook;
	struct appspec *spec = NULL;
	struct hook_log log;
	struct err err = ERR_INIT;
	char *owned = NULL, *archive = NULL, *current = NULL;
	const char *droot;
	size_t i;
	int ret = -1, log_open = 0;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	set_result(res, HOOK_SUCCEEDED, "", xstrdup("Succeeded: "));
	current = state_droot(
	    ctx->root_dir, ctx->deployment_group_id, ctx->deployment_id, &err);
	if (current == NULL) {
		set_result(res, HOOK_UNKNOWN_ERROR, "", xstrdup(err.msg));
		goto out;
	}
	droot = hook_select_revision(ctx, event, &owned);
	if (droot == NULL || !is_dir(droot)) {
		if (droot != NULL)
			log_warn("%s: the revision %s no longer exists; no "
				 "scripts to run",
			    event, droot);
		res->noop = 1;
		ret = 0;
		goto out;
	}
	archive = xasprintf("%s/%s", droot, STATE_ARCHIVE_DIR);
	if (appspec_load(archive, ctx->appspec_filename, &opts, &spec, &err) <
	    0) {
		set_result(res, HOOK_UNKNOWN_ERROR, "", xstrdup(err.msg));
		goto out;
	}
	hook = appspec_find_hook(spec, event);
	if (hook == NULL || hook->nscripts == 0) {
		res->noop = 1;
		ret = 0;
		goto out;
	}
	if (ctx->check_only) {
		ret = 0;
		goto out;
	}
	hook_log_open(&log, ctx, current, event);
	log_open = 1;
	hook_log_entry(&log, "LifecycleEvent - ", event, strlen(event));
	for (i = 0; i < hook->nscripts; i++)
		if (run_one(ctx, event, archive, &hook->scripts[i], &log, res) <
		    0)
			goto out;
	ret = 0;
out:
	if (log_open) {
		res->log = ret < 0 ? hook_log_tail(&log) : xstrdup("");
		hook_log_close(&log);
	} else {
		res->log = xstrdup("");
	}
	appspec_free(spec);
	free(archive);
	free(owned);
	free(current);
	return ret;
}

/* Replace invalid UTF-8 with U+FFFD so the service can parse the JSON. */
static char *
valid_utf8(const char *s)
{
	return hook_text_utf8(s, strlen(s));
}

static char *
render(enum hook_code code, const char *script, const char *message,
    const char *log)
{
	struct json *obj = json_object();
	char *text;

	json_set(obj, "error_code", json_number(code));
	json_set(obj, "script_name", json_string(script));
	json_set(obj, "message", json_string(message));
	json_set(obj, "log", json_string(log));
	text = json_print(obj);
	json_free(obj);
	return text;
}

char *
hook_diagnostics(enum hook_code code, const char *script_name,
    const char *message, const char *log)
{
	char *script = valid_utf8(script_name != NULL ? script_name : "");
	char *msg = valid_utf8(message != NULL ? message : "");
	char *tail = valid_utf8(log != NULL ? log : "");
	size_t start = 0, tlen = strlen(tail);
	char *text = render(code, script, msg, tail);

	/* over the limit: drop the oldest log bytes, then cut the message */
	while (strlen(text) > HOOK_DIAGNOSTICS_MAX && start < tlen) {
		size_t over = strlen(text) - HOOK_DIAGNOSTICS_MAX;

		start += over > 64 ? over : 64;
		if (start > tlen)
			start = tlen;
		while (
		    start < tlen && ((unsigned char)tail[start] & 0xc0) == 0x80)
			start++; /* never split a UTF-8 sequence */
		free(text);
		text = render(code, script, msg, tail + start);
	}
	while (strlen(text) > HOOK_DIAGNOSTICS_MAX && strlen(msg) > 0) {
		size_t cut = strlen(msg) / 2;

		while (cut > 0 && ((unsigned char)msg[cut] & 0xc0) == 0x80)
			cut--;
		msg[cut] = '\0';
		free(text);
		text = render(code, script, msg, "");
	}
	free(script);
	free(msg);
	free(tail);
	return text;
}
