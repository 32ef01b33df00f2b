/*
 * unpack internals shared by its parts: unpack.c (staging, strip, directory
 * bundles), unpack-tree.c (the safe writer) and unpack-archive.c (the only
 * part that includes <archive.h>).  Not for other modules.
 */
#ifndef CDAGENT_UNPACK_INT_H
#define CDAGENT_UNPACK_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"
#include "unpack.h"

/* Directory nesting an entry may have (each level holds an open fd). */
#define UNPACK_MAX_DEPTH 256
/* Longest normalised entry name, so later path-based tools can reach it. */
#define UNPACK_MAX_NAME 4095
/* Block size for reading bundles and copying directory-bundle files. */
#define UNPACK_BLOCK_SIZE (128 * 1024)
/* How often the progress callback runs. */
#define UNPACK_PROGRESS_BYTES (4ULL * 1024 * 1024)

enum unpack_kind {
	UNPACK_KIND_FILE,
	UNPACK_KIND_DIR,
	UNPACK_KIND_SYMLINK,
	UNPACK_KIND_HARDLINK,
	UNPACK_KIND_OTHER, /* device, fifo, socket, unknown: always refused */
};

/* One member of a bundle, as the reader hands it to the writer. */
struct unpack_entry {
	const char *name; /* as stored in the bundle */
	enum unpack_kind kind;
	const char *other_what; /* UNPACK_KIND_OTHER: "a fifo", ... */
	mode_t perm;		/* permission bits, setuid/setgid already off */
	int size_set;
	int64_t size; /* declared data size (FILE) */
	int mtime_set;
	struct timespec mtime;
	int owner_set; /* apply uid/gid (tar, keep_ownership, root) */
	uid_t uid;
	gid_t gid;
	const char *link_target; /* SYMLINK and HARDLINK */
	/*
	 * FILE from a directory bundle: the open source file, copied in the
	 * kernel (copy_file_range) when the file systems allow; read_fn is
	 * the fallback.
	 */
	int has_data_fd;
	int data_fd;
};

/*
 * Hands out a regular file's data: 1 with the next block (*buf, *len) at
 * byte offset *offset (a gap before it is a hole); 0 at the end, with
 * *offset the file's full size when it ends in a hole (else -1); -1 on error
 * (err filled; the writer adds the entry name).
 */
typedef int (*unpack_read_fn)(
    void *arg, const void **buf, size_t *len, int64_t *offset, struct err *err);

struct unpack_tree;

/*
 * A writer into the directory root_fd (borrowed; stays open while the tree
 * lives).  bundle names the bundle in messages.
 */
struct unpack_tree *unpack_tree_new(
    int root_fd, const char *bundle, const struct unpack_opts *opts);
void unpack_tree_free(struct unpack_tree *tree);

/*
 * Create one entry below the root, refusing (E_UNSAFE, E_LIMIT) anything
 * hostile.  read_fn supplies a FILE's data.
 */
int unpack_tree_add(struct unpack_tree *tree, const struct unpack_entry *entry,
    unpack_read_fn read_fn, void *read_arg, struct err *err);

/*
 * Whether a symlink created so far climbs to the root level (so it would
 * leave the archive if the single top directory became the root); the
 * first such link's name and target, or NULL.
 */
const char *unpack_tree_root_link(
    const struct unpack_tree *tree, const char **target);

/*
 * Give every directory created its final mode and mtime, deepest first.
 * skip (a normalised name or NULL) is left alone: it becomes the root.
 */
int unpack_tree_finish(
    struct unpack_tree *tree, const char *skip, struct err *err);

/* Bytes and entries so far. */
void unpack_tree_stats(
    const struct unpack_tree *tree, struct unpack_stats *out);

/*
 * Feed every entry of the tar or zip bundle_path to tree (unpack-archive.c).
 */
int unpack_archive_read(const char *bundle_path, enum unpack_format format,
    struct unpack_tree *tree, const struct unpack_opts *opts, struct err *err);

#endif
