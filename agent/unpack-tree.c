/*
 * unpack-tree: the writer that turns bundle entries into files below one
 * directory.  Every path is walked one component at a time with
 * openat(O_NOFOLLOW | O_DIRECTORY) from the root's fd, so nothing an earlier
 * entry planted (a symlink, a file) can redirect a later one; files are
 * created with O_EXCL | O_NOFOLLOW.  Anything hostile rejects the whole
 * bundle.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unpack-int.h"
#include "xalloc.h"

/* A directory created while unpacking, and the mode and mtime it gets. */
struct dir_record {
	char *name; /* normalised */
	uint64_t seq;
	mode_t perm;
	int is_explicit; /* from a directory entry, not implied by a path */
	int mtime_set;
	struct timespec mtime;
};

/* The open directories from the root down to the current one. */
struct dirstack {
	int fds[UNPACK_MAX_DEPTH + 1];	   /* fds[0]: the root (borrowed) */
	size_t ends[UNPACK_MAX_DEPTH + 1]; /* path length through level i */
	size_t depth;
	char path[UNPACK_MAX_NAME + 1]; /* normalised name of fds[depth] */
};

struct unpack_tree {
	const char *bundle;
	uint64_t max_bytes;
	uint64_t max_entries;
	int may_chown;
	unpack_progress_fn progress;
	void *progress_arg;

	uint64_t bytes;
	uint64_t entries;
	uint64_t next_progress;

	struct dirstack ds;
	struct dir_record *dirs;
	size_t ndirs, capdirs;
	uint64_t seq;

	char *root_link; /* first symlink that climbs to the root level */
	char *root_link_target;

	char name[UNPACK_MAX_NAME + 1];	  /* current entry, normalised */
	char target[UNPACK_MAX_NAME + 1]; /* its hardlink target, normalised */
};

/* Fill err with "entry 'name': why; the bundle was rejected". */
static int reject(struct err *err, enum err_code code, const char *name,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
reject(
    struct err *err, enum err_code code, const char *name, const char *fmt, ...)
{
	char why[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return err_set(
	    err, code, "entry '%s': %s; the bundle was rejected", name, why);
}

/*
 * Refuse a name holding a line break: installed, it would reach the
 * one-path-per-line cleanup file, where the text after the break becomes a
 * path the next deployment removes.  The name is shown with \n and \r.
 */
static int
reject_line_break(struct err *err, const char *name)
{
	char shown[UNPACK_MAX_NAME + 1];
	size_t i = 0;

	for (; *name != '\0' && i + 3 < sizeof(shown); name++) {
		if (*name == '\n' || *name == '\r') {
			shown[i++] = '\\';
			shown[i++] = *name == '\n' ? 'n' : 'r';
		} else {
			shown[i++] = *name;
		}
	}
	shown[i] = '\0';
	return reject(err, E_UNSAFE, shown,
	    "its name holds a line break (shown as \\n or \\r), which no "
	    "deployed path may; rename it");
}

/*
 * Normalise an entry name into out ("a/b/c": no empty or "." components) and
 * count its components; NULL, or why the name is refused.
 */
static const char *
normalise(const char *name, char *out, size_t *ncomp)
{
	const char *p = name;
	size_t len = 0, n = 0;

	/* "/" alone (or "/./") names the root, as GNU tar and v1 take it */
	if (name[0] == '/' && name[strspn(name, "/.")] != '\0')
		return "is an absolute path";
	while (*p != '\0') {
		size_t clen = strcspn(p, "/");

		if (clen == 2 && p[0] == '.' && p[1] == '.')
			return "has a '..' component";
		if (clen > 0 && !(clen == 1 && p[0] == '.')) {
			if (len + (len > 0) + clen > UNPACK_MAX_NAME)
				return "is longer than 4095 bytes";
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, p, clen);
			len += clen;
			n++;
		}
		p += clen;
		while (*p == '/')
			p++;
	}
	out[len] = '\0';
	*ncomp = n;
	return NULL;
}

/*
 * Check a symlink target, resolved from the link's directory (depth
 * components below the root), against leaving the archive.  ".." is allowed
 * only before the first name: after a name it would be resolved relative to
 * whatever that name is by then, perhaps another link.  *min_depth gets the
 * shallowest level the target passes.  NULL, or why it is refused.
 */
static const char *
check_link_target(const char *target, size_t depth, size_t *min_depth)
{
	const char *p = target;
	int seen_name = 0;

	*min_depth = depth;
	if (target[0] == '\0')
		return "its target is empty";
	if (target[0] == '/')
		return "its target is an absolute path, outside the archive";
	while (*p != '\0') {
		size_t clen = strcspn(p, "/");

		if (clen == 2 && p[0] == '.' && p[1] == '.') {
			if (seen_name)
				return "its target has '..' after a name, which "
				       "may lead anywhere through other links";
			if (depth == 0)
				return "its target leads outside the archive";
			depth--;
			if (depth < *min_depth)
				*min_depth = depth;
		} else if (clen > 0 && !(clen == 1 && p[0] == '.')) {
			seen_name = 1;
			depth++;
		}
		p += clen;
		while (*p == '/')
			p++;
	}
	return NULL;
}

struct unpack_tree *
unpack_tree_new(int root_fd, const char *bundle, const struct unpack_opts *opts)
{
	struct unpack_tree *tree = xcalloc(1, sizeof(*tree));

	tree->bundle = bundle;
	tree->max_bytes = opts->max_bytes;
	tree->max_entries = opts->max_entries != 0 ? opts->max_entries
						   : UNPACK_DEFAULT_MAX_ENTRIES;
	tree->may_chown = opts->keep_ownership && geteuid() == 0;
	tree->progress = opts->progress;
	tree->progress_arg = opts->progress_arg;
	tree->next_progress = UNPACK_PROGRESS_BYTES;
	tree->ds.fds[0] = root_fd;
	return tree;
}

static void
dirstack_pop_to(struct dirstack *ds, size_t depth)
{
	while (ds->depth > depth) {
		close(ds->fds[ds->depth]);
		ds->depth--;
	}
	ds->path[depth == 0 ? 0 : ds->ends[depth]] = '\0';
}

void
unpack_tree_free(struct unpack_tree *tree)
{
	size_t i;

	if (tree == NULL)
		return;
	dirstack_pop_to(&tree->ds, 0);
	for (i = 0; i < tree->ndirs; i++)
		free(tree->dirs[i].name);
	free(tree->dirs);
	free(tree->root_link);
	free(tree->root_link_target);
	free(tree);
}

static void
record_dir(struct unpack_tree *tree, const char *name, int is_explicit,
    const struct unpack_entry *entry)
{
	struct dir_record *rec;

	if (tree->ndirs == tree->capdirs) {
		tree->capdirs = tree->capdirs == 0 ? 64 : tree->capdirs * 2;
		tree->dirs = xreallocarray(
		    tree->dirs, tree->capdirs, sizeof(*tree->dirs));
	}
	rec = &tree->dirs[tree->ndirs++];
	memset(rec, 0, sizeof(*rec));
	rec->name = xstrdup(name);
	rec->seq = tree->seq++;
	rec->perm = 0755;
	if (is_explicit) {
		rec->is_explicit = 1;
		rec->perm = entry->perm;
		rec->mtime_set = entry->mtime_set;
		rec->mtime = entry->mtime;
	}
}

static int
is_symlink_at(int dir_fd, const char *name)
{
	struct stat st;

	return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode);
}

/*
 * Explain why component `comp` of dir (opened below parent_fd) is not a
 * directory we may enter: a symlink, or something else in the way.
 */
static int
refuse_component(int parent_fd, const char *comp, const char *prefix,
    const char *name, int err_no, struct err *err)
{
	if (err_no != ELOOP && err_no != ENOTDIR) {
		errno = err_no;
		return err_sys(err, "entry '%s': cannot open directory '%s'",
		    name, prefix);
	}
	if (is_symlink_at(parent_fd, comp))
		return reject(err, E_UNSAFE, name,
		    "its path passes through the symbolic link '%s'", prefix);
	return reject(err, E_UNSAFE, name,
	    "its path passes through '%s', which is not a directory", prefix);
}

/*
 * Make the stack's current directory `dir` (normalised, "" is the root),
 * opening each component with O_NOFOLLOW.  With create, missing directories
 * are made (0700 until unpack_tree_finish) and recorded.
 */
static int
dirstack_goto(struct unpack_tree *tree, const char *dir, int create,
    const char *name, struct err *err)
{
	struct dirstack *ds = &tree->ds;
	size_t keep = 0, len = strlen(dir), pos;

	while (keep < ds->depth) {
		size_t end = ds->ends[keep + 1];

		if (end > len || (dir[end] != '/' && dir[end] != '\0') ||
		    memcmp(dir, ds->path, end) != 0)
			break;
		keep++;
	}
	dirstack_pop_to(ds, keep);
	pos = keep == 0 ? 0 : ds->ends[keep] + 1;
	while (pos < len) {
		size_t clen = strcspn(dir + pos, "/");
		int parent = ds->fds[ds->depth], fd, made = 0;
		char comp[UNPACK_MAX_NAME + 1];

		if (ds->depth == UNPACK_MAX_DEPTH)
			return reject(err, E_LIMIT, name,
			    "it is nested deeper than %d directories",
			    UNPACK_MAX_DEPTH);
		memcpy(comp, dir + pos, clen);
		comp[clen] = '\0';
		memcpy(ds->path, dir, pos + clen);
		ds->path[pos + clen] = '\0';
		fd = openat(parent, comp,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(parent, comp, 0700) < 0 && errno != EEXIST)
				return err_sys(err,
				    "entry '%s': cannot create directory '%s'",
				    name, ds->path);
			made = 1;
			fd = openat(parent, comp,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			refuse_component(
			    parent, comp, ds->path, name, errno, err);
			ds->path[pos == 0 ? 0 : pos - 1] = '\0';
			return -1;
		}
		if (made)
			record_dir(tree, ds->path, 0, NULL);
		ds->depth++;
		ds->fds[ds->depth] = fd;
		ds->ends[ds->depth] = pos + clen;
		pos += clen + 1;
	}
	return 0;
}

/* Count n more bytes against the limit. */
static int
charge_bytes(
    struct unpack_tree *tree, uint64_t n, const char *name, struct err *err)
{
	if (tree->max_bytes != 0 && n > tree->max_bytes - tree->bytes)
		return reject(err, E_LIMIT, name,
		    "unpacking it goes over the limit of %llu bytes (%llu "
		    "written so far)",
		    (unsigned long long)tree->max_bytes,
		    (unsigned long long)tree->bytes);
	tree->bytes += n;
	if (tree->progress != NULL && tree->bytes >= tree->next_progress) {
		tree->progress(tree->bytes, tree->entries, tree->progress_arg);
		tree->next_progress = tree->bytes + UNPACK_PROGRESS_BYTES;
	}
	return 0;
}

/*
 * Make room for a new non-directory entry at base: an earlier file or link
 * there is unlinked (never written through); a directory is kept and the
 * entry refused.
 */
static int
clear_slot(int parent_fd, const char *base, const char *name, struct err *err)
{
	struct stat st;

	if (fstatat(parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(err, "entry '%s': cannot check it", name);
	if (S_ISDIR(st.st_mode))
		return reject(err, E_UNSAFE, name,
		    "an earlier entry made it a directory");
	if (unlinkat(parent_fd, base, 0) < 0)
		return err_sys(
		    err, "entry '%s': cannot replace the earlier one", name);
	return 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The entry's owner on what base names (not followed), where allowed. */
static int
set_owner_at(const struct unpack_tree *tree, int parent_fd, const char *base,
    const struct unpack_entry *entry, struct err *err)
{
	if (entry->owner_set && tree->may_chown &&
	    fchownat(parent_fd, base, entry->uid, entry->gid,
		AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(err, "entry '%s': cannot set owner %lu:%lu",
		    entry->name, (unsigned long)entry->uid,
		    (unsigned long)entry->gid);
	return 0;
}

/*
 * After a create at base failed (errno set): the first time, with EEXIST,
 * make room and return 0 to try again; else -1 with err set.
 */
static int
retry_create(int tries, int parent_fd, const char *base,
    const struct unpack_entry *entry, struct err *err)
{
	if (errno != EEXIST || tries > 0)
		return err_sys(
		    err, "entry '%s': cannot create it", entry->name);
	return clear_slot(parent_fd, base, entry->name, err);
}

/* Copy a FILE entry's data into fd, keeping holes, within the limit. */
static int
copy_data(struct unpack_tree *tree, int fd, const struct unpack_entry *entry,
    unpack_read_fn read_fn, void *read_arg, struct err *err)
{
	int64_t pos = 0, data_end = 0;

	for (;;) {
		const void *buf = NULL;
		size_t len = 0;
		int64_t offset = 0;
		int r = read_fn(read_arg, &buf, &len, &offset, err);

		if (r < 0)
			return err_prefix(err, "entry '%s'", entry->name);
		if (r == 0 && offset <= pos)
			break;
		if (offset < pos)
			return err_set(err, E_PARSE,
			    "entry '%s': its data blocks are out of order",
			    entry->name);
		if (offset > pos) { /* a hole */
			if (charge_bytes(tree, (uint64_t)(offset - pos),
				entry->name, err) < 0)
				return -1;
			pos = offset;
		}
		if (r == 0)
			break;
		if (charge_bytes(tree, len, entry->name, err) < 0)
			return -1;
		if (pos != data_end && lseek(fd, pos, SEEK_SET) < 0)
			return err_sys(
			    err, "entry '%s': cannot seek", entry->name);
		if (write_all(fd, buf, len) < 0)
			return err_sys(
			    err, "entry '%s': cannot write", entry->name);
		pos += (int64_t)len;
		data_end = pos;
	}
	if (pos > data_end && ftruncate(fd, pos) < 0)
		return err_sys(err,
		    "entry '%s': cannot extend it to %lld bytes", entry->name,
		    (long long)pos);
	return 0;
}

/* Bytes asked of the kernel per copy_file_range call. */
#define UNPACK_KERNEL_CHUNK (8 * 1024 * 1024)

/*
 * Copy a directory bundle's file in the kernel, within the limit.  Returns
 * 1 when copy_file_range cannot be used here (the caller falls back to
 * reading), 0 when done, -1 on error.
 */
static int
copy_kernel(struct unpack_tree *tree, int fd, const struct unpack_entry *entry,
    struct err *err)
{
	int first = 1;

	for (;;) {
		ssize_t n = copy_file_range(
		    entry->data_fd, NULL, fd, NULL, UNPACK_KERNEL_CHUNK, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && first &&
		    (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
			errno == EOPNOTSUPP))
			return 1;
		if (n < 0)
			return err_sys(
			    err, "entry '%s': cannot copy it", entry->name);
		if (n == 0)
			return 0;
		first = 0;
		if (charge_bytes(tree, (uint64_t)n, entry->name, err) < 0)
			return -1;
	}
}

static int
add_file(struct unpack_tree *tree, int parent_fd, const char *base,
    const struct unpack_entry *entry, unpack_read_fn read_fn, void *read_arg,
    struct err *err)
{
	int fd = -1, ret = -1;

	if (tree->max_bytes != 0 && entry->size_set &&
	    (entry->size < 0 ||
		(uint64_t)entry->size > tree->max_bytes - tree->bytes))
		return reject(err, E_LIMIT, entry->name,
		    "it declares %lld bytes, more than the %llu left of the "
		    "%llu-byte limit",
		    (long long)entry->size,
		    (unsigned long long)(tree->max_bytes - tree->bytes),
		    (unsigned long long)tree->max_bytes);
	for (int tries = 0;; tries++) {
		fd = openat(parent_fd, base,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			break;
		if (retry_create(tries, parent_fd, base, entry, err) < 0)
			return -1;
	}
	if (entry->has_data_fd) {
		int r = copy_kernel(tree, fd, entry, err);

		if (r < 0 ||
		    (r == 1 &&
			copy_data(tree, fd, entry, read_fn, read_arg, err) < 0))
			goto out;
	} else if (copy_data(tree, fd, entry, read_fn, read_arg, err) < 0) {
		goto out;
	}
	if (entry->owner_set && tree->may_chown &&
	    fchown(fd, entry->uid, entry->gid) < 0) {
		err_sys(err, "entry '%s': cannot set owner %lu:%lu",
		    entry->name, (unsigned long)entry->uid,
		    (unsigned long)entry->gid);
		goto out;
	}
	if (fchmod(fd, entry->perm) < 0) {
		err_sys(err, "entry '%s': cannot set mode %04o", entry->name,
		    (unsigned)entry->perm);
		goto out;
	}
	if (entry->mtime_set) {
		struct timespec ts[2] = { { 0, UTIME_OMIT }, entry->mtime };

		if (futimens(fd, ts) < 0) {
			err_sys(err, "entry '%s': cannot set its time",
			    entry->name);
			goto out;
		}
	}
	ret = 0;
out:
	if (close(fd) < 0 && ret == 0)
		ret = err_sys(err, "entry '%s': cannot close it", entry->name);
	return ret;
}

static int
add_dir(struct unpack_tree *tree, int parent_fd, const char *base,
    const struct unpack_entry *entry, struct err *err)
{
	struct stat st;

	if (mkdirat(parent_fd, base, 0700) < 0) {
		if (errno != EEXIST)
			return err_sys(
			    err, "entry '%s': cannot create it", entry->name);
		if (fstatat(parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return err_sys(
			    err, "entry '%s': cannot check it", entry->name);
		if (!S_ISDIR(st.st_mode))
			return reject(err, E_UNSAFE, entry->name,
			    "it is a directory, but an earlier entry made it "
			    "a %s",
			    S_ISLNK(st.st_mode) ? "symbolic link" : "file");
	}
	record_dir(tree, tree->name, 1, entry);
	if (set_owner_at(tree, parent_fd, base, entry, err) < 0)
		return -1;
	return 0;
}

static int
add_symlink(struct unpack_tree *tree, int parent_fd, const char *base,
    const struct unpack_entry *entry, size_t min_depth, struct err *err)
{
	for (int tries = 0;; tries++) {
		if (symlinkat(entry->link_target, parent_fd, base) == 0)
			break;
		if (retry_create(tries, parent_fd, base, entry, err) < 0)
			return -1;
	}
	if (min_depth == 0 && tree->root_link == NULL) {
		tree->root_link = xstrdup(entry->name);
		tree->root_link_target = xstrdup(entry->link_target);
	}
	if (set_owner_at(tree, parent_fd, base, entry, err) < 0)
		return -1;
	if (entry->mtime_set) {
		struct timespec ts[2] = { { 0, UTIME_OMIT }, entry->mtime };

		if (utimensat(parent_fd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return err_sys(err, "entry '%s': cannot set its time",
			    entry->name);
	}
	return 0;
}

/*
 * Open the directory holding the normalised hardlink target, without
 * creating or following anything; -1 with err filled if it is not there.
 */
static int
open_target_dir(struct unpack_tree *tree, const struct unpack_entry *entry,
    const char **base, struct err *err)
{
	char comp[UNPACK_MAX_NAME + 1];
	const char *p = tree->target, *slash;
	int fd = tree->ds.fds[0], next;

	while ((slash = strchr(p, '/')) != NULL) {
		memcpy(comp, p, (size_t)(slash - p));
		comp[slash - p] = '\0';
		next = openat(
		    fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && is_symlink_at(fd, comp))
			reject(err, E_UNSAFE, entry->name,
			    "it is a hard link to '%s', whose path passes "
			    "through a symbolic link",
			    entry->link_target);
		else if (next < 0)
			reject(err, E_UNSAFE, entry->name,
			    "it is a hard link to '%s', which is not a file "
			    "unpacked before it",
			    entry->link_target);
		if (fd != tree->ds.fds[0])
			close(fd);
		if (next < 0)
			return -1;
		fd = next;
		p = slash + 1;
	}
	*base = p;
	return fd == tree->ds.fds[0] ? dup(fd) : fd;
}

static int
add_hardlink(struct unpack_tree *tree, int parent_fd, const char *base,
    const struct unpack_entry *entry, struct err *err)
{
	const char *target_base = NULL;
	struct stat st;
	int target_fd, ret = -1;

	target_fd = open_target_dir(tree, entry, &target_base, err);
	if (target_fd < 0)
		return err_isset(err)
		    ? -1
		    : err_sys(err, "entry '%s': cannot dup", entry->name);
	if (fstatat(target_fd, target_base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode)) {
		reject(err, E_UNSAFE, entry->name,
		    "it is a hard link to '%s', which is not a regular file "
		    "unpacked before it",
		    entry->link_target);
		goto out;
	}
	for (int tries = 0;; tries++) {
		if (linkat(target_fd, target_base, parent_fd, base, 0) == 0)
			break;
		if (errno != EEXIST || tries > 0) {
			err_sys(err, "entry '%s': cannot link it to '%s'",
			    entry->name, entry->link_target);
			goto out;
		}
		if (clear_slot(parent_fd, base, entry->name, err) < 0)
			goto out;
	}
	ret = 0;
out:
	close(target_fd);
	return ret;
}

int
unpack_tree_add(struct unpack_tree *tree, const struct unpack_entry *entry,
    unpack_read_fn read_fn, void *read_arg, struct err *err)
{
	const char *why, *base;
	size_t ncomp = 0, min_depth = 0;
	char *slash;
	int r;

	if (tree->entries >= tree->max_entries)
		return reject(err, E_LIMIT, entry->name,
		    "the bundle has more than %llu entries, the limit",
		    (unsigned long long)tree->max_entries);
	tree->entries++;
	if (strpbrk(entry->name, "\n\r") != NULL)
		return reject_line_break(err, entry->name);
	why = normalise(entry->name, tree->name, &ncomp);
	if (why != NULL)
		return reject(err, E_UNSAFE, entry->name, "its name %s", why);
	if (ncomp == 0) {
		if (entry->kind == UNPACK_KIND_DIR)
			return 0; /* the root: it always gets 0755 */
		return reject(err, E_UNSAFE, entry->name, "its name is empty");
	}
	if (ncomp > UNPACK_MAX_DEPTH)
		return reject(err, E_LIMIT, entry->name,
		    "it is nested deeper than %d directories",
		    UNPACK_MAX_DEPTH);
	switch (entry->kind) {
	case UNPACK_KIND_OTHER:
		return reject(err, E_UNSAFE, entry->name,
		    "it is %s; only files, directories and links are allowed",
		    entry->other_what);
	case UNPACK_KIND_SYMLINK:
		why = check_link_target(
		    entry->link_target, ncomp - 1, &min_depth);
		if (why != NULL)
			return reject(err, E_UNSAFE, entry->name,
			    "it is a symbolic link to '%s': %s",
			    entry->link_target, why);
		break;
	case UNPACK_KIND_HARDLINK: {
		size_t tcomp = 0;

		why = normalise(entry->link_target, tree->target, &tcomp);
		if (why == NULL && tcomp == 0)
			why = "is empty";
		if (why != NULL)
			return reject(err, E_UNSAFE, entry->name,
			    "it is a hard link whose target '%s' %s",
			    entry->link_target, why);
		if (strcmp(tree->target, tree->name) == 0)
			return reject(err, E_UNSAFE, entry->name,
			    "it is a hard link to itself");
		break;
	}
	default:
		break;
	}

	slash = strrchr(tree->name, '/');
	if (slash != NULL) {
		*slash = '\0';
		r = dirstack_goto(tree, tree->name, 1, entry->name, err);
		*slash = '/';
		base = slash + 1;
	} else {
		r = dirstack_goto(tree, "", 1, entry->name, err);
		base = tree->name;
	}
	if (r < 0)
		return -1;
	switch (entry->kind) {
	case UNPACK_KIND_FILE:
		return add_file(tree, tree->ds.fds[tree->ds.depth], base, entry,
		    read_fn, read_arg, err);
	case UNPACK_KIND_DIR:
		return add_dir(
		    tree, tree->ds.fds[tree->ds.depth], base, entry, err);
	case UNPACK_KIND_SYMLINK:
		return add_symlink(tree, tree->ds.fds[tree->ds.depth], base,
		    entry, min_depth, err);
	case UNPACK_KIND_HARDLINK:
		return add_hardlink(
		    tree, tree->ds.fds[tree->ds.depth], base, entry, err);
	default:
		return err_set(err, E_INTERNAL, "entry '%s': unknown kind %d",
		    entry->name, (int)entry->kind);
	}
}

const char *
unpack_tree_root_link(const struct unpack_tree *tree, const char **target)
{
	if (target != NULL)
		*target = tree->root_link_target;
	return tree->root_link;
}

static int
dir_record_cmp(const void *a, const void *b)
{
	const struct dir_record *ra = a, *rb = b;
	int c = strcmp(ra->name, rb->name);

	if (c != 0)
		return c;
	return ra->seq < rb->seq ? -1 : ra->seq > rb->seq;
}

int
unpack_tree_finish(struct unpack_tree *tree, const char *skip, struct err *err)
{
	size_t i = tree->ndirs;

	if (tree->ndirs > 1)
		qsort(tree->dirs, tree->ndirs, sizeof(*tree->dirs),
		    dir_record_cmp);
	/* Backwards: children sort after their parents, so they go first. */
	while (i > 0) {
		size_t first = i - 1;
		const struct dir_record *rec;
		int fd;

		while (first > 0 &&
		    strcmp(tree->dirs[first - 1].name,
			tree->dirs[i - 1].name) == 0)
			first--;
		rec = &tree->dirs[i - 1]; /* the last record wins... */
		for (size_t j = i; j > first; j--) {
			if (tree->dirs[j - 1].is_explicit) {
				rec = &tree->dirs[j - 1]; /* ...if explicit */
				break;
			}
		}
		i = first;
		if (skip != NULL && strcmp(rec->name, skip) == 0)
			continue;
		if (dirstack_goto(tree, rec->name, 0, rec->name, err) < 0)
			return -1;
		fd = tree->ds.fds[tree->ds.depth];
		if (fchmod(fd, rec->perm) < 0)
			return err_sys(err,
			    "directory '%s': cannot set mode %04o", rec->name,
			    (unsigned)rec->perm);
		if (rec->mtime_set) {
			struct timespec ts[2] = { { 0, UTIME_OMIT },
				rec->mtime };

			if (futimens(fd, ts) < 0)
				return err_sys(err,
				    "directory '%s': cannot set its time",
				    rec->name);
		}
	}
	dirstack_pop_to(&tree->ds, 0);
	return 0;
}

void
unpack_tree_stats(const struct unpack_tree *tree, struct unpack_stats *out)
{
	out->bytes = tree->bytes;
	out->entries = tree->entries;
}
