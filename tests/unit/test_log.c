/*
 * Unit tests for log: redaction, levels, the v1 line format, and the
 * journald sink with sd_journal_sendv replaced (-Wl,--wrap) so the tests
 * can see every field and make journald "absent".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "testutil.h"
#include "xalloc.h"

/* What the fake sd_journal_sendv saw, and what it returns. */
static char journal_seen[8192];
static int journal_result;
static int journal_calls;
/* The first field (MESSAGE=...) byte for byte, NULs included. */
static char journal_first[512];
static size_t journal_first_len;

int __wrap_sd_journal_sendv(const struct iovec *iov, int n);

int
__wrap_sd_journal_sendv(const struct iovec *iov, int n)
{
	size_t used = 0;
	int i;

	journal_calls++;
	journal_seen[0] = '\0';
	journal_first_len = 0;
	if (n > 0 && iov[0].iov_len <= sizeof(journal_first)) {
		memcpy(journal_first, iov[0].iov_base, iov[0].iov_len);
		journal_first_len = iov[0].iov_len;
	}
	for (i = 0; i < n; i++) {
		int w = snprintf(journal_seen + used,
		    sizeof(journal_seen) - used, "%.*s\n", (int)iov[i].iov_len,
		    (const char *)iov[i].iov_base);

		if (w > 0)
			used += (size_t)w;
		if (used >= sizeof(journal_seen))
			break;
	}
	return journal_result;
}

struct fixture {
	int pipe_fd[2];
	char *dir;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	if (pipe2(f->pipe_fd, O_NONBLOCK) < 0)
		return -1;
	f->dir = tu_mkdtemp();
	journal_seen[0] = '\0';
	journal_result = 0;
	journal_calls = 0;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	log_close();
	log_set_level(LOG_LEVEL_INFO);
	close(f->pipe_fd[0]);
	close(f->pipe_fd[1]);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

/* Everything written to the fake stderr so far. */
static char *
drain(struct fixture *f)
{
	static char buf[8192];
	ssize_t n = read(f->pipe_fd[0], buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
open_sinks(struct fixture *f, unsigned sinks, const char *file,
    enum log_stderr_style style)
{
	struct log_opts opts = {
		.ident = "codedeploy-agent",
		.level = LOG_LEVEL_INFO,
		.sinks = sinks,
		.file_path = file,
		.stderr_fd = f->pipe_fd[1],
		.stderr_style = style,
	};
	struct err err = ERR_INIT;

	assert_int_equal(log_open(&opts, &err), 0);
}

static void
redact__authorization_header__hides_value(void **state)
{
	char *s =
	    log_redact("GET / HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 "
		       "Credential=AKIA/x, Signature=abc123\r\nHost: h");

	assert_null(strstr(s, "Signature=abc123"));
	assert_null(strstr(s, "AWS4-HMAC"));
	assert_non_null(strstr(s, "Authorization: [REDACTED]\r\nHost: h"));
	free(s);
}

static void
redact__json_secret_and_token__hidden(void **state)
{
	char *s = log_redact("{\"AccessKeyId\":\"AKIAX\",\"SecretAccessKey\":"
			     "\"wJalr/K7\",\"Token\" : \"IQo\\\"Jb\",\"x\":1}");

	assert_string_equal(s,
	    "{\"AccessKeyId\":\"AKIAX\",\"SecretAccessKey\":\"[REDACTED]\","
	    "\"Token\" : \"[REDACTED]\",\"x\":1}");
	free(s);
}

static void
redact__env_and_query_pairs__hidden(void **state)
{
	char *s = log_redact("AWS_SECRET_ACCESS_KEY=abc/def "
			     "aws_session_token=tok "
			     "url ?X-Amz-Signature=deadbeef&x=1 "
			     "X-Amz-Security-Token: FQoG");

	assert_string_equal(s,
	    "AWS_SECRET_ACCESS_KEY=[REDACTED] aws_session_token=[REDACTED] "
	    "url ?X-Amz-Signature=[REDACTED]&x=1 "
	    "X-Amz-Security-Token: [REDACTED]");
	free(s);
}

static void
redact__yaml_secret_line__hidden(void **state)
{
	char *s = log_redact("aws_secret_access_key: wJalrXUtnFEMI\nregion: "
			     "us-east-1");

	assert_string_equal(
	    s, "aws_secret_access_key: [REDACTED]\nregion: us-east-1");
	free(s);
}

static void
redact__ordinary_text__unchanged(void **state)
{
	const char *text = "Lifecycle event BeforeInstall: tokenizer ran; "
			   "password-less login; keys=3";
	char *s = log_redact(text);

	assert_string_equal(s, text);
	free(s);
}

static void
redact__url_path_word__kept(void **state)
{
	const char *text = "PUT http://169.254.169.254/latest/api/token: "
			   "HTTP 403";
	char *s = log_redact(text);

	assert_string_equal(s, text);
	free(s);
	s = log_redact("token: abc");
	assert_string_equal(s, "token: [REDACTED]");
	free(s);
}

static void
level__filters_below_threshold(void **state)
{
	struct fixture *f = *state;

	open_sinks(f, LOG_SINK_STDERR, NULL, LOG_STDERR_PLAIN);
	log_debug("hidden");
	log_info("shown");
	log_warn("careful");
	assert_string_equal(drain(f),
	    "codedeploy-agent: shown\ncodedeploy-agent: warning: careful\n");
	log_set_level(LOG_LEVEL_DEBUG);
	assert_true(log_enabled(LOG_LEVEL_DEBUG));
	log_debug("now %d", 1);
	assert_string_equal(drain(f), "codedeploy-agent: debug: now 1\n");
}

static void
parse_level__accepts_names(void **state)
{
	enum log_level l;

	assert_int_equal(log_parse_level("WARNING", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(log_parse_level("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_parse_level("loud", &l), -1);
	assert_string_equal(log_level_name(LOG_LEVEL_ERROR), "error");
}

static void
journal__sends_message_priority_and_fields(void **state)
{
	struct fixture *f = *state;
	const struct log_field fields[] = {
		{ "DEPLOYMENT_ID", "d-ABC123" },
		{ "LIFECYCLE_EVENT", "BeforeInstall" },
		{ "bad name", "dropped" },
		{ "_PID", "forged" },
	};

	open_sinks(f, LOG_SINK_JOURNAL, NULL, LOG_STDERR_PLAIN);
	log_fields(LOG_LEVEL_WARN, fields, 4, "event %s token=%s",
	    "BeforeInstall", "sekrit");
	assert_int_equal(journal_calls, 1);
	assert_string_equal(journal_seen,
	    "MESSAGE=event BeforeInstall token=[REDACTED]\n"
	    "PRIORITY=4\n"
	    "SYSLOG_IDENTIFIER=codedeploy-agent\n"
	    "DEPLOYMENT_ID=d-ABC123\n"
	    "LIFECYCLE_EVENT=BeforeInstall\n");
	assert_string_equal(drain(f), "");
}

static void
journal_bytes__nul_and_newline_kept_secret_redacted(void **state)
{
	struct fixture *f = *state;
	static const char msg[] = "[stdout]a\0b\nc\377 token=sekrit\0";
	static const char want[] =
	    "MESSAGE=[stdout]a\0b\nc\377 token=[REDACTED]\0";
	const struct log_field fields[] = { { "SCRIPT", "s.sh" } };

	open_sinks(f, LOG_SINK_JOURNAL, NULL, LOG_STDERR_PLAIN);
	log_journal_bytes(LOG_LEVEL_INFO, fields, 1, msg, sizeof(msg) - 1);
	assert_int_equal(journal_calls, 1);
	assert_int_equal(journal_first_len, sizeof(want) - 1);
	assert_memory_equal(journal_first, want, sizeof(want) - 1);
	assert_non_null(strstr(journal_seen, "\nSCRIPT=s.sh\n"));
	assert_string_equal(drain(f), ""); /* never echoed to stderr */
}

static void
journal__absent_enoent__falls_back_to_stderr(void **state)
{
	struct fixture *f = *state;

	journal_result = -ENOENT;
	open_sinks(f, LOG_SINK_JOURNAL, NULL, LOG_STDERR_PLAIN);
	log_error("cannot poll");
	assert_int_equal(journal_calls, 1);
	assert_string_equal(drain(f), "codedeploy-agent: error: cannot poll\n");
}

static void
journal__refused__falls_back_to_stderr(void **state)
{
	struct fixture *f = *state;

	journal_result = -ECONNREFUSED;
	open_sinks(f, LOG_SINK_JOURNAL, NULL, LOG_STDERR_PLAIN);
	log_info("still here");
	log_info("and here");
	assert_int_equal(journal_calls, 2);
	assert_string_equal(drain(f),
	    "codedeploy-agent: still here\ncodedeploy-agent: and here\n");
}

static void
file__writes_v1_line_format(void **state)
{
	struct fixture *f = *state;
	char *path = xasprintf("%s/codedeploy-agent.log", f->dir);
	char *text = NULL;
	struct err err = ERR_INIT;
	regex_t re;

	open_sinks(f, LOG_SINK_FILE, path, LOG_STDERR_PLAIN);
	log_info("polling");
	log_warn("slow");
	log_close();
	assert_int_equal(fsutil_read_file(path, 4096, &text, NULL, &err), 0);
	assert_int_equal(
	    regcomp(&re,
		"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:"
		"[0-9]{2} INFO  \\[codedeploy-agent\\([0-9]+\\)\\]: "
		"polling\n"
		"[0-9-]{10} [0-9:]{8} WARN  \\[codedeploy-agent\\("
		"[0-9]+\\)\\]: slow\n$",
		REG_EXTENDED),
	    0);
	assert_int_equal(regexec(&re, text, 0, NULL, 0), 0);
	regfree(&re);
	assert_string_equal(drain(f), "");
	free(text);
	free(path);
}

static void
stderr_timestamped__uses_v1_format(void **state)
{
	struct fixture *f = *state;
	regex_t re;

	open_sinks(f, LOG_SINK_STDERR, NULL, LOG_STDERR_TIMESTAMPED);
	log_error("boom");
	assert_int_equal(
	    regcomp(&re,
		"^[0-9-]{10} [0-9:]{8} ERROR \\[codedeploy-agent\\("
		"[0-9]+\\)\\]: boom\n$",
		REG_EXTENDED),
	    0);
	assert_int_equal(regexec(&re, drain(f), 0, NULL, 0), 0);
	regfree(&re);
}

static void
open__unwritable_file__fails_and_keeps_logging(void **state)
{
	struct fixture *f = *state;
	struct log_opts opts = {
		.ident = "x",
		.sinks = LOG_SINK_FILE,
		.file_path = "/nonexistent-dir/x.log",
		.stderr_fd = -1,
	};
	struct err err = ERR_INIT;

	assert_int_equal(log_open(&opts, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent-dir/x.log"));
	(void)f;
}

static void
reopen__after_rename__writes_to_new_file(void **state)
{
	struct fixture *f = *state;
	char *path = xasprintf("%s/agent.log", f->dir);
	char *rotated = xasprintf("%s/agent.log.1", f->dir);
	char *old_text = NULL, *new_text = NULL;
	struct err err = ERR_INIT;

	open_sinks(f, LOG_SINK_FILE, path, LOG_STDERR_PLAIN);
	log_info("before rotation");
	assert_int_equal(rename(path, rotated), 0);
	log_info("between rename and reopen");
	assert_int_equal(log_reopen(&err), 0);
	log_info("after rotation");
	log_close();
	assert_int_equal(
	    fsutil_read_file(rotated, 4096, &old_text, NULL, &err), 0);
	assert_int_equal(
	    fsutil_read_file(path, 4096, &new_text, NULL, &err), 0);
	assert_non_null(strstr(old_text, "before rotation"));
	assert_non_null(strstr(old_text, "between rename and reopen"));
	assert_null(strstr(old_text, "after rotation"));
	assert_non_null(strstr(new_text, "after rotation"));
	assert_null(strstr(new_text, "before rotation"));
	free(old_text);
	free(new_text);
	free(rotated);
	free(path);
}

static void
reopen__unwritable__keeps_old_file(void **state)
{
	struct fixture *f = *state;
	char *sub = xasprintf("%s/sub", f->dir);
	char *path = xasprintf("%s/agent.log", sub);
	char *moved = xasprintf("%s/moved", f->dir);
	char *text = NULL;
	struct err err = ERR_INIT;

	assert_int_equal(mkdir(sub, 0755), 0);
	open_sinks(f, LOG_SINK_FILE, path, LOG_STDERR_PLAIN);
	/* the directory is gone: the path cannot be opened again */
	assert_int_equal(rename(sub, moved), 0);
	assert_int_equal(log_reopen(&err), -1);
	assert_non_null(strstr(err.msg, path));
	log_info("still logged");
	log_close();
	free(path);
	path = xasprintf("%s/agent.log", moved);
	assert_int_equal(fsutil_read_file(path, 4096, &text, NULL, &err), 0);
	assert_non_null(strstr(text, "still logged"));
	free(text);
	free(path);
	free(moved);
	free(sub);
}

static void
reopen__no_file_sink__does_nothing(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;

	open_sinks(f, LOG_SINK_STDERR, NULL, LOG_STDERR_PLAIN);
	assert_int_equal(log_reopen(&err), 0);
	assert_false(err_isset(&err));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(redact__authorization_header__hides_value),
		cmocka_unit_test(redact__json_secret_and_token__hidden),
		cmocka_unit_test(redact__env_and_query_pairs__hidden),
		cmocka_unit_test(redact__yaml_secret_line__hidden),
		cmocka_unit_test(redact__ordinary_text__unchanged),
		cmocka_unit_test(redact__url_path_word__kept),
		cmocka_unit_test_setup_teardown(
		    level__filters_below_threshold, setup, teardown),
		cmocka_unit_test(parse_level__accepts_names),
		cmocka_unit_test_setup_teardown(
		    journal__sends_message_priority_and_fields, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    journal_bytes__nul_and_newline_kept_secret_redacted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    journal__absent_enoent__falls_back_to_stderr, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    journal__refused__falls_back_to_stderr, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    file__writes_v1_line_format, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    stderr_timestamped__uses_v1_format, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    open__unwritable_file__fails_and_keeps_logging, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    reopen__after_rename__writes_to_new_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    reopen__unwritable__keeps_old_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    reopen__no_file_sink__does_nothing, setup, teardown),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
