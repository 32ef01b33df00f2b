/*
 * unpack: a revision bundle (tar, compressed tar, zip, or a directory)
 * turned into DROOT/deployment-archive, safely.  The only module that
 * includes <archive.h>.
 *
 * Everything is written to a staging directory beside the archive
 * directory, with a fixed-size buffer, and renamed into place only when
 * complete; on any failure the staging directory is removed and the previous
 * archive directory is left as it was.  Hostile input is refused: absolute
 * names, "..", entries that pass through or are symlinks leading outside the
 * archive, hardlinks to outside, device/fifo/socket entries, more bytes or
 * entries than the limits.  setuid/setgid bits are stripped (the appspec's
 * permissions can set them again at Install).
 *
 * Symlinks are kept only if their target, read from the link's directory,
 * stays inside: not absolute, and ".." only before the first name ("../x"
 * yes, "a/../x" no, since "a" may itself be a link by then).  No entry may
 * pass through a symlink.  Modes: tar exactly as stored; zip from the Unix
 * attributes, else 0644/0755 (libarchive reports an entry without them as
 * 0664/0775, so those two values become 0644/0755 for zip).
 */
#ifndef CDAGENT_UNPACK_H
#define CDAGENT_UNPACK_H

#include <stdint.h>

#include "err.h"

enum unpack_format {
	UNPACK_TAR, /* any tar format, any compression libarchive reads */
	UNPACK_TGZ, /* the same reader: v1 distinguished them */
	UNPACK_ZIP,
	UNPACK_DIRECTORY, /* bundle_path is a directory to copy */
};

#define UNPACK_DEFAULT_MAX_ENTRIES 1000000ULL

/* Called now and then with the bytes written so far (for progress). */
typedef void (*unpack_progress_fn)(uint64_t bytes, uint64_t entries, void *arg);

struct unpack_opts {
	uint64_t max_bytes;   /* total extracted bytes; 0: no limit */
	uint64_t max_entries; /* 0: UNPACK_DEFAULT_MAX_ENTRIES */
	/*
	 * The appspec file name of the deployment (NULL: appspec.yml).  The
	 * single top-level directory is stripped only when it holds this file,
	 * appspec.yaml or appspec.yml (v1 §5.6 with bug 32 fixed).
	 */
	const char *appspec_name;
	int keep_ownership; /* tar entries' uid/gid (only as root) */
	unpack_progress_fn progress;
	void *progress_arg;
};

struct unpack_stats {
	uint64_t bytes;	  /* regular-file bytes written (holes count) */
	uint64_t entries; /* entries created */
	int stripped_top_dir;
};

/* Parse a bundle type as the deployment spec writes it ("tar", "tgz",
 * "zip", "directory"); 0 or -1. */
int unpack_parse_format(const char *text, enum unpack_format *out);
const char *unpack_format_name(enum unpack_format format);

/*
 * Unpack bundle_path into archive_dir (which need not exist; its parent
 * must).  opts may be NULL; stats may be NULL, and on failure holds what
 * was written before it.  The staging directory is
 * <parent>/.<basename>.staging.XXXXXX; an existing archive_dir is swapped
 * out atomically (RENAME_EXCHANGE where the file system has it) and then
 * removed, and archive_dir always ends up mode 0755.
 */
int unpack_bundle(const char *bundle_path, enum unpack_format format,
    const char *archive_dir, const struct unpack_opts *opts,
    struct unpack_stats *stats, struct err *err);

/* The linked libarchive and its compression libraries. */
const char *unpack_lib_version(void);

#endif
