/*
 * Unit tests for creds: the credentials-file parser (v2 §14
 * file_credentials.rs cases), the chain's order, the on-premises session
 * file read again when it changes and before its 30-minute lifetime ends
 * (v1 §12 file_credentials_test.rb), and a failed refresh tolerated while
 * the old credentials last.  clock_now_ms is wrapped (-Wl,--wrap) so the
 * tests move time forward; IMDS is switched off (AWS_EC2_METADATA_DISABLED)
 * so nothing here leaves the machine.  test_imds covers the IMDS source.
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "creds.h"
#include "log.h"
#include "testutil.h"
#include "xalloc.h"

/* The clock the chain sees: the real one plus what the test adds. */
static long long clock_offset_ms;

long long __real_clock_now_ms(void);
long long __wrap_clock_now_ms(void);

long long
__wrap_clock_now_ms(void)
{
	return __real_clock_now_ms() + clock_offset_ms;
}

static void
advance_ms(long long ms)
{
	clock_offset_ms += ms;
}

#define MINUTE_MS (60LL * 1000)

static const char *const env_names[] = { "AWS_ACCESS_KEY_ID",
	"AWS_SECRET_ACCESS_KEY", "AMAZON_ACCESS_KEY_ID",
	"AMAZON_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY",
	"AWS_SESSION_TOKEN", "AWS_REGION", "AWS_HOST_IDENTIFIER",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE" };

static int
setup(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	clock_offset_ms = 0;
	return tu_setup_tmpdir(state);
}

static int
teardown(void **state)
{
	log_close();
	return tu_teardown_tmpdir(state);
}

/* --- the parser ---------------------------------------------------------- */

static int
parse(const char *text, struct creds *out, struct err *err)
{
	return creds_parse_ini(
	    text, strlen(text), "/etc/creds", "default", out, err);
}

static void
ini__default_profile_with_token__all_three_read(void **state)
{
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(parse("[default]\n"
			       "aws_access_key_id=AKIDEXAMPLE\n"
			       "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG\n"
			       "aws_session_token=FwoGZXIvYXdzE+/=\n",
			     &c, &err),
	    0);
	assert_string_equal(c.access_key_id, "AKIDEXAMPLE");
	assert_string_equal(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG");
	assert_string_equal(c.session_token, "FwoGZXIvYXdzE+/=");
	creds_clear(&c);
	assert_null(c.access_key_id);
}

static void
ini__comments_blank_lines_and_crlf__skipped(void **state)
{
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(parse("# written by the helper\r\n"
			       "\r\n"
			       "; another comment\n"
			       "   \t\n"
			       "[default]\r\n"
			       "  # indented comment = not a key\n"
			       "aws_access_key_id = AKID\r\n"
			       "\n"
			       "; aws_secret_access_key = commented-out\n"
			       "aws_secret_access_key = SECRET\r\n",
			     &c, &err),
	    0);
	assert_string_equal(c.access_key_id, "AKID");
	assert_string_equal(c.secret_access_key, "SECRET");
	assert_null(c.session_token);
	creds_clear(&c);
}

static void
ini__blanks_around_equals__trimmed_value_keeps_inner(void **state)
{
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(parse("[ default ]\n"
			       "\taws_access_key_id\t=\t AKID \t\n"
			       "aws_secret_access_key   =a=b c==\n"
			       "AWS_SESSION_TOKEN= tok\n",
			     &c, &err),
	    0);
	assert_string_equal(c.access_key_id, "AKID");
	assert_string_equal(c.secret_access_key, "a=b c==");
	assert_string_equal(c.session_token, "tok");
	creds_clear(&c);
}

static void
ini__empty_session_token__treated_as_absent(void **state)
{
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(parse("[default]\naws_access_key_id=A\n"
			       "aws_secret_access_key=S\naws_session_token=\n",
			     &c, &err),
	    0);
	assert_null(c.session_token);
	creds_clear(&c);
	assert_int_equal(parse("[default]\naws_access_key_id=A\n"
			       "aws_secret_access_key=S\n"
			       "aws_session_token =   \n",
			     &c, &err),
	    0);
	assert_null(c.session_token);
	creds_clear(&c);
}

static void
ini__missing_secret__error_names_path_and_key(void **state)
{
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(
	    parse("[default]\naws_access_key_id=A\naws_session_token=T\n", &c,
		&err),
	    -1);
	assert_int_equal(err.code, E_INVALID);
	assert_non_null(strstr(err.msg, "/etc/creds"));
	assert_non_null(strstr(err.msg, "aws_secret_access_key"));
	assert_null(c.access_key_id);
}

static void
ini__empty_access_key__missing_field_error(void **state)
{
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(parse("[default]\naws_access_key_id=\n"
			       "aws_secret_access_key=S\n",
			     &c, &err),
	    -1);
	assert_non_null(strstr(err.msg, "aws_access_key_id"));
	assert_null(c.secret_access_key);
}

static void
ini__no_default_profile__error_names_profile(void **state)
{
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(parse("[prod]\naws_access_key_id=A\n"
			       "aws_secret_access_key=S\n",
			     &c, &err),
	    -1);
	assert_int_equal(err.code, E_NOTFOUND);
	assert_non_null(strstr(err.msg, "/etc/creds: no [default] profile"));
	err_clear(&err);
	assert_int_equal(parse("", &c, &err), -1);
	assert_non_null(strstr(err.msg, "[default]"));
}

static void
ini__several_profiles__only_default_used(void **state)
{
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(parse("[other]\naws_access_key_id=WRONG\n"
			       "aws_secret_access_key=WRONG\n"
			       "this line is no key but not our profile\n"
			       "[default]\naws_access_key_id=A1\n"
			       "[defaults]\naws_secret_access_key=WRONG\n"
			       "[default]\naws_secret_access_key=S1\n"
			       "aws_access_key_id=A2\n",
			     &c, &err),
	    0);
	assert_string_equal(c.access_key_id, "A2");
	assert_string_equal(c.secret_access_key, "S1");
	creds_clear(&c);
}

static void
ini__malformed_lines__error_with_line_number(void **state)
{
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(parse("[default]\naws_access_key_id=A\n"
			       "aws_secret_access_key S\n",
			     &c, &err),
	    -1);
	assert_int_equal(err.code, E_PARSE);
	assert_non_null(strstr(err.msg,
	    "/etc/creds:3: expected 'key = "
	    "value'"));
	err_clear(&err);
	assert_int_equal(
	    parse("\n[default\naws_access_key_id=A\n", &c, &err), -1);
	assert_non_null(strstr(err.msg, "/etc/creds:2: a section header"));
	err_clear(&err);
	assert_int_equal(parse("[default]\n= value\n", &c, &err), -1);
	assert_non_null(strstr(err.msg, "/etc/creds:2:"));
}

static void
ini__length_bounds_the_text_and_bom_skipped(void **state)
{
	static const char text[] = "\xef\xbb\xbf[default]\n"
				   "aws_access_key_id=A\n"
				   "aws_secret_access_key=S\n"
				   "aws_session_token=T-and-more";
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	/* Stop inside the token: "T-and" is all the parser may see. */
	assert_int_equal(
	    creds_parse_ini(text, strlen(text) - 5, "f", "default", &c, &err),
	    0);
	assert_string_equal(c.session_token, "T-and");
	creds_clear(&c);
}

/* --- the chain ------------------------------------------------------------ */

static struct cfg_onprem *
onprem_from(const char *yaml)
{
	struct cfg_onprem *op = NULL;
	struct err err = ERR_INIT;

	if (cfg_onprem_load_buffer(
		yaml, strlen(yaml), "/etc/onprem.yml", &op, &err) < 0)
		fail_msg("onprem: %s", err.msg);
	return op;
}

static struct cfg_onprem *
session_onprem(const char *creds_path)
{
	char *yaml = xasprintf("iam_session_arn: arn:aws:sts::123456789012:"
			       "assumed-role/r/host-1\n"
			       "region: eu-west-1\n"
			       "aws_credentials_file: %s\n",
	    creds_path);
	struct cfg_onprem *op = onprem_from(yaml);

	free(yaml);
	return op;
}

static const char user_yaml[] =
    "iam_user_arn: arn:aws:iam::123456789012:user/host-1\n"
    "region: ap-south-1\n"
    "aws_access_key_id: AKIAUSER\n"
    "aws_secret_access_key: user-secret\n";

static void
expect_key(struct creds_chain *chain, const char *id, const char *secret)
{
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	if (creds_chain_get(chain, &c, &err) < 0)
		fail_msg("creds_chain_get: %s", err.msg);
	assert_string_equal(c.access_key_id, id);
	if (secret != NULL)
		assert_string_equal(c.secret_access_key, secret);
	creds_clear(&c);
}

static void
chain__env__beats_onprem_user(void **state)
{
	struct cfg_onprem *op = onprem_from(user_yaml);
	struct creds_chain *chain;
	struct creds c = { 0 };
	struct sigv4_credentials view;
	struct err err = ERR_INIT;

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
	setenv("AWS_SESSION_TOKEN", "env-token", 1);
	chain = creds_chain_new(NULL, op, &err);
	assert_non_null(chain);
	assert_string_equal(creds_chain_source(chain), CREDS_SOURCE_ENV);
	assert_int_equal(creds_chain_get(chain, &c, &err), 0);
	assert_string_equal(c.access_key_id, "AKIAENV");
	assert_string_equal(c.secret_access_key, "env-secret");
	assert_string_equal(c.session_token, "env-token");
	assert_int_equal(c.expires_ms, 0);
	assert_string_equal(c.source, CREDS_SOURCE_ENV);
	creds_sigv4(&c, &view);
	assert_ptr_equal(view.access_key_id, c.access_key_id);
	assert_ptr_equal(view.secret_access_key, c.secret_access_key);
	assert_ptr_equal(view.session_token, c.session_token);
	creds_clear(&c);
	creds_chain_free(chain);
	cfg_onprem_free(op);
}

static void
chain__as_sigv4_callback__views_current_credentials(void **state)
{
	char *path = tu_write(*state, "creds",
	    "[default]\naws_access_key_id=KEY1\naws_secret_access_key=S1\n"
	    "aws_session_token=T1\n");
	struct cfg_onprem *op = session_onprem(path);
	struct sigv4_credentials view;
	struct creds_chain *chain;
	struct err err = ERR_INIT;
	const char *source = NULL;

	chain = creds_chain_new(NULL, op, &err);
	assert_non_null(chain);
	assert_int_equal(creds_chain_sigv4(chain, &view, &source, &err), 0);
	assert_string_equal(view.access_key_id, "KEY1");
	assert_string_equal(view.secret_access_key, "S1");
	assert_string_equal(view.session_token, "T1");
	assert_string_equal(source, CREDS_SOURCE_ONPREM_SESSION);
	/* Each call refreshes first, as creds_chain_get() does. */
	free(tu_write(*state, "creds",
	    "[default]\naws_access_key_id=KEY2\n"
	    "aws_secret_access_key=S2-rotated\n"));
	assert_int_equal(creds_chain_sigv4(chain, &view, NULL, &err), 0);
	assert_string_equal(view.access_key_id, "KEY2");
	assert_string_equal(view.secret_access_key, "S2-rotated");
	assert_null(view.session_token);
	creds_chain_free(chain);
	cfg_onprem_free(op);
	free(path);
}

static void
chain__deprecated_env_names__used_last(void **state)
{
	struct creds_chain *chain;
	struct err err = ERR_INIT;

	(void)state;
	setenv("AWS_ACCESS_KEY", "AKIAOLD", 1);
	setenv("AWS_SECRET_KEY", "old-secret", 1);
	chain = creds_chain_new(NULL, NULL, &err);
	assert_non_null(chain);
	expect_key(chain, "AKIAOLD", "old-secret");
	creds_chain_free(chain);

	/* The current names win over the deprecated ones. */
	setenv("AWS_ACCESS_KEY_ID", "AKIANEW", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "new-secret", 1);
	chain = creds_chain_new(NULL, NULL, &err);
	assert_non_null(chain);
	expect_key(chain, "AKIANEW", "new-secret");
	creds_chain_free(chain);
}

static void
chain__half_an_env_pair__error_names_both(void **state)
{
	struct err err = ERR_INIT;

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	assert_null(creds_chain_new(NULL, NULL, &err));
	assert_int_equal(err.code, E_INVALID);
	assert_non_null(strstr(err.msg,
	    "AWS_ACCESS_KEY_ID is set but "
	    "AWS_SECRET_ACCESS_KEY is not"));
	/* An empty value counts as unset. */
	setenv("AWS_ACCESS_KEY_ID", "", 1);
	err_clear(&err);
	{
		struct creds_chain *chain = creds_chain_new(NULL, NULL, &err);

		assert_non_null(chain);
		assert_string_equal(
		    creds_chain_source(chain), CREDS_SOURCE_IMDS);
		creds_chain_free(chain);
	}
}

static void
chain__onprem_user__static_keys_never_refresh(void **state)
{
	struct cfg_onprem *op = onprem_from(user_yaml);
	struct creds_chain *chain;
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	chain = creds_chain_new(NULL, op, &err);
	cfg_onprem_free(op); /* the chain keeps its own copy */
	assert_non_null(chain);
	assert_string_equal(
	    creds_chain_source(chain), CREDS_SOURCE_ONPREM_USER);
	advance_ms(24 * 60 * MINUTE_MS);
	assert_int_equal(creds_chain_get(chain, &c, &err), 0);
	assert_string_equal(c.access_key_id, "AKIAUSER");
	assert_string_equal(c.secret_access_key, "user-secret");
	assert_null(c.session_token);
	assert_int_equal(c.expires_ms, 0);
	creds_clear(&c);
	creds_chain_free(chain);
}

static void
chain__onprem_without_arn__instance_profile(void **state)
{
	struct cfg_onprem *op = onprem_from("region: eu-west-1\n"
					    "aws_access_key_id: AKIAIGNORED\n"
					    "aws_secret_access_key: x\n");
	struct creds_chain *chain;
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	chain = creds_chain_new(NULL, op, &err);
	assert_non_null(chain);
	assert_string_equal(creds_chain_source(chain), CREDS_SOURCE_IMDS);
	/* IMDS is off here: the error says what the choices were. */
	assert_int_equal(creds_chain_get(chain, &c, &err), -1);
	assert_null(c.access_key_id);
	assert_non_null(strstr(err.msg, "no AWS credentials"));
	assert_non_null(strstr(err.msg, "AWS_ACCESS_KEY_ID"));
	assert_non_null(strstr(err.msg, "attach an instance profile"));
	assert_non_null(strstr(err.msg, "AWS_EC2_METADATA_DISABLED"));
	creds_chain_free(chain);
	cfg_onprem_free(op);
}

static void
chain__session_file__read_at_start_with_30_min_lifetime(void **state)
{
	char *path = tu_write(*state, "creds",
	    "[default]\naws_access_key_id=KEY1\n"
	    "aws_secret_access_key=S1\naws_session_token=T1\n");
	struct cfg_onprem *op = session_onprem(path);
	struct creds_chain *chain;
	struct creds c = { 0 };
	struct err err = ERR_INIT;
	long long now = __wrap_clock_now_ms();

	chain = creds_chain_new(NULL, op, &err);
	assert_non_null(chain);
	assert_string_equal(
	    creds_chain_source(chain), CREDS_SOURCE_ONPREM_SESSION);
	assert_int_equal(creds_chain_get(chain, &c, &err), 0);
	assert_string_equal(c.access_key_id, "KEY1");
	assert_string_equal(c.session_token, "T1");
	assert_true(c.expires_ms >= now + 30 * MINUTE_MS);
	assert_true(c.expires_ms <= __wrap_clock_now_ms() + 30 * MINUTE_MS);
	creds_clear(&c);
	creds_chain_free(chain);
	cfg_onprem_free(op);
	free(path);
}

static void
chain__session_file_missing__error_names_path(void **state)
{
	char *path = xasprintf("%s/absent", (char *)*state);
	struct cfg_onprem *op = session_onprem(path);
	struct err err = ERR_INIT;

	assert_null(creds_chain_new(NULL, op, &err));
	assert_int_equal(err.code, E_NOTFOUND);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "not found"));
	assert_non_null(strstr(err.msg, "/etc/onprem.yml"));
	cfg_onprem_free(op);
	free(path);
}

static void
chain__session_file_without_key__error_names_path_and_key(void **state)
{
	char *path = tu_write(*state, "creds",
	    "[default]\n"
	    "aws_access_key_id=KEY1\n");
	struct cfg_onprem *op = session_onprem(path);
	struct err err = ERR_INIT;

	assert_null(creds_chain_new(NULL, op, &err));
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "aws_secret_access_key"));
	cfg_onprem_free(op);
	free(path);
}

/* Replace path's contents, as a helper that renames a new file over it. */
static void
rotate(const char *dir, const char *path, const char *text)
{
	char *tmp = tu_write(dir, "creds.new", text);

	if (rename(tmp, path) < 0)
		fail_msg("rename %s", tmp);
	free(tmp);
}

static void
chain__session_file_rotated__picked_up_at_once(void **state)
{
	char *path = tu_write(*state, "creds",
	    "[default]\naws_access_key_id=KEY1\naws_secret_access_key=S1\n");
	struct cfg_onprem *op = session_onprem(path);
	struct creds_chain *chain;
	struct err err = ERR_INIT;

	chain = creds_chain_new(NULL, op, &err);
	assert_non_null(chain);
	expect_key(chain, "KEY1", "S1");
	advance_ms(MINUTE_MS);
	expect_key(chain, "KEY1", "S1");

	/* A new file (new inode) in the middle of the lifetime. */
	rotate(*state, path,
	    "[default]\naws_access_key_id=KEY2\naws_secret_access_key=S2\n");
	expect_key(chain, "KEY2", "S2");

	/* Rewritten in place: a new size and mtime. */
	free(tu_write(*state, "creds",
	    "[default]\naws_access_key_id=KEY3\n"
	    "aws_secret_access_key=S3-longer\n"));
	expect_key(chain, "KEY3", "S3-longer");
	creds_chain_free(chain);
	cfg_onprem_free(op);
	free(path);
}

static void
set_mtime(const char *path, const struct timespec *mtime)
{
	struct timespec times[2] = { *mtime, *mtime };

	if (utimensat(AT_FDCWD, path, times, 0) < 0)
		fail_msg("utimensat %s", path);
}

static void
chain__session_file_unchanged_stat__reread_5_min_before_expiry(void **state)
{
	char *path = tu_write(*state, "creds",
	    "[default]\naws_access_key_id=KEY1\naws_secret_access_key=S1\n");
	struct cfg_onprem *op = session_onprem(path);
	struct creds_chain *chain;
	struct err err = ERR_INIT;
	struct stat st;

	chain = creds_chain_new(NULL, op, &err);
	assert_non_null(chain);
	assert_int_equal(stat(path, &st), 0);
	/*
	 * Same inode, same size, same mtime: only the lifetime can make
	 * the chain look again.
	 */
	free(tu_write(*state, "creds",
	    "[default]\naws_access_key_id=KEY9\naws_secret_access_key=S9\n"));
	set_mtime(path, &st.st_mtim);

	advance_ms(24 * MINUTE_MS);
	expect_key(chain, "KEY1", "S1");
	advance_ms(MINUTE_MS + 1000); /* 25 min: within 5 min of expiry */
	expect_key(chain, "KEY9", "S9");
	/* The new read has its own 30 minutes. */
	assert_int_equal(stat(path, &st), 0);
	free(tu_write(*state, "creds",
	    "[default]\naws_access_key_id=KEY8\naws_secret_access_key=S8\n"));
	set_mtime(path, &st.st_mtim);
	advance_ms(20 * MINUTE_MS);
	expect_key(chain, "KEY9", "S9");
	creds_chain_free(chain);
	cfg_onprem_free(op);
	free(path);
}

static void
chain__failed_refresh__old_creds_kept_until_expiry(void **state)
{
	char *path = tu_write(*state, "creds",
	    "[default]\naws_access_key_id=KEY1\naws_secret_access_key=sekrit-one\n");
	char *log_path = xasprintf("%s/log", (char *)*state);
	struct log_opts lo = { 0 };
	struct cfg_onprem *op = session_onprem(path);
	struct creds_chain *chain;
	struct creds c = { 0 };
	struct err err = ERR_INIT;
	char *log_text;

	lo.ident = "test";
	lo.level = LOG_LEVEL_DEBUG;
	lo.sinks = LOG_SINK_FILE;
	lo.file_path = log_path;
	lo.stderr_fd = -1;
	assert_int_equal(log_open(&lo, &err), 0);

	chain = creds_chain_new(NULL, op, &err);
	assert_non_null(chain);
	expect_key(chain, "KEY1", "sekrit-one");

	/* The helper leaves a broken file: the old keys still work. */
	rotate(*state, path, "[default]\naws_access_key_id=KEY2\n");
	advance_ms(MINUTE_MS);
	expect_key(chain, "KEY1", "sekrit-one");
	advance_ms(25 * MINUTE_MS); /* past the refresh point, not expiry */
	expect_key(chain, "KEY1", "sekrit-one");

	/* Past expiry: the failure is the caller's, with the reason. */
	advance_ms(5 * MINUTE_MS);
	assert_int_equal(creds_chain_get(chain, &c, &err), -1);
	assert_null(c.access_key_id);
	assert_non_null(strstr(err.msg, "expired and could not be refreshed"));
	assert_non_null(strstr(err.msg, "aws_secret_access_key"));

	/* Fixed by the helper: back in business. */
	rotate(*state, path,
	    "[default]\naws_access_key_id=KEY3\naws_secret_access_key=sekrit-three\n");
	expect_key(chain, "KEY3", "sekrit-three");

	log_close();
	log_text = tu_slurp(log_path);
	assert_non_null(strstr(log_text, "keeping the current ones"));
	assert_null(strstr(log_text, "sekrit"));
	free(log_text);
	creds_chain_free(chain);
	cfg_onprem_free(op);
	free(log_path);
	free(path);
}

static void
chain__session_file_deleted__tolerated_then_error(void **state)
{
	char *path = tu_write(*state, "creds",
	    "[default]\naws_access_key_id=KEY1\naws_secret_access_key=S1\n");
	struct cfg_onprem *op = session_onprem(path);
	struct creds_chain *chain;
	struct creds c = { 0 };
	struct err err = ERR_INIT;

	chain = creds_chain_new(NULL, op, &err);
	assert_non_null(chain);
	assert_int_equal(unlink(path), 0);
	expect_key(chain, "KEY1", "S1");
	advance_ms(31 * MINUTE_MS);
	assert_int_equal(creds_chain_get(chain, &c, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "not found"));
	creds_chain_free(chain);
	cfg_onprem_free(op);
	free(path);
}

/* --- region and host identifier ---------------------------------------------
 */

static void
region_and_host_id__env_then_onprem(void **state)
{
	struct cfg_onprem *op = onprem_from(user_yaml);
	struct creds_chain *chain;
	struct err err = ERR_INIT;
	char *s = NULL;

	(void)state;
	chain = creds_chain_new(NULL, op, &err);
	assert_non_null(chain);
	assert_int_equal(creds_region(chain, &s, &err), 0);
	assert_string_equal(s, "ap-south-1");
	free(s);
	assert_int_equal(creds_host_identifier(chain, &s, &err), 0);
	assert_string_equal(s, "arn:aws:iam::123456789012:user/host-1");
	free(s);
	creds_chain_free(chain);

	setenv("AWS_REGION", "eu-central-1", 1);
	setenv("AWS_HOST_IDENTIFIER", "arn:aws:ec2:eu-central-1:1:instance/i-1",
	    1);
	chain = creds_chain_new(NULL, op, &err);
	assert_non_null(chain);
	assert_int_equal(creds_region(chain, &s, &err), 0);
	assert_string_equal(s, "eu-central-1");
	free(s);
	assert_int_equal(creds_host_identifier(chain, &s, &err), 0);
	assert_string_equal(s, "arn:aws:ec2:eu-central-1:1:instance/i-1");
	free(s);
	creds_chain_free(chain);
	cfg_onprem_free(op);
}

static void
region_and_host_id__nothing_known__v2_messages(void **state)
{
	struct creds_chain *chain;
	struct err err = ERR_INIT;
	char *s = NULL;

	(void)state;
	setenv("AWS_REGION", "", 1); /* empty: not a region */
	chain = creds_chain_new(NULL, NULL, &err);
	assert_non_null(chain);
	assert_int_equal(creds_region(chain, &s, &err), -1);
	assert_null(s);
	assert_non_null(strstr(err.msg,
	    "could not determine AWS region from "
	    "environment or IMDS"));
	err_clear(&err);
	assert_int_equal(creds_host_identifier(chain, &s, &err), -1);
	assert_non_null(strstr(err.msg,
	    "could not determine host identifier "
	    "from environment or IMDS"));
	creds_chain_free(chain);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(ini__default_profile_with_token__all_three_read),
		T(ini__comments_blank_lines_and_crlf__skipped),
		T(ini__blanks_around_equals__trimmed_value_keeps_inner),
		T(ini__empty_session_token__treated_as_absent),
		T(ini__missing_secret__error_names_path_and_key),
		T(ini__empty_access_key__missing_field_error),
		T(ini__no_default_profile__error_names_profile),
		T(ini__several_profiles__only_default_used),
		T(ini__malformed_lines__error_with_line_number),
		T(ini__length_bounds_the_text_and_bom_skipped),
		T(chain__env__beats_onprem_user),
		T(chain__as_sigv4_callback__views_current_credentials),
		T(chain__deprecated_env_names__used_last),
		T(chain__half_an_env_pair__error_names_both),
		T(chain__onprem_user__static_keys_never_refresh),
		T(chain__onprem_without_arn__instance_profile),
		T(chain__session_file__read_at_start_with_30_min_lifetime),
		T(chain__session_file_missing__error_names_path),
		T(chain__session_file_without_key__error_names_path_and_key),
		T(chain__session_file_rotated__picked_up_at_once),
		T(chain__session_file_unchanged_stat__reread_5_min_before_expiry),
		T(chain__failed_refresh__old_creds_kept_until_expiry),
		T(chain__session_file_deleted__tolerated_then_error),
		T(region_and_host_id__env_then_onprem),
		T(region_and_host_id__nothing_known__v2_messages),
	};

	return cmocka_run_group_tests_name("creds", tests, NULL, NULL);
}
