/*
 * Unit tests for local: the steps of `cdagent local` on their own (the
 * arguments into a struct, the plan of events, the --json document from a
 * report); tests/integration/local.sh runs whole deployments.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "exec.h"
#include "local-int.h"
#include "local.h"
#include "testutil.h"
#include "xalloc.h"

/* local_parse_args() of "local" and the NULL-terminated words. */
static int
parse(struct local_args *a, const char *const *words)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)(uintptr_t) "local";
	while (*words != NULL && argc < 31)
		argv[argc++] = (char *)(uintptr_t)*words++;
	argv[argc] = NULL;
	return local_parse_args(argc, argv, a);
}

#define W(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void
parse_args__no_options__defaults(void **state)
{
	const char *const *argv = W(NULL);
	struct local_args a;

	(void)state;
	unsetenv("CODEDEPLOY_GITHUB_TOKEN");
	assert_int_equal(parse(&a, argv), -1);
	assert_string_equal(a.location, ".");
	assert_string_equal(a.type, "directory");
	assert_string_equal(a.feb, "DISALLOW");
	assert_string_equal(a.group, "default-local-deployment-group");
	assert_string_equal(a.group_name, "LocalFleet");
	assert_null(a.app_name);
	assert_null(a.events);
	assert_null(a.config);
	assert_null(a.appspec);
	assert_null(a.github_token);
	assert_false(a.json);
}

static void
parse_args__every_option__its_field(void **state)
{
	const char *const *argv = W("-l", "/b", "--type", "tgz", "-b",
	    "OVERWRITE", "--deployment-group", "g", "-d", "gn", "-a", "app",
	    "--events", "Install", "-c", "/c.yml", "-A", "spec.yml",
	    "--github-token", "tok", "--json");
	struct local_args a;

	(void)state;
	assert_int_equal(parse(&a, argv), -1);
	assert_string_equal(a.location, "/b");
	assert_string_equal(a.type, "tgz");
	assert_string_equal(a.feb, "OVERWRITE");
	assert_string_equal(a.group, "g");
	assert_string_equal(a.group_name, "gn");
	assert_string_equal(a.app_name, "app");
	assert_string_equal(a.events, "Install");
	assert_string_equal(a.config, "/c.yml");
	assert_string_equal(a.appspec, "spec.yml");
	assert_string_equal(a.github_token, "tok");
	assert_true(a.json);
}

static void
parse_args__github_token__option_else_environment(void **state)
{
	const char *const *plain = W(NULL);
	const char *const *empty = W("--github-token", "");
	const char *const *given = W("--github-token", "mine");
	struct local_args a;

	(void)state;
	setenv("CODEDEPLOY_GITHUB_TOKEN", "from-env", 1);
	assert_int_equal(parse(&a, plain), -1);
	assert_string_equal(a.github_token, "from-env");
	assert_int_equal(parse(&a, empty), -1);
	assert_string_equal(a.github_token, "from-env");
	assert_int_equal(parse(&a, given), -1);
	assert_string_equal(a.github_token, "mine");
	unsetenv("CODEDEPLOY_GITHUB_TOKEN");
}

static void
parse_args__bad_command_line__usage_status(void **state)
{
	const char *const *unknown = W("--no-such");
	const char *const *no_value = W("-l");
	const char *const *extra = W("-t", "zip", "stray");
	struct local_args a;

	(void)state;
	assert_int_equal(parse(&a, unknown), LOCAL_EXIT_USAGE);
	assert_int_equal(parse(&a, no_value), LOCAL_EXIT_USAGE);
	assert_int_equal(parse(&a, extra), LOCAL_EXIT_USAGE);
}

static void
parse_args__help_and_version__exit_0(void **state)
{
	const char *const *help = W("-h");
	const char *const *version = W("--version");
	struct local_args a;

	(void)state;
	assert_int_equal(parse(&a, help), 0);
	assert_int_equal(parse(&a, version), 0);
}

/* The plan's run list joined with ',' (and all's, when all_out). */
static char *
plan(const char *text, int *status, char **all_out)
{
	char **run = NULL, **all = NULL;
	size_t nrun = 0, nall = 0, i;
	char *joined = xstrdup(""), *next;

	*status = local_plan_events(text, &run, &nrun, &all, &nall);
	for (i = 0; i < nrun; i++) {
		next = xasprintf("%s%s%s", joined, i > 0 ? "," : "", run[i]);
		free(joined);
		joined = next;
	}
	if (all_out != NULL) {
		*all_out = xstrdup("");
		for (i = 0; i < nall; i++) {
			next = xasprintf(
			    "%s%s%s", *all_out, i > 0 ? "," : "", all[i]);
			free(*all_out);
			*all_out = next;
		}
	}
	local_free_list(run, nrun);
	local_free_list(all, nall);
	return joined;
}

static void
plan_events__default_and_given(void **state)
{
	static const char eleven[] =
	    "BeforeBlockTraffic,AfterBlockTraffic,ApplicationStop,"
	    "DownloadBundle,BeforeInstall,Install,AfterInstall,"
	    "ApplicationStart,ValidateService,BeforeAllowTraffic,"
	    "AfterAllowTraffic";
	char *run, *all;
	int status;

	(void)state;
	run = plan(NULL, &status, &all);
	assert_int_equal(status, 0);
	assert_string_equal(run, eleven);
	assert_string_equal(all, eleven);
	free(run);
	free(all);
	/* DownloadBundle and Install added; a custom event joins all */
	run = plan("ApplicationStop,Custom1,ApplicationStart", &status, &all);
	assert_int_equal(status, 0);
	assert_string_equal(run,
	    "DownloadBundle,Install,ApplicationStop,Custom1,"
	    "ApplicationStart");
	assert_non_null(strstr(all, "AfterAllowTraffic,Custom1"));
	free(run);
	free(all);
	/* Install is never run before DownloadBundle */
	run = plan("DownloadBundle", &status, NULL);
	assert_string_equal(run, "DownloadBundle,Install");
	free(run);
}

static void
plan_events__bad_lists__usage_status(void **state)
{
	static const char *const bad[] = {
		"ApplicationStart,,ValidateService", /* empty entry */
		"",
		"applicationStart",	       /* not PascalCase */
		"AfterInstall,DownloadBundle", /* needs the new revision */
		"ApplicationStart,Install",
	};
	size_t i;
	int status;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		free(plan(bad[i], &status, NULL));
		assert_int_equal(status, LOCAL_EXIT_USAGE);
	}
}

static void
print_json__report__exact_document(void **state)
{
	char *dir = tu_mkdtemp(), *logs, *text = NULL, *expect;
	struct local_event events[3] = {
		{ "DownloadBundle", "Succeeded", 12, -1, NULL },
		{ "ApplicationStart", "Failed", 3400, 3,
		    xstrdup("it \"failed\"") },
		{ "ValidateService", "NotRun", 0, -1, NULL },
	};
	char *warnings[] = { xstrdup("w1") };
	struct local_report rep;
	struct exec_spec spec;
	size_t size = 0;
	FILE *out;

	(void)state;
	logs = xasprintf("%s/logs", dir);
	mkdir(logs, 0755);
	free(tu_write(logs, "scripts.log", "x\n"));
	memset(&spec, 0, sizeof(spec));
	spec.deployment_id = xstrdup("d-ABCDEFGHI-local");
	spec.deployment_group_id = xstrdup("dg");
	memset(&rep, 0, sizeof(rep));
	rep.droot = xstrdup(dir);
	rep.agent_log = xasprintf("%s/no-such.log", dir);
	rep.events = xcalloc(3, sizeof(*rep.events));
	memcpy(rep.events, events, sizeof(events));
	rep.nevents = 3;
	rep.warnings = xcalloc(1, sizeof(char *));
	rep.warnings[0] = warnings[0];
	rep.nwarnings = 1;
	rep.error = xstrdup("it \"failed\"");
	rep.total_ms = 3456;
	out = open_memstream(&text, &size);
	assert_non_null(out);
	local_print_json(out, &rep, &spec, 0);
	fclose(out);
	expect = xasprintf(
	    "{\"deployment_id\":\"d-ABCDEFGHI-local\","
	    "\"deployment_group_id\":\"dg\",\"status\":\"Failed\","
	    "\"duration_ms\":3456,\"error\":\"it \\\"failed\\\"\","
	    "\"events\":[{\"name\":\"DownloadBundle\",\"status\":"
	    "\"Succeeded\",\"duration_ms\":12,\"exit_code\":null,\"error\":"
	    "null},{\"name\":\"ApplicationStart\",\"status\":\"Failed\","
	    "\"duration_ms\":3400,\"exit_code\":3,\"error\":\"it "
	    "\\\"failed\\\"\"},{\"name\":\"ValidateService\",\"status\":"
	    "\"NotRun\",\"duration_ms\":0,\"exit_code\":null,\"error\":null}],"
	    "\"warnings\":[\"w1\"],\"deployment_root\":\"%s\",\"logs\":"
	    "{\"scripts\":\"%s/scripts.log\",\"agent\":null}}\n",
	    dir, logs);
	assert_string_equal(text, expect);
	free(expect);
	free(text);
	local_report_clear(&rep);
	exec_spec_clear(&spec);
	assert_null(rep.droot);
	free(logs);
	tu_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_args__no_options__defaults),
		cmocka_unit_test(parse_args__every_option__its_field),
		cmocka_unit_test(
		    parse_args__github_token__option_else_environment),
		cmocka_unit_test(parse_args__bad_command_line__usage_status),
		cmocka_unit_test(parse_args__help_and_version__exit_0),
		cmocka_unit_test(plan_events__default_and_given),
		cmocka_unit_test(plan_events__bad_lists__usage_status),
		cmocka_unit_test(print_json__report__exact_document),
	};

	return cmocka_run_group_tests_name("local", tests, NULL, NULL);
}
