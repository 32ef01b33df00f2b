/*
 * Unit tests for cfg: v1's pinned config tests (§12 config_test.rb,
 * onpremise_config_test.rb), v2's (§14), and our validation messages.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfg.h"
#include "testutil.h"
#include "xalloc.h"

static struct cfg *
load_text(const char *text, int expect_ok)
{
	struct cfg *cfg = cfg_new();
	struct err err = ERR_INIT;
	int r = cfg_load_buffer(cfg, text, strlen(text), "agent.yml", &err);

	if (expect_ok && r < 0)
		fail_msg("unexpected error: %s", err.msg);
	if (!expect_ok && r == 0)
		fail_msg("expected an error for:\n%s", text);
	return cfg;
}

/* Whether any diagnostic of the given kind contains all the needles. */
static int
has_diag(const struct cfg *cfg, int is_error, const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < cfg->ndiags; i++)
		if (cfg->diags[i].is_error == is_error &&
		    strstr(cfg->diags[i].msg, a) != NULL &&
		    (b == NULL || strstr(cfg->diags[i].msg, b) != NULL))
			return 1;
	return 0;
}

static void
defaults__match_v1_table_and_v2_keys(void **state)
{
	struct cfg *cfg = cfg_new();

	assert_string_equal(cfg->program_name, "codedeploy-agent");
	assert_int_equal(cfg->wait_between_runs, 30);
	assert_int_equal(cfg->children, 1);
	assert_int_equal(cfg->kill_agent_max_wait_time_seconds, 7200);
	assert_int_equal(cfg->http_read_timeout, 80);
	assert_int_equal(cfg->max_revisions, 5);
	assert_int_equal(cfg->max_runs_per_worker, 0);
	assert_int_equal(cfg->wait_after_throttle_error, 60);
	assert_int_equal(cfg->wait_after_connection_problem, 5);
	assert_int_equal(cfg->wait_between_spawning_children, 1);
	assert_int_equal(cfg->wait_after_error, 30);
	assert_false(cfg->verbose);
	assert_false(cfg->use_fips_mode);
	assert_false(cfg->enable_auth_policy);
	assert_false(cfg->disable_imds_v1);
	assert_false(cfg->log_aws_wire);
	assert_true(cfg->enable_deployments_log);
	assert_string_equal(cfg->codedeploy_test_profile, "prod");
	assert_string_equal(
	    cfg->ongoing_deployment_tracking, "ongoing-deployment");
	assert_string_equal(cfg->on_premises_config_file,
	    "/etc/codedeploy-agent/conf/codedeploy.onpremises.yml");
	assert_string_equal(
	    cfg->root_dir, "/opt/codedeploy-agent/deployment-root");
	assert_string_equal(cfg->log_dir, "/var/log/aws/codedeploy-agent");
	assert_string_equal(cfg->pid_dir, "/opt/codedeploy-agent/state/.pid");
	assert_string_equal(cfg->plugins, "codedeploy");
	assert_null(cfg->proxy_uri);
	assert_null(cfg->deploy_control_endpoint);
	assert_null(cfg->s3_endpoint_override);
	assert_null(cfg->user);
	assert_null(cfg->group);
	/* v2 §6.1 */
	assert_true(cfg->enable_archive_reuse);
	assert_true(cfg->disable_core_dumps);
	assert_false(cfg->enable_command_port);
	assert_int_equal(cfg->archive_max_extraction_size, 0);
	assert_false(cfg->reject_symlinks_in_bundle);
	assert_false(cfg->reject_path_traversal_in_bundle);
	assert_false(cfg->restrict_hook_env_to_allowlist);
	assert_int_equal(cfg->hook_kill_grace_seconds, 5);
	assert_int_equal(cfg->ndiags, 0);
	cfg_free(cfg);
}

static void
children__not_one__rejected(void **state)
{
	struct cfg *cfg = load_text(":children:\n", 0);

	assert_true(has_diag(cfg, 1, "children can only be set to 1", NULL));
	cfg_free(cfg);
	cfg = load_text(":children: 2\n", 0);
	assert_true(has_diag(cfg, 1,
	    "agent.yml:1: children can only be set "
	    "to 1",
	    NULL));
	cfg_free(cfg);
	cfg = load_text(":children: 1\n", 1);
	assert_int_equal(cfg->ndiags, 0);
	cfg_free(cfg);
}

static void
fips__only_us_regions(void **state)
{
	struct cfg *cfg = load_text(":use_fips_mode: true\n", 1);
	struct err err = ERR_INIT;

	assert_int_equal(cfg_check_fips(cfg, "eu-west-1", &err), -1);
	assert_non_null(strstr(err.msg,
	    "use_fips_mode can be set to true "
	    "only in regions located in the USA"));
	assert_int_equal(cfg_check_fips(cfg, "us-east-1", NULL), 0);
	assert_int_equal(cfg_check_fips(cfg, "us-gov-west-1", NULL), 0);
	cfg->use_fips_mode = 0;
	assert_int_equal(cfg_check_fips(cfg, "eu-west-1", NULL), 0);
	cfg_free(cfg);
}

static void
shipped_conf__sets_wait_between_runs_and_ends_with_newline(void **state)
{
	const char *srcdir = getenv("TOP_SRCDIR");
	char *path = xasprintf(
	    "%s/conf/codedeployagent.yml", srcdir != NULL ? srcdir : ".");
	struct cfg *cfg = cfg_new();
	struct err err = ERR_INIT;
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(cfg->wait_between_runs, 30);
	if (cfg_load_file(cfg, path, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(cfg->wait_between_runs, 1);
	assert_string_equal(cfg->log_dir, "/var/log/aws/codedeploy-agent");
	assert_string_equal(cfg->pid_dir, "/opt/codedeploy-agent/state/.pid");
	assert_null(cfg->proxy_uri);
	assert_int_equal(cfg->ndiags, 0);
	assert_int_equal(fsutil_read_file(path, 65536, &text, &len, &err), 0);
	assert_true(len > 0 && text[len - 1] == '\n');
	free(text);
	cfg_free(cfg);
	free(path);
}

static void
duplicate_keys__last_wins_and_blank_lines_ok(void **state)
{
	struct cfg *cfg = load_text(":program_name: first\n\n\n"
				    ":verbose: true\n:max_revisions: 3\n\n"
				    ":program_name: second\n:verbose: false\n"
				    "max_revisions: 7\n",
	    1);

	assert_string_equal(cfg->program_name, "second");
	assert_false(cfg->verbose);
	assert_int_equal(cfg->max_revisions, 7);
	cfg_free(cfg);
}

static void
symbol_and_plain_keys__equivalent(void **state)
{
	struct cfg *a = load_text(":root_dir: /srv/deploy\n:verbose: yes\n", 1);
	struct cfg *b = load_text("root_dir: /srv/deploy/\nverbose: true\n", 1);

	assert_string_equal(a->root_dir, "/srv/deploy");
	assert_string_equal(b->root_dir, "/srv/deploy");
	assert_true(a->verbose);
	assert_true(b->verbose);
	cfg_free(a);
	cfg_free(b);
}

static void
non_mapping__error_names_file(void **state)
{
	struct cfg *cfg = load_text("- just\n- a list\n", 0);

	assert_true(has_diag(cfg, 1, "agent.yml:1:1:", "mapping"));
	cfg_free(cfg);
	cfg = load_text("just a string\n", 0);
	assert_true(has_diag(cfg, 1, "agent.yml", "mapping"));
	cfg_free(cfg);
}

static void
malformed_yaml__error_names_line(void **state)
{
	struct cfg *cfg = load_text(":verbose: true\n:log_dir: [unclosed\n", 0);

	assert_true(has_diag(cfg, 1, "agent.yml:", NULL));
	assert_int_equal(cfg->nerrors, 1);
	cfg_free(cfg);
}

static void
missing_file__not_readable_message(void **state)
{
	const char *dir = *state;
	char *path = xasprintf("%s/nope.yml", dir);
	struct cfg *cfg = cfg_new();
	struct err err = ERR_INIT;

	assert_int_equal(cfg_load_file(cfg, path, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "does not exist or is not readable"));
	cfg_free(cfg);
	free(path);
}

static void
unreadable_file__says_what_happened(void **state)
{
	const char *dir = *state;
	char *big = xasprintf("%s/big.yml", dir);
	char *text = xmalloc(CFG_MAX_FILE_SIZE + 2);
	struct cfg *cfg = cfg_new();
	struct err err = ERR_INIT;
	FILE *f;

	/* a directory given as -c */
	assert_int_equal(cfg_load_file(cfg, dir, &err), -1);
	assert_non_null(strstr(err.msg, dir));
	assert_non_null(strstr(err.msg, "is a directory"));
	/* over the size limit */
	err_clear(&err);
	memset(text, '#', CFG_MAX_FILE_SIZE + 1);
	f = fopen(big, "w");
	assert_non_null(f);
	assert_int_equal(
	    fwrite(text, 1, CFG_MAX_FILE_SIZE + 1, f), CFG_MAX_FILE_SIZE + 1);
	fclose(f);
	assert_int_equal(cfg_load_file(cfg, big, &err), -1);
	assert_non_null(strstr(err.msg, big));
	assert_non_null(strstr(err.msg, "over the 1048576-byte limit"));
	cfg_free(cfg);
	free(text);
	free(big);
}

static void
invalid_utf8__real_line_and_column(void **state)
{
	struct cfg *cfg = cfg_new();
	struct err err = ERR_INIT;
	static const char text[] = ":verbose: false\n:log_dir: /tmp/caf\xe9\n";

	(void)state;
	assert_int_equal(
	    cfg_load_buffer(cfg, text, sizeof(text) - 1, "agent.yml", &err),
	    -1);
	assert_non_null(strstr(err.msg, "agent.yml:2:19: "));
	assert_non_null(strstr(err.msg, "UTF-8"));
	cfg_free(cfg);
}

static void
unknown_key__kept_with_warning_and_suggestion(void **state)
{
	struct cfg *cfg = load_text(":verbose: true\n:wait_between_run: 5\n"
				    ":totally_new: x\n",
	    1);

	assert_int_equal(cfg->nunknown, 2);
	assert_string_equal(cfg->unknown[0].name, "wait_between_run");
	assert_int_equal(cfg->unknown[0].line, 2);
	assert_true(has_diag(cfg, 0,
	    "agent.yml:2: unknown key "
	    "'wait_between_run'",
	    "did you mean 'wait_between_runs'"));
	assert_true(
	    has_diag(cfg, 0, "agent.yml:3: unknown key 'totally_new'", NULL));
	assert_int_equal(cfg->wait_between_runs, 30);
	cfg_free(cfg);
}

static void
bad_values__name_line_key_and_valid_form(void **state)
{
	struct cfg *cfg = load_text(":max_revisions: 0\n"
				    ":verbose: maybe\n"
				    ":wait_between_runs: soon\n"
				    ":log_dir: relative/logs\n"
				    ":deploy_control_endpoint: ftp://x\n"
				    ":http_read_timeout: [1]\n",
	    0);

	assert_int_equal(cfg->nerrors, 6);
	assert_true(
	    has_diag(cfg, 1, "agent.yml:1: key 'max_revisions'", "1 or more"));
	assert_true(
	    has_diag(cfg, 1, "agent.yml:2: key 'verbose'", "true or false"));
	assert_true(has_diag(cfg, 1, "agent.yml:3: key 'wait_between_runs'",
	    "seconds between polls"));
	assert_true(has_diag(cfg, 1, "agent.yml:4: key 'log_dir'", "absolute"));
	assert_true(has_diag(cfg, 1,
	    "agent.yml:5: key "
	    "'deploy_control_endpoint'",
	    "https://"));
	assert_true(has_diag(cfg, 1,
	    "agent.yml:6: key 'http_read_timeout' "
	    "is a list",
	    NULL));
	/* bad values leave the defaults in place */
	assert_int_equal(cfg->max_revisions, 5);
	assert_string_equal(cfg->log_dir, "/var/log/aws/codedeploy-agent");
	cfg_free(cfg);
}

static void
first_error__returned_with_count(void **state)
{
	struct cfg *cfg = cfg_new();
	struct err err = ERR_INIT;
	const char *text = ":max_revisions: -1\n:verbose: 3\n";

	assert_int_equal(
	    cfg_load_buffer(cfg, text, strlen(text), "a.yml", &err), -1);
	assert_non_null(strstr(err.msg, "a.yml:1: key 'max_revisions'"));
	assert_non_null(strstr(err.msg, "(and 1 more)"));
	cfg_free(cfg);
}

static void
quoted_numbers_and_booleans__accepted(void **state)
{
	struct cfg *cfg = load_text(":max_revisions: '3'\n:verbose: 'true'\n"
				    ":wait_between_runs: 0x10\n",
	    1);

	assert_int_equal(cfg->max_revisions, 3);
	assert_true(cfg->verbose);
	assert_int_equal(cfg->wait_between_runs, 16);
	cfg_free(cfg);
}

static void
kill_wait__capped_at_a_day_with_warning(void **state)
{
	struct cfg *cfg = load_text(":kill_agent_max_wait_time_seconds: "
				    "100000\n",
	    1);

	assert_int_equal(cfg->kill_agent_max_wait_time_seconds, 86400);
	assert_true(
	    has_diag(cfg, 0, "kill_agent_max_wait_time_seconds", "86400"));
	cfg_free(cfg);
}

static void
no_effect_keys__warned(void **state)
{
	struct cfg *cfg = load_text(":max_runs_per_worker: 3\n:user: app\n", 1);

	assert_true(has_diag(cfg, 0,
	    "agent.yml:1: key 'max_runs_per_worker' "
	    "has no effect",
	    NULL));
	assert_true(
	    has_diag(cfg, 0, "agent.yml:2: key 'user' has no effect", "User="));
	assert_string_equal(cfg->user, "app");
	cfg_free(cfg);
}

static void
v2_keys__parse(void **state)
{
	struct cfg *cfg = load_text("disable_imds_v1: true\n"
				    "archive_max_extraction_size: 2GiB\n"
				    "reject_symlinks_in_bundle: true\n"
				    "enable_archive_reuse: false\n"
				    "plugins: [codedeploy]\n",
	    1);

	assert_true(cfg->disable_imds_v1);
	assert_int_equal(cfg->archive_max_extraction_size, 2ULL << 30);
	assert_true(cfg->reject_symlinks_in_bundle);
	assert_false(cfg->enable_archive_reuse);
	assert_string_equal(cfg->plugins, "codedeploy");
	cfg_free(cfg);
	cfg = load_text("archive_max_extraction_size: 1048576\n", 1);
	assert_int_equal(cfg->archive_max_extraction_size, 1048576);
	cfg_free(cfg);
	cfg = load_text("archive_max_extraction_size: 1.5GB\n", 0);
	assert_true(has_diag(cfg, 1, "archive_max_extraction_size", "500MB"));
	cfg_free(cfg);
}

static void
parse_size__v2_units(void **state)
{
	uint64_t v;

	assert_int_equal(cfg_parse_size("500", &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(cfg_parse_size(" 10 kB ", &v), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(cfg_parse_size("3MiB", &v), 0);
	assert_int_equal(v, 3 << 20);
	assert_int_equal(cfg_parse_size("1 tb", &v), 0);
	assert_int_equal(v, 1000000000000ULL);
	assert_int_equal(cfg_parse_size("7b", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(cfg_parse_size("1.5GB", &v), -1);
	assert_int_equal(cfg_parse_size("5 xb", &v), -1);
	assert_int_equal(cfg_parse_size("", &v), -1);
	assert_int_equal(cfg_parse_size("GB", &v), -1);
	assert_int_equal(cfg_parse_size("99999999999999999999", &v), -1);
	assert_int_equal(cfg_parse_size("20000000 TiB", &v), -1);
}

static void
print__every_key_with_value(void **state)
{
	struct cfg *cfg = load_text(":wait_between_runs: 1\n:proxy_uri: "
				    "http://u:pw@proxy:3128\n:bogus: 1\n",
	    1);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	cfg_print(cfg, out);
	fclose(out);
	assert_non_null(strstr(buf, "# config file: agent.yml\n"));
	assert_non_null(strstr(buf, "\nwait_between_runs 1\n"));
	assert_non_null(strstr(buf, "\nmax_revisions 5\n"));
	assert_non_null(strstr(buf, "\nverbose false\n"));
	assert_non_null(strstr(buf,
	    "\nproxy_uri http://u:[REDACTED]@proxy:"
	    "3128\n"));
	assert_non_null(strstr(buf, "\ns3_endpoint_override none\n"));
	assert_non_null(strstr(buf, "\narchive_max_extraction_size none\n"));
	assert_non_null(strstr(buf, "# unknown key ignored: bogus (line 3)"));
	assert_null(strstr(buf, "pw@"));
	free(buf);
	cfg_free(cfg);
}

static void
empty_file__defaults(void **state)
{
	struct cfg *cfg = load_text("", 1);

	assert_int_equal(cfg->wait_between_runs, 30);
	cfg_free(cfg);
}

/* --- on-premises file (v1 onpremise_config_test.rb, v2 credentials.rs) --- */

static struct cfg_onprem *
onprem_text(const char *text, struct err *err)
{
	struct cfg_onprem *op = NULL;

	cfg_onprem_load_buffer(text, strlen(text), "onprem.yml", &op, err);
	return op;
}

static void
onprem__missing_file__ignored(void **state)
{
	const char *dir = *state;
	char *path = xasprintf("%s/none.yml", dir);
	struct cfg_onprem *op = (struct cfg_onprem *)path;
	struct err err = ERR_INIT;

	assert_int_equal(cfg_onprem_load(path, &op, &err), 0);
	assert_null(op);
	free(path);
}

static void
onprem__iam_user(void **state)
{
	struct err err = ERR_INIT;
	struct cfg_onprem *op =
	    onprem_text("region: us-east-1\n"
			"iam_user_arn: arn:aws:iam::123456789012:user/u\n"
			"aws_access_key_id: AKIAIOSFODNN7EXAMPLE\n"
			":aws_secret_access_key: wJalrXUtnFEMI/K7MDENG\n",
		&err);
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	assert_non_null(op);
	assert_int_equal(op->mode, CFG_ONPREM_IAM_USER);
	assert_string_equal(op->region, "us-east-1");
	assert_string_equal(
	    op->iam_user_arn, "arn:aws:iam::123456789012:user/u");
	assert_string_equal(op->aws_access_key_id, "AKIAIOSFODNN7EXAMPLE");
	assert_string_equal(op->aws_secret_access_key, "wJalrXUtnFEMI/K7MDENG");
	out = open_memstream(&buf, &len);
	cfg_onprem_print(op, out);
	fclose(out);
	assert_null(strstr(buf, "wJalr"));
	assert_non_null(strstr(buf,
	    "onprem.aws_secret_access_key "
	    "[REDACTED]\n"));
	assert_non_null(strstr(buf, "onprem.mode iam_user\n"));
	free(buf);
	cfg_onprem_free(op);
}

static void
onprem__iam_session(void **state)
{
	struct err err = ERR_INIT;
	struct cfg_onprem *op =
	    onprem_text("region: us-west-2\n"
			"iam_session_arn: arn:aws:sts::1:assumed-role/r/h\n"
			"aws_credentials_file: /etc/creds\nextra: 1\n",
		&err);

	assert_non_null(op);
	assert_int_equal(op->mode, CFG_ONPREM_IAM_SESSION);
	assert_string_equal(op->aws_credentials_file, "/etc/creds");
	assert_int_equal(op->ndiags, 1);
	assert_non_null(strstr(op->diags[0].msg, "'extra'"));
	cfg_onprem_free(op);
}

static void
onprem__scalar_or_empty__invalid_format(void **state)
{
	struct err err = ERR_INIT;

	assert_null(onprem_text("just a string\n", &err));
	assert_non_null(strstr(err.msg, "onprem.yml"));
	assert_non_null(strstr(err.msg, "format is invalid"));
	err_clear(&err);
	assert_null(onprem_text("", &err));
	assert_non_null(strstr(err.msg, "format is invalid"));
}

static void
onprem__both_arns__rejected(void **state)
{
	struct err err = ERR_INIT;

	assert_null(onprem_text("region: r\niam_user_arn: a\n"
				"iam_session_arn: b\n",
	    &err));
	assert_non_null(strstr(err.msg,
	    "both iam_user_arn and "
	    "iam_session_arn"));
}

static void
onprem__missing_required_key__named(void **state)
{
	struct err err = ERR_INIT;

	assert_null(onprem_text("iam_user_arn: a\naws_access_key_id: k\n"
				"aws_secret_access_key: s\n",
	    &err));
	assert_non_null(strstr(err.msg, "'region'"));
	assert_non_null(strstr(err.msg, "iam_user_arn"));
	err_clear(&err);
	assert_null(onprem_text("region: r\niam_user_arn: a\n"
				"aws_secret_access_key: s\n",
	    &err));
	assert_non_null(strstr(err.msg, "'aws_access_key_id'"));
	err_clear(&err);
	assert_null(onprem_text("region: r\niam_user_arn: a\n"
				"aws_access_key_id: k\n",
	    &err));
	assert_non_null(strstr(err.msg, "'aws_secret_access_key'"));
	err_clear(&err);
	assert_null(onprem_text("region: r\niam_session_arn: a\n", &err));
	assert_non_null(strstr(err.msg, "'aws_credentials_file'"));
	assert_non_null(strstr(err.msg, "iam_session_arn"));
	err_clear(&err);
	assert_null(onprem_text("iam_session_arn: a\naws_credentials_file: "
				"/x\n",
	    &err));
	assert_non_null(strstr(err.msg, "'region'"));
}

static void
onprem__no_arn__ec2_mode(void **state)
{
	struct err err = ERR_INIT;
	struct cfg_onprem *op = onprem_text("region: eu-west-1\n", &err);

	assert_non_null(op);
	assert_int_equal(op->mode, CFG_ONPREM_NONE);
	cfg_onprem_free(op);
}

#define T(name)                                                                \
	cmocka_unit_test_setup_teardown(                                       \
	    name, tu_setup_tmpdir, tu_teardown_tmpdir)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(defaults__match_v1_table_and_v2_keys),
		T(children__not_one__rejected),
		T(fips__only_us_regions),
		T(shipped_conf__sets_wait_between_runs_and_ends_with_newline),
		T(duplicate_keys__last_wins_and_blank_lines_ok),
		T(symbol_and_plain_keys__equivalent),
		T(non_mapping__error_names_file),
		T(malformed_yaml__error_names_line),
		T(missing_file__not_readable_message),
		T(unreadable_file__says_what_happened),
		T(invalid_utf8__real_line_and_column),
		T(unknown_key__kept_with_warning_and_suggestion),
		T(bad_values__name_line_key_and_valid_form),
		T(first_error__returned_with_count),
		T(quoted_numbers_and_booleans__accepted),
		T(kill_wait__capped_at_a_day_with_warning),
		T(no_effect_keys__warned),
		T(v2_keys__parse),
		T(parse_size__v2_units),
		T(print__every_key_with_value),
		T(empty_file__defaults),
		T(onprem__missing_file__ignored),
		T(onprem__iam_user),
		T(onprem__iam_session),
		T(onprem__scalar_or_empty__invalid_format),
		T(onprem__both_arns__rejected),
		T(onprem__missing_required_key__named),
		T(onprem__no_arn__ec2_mode),
	};

	return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
