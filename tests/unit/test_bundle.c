/*
 * Unit tests for bundle downloads (bundle.c) with no server: the HTTP layer
 * is replaced (-Wl,--wrap=http_send_retry, http_multi_* and friends, as
 * tests/fuzz/fakehttp.c does) by scripted replies, and the clock by a fake
 * one.  What is checked is what must never happen: a download that is
 * short, or of an object that is not the one the deployment names, never
 * becomes the bundle, and leaves no temporary file.  Real transfers are
 * tested by tests/integration/s3.sh and github.sh.
 */
#include "config.h"

#include <sys/stat.h>

#include "bundle.h"
#include "cfg.h"
#include "clock.h"
#include "http.h"
#include "retry.h"
#include "testutil.h"
#include "tu_fakeseams.h"

int __wrap_http_send_retry(struct http_client *client, struct http_req *req,
    struct http_resp *resp, const struct retry_policy *policy,
    http_prepare_fn prepare, void *arg, struct err *err);
struct http_multi *__wrap_http_multi_new(
    struct http_client *client, int max_connections);
void __wrap_http_multi_free(struct http_multi *multi);
void __wrap_http_multi_add(struct http_multi *multi, struct http_req *req,
    struct http_resp *resp, void *tag);
int __wrap_http_multi_next(
    struct http_multi *multi, void **tag, int *rc, struct err *err);
void __wrap_http_multi_cancel(struct http_multi *multi);

/* The reply to the probe (http_send_retry): status and two headers. */
static long probe_status;
static const char *probe_range, *probe_etag;
static int probes;
/* Ranged GETs (http_multi): each answers 206 with no body bytes. */
static struct http_resp *pending_resp;
static void *pending_tag;
static int part_gets;

static void
add_header(struct http_resp *resp, const char *name, const char *value)
{
	resp->headers =
	    xreallocarray(resp->headers, resp->nheaders + 1, sizeof(char *));
	resp->headers[resp->nheaders++] = xasprintf("%s: %s", name, value);
}

int
__wrap_http_send_retry(struct http_client *client, struct http_req *req,
    struct http_resp *resp, const struct retry_policy *policy,
    http_prepare_fn prepare, void *arg, struct err *err)
{
	(void)client;
	(void)policy;
	if (prepare != NULL && prepare(req, 0, arg, err) < 0)
		return -1;
	http_resp_clear(resp);
	probes++;
	resp->status = probe_status;
	if (probe_range != NULL)
		add_header(resp, "Content-Range", probe_range);
	if (probe_etag != NULL)
		add_header(resp, "ETag", probe_etag);
	return 0;
}

struct http_multi *
__wrap_http_multi_new(struct http_client *client, int max_connections)
{
	(void)client;
	(void)max_connections;
	return xmalloc(1);
}

void
__wrap_http_multi_free(struct http_multi *multi)
{
	free(multi);
}

void
__wrap_http_multi_cancel(struct http_multi *multi)
{
	(void)multi;
	pending_resp = NULL;
}

void
__wrap_http_multi_add(struct http_multi *multi, struct http_req *req,
    struct http_resp *resp, void *tag)
{
	(void)multi;
	(void)req;
	pending_resp = resp;
	pending_tag = tag;
}

/* The connection closes after the headers: 206 and not a byte. */
int
__wrap_http_multi_next(
    struct http_multi *multi, void **tag, int *rc, struct err *err)
{
	(void)multi;
	(void)err;
	if (pending_resp == NULL)
		return 0;
	http_resp_clear(pending_resp);
	pending_resp->status = 206;
	pending_resp = NULL;
	*tag = pending_tag;
	*rc = 0;
	part_gets++;
	return 1;
}

/* Fetch s3://bucket/app.tgz (expecting etag) into dir/bundle.tar. */
static int
fetch(const char *dir, const char *etag, struct err *err)
{
	struct cfg *cfg = cfg_new();
	struct bundle_env env;
	struct bundle_s3 s3 = { "bucket", "app.tgz", NULL, etag };
	struct bundle_result res;
	char *dest = xasprintf("%s/bundle.tar", dir);
	int ret;

	memset(&env, 0, sizeof(env));
	env.cfg = cfg;
	env.region = "us-east-1";
	env.creds = tu_fake_creds;
	probes = part_gets = 0;
	ret = bundle_fetch_s3(&env, &s3, dest, &res, err);
	bundle_result_clear(&res);
	free(dest);
	cfg_free(cfg);
	return ret;
}

static void
s3__etag_mismatch__refused_before_any_byte(void **state)
{
	const char *dir = *state;
	struct err err = ERR_INIT;

	probe_status = 206;
	probe_range = "bytes 0-0/4096";
	probe_etag = "\"0123abcd\"";
	assert_int_equal(fetch(dir, "99999999", &err), -1);
	assert_int_equal(err.code, E_SERVICE);
	assert_non_null(strstr(err.msg, "ETag is 0123abcd"));
	assert_non_null(strstr(err.msg, "expects 99999999"));
	assert_int_equal(probes, 1);
	assert_int_equal(part_gets, 0);
	assert_int_equal(tu_count_tree(dir), 0);
}

static void
s3__parts_short_every_time__refused_after_the_policy(void **state)
{
	const char *dir = *state;
	struct err err = ERR_INIT;

	probe_status = 206;
	probe_range = "bytes 0-0/4096";
	probe_etag = "\"0123abcd\"";
	/* quotes do not count */
	assert_int_equal(fetch(dir, "0123abcd", &err), -1);
	assert_int_equal(err.code, E_NETWORK);
	assert_non_null(strstr(err.msg, "stopped short"));
	assert_int_equal(part_gets, RETRY_S3_PART.attempts);
	/* neither the bundle nor its .part file */
	assert_int_equal(tu_count_tree(dir), 0);
}

static void
s3__probe_gives_no_size__refused(void **state)
{
	const char *dir = *state;
	struct err err = ERR_INIT;

	probe_status = 206;
	probe_range = "bytes 0-0/*";
	probe_etag = NULL;
	assert_int_equal(fetch(dir, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "no object size"));
	assert_int_equal(part_gets, 0);
	assert_int_equal(tu_count_tree(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    s3__etag_mismatch__refused_before_any_byte, tu_setup_tmpdir,
		    tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(
		    s3__parts_short_every_time__refused_after_the_policy,
		    tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(
		    s3__probe_gives_no_size__refused, tu_setup_tmpdir,
		    tu_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
