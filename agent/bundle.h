/*
 * bundle: fetch a revision's bundle from S3 or GitHub into the deployment
 * directory, as AWS's agent does (v1 §5.1-5.2, v2 §4.3-4.4), verified.
 *
 * S3: a HEAD learns the size and ETag (checked against the spec's before a
 * byte is written, and the free space against the size); the object then
 * comes as ranged GETs over up to cfg->s3_download_connections connections,
 * each part written in place with pwrite() from a fixed buffer, each GET
 * carrying If-Match so a changed object fails rather than mixes.  A part
 * cut short is asked for again from where it stopped.  GitHub: the
 * tarball/zipball API with redirects followed (the token is never sent to
 * the redirect's host).
 *
 * Either way the bytes go to "<dest>.part" (0600) and are renamed to dest
 * only when complete; on failure nothing is left behind.
 */
#ifndef CDAGENT_BUNDLE_H
#define CDAGENT_BUNDLE_H

#include <stdint.h>

#include "cfg.h"
#include "err.h"
#include "sigv4.h"

/*
 * Credentials for S3: fill out (the strings stay valid until the next call
 * or until the provider is freed).  Returns 0, or -1 with err.
 */
typedef int (*bundle_creds_fn)(void *arg, struct sigv4_credentials *out,
    const char **source, struct err *err);

typedef void (*bundle_progress_fn)(
    const char *what, uint64_t done, uint64_t total, void *arg);

struct bundle_env {
	const struct cfg *cfg;
	const char *region; /* S3 signing region */
	bundle_creds_fn creds;
	void *creds_arg;
	bundle_progress_fn progress; /* may be NULL */
	void *progress_arg;
};

struct bundle_s3 {
	const char *bucket;
	const char *key;
	const char *version; /* NULL: the latest */
	const char *etag;    /* NULL: not checked */
};

struct bundle_result {
	uint64_t bytes;
	char *etag; /* the ETag S3 sent, quotes removed; free() */
	char *version_id;
	int parts;   /* ranged GETs made (retries included) */
	int retries; /* parts asked for again */
	long elapsed_ms;
};

void bundle_result_clear(struct bundle_result *res);

/* Download an S3 object to dest. */
int bundle_fetch_s3(const struct bundle_env *env, const struct bundle_s3 *s3,
    const char *dest, struct bundle_result *res, struct err *err);

struct bundle_github {
	const char *account;
	const char *repository;
	const char *commit_id;
	const char *token; /* NULL or "": anonymous */
	int zip;	   /* zipball, else tarball */
};

/* Download a GitHub archive of a commit to dest. */
int bundle_fetch_github(const struct bundle_env *env,
    const struct bundle_github *gh, const char *dest, struct bundle_result *res,
    struct err *err);

/*
 * The S3 URL parts for a bucket and region, as the agent would use them
 * (exposed for tests): scheme://host, and the path prefix before the key.
 */
int bundle_s3_endpoint(const struct cfg *cfg, const char *region,
    const char *bucket, char **base_url, char **host, char **path_prefix,
    struct err *err);

/* Remove the quotes around an ETag, in place. */
char *bundle_etag_strip(char *etag);

/* Parse a Content-Range value "bytes FIRST-LAST/TOTAL" (NULL allowed);
 * 0 when well formed with FIRST <= LAST < TOTAL, else -1. */
int bundle_parse_content_range(
    const char *value, uint64_t *first, uint64_t *last, uint64_t *total);

#endif
