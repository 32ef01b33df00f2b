/*
 * install: plan the Install step completely, check it, then carry it out.
 *
 * Planning follows v1 §7.2-7.3 instruction by instruction (so install.json
 * and the cleanup file read as v1's do), but decides "does this target
 * exist" as it will be after the previous install's files are removed,
 * instead of removing them first (v1 bug 23).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fsutil.h"
#include "install.h"
#include "json.h"
#include "log.h"
#include "proc.h"
#include "state.h"
#include "strmap.h"
#include "xalloc.h"

/* Implemented in install-acl.c, the only includer of <sys/acl.h>. */
int install_acl_apply(const char *path, const struct appspec_ace *acls,
    size_t nacls, struct err *err);

#define INSTALL_DIR_MODE 0755
#define INSTALL_COPY_BUFFER (128 * 1024)
#define INSTALL_MAX_CLEANUP (64 * 1024 * 1024)
#define INSTALL_MAX_JSON (256 * 1024 * 1024)
/* Temporary files beside a target: ".cdagent-<pid>-<n>" (short: any name
 * the file system accepts can be installed). */
#define INSTALL_TEMP_PREFIX ".cdagent-"

enum instr_type {
	INSTR_COPY,
	INSTR_MKDIR,
	INSTR_CHMOD,
	INSTR_SETFACL,
	INSTR_SEMANAGE,
	INSTR_CHOWN,
};

struct instr {
	enum instr_type type;
	char *source; /* copy; semanage: the realpath recorded */
	char *path;   /* copy destination, mkdir, or permission target */
	const struct appspec_permission *perm;
	int preexisting;  /* copy over a file that was there before us */
	long long blocks; /* copy: the source's st_blocks, -1 unknown */
	uid_t uid;	  /* chown; (uid_t)-1 unchanged */
	gid_t gid;
};

/* Map values for plan.targets: index * 2, plus 1 for a mkdir. */
#define TARGET_IS_MKDIR(v) (((v)&1) != 0)
#define TARGET_INDEX(v) ((size_t)((v) >> 1))

struct plan {
	const struct install_opts *opts;
	enum appspec_feb feb;
	struct instr *v;
	size_t n, cap;
	struct strmap targets;	 /* copy and mkdir targets */
	struct strmap permitted; /* paths that already got permissions */
	struct strmap old;	 /* paths the previous install created */
	struct strmap writable;	 /* directories checked for writing */
	struct strmap keeps; /* old directories: whether they keep entries */
	char **old_list;     /* the previous cleanup file, in order */
	size_t nold;
	int recovering;	     /* a previous install stopped half way */
	unsigned long ntemp; /* temporary names used so far */
	int selinux;
	pid_t pid; /* ours, in temporary names */
	int as_root;
	char *setgid_dir; /* the last directory copied into, and its mode */
	int setgid_dir_set;
	char *copy_buf; /* INSTALL_COPY_BUFFER bytes, when needed */
	struct install_stats stats;
};

static void
plan_clear(struct plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++) {
		free(plan->v[i].source);
		free(plan->v[i].path);
	}
	free(plan->v);
	for (i = 0; i < plan->nold; i++)
		free(plan->old_list[i]);
	free(plan->old_list);
	free(plan->copy_buf);
	free(plan->setgid_dir);
	strmap_clear(&plan->targets);
	strmap_clear(&plan->permitted);
	strmap_clear(&plan->old);
	strmap_clear(&plan->writable);
	strmap_clear(&plan->keeps);
}

static struct instr *
plan_add(struct plan *plan, enum instr_type type, char *path)
{
	struct instr *in;

	if (plan->n == plan->cap) {
		plan->cap = plan->cap == 0 ? 64 : plan->cap * 2;
		plan->v = xreallocarray(plan->v, plan->cap, sizeof(*plan->v));
	}
	in = &plan->v[plan->n++];
	memset(in, 0, sizeof(*in));
	in->type = type;
	in->path = path;
	in->uid = (uid_t)-1;
	in->gid = (gid_t)-1;
	return in;
}

/* Whether SELinux is enabled on this host (selinuxfs is mounted). */
static int
selinux_enabled(void)
{
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

static char *
parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

static const char *
base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static char *
join(const char *dir, const char *name)
{
	if (strcmp(dir, "/") == 0)
		return xasprintf("/%s", name);
	return xasprintf("%s/%s", dir, name);
}

/*
 * Whether a directory from the previous install keeps any entry (the
 * answer is remembered: nothing changes on disk while the install plans,
 * and each planned path asks about all its ancestors).
 */
static int
old_dir_keeps_entries(struct plan *plan, const char *dir_path)
{
	DIR *dir;
	struct dirent *de;
	long cached;
	int keeps = 0;

	if (strmap_get(&plan->keeps, dir_path, &cached))
		return (int)cached;
	dir = opendir(dir_path);
	if (dir == NULL)
		return 0;
	while (!keeps && (de = fsutil_readdir(dir)) != NULL) {
		struct stat st;
		char *child;

		child = join(dir_path, de->d_name);
		if (!strmap_get(&plan->old, child, NULL))
			keeps = 1;
		else if (de->d_type == DT_DIR ||
		    (de->d_type == DT_UNKNOWN && lstat(child, &st) == 0 &&
			S_ISDIR(st.st_mode)))
			keeps = old_dir_keeps_entries(plan, child);
		free(child);
	}
	closedir(dir);
	strmap_put(&plan->keeps, dir_path, keeps);
	return keeps;
}

/*
 * Whether path will exist when this install runs: planned targets exist;
 * otherwise the disk decides (following symlinks: a dangling one is
 * absent, as in v1), except that files the previous install created will
 * be gone, and so will its directories that end up empty.  *is_dir says
 * whether it is (or will be) a directory.
 */
static int
will_exist(struct plan *plan, const char *path, int *is_dir)
{
	struct stat st;
	long v;

	if (strmap_get(&plan->targets, path, &v)) {
		*is_dir = TARGET_IS_MKDIR(v);
		return 1;
	}
	if (stat(path, &st) < 0)
		return 0;
	*is_dir = S_ISDIR(st.st_mode);
	if (strmap_get(&plan->old, path, NULL))
		return *is_dir && old_dir_keeps_entries(plan, path);
	return 1;
}

/* Check once per directory that this install can create entries in it. */
static int
check_writable(struct plan *plan, const char *dir, struct err *err)
{
	if (strmap_get(&plan->writable, dir, NULL))
		return 0;
	if (access(dir, W_OK | X_OK) < 0)
		return err_sys(err, "cannot install into %s", dir);
	strmap_put(&plan->writable, dir, 1);
	return 0;
}

/*
 * Refuse a path with a line break: the cleanup file holds one path per line,
 * so the text after the break would become a path to remove.
 */
static int
check_one_line(const char *path, struct err *err)
{
	if (strpbrk(path, "\n\r") != NULL)
		return err_set(err, E_UNSAFE,
		    "cannot install '%s': paths with line breaks cannot be "
		    "recorded for removal; rename it",
		    path);
	return 0;
}

static int
add_mkdir(struct plan *plan, const char *dir, struct err *err)
{
	struct instr *in;
	long v;

	if (check_one_line(dir, err) < 0)
		return -1;
	if (strmap_get(&plan->targets, dir, &v)) {
		if (TARGET_IS_MKDIR(v))
			return 0; /* duplicate mkdirs are merged */
		return err_set(err, E_INVALID,
		    "%s is both a file copied from %s and a directory to "
		    "create; change the files section of %s",
		    dir, plan->v[TARGET_INDEX(v)].source,
		    plan->opts->appspec->path);
	}
	in = plan_add(plan, INSTR_MKDIR, xstrdup(dir));
	strmap_put(&plan->targets, in->path, (long)(plan->n - 1) * 2 + 1);
	return 0;
}

/*
 * Plan mkdirs for the missing ancestors of path, outermost first, and check
 * that the deepest existing one is a writable directory.
 */
static int
ensure_parents(struct plan *plan, const char *path, struct err *err)
{
	char **missing = NULL;
	size_t nmissing = 0, i;
	char *dir = parent_of(path);
	int is_dir = 0, ret = -1;

	while (!will_exist(plan, dir, &is_dir)) {
		char *up;

		missing =
		    xreallocarray(missing, nmissing + 1, sizeof(*missing));
		missing[nmissing++] = dir;
		up = parent_of(dir);
		dir = up;
	}
	if (!is_dir) {
		err_set(err, E_INVALID,
		    "cannot install %s: %s is a file, not a directory", path,
		    dir);
		goto out;
	}
	if (!strmap_get(&plan->targets, dir, NULL) &&
	    check_writable(plan, dir, err) < 0)
		goto out;
	for (i = nmissing; i-- > 0;)
		if (add_mkdir(plan, missing[i], err) < 0)
			goto out;
	ret = 0;
out:
	for (i = 0; i < nmissing; i++)
		free(missing[i]);
	free(missing);
	free(dir);
	return ret;
}

/* Plan one file (or symlink) copy per v1 §7.2's file-exists rules. */
static int
plan_copy(struct plan *plan, const char *src, const char *target,
    long long blocks, struct err *err)
{
	int is_dir = 0, exists, preexisting;
	struct instr *in;
	long v;

	if (check_one_line(target, err) < 0)
		return -1;
	if (strmap_get(&plan->targets, target, &v)) {
		if (TARGET_IS_MKDIR(v))
			return err_set(err, E_INVALID,
			    "%s is both a directory to create and a file "
			    "copied from %s; change the files section of %s",
			    target, src, plan->opts->appspec->path);
		return err_set(err, E_INVALID,
		    "%s would be installed twice, from %s and from %s; "
		    "change the files section of %s",
		    target, plan->v[TARGET_INDEX(v)].source, src,
		    plan->opts->appspec->path);
	}
	exists = will_exist(plan, target, &is_dir);
	if (exists && is_dir)
		return err_set(err, E_EXISTS,
		    "cannot install %s over the directory %s; remove the "
		    "directory or change the destination",
		    src, target);
	if (exists) {
		switch (plan->feb) {
		case APPSPEC_FEB_DISALLOW:
			return err_set(err, E_EXISTS,
			    "The deployment failed because a specified file "
			    "already exists at this location: %s (the file "
			    "exists behaviour is DISALLOW; use OVERWRITE or "
			    "RETAIN to replace or keep it)",
			    target);
		case APPSPEC_FEB_RETAIN:
			plan->stats.retained++;
			return 0;
		case APPSPEC_FEB_OVERWRITE:
			break;
		default:
			return err_set(err, E_INVALID,
			    "a file already exists at %s and the file exists "
			    "behaviour is not one of DISALLOW, OVERWRITE, "
			    "RETAIN",
			    target);
		}
	}
	preexisting = exists && !strmap_get(&plan->old, target, NULL);
	if (!strmap_get(&plan->targets, target, NULL)) {
		char *dir = parent_of(target);
		int r = 0;

		if (!strmap_get(&plan->targets, dir, NULL))
			r = check_writable(plan, dir, err);
		free(dir);
		if (r < 0)
			return -1;
	}
	in = plan_add(plan, INSTR_COPY, xstrdup(target));
	strmap_put(&plan->targets, in->path, (long)(plan->n - 1) * 2);
	in->source = xstrdup(src);
	in->preexisting = preexisting;
	in->blocks = blocks;
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Plan a directory's contents, recursively; symlinks are copied as links. */
static int
plan_dir(struct plan *plan, const char *src, const char *dst, unsigned depth,
    struct err *err)
{
	char **names = NULL;
	size_t nnames = 0, i;
	struct dirent *de;
	DIR *dir = NULL;
	int is_dir = 0, ret = -1;

	if (depth > 256)
		return err_set(err, E_LIMIT, "%s is nested too deeply", src);
	if (!will_exist(plan, dst, &is_dir)) {
		if (add_mkdir(plan, dst, err) < 0)
			return -1;
	} else if (!is_dir) {
		return err_set(err, E_EXISTS,
		    "cannot install the directory %s over the file %s", src,
		    dst);
	}
	dir = opendir(src);
	if (dir == NULL)
		return err_sys(err, "cannot read %s", src);
	while ((de = fsutil_readdir(dir)) != NULL) {
		names = xreallocarray(names, nnames + 1, sizeof(*names));
		names[nnames++] = xstrdup(de->d_name);
	}
	closedir(dir);
	qsort(names, nnames, sizeof(*names), by_name);
	for (i = 0; i < nnames; i++) {
		char *child_src = join(src, names[i]);
		char *child_dst = join(dst, names[i]);
		struct stat st;
		int r;

		if (lstat(child_src, &st) < 0)
			r = err_sys(err, "cannot read %s", child_src);
		else if (S_ISDIR(st.st_mode))
			r = plan_dir(
			    plan, child_src, child_dst, depth + 1, err);
		else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
			r = plan_copy(plan, child_src, child_dst,
			    (long long)st.st_blocks, err);
		else
			r = err_set(err, E_UNSAFE,
			    "%s is not a regular file, directory or symlink",
			    child_src);
		free(child_src);
		free(child_dst);
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	return ret;
}

/* Plan one entry of the appspec's files section. */
static int
plan_file_entry(
    struct plan *plan, const struct appspec_file *file, struct err *err)
{
	const char *archive = plan->opts->archive_dir;
	const char *source = file->source;
	char *src = NULL, *dest = NULL, *target = NULL;
	struct stat st;
	int ret = -1;

	while (*source == '/')
		source++; /* "/" means the whole revision */
	if (fsutil_join_safe(archive, source, &src, err) < 0) {
		err_prefix(err, "%s:%u: files source",
		    plan->opts->appspec->path, file->line);
		goto out;
	}
	if (file->destination[0] != '/') {
		err_set(err, E_INVALID,
		    "%s:%u: destination '%s' is relative; give an absolute "
		    "path",
		    plan->opts->appspec->path, file->line, file->destination);
		goto out;
	}
	dest = fsutil_normalise(file->destination, 0);
	if (stat(src, &st) < 0) {
		err_set(err, E_NOTFOUND,
		    "%s:%u: files source '%s' does not exist in the revision "
		    "(%s)",
		    plan->opts->appspec->path, file->line, file->source, src);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (ensure_parents(plan, dest, err) < 0 ||
		    plan_dir(plan, src, dest, 0, err) < 0)
			goto out;
	} else {
		target = join(dest, base_of(src));
		if (ensure_parents(plan, target, err) < 0 ||
		    plan_copy(plan, src, target, -1, err) < 0)
			goto out;
	}
	ret = 0;
out:
	free(src);
	free(dest);
	free(target);
	return ret;
}

static int
has_default_ace(const struct appspec_permission *perm)
{
	size_t i;

	for (i = 0; i < perm->nacls; i++)
		if (perm->acls[i].is_default)
			return 1;
	return 0;
}

/* Plan chmod, setfacl, semanage, chown for one path (v1's order). */
static int
plan_set_permissions(struct plan *plan, const char *path,
    const struct appspec_permission *perm, int is_file, struct err *err)
{
	struct instr *in;

	if (strmap_get(&plan->permitted, path, NULL))
		return err_set(err, E_INVALID,
		    "%s:%u: permissions for %s are set twice; the permissions "
		    "entries overlap",
		    plan->opts->appspec->path, perm->line, path);
	if (is_file && has_default_ace(perm))
		return err_set(err, E_INVALID,
		    "%s:%u: default ACL entries cannot apply to the file %s",
		    plan->opts->appspec->path, perm->line, path);
	strmap_put(&plan->permitted, path, 1);
	if (perm->has_mode)
		plan_add(plan, INSTR_CHMOD, xstrdup(path))->perm = perm;
	if (perm->nacls > 0)
		plan_add(plan, INSTR_SETFACL, xstrdup(path))->perm = perm;
	if (perm->has_context)
		plan_add(plan, INSTR_SEMANAGE, xstrdup(path))->perm = perm;
	if (perm->owner != NULL || perm->group != NULL) {
		in = plan_add(plan, INSTR_CHOWN, xstrdup(path));
		in->perm = perm;
		if (perm->owner != NULL) {
			struct passwd *pw = getpwnam(perm->owner);

			if (pw == NULL)
				return err_set(err, E_NOTFOUND,
				    "%s:%u: owner '%s' is not a user on this "
				    "host",
				    plan->opts->appspec->path, perm->line,
				    perm->owner);
			in->uid = pw->pw_uid;
		}
		if (perm->group != NULL) {
			struct group *gr = getgrnam(perm->group);

			if (gr == NULL)
				return err_set(err, E_NOTFOUND,
				    "%s:%u: group '%s' is not a group on this "
				    "host",
				    plan->opts->appspec->path, perm->line,
				    perm->group);
			in->gid = gr->gr_gid;
		}
	}
	plan->stats.permissions++;
	return 0;
}

/* Whether rel (below the object) is matched by the permission (v1 §7.3). */
static int
permission_matches(const struct appspec_permission *perm, const char *rel)
{
	size_t i;

	if (strcmp(perm->pattern, "**") != 0 &&
	    !appspec_glob_match(perm->pattern, rel))
		return 0;
	for (i = 0; i < perm->nexcept; i++)
		if (appspec_glob_match(perm->except[i], rel))
			return 0;
	return 1;
}

/* Plan one entry of the appspec's permissions section. */
static int
plan_permission(
    struct plan *plan, const struct appspec_permission *perm, struct err *err)
{
	char *object = fsutil_normalise(perm->object, 0);
	size_t olen = strlen(object), i, count = plan->n;
	struct stat st;
	int ret = -1, pass;
	long v;

	if (strmap_get(&plan->targets, object, &v) && !TARGET_IS_MKDIR(v)) {
		if (perm->types & APPSPEC_TYPE_FILE) {
			if (strcmp(perm->pattern, "**") != 0 ||
			    perm->nexcept > 0) {
				err_set(err, E_INVALID,
				    "%s:%u: %s is a file: its permissions "
				    "cannot have a pattern or except",
				    plan->opts->appspec->path, perm->line,
				    object);
				goto out;
			}
			if (plan_set_permissions(plan, object, perm, 1, err) <
			    0)
				goto out;
		}
		ret = 0;
		goto out;
	}
	if (!strmap_get(&plan->targets, object, NULL) &&
	    !(stat(object, &st) == 0 && S_ISDIR(st.st_mode))) {
		ret = 0; /* v1 ignores a permission for anything else */
		goto out;
	}
	/* copy targets first, then mkdir targets, each in plan order */
	for (pass = 0; pass < 2; pass++) {
		enum instr_type want = pass == 0 ? INSTR_COPY : INSTR_MKDIR;
		unsigned type =
		    pass == 0 ? APPSPEC_TYPE_FILE : APPSPEC_TYPE_DIRECTORY;

		if (!(perm->types & type))
			continue;
		for (i = 0; i < count; i++) {
			const char *path = plan->v[i].path;
			const char *rel;

			if (plan->v[i].type != want)
				continue;
			if (strcmp(object, "/") == 0)
				rel = path + 1;
			else if (strncmp(path, object, olen) == 0 &&
			    path[olen] == '/')
				rel = path + olen + 1;
			else
				continue;
			if (*rel == '\0' || !permission_matches(perm, rel))
				continue;
			if (plan_set_permissions(
				plan, path, perm, pass == 0, err) < 0)
				goto out;
		}
	}
	ret = 0;
out:
	free(object);
	return ret;
}

/*
 * Records: what an install created, so that the next one removes it.  This
 * is the one place that reads and writes them, in v1's format (§7.5: one
 * path per line, "semanage\0<path>" for SELinux contexts).
 *
 *   <GID>-cleanup      what the last completed install created (v1 reads
 *                      it, and we read v1's).
 *   <GID>-cleanup.new  written and fsync'd before an install changes
 *                      anything: the previous records plus everything this
 *                      install may create.  Replaced by the new
 *                      <GID>-cleanup when the install completes.  Found at
 *                      the start of an install, it means the previous one
 *                      stopped half way (killed, power cut, failed), and it
 *                      is then the list of what is ours.
 *
 * A line of <GID>-cleanup counts only if <GID>-install.json, written by
 * the same install before it, planned to create that path: anything else
 * (v1 wrote names holding line breaks, whose tail became a line of its own)
 * is skipped with a warning.
 */

/* Add one record of the previous installs (unless already there). */
static void
old_add(struct plan *plan, const char *line, size_t llen)
{
	plan->old_list = xreallocarray(
	    plan->old_list, plan->nold + 1, sizeof(*plan->old_list));
	/* "semanage\0<path>" lines: kept with a \001 mark */
	if (llen > 9 && memcmp(line, "semanage", 9) == 0) {
		plan->old_list[plan->nold++] = xasprintf("\001%s", line + 9);
		return;
	}
	if (strmap_get(&plan->old, line, NULL))
		return;
	plan->old_list[plan->nold++] = xstrdup(line);
	strmap_put(&plan->old, line, 1);
}

/*
 * The paths <GID>-install.json planned to create (copy destinations and
 * directories), into allowed.  A missing or unreadable file leaves it
 * empty, with a warning.
 */
static void
load_planned(const char *json_path, struct strmap *allowed)
{
	struct err read_err = ERR_INIT;
	const struct json *list, *in;
	struct json *doc = NULL;
	char *text = NULL;
	size_t len = 0;

	if (fsutil_read_file(
		json_path, INSTALL_MAX_JSON, &text, &len, &read_err) < 0 ||
	    json_parse(text, len, json_path, &doc, &read_err) < 0) {
		log_warn("%s; the previous install's records cannot be "
			 "checked and none of them is removed",
		    read_err.msg);
		goto out;
	}
	list = json_get(doc, "instructions");
	for (in = json_array_first(list); in != NULL;
	     in = json_array_next(in)) {
		const char *type = json_get_string(in, "type"), *path = NULL;

		if (type != NULL && strcmp(type, "copy") == 0)
			path = json_get_string(in, "destination");
		else if (type != NULL && strcmp(type, "mkdir") == 0)
			path = json_get_string(in, "directory");
		if (path != NULL)
			strmap_put(allowed, path, 1);
	}
out:
	json_free(doc);
	free(text);
}

/*
 * Read one records file (v1's parse rules, bug 29 fixed).  With allowed,
 * path lines it does not hold are skipped with a warning.  A missing file
 * is no record.
 */
static int
read_records(struct plan *plan, const char *path, const struct strmap *allowed,
    struct err *err)
{
	struct err read_err = ERR_INIT;
	char *text = NULL, *line, *nl;
	size_t len = 0;

	if (fsutil_read_file(
		path, INSTALL_MAX_CLEANUP, &text, &len, &read_err) < 0) {
		if (read_err.code == E_NOTFOUND)
			return 0;
		*err = read_err;
		return -1;
	}
	/* a last line without '\n' is a torn write: ignored, as v1 does */
	line = text;
	while ((nl = memchr(line, '\n', len - (size_t)(line - text))) != NULL) {
		size_t llen = (size_t)(nl - line);

		*nl = '\0';
		if (llen == 0 || (llen > 9 && memcmp(line, "semanage", 9) == 0))
			; /* contexts are not paths to remove */
		else if (line[0] != '/' || strchr(line, '\r') != NULL ||
		    (allowed != NULL && !strmap_get(allowed, line, NULL))) {
			log_warn("%s: not removing '%s': the install that "
				 "wrote this file did not create it",
			    path, line);
			llen = 0;
		}
		if (llen > 0)
			old_add(plan, line, llen);
		line = nl + 1;
	}
	free(text);
	return 0;
}

/* Load what the previous installs created (see "Records" above). */
static int
records_load(struct plan *plan, const char *cleanup_path,
    const char *pending_path, const char *json_path, struct err *err)
{
	struct strmap allowed;
	int ret;

	if (access(pending_path, F_OK) == 0) {
		log_warn("%s exists: the previous install of this group "
			 "stopped half way; what it recorded is removed or "
			 "replaced now",
		    pending_path);
		plan->recovering = 1;
		return read_records(plan, pending_path, NULL, err);
	}
	if (access(cleanup_path, F_OK) < 0)
		return 0;
	memset(&allowed, 0, sizeof(allowed));
	strmap_init(&allowed);
	load_planned(json_path, &allowed);
	ret = read_records(plan, cleanup_path, &allowed, err);
	strmap_clear(&allowed);
	return ret;
}

/* Write one record line (a \001 mark is written as "semanage\0"). */
static int
write_record(struct fsutil_atomic *out, const char *path, struct err *err)
{
	if (path[0] == '\001' &&
	    (fsutil_atomic_write(out, "semanage", 9, err) < 0 ||
		fsutil_atomic_write(out, path + 1, strlen(path + 1), err) < 0))
		return -1;
	if (path[0] != '\001' &&
	    fsutil_atomic_write(out, path, strlen(path), err) < 0)
		return -1;
	return fsutil_atomic_write(out, "\n", 1, err);
}

/*
 * Write a records file atomically (fsync'd, renamed into place): with
 * pending, the previous records and all that this install may create;
 * else what it created.
 */
static int
records_write(
    const struct plan *plan, const char *path, int pending, struct err *err)
{
	struct fsutil_atomic out;
	size_t i;

	if (fsutil_atomic_begin(&out, path, err) < 0)
		return -1;
	for (i = 0; pending && i < plan->nold; i++)
		if (write_record(&out, plan->old_list[i], err) < 0)
			goto abort;
	for (i = 0; i < plan->n; i++) {
		const struct instr *in = &plan->v[i];
		int r = 0;

		if ((in->type == INSTR_COPY && !in->preexisting) ||
		    in->type == INSTR_MKDIR) {
			if (!pending || !strmap_get(&plan->old, in->path, NULL))
				r = write_record(&out, in->path, err);
		} else if (in->type == INSTR_SEMANAGE && in->source != NULL) {
			char *line = xasprintf("\001%s", in->source);

			r = write_record(&out, line, err);
			free(line);
		}
		if (r < 0)
			goto abort;
	}
	return fsutil_atomic_commit(&out, 0644, err);
abort:
	fsutil_atomic_abort(&out);
	return -1;
}

/* The install completed: its records replace the previous ones. */
static int
records_commit(const struct plan *plan, const char *cleanup_path,
    const char *pending_path, const char *instr_dir, struct err *err)
{
	if (records_write(plan, cleanup_path, 0, err) < 0)
		return -1;
	if (unlink(pending_path) < 0 && errno != ENOENT)
		return err_sys(err, "cannot remove %s", pending_path);
	return fsutil_fsync_dir(instr_dir, err);
}

/* Whether name is a temporary file of a cdagent that is no longer running
 * (this one's own, from before a reboot, included). */
static int
is_stale_temp(const struct plan *plan, const char *name)
{
	const char *p;
	char *end;
	long pid;

	if (strncmp(name, INSTALL_TEMP_PREFIX, strlen(INSTALL_TEMP_PREFIX)) !=
	    0)
		return 0;
	p = name + strlen(INSTALL_TEMP_PREFIX);
	if (*p < '0' || *p > '9')
		return 0;
	errno = 0;
	pid = strtol(p, &end, 10);
	if (errno != 0 || *end != '-' || end[1] < '0' || end[1] > '9' ||
	    end[1 + strspn(end + 1, "0123456789")] != '\0' || pid <= 0)
		return 0;
	if (pid == (long)plan->pid)
		return 1;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/*
 * After an install stopped half way: remove the temporary files it left
 * beside the paths it recorded (never following a symbolic link).
 */
static void
remove_stale_temps(const struct plan *plan)
{
	struct strmap seen;
	size_t i;

	memset(&seen, 0, sizeof(seen));
	strmap_init(&seen);
	for (i = 0; i < plan->nold; i++) {
		const char *path = plan->old_list[i], *base = NULL;
		char *dir = parent_of(path);
		struct dirent *de;
		DIR *d = NULL;
		int fd = -1;

		if (path[0] == '/' && !strmap_get(&seen, dir, NULL)) {
			strmap_put(&seen, dir, 1);
			fd = fsutil_open_parent_nofollow(path, &base);
		}
		if (fd >= 0 && (d = fdopendir(fd)) == NULL)
			close(fd);
		if (d == NULL) {
			free(dir);
			continue;
		}
		while ((de = fsutil_readdir(d)) != NULL) {
			struct stat st;

			if (is_stale_temp(plan, de->d_name) &&
			    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
				0 &&
			    !S_ISDIR(st.st_mode) &&
			    unlinkat(fd, de->d_name, 0) == 0)
				log_info("removed %s/%s, left by a stopped "
					 "install",
				    strcmp(dir, "/") == 0 ? "" : dir,
				    de->d_name);
		}
		closedir(d);
		free(dir);
	}
	strmap_clear(&seen);
}

static struct json *
instr_json(const struct instr *in)
{
	struct json *obj = json_object();
	const struct appspec_permission *perm = in->perm;
	struct json *list, *ctx;
	size_t i;

	switch (in->type) {
	case INSTR_COPY:
		json_set(obj, "type", json_string("copy"));
		json_set(obj, "source", json_string(in->source));
		json_set(obj, "destination", json_string(in->path));
		break;
	case INSTR_MKDIR:
		json_set(obj, "type", json_string("mkdir"));
		json_set(obj, "directory", json_string(in->path));
		break;
	case INSTR_CHMOD:
		json_set(obj, "type", json_string("chmod"));
		json_set(obj, "mode", json_string(perm->mode_text));
		json_set(obj, "file", json_string(in->path));
		break;
	case INSTR_SETFACL:
		json_set(obj, "type", json_string("setfacl"));
		list = json_array();
		for (i = 0; i < perm->nacls; i++) {
			char *ace = appspec_ace_format(&perm->acls[i]);

			json_push(list, json_string(ace));
			free(ace);
		}
		json_set(obj, "acl", list);
		json_set(obj, "file", json_string(in->path));
		break;
	case INSTR_SEMANAGE:
		json_set(obj, "type", json_string("semanage"));
		ctx = json_object();
		json_set(ctx, "user", json_string(perm->context.user));
		json_set(ctx, "role", json_null());
		json_set(ctx, "type", json_string(perm->context.type));
		json_set(ctx, "range", json_string(perm->context.range));
		json_set(obj, "context", ctx);
		json_set(obj, "file", json_string(in->path));
		break;
	case INSTR_CHOWN:
		json_set(obj, "type", json_string("chown"));
		json_set(obj, "owner", json_string(perm->owner));
		json_set(obj, "group", json_string(perm->group));
		json_set(obj, "file", json_string(in->path));
		break;
	}
	return obj;
}

/*
 * INSTR/<GID>-install.json, written before anything is executed (v1).  It
 * is streamed one instruction at a time, so a 10,000-file install never
 * holds the whole document in memory.
 */
static int
write_install_json(const struct plan *plan, struct err *err)
{
	struct fsutil_atomic out;
	char *path;
	size_t i;
	int ret = -1;

	path = state_instruction_path(
	    plan->opts->root_dir, plan->opts->group_id, STATE_INSTALL_JSON);
	if (fsutil_atomic_begin(&out, path, err) < 0)
		goto out;
	if (fsutil_atomic_write(&out, "{\"instructions\":[", 17, err) < 0)
		goto abort;
	for (i = 0; i < plan->n; i++) {
		struct json *obj = instr_json(&plan->v[i]);
		char *text = json_print(obj);
		int r = (i > 0 ? fsutil_atomic_write(&out, ",", 1, err) : 0) ||
		    fsutil_atomic_write(&out, text, strlen(text), err);

		free(text);
		json_free(obj);
		if (r != 0)
			goto abort;
	}
	if (fsutil_atomic_write(&out, "]}", 2, err) < 0 ||
	    fsutil_atomic_commit(&out, 0644, err) < 0)
		goto abort;
	ret = 0;
	goto out;
abort:
	fsutil_atomic_abort(&out);
out:
	free(path);
	return ret;
}

/* Remove what the previous install created, newest first. */
static int
remove_old(struct plan *plan, struct err *err)
{
	size_t i;

	for (i = plan->nold; i-- > 0;) {
		const char *path = plan->old_list[i];
		int r;

		if (path[0] == '\001') {
			if (plan->selinux) {
				const char *argv[] = { "semanage", "fcontext",
					"-d", path + 1, NULL };
				struct err ignored = ERR_INIT;

				proc_run(argv, NULL, 0, &ignored);
			}
			continue;
		}
		/* what this install replaces or reuses stays until then */
		if (strmap_get(&plan->targets, path, NULL))
			continue;
		r = fsutil_remove_nofollow(path, err);
		if (r < 0)
			return -1;
		plan->stats.removed += (uint64_t)r;
	}
	return 0;
}

/* One file system the install writes to, and what it needs there. */
struct fs_need {
	dev_t dev;
	char *dir; /* an existing directory on it, for statvfs and messages */
	uint64_t bytes, inodes;		    /* what the install writes */
	uint64_t freed_bytes, freed_inodes; /* what removing old files frees */
};

/* The file system entry of path's nearest existing ancestor (or itself). */
static struct fs_need *
fs_of(struct fs_need **fs, size_t *nfs, struct strmap *by_dir, const char *path)
{
	char *dir = parent_of(path);
	struct stat st;
	long v;
	size_t i;

	if (strmap_get(by_dir, dir, &v)) {
		free(dir);
		return &(*fs)[v];
	}
	while (stat(dir, &st) < 0 && strcmp(dir, "/") != 0) {
		char *up = parent_of(dir);

		free(dir);
		dir = up;
	}
	for (i = 0; i < *nfs && (*fs)[i].dev != st.st_dev; i++)
		;
	if (i == *nfs) {
		*fs = xreallocarray(*fs, *nfs + 1, sizeof(**fs));
		memset(&(*fs)[i], 0, sizeof(**fs));
		(*fs)[i].dev = st.st_dev;
		(*fs)[i].dir = xstrdup(dir);
		(*nfs)++;
	}
	strmap_put(by_dir, dir, (long)i);
	free(dir);
	return &(*fs)[i];
}

/*
 * Install never starts what it cannot finish: before anything is removed,
 * the bytes (as allocated: holes are free) and inodes the plan creates on
 * each file system must fit in what is free there plus what removing the
 * previous install's files gives back.
 */
static int
check_space(struct plan *plan, struct err *err)
{
	struct fs_need *fs = NULL, *f;
	struct strmap by_dir;
	size_t nfs = 0, i;
	struct statvfs sv;
	struct stat st;
	int ret = -1;

	memset(&by_dir, 0, sizeof(by_dir));
	strmap_init(&by_dir);
	for (i = 0; i < plan->n; i++) {
		const struct instr *in = &plan->v[i];

		if (in->type != INSTR_COPY && in->type != INSTR_MKDIR)
			continue;
		f = fs_of(&fs, &nfs, &by_dir, in->path);
		f->inodes++;
		if (in->type == INSTR_MKDIR)
			f->bytes += 4096;
		else if (in->blocks >= 0)
			f->bytes += (uint64_t)in->blocks * 512;
		else if (lstat(in->source, &st) == 0)
			f->bytes += (uint64_t)st.st_blocks * 512;
	}
	for (i = 0; i < plan->nold; i++) {
		const char *path = plan->old_list[i];

		if (path[0] != '/' || strmap_get(&plan->targets, path, NULL) ||
		    lstat(path, &st) < 0)
			continue;
		f = fs_of(&fs, &nfs, &by_dir, path);
		if (f->dev != st.st_dev)
			continue;
		f->freed_inodes++;
		f->freed_bytes += (uint64_t)st.st_blocks * 512;
	}
	for (i = 0; i < nfs; i++) {
		uint64_t free_bytes, free_inodes;

		f = &fs[i];
		if (statvfs(f->dir, &sv) < 0)
			continue; /* nothing to check against */
		free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
		free_inodes = sv.f_files == 0 ? UINT64_MAX : sv.f_favail;
		if (f->bytes > free_bytes + f->freed_bytes ||
		    (f->inodes > f->freed_inodes &&
			f->inodes - f->freed_inodes > free_inodes)) {
			err_set(err, E_LIMIT,
			    "not enough space for this revision on the file "
			    "system of %s: it needs %llu bytes and %llu "
			    "inodes there, and %llu bytes and %llu inodes "
			    "are free (%llu bytes and %llu inodes more once "
			    "the previous revision is removed); nothing was "
			    "changed; free some space and deploy again",
			    f->dir, (unsigned long long)f->bytes,
			    (unsigned long long)f->inodes,
			    (unsigned long long)free_bytes,
			    (unsigned long long)(sv.f_files == 0 ? 0
								 : free_inodes),
			    (unsigned long long)f->freed_bytes,
			    (unsigned long long)f->freed_inodes);
			goto out;
		}
	}
	ret = 0;
out:
	for (i = 0; i < nfs; i++)
		free(fs[i].dir);
	free(fs);
	strmap_clear(&by_dir);
	return ret;
}

/* Copy len bytes at offset from in_fd to the same offset of out_fd. */
static int
copy_range(struct plan *plan, int in_fd, int out_fd, off_t offset, off_t len,
    const char *src, struct err *err)
{
	off_t in_off = offset, out_off = offset, end = offset + len;
	ssize_t n, w;

	while (plan->copy_buf == NULL && in_off < end) {
		n = copy_file_range(in_fd, &in_off, out_fd, &out_off,
		    (size_t)(end - in_off), 0);
		if (n > 0) {
			plan->stats.bytes += (uint64_t)n;
			continue;
		}
		if (n == 0)
			return 0; /* the file shrank under us */
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
		    errno != EOPNOTSUPP && errno != EBADF)
			return err_sys(err, "cannot copy %s", src);
		plan->copy_buf = xmalloc(INSTALL_COPY_BUFFER);
	}
	while (in_off < end) {
		size_t want = (size_t)(end - in_off) < INSTALL_COPY_BUFFER
		    ? (size_t)(end - in_off)
		    : INSTALL_COPY_BUFFER;
		char *p;

		n = pread(in_fd, plan->copy_buf, want, in_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(err, "cannot read %s", src);
		if (n == 0)
			return 0;
		in_off += n;
		for (p = plan->copy_buf; n > 0; p += w, n -= w) {
			w = pwrite(out_fd, p, (size_t)n, out_off);
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w < 0)
				return err_sys(
				    err, "cannot write a copy of %s", src);
			out_off += w;
			plan->stats.bytes += (uint64_t)w;
		}
	}
	return 0;
}

/*
 * Copy a regular file's bytes from in_fd to out_fd, keeping its holes: only
 * the data regions (SEEK_DATA/SEEK_HOLE) are copied, and the size is set at
 * the end.
 */
static int
copy_bytes(struct plan *plan, int in_fd, int out_fd, const char *src,
    const struct stat *st, struct err *err)
{
	off_t pos = 0, data, hole;

	/* as many blocks as bytes: no hole, one copy and the size is right */
	if ((off_t)st->st_blocks * 512 >= st->st_size)
		return copy_range(
		    plan, in_fd, out_fd, 0, st->st_size, src, err);
	while (pos < st->st_size) {
		data = lseek(in_fd, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* a hole up to the end */
		if (data < 0) {
			data = pos; /* no hole support: all is data */
			hole = st->st_size;
		} else {
			hole = lseek(in_fd, data, SEEK_HOLE);
			if (hole < 0 || hole > st->st_size)
				hole = st->st_size;
		}
		if (copy_range(
			plan, in_fd, out_fd, data, hole - data, src, err) < 0)
			return -1;
		pos = hole;
	}
	if (ftruncate(out_fd, st->st_size) < 0)
		return err_sys(err, "cannot write a copy of %s", src);
	return 0;
}

/*
 * Whether a file created by us at dst already has st's owner: root's uid,
 * and root's gid unless dst's directory is set-group-ID (its mode is looked
 * up once for a run of files in the same directory).
 */
static int
owner_is_default(struct plan *plan, const char *dst, const struct stat *st)
{
	char *dir;
	struct stat dst_st;

	if (st->st_uid != 0 || st->st_gid != 0)
		return 0;
	dir = parent_of(dst);
	if (plan->setgid_dir == NULL || strcmp(plan->setgid_dir, dir) != 0) {
		free(plan->setgid_dir);
		plan->setgid_dir = dir;
		dir = NULL;
		plan->setgid_dir_set = stat(plan->setgid_dir, &dst_st) < 0 ||
		    (dst_st.st_mode & S_ISGID) != 0;
	}
	free(dir);
	return !plan->setgid_dir_set;
}

/*
 * A temporary name beside dst for the atomic replace: short, so that any
 * name the file system accepts can be installed, and with the pid, so that
 * a later install knows whether its writer still runs.
 */
static char *
temp_name(struct plan *plan, const char *dst)
{
	char *dir = parent_of(dst);
	char *tmp = xasprintf("%s/" INSTALL_TEMP_PREFIX "%ld-%lu",
	    strcmp(dir, "/") == 0 ? "" : dir, (long)plan->pid, ++plan->ntemp);

	free(dir);
	return tmp;
}

/*
 * Put a copy of src at dst atomically: build it under a temporary name in
 * dst's directory, then rename it over dst.  Symlinks are copied as links;
 * regular files keep their mode, times and (as root) owner.
 */
static int
copy_atomic(
    struct plan *plan, const char *src, const char *dst, struct err *err)
{
	char *tmp = temp_name(plan, dst);
	int in_fd = -1, out_fd = -1, ret = -1;
	struct timespec times[2];
	struct stat st;

	if (lstat(src, &st) < 0) {
		err_sys(err, "cannot read %s", src);
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(src, target, sizeof(target) - 1);

		if (n < 0) {
			err_sys(err, "cannot read the link %s", src);
			goto out;
		}
		target[n] = '\0';
		/* EEXIST: left before a reboot by a cdagent of this pid */
		if (symlink(target, tmp) < 0 &&
		    (errno != EEXIST || unlink(tmp) < 0 ||
			symlink(target, tmp) < 0)) {
			err_sys(err, "cannot create the link %s", dst);
			goto out;
		}
		if (plan->as_root && lchown(tmp, st.st_uid, st.st_gid) < 0) {
			err_sys(err, "cannot set the owner of %s", dst);
			goto out;
		}
	} else {
		in_fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (in_fd < 0) {
			err_sys(err, "cannot read %s", src);
			goto out;
		}
		out_fd = open(tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out_fd < 0 && errno == EEXIST && unlink(tmp) == 0)
			out_fd = open(tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				O_CLOEXEC,
			    0600);
		if (out_fd < 0) {
			err_sys(err, "cannot create %s", tmp);
			goto out;
		}
		if (copy_bytes(plan, in_fd, out_fd, src, &st, err) < 0)
			goto out;
		/* owner before mode: chown clears setuid bits */
		if (plan->as_root && !owner_is_default(plan, dst, &st) &&
		    fchown(out_fd, st.st_uid, st.st_gid) < 0) {
			err_sys(err, "cannot set the owner of %s", dst);
			goto out;
		}
		if (fchmod(out_fd, st.st_mode & 07777) < 0) {
			err_sys(err, "cannot set the mode of %s", dst);
			goto out;
		}
		times[0] = st.st_atim;
		times[1] = st.st_mtim;
		futimens(out_fd, times);
		if (close(out_fd) < 0) {
			out_fd = -1;
			err_sys(err, "cannot write %s", dst);
			goto out;
		}
		out_fd = -1;
	}
	if (rename(tmp, dst) < 0) {
		err_sys(err, "cannot put %s in place", dst);
		goto out;
	}
	plan->stats.files++;
	ret = 0;
out:
	if (in_fd >= 0)
		close(in_fd);
	if (out_fd >= 0)
		close(out_fd);
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	return ret;
}

/* Set a context rule on path's real path; *target gets that path. */
static int
run_semanage(const char *path, const struct appspec_context *ctx,
    char **target_out, struct err *err)
{
	const char *argv[12];
	char *target = realpath(path, NULL);
	size_t n = 0;
	int ret = -1;

	if (target == NULL)
		return err_sys(err, "cannot resolve %s", path);
	argv[n++] = "semanage";
	argv[n++] = "fcontext";
	argv[n++] = "-a";
	if (ctx->user != NULL) {
		argv[n++] = "-s";
		argv[n++] = ctx->user;
	}
	argv[n++] = "-t";
	argv[n++] = ctx->type;
	if (ctx->range != NULL) {
		argv[n++] = "-r";
		argv[n++] = ctx->range;
	}
	argv[n++] = target;
	argv[n] = NULL;
	if (proc_run(argv, NULL, 0, err) < 0)
		goto out;
	{
		const char *restore[] = { "restorecon", "-F", target, NULL };

		if (proc_run(restore, NULL, 0, err) < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret == 0)
		*target_out = target;
	else
		free(target);
	return ret;
}

/* Carry out one planned instruction (semanage keeps the path it set). */
static int
execute(struct plan *plan, struct instr *in, struct err *err)
{
	struct stat st;

	switch (in->type) {
	case INSTR_COPY:
		return copy_atomic(plan, in->source, in->path, err);
	case INSTR_MKDIR:
		if (mkdir(in->path, INSTALL_DIR_MODE) < 0) {
			if (errno != EEXIST || stat(in->path, &st) < 0 ||
			    !S_ISDIR(st.st_mode))
				return err_sys(err,
				    "cannot create directory %s", in->path);
		} else {
			chmod(in->path, INSTALL_DIR_MODE);
		}
		plan->stats.dirs++;
		return 0;
	case INSTR_CHMOD:
		if (lstat(in->path, &st) == 0 && S_ISLNK(st.st_mode)) {
			log_warn(
			    "not changing the mode of %s: it is a symbolic "
			    "link",
			    in->path);
			return 0;
		}
		if (chmod(in->path, in->perm->mode) < 0)
			return err_sys(err, "cannot set mode %s on %s",
			    in->perm->mode_text, in->path);
		return 0;
	case INSTR_SETFACL:
		if (lstat(in->path, &st) == 0 && S_ISLNK(st.st_mode)) {
			log_warn("not setting an ACL on %s: it is a symbolic "
				 "link",
			    in->path);
			return 0;
		}
		return install_acl_apply(
		    in->path, in->perm->acls, in->perm->nacls, err);
	case INSTR_SEMANAGE:
		if (!plan->selinux) {
			log_warn("SELinux is not enabled on this host; not "
				 "setting the context %s on %s",
			    in->perm->context.type, in->path);
			return 0;
		}
		return run_semanage(
		    in->path, &in->perm->context, &in->source, err);
	case INSTR_CHOWN:
		if (fchownat(AT_FDCWD, in->path, in->uid, in->gid,
			AT_SYMLINK_NOFOLLOW) < 0)
			return err_sys(
			    err, "cannot change the owner of %s", in->path);
		return 0;
	}
	return err_set(err, E_INTERNAL, "unknown install instruction");
}

int
install_run(const struct install_opts *opts, struct install_stats *stats,
    struct err *err)
{
	struct plan plan;
	const struct appspec *spec = opts->appspec;
	char *instr_dir = NULL, *cleanup_path = NULL, *pending_path = NULL;
	char *json_path = NULL;
	int ret = -1;
	size_t i = 0;

	memset(&plan, 0, sizeof(plan));
	strmap_init_borrowed(&plan.targets); /* keys are the plan's paths */
	plan.opts = opts;
	plan.feb = spec->file_exists_behavior != APPSPEC_FEB_UNSET
	    ? spec->file_exists_behavior
	    : opts->deployment_feb;
	plan.selinux = selinux_enabled();
	plan.pid = getpid();
	plan.as_root = geteuid() == 0;
	if (state_check_group_id(opts->group_id, "deployment group id", err) <
	    0)
		goto out;
	instr_dir = xasprintf("%s/%s", opts->root_dir, STATE_INSTRUCTIONS_DIR);
	if (fsutil_mkdir_p(instr_dir, 0755, err) < 0)
		goto out;
	cleanup_path = state_instruction_path(
	    opts->root_dir, opts->group_id, STATE_CLEANUP);
	pending_path = state_instruction_path(
	    opts->root_dir, opts->group_id, STATE_CLEANUP_PENDING);
	json_path = state_instruction_path(
	    opts->root_dir, opts->group_id, STATE_INSTALL_JSON);
	if (records_load(&plan, cleanup_path, pending_path, json_path, err) < 0)
		goto out;
	if (plan.recovering) /* before planning: they are not content */
		remove_stale_temps(&plan);

	/* 1. plan and check everything; nothing on the host changes yet */
	for (i = 0; i < spec->nfiles; i++)
		if (plan_file_entry(&plan, &spec->files[i], err) < 0)
			goto out;
	for (i = 0; i < spec->npermissions; i++)
		if (plan_permission(&plan, &spec->permissions[i], err) < 0)
			goto out;
	if (check_space(&plan, err) < 0)
		goto out;

	/* 2. record all this install may create before creating any of it,
	 * then describe it (install.json must match the records it checks);
	 * each is fsync'd with its directory as it is committed */
	if (records_write(&plan, pending_path, 1, err) < 0 ||
	    write_install_json(&plan, err) < 0)
		goto out;

	/* 3. remove what the previous install created and this one does not
	 * replace */
	if (remove_old(&plan, err) < 0)
		goto out;

	/* 4. carry out the plan */
	for (i = 0; i < plan.n; i++) {
		if (execute(&plan, &plan.v[i], err) < 0)
			goto out;
		if (opts->progress != NULL && plan.v[i].type == INSTR_COPY &&
		    (plan.stats.files % 256 == 0))
			opts->progress(plan.stats.files, plan.stats.bytes,
			    opts->progress_arg);
	}

	/* 5. what it created replaces the previous records */
	if (records_commit(&plan, cleanup_path, pending_path, instr_dir, err) <
	    0)
		goto out;
	if (opts->progress != NULL)
		opts->progress(
		    plan.stats.files, plan.stats.bytes, opts->progress_arg);
	ret = 0;
out:
	if (stats != NULL)
		*stats = plan.stats;
	plan_clear(&plan);
	free(instr_dir);
	free(cleanup_path);
	free(pending_path);
	free(json_path);
	return ret;
}
