/*
 * cdagent: argv to subcommand.  The only file that exits.
 *
 *   cdagent run [-c FILE]        the daemon, in the foreground
 *   cdagent status [--json]      whether the daemon runs, and what it does
 *   cdagent version              agent and library versions
 *   cdagent config [-c FILE]     the effective configuration
 *   cdagent help                 usage
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cfg.h"
#include "check.h"
#include "crypto.h"
#include "daemon.h"
#include "err.h"
#include "http.h"
#include "json.h"
#include "local.h"
#include "log.h"
#include "status.h"
#include "fsutil.h"
#include "xalloc.h"
#include "unpack.h"
#include "ytree.h"

#define EXIT_USAGE 2
/*
 * A configuration or credential error: EX_CONFIG (78) of sysexits.h, which
 * the unit's RestartPreventExitStatus= keeps systemd from restarting.
 */
#define EXIT_CONFIG EX_CONFIG

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
	const char *summary;
};

static int cmd_version(int argc, char **argv);
static int cmd_config(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int cmd_local(int argc, char **argv);
static int cmd_run(int argc, char **argv);
static int cmd_status(int argc, char **argv);
static int cmd_check(int argc, char **argv);

static const struct subcommand subcommands[] = {
	{ "run", cmd_run, "run [-c FILE]",
	    "run the agent in the foreground (what systemd starts)" },
	{ "status", cmd_status, "status [-c FILE] [--json]",
	    "whether the agent runs, its last poll and running commands" },
	{ "version", cmd_version, "version",
	    "print the agent version and the linked libraries' versions" },
	{ "config", cmd_config, "config [-c FILE] [--json]",
	    "check the configuration and print every key's effective value" },
	{ "local", cmd_local, "local [OPTIONS]",
	    "deploy a revision on this host (as codedeploy-local)" },
	{ "check", cmd_check, "check [OPTIONS] PATH",
	    "check a revision (appspec, directory or bundle) offline" },
	{ "help", cmd_help, "help [COMMAND]", "show this help or a command's" },
};

#define NSUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void
print_usage(FILE *out)
{
	size_t i;

	fprintf(out,
	    "usage: cdagent COMMAND [OPTIONS]\n\n"
	    "A host deployment agent, compatible with AWS CodeDeploy's "
	    "agent.\n\nCommands:\n");
	for (i = 0; i < NSUBCOMMANDS; i++)
		fprintf(out, "  %-22s %s\n", subcommands[i].synopsis,
		    subcommands[i].summary);
	fprintf(out,
	    "\nRun 'cdagent COMMAND --help' for a command's "
	    "options.\n");
}

/* A bad option or argument: say what is wrong and how to get help. */
static int __attribute__((format(printf, 2, 3)))
usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cdagent: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (command != NULL)
		fprintf(stderr, "Try 'cdagent %s --help'.\n", command);
	else
		print_usage(stderr);
	return EXIT_USAGE;
}

/*
 * getopt_long with the house conventions: -h/--help print help and return 0
 * through *done; an unknown option or missing argument is a usage error.
 * Returns the option, -1 at the end, or '?' after printing the error.
 */
static int
next_option(int argc, char **argv, const char *command, const char *optstring,
    const struct option *longopts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, optstring, longopts, NULL);
	if (c == '?') {
		if (optopt != 0 && strchr(optstring, optopt) != NULL)
			usage_error(
			    command, "option -%c needs an argument", optopt);
		else if (optopt != 0)
			usage_error(command, "unknown option -%c", optopt);
		else
			usage_error(
			    command, "unknown option %s", argv[optind - 1]);
	} else if (c == ':') {
		usage_error(
		    command, "option %s needs an argument", argv[optind - 1]);
		c = '?';
	}
	return c;
}

/* What the options of version, config, run and status set. */
struct cmd_args {
	const char *path; /* -c FILE */
	int as_json;	  /* --json */
};

/*
 * The options of command (as optstring and longopts allow): -c FILE and
 * --json into args, -h prints help(); no operands.  Returns -1 to go on,
 * else the exit status (0 after the help).
 */
static int
parse_args(int argc, char **argv, const char *command, const char *optstring,
    const struct option *longopts, void (*help)(void), struct cmd_args *args)
{
	int c;

	while (
	    (c = next_option(argc, argv, command, optstring, longopts)) != -1) {
		switch (c) {
		case 'c':
			args->path = optarg;
			break;
		case 'j':
			args->as_json = 1;
			break;
		case 'h':
			help();
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(
		    command, "unexpected argument '%s'", argv[optind]);
	return -1;
}

static void
help_version(void)
{
	printf("usage: cdagent version\n\n"
	       "Print the agent version and the versions of "
	       "the libraries it runs with.\n");
}

static int
cmd_version(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_args args = { 0 };
	int ret = parse_args(
	    argc, argv, "version", "+h", longopts, help_version, &args);

	if (ret >= 0)
		return ret;
	printf("cdagent %s\n", PACKAGE_VERSION);
	printf("  %s\n", http_lib_version());
	printf("  %s\n", crypto_lib_version());
	printf("  %s\n", unpack_lib_version());
	printf("  libyaml %s\n", ytree_lib_version());
	printf("  %s\n", json_lib_version());
	printf("  %s\n", log_lib_version());
	return 0;
}

/* Print a configuration's diagnostics: warnings always, errors if asked. */
static void
print_diags(const struct cfg_diag *diags, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(stderr, "cdagent: %s: %s\n",
		    diags[i].is_error ? "error" : "warning", diags[i].msg);
}

/*
 * Read the configuration (path NULL: the default one) for config, run and
 * status; NULL after printing why.
 */
static struct cfg *
load_cfg(const char *path)
{
	struct err err = ERR_INIT;
	struct cfg *cfg = cfg_new();

	if (path == NULL)
		path = cfg_default_path();
	if (path != NULL && cfg_load_file(cfg, path, &err) < 0) {
		print_diags(cfg->diags, cfg->ndiags);
		if (cfg->ndiags == 0)
			fprintf(stderr, "cdagent: error: %s\n", err.msg);
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

static void
help_config(void)
{
	printf("usage: cdagent config [-c FILE] [--json]\n\n"
	       "Read the agent configuration, report every "
	       "problem with its file and line,\n"
	       "and print each key's effective value "
	       "(defaults included).\n\n"
	       "  -c, --config-file FILE  the file to read "
	       "(default %s,\n"
	       "                          else %s, else "
	       "built-in defaults)\n"
	       "      --json              one JSON document: "
	       "each key's value and where it\n"
	       "                          came from (file:line "
	       "or default)\n",
	    CFG_DEFAULT_PATH, CFG_LEGACY_PATH);
}

/*
 * The checks beyond the file: FIPS mode against the region, the
 * on-premises file.  *onprem is set when there is one.
 */
static int
check_cfg(const struct cfg *cfg, struct cfg_onprem **onprem, struct err *err)
{
	if (cfg_check_fips(cfg, getenv("AWS_REGION"), err) < 0 ||
	    cfg_onprem_load(cfg->on_premises_config_file, onprem, err) < 0)
		return -1;
	if (*onprem == NULL)
		return 0;
	print_diags((*onprem)->diags, (*onprem)->ndiags);
	return cfg_check_fips(cfg, (*onprem)->region, err);
}

static int
cmd_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config-file", required_argument, NULL, 'c' },
		{ "config_file", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct err err = ERR_INIT;
	struct cfg *cfg;
	struct cfg_onprem *onprem = NULL;
	struct cmd_args args = { 0 };
	int ret = parse_args(
	    argc, argv, "config", "+:c:h", longopts, help_config, &args);

	if (ret >= 0)
		return ret;
	cfg = load_cfg(args.path);
	if (cfg == NULL)
		return EXIT_CONFIG;
	print_diags(cfg->diags, cfg->ndiags);
	if (check_cfg(cfg, &onprem, &err) < 0) {
		fprintf(stderr, "cdagent: error: %s\n", err.msg);
		ret = EXIT_CONFIG;
	} else if (args.as_json) {
		char *text = cfg_to_json(cfg);

		printf("%s\n", text);
		free(text);
		ret = 0;
	} else {
		cfg_print(cfg, stdout);
		if (onprem != NULL)
			cfg_onprem_print(onprem, stdout);
		ret = 0;
	}
	cfg_onprem_free(onprem);
	cfg_free(cfg);
	return ret;
}

/* The agent log: journald under systemd, else stderr; and the v1 file. */
static void
open_agent_log(const struct cfg *cfg)
{
	int systemd =
	    getenv("INVOCATION_ID") != NULL || getenv("JOURNAL_STREAM") != NULL;
	struct log_opts opts = {
		.ident = cfg->program_name != NULL ? cfg->program_name
						   : "codedeploy-agent",
		.level = cfg->verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO,
		.sinks = systemd ? LOG_SINK_JOURNAL : LOG_SINK_STDERR,
		.stderr_fd = -1,
		.stderr_style = LOG_STDERR_TIMESTAMPED,
	};
	struct err err = ERR_INIT;
	char *path = xasprintf("%s/%s.log", cfg->log_dir, opts.ident);

	opts.file_path = path;
	opts.sinks |= LOG_SINK_FILE;
	if (fsutil_mkdir_p(cfg->log_dir, 0755, &err) < 0 ||
	    log_open(&opts, &err) < 0) {
		opts.sinks &= ~LOG_SINK_FILE;
		opts.file_path = NULL;
		log_open(&opts, NULL);
		log_warn("cannot write the log %s: %s", path, err.msg);
	}
	free(path);
}

static void
help_run(void)
{
	printf("usage: cdagent run [-c FILE]\n\n"
	       "Run the agent in the foreground: poll the "
	       "CodeDeploy Commands API and carry\n"
	       "out the deployments it hands out.  SIGTERM "
	       "stops it (running commands are\n"
	       "given kill_agent_max_wait_time_seconds to "
	       "finish); SIGHUP re-reads FILE and reopens\n"
	       "the log file.  A configuration or credential "
	       "error exits 78.\n\n"
	       "  -c, --config-file FILE  the configuration "
	       "(default %s)\n",
	    CFG_DEFAULT_PATH);
}

static int
cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config-file", required_argument, NULL, 'c' },
		{ "config_file", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_args args = { 0 };
	struct cfg *cfg;
	int ret =
	    parse_args(argc, argv, "run", "+:c:h", longopts, help_run, &args);

	if (ret >= 0)
		return ret;
	/* the daemon re-reads the same file on SIGHUP */
	if (args.path == NULL)
		args.path = cfg_default_path();
	cfg = load_cfg(args.path);
	if (cfg == NULL)
		return EXIT_CONFIG;
	open_agent_log(cfg);
	/* issue 16: configuration warnings in the agent log and journald */
	for (size_t i = 0; i < cfg->ndiags; i++)
		log_warn("%s", cfg->diags[i].msg);
	ret = daemon_main(cfg, args.path);
	log_close();
	cfg_free(cfg);
	return ret;
}

static void
help_status(void)
{
	printf("usage: cdagent status [-c FILE] [--json]\n\n"
	       "Say whether the agent runs, its pid, its last "
	       "successful poll, the commands\n"
	       "in flight and its last error.  Exit status: 0 "
	       "running, 3 not running,\n"
	       "78 the configuration cannot be read.\n");
}

static int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config-file", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_args args = { 0 };
	struct cfg *cfg;
	int ret = parse_args(
	    argc, argv, "status", "+:c:jh", longopts, help_status, &args);

	if (ret >= 0)
		return ret;
	cfg = load_cfg(args.path);
	if (cfg == NULL)
		return EXIT_CONFIG;
	ret = status_main(cfg, args.as_json, stdout);
	cfg_free(cfg);
	return ret;
}

static int
cmd_local(int argc, char **argv)
{
	return local_main(argc, argv);
}

static int
cmd_check(int argc, char **argv)
{
	return check_main(argc, argv);
}

static const struct subcommand *
find_subcommand(const char *name)
{
	size_t i;

	for (i = 0; i < NSUBCOMMANDS; i++)
		if (strcmp(subcommands[i].name, name) == 0)
			return &subcommands[i];
	return NULL;
}

static int
cmd_help(int argc, char **argv)
{
	const struct subcommand *sub;
	static char help_opt[] = "--help";
	char *help_argv[] = { NULL, help_opt, NULL };

	if (argc > 2)
		return usage_error("help", "unexpected argument '%s'", argv[2]);
	if (argc < 2) {
		print_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		printf("usage: cdagent help [COMMAND]\n\n"
		       "Show the list of commands, or COMMAND's options.\n");
		return 0;
	}
	sub = find_subcommand(argv[1]);
	if (sub == NULL)
		return usage_error(NULL, "unknown command '%s'", argv[1]);
	help_argv[0] = argv[1];
	optind = 0;
	return sub->run(2, help_argv);
}

int
main(int argc, char **argv)
{
	const struct subcommand *sub;
	const char *prog = strrchr(argv[0], '/');

	/* installed as codedeploy-local too: dispatch on the name */
	prog = prog != NULL ? prog + 1 : argv[0];
	if (strcmp(prog, "codedeploy-local") == 0)
		return local_main(argc, argv);
	if (argc < 2)
		return usage_error(NULL, "a command is required");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return cmd_version(1, argv);
	sub = find_subcommand(argv[1]);
	if (sub == NULL)
		return usage_error(NULL,
		    argv[1][0] == '-' ? "unknown option '%s'"
				      : "unknown command '%s'",
		    argv[1]);
	optind = 0; /* glibc: restart getopt for the subcommand's arguments */
	return sub->run(argc - 1, argv + 1);
}
