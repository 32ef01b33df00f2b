/*
 * state: the deployment root exactly as AWS's agent lays it out (v1 §4):
 *
 *   ROOT/<GID>/<DID>/{bundle.tar, deployment-archive/, logs/scripts.log}
 *   ROOT/deployment-instructions/<GID>_last_successful_install
 *                                <GID>_most_recent_install
 *                                <GID>-cleanup, <GID>-install.json
 *   ROOT/deployment-logs/<program_name>-deployments.log
 *
 * Instruction files are written atomically; revision retention never
 * deletes the current or the last successful revision.
 */
#ifndef CDAGENT_STATE_H
#define CDAGENT_STATE_H

#include <stddef.h>

#include "err.h"

#define STATE_ARCHIVE_DIR "deployment-archive"
#define STATE_BUNDLE_FILE "bundle.tar"
#define STATE_INSTRUCTIONS_DIR "deployment-instructions"
#define STATE_DEPLOYMENT_LOGS_DIR "deployment-logs"
#define STATE_LAST_SUCCESSFUL "_last_successful_install"
#define STATE_MOST_RECENT "_most_recent_install"
#define STATE_CLEANUP "-cleanup"
#define STATE_INSTALL_JSON "-install.json"
/* The records of an install under way (install.c): see install.c. */
#define STATE_CLEANUP_PENDING "-cleanup.new"
/* In DROOT: when the deployment began (ns since the epoch), for retention. */
#define STATE_CREATED_MARKER ".cdagent-created"

/*
 * Check that an id (deployment group id, deployment id) is a safe single
 * path component: non-empty, not "." or "..", no '/', no NUL, no newline.
 * what names the id in the message ("deployment group id").
 */
int state_check_id(const char *id, const char *what, struct err *err);

/*
 * The longest group id: its instruction files (and their temporary names,
 * ".<GID>_last_successful_install.tmp.XXXXXX") must fit in NAME_MAX.
 */
#define STATE_GROUP_ID_MAX (255 - 36)

/*
 * state_check_id(), and the group id must not name the agent's own entries
 * of the deployment root (deployment-instructions, deployment-logs,
 * ongoing-deployment, anything starting with '.') and must be at most
 * STATE_GROUP_ID_MAX bytes (E_INVALID, naming the limit).
 */
int state_check_group_id(const char *gid, const char *what, struct err *err);

/* The longest ReuseArchiveFromDeploymentId state_valid_reuse_id() allows. */
#define STATE_REUSE_ID_MAX 64

/*
 * Whether len bytes at id are a deployment id that archive reuse may name
 * as a directory of the deployment root (v2 §3.3): "d-" and one or more of
 * [A-Z0-9], at most STATE_REUSE_ID_MAX bytes in all.
 */
int state_valid_reuse_id(const char *id, size_t len);

/* ROOT/GID/DID; NULL with err set if an id is unsafe.  Free with free(). */
char *state_droot(
    const char *root, const char *gid, const char *did, struct err *err);
/* ROOT/deployment-instructions/<GID><suffix>; the gid must be safe. */
char *state_instruction_path(
    const char *root, const char *gid, const char *suffix);

/*
 * Create ROOT/GID/DID (and parents) with mode 0755 and, when it is new,
 * record the time in DROOT/.cdagent-created.
 */
int state_prepare_droot(const char *droot, struct err *err);

/* Record droot as the group's last successful / most recent install. */
int state_set_last_successful(
    const char *root, const char *gid, const char *droot, struct err *err);
int state_set_most_recent(
    const char *root, const char *gid, const char *droot, struct err *err);
/*
 * Read them back (a trailing newline is dropped).  A missing file is not an
 * error: *out is NULL.  Free *out with free().
 */
int state_get_last_successful(
    const char *root, const char *gid, char **out, struct err *err);
int state_get_most_recent(
    const char *root, const char *gid, char **out, struct err *err);

/*
 * Revision retention (v1 §4.3, bugs 33 and 34 fixed): keep at most
 * max_revisions deployment directories of the group, counting the current
 * one; delete the oldest first, ordered by when each deployment directory
 * was created (not by its modification time); never delete current_did or
 * the last successful revision; ignore anything that is not a directory.
 * *deleted (may be NULL) gets the number removed.
 */
int state_prune(const char *root, const char *gid, const char *current_did,
    long long max_revisions, int *deleted, struct err *err);

/*
 * Retention off the critical path: run state_prune() in a detached process
 * at idle I/O priority, holding ROOT/.cdagent-trash/GID.lock until it ends
 * (a prune still running from an earlier deployment is waited for first).
 * Each revision is renamed into ROOT/.cdagent-trash before it is removed,
 * so a crash mid-removal leaves nothing a deployment reads; the next prune
 * empties the trash.  Returns once the process runs, not when it ends.
 */
int state_prune_start(const char *root, const char *gid,
    const char *current_did, long long max_revisions, struct err *err);

/* Wait until no retention process of GID runs (none started: at once). */
int state_prune_wait(const char *root, const char *gid, struct err *err);

#endif
