/*
 * retry: how often and how patiently each kind of call is tried again,
 * one named policy per call site kind, all of them here so that "where is
 * the S3 retry" has one answer.  A policy is used by http_send_retry() and
 * http_backoff_ms() (http.c: the wait before try n+1 is drawn from
 * [c/2, c], c = first_ms doubled per failure up to max_ms) or by the loop
 * named in its comment.  Which failures count as retryable is http.c's
 * (http_is_retryable: transport, 5xx, throttling, RequestTimeout).
 *
 * Not a policy here: the poll (daemon.c poll_once) never gives up; its
 * backoff is v1's table in pace_error_backoff_ms (8 s growing to 90 s),
 * and pace.c draws every other wait of the poll loop.
 */
#ifndef CDAGENT_RETRY_H
#define CDAGENT_RETRY_H

struct retry_policy {
	int attempts;  /* tries in all, the first one included */
	long first_ms; /* backoff ceiling after the first failure */
	long max_ms;   /* the ceiling doubles up to this */
};

/* A request sent with no policy (NULL): v1's SDK, 3 retries. */
static const struct retry_policy RETRY_DEFAULT = {
	.attempts = 4, .first_ms = 300, .max_ms = 20000
};

/*
 * Commands API calls other than the poll (GetDeploymentSpecification,
 * acknowledge, complete, heartbeat), on a transport error or a 5xx
 * (cmdsvc.c call()).  The poll itself is not retried there: the daemon's
 * loop polls again.
 */
static const struct retry_policy RETRY_CMDSVC_SERVER = {
	.attempts = 4, .first_ms = 300, .max_ms = 5000
};

/*
 * Any Commands API call, the poll included, throttled (429, or 400 with a
 * throttling __type or "Rate exceeded"): the client-wide gate (cmdsvc.c
 * gate_trip) stays shut first_ms, doubling up to max_ms, plus 0-25 %
 * jitter; attempts - 1 throttled replies in a row are waited out before
 * the call fails.
 */
static const struct retry_policy RETRY_CMDSVC_THROTTLE = {
	.attempts = 6, .first_ms = 1000, .max_ms = 30000
};

/* One ranged GET of a multi-part S3 download (bundle.c fetch_parts). */
static const struct retry_policy RETRY_S3_PART = {
	.attempts = 5, .first_ms = 500, .max_ms = 10000
};

/* The S3 probe, a GET of the first byte: size, ETag (bundle.c s3_probe). */
static const struct retry_policy RETRY_S3 = {
	.attempts = 4, .first_ms = 300, .max_ms = 5000
};

/* A GitHub tarball/zipball download (bundle.c bundle_fetch_github). */
static const struct retry_policy RETRY_GITHUB = {
	.attempts = 4, .first_ms = 1000, .max_ms = 30000
};

/*
 * An instance metadata request (imds.c); imds_opts may set attempts and
 * first_ms (max_ms is then 8 x first_ms).
 */
static const struct retry_policy RETRY_IMDS = {
	.attempts = 3, .first_ms = 250, .max_ms = 2000
};

/*
 * The start-up check that the endpoint answers over verified TLS
 * (daemon.c daemon_main): tried until it answers or the next wait would
 * end after max_ms from the start (attempts 0: no count), waiting first_ms
 * doubled per failure, drawn from [w/2, w].
 */
static const struct retry_policy RETRY_START_CHECK = {
	.attempts = 0, .first_ms = 1000, .max_ms = 30000
};

#endif
