/*
 * check: everything that can be known about a revision before it touches the
 * host: its appspec's scripts and `files` sources exist in the revision,
 * destinations are absolute, and (CHECK_HOST) the users and groups it names
 * exist here and its destinations can be directories.  Used before a
 * deployment disrupts the running application (exec) and by `cdagent check`.
 */
#ifndef CDAGENT_CHECK_H
#define CDAGENT_CHECK_H

#include <stddef.h>

#include "appspec.h"

/* Also check users, groups and destinations on this host. */
#define CHECK_HOST 0x1u

struct check_diag {
	int is_error;
	char *msg; /* "appspec.yml:12:7: ..." */
};

struct check_report {
	struct check_diag *diags;
	size_t ndiags;
	size_t nerrors;
};

void check_report_clear(struct check_report *rep);

/* Add a diagnostic (printf-style). */
void check_report_add(struct check_report *rep, int is_error, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/*
 * Check the appspec as of an unpacked revision in archive_dir (NULL: do not
 * look at the revision's files).  The appspec's own warnings are added too.
 * Returns 0 when no error was added, -1 otherwise.
 */
int check_revision(const char *archive_dir, const struct appspec *as,
    unsigned flags, struct check_report *rep);

/* `cdagent check [-A NAME] [-t TYPE] [--host] PATH`; the exit status. */
int check_main(int argc, char **argv);

#endif
