/*
 * fsutil: file-system operations the agent relies on to never leave a file
 * half-written or to step outside a directory it was given.
 */
#ifndef CDAGENT_FSUTIL_H
#define CDAGENT_FSUTIL_H

#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/*
 * Replace path with data atomically: write a temporary file in the same
 * directory, fsync it, give it mode, rename it over path, fsync the
 * directory.  On failure path is untouched and no temporary file remains.
 */
int fsutil_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, struct err *err);

/*
 * The same without the fsyncs, for a file that only reports (status): a
 * crash of the process leaves the old or the new content, never a mix, but
 * a power loss may lose the update.  Costs no disk flush.
 */
int fsutil_write_replace(const char *path, const void *data, size_t len,
    mode_t mode, struct err *err);

/*
 * The same, streamed: begin creates the temporary file beside path, write
 * appends to it, commit gives it mode, fsyncs and renames it over path (and
 * fsyncs the directory); abort (after a failed write) removes it.  commit
 * and abort release everything.
 */
struct fsutil_atomic {
	int fd;
	char *path;
	char *tmp;
	char *dir;
	char *buf; /* writes are gathered here, FSUTIL_ATOMIC_BUFFER bytes */
	size_t buffered;
	int nosync; /* set after begin: commit renames without any fsync */
};

int fsutil_atomic_begin(
    struct fsutil_atomic *out, const char *path, struct err *err);
int fsutil_atomic_write(
    struct fsutil_atomic *out, const void *data, size_t len, struct err *err);
int fsutil_atomic_commit(
    struct fsutil_atomic *out, mode_t mode, struct err *err);
void fsutil_atomic_abort(struct fsutil_atomic *out);

/*
 * Create path and any missing parents.  Directories this call creates get
 * exactly mode (whatever the umask); existing ones are left alone.  A
 * component that exists and is not a directory is an error naming it.
 */
int fsutil_mkdir_p(const char *path, mode_t mode, struct err *err);

/*
 * Join root and the relative path rel into *out (free with free()), refusing
 * with E_UNSAFE a rel that is absolute, has a ".." component, or resolves
 * through a symbolic link (at any depth, the last component included) to a
 * place outside root.  Symlinks that stay inside root are allowed.  Empty
 * and "." components are dropped; rel "" or "." yields root itself.
 */
int fsutil_join_safe(
    const char *root, const char *rel, char **out, struct err *err);

/*
 * Normalise a path lexically, as Ruby's expand_path does against "/":
 * absolute, empty and "." components dropped, ".." removing the component
 * before it (never above "/").  A trailing '/' is kept only with
 * keep_trailing_slash.  The file system is not consulted.  Free with free().
 */
char *fsutil_normalise(const char *path, int keep_trailing_slash);

/*
 * Remove path and everything below it.  Symbolic links are removed, never
 * followed, and the walk never leaves path's file system tree even if an
 * entry is swapped for a link while it runs.  A missing path is success.
 */
int fsutil_rm_rf(const char *path, struct err *err);

/*
 * Read a whole regular file of at most max bytes into a NUL-terminated
 * buffer (free with free()); *len_out gets the length without the NUL.
 */
int fsutil_read_file(
    const char *path, size_t max, char **out, size_t *len_out, struct err *err);

/* fsync a directory, so a rename or unlink in it survives a power cut. */
int fsutil_fsync_dir(const char *dir, struct err *err);

/*
 * Open (O_RDONLY | O_DIRECTORY) the directory holding the last component of
 * the absolute path, walking from "/" one component at a time and never
 * following a symbolic link; *base points at the last component inside
 * path.  -1 with errno set (ELOOP or ENOTDIR: a link or a file on the way;
 * EINVAL: a relative path or a ".." component).
 */
int fsutil_open_parent_nofollow(const char *path, const char **base);

/*
 * Remove the absolute path (a directory only if empty) without following
 * any symbolic link, on the way or at the end (a link is removed itself).
 * 1 when removed; 0 when there was nothing to remove, it is a directory
 * that is not empty, or it can only be reached through a link; -1 on error.
 */
int fsutil_remove_nofollow(const char *path, struct err *err);

/*
 * The next entry of dir, skipping "." and ".."; NULL at the end (errno 0)
 * or when readdir fails (errno set).  The one directory-reading loop:
 *
 *	while ((de = fsutil_readdir(dir)) != NULL)
 *		...;
 *	if (errno != 0)
 *		the read failed (the caller's message names the directory)
 */
struct dirent *fsutil_readdir(DIR *dir);

#endif
