/*
 * sigv4: AWS Signature Version 4, with the agent's own canonical request
 * (libcurl 7.88's CURLOPT_AWS_SIGV4 mis-signs versionId queries; see
 * test-environment §2).
 *
 * The canonical URI encodes the path once per RFC 3986 keeping '/', and for
 * S3 never normalises it (a key may hold "//" or "."); other services get
 * their path normalised and encoded twice, as AWS specifies.  The query is
 * decoded, re-encoded and sorted.  Headers are lower-cased, trimmed and
 * sorted, the values of a repeated header joined with ',' in their order;
 * host and x-amz-date are always signed, x-amz-content-sha256 for S3 (or
 * on request), x-amz-security-token with session credentials.
 */
#ifndef CDAGENT_SIGV4_H
#define CDAGENT_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "err.h"

#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

/*
 * sigv4_request.flags.  SIGV4_PATH_ENCODED: the path is already encoded as
 * it goes on the wire ("/a%20b"); it is sent as is (after normalisation)
 * and, for services other than s3, encoded once more for signing.
 */
#define SIGV4_PATH_ENCODED 0x1
/* Other services: sign the path unnormalised (s3 paths never are). */
#define SIGV4_NO_NORMALISE 0x2
/* Add and sign x-amz-content-sha256 for any service (s3 always has it). */
#define SIGV4_CONTENT_SHA256 0x4

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method; /* "GET" */
	const char *host;   /* "bucket.s3.amazonaws.com" or "h:8443" */
	const char *path;   /* unencoded, from '/': "/my key.tgz" */
	const char *query;  /* after '?', encoded or not; NULL: none */
	const struct sigv4_header *headers; /* other headers to sign */
	size_t nheaders;
	const char *payload_hash; /* hex SHA-256 of the body, or UNSIGNED */
	unsigned flags;		  /* SIGV4_*, 0 for none */
};

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL for long-term keys */
};

struct sigv4_params {
	const char *region;  /* "us-east-1" */
	const char *service; /* "s3", "codedeploy-commands" */
	time_t when;	     /* signing time (UTC) */
};

/* What to add to the request, and the intermediate texts for debugging. */
struct sigv4_result {
	char *authorization;  /* the Authorization header value */
	char amz_date[17];    /* x-amz-date: 20130524T000000Z */
	char *content_sha256; /* x-amz-content-sha256 (S3), or NULL */
	char *canonical_request;
	char *string_to_sign;
	char signature[65];
	char *canonical_uri;   /* the path to send, encoded */
	char *canonical_query; /* the query to send, encoded and sorted */
};

int sigv4_sign(const struct sigv4_request *req,
    const struct sigv4_credentials *creds, const struct sigv4_params *params,
    struct sigv4_result *out, struct err *err);
void sigv4_result_clear(struct sigv4_result *res);

/* RFC 3986 encoding (unreserved kept); keep_slash for paths.  free(). */
char *sigv4_uri_encode(const char *s, size_t len, int keep_slash);

#endif
