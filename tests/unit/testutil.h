/* Helpers shared by the unit tests: scratch directories and small files. */
#ifndef CDAGENT_TESTUTIL_H
#define CDAGENT_TESTUTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"
#include "xalloc.h"

/* A fresh directory under $TMPDIR (or /tmp); remove with tu_rmdir(). */
static inline char *
tu_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path = xasprintf("%s/cdagent-test.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");

	if (mkdtemp(path) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return path;
}

static inline void
tu_rmdir(char *path)
{
	struct err err = ERR_INIT;

	if (path != NULL && fsutil_rm_rf(path, &err) < 0)
		fprintf(stderr, "cleanup: %s\n", err.msg);
	free(path);
}

/* cmocka fixtures: *state is a fresh scratch directory, removed after. */
static inline int
tu_setup_tmpdir(void **state)
{
	*state = tu_mkdtemp();
	return 0;
}

static inline int
tu_teardown_tmpdir(void **state)
{
	tu_rmdir(*state);
	return 0;
}

/* Write text to dir/name (creating it); returns the full path. */
static inline char *
tu_write(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		abort();
	}
	fputs(text, f);
	fclose(f);
	return path;
}

/* A whole file (up to 1 MiB) as a string, or NULL if it cannot be read. */
static inline char *
tu_read(const char *path)
{
	struct err err = ERR_INIT;
	char *text = NULL;

	if (fsutil_read_file(path, 1 << 20, &text, NULL, &err) < 0)
		return NULL;
	return text;
}

/* The same, failing the test when the file cannot be read. */
static inline char *
tu_slurp(const char *path)
{
	char *text = tu_read(path);

	if (text == NULL)
		fail_msg("cannot read %s", path);
	return text;
}

/* Whether path exists without following a final symlink. */
static inline int
tu_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Number of entries below dir, recursively, links not followed. */
static inline int
tu_count_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		fail_msg("cannot read %s", dir);
	while ((de = readdir(d)) != NULL) {
		char *child;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		n++;
		child = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			n += tu_count_tree(child);
		free(child);
	}
	closedir(d);
	return n;
}

#endif
