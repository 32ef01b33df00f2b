/*
 * Unit tests for the Commands API client (cmdsvc.c) with no server: the
 * HTTP layer is replaced (-Wl,--wrap=http_send and friends, as
 * tests/fuzz/fakehttp.c does) by a queue of scripted replies, and the
 * clock by a fake one, so retries and the throttle gate are counted, not
 * waited for.  The real wire is tested by tests/integration/
 * cmdsvc-double.sh against tests/servers/cmdsvc.py.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "cmdsvc.h"
#include "http.h"
#include "retry.h"
#include "tu_fakeseams.h"
#include "xalloc.h"

int __wrap_http_send(struct http_client *client, struct http_req *req,
    struct http_resp *resp, struct err *err);

/* One scripted reply: an HTTP status and body, or (status 0) no reply. */
struct reply {
	long status;
	const char *body;
};

static const struct reply *replies;
static size_t nreplies, served;
static char targets[16][96]; /* X-Amz-Target of each request sent */

static void
script(const struct reply *r, size_t n)
{
	replies = r;
	nreplies = n;
	served = 0;
	tu_slept_ms = 0;
	memset(targets, 0, sizeof(targets));
}

int
__wrap_http_send(struct http_client *client, struct http_req *req,
    struct http_resp *resp, struct err *err)
{
	const char *target = http_req_get_header(req, "X-Amz-Target");
	const struct reply *r;

	(void)client;
	http_resp_clear(resp);
	if (served < 16)
		snprintf(targets[served], sizeof(targets[0]), "%s",
		    target != NULL ? target : "");
	if (served >= nreplies)
		return err_set(err, E_NETWORK, "no more scripted replies");
	r = &replies[served++];
	if (r->status == 0)
		return err_set(err, E_NETWORK, "connection reset (scripted)");
	resp->status = r->status;
	if (r->body[0] != '\0') { /* as http.c: no bytes, no body */
		resp->body = xstrdup(r->body);
		resp->body_len = strlen(r->body);
	}
	return 0;
}

static int
setup_svc(void **state)
{
	struct cmdsvc_opts opts;
	struct err err = ERR_INIT;

	memset(&opts, 0, sizeof(opts));
	opts.endpoint = "https://codedeploy-commands.us-east-1.amazonaws.com";
	opts.region = "us-east-1";
	opts.creds = tu_fake_creds;
	*state = cmdsvc_new(&opts, &err);
	return *state == NULL ? -1 : 0;
}

static int
teardown_svc(void **state)
{
	cmdsvc_free(*state);
	return 0;
}

#define SCRIPT(...)                                                            \
	do {                                                                   \
		static const struct reply r_[] = { __VA_ARGS__ };              \
		script(r_, sizeof(r_) / sizeof(r_[0]));                        \
	} while (0)

#define THROTTLED_400                                                               \
	{                                                                           \
		400,                                                                \
		    "{\"__type\":\"com.amazonaws.codedeploy#ThrottlingException\"," \
		    "\"message\":\"Rate exceeded\"}"                                \
	}

static void
poll__no_command__returns_0(void **state)
{
	struct cmdsvc_command cmd;
	struct err err = ERR_INIT;

	SCRIPT({ 200, "{\"HostCommand\":null}" }, { 200, "" });
	assert_int_equal(cmdsvc_poll(*state, "host-1", &cmd, &err), 0);
	assert_null(cmd.host_command_id);
	/* an empty body is {} */
	assert_int_equal(cmdsvc_poll(*state, "host-1", &cmd, &err), 0);
	assert_int_equal(served, 2);
	assert_string_equal(
	    targets[0], CMDSVC_PREFIX_STANDARD ".PollHostCommand");
}

static void
poll__command__fields_parsed(void **state)
{
	struct cmdsvc_command cmd;
	struct err err = ERR_INIT;

	SCRIPT({ 200,
	    "{\"HostCommand\":{\"HostCommandIdentifier\":\"hc-1\","
	    "\"HostIdentifier\":\"arn:aws:ec2:us-east-1:1:instance/i-1\","
	    "\"DeploymentExecutionId\":\"de-1\",\"CommandName\":"
	    "\"Install\",\"Nonce\":7}}" });
	assert_int_equal(cmdsvc_poll(*state, "host-1", &cmd, &err), 1);
	assert_string_equal(cmd.host_command_id, "hc-1");
	assert_string_equal(cmd.command_name, "Install");
	assert_string_equal(cmd.deployment_execution_id, "de-1");
	assert_true(cmd.has_nonce);
	assert_int_equal(cmd.nonce, 7);
	cmdsvc_command_clear(&cmd);
}

/* 400 with a throttling __type, and 429: the gate waits, then again. */
static void
poll__throttled__retried_behind_the_gate(void **state)
{
	struct cmdsvc_command cmd;
	struct err err = ERR_INIT;
	long first = RETRY_CMDSVC_THROTTLE.first_ms;

	SCRIPT(THROTTLED_400, { 429, "" }, { 200, "{}" });
	assert_int_equal(cmdsvc_poll(*state, "host-1", &cmd, &err), 0);
	assert_int_equal(served, 3);
	/* first_ms, then twice that, each plus at most 25 % */
	assert_true(tu_slept_ms >= 3 * first);
	assert_true(tu_slept_ms <= 3 * first + 3 * first / 4 + 2);
}

static void
poll__throttled_every_time__fails_after_the_policy(void **state)
{
	struct cmdsvc_command cmd;
	struct err err = ERR_INIT;

	SCRIPT(THROTTLED_400, THROTTLED_400, THROTTLED_400, THROTTLED_400,
	    THROTTLED_400, THROTTLED_400, THROTTLED_400, THROTTLED_400);
	assert_int_equal(cmdsvc_poll(*state, "host-1", &cmd, &err), -1);
	assert_int_equal(served, RETRY_CMDSVC_THROTTLE.attempts);
	assert_int_equal(err.code, E_SERVICE);
	assert_non_null(strstr(err.msg, "ThrottlingException"));
}

/* The poll is not retried on a server error: the daemon polls again. */
static void
poll__server_error__not_retried(void **state)
{
	struct cmdsvc_command cmd;
	struct err err = ERR_INIT;

	SCRIPT({ 500, "" }, { 200, "{}" });
	assert_int_equal(cmdsvc_poll(*state, "host-1", &cmd, &err), -1);
	assert_int_equal(served, 1);
	assert_non_null(strstr(err.msg, "HTTP 500"));
}

static void
ack__server_errors__retried_then_status(void **state)
{
	struct err err = ERR_INIT;
	char *status = NULL;

	SCRIPT({ 503, "" }, { 0, NULL },
	    { 200, "{\"CommandStatus\":\"Failed\"}" });
	assert_int_equal(cmdsvc_ack(*state, "hc-1", 0, &status, &err), 0);
	assert_string_equal(status, "Failed");
	assert_int_equal(served, 3);
	assert_string_equal(targets[2],
	    CMDSVC_PREFIX_STANDARD ".PutHostCommandAcknowledgement");
	free(status);
}

static void
complete__server_errors__give_up_after_the_policy(void **state)
{
	struct err err = ERR_INIT;

	SCRIPT({ 500, "" }, { 500, "" }, { 500, "" }, { 500, "" }, { 500, "" },
	    { 200, "{}" });
	assert_int_equal(
	    cmdsvc_complete(*state, "hc-1", "Succeeded", "{}", &err), -1);
	assert_int_equal(served, RETRY_CMDSVC_SERVER.attempts);
	assert_non_null(strstr(err.msg, "PutHostCommandComplete"));
}

/* An error envelope: its code and its whole message, escapes undone. */
static void
error_envelope__code_and_message_in_the_error(void **state)
{
	struct err err = ERR_INIT;
	struct cmdsvc_spec spec;

	SCRIPT({ 400,
	    "{\"__type\":\"com.amazonaws.codedeploy#InvalidDeployment"
	    "IdException\",\"message\":\"no \\\"de-9\\\" here\"}" });
	assert_int_equal(
	    cmdsvc_get_spec(*state, "de-9", "host-1", &spec, &err), -1);
	assert_int_equal(served, 1);
	assert_non_null(strstr(err.msg,
	    "HTTP 400 InvalidDeploymentIdException: no \"de-9\" here"));
}

static void
reply_not_an_object__parse_error(void **state)
{
	struct err err = ERR_INIT;
	struct cmdsvc_command cmd;

	SCRIPT({ 200, "[1, 2]" });
	assert_int_equal(cmdsvc_poll(*state, "host-1", &cmd, &err), -1);
	assert_int_equal(err.code, E_PARSE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    poll__no_command__returns_0, setup_svc, teardown_svc),
		cmocka_unit_test_setup_teardown(
		    poll__command__fields_parsed, setup_svc, teardown_svc),
		cmocka_unit_test_setup_teardown(
		    poll__throttled__retried_behind_the_gate, setup_svc,
		    teardown_svc),
		cmocka_unit_test_setup_teardown(
		    poll__throttled_every_time__fails_after_the_policy,
		    setup_svc, teardown_svc),
		cmocka_unit_test_setup_teardown(
		    poll__server_error__not_retried, setup_svc, teardown_svc),
		cmocka_unit_test_setup_teardown(
		    ack__server_errors__retried_then_status, setup_svc,
		    teardown_svc),
		cmocka_unit_test_setup_teardown(
		    complete__server_errors__give_up_after_the_policy,
		    setup_svc, teardown_svc),
		cmocka_unit_test_setup_teardown(
		    error_envelope__code_and_message_in_the_error, setup_svc,
		    teardown_svc),
		cmocka_unit_test_setup_teardown(
		    reply_not_an_object__parse_error, setup_svc, teardown_svc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
