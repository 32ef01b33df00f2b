/*
 * creds: the AWS credentials, region and host identifier the agent works
 * with (v1 §1.6, §9.2; v2 §10).
 *
 * The chain picks its source once, when it is made, first match wins:
 *   1. the environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, else
 *      AMAZON_ACCESS_KEY_ID + AMAZON_SECRET_ACCESS_KEY, else v1's
 *      deprecated AWS_ACCESS_KEY + AWS_SECRET_KEY; AWS_SESSION_TOKEN with
 *      any of them (one name of a pair without the other is an error);
 *   2. an on-premises IAM user's static keys (iam_user_arn);
 *   3. an on-premises IAM session's credentials file (iam_session_arn,
 *      aws_credentials_file): its [default] profile, read when the chain is
 *      made (so a bad file fails start-up), then again whenever the file
 *      changes (inode, size or mtime) and 5 minutes before each read's
 *      30-minute lifetime ends;
 *   4. the EC2 instance profile through IMDS, fetched on first use and
 *      again 5 minutes before its Expiration (which is taken as at least 6
 *      minutes away, as v2 does, so a short-lived set is not re-asked for
 *      in a loop).
 * When a refresh fails while the credentials held have not expired, they
 * are kept (with a warning) and the refresh is tried again after
 * CREDS_RETRY_HOLDOFF_MS; once they have expired the failure is returned.
 * Rotated credentials replace the old ones in place: no restart is needed.
 *
 * The environment is read when the chain is made.  Times are on the
 * monotonic clock_now_ms() (tests may wrap it).  Secrets are wiped when
 * dropped and never logged.
 */
#ifndef CDAGENT_CREDS_H
#define CDAGENT_CREDS_H

#include <stddef.h>

#include "err.h"
#include "sigv4.h"

struct cfg;
struct cfg_onprem;

#define CREDS_REFRESH_BUFFER_MS (5LL * 60 * 1000)
#define CREDS_FILE_LIFETIME_MS (30LL * 60 * 1000)
#define CREDS_IMDS_MIN_LIFETIME_MS (6LL * 60 * 1000)
#define CREDS_RETRY_HOLDOFF_MS (10LL * 1000)
#define CREDS_MAX_FILE_SIZE (64 * 1024)

/* Names of the sources, as struct creds.source points to them. */
#define CREDS_SOURCE_ENV "environment"
#define CREDS_SOURCE_ONPREM_USER "on-premises IAM user"
#define CREDS_SOURCE_ONPREM_SESSION "on-premises session credentials file"
#define CREDS_SOURCE_IMDS "EC2 instance profile"

/* One set of credentials; the strings are owned (clear with creds_clear). */
struct creds {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL for long-term keys */
	/* clock_now_ms() time at which they stop working; 0: never. */
	long long expires_ms;
	const char *source; /* static: one of CREDS_SOURCE_* */
};

/* Wipe and free the strings; the struct may be reused. */
void creds_clear(struct creds *creds);

/* A borrowed view of creds for sigv4_sign(); valid while creds is. */
void creds_sigv4(const struct creds *creds, struct sigv4_credentials *out);

struct creds_chain;

/*
 * A chain for this host.  cfg gives disable_imds_v1 (NULL: defaults);
 * onprem (may be NULL) the on-premises registration.  Both are copied.
 * Fails on an environment pair given by half, or a session credentials
 * file that cannot be read or lacks a key (the error names the file and
 * the key).
 */
struct creds_chain *creds_chain_new(
    const struct cfg *cfg, const struct cfg_onprem *onprem, struct err *err);
void creds_chain_free(struct creds_chain *chain);

/* Which source the chain uses: one of CREDS_SOURCE_*. */
const char *creds_chain_source(const struct creds_chain *chain);

/*
 * Current credentials, refreshed first if due, copied into out (clear it
 * with creds_clear()).  On failure out is left zeroed and err says which
 * source failed and how to fix it.
 */
int creds_chain_get(
    struct creds_chain *chain, struct creds *out, struct err *err);

/*
 * The chain as a credentials callback: bundle_env.creds and
 * cmdsvc_opts.creds take it with the chain as arg.  Refreshes if due, then
 * points out at the chain's own strings, valid until the next call or
 * creds_chain_free(); *source (when source is not NULL) gets one of
 * CREDS_SOURCE_*.
 */
int creds_chain_sigv4(void *chain, struct sigv4_credentials *out,
    const char **source, struct err *err);

/*
 * The region: AWS_REGION (when not empty), else the on-premises region
 * (with an ARN), else the IMDS identity document's (fetched once per
 * chain).  *out is freed with free().
 */
int creds_region(struct creds_chain *chain, char **out, struct err *err);

/*
 * The host identifier: AWS_HOST_IDENTIFIER, else the on-premises ARN, else
 * arn:<partition>:ec2:<region>:<accountId>:instance/<instanceId> from IMDS.
 * *out is freed with free().
 */
int creds_host_identifier(
    struct creds_chain *chain, char **out, struct err *err);

/*
 * Parse an AWS credentials file (INI) and take profile's
 * aws_access_key_id, aws_secret_access_key and (optional)
 * aws_session_token into out (source and expires_ms left alone).
 *   - lines are trimmed; blank lines and lines starting '#' or ';' are
 *     skipped; "[name]" starts a section (a repeated one continues);
 *   - inside profile, every other line must be "key = value" (blanks
 *     around '=' trimmed; the last of a repeated key wins; other keys are
 *     ignored); lines of other sections are not looked at;
 *   - an empty aws_session_token means none; the other two must be there
 *     and not empty.
 * path names the file in messages.  buf need not be NUL-terminated.
 */
int creds_parse_ini(const char *buf, size_t len, const char *path,
    const char *profile, struct creds *out, struct err *err);

#endif
