/*
 * exec: carry out one command of a deployment: DownloadBundle, Install, or
 * a lifecycle (or custom) event.  The daemon and `cdagent local` both run
 * commands through exec_command(); neither has its own copy.
 */
#ifndef CDAGENT_EXEC_H
#define CDAGENT_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "appspec.h"
#include "bundle.h"
#include "cfg.h"
#include "exec-spec.h"
#include "hook.h"
#include "unpack.h"

typedef void (*exec_progress_fn)(
    const char *what, uint64_t done, uint64_t total, void *arg);

struct exec_env {
	const struct cfg *cfg;
	/* codedeploy-local: revision choice fixed at the start (bug 21) */
	int local;
	const char *last_successful_droot; /* used when local */
	const char *most_recent_droot;
	exec_progress_fn progress;
	void *progress_arg;
	/* run hooks in transient systemd scopes (the daemon under systemd) */
	int hook_scopes;
	/* S3 and GitHub access; NULL: only local revisions */
	const struct bundle_env *bundle;
};

struct exec_result {
	enum hook_code code; /* HOOK_SUCCEEDED, a script code, or 5 */
	char *script_name;
	char *message;
	char *log;
	int noop;
	/* with HOOK_SCRIPT_FAILED: hook_result's exit_code, else not set */
	int exit_code;
	/* the new revision's warnings (appspec, checks), also logged */
	char **warnings;
	size_t nwarnings;
};

void exec_result_clear(struct exec_result *res);

/*
 * ROOT/EXEC_LAST_COMMAND_FILE: the last command run, for `cdagent status`:
 * {"deployment_id", "deployment_group_id", "command", "status"
 * ("Succeeded" or "Failed"), "message", "time" (epoch seconds),
 * "deployment_root", "local"}, replaced atomically after every command.
 */
#define EXEC_LAST_COMMAND_FILE ".cdagent-last-command.json"

/* The eleven events a deployment may have, in order (v1 §11.5). */
extern const char *const exec_default_events[];
extern const size_t exec_ndefault_events;

/*
 * Run command for the deployment spec.  Returns 0 on success; on failure
 * -1 with res saying why (v1's codes and messages).
 */
int exec_command(const struct exec_env *env, const struct exec_spec *spec,
    const char *command, struct exec_result *res);

/*
 * Before anything disrupts the running application: fetch the new revision
 * (an S3 or GitHub bundle is kept for DownloadBundle, never fetched twice),
 * unpack it aside and check it (check.h, with the host).  Returns 0, or -1
 * with res saying what is wrong; nothing of the host is changed either way.
 * exec_command() does this itself for the daemon's ApplicationStop, where a
 * bundle that cannot be fetched yet is only a warning.
 */
int exec_precheck(const struct exec_env *env, const struct exec_spec *spec,
    struct exec_result *res);

/*
 * Whether command would do nothing (v1 §3.2): never for DownloadBundle and
 * Install; always for a name that is not a lifecycle event; else when no
 * revision is selected or its appspec has no scripts for the event.  An
 * appspec that fails to load counts as work, so the failure is reported
 * through the normal completion.
 */
int exec_command_noop(const struct exec_env *env, const struct exec_spec *spec,
    const char *command);

#endif
