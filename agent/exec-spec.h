/*
 * exec-spec: the deployment specification a command runs with, as data
 * only.  dspec fills it, exec (and local, daemon) read it; keeping it apart
 * lets dspec stand without exec.
 */
#ifndef CDAGENT_EXEC_SPEC_H
#define CDAGENT_EXEC_SPEC_H

#include <stddef.h>

#include "appspec.h"
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
	 * checked (see state_valid_reuse_id()), or NULL */
	char *reuse_archive_from;
};

/* Free what spec owns (the GitHub token wiped) and zero it. */
void exec_spec_clear(struct exec_spec *spec);

#endif
