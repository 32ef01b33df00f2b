/*
 * Tests for relay: a real relay process (forked, running relay_serve) and
 * real command-side calls over its sockets.  The Commands API client under
 * the relay is replaced (-Wl,--wrap=cmdsvc_*): the wrappers answer from
 * the arguments and write one line per call to a pipe the test reads, so
 * a test sees exactly what the relay asked the service.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmdsvc.h"
#include "relay.h"
#include "xalloc.h"

#define BIG_PAYLOAD (600 * 1024) /* more than a socket buffer holds */

static int report_fd = -1; /* in the relay: where the wrappers write */

static void
report(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(report_fd, line, (size_t)n) != n)
		abort();
}

int __wrap_cmdsvc_get_spec(struct cmdsvc *svc, const char *execution_id,
    const char *host_identifier, struct cmdsvc_spec *out, struct err *err);
int __wrap_cmdsvc_ack(struct cmdsvc *svc, const char *host_command_id, int noop,
    char **status, struct err *err);
int __wrap_cmdsvc_complete(struct cmdsvc *svc, const char *host_command_id,
    const char *status, const char *diagnostics_json, struct err *err);
int __wrap_cmdsvc_update(struct cmdsvc *svc, const char *host_command_id,
    const char *diagnostics_json, char **status, struct err *err);

int
__wrap_cmdsvc_get_spec(struct cmdsvc *svc, const char *execution_id,
    const char *host_identifier, struct cmdsvc_spec *out, struct err *err)
{
	(void)svc;
	report("spec %s %s", execution_id, host_identifier);
	if (strcmp(execution_id, "missing") == 0)
		return err_set(
		    err, E_SERVICE, "ClientException: no execution 'missing'");
	out->deployment_system = xstrdup("CodeDeploy");
	out->format = NULL;
	out->payload = xmalloc(BIG_PAYLOAD + 1);
	memset(out->payload, 'p', BIG_PAYLOAD);
	out->payload[BIG_PAYLOAD] = '\0';
	return 0;
}

int
__wrap_cmdsvc_ack(struct cmdsvc *svc, const char *host_command_id, int noop,
    char **status, struct err *err)
{
	(void)svc;
	(void)err;
	report("ack %s %d", host_command_id, noop);
	*status = strcmp(host_command_id, "hc-nostatus") == 0
	    ? NULL
	    : xstrdup(noop ? "Failed" : "InProgress");
	return 0;
}

int
__wrap_cmdsvc_complete(struct cmdsvc *svc, const char *host_command_id,
    const char *status, const char *diagnostics_json, struct err *err)
{
	(void)svc;
	report("complete %s %s %s", host_command_id, status, diagnostics_json);
	if (strcmp(host_command_id, "hc-refused") == 0)
		return err_set(err, E_TIMEOUT,
		    "PutHostCommandComplete timed "
		    "out");
	return 0;
}

int
__wrap_cmdsvc_update(struct cmdsvc *svc, const char *host_command_id,
    const char *diagnostics_json, char **status, struct err *err)
{
	(void)svc;
	(void)diagnostics_json;
	(void)err;
	report("update %s", host_command_id);
	*status = xstrdup("InProgress");
	return 0;
}

struct fixture {
	pid_t relay_pid;
	int ctl_fd;    /* the main process's end */
	int report_rd; /* what the relay asked the service */
	int served;    /* the relay said it returned */
	char line[1024];
};

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	struct err err = ERR_INIT;
	int fds[2], rep[2];

	assert_int_equal(relay_socketpair(fds, &err), 0);
	assert_int_equal(pipe(rep), 0);
	fx->relay_pid = fork();
	assert_true(fx->relay_pid >= 0);
	if (fx->relay_pid == 0) {
		close(fds[1]);
		close(rep[0]);
		report_fd = rep[1];
		relay_serve(NULL, fds[0]);
		/* Said, not told by the exit status: valgrind's leak check
		 * of this fork of the test would change that. */
		report("served");
		_exit(0);
	}
	close(fds[0]);
	close(rep[1]);
	fx->ctl_fd = fds[1];
	fx->report_rd = rep[0];
	*state = fx;
	return 0;
}

/* The relay returns once the control socket and every channel closed. */
static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char tail[64];
	size_t len = 0;
	ssize_t n;
	int served;

	if (fx->ctl_fd >= 0)
		close(fx->ctl_fd);
	/* the last words of the relay process: "served\n", then EOF */
	for (;;) {
		char c;

		n = read(fx->report_rd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len == sizeof(tail))
			len = 0;
		tail[len++] = c;
	}
	served = fx->served ||
	    (len >= 7 && memcmp(tail + len - 7, "served\n", 7) == 0);
	while (waitpid(fx->relay_pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(fx->report_rd);
	free(fx);
	return served ? 0 : -1;
}

/* The next line the relay's service calls wrote (waits up to 20 s). */
static const char *
next_call(struct fixture *fx)
{
	size_t n = 0;

	for (;;) {
		struct pollfd pfd = { fx->report_rd, POLLIN, 0 };
		char c;

		assert_int_equal(poll(&pfd, 1, 20000), 1);
		assert_int_equal(read(fx->report_rd, &c, 1), 1);
		if (c == '\n')
			break;
		assert_true(n < sizeof(fx->line) - 1);
		fx->line[n++] = c;
	}
	fx->line[n] = '\0';
	if (strcmp(fx->line, "served") == 0)
		fx->served = 1;
	return fx->line;
}

static void
spec__large_payload__comes_back_whole(void **state)
{
	struct fixture *fx = *state;
	struct err err = ERR_INIT;
	struct relay *relay = relay_connect(fx->ctl_fd, &err);
	struct cmdsvc_spec spec;
	size_t i;

	assert_non_null(relay);
	memset(&spec, 0, sizeof(spec));
	assert_int_equal(
	    relay_get_spec(relay, "exec-1", "host-a", &spec, &err), 0);
	assert_string_equal(next_call(fx), "spec exec-1 host-a");
	assert_string_equal(spec.deployment_system, "CodeDeploy");
	assert_null(spec.format); /* a NULL stays NULL */
	assert_int_equal(strlen(spec.payload), BIG_PAYLOAD);
	for (i = 0; i < BIG_PAYLOAD; i++)
		if (spec.payload[i] != 'p')
			fail();
	cmdsvc_spec_clear(&spec);
	relay_free(relay);
}

static void
spec__service_error__keeps_code_and_message(void **state)
{
	struct fixture *fx = *state;
	struct err err = ERR_INIT;
	struct relay *relay = relay_connect(fx->ctl_fd, &err);
	struct cmdsvc_spec spec;

	memset(&spec, 0, sizeof(spec));
	assert_int_equal(
	    relay_get_spec(relay, "missing", "host-a", &spec, &err), -1);
	assert_int_equal(err.code, E_SERVICE);
	assert_string_equal(err.msg, "ClientException: no execution 'missing'");
	assert_null(spec.payload);
	/* The channel still works after an error. */
	err_clear(&err);
	assert_int_equal(
	    relay_complete(relay, "hc-refused", "Failed", "{}", &err), -1);
	assert_int_equal(err.code, E_TIMEOUT);
	relay_free(relay);
}

static void
ack__noop_and_missing_status__relayed(void **state)
{
	struct fixture *fx = *state;
	struct err err = ERR_INIT;
	struct relay *relay = relay_connect(fx->ctl_fd, &err);
	char *status = NULL;

	assert_int_equal(relay_ack(relay, "hc-1", 1, &status, &err), 0);
	assert_string_equal(next_call(fx), "ack hc-1 1");
	assert_string_equal(status, "Failed");
	free(status);
	assert_int_equal(relay_ack(relay, "hc-nostatus", 0, &status, &err), 0);
	assert_string_equal(next_call(fx), "ack hc-nostatus 0");
	assert_null(status);
	relay_free(relay);
}

static void
heartbeat__sent_until_complete__from_the_relay(void **state)
{
	struct fixture *fx = *state;
	struct err err = ERR_INIT;
	struct relay *relay = relay_connect(fx->ctl_fd, &err);

	assert_int_equal(relay_heartbeat(relay, "hc-7", 1, &err), 0);
	assert_string_equal(next_call(fx), "update hc-7");
	assert_string_equal(next_call(fx), "update hc-7");
	assert_int_equal(relay_complete(relay, "hc-7", "Succeeded",
			     "{\"error_code\":0}", &err),
	    0);
	/* Heartbeats may have raced the complete; then it comes, and only
	 * the complete: after it the relay sends none (teardown waits for
	 * the relay to finish, and the pipe must then hold nothing more). */
	while (strncmp(next_call(fx), "update", 6) == 0)
		;
	assert_string_equal(
	    fx->line, "complete hc-7 Succeeded {\"error_code\":0}");
	relay_free(relay);
	close(fx->ctl_fd);
	fx->ctl_fd = -1;
	/* nothing more was asked of the service before the relay ended */
	assert_string_equal(next_call(fx), "served");
	{
		char c;

		assert_int_equal(read(fx->report_rd, &c, 1), 0);
	}
}

static void
two_commands__interleaved__each_gets_its_answer(void **state)
{
	struct fixture *fx = *state;
	struct err err = ERR_INIT;
	struct relay *a = relay_connect(fx->ctl_fd, &err);
	struct relay *b = relay_connect(fx->ctl_fd, &err);
	char *sa = NULL, *sb = NULL;

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(relay_ack(b, "hc-b", 1, &sb, &err), 0);
	assert_int_equal(relay_ack(a, "hc-a", 0, &sa, &err), 0);
	assert_string_equal(sa, "InProgress");
	assert_string_equal(sb, "Failed");
	free(sa);
	free(sb);
	relay_free(a);
	assert_int_equal(relay_complete(b, "hc-b", "Succeeded", "{}", &err), 0);
	relay_free(b);
}

static void
malformed_request__closes_only_that_channel(void **state)
{
	struct fixture *fx = *state;
	struct err err = ERR_INIT;
	struct relay *bad = relay_connect(fx->ctl_fd, &err);
	struct relay *good = relay_connect(fx->ctl_fd, &err);
	char *status = NULL;

	/* A relay's first member is its socket: write garbage on it. */
	{
		int fd = *(int *)bad;
		const char junk[] = "\x05\x00\x00\x00xyzzy";
		char c;

		assert_int_equal(write(fd, junk, 9), 9);
		assert_int_equal(read(fd, &c, 1), 0); /* closed on us */
	}
	assert_int_equal(relay_ack(bad, "hc-x", 0, &status, &err), -1);
	err_clear(&err);
	assert_int_equal(relay_ack(good, "hc-y", 0, &status, &err), 0);
	assert_string_equal(status, "InProgress");
	free(status);
	relay_free(bad);
	relay_free(good);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    spec__large_payload__comes_back_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    spec__service_error__keeps_code_and_message, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    ack__noop_and_missing_status__relayed, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    heartbeat__sent_until_complete__from_the_relay, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    two_commands__interleaved__each_gets_its_answer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    malformed_request__closes_only_that_channel, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("relay", tests, NULL, NULL);
}
