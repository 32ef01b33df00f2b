/*
 * cfg: the agent configuration (codedeployagent.yml) and the on-premises
 * instance file (codedeploy.onpremises.yml), read as AWS's agent v1 reads
 * them, with v2's extra keys.
 *
 * Keys may be written Ruby-symbol style (":log_dir:") or plain ("log_dir:");
 * a key given twice takes its last value; unknown keys are kept and warned
 * about.  Every problem is collected in cfg->diags with "file:line: key"
 * and what a valid value looks like.
 */
#ifndef CDAGENT_CFG_H
#define CDAGENT_CFG_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define CFG_DEFAULT_PATH "/etc/codedeploy-agent/conf/codedeployagent.yml"
#define CFG_LEGACY_PATH "/opt/codedeploy-agent/conf/codedeployagent.yml"
#define CFG_MAX_FILE_SIZE (1024 * 1024)

struct cfg_diag {
	int is_error;
	unsigned line; /* 0 when not tied to a line */
	char *msg;     /* "file:line: ..." */
};

struct cfg_unknown {
	char *name;
	unsigned line;
};

/* Every key of v1 §9.1 and v2 §6.1; strings are NULL when unset. */
struct cfg {
	char *config_file; /* the file read, or NULL for built-in defaults */

	/* v1 keys */
	char *program_name;
	char *root_dir;
	char *log_dir;
	char *pid_dir;
	int verbose;
	long long wait_between_runs;
	long long http_read_timeout;
	char *proxy_uri;
	long long max_revisions;
	int disable_imds_v1;
	int log_aws_wire;
	int enable_deployments_log;
	char *ongoing_deployment_tracking;
	long long kill_agent_max_wait_time_seconds;
	char *on_premises_config_file;
	int use_fips_mode;
	char *deploy_control_endpoint;
	char *s3_endpoint_override;
	int enable_auth_policy;
	char *use_mock_command_service;
	char *codedeploy_test_profile;
	long long children;
	char *user;
	char *group;
	long long max_runs_per_worker;
	long long wait_after_throttle_error;
	long long wait_after_connection_problem;
	long long wait_between_spawning_children;
	long long wait_after_error;
	char *plugins; /* comma-separated list */
	char *instance_service_region;
	char *instance_service_endpoint;
	char *instance_service_port;
	char *shared_dir;

	/* v2 keys */
	int enable_command_port;
	int enable_archive_reuse;
	int disable_core_dumps;
	uint64_t archive_max_extraction_size; /* 0: no limit */
	int reject_symlinks_in_bundle;
	int reject_path_traversal_in_bundle;
	int reject_unsafe_permissions_in_bundle;
	int reject_unconfined_selinux_in_bundle;
	int reject_symlink_permission_targets;
	int ignore_ownership_in_bundle;
	int restrict_agent_dir_permissions;
	int restrict_log_dir_permissions;
	int restrict_hook_env_to_allowlist;
	int strip_loader_env_in_hooks;
	int disable_powershell_profile_in_hooks;

	/* cdagent's own keys */
	long long hook_kill_grace_seconds; /* SIGTERM to SIGKILL */
	uint64_t s3_download_part_size;	   /* bytes per ranged GET */
	long long s3_download_connections;
	char *github_api_url;
	long long command_heartbeat_seconds; /* 0: no heartbeats */

	struct cfg_unknown *unknown;
	size_t nunknown;
	unsigned *key_lines; /* per key: the line that set it, 0: default */
	struct cfg_diag *diags;
	size_t ndiags;
	size_t nerrors;
};

/* A configuration holding the built-in defaults. */
struct cfg *cfg_new(void);
void cfg_free(struct cfg *cfg);

/*
 * The file the agent reads when none is given: CFG_DEFAULT_PATH if it is a
 * regular file, else CFG_LEGACY_PATH if that is, else NULL (defaults only).
 */
const char *cfg_default_path(void);

/*
 * Read path over cfg's current values.  Problems go to cfg->diags; on any
 * error the function returns -1 with err naming the first one.  A missing
 * or unreadable file is an error naming it.
 */
int cfg_load_file(struct cfg *cfg, const char *path, struct err *err);
/* As cfg_load_file() for text already in memory; name is for messages. */
int cfg_load_buffer(struct cfg *cfg, const char *buf, size_t len,
    const char *name, struct err *err);

/*
 * v1's FIPS guard: with use_fips_mode, region must be one of the US regions
 * that have FIPS endpoints.  A NULL region passes (not known yet).
 */
int cfg_check_fips(const struct cfg *cfg, const char *region, struct err *err);

/* Print the effective configuration, one "key value" line per key. */
void cfg_print(const struct cfg *cfg, FILE *out);

/*
 * The effective configuration as one JSON document: {"config_file": ...,
 * "keys": {"log_dir": {"value": ..., "source": "file:line" or "default"},
 * ...}, "unknown_keys": [{"name": ..., "line": N}]}, passwords in URLs
 * redacted.  Free with free().
 */
char *cfg_to_json(const struct cfg *cfg);

/*
 * Parse a size as v2's archive_max_extraction_size: digits and an optional
 * unit (b, kb, mb, gb, tb, kib, mib, gib, tib; any case, blanks allowed).
 */
int cfg_parse_size(const char *text, uint64_t *out);

enum cfg_onprem_mode {
	CFG_ONPREM_NONE,	/* no ARN: the host is an EC2 instance */
	CFG_ONPREM_IAM_USER,	/* static keys of an IAM user */
	CFG_ONPREM_IAM_SESSION, /* a credentials file rotated externally */
};

struct cfg_onprem {
	char *path;
	enum cfg_onprem_mode mode;
	char *region;
	char *aws_access_key_id;
	char *aws_secret_access_key; /* wiped on free */
	char *iam_user_arn;
	char *iam_session_arn;
	char *aws_credentials_file;
	struct cfg_diag *diags; /* warnings (unknown keys) */
	size_t ndiags;
};

/*
 * Read the on-premises file.  A file that does not exist or cannot be read
 * is not an error: *out is NULL.  A file that is not a mapping, sets both
 * ARNs, or lacks a key its ARN needs is an error naming the file and key.
 */
int cfg_onprem_load(const char *path, struct cfg_onprem **out, struct err *err);
int cfg_onprem_load_buffer(const char *buf, size_t len, const char *path,
    struct cfg_onprem **out, struct err *err);
void cfg_onprem_free(struct cfg_onprem *onprem);
/* "none", "iam_user", "iam_session". */
const char *cfg_onprem_mode_name(enum cfg_onprem_mode mode);
/* Print the on-premises settings with the secret key redacted. */
void cfg_onprem_print(const struct cfg_onprem *onprem, FILE *out);

#endif
