/*
 * Unit tests for main.c: argv to subcommand, the option helpers and the
 * exit codes (2 usage, 78 configuration).  main.c is compiled into this
 * binary with its main() renamed cdagent_main(); stdout and stderr of each
 * call are caught in files.
 */
int cdagent_main(int argc, char **argv);
#define main cdagent_main
#include "../../agent/main.c"
#undef main

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

/* What one call printed. */
struct run {
	int rc;
	char *out, *err;
};

static void
run_clear(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Move fd to path, returning a copy of what it was. */
static int
redirect(int fd, const char *path)
{
	int saved = dup(fd),
	    to = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(saved >= 0 && to >= 0);
	assert_int_equal(dup2(to, fd), fd);
	close(to);
	return saved;
}

static void
restore(int fd, int saved)
{
	assert_int_equal(dup2(saved, fd), fd);
	close(saved);
}

/* cdagent_main as argv0 with the NULL-terminated arguments after it. */
static struct run
run_as(void **state, const char *argv0, ...)
{
	char *argv[16], *out = xasprintf("%s/out", (char *)*state);
	char *err = xasprintf("%s/err", (char *)*state);
	struct run r;
	va_list ap;
	int argc = 0, saved_out, saved_err, i;
	const char *arg;

	argv[argc++] = xstrdup(argv0);
	va_start(ap, argv0);
	while ((arg = va_arg(ap, const char *)) != NULL && argc < 15)
		argv[argc++] = xstrdup(arg);
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	saved_out = redirect(1, out);
	saved_err = redirect(2, err);
	optind = 0; /* a fresh process */
	r.rc = cdagent_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	restore(1, saved_out);
	restore(2, saved_err);
	r.out = tu_read(out);
	r.err = tu_read(err);
	assert_non_null(r.out);
	assert_non_null(r.err);
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(out);
	free(err);
	return r;
}

#define run(state, ...) run_as(state, "/usr/sbin/cdagent", __VA_ARGS__, NULL)

/* r ended with rc and its stream (out or err) holds want. */
static void
expect(struct run *r, int rc, const char *stream, const char *want)
{
	if (r->rc != rc || strstr(stream, want) == NULL)
		fail_msg("rc %d (want %d), no '%s' in\nstdout: %s\nstderr: %s",
		    r->rc, rc, want, r->out, r->err);
	run_clear(r);
}

static void
no_command__usage_error(void **state)
{
	struct run r = run_as(state, "cdagent", NULL);

	expect(&r, EXIT_USAGE, r.err, "cdagent: a command is required\n");
	r = run_as(state, "cdagent", NULL);
	expect(&r, EXIT_USAGE, r.err, "usage: cdagent COMMAND [OPTIONS]");
}

static void
help__lists_every_command(void **state)
{
	static const char *const forms[] = { "--help", "-h", "help" };
	size_t i, j;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct run r = run(state, forms[i]);

		assert_int_equal(r.rc, 0);
		assert_string_equal(r.err, "");
		for (j = 0; j < NSUBCOMMANDS; j++) {
			char *line = xasprintf("\n  %-22s %s\n",
			    subcommands[j].synopsis, subcommands[j].summary);

			assert_non_null(strstr(r.out, line));
			free(line);
		}
		run_clear(&r);
	}
}

static void
unknown_command_or_option__usage_error(void **state)
{
	struct run r = run(state, "frobnicate");

	expect(&r, EXIT_USAGE, r.err, "cdagent: unknown command 'frobnicate'");
	r = run(state, "--frob");
	expect(&r, EXIT_USAGE, r.err, "cdagent: unknown option '--frob'");
	r = run(state, "help", "frobnicate");
	expect(&r, EXIT_USAGE, r.err, "cdagent: unknown command 'frobnicate'");
	r = run(state, "help", "run", "extra");
	expect(&r, EXIT_USAGE, r.err, "unexpected argument 'extra'");
}

static void
version__three_ways(void **state)
{
	static const char *const forms[] = { "version", "--version", "-V" };
	char *want = xasprintf("cdagent %s\n", PACKAGE_VERSION);
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct run r = run(state, forms[i]);

		assert_int_equal(r.rc, 0);
		assert_int_equal(strncmp(r.out, want, strlen(want)), 0);
		assert_non_null(strstr(r.out, "OpenSSL"));
		run_clear(&r);
	}
	free(want);
}

static void
subcommand_help__each_command_two_ways(void **state)
{
	size_t i;

	for (i = 0; i < NSUBCOMMANDS; i++) {
		const char *name = subcommands[i].name;
		char *want = xasprintf("usage: cdagent %s", name);
		struct run r = run(state, "help", name);

		if (strcmp(name, "local") == 0 || strcmp(name, "check") == 0) {
			/* their own modules' help */
			assert_int_equal(r.rc, 0);
			run_clear(&r);
			free(want);
			continue;
		}
		expect(&r, 0, r.out, want);
		if (strcmp(name, "help") != 0) {
			r = run(state, name, "--help");
			expect(&r, 0, r.out, want);
		}
		free(want);
	}
}

static void
options__errors_name_the_option_and_the_help(void **state)
{
	struct run r = run(state, "config", "-x");

	expect(&r, EXIT_USAGE, r.err,
	    "cdagent: unknown option -x\n"
	    "Try 'cdagent config --help'.\n");
	r = run(state, "config", "-c");
	expect(&r, EXIT_USAGE, r.err, "option -c needs an argument");
	r = run(state, "status", "--config-file");
	expect(&r, EXIT_USAGE, r.err, "option --config-file needs an argument");
	r = run(state, "run", "--json");
	expect(&r, EXIT_USAGE, r.err, "unknown option --json");
	r = run(state, "version", "extra");
	expect(&r, EXIT_USAGE, r.err, "unexpected argument 'extra'");
	r = run(state, "status", "-j", "extra");
	expect(&r, EXIT_USAGE, r.err, "Try 'cdagent status --help'.");
}

static void
config__file_printed_or_exit_78(void **state)
{
	char *good = tu_write(
	    *state, "agent.yml", "---\n:verbose: true\n:bogus_key: 1\n");
	char *missing = xasprintf("%s/none.yml", (char *)*state);
	struct run r = run(state, "config", "-c", good);

	assert_non_null(strstr(r.out, "verbose true\n"));
	expect(&r, 0, r.err, "unknown key 'bogus_key' ignored");
	r = run(state, "config", "--json", "--config-file", good);
	expect(&r, 0, r.out, "{\"config_file\":");
	r = run(state, "config", "--config_file", missing);
	expect(&r, EXIT_CONFIG, r.err, "does not exist or is not readable");
	r = run(state, "status", "-c", missing);
	expect(&r, EXIT_CONFIG, r.err, "does not exist or is not readable");
	r = run(state, "run", "-c", missing);
	expect(&r, EXIT_CONFIG, r.err, "does not exist or is not readable");
	free(good);
	free(missing);
}

static void
config__fips_outside_the_usa__exit_78(void **state)
{
	char *path =
	    tu_write(*state, "fips.yml", "---\n:use_fips_mode: true\n");
	struct run r;

	setenv("AWS_REGION", "eu-west-1", 1);
	r = run(state, "config", "-c", path);
	unsetenv("AWS_REGION");
	assert_string_equal(r.out, "");
	expect(&r, EXIT_CONFIG, r.err,
	    "cdagent: error: use_fips_mode can be set to true only in regions");
	free(path);
}

static void
codedeploy_local__dispatch_on_the_name(void **state)
{
	struct run r =
	    run_as(state, "/usr/bin/codedeploy-local", "--help", NULL);

	expect(&r, 0, r.out, "also installed as codedeploy-local");
	r = run_as(state, "/usr/bin/cdagent", "--help", NULL);
	expect(&r, 0, r.out, "usage: cdagent COMMAND");
}

#define TD(name)                                                               \
	cmocka_unit_test_setup_teardown(                                       \
	    name, tu_setup_tmpdir, tu_teardown_tmpdir)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TD(no_command__usage_error),
		TD(help__lists_every_command),
		TD(unknown_command_or_option__usage_error),
		TD(version__three_ways),
		TD(subcommand_help__each_command_two_ways),
		TD(options__errors_name_the_option_and_the_help),
		TD(config__file_printed_or_exit_78),
		TD(config__fips_outside_the_usa__exit_78),
		TD(codedeploy_local__dispatch_on_the_name),
	};

	return cmocka_run_group_tests_name("main", tests, NULL, NULL);
}
