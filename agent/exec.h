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
#include "hook.h"
#include "unpack.h"

enum exec_revision {
	EXEC_REV_S3,
	EXEC_REV_GITHUB,
	EXEC_REV_LOCAL_FILE,
	EXEC_REV_LOCAL_DIRECTORY,
};

/* A deployment specification in memory (v1 §2.3). */
struct exec_spec {
	char *deployment_id;
	char *deployment_group_id;
	char *deployment_group_name;
	char *application_name;
	char *deployment_creator; /* NULL: "user" */
	char *deployment_type;	  /* NULL: "IN_PLACE" */
	char *appspec_filename;	  /* NULL: appspec.yml */
	enum appspec_feb file_exists_behavior;
	char **all_possible_events; /* AllPossibleLifecycleEvents, or NULL */
	size_t nall_possible_events;

	enum exec_revision revision;
	enum unpack_format bundle_type;
	char *location; /* local file or directory */
	char *bucket;	/* S3 */
	char *key;
	char *version; /* may be NULL */
	char *etag;    /* may be NULL */
	char *account; /* GitHub */
	char *repository;
	char *commit_id;
	char *github_token; /* wiped on free */
	/* ReuseArchiveFromDeploymentId (v2 §3.3), ARN-shortened but not
	 * checked (see dspec_valid_reuse_id()), or NULL */
	char *reuse_archive_from;
};

void exec_spec_clear(struct exec_spec *spec);

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
