/*
 * unpack: staging, the top-directory strip, replacing the archive directory,
 * and directory bundles.  Entries are written by unpack-tree.c; tar and zip
 * are read in unpack-archive.c.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "unpack-int.h"
#include "xalloc.h"

static const struct {
	const char *name;
	enum unpack_format format;
} format_names[] = {
	{ "tar", UNPACK_TAR },
	{ "tgz", UNPACK_TGZ },
	{ "zip", UNPACK_ZIP },
	{ "directory", UNPACK_DIRECTORY },
};

#define NFORMATS (sizeof(format_names) / sizeof(format_names[0]))

int
unpack_parse_format(const char *text, enum unpack_format *out)
{
	for (size_t i = 0; i < NFORMATS; i++) {
		if (strcmp(text, format_names[i].name) == 0) {
			*out = format_names[i].format;
			return 0;
		}
	}
	return -1;
}

const char *
unpack_format_name(enum unpack_format format)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (format_names[i].format == format)
			return format_names[i].name;
	return "unknown";
}

/* A directory bundle's source: one open file read with a fixed buffer. */
struct file_src {
	int fd;
	char *buf;
	int64_t pos;
};

static int
read_file_block(
    void *arg, const void **buf, size_t *len, int64_t *offset, struct err *err)
{
	struct file_src *src = arg;
	ssize_t n;

	do
		n = read(src->fd, src->buf, UNPACK_BLOCK_SIZE);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_sys(err, "cannot read it");
	*offset = n == 0 ? -1 : src->pos;
	if (n == 0)
		return 0;
	*buf = src->buf;
	*len = (size_t)n;
	src->pos += n;
	return 1;
}

/* What a directory bundle's copy walk carries along. */
struct copy_walk {
	struct unpack_tree *tree;
	char *buf; /* UNPACK_BLOCK_SIZE bytes */
	dev_t staging_dev;
	ino_t staging_ino;
};

static int copy_dir(
    struct copy_walk *walk, int dir_fd, const char *prefix, struct err *err);

/* Copy one member (name in dir_fd) of a directory bundle. */
static int
copy_member(struct copy_walk *walk, int dir_fd, const char *name,
    const char *rel, struct err *err)
{
	struct unpack_entry entry = { 0 };
	struct file_src src = { -1, walk->buf, 0 };
	char target[PATH_MAX];
	struct stat st;
	int fd = -1, ret = -1;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(err, "entry '%s': cannot check it", rel);
	entry.name = rel;
	entry.perm = st.st_mode & 01777;
	entry.mtime_set = 1;
	entry.mtime = st.st_mtim;
	if (S_ISDIR(st.st_mode)) {
		if (st.st_dev == walk->staging_dev &&
		    st.st_ino == walk->staging_ino)
			return err_set(err, E_INVALID,
			    "entry '%s': it is the staging directory; a "
			    "directory bundle may not hold the archive's "
			    "parent",
			    rel);
		entry.kind = UNPACK_KIND_DIR;
		if (unpack_tree_add(walk->tree, &entry, NULL, NULL, err) < 0)
			return -1;
		fd = openat(dir_fd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_sys(err, "entry '%s': cannot open it", rel);
		return copy_dir(walk, fd, rel, err); /* takes fd */
	}
	if (S_ISREG(st.st_mode)) {
		/* O_NONBLOCK: a file swapped for a fifo must not hang us */
		fd = openat(dir_fd, name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return err_sys(err, "entry '%s': cannot open it", rel);
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			err_set(err, E_INVALID,
			    "entry '%s': it changed while being copied", rel);
			goto out;
		}
		src.fd = fd;
		entry.has_data_fd = 1;
		entry.data_fd = fd;
		entry.kind = UNPACK_KIND_FILE;
		entry.size_set = 1;
		entry.size = st.st_size;
		ret = unpack_tree_add(
		    walk->tree, &entry, read_file_block, &src, err);
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t len = readlinkat(dir_fd, name, target, sizeof(target));

		if (len < 0 || (size_t)len >= sizeof(target))
			return err_sys(err, "entry '%s': cannot read it", rel);
		target[len] = '\0';
		entry.kind = UNPACK_KIND_SYMLINK;
		entry.link_target = target;
		return unpack_tree_add(walk->tree, &entry, NULL, NULL, err);
	}
	entry.kind = UNPACK_KIND_OTHER;
	entry.other_what = S_ISCHR(st.st_mode) ? "a character device"
	    : S_ISBLK(st.st_mode)	       ? "a block device"
	    : S_ISFIFO(st.st_mode)	       ? "a fifo"
	    : S_ISSOCK(st.st_mode)	       ? "a socket"
					       : "of an unknown type";
	return unpack_tree_add(walk->tree, &entry, NULL, NULL, err);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Copy everything in dir_fd (closed here), named prefix/... in the bundle. */
static int
copy_dir(
    struct copy_walk *walk, int dir_fd, const char *prefix, struct err *err)
{
	DIR *dir = fdopendir(dir_fd);
	struct dirent *de;
	int ret = -1;

	if (dir == NULL) {
		err_sys(err, "entry '%s': cannot read it", prefix);
		close(dir_fd);
		return -1;
	}
	while ((de = fsutil_readdir(dir)) != NULL) {
		char *rel;
		int r;

		rel = prefix[0] == '\0'
		    ? xstrdup(de->d_name)
		    : xasprintf("%s/%s", prefix, de->d_name);
		r = copy_member(walk, dirfd(dir), de->d_name, rel, err);
		free(rel);
		if (r < 0)
			goto out;
	}
	if (errno != 0) {
		err_sys(err, "entry '%s': cannot read it", prefix);
		goto out;
	}
	ret = 0;
out:
	closedir(dir);
	return ret;
}

static int
copy_directory_bundle(const char *bundle_path, struct unpack_tree *tree,
    int root_fd, struct err *err)
{
	struct copy_walk walk = { tree, NULL, 0, 0 };
	struct stat st;
	int fd, ret;

	if (fstat(root_fd, &st) < 0)
		return err_sys(err, "cannot check the staging directory");
	walk.staging_dev = st.st_dev;
	walk.staging_ino = st.st_ino;
	fd = open(bundle_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, "cannot open the directory");
	walk.buf = xmalloc(UNPACK_BLOCK_SIZE);
	ret = copy_dir(&walk, fd, "", err);
	free(walk.buf);
	return ret;
}

/* Whether dir_fd holds a regular file called name (no "/" allowed). */
static int
has_regular_file(int dir_fd, const char *name)
{
	struct stat st;

	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL)
		return 0;
	return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode);
}

/*
 * v1 §5.6 with bug 32 fixed: the name of the staging root's only entry if it
 * is a directory holding the appspec (appspec_name, appspec.yaml or
 * appspec.yml) as a regular file; else NULL.  *found names the file.
 */
static int
find_top_dir(int root_fd, const char *appspec_name, char **top,
    const char **found, struct err *err)
{
	const char *names[] = { appspec_name != NULL ? appspec_name
						     : "appspec.yml",
		"appspec.yaml", "appspec.yml" };
	struct dirent *de;
	struct stat st;
	char *only = NULL;
	int n = 0, fd, top_fd = -1;
	DIR *dir;

	*top = NULL;
	fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return err_sys(err, "cannot read the staging directory");
	}
	while (n < 2 && (de = fsutil_readdir(dir)) != NULL) {
		if (n++ == 0)
			only = xstrdup(de->d_name);
	}
	closedir(dir);
	if (n != 1 || fstatat(root_fd, only, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode))
		goto none;
	top_fd = openat(
	    root_fd, only, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top_fd < 0)
		goto none;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (has_regular_file(top_fd, names[i])) {
			close(top_fd);
			*top = only;
			*found = names[i];
			return 0;
		}
	}
	close(top_fd);
none:
	free(only);
	return 0;
}

/* parent directory of path ("." if none) and a pointer to its last name */
static char *
split_path(const char *path, char **base)
{
	char *copy = xstrdup(path);
	size_t len = strlen(copy);
	char *slash;

	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	slash = strrchr(copy, '/');
	if (slash == NULL) {
		*base = xstrdup(copy);
		free(copy);
		return xstrdup(".");
	}
	*base = xstrdup(slash + 1);
	if (slash == copy)
		slash[1] = '\0';
	else
		*slash = '\0';
	return copy;
}

/*
 * Put src in archive_dir's place: atomically swapped when archive_dir
 * exists (the old one ends up at src), else renamed.
 */
static int
replace_archive_dir(const char *src, const char *archive_dir, struct err *err)
{
	struct stat st;

	if (lstat(archive_dir, &st) < 0) {
		if (errno != ENOENT)
			return err_sys(err, "cannot check %s", archive_dir);
	} else {
		if (renameat2(AT_FDCWD, src, AT_FDCWD, archive_dir,
			RENAME_EXCHANGE) == 0)
			return 0;
		if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
			return err_sys(
			    err, "cannot swap %s into %s", src, archive_dir);
		/* no atomic swap on this file system */
		if (fsutil_rm_rf(archive_dir, err) < 0)
			return err_prefix(err, "cannot remove the old archive");
	}
	if (rename(src, archive_dir) < 0)
		return err_sys(err, "cannot rename %s to %s", src, archive_dir);
	return 0;
}

static int
set_dir_mode(const char *path, mode_t mode, struct err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return err_sys(err, "cannot open %s", path);
	if (fchmod(fd, mode) < 0) {
		err_sys(
		    err, "cannot set mode %04o on %s", (unsigned)mode, path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Refuse a bundle that cannot be what format says before staging anything. */
static int
check_bundle(
    const char *bundle_path, enum unpack_format format, struct err *err)
{
	struct stat st;

	if (stat(bundle_path, &st) < 0) {
		if (errno == ENOENT)
			return err_set(err, E_NOTFOUND, "it does not exist");
		return err_sys(err, "cannot check it");
	}
	if (format == UNPACK_DIRECTORY) {
		if (!S_ISDIR(st.st_mode))
			return err_set(err, E_INVALID,
			    "it is not a directory, but the bundle type is "
			    "'directory'");
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return err_set(err, E_INVALID,
		    "it is a directory, but the bundle type is '%s'",
		    unpack_format_name(format));
	if (format != UNPACK_ZIP && st.st_size == 0)
		return err_set(err, E_PARSE,
		    "it is empty (0 bytes), not a tar archive; check the "
		    "upload");
	return 0;
}

/*
 * The staging directory beside archive_dir (parent/.base.staging.XXXXXX,
 * mode 0755), opened: its fd, or -1 with err set (*staging is NULL unless
 * it was created).
 */
static int
make_staging(
    const char *parent, const char *base, char **staging, struct err *err)
{
	int fd;

	*staging = xasprintf("%s/.%s.staging.XXXXXX", parent, base);
	if (mkdtemp(*staging) == NULL) {
		err_sys(err, "cannot create a staging directory in %s", parent);
		free(*staging);
		*staging = NULL;
		return -1;
	}
	fd = open(*staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, "cannot open %s", *staging);
	if (fchmod(fd, 0755) < 0) {
		err_sys(err, "cannot set mode 0755 on %s", *staging);
		close(fd);
		return -1;
	}
	return fd;
}

/* A symbolic link at the root would point outside once top is stripped. */
static int
check_root_link(struct unpack_tree *tree, const char *top, struct err *err)
{
	const char *link_target = NULL;
	const char *link = unpack_tree_root_link(tree, &link_target);

	if (link == NULL)
		return 0;
	return err_set(err, E_UNSAFE,
	    "entry '%s': it is a symbolic link to '%s', which would lead "
	    "outside the archive once the top directory '%s' is stripped; the "
	    "bundle was rejected",
	    link, link_target, top);
}

int
unpack_bundle(const char *bundle_path, enum unpack_format format,
    const char *archive_dir, const struct unpack_opts *opts,
    struct unpack_stats *stats, struct err *err)
{
	static const struct unpack_opts no_opts = { 0 };
	struct unpack_tree *tree = NULL;
	char *parent = NULL, *base = NULL, *staging = NULL, *top = NULL;
	char *final_src = NULL;
	const char *appspec_found = NULL;
	int root_fd = -1, ret = -1;
	struct err cleanup_err = ERR_INIT;
	struct unpack_stats end = { 0 };

	if (stats != NULL)
		memset(stats, 0, sizeof(*stats));
	if (opts == NULL)
		opts = &no_opts;
	if (archive_dir == NULL || archive_dir[0] == '\0') {
		err_set(err, E_INVALID, "no archive directory given");
		goto out;
	}
	if (check_bundle(bundle_path, format, err) < 0)
		goto out;
	parent = split_path(archive_dir, &base);
	if ((root_fd = make_staging(parent, base, &staging, err)) < 0)
		goto out;
	tree = unpack_tree_new(root_fd, bundle_path, opts);
	if (format == UNPACK_DIRECTORY) {
		if (copy_directory_bundle(bundle_path, tree, root_fd, err) < 0)
			goto out;
	} else if (unpack_archive_read(bundle_path, format, tree, opts, err) <
	    0) {
		goto out;
	}

	/* v1 never stripped directory bundles */
	if (format != UNPACK_DIRECTORY &&
	    find_top_dir(
		root_fd, opts->appspec_name, &top, &appspec_found, err) < 0)
		goto out;
	if (top != NULL && check_root_link(tree, top, err) < 0)
		goto out;
	if (unpack_tree_finish(tree, top, err) < 0)
		goto out;
	final_src =
	    top != NULL ? xasprintf("%s/%s", staging, top) : xstrdup(staging);
	/* A "." entry or the stripped directory's own mode must not stick. */
	if (set_dir_mode(final_src, 0755, err) < 0)
		goto out;
	if (replace_archive_dir(final_src, archive_dir, err) < 0)
		goto out;
	if (top != NULL)
		log_info("bundle %s: stripped the single top-level directory "
			 "'%s' (it holds %s)",
		    bundle_path, top, appspec_found);
	ret = 0;
out:
	if (tree != NULL)
		unpack_tree_stats(tree, &end);
	end.stripped_top_dir = ret == 0 && top != NULL;
	if (stats != NULL)
		*stats = end;
	if (ret == 0 && opts->progress != NULL)
		opts->progress(end.bytes, end.entries, opts->progress_arg);
	unpack_tree_free(tree);
	if (root_fd >= 0)
		close(root_fd);
	/* On success this holds the old archive (or nothing). */
	if (staging != NULL && fsutil_rm_rf(staging, &cleanup_err) < 0)
		log_warn("bundle %s: cannot remove %s: %s", bundle_path,
		    staging, cleanup_err.msg);
	if (ret < 0)
		err_prefix(err, "cannot unpack bundle %s", bundle_path);
	free(final_src);
	free(top);
	free(staging);
	free(parent);
	free(base);
	return ret;
}
