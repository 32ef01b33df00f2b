/*
 * Unit tests for exec: commands of a deployment of a local directory
 * revision in a temporary root, as the daemon runs them (no S3 or GitHub).
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "exec.h"
#include "json.h"
#include "state.h"
#include "testutil.h"
#include "xalloc.h"

struct fixture {
	char *dir;
	char *dest;
	struct cfg *cfg;
	struct exec_env env;
	struct exec_spec spec;
};

/* A revision: appspec copying the tree to dest, an AfterInstall hook. */
static void
write_revision(struct fixture *f, const char *rev)
{
	char *text, *scripts = xasprintf("%s/scripts", rev);

	assert_int_equal(mkdir(rev, 0755), 0);
	assert_int_equal(mkdir(scripts, 0755), 0);
	text = xasprintf("version: 0.0\nos: linux\nfiles:\n"
			 "  - source: app.txt\n    destination: %s\n"
			 "hooks:\n  AfterInstall:\n"
			 "    - location: scripts/after.sh\n",
	    f->dest);
	free(tu_write(rev, "appspec.yml", text));
	free(text);
	free(tu_write(rev, "app.txt", "version 1\n"));
	text = tu_write(scripts, "after.sh",
	    "#!/bin/sh\necho \"$LIFECYCLE_EVENT $DEPLOYMENT_ID\" > "
	    "\"$(dirname \"$0\")/../../ran\"\n");
	assert_int_equal(chmod(text, 0755), 0);
	free(text);
	free(scripts);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *rev;

	f->dir = tu_mkdtemp();
	f->dest = xasprintf("%s/dest", f->dir);
	f->cfg = cfg_new();
	free(f->cfg->root_dir);
	free(f->cfg->log_dir);
	f->cfg->root_dir = xasprintf("%s/root", f->dir);
	f->cfg->log_dir = xasprintf("%s/log", f->dir);
	assert_int_equal(mkdir(f->cfg->root_dir, 0755), 0);
	assert_int_equal(mkdir(f->cfg->log_dir, 0755), 0);
	assert_int_equal(mkdir(f->dest, 0755), 0);
	rev = xasprintf("%s/rev", f->dir);
	write_revision(f, rev);
	f->env.cfg = f->cfg;
	f->spec.deployment_id = xstrdup("d-EXEC1");
	f->spec.deployment_group_id = xstrdup("g-exec");
	f->spec.deployment_group_name = xstrdup("group");
	f->spec.application_name = xstrdup("app");
	f->spec.revision = EXEC_REV_LOCAL_DIRECTORY;
	f->spec.bundle_type = UNPACK_DIRECTORY;
	f->spec.location = rev;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	exec_spec_clear(&f->spec);
	cfg_free(f->cfg);
	tu_rmdir(f->dir);
	free(f->dest);
	free(f);
	return 0;
}

/* Entries in dir, "." and ".." aside. */
static int
count_entries(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(dp);
	while ((de = readdir(dp)) != NULL)
		n += strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0;
	closedir(dp);
	return n;
}

static struct json *
last_command(const struct fixture *f)
{
	char *path =
	    xasprintf("%s/%s", f->cfg->root_dir, EXEC_LAST_COMMAND_FILE);
	char *text = tu_slurp(path);
	struct json *doc = NULL;
	struct err err = ERR_INIT;

	assert_int_equal(json_parse(text, strlen(text), path, &doc, &err), 0);
	free(text);
	free(path);
	return doc;
}

static void
command__unknown__fails_code_5_touches_nothing(void **state)
{
	struct fixture *f = *state;
	struct exec_result res;

	memset(&res, 0, sizeof(res));
	assert_int_equal(exec_command(&f->env, &f->spec, "Deploy", &res), -1);
	assert_int_equal(res.code, HOOK_UNKNOWN_ERROR);
	assert_string_equal(res.message, "Unsupported command type: Deploy");
	assert_int_equal(count_entries(f->cfg->root_dir), 0);
	exec_result_clear(&res);
}

static void
command__unsafe_group_id__fails_before_any_file(void **state)
{
	struct fixture *f = *state;
	struct exec_result res;

	free(f->spec.deployment_group_id);
	f->spec.deployment_group_id = xstrdup("../escape");
	memset(&res, 0, sizeof(res));
	assert_int_equal(
	    exec_command(&f->env, &f->spec, "DownloadBundle", &res), -1);
	assert_int_equal(res.code, HOOK_UNKNOWN_ERROR);
	assert_non_null(strstr(res.message, "deployment group id"));
	assert_int_equal(count_entries(f->cfg->root_dir), 0);
	assert_int_equal(count_entries(f->dir), 4); /* root log dest rev */
	exec_result_clear(&res);
}

static void
download_install_afterinstall__files_hook_and_record(void **state)
{
	struct fixture *f = *state;
	char *path, *text;
	struct exec_result res;
	struct json *doc;

	memset(&res, 0, sizeof(res));
	assert_int_equal(
	    exec_command(&f->env, &f->spec, "DownloadBundle", &res), 0);
	exec_result_clear(&res);
	path = xasprintf("%s/g-exec/d-EXEC1/%s/appspec.yml", f->cfg->root_dir,
	    STATE_ARCHIVE_DIR);
	assert_true(tu_exists(path));
	free(path);
	doc = last_command(f);
	assert_string_equal(json_get_string(doc, "command"), "DownloadBundle");
	assert_string_equal(json_get_string(doc, "status"), "Succeeded");
	assert_string_equal(json_get_string(doc, "deployment_id"), "d-EXEC1");
	json_free(doc);

	assert_int_equal(exec_command(&f->env, &f->spec, "Install", &res), 0);
	exec_result_clear(&res);
	path = xasprintf("%s/app.txt", f->dest);
	text = tu_slurp(path);
	assert_string_equal(text, "version 1\n");
	free(text);
	free(path);

	assert_int_equal(
	    exec_command_noop(&f->env, &f->spec, "AfterInstall"), 0);
	assert_int_equal(
	    exec_command_noop(&f->env, &f->spec, "ValidateService"), 1);
	assert_int_equal(
	    exec_command(&f->env, &f->spec, "AfterInstall", &res), 0);
	assert_int_equal(res.code, HOOK_SUCCEEDED);
	exec_result_clear(&res);
	path = xasprintf("%s/g-exec/d-EXEC1/ran", f->cfg->root_dir);
	text = tu_slurp(path);
	assert_string_equal(text, "AfterInstall d-EXEC1\n");
	free(text);
	free(path);
	doc = last_command(f);
	assert_string_equal(json_get_string(doc, "command"), "AfterInstall");
	json_free(doc);
}

static void
noop__download_and_install_never__unknown_name_always(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    exec_command_noop(&f->env, &f->spec, "DownloadBundle"), 0);
	assert_int_equal(exec_command_noop(&f->env, &f->spec, "Install"), 0);
	assert_int_equal(exec_command_noop(&f->env, &f->spec, "Deploy"), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(command__unknown__fails_code_5_touches_nothing),
		T(command__unsafe_group_id__fails_before_any_file),
		T(download_install_afterinstall__files_hook_and_record),
		T(noop__download_and_install_never__unknown_name_always),
	};

	return cmocka_run_group_tests_name("exec", tests, NULL, NULL);
}
