/*
 * local: `cdagent local` / `codedeploy-local`, a local deployment with the
 * command line of AWS's codedeploy-local (v1 §11, v2 §13).
 *
 * Arguments are validated in v1's order before anything touches the
 * deployment root; a validation error prints "ERROR: <message>" and exits 2
 * (v2).  The deployment then runs event by event through exec_command(),
 * the same code the daemon uses.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "clock.h"
#include "creds.h"
#include "exec.h"
#include "fsutil.h"
#include "json.h"
#include "local-int.h"
#include "local.h"
#include "log.h"
#include "state.h"
#include "xalloc.h"

#define LOCAL_DEFAULT_GROUP "default-local-deployment-group"
#define LOCAL_DEFAULT_GROUP_NAME "LocalFleet"
#define LOCAL_MAX_EVENTS 64

/* Events that need the new revision (v1 cli_validator). */
static const char *const new_revision_events[] = {
	"AfterInstall",
	"ApplicationStart",
	"ValidateService",
	"BeforeAllowTraffic",
	"AfterAllowTraffic",
};

static void
print_help(FILE *out)
{
	fprintf(out,
	    "usage: cdagent local [options]   (also installed as "
	    "codedeploy-local)\n\n"
	    "Deploy a revision on this host, as AWS CodeDeploy would, "
	    "without the service.\n\n"
	    "  -l, --bundle-location LOCATION  a directory, a tar/tgz/zip "
	    "file, s3://bucket/key\n"
	    "                                  [?versionId=V&etag=E], or a "
	    "GitHub https URL\n"
	    "                                  (default: the current "
	    "directory)\n"
	    "  -t, --type TYPE                 tgz, tar, zip or directory "
	    "(default directory)\n"
	    "  -b, --file-exists-behavior B    DISALLOW, OVERWRITE or RETAIN "
	    "(default DISALLOW)\n"
	    "  -g, --deployment-group ID       the folder under the "
	    "deployment root\n"
	    "                                  (default " LOCAL_DEFAULT_GROUP
	    ")\n"
	    "  -d, --deployment-group-name N   DEPLOYMENT_GROUP_NAME for "
	    "hooks (default LocalFleet)\n"
	    "  -a, --application-name N        APPLICATION_NAME for hooks "
	    "(default: the location)\n"
	    "  -e, --events E1,E2,...          the events to run, in order; "
	    "DownloadBundle and\n"
	    "                                  Install are added when "
	    "missing (default: all)\n"
	    "  -c, --agent-configuration-file F  the agent configuration "
	    "(default " CFG_DEFAULT_PATH ")\n"
	    "  -A, --appspec-filename NAME     the appspec file name "
	    "(default appspec.yml)\n"
	    "      --github-token TOKEN        for private GitHub "
	    "repositories (or CODEDEPLOY_GITHUB_TOKEN)\n"
	    "      --json                      print one JSON document of "
	    "the events, for CI\n"
	    "  -h, --help                      this help\n"
	    "  -v, --version                   the version\n");
}

static int __attribute__((format(printf, 1, 2)))
validation_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ERROR: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return LOCAL_EXIT_USAGE;
}

/* Split a comma-separated list (empty items are errors). */
static int
split_events(const char *text, char ***out, size_t *n)
{
	char *copy = xstrdup(text), *p = copy, *comma;
	int ret = 0;

	*out = NULL;
	*n = 0;
	for (;;) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		if (*p == '\0' || *n == LOCAL_MAX_EVENTS) {
			ret = -1;
			break;
		}
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = xstrdup(p);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	free(copy);
	return ret;
}

void
local_free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static int
in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return 1;
	return 0;
}

/* Whether an event is a v1 PascalCase name (^([A-Z][a-z0-9]+)+, §3.6). */
static int
pascal_case(const char *name)
{
	const char *p = name;

	if (!(*p >= 'A' && *p <= 'Z'))
		return 0;
	for (; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

/* v1 §11.3 step 5: what may come before DownloadBundle and Install. */
static int
check_event_order(char **events, size_t n, const char *text)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!pascal_case(events[i]))
			return validation_error(
			    "event '%s' is not a valid lifecycle event name: "
			    "use PascalCase letters and digits, such as "
			    "ApplicationStart",
			    events[i]);
	if (in_list("DownloadBundle", (const char *const *)events, n)) {
		for (i = 0; strcmp(events[i], "DownloadBundle") != 0; i++)
			if (in_list(events[i], new_revision_events, 5) ||
			    strcmp(events[i], "Install") == 0)
				return validation_error(
				    "The only events that can be specified "
				    "before DownloadBundle are "
				    "BeforeBlockTraffic,AfterBlockTraffic,"
				    "ApplicationStop. Please fix the order of "
				    "your specified events: %s",
				    text);
	}
	if (in_list("Install", (const char *const *)events, n)) {
		for (i = 0; strcmp(events[i], "Install") != 0; i++)
			if (in_list(events[i], new_revision_events, 5))
				return validation_error(
				    "The only events that can be specified "
				    "before Install are BeforeBlockTraffic,"
				    "AfterBlockTraffic,ApplicationStop,"
				    "DownloadBundle,BeforeInstall. Please fix "
				    "the order of your specified events: %s",
				    text);
	}
	return 0;
}

/* d- + 9 of [A-Z0-9] + -local (v1 §11.4). */
static char *
random_deployment_id(void)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char bytes[9];
	char id[32];
	size_t i;

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
		unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();

		for (i = 0; i < sizeof(bytes); i++)
			bytes[i] = (unsigned char)rand_r(&seed);
	}
	memcpy(id, "d-", 2);
	for (i = 0; i < 9; i++)
		id[2 + i] = alphabet[bytes[i] % 36];
	memcpy(id + 11, "-local", 7);
	return xstrdup(id);
}

/* A query value decoded as v1's URI.decode_www_form: %XX and '+' as a
 * space; NULL for a '%' not followed by two hex digits. */
static char *
www_form_decode(const char *text)
{
	char *out = xmalloc(strlen(text) + 1), *o = out;
	const char *p;

	for (p = text; *p != '\0'; p++) {
		if (*p == '+') {
			*o++ = ' ';
		} else if (*p != '%') {
			*o++ = *p;
		} else if (isxdigit((unsigned char)p[1]) &&
		    isxdigit((unsigned char)p[2])) {
			char hex[3] = { p[1], p[2], '\0' };

			*o++ = (char)strtol(hex, NULL, 16);
			p += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	*o = '\0';
	return out;
}

/* "s3://bucket/key?versionId=V&etag=E" into the spec; the query is
 * percent-decoded as v1 does. */
static int
parse_s3(const char *location, struct exec_spec *spec)
{
	const char *rest = location + 5, *slash = strchr(rest, '/');
	const char *query;
	char *params, *p, *next;

	if (slash == NULL || slash == rest || slash[1] == '\0' ||
	    slash[1] == '?')
		return validation_error("s3 location %s not in the expected "
					"format of 's3://bucket/key'",
		    location);
	spec->revision = EXEC_REV_S3;
	spec->bucket = xstrndup(rest, (size_t)(slash - rest));
	query = strchr(slash, '?');
	spec->key = query != NULL
	    ? xstrndup(slash + 1, (size_t)(query - slash - 1))
	    : xstrdup(slash + 1);
	if (query == NULL)
		return 0;
	params = xstrdup(query + 1);
	for (p = params; p != NULL; p = next) {
		char **field = NULL, *value;
		size_t skip = 0;

		next = strchr(p, '&');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(p, "versionId=", 10) == 0) {
			field = &spec->version;
			skip = 10;
		} else if (strncmp(p, "etag=", 5) == 0) {
			field = &spec->etag;
			skip = 5;
		}
		if (field == NULL)
			continue;
		if ((value = www_form_decode(p + skip)) == NULL) {
			int r = validation_error("s3 location %s: '%s' has a "
						 "'%%' not followed by two hex "
						 "digits; write %%25 for '%%'",
			    location, p);

			free(params);
			return r;
		}
		free(*field);
		*field = value;
	}
	free(params);
	return 0;
}

/* GitHub https URLs (v1 §11.4 with v2's forms). */
static int
parse_github(const char *location, const char *type, struct exec_spec *spec)
{
	const char *path = strchr(location + 8, '/');
	char *copy, *parts[8];
	size_t n = 0, len;
	char *p, *slash;
	int ret = -1;

	if (path == NULL)
		goto bad;
	copy = xstrdup(path + 1);
	for (p = copy; p != NULL && n < 8; p = slash) {
		slash = strchr(p, '/');
		if (slash != NULL)
			*slash++ = '\0';
		if (*p != '\0')
			parts[n++] = p;
	}
	spec->revision = EXEC_REV_GITHUB;
	spec->bundle_type = strcmp(type, "tar") == 0 ? UNPACK_TAR : UNPACK_ZIP;
	if (n >= 4 && strcmp(parts[0], "repos") == 0) {
		/* https://api.github.com/repos/<owner>/<repo>/<kind>/<ref> */
		spec->account = xstrdup(parts[1]);
		spec->repository = xstrdup(parts[2]);
		spec->commit_id = xstrdup(n >= 5 ? parts[n - 1] : "HEAD");
		ret = 0;
	} else if (n >= 2 &&
	    strncmp(location, "https://github.com/", 19) == 0) {
		spec->account = xstrdup(parts[0]);
		len = strlen(parts[1]);
		if (len > 4 && strcmp(parts[1] + len - 4, ".git") == 0)
			parts[1][len - 4] = '\0';
		spec->repository = xstrdup(parts[1]);
		if (n >= 4 &&
		    (strcmp(parts[2], "tree") == 0 ||
			strcmp(parts[2], "commit") == 0))
			spec->commit_id = xstrdup(parts[3]);
		else
			spec->commit_id = xstrdup("HEAD");
		ret = 0;
	}
	free(copy);
	if (ret == 0)
		return 0;
bad:
	return validation_error(
	    "github location %s not in the expected format of "
	    "'https://github.com/<owner>/<repository_name>'(assumes HEAD "
	    "commit) or 'https://api.github.com/repos/<owner>/"
	    "<repository_name>/tarball/<commit>' or 'https://api.github.com/"
	    "repos/<owner>/<repository_name>/zipball/<commit>'",
	    location);
}

/* The appspec of a directory bundle must be there (v1 §11.3 step 4). */
static int
check_directory_appspec(const char *dir, const char *name)
{
	const char *names[3] = { name, "appspec.yml", "appspec.yaml" };
	size_t i;
	struct stat st;

	for (i = name != NULL ? 0 : 1; i < 3; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		int found = stat(path, &st) == 0 && S_ISREG(st.st_mode);

		free(path);
		if (found)
			return 0;
		if (name != NULL)
			break; /* a custom name must exist itself */
	}
	return validation_error(
	    "Expecting appspec file at location %s/%s but it is not found "
	    "there. Please either run the CLI from within a directory "
	    "containing the %s file or specify a bundle location containing "
	    "an %s file in its root directory",
	    dir, name != NULL ? name : "appspec.yml",
	    name != NULL ? name : "appspec.yml",
	    name != NULL ? name : "appspec.yml");
}

/* A local file or directory (file:// allowed), its type checked. */
static int
parse_local(const char *loc, enum unpack_format format, const char *appspec,
    struct exec_spec *spec)
{
	struct stat st;
	char *abs;
	int r;

	if (strncmp(loc, "file://", 7) == 0)
		loc += 7; /* v1 mangled these (bug 42) */
	else if (strstr(loc, "://") != NULL)
		return validation_error(
		    "unknown location %s cannot be determined to be "
		    "S3, Github, or a local file / directory",
		    loc);
	if (stat(loc, &st) < 0)
		return validation_error("location %s is specified as a "
					"file or directory which does "
					"not exist",
		    loc);
	if (format == UNPACK_DIRECTORY && !S_ISDIR(st.st_mode))
		return validation_error("location %s is specified with "
					"type directory but it is a "
					"file",
		    loc);
	if (format != UNPACK_DIRECTORY && S_ISDIR(st.st_mode))
		return validation_error("location %s is specified as a "
					"compressed local file but it "
					"is a directory",
		    loc);
	abs = realpath(loc, NULL);
	if (abs == NULL)
		return validation_error("location %s cannot be read: "
					"%s",
		    loc, strerror(errno));
	if (format == UNPACK_DIRECTORY &&
	    (r = check_directory_appspec(abs, appspec)) != 0) {
		free(abs);
		return r;
	}
	spec->location = abs;
	spec->revision = format == UNPACK_DIRECTORY ? EXEC_REV_LOCAL_DIRECTORY
						    : EXEC_REV_LOCAL_FILE;
	return 0;
}

/* Validate the arguments in v1's order and build the spec; 0 or exit code. */
static int
build_spec(const struct local_args *a, struct exec_spec *spec)
{
	enum unpack_format format;
	const char *loc = a->location;
	struct err err = ERR_INIT;
	int r;

	if (unpack_parse_format(a->type, &format) < 0)
		return validation_error("type %s is not a valid type. Must be "
					"one of tgz,tar,zip,directory",
		    a->type);
	spec->bundle_type = format;
	if (strncmp(loc, "http://", 7) == 0)
		return validation_error("location %s cannot be http, only "
					"encrypted (https) url endpoints "
					"supported",
		    loc);
	if (strncmp(loc, "s3://", 5) == 0) {
		if (format == UNPACK_DIRECTORY)
			return validation_error("location %s is in S3: give "
						"its bundle type with -t tar, "
						"tgz or zip",
			    loc);
		if ((r = parse_s3(loc, spec)) != 0)
			return r;
	} else if (strncmp(loc, "https://", 8) == 0) {
		const char *host = loc + 8;
		size_t hlen = strcspn(host, "/:");

		if (!(hlen >= 10 &&
			strncmp(host + hlen - 10, "github.com", 10) == 0))
			return validation_error(
			    "unknown location %s cannot be determined to be "
			    "S3, Github, or a local file / directory",
			    loc);
		if ((r = parse_github(loc, a->type, spec)) != 0)
			return r;
	} else if ((r = parse_local(loc, format, a->appspec, spec)) != 0) {
		return r;
	}
	if (appspec_parse_feb(a->feb, 1, &spec->file_exists_behavior) < 0)
		return validation_error("file exists behavior %s is not valid. "
					"Must be one of DISALLOW, OVERWRITE, "
					"RETAIN",
		    a->feb);
	if (state_check_group_id(a->group, "deployment group", &err) < 0)
		return validation_error("%s", err.msg);
	if (a->appspec != NULL &&
	    (a->appspec[0] == '\0' || strchr(a->appspec, '/') != NULL ||
		strcmp(a->appspec, "..") == 0 || strcmp(a->appspec, ".") == 0))
		return validation_error("appspec filename '%s' must be a file "
					"name in the revision's root, such as "
					"appspec.yml",
		    a->appspec);
	return 0;
}

int
local_plan_events(
    const char *text, char ***run, size_t *nrun, char ***all, size_t *nall)
{
	char **given = NULL;
	size_t ngiven = 0, i, n = 0;
	int r;

	*run = NULL;
	*nrun = 0;
	*all = xcalloc(exec_ndefault_events + LOCAL_MAX_EVENTS, sizeof(char *));
	for (i = 0; i < exec_ndefault_events; i++)
		(*all)[n++] = xstrdup(exec_default_events[i]);
	if (text == NULL) {
		*run = xcalloc(exec_ndefault_events, sizeof(char *));
		for (i = 0; i < exec_ndefault_events; i++)
			(*run)[i] = xstrdup(exec_default_events[i]);
		*nrun = exec_ndefault_events;
		*nall = n;
		return 0;
	}
	if (split_events(text, &given, &ngiven) < 0) {
		local_free_list(given, ngiven);
		*nall = n;
		return validation_error("events '%s' must be a comma-separated "
					"list of event names without empty "
					"entries",
		    text);
	}
	if ((r = check_event_order(given, ngiven, text)) != 0) {
		local_free_list(given, ngiven);
		*nall = n;
		return r;
	}
	for (i = 0; i < ngiven; i++)
		if (!in_list(given[i], (const char *const *)*all, n))
			(*all)[n++] = xstrdup(given[i]);
	*nall = n;
	*run = xcalloc(ngiven + 2, sizeof(char *));
	if (!in_list("DownloadBundle", (const char *const *)given, ngiven))
		(*run)[(*nrun)++] = xstrdup("DownloadBundle");
	if (!in_list("Install", (const char *const *)given, ngiven))
		(*run)[(*nrun)++] = xstrdup("Install");
	for (i = 0; i < ngiven; i++)
		(*run)[(*nrun)++] = xstrdup(given[i]);
	local_free_list(given, ngiven);
	/* Install before DownloadBundle: swap them (pinned) */
	for (i = 0; i < *nrun; i++) {
		if (strcmp((*run)[i], "Install") == 0) {
			size_t j;

			for (j = i + 1; j < *nrun; j++)
				if (strcmp((*run)[j], "DownloadBundle") == 0) {
					char *t = (*run)[i];

					(*run)[i] = (*run)[j];
					(*run)[j] = t;
				}
			break;
		}
	}
	return 0;
}

struct progress {
	int tty;
	const char *event;
	long long last_ms;
};

/* Live byte counts at a terminal, at most ten times a second. */
static void
on_progress(const char *what, uint64_t done, uint64_t total, void *arg)
{
	struct progress *p = arg;
	long long now = clock_now_ms();

	if (!p->tty || now - p->last_ms < 100)
		return;
	p->last_ms = now;
	if (total > 0 && done <= total)
		fprintf(stdout, "\r  %-20s %s %.1f of %.1f MB (%d%%)", p->event,
		    what, (double)done / 1e6, (double)total / 1e6,
		    (int)(done * 100 / total));
	else
		fprintf(stdout, "\r  %-20s %s %.1f MB", p->event, what,
		    (double)done / 1e6);
	fflush(stdout);
}

/* S3 and GitHub access for this run: the credentials chain of the host. */
struct remote {
	struct cfg_onprem *onprem;
	struct creds_chain *chain;
	char *region;
	struct bundle_env benv;
};

/* Set up S3 access; a failure ends the run. */
static int
remote_setup(struct remote *rm, const struct cfg *cfg,
    const struct exec_spec *spec, struct err *err)
{
	memset(rm, 0, sizeof(*rm));
	rm->benv.cfg = cfg;
	if (spec->revision != EXEC_REV_S3)
		return 0;
	if (cfg_onprem_load(cfg->on_premises_config_file, &rm->onprem, err) <
		0 ||
	    (rm->chain = creds_chain_new(cfg, rm->onprem, err)) == NULL)
		return -1;
	if (creds_region(rm->chain, &rm->region, err) < 0) {
		if (cfg->s3_endpoint_override == NULL ||
		    *cfg->s3_endpoint_override == '\0')
			return err_prefix(err,
			    "set AWS_REGION to the bucket's "
			    "region");
		/* An S3-compatible endpoint: sign for the default region. */
		err_clear(err);
		rm->region = xstrdup("us-east-1");
	}
	rm->benv.region = rm->region;
	rm->benv.creds = creds_chain_sigv4;
	rm->benv.creds_arg = rm->chain;
	return 0;
}

static void
remote_clear(struct remote *rm)
{
	creds_chain_free(rm->chain);
	cfg_onprem_free(rm->onprem);
	free(rm->region);
}

static int
open_log(const struct cfg *cfg)
{
	struct log_opts opts = {
		.ident = "codedeploy-local",
		.level = cfg->verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO,
		.sinks = LOG_SINK_JOURNAL | LOG_SINK_FILE,
		.stderr_fd = -1,
		.journal_no_fallback = 1,
	};
	struct err err = ERR_INIT;
	char *path = xasprintf("%s/codedeploy-local.log", cfg->log_dir);
	int r = -1;

	opts.file_path = path;
	if (fsutil_mkdir_p(cfg->log_dir, 0755, &err) == 0 &&
	    log_open(&opts, &err) == 0)
		r = 0;
	if (r < 0) {
		/* not fatal: keep warnings on stderr, hook output in files */
		opts.sinks = LOG_SINK_JOURNAL | LOG_SINK_STDERR;
		opts.level = LOG_LEVEL_WARN;
		opts.file_path = NULL;
		log_open(&opts, NULL);
		log_warn("cannot write the log %s: %s", path, err.msg);
	}
	free(path);
	return r;
}

static int
load_config(const char *path, struct cfg **out)
{
	struct err err = ERR_INIT;
	struct cfg *cfg = cfg_new();
	size_t i;

	*out = NULL;
	if (path == NULL)
		path = cfg_default_path();
	if (path != NULL && cfg_load_file(cfg, path, &err) < 0) {
		for (i = 0; i < cfg->ndiags; i++)
			if (cfg->diags[i].is_error)
				fprintf(
				    stderr, "ERROR: %s\n", cfg->diags[i].msg);
		if (cfg->ndiags == 0)
			fprintf(stderr, "ERROR: %s\n", err.msg);
		cfg_free(cfg);
		return LOCAL_EXIT_CONFIG;
	}
	for (i = 0; i < cfg->ndiags; i++)
		fprintf(stderr, "WARNING: %s\n", cfg->diags[i].msg);
	*out = cfg;
	return 0;
}

static double
seconds(long long ms)
{
	return (double)ms / 1000.0;
}

/* A warning, once, on the console (stderr after stdout is flushed). */
static void
report_warning(struct local_report *rep, const char *msg)
{
	size_t i;

	for (i = 0; i < rep->nwarnings; i++)
		if (strcmp(rep->warnings[i], msg) == 0)
			return;
	rep->warnings = xreallocarray(
	    rep->warnings, rep->nwarnings + 1, sizeof(*rep->warnings));
	rep->warnings[rep->nwarnings++] = xstrdup(msg);
	fflush(rep->con);
	fprintf(stderr, "WARNING: %s\n", msg);
}

static void
report_error(struct local_report *rep, const char *msg)
{
	free(rep->error);
	rep->error = xstrdup(msg);
	fflush(stdout);
	fflush(rep->con);
	fprintf(stderr, "ERROR: %s\n", msg);
}

/* The last lines of a failing script's output (20 lines, 4 KiB at most). */
static void
print_tail(FILE *out, const char *log)
{
	size_t len = strlen(log), start, lines = 0;
	const char *p;

	while (len > 0 && log[len - 1] == '\n')
		len--;
	if (len == 0)
		return;
	for (start = len; start > 0; start--)
		if (log[start - 1] == '\n' && ++lines == 20)
			break;
	if (len - start > 4096) {
		start = len - 4096;
		while (start < len && log[start - 1] != '\n')
			start++;
	}
	fprintf(out, "The script's last lines of output:\n");
	for (p = log + start; p < log + len;) {
		const char *nl = memchr(p, '\n', (size_t)(log + len - p));
		size_t n =
		    nl != NULL ? (size_t)(nl - p) : (size_t)(log + len - p);

		fprintf(out, "    %.*s\n", (int)n, p);
		p += n + 1;
	}
}

static int
file_exists(const char *path)
{
	struct stat st;

	return path != NULL && stat(path, &st) == 0;
}

/* "See the deployment log ...", naming only files that exist. */
static void
print_log_pointers(
    FILE *out, const char *droot, const char *agent_log, int agent_error)
{
	char *scripts = xasprintf("%s/logs/scripts.log", droot);

	if (file_exists(scripts))
		fprintf(out, "See the deployment log at %s for more details\n",
		    scripts);
	if (agent_error && file_exists(agent_log))
		fprintf(out, "See the agent log at %s for more details\n",
		    agent_log);
	free(scripts);
}

/* The total time, then where the logs are: the run's last lines. */
static void
finish_console(struct local_report *rep, int agent_error, long long started_ms)
{
	rep->total_ms = clock_now_ms() - started_ms;
	fprintf(rep->con, "Total time %.1f s\n", seconds(rep->total_ms));
	print_log_pointers(rep->con, rep->droot, rep->agent_log, agent_error);
}

void
local_print_json(FILE *out, const struct local_report *rep,
    const struct exec_spec *spec, int ok)
{
	struct json *doc = json_object(), *events = json_array();
	struct json *warnings = json_array(), *logs = json_object();
	char *scripts = xasprintf("%s/logs/scripts.log", rep->droot);
	char *text;
	size_t i;

	json_set(doc, "deployment_id", json_string(spec->deployment_id));
	json_set(
	    doc, "deployment_group_id", json_string(spec->deployment_group_id));
	json_set(doc, "status", json_string(ok ? "Succeeded" : "Failed"));
	json_set(doc, "duration_ms", json_number((double)rep->total_ms));
	json_set(doc, "error",
	    rep->error != NULL ? json_string(rep->error) : json_null());
	for (i = 0; i < rep->nevents; i++) {
		const struct local_event *ev = &rep->events[i];
		struct json *o = json_object();

		json_set(o, "name", json_string(ev->name));
		json_set(o, "status", json_string(ev->status));
		json_set(
		    o, "duration_ms", json_number((double)ev->duration_ms));
		json_set(o, "exit_code",
		    ev->exit_code >= 0 ? json_number(ev->exit_code)
				       : json_null());
		json_set(o, "error",
		    ev->error != NULL ? json_string(ev->error) : json_null());
		json_push(events, o);
	}
	json_set(doc, "events", events);
	for (i = 0; i < rep->nwarnings; i++)
		json_push(warnings, json_string(rep->warnings[i]));
	json_set(doc, "warnings", warnings);
	json_set(doc, "deployment_root", json_string(rep->droot));
	json_set(logs, "scripts",
	    file_exists(scripts) ? json_string(scripts) : json_null());
	json_set(logs, "agent",
	    file_exists(rep->agent_log) ? json_string(rep->agent_log)
					: json_null());
	json_set(doc, "logs", logs);
	text = json_print(doc);
	fflush(stderr);
	fprintf(out, "%s\n", text);
	fflush(out);
	free(text);
	free(scripts);
	json_free(doc);
}

void
local_report_clear(struct local_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nevents; i++)
		free(rep->events[i].error);
	free(rep->events);
	for (i = 0; i < rep->nwarnings; i++)
		free(rep->warnings[i]);
	free(rep->warnings);
	free(rep->error);
	free(rep->droot);
	free(rep->agent_log);
	memset(rep, 0, sizeof(*rep));
}

/* --- the steps of local_main: arguments, plan, run, print --------------- */

int
local_parse_args(int argc, char **argv, struct local_args *a)
{
	static const struct option longopts[] = {
		{ "bundle-location", required_argument, NULL, 'l' },
		{ "type", required_argument, NULL, 't' },
		{ "file-exists-behavior", required_argument, NULL, 'b' },
		{ "deployment-group", required_argument, NULL, 'g' },
		{ "deployment-group-name", required_argument, NULL, 'd' },
		{ "application-name", required_argument, NULL, 'a' },
		{ "events", required_argument, NULL, 'e' },
		{ "agent-configuration-file", required_argument, NULL, 'c' },
		{ "appspec-filename", required_argument, NULL, 'A' },
		{ "github-token", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	/* the string options by their letter, in a's order */
	const struct {
		int opt;
		const char **field;
	} fields[] = {
		{ 'l', &a->location },
		{ 't', &a->type },
		{ 'b', &a->feb },
		{ 'g', &a->group },
		{ 'd', &a->group_name },
		{ 'a', &a->app_name },
		{ 'e', &a->events },
		{ 'c', &a->config },
		{ 'A', &a->appspec },
		{ 'T', &a->github_token },
	};
	size_t i;
	int c;

	*a = (struct local_args){
		.location = ".",
		.type = "directory",
		.feb = "DISALLOW",
		.group = LOCAL_DEFAULT_GROUP,
		.group_name = LOCAL_DEFAULT_GROUP_NAME,
	};
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+:l:t:b:g:d:a:e:c:A:hv", longopts,
		    NULL)) != -1) {
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (fields[i].opt == c)
				break;
		if (i < sizeof(fields) / sizeof(fields[0])) {
			*fields[i].field = optarg;
		} else if (c == 'J') {
			a->json = 1;
		} else if (c == 'h') {
			print_help(stdout);
			return 0;
		} else if (c == 'v') {
			printf("cdagent %s\n", PACKAGE_VERSION);
			return 0;
		} else {
			if (c == ':')
				fprintf(stderr,
				    "ERROR: option %s needs a value\n",
				    argv[optind - 1]);
			else
				fprintf(stderr, "ERROR: unknown option %s\n",
				    argv[optind - 1]);
			print_help(stderr);
			return LOCAL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return validation_error("unexpected argument '%s'; see "
					"--help",
		    argv[optind]);
	if (a->github_token == NULL || a->github_token[0] == '\0')
		a->github_token = getenv("CODEDEPLOY_GITHUB_TOKEN");
	return -1;
}

/* What local_main has decided before the deployment root changes. */
struct local_plan {
	struct cfg *cfg;
	struct exec_spec spec;
	char **run; /* the events to run, in order */
	size_t nrun;
};

static void
plan_clear(struct local_plan *p)
{
	exec_spec_clear(&p->spec);
	local_free_list(p->run, p->nrun);
	cfg_free(p->cfg);
}

/*
 * The configuration, the spec and the events, every argument checked in
 * v1's order; nothing is changed yet.  Returns 0, or the exit status.
 */
static int
plan_deployment(const struct local_args *a, struct local_plan *p)
{
	char **all = NULL;
	size_t nall = 0;
	int ret;

	if ((ret = load_config(a->config, &p->cfg)) != 0)
		return ret;
	if ((ret = build_spec(a, &p->spec)) != 0)
		return ret;
	ret = local_plan_events(a->events, &p->run, &p->nrun, &all, &nall);
	if (ret != 0) {
		local_free_list(all, nall);
		return ret;
	}
	p->spec.deployment_id = random_deployment_id();
	p->spec.deployment_group_id = xstrdup(a->group);
	p->spec.deployment_group_name = xstrdup(a->group_name);
	p->spec.application_name =
	    xstrdup(a->app_name != NULL ? a->app_name : a->location);
	p->spec.appspec_filename =
	    a->appspec != NULL ? xstrdup(a->appspec) : NULL;
	p->spec.github_token =
	    a->github_token != NULL ? xstrdup(a->github_token) : NULL;
	p->spec.all_possible_events = all;
	p->spec.nall_possible_events = nall;
	return 0;
}

/*
 * The new revision's checks, before an event of the old one runs.
 * Returns 0, or -1 once the console has said why.
 */
static int
run_precheck(struct exec_env *env, const struct exec_spec *spec,
    struct progress *prog, struct local_report *rep, long long started_ms)
{
	struct exec_result res;
	size_t i;
	int r;

	memset(&res, 0, sizeof(res));
	prog->event = "check";
	r = exec_precheck(env, spec, &res);
	if (prog->tty)
		printf("\r\033[K");
	for (i = 0; i < res.nwarnings; i++)
		report_warning(rep, res.warnings[i]);
	if (r < 0) {
		log_error(
		    "the new revision failed its checks: %s", res.message);
		fprintf(rep->con,
		    "  the new revision failed its checks; no event ran\n");
		report_error(rep, res.message);
		finish_console(rep, 1, started_ms);
	} else {
		fprintf(rep->con,
		    "  the new revision passed its checks (%.1f s)\n",
		    seconds(clock_now_ms() - started_ms));
		fflush(rep->con);
	}
	exec_result_clear(&res);
	return r;
}

/* One event, recorded in ev.  Returns 0, or -1 once the console has said
 * why it failed. */
static int
run_event(struct exec_env *env, const struct exec_spec *spec,
    struct progress *prog, struct local_report *rep, struct local_event *ev,
    long long started_ms)
{
	struct exec_result res;
	long long event_ms = clock_now_ms();
	size_t j;
	int r, agent_error;

	memset(&res, 0, sizeof(res));
	prog->event = ev->name;
	r = exec_command(env, spec, ev->name, &res);
	ev->duration_ms = clock_now_ms() - event_ms;
	if (prog->tty)
		printf("\r\033[K");
	for (j = 0; j < res.nwarnings; j++)
		report_warning(rep, res.warnings[j]);
	if (r == 0) {
		ev->status = res.noop ? "Skipped" : "Succeeded";
		fprintf(rep->con, "  %s %s (%.1f s)\n", ev->name,
		    res.noop ? "skipped (no scripts)" : "succeeded",
		    seconds(ev->duration_ms));
		fflush(rep->con);
		exec_result_clear(&res);
		return 0;
	}
	agent_error = res.code == HOOK_UNKNOWN_ERROR;
	ev->status = "Failed";
	ev->exit_code = res.code == HOOK_SCRIPT_FAILED ? res.exit_code : -1;
	ev->error = xstrdup(res.message);
	fprintf(rep->con, "  %s failed (%.1f s)\n", ev->name,
	    seconds(ev->duration_ms));
	log_error("%s failed: %s", ev->name, res.message);
	if (!agent_error) {
		fprintf(rep->con,
		    "Your local deployment failed while trying to execute your "
		    "script at %s/%s/%s\n",
		    rep->droot, STATE_ARCHIVE_DIR, res.script_name);
		print_tail(rep->con, res.log);
	}
	report_error(rep, res.message);
	finish_console(rep, agent_error, started_ms);
	exec_result_clear(&res);
	return -1;
}

/*
 * The deployment: from here on the deployment root changes.  Every event
 * of p in turn, reported on the console and in rep.  Returns 0, or
 * LOCAL_EXIT_FAILED.
 */
static int
run_deployment(
    const struct local_args *a, struct local_plan *p, struct local_report *rep)
{
	const struct cfg *cfg = p->cfg;
	struct err err = ERR_INIT;
	struct progress prog;
	struct remote remote;
	struct exec_env env;
	char *last = NULL, *recent = NULL;
	long long started_ms;
	int ret = LOCAL_EXIT_FAILED;
	size_t i;

	memset(&remote, 0, sizeof(remote));
	if (open_log(cfg) == 0)
		rep->agent_log =
		    xasprintf("%s/codedeploy-local.log", cfg->log_dir);
	rep->droot = state_droot(cfg->root_dir, p->spec.deployment_group_id,
	    p->spec.deployment_id, &err);
	rep->con = a->json ? stderr : stdout;
	rep->json = a->json;
	rep->events = xcalloc(p->nrun, sizeof(*rep->events));
	for (i = 0; i < p->nrun; i++) {
		rep->events[i].name = p->run[i];
		rep->events[i].status = "NotRun";
		rep->events[i].exit_code = -1;
	}
	rep->nevents = p->nrun;
	fprintf(rep->con,
	    "Starting to execute deployment from within folder %s\n",
	    rep->droot);
	fflush(rep->con);
	for (i = 0; i < cfg->ndiags; i++)
		log_warn("%s", cfg->diags[i].msg);
	if (state_get_last_successful(cfg->root_dir, a->group, &last, &err) <
		0 ||
	    state_get_most_recent(cfg->root_dir, a->group, &recent, &err) < 0) {
		report_error(rep, err.msg);
		goto out;
	}
	log_info("local deployment %s of %s (%s) into %s",
	    p->spec.deployment_id, a->location, a->type, rep->droot);
	if (remote_setup(&remote, cfg, &p->spec, &err) < 0) {
		report_error(rep, err.msg);
		goto out;
	}
	memset(&env, 0, sizeof(env));
	env.cfg = cfg;
	env.local = 1;
	env.bundle = &remote.benv;
	env.last_successful_droot = last;
	env.most_recent_droot = recent;
	prog.tty = !a->json && isatty(1);
	prog.last_ms = 0;
	env.progress = on_progress;
	env.progress_arg = &prog;
	started_ms = clock_now_ms();
	if (p->nrun > 0 && strcmp(p->run[0], "DownloadBundle") != 0 &&
	    run_precheck(&env, &p->spec, &prog, rep, started_ms) < 0)
		goto out;
	for (i = 0; i < p->nrun; i++)
		if (run_event(&env, &p->spec, &prog, rep, &rep->events[i],
			started_ms) < 0)
			goto out;
	fprintf(rep->con,
	    "Your local deployment succeeded: the AppSpec file is "
	    "valid and every event ran.\n");
	finish_console(rep, 0, started_ms);
	ret = 0;
out:
	remote_clear(&remote);
	free(last);
	free(recent);
	return ret;
}

int
local_main(int argc, char **argv)
{
	struct local_args a;
	struct local_plan plan;
	struct local_report rep;
	int ret;

	memset(&plan, 0, sizeof(plan));
	memset(&rep, 0, sizeof(rep));
	/* each line out at once: stdout never trails what goes to stderr */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((ret = local_parse_args(argc, argv, &a)) >= 0)
		return ret;
	if ((ret = plan_deployment(&a, &plan)) == 0)
		ret = run_deployment(&a, &plan, &rep);
	if (rep.droot != NULL && rep.json)
		local_print_json(stdout, &rep, &plan.spec, ret == 0);
	fflush(stdout);
	local_report_clear(&rep);
	plan_clear(&plan);
	log_close();
	return ret;
}

/* --- the remote location parser on its own (for tests/fuzz) ------------- */

int
local_parse_location(
    const char *location, const char *type, struct exec_spec *spec)
{
	if (strncmp(location, "s3://", 5) == 0)
		return parse_s3(location, spec);
	if (strncmp(location, "https://", 8) == 0)
		return parse_github(location, type, spec);
	return validation_error("unknown location %s cannot be determined to "
				"be S3 or Github",
	    location);
}
