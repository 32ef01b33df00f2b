/*
 * Unit tests for install: v1's installer_test.rb and install_instruction_
 * test.rb sequences, and the v1 bugs fixed (23, 24, 25, 29), on real files
 * in a scratch directory.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <acl/libacl.h>
#include <sys/acl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "appspec.h"
#include "install.h"
#include "state.h"
#include "testutil.h"
#include "xalloc.h"

struct fx {
	char *top;     /* scratch directory */
	char *archive; /* the revision */
	char *root;    /* deployment root */
	char *dest;    /* where files go */
};

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct err err = ERR_INIT;

	f->top = tu_mkdtemp();
	f->archive = xasprintf("%s/archive", f->top);
	f->root = xasprintf("%s/root", f->top);
	f->dest = xasprintf("%s/dest", f->top);
	assert_int_equal(fsutil_mkdir_p(f->archive, 0755, &err), 0);
	assert_int_equal(fsutil_mkdir_p(f->root, 0755, &err), 0);
	assert_int_equal(fsutil_mkdir_p(f->dest, 0755, &err), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char *small = xasprintf("%s/small", f->dest);

	umount2(small, MNT_DETACH); /* full_disk__...: mounted there */
	free(small);
	tu_rmdir(f->top);
	free(f->archive);
	free(f->root);
	free(f->dest);
	free(f);
	return 0;
}

/* Write a file (and its directories) under base. */
static void
put(const char *base, const char *rel, const char *text, mode_t mode)
{
	struct err err = ERR_INIT;
	char *path = xasprintf("%s/%s", base, rel);
	char *slash = strrchr(path, '/');

	*slash = '\0';
	assert_int_equal(fsutil_mkdir_p(path, 0755, &err), 0);
	*slash = '/';
	assert_int_equal(
	    fsutil_write_atomic(path, text, strlen(text), mode, &err), 0);
	free(path);
}

static char *
read_rel(const char *base, const char *rel)
{
	char *path = xasprintf("%s/%s", base, rel);
	char *text = tu_read(path);

	free(path);
	return text;
}

static int
exists_rel(const char *base, const char *rel)
{
	char *path = xasprintf("%s/%s", base, rel);
	int r = tu_exists(path);

	free(path);
	return r;
}

/*
 * The appspec text with every "DEST" replaced by the destination dir and
 * every "ROOTDIR" by the scratch directory.
 */
static struct appspec *
spec_for(struct fx *f, const char *yaml)
{
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;
	size_t cap = strlen(yaml) * 4 + 4096, len = 0;
	char *text = xmalloc(cap);
	const char *p = yaml;

	while (*p != '\0') {
		if (strncmp(p, "DEST", 4) == 0) {
			len += (size_t)snprintf(
			    text + len, cap - len, "%s", f->dest);
			p += 4;
		} else {
			text[len++] = *p++;
		}
	}
	text[len] = '\0';
	if (appspec_parse(text, len, "appspec.yml", NULL, &spec, &err) < 0)
		fail_msg("appspec: %s", err.msg);
	free(text);
	return spec;
}

static int
run_install(struct fx *f, struct appspec *spec, enum appspec_feb feb,
    struct install_stats *stats, struct err *err)
{
	struct install_opts opts = {
		.root_dir = f->root,
		.group_id = "dg-1",
		.archive_dir = f->archive,
		.appspec = spec,
		.deployment_feb = feb,
	};

	return install_run(&opts, stats, err);
}

static void
install_ok(struct fx *f, const char *yaml, enum appspec_feb feb)
{
	struct appspec *spec = spec_for(f, yaml);
	struct err err = ERR_INIT;

	if (run_install(f, spec, feb, NULL, &err) < 0)
		fail_msg("install failed: %s", err.msg);
	appspec_free(spec);
}

/* The instruction file text with the scratch path replaced by "T". */
static char *
instruction(struct fx *f, const char *suffix)
{
	char *path = state_instruction_path(f->root, "dg-1", suffix);
	struct err err = ERR_INIT;
	char *text = NULL, *out, *p;
	size_t tlen = strlen(f->top), olen = 0;

	if (fsutil_read_file(path, 1 << 20, &text, NULL, &err) < 0) {
		free(path);
		return NULL;
	}
	out = xmalloc(strlen(text) + 1);
	for (p = text; *p != '\0';) {
		if (strncmp(p, f->top, tlen) == 0) {
			out[olen++] = 'T';
			p += tlen;
		} else {
			out[olen++] = *p++;
		}
	}
	out[olen] = '\0';
	free(text);
	free(path);
	return out;
}

static const char one_file[] = "version: 0.0\nos: linux\nfiles:\n"
			       "  - source: src1\n"
			       "    destination: DEST/dst1\n";

static void
file__missing_destination__mkdir_then_copy(void **state)
{
	struct fx *f = *state;
	char *json, *cleanup, *text;

	put(f->archive, "src1", "one\n", 0644);
	install_ok(f, one_file, APPSPEC_FEB_DISALLOW);
	text = read_rel(f->dest, "dst1/src1");
	assert_string_equal(text, "one\n");
	json = instruction(f, STATE_INSTALL_JSON);
	assert_string_equal(json,
	    "{\"instructions\":[{\"type\":\"mkdir\",\"directory\":\"T/dest/"
	    "dst1\"},{\"type\":\"copy\",\"source\":\"T/archive/src1\","
	    "\"destination\":\"T/dest/dst1/src1\"}]}");
	cleanup = instruction(f, STATE_CLEANUP);
	assert_string_equal(cleanup, "T/dest/dst1\nT/dest/dst1/src1\n");
	free(text);
	free(json);
	free(cleanup);
}

static void
file__nested_missing_dirs__outermost_first(void **state)
{
	struct fx *f = *state;
	struct err err = ERR_INIT;
	char *dir = xasprintf("%s/dst1", f->dest);
	char *cleanup;

	put(f->archive, "src1", "x", 0644);
	assert_int_equal(fsutil_mkdir_p(dir, 0755, &err), 0);
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n  - source: src1\n"
	    "    destination: DEST/dst1/foo/bar\n",
	    APPSPEC_FEB_DISALLOW);
	cleanup = instruction(f, STATE_CLEANUP);
	assert_string_equal(cleanup,
	    "T/dest/dst1/foo\nT/dest/dst1/foo/bar\nT/dest/dst1/foo/bar/src1\n");
	free(cleanup);
	free(dir);
}

static void
directory__copied_recursively_in_name_order(void **state)
{
	struct fx *f = *state;
	char *cleanup, *text;

	put(f->archive, "app/foo", "f", 0644);
	put(f->archive, "app/bar", "b", 0644);
	put(f->archive, "app/sub/baz", "z", 0600);
	put(f->archive, "app/.hidden", "h", 0644);
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n  - source: app\n"
	    "    destination: DEST/site\n",
	    APPSPEC_FEB_DISALLOW);
	cleanup = instruction(f, STATE_CLEANUP);
	assert_string_equal(cleanup,
	    "T/dest/site\nT/dest/site/.hidden\nT/dest/site/bar\n"
	    "T/dest/site/foo\nT/dest/site/sub\nT/dest/site/sub/baz\n");
	text = read_rel(f->dest, "site/sub/baz");
	assert_string_equal(text, "z");
	free(text);
	free(cleanup);
}

static void
whole_revision__slash_source(void **state)
{
	struct fx *f = *state;
	char *text;

	put(f->archive, "appspec.yml", "x", 0644);
	put(f->archive, "web/index.html", "<p>", 0644);
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n  - source: /\n"
	    "    destination: DEST/www\n",
	    APPSPEC_FEB_DISALLOW);
	text = read_rel(f->dest, "www/web/index.html");
	assert_string_equal(text, "<p>");
	assert_true(exists_rel(f->dest, "www/appspec.yml"));
	free(text);
}

static void
existing_dir__not_recreated_or_recorded(void **state)
{
	struct fx *f = *state;
	struct err err = ERR_INIT;
	char *dir = xasprintf("%s/site", f->dest);
	char *cleanup;

	assert_int_equal(fsutil_mkdir_p(dir, 0700, &err), 0);
	put(f->archive, "app/foo", "f", 0644);
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n  - source: app\n"
	    "    destination: DEST/site\n",
	    APPSPEC_FEB_DISALLOW);
	cleanup = instruction(f, STATE_CLEANUP);
	assert_string_equal(cleanup, "T/dest/site/foo\n");
	free(cleanup);
	free(dir);
}

static void
disallow__existing_file__fails_and_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct appspec *spec;
	struct err err = ERR_INIT;
	char *text;

	put(f->archive, "src1", "new", 0644);
	put(f->dest, "dst1/src1", "theirs", 0644);
	spec = spec_for(f, one_file);
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), -1);
	assert_int_equal(err.code, E_EXISTS);
	assert_non_null(strstr(err.msg, "already exists"));
	assert_non_null(strstr(err.msg, "dst1/src1"));
	text = read_rel(f->dest, "dst1/src1");
	assert_string_equal(text, "theirs");
	assert_null(instruction(f, STATE_INSTALL_JSON));
	free(text);
	appspec_free(spec);
}

static void
overwrite_and_retain__deployment_value(void **state)
{
	struct fx *f = *state;
	struct install_stats stats;
	struct appspec *spec;
	struct err err = ERR_INIT;
	char *text;

	put(f->archive, "src1", "new", 0644);
	put(f->dest, "dst1/src1", "theirs", 0644);
	spec = spec_for(f, one_file);
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_RETAIN, &stats, &err), 0);
	text = read_rel(f->dest, "dst1/src1");
	assert_string_equal(text, "theirs");
	free(text);
	assert_int_equal(stats.retained, 1);
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_OVERWRITE, &stats, &err), 0);
	text = read_rel(f->dest, "dst1/src1");
	assert_string_equal(text, "new");
	free(text);
	appspec_free(spec);
}

static void
appspec_feb__overrides_deployment(void **state)
{
	struct fx *f = *state;
	struct appspec *spec;
	struct err err = ERR_INIT;
	char *text;

	put(f->archive, "src1", "new", 0644);
	put(f->dest, "dst1/src1", "theirs", 0644);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\n"
	    "file_exists_behavior: OVERWRITE\nfiles:\n"
	    "  - source: src1\n    destination: DEST/dst1\n");
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), 0);
	text = read_rel(f->dest, "dst1/src1");
	assert_string_equal(text, "new");
	free(text);
	appspec_free(spec);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\n"
	    "file_exists_behavior: DISALLOW\nfiles:\n"
	    "  - source: src1\n    destination: DEST/other\n"
	    "  - source: src1\n    destination: DEST/dst1\n");
	put(f->dest, "dst1/src1", "theirs again", 0644);
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_OVERWRITE, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "already exists"));
	appspec_free(spec);
}

static void
second_install__removes_files_of_the_first(void **state)
{
	struct fx *f = *state;
	struct install_stats stats;
	struct appspec *spec;
	struct err err = ERR_INIT;
	char *text;

	put(f->archive, "app/old-only", "o", 0644);
	put(f->archive, "app/kept", "v1", 0644);
	put(f->archive, "app/sub/deep", "d", 0644);
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n  - source: app\n"
	    "    destination: DEST/site\n",
	    APPSPEC_FEB_DISALLOW);
	/* the next revision drops old-only and sub/, changes kept */
	assert_int_equal(fsutil_rm_rf(f->archive, &err), 0);
	put(f->archive, "app/kept", "v2", 0644);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: app\n    destination: DEST/site\n");
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, &stats, &err), 0);
	assert_false(exists_rel(f->dest, "site/old-only"));
	assert_false(exists_rel(f->dest, "site/sub"));
	text = read_rel(f->dest, "site/kept");
	assert_string_equal(text, "v2");
	free(text);
	assert_int_equal(stats.removed, 3);
	text = instruction(f, STATE_CLEANUP);
	assert_string_equal(text, "T/dest/site\nT/dest/site/kept\n");
	free(text);
	appspec_free(spec);
}

static void
bug23__invalid_new_install__previous_files_untouched(void **state)
{
	struct fx *f = *state;
	struct appspec *spec;
	struct err err = ERR_INIT;
	char *before, *after;

	put(f->archive, "src1", "one", 0644);
	install_ok(f, one_file, APPSPEC_FEB_DISALLOW);
	before = instruction(f, STATE_CLEANUP);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: src1\n    destination: DEST/dst1\n"
	    "  - source: missing\n    destination: DEST/x\n");
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), -1);
	assert_int_equal(err.code, E_NOTFOUND);
	assert_non_null(strstr(err.msg, "appspec.yml:6"));
	assert_non_null(strstr(err.msg, "'missing'"));
	/* v1 had already removed dst1/src1 at this point */
	assert_true(exists_rel(f->dest, "dst1/src1"));
	after = instruction(f, STATE_CLEANUP);
	assert_string_equal(after, before);
	free(before);
	free(after);
	appspec_free(spec);
}

static void
bug24__overwritten_preexisting_file__survives_next_install(void **state)
{
	struct fx *f = *state;
	struct appspec *spec;
	struct err err = ERR_INIT;
	char *cleanup, *text;

	put(f->dest, "etc/app.conf", "admin's", 0644);
	put(f->archive, "app.conf", "ours", 0644);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: app.conf\n    destination: DEST/etc\n");
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_OVERWRITE, NULL, &err), 0);
	appspec_free(spec);
	cleanup = instruction(f, STATE_CLEANUP);
	assert_string_equal(cleanup, "");
	free(cleanup);
	/* the next revision no longer ships app.conf */
	put(f->archive, "other", "o", 0644);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: other\n    destination: DEST/opt\n");
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), 0);
	text = read_rel(f->dest, "etc/app.conf");
	assert_string_equal(text, "ours");
	free(text);
	appspec_free(spec);
}

static void
bug29__cleanup_names_with_spaces_and_torn_line(void **state)
{
	struct fx *f = *state;
	char *keep = xasprintf("%s/ spaced ", f->dest);
	char *torn = xasprintf("%s/torn", f->dest);
	char *cleanup_text = xasprintf("%s\n%s", keep, torn);
	char *dir = xasprintf("%s/deployment-instructions", f->root);
	struct err err = ERR_INIT;

	char *json = xasprintf("{\"instructions\":["
			       "{\"type\":\"copy\",\"source\":\"s\","
			       "\"destination\":\"%s\"},"
			       "{\"type\":\"copy\",\"source\":\"t\","
			       "\"destination\":\"%s\"}]}",
	    keep, torn);

	put(f->dest, " spaced ", "s", 0644);
	put(f->dest, "torn", "t", 0644);
	assert_int_equal(fsutil_mkdir_p(dir, 0755, &err), 0);
	free(tu_write(dir, "dg-1-cleanup", cleanup_text));
	free(tu_write(dir, "dg-1-install.json", json));
	free(json);
	put(f->archive, "src1", "x", 0644);
	install_ok(f, one_file, APPSPEC_FEB_DISALLOW);
	assert_false(exists_rel(f->dest, " spaced "));
	assert_true(exists_rel(f->dest, "torn")); /* torn last line ignored */
	free(keep);
	free(torn);
	free(cleanup_text);
	free(dir);
}

static void
copy__atomic_replace_new_inode_no_temp_left(void **state)
{
	struct fx *f = *state;
	struct stat before, after;
	char *path = xasprintf("%s/dst1/src1", f->dest);
	char *dir = xasprintf("%s/dst1", f->dest);
	struct appspec *spec;
	struct err err = ERR_INIT;
	int entries = 0;
	DIR *d;

	put(f->archive, "src1", "v1", 0644);
	spec = spec_for(f, one_file);
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), 0);
	assert_int_equal(stat(path, &before), 0);
	put(f->archive, "src1", "v2", 0644);
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), 0);
	assert_int_equal(stat(path, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	d = opendir(dir);
	while (readdir(d) != NULL)
		entries++;
	closedir(d);
	assert_int_equal(entries, 3); /* ., .., src1 */
	appspec_free(spec);
	free(path);
	free(dir);
}

static void
copy__keeps_mode_mtime_and_symlinks(void **state)
{
	struct fx *f = *state;
	char *link = xasprintf("%s/app/current", f->archive);
	char *script = xasprintf("%s/app/run.sh", f->archive);
	char *installed_link = xasprintf("%s/site/current", f->dest);
	char *installed_script = xasprintf("%s/site/run.sh", f->dest);
	struct timespec times[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct stat st;
	char target[64];
	ssize_t n;

	put(f->archive, "app/run.sh", "#!/bin/sh\n", 0755);
	put(f->archive, "app/v2/index", "i", 0644);
	assert_int_equal(utimensat(AT_FDCWD, script, times, 0), 0);
	assert_int_equal(symlink("v2", link), 0);
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n  - source: app\n"
	    "    destination: DEST/site\n",
	    APPSPEC_FEB_DISALLOW);
	assert_int_equal(lstat(installed_link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(installed_link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "v2");
	assert_int_equal(stat(installed_script, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_mtim.tv_sec, 1000000000);
	free(link);
	free(script);
	free(installed_link);
	free(installed_script);
}

static void
conflicts__same_target_twice_named(void **state)
{
	struct fx *f = *state;
	struct appspec *spec;
	struct err err = ERR_INIT;

	put(f->archive, "a/x", "1", 0644);
	put(f->archive, "b/x", "2", 0644);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: a/x\n    destination: DEST/d\n"
	    "  - source: b/x\n    destination: DEST/d\n");
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "installed twice"));
	assert_non_null(strstr(err.msg, "a/x"));
	assert_non_null(strstr(err.msg, "b/x"));
	assert_false(exists_rel(f->dest, "d"));
	appspec_free(spec);
}

static void
source_outside_revision__refused(void **state)
{
	struct fx *f = *state;
	struct appspec *spec;
	struct err err = ERR_INIT;

	put(f->top, "secret", "s", 0600);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: ../secret\n    destination: DEST/d\n");
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), -1);
	assert_int_equal(err.code, E_UNSAFE);
	assert_false(exists_rel(f->dest, "d"));
	appspec_free(spec);
}

static void
file_in_the_way_of_a_directory__refused(void **state)
{
	struct fx *f = *state;
	struct appspec *spec;
	struct err err = ERR_INIT;

	put(f->dest, "blocker", "b", 0644);
	put(f->archive, "src1", "x", 0644);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: src1\n"
	    "    destination: DEST/blocker/sub\n");
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "is a file, not a directory"));
	appspec_free(spec);
}

static void
permissions__mode_on_file_and_pattern_on_dir(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char *p;
	char *json;

	put(f->archive, "app/run.sh", "x", 0644);
	put(f->archive, "app/data.txt", "x", 0644);
	put(f->archive, "app/sub/deep.sh", "x", 0644);
	put(f->archive, "app/keep.sh", "x", 0644);
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n  - source: app\n"
	    "    destination: DEST/site\n"
	    "permissions:\n"
	    "  - object: DEST/site\n    pattern: \"*.sh\"\n"
	    "    except: [keep.sh]\n    type: [file]\n    mode: 0750\n"
	    "  - object: DEST/site/data.txt\n    mode: 0600\n"
	    "  - object: DEST/site\n    type: [directory]\n    mode: 711\n",
	    APPSPEC_FEB_DISALLOW);
	p = xasprintf("%s/site/run.sh", f->dest);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	free(p);
	p = xasprintf("%s/site/sub/deep.sh", f->dest); /* not a direct child */
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	free(p);
	p = xasprintf("%s/site/keep.sh", f->dest);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	free(p);
	p = xasprintf("%s/site/data.txt", f->dest);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(p);
	p = xasprintf("%s/site/sub", f->dest);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0711);
	free(p);
	p = xasprintf("%s/site", f->dest); /* the object itself: never */
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	free(p);
	json = instruction(f, STATE_INSTALL_JSON);
	assert_non_null(strstr(json,
	    "{\"type\":\"chmod\",\"mode\":\"0750\","
	    "\"file\":\"T/dest/site/run.sh\"}"));
	free(json);
}

static void
permissions__overlap__refused_before_changes(void **state)
{
	struct fx *f = *state;
	struct appspec *spec;
	struct err err = ERR_INIT;

	put(f->archive, "app/a", "x", 0644);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: app\n    destination: DEST/site\n"
	    "permissions:\n  - object: DEST/site\n    mode: 600\n"
	    "  - object: DEST/site/a\n    mode: 644\n");
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "set twice"));
	assert_false(exists_rel(f->dest, "site"));
	appspec_free(spec);
}

static void
permissions__default_acl_on_file__refused(void **state)
{
	struct fx *f = *state;
	struct appspec *spec;
	struct err err = ERR_INIT;

	put(f->archive, "src1", "x", 0644);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: src1\n    destination: DEST/d\n"
	    "permissions:\n  - object: DEST/d/src1\n"
	    "    acls: [\"d:u:root:7\"]\n");
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "default ACL"));
	appspec_free(spec);
}

static void
permissions__owner_group_and_unknown_user(void **state)
{
	struct fx *f = *state;
	struct appspec *spec;
	struct err err = ERR_INIT;
	struct passwd *pw = getpwnam("nobody");
	struct stat st;
	char *p = xasprintf("%s/d/src1", f->dest);

	put(f->archive, "src1", "x", 0644);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: src1\n    destination: DEST/d\n"
	    "permissions:\n  - object: DEST/d/src1\n"
	    "    owner: cdagent-no-such-user\n");
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "'cdagent-no-such-user'"));
	assert_false(exists_rel(f->dest, "d"));
	appspec_free(spec);
	if (geteuid() != 0 || pw == NULL) {
		free(p);
		skip();
	}
	spec = spec_for(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: src1\n    destination: DEST/d\n"
	    "permissions:\n  - object: DEST/d/src1\n"
	    "    owner: nobody\n");
	err_clear(&err);
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, pw->pw_uid);
	appspec_free(spec);
	free(p);
}

/* A root-owned file keeps root's group in a set-group-ID directory too
 * (the chown that creation makes unnecessary elsewhere is still made). */
static void
owner__root_file_in_setgid_dir__keeps_group_0(void **state)
{
	struct fx *f = *state;
	struct appspec *spec;
	struct err err = ERR_INIT;
	char *sg = xasprintf("%s/sg", f->dest);
	char *in_sg = xasprintf("%s/sg/a", f->dest);
	char *plain = xasprintf("%s/plain/b", f->dest);
	struct stat st;

	if (geteuid() != 0) {
		free(sg);
		free(in_sg);
		free(plain);
		skip();
	}
	put(f->archive, "sg/a", "a", 0644);
	put(f->archive, "plain/b", "b", 0640);
	assert_int_equal(mkdir(sg, 0775), 0);
	assert_int_equal(chown(sg, 0, 65534), 0);
	assert_int_equal(chmod(sg, 02775), 0);
	spec = spec_for(f,
	    "version: 0.0\nos: linux\nfile_exists_behavior: OVERWRITE\n"
	    "files:\n  - source: /\n    destination: DEST\n");
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), 0);
	assert_int_equal(lstat(in_sg, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, 0);
	assert_int_equal(lstat(plain, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	appspec_free(spec);
	free(sg);
	free(in_sg);
	free(plain);
}

static void
permissions__acl_applied(void **state)
{
	struct fx *f = *state;
	char *p = xasprintf("%s/d/src1", f->dest);
	acl_t acl;
	char *text;

	put(f->archive, "src1", "x", 0640);
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: src1\n    destination: DEST/d\n"
	    "permissions:\n  - object: DEST/d/src1\n"
	    "    acls: [\"u:root:5\"]\n",
	    APPSPEC_FEB_DISALLOW);
	acl = acl_get_file(p, ACL_TYPE_ACCESS);
	if (acl == NULL && errno == EOPNOTSUPP) {
		free(p);
		skip();
	}
	assert_non_null(acl);
	text = acl_to_any_text(acl, NULL, ',', 0);
	assert_non_null(strstr(text, "user:root:r-x"));
	assert_non_null(strstr(text, "group::r--"));
	acl_free(text);
	acl_free(acl);
	free(p);
}

static void
acl_text__v1_pinned_full_acl(void **state)
{
	char bob[] = "bob";
	struct appspec_ace aces[2] = {
		{ 0, APPSPEC_ACE_USER, bob, 7 },
		{ 1, APPSPEC_ACE_USER, bob, 7 },
	};
	char *text = install_acl_text(aces, 2, 0100421);

	assert_string_equal(text,
	    "user:bob:rwx,default:user:bob:rwx,user::r--,group::-w-,"
	    "other::--x,mask::-w-,default:user::r--,default:group::-w-,"
	    "default:other::--x,default:mask::-w-");
	free(text);
}

static void
selinux_context__without_selinux__warns_and_succeeds(void **state)
{
	struct fx *f = *state;
	char *json;

	if (access("/sys/fs/selinux/enforce", F_OK) == 0)
		skip();
	put(f->archive, "src1", "x", 0644);
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n"
	    "  - source: src1\n    destination: DEST/d\n"
	    "permissions:\n  - object: DEST/d/src1\n"
	    "    context:\n      type: httpd_sys_content_t\n",
	    APPSPEC_FEB_DISALLOW);
	json = instruction(f, STATE_INSTALL_JSON);
	/* no range: v1 crashed writing install.json here (bug 27) */
	assert_non_null(strstr(json,
	    "\"context\":{\"user\":null,\"role\":null,"
	    "\"type\":\"httpd_sys_content_t\","
	    "\"range\":null}"));
	free(json);
}

/* --- issue 13: records that survive anything ---------------------------- */

/* The instruction directory's file name for suffix. */
static char *
instr_path(struct fx *f, const char *suffix)
{
	return state_instruction_path(f->root, "dg-1", suffix);
}

static void
cleanup__line_not_planned_by_its_install__skipped_and_kept(void **state)
{
	struct fx *f = *state;
	char *dir = xasprintf("%s/deployment-instructions", f->root);
	char *ours = xasprintf("%s/dst1/old", f->dest);
	char *victim = xasprintf("%s/victim", f->top);
	char *cleanup = xasprintf("%s\n%s\n", ours, victim);
	char *json = xasprintf("{\"instructions\":[{\"type\":\"copy\","
			       "\"source\":\"/x\",\"destination\":\"%s\"}]}",
	    ours);
	struct err err = ERR_INIT;

	/* what v1 wrote for a directory named "dst1/old\n<victim>" */
	put(f->dest, "dst1/old", "o", 0644);
	put(f->top, "victim", "v", 0644);
	assert_int_equal(fsutil_mkdir_p(dir, 0755, &err), 0);
	free(tu_write(dir, "dg-1-cleanup", cleanup));
	free(tu_write(dir, "dg-1-install.json", json));
	put(f->archive, "src1", "x", 0644);
	install_ok(f, one_file, APPSPEC_FEB_DISALLOW);
	assert_false(tu_exists(ours));
	assert_true(tu_exists(victim));
	free(dir);
	free(ours);
	free(victim);
	free(cleanup);
	free(json);
}

static void
remove__through_a_symlinked_directory__never_follows(void **state)
{
	struct fx *f = *state;
	char *site = xasprintf("%s/site", f->dest);
	char *other = xasprintf("%s/other", f->top);
	char *other_file = xasprintf("%s/other/a", f->top);

	put(f->archive, "app/a", "a", 0644);
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n  - source: app\n"
	    "    destination: DEST/site\n",
	    APPSPEC_FEB_DISALLOW);
	/* someone swaps the installed directory for a link elsewhere */
	put(f->top, "other/a", "not ours", 0644);
	tu_rmdir(xstrdup(site));
	assert_int_equal(symlink(other, site), 0);
	put(f->archive, "src1", "x", 0644);
	install_ok(f, one_file, APPSPEC_FEB_DISALLOW);
	assert_true(tu_exists(other_file));
	free(site);
	free(other);
	free(other_file);
}

static void
install__destination_with_line_break__refused_nothing_changed(void **state)
{
	struct fx *f = *state;
	struct appspec spec;
	struct appspec_file file;
	struct err err = ERR_INIT;
	struct install_opts opts = { .root_dir = f->root,
		.group_id = "dg-1",
		.archive_dir = f->archive,
		.appspec = &spec,
		.deployment_feb = APPSPEC_FEB_DISALLOW };
	char *dest = xasprintf("%s/app\n%s/victim", f->dest, f->top);
	char src1[] = "src1", name[] = "appspec.yml";

	/* an appspec built by hand: the parser already refuses this */
	put(f->archive, "src1", "x", 0644);
	memset(&spec, 0, sizeof(spec));
	memset(&file, 0, sizeof(file));
	file.source = src1;
	file.destination = dest;
	file.line = 4;
	spec.path = name;
	spec.files = &file;
	spec.nfiles = 1;
	assert_int_equal(install_run(&opts, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "line breaks"));
	assert_int_equal(tu_count_tree(f->dest), 0);
	free(dest);
}

static void
name_of_255_bytes__installs_and_is_removed(void **state)
{
	struct fx *f = *state;
	char name[256];
	char *path;

	memset(name, 'n', 255);
	name[255] = '\0';
	free(tu_write(f->archive, name, "long"));
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n  - source: /\n"
	    "    destination: DEST/site\n",
	    APPSPEC_FEB_DISALLOW);
	path = xasprintf("%s/site/%s", f->dest, name);
	assert_true(tu_exists(path));
	/* a second install of it replaces it through a temporary name */
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n  - source: /\n"
	    "    destination: DEST/site\n",
	    APPSPEC_FEB_DISALLOW);
	assert_true(tu_exists(path));
	free(path);
}

static void
sparse_file__holes_kept(void **state)
{
	struct fx *f = *state;
	char *src = xasprintf("%s/sparse.bin", f->archive);
	char *dst = xasprintf("%s/dst1/sparse.bin", f->dest);
	struct stat st;
	int fd;

	fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "head", 4, 0), 4);
	assert_int_equal(pwrite(fd, "tail", 4, 1LL << 30), 4);
	close(fd);
	assert_int_equal(stat(src, &st), 0);
	if ((uint64_t)st.st_blocks * 512 > (1 << 20)) {
		free(src);
		free(dst);
		skip(); /* this file system has no holes */
	}
	install_ok(f,
	    "version: 0.0\nos: linux\nfiles:\n  - source: sparse.bin\n"
	    "    destination: DEST/dst1\n",
	    APPSPEC_FEB_DISALLOW);
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_size, (1LL << 30) + 4);
	assert_true((uint64_t)st.st_blocks * 512 < (1 << 20));
	free(src);
	free(dst);
}

#define NFILES 300

static void
kill_at_progress(uint64_t files, uint64_t bytes, void *arg)
{
	(void)files;
	(void)bytes;
	(void)arg;
	raise(SIGKILL);
}

/* Put revision "tag" (NFILES files named f<i>, content tag) in the archive. */
static void
make_revision(struct fx *f, const char *tag)
{
	struct err err = ERR_INIT;
	char rel[64], *dir;
	int i;

	tu_rmdir(xstrdup(f->archive));
	dir = xasprintf("%s/app/odd", f->archive);
	assert_int_equal(fsutil_mkdir_p(dir, 0755, &err), 0);
	free(dir);
	dir = xasprintf("%s/app/even", f->archive);
	assert_int_equal(fsutil_mkdir_p(dir, 0755, &err), 0);
	free(dir);
	for (i = 0; i < NFILES; i++) {
		snprintf(rel, sizeof(rel), "app/%s/f%03d",
		    i % 2 ? "odd" : "even", i);
		free(tu_write(f->archive, rel, tag)); /* no fsync: fast */
	}
	snprintf(rel, sizeof(rel), "app/only-%s", tag);
	free(tu_write(f->archive, rel, tag));
}

static const char whole_app[] = "version: 0.0\nos: linux\nfiles:\n"
				"  - source: app\n"
				"    destination: DEST/site\n";

/* The destination holds exactly revision tag, and the records say so. */
static void
assert_exactly(struct fx *f, const char *tag)
{
	char *site = xasprintf("%s/site", f->dest);
	char *only = xasprintf("%s/site/only-%s", f->dest, tag);
	char *pending = instr_path(f, STATE_CLEANUP_PENDING);
	char *cleanup = instruction(f, STATE_CLEANUP);
	char rel[64], *text;
	size_t lines = 0;
	const char *p;
	int i;

	/* NFILES files, two directories, only-<tag>: nothing else */
	assert_int_equal(tu_count_tree(site), NFILES + 3);
	assert_true(tu_exists(only));
	for (i = 0; i < NFILES; i += 37) {
		snprintf(rel, sizeof(rel), "site/%s/f%03d",
		    i % 2 ? "odd" : "even", i);
		text = read_rel(f->dest, rel);
		assert_string_equal(text, tag);
		free(text);
	}
	assert_false(tu_exists(pending));
	/* the site directory and everything below it */
	for (p = cleanup; *p != '\0'; p++)
		lines += *p == '\n';
	if (lines != NFILES + 4)
		print_message("%s\n", cleanup);
	assert_int_equal(lines, NFILES + 4);
	free(site);
	free(only);
	free(pending);
	free(cleanup);
}

static void
crash__sigkill_mid_install__either_revision_redeploys_exactly(void **state)
{
	struct fx *f = *state;
	const char *again[] = { "B", "A" };
	size_t k;

	for (k = 0; k < 2; k++) {
		struct install_opts opts = { .root_dir = f->root,
			.group_id = "dg-1",
			.archive_dir = f->archive,
			.deployment_feb = APPSPEC_FEB_DISALLOW,
			.progress = kill_at_progress };
		struct appspec *spec;
		struct err err = ERR_INIT;
		char *temp;
		int status;
		pid_t pid;

		make_revision(f, "A");
		install_ok(f, whole_app, APPSPEC_FEB_DISALLOW);
		assert_exactly(f, "A");
		make_revision(f, "B");
		spec = spec_for(f, whole_app);
		opts.appspec = spec;
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			install_run(&opts, NULL, &err);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		appspec_free(spec);
		/* half A, half B, and a temporary file of the dead writer */
		temp = xasprintf("site/odd/.cdagent-%ld-9", (long)pid);
		put(f->dest, temp, "torn", 0600);
		free(temp);
		make_revision(f, again[k]);
		install_ok(f, whole_app, APPSPEC_FEB_DISALLOW);
		assert_exactly(f, again[k]);
		tu_rmdir(xasprintf("%s/site", f->dest));
		temp = instr_path(f, STATE_CLEANUP);
		unlink(temp);
		free(temp);
	}
}

/* A file of size bytes of non-zero data (no holes) in the archive. */
static void
put_bytes(struct fx *f, const char *rel, size_t size)
{
	char *text = xmalloc(size + 1);
	char *dir = xasprintf("%s/%s", f->archive, rel);
	struct err err = ERR_INIT;

	*strrchr(dir, '/') = '\0';
	assert_int_equal(fsutil_mkdir_p(dir, 0755, &err), 0);
	memset(text, 'd', size);
	text[size] = '\0';
	free(tu_write(f->archive, rel, text));
	free(text);
	free(dir);
}

static void
full_disk__refused_before_anything_is_removed(void **state)
{
	struct fx *f = *state;
	char *small = xasprintf("%s/small", f->dest);
	char *kept = xasprintf("%s/small/app/a", f->dest);
	struct appspec *spec;
	struct err err = ERR_INIT;
	const char *yaml = "version: 0.0\nos: linux\nfiles:\n"
			   "  - source: app\n    destination: DEST/small/app\n";
	char rel[32];
	int i;

	assert_int_equal(mkdir(small, 0755), 0);
	if (mount("tmpfs", small, "tmpfs", 0, "size=1m,nr_inodes=64") < 0) {
		free(small);
		free(kept);
		skip(); /* not root, or no tmpfs */
	}
	put_bytes(f, "app/a", 300 * 1024);
	install_ok(f, yaml, APPSPEC_FEB_DISALLOW);

	/* 1.2 MB on a 1 MB disk, even once a (300 KB) is removed */
	tu_rmdir(xstrdup(f->archive));
	put_bytes(f, "app/b", 600 * 1024);
	put_bytes(f, "app/c", 600 * 1024);
	spec = spec_for(f, yaml);
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), -1);
	appspec_free(spec);
	print_message("# %s\n", err.msg);
	assert_int_equal(err.code, E_LIMIT);
	assert_non_null(strstr(err.msg, "not enough space"));
	assert_non_null(strstr(err.msg, small));
	assert_true(tu_exists(kept));

	/* 100 inodes on a disk that has 64 */
	tu_rmdir(xstrdup(f->archive));
	for (i = 0; i < 100; i++) {
		snprintf(rel, sizeof(rel), "app/f%d", i);
		put_bytes(f, rel, 1);
	}
	spec = spec_for(f, yaml);
	err_clear(&err);
	assert_int_equal(
	    run_install(f, spec, APPSPEC_FEB_DISALLOW, NULL, &err), -1);
	appspec_free(spec);
	print_message("# %s\n", err.msg);
	assert_non_null(strstr(err.msg, "inodes"));
	assert_true(tu_exists(kept));
	assert_int_equal(umount2(small, MNT_DETACH), 0);
	free(small);
	free(kept);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(file__missing_destination__mkdir_then_copy),
		T(file__nested_missing_dirs__outermost_first),
		T(directory__copied_recursively_in_name_order),
		T(whole_revision__slash_source),
		T(existing_dir__not_recreated_or_recorded),
		T(disallow__existing_file__fails_and_changes_nothing),
		T(overwrite_and_retain__deployment_value),
		T(appspec_feb__overrides_deployment),
		T(second_install__removes_files_of_the_first),
		T(bug23__invalid_new_install__previous_files_untouched),
		T(bug24__overwritten_preexisting_file__survives_next_install),
		T(bug29__cleanup_names_with_spaces_and_torn_line),
		T(copy__atomic_replace_new_inode_no_temp_left),
		T(copy__keeps_mode_mtime_and_symlinks),
		T(conflicts__same_target_twice_named),
		T(source_outside_revision__refused),
		T(file_in_the_way_of_a_directory__refused),
		T(permissions__mode_on_file_and_pattern_on_dir),
		T(permissions__overlap__refused_before_changes),
		T(permissions__default_acl_on_file__refused),
		T(permissions__owner_group_and_unknown_user),
		T(owner__root_file_in_setgid_dir__keeps_group_0),
		T(permissions__acl_applied),
		T(acl_text__v1_pinned_full_acl),
		T(selinux_context__without_selinux__warns_and_succeeds),
		T(cleanup__line_not_planned_by_its_install__skipped_and_kept),
		T(remove__through_a_symlinked_directory__never_follows),
		T(install__destination_with_line_break__refused_nothing_changed),
		T(name_of_255_bytes__installs_and_is_removed),
		T(sparse_file__holes_kept),
		T(full_disk__refused_before_anything_is_removed),
		T(crash__sigkill_mid_install__either_revision_redeploys_exactly),
	};

	return cmocka_run_group_tests_name("install", tests, NULL, NULL);
}
