/* Unit tests for state: paths, instruction files, revision retention. */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "state.h"
#include "testutil.h"
#include "xalloc.h"

/* Create ROOT/GID/DID and return its path. */
static char *
make_revision(const char *root, const char *gid, const char *did)
{
	struct err err = ERR_INIT;
	char *droot = state_droot(root, gid, did, &err);

	assert_non_null(droot);
	assert_int_equal(state_prepare_droot(droot, &err), 0);
	return droot;
}

static int
revision_exists(const char *root, const char *gid, const char *did)
{
	char *p = xasprintf("%s/%s/%s", root, gid, did);
	int r = tu_exists(p);

	free(p);
	return r;
}

static void
paths__match_v1_layout(void **state)
{
	struct err err = ERR_INIT;
	char *droot = state_droot("/opt/root", "dg-1", "d-123", &err);
	char *p = state_instruction_path("/opt/root", "dg-1", STATE_CLEANUP);

	assert_string_equal(droot, "/opt/root/dg-1/d-123");
	assert_string_equal(
	    p, "/opt/root/deployment-instructions/dg-1-cleanup");
	free(p);
	p = state_instruction_path("/r", "g", STATE_LAST_SUCCESSFUL);
	assert_string_equal(
	    p, "/r/deployment-instructions/g_last_successful_install");
	free(p);
	p = state_instruction_path("/r", "g", STATE_INSTALL_JSON);
	assert_string_equal(p, "/r/deployment-instructions/g-install.json");
	free(p);
	free(droot);
}

static void
droot__unsafe_ids__refused(void **state)
{
	struct err err = ERR_INIT;

	assert_null(state_droot("/r", "../etc", "d-1", &err));
	assert_int_equal(err.code, E_UNSAFE);
	assert_non_null(strstr(err.msg, "deployment group id"));
	err_clear(&err);
	assert_null(state_droot("/r", "g", "..", &err));
	assert_non_null(strstr(err.msg, "deployment id"));
	err_clear(&err);
	assert_null(state_droot("/r", "g", "", &err));
	err_clear(&err);
	assert_null(state_droot("/r", "g", "a\nb", &err));
}

static void
last_successful__roundtrip_without_newline(void **state)
{
	const char *root = *state;
	struct err err = ERR_INIT;
	char *out = NULL, *path, *text = NULL;

	assert_int_equal(state_get_last_successful(root, "g", &out, &err), 0);
	assert_null(out);
	assert_int_equal(
	    state_set_last_successful(root, "g", "/r/g/d-1", &err), 0);
	path = state_instruction_path(root, "g", STATE_LAST_SUCCESSFUL);
	assert_int_equal(fsutil_read_file(path, 100, &text, NULL, &err), 0);
	assert_string_equal(text, "/r/g/d-1");
	free(text);
	assert_int_equal(state_get_last_successful(root, "g", &out, &err), 0);
	assert_string_equal(out, "/r/g/d-1");
	free(out);
	/* a v1 file with a trailing newline reads the same */
	free(tu_write(root, "deployment-instructions/g_most_recent_install",
	    "/r/g/d-2\n"));
	assert_int_equal(state_get_most_recent(root, "g", &out, &err), 0);
	assert_string_equal(out, "/r/g/d-2");
	free(out);
	free(path);
}

static void
prune__within_limit__keeps_all(void **state)
{
	const char *root = *state;
	struct err err = ERR_INIT;
	int deleted = -1;

	free(make_revision(root, "g", "d-1"));
	free(make_revision(root, "g", "d-2"));
	free(make_revision(root, "g", "d-3"));
	assert_int_equal(state_prune(root, "g", "d-3", 5, &deleted, &err), 0);
	assert_int_equal(deleted, 0);
	assert_true(revision_exists(root, "g", "d-1"));
}

static void
prune__over_limit__deletes_oldest_keeps_current(void **state)
{
	const char *root = *state;
	struct err err = ERR_INIT;
	const char *ids[] = { "d-A", "d-B", "d-C", "d-D", "d-E" };
	int deleted = -1;
	size_t i;

	for (i = 0; i < 5; i++)
		free(make_revision(root, "g", ids[i]));
	assert_int_equal(state_prune(root, "g", "d-E", 3, &deleted, &err), 0);
	assert_int_equal(deleted, 2);
	assert_false(revision_exists(root, "g", "d-A"));
	assert_false(revision_exists(root, "g", "d-B"));
	assert_true(revision_exists(root, "g", "d-C"));
	assert_true(revision_exists(root, "g", "d-D"));
	assert_true(revision_exists(root, "g", "d-E"));
}

static void
prune__preserves_last_successful(void **state)
{
	const char *root = *state;
	struct err err = ERR_INIT;
	char *oldest = make_revision(root, "g", "d-1");
	int deleted = -1;

	free(make_revision(root, "g", "d-2"));
	free(make_revision(root, "g", "d-3"));
	assert_int_equal(state_set_last_successful(root, "g", oldest, &err), 0);
	assert_int_equal(state_prune(root, "g", "d-3", 2, &deleted, &err), 0);
	assert_int_equal(deleted, 1);
	assert_true(revision_exists(root, "g", "d-1"));
	assert_false(revision_exists(root, "g", "d-2"));
	assert_true(revision_exists(root, "g", "d-3"));
	free(oldest);
}

static void
prune__orders_by_creation_not_mtime(void **state)
{
	const char *root = *state;
	struct err err = ERR_INIT;
	char *first = make_revision(root, "g", "d-Z");
	struct timespec later[2];
	int deleted = -1;

	free(make_revision(root, "g", "d-Y"));
	free(make_revision(root, "g", "d-X"));
	/* a later hook run touched the oldest revision (#57) */
	clock_gettime(CLOCK_REALTIME, &later[0]);
	later[0].tv_sec += 3600;
	later[1] = later[0];
	assert_int_equal(utimensat(AT_FDCWD, first, later, 0), 0);
	assert_int_equal(state_prune(root, "g", "d-X", 2, &deleted, &err), 0);
	assert_int_equal(deleted, 1);
	assert_false(revision_exists(root, "g", "d-Z"));
	assert_true(revision_exists(root, "g", "d-Y"));
	free(first);
}

static void
prune__stray_files_ignored(void **state)
{
	const char *root = *state;
	struct err err = ERR_INIT;
	char *dir;
	int deleted = -1;

	free(make_revision(root, "g", "d-1"));
	free(make_revision(root, "g", "d-2"));
	dir = xasprintf("%s/g", root);
	free(tu_write(dir, "notes.txt", "x"));
	free(tu_write(dir, ".DS_Store", "x"));
	assert_int_equal(state_prune(root, "g", "d-2", 2, &deleted, &err), 0);
	assert_int_equal(deleted, 0); /* v1 counted the files (bug 33) */
	assert_true(revision_exists(root, "g", "d-1"));
	assert_true(revision_exists(root, "g", "notes.txt"));
	free(dir);
}

static void
prune__invalid_limit__error_not_signal(void **state)
{
	const char *root = *state;
	struct err err = ERR_INIT;

	assert_int_equal(state_prune(root, "g", "d-1", 0, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "max_revisions"));
}

static void
prune__missing_group__nothing_to_do(void **state)
{
	struct err err = ERR_INIT;
	int deleted = -1;

	assert_int_equal(
	    state_prune(*state, "nope", "d-1", 1, &deleted, &err), 0);
	assert_int_equal(deleted, 0);
}

static void
prune__symlinked_revision_not_followed(void **state)
{
	const char *root = *state;
	struct err err = ERR_INIT;
	char *outside = xasprintf("%s/outside", root);
	char *link = xasprintf("%s/g/d-link", root);
	char *precious;

	free(make_revision(root, "g", "d-1"));
	free(make_revision(root, "g", "d-2"));
	assert_int_equal(mkdir(outside, 0755), 0);
	precious = tu_write(outside, "keep", "x");
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(state_prune(root, "g", "d-2", 1, NULL, &err), 0);
	assert_true(tu_exists(precious));
	free(precious);
	free(outside);
	free(link);
}

static void
mkdir_in(const char *root, const char *name)
{
	char *path = xasprintf("%s/%s", root, name);

	assert_int_equal(mkdir(path, 0755), 0);
	free(path);
}

/* ROOT/.cdagent-trash entries other than lock files. */
static int
trash_entries(const char *root)
{
	char *path = xasprintf("%s/.cdagent-trash", root);
	DIR *dir = opendir(path);
	struct dirent *de;
	int n = 0;

	free(path);
	if (dir == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.' && strstr(de->d_name, ".lock") == NULL)
			n++;
	closedir(dir);
	return n;
}

static void
prune__removal_interrupted_by_a_crash__trash_emptied_next_time(void **state)
{
	const char *root = *state;
	struct err err = ERR_INIT;
	char *half = xasprintf("%s/.cdagent-trash/4242-0/sub", root);
	char *lock = xasprintf("%s/.cdagent-trash/g.lock", root);
	char *file;
	int deleted = -1;

	/* a revision half removed when the agent was killed */
	free(make_revision(root, "g", "d-1"));
	free(make_revision(root, "g", "d-2"));
	mkdir_in(root, ".cdagent-trash");
	mkdir_in(root, ".cdagent-trash/4242-0");
	mkdir_in(root, ".cdagent-trash/4242-0/sub");
	free(tu_write(root, ".cdagent-trash/g.lock", ""));
	file = tu_write(half, "f", "x");
	assert_int_equal(state_prune(root, "g", "d-2", 5, &deleted, &err), 0);
	assert_int_equal(deleted, 0);
	assert_false(tu_exists(file));
	assert_int_equal(trash_entries(root), 0);
	assert_true(tu_exists(lock));
	assert_true(revision_exists(root, "g", "d-1"));
	free(file);
	free(half);
	free(lock);
}

static void
prune_start__removes_in_background__wait_returns_when_done(void **state)
{
	const char *root = *state;
	struct err err = ERR_INIT;
	const char *ids[] = { "d-A", "d-B", "d-C", "d-D", "d-E" };
	char name[32];
	size_t i, j;

	for (i = 0; i < 5; i++) {
		char *droot = make_revision(root, "g", ids[i]);

		/* big enough that the removal outlasts a missing wait */
		for (j = 0; i < 2 && j < 2000; j++) {
			snprintf(name, sizeof(name), "f%zu", j);
			free(tu_write(droot, name, "x"));
		}
		free(droot);
	}
	assert_int_equal(state_prune_start(root, "g", "d-E", 3, &err), 0);
	assert_int_equal(state_prune_wait(root, "g", &err), 0);
	assert_false(revision_exists(root, "g", "d-A"));
	assert_false(revision_exists(root, "g", "d-B"));
	assert_true(revision_exists(root, "g", "d-C"));
	assert_true(revision_exists(root, "g", "d-E"));
	assert_int_equal(trash_entries(root), 0);
}

static void
prune_wait__never_started__returns_at_once(void **state)
{
	struct err err = ERR_INIT;

	assert_int_equal(state_prune_wait(*state, "g", &err), 0);
	assert_int_equal(state_prune_wait(*state, "g/..", &err), -1);
}

static void
group_id__reserved_or_too_long__usage_error_names_limit(void **state)
{
	static const char *const bad[] = { "deployment-instructions",
		"deployment-logs", "ongoing-deployment", ".cdagent-locks",
		".hidden" };
	struct err err = ERR_INIT;
	char name[STATE_GROUP_ID_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&err);
		assert_int_equal(
		    state_check_group_id(bad[i], "group", &err), -1);
		assert_int_equal(err.code, E_INVALID);
		assert_non_null(strstr(err.msg, bad[i]));
	}
	memset(name, 'g', STATE_GROUP_ID_MAX);
	name[STATE_GROUP_ID_MAX] = '\0';
	err_clear(&err);
	assert_int_equal(state_check_group_id(name, "group", &err), 0);
	name[STATE_GROUP_ID_MAX] = 'g';
	name[STATE_GROUP_ID_MAX + 1] = '\0';
	assert_int_equal(state_check_group_id(name, "group", &err), -1);
	assert_non_null(strstr(err.msg, "at most 219 bytes"));
}

static void
reuse_id__accepts_real_deployment_id_shapes(void **state)
{
	static const char *const ids[] = { "d-A1B2C3D4E", "d-0",
		"d-ABCDEFGHI" };
	char longest[STATE_REUSE_ID_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_true(state_valid_reuse_id(ids[i], strlen(ids[i])));
	memset(longest, 'Z', sizeof(longest));
	memcpy(longest, "d-", 2);
	assert_true(state_valid_reuse_id(longest, STATE_REUSE_ID_MAX));
}

static void
reuse_id__rejects_path_separators_and_traversal(void **state)
{
	static const char *const ids[] = { "d-../../etc", "d-A/B", "d-A\\B",
		"../d-ABC", "/d-ABC", "d-A.B", "d-", "", "d-abc", "not-an-id",
		"d-A B", "D-ABC", "d_ABC", "d-ABC\n" };
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_false(state_valid_reuse_id(ids[i], strlen(ids[i])));
	assert_false(state_valid_reuse_id("d-A\0B", 5));
	assert_false(state_valid_reuse_id(NULL, 0));
}

static void
reuse_id__rejects_absurdly_long_id(void **state)
{
	char id[4096];

	memset(id, 'A', sizeof(id));
	memcpy(id, "d-", 2);
	assert_false(state_valid_reuse_id(id, STATE_REUSE_ID_MAX + 1));
	assert_false(state_valid_reuse_id(id, sizeof(id)));
}

#define T(name)                                                                \
	cmocka_unit_test_setup_teardown(                                       \
	    name, tu_setup_tmpdir, tu_teardown_tmpdir)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(paths__match_v1_layout),
		T(droot__unsafe_ids__refused),
		T(group_id__reserved_or_too_long__usage_error_names_limit),
		T(last_successful__roundtrip_without_newline),
		T(prune__within_limit__keeps_all),
		T(prune__over_limit__deletes_oldest_keeps_current),
		T(prune__preserves_last_successful),
		T(prune__orders_by_creation_not_mtime),
		T(prune__stray_files_ignored),
		T(prune__invalid_limit__error_not_signal),
		T(prune__missing_group__nothing_to_do),
		T(prune__symlinked_revision_not_followed),
		T(prune__removal_interrupted_by_a_crash__trash_emptied_next_time),
		T(prune_start__removes_in_background__wait_returns_when_done),
		T(prune_wait__never_started__returns_at_once),
		cmocka_unit_test(reuse_id__accepts_real_deployment_id_shapes),
		cmocka_unit_test(
		    reuse_id__rejects_path_separators_and_traversal),
		cmocka_unit_test(reuse_id__rejects_absurdly_long_id),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
