/*
 * http: HTTP(S) requests over libcurl.  The only module that includes
 * curl.h.
 *
 * A client holds what every request shares: the TLS trust (the system store
 * plus the files named by AWS_SSL_CA_BUNDLE and SSL_CERT_FILE, and every
 * file in AWS_SSL_CA_DIRECTORY), the proxy (proxy_uri, else the standard
 * HTTPS_PROXY/HTTP_PROXY with NO_PROXY), timeouts, and a connection cache.
 * Peer verification cannot be switched off.
 *
 * A request is built with http_req_*(), sent once with http_send() or with
 * retries by http_send_retry(), or run alongside others with http_multi.
 * The body of a 2xx/206 reply goes to the request's sink (or is kept in
 * memory when there is none); the body of any other reply is always kept in
 * resp->body (up to HTTP_MAX_ERROR_BODY), never passed to the sink, so an
 * error document never lands in a download.
 *
 * Nothing here logs a header value that can carry a secret (Authorization,
 * X-Amz-Security-Token, X-aws-ec2-metadata-token), nor a request body.
 */
#ifndef CDAGENT_HTTP_H
#define CDAGENT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "retry.h"

#define HTTP_MAX_ERROR_BODY (64 * 1024)
#define HTTP_MAX_MEMORY_BODY (16 * 1024 * 1024)

struct http_opts {
	const char *proxy_uri;	 /* cfg proxy_uri; NULL: the environment's */
	int no_proxy;		 /* never use a proxy (IMDS) */
	long connect_timeout_ms; /* 0: 15000 */
	/*
	 * The longest time without a byte received before a transfer is
	 * abandoned as stalled (a long poll sets it above the poll time).
	 * 0: 60000.
	 */
	long read_timeout_ms;
	const char *user_agent; /* NULL: "cdagent/VERSION" */
	int follow_redirects;	/* GitHub: yes; S3 and AWS APIs: no */
	/*
	 * Called about once a second while a transfer runs (the daemon pings
	 * systemd's watchdog from it); returning non-zero abandons the
	 * transfer with E_CANCELED (a stop was asked for).  May be NULL.
	 */
	int (*tick)(void *arg);
	void *tick_arg;
};

struct http_client;

/* A client; reads the CA environment variables now.  NULL on error. */
struct http_client *http_client_new(
    const struct http_opts *opts, struct err *err);
void http_client_free(struct http_client *client);

/*
 * The body sink: called with each piece of a 2xx body in order.  Return 0
 * to go on, -1 to abort the transfer (fill err through arg if wanted).
 */
typedef int (*http_sink_fn)(const void *data, size_t len, void *arg);

struct http_req;

struct http_req *http_req_new(const char *method, const char *url);
void http_req_free(struct http_req *req);
/* Change the URL (a redirect to another region, a retry elsewhere). */
void http_req_set_url(struct http_req *req, const char *url);
const char *http_req_url(const struct http_req *req);
const char *http_req_method(const struct http_req *req);
/* Set a header, replacing one of the same name (case-insensitive); a NULL
 * value removes it. */
void http_req_header(struct http_req *req, const char *name, const char *value);
/* The value of a header set on the request, or NULL. */
const char *http_req_get_header(const struct http_req *req, const char *name);
/* A body to send (copied). */
void http_req_body(struct http_req *req, const void *body, size_t len);
void http_req_sink(struct http_req *req, http_sink_fn fn, void *arg);
/* A limit on the whole request (connect to last byte); 0: none. */
void http_req_timeout(struct http_req *req, long total_ms);

struct http_resp {
	long status; /* 0 when no reply arrived */
	char *body;  /* error body, or the 2xx body with no sink */
	size_t body_len;
	uint64_t received; /* 2xx body bytes passed to the sink */
	char **headers;	   /* "name: value" pairs as received (last reply) */
	size_t nheaders;
	long elapsed_ms;
	int sink_failed; /* the sink returned -1 */
};

void http_resp_clear(struct http_resp *resp);
/* A reply header's value (case-insensitive name), trimmed, or NULL. */
const char *http_resp_header(const struct http_resp *resp, const char *name);

/*
 * Send req once.  Returns 0 when a reply arrived (whatever its status);
 * -1 on a transport failure with err saying what (E_NETWORK, E_TIMEOUT, or
 * E_AUTH for a TLS verification failure, with a hint about
 * AWS_SSL_CA_BUNDLE) or when the sink aborted.
 */
int http_send(struct http_client *client, struct http_req *req,
    struct http_resp *resp, struct err *err);

/*
 * The service error code of a reply: JSON "__type" (text after '#'), the
 * x-amzn-ErrorType header (text before ':'), or an XML <Code>.  Returns a
 * pointer into a static buffer, or NULL when the reply has none.
 */
const char *http_error_code(
    const struct http_resp *resp, char *buf, size_t size);
/* An XML error's <Message>, into buf; NULL when none. */
const char *http_error_message(
    const struct http_resp *resp, char *buf, size_t size);

/* Whether code is one of AWS's throttling error codes. */
int http_is_throttling_code(const char *code);
/* A throttled reply: 429, or 400/503 with a throttling code. */
int http_is_throttled(const struct http_resp *resp);
/*
 * Whether a failure may be retried: a transport failure (err set), 5xx,
 * 429, or a throttling code.  Other 4xx are final.
 */
int http_is_retryable(const struct http_resp *resp, const struct err *err);

/* Backoff before attempt n+1 after n failures: full jitter, capped. */
long http_backoff_ms(const struct retry_policy *policy, int failures);

/*
 * Called before every attempt of http_send_retry() so a signature is made
 * fresh (x-amz-date) and a resumed download can ask for the rest.  Returns
 * 0, or -1 with err set to give up.
 */
typedef int (*http_prepare_fn)(
    struct http_req *req, int attempt, void *arg, struct err *err);

/*
 * Send with retries: prepare, send, and on a retryable failure wait
 * http_backoff_ms() and go again, up to policy->attempts (NULL, or a field 0:
 * RETRY_DEFAULT's).  Returns 0 with the final reply in resp (which may still be
 * an error status), or -1 when every attempt failed in transport, with err from
 * the last one.
 */
int http_send_retry(struct http_client *client, struct http_req *req,
    struct http_resp *resp, const struct retry_policy *policy,
    http_prepare_fn prepare, void *arg, struct err *err);

/*
 * Several requests at once on one thread (curl multi).  Add requests, then
 * call http_multi_next() for each completion.
 */
struct http_multi;

struct http_multi *http_multi_new(
    struct http_client *client, int max_connections);
void http_multi_free(struct http_multi *multi);
/* Start req; resp receives the outcome.  tag identifies it to the caller. */
void http_multi_add(struct http_multi *multi, struct http_req *req,
    struct http_resp *resp, void *tag);
/*
 * Wait for the next request to finish.  Returns 1 with *tag set (and *rc
 * 0, or -1 with err filled as http_send() would), 0 when none are running.
 */
int http_multi_next(
    struct http_multi *multi, void **tag, int *rc, struct err *err);
/* Abandon every running request. */
void http_multi_cancel(struct http_multi *multi);

/* "libcurl 7.88.1 (OpenSSL/3.0.11)". */
const char *http_lib_version(void);

#endif
