/*
 * check-cli: `cdagent check [-A NAME] [-t TYPE] [-e EVENTS] [--host] PATH`,
 * a revision checked offline, for build pipelines: an appspec file, a
 * revision directory, or a tar/tgz/zip bundle (unpacked into a temporary
 * directory, removed after).  Each problem is printed "file:line:col: ...";
 * exit 0 when there is no error, 1 when there is, 2 on bad usage.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fsutil.h"
#include "unpack.h"
#include "xalloc.h"

#define CHECK_EXIT_INVALID 1
#define CHECK_EXIT_USAGE 2
#define CHECK_MAX_EVENTS 64

static void
print_help(FILE *out)
{
	fprintf(out,
	    "usage: cdagent check [options] PATH\n\n"
	    "Check a revision without deploying it: PATH is an appspec "
	    "file, a revision\n"
	    "directory, or a tar, tgz or zip bundle.  Every problem is "
	    "printed as\n"
	    "file:line:col: message; the exit status is 0 when there is no "
	    "error, else 1.\n\n"
	    "  -A, --appspec-filename NAME  the appspec file name (default "
	    "appspec.yml)\n"
	    "  -t, --type TYPE              tar, tgz, zip or directory "
	    "(default: from PATH)\n"
	    "  -e, --events E1,E2,...       custom lifecycle events the "
	    "appspec may have\n"
	    "      --host                   also check this host: users, "
	    "groups, destinations\n"
	    "  -h, --help                   this help\n");
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The kind of PATH: an appspec file, or a bundle format; 0 or -1. */
static int
path_kind(const char *path, const char *type, int *appspec_file,
    enum unpack_format *format)
{
	struct stat st;

	*appspec_file = 0;
	if (stat(path, &st) < 0)
		return -1;
	if (type != NULL)
		return unpack_parse_format(type, format);
	if (S_ISDIR(st.st_mode)) {
		*format = UNPACK_DIRECTORY;
		return 0;
	}
	if (has_suffix(path, ".tgz") || has_suffix(path, ".tar.gz"))
		*format = UNPACK_TGZ;
	else if (has_suffix(path, ".tar"))
		*format = UNPACK_TAR;
	else if (has_suffix(path, ".zip"))
		*format = UNPACK_ZIP;
	else
		*appspec_file = 1;
	return 0;
}

/* Split "A,B" into the custom events (borrowing copy's storage). */
static size_t
split_events(char *copy, const char **events)
{
	size_t n = 0;
	char *p, *save = NULL;

	for (p = strtok_r(copy, ",", &save); p != NULL && n < CHECK_MAX_EVENTS;
	     p = strtok_r(NULL, ",", &save))
		events[n++] = p;
	return n;
}

/* Print "file:line:col: error: text" (compilers' form) or "error: text". */
static void
print_diag(const struct check_diag *d)
{
	const char *level = d->is_error ? "error" : "warning";
	const char *p = strchr(d->msg, ':');
	size_t field;

	for (field = 0; p != NULL && field < 2; field++) {
		size_t digits = strspn(p + 1, "0123456789");

		p = digits > 0 && p[1 + digits] == ':' ? p + 1 + digits : NULL;
	}
	if (p != NULL && p[1] == ' ')
		printf(
		    "%.*s: %s:%s\n", (int)(p - d->msg), d->msg, level, p + 1);
	else
		printf("%s: %s\n", level, d->msg);
}

/* Parse and check; diagnostics into rep, a load failure as one error. */
static void
check_path(const char *path, const char *name, const char *type,
    const struct appspec_opts *opts, unsigned flags, struct check_report *rep)
{
	struct appspec *as = NULL;
	struct err err = ERR_INIT;
	enum unpack_format format = UNPACK_DIRECTORY;
	char *tmp = NULL, *unpacked = NULL, *buf = NULL;
	const char *dir = path;
	int appspec_file;
	size_t len;

	if (path_kind(path, type, &appspec_file, &format) < 0) {
		check_report_add(rep, 1, "%s: %s", path,
		    type != NULL
			? "unknown type; use tar, tgz, zip or directory"
			: "does not exist");
		return;
	}
	if (appspec_file) {
		const char *base = strrchr(path, '/');

		if (fsutil_read_file(path, 1 << 20, &buf, &len, &err) < 0 ||
		    appspec_parse(buf, len, base != NULL ? base + 1 : path,
			opts, &as, &err) < 0)
			check_report_add(rep, 1, "%s", err.msg);
		else
			(void)check_revision(NULL, as, flags, rep);
		goto out;
	}
	if (format != UNPACK_DIRECTORY) {
		struct unpack_opts uopts = { .appspec_name = name };
		struct unpack_stats stats;
		const char *tmpdir = getenv("TMPDIR");

		tmp = xasprintf("%s/cdagent-check.XXXXXX",
		    tmpdir != NULL && *tmpdir != '\0' ? tmpdir : "/tmp");
		if (mkdtemp(tmp) == NULL) {
			check_report_add(
			    rep, 1, "cannot make a directory %s", tmp);
			free(tmp);
			tmp = NULL;
			goto out;
		}
		dir = unpacked = xasprintf("%s/revision", tmp);
		if (unpack_bundle(
			path, format, unpacked, &uopts, &stats, &err) < 0) {
			check_report_add(rep, 1, "%s: %s", path, err.msg);
			goto out;
		}
	}
	if (appspec_load(dir, name, opts, &as, &err) < 0)
		check_report_add(rep, 1, "%s", err.msg);
	else
		(void)check_revision(dir, as, flags, rep);
out:
	if (tmp != NULL && fsutil_rm_rf(tmp, &err) < 0)
		fprintf(stderr, "cdagent: warning: %s\n", err.msg);
	free(tmp);
	free(unpacked);
	free(buf);
	appspec_free(as);
}

int
check_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "appspec-filename", required_argument, NULL, 'A' },
		{ "type", required_argument, NULL, 't' },
		{ "events", required_argument, NULL, 'e' },
		{ "host", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *events[CHECK_MAX_EVENTS];
	const char *name = NULL, *type = NULL;
	struct appspec_opts opts = { events, 0 };
	struct check_report rep;
	char *event_text = NULL;
	unsigned flags = 0;
	size_t i;
	int c;

	opterr = 0;
	optind = 0;
	while (
	    (c = getopt_long(argc, argv, "+:A:t:e:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'A':
			name = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 'e':
			free(event_text);
			event_text = xstrdup(optarg);
			opts.ncustom_events = split_events(event_text, events);
			break;
		case 'H':
			flags |= CHECK_HOST;
			break;
		case 'h':
			print_help(stdout);
			free(event_text);
			return 0;
		default:
			fprintf(stderr, "cdagent: bad option %s\n",
			    argv[optind - 1]);
			print_help(stderr);
			free(event_text);
			return CHECK_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "cdagent: check needs one PATH\n");
		print_help(stderr);
		free(event_text);
		return CHECK_EXIT_USAGE;
	}
	memset(&rep, 0, sizeof(rep));
	check_path(argv[optind], name, type, &opts, flags, &rep);
	for (i = 0; i < rep.ndiags; i++)
		print_diag(&rep.diags[i]);
	printf("%s: %zu error(s), %zu warning(s)\n", argv[optind], rep.nerrors,
	    rep.ndiags - rep.nerrors);
	c = rep.nerrors > 0 ? CHECK_EXIT_INVALID : 0;
	check_report_clear(&rep);
	free(event_text);
	return c;
}
