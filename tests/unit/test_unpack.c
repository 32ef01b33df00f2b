/*
 * Unit tests for unpack.  The bundles are generated once per run by
 * tests/data/gen-bundles.py into a scratch directory: good trees in every
 * format, the strip rules, and a hostile corpus that must be refused with
 * nothing written anywhere but the (removed) staging directory.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "testutil.h"
#include "unpack.h"
#include "xalloc.h"

#define MTIME 1500000000     /* gen-bundles.py: every entry's mtime */
#define DIR_MTIME 1400000000 /* ... and deep/a's */
#define MIB (1024ULL * 1024)

/* The generated corpus, shared by every test. */
static struct {
	char *tmp;
	char *corpus;
	char *outside; /* the "absolute path" cases point in here */
} fx;

/* One test's scratch space: WORK/droot/deployment-archive. */
struct work {
	char *dir;
	char *droot;
	char *archive;
	const void *row; /* a table test's case */
};

static int
run_generator(const char *outdir, const char *outside)
{
	const char *top = getenv("TOP_SRCDIR");
	char *script =
	    xasprintf("%s/tests/data/gen-bundles.py", top != NULL ? top : ".");
	pid_t pid = fork();
	int status = -1;

	if (pid == 0) {
		execl("/usr/bin/python3", "python3", script, "--outside",
		    outside, outdir, (char *)NULL);
		_exit(127);
	}
	free(script);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
group_setup(void **state)
{
	fx.tmp = tu_mkdtemp();
	fx.corpus = xasprintf("%s/corpus", fx.tmp);
	fx.outside = xasprintf("%s/outside", fx.tmp);
	if (mkdir(fx.outside, 0755) < 0)
		return -1;
	free(tu_write(fx.outside, "passwd", "root:x:0:0::/root:/bin/sh\n"));
	if (run_generator(fx.corpus, fx.outside) < 0) {
		fprintf(stderr, "gen-bundles.py failed\n");
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	tu_rmdir(fx.tmp);
	free(fx.corpus);
	free(fx.outside);
	return 0;
}

static int
setup(void **state)
{
	struct work *w = xcalloc(1, sizeof(*w));

	w->row = *state; /* a table case, or NULL */
	w->dir = tu_mkdtemp();
	w->droot = xasprintf("%s/droot", w->dir);
	w->archive = xasprintf("%s/deployment-archive", w->droot);
	assert_int_equal(mkdir(w->droot, 0755), 0);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct work *w = *state;

	tu_rmdir(w->dir);
	free(w->droot);
	free(w->archive);
	free(w);
	return 0;
}

static char *
corpus(const char *name)
{
	return xasprintf("%s/%s", fx.corpus, name);
}

/* Append a line per entry below dir (recursively, sorted, no links
 * followed): "rel type mode size [target|content]". */
static void
snapshot_into(const char *dir, const char *rel, char **out)
{
	struct dirent **names = NULL;
	char *path =
	    rel[0] != '\0' ? xasprintf("%s/%s", dir, rel) : xstrdup(dir);
	int n = scandir(path, &names, NULL, alphasort);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char *child_rel, *child, *line, extra[256] = "";
		struct stat st;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			free(names[i]);
			continue;
		}
		child_rel = rel[0] != '\0' ? xasprintf("%s/%s", rel, name)
					   : xstrdup(name);
		child = xasprintf("%s/%s", dir, child_rel);
		assert_int_equal(lstat(child, &st), 0);
		if (S_ISLNK(st.st_mode)) {
			ssize_t len = readlink(child, extra, sizeof(extra) - 1);

			assert_true(len >= 0);
			extra[len] = '\0';
		} else if (S_ISREG(st.st_mode) && st.st_size < 200) {
			FILE *f = fopen(child, "r");
			size_t len;

			assert_non_null(f);
			len = fread(extra, 1, sizeof(extra) - 1, f);
			extra[len] = '\0';
			fclose(f);
		}
		line = xasprintf("%s%s %o %lld %s\n", *out, child_rel,
		    (unsigned)st.st_mode, (long long)st.st_size, extra);
		free(*out);
		*out = line;
		if (S_ISDIR(st.st_mode))
			snapshot_into(dir, child_rel, out);
		free(child_rel);
		free(child);
		free(names[i]);
	}
	free(names);
	free(path);
}

static char *
snapshot(const char *dir)
{
	char *out = xstrdup("");

	snapshot_into(dir, "", &out);
	return out;
}

static void
make_old_archive(struct work *w)
{
	assert_int_equal(mkdir(w->archive, 0755), 0);
	free(tu_write(w->archive, "marker", "old archive\n"));
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- hostile bundles: one table, one test per row ------------------------ */

struct hostile_case {
	const char *test_name;
	const char *bundle;
	enum unpack_format format;
	uint64_t max_bytes;
	uint64_t max_entries;
	enum err_code code;
	const char *entry; /* named in the message; "@" = the outside dir */
	const char *why;   /* a part of the message */
};

#define TAR UNPACK_TAR
#define TGZ UNPACK_TGZ
#define ZIP UNPACK_ZIP
#define DIRB UNPACK_DIRECTORY

static struct hostile_case hostile_cases[] = {
	{ "tar_absolute_name__rejected", "abs-path.tar", TAR, 0, 0, E_UNSAFE,
	    "@/abs-evil", "is an absolute path" },
	{ "tar_dotdot_name__rejected", "dotdot.tar", TAR, 0, 0, E_UNSAFE,
	    "../evil", "'..' component" },
	{ "tar_dotdot_inside_name__rejected", "dotdot-deep.tar", TAR, 0, 0,
	    E_UNSAFE, "a/../../evil", "'..' component" },
	{ "tar_symlink_to_absolute_then_file__rejected",
	    "symlink-abs-then-file.tar", TAR, 0, 0, E_UNSAFE, "link",
	    "absolute path, outside the archive" },
	{ "tar_symlink_up_then_file__rejected", "symlink-up-then-file.tar", TAR,
	    0, 0, E_UNSAFE, "up", "leads outside the archive" },
	{ "tar_file_through_inside_symlink__rejected",
	    "symlink-inside-then-file.tar", TAR, 0, 0, E_UNSAFE, "inner/evil",
	    "passes through the symbolic link 'inner'" },
	{ "tar_symlink_to_etc__rejected", "symlink-abs.tar", TAR, 0, 0,
	    E_UNSAFE, "abslink", "'/etc': its target is an absolute path" },
	{ "tar_relative_symlink_escaping__rejected", "symlink-rel-escape.tar",
	    TAR, 0, 0, E_UNSAFE, "a/b", "leads outside the archive" },
	{ "tar_symlink_dotdot_after_name__rejected",
	    "symlink-dotdot-after-name.tar", TAR, 0, 0, E_UNSAFE, "d/s",
	    "'..' after a name" },
	{ "tar_hardlink_to_absolute__rejected", "hardlink-abs.tar", TAR, 0, 0,
	    E_UNSAFE, "hard", "is an absolute path" },
	{ "tar_hardlink_dotdot__rejected", "hardlink-dotdot.tar", TAR, 0, 0,
	    E_UNSAFE, "hard", "'..' component" },
	{ "tar_hardlink_to_missing__rejected", "hardlink-missing.tar", TAR, 0,
	    0, E_UNSAFE, "hard", "not a regular file unpacked before it" },
	{ "tar_hardlink_through_symlink__rejected",
	    "hardlink-through-symlink.tar", TAR, 0, 0, E_UNSAFE, "hard",
	    "passes through a symbolic link" },
	{ "tar_hardlink_to_directory__rejected", "hardlink-to-dir.tar", TAR, 0,
	    0, E_UNSAFE, "hard", "not a regular file" },
	{ "tar_char_device__rejected", "chardev.tar", TAR, 0, 0, E_UNSAFE,
	    "null", "a character device" },
	{ "tar_block_device__rejected", "blockdev.tar", TAR, 0, 0, E_UNSAFE,
	    "sda", "a block device" },
	{ "tar_fifo__rejected", "fifo.tar", TAR, 0, 0, E_UNSAFE, "pipe",
	    "a fifo" },
	{ "tar_file_under_file__rejected", "file-then-dir.tar", TAR, 0, 0,
	    E_UNSAFE, "a/b", "'a', which is not a directory" },
	{ "tar_file_over_directory__rejected", "dir-then-file.tar", TAR, 0, 0,
	    E_UNSAFE, "d", "made it a directory" },
	{ "tar_directory_over_symlink__rejected", "symlink-then-dir.tar", TAR,
	    0, 0, E_UNSAFE, "s/", "made it a symbolic link" },
	{ "tar_file_named_dot__rejected", "dot-as-file.tar", TAR, 0, 0,
	    E_UNSAFE, ".", "its name is empty" },
	{ "tar_directory_name_with_newline__rejected", "newline-dir.tar", TAR,
	    0, 0, E_UNSAFE, "app\\n/etc/", "holds a line break" },
	{ "tar_file_name_with_cr__rejected", "cr-file.tar", TAR, 0, 0, E_UNSAFE,
	    "a\\rb", "holds a line break" },
	{ "tgz_gzip_bomb_one_entry__limit_before_writing", "bomb.tgz", TGZ,
	    10 * MIB, 0, E_LIMIT, "zeros.bin", "declares 1073741824 bytes" },
	{ "tgz_gzip_bomb_many_entries__limit_at_10_mib", "bomb-many.tgz", TGZ,
	    10 * MIB, 0, E_LIMIT, "zeros-010.bin", "10485760-byte limit" },
	{ "zip_lying_sizes__limit_counts_real_bytes", "zip-lying-bomb.zip", ZIP,
	    10 * MIB, 0, E_LIMIT, "bomb.bin",
	    "goes over the limit of 10485760 bytes" },
	{ "tar_sparse_hole_of_1_tib__limit", "sparse-bomb.tar", TAR, 10 * MIB,
	    0, E_LIMIT, "sparse.bin", "declares 1099511627776 bytes" },
	{ "tar_5000_entries_limit_1000__limit", "many-entries.tar", TAR, 0,
	    1000, E_LIMIT, "many/1000", "more than 1000 entries" },
	{ "tgz_truncated_in_data__parse_error_names_entry", "truncated.tgz",
	    TGZ, 0, 0, E_PARSE, "big.bin", "truncated gzip input" },
	{ "tgz_not_a_tar__parse_error", "not-a-tar.tgz", TGZ, 0, 0, E_PARSE,
	    NULL, "Unrecognized archive format" },
	{ "tar_zero_bytes__rejected", "empty.tar", TAR, 0, 0, E_PARSE, NULL,
	    "empty (0 bytes)" },
	{ "zip_corrupt_data__parse_error_names_entry", "corrupt.zip", ZIP, 0, 0,
	    E_PARSE, "scripts/start.sh", "cannot read its data" },
	{ "zip_not_a_zip__parse_error", "not-a-zip.zip", ZIP, 0, 0, E_PARSE,
	    NULL, "Unrecognized archive format" },
	{ "zip_dotdot_name__rejected", "zip-dotdot.zip", ZIP, 0, 0, E_UNSAFE,
	    "../evil", "'..' component" },
	{ "zip_absolute_name__rejected", "zip-abs.zip", ZIP, 0, 0, E_UNSAFE,
	    "@/zip-evil", "is an absolute path" },
	{ "zip_symlink_escaping__rejected", "zip-symlink-escape.zip", ZIP, 0, 0,
	    E_UNSAFE, "esc", "leads outside the archive" },
	{ "zip_file_through_symlink__rejected", "zip-symlink-then-file.zip",
	    ZIP, 0, 0, E_UNSAFE, "zl/evil",
	    "passes through the symbolic link 'zl'" },
	{ "zip_socket__rejected", "zip-socket.zip", ZIP, 0, 0, E_UNSAFE, "sock",
	    "a socket" },
	{ "zip_char_device__rejected", "zip-chardev.zip", ZIP, 0, 0, E_UNSAFE,
	    "null", "a character device" },
	{ "zip_directory_name_with_newline__rejected", "zip-newline-dir.zip",
	    ZIP, 0, 0, E_UNSAFE, "app\\n/etc/", "holds a line break" },
	{ "directory_bundle_dir_with_newline__rejected", "hostile-dir-newline",
	    DIRB, 0, 0, E_UNSAFE, "app\\n", "holds a line break" },
	{ "directory_symlink_escaping__rejected", "hostile-dir-symlink", DIRB,
	    0, 0, E_UNSAFE, "sub/escape", "leads outside the archive" },
	{ "directory_with_fifo__rejected", "hostile-dir-fifo", DIRB, 0, 0,
	    E_UNSAFE, "pipe", "a fifo" },
	{ "tgz_symlink_leaving_after_strip__rejected", "strip-escape.tgz", TGZ,
	    0, 0, E_UNSAFE, "top/back", "once the top directory 'top'" },
};

#define NHOSTILE (sizeof(hostile_cases) / sizeof(hostile_cases[0]))

static void
hostile__rejected_and_nothing_written(void **state)
{
	struct work *w = *state;
	const struct hostile_case *hc = w->row;
	struct unpack_opts opts = { .max_bytes = hc->max_bytes,
		.max_entries = hc->max_entries };
	struct unpack_stats stats;
	struct err err = ERR_INIT;
	char *bundle = corpus(hc->bundle);
	char *outside_before = snapshot(fx.outside);
	char *corpus_before = snapshot(fx.corpus);
	char *droot_before, *after, *quoted, *marker;
	double started;

	make_old_archive(w);
	droot_before = snapshot(w->droot);
	started = now_seconds();
	assert_int_equal(
	    unpack_bundle(bundle, hc->format, w->archive, &opts, &stats, &err),
	    -1);
	print_message("# %s\n", err.msg);
	assert_string_equal(err_code_name(err.code), err_code_name(hc->code));
	assert_non_null(strstr(err.msg, bundle));
	assert_non_null(strstr(err.msg, hc->why));
	if (hc->entry != NULL) {
		quoted = hc->entry[0] == '@'
		    ? xasprintf("entry '%s%s'", fx.outside, hc->entry + 1)
		    : xasprintf("entry '%s'", hc->entry);
		assert_non_null(strstr(err.msg, quoted));
		free(quoted);
	}
	if (hc->code == E_UNSAFE || hc->code == E_LIMIT)
		assert_non_null(strstr(err.msg, "the bundle was rejected"));
	if (hc->max_bytes != 0) {
		/* a bomb stops early: at most the limit was written */
		assert_true(stats.bytes <= hc->max_bytes);
		assert_true(now_seconds() - started < 20.0);
	}
	if (hc->max_entries != 0)
		assert_int_equal(stats.entries, hc->max_entries);

	/* staging gone, old archive untouched, nothing new anywhere */
	after = snapshot(w->droot);
	assert_string_equal(after, droot_before);
	free(after);
	marker = xasprintf("%s/marker", w->archive);
	after = tu_slurp(marker);
	assert_string_equal(after, "old archive\n");
	free(after);
	free(marker);
	after = snapshot(fx.outside);
	assert_string_equal(after, outside_before);
	free(after);
	after = snapshot(fx.corpus);
	assert_string_equal(after, corpus_before);
	free(after);
	assert_int_equal(tu_count_tree(w->dir), 3); /* droot, archive, marker */

	free(droot_before);
	free(outside_before);
	free(corpus_before);
	free(bundle);
}

/* --- good bundles -------------------------------------------------------- */

enum flavour { FL_TAR = 1, FL_ZIP = 2, FL_DIR = 4, FL_ALL = 7 };

struct expect {
	const char *path;
	char type; /* 'f', 'd', 'l' */
	mode_t mode;
	mode_t zip_mode;  /* 0: as mode */
	const char *data; /* file content or link target */
	unsigned flavours;
};

static const struct expect good_tree[] = {
	{ "appspec.yml", 'f', 0644, 0, "version: 0.0\nos: linux\n", FL_ALL },
	{ ".hidden", 'f', 0600, 0, "dot\n", FL_ALL },
	{ "scripts", 'd', 0755, 0, NULL, FL_ALL },
	{ "scripts/start.sh", 'f', 0755, 0, "#!/bin/sh\necho start\n", FL_ALL },
	{ "deep", 'd', 0755, 0, NULL, FL_ALL },
	{ "deep/a", 'd', 0755, 0, NULL, FL_ALL },
	{ "deep/a/b", 'd', 0755, 0, NULL, FL_ALL },
	{ "deep/a/b/c", 'd', 0755, 0, NULL, FL_ALL },
	{ "deep/a/b/c/leaf.txt", 'f', 0644, 0, "leaf\n", FL_ALL },
	{ "deep/a/up-link", 'l', 0, 0, "../../appspec.yml", FL_ALL },
	{ "link-to-leaf", 'l', 0, 0, "deep/a/b/c/leaf.txt", FL_ALL },
	{ "setuid-tool", 'f', 0755, 0, "#!/bin/sh\n", FL_ALL },
	{ "setgid-dir", 'd', 0775, 0750, NULL, FL_ALL },
	{ "sticky", 'd', 01777, 0, NULL, FL_ALL },
	{ "readonly", 'd', 0555, 0, NULL, FL_ALL },
	{ "readonly/file.txt", 'f', 0444, 0, "ro\n", FL_ALL },
	{ "empty", 'f', 0644, 0, "", FL_ALL },
	{ "donn\xc3\xa9"
	  "es",
	    'd', 0755, 0, NULL, FL_ALL },
	{ "donn\xc3\xa9"
	  "es/\xc3\xa9t\xc3\xa9.txt",
	    'f', 0644, 0, "utf8\n", FL_ALL },
	{ "hard.txt", 'f', 0644, 0, "version: 0.0\nos: linux\n",
	    FL_TAR | FL_DIR },
	{ "windows-dir", 'd', 0755, 0, NULL, FL_ZIP },
	{ "windows-dir/notes.txt", 'f', 0644, 0, "crlf\r\n", FL_ZIP },
};

#define NGOOD (sizeof(good_tree) / sizeof(good_tree[0]))

/* The archive directory holds exactly good_tree for this flavour. */
static void
check_good_tree(const char *root, enum flavour flavour)
{
	struct stat st, hard, spec;
	int expected = 0;

	assert_int_equal(lstat(root, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	for (size_t i = 0; i < NGOOD; i++) {
		const struct expect *e = &good_tree[i];
		char *path;
		mode_t mode;

		if (!(e->flavours & flavour))
			continue;
		expected++;
		path = xasprintf("%s/%s", root, e->path);
		if (lstat(path, &st) != 0)
			fail_msg("%s is missing", e->path);
		mode = flavour == FL_ZIP && e->zip_mode != 0 ? e->zip_mode
							     : e->mode;
		switch (e->type) {
		case 'f': {
			char *text = tu_slurp(path);

			assert_true(S_ISREG(st.st_mode));
			assert_string_equal(text, e->data);
			free(text);
			if ((st.st_mode & 07777) != mode)
				fail_msg("%s: mode %04o, want %04o", e->path,
				    (unsigned)(st.st_mode & 07777),
				    (unsigned)mode);
			if (flavour != FL_ZIP)
				assert_int_equal(st.st_mtime, MTIME);
			break;
		}
		case 'd':
			assert_true(S_ISDIR(st.st_mode));
			if ((st.st_mode & 07777) != mode)
				fail_msg("%s: mode %04o, want %04o", e->path,
				    (unsigned)(st.st_mode & 07777),
				    (unsigned)mode);
			break;
		case 'l': {
			char target[256];
			ssize_t len =
			    readlink(path, target, sizeof(target) - 1);

			assert_true(S_ISLNK(st.st_mode));
			assert_true(len > 0);
			target[len] = '\0';
			assert_string_equal(target, e->data);
			break;
		}
		}
		free(path);
	}
	assert_int_equal(tu_count_tree(root), expected);

	/* directory mtimes are applied after their contents */
	{
		char *deep_a = xasprintf("%s/deep/a", root);

		assert_int_equal(lstat(deep_a, &st), 0);
		if (flavour != FL_ZIP)
			assert_int_equal(st.st_mtime, DIR_MTIME);
		free(deep_a);
	}
	if (flavour != FL_ZIP) {
		char *h = xasprintf("%s/hard.txt", root);
		char *s = xasprintf("%s/appspec.yml", root);

		assert_int_equal(lstat(h, &hard), 0);
		assert_int_equal(lstat(s, &spec), 0);
		/* a tar hardlink shares the inode; a directory copy doesn't */
		if (flavour == FL_TAR)
			assert_true(hard.st_ino == spec.st_ino);
		else
			assert_true(hard.st_ino != spec.st_ino);
		free(h);
		free(s);
	}
}

static void
unpack_ok(struct work *w, const char *name, enum unpack_format format,
    const struct unpack_opts *opts, struct unpack_stats *stats)
{
	struct err err = ERR_INIT;
	char *bundle = corpus(name);

	if (unpack_bundle(bundle, format, w->archive, opts, stats, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	free(bundle);
}

/* Only the archive directory is left beside it: no staging leftovers. */
static void
assert_droot_clean(struct work *w)
{
	struct dirent **names = NULL;
	int n = scandir(w->droot, &names, NULL, alphasort);

	assert_int_equal(n, 3);
	assert_string_equal(names[2]->d_name, "deployment-archive");
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void
tar_good__exact_tree(void **state)
{
	struct work *w = *state;
	struct unpack_stats stats;

	unpack_ok(w, "good.tar", UNPACK_TAR, NULL, &stats);
	check_good_tree(w->archive, FL_TAR);
	assert_droot_clean(w);
	assert_int_equal(stats.entries, 17);
	assert_int_equal(stats.bytes, 71);
	assert_false(stats.stripped_top_dir);
}

static void
tgz_good__exact_tree(void **state)
{
	struct work *w = *state;

	unpack_ok(w, "good.tgz", UNPACK_TGZ, NULL, NULL);
	check_good_tree(w->archive, FL_TAR);
	assert_droot_clean(w);
}

static void
tar_bzip2_and_xz__read_as_tar(void **state)
{
	struct work *w = *state;

	unpack_ok(w, "good.tar.bz2", UNPACK_TAR, NULL, NULL);
	check_good_tree(w->archive, FL_TAR);
	unpack_ok(w, "good.tar.xz", UNPACK_TGZ, NULL, NULL);
	check_good_tree(w->archive, FL_TAR);
	assert_droot_clean(w);
}

static void
zip_good__exact_tree(void **state)
{
	struct work *w = *state;
	struct unpack_stats stats;

	unpack_ok(w, "good.zip", UNPACK_ZIP, NULL, &stats);
	check_good_tree(w->archive, FL_ZIP);
	assert_droot_clean(w);
	assert_int_equal(stats.entries, 18);
}

static void
directory_good__exact_tree(void **state)
{
	struct work *w = *state;

	unpack_ok(w, "good-dir", UNPACK_DIRECTORY, NULL, NULL);
	check_good_tree(w->archive, FL_DIR);
	assert_droot_clean(w);
}

static void
directory_bundle__replaces_old_archive_not_merged(void **state)
{
	struct work *w = *state;
	char *stale = xasprintf("%s/marker", w->archive);

	make_old_archive(w);
	unpack_ok(w, "good-dir", UNPACK_DIRECTORY, NULL, NULL);
	assert_false(tu_exists(stale)); /* v1 bug 31 */
	check_good_tree(w->archive, FL_DIR);
	free(stale);
}

static void
tar_bundle__replaces_old_archive(void **state)
{
	struct work *w = *state;
	char *stale = xasprintf("%s/marker", w->archive);

	make_old_archive(w);
	unpack_ok(w, "good.tgz", UNPACK_TGZ, NULL, NULL);
	assert_false(tu_exists(stale));
	check_good_tree(w->archive, FL_TAR);
	assert_droot_clean(w);
	free(stale);
}

static void
archive_dir_is_symlink__replaced_target_untouched(void **state)
{
	struct work *w = *state;
	char *elsewhere = xasprintf("%s/elsewhere", w->dir);
	char *before, *after;
	struct stat st;

	assert_int_equal(mkdir(elsewhere, 0755), 0);
	free(tu_write(elsewhere, "keep", "keep\n"));
	assert_int_equal(symlink(elsewhere, w->archive), 0);
	before = snapshot(elsewhere);
	unpack_ok(w, "good.tgz", UNPACK_TGZ, NULL, NULL);
	assert_int_equal(lstat(w->archive, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	after = snapshot(elsewhere);
	assert_string_equal(after, before);
	free(before);
	free(after);
	free(elsewhere);
}

static void
zip_with_no_entries__empty_archive(void **state)
{
	struct work *w = *state;
	struct unpack_stats stats;

	make_old_archive(w);
	unpack_ok(w, "empty.zip", UNPACK_ZIP, NULL, &stats);
	assert_int_equal(tu_count_tree(w->archive), 0);
	assert_int_equal(stats.entries, 0);
}

static void
duplicates__later_entry_replaces_without_following(void **state)
{
	struct work *w = *state;
	char *path, *text;
	struct stat st;

	unpack_ok(w, "duplicates.tar", UNPACK_TAR, NULL, NULL);
	path = xasprintf("%s/f", w->archive);
	text = tu_slurp(path);
	assert_string_equal(text, "two\n");
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(text);
	free(path);
	/* the link "s" was replaced by a file, not written through */
	path = xasprintf("%s/s", w->archive);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	text = tu_slurp(path);
	assert_string_equal(text, "data\n");
	free(text);
	free(path);
	path = xasprintf("%s/target", w->archive);
	text = tu_slurp(path);
	assert_string_equal(text, "orig\n");
	free(text);
	free(path);
	/* a repeated directory keeps its contents and takes the last mode */
	path = xasprintf("%s/d", w->archive);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	free(path);
	path = xasprintf("%s/d/x", w->archive);
	assert_true(tu_exists(path));
	free(path);
}

static void
sparse_tar__holes_kept_and_counted(void **state)
{
	struct work *w = *state;
	struct unpack_stats stats;
	char *path = xasprintf("%s/sparse.bin", w->archive);
	unsigned char buf[4096];
	struct stat st;
	int fd;

	unpack_ok(w, "sparse.tar", UNPACK_TAR, NULL, &stats);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_size, 3 * MIB);
	assert_int_equal(stats.bytes, 3 * MIB);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, 4096, 0), 4096);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(pread(fd, buf, 4096, MIB), 4096);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(buf[i], 'A');
	assert_int_equal(pread(fd, buf, 11, 2 * MIB), 11);
	assert_memory_equal(buf, "BBBBBBBBBB\0", 11);
	assert_int_equal(pread(fd, buf, 1, 3 * MIB - 1), 1);
	assert_int_equal(buf[0], 0);
	close(fd);
	free(path);
}

static void
tar_keep_ownership_as_root__owner_from_archive(void **state)
{
	struct work *w = *state;
	struct unpack_opts opts = { .keep_ownership = 1 };
	struct stat st;
	char *path;

	if (geteuid() != 0)
		skip();
	unpack_ok(w, "owned.tar", UNPACK_TAR, &opts, NULL);
	path = xasprintf("%s/owned.txt", w->archive);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 5678);
	free(path);
	path = xasprintf("%s/owned-dir", w->archive);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, 4321);
	assert_int_equal(st.st_gid, 8765);
	free(path);
	path = xasprintf("%s/owned-link", w->archive);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, 1111);
	assert_int_equal(st.st_gid, 2222);
	free(path);
}

static void
tar_without_keep_ownership__owned_by_us(void **state)
{
	struct work *w = *state;
	struct stat st;
	char *path;

	unpack_ok(w, "owned.tar", UNPACK_TAR, NULL, NULL);
	path = xasprintf("%s/owned.txt", w->archive);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, geteuid());
	free(path);
	path = xasprintf("%s/owned-dir", w->archive);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, geteuid());
	free(path);
}

/* --- limits at their edges ----------------------------------------------- */

static void
max_bytes_equal_to_content__fits(void **state)
{
	struct work *w = *state;
	struct unpack_opts opts = { .max_bytes = 71 };

	unpack_ok(w, "good.tar", UNPACK_TAR, &opts, NULL);
	check_good_tree(w->archive, FL_TAR);
}

static void
max_bytes_one_below_content__limit(void **state)
{
	struct work *w = *state;
	struct unpack_opts opts = { .max_bytes = 70 };
	struct err err = ERR_INIT;
	char *bundle = corpus("good.tar");

	assert_int_equal(
	    unpack_bundle(bundle, UNPACK_TAR, w->archive, &opts, NULL, &err),
	    -1);
	assert_int_equal(err.code, E_LIMIT);
	assert_non_null(strstr(err.msg, "70-byte limit"));
	assert_false(tu_exists(w->archive));
	free(bundle);
}

static void
max_entries_equal_to_count__fits(void **state)
{
	struct work *w = *state;
	struct unpack_opts opts = { .max_entries = 17 };

	unpack_ok(w, "good.tar", UNPACK_TAR, &opts, NULL);
	check_good_tree(w->archive, FL_TAR);
}

static void
max_entries_one_below_count__limit(void **state)
{
	struct work *w = *state;
	struct unpack_opts opts = { .max_entries = 16 };
	struct err err = ERR_INIT;
	char *bundle = corpus("good.tar");

	assert_int_equal(
	    unpack_bundle(bundle, UNPACK_TAR, w->archive, &opts, NULL, &err),
	    -1);
	assert_int_equal(err.code, E_LIMIT);
	assert_non_null(strstr(err.msg, "entry 'hard.txt'"));
	free(bundle);
}

/* --- progress ------------------------------------------------------------ */

struct progress_log {
	int calls;
	uint64_t bytes[16];
};

static void
record_progress(uint64_t bytes, uint64_t entries, void *arg)
{
	struct progress_log *log = arg;

	if (log->calls < 16)
		log->bytes[log->calls] = bytes;
	log->calls++;
}

static void
nine_mib__progress_every_4_mib_and_at_end(void **state)
{
	struct work *w = *state;
	struct progress_log log = { 0 };
	struct unpack_opts opts = { .progress = record_progress,
		.progress_arg = &log };

	unpack_ok(w, "nine-mib.tgz", UNPACK_TGZ, &opts, NULL);
	assert_int_equal(log.calls, 3);
	assert_true(log.bytes[0] >= 4 * MIB && log.bytes[0] < 5 * MIB);
	assert_true(log.bytes[1] >= 8 * MIB && log.bytes[1] < 9 * MIB);
	assert_int_equal(log.bytes[2], 9 * MIB);
}

/* --- the top-directory strip --------------------------------------------- */

/* Unpack name and return the archive's snapshot. */
static char *
unpack_snapshot(struct work *w, const char *name, enum unpack_format format,
    const char *appspec_name, int *stripped)
{
	struct unpack_opts opts = { .appspec_name = appspec_name };
	struct unpack_stats stats;

	unpack_ok(w, name, format, &opts, &stats);
	assert_droot_clean(w);
	*stripped = stats.stripped_top_dir;
	return snapshot(w->archive);
}

static void
single_top_dir_with_appspec__stripped_and_logged(void **state)
{
	struct work *w = *state;
	int pipe_fd[2], stripped;
	struct log_opts lo = { .ident = "test",
		.level = LOG_LEVEL_INFO,
		.sinks = LOG_SINK_STDERR,
		.stderr_style = LOG_STDERR_PLAIN };
	struct err err = ERR_INIT;
	char buf[1024], *snap;
	ssize_t n;

	assert_int_equal(pipe2(pipe_fd, O_NONBLOCK), 0);
	lo.stderr_fd = pipe_fd[1];
	assert_int_equal(log_open(&lo, &err), 0);
	snap = unpack_snapshot(w, "strip-yes.tgz", UNPACK_TGZ, NULL, &stripped);
	log_close();
	assert_true(stripped);
	assert_string_equal(snap,
	    "appspec.yml 100644 13 version: 0.0\n\n"
	    "run 120777 14 scripts/run.sh\n"
	    "scripts 40755 4096 \n"
	    "scripts/run.sh 100755 10 #!/bin/sh\n\n");
	n = read(pipe_fd[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(
	    strstr(buf, "stripped the single top-level directory 'top'"));
	close(pipe_fd[0]);
	close(pipe_fd[1]);
	free(snap);
}

static void
single_top_dir_without_appspec__not_stripped(void **state)
{
	struct work *w = *state;
	int stripped;
	char *snap = unpack_snapshot(
	    w, "strip-no-appspec.tgz", UNPACK_TGZ, NULL, &stripped);

	/* v1 bug 32: "my-appspec-notes.txt" stripped it */
	assert_false(stripped);
	assert_non_null(strstr(snap, "top/my-appspec-notes.txt "));
	free(snap);
}

static void
macosx_sibling__not_stripped(void **state)
{
	struct work *w = *state;
	int stripped;
	char *snap =
	    unpack_snapshot(w, "strip-macosx.zip", UNPACK_ZIP, NULL, &stripped);

	assert_false(stripped);
	assert_non_null(strstr(snap, "top/appspec.yml "));
	assert_non_null(strstr(snap, "__MACOSX "));
	free(snap);
}

static void
custom_appspec_name__stripped(void **state)
{
	struct work *w = *state;
	int stripped;
	char *snap = unpack_snapshot(
	    w, "strip-custom.tgz", UNPACK_TGZ, "deploy-spec.yml", &stripped);

	assert_true(stripped);
	assert_string_equal(snap, "deploy-spec.yml 100644 13 version: 0.0\n\n");
	free(snap);
}

static void
custom_appspec_file_without_that_name__not_stripped(void **state)
{
	struct work *w = *state;
	int stripped;
	char *snap =
	    unpack_snapshot(w, "strip-custom.tgz", UNPACK_TGZ, NULL, &stripped);

	assert_false(stripped);
	assert_non_null(strstr(snap, "top/deploy-spec.yml "));
	free(snap);
}

static void
appspec_yaml_in_zip__stripped(void **state)
{
	struct work *w = *state;
	int stripped;
	char *snap = unpack_snapshot(
	    w, "strip-yaml.zip", UNPACK_ZIP, "appspec.yml", &stripped);

	assert_true(stripped);
	assert_string_equal(snap, "appspec.yaml 100644 13 version: 0.0\n\n");
	free(snap);
}

static void
appspec_is_symlink__not_stripped(void **state)
{
	struct work *w = *state;
	int stripped;
	char *snap = unpack_snapshot(
	    w, "strip-appspec-symlink.tgz", UNPACK_TGZ, NULL, &stripped);

	assert_false(stripped);
	assert_non_null(strstr(snap, "top/appspec.yml 120777"));
	free(snap);
}

static void
nested_top_dirs__one_level_stripped(void **state)
{
	struct work *w = *state;
	int stripped;
	char *snap = unpack_snapshot(
	    w, "strip-one-level.tgz", UNPACK_TGZ, NULL, &stripped);

	assert_true(stripped);
	assert_string_equal(snap,
	    "again 40755 4096 \n"
	    "again/appspec.yml 100644 13 version: 0.0\n\n"
	    "appspec.yml 100644 13 version: 0.0\n\n");
	free(snap);
}

static void
dot_entry_with_mode_0700__archive_dir_0755(void **state)
{
	struct work *w = *state;
	struct stat st;
	int stripped;
	char *snap;

	snap = unpack_snapshot(w, "dot-entry.tar", UNPACK_TAR, NULL, &stripped);
	assert_int_equal(lstat(w->archive, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	free(snap);
	snap = unpack_snapshot(w, "strip-dot.tgz", UNPACK_TGZ, NULL, &stripped);
	assert_true(stripped);
	assert_int_equal(lstat(w->archive, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_string_equal(snap, "appspec.yml 100644 13 version: 0.0\n\n");
	free(snap);
}

static void
directory_bundle_single_top_dir__not_stripped(void **state)
{
	struct work *w = *state;
	int stripped;
	char *snap =
	    unpack_snapshot(w, "strip-dir", UNPACK_DIRECTORY, NULL, &stripped);

	assert_false(stripped);
	assert_non_null(strstr(snap, "top/appspec.yml "));
	free(snap);
}

/* --- arguments and the bundle itself ------------------------------------ */

static void
missing_bundle__notfound_nothing_created(void **state)
{
	struct work *w = *state;
	struct err err = ERR_INIT;
	char *bundle = corpus("no-such.tgz");

	assert_int_equal(
	    unpack_bundle(bundle, UNPACK_TGZ, w->archive, NULL, NULL, &err),
	    -1);
	assert_int_equal(err.code, E_NOTFOUND);
	assert_non_null(strstr(err.msg, bundle));
	assert_int_equal(tu_count_tree(w->droot), 0);
	free(bundle);
}

static void
directory_type_for_a_file__invalid(void **state)
{
	struct work *w = *state;
	struct err err = ERR_INIT;
	char *bundle = corpus("good.tgz");

	assert_int_equal(unpack_bundle(bundle, UNPACK_DIRECTORY, w->archive,
			     NULL, NULL, &err),
	    -1);
	assert_int_equal(err.code, E_INVALID);
	assert_int_equal(tu_count_tree(w->droot), 0);
	free(bundle);
}

static void
directory_bundle_holding_the_staging_dir__invalid(void **state)
{
	struct work *w = *state;
	struct err err = ERR_INIT;

	make_old_archive(w);
	assert_int_equal(unpack_bundle(w->droot, UNPACK_DIRECTORY, w->archive,
			     NULL, NULL, &err),
	    -1);
	assert_int_equal(err.code, E_INVALID);
	assert_non_null(strstr(err.msg, "staging directory"));
	assert_int_equal(tu_count_tree(w->droot), 2); /* archive, marker */
}

static void
parent_of_archive_dir_missing__sys_error(void **state)
{
	struct work *w = *state;
	struct err err = ERR_INIT;
	char *bundle = corpus("good.tgz");
	char *archive = xasprintf("%s/missing/deployment-archive", w->dir);

	assert_int_equal(
	    unpack_bundle(bundle, UNPACK_TGZ, archive, NULL, NULL, &err), -1);
	assert_int_equal(err.code, E_SYS);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_non_null(strstr(err.msg, "staging directory"));
	free(archive);
	free(bundle);
}

static void
format_names__round_trip(void **state)
{
	static const char *names[] = { "tar", "tgz", "zip", "directory" };
	enum unpack_format format;

	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(unpack_parse_format(names[i], &format), 0);
		assert_string_equal(unpack_format_name(format), names[i]);
	}
	assert_int_equal(unpack_parse_format("TAR", &format), -1);
	assert_int_equal(unpack_parse_format("tar.gz", &format), -1);
	assert_int_equal(unpack_parse_format("", &format), -1);
	assert_string_equal(unpack_format_name(UNPACK_TGZ), "tgz");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

static const struct CMUnitTest fixed_tests[] = {
	T(tar_good__exact_tree),
	T(tgz_good__exact_tree),
	T(tar_bzip2_and_xz__read_as_tar),
	T(zip_good__exact_tree),
	T(directory_good__exact_tree),
	T(directory_bundle__replaces_old_archive_not_merged),
	T(tar_bundle__replaces_old_archive),
	T(archive_dir_is_symlink__replaced_target_untouched),
	T(zip_with_no_entries__empty_archive),
	T(duplicates__later_entry_replaces_without_following),
	T(sparse_tar__holes_kept_and_counted),
	T(tar_keep_ownership_as_root__owner_from_archive),
	T(tar_without_keep_ownership__owned_by_us),
	T(max_bytes_equal_to_content__fits),
	T(max_bytes_one_below_content__limit),
	T(max_entries_equal_to_count__fits),
	T(max_entries_one_below_count__limit),
	T(nine_mib__progress_every_4_mib_and_at_end),
	T(single_top_dir_with_appspec__stripped_and_logged),
	T(single_top_dir_without_appspec__not_stripped),
	T(macosx_sibling__not_stripped),
	T(custom_appspec_name__stripped),
	T(custom_appspec_file_without_that_name__not_stripped),
	T(appspec_yaml_in_zip__stripped),
	T(appspec_is_symlink__not_stripped),
	T(nested_top_dirs__one_level_stripped),
	T(dot_entry_with_mode_0700__archive_dir_0755),
	T(directory_bundle_single_top_dir__not_stripped),
	T(missing_bundle__notfound_nothing_created),
	T(directory_type_for_a_file__invalid),
	T(directory_bundle_holding_the_staging_dir__invalid),
	T(parent_of_archive_dir_missing__sys_error),
	T(format_names__round_trip),
};

#define NFIXED (sizeof(fixed_tests) / sizeof(fixed_tests[0]))

int
main(void)
{
	struct CMUnitTest tests[NFIXED + NHOSTILE];
	char *names[NHOSTILE];
	int ret;

	memcpy(tests, fixed_tests, sizeof(fixed_tests));
	for (size_t i = 0; i < NHOSTILE; i++) {
		names[i] = xasprintf("hostile_%s", hostile_cases[i].test_name);
		tests[NFIXED + i] = (struct CMUnitTest){
			.name = names[i],
			.test_func = hostile__rejected_and_nothing_written,
			.setup_func = setup,
			.teardown_func = teardown,
			.initial_state = &hostile_cases[i],
		};
	}
	ret = _cmocka_run_group_tests(
	    "unpack", tests, NFIXED + NHOSTILE, group_setup, group_teardown);
	for (size_t i = 0; i < NHOSTILE; i++)
		free(names[i]);
	return ret;
}
