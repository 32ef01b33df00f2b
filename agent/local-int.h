/*
 * local-int: the steps of `cdagent local` (arguments, plan, run, print)
 * that tests/unit/test_local.c calls on their own; not for other modules.
 */
#ifndef CDAGENT_LOCAL_INT_H
#define CDAGENT_LOCAL_INT_H

#include <stddef.h>
#include <stdio.h>

struct exec_spec;

/* The command line, as given (pointers into argv or the environment). */
struct local_args {
	const char *location;
	const char *type;
	const char *feb;
	const char *group;
	const char *group_name;
	const char *app_name;
	const char *events;
	const char *config;
	const char *appspec;
	const char *github_token;
	int json;
};

/*
 * Parse argv into a, defaults first.  Returns -1 when the deployment is to
 * go on, else the exit status: 0 after --help or --version, or
 * LOCAL_EXIT_USAGE after saying what is wrong on stderr.
 */
int local_parse_args(int argc, char **argv, struct local_args *a);

/*
 * The events to run for --events text (NULL: the default eleven), with
 * DownloadBundle and Install added when missing, and the
 * AllPossibleLifecycleEvents (v1 §11.5).  Returns 0, or LOCAL_EXIT_USAGE
 * after saying why on stderr.  Free both lists, even on failure, with
 * local_free_list().
 */
int local_plan_events(
    const char *text, char ***run, size_t *nrun, char ***all, size_t *nall);
void local_free_list(char **list, size_t n);

/* What the console and --json say about one event. */
struct local_event {
	const char *name;
	const char *status; /* Succeeded, Failed, Skipped, NotRun */
	long long duration_ms;
	int exit_code; /* the script's, or -1 */
	char *error;
};

/* The run's report: printed as it goes, and as JSON at the end. */
struct local_report {
	FILE *con; /* the human lines: stdout, or stderr with --json */
	int json;
	char *droot;	 /* the deployment's DROOT, once known */
	char *agent_log; /* codedeploy-local.log, or NULL */
	struct local_event *events;
	size_t nevents;
	char **warnings;
	size_t nwarnings;
	char *error;
	long long total_ms;
};

/*
 * The --json document, one line on out (after stderr is flushed), naming
 * the logs that exist.
 */
void local_print_json(FILE *out, const struct local_report *rep,
    const struct exec_spec *spec, int ok);
void local_report_clear(struct local_report *rep);

#endif
