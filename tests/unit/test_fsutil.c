/* Unit tests for fsutil: atomic writes, mkdir -p, contained joins, rm -rf. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"
#include "testutil.h"
#include "xalloc.h"

/* Number of entries in dir besides . and .. */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* fsync() counted (linked with -Wl,--wrap=fsync). */
int __real_fsync(int fd);
int __wrap_fsync(int fd);
static int fsync_calls;

int
__wrap_fsync(int fd)
{
	fsync_calls++;
	return __real_fsync(fd);
}

static void
write_atomic__creates_with_mode(void **state)
{
	const char *dir = *state;
	char *path = xasprintf("%s/out.json", dir);
	struct err err = ERR_INIT;
	struct stat st;
	char *text;

	assert_int_equal(fsutil_write_atomic(path, "{}\n", 3, 0640, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	text = tu_slurp(path);
	assert_string_equal(text, "{}\n");
	assert_int_equal(count_entries(dir), 1);
	free(text);
	free(path);
}

static void
write_atomic__replaces_existing_whole(void **state)
{
	const char *dir = *state;
	char *path = tu_write(dir, "f", "old contents that are longer");
	struct err err = ERR_INIT;
	char *text;

	assert_int_equal(fsutil_write_atomic(path, "new", 3, 0644, &err), 0);
	text = tu_slurp(path);
	assert_string_equal(text, "new");
	assert_int_equal(count_entries(dir), 1);
	free(text);
	free(path);
}

static void
write_atomic__flushes_file_and_directory(void **state)
{
	const char *dir = *state;
	char *path = xasprintf("%s/durable", dir);
	struct err err = ERR_INIT;

	fsync_calls = 0;
	assert_int_equal(fsutil_write_atomic(path, "x", 1, 0644, &err), 0);
	assert_int_equal(fsync_calls, 2);
	free(path);
}

static void
write_replace__replaces_whole_with_mode_without_fsync(void **state)
{
	const char *dir = *state;
	char *path = tu_write(dir, "status", "old contents that are longer");
	struct err err = ERR_INIT;
	struct stat st;
	char *text;

	fsync_calls = 0;
	assert_int_equal(fsutil_write_replace(path, "new", 3, 0640, &err), 0);
	assert_int_equal(fsync_calls, 0);
	text = tu_slurp(path);
	assert_string_equal(text, "new");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(count_entries(dir), 1); /* no temporary left */
	free(text);
	free(path);
}

static void
write_atomic__target_is_directory__original_kept_no_temp(void **state)
{
	/* the same for the durable write and for the plain replace */
	int (*const writers[])(const char *, const void *, size_t, mode_t,
	    struct err *) = { fsutil_write_atomic, fsutil_write_replace };
	const char *dir = *state;
	char *path = xasprintf("%s/sub", dir);
	char *inner;
	size_t i;

	assert_int_equal(mkdir(path, 0755), 0);
	inner = tu_write(path, "keep", "x");
	for (i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
		struct err err = ERR_INIT;

		assert_int_equal(writers[i](path, "y", 1, 0644, &err), -1);
		assert_non_null(strstr(err.msg, path));
		assert_true(tu_exists(inner));
		assert_int_equal(count_entries(dir), 1); /* no temporary */
	}
	free(inner);
	free(path);
}

static void
write_atomic__missing_dir__fails_naming_it(void **state)
{
	const char *dir = *state;
	char *path = xasprintf("%s/no/such/file", dir);
	struct err err = ERR_INIT;

	assert_int_equal(fsutil_write_atomic(path, "y", 1, 0644, &err), -1);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_non_null(strstr(err.msg, "/no/such"));
	free(path);
}

static void
mkdir_p__creates_parents_with_exact_mode(void **state)
{
	const char *dir = *state;
	char *path = xasprintf("%s/a/b/c", dir);
	char *mid = xasprintf("%s/a/b", dir);
	struct err err = ERR_INIT;
	struct stat st;
	mode_t old = umask(0077);

	assert_int_equal(fsutil_mkdir_p(path, 0755, &err), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(mid, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* again: existing directories are fine and left alone */
	assert_int_equal(chmod(mid, 0700), 0);
	assert_int_equal(fsutil_mkdir_p(path, 0755, &err), 0);
	assert_int_equal(stat(mid, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	free(mid);
	free(path);
}

static void
mkdir_p__file_in_the_way__names_it(void **state)
{
	const char *dir = *state;
	char *file = tu_write(dir, "blocker", "x");
	char *path = xasprintf("%s/blocker/sub", dir);
	struct err err = ERR_INIT;

	assert_int_equal(fsutil_mkdir_p(path, 0755, &err), -1);
	assert_non_null(strstr(err.msg, file));
	free(file);
	free(path);
}

static void
mkdir_p__trailing_and_double_slashes__ok(void **state)
{
	const char *dir = *state;
	char *path = xasprintf("%s//x///y/", dir);
	char *check = xasprintf("%s/x/y", dir);
	struct err err = ERR_INIT;
	struct stat st;

	assert_int_equal(fsutil_mkdir_p(path, 0700, &err), 0);
	assert_int_equal(stat(check, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	free(check);
	free(path);
}

/* Join and expect success with the given result (relative to dir). */
static void
expect_join(const char *dir, const char *rel, const char *want_rel)
{
	struct err err = ERR_INIT;
	char *out = NULL;
	char *want = want_rel[0] != '\0' ? xasprintf("%s/%s", dir, want_rel)
					 : xstrdup(dir);

	if (fsutil_join_safe(dir, rel, &out, &err) < 0)
		fail_msg("join '%s' failed: %s", rel, err.msg);
	assert_string_equal(out, want);
	free(out);
	free(want);
}

/* Join and expect E_UNSAFE with the path in the message. */
static void
expect_unsafe(const char *dir, const char *rel)
{
	struct err err = ERR_INIT;
	static char untouched[] = "untouched";
	char *out = untouched;

	assert_int_equal(fsutil_join_safe(dir, rel, &out, &err), -1);
	assert_null(out);
	if (err.code != E_UNSAFE)
		fail_msg("join '%s': code %s, msg %s", rel,
		    err_code_name(err.code), err.msg);
	assert_non_null(strstr(err.msg, rel));
}

static void
join_safe__plain_paths__joined(void **state)
{
	const char *dir = *state;

	expect_join(dir, "a/b.txt", "a/b.txt");
	expect_join(dir, "./a//b/", "a/b");
	expect_join(dir, "", "");
	expect_join(dir, ".", "");
	expect_join(dir, "..hidden/x..y", "..hidden/x..y");
}

static void
join_safe__absolute_or_dotdot__refused(void **state)
{
	const char *dir = *state;

	expect_unsafe(dir, "/etc/passwd");
	expect_unsafe(dir, "../x");
	expect_unsafe(dir, "a/../../x");
	expect_unsafe(dir, "a/..");
}

static void
join_safe__symlink_inside__allowed(void **state)
{
	const char *dir = *state;
	char *sub = xasprintf("%s/real", dir);
	char *link = xasprintf("%s/link", dir);
	char *link2 = xasprintf("%s/real/up", dir);

	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(symlink("real", link), 0);
	assert_int_equal(symlink("../real", link2), 0);
	expect_join(dir, "link/file", "link/file");
	expect_join(dir, "real/up/x", "real/up/x");
	free(sub);
	free(link);
	free(link2);
}

static void
join_safe__symlink_escapes__refused(void **state)
{
	const char *dir = *state;
	char *abs_link = xasprintf("%s/etc", dir);
	char *rel_link = xasprintf("%s/up", dir);
	char *dangling = xasprintf("%s/dangle", dir);
	char *sub = xasprintf("%s/d", dir);
	char *deep = xasprintf("%s/d/deep", dir);

	assert_int_equal(symlink("/etc", abs_link), 0);
	assert_int_equal(symlink("..", rel_link), 0);
	assert_int_equal(symlink("/nonexistent/target", dangling), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(symlink("../../..", deep), 0);
	expect_unsafe(dir, "etc/passwd");
	expect_unsafe(dir, "etc");
	expect_unsafe(dir, "up/x");
	expect_unsafe(dir, "dangle");
	expect_unsafe(dir, "d/deep/tmp");
	free(abs_link);
	free(rel_link);
	free(dangling);
	free(sub);
	free(deep);
}

static void
join_safe__symlink_loop__refused(void **state)
{
	const char *dir = *state;
	char *a = xasprintf("%s/a", dir);
	char *b = xasprintf("%s/b", dir);

	assert_int_equal(symlink("b", a), 0);
	assert_int_equal(symlink("a", b), 0);
	expect_unsafe(dir, "a/x");
	free(a);
	free(b);
}

static void
join_safe__missing_root__lexical(void **state)
{
	const char *dir = *state;
	char *root = xasprintf("%s/not-yet", dir);

	expect_join(root, "x/y", "x/y");
	free(root);
}

/* Compare fsutil_normalise's result and free it. */
static void
expect_normalised(const char *in, int keep, const char *want)
{
	char *out = fsutil_normalise(in, keep);

	assert_string_equal(out, want);
	free(out);
}

static void
normalise__lexical_like_expand_path(void **state)
{
	expect_normalised("/srv//app/./x/", 0, "/srv/app/x");
	expect_normalised("relative/dir", 0, "/relative/dir");
	expect_normalised("/a/b/../c", 0, "/a/c");
	expect_normalised("/../../etc", 0, "/etc");
	expect_normalised("", 0, "/");
	expect_normalised("/", 1, "/");
	expect_normalised("/a/./b/../c d/", 1, "/a/c d/");
	expect_normalised("/a/./b/../c d", 1, "/a/c d");
}

static void
rm_rf__removes_tree(void **state)
{
	const char *dir = *state;
	char *top = xasprintf("%s/top", dir);
	char *deep = xasprintf("%s/top/a/b/c", dir);
	struct err err = ERR_INIT;
	char *f;

	assert_int_equal(fsutil_mkdir_p(deep, 0755, &err), 0);
	f = tu_write(deep, "file", "x");
	free(f);
	f = tu_write(top, "other", "y");
	free(f);
	assert_int_equal(fsutil_rm_rf(top, &err), 0);
	assert_false(tu_exists(top));
	free(top);
	free(deep);
}

static void
remove_nofollow__links_on_the_way_never_followed(void **state)
{
	const char *dir = *state;
	char *outside = xasprintf("%s/outside", dir);
	char *victim = NULL, *ours = NULL;
	char *link = xasprintf("%s/link", dir);
	char *through = xasprintf("%s/link/precious", dir);
	char *sub = xasprintf("%s/sub", dir);
	struct err err = ERR_INIT;

	assert_int_equal(mkdir(outside, 0755), 0);
	victim = tu_write(outside, "precious", "keep me");
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	ours = tu_write(sub, "f", "ours");

	/* reachable only through a link: nothing removed */
	assert_int_equal(fsutil_remove_nofollow(through, &err), 0);
	assert_true(tu_exists(victim));
	/* a directory that is not empty stays; a file goes; then the dir */
	assert_int_equal(fsutil_remove_nofollow(sub, &err), 0);
	assert_int_equal(fsutil_remove_nofollow(ours, &err), 1);
	assert_false(tu_exists(ours));
	assert_int_equal(fsutil_remove_nofollow(sub, &err), 1);
	assert_int_equal(fsutil_remove_nofollow(sub, &err), 0); /* gone */
	/* the link itself goes, not what it points to */
	assert_int_equal(fsutil_remove_nofollow(link, &err), 1);
	assert_true(tu_exists(victim));
	assert_int_equal(fsutil_remove_nofollow("relative/x", &err), -1);
	free(victim);
	free(ours);
	free(outside);
	free(link);
	free(through);
	free(sub);
}

static void
rm_rf__never_follows_symlinks(void **state)
{
	const char *dir = *state;
	char *outside = xasprintf("%s/outside", dir);
	char *victim = NULL;
	char *top = xasprintf("%s/top", dir);
	char *link = xasprintf("%s/top/to-outside", dir);
	char *top_link = xasprintf("%s/toplink", dir);
	struct err err = ERR_INIT;

	assert_int_equal(mkdir(outside, 0755), 0);
	victim = tu_write(outside, "precious", "keep me");
	assert_int_equal(mkdir(top, 0755), 0);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(symlink(outside, top_link), 0);

	assert_int_equal(fsutil_rm_rf(top, &err), 0);
	assert_false(tu_exists(top));
	assert_true(tu_exists(victim));

	/* the path itself a symlink: only the link goes */
	assert_int_equal(fsutil_rm_rf(top_link, &err), 0);
	assert_false(tu_exists(top_link));
	assert_true(tu_exists(victim));
	free(victim);
	free(outside);
	free(top);
	free(link);
	free(top_link);
}

static void
rm_rf__missing__succeeds_and_refuses_root(void **state)
{
	const char *dir = *state;
	char *missing = xasprintf("%s/nothing-here", dir);
	struct err err = ERR_INIT;

	assert_int_equal(fsutil_rm_rf(missing, &err), 0);
	assert_int_equal(fsutil_rm_rf("/", &err), -1);
	assert_int_equal(err.code, E_UNSAFE);
	err_clear(&err);
	assert_int_equal(fsutil_rm_rf("", &err), -1);
	free(missing);
}

static void
read_file__limits_and_types(void **state)
{
	const char *dir = *state;
	char *path = tu_write(dir, "f", "0123456789");
	char *missing = xasprintf("%s/missing", dir);
	struct err err = ERR_INIT;
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(fsutil_read_file(path, 10, &text, &len, &err), 0);
	assert_int_equal(len, 10);
	assert_string_equal(text, "0123456789");
	free(text);
	assert_int_equal(fsutil_read_file(path, 9, &text, &len, &err), -1);
	assert_int_equal(err.code, E_LIMIT);
	assert_null(text);
	err_clear(&err);
	assert_int_equal(fsutil_read_file(dir, 9, &text, &len, &err), -1);
	assert_int_equal(err.code, E_INVALID);
	err_clear(&err);
	assert_int_equal(fsutil_read_file(missing, 9, &text, &len, &err), -1);
	assert_int_equal(err.code, E_NOTFOUND);
	assert_non_null(strstr(err.msg, missing));
	free(path);
	free(missing);
}

static void
readdir__skips_dot_entries_only__end_clears_errno(void **state)
{
	const char *dir = *state;
	char *sub = xasprintf("%s/b", dir);
	int seen_hidden = 0, seen_a = 0, seen_b = 0, n = 0;
	struct dirent *de;
	DIR *dp;

	free(tu_write(dir, "a", "x"));
	free(tu_write(dir, ".hidden", "x"));
	assert_int_equal(mkdir(sub, 0755), 0);
	dp = opendir(dir);
	assert_non_null(dp);
	errno = EIO;
	while ((de = fsutil_readdir(dp)) != NULL) {
		n++;
		seen_hidden += strcmp(de->d_name, ".hidden") == 0;
		seen_a += strcmp(de->d_name, "a") == 0;
		seen_b += strcmp(de->d_name, "b") == 0;
		errno = EIO; /* the loop's own calls may leave errno set */
	}
	assert_int_equal(errno, 0);
	assert_int_equal(n, 3);
	assert_int_equal(seen_hidden + seen_a + seen_b, 3);
	closedir(dp);
	free(sub);
}

static void
readdir__read_fails__null_with_errno(void **state)
{
	const char *dir = *state;
	DIR *dp;

	free(tu_write(dir, "a", "x"));
	dp = opendir(dir);
	assert_non_null(dp);
	/* the descriptor gone under the stream: getdents fails with EBADF */
	assert_int_equal(close(dirfd(dp)), 0);
	assert_null(fsutil_readdir(dp));
	assert_int_equal(errno, EBADF);
	closedir(dp);
}

#define T(name)                                                                \
	cmocka_unit_test_setup_teardown(                                       \
	    name, tu_setup_tmpdir, tu_teardown_tmpdir)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(readdir__skips_dot_entries_only__end_clears_errno),
		T(readdir__read_fails__null_with_errno),
		T(write_atomic__creates_with_mode),
		T(write_atomic__replaces_existing_whole),
		T(write_atomic__flushes_file_and_directory),
		T(write_replace__replaces_whole_with_mode_without_fsync),
		T(write_atomic__target_is_directory__original_kept_no_temp),
		T(write_atomic__missing_dir__fails_naming_it),
		T(mkdir_p__creates_parents_with_exact_mode),
		T(mkdir_p__file_in_the_way__names_it),
		T(mkdir_p__trailing_and_double_slashes__ok),
		T(join_safe__plain_paths__joined),
		T(join_safe__absolute_or_dotdot__refused),
		T(join_safe__symlink_inside__allowed),
		T(join_safe__symlink_escapes__refused),
		T(join_safe__symlink_loop__refused),
		T(join_safe__missing_root__lexical),
		T(normalise__lexical_like_expand_path),
		T(rm_rf__removes_tree),
		T(rm_rf__never_follows_symlinks),
		T(remove_nofollow__links_on_the_way_never_followed),
		T(rm_rf__missing__succeeds_and_refuses_root),
		T(read_file__limits_and_types),
	};

	return cmocka_run_group_tests_name("fsutil", tests, NULL, NULL);
}
