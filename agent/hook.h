/*
 * hook: run the scripts of one lifecycle event as AWS's agent does (v1 §8),
 * without its hangs, its su, or killing the application.
 *
 * Each script runs by fork/exec (no shell string), in its own session and
 * process group, stdin from /dev/null, as the appspec's runas user when one
 * is given (initgroups/setgid/setuid directly).  The event's timeout covers
 * the whole process group: SIGTERM, then SIGKILL after a grace.  A script is
 * done when it exits: its output is drained for a short grace and a
 * background process that still holds the pipes is left running (v1 made
 * the deployment wait for the full timeout, #26/#118).
 */
#ifndef CDAGENT_HOOK_H
#define CDAGENT_HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* v1's agent error codes (§3.7). */
enum hook_code {
	HOOK_SUCCEEDED = 0,
	HOOK_SCRIPT_MISSING = 1,
	HOOK_SCRIPT_EXECUTABILITY = 2,
	HOOK_SCRIPT_TIMED_OUT = 3,
	HOOK_SCRIPT_FAILED = 4,
	HOOK_UNKNOWN_ERROR = 5,
	HOOK_OUTPUTS_LEFT_OPEN = 6,
	HOOK_FAILED_AFTER_RESTART = 7,
};

/* The diagnostics log tail sent to the service (v1 kept 2048). */
#define HOOK_LOG_TAIL_MAX 4096
/* The whole diagnostics payload the API accepts. */
#define HOOK_DIAGNOSTICS_MAX 8192

struct hook_context {
	const char *root_dir;	   /* ROOT */
	const char *deployment_id; /* of the current deployment */
	const char *deployment_group_id;
	const char *deployment_group_name;
	const char *application_name;
	const char *deployment_creator; /* "codeDeployRollback", ... or NULL */
	const char *deployment_type;	/* "BLUE_GREEN", "IN_PLACE" or NULL */
	const char *appspec_filename;	/* NULL: appspec.yml */
	const char *const *custom_events; /* allowed besides the nine */
	size_t ncustom_events;
	/* BUNDLE_* variables ("BUNDLE_BUCKET=b"), NULL-terminated, or NULL */
	const char *const *bundle_env;
	/*
	 * The group's last successful and most recent revisions (DROOTs, or
	 * NULL), as they were when the deployment began.
	 */
	const char *last_successful_droot;
	const char *most_recent_droot;
	/*
	 * codedeploy-local: ApplicationStop and the block-traffic events always
	 * run from the previous revision, even once this deployment's archive
	 * exists (v1 bug 21).
	 */
	int local;
	/*
	 * Only work out whether the event would run a script (res->noop),
	 * for the acknowledgement; run nothing and write no log.
	 */
	int check_only;
	/* Run each script in a transient systemd scope of its own. */
	int use_scopes;

	/* settings from the configuration */
	const char *program_name; /* deployments log name */
	int enable_deployments_log;
	int restrict_env_to_allowlist; /* restrict_hook_env_to_allowlist */
	int strip_loader_env;	       /* strip_loader_env_in_hooks */
	unsigned kill_grace_ms;	       /* SIGTERM to SIGKILL; 0: 5000 */
	unsigned drain_grace_ms;       /* output after exit; 0: 1000 */
	uint64_t scripts_log_max;      /* rotate at; 0: 64 MiB */
};

struct hook_result {
	enum hook_code code;
	char *script_name; /* the failing script's location, or "" */
	char *message;	   /* v1's wording */
	char *log;	   /* the tail of the event's output */
	int noop;	   /* no revision, or no scripts for the event */
	/*
	 * With HOOK_SCRIPT_FAILED: the script's exit code (128 + the signal
	 * when a signal ended it, as a shell says), or -1 when it never ran
	 * to an exit; -1 for every other code.
	 */
	int exit_code;
	unsigned scripts_run;
};

/*
 * Run the scripts of event for the deployment in ctx.  Returns 0 when they
 * all succeeded (or there were none), -1 otherwise; res is filled either
 * way and must be released with hook_result_clear().
 */
int hook_run_event(
    const struct hook_context *ctx, const char *event, struct hook_result *res);
void hook_result_clear(struct hook_result *res);

/*
 * The completion diagnostics JSON, v1's exact key order and compact form:
 * {"error_code":N,"script_name":"...","message":"...","log":"..."}, valid
 * UTF-8, at most HOOK_DIAGNOSTICS_MAX bytes (the log is trimmed first).
 * Free with free().
 */
char *hook_diagnostics(enum hook_code code, const char *script_name,
    const char *message, const char *log);

/* The revision (DROOT) whose scripts an event runs, per v1 §8.2; NULL for
 * none.  Returned pointer is one of ctx's strings or *owned (free it). */
const char *hook_select_revision(
    const struct hook_context *ctx, const char *event, char **owned);

#endif
