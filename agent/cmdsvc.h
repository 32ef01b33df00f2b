/*
 * cmdsvc: a client of the CodeDeploy Commands API (v1 §1, v2 §2): JSON 1.1
 * over HTTPS, SigV4-signed, the five host-command operations.
 *
 * Every call waits on the client's throttle gate first (v2 §2.3: a 429 or
 * a throttling __type opens it for 1 s, doubling to 30 s; a success closes
 * it) and retries throttling up to 5 times.  Acknowledge, spec, update and
 * complete are also retried on 5xx and transport failures (3 retries, as
 * v1's SDK did); a poll is not, since the daemon's loop backs off itself.
 */
#ifndef CDAGENT_CMDSVC_H
#define CDAGENT_CMDSVC_H

#include "cfg.h"
#include "err.h"
#include "sigv4.h"

#define CMDSVC_PREFIX_STANDARD "CodeDeployCommandService_v20141006"
#define CMDSVC_PREFIX_SECURE "CodeDeployCommandService"
#define CMDSVC_SERVICE_STANDARD "codedeploy-commands"
#define CMDSVC_SERVICE_SECURE "codedeploy-commands-secure"

/* As bundle_creds_fn: credentials valid until the next call. */
typedef int (*cmdsvc_creds_fn)(void *arg, struct sigv4_credentials *out,
    const char **source, struct err *err);

struct cmdsvc_opts {
	const char *endpoint; /* https://codedeploy-commands.R.amazonaws.com */
	const char *region;   /* the SigV4 region */
	int secure;	      /* enable_auth_policy */
	const char *agent_version; /* x-amz-codedeploy-agent-version */
	long read_timeout_ms;	   /* http_read_timeout: above the long poll */
	const char *proxy_uri;
	cmdsvc_creds_fn creds;
	void *creds_arg;
	int (*tick)(void *arg); /* as http_opts.tick */
	void *tick_arg;
};

struct cmdsvc;

struct cmdsvc *cmdsvc_new(const struct cmdsvc_opts *opts, struct err *err);
void cmdsvc_free(struct cmdsvc *svc);

/*
 * The endpoint for cfg and region (v1 §1.5): deploy_control_endpoint when
 * set (http:// allowed, warned about), else
 * https://codedeploy-commands[-secure][-fips].<region>.<domain>, the domain
 * being imds_domain when known, else from the region (cn-: amazonaws.com.cn,
 * eusc-de-east-1: amazonaws.eu, else amazonaws.com).  free() the result.
 */
char *cmdsvc_endpoint(
    const struct cfg *cfg, const char *region, const char *imds_domain);

struct cmdsvc_command {
	char *host_command_id;
	char *host_identifier;
	char *deployment_execution_id;
	char *command_name;
	long long nonce;
	int has_nonce;
};

void cmdsvc_command_clear(struct cmdsvc_command *cmd);

/*
 * PollHostCommand.  Returns 1 with *out filled when a command came, 0 when
 * none, -1 on error.
 */
int cmdsvc_poll(struct cmdsvc *svc, const char *host_identifier,
    struct cmdsvc_command *out, struct err *err);

struct cmdsvc_spec {
	char *deployment_system;
	char *format;  /* GenericEnvelope.Format */
	char *payload; /* GenericEnvelope.Payload */
};

void cmdsvc_spec_clear(struct cmdsvc_spec *spec);

/*
 * GetDeploymentSpecification.  A missing DeploymentSpecification or
 * GenericEnvelope is an error; DeploymentSystem is checked by the caller.
 */
int cmdsvc_get_spec(struct cmdsvc *svc, const char *execution_id,
    const char *host_identifier, struct cmdsvc_spec *out, struct err *err);

/*
 * PutHostCommandAcknowledgement with {"IsCommandNoop":noop}.  *status is
 * the returned CommandStatus or NULL (free()).
 */
int cmdsvc_ack(struct cmdsvc *svc, const char *host_command_id, int noop,
    char **status, struct err *err);

/* PutHostCommandComplete with a JSON diagnostics payload. */
int cmdsvc_complete(struct cmdsvc *svc, const char *host_command_id,
    const char *status, const char *diagnostics_json, struct err *err);

/* PostHostCommandUpdate (a heartbeat); *status as for cmdsvc_ack. */
int cmdsvc_update(struct cmdsvc *svc, const char *host_command_id,
    const char *diagnostics_json, char **status, struct err *err);

#endif
