/* fsutil: atomic writes, mkdir -p, contained path joins, safe rm -rf. */
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
#include "xalloc.h"

#define FSUTIL_MAX_SYMLINKS 40
#define FSUTIL_ATOMIC_BUFFER (64 * 1024)

/* Split path into a directory part (xstrdup'd, "." if none) and base name. */
static char *
dir_of(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		*base = path;
		return xstrdup(".");
	}
	*base = slash + 1;
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
fsutil_fsync_dir(const char *dir, struct err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_sys(err, "cannot open directory %s", dir);
	if (fsync(fd) < 0 && errno != EINVAL) {
		err_sys(err, "cannot fsync directory %s", dir);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
fsutil_atomic_begin(
    struct fsutil_atomic *out, const char *path, struct err *err)
{
	const char *base;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	out->dir = dir_of(path, &base);
	if (*base == '\0') {
		err_set(
		    err, E_INVALID, "cannot write %s: not a file name", path);
		goto fail;
	}
	out->path = xstrdup(path);
	out->tmp = xasprintf("%s/.%s.tmp.XXXXXX", out->dir, base);
	out->fd = mkostemp(out->tmp, O_CLOEXEC);
	if (out->fd < 0) {
		err_sys(err, "cannot create a temporary file in %s", out->dir);
		free(out->tmp);
		out->tmp = NULL;
		goto fail;
	}
	return 0;
fail:
	fsutil_atomic_abort(out);
	return -1;
}

static int
write_through(
    struct fsutil_atomic *out, const char *p, size_t len, struct err *err)
{
	ssize_t n;

	while (len > 0) {
		n = write(out->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(err, "cannot write %s", out->tmp);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
atomic_flush(struct fsutil_atomic *out, struct err *err)
{
	size_t len = out->buffered;

	out->buffered = 0;
	return write_through(out, out->buf, len, err);
}

/* Small writes (a records file's lines) are gathered: one write a buffer. */
int
fsutil_atomic_write(
    struct fsutil_atomic *out, const void *data, size_t len, struct err *err)
{
	if (out->buffered + len > FSUTIL_ATOMIC_BUFFER &&
	    atomic_flush(out, err) < 0)
		return -1;
	if (len >= FSUTIL_ATOMIC_BUFFER)
		return write_through(out, data, len, err);
	if (out->buf == NULL)
		out->buf = xmalloc(FSUTIL_ATOMIC_BUFFER);
	memcpy(out->buf + out->buffered, data, len);
	out->buffered += len;
	return 0;
}

void
fsutil_atomic_abort(struct fsutil_atomic *out)
{
	if (out->fd >= 0)
		close(out->fd);
	if (out->tmp != NULL)
		unlink(out->tmp);
	free(out->tmp);
	free(out->path);
	free(out->dir);
	free(out->buf);
	memset(out, 0, sizeof(*out));
	out->fd = -1;
}

int
fsutil_atomic_commit(struct fsutil_atomic *out, mode_t mode, struct err *err)
{
	int fd = out->fd;

	if (atomic_flush(out, err) < 0)
		goto fail;
	if (fchmod(fd, mode) < 0) {
		err_sys(err, "cannot set mode %04o on %s", (unsigned)mode,
		    out->tmp);
		goto fail;
	}
	if (!out->nosync && fsync(fd) < 0) {
		err_sys(err, "cannot fsync %s", out->tmp);
		goto fail;
	}
	out->fd = -1;
	if (close(fd) < 0) {
		err_sys(err, "cannot close %s", out->tmp);
		goto fail;
	}
	if (rename(out->tmp, out->path) < 0) {
		err_sys(err, "cannot rename %s to %s", out->tmp, out->path);
		goto fail;
	}
	free(out->tmp);
	out->tmp = NULL; /* renamed: nothing to remove */
	if (!out->nosync && fsutil_fsync_dir(out->dir, err) < 0)
		goto fail;
	fsutil_atomic_abort(out);
	return 0;
fail:
	fsutil_atomic_abort(out);
	return -1;
}

static int
write_whole(const char *path, const void *data, size_t len, mode_t mode,
    int nosync, struct err *err)
{
	struct fsutil_atomic out;

	if (fsutil_atomic_begin(&out, path, err) < 0)
		return -1;
	out.nosync = nosync;
	if (fsutil_atomic_write(&out, data, len, err) < 0) {
		fsutil_atomic_abort(&out);
		return -1;
	}
	return fsutil_atomic_commit(&out, mode, err);
}

int
fsutil_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    struct err *err)
{
	return write_whole(path, data, len, mode, 0, err);
}

int
fsutil_write_replace(const char *path, const void *data, size_t len,
    mode_t mode, struct err *err)
{
	return write_whole(path, data, len, mode, 1, err);
}

/* Create one directory with exactly mode, or accept an existing one. */
static int
mkdir_one(const char *path, mode_t mode, struct err *err)
{
	struct stat st;

	if (mkdir(path, mode) == 0) {
		if (chmod(path, mode) < 0)
			return err_sys(err, "cannot set mode %04o on %s",
			    (unsigned)mode, path);
		return 0;
	}
	if (errno != EEXIST)
		return err_sys(err, "cannot create directory %s", path);
	if (stat(path, &st) < 0)
		return err_sys(err, "cannot stat %s", path);
	if (!S_ISDIR(st.st_mode))
		return err_set(err, E_EXISTS,
		    "cannot create directory %s: a file that is not a "
		    "directory is in the way; move it",
		    path);
	return 0;
}

int
fsutil_mkdir_p(const char *path, mode_t mode, struct err *err)
{
	char *copy;
	char *p;
	int ret = -1;

	if (path == NULL || path[0] == '\0')
		return err_set(err, E_INVALID,
		    "cannot create a directory "
		    "with an empty path");
	copy = xstrdup(path);
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (p[-1] != '/' && mkdir_one(copy, mode, err) < 0)
			goto out;
		*p = '/';
	}
	if (mkdir_one(copy, mode, err) < 0)
		goto out;
	ret = 0;
out:
	free(copy);
	return ret;
}

/* A growable path buffer. */
struct pathbuf {
	char *s;
	size_t len, cap;
};

static void
pb_set(struct pathbuf *pb, const char *s)
{
	size_t len = strlen(s);

	if (len + 1 > pb->cap) {
		pb->cap = len + 1 + 64;
		pb->s = xrealloc(pb->s, pb->cap);
	}
	memcpy(pb->s, s, len + 1);
	pb->len = len;
}

/* Append "/" + component, keeping "/" itself as the root. */
static void
pb_push(struct pathbuf *pb, const char *comp, size_t clen)
{
	size_t need = pb->len + 1 + clen + 1;

	if (need > pb->cap) {
		pb->cap = need + 64;
		pb->s = xrealloc(pb->s, pb->cap);
	}
	if (pb->len == 0 || pb->s[pb->len - 1] != '/')
		pb->s[pb->len++] = '/';
	memcpy(pb->s + pb->len, comp, clen);
	pb->len += clen;
	pb->s[pb->len] = '\0';
}

/* Drop the last component; the root "/" stays. */
static void
pb_pop(struct pathbuf *pb)
{
	char *slash = strrchr(pb->s, '/');

	if (slash == NULL)
		return;
	pb->len = slash == pb->s ? 1 : (size_t)(slash - pb->s);
	pb->s[pb->len] = '\0';
}

/* Whether path is dir or below it (both absolute, normalised). */
static int
path_is_under(const char *path, const char *dir)
{
	size_t dlen = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(path, dir, dlen) == 0 &&
	    (path[dlen] == '\0' || path[dlen] == '/');
}

/*
 * Resolve root_real + rel the way the kernel would, following symlinks, and
 * return the symlink-free absolute result in *resolved.
 */
static int
resolve_beneath(const char *root_real, const char *rel, const char *display,
    struct pathbuf *resolved, struct err *err)
{
	char *rem = xstrdup(rel);
	char *next = NULL;
	int links = 0, missing = 0, ret = -1;
	struct pathbuf cur = { 0 };

	pb_set(&cur, root_real);
	for (;;) {
		char *comp = rem, *slash, *rest;
		size_t clen;
		struct stat st;

		while (*comp == '/')
			comp++;
		if (*comp == '\0')
			break;
		slash = strchr(comp, '/');
		clen = slash != NULL ? (size_t)(slash - comp) : strlen(comp);
		rest = slash != NULL ? slash : comp + clen;

		if (clen == 1 && comp[0] == '.') {
			memmove(rem, rest, strlen(rest) + 1);
			continue;
		}
		if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
			pb_pop(&cur);
			memmove(rem, rest, strlen(rest) + 1);
			continue;
		}
		pb_push(&cur, comp, clen);
		memmove(rem, rest, strlen(rest) + 1);
		if (missing)
			continue;
		if (lstat(cur.s, &st) < 0) {
			if (errno == ENOENT || errno == ENOTDIR) {
				missing = 1; /* nothing below can be a link */
				continue;
			}
			err_sys(err, "cannot check %s", cur.s);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t tlen;

			if (++links > FSUTIL_MAX_SYMLINKS) {
				err_set(err, E_UNSAFE,
				    "%s: too many levels of symbolic links",
				    display);
				goto out;
			}
			tlen = readlink(cur.s, target, sizeof(target) - 1);
			if (tlen < 0) {
				err_sys(err, "cannot read link %s", cur.s);
				goto out;
			}
			target[tlen] = '\0';
			pb_pop(&cur);
			if (target[0] == '/')
				pb_set(&cur, "/");
			next = xasprintf("%s/%s", target, rem);
			free(rem);
			rem = next;
			next = NULL;
		}
	}
	pb_set(resolved, cur.s);
	ret = 0;
out:
	free(cur.s);
	free(rem);
	return ret;
}

int
fsutil_join_safe(const char *root, const char *rel, char **out, struct err *err)
{
	struct pathbuf lexical = { 0 }, resolved = { 0 };
	char *root_real = NULL;
	const char *p = rel;
	int ret = -1;

	*out = NULL;
	if (rel[0] == '/') {
		err_set(err, E_UNSAFE,
		    "'%s' is an absolute path; only paths relative to %s are "
		    "allowed",
		    rel, root);
		goto out;
	}
	pb_set(&lexical, root);
	while (lexical.len > 1 && lexical.s[lexical.len - 1] == '/')
		lexical.s[--lexical.len] = '\0';
	while (*p != '\0') {
		size_t clen = strcspn(p, "/");

		if (clen == 2 && p[0] == '.' && p[1] == '.') {
			err_set(err, E_UNSAFE,
			    "'%s' contains a '..' component; paths may not "
			    "leave %s",
			    rel, root);
			goto out;
		}
		if (clen > 0 && !(clen == 1 && p[0] == '.'))
			pb_push(&lexical, p, clen);
		p += clen;
		while (*p == '/')
			p++;
	}

	root_real = realpath(root, NULL);
	if (root_real == NULL) {
		if (errno != ENOENT) {
			err_sys(err, "cannot resolve %s", root);
			goto out;
		}
		/* Nothing exists under a missing root, so no link can lead out.
		 */
	} else {
		if (resolve_beneath(root_real, rel, rel, &resolved, err) < 0)
			goto out;
		if (!path_is_under(resolved.s, root_real)) {
			err_set(err, E_UNSAFE,
			    "'%s' leads through a symbolic link to %s, outside "
			    "%s",
			    rel, resolved.s, root);
			goto out;
		}
	}
	*out = lexical.s;
	lexical.s = NULL;
	ret = 0;
out:
	free(lexical.s);
	free(resolved.s);
	free(root_real);
	return ret;
}

char *
fsutil_normalise(const char *path, int keep_trailing_slash)
{
	size_t plen = strlen(path), len = 0;
	char *out = xmalloc(plen + 2);
	const char *p = path;

	while (*p != '\0') {
		size_t clen;

		while (*p == '/')
			p++;
		clen = strcspn(p, "/");
		if (clen == 0)
			break;
		if (clen == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else if (!(clen == 1 && p[0] == '.')) {
			out[len++] = '/';
			memcpy(out + len, p, clen);
			len += clen;
		}
		p += clen;
	}
	if (len == 0 ||
	    (keep_trailing_slash && plen > 1 && path[plen - 1] == '/'))
		out[len++] = '/';
	out[len] = '\0';
	return out;
}

/* Remove name (relative to parent_fd) and its contents without following links.
 */
static int
rm_tree_at(
    int parent_fd, const char *name, const char *display, struct err *err)
{
	DIR *dir = NULL;
	struct dirent *de;
	int fd, ret = -1;

	fd = openat(
	    parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP) {
			if (unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT)
				return err_sys(
				    err, "cannot remove %s", display);
			return 0;
		}
		return err_sys(err, "cannot open %s", display);
	}
	dir = fdopendir(fd);
	if (dir == NULL) {
		err_sys(err, "cannot read directory %s", display);
		close(fd);
		return -1;
	}
	while ((de = fsutil_readdir(dir)) != NULL) {
		char *child;
		int r;

		child = xasprintf("%s/%s", display, de->d_name);
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			r = rm_tree_at(dirfd(dir), de->d_name, child, err);
		} else {
			r = unlinkat(dirfd(dir), de->d_name, 0);
			if (r < 0 && errno == EISDIR)
				r = rm_tree_at(
				    dirfd(dir), de->d_name, child, err);
			else if (r < 0 && errno == ENOENT)
				r = 0;
			else if (r < 0)
				err_sys(err, "cannot remove %s", child);
		}
		free(child);
		if (r < 0)
			goto out;
	}
	if (errno != 0) {
		err_sys(err, "cannot read directory %s", display);
		goto out;
	}
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		err_sys(err, "cannot remove directory %s", display);
		goto out;
	}
	ret = 0;
out:
	closedir(dir);
	return ret;
}

int
fsutil_rm_rf(const char *path, struct err *err)
{
	if (path == NULL || path[0] == '\0')
		return err_set(err, E_INVALID,
		    "refusing to remove an empty "
		    "path");
	if (strcmp(path, "/") == 0)
		return err_set(err, E_UNSAFE, "refusing to remove /");
	return rm_tree_at(AT_FDCWD, path, path, err);
}

int
fsutil_read_file(
    const char *path, size_t max, char **out, size_t *len_out, struct err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	int fd, ret = -1;
	ssize_t n;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(
			    err, E_NOTFOUND, "%s does not exist", path);
		return err_sys(err, "cannot open %s", path);
	}
	if (fstat(fd, &st) < 0) {
		err_sys(err, "cannot stat %s", path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		err_set(err, E_INVALID, "%s is a directory, not a regular file",
		    path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, E_INVALID, "%s is not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		err_set(err, E_LIMIT,
		    "%s is %lld bytes, over the %zu-byte limit (is it the "
		    "right file?)",
		    path, (long long)st.st_size, max);
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	buf = xmalloc(cap);
	for (;;) {
		if (len + 1 == cap) {
			char probe;

			if (len >= max) {
				/* full: only end-of-file keeps it in bounds */
				n = read(fd, &probe, 1);
				if (n == 0)
					break;
				err_set(err, E_LIMIT,
				    "%s grew over the %zu-byte limit", path,
				    max);
				goto out;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_sys(err, "cannot read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	if (len_out != NULL)
		*len_out = len;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

int
fsutil_open_parent_nofollow(const char *path, const char **base)
{
	const char *comp = path, *slash;
	int fd, next;

	if (path[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		char name[NAME_MAX + 1];
		size_t len;

		while (*comp == '/')
			comp++;
		slash = strchr(comp, '/');
		if (slash == NULL || slash[strspn(slash, "/")] == '\0')
			break;
		len = (size_t)(slash - comp);
		if (len > NAME_MAX ||
		    (len == 2 && memcmp(comp, "..", 2) == 0)) {
			close(fd);
			errno = len > NAME_MAX ? ENAMETOOLONG : EINVAL;
			return -1;
		}
		memcpy(name, comp, len);
		name[len] = '\0';
		next = openat(
		    fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return -1;
		fd = next;
		comp = slash + 1;
	}
	*base = comp;
	return fd;
}

int
fsutil_remove_nofollow(const char *path, struct err *err)
{
	const char *base = NULL;
	char name[NAME_MAX + 1];
	struct stat st;
	size_t len;
	int fd, ret = -1;

	fd = fsutil_open_parent_nofollow(path, &base);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return 0; /* gone, or only reachable through a link */
		return err_sys(err, "cannot remove %s", path);
	}
	len = strcspn(base, "/");
	if (len == 0 || len > NAME_MAX || (len == 1 && base[0] == '.') ||
	    (len == 2 && memcmp(base, "..", 2) == 0)) {
		ret = 0; /* "/" itself, "." or "..": never removed */
		goto out;
	}
	memcpy(name, base, len);
	name[len] = '\0';
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			ret = 0;
		else
			err_sys(err, "cannot remove %s", path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (unlinkat(fd, name, AT_REMOVEDIR) == 0)
			ret = 1;
		else if (errno == ENOTEMPTY || errno == EEXIST ||
		    errno == ENOENT)
			ret = 0;
		else
			err_sys(err, "cannot remove %s", path);
	} else if (unlinkat(fd, name, 0) == 0) {
		ret = 1;
	} else if (errno == ENOENT) {
		ret = 0;
	} else {
		err_sys(err, "cannot remove %s", path);
	}
out:
	close(fd);
	return ret;
}

struct dirent *
fsutil_readdir(DIR *dir)
{
	struct dirent *de;

	do {
		errno = 0;
		de = readdir(dir);
	} while (de != NULL &&
	    (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0));
	return de;
}
