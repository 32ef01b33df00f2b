/*
 * imds: the EC2 instance metadata service, as the agent needs it: the
 * identity document (region, account, instance), the partition and domain,
 * and the instance profile's role credentials (v1 §9.3, v2 §10).
 *
 * Requests use IMDSv2: a session token from PUT /latest/api/token (asked
 * for IMDS_TOKEN_TTL_SECONDS) is kept until shortly before its TTL ends and
 * sent as X-aws-ec2-metadata-token; a GET answered 401 drops the token,
 * takes a new one and is sent once more.  When no token can be had (the PUT
 * is refused or times out, as in a container behind a hop limit of 1), a
 * plain IMDSv1 GET is made instead, unless disable_v1 is set; a PUT that
 * cannot even connect is not followed by a GET, since that would fail the
 * same way.  Unlike v1 (and as the AWS SDKs do), disable_v1 applies to the
 * role credentials too.
 *
 * The address is http://169.254.169.254, or $AWS_EC2_METADATA_SERVICE_
 * ENDPOINT, or http://[fd00:ec2::254] when $AWS_EC2_METADATA_SERVICE_
 * ENDPOINT_MODE is "IPv6"; AWS_EC2_METADATA_DISABLED=true turns every
 * request into an error.  No proxy is ever used, no redirect followed.
 * Every request is tried up to max_attempts times with jittered backoff
 * when the failure is transient (transport, 5xx).
 *
 * Tokens and secret keys are wiped from memory when dropped and never
 * logged.
 */
#ifndef CDAGENT_IMDS_H
#define CDAGENT_IMDS_H

#include <time.h>

#include "err.h"

#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_IPV6_ENDPOINT "http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL_SECONDS 21600

struct imds_opts {
	/* NULL: from the environment as above, else IMDS_DEFAULT_ENDPOINT. */
	const char *endpoint;
	int disable_v1;		 /* cfg disable_imds_v1: no tokenless GET */
	long connect_timeout_ms; /* 0: 1000 */
	long total_timeout_ms; /* one attempt, connect to last byte; 0: 3000 */
	int max_attempts;      /* 0: 3 */
	long retry_base_ms;    /* first backoff ceiling; 0: 250 */
};

struct imds;

/* A client; opts may be NULL for the defaults.  NULL on error. */
struct imds *imds_new(const struct imds_opts *opts, struct err *err);
void imds_free(struct imds *imds);

/* The base URL requests go to, without a trailing '/'. */
const char *imds_endpoint(const struct imds *imds);

/*
 * GET path (from "/latest/...") into *out (free with free()), with leading
 * and trailing white space removed.  A 404 is E_NOTFOUND, any other non-2xx
 * reply E_SERVICE, both naming the URL and status; an unreachable service is
 * E_NETWORK or E_TIMEOUT with a hint.
 */
int imds_get(struct imds *imds, const char *path, char **out, struct err *err);

/* From /latest/dynamic/instance-identity/document, white space stripped. */
struct imds_identity {
	char *region;
	char *account_id;
	char *instance_id;
};

int imds_identity(
    struct imds *imds, struct imds_identity *out, struct err *err);
void imds_identity_clear(struct imds_identity *id);

/* services/partition; "aws" when the service does not have it (404). */
int imds_partition(struct imds *imds, char **out, struct err *err);
/* services/domain ("amazonaws.com"); E_NOTFOUND when absent. */
int imds_domain(struct imds *imds, char **out, struct err *err);

/*
 * The instance profile's role: the first name listed under
 * iam/security-credentials/.  E_NOTFOUND, saying to attach an instance
 * profile, when there is none.
 */
int imds_role_name(struct imds *imds, char **out, struct err *err);

/* A role's temporary credentials; clear with imds_credentials_clear(). */
struct imds_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *token;
	time_t expiration; /* UTC seconds since the epoch */
};

/* The credentials of role (a name from imds_role_name()). */
int imds_role_credentials(struct imds *imds, const char *role,
    struct imds_credentials *out, struct err *err);
/* Wipe and free the strings; the struct may be reused. */
void imds_credentials_clear(struct imds_credentials *creds);

/*
 * Parse an ISO-8601 UTC time as IMDS writes it ("2024-05-01T12:00:00Z",
 * fractional seconds and a "+hh:mm" offset accepted).  0 or -1.
 */
int imds_parse_time(const char *text, time_t *out);

#endif
