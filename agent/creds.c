/*
 * creds: the credentials chain, and the region and host identifier that
 * come from the same places (environment, on-premises config, IMDS).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "cfg.h"
#include "clock.h"
#include "creds.h"
#include "fsutil.h"
#include "imds.h"
#include "log.h"
#include "xalloc.h"

#define SESSION_PROFILE "default"

enum creds_kind {
	KIND_ENV,
	KIND_ONPREM_USER,
	KIND_ONPREM_SESSION,
	KIND_IMDS,
};

/* What a file was when it was last read (or tried). */
struct file_id {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct creds_chain {
	enum creds_kind kind;
	struct creds current;
	int have_current;
	long long retry_after_ms; /* no refresh before, after a failure */

	char *session_path;
	struct file_id file_seen;

	int disable_imds_v1;
	struct imds *imds;
	struct imds_identity identity;
	int have_identity;
	char *partition;

	char *env_region;
	char *env_host_id;
	char *onprem_region;
	char *onprem_arn;
	char *onprem_path;
};

/* The environment's credential variables, in the order they are tried. */
static const struct {
	const char *id;
	const char *secret;
} env_pairs[] = {
	{ "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY" },
	{ "AMAZON_ACCESS_KEY_ID", "AMAZON_SECRET_ACCESS_KEY" },
	{ "AWS_ACCESS_KEY", "AWS_SECRET_KEY" }, /* v1's on-prem names */
};

#define N_ENV_PAIRS (sizeof(env_pairs) / sizeof(env_pairs[0]))

/* Wipe and free the strings only. */
static void
clear_keys(struct creds *c)
{
	xfree_secret_str(c->access_key_id);
	xfree_secret_str(c->secret_access_key);
	xfree_secret_str(c->session_token);
	c->access_key_id = c->secret_access_key = c->session_token = NULL;
}

void
creds_clear(struct creds *c)
{
	if (c == NULL)
		return;
	clear_keys(c);
	memset(c, 0, sizeof(*c));
}

void
creds_sigv4(const struct creds *c, struct sigv4_credentials *out)
{
	out->access_key_id = c->access_key_id;
	out->secret_access_key = c->secret_access_key;
	out->session_token = c->session_token;
}

static void
copy_creds(struct creds *dst, const struct creds *src)
{
	dst->access_key_id = xstrdup(src->access_key_id);
	dst->secret_access_key = xstrdup(src->secret_access_key);
	dst->session_token =
	    src->session_token != NULL ? xstrdup(src->session_token) : NULL;
	dst->expires_ms = src->expires_ms;
	dst->source = src->source;
}

/* --- the INI parser ---------------------------------------------------- */

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim [*start, *end) in place. */
static void
trim(const char **start, const char **end)
{
	while (*start < *end && is_blank(**start))
		(*start)++;
	while (*end > *start && is_blank((*end)[-1]))
		(*end)--;
}

/* Replace *slot with a copy of [start, end), wiping the old value. */
static void
set_value(char **slot, const char *start, const char *end)
{
	xfree_secret_str(*slot);
	*slot = xstrndup(start, (size_t)(end - start));
}

int
creds_parse_ini(const char *buf, size_t len, const char *path,
    const char *profile, struct creds *out, struct err *err)
{
	static const char *const keys[] = { "aws_access_key_id",
		"aws_secret_access_key", "aws_session_token" };
	char *values[3] = { NULL, NULL, NULL };
	const char *p = buf, *end = buf + len;
	int in_profile = 0, seen_profile = 0, ret = -1;
	unsigned lineno = 0;
	size_t i;

	/* A byte-order mark from an editor. */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line = p, *line_end = nl != NULL ? nl : end;
		const char *eq, *key_end, *val;

		p = nl != NULL ? nl + 1 : end;
		lineno++;
		trim(&line, &line_end);
		if (line == line_end || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			const char *name = line + 1, *name_end = line_end - 1;

			if (line_end - line < 2 || *name_end != ']') {
				err_set(err, E_PARSE,
				    "%s:%u: a section header must end with "
				    "']'",
				    path, lineno);
				goto out;
			}
			trim(&name, &name_end);
			in_profile =
			    strlen(profile) == (size_t)(name_end - name) &&
			    memcmp(name, profile, strlen(profile)) == 0;
			seen_profile |= in_profile;
			continue;
		}
		if (!in_profile)
			continue;
		eq = memchr(line, '=', (size_t)(line_end - line));
		if (eq == NULL || eq == line) {
			err_set(err, E_PARSE,
			    "%s:%u: expected 'key = value' in profile [%s]",
			    path, lineno, profile);
			goto out;
		}
		key_end = eq;
		val = eq + 1;
		trim(&line, &key_end);
		trim(&val, &line_end);
		for (i = 0; i < 3; i++)
			if (strlen(keys[i]) == (size_t)(key_end - line) &&
			    strncasecmp(line, keys[i], strlen(keys[i])) == 0)
				set_value(&values[i], val, line_end);
	}
	if (!seen_profile) {
		err_set(err, E_NOTFOUND,
		    "%s: no [%s] profile; the file needs a [%s] section with "
		    "aws_access_key_id and aws_secret_access_key",
		    path, profile, profile);
		goto out;
	}
	for (i = 0; i < 2; i++)
		if (values[i] == NULL || values[i][0] == '\0') {
			err_set(err, E_INVALID,
			    "%s: profile [%s] has no %s%s; the credential "
			    "helper that writes this file should set it",
			    path, profile, keys[i],
			    values[i] != NULL ? " value" : "");
			goto out;
		}
	clear_keys(out);
	out->access_key_id = values[0];
	out->secret_access_key = values[1];
	if (values[2] != NULL && values[2][0] != '\0')
		out->session_token = values[2];
	else
		xfree_secret_str(values[2]);
	memset(values, 0, sizeof(values));
	ret = 0;
out:
	for (i = 0; i < 3; i++)
		xfree_secret_str(values[i]);
	return ret;
}

/* --- sources ----------------------------------------------------------- */

static char *
env_copy(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? xstrdup(v) : NULL;
}

/* The first complete pair of env_pairs: 1 found, 0 none, -1 half a pair. */
static int
load_env(struct creds *out, struct err *err)
{
	size_t i;

	for (i = 0; i < N_ENV_PAIRS; i++) {
		const char *id = getenv(env_pairs[i].id);
		const char *secret = getenv(env_pairs[i].secret);
		int has_id = id != NULL && id[0] != '\0';
		int has_secret = secret != NULL && secret[0] != '\0';

		if (!has_id && !has_secret)
			continue;
		if (!has_id || !has_secret)
			return err_set(err, E_INVALID,
			    "%s is set but %s is not; set both, or unset %s "
			    "to use the on-premises config or instance "
			    "profile",
			    has_id ? env_pairs[i].id : env_pairs[i].secret,
			    has_id ? env_pairs[i].secret : env_pairs[i].id,
			    has_id ? env_pairs[i].id : env_pairs[i].secret);
		out->access_key_id = xstrdup(id);
		out->secret_access_key = xstrdup(secret);
		out->session_token = env_copy("AWS_SESSION_TOKEN");
		out->expires_ms = 0;
		out->source = CREDS_SOURCE_ENV;
		return 1;
	}
	return 0;
}

static void
file_id_of(struct file_id *id, const struct stat *st)
{
	memset(id, 0, sizeof(*id));
	if (st == NULL)
		return;
	id->exists = 1;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
}

static int
file_id_equal(const struct file_id *a, const struct file_id *b)
{
	if (a->exists != b->exists)
		return 0;
	return !a->exists ||
	    (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
		a->mtime.tv_sec == b->mtime.tv_sec &&
		a->mtime.tv_nsec == b->mtime.tv_nsec);
}

/* Whether the session file is not what it was at the last read. */
static int
session_file_changed(const struct creds_chain *c)
{
	struct file_id now;
	struct stat st;

	file_id_of(&now, stat(c->session_path, &st) == 0 ? &st : NULL);
	return !file_id_equal(&now, &c->file_seen);
}

/*
 * Read the session credentials file.  Its identity is taken before the
 * read, so a change made during the read is seen next time.
 */
static int
load_session_file(struct creds_chain *c, struct creds *out, struct err *err)
{
	const char *path = c->session_path;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int ret = -1;

	if (stat(path, &st) < 0) {
		int saved = errno;

		file_id_of(&c->file_seen, NULL);
		if (saved == ENOENT)
			return err_set(err, E_NOTFOUND,
			    "the session credentials file %s was not found; "
			    "the credential helper should write it "
			    "(aws_credentials_file in %s)",
			    path, c->onprem_path);
		errno = saved;
		return err_sys(err,
		    "cannot read the session credentials "
		    "file %s",
		    path);
	}
	file_id_of(&c->file_seen, &st);
	if (fsutil_read_file(path, CREDS_MAX_FILE_SIZE, &buf, &len, err) < 0)
		return err_prefix(err, "session credentials file");
	if (creds_parse_ini(buf, len, path, SESSION_PROFILE, out, err) < 0)
		goto out;
	out->expires_ms = clock_now_ms() + CREDS_FILE_LIFETIME_MS;
	out->source = CREDS_SOURCE_ONPREM_SESSION;
	ret = 0;
out:
	xfree_secret(buf, len);
	return ret;
}

static int
need_imds(struct creds_chain *c, struct err *err)
{
	struct imds_opts opts;

	if (c->imds != NULL)
		return 0;
	memset(&opts, 0, sizeof(opts));
	opts.disable_v1 = c->disable_imds_v1;
	c->imds = imds_new(&opts, err);
	return c->imds != NULL ? 0 : -1;
}

static int
load_imds(struct creds_chain *c, struct creds *out, struct err *err)
{
	struct imds_credentials ic = { NULL, NULL, NULL, 0 };
	char *role = NULL;
	long long now, lifetime_ms;
	int ret = -1;

	if (need_imds(c, err) < 0 || imds_role_name(c->imds, &role, err) < 0 ||
	    imds_role_credentials(c->imds, role, &ic, err) < 0)
		goto out;
	now = clock_now_ms();
	lifetime_ms = ((long long)ic.expiration - (long long)time(NULL)) * 1000;
	if (lifetime_ms < CREDS_IMDS_MIN_LIFETIME_MS)
		lifetime_ms = CREDS_IMDS_MIN_LIFETIME_MS;
	out->access_key_id = ic.access_key_id;
	out->secret_access_key = ic.secret_access_key;
	out->session_token = ic.token;
	memset(&ic, 0, sizeof(ic));
	out->expires_ms = now + lifetime_ms;
	out->source = CREDS_SOURCE_IMDS;
	log_debug("credentials: role %s from %s", role, imds_endpoint(c->imds));
	ret = 0;
out:
	imds_credentials_clear(&ic);
	free(role);
	return ret;
}

static int
load(struct creds_chain *c, struct creds *out, struct err *err)
{
	switch (c->kind) {
	case KIND_ONPREM_SESSION:
		return load_session_file(c, out, err);
	case KIND_IMDS:
		return load_imds(c, out, err);
	default:
		/* Static keys are loaded once, when the chain is made. */
		return err_set(err, E_INTERNAL, "static credentials reloaded");
	}
}

/* --- the chain --------------------------------------------------------- */

struct creds_chain *
creds_chain_new(
    const struct cfg *cfg, const struct cfg_onprem *onprem, struct err *err)
{
	struct creds_chain *c = xcalloc(1, sizeof(*c));
	int found;

	c->disable_imds_v1 = cfg != NULL && cfg->disable_imds_v1;
	c->env_region = env_copy("AWS_REGION");
	c->env_host_id = env_copy("AWS_HOST_IDENTIFIER");
	if (onprem != NULL && onprem->mode != CFG_ONPREM_NONE) {
		c->onprem_path =
		    xstrdup(onprem->path != NULL ? onprem->path
						 : "the on-premises config");
		if (onprem->region != NULL && onprem->region[0] != '\0')
			c->onprem_region = xstrdup(onprem->region);
		if (onprem->mode == CFG_ONPREM_IAM_USER &&
		    onprem->iam_user_arn != NULL)
			c->onprem_arn = xstrdup(onprem->iam_user_arn);
		if (onprem->mode == CFG_ONPREM_IAM_SESSION &&
		    onprem->iam_session_arn != NULL)
			c->onprem_arn = xstrdup(onprem->iam_session_arn);
	}

	found = load_env(&c->current, err);
	if (found < 0)
		goto fail;
	if (found) {
		c->kind = KIND_ENV;
		c->have_current = 1;
	} else if (onprem != NULL && onprem->mode == CFG_ONPREM_IAM_USER) {
		if (onprem->aws_access_key_id == NULL ||
		    onprem->aws_access_key_id[0] == '\0' ||
		    onprem->aws_secret_access_key == NULL ||
		    onprem->aws_secret_access_key[0] == '\0') {
			err_set(err, E_INVALID,
			    "%s: iam_user_arn needs aws_access_key_id and "
			    "aws_secret_access_key",
			    c->onprem_path);
			goto fail;
		}
		c->kind = KIND_ONPREM_USER;
		c->current.access_key_id = xstrdup(onprem->aws_access_key_id);
		c->current.secret_access_key =
		    xstrdup(onprem->aws_secret_access_key);
		c->current.source = CREDS_SOURCE_ONPREM_USER;
		c->have_current = 1;
	} else if (onprem != NULL && onprem->mode == CFG_ONPREM_IAM_SESSION) {
		if (onprem->aws_credentials_file == NULL ||
		    onprem->aws_credentials_file[0] == '\0') {
			err_set(err, E_INVALID,
			    "%s: iam_session_arn needs aws_credentials_file",
			    c->onprem_path);
			goto fail;
		}
		c->kind = KIND_ONPREM_SESSION;
		c->session_path = xstrdup(onprem->aws_credentials_file);
		if (load_session_file(c, &c->current, err) < 0)
			goto fail;
		c->have_current = 1;
	} else {
		c->kind = KIND_IMDS;
	}
	if (c->have_current)
		log_info("credentials: from the %s", c->current.source);
	return c;
fail:
	creds_chain_free(c);
	return NULL;
}

void
creds_chain_free(struct creds_chain *c)
{
	if (c == NULL)
		return;
	creds_clear(&c->current);
	free(c->session_path);
	imds_free(c->imds);
	imds_identity_clear(&c->identity);
	free(c->partition);
	free(c->env_region);
	free(c->env_host_id);
	free(c->onprem_region);
	free(c->onprem_arn);
	free(c->onprem_path);
	free(c);
}

const char *
creds_chain_source(const struct creds_chain *c)
{
	switch (c->kind) {
	case KIND_ENV:
		return CREDS_SOURCE_ENV;
	case KIND_ONPREM_USER:
		return CREDS_SOURCE_ONPREM_USER;
	case KIND_ONPREM_SESSION:
		return CREDS_SOURCE_ONPREM_SESSION;
	default:
		return CREDS_SOURCE_IMDS;
	}
}

/* Whether the credentials held should be replaced now. */
static int
refresh_due(const struct creds_chain *c, long long now)
{
	const struct creds *cur = &c->current;

	if (c->kind == KIND_ENV || c->kind == KIND_ONPREM_USER)
		return 0;
	if (!c->have_current)
		return 1;
	if (cur->expires_ms != 0 && now >= cur->expires_ms)
		return 1;
	if (c->kind == KIND_ONPREM_SESSION && session_file_changed(c))
		return 1;
	return cur->expires_ms != 0 &&
	    now + CREDS_REFRESH_BUFFER_MS >= cur->expires_ms &&
	    now >= c->retry_after_ms;
}

/* Refresh if due; 0 when usable credentials are held afterwards. */
static int
refresh(struct creds_chain *c, struct err *err)
{
	struct creds fresh = { NULL, NULL, NULL, 0, NULL };
	struct err load_err = ERR_INIT;
	long long now = clock_now_ms();

	if (!refresh_due(c, now))
		return 0;
	if (load(c, &fresh, &load_err) == 0) {
		log_info("credentials: %s from the %s; valid for %lld s",
		    c->have_current ? "refreshed" : "loaded", fresh.source,
		    (fresh.expires_ms - now) / 1000);
		creds_clear(&c->current);
		c->current = fresh;
		c->have_current = 1;
		c->retry_after_ms = 0;
		return 0;
	}
	if (c->have_current && now < c->current.expires_ms) {
		log_warn("credentials: refreshing from the %s failed (%s); "
			 "keeping the current ones, which expire in %lld s",
		    creds_chain_source(c), load_err.msg,
		    (c->current.expires_ms - now) / 1000);
		c->retry_after_ms = now + CREDS_RETRY_HOLDOFF_MS;
		return 0;
	}
	*err = load_err;
	if (c->have_current)
		return err_prefix(err,
		    "the credentials from the %s expired and could not be "
		    "refreshed",
		    creds_chain_source(c));
	return err_prefix(err,
	    "no AWS credentials: none in the environment "
	    "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), no on-premises "
	    "registration, and the EC2 instance profile could not be read; "
	    "attach an instance profile or register the host with "
	    "codedeploy.onpremises.yml");
}

int
creds_chain_get(struct creds_chain *c, struct creds *out, struct err *err)
{
	memset(out, 0, sizeof(*out));
	if (refresh(c, err) < 0)
		return -1;
	copy_creds(out, &c->current);
	return 0;
}

int
creds_chain_sigv4(void *arg, struct sigv4_credentials *out, const char **source,
    struct err *err)
{
	struct creds_chain *c = arg;

	memset(out, 0, sizeof(*out));
	if (refresh(c, err) < 0)
		return -1;
	creds_sigv4(&c->current, out);
	if (source != NULL)
		*source = c->current.source;
	return 0;
}

/* --- region and host identifier ---------------------------------------- */

static int
need_identity(struct creds_chain *c, struct err *err)
{
	if (c->have_identity)
		return 0;
	if (need_imds(c, err) < 0 ||
	    imds_identity(c->imds, &c->identity, err) < 0)
		return -1;
	c->have_identity = 1;
	return 0;
}

int
creds_region(struct creds_chain *c, char **out, struct err *err)
{
	const char *region =
	    c->env_region != NULL ? c->env_region : c->onprem_region;

	if (region == NULL) {
		if (need_identity(c, err) < 0)
			return err_prefix(err,
			    "could not determine AWS region from environment "
			    "or IMDS (set AWS_REGION, or the region of an "
			    "on-premises registration)");
		region = c->identity.region;
	}
	*out = xstrdup(region);
	return 0;
}

int
creds_host_identifier(struct creds_chain *c, char **out, struct err *err)
{
	const char *id =
	    c->env_host_id != NULL ? c->env_host_id : c->onprem_arn;

	if (id != NULL) {
		*out = xstrdup(id);
		return 0;
	}
	if (need_identity(c, err) < 0 ||
	    (c->partition == NULL &&
		imds_partition(c->imds, &c->partition, err) < 0))
		return err_prefix(err,
		    "could not determine host identifier from environment "
		    "or IMDS (set AWS_HOST_IDENTIFIER, or register the host "
		    "with codedeploy.onpremises.yml)");
	*out = xasprintf("arn:%s:ec2:%s:%s:instance/%s", c->partition,
	    c->identity.region, c->identity.account_id,
	    c->identity.instance_id);
	return 0;
}
