/*
 * Unit tests for the parts of http, bundle and cmdsvc that need no server:
 * service error decoding, throttling and retry rules, backoff bounds, the
 * S3 and Commands API endpoints, ETag quoting.  Transfers themselves are
 * tested against real servers by tests/integration/s3.sh and friends.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bundle.h"
#include "cfg.h"
#include "cmdsvc.h"
#include "http.h"
#include "xalloc.h"

/* A reply as http_send() would leave it. */
static void
fake(struct http_resp *resp, long status, const char *body, const char *header)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = status;
	if (body != NULL) {
		resp->body = xstrdup(body);
		resp->body_len = strlen(body);
	}
	if (header != NULL) {
		resp->headers = xcalloc(1, sizeof(char *));
		resp->headers[0] = xstrdup(header);
		resp->nheaders = 1;
	}
}

static void
error_code__json_type_xml_and_header(void **state)
{
	struct http_resp r;
	char buf[64], msg[128];

	(void)state;
	fake(&r, 400,
	    "{\"__type\":\"com.amazonaws.codedeploy#ThrottlingException\","
	    "\"message\":\"Rate exceeded\"}",
	    NULL);
	assert_string_equal(
	    http_error_code(&r, buf, sizeof(buf)), "ThrottlingException");
	assert_string_equal(
	    http_error_message(&r, msg, sizeof(msg)), "Rate exceeded");
	assert_true(http_is_throttled(&r));
	assert_true(http_is_retryable(&r, NULL));
	http_resp_clear(&r);

	fake(&r, 403,
	    "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code>"
	    "<Message></Message></Error>",
	    NULL);
	assert_string_equal(
	    http_error_code(&r, buf, sizeof(buf)), "SignatureDoesNotMatch");
	assert_null(http_error_message(&r, msg, sizeof(msg)));
	assert_false(http_is_throttled(&r));
	assert_false(http_is_retryable(&r, NULL));
	http_resp_clear(&r);

	fake(&r, 400, NULL, "x-amzn-ErrorType: ValidationException:http://x");
	assert_string_equal(
	    http_error_code(&r, buf, sizeof(buf)), "ValidationException");
	assert_false(http_is_retryable(&r, NULL));
	http_resp_clear(&r);
}

/* A JSON error body is parsed, not scanned: escapes come out unescaped. */
static void
error_message__json_escaped_quote__whole_message(void **state)
{
	struct http_resp r;
	char buf[64], msg[128];

	(void)state;
	fake(&r, 400,
	    "{ \"message\" : \"bucket \\\"my-app\\\" not found\\n\","
	    " \"__type\":\"com.amazon#ValidationException\"}",
	    NULL);
	assert_string_equal(http_error_message(&r, msg, sizeof(msg)),
	    "bucket \"my-app\" not found\n");
	assert_string_equal(
	    http_error_code(&r, buf, sizeof(buf)), "ValidationException");
	http_resp_clear(&r);

	/* not a JSON object: no JSON field, the header decides */
	fake(&r, 400, "[\"__type\", \"message\"]",
	    "x-amzn-ErrorType: ThrottlingException");
	assert_string_equal(
	    http_error_code(&r, buf, sizeof(buf)), "ThrottlingException");
	assert_null(http_error_message(&r, msg, sizeof(msg)));
	http_resp_clear(&r);
}

static void
throttling__400_and_429_and_slowdown(void **state)
{
	struct http_resp r;

	(void)state;
	fake(&r, 429, "", NULL);
	assert_true(http_is_throttled(&r));
	assert_true(http_is_retryable(&r, NULL));
	http_resp_clear(&r);
	fake(&r, 503, "<Error><Code>SlowDown</Code></Error>", NULL);
	assert_true(http_is_throttled(&r));
	http_resp_clear(&r);
	fake(&r, 400, "{\"__type\":\"ClientException\",\"message\":\"x\"}",
	    NULL);
	assert_false(http_is_throttled(&r));
	assert_false(http_is_retryable(&r, NULL));
	http_resp_clear(&r);
	fake(&r, 500, "{\"__type\":\"ServerException\"}", NULL);
	assert_false(http_is_throttled(&r));
	assert_true(http_is_retryable(&r, NULL));
	http_resp_clear(&r);
	assert_true(http_is_throttling_code("RequestLimitExceeded"));
	assert_false(http_is_throttling_code("AccessDenied"));
	assert_false(http_is_throttling_code(NULL));
}

static void
retryable__transport_errors(void **state)
{
	struct http_resp r;
	struct err e = ERR_INIT;

	(void)state;
	memset(&r, 0, sizeof(r));
	err_set(&e, E_NETWORK, "connection reset");
	assert_true(http_is_retryable(&r, &e));
	err_clear(&e);
	err_set(&e, E_AUTH, "certificate verify failed");
	assert_false(http_is_retryable(&r, &e));
	err_clear(&e);
	err_set(&e, E_TIMEOUT, "stalled");
	assert_true(http_is_retryable(&r, &e));
}

static void
backoff__grows_within_bounds(void **state)
{
	struct retry_policy p = {
		.attempts = 5, .first_ms = 100, .max_ms = 1000
	};
	int n, i;

	(void)state;
	for (n = 1; n <= 8; n++) {
		long ceiling = 100L << (n - 1);

		if (ceiling > 1000)
			ceiling = 1000;
		for (i = 0; i < 50; i++) {
			long w = http_backoff_ms(&p, n);

			assert_true(w >= ceiling / 2);
			assert_true(w <= ceiling);
		}
	}
}

static void
resp_header__case_and_last_wins(void **state)
{
	struct http_resp r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.headers = xcalloc(3, sizeof(char *));
	r.headers[0] = xstrdup("ETag: \"abc\"");
	r.headers[1] = xstrdup("Content-Length: 10");
	r.headers[2] = xstrdup("etag:   \"def\"");
	r.nheaders = 3;
	assert_string_equal(http_resp_header(&r, "ETAG"), "\"def\"");
	assert_string_equal(http_resp_header(&r, "content-length"), "10");
	assert_null(http_resp_header(&r, "Content"));
	http_resp_clear(&r);
}

static void
req_headers__replace_and_remove(void **state)
{
	struct http_req *req = http_req_new("GET", "https://h/");

	(void)state;
	http_req_header(req, "Range", "bytes=0-1");
	http_req_header(req, "range", "bytes=2-3");
	assert_string_equal(http_req_get_header(req, "RANGE"), "bytes=2-3");
	http_req_header(req, "Range", NULL);
	assert_null(http_req_get_header(req, "Range"));
	http_req_free(req);
}

static void
s3_endpoint__regions_fips_override(void **state)
{
	struct cfg *cfg = cfg_new();
	struct err err = ERR_INIT;
	char *url, *host, *prefix;

	(void)state;
	assert_int_equal(bundle_s3_endpoint(cfg, "us-west-2", "my-bucket", &url,
			     &host, &prefix, &err),
	    0);
	assert_string_equal(
	    url, "https://my-bucket.s3.us-west-2.amazonaws.com");
	assert_string_equal(host, "my-bucket.s3.us-west-2.amazonaws.com");
	assert_string_equal(prefix, "");
	free(url), free(host), free(prefix);

	/* dots break the TLS wildcard: path style */
	assert_int_equal(bundle_s3_endpoint(cfg, "cn-north-1", "my.bucket",
			     &url, &host, &prefix, &err),
	    0);
	assert_string_equal(url, "https://s3.cn-north-1.amazonaws.com.cn");
	assert_string_equal(prefix, "/my.bucket");
	free(url), free(host), free(prefix);

	assert_int_equal(bundle_s3_endpoint(cfg, "eusc-de-east-1", "b-1x", &url,
			     &host, &prefix, &err),
	    0);
	assert_string_equal(url, "https://b-1x.s3.eusc-de-east-1.amazonaws.eu");
	free(url), free(host), free(prefix);

	cfg->use_fips_mode = 1;
	assert_int_equal(bundle_s3_endpoint(cfg, "us-east-1", "bkt", &url,
			     &host, &prefix, &err),
	    0);
	assert_string_equal(url, "https://bkt.s3-fips.us-east-1.amazonaws.com");
	free(url), free(host), free(prefix);

	cfg->s3_endpoint_override = xstrdup("https://127.0.0.1:7443/");
	assert_int_equal(bundle_s3_endpoint(
			     cfg, NULL, "bundles", &url, &host, &prefix, &err),
	    0);
	assert_string_equal(url, "https://127.0.0.1:7443");
	assert_string_equal(host, "127.0.0.1:7443");
	assert_string_equal(prefix, "/bundles");
	free(url), free(host), free(prefix);
	free(cfg->s3_endpoint_override);

	/* the default port is not part of the signed Host */
	cfg->s3_endpoint_override = xstrdup("https://s3.example.com:443/base");
	assert_int_equal(bundle_s3_endpoint(
			     cfg, NULL, "bundles", &url, &host, &prefix, &err),
	    0);
	assert_string_equal(url, "https://s3.example.com:443");
	assert_string_equal(host, "s3.example.com");
	assert_string_equal(prefix, "/base/bundles");
	free(url), free(host), free(prefix);
	free(cfg->s3_endpoint_override);
	cfg->s3_endpoint_override = NULL;

	cfg->use_fips_mode = 0;
	assert_int_equal(bundle_s3_endpoint(
			     cfg, NULL, "bundles", &url, &host, &prefix, &err),
	    -1);
	assert_non_null(strstr(err.msg, "no AWS region"));
	cfg_free(cfg);
}

static void
etag_strip__quotes_anywhere(void **state)
{
	char a[] = "\"myetag\"", b[] = "myetag", c[] = "\"abc-2\"";

	(void)state;
	assert_string_equal(bundle_etag_strip(a), "myetag");
	assert_string_equal(bundle_etag_strip(b), "myetag");
	assert_string_equal(bundle_etag_strip(c), "abc-2");
	assert_null(bundle_etag_strip(NULL));
}

static void
cmdsvc_endpoint__v1_pinned_examples(void **state)
{
	struct cfg *cfg = cfg_new();
	char *url;

	(void)state;
	url = cmdsvc_endpoint(cfg, "us-west-2", NULL);
	assert_string_equal(
	    url, "https://codedeploy-commands.us-west-2.amazonaws.com");
	free(url);
	cfg->use_fips_mode = 1;
	url = cmdsvc_endpoint(cfg, "us-west-2", NULL);
	assert_string_equal(
	    url, "https://codedeploy-commands-fips.us-west-2.amazonaws.com");
	free(url);
	cfg->enable_auth_policy = 1;
	url = cmdsvc_endpoint(cfg, "us-west-2", NULL);
	assert_string_equal(url,
	    "https://codedeploy-commands-secure-fips.us-west-2.amazonaws.com");
	free(url);
	cfg->use_fips_mode = 0;
	url = cmdsvc_endpoint(cfg, "us-west-2", NULL);
	assert_string_equal(
	    url, "https://codedeploy-commands-secure.us-west-2.amazonaws.com");
	free(url);
	cfg->enable_auth_policy = 0;
	url = cmdsvc_endpoint(cfg, "cn-northwest-1", NULL);
	assert_string_equal(
	    url, "https://codedeploy-commands.cn-northwest-1.amazonaws.com.cn");
	free(url);
	url = cmdsvc_endpoint(cfg, "eusc-de-east-1", NULL);
	assert_string_equal(
	    url, "https://codedeploy-commands.eusc-de-east-1.amazonaws.eu");
	free(url);
	url = cmdsvc_endpoint(cfg, "us-east-1", "amazonaws.com.cn");
	assert_string_equal(
	    url, "https://codedeploy-commands.us-east-1.amazonaws.com.cn");
	free(url);
	cfg->deploy_control_endpoint = xstrdup("https://127.0.0.1:8443");
	url = cmdsvc_endpoint(cfg, "us-east-1", NULL);
	assert_string_equal(url, "https://127.0.0.1:8443");
	free(url);
	cfg_free(cfg);
}

static void
cmdsvc_new__rejects_a_path(void **state)
{
	struct cmdsvc_opts o;
	struct err err = ERR_INIT;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.endpoint = "https://h:1/api";
	o.region = "us-east-1";
	assert_null(cmdsvc_new(&o, &err));
	assert_non_null(strstr(err.msg, "has a path"));
	err_clear(&err);
	o.endpoint = "h:1";
	assert_null(cmdsvc_new(&o, &err));
	assert_non_null(strstr(err.msg, "not a URL"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(error_code__json_type_xml_and_header),
		cmocka_unit_test(
		    error_message__json_escaped_quote__whole_message),
		cmocka_unit_test(throttling__400_and_429_and_slowdown),
		cmocka_unit_test(retryable__transport_errors),
		cmocka_unit_test(backoff__grows_within_bounds),
		cmocka_unit_test(resp_header__case_and_last_wins),
		cmocka_unit_test(req_headers__replace_and_remove),
		cmocka_unit_test(s3_endpoint__regions_fips_override),
		cmocka_unit_test(etag_strip__quotes_anywhere),
		cmocka_unit_test(cmdsvc_endpoint__v1_pinned_examples),
		cmocka_unit_test(cmdsvc_new__rejects_a_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
