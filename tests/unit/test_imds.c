/*
 * Tests for imds and the chain's IMDS source against the real fake IMDS
 * (tests/servers/imds.py), started by each test on 127.0.0.1 and stopped
 * in teardown (its stdin is a pipe from us, so it also exits if this
 * program dies).  The server's JSON-lines log shows what the client sent.
 * v1 §12 instance_metadata_test.rb is the model: the TTL header, one token
 * for many GETs, v1 fallback allowed or not, whitespace stripped, a 401
 * answered with a new token, an unreachable service.  clock_now_ms is
 * wrapped so token and credential lifetimes can pass in an instant.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "creds.h"
#include "http.h"
#include "imds.h"
#include "testutil.h"
#include "xalloc.h"

static long long clock_offset_ms;

long long __real_clock_now_ms(void);
long long __wrap_clock_now_ms(void);

long long
__wrap_clock_now_ms(void)
{
	return __real_clock_now_ms() + clock_offset_ms;
}

#define MINUTE_MS (60LL * 1000)

/* The fake IMDS of the running test. */
static struct server {
	pid_t pid;
	int stdin_fd;
	int port;
	char *dir;
	char *log_path;
	char *url;
} srv = { -1, -1, 0, NULL, NULL, NULL };

/* Start imds.py with args (NULL-terminated) and wait for "READY <port>". */
static void
server_start(const char *first, ...)
{
	const char *top = getenv("TOP_SRCDIR");
	char *script =
	    xasprintf("%s/tests/servers/imds.py", top != NULL ? top : "..");
	char *argv[32];
	int in[2], out[2], n = 0, i;
	char line[64];
	size_t used = 0;
	va_list ap;
	const char *a;

	argv[n++] = xstrdup("python3");
	argv[n++] = script;
	argv[n++] = xstrdup("--exit-with-stdin");
	argv[n++] = xstrdup("--log");
	argv[n++] = xstrdup(srv.log_path);
	va_start(ap, first);
	for (a = first; a != NULL && n < 31; a = va_arg(ap, const char *))
		argv[n++] = xstrdup(a);
	va_end(ap);
	argv[n] = NULL;
	if (pipe(in) < 0 || pipe(out) < 0)
		fail_msg("pipe: %s", strerror(errno));
	srv.pid = fork();
	if (srv.pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (srv.pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execv("/usr/bin/python3", argv);
		_exit(127);
	}
	for (i = 0; i < n; i++)
		free(argv[i]);
	close(in[0]);
	close(out[1]);
	srv.stdin_fd = in[1];
	/* Read the READY line, waiting at most 20 s (slow under valgrind). */
	while (used < sizeof(line) - 1) {
		struct pollfd pfd = { out[0], POLLIN, 0 };
		ssize_t r;

		if (poll(&pfd, 1, 20000) <= 0)
			break;
		r = read(out[0], line + used, sizeof(line) - 1 - used);
		if (r <= 0)
			break;
		used += (size_t)r;
		line[used] = '\0';
		if (strchr(line, '\n') != NULL)
			break;
	}
	line[used] = '\0';
	close(out[0]);
	if (sscanf(line, "READY %d", &srv.port) != 1)
		fail_msg("imds.py did not start (said '%s')", line);
	srv.url = xasprintf("http://127.0.0.1:%d", srv.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.url, 1);
}

static void
server_stop(void)
{
	int status, i;

	if (srv.pid > 0) {
		close(srv.stdin_fd);
		kill(srv.pid, SIGTERM);
		for (i = 0; i < 500; i++) {
			if (waitpid(srv.pid, &status, WNOHANG) != 0)
				break;
			usleep(10000);
		}
		if (i == 500) {
			kill(srv.pid, SIGKILL);
			waitpid(srv.pid, &status, 0);
		}
	}
	srv.pid = -1;
	srv.stdin_fd = -1;
	free(srv.url);
	srv.url = NULL;
}

/* POST to a control endpoint of the server. */
static void
control(const char *path_and_query)
{
	struct http_opts ho = { 0 };
	struct err err = ERR_INIT;
	struct http_client *client;
	struct http_req *req;
	struct http_resp resp = { 0 };
	char *url = xasprintf("%s%s", srv.url, path_and_query);

	ho.no_proxy = 1;
	client = http_client_new(&ho, &err);
	assert_non_null(client);
	req = http_req_new("POST", url);
	http_req_body(req, "", 0);
	if (http_send(client, req, &resp, &err) < 0)
		fail_msg("control %s: %s", path_and_query, err.msg);
	assert_int_equal(resp.status, 200);
	http_resp_clear(&resp);
	http_req_free(req);
	http_client_free(client);
	free(url);
}

/* How many log lines contain all the given fragments (NULL-terminated). */
static int
log_count(const char *first, ...)
{
	char *text = tu_read(srv.log_path);
	char *line, *save = NULL;
	int n = 0;

	if (text == NULL)
		return 0;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		va_list ap;
		const char *frag;
		int all = 1;

		va_start(ap, first);
		for (frag = first; frag != NULL;
		     frag = va_arg(ap, const char *))
			if (strstr(line, frag) == NULL)
				all = 0;
		va_end(ap);
		n += all;
	}
	free(text);
	return n;
}

#define PUT "\"method\": \"PUT\""
#define GET "\"method\": \"GET\""
#define NO_TOKEN "\"token\": \"none\""
#define VALID_TOKEN "\"token\": \"valid\""
#define S200 "\"status\": 200"
#define S401 "\"status\": 401"

static const char *const env_names[] = { "AWS_ACCESS_KEY_ID",
	"AWS_SECRET_ACCESS_KEY", "AMAZON_ACCESS_KEY_ID",
	"AMAZON_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY",
	"AWS_SESSION_TOKEN", "AWS_REGION", "AWS_HOST_IDENTIFIER",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "AWS_EC2_METADATA_DISABLED",
	"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
	"ALL_PROXY", "no_proxy", "NO_PROXY" };

static int
setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
	clock_offset_ms = 0;
	srv.dir = tu_mkdtemp();
	srv.log_path = xasprintf("%s/imds.jsonl", srv.dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	server_stop();
	free(srv.log_path);
	srv.log_path = NULL;
	tu_rmdir(srv.dir);
	srv.dir = NULL;
	return 0;
}

/* A client with short retries, so failure tests stay fast. */
static struct imds *
client(int disable_v1)
{
	struct imds_opts o = { 0 };
	struct err err = ERR_INIT;
	struct imds *m;

	o.disable_v1 = disable_v1;
	o.retry_base_ms = 20;
	m = imds_new(&o, &err);
	if (m == NULL)
		fail_msg("imds_new: %s", err.msg);
	return m;
}

/* --- no server ------------------------------------------------------------ */

static void
parse_time__iso8601_forms(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(imds_parse_time("2024-05-01T12:00:00Z", &t), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(imds_parse_time("2024-05-01T12:00:00.123Z", &t), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(imds_parse_time("2024-05-01T14:30:00+02:30", &t), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(imds_parse_time("2024-05-01T09:00:00-03:00", &t), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(imds_parse_time("2024-05-01 12:00:00Z", &t), -1);
	assert_int_equal(imds_parse_time("2024-05-01T12:00:00", &t), -1);
	assert_int_equal(imds_parse_time("2024-13-01T12:00:00Z", &t), -1);
	assert_int_equal(imds_parse_time("2024-05-01T12:00:00Zjunk", &t), -1);
	assert_int_equal(imds_parse_time("", &t), -1);
}

static void
endpoint__env_and_mode_checked(void **state)
{
	struct err err = ERR_INIT;
	struct imds *m;

	(void)state;
	m = imds_new(NULL, &err);
	assert_non_null(m);
	assert_string_equal(imds_endpoint(m), "http://169.254.169.254");
	imds_free(m);

	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6", 1);
	m = imds_new(NULL, &err);
	assert_non_null(m);
	assert_string_equal(imds_endpoint(m), "http://[fd00:ec2::254]");
	imds_free(m);

	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5", 1);
	assert_null(imds_new(NULL, &err));
	assert_non_null(strstr(err.msg, "use IPv4 or IPv6"));

	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9//", 1);
	m = imds_new(NULL, &err);
	assert_non_null(m);
	assert_string_equal(imds_endpoint(m), "http://127.0.0.1:9");
	imds_free(m);

	err_clear(&err);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "169.254.169.254", 1);
	assert_null(imds_new(NULL, &err));
	assert_int_equal(err.code, E_INVALID);
	assert_non_null(strstr(err.msg, "AWS_EC2_METADATA_SERVICE_ENDPOINT"));
}

/* A port on 127.0.0.1 that nothing listens on. */
static int
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		fail_msg("socket: %s", strerror(errno));
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void
unreachable__clear_error_from_imds_and_chain(void **state)
{
	char *url = xasprintf("http://127.0.0.1:%d", closed_port());
	struct creds_chain *chain;
	struct creds c = { 0 };
	struct err err = ERR_INIT;
	struct imds *m;
	char *s = NULL;

	(void)state;
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	m = client(0);
	assert_int_equal(
	    imds_get(m, "/latest/meta-data/instance-id", &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.code, E_NETWORK);
	assert_non_null(strstr(err.msg, "instance metadata service at"));
	assert_non_null(strstr(err.msg, url));
	assert_non_null(strstr(err.msg, "unreachable"));
	assert_non_null(strstr(err.msg, "on-premises"));
	imds_free(m);

	chain = creds_chain_new(NULL, NULL, &err);
	assert_non_null(chain);
	err_clear(&err);
	assert_int_equal(creds_chain_get(chain, &c, &err), -1);
	assert_non_null(strstr(err.msg, "no AWS credentials"));
	assert_non_null(strstr(err.msg, "unreachable"));
	err_clear(&err);
	assert_int_equal(creds_region(chain, &s, &err), -1);
	assert_non_null(strstr(err.msg, "could not determine AWS region"));
	assert_non_null(strstr(err.msg, "unreachable"));
	creds_chain_free(chain);
	free(url);
}

/* --- against the fake IMDS ----------------------------------------------- */

static void
v2__ttl_header_and_one_token_for_several_gets(void **state)
{
	struct imds_identity id = { 0 };
	struct err err = ERR_INIT;
	struct imds *m;
	char *s = NULL;

	(void)state;
	server_start("--v2-only", NULL);
	m = client(1);
	assert_int_equal(imds_identity(m, &id, &err), 0);
	assert_string_equal(id.region, "us-east-1");
	assert_string_equal(id.account_id, "123456789012");
	assert_string_equal(id.instance_id, "i-deadbeef");
	imds_identity_clear(&id);
	assert_int_equal(imds_partition(m, &s, &err), 0);
	assert_string_equal(s, "aws");
	free(s);
	assert_int_equal(imds_domain(m, &s, &err), 0);
	assert_string_equal(s, "amazonaws.com");
	free(s);
	imds_free(m);

	assert_int_equal(log_count(PUT, NULL), 1);
	assert_int_equal(log_count(PUT, "\"ttl\": \"21600\"", S200, NULL), 1);
	assert_int_equal(log_count(GET, VALID_TOKEN, S200, NULL), 3);
	assert_int_equal(log_count(GET, NO_TOKEN, NULL), 0);
	assert_int_equal(log_count("\"absolute\": true", NULL), 0);
}

static void
v2__bodies_and_region_whitespace_stripped(void **state)
{
	struct creds_chain *chain;
	struct imds_identity id = { 0 };
	struct err err = ERR_INIT;
	struct imds *m;
	char *s = NULL;

	(void)state;
	server_start(
	    "--pad", "--partition", "aws-cn", "--region", "cn-north-1", NULL);
	m = client(0);
	assert_int_equal(imds_identity(m, &id, &err), 0);
	assert_string_equal(id.region, "cn-north-1");
	imds_identity_clear(&id);
	assert_int_equal(
	    imds_get(m, "/latest/meta-data/instance-id", &s, &err), 0);
	assert_string_equal(s, "i-deadbeef");
	free(s);
	imds_free(m);

	chain = creds_chain_new(NULL, NULL, &err);
	assert_non_null(chain);
	assert_int_equal(creds_region(chain, &s, &err), 0);
	assert_string_equal(s, "cn-north-1");
	free(s);
	assert_int_equal(creds_host_identifier(chain, &s, &err), 0);
	assert_string_equal(
	    s, "arn:aws-cn:ec2:cn-north-1:123456789012:instance/i-deadbeef");
	free(s);
	creds_chain_free(chain);
	/* The chain read the identity document once for both. */
	assert_int_equal(
	    log_count(GET, "instance-identity/document", S200, NULL), 2);
}

static void
host_id__partition_absent__aws(void **state)
{
	struct creds_chain *chain;
	struct err err = ERR_INIT;
	char *s = NULL;

	(void)state;
	server_start("--partition", "", NULL);
	chain = creds_chain_new(NULL, NULL, &err);
	assert_non_null(chain);
	assert_int_equal(creds_host_identifier(chain, &s, &err), 0);
	assert_string_equal(
	    s, "arn:aws:ec2:us-east-1:123456789012:instance/i-deadbeef");
	free(s);
	creds_chain_free(chain);
	assert_int_equal(
	    log_count("services/partition", "\"status\": 404", NULL), 1);
}

static void
token_forgotten_by_server__new_token_and_one_retry(void **state)
{
	struct err err = ERR_INIT;
	struct imds *m;
	char *s = NULL;

	(void)state;
	server_start("--v2-only", NULL);
	m = client(1);
	assert_int_equal(
	    imds_get(m, "/latest/meta-data/instance-id", &s, &err), 0);
	free(s);
	control("/_control/expire-tokens");
	assert_int_equal(
	    imds_get(m, "/latest/meta-data/instance-id", &s, &err), 0);
	assert_string_equal(s, "i-deadbeef");
	free(s);
	imds_free(m);
	assert_int_equal(log_count(PUT, S200, NULL), 2);
	assert_int_equal(
	    log_count(GET, "\"token\": \"unknown\"", S401, NULL), 1);
	assert_int_equal(log_count(GET, VALID_TOKEN, S200, NULL), 2);
}

static void
token_ttl_passed__new_token_before_the_get(void **state)
{
	struct err err = ERR_INIT;
	struct imds *m;
	char *s = NULL;

	(void)state;
	server_start("--v2-only", NULL);
	m = client(1);
	assert_int_equal(
	    imds_get(m, "/latest/meta-data/instance-id", &s, &err), 0);
	free(s);
	clock_offset_ms += 5 * 60 * MINUTE_MS; /* 5 h: token kept */
	assert_int_equal(
	    imds_get(m, "/latest/meta-data/instance-id", &s, &err), 0);
	free(s);
	assert_int_equal(log_count(PUT, NULL), 1);
	clock_offset_ms += 59 * MINUTE_MS; /* 5 h 59 min: inside the margin */
	assert_int_equal(
	    imds_get(m, "/latest/meta-data/instance-id", &s, &err), 0);
	free(s);
	imds_free(m);
	assert_int_equal(log_count(PUT, S200, NULL), 2);
	assert_int_equal(log_count(S401, NULL), 0);
}

static void
v1_fallback__token_refused__plain_get_when_allowed(void **state)
{
	struct err err = ERR_INIT;
	struct imds *m;
	char *s = NULL;

	(void)state;
	server_start("--token-status", "403", NULL);
	m = client(0);
	assert_int_equal(
	    imds_get(m, "/latest/meta-data/instance-id", &s, &err), 0);
	assert_string_equal(s, "i-deadbeef");
	free(s);
	imds_free(m);
	assert_int_equal(log_count(PUT, "\"status\": 403", NULL), 1);
	assert_int_equal(log_count(GET, NO_TOKEN, S200, NULL), 1);
}

static void
v1_fallback__token_refused__error_when_disable_imds_v1(void **state)
{
	struct cfg *cfg = cfg_new();
	struct creds_chain *chain;
	struct creds c = { 0 };
	struct err err = ERR_INIT;
	struct imds *m;
	char *s = NULL;

	(void)state;
	server_start("--token-status", "403", NULL);
	m = client(1);
	assert_int_equal(
	    imds_get(m, "/latest/meta-data/instance-id", &s, &err), -1);
	assert_null(s);
	assert_non_null(strstr(err.msg, "could not get an IMDSv2 token"));
	assert_non_null(strstr(err.msg, "disable_imds_v1"));
	imds_free(m);

	/* The chain honours cfg's disable_imds_v1 for credentials too. */
	cfg->disable_imds_v1 = 1;
	chain = creds_chain_new(cfg, NULL, &err);
	assert_non_null(chain);
	err_clear(&err);
	assert_int_equal(creds_chain_get(chain, &c, &err), -1);
	assert_non_null(strstr(err.msg, "disable_imds_v1"));
	creds_chain_free(chain);
	cfg_free(cfg);
	assert_int_equal(log_count(GET, NULL), 0);
}

static void
v1_fallback__token_reply_too_slow__plain_get(void **state)
{
	struct imds_opts o = { 0 };
	struct err err = ERR_INIT;
	struct imds *m;
	char *s = NULL;

	(void)state;
	/* A PUT reply that never comes back, as with hop limit 1. */
	server_start("--token-delay", "2", NULL);
	o.total_timeout_ms = 400;
	o.max_attempts = 1;
	m = imds_new(&o, &err);
	assert_non_null(m);
	assert_int_equal(
	    imds_get(m, "/latest/meta-data/instance-id", &s, &err), 0);
	assert_string_equal(s, "i-deadbeef");
	free(s);
	imds_free(m);
	assert_int_equal(log_count(GET, NO_TOKEN, S200, NULL), 1);
}

static void
v2_only__token_refused_and_v1_answered_401__error_says_so(void **state)
{
	struct err err = ERR_INIT;
	struct imds *m;
	char *s = NULL;

	(void)state;
	server_start("--v2-only", "--token-status", "403", NULL);
	m = client(0);
	assert_int_equal(
	    imds_get(m, "/latest/meta-data/instance-id", &s, &err), -1);
	assert_int_equal(err.code, E_SERVICE);
	assert_non_null(strstr(err.msg, "HTTP 401"));
	imds_free(m);
}

static void
never_through_a_proxy(void **state)
{
	struct err err = ERR_INIT;
	struct imds *m;
	char *s = NULL;
	char *proxy = xasprintf("http://127.0.0.1:%d", closed_port());

	(void)state;
	server_start("--v2-only", NULL);
	setenv("http_proxy", proxy, 1);
	setenv("HTTP_PROXY", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);
	m = client(1);
	assert_int_equal(
	    imds_get(m, "/latest/meta-data/instance-id", &s, &err), 0);
	free(s);
	imds_free(m);
	assert_int_equal(log_count("\"absolute\": false", S200, NULL), 2);
	free(proxy);
}

static void
chain__instance_profile__refreshed_5_min_before_expiration(void **state)
{
	struct creds_chain *chain;
	struct creds c = { 0 };
	struct err err = ERR_INIT;
	long long before = __wrap_clock_now_ms();
	char *first;

	(void)state;
	server_start("--v2-only", "--credentials-lifetime", "900", NULL);
	chain = creds_chain_new(NULL, NULL, &err);
	assert_non_null(chain);
	assert_string_equal(creds_chain_source(chain), CREDS_SOURCE_IMDS);
	assert_int_equal(creds_chain_get(chain, &c, &err), 0);
	assert_string_equal(c.source, CREDS_SOURCE_IMDS);
	assert_non_null(strstr(c.access_key_id, "ASIAFAKE"));
	assert_non_null(c.session_token);
	assert_non_null(c.secret_access_key);
	/* 900 s, less the second the Expiration's rounding may cost. */
	assert_true(c.expires_ms >= before + 898 * 1000LL);
	assert_true(c.expires_ms <= __wrap_clock_now_ms() + 900 * 1000LL);
	first = xstrdup(c.access_key_id);
	creds_clear(&c);

	clock_offset_ms += 9 * MINUTE_MS; /* 6 min left: kept */
	assert_int_equal(creds_chain_get(chain, &c, &err), 0);
	assert_string_equal(c.access_key_id, first);
	creds_clear(&c);
	assert_int_equal(
	    log_count("security-credentials/cdagent-test-role", S200, NULL), 1);

	clock_offset_ms += MINUTE_MS + 2000; /* under 5 min left: renewed */
	assert_int_equal(creds_chain_get(chain, &c, &err), 0);
	assert_string_not_equal(c.access_key_id, first);
	creds_clear(&c);
	assert_int_equal(
	    log_count("security-credentials/cdagent-test-role", S200, NULL), 2);
	creds_chain_free(chain);
	free(first);
}

static void
chain__short_lived_credentials__kept_at_least_6_min(void **state)
{
	struct creds_chain *chain;
	struct creds c = { 0 };
	struct err err = ERR_INIT;
	long long before = __wrap_clock_now_ms();

	(void)state;
	server_start("--credentials-lifetime", "60", NULL);
	chain = creds_chain_new(NULL, NULL, &err);
	assert_non_null(chain);
	assert_int_equal(creds_chain_get(chain, &c, &err), 0);
	assert_true(c.expires_ms >= before + 6 * MINUTE_MS);
	creds_clear(&c);
	assert_int_equal(creds_chain_get(chain, &c, &err), 0);
	creds_clear(&c);
	assert_int_equal(
	    log_count("security-credentials/cdagent-test-role", S200, NULL), 1);
	creds_chain_free(chain);
}

static void
chain__imds_down_during_refresh__old_credentials_until_expiry(void **state)
{
	struct creds_chain *chain;
	struct creds c = { 0 };
	struct err err = ERR_INIT;
	char *first;

	(void)state;
	server_start("--credentials-lifetime", "900", NULL);
	chain = creds_chain_new(NULL, NULL, &err);
	assert_non_null(chain);
	assert_int_equal(creds_chain_get(chain, &c, &err), 0);
	first = xstrdup(c.access_key_id);
	creds_clear(&c);
	server_stop();

	clock_offset_ms += 11 * MINUTE_MS;
	assert_int_equal(creds_chain_get(chain, &c, &err), 0);
	assert_string_equal(c.access_key_id, first);
	creds_clear(&c);
	clock_offset_ms += 5 * MINUTE_MS;
	assert_int_equal(creds_chain_get(chain, &c, &err), -1);
	assert_null(c.access_key_id);
	assert_non_null(strstr(err.msg, "expired and could not be refreshed"));
	assert_non_null(strstr(err.msg, "unreachable"));
	creds_chain_free(chain);
	free(first);
}

static void
chain__no_role__says_attach_an_instance_profile(void **state)
{
	struct creds_chain *chain;
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	server_start("--role", "", NULL);
	chain = creds_chain_new(NULL, NULL, &err);
	assert_non_null(chain);
	assert_int_equal(creds_chain_get(chain, &c, &err), -1);
	assert_non_null(strstr(err.msg, "no IAM instance profile"));
	assert_non_null(strstr(err.msg, "attach"));
	creds_chain_free(chain);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(parse_time__iso8601_forms),
		T(endpoint__env_and_mode_checked),
		T(unreachable__clear_error_from_imds_and_chain),
		T(v2__ttl_header_and_one_token_for_several_gets),
		T(v2__bodies_and_region_whitespace_stripped),
		T(host_id__partition_absent__aws),
		T(token_forgotten_by_server__new_token_and_one_retry),
		T(token_ttl_passed__new_token_before_the_get),
		T(v1_fallback__token_refused__plain_get_when_allowed),
		T(v1_fallback__token_refused__error_when_disable_imds_v1),
		T(v1_fallback__token_reply_too_slow__plain_get),
		T(v2_only__token_refused_and_v1_answered_401__error_says_so),
		T(never_through_a_proxy),
		T(chain__instance_profile__refreshed_5_min_before_expiration),
		T(chain__short_lived_credentials__kept_at_least_6_min),
		T(chain__imds_down_during_refresh__old_credentials_until_expiry),
		T(chain__no_role__says_attach_an_instance_profile),
	};

	/* A server that dies under us must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("imds", tests, NULL, NULL);
}
