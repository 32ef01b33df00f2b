/*
 * exec: one command of a deployment (v1 §3.3-3.6) on top of state, unpack,
 * appspec, install and hook.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "exec.h"
#include "fsutil.h"
#include "install.h"
#include "json.h"
#include "log.h"
#include "state.h"
#include "xalloc.h"

const char *const exec_default_events[] = {
	"BeforeBlockTraffic",
	"AfterBlockTraffic",
	"ApplicationStop",
	"DownloadBundle",
	"BeforeInstall",
	"Install",
	"AfterInstall",
	"ApplicationStart",
	"ValidateService",
	"BeforeAllowTraffic",
	"AfterAllowTraffic",
};
const size_t exec_ndefault_events =
    sizeof(exec_default_events) / sizeof(exec_default_events[0]);

void
exec_result_clear(struct exec_result *res)
{
	free(res->script_name);
	free(res->message);
	free(res->log);
	for (size_t i = 0; i < res->nwarnings; i++)
		free(res->warnings[i]);
	free(res->warnings);
	memset(res, 0, sizeof(*res));
}

static int __attribute__((format(printf, 3, 4)))
fail(struct exec_result *res, enum hook_code code, const char *fmt, ...)
{
	va_list ap;

	free(res->message);
	res->code = code;
	va_start(ap, fmt);
	res->message = xvasprintf(fmt, ap);
	va_end(ap);
	return -1;
}

static int
is_default_event(const char *name)
{
	size_t i;

	for (i = 0; i < exec_ndefault_events; i++)
		if (strcmp(name, exec_default_events[i]) == 0)
			return 1;
	return 0;
}

/* The deployment's custom events: APLE minus the eleven defaults. */
static size_t
custom_events(const struct exec_spec *spec, const char **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < spec->nall_possible_events && n < max; i++)
		if (!is_default_event(spec->all_possible_events[i]))
			out[n++] = spec->all_possible_events[i];
	return n;
}

static void
report(
    const struct exec_env *env, const char *what, uint64_t done, uint64_t total)
{
	if (env->progress != NULL)
		env->progress(what, done, total, env->progress_arg);
}

static void
unpack_progress(uint64_t bytes, uint64_t entries, void *arg)
{
	const struct exec_env *env = arg;

	(void)entries;
	report(env, "unpacked", bytes, 0);
}

static void
install_progress(uint64_t files, uint64_t bytes, void *arg)
{
	const struct exec_env *env = arg;

	(void)files;
	report(env, "installed", bytes, 0);
}

/* Local File: link DROOT/bundle.tar to the bundle, or copy it (v1 §5.3). */
static int
link_local_file(const char *location, const char *bundle, struct err *err)
{
	if (unlink(bundle) < 0 && errno != ENOENT)
		return err_sys(err, "cannot replace %s", bundle);
	if (symlink(location, bundle) < 0)
		return err_sys(err, "cannot link %s to %s", bundle, location);
	return 0;
}

static void
bundle_progress(const char *what, uint64_t done, uint64_t total, void *arg)
{
	report(arg, what, done, total);
}

/* S3 or GitHub into DROOT/bundle.tar; S3's ETag into .bundle-etag. */
static int
fetch_remote(const struct exec_env *env, const struct exec_spec *spec,
    const char *droot, const char *bundle, struct err *err)
{
	struct bundle_env benv;
	struct bundle_result bres;
	int ret;

	if (env->bundle == NULL)
		return err_set(err, E_INTERNAL,
		    "no S3 or GitHub access was set up for this command");
	benv = *env->bundle;
	benv.progress = bundle_progress;
	benv.progress_arg = (void *)(uintptr_t)env;
	if (unlink(bundle) < 0 && errno != ENOENT)
		return err_sys(err, "cannot replace %s", bundle);
	if (spec->revision == EXEC_REV_S3) {
		struct bundle_s3 s3 = { spec->bucket, spec->key, spec->version,
			spec->etag };

		ret = bundle_fetch_s3(&benv, &s3, bundle, &bres, err);
		if (ret == 0 && bres.etag != NULL && *bres.etag != '\0') {
			char *path = xasprintf("%s/.bundle-etag", droot);
			struct err ignored = ERR_INIT;

			/* Best effort, as v2: hooks fall back to it. */
			if (fsutil_write_atomic(path, bres.etag,
				strlen(bres.etag), 0644, &ignored) < 0)
				log_warn("%s", ignored.msg);
			free(path);
		}
	} else {
		struct bundle_github gh = { spec->account, spec->repository,
			spec->commit_id, spec->github_token,
			spec->bundle_type == UNPACK_ZIP };

		ret = bundle_fetch_github(&benv, &gh, bundle, &bres, err);
	}
	if (ret == 0)
		report(env, "downloaded", bres.bytes, bres.bytes);
	bundle_result_clear(&bres);
	return ret;
}

/*
 * v2 §3.3: a bounce/restart deployment names an earlier deployment of the
 * group whose archive it may copy instead of downloading the bundle again.
 * Any doubt (a malformed id, this deployment itself, a missing, empty or
 * appspec-less archive, one outside the group) means a normal download,
 * with a warning: reuse never fails a deployment.  Returns 1 when the
 * archive was reused.
 */
static int
try_reuse(const struct exec_env *env, const struct exec_spec *spec,
    const char *droot, const char *archive, const char *bundle,
    const struct unpack_opts *opts, struct unpack_stats *stats)
{
	const struct cfg *cfg = env->cfg;
	const char *src = spec->reuse_archive_from;
	char *group = NULL, *src_droot = NULL, *src_archive = NULL;
	char *real_group = NULL, *real_src = NULL, *path = NULL;
	const char *why = NULL;
	struct err err = ERR_INIT;
	struct stat st;
	int reused = 0;

	if (src == NULL || !cfg->enable_archive_reuse)
		return 0;
	if (!state_valid_reuse_id(src, strlen(src))) {
		why = "it is not a deployment id";
		goto out;
	}
	if (strcmp(src, spec->deployment_id) == 0) {
		why = "it is this deployment";
		goto out;
	}
	group = xasprintf("%s/%s", cfg->root_dir, spec->deployment_group_id);
	src_droot = xasprintf("%s/%s", group, src);
	src_archive = xasprintf("%s/%s", src_droot, STATE_ARCHIVE_DIR);
	if (lstat(src_archive, &st) < 0 || !S_ISDIR(st.st_mode)) {
		why = "its archive is not a directory";
		goto out;
	}
	path = xasprintf("%s/%s", src_archive,
	    spec->appspec_filename != NULL ? spec->appspec_filename
					   : "appspec.yml");
	if (access(path, F_OK) < 0) {
		why = "its archive has no AppSpec file (it is empty or "
		      "incomplete)";
		goto out;
	}
	real_group = realpath(group, NULL);
	real_src = realpath(src_archive, NULL);
	if (real_group == NULL || real_src == NULL ||
	    strncmp(real_src, real_group, strlen(real_group)) != 0 ||
	    real_src[strlen(real_group)] != '/') {
		why = "its archive is outside the deployment group";
		goto out;
	}
	if (unpack_bundle(src_archive, UNPACK_DIRECTORY, archive, opts, stats,
		&err) < 0) {
		why = err.msg;
		goto out;
	}
	free(path);
	path = xasprintf("%s/%s", src_droot, STATE_BUNDLE_FILE);
	if (unlink(bundle) < 0 && errno != ENOENT)
		log_warn("cannot remove %s: %s", bundle, strerror(errno));
	/* A hard link: the source may be pruned later (never a symlink). */
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    link(path, bundle) < 0)
		log_warn(
		    "cannot link %s to %s: %s", bundle, path, strerror(errno));
	free(path);
	path = xasprintf("%s/.bundle-etag", src_droot);
	{
		char *etag = NULL, *dst = xasprintf("%s/.bundle-etag", droot);
		size_t len;
		struct err ignored = ERR_INIT;

		if (fsutil_read_file(path, 4096, &etag, &len, &ignored) == 0)
			(void)fsutil_write_atomic(
			    dst, etag, len, 0644, &ignored);
		free(etag);
		free(dst);
	}
	log_info("reused the archive of deployment %s instead of downloading "
		 "the bundle",
	    src);
	reused = 1;
out:
	if (why != NULL)
		log_warn("not reusing the archive of deployment %s (%s); "
			 "downloading the bundle",
		    src, why);
	free(group);
	free(src_droot);
	free(src_archive);
	free(real_group);
	free(real_src);
	free(path);
	return reused;
}

static void
write_bundle_source(const char *droot, const char *source)
{
	char *path = xasprintf("%s/.bundle-source", droot);
	struct err ignored = ERR_INIT;

	(void)fsutil_write_atomic(path, source, strlen(source), 0644, &ignored);
	free(path);
}

static int check_new_revision(const struct exec_env *env,
    const struct exec_spec *spec, const char *archive, struct exec_result *res);

static struct unpack_opts
unpack_opts_for(const struct exec_env *env, const struct exec_spec *spec)
{
	const struct cfg *cfg = env->cfg;
	struct unpack_opts opts = {
		.max_bytes = cfg->archive_max_extraction_size,
		.appspec_name = spec->appspec_filename,
		.keep_ownership = !cfg->ignore_ownership_in_bundle,
		.progress = unpack_progress,
		.progress_arg = (void *)(uintptr_t)env,
	};

	return opts;
}

/* Set when the bundle in DROOT/bundle.tar was fetched before ApplicationStop
 * and is whole: DownloadBundle then does not fetch it again. */
#define PREFETCHED_MARK ".bundle-prefetched"

static int
prefetched(const char *droot)
{
	char *path = xasprintf("%s/%s", droot, PREFETCHED_MARK);
	char *bundle = xasprintf("%s/%s", droot, STATE_BUNDLE_FILE);
	int found = access(path, F_OK) == 0 && access(bundle, F_OK) == 0;

	free(path);
	free(bundle);
	return found;
}

/* Set when DROOT/.precheck holds the new revision unpacked whole and
 * checked before ApplicationStop: DownloadBundle then renames it into place
 * instead of unpacking the bundle a second time. */
#define PRECHECK_DIR ".precheck"
#define PRECHECKED_MARK ".precheck-ok"

/*
 * Unpack the bundle into archive, or take the copy the check before
 * ApplicationStop unpacked from the same bundle.  A mark without its copy
 * (a crash between the rename and the unlink) falls back to unpacking.
 */
static int
unpack_or_take(const char *droot, const char *from, enum unpack_format format,
    const char *archive, const struct unpack_opts *opts,
    struct unpack_stats *stats, int *taken, struct err *err)
{
	char *mark = xasprintf("%s/%s", droot, PRECHECKED_MARK);
	char *stage = xasprintf("%s/%s", droot, PRECHECK_DIR);
	struct err ignored = ERR_INIT;
	struct stat st;
	int ret;

	if (access(mark, F_OK) == 0 && lstat(stage, &st) == 0 &&
	    S_ISDIR(st.st_mode) && fsutil_rm_rf(archive, &ignored) == 0 &&
	    rename(stage, archive) == 0) {
		log_info("using the revision unpacked and checked before "
			 "ApplicationStop");
		*taken = 1;
		ret = 0;
	} else {
		err_clear(&ignored);
		(void)fsutil_rm_rf(stage, &ignored);
		ret = unpack_bundle(from, format, archive, opts, stats, err);
	}
	(void)unlink(mark);
	free(mark);
	free(stage);
	return ret;
}

static int
download_bundle(const struct exec_env *env, const struct exec_spec *spec,
    const char *droot, struct exec_result *res)
{
	const struct cfg *cfg = env->cfg;
	struct unpack_opts opts = unpack_opts_for(env, spec);
	struct unpack_stats stats;
	struct err err = ERR_INIT;
	char *archive = xasprintf("%s/%s", droot, STATE_ARCHIVE_DIR);
	char *bundle = xasprintf("%s/%s", droot, STATE_BUNDLE_FILE);
	int taken = 0, ret = -1;

	/* an earlier deployment's retention never overlaps this one */
	if (state_prune_wait(cfg->root_dir, spec->deployment_group_id, &err) <
	    0) {
		fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
		goto out;
	}
	memset(&stats, 0, sizeof(stats));
	if (try_reuse(env, spec, droot, archive, bundle, &opts, &stats)) {
		write_bundle_source(droot, "archive-reuse");
		free(res->message);
		res->message = xstrdup("Succeeded: BundleSource=archive-reuse");
		goto unpacked;
	}
	if (spec->reuse_archive_from != NULL)
		write_bundle_source(droot, "downloaded");
	switch (spec->revision) {
	case EXEC_REV_LOCAL_DIRECTORY:
		if (unpack_or_take(droot, spec->location, UNPACK_DIRECTORY,
			archive, &opts, &stats, &taken, &err) < 0) {
			fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
			goto out;
		}
		break;
	case EXEC_REV_LOCAL_FILE:
		if (link_local_file(spec->location, bundle, &err) < 0 ||
		    unpack_or_take(droot, bundle, spec->bundle_type, archive,
			&opts, &stats, &taken, &err) < 0) {
			fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
			goto out;
		}
		break;
	case EXEC_REV_S3:
	case EXEC_REV_GITHUB:
		if (prefetched(droot))
			log_info("using the bundle fetched before "
				 "ApplicationStop");
		else if (fetch_remote(env, spec, droot, bundle, &err) < 0) {
			fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
			goto out;
		}
		if (unpack_or_take(droot, bundle, spec->bundle_type, archive,
			&opts, &stats, &taken, &err) < 0) {
			fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
			goto out;
		}
		break;
	}
unpacked:
	if (stats.stripped_top_dir)
		log_info("the bundle's single top-level directory was "
			 "stripped");
	report(env, "unpacked", stats.bytes, stats.bytes);
	/* a taken copy was checked, and its warnings logged, already */
	if (!taken && check_new_revision(env, spec, archive, res) < 0)
		goto out;
	if (state_set_most_recent(
		cfg->root_dir, spec->deployment_group_id, droot, &err) < 0) {
		fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
		goto out;
	}
	ret = 0;
out:
	free(archive);
	free(bundle);
	return ret;
}

/* v1 §3.4 step 4: the appspec's hooks against AllPossibleLifecycleEvents. */
static int
check_events(const struct exec_spec *spec, const struct appspec *as,
    struct exec_result *res)
{
	char *missing = NULL;
	size_t i, j;
	int ret = 0;

	if (spec->nall_possible_events == 0)
		return 0;
	for (i = 0; i < spec->nall_possible_events; i++) {
		const char *ev = spec->all_possible_events[i];
		char *joined;

		if (is_default_event(ev) || appspec_find_hook(as, ev) != NULL)
			continue;
		joined = xasprintf("%s%s%s", missing != NULL ? missing : "",
		    missing != NULL ? ", " : "", ev);
		free(missing);
		missing = joined;
	}
	if (missing != NULL) {
		ret = fail(res, HOOK_UNKNOWN_ERROR,
		    "You specified a lifecycle event which is not a default "
		    "one and doesn't exist in your AppSpec file: %s",
		    missing);
		free(missing);
		return ret;
	}
	for (j = 0; j < as->nhooks; j++) {
		const char *name = as->hooks[j].event;
		int found = 0;

		for (i = 0; i < spec->nall_possible_events && !found; i++)
			found = strcmp(spec->all_possible_events[i], name) == 0;
		if (!found)
			return fail(res, HOOK_UNKNOWN_ERROR,
			    "%s contains unknown lifecycle events: %s",
			    as->path, name);
	}
	return 0;
}

/* The revision's appspec, with the deployment's custom events allowed and
 * its hooks matched against them (v1 §3.4 step 4). */
static int
load_appspec(const struct exec_spec *spec, const char *archive,
    struct appspec **as, struct exec_result *res)
{
	const char *custom[64];
	struct appspec_opts opts = { custom, custom_events(spec, custom, 64) };
	struct err err = ERR_INIT;

	if (appspec_load(archive, spec->appspec_filename, &opts, as, &err) < 0)
		return fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
	return check_events(spec, *as, res);
}

static void
warn_deployment(const struct exec_spec *spec, const char *msg)
{
	log_fields(LOG_LEVEL_WARN,
	    (const struct log_field[]){
		{ "DEPLOYMENT_ID", spec->deployment_id },
		{ "DEPLOYMENT_GROUP_ID", spec->deployment_group_id },
	    },
	    2, "deployment %s: %s", spec->deployment_id, msg);
}

/*
 * The new revision unpacked in archive, checked before it may disrupt
 * anything: its appspec loads, its events match the deployment's, and
 * check_revision() finds no error.  Warnings are logged with the
 * deployment's fields and kept in res.
 */
static int
check_new_revision(const struct exec_env *env, const struct exec_spec *spec,
    const char *archive, struct exec_result *res)
{
	struct check_report rep;
	struct appspec *as = NULL;
	char *errors = NULL;
	size_t i;
	int ret = -1;

	(void)env;
	memset(&rep, 0, sizeof(rep));
	if (load_appspec(spec, archive, &as, res) < 0)
		goto out;
	(void)check_revision(archive, as, CHECK_HOST, &rep);
	for (i = 0; i < rep.ndiags; i++) {
		const char *msg = rep.diags[i].msg;
		char *joined;

		if (!rep.diags[i].is_error) {
			warn_deployment(spec, msg);
			res->warnings = xreallocarray(res->warnings,
			    res->nwarnings + 1, sizeof(*res->warnings));
			res->warnings[res->nwarnings++] = xstrdup(msg);
			continue;
		}
		joined = xasprintf("%s%s%s", errors != NULL ? errors : "",
		    errors != NULL ? "; " : "", msg);
		free(errors);
		errors = joined;
	}
	if (errors != NULL) {
		fail(res, HOOK_UNKNOWN_ERROR,
		    "the new revision is invalid (nothing was stopped or "
		    "changed): %s",
		    errors);
		goto out;
	}
	ret = 0;
out:
	free(errors);
	check_report_clear(&rep);
	appspec_free(as);
	return ret;
}

/*
 * Fetch the new revision and unpack it aside (DROOT/.precheck), then check
 * it.  A revision that passes is kept there, marked, for DownloadBundle to
 * take; anything else is removed.  *fetch_failed tells a bundle that could not
 * be fetched from one that is invalid.
 */
static int
precheck(const struct exec_env *env, const struct exec_spec *spec,
    const char *droot, struct exec_result *res, int *fetch_failed)
{
	struct unpack_opts opts = unpack_opts_for(env, spec);
	struct unpack_stats stats;
	struct err err = ERR_INIT;
	char *stage = xasprintf("%s/%s", droot, PRECHECK_DIR);
	char *checked = xasprintf("%s/%s", droot, PRECHECKED_MARK);
	char *bundle = xasprintf("%s/%s", droot, STATE_BUNDLE_FILE);
	char *mark = xasprintf("%s/%s", droot, PREFETCHED_MARK);
	const char *from = bundle;
	int ret = -1;

	*fetch_failed = 0;
	memset(&stats, 0, sizeof(stats));
	(void)unlink(checked);
	if (fsutil_rm_rf(stage, &err) < 0) {
		fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
		goto out;
	}
	switch (spec->revision) {
	case EXEC_REV_LOCAL_DIRECTORY:
	case EXEC_REV_LOCAL_FILE:
		from = spec->location;
		break;
	case EXEC_REV_S3:
	case EXEC_REV_GITHUB:
		if (prefetched(droot))
			break;
		if (fetch_remote(env, spec, droot, bundle, &err) < 0) {
			*fetch_failed = 1;
			fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
			goto out;
		}
		if (fsutil_write_atomic(mark, "", 0, 0644, &err) < 0)
			log_warn("%s", err.msg); /* fetched again later */
		break;
	}
	if (unpack_bundle(from,
		spec->revision == EXEC_REV_LOCAL_DIRECTORY ? UNPACK_DIRECTORY
							   : spec->bundle_type,
		stage, &opts, &stats, &err) < 0) {
		fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
		goto out;
	}
	ret = check_new_revision(env, spec, stage, res);
	/* kept for DownloadBundle (unpack_or_take), marked once whole */
	if (ret == 0 && fsutil_write_atomic(checked, "", 0, 0644, &err) == 0)
		goto kept;
out:
	err_clear(&err);
	if (fsutil_rm_rf(stage, &err) < 0)
		log_warn("%s", err.msg);
kept:
	free(checked);
	free(stage);
	free(bundle);
	free(mark);
	return ret;
}

/* A result as v1 starts one: success, until something fails. */
static void
result_begin(struct exec_result *res)
{
	memset(res, 0, sizeof(*res));
	res->code = HOOK_SUCCEEDED;
	res->message = xstrdup("Succeeded: ");
}

/* Every string of a finished result is set ("" when not used). */
static void
result_end(struct exec_result *res)
{
	if (res->script_name == NULL)
		res->script_name = xstrdup("");
	if (res->log == NULL)
		res->log = xstrdup("");
}

/* Best effort: a failure to record is logged, never a command's failure. */
static void
record_last_command(const struct exec_env *env, const struct exec_spec *spec,
    const char *droot, const char *command, int ok,
    const struct exec_result *res)
{
	struct json *doc = json_object();
	struct err err = ERR_INIT;
	char *path =
	    xasprintf("%s/%s", env->cfg->root_dir, EXEC_LAST_COMMAND_FILE);
	char *text;

	json_set(doc, "deployment_id", json_string(spec->deployment_id));
	json_set(
	    doc, "deployment_group_id", json_string(spec->deployment_group_id));
	json_set(doc, "command", json_string(command));
	json_set(doc, "status", json_string(ok ? "Succeeded" : "Failed"));
	json_set(doc, "message", json_string(res->message));
	json_set(doc, "time", json_number((double)time(NULL)));
	json_set(doc, "deployment_root", json_string(droot));
	json_set(doc, "local", json_bool(env->local));
	text = json_print(doc);
	/* Written for every command: replaced atomically, but not flushed
	 * to disk (a power loss may lose it; it only reports). */
	if (fsutil_write_replace(path, text, strlen(text), 0644, &err) < 0)
		log_warn("%s", err.msg);
	free(text);
	free(path);
	json_free(doc);
}

int
exec_precheck(const struct exec_env *env, const struct exec_spec *spec,
    struct exec_result *res)
{
	struct err err = ERR_INIT;
	char *droot = NULL;
	int fetch_failed, ret = -1;

	result_begin(res);
	droot = state_droot(env->cfg->root_dir, spec->deployment_group_id,
	    spec->deployment_id, &err);
	if (droot == NULL || state_prepare_droot(droot, &err) < 0)
		fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
	else if ((ret = precheck(env, spec, droot, res, &fetch_failed)) < 0)
		record_last_command(
		    env, spec, droot, "check of the new revision", 0, res);
	result_end(res);
	free(droot);
	return ret;
}

static int
install(const struct exec_env *env, const struct exec_spec *spec,
    const char *droot, struct exec_result *res)
{
	struct install_stats stats;
	struct appspec *as = NULL;
	struct err err = ERR_INIT;
	char *archive = xasprintf("%s/%s", droot, STATE_ARCHIVE_DIR);
	int ret = -1;

	if (load_appspec(spec, archive, &as, res) < 0)
		goto out;
	{
		struct install_opts iopts = {
			.root_dir = env->cfg->root_dir,
			.group_id = spec->deployment_group_id,
			.archive_dir = archive,
			.appspec = as,
			.deployment_feb = spec->file_exists_behavior,
			.progress = install_progress,
			.progress_arg = (void *)(uintptr_t)env,
		};

		if (install_run(&iopts, &stats, &err) < 0) {
			fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
			goto out;
		}
	}
	log_info("installed %llu files and %llu directories (%llu bytes)",
	    (unsigned long long)stats.files, (unsigned long long)stats.dirs,
	    (unsigned long long)stats.bytes);
	if (state_set_last_successful(env->cfg->root_dir,
		spec->deployment_group_id, droot, &err) < 0) {
		fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
		goto out;
	}
	ret = 0;
out:
	appspec_free(as);
	free(archive);
	return ret;
}

/* BUNDLE_* for the hooks (v1 §8.6, v2 §5.1). */
static size_t
bundle_env(const struct exec_spec *spec, const char *droot, char **out)
{
	size_t n = 0;

	if (spec->revision == EXEC_REV_S3) {
		out[n++] = xasprintf("BUNDLE_BUCKET=%s", spec->bucket);
		out[n++] = xasprintf("BUNDLE_KEY=%s", spec->key);
		if (spec->version != NULL)
			out[n++] =
			    xasprintf("BUNDLE_VERSION=%s", spec->version);
		if (spec->etag != NULL) {
			out[n++] = xasprintf("BUNDLE_ETAG=%s", spec->etag);
		} else {
			struct err err = ERR_INIT;
			char *path = xasprintf("%s/.bundle-etag", droot);
			char *text = NULL;

			if (fsutil_read_file(path, 256, &text, NULL, &err) ==
				0 &&
			    text[strspn(text, " \n")] != '\0') {
				text[strcspn(text, "\n")] = '\0';
				out[n++] = xasprintf("BUNDLE_ETAG=%s", text);
			}
			free(text);
			free(path);
		}
	} else if (spec->revision == EXEC_REV_GITHUB) {
		out[n++] = xasprintf("BUNDLE_COMMIT=%s", spec->commit_id);
	}
	out[n] = NULL;
	return n;
}

static int
lifecycle_event(const struct exec_env *env, const struct exec_spec *spec,
    const char *droot, const char *event, int check_only,
    struct exec_result *res)
{
	const struct cfg *cfg = env->cfg;
	const char *custom[64];
	char *benv[8];
	char *last = NULL, *recent = NULL;
	struct hook_context ctx;
	struct hook_result hres;
	struct err err = ERR_INIT;
	size_t i, nbenv;
	int r;

	memset(&ctx, 0, sizeof(ctx));
	ctx.root_dir = cfg->root_dir;
	ctx.deployment_id = spec->deployment_id;
	ctx.deployment_group_id = spec->deployment_group_id;
	ctx.deployment_group_name = spec->deployment_group_name;
	ctx.application_name = spec->application_name;
	ctx.deployment_creator = spec->deployment_creator;
	ctx.deployment_type = spec->deployment_type;
	ctx.appspec_filename = spec->appspec_filename;
	ctx.custom_events = custom;
	ctx.ncustom_events = custom_events(spec, custom, 64);
	nbenv = bundle_env(spec, droot, benv);
	ctx.bundle_env = (const char *const *)benv;
	ctx.local = env->local;
	if (env->local) {
		ctx.last_successful_droot = env->last_successful_droot;
		ctx.most_recent_droot = env->most_recent_droot;
	} else {
		if (state_get_last_successful(cfg->root_dir,
			spec->deployment_group_id, &last, &err) < 0 ||
		    state_get_most_recent(cfg->root_dir,
			spec->deployment_group_id, &recent, &err) < 0) {
			r = fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
			goto out;
		}
		ctx.last_successful_droot = last;
		ctx.most_recent_droot = recent;
	}
	ctx.program_name = cfg->program_name;
	ctx.enable_deployments_log = cfg->enable_deployments_log;
	ctx.restrict_env_to_allowlist = cfg->restrict_hook_env_to_allowlist;
	ctx.strip_loader_env = cfg->strip_loader_env_in_hooks;
	ctx.kill_grace_ms = (unsigned)cfg->hook_kill_grace_seconds * 1000;
	ctx.check_only = check_only;
	ctx.use_scopes = env->hook_scopes;

	r = hook_run_event(&ctx, event, &hres);
	res->code = hres.code;
	free(res->script_name);
	free(res->message);
	free(res->log);
	res->script_name = hres.script_name;
	res->message = hres.message;
	res->log = hres.log;
	res->noop = hres.noop;
	res->exit_code = hres.exit_code;
	memset(&hres, 0, sizeof(hres));
out:
	for (i = 0; i < nbenv; i++)
		free(benv[i]);
	free(last);
	free(recent);
	return r;
}

/*
 * The daemon's ApplicationStop of an in-place deployment checks the new
 * revision first; one that cannot be fetched yet is left for DownloadBundle
 * to report, as before.
 */
static int
daemon_precheck(const struct exec_env *env, const struct exec_spec *spec,
    const char *droot, struct exec_result *res)
{
	int fetch_failed;

	/* an original instance of blue/green never installs the revision */
	if (spec->deployment_type != NULL &&
	    strcmp(spec->deployment_type, "BLUE_GREEN") == 0)
		return 0;
	if (env->bundle == NULL &&
	    (spec->revision == EXEC_REV_S3 ||
		spec->revision == EXEC_REV_GITHUB))
		return 0;
	if (precheck(env, spec, droot, res, &fetch_failed) == 0)
		return 0;
	if (!fetch_failed)
		return -1;
	log_warn("deployment %s: cannot fetch the new revision before "
		 "ApplicationStop, so it is not checked yet: %s",
	    spec->deployment_id, res->message);
	free(res->message);
	res->code = HOOK_SUCCEEDED;
	res->message = xstrdup("Succeeded: ");
	return 0;
}

int
exec_command(const struct exec_env *env, const struct exec_spec *spec,
    const char *command, struct exec_result *res)
{
	const char *custom[64];
	size_t ncustom = custom_events(spec, custom, 64), i;
	struct err err = ERR_INIT;
	char *droot = NULL;
	int known = 0, ret = -1;

	result_begin(res);
	/* unknown commands fail before anything touches the disk (v1) */
	known = strcmp(command, "DownloadBundle") == 0 ||
	    strcmp(command, "Install") == 0 ||
	    appspec_is_standard_hook(command);
	for (i = 0; i < ncustom && !known; i++)
		known = strcmp(custom[i], command) == 0;
	if (!known) {
		fail(res, HOOK_UNKNOWN_ERROR, "Unsupported command type: %s",
		    command);
		goto out;
	}
	droot = state_droot(env->cfg->root_dir, spec->deployment_group_id,
	    spec->deployment_id, &err);
	if (droot == NULL || state_prepare_droot(droot, &err) < 0) {
		fail(res, HOOK_UNKNOWN_ERROR, "%s", err.msg);
		goto out;
	}
	if (strcmp(command, "DownloadBundle") == 0)
		ret = download_bundle(env, spec, droot, res);
	else if (strcmp(command, "Install") == 0) {
		ret = install(env, spec, droot, res);
		/* retention, off the critical path: Install's result is known
		 */
		if (state_prune_start(env->cfg->root_dir,
			spec->deployment_group_id, spec->deployment_id,
			env->cfg->max_revisions, &err) < 0)
			log_warn("old revisions not removed: %s", err.msg);
	} else if (!env->local && strcmp(command, "ApplicationStop") == 0 &&
	    !(spec->reuse_archive_from != NULL &&
		env->cfg->enable_archive_reuse) &&
	    daemon_precheck(env, spec, droot, res) < 0)
		ret = -1;
	else
		ret = lifecycle_event(env, spec, droot, command, 0, res);
	record_last_command(env, spec, droot, command, ret == 0, res);
out:
	result_end(res);
	free(droot);
	return ret;
}

int
exec_command_noop(const struct exec_env *env, const struct exec_spec *spec,
    const char *command)
{
	struct exec_result res;
	struct err err = ERR_INIT;
	char *droot;
	int noop = 0;

	if (strcmp(command, "DownloadBundle") == 0 ||
	    strcmp(command, "Install") == 0)
		return 0;
	if (!appspec_is_standard_hook(command))
		return 1; /* v1: not in the mapping; it then fails cleanly */
	droot = state_droot(env->cfg->root_dir, spec->deployment_group_id,
	    spec->deployment_id, &err);
	if (droot == NULL)
		return 0;
	memset(&res, 0, sizeof(res));
	/* An appspec that does not load is not a noop: running reports it. */
	if (lifecycle_event(env, spec, droot, command, 1, &res) == 0)
		noop = res.noop;
	exec_result_clear(&res);
	free(droot);
	return noop;
}
