/*
 * install: the Install step (v1 §7): copy a revision's files where its
 * appspec says, apply permissions, and remember what was created so the next
 * install removes it.
 *
 * Compared with AWS's agent: everything is planned and checked (sources
 * exist inside the revision, destinations are writable, DISALLOW conflicts,
 * overlapping targets and permissions, owners and groups exist) before
 * anything on the host is removed or written (v1 bug 23); each file is
 * replaced atomically (a temporary file renamed over it), so an application
 * never sees a half-written file; files the previous install created and
 * this one replaces are not removed first; symlinks are copied as symlinks;
 * files that existed before cdagent overwrote them are not recorded for
 * removal (bug 24); relative destinations are an error (bug 25); no shell
 * is ever run (bug 4).
 *
 * Crash-safe at any instant (issue 13): the records of what is installed
 * are written, fsync'd, before anything changes, and replaced when Install
 * completes (see "Records" in install.c); after a crash the next install
 * treats everything either list holds, and its temporary files, as its own.
 * Paths with line breaks are refused; a cleanup line is acted on only if
 * the install.json written with it planned that path; removal never follows
 * a symbolic link; free bytes and inodes are checked before anything is
 * removed; sparse files keep their holes.
 */
#ifndef CDAGENT_INSTALL_H
#define CDAGENT_INSTALL_H

#include <stdint.h>

#include "appspec.h"
#include "err.h"

typedef void (*install_progress_fn)(uint64_t files, uint64_t bytes, void *arg);

struct install_opts {
	const char *root_dir;	 /* deployment root: holds the instructions */
	const char *group_id;	 /* <GID> of the instruction files */
	const char *archive_dir; /* the unpacked revision */
	const struct appspec *appspec;
	/* The deployment's file-exists behaviour; the appspec's wins. */
	enum appspec_feb deployment_feb;
	install_progress_fn progress;
	void *progress_arg;
};

struct install_stats {
	uint64_t files;	      /* files and symlinks copied */
	uint64_t dirs;	      /* directories created */
	uint64_t bytes;	      /* bytes copied */
	uint64_t retained;    /* existing files kept under RETAIN */
	uint64_t removed;     /* paths of the previous install removed */
	uint64_t permissions; /* paths whose permissions were set */
};

/* Run the Install step.  stats may be NULL. */
int install_run(const struct install_opts *opts, struct install_stats *stats,
    struct err *err);

/*
 * The full ACL text v1 builds for setfacl --set from the user's entries and
 * a file's mode (v1 §7.5), with the canonical u::/g::/o:: base entries.
 * Free with free().
 */
char *install_acl_text(
    const struct appspec_ace *acls, size_t nacls, unsigned mode);

#endif
