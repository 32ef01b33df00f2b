/*
 * Unit tests for appspec: v1's pinned cases (§12
 * application_specification_test.rb), v1 bug 28 fixed, our messages
 * (file:line:col, key, what is allowed), warnings, the glob and the file
 * lookup of appspec_load.
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "appspec.h"
#include "testutil.h"
#include "xalloc.h"

#define HDR "version: 0.0\nos: linux\n"

static struct appspec *
parse_opts(const char *text, const struct appspec_opts *opts)
{
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;

	if (appspec_parse(
		text, strlen(text), "appspec.yml", opts, &spec, &err) < 0)
		fail_msg("unexpected error: %s\nfor:\n%s", err.msg, text);
	assert_non_null(spec);
	return spec;
}

static struct appspec *
parse_ok(const char *text)
{
	return parse_opts(text, NULL);
}

/*
 * Parse text expecting failure; every NULL-terminated needle must appear in
 * the message.
 */
static void
parse_fails_opts(const struct appspec_opts *opts, const char *text, ...)
{
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;
	const char *needle;
	va_list ap;

	if (appspec_parse(
		text, strlen(text), "appspec.yml", opts, &spec, &err) == 0) {
		appspec_free(spec);
		fail_msg("expected an error for:\n%s", text);
	}
	assert_null(spec);
	assert_true(err.code == E_INVALID || err.code == E_PARSE);
	va_start(ap, text);
	while ((needle = va_arg(ap, const char *)) != NULL)
		if (strstr(err.msg, needle) == NULL) {
			va_end(ap);
			fail_msg("message lacks '%s':\n%s", needle, err.msg);
		}
	va_end(ap);
}

#define parse_fails(...) parse_fails_opts(NULL, __VA_ARGS__, NULL)

/* The one script of the one hook of an appspec with a script body. */
static struct appspec *
parse_script(const char *body)
{
	char *text = xasprintf(HDR "hooks:\n  BeforeInstall:\n    - location: "
				   "a.sh\n%s",
	    body);
	struct appspec *spec = parse_ok(text);

	free(text);
	assert_int_equal(spec->nhooks, 1);
	assert_int_equal(spec->hooks[0].nscripts, 1);
	return spec;
}

/* The first permission of an appspec whose permission body is given. */
static struct appspec *
parse_perm(const char *body)
{
	char *text =
	    xasprintf(HDR "permissions:\n  - object: /opt/app\n%s", body);
	struct appspec *spec = parse_ok(text);

	free(text);
	assert_int_equal(spec->npermissions, 1);
	return spec;
}

static void
perm_fails(const char *body, const char *needle, const char *needle2)
{
	char *text =
	    xasprintf(HDR "permissions:\n  - object: /opt/app\n%s", body);

	parse_fails(text, needle, needle2);
	free(text);
}

static int
has_warning(const struct appspec *spec, const char *needle)
{
	size_t i;

	for (i = 0; i < spec->nwarnings; i++)
		if (strstr(spec->warnings[i], needle) != NULL)
			return 1;
	return 0;
}

/* --- document ------------------------------------------------------- */

static void
empty_or_blank__rejected_as_empty(void **state)
{
	static const char *const texts[] = { "", "   \n\t\n  \n",
		"# only a comment\n\n", "---\n", "~\n" };
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		parse_fails(texts[i], "appspec.yml:1:1: ", "appspec is empty");
}

/* Issue 14: libyaml's reader errors came out as 1:1 whatever the line. */
static void
invalid_utf8__real_line_and_column(void **state)
{
	parse_fails("version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n"
		    "    - location: caf\xe9.sh\n",
	    "appspec.yml:5:20: ", "UTF-8");
	parse_fails("version: 0.0\nos: linux\nfiles:\n  - source: a\x01\n",
	    "appspec.yml:4:14: ", "control characters");
}

static void
top_level_not_mapping__says_what_was_found(void **state)
{
	parse_fails("- version: 0.0\n", "appspec.yml:1:1: ", "not a list");
	parse_fails("just words\n", "appspec.yml:1:1: ", "not a string");
}

static void
malformed_yaml__parse_error_with_position(void **state)
{
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;
	const char *text = HDR "hooks:\n  BeforeInstall: [\n";

	assert_int_equal(
	    appspec_parse(text, strlen(text), "appspec.yml", NULL, &spec, &err),
	    -1);
	assert_int_equal(err.code, E_PARSE);
	assert_non_null(strstr(err.msg, "appspec.yml:"));
}

static void
version__missing_or_invalid__rejected(void **state)
{
	parse_fails(
	    "os: linux\n", "appspec.yml:1:1: version: missing", "version: 0.0");
	parse_fails("version: 1.0\nos: linux\n",
	    "appspec.yml:1:10: version: version '1.0' is not supported",
	    "give version: 0.0");
	parse_fails("version:\nos: linux\n", "version: has no value");
	parse_fails("version: [0]\nos: linux\n", "version: is a list");
	parse_fails("version: \"zero\"\nos: linux\n", "'zero'");
	parse_fails("version: 0.1\nos: linux\n", "'0.1'");
}

/* Bug 28: v1 rejected a quoted "0.0"; every numeric zero passes. */
static void
version__numeric_zero_and_quoted__accepted(void **state)
{
	static const char *const versions[] = { "0", "0.0", "0.00", "-0.0",
		"\"0.0\"", "'0.0'", "'0'", "0x0", "00" };
	size_t i;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		char *text = xasprintf("version: %s\nos: linux\n", versions[i]);

		appspec_free(parse_ok(text));
		free(text);
	}
}

static void
os__missing_or_not_linux__rejected(void **state)
{
	struct appspec *spec;

	parse_fails(
	    "version: 0.0\n", "appspec.yml:1:1: os: missing", "allowed: linux");
	parse_fails("version: 0.0\nos: windows\n",
	    "appspec.yml:2:5: os: 'windows' is not supported",
	    "allowed: linux (windows is not supported on this agent)");
	parse_fails("version: 0.0\nos: Linux\n", "'Linux'");
	parse_fails("version: 0.0\nos:\n", "os: is null");
	spec = parse_ok("version: 0.0\nos: 'linux'\n");
	assert_string_equal(spec->os, "linux");
	appspec_free(spec);
}

static void
no_hooks_files_permissions__empty(void **state)
{
	struct appspec *spec = parse_ok(HDR);

	assert_int_equal(spec->nhooks, 0);
	assert_null(spec->hooks);
	assert_int_equal(spec->nfiles, 0);
	assert_int_equal(spec->npermissions, 0);
	assert_int_equal(spec->nwarnings, 0);
	assert_int_equal(spec->file_exists_behavior, APPSPEC_FEB_UNSET);
	assert_string_equal(spec->path, "appspec.yml");
	appspec_free(spec);

	spec = parse_ok(HDR "hooks:\nfiles:\npermissions:\n"
			    "file_exists_behavior:\n");
	assert_int_equal(spec->nhooks + spec->nfiles + spec->npermissions, 0);
	appspec_free(spec);
}

static void
unknown_top_level_key__warning_with_position(void **state)
{
	struct appspec *spec = parse_ok(HDR "foo: bar\nhook:\n  x: 1\n");

	assert_int_equal(spec->nwarnings, 2);
	assert_string_equal(
	    spec->warnings[0], "appspec.yml:3:1: unknown key 'foo' ignored");
	assert_string_equal(spec->warnings[1],
	    "appspec.yml:4:1: unknown key 'hook' ignored; did you mean "
	    "'hooks'?");
	appspec_free(spec);
}

static void
odd_top_level_keys__warned(void **state)
{
	struct appspec *spec = parse_ok(HDR "? [a, b]\n: 1\nos: linux\n");

	assert_true(has_warning(spec, "appspec.yml:3:3: a list as a key"));
	assert_true(has_warning(
	    spec, "appspec.yml:5:1: key 'os' given again (first at line 2)"));
	appspec_free(spec);
}

static void
many_warnings__capped_with_count(void **state)
{
	char *text = xstrdup(HDR);
	struct appspec *spec;
	int i;

	for (i = 0; i < 100; i++) {
		char *next = xasprintf("%sunknown_%d: 1\n", text, i);

		free(text);
		text = next;
	}
	spec = parse_ok(text);
	assert_int_equal(spec->nwarnings, 65);
	assert_non_null(
	    strstr(spec->warnings[64], "36 more warnings not shown"));
	appspec_free(spec);
	free(text);
}

static void
aliases__accepted(void **state)
{
	struct appspec *spec = parse_ok(HDR "x-s: &s\n  location: c.sh\n"
					    "hooks:\n  BeforeInstall:\n"
					    "    - *s\n  AfterInstall:\n"
					    "    - *s\n");

	assert_int_equal(spec->nhooks, 2);
	assert_string_equal(spec->hooks[1].scripts[0].location, "c.sh");
	appspec_free(spec);
}

static void
feb__exact_upper_case_only(void **state)
{
	static const struct {
		const char *text;
		enum appspec_feb feb;
	} ok[] = {
		{ "DISALLOW", APPSPEC_FEB_DISALLOW },
		{ "OVERWRITE", APPSPEC_FEB_OVERWRITE },
		{ "'RETAIN'", APPSPEC_FEB_RETAIN },
		{ "", APPSPEC_FEB_UNSET },
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *text =
		    xasprintf(HDR "file_exists_behavior: %s\n", ok[i].text);
		struct appspec *spec = parse_ok(text);

		assert_int_equal(spec->file_exists_behavior, ok[i].feb);
		appspec_free(spec);
		free(text);
	}
	parse_fails(HDR "file_exists_behavior: overwrite\n",
	    "appspec.yml:3:23: file_exists_behavior: 'overwrite' is not a "
	    "file-exists behaviour",
	    "allowed: DISALLOW, OVERWRITE, RETAIN");
	parse_fails(HDR "file_exists_behavior: [RETAIN]\n",
	    "file_exists_behavior: is a list");
}

static void
parse_feb__folds_case_only_when_asked(void **state)
{
	enum appspec_feb feb = APPSPEC_FEB_UNSET;

	assert_int_equal(appspec_parse_feb("overwrite", 1, &feb), 0);
	assert_int_equal(feb, APPSPEC_FEB_OVERWRITE);
	assert_int_equal(appspec_parse_feb("Retain", 1, &feb), 0);
	assert_int_equal(feb, APPSPEC_FEB_RETAIN);
	assert_int_equal(appspec_parse_feb("overwrite", 0, &feb), -1);
	assert_int_equal(appspec_parse_feb("DISALLOW", 0, &feb), 0);
	assert_int_equal(feb, APPSPEC_FEB_DISALLOW);
	assert_int_equal(appspec_parse_feb("", 1, &feb), -1);
	assert_int_equal(appspec_parse_feb(NULL, 1, &feb), -1);
	assert_string_equal(appspec_feb_name(APPSPEC_FEB_RETAIN), "RETAIN");
	assert_string_equal(appspec_feb_name(APPSPEC_FEB_UNSET), "");
}

/* --- hooks ---------------------------------------------------------- */

static void
hooks__runas_sudo_timeout__kept(void **state)
{
	struct appspec *spec = parse_ok(HDR "hooks:\n  AfterInstall:\n"
					    "    - location: scripts/a.sh\n"
					    "      runas: deploy\n"
					    "      sudo: true\n"
					    "      timeout: 180\n");
	const struct appspec_script *s = &spec->hooks[0].scripts[0];

	assert_string_equal(spec->hooks[0].event, "AfterInstall");
	assert_int_equal(spec->hooks[0].line, 4);
	assert_int_equal(spec->hooks[0].col, 3);
	assert_string_equal(s->location, "scripts/a.sh");
	assert_string_equal(s->runas, "deploy");
	assert_true(s->sudo);
	assert_int_equal(s->timeout, 180);
	assert_int_equal(s->line, 5);
	assert_int_equal(s->col, 7);
	assert_int_equal(spec->nwarnings, 0);
	appspec_free(spec);
}

static void
hooks__no_timeout__default_3600(void **state)
{
	struct appspec *spec = parse_script("");
	const struct appspec_script *s = &spec->hooks[0].scripts[0];

	assert_int_equal(s->timeout, 3600);
	assert_null(s->runas);
	assert_false(s->sudo);
	appspec_free(spec);
	spec = parse_script("      timeout:\n");
	assert_int_equal(spec->hooks[0].scripts[0].timeout, 3600);
	appspec_free(spec);
}

static void
hooks__null_hook__dropped_and_empty_list_kept(void **state)
{
	struct appspec *spec = parse_ok(HDR "hooks:\n  BeforeInstall:\n"
					    "  AfterInstall: []\n"
					    "  ApplicationStart: ~\n");

	assert_int_equal(spec->nhooks, 1);
	assert_null(appspec_find_hook(spec, "BeforeInstall"));
	assert_null(appspec_find_hook(spec, "ApplicationStart"));
	assert_non_null(appspec_find_hook(spec, "AfterInstall"));
	assert_int_equal(appspec_find_hook(spec, "AfterInstall")->nscripts, 0);
	appspec_free(spec);
}

static void
hooks__missing_or_empty_location__rejected(void **state)
{
	parse_fails(HDR "hooks:\n  BeforeInstall:\n    - timeout: 5\n",
	    "appspec.yml:5:7: hooks.BeforeInstall[0]: script with no location");
	parse_fails(HDR "hooks:\n  BeforeInstall:\n    - location:\n",
	    "hooks.BeforeInstall[0].location: has no value");
	parse_fails(HDR "hooks:\n  BeforeInstall:\n    - location: '  '\n",
	    "appspec.yml:5:17: hooks.BeforeInstall[0].location: is empty");
	parse_fails(HDR "hooks:\n  BeforeInstall:\n    - location: [a]\n",
	    "hooks.BeforeInstall[0].location: is a list");
}

static void
hooks__location_and_runas__stripped(void **state)
{
	struct appspec *spec = parse_script("      runas: \" deploy \\t\"\n");

	assert_string_equal(spec->hooks[0].scripts[0].runas, "deploy");
	appspec_free(spec);
	spec = parse_ok(HDR "hooks:\n  BeforeInstall:\n"
			    "    - location: \"  s/a.sh\\n\"\n");
	assert_string_equal(spec->hooks[0].scripts[0].location, "s/a.sh");
	appspec_free(spec);
	parse_fails(HDR "hooks:\n  BeforeInstall:\n    - location: a\n"
			"      runas: ' '\n",
	    "hooks.BeforeInstall[0].runas: is empty");
}

static void
hooks__timeout_foo_or_not_positive__rejected(void **state)
{
	static const char *const bad[] = { "foo", "0", "-5", "'0'", "0.5",
		".inf" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = xasprintf(HDR "hooks:\n  BeforeInstall:\n"
					   "    - location: a\n"
					   "      timeout: %s\n",
		    bad[i]);

		parse_fails(text,
		    "appspec.yml:6:16: hooks.BeforeInstall[0].timeout: "
		    "invalid timeout",
		    "greater than 0");
		free(text);
	}
	parse_fails(HDR "hooks:\n  BeforeInstall:\n    - location: a\n"
			"      timeout: yes\n",
	    "timeout: is a boolean");
	parse_fails(HDR "hooks:\n  BeforeInstall:\n    - location: a\n"
			"      timeout: {s: 1}\n",
	    "timeout: is a mapping");
	parse_fails(HDR "hooks:\n  BeforeInstall:\n    - location: a\n"
			"      timeout: 99999999999\n",
	    "too large");
}

/* v1 converts Ruby-style; where that is surprising we warn. */
static void
hooks__timeout_conversions__as_v1_with_warnings(void **state)
{
	static const struct {
		const char *text;
		unsigned timeout;
		const char *warning; /* NULL: none */
	} cases[] = {
		{ "30", 30, NULL },
		{ "\"30\"", 30, NULL },
		{ "1_000", 1000, NULL },
		{ "0x10", 16, NULL },
		{ "30.9", 30,
		    "30.9 read as 30 seconds (the fraction is dropped)" },
		{ "'30.9'", 30, "'30.9' read as 30 seconds" },
		{ "5m", 5,
		    "'5m' read as 5 seconds (only the leading digits "
		    "count); write timeout: 5" },
		{ "\"5 minutes\"", 5, "'5 minutes' read as 5 seconds" },
		{ "010", 8,
		    "010 has a leading zero, so YAML reads it as "
		    "octal: 8 seconds" },
		{ "'010'", 10, NULL },
		{ "1:30", 90, "1:30 read as 90 seconds" },
		{ "1,000", 1000, "1,000 read as 1000 seconds" },
		{ "1e3", 1, "'1e3' read as 1 seconds" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = xasprintf("      timeout: %s\n", cases[i].text);
		struct appspec *spec = parse_script(body);

		if (spec->hooks[0].scripts[0].timeout != cases[i].timeout)
			fail_msg("timeout %s read as %u, want %u",
			    cases[i].text, spec->hooks[0].scripts[0].timeout,
			    cases[i].timeout);
		if (cases[i].warning == NULL) {
			if (spec->nwarnings != 0)
				fail_msg("timeout %s: unexpected warning %s",
				    cases[i].text, spec->warnings[0]);
		} else {
			assert_int_equal(spec->nwarnings, 1);
			if (strstr(spec->warnings[0], cases[i].warning) ==
				NULL ||
			    strstr(spec->warnings[0],
				"appspec.yml:6:16: "
				"hooks.BeforeInstall[0].timeout: ") == NULL)
				fail_msg("timeout %s: warning '%s'",
				    cases[i].text, spec->warnings[0]);
		}
		appspec_free(spec);
		free(body);
	}
}

static void
hooks__sudo__ruby_truthiness(void **state)
{
	static const struct {
		const char *text;
		int sudo;
	} cases[] = {
		{ "true", 1 },
		{ "yes", 1 },
		{ "\"false\"", 1 },
		{ "0", 1 },
		{ "[]", 1 },
		{ "false", 0 },
		{ "no", 0 },
		{ "Off", 0 },
		{ "", 0 },
		{ "~", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = xasprintf("      sudo: %s\n", cases[i].text);
		struct appspec *spec = parse_script(body);

		if (spec->hooks[0].scripts[0].sudo != cases[i].sudo)
			fail_msg("sudo: %s read as %d", cases[i].text,
			    spec->hooks[0].scripts[0].sudo);
		appspec_free(spec);
		free(body);
	}
}

static void
hooks__script_order__preserved(void **state)
{
	struct appspec *spec = parse_ok(HDR "hooks:\n  ApplicationStart:\n"
					    "    - location: one\n"
					    "    - location: two\n"
					    "    - location: three\n");
	const struct appspec_hook *hook =
	    appspec_find_hook(spec, "ApplicationStart");

	assert_non_null(hook);
	assert_int_equal(hook->nscripts, 3);
	assert_string_equal(hook->scripts[0].location, "one");
	assert_string_equal(hook->scripts[1].location, "two");
	assert_string_equal(hook->scripts[2].location, "three");
	appspec_free(spec);
}

static void
hooks__item_or_value_of_wrong_kind__rejected(void **state)
{
	parse_fails(HDR "hooks:\n  BeforeInstall:\n    - scripts/a.sh\n",
	    "appspec.yml:5:7: hooks.BeforeInstall[0]: is a string; each "
	    "script must be a mapping");
	parse_fails(HDR "hooks:\n  BeforeInstall:\n    -\n",
	    "hooks.BeforeInstall[0]: is null");
	parse_fails(HDR "hooks:\n  BeforeInstall: scripts/a.sh\n",
	    "appspec.yml:4:18: hooks.BeforeInstall: is a string; give a list "
	    "of scripts");
	parse_fails(HDR "hooks:\n  - BeforeInstall\n",
	    "appspec.yml:4:3: hooks: is a list; give a mapping");
	parse_fails(HDR "hooks:\n  ? [a]\n  : []\n",
	    "appspec.yml:4:5: hooks: a lifecycle event name must be a string");
}

static void
hooks__unknown_event__error_with_position_and_suggestion(void **state)
{
	parse_fails(HDR "hooks:\n  BeforeInstall: []\n  BeforInstal:\n"
			"    - location: a\n",
	    "appspec.yml:5:3: hooks.BeforInstal: unknown lifecycle event "
	    "'BeforInstal' (did you mean 'BeforeInstall'?); allowed: ",
	    "ApplicationStop, BeforeInstall, AfterInstall, ApplicationStart, "
	    "ValidateService, BeforeBlockTraffic, AfterBlockTraffic, "
	    "BeforeAllowTraffic, AfterAllowTraffic");
	parse_fails(HDR "hooks:\n  validateservice: []\n",
	    "did you mean 'ValidateService'?");
	/* a null value does not hide a misspelt name */
	parse_fails(HDR "hooks:\n  AfterInstal:\n", "'AfterInstal'",
	    "did you mean 'AfterInstall'?");
}

static void
hooks__unknown_event_far_from_any__no_suggestion(void **state)
{
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;
	const char *text = HDR "hooks:\n  Deploy: []\n";

	assert_int_equal(
	    appspec_parse(text, strlen(text), "appspec.yml", NULL, &spec, &err),
	    -1);
	assert_non_null(strstr(err.msg,
	    "appspec.yml:4:3: hooks.Deploy: "
	    "unknown lifecycle event 'Deploy'"));
	assert_null(strstr(err.msg, "did you mean"));
}

static void
hooks__install_and_download_bundle__rejected(void **state)
{
	static const char *const custom[] = { "Install" };
	const struct appspec_opts opts = { custom, 1 };

	parse_fails(HDR "hooks:\n  Install:\n    - location: a\n",
	    "appspec.yml:4:3: hooks.Install: unknown lifecycle event "
	    "'Install' (the agent runs Install itself; it cannot have "
	    "scripts); allowed: ApplicationStop");
	parse_fails(HDR "hooks:\n  DownloadBundle: []\n",
	    "hooks.DownloadBundle: unknown lifecycle event 'DownloadBundle' "
	    "(the agent runs DownloadBundle itself");
	/* not even when a caller lists it as custom */
	parse_fails_opts(&opts, HDR "hooks:\n  Install: []\n",
	    "hooks.Install: unknown lifecycle event", NULL);
}

static void
hooks__custom_event__allowed_via_opts(void **state)
{
	static const char *const custom[] = { "Smoke", "WarmCache" };
	const struct appspec_opts opts = { custom, 2 };
	const char *text = HDR "hooks:\n  WarmCache:\n    - location: w.sh\n"
			       "  BeforeInstall: []\n";
	struct appspec *spec = parse_opts(text, &opts);

	assert_int_equal(spec->nhooks, 2);
	assert_string_equal(spec->hooks[0].event, "WarmCache");
	assert_false(appspec_is_standard_hook("WarmCache"));
	appspec_free(spec);
	parse_fails(text, "hooks.WarmCache: unknown lifecycle event");
	parse_fails_opts(&opts, HDR "hooks:\n  WarmCach: []\n",
	    "did you mean 'WarmCache'?", "AfterAllowTraffic, Smoke, WarmCache",
	    NULL);
}

static void
hooks__duplicate_event__last_wins_with_warning(void **state)
{
	struct appspec *spec = parse_ok(HDR "hooks:\n  BeforeInstall:\n"
					    "    - location: first\n"
					    "  BeforeInstall:\n"
					    "    - location: second\n");

	assert_int_equal(spec->nhooks, 1);
	assert_string_equal(spec->hooks[0].scripts[0].location, "second");
	assert_true(has_warning(spec,
	    "appspec.yml:4:3: hooks.BeforeInstall: given again at line 6; "
	    "the last one wins"));
	appspec_free(spec);
}

static void
hooks__unknown_script_key__warned(void **state)
{
	struct appspec *spec = parse_script("      timout: 5\n");

	assert_int_equal(spec->hooks[0].scripts[0].timeout, 3600);
	assert_int_equal(spec->nwarnings, 1);
	assert_string_equal(spec->warnings[0],
	    "appspec.yml:6:7: hooks.BeforeInstall[0]: unknown key 'timout' "
	    "ignored; did you mean 'timeout'?");
	appspec_free(spec);
}

static void
is_standard_hook__nine_names(void **state)
{
	static const char *const names[] = { "ApplicationStop", "BeforeInstall",
		"AfterInstall", "ApplicationStart", "ValidateService",
		"BeforeBlockTraffic", "AfterBlockTraffic", "BeforeAllowTraffic",
		"AfterAllowTraffic" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_true(appspec_is_standard_hook(names[i]));
	assert_false(appspec_is_standard_hook("Install"));
	assert_false(appspec_is_standard_hook("DownloadBundle"));
	assert_false(appspec_is_standard_hook("beforeinstall"));
}

/* --- files ---------------------------------------------------------- */

static void
files__parsed_in_order(void **state)
{
	struct appspec *spec = parse_ok(HDR "files:\n"
					    "  - source: /\n"
					    "    destination: /var/www\n"
					    "  - source: ''\n"
					    "    destination: /srv\n"
					    "  - source: 5\n"
					    "    destination: /opt/five\n");

	assert_int_equal(spec->nfiles, 3);
	assert_string_equal(spec->files[0].source, "/");
	assert_string_equal(spec->files[0].destination, "/var/www");
	assert_int_equal(spec->files[0].line, 4);
	assert_int_equal(spec->files[0].col, 5);
	assert_string_equal(spec->files[1].source, "");
	assert_string_equal(spec->files[2].source, "5");
	appspec_free(spec);
}

static void
files__missing_destination__names_source(void **state)
{
	parse_fails(HDR "files:\n  - source: build/app\n",
	    "appspec.yml:4:5: files[0]: missing destination for source "
	    "'build/app'",
	    "give an absolute path");
	parse_fails(HDR "files:\n  - source: a\n    destination:\n",
	    "appspec.yml:5:17: files[0].destination: missing destination "
	    "for source 'a'");
	parse_fails(HDR "files:\n  - source: a\n    destination: ''\n",
	    "files[0].destination: is empty for source 'a'");
}

static void
files__relative_destination__error_names_line(void **state)
{
	parse_fails(HDR
	    "files:\n  - source: a\n    destination: relative/dir\n",
	    "appspec.yml:5:18: files[0].destination: 'relative/dir' is "
	    "relative; destinations must be absolute",
	    "give an absolute path");
	parse_fails(HDR "files:\n  - source: a\n    destination: ~/x\n",
	    "appspec.yml:5:18: files[0].destination: '~/x' is relative");
}

static void
files__destination_with_line_break__rejected(void **state)
{
	parse_fails(HDR "files:\n  - source: a\n"
			"    destination: \"/opt/app\\n/etc\"\n",
	    "appspec.yml:5:18: files[0].destination: holds a line break");
	parse_fails(HDR "files:\n  - source: a\n"
			"    destination: \"/opt/app\\r\"\n",
	    "files[0].destination: holds a line break");
}

static void
files__missing_source__rejected(void **state)
{
	parse_fails(HDR "files:\n  - destination: /opt\n",
	    "appspec.yml:4:5: files[0]: missing source");
	parse_fails(HDR "files:\n  - source: a\n    destination: /b\n"
			"  - source:\n    destination: /c\n",
	    "files[1].source: missing source");
}

static void
files__wrong_kinds__rejected(void **state)
{
	parse_fails(HDR "files:\n  - source: {a: 1}\n    destination: /b\n",
	    "appspec.yml:4:13: files[0].source: is a mapping");
	parse_fails(HDR "files:\n  - source: a\n    destination: [/b]\n",
	    "files[0].destination: is a list");
	parse_fails(HDR "files:\n  source: a\n", "files: is a mapping");
	parse_fails(HDR "files:\n  - a\n", "files[0]: is a string");
}

/* --- permissions ---------------------------------------------------- */

static void
permissions__missing_object__rejected(void **state)
{
	parse_fails(HDR "permissions:\n  - mode: 644\n",
	    "appspec.yml:4:5: permissions[0]: missing object",
	    "object: /opt/app");
	parse_fails(HDR "permissions:\n  - object:\n",
	    "permissions[0].object: has no value");
	parse_fails(HDR "permissions:\n  - object: '   '\n",
	    "appspec.yml:4:13: permissions[0].object: is empty");
	parse_fails(HDR "permissions:\n  - object: [a]\n",
	    "permissions[0].object: is a list");
}

static void
permissions__defaults(void **state)
{
	struct appspec *spec = parse_perm("");
	const struct appspec_permission *perm = &spec->permissions[0];

	assert_string_equal(perm->object, "/opt/app");
	assert_string_equal(perm->pattern, "**");
	assert_int_equal(perm->nexcept, 0);
	assert_int_equal(
	    perm->types, APPSPEC_TYPE_FILE | APPSPEC_TYPE_DIRECTORY);
	assert_null(perm->owner);
	assert_null(perm->group);
	assert_false(perm->has_mode);
	assert_int_equal(perm->nacls, 0);
	assert_false(perm->has_context);
	assert_int_equal(perm->line, 4);
	assert_int_equal(perm->col, 5);
	appspec_free(spec);
}

static void
permissions__all_keys__parsed(void **state)
{
	struct appspec *spec = parse_perm("    pattern: '**'\n"
					  "    except: ['*.tmp', ReadMe]\n"
					  "    type: [file]\n"
					  "    owner: www\n"
					  "    group: web\n"
					  "    mode: 640\n");
	const struct appspec_permission *perm = &spec->permissions[0];

	assert_string_equal(perm->pattern, "**");
	assert_int_equal(perm->nexcept, 2);
	assert_string_equal(perm->except[0], "*.tmp");
	assert_string_equal(perm->except[1], "ReadMe");
	assert_int_equal(perm->types, APPSPEC_TYPE_FILE);
	assert_string_equal(perm->owner, "www");
	assert_string_equal(perm->group, "web");
	assert_int_equal(perm->mode, 0640);
	appspec_free(spec);

	spec = parse_perm("    pattern: 'log*'\n    type: [directory]\n");
	assert_string_equal(spec->permissions[0].pattern, "log*");
	assert_int_equal(spec->permissions[0].types, APPSPEC_TYPE_DIRECTORY);
	appspec_free(spec);
}

static void
permissions__multiple_objects__in_order(void **state)
{
	struct appspec *spec = parse_ok(HDR "permissions:\n"
					    "  - object: /a\n"
					    "  - object: ' /b '\n"
					    "    owner: x\n"
					    "  - object: /c\n");

	assert_int_equal(spec->npermissions, 3);
	assert_string_equal(spec->permissions[0].object, "/a");
	assert_string_equal(spec->permissions[1].object, "/b");
	assert_string_equal(spec->permissions[1].owner, "x");
	assert_string_equal(spec->permissions[2].object, "/c");
	appspec_free(spec);
}

static void
permissions__bad_type_except_owner__rejected(void **state)
{
	perm_fails("    type: [file, link]\n",
	    "appspec.yml:5:18: permissions[0].type[1]: 'link' is not a type",
	    "file and/or directory");
	perm_fails("    type: file\n", "permissions[0].type: is a string",
	    "such as [file]");
	perm_fails("    except: '*.tmp'\n",
	    "permissions[0].except: is a string", NULL);
	perm_fails(
	    "    except: [~]\n", "permissions[0].except[0]: is null", NULL);
	perm_fails("    owner: ''\n", "permissions[0].owner: is empty", NULL);
	perm_fails(
	    "    group: {a: b}\n", "permissions[0].group: is a mapping", NULL);
	perm_fails(
	    "    pattern: [a]\n", "permissions[0].pattern: is a list", NULL);
	parse_fails(HDR "permissions: /opt\n", "permissions: is a string");
	parse_fails(
	    HDR "permissions:\n  - /opt\n", "permissions[0]: is a string");
}

static void
permissions__empty_type_list__warned(void **state)
{
	struct appspec *spec = parse_perm("    type: []\n");

	assert_int_equal(spec->permissions[0].types, 0);
	assert_true(has_warning(spec, "permissions[0].type: is empty"));
	appspec_free(spec);
}

/* Bug 28: v1 read an unquoted 0644 as the YAML integer 420 (mode 0420). */
static void
mode__unquoted_0644__is_0644(void **state)
{
	struct appspec *spec = parse_perm("    mode: 0644\n");

	assert_true(spec->permissions[0].has_mode);
	assert_int_equal(spec->permissions[0].mode, 0644);
	assert_string_equal(spec->permissions[0].mode_text, "0644");
	appspec_free(spec);
	/* v1 failed on 0755 (493 has a 9) */
	spec = parse_perm("    mode: 0755\n");
	assert_int_equal(spec->permissions[0].mode, 0755);
	appspec_free(spec);
}

static void
mode__pinned_values__decoded(void **state)
{
	static const struct {
		const char *text;
		unsigned mode;
		const char *mode_text;
	} cases[] = {
		{ "6763", 06763, "6763" },
		{ "12", 012, "012" },
		{ "012", 012, "012" },
		{ "7777", 07777, "7777" },
		{ "000", 0, "000" },
		{ "0000", 0, "0000" },
		{ "777", 0777, "777" },
		{ "644", 0644, "644" },
		{ "'644'", 0644, "644" },
		{ "00644", 0644, "0644" },
		{ "0", 0, "000" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = xasprintf("    mode: %s\n", cases[i].text);
		struct appspec *spec = parse_perm(body);

		assert_int_equal(spec->permissions[0].mode, cases[i].mode);
		assert_string_equal(
		    spec->permissions[0].mode_text, cases[i].mode_text);
		appspec_free(spec);
		free(body);
	}
	/* 6763: setuid+setgid, owner rwx, group rw-, other -wx */
	assert_int_equal(06763 & 07000, 04000 | 02000);
}

static void
mode__too_long_or_bad_character__rejected(void **state)
{
	perm_fails("    mode: 12345\n",
	    "appspec.yml:5:11: permissions[0].mode: mode '12345' has more "
	    "than 4 digits",
	    "3 or 4 octal digits");
	perm_fails("    mode: 012345\n", "more than 4 digits", NULL);
	perm_fails("    mode: 12a\n",
	    "permissions[0].mode: mode '12a' has the invalid character 'a'",
	    NULL);
	perm_fails("    mode: 0o755\n", "invalid character 'o'", NULL);
	perm_fails("    mode: 8\n", "invalid character '8'", NULL);
	perm_fails("    mode: ''\n", "permissions[0].mode: is empty", NULL);
	perm_fails("    mode: [644]\n", "permissions[0].mode: is a list", NULL);
}

/* The canonical form of every ACL entry of a list. */
static void
check_acls(const char *entries, const char *const *want, size_t n)
{
	char *body = xasprintf("    acls: [%s]\n", entries);
	struct appspec *spec = parse_perm(body);
	size_t i;

	assert_int_equal(spec->permissions[0].nacls, n);
	for (i = 0; i < n; i++) {
		char *text = appspec_ace_format(&spec->permissions[0].acls[i]);

		if (strcmp(text, want[i]) != 0)
			fail_msg("acl %zu: got %s, want %s", i, text, want[i]);
		free(text);
	}
	appspec_free(spec);
	free(body);
}

static void
acls__two_three_four_parts__canonical(void **state)
{
	static const char *const want[] = {
		"default:user:bob:rwx",
		"mask::---",
		"user:mask:rwx",
		"user:other:rwx",
		"mask::---",
		"user:bob:r-x",
		"group:web:rw-",
		"default:group:web:r--",
		"default:user::rwx",
		"default:mask::r-x",
		"default:other::---",
		"default:other::r--",
		"mask::rwx",
		"user:bob:---",
		"default:user:u:rw-",
		"user:carol:-w-",
		"group:g:--x",
	};

	check_acls("'d:u:bob:7', 'm:0', 'u:mask:7', 'u:other:7', 'mask:', "
		   "'bob:5', 'group:web:rw-', 'default:g:web:r', 'd:u::7', "
		   "'d:m:rx', 'default:other:0', 'd:o::4', 'mask::rwx', "
		   "'bob:', 'd:u:6', 'user:carol:-w-', 'g:g:x'",
	    want, sizeof(want) / sizeof(want[0]));
}

static void
acls__flags_and_fields__exposed(void **state)
{
	struct appspec *spec = parse_perm("    acls:\n      - d:g:web:5\n"
					  "      - u:bob:rw\n");
	const struct appspec_ace *a = spec->permissions[0].acls;

	assert_true(a[0].is_default);
	assert_int_equal(a[0].kind, APPSPEC_ACE_GROUP);
	assert_string_equal(a[0].name, "web");
	assert_int_equal(a[0].perms, 5);
	assert_false(a[1].is_default);
	assert_int_equal(a[1].kind, APPSPEC_ACE_USER);
	assert_int_equal(a[1].perms, 6);
	appspec_free(spec);
}

static void
acls__bad_entries__rejected(void **state)
{
	static const struct {
		const char *entry;
		const char *why;
	} cases[] = {
		{ "bob", "it has 1 part" },
		{ "d:u:bob:7:x", "it has more than 4 parts" },
		{ "x:u:bob:7",
		    "with 4 parts the first must be d or default, "
		    "not 'x'" },
		{ "d:x:bob:7", "'x' is not an entry type" },
		{ "x:bob:7", "'x' is neither d/default nor an entry type" },
		{ ":bob:7", "'' is neither d/default" },
		{ "m:bob:7",
		    "a mask entry cannot name a user or group ('bob')" },
		{ "d:o:bob:7", "an other entry" },
		{ "u::7",
		    "it is a base entry (owner, owning group or other); "
		    "set those with mode instead" },
		{ "g::5", "it is a base entry" },
		{ "o:7", "it is a base entry" },
		{ ":7", "it is a base entry" },
		{ "u:bob:8", "'8' is not a permission digit" },
		{ "u:bob:rwz", "'z' is not a permission character" },
		{ "u:bob:75", "'7' is not a permission character" },
		{ "u:bob:R", "'R' is not a permission character" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body =
		    xasprintf("    acls:\n      - u:ok:7\n      - '%s'\n",
			cases[i].entry);
		char *where = xasprintf(
		    "appspec.yml:7:9: permissions[0].acls[1]: invalid ACL "
		    "entry '%s': %s",
		    cases[i].entry, cases[i].why);

		perm_fails(body, where, "give [d[efault]:]");
		free(where);
		free(body);
	}
	perm_fails(
	    "    acls: u:bob:7\n", "permissions[0].acls: is a string", NULL);
	perm_fails("    acls: [~]\n", "permissions[0].acls[0]: is empty", NULL);
	perm_fails(
	    "    acls: [[a]]\n", "permissions[0].acls[0]: is a list", NULL);
}

static void
ace_format__canonical_text(void **state)
{
	char bob[] = "bob";
	struct appspec_ace ace = { 1, APPSPEC_ACE_USER, bob, 7 };
	char *text = appspec_ace_format(&ace);

	assert_string_equal(text, "default:user:bob:rwx");
	free(text);
	ace.is_default = 0;
	ace.kind = APPSPEC_ACE_OTHER;
	ace.name = NULL;
	ace.perms = 2;
	text = appspec_ace_format(&ace);
	assert_string_equal(text, "other::-w-");
	free(text);
}

static void
context__parsed_and_role_ignored(void **state)
{
	struct appspec *spec = parse_perm("    context:\n"
					  "      name: system_u\n"
					  "      role: object_r\n"
					  "      type: httpd_sys_content_t\n"
					  "      range: s0\n");
	const struct appspec_context *ctx = &spec->permissions[0].context;

	assert_true(spec->permissions[0].has_context);
	assert_string_equal(ctx->user, "system_u");
	assert_string_equal(ctx->type, "httpd_sys_content_t");
	assert_string_equal(ctx->range, "s0");
	assert_true(has_warning(
	    spec, "appspec.yml:7:13: permissions[0].context: role is ignored"));
	appspec_free(spec);

	spec = parse_perm("    context:\n      type: t\n");
	assert_null(spec->permissions[0].context.user);
	assert_null(spec->permissions[0].context.range);
	appspec_free(spec);
}

static void
context__missing_type_or_not_mapping__rejected(void **state)
{
	perm_fails("    context:\n      name: system_u\n",
	    "appspec.yml:6:7: permissions[0].context: missing type",
	    "httpd_sys_content_t");
	perm_fails("    context:\n      type: ''\n",
	    "permissions[0].context.type: is empty", NULL);
	perm_fails("    context: httpd_t\n",
	    "permissions[0].context: is a string", NULL);
}

static void
range__valid__rendered_compactly(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "s3", "s3" },
		{ "s3-s7:c5,c8.c10,c17", "s3-s7:c5,c8.c10,c17" },
		{ "s0:c0.c1,c15,c7.c9", "s0:c0.c1,c7.c9,c15" },
		{ "s0:c3,c1,c2", "s0:c1.c3" },
		{ "s0:c0,c1", "s0:c0.c1" },
		{ "s0-s0:c1023", "s0-s0:c1023" },
		{ "s00-s15:c0.c1023", "s0-s15:c0.c1023" },
		{ "s2:c4.c4", "s2:c4" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body =
		    xasprintf("    context:\n      type: t\n      range: %s\n",
			cases[i].text);
		struct appspec *spec = parse_perm(body);

		assert_string_equal(
		    spec->permissions[0].context.range, cases[i].want);
		appspec_free(spec);
		free(body);
	}
}

static void
range__every_v1_error__rejected(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "s3-s2:c0", "the high sensitivity s2 is below the low s3" },
		{ "s3-", "a high sensitivity must follow '-'" },
		{ "s3-:c0", "a high sensitivity must follow '-'" },
		{ "':c0'", "it must start with a sensitivity" },
		{ "s", "'s' must be followed by a number" },
		{ "s-1", "'s' must be followed by a number" },
		{ "sd3", "'s' must be followed by a number" },
		{ "d3", "expected s<N> at 'd3'" },
		{ "c2.c1", "expected s<N> at 'c2.c1'" },
		{ "s0:c2.c1", "category range c2.c1 goes down" },
		{ "s0:c2.", "a category range needs an end after '.'" },
		{ "'s0:'", "no categories after ':'" },
		{ "s0:c", "'c' must be followed by a number" },
		{ "s0:c-1", "'c' must be followed by a number" },
		{ "s0:c1024", "c1024 is over c1023" },
		{ "s0:cd3", "'c' must be followed by a number" },
		{ "s0:c1,c0.c2", "category c1 is given twice" },
		{ "s0:c5,c5", "category c5 is given twice" },
		{ "s0:c1,", "c<N> is missing at the end" },
		{ "s0:c1;c2", "unexpected ';' after c1" },
		{ "s0x", "unexpected 'x' after the sensitivity" },
		{ "s9999999", "over s999999" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body =
		    xasprintf("    context:\n      type: t\n      range: %s\n",
			cases[i].text);

		perm_fails(body,
		    "appspec.yml:7:14: permissions[0].context.range: invalid "
		    "SELinux range",
		    cases[i].why);
		free(body);
	}
}

/* --- every error: file, line, column, key ------------------------------ */

static void
errors__name_file_line_col_and_key(void **state)
{
	static const struct {
		const char *text, *prefix;
	} cases[] = {
		{ "version: 2\nos: linux\n", "appspec.yml:1:10: version: " },
		{ "version: 0\nos: [linux]\n", "appspec.yml:2:5: os: " },
		{ HDR "hooks: 5\n", "appspec.yml:3:8: hooks: " },
		{ HDR "hooks:\n  Bogus: []\n",
		    "appspec.yml:4:3: hooks.Bogus: " },
		{ HDR "hooks:\n  AfterInstall: {}\n",
		    "appspec.yml:4:17: hooks.AfterInstall: " },
		{ HDR "hooks:\n  AfterInstall:\n    - location: a\n"
		      "    - location: b\n      timeout: -1\n",
		    "appspec.yml:7:16: hooks.AfterInstall[1].timeout: " },
		{ HDR "hooks:\n  AfterInstall:\n    - location: a\n"
		      "      runas: [x]\n",
		    "appspec.yml:6:14: hooks.AfterInstall[0].runas: " },
		{ HDR "files: x\n", "appspec.yml:3:8: files: " },
		{ HDR "files:\n  - source: a\n    destination: /b\n  - 3\n",
		    "appspec.yml:6:5: files[1]: " },
		{ HDR "permissions:\n  - object: /a\n    except: {}\n",
		    "appspec.yml:5:13: permissions[0].except: " },
		{ HDR "permissions:\n  - object: /a\n    type: [x]\n",
		    "appspec.yml:5:12: permissions[0].type[0]: " },
		{ HDR "permissions:\n  - object: /a\n    owner: [x]\n",
		    "appspec.yml:5:12: permissions[0].owner: " },
		{ HDR "permissions:\n  - object: /a\n    mode: 9\n",
		    "appspec.yml:5:11: permissions[0].mode: " },
		{ HDR "permissions:\n  - object: /a\n    acls: ['u::7']\n",
		    "appspec.yml:5:12: permissions[0].acls[0]: " },
		{ HDR "permissions:\n  - object: /a\n    context: []\n",
		    "appspec.yml:5:14: permissions[0].context: " },
		{ HDR "permissions:\n  - object: /a\n    context:\n"
		      "      type: t\n      name: [x]\n",
		    "appspec.yml:7:13: permissions[0].context.name: " },
		{ HDR "file_exists_behavior: keep\n",
		    "appspec.yml:3:23: file_exists_behavior: " },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct appspec *spec = NULL;
		struct err err = ERR_INIT;

		if (appspec_parse(cases[i].text, strlen(cases[i].text),
			"appspec.yml", NULL, &spec, &err) == 0)
			fail_msg("no error for:\n%s", cases[i].text);
		if (strncmp(
			err.msg, cases[i].prefix, strlen(cases[i].prefix)) != 0)
			fail_msg("got '%s', want prefix '%s'", err.msg,
			    cases[i].prefix);
		/* and says what is allowed after the problem */
		if (strchr(err.msg + strlen(cases[i].prefix), ';') == NULL)
			fail_msg("no hint in '%s'", err.msg);
		assert_int_equal(err.code, E_INVALID);
	}
}

static void
control_characters__not_echoed(void **state)
{
	parse_fails(HDR "hooks:\n  \"Bad\\nName\\e\": []\n",
	    "hooks.Bad?Name?: unknown lifecycle event 'Bad?Name?'");
	parse_fails(HDR "files:\n  - source: \"a\\0b\"\n    destination: /x\n",
	    "files[0].source: contains a NUL character");
	/* parts of an ACL entry quoted in the reason are cleaned too */
	perm_fails("    acls: [\"x\\t:bob:7\"]\n",
	    "'x?' is neither d/default nor an entry type", NULL);
}

static void
long_user_text__shortened_in_messages(void **state)
{
	char name[201], want[64];
	char *text;

	memset(name, 'Q', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	/* 48 characters, then "..." */
	want[0] = '\'';
	memset(want + 1, 'Q', 48);
	memcpy(want + 49, "...'", 5);
	text = xasprintf(HDR "hooks:\n  %s: []\n", name);
	parse_fails(text, want);
	free(text);
	/* a two-byte character across the cut is dropped whole */
	text = xasprintf(HDR "hooks:\n  %.47s\xc3\xa9%s: []\n", name, name);
	memcpy(want + 48, "...'", 5);
	parse_fails(text, want);
	free(text);
}

/* --- glob ------------------------------------------------------------- */

static void
glob__v1_cases(void **state)
{
	/* object "test" with pattern prefix*: names relative to it */
	assert_true(appspec_glob_match("prefix*", "prefix"));
	assert_true(appspec_glob_match("prefix*", "prefix_matches"));
	assert_false(appspec_glob_match("prefix*", "prefix/does_not_match"));
	assert_false(appspec_glob_match("prefix*", "not_prefix"));
	assert_false(appspec_glob_match("prefix*", "testprefix"));
	/* except ['*ReadMe', '*.tmp'] */
	assert_true(appspec_glob_match("*ReadMe", "this_ReadMe"));
	assert_true(appspec_glob_match("*.tmp", "this.tmp"));
	assert_false(appspec_glob_match("*.tmp", "sub/this.tmp"));
	assert_false(appspec_glob_match("*.tmp", "this.tmp.bak"));
	assert_false(appspec_glob_match("*ReadMe", "ReadMe.txt"));
}

static void
glob__star_only_semantics(void **state)
{
	assert_true(appspec_glob_match("*", ""));
	assert_true(appspec_glob_match("*", "anything"));
	assert_false(appspec_glob_match("*", "a/b"));
	assert_true(appspec_glob_match("exact", "exact"));
	assert_false(appspec_glob_match("exact", "exactly"));
	assert_false(appspec_glob_match("a?c", "abc"));
	assert_true(appspec_glob_match("a?c", "a?c"));
	assert_false(appspec_glob_match("[ab]", "a"));
	assert_true(appspec_glob_match("a*b*c", "abc"));
	assert_true(appspec_glob_match("a*b*c", "a_b_b_c"));
	assert_false(appspec_glob_match("a*b*c", "acb"));
	assert_false(appspec_glob_match("a*a", "a"));
	assert_true(appspec_glob_match("a*a", "aa"));
	assert_true(appspec_glob_match("**", "x"));
	assert_true(appspec_glob_match("*x*", "x"));
	assert_false(appspec_glob_match("*x*y", "yx"));
	assert_true(appspec_glob_match("ab*cd*ef", "abcdef"));
	assert_false(appspec_glob_match("ab*cd*ef", "abcef"));
	assert_false(appspec_glob_match("a/b", "a/b"));
}

/* A plain backtracking matcher, the reference for the next test. */
static int
naive_glob(const char *pattern, const char *name)
{
	if (*pattern == '\0')
		return *name == '\0';
	if (*pattern == '*')
		return naive_glob(pattern + 1, name) ||
		    (*name != '\0' && naive_glob(pattern, name + 1));
	return *name == *pattern && naive_glob(pattern + 1, name + 1);
}

/* Write word number i (in base n over alphabet) of length len into out. */
static void
nth_word(unsigned long i, const char *alphabet, size_t len, char *out)
{
	size_t n = strlen(alphabet), k;

	for (k = 0; k < len; k++) {
		out[k] = alphabet[i % n];
		i /= n;
	}
	out[len] = '\0';
}

/* Every pattern over {a, b, *} up to 6 long against every name up to 6. */
static void
glob__agrees_with_naive_matcher_exhaustively(void **state)
{
	char pattern[8], name[8];
	size_t plen, nlen;
	unsigned long i, j, pmax = 1, nmax;

	for (plen = 0; plen <= 6; plen++, pmax *= 3) {
		for (i = 0; i < pmax; i++) {
			nth_word(i, "ab*", plen, pattern);
			nmax = 1;
			for (nlen = 0; nlen <= 6; nlen++, nmax *= 2) {
				for (j = 0; j < nmax; j++) {
					nth_word(j, "ab", nlen, name);
					if (appspec_glob_match(pattern, name) !=
					    naive_glob(pattern, name))
						fail_msg("'%s' vs '%s'",
						    pattern, name);
				}
			}
		}
	}
}

/* A backtracking matcher takes ages on this; ours must not. */
static void
glob__pathological_pattern__fast(void **state)
{
	char pattern[128], *name;
	size_t i, n = 20000;
	clock_t start;
	int round;

	for (i = 0; i < 60; i += 2) {
		pattern[i] = '*';
		pattern[i + 1] = 'a';
	}
	pattern[60] = '*';
	pattern[61] = 'b';
	pattern[62] = '\0';
	name = xmalloc(n + 1);
	memset(name, 'a', n);
	name[n] = '\0';
	/* a backtracking matcher would not return: end the run instead */
	alarm(10);
	start = clock();
	for (round = 0; round < 100; round++)
		assert_false(appspec_glob_match(pattern, name));
	name[n - 1] = 'b';
	assert_true(appspec_glob_match(pattern, name));
	if ((double)(clock() - start) / CLOCKS_PER_SEC > 1.0)
		fail_msg("glob took %.2fs",
		    (double)(clock() - start) / CLOCKS_PER_SEC);
	alarm(0);
	free(name);
}

/* --- load ------------------------------------------------------------- */

static void
load_expect(const char *dir, const char *filename, const char *want_base,
    const char *want_os_marker)
{
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;
	char *want = xasprintf("%s/%s", dir, want_base);

	if (appspec_load(dir, filename, NULL, &spec, &err) < 0)
		fail_msg("load: %s", err.msg);
	assert_string_equal(spec->path, want);
	assert_non_null(appspec_find_hook(spec, want_os_marker));
	appspec_free(spec);
	free(want);
}

static void
write_marked(const char *dir, const char *name, const char *hook)
{
	char *text = xasprintf(HDR "hooks:\n  %s: []\n", hook);

	free(tu_write(dir, name, text));
	free(text);
}

static void
load__fallback_chain(void **state)
{
	const char *dir = *state;
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;

	/* nothing there: not found, naming what was tried */
	assert_int_equal(appspec_load(dir, NULL, NULL, &spec, &err), -1);
	assert_int_equal(err.code, E_NOTFOUND);
	assert_null(spec);
	assert_non_null(strstr(err.msg, dir));
	assert_non_null(strstr(err.msg, "tried appspec.yml, appspec.yaml)"));
	err_clear(&err);
	assert_int_equal(
	    appspec_load(dir, "custom.yml", NULL, &spec, &err), -1);
	assert_non_null(
	    strstr(err.msg, "tried custom.yml, appspec.yaml, appspec.yml)"));

	write_marked(dir, "appspec.yml", "AfterInstall");
	load_expect(dir, NULL, "appspec.yml", "AfterInstall");
	load_expect(dir, "", "appspec.yml", "AfterInstall");
	load_expect(dir, "custom.yml", "appspec.yml", "AfterInstall");

	write_marked(dir, "appspec.yaml", "BeforeInstall");
	load_expect(dir, NULL, "appspec.yml", "AfterInstall");
	load_expect(dir, "custom.yml", "appspec.yaml", "BeforeInstall");
	load_expect(dir, "appspec.yaml", "appspec.yaml", "BeforeInstall");

	write_marked(dir, "custom.yml", "ValidateService");
	load_expect(dir, "custom.yml", "custom.yml", "ValidateService");
}

static void
load__yaml_only__found_and_named_in_errors(void **state)
{
	const char *dir = *state;
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;

	free(tu_write(dir, "appspec.yaml", "version: 1\nos: linux\n"));
	assert_int_equal(appspec_load(dir, NULL, NULL, &spec, &err), -1);
	assert_null(spec);
	assert_non_null(strstr(err.msg, "appspec.yaml:1:10: version: "));
	assert_ptr_equal(strstr(err.msg, "appspec.yaml"), err.msg);
}

static void
load__nested_name__basename_in_messages(void **state)
{
	const char *dir = *state;
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;
	char *sub = xasprintf("%s/configs", dir);
	char *want = xasprintf("%s/configs/app.yml", dir);

	assert_int_equal(fsutil_mkdir_p(sub, 0755, &err), 0);
	free(tu_write(sub, "app.yml", HDR "bogus: 1\n"));
	assert_int_equal(
	    appspec_load(dir, "configs/app.yml", NULL, &spec, &err), 0);
	assert_string_equal(spec->path, want);
	assert_string_equal(
	    spec->warnings[0], "app.yml:3:1: unknown key 'bogus' ignored");
	appspec_free(spec);
	free(want);
	free(sub);
}

static void
load__unsafe_name__refused(void **state)
{
	const char *dir = *state;
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;

	write_marked(dir, "appspec.yml", "AfterInstall");
	assert_int_equal(
	    appspec_load(dir, "../appspec.yml", NULL, &spec, &err), -1);
	assert_int_equal(err.code, E_UNSAFE);
	assert_null(spec);
	err_clear(&err);
	assert_int_equal(
	    appspec_load(dir, "/etc/passwd", NULL, &spec, &err), -1);
	assert_int_equal(err.code, E_UNSAFE);
}

static void
load__oversized_file__limit_error(void **state)
{
	const char *dir = *state;
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;
	size_t n = 1024 * 1024 + 10;
	char *big = xmalloc(n + 1);

	memset(big, '#', n);
	big[n] = '\0';
	free(tu_write(dir, "appspec.yml", big));
	assert_int_equal(appspec_load(dir, NULL, NULL, &spec, &err), -1);
	assert_int_equal(err.code, E_LIMIT);
	assert_non_null(strstr(err.msg, "cannot read the appspec"));
	assert_non_null(strstr(err.msg, "1048576-byte limit"));
	free(big);
}

static void
load__directory_in_the_way__error(void **state)
{
	const char *dir = *state;
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;
	char *sub = xasprintf("%s/appspec.yml", dir);

	assert_int_equal(fsutil_mkdir_p(sub, 0755, &err), 0);
	assert_int_equal(appspec_load(dir, NULL, NULL, &spec, &err), -1);
	assert_int_equal(err.code, E_INVALID);
	assert_non_null(strstr(err.msg, "not a regular file"));
	free(sub);
}

/* --- the seed corpus doubles as fixtures ------------------------------ */

/* The "# error: ..." first line of an invalid fixture, or NULL. */
static char *
expected_error(const char *text)
{
	const char *mark = "# error: ", *end;

	if (strncmp(text, mark, strlen(mark)) != 0)
		return NULL;
	text += strlen(mark);
	end = strchr(text, '\n');
	return xstrndup(
	    text, end != NULL ? (size_t)(end - text) : strlen(text));
}

static void
data_files__valid_parse_and_invalid_fail_as_noted(void **state)
{
	const char *srcdir = getenv("TOP_SRCDIR");
	char *dirpath =
	    xasprintf("%s/tests/data/appspec", srcdir != NULL ? srcdir : ".");
	DIR *dir = opendir(dirpath);
	struct dirent *de;
	int nvalid = 0, ninvalid = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		struct appspec *spec = NULL;
		struct err err = ERR_INIT;
		char *path, *text = NULL, *want;
		size_t len = 0;
		int valid = strncmp(de->d_name, "valid-", 6) == 0;

		if (!valid && strncmp(de->d_name, "invalid-", 8) != 0)
			continue;
		path = xasprintf("%s/%s", dirpath, de->d_name);
		assert_int_equal(
		    fsutil_read_file(path, 1 << 20, &text, &len, &err), 0);
		if (valid) {
			if (appspec_parse(text, len, "appspec.yml", NULL, &spec,
				&err) < 0)
				fail_msg("%s: %s", de->d_name, err.msg);
			appspec_free(spec);
			nvalid++;
		} else {
			want = expected_error(text);
			if (want == NULL)
				fail_msg(
				    "%s has no '# error:' line", de->d_name);
			if (appspec_parse(text, len, "appspec.yml", NULL, &spec,
				&err) == 0)
				fail_msg("%s parsed", de->d_name);
			if (strstr(err.msg, want) == NULL)
				fail_msg("%s: got '%s', want '%s'", de->d_name,
				    err.msg, want);
			free(want);
			ninvalid++;
		}
		free(text);
		free(path);
	}
	closedir(dir);
	free(dirpath);
	assert_true(nvalid >= 5);
	assert_true(ninvalid >= 10);
}

static void
full_example__every_field(void **state)
{
	const char *srcdir = getenv("TOP_SRCDIR");
	char *dir =
	    xasprintf("%s/tests/data/appspec", srcdir != NULL ? srcdir : ".");
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;
	const struct appspec_permission *perm;
	char *ace;

	if (appspec_load(dir, "valid-full.yml", NULL, &spec, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(spec->nfiles, 2);
	assert_int_equal(spec->nhooks, 5);
	assert_int_equal(spec->npermissions, 2);
	assert_int_equal(spec->file_exists_behavior, APPSPEC_FEB_OVERWRITE);
	assert_int_equal(spec->nwarnings, 0);
	perm = &spec->permissions[0];
	assert_string_equal(perm->pattern, "*.html");
	assert_int_equal(perm->mode, 0644);
	assert_string_equal(perm->mode_text, "0644");
	perm = &spec->permissions[1];
	assert_int_equal(perm->mode, 02775);
	assert_int_equal(perm->nacls, 3);
	ace = appspec_ace_format(&perm->acls[1]);
	assert_string_equal(ace, "default:group:www-data:r-x");
	free(ace);
	assert_string_equal(perm->context.range, "s0:c0.c1,c7.c9,c15");
	assert_string_equal(perm->context.user, "system_u");
	assert_int_equal(
	    appspec_find_hook(spec, "ValidateService")->scripts[0].timeout,
	    120);
	assert_true(appspec_find_hook(spec, "AfterInstall")->scripts[0].sudo);
	appspec_free(spec);
	free(dir);
}

static void
free_null__noop(void **state)
{
	appspec_free(NULL);
}

#define T(name) cmocka_unit_test(name)
#define TD(name)                                                               \
	cmocka_unit_test_setup_teardown(                                       \
	    name, tu_setup_tmpdir, tu_teardown_tmpdir)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(empty_or_blank__rejected_as_empty),
		T(top_level_not_mapping__says_what_was_found),
		T(invalid_utf8__real_line_and_column),
		T(malformed_yaml__parse_error_with_position),
		T(version__missing_or_invalid__rejected),
		T(version__numeric_zero_and_quoted__accepted),
		T(os__missing_or_not_linux__rejected),
		T(no_hooks_files_permissions__empty),
		T(unknown_top_level_key__warning_with_position),
		T(odd_top_level_keys__warned),
		T(many_warnings__capped_with_count),
		T(aliases__accepted),
		T(feb__exact_upper_case_only),
		T(parse_feb__folds_case_only_when_asked),
		T(hooks__runas_sudo_timeout__kept),
		T(hooks__no_timeout__default_3600),
		T(hooks__null_hook__dropped_and_empty_list_kept),
		T(hooks__missing_or_empty_location__rejected),
		T(hooks__location_and_runas__stripped),
		T(hooks__timeout_foo_or_not_positive__rejected),
		T(hooks__timeout_conversions__as_v1_with_warnings),
		T(hooks__sudo__ruby_truthiness),
		T(hooks__script_order__preserved),
		T(hooks__item_or_value_of_wrong_kind__rejected),
		T(hooks__unknown_event__error_with_position_and_suggestion),
		T(hooks__unknown_event_far_from_any__no_suggestion),
		T(hooks__install_and_download_bundle__rejected),
		T(hooks__custom_event__allowed_via_opts),
		T(hooks__duplicate_event__last_wins_with_warning),
		T(hooks__unknown_script_key__warned),
		T(is_standard_hook__nine_names),
		T(files__parsed_in_order),
		T(files__missing_destination__names_source),
		T(files__relative_destination__error_names_line),
		T(files__destination_with_line_break__rejected),
		T(files__missing_source__rejected),
		T(files__wrong_kinds__rejected),
		T(permissions__missing_object__rejected),
		T(permissions__defaults),
		T(permissions__all_keys__parsed),
		T(permissions__multiple_objects__in_order),
		T(permissions__bad_type_except_owner__rejected),
		T(permissions__empty_type_list__warned),
		T(mode__unquoted_0644__is_0644),
		T(mode__pinned_values__decoded),
		T(mode__too_long_or_bad_character__rejected),
		T(acls__two_three_four_parts__canonical),
		T(acls__flags_and_fields__exposed),
		T(acls__bad_entries__rejected),
		T(ace_format__canonical_text),
		T(context__parsed_and_role_ignored),
		T(context__missing_type_or_not_mapping__rejected),
		T(range__valid__rendered_compactly),
		T(range__every_v1_error__rejected),
		T(errors__name_file_line_col_and_key),
		T(control_characters__not_echoed),
		T(long_user_text__shortened_in_messages),
		T(glob__v1_cases),
		T(glob__star_only_semantics),
		T(glob__agrees_with_naive_matcher_exhaustively),
		T(glob__pathological_pattern__fast),
		TD(load__fallback_chain),
		TD(load__yaml_only__found_and_named_in_errors),
		TD(load__nested_name__basename_in_messages),
		TD(load__unsafe_name__refused),
		TD(load__oversized_file__limit_error),
		TD(load__directory_in_the_way__error),
		T(data_files__valid_parse_and_invalid_fail_as_noted),
		T(full_example__every_field),
		T(free_null__noop),
	};

	return cmocka_run_group_tests_name("appspec", tests, NULL, NULL);
}
