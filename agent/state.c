/* state: deployment-root paths, instruction files and revision retention. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "state.h"
#include "xalloc.h"

#define STATE_DIR_MODE 0755
#define STATE_FILE_MODE 0644
#define STATE_MAX_INSTRUCTION 4096
#define STATE_TRASH_DIR ".cdagent-trash"
#define STATE_IOPRIO_WHO_PROCESS 1
/* best-effort class, lowest level: the idle class can starve for as long as
 * other I/O goes on, and the next deployment of the group waits for us */
#define STATE_IOPRIO_LOW ((2 << 13) | 7)

int
state_check_id(const char *id, const char *what, struct err *err)
{
	if (id == NULL || id[0] == '\0')
		return err_set(err, E_INVALID, "the %s is empty", what);
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0 ||
	    strpbrk(id, "/\n\r") != NULL)
		return err_set(err, E_UNSAFE,
		    "the %s '%s' is not a safe directory name (no '/', "
		    "newlines, '.' or '..')",
		    what, id);
	return 0;
}

int
state_valid_reuse_id(const char *id, size_t len)
{
	size_t i;

	if (id == NULL || len < 3 || len > STATE_REUSE_ID_MAX || id[0] != 'd' ||
	    id[1] != '-')
		return 0;
	for (i = 2; i < len; i++)
		if (!((id[i] >= 'A' && id[i] <= 'Z') ||
			(id[i] >= '0' && id[i] <= '9')))
			return 0;
	return 1;
}

int
state_check_group_id(const char *gid, const char *what, struct err *err)
{
	static const char *const reserved[] = { STATE_INSTRUCTIONS_DIR,
		STATE_DEPLOYMENT_LOGS_DIR, "ongoing-deployment" };
	size_t i, len;

	if (state_check_id(gid, what, err) < 0)
		return -1;
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(gid, reserved[i]) == 0)
			return err_set(err, E_INVALID,
			    "the %s '%s' is the name of the agent's own "
			    "directory in the deployment root; choose "
			    "another name",
			    what, gid);
	if (gid[0] == '.')
		return err_set(err, E_INVALID,
		    "the %s '%s' starts with '.', which names the agent's own "
		    "files in the deployment root; choose a name that does "
		    "not",
		    what, gid);
	len = strlen(gid);
	if (len > STATE_GROUP_ID_MAX)
		return err_set(err, E_INVALID,
		    "the %s is %zu bytes long; at most %d bytes fit in the "
		    "file names of deployment-instructions/ (%d bytes at "
		    "most); choose a shorter name",
		    what, len, STATE_GROUP_ID_MAX, NAME_MAX);
	return 0;
}

char *
state_droot(const char *root, const char *gid, const char *did, struct err *err)
{
	if (state_check_group_id(gid, "deployment group id", err) < 0 ||
	    state_check_id(did, "deployment id", err) < 0)
		return NULL;
	return xasprintf("%s/%s/%s", root, gid, did);
}

char *
state_instruction_path(const char *root, const char *gid, const char *suffix)
{
	return xasprintf(
	    "%s/%s/%s%s", root, STATE_INSTRUCTIONS_DIR, gid, suffix);
}

int
state_prepare_droot(const char *droot, struct err *err)
{
	struct timespec now;
	struct stat st;
	char *marker;
	char stamp[32];
	int r;

	if (stat(droot, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (fsutil_mkdir_p(droot, STATE_DIR_MODE, err) < 0)
		return -1;
	/* when this deployment began, for retention's ordering */
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(stamp, sizeof(stamp), "%lld\n",
	    (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
	marker = xasprintf("%s/%s", droot, STATE_CREATED_MARKER);
	r = fsutil_write_atomic(
	    marker, stamp, strlen(stamp), STATE_FILE_MODE, err);
	free(marker);
	return r;
}

/* Write an instruction file atomically, creating its directory. */
static int
write_instruction(const char *root, const char *gid, const char *suffix,
    const char *text, struct err *err)
{
	char *dir = NULL, *path = NULL;
	int ret = -1;

	if (state_check_id(gid, "deployment group id", err) < 0)
		return -1;
	dir = xasprintf("%s/%s", root, STATE_INSTRUCTIONS_DIR);
	if (fsutil_mkdir_p(dir, STATE_DIR_MODE, err) < 0)
		goto out;
	path = state_instruction_path(root, gid, suffix);
	if (fsutil_write_atomic(
		path, text, strlen(text), STATE_FILE_MODE, err) < 0)
		goto out;
	ret = 0;
out:
	free(dir);
	free(path);
	return ret;
}

static int
read_instruction(const char *root, const char *gid, const char *suffix,
    char **out, struct err *err)
{
	struct err read_err = ERR_INIT;
	char *path = NULL, *text = NULL;
	size_t len = 0;

	*out = NULL;
	if (state_check_id(gid, "deployment group id", err) < 0)
		return -1;
	path = state_instruction_path(root, gid, suffix);
	if (fsutil_read_file(
		path, STATE_MAX_INSTRUCTION, &text, &len, &read_err) < 0) {
		free(path);
		if (read_err.code == E_NOTFOUND)
			return 0;
		*err = read_err;
		return -1;
	}
	free(path);
	if (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	if (len == 0) {
		free(text);
		return 0;
	}
	*out = text;
	return 0;
}

int
state_set_last_successful(
    const char *root, const char *gid, const char *droot, struct err *err)
{
	return write_instruction(root, gid, STATE_LAST_SUCCESSFUL, droot, err);
}

int
state_set_most_recent(
    const char *root, const char *gid, const char *droot, struct err *err)
{
	return write_instruction(root, gid, STATE_MOST_RECENT, droot, err);
}

int
state_get_last_successful(
    const char *root, const char *gid, char **out, struct err *err)
{
	return read_instruction(root, gid, STATE_LAST_SUCCESSFUL, out, err);
}

int
state_get_most_recent(
    const char *root, const char *gid, char **out, struct err *err)
{
	return read_instruction(root, gid, STATE_MOST_RECENT, out, err);
}

struct revision {
	char *name;
	long long created_ns;
};

/*
 * When a deployment directory was created: the time state_prepare_droot()
 * recorded in it, else (a directory made by AWS's agent) its birth time
 * where the file system records one, else its modification time.
 */
static long long
created_ns(int dirfd, const char *name)
{
	char *marker = xasprintf("%s/%s", name, STATE_CREATED_MARKER);
	char buf[32];
	struct statx stx;
	ssize_t n = -1;
	int fd;

	fd = openat(dirfd, marker, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(marker);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n > 0) {
		buf[n] = '\0';
		return atoll(buf);
	}

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BTIME | STATX_MTIME,
		&stx) < 0)
		return 0;
	if (stx.stx_mask & STATX_BTIME)
		return (long long)stx.stx_btime.tv_sec * 1000000000LL +
		    stx.stx_btime.tv_nsec;
	return (long long)stx.stx_mtime.tv_sec * 1000000000LL +
	    stx.stx_mtime.tv_nsec;
}

static int
by_creation(const void *a, const void *b)
{
	const struct revision *ra = a, *rb = b;

	if (ra->created_ns != rb->created_ns)
		return ra->created_ns < rb->created_ns ? -1 : 1;
	return strcmp(ra->name, rb->name);
}

/* The deployment id that a last-successful DROOT string names in ROOT/GID. */
static const char *
did_of(const char *droot, const char *group_dir)
{
	size_t len = strlen(group_dir);

	if (droot == NULL || strncmp(droot, group_dir, len) != 0 ||
	    droot[len] != '/' || strchr(droot + len + 1, '/') != NULL)
		return NULL;
	return droot + len + 1;
}

/* ROOT/.cdagent-trash, made if missing; free the result. */
static char *
trash_dir(const char *root, struct err *err)
{
	char *trash = xasprintf("%s/%s", root, STATE_TRASH_DIR);

	if (mkdir(trash, 0700) < 0 && errno != EEXIST) {
		err_sys(err, "cannot create %s", trash);
		free(trash);
		return NULL;
	}
	return trash;
}

/*
 * Remove what an interrupted removal left in ROOT/.cdagent-trash (every
 * entry but the groups' lock files).
 */
static int
empty_trash(const char *trash, struct err *err)
{
	DIR *dir = opendir(trash);
	struct dirent *de;
	size_t len;
	int ret = 0;

	if (dir == NULL)
		return errno == ENOENT ? 0
				       : err_sys(err, "cannot read %s", trash);
	while (ret == 0 && (de = fsutil_readdir(dir)) != NULL) {
		char *path;

		len = strlen(de->d_name);
		if (len > 5 && strcmp(de->d_name + len - 5, ".lock") == 0)
			continue;
		path = xasprintf("%s/%s", trash, de->d_name);
		ret = fsutil_rm_rf(path, err);
		free(path);
	}
	closedir(dir);
	return ret;
}

/*
 * Remove one revision directory: renamed first into ROOT/.cdagent-trash
 * (one atomic step: a crash leaves either the whole revision or a trash
 * entry that nothing reads and the next retention empties), then removed.
 */
static int
remove_revision(const char *root, const char *path, struct err *err)
{
	static unsigned long serial;
	char *trash = trash_dir(root, err), *entry = NULL;
	int ret = -1;

	if (trash == NULL)
		return -1;
	entry = xasprintf(
	    "%s/%ld-%lu", trash, (long)getpid(), (unsigned long)serial++);
	if (rename(path, entry) < 0) {
		if (errno != ENOENT && errno != EXDEV) {
			err_sys(err, "cannot move %s to %s", path, entry);
			goto out;
		}
		ret = fsutil_rm_rf(path, err); /* another file system */
		goto out;
	}
	ret = fsutil_rm_rf(entry, err);
out:
	free(entry);
	free(trash);
	return ret;
}

static int
flock_wait(int fd)
{
	int r;

	while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	return r;
}

int
state_prune(const char *root, const char *gid, const char *current_did,
    long long max_revisions, int *deleted, struct err *err)
{
	struct revision *revs = NULL;
	size_t nrevs = 0, i, candidates = 0;
	char *group_dir = NULL, *last = NULL, *trash = NULL;
	const char *last_did;
	DIR *dir = NULL;
	struct dirent *de;
	long long extra;
	int ret = -1, removed = 0;

	if (deleted != NULL)
		*deleted = 0;
	if (max_revisions < 1)
		return err_set(err, E_INVALID,
		    "max_revisions is %lld; it must be 1 or more",
		    max_revisions);
	if (state_check_id(gid, "deployment group id", err) < 0)
		return -1;
	group_dir = xasprintf("%s/%s", root, gid);
	trash = xasprintf("%s/%s", root, STATE_TRASH_DIR);
	if (empty_trash(trash, err) < 0 ||
	    state_get_last_successful(root, gid, &last, err) < 0)
		goto out;
	last_did = did_of(last, group_dir);
	dir = opendir(group_dir);
	if (dir == NULL) {
		if (errno == ENOENT) {
			ret = 0;
			goto out;
		}
		err_sys(err, "cannot read %s", group_dir);
		goto out;
	}
	while ((de = fsutil_readdir(dir)) != NULL) {
		struct stat st;

		if (current_did != NULL && strcmp(de->d_name, current_did) == 0)
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			0 ||
		    !S_ISDIR(st.st_mode))
			continue; /* stray files are not revisions (bug 33) */
		candidates++;
		if (last_did != NULL && strcmp(de->d_name, last_did) == 0)
			continue;
		revs = xreallocarray(revs, nrevs + 1, sizeof(*revs));
		revs[nrevs].name = xstrdup(de->d_name);
		revs[nrevs].created_ns = created_ns(dirfd(dir), de->d_name);
		nrevs++;
	}
	/* v1's count: the candidates, the last successful among them, plus
	 * the current revision */
	extra = (long long)candidates - max_revisions + 1;
	if (extra <= 0) {
		ret = 0;
		goto out;
	}
	qsort(revs, nrevs, sizeof(*revs), by_creation);
	for (i = 0; i < nrevs && (long long)i < extra; i++) {
		char *path = xasprintf("%s/%s", group_dir, revs[i].name);
		int r = remove_revision(root, path, err);

		if (r == 0)
			log_info("removed old revision %s (keeping %lld)", path,
			    max_revisions);
		free(path);
		if (r < 0)
			goto out;
		removed++;
	}
	ret = 0;
out:
	if (deleted != NULL)
		*deleted = removed;
	if (dir != NULL)
		closedir(dir);
	for (i = 0; i < nrevs; i++)
		free(revs[i].name);
	free(revs);
	free(last);
	free(group_dir);
	free(trash);
	return ret;
}

/* Open (creating) ROOT/.cdagent-trash/GID.lock, or -1. */
static int
open_lock(const char *root, const char *gid, int create, struct err *err)
{
	char *trash = NULL, *path = NULL;
	int fd = -1;

	if (state_check_id(gid, "deployment group id", err) < 0)
		return -1;
	if (create && (trash = trash_dir(root, err)) == NULL)
		return -1;
	path = xasprintf("%s/%s/%s.lock", root, STATE_TRASH_DIR, gid);
	fd = open(path,
	    create ? O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC
		   : O_RDONLY | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0 && (create || errno != ENOENT))
		err_sys(err, "cannot open %s", path);
	else if (fd >= 0 && flock_wait(fd) < 0) {
		err_sys(err, "cannot lock %s", path);
		close(fd);
		fd = -1;
	}
	free(path);
	free(trash);
	return fd;
}

int
state_prune_wait(const char *root, const char *gid, struct err *err)
{
	int fd;

	errno = 0;
	fd = open_lock(root, gid, 0, err);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	close(fd);
	return 0;
}

/* The retention process: detached, lowest I/O and CPU priority. */
static void __attribute__((noreturn))
prune_child(const char *root, const char *gid, const char *current_did,
    long long max_revisions, int lock_fd)
{
	struct err err = ERR_INIT;
	int null_fd, r;

	if (fork() != 0)
		_exit(0); /* the grandchild is init's, never a zombie of ours */
	(void)setsid();
	null_fd = open("/dev/null", O_RDWR);
	if (null_fd >= 0) {
		(void)dup2(null_fd, 0);
		(void)dup2(null_fd, 1);
		(void)dup2(null_fd, 2);
	}
	/* keep only the lock: no pid file lock, socket or pipe outlives us */
	if (lock_fd > 3)
		(void)close_range(3, (unsigned)lock_fd - 1, 0);
	(void)close_range((unsigned)lock_fd + 1, ~0U, 0);
	(void)syscall(
	    SYS_ioprio_set, STATE_IOPRIO_WHO_PROCESS, 0, STATE_IOPRIO_LOW);
	(void)setpriority(PRIO_PROCESS, 0, 19);
	r = state_prune(root, gid, current_did, max_revisions, NULL, &err);
	_exit(r < 0 ? 1 : 0);
}

int
state_prune_start(const char *root, const char *gid, const char *current_did,
    long long max_revisions, struct err *err)
{
	pid_t pid;
	int lock_fd;

	/* held from here by the child, until its last revision is gone */
	lock_fd = open_lock(root, gid, 1, err);
	if (lock_fd < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		err_sys(err, "cannot start the removal of old revisions");
		close(lock_fd);
		return -1;
	}
	if (pid == 0)
		prune_child(root, gid, current_did, max_revisions, lock_fd);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(lock_fd);
	return 0;
}
