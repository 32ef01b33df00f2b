/*
 * cfg-onprem: codedeploy.onpremises.yml, the file that registers an
 * on-premises instance (v1 §9.2): an IAM user's static keys, or an IAM
 * session whose credentials file is rotated by something else.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "fsutil.h"
#include "log.h"
#include "xalloc.h"
#include "ytree.h"

struct onprem_key {
	const char *name;
	size_t offset;
};

/* clang-format off */
#define OK_(name) { #name, offsetof(struct cfg_onprem, name) }
/* clang-format on */

static const struct onprem_key onprem_keys[] = {
	OK_(region),
	OK_(aws_access_key_id),
	OK_(aws_secret_access_key),
	OK_(iam_user_arn),
	OK_(iam_session_arn),
	OK_(aws_credentials_file),
};

#define ONPREM_NKEYS (sizeof(onprem_keys) / sizeof(onprem_keys[0]))

static char **
slot(struct cfg_onprem *op, const struct onprem_key *key)
{
	return (char **)((char *)op + key->offset);
}

const char *
cfg_onprem_mode_name(enum cfg_onprem_mode mode)
{
	switch (mode) {
	case CFG_ONPREM_IAM_USER:
		return "iam_user";
	case CFG_ONPREM_IAM_SESSION:
		return "iam_session";
	default:
		return "none";
	}
}

void
cfg_onprem_free(struct cfg_onprem *op)
{
	size_t i;

	if (op == NULL)
		return;
	xfree_secret_str(op->aws_secret_access_key);
	op->aws_secret_access_key = NULL;
	for (i = 0; i < ONPREM_NKEYS; i++)
		free(*slot(op, &onprem_keys[i]));
	for (i = 0; i < op->ndiags; i++)
		free(op->diags[i].msg);
	free(op->diags);
	free(op->path);
	free(op);
}

static void __attribute__((format(printf, 3, 4)))
add_warning(struct cfg_onprem *op, unsigned line, const char *fmt, ...)
{
	struct cfg_diag *d;
	va_list ap;

	op->diags =
	    xreallocarray(op->diags, op->ndiags + 1, sizeof(*op->diags));
	d = &op->diags[op->ndiags++];
	d->is_error = 0;
	d->line = line;
	va_start(ap, fmt);
	d->msg = xvasprintf(fmt, ap);
	va_end(ap);
}

/* The first key of names that is unset or empty, else NULL. */
static const char *
first_missing(struct cfg_onprem *op, const char *const *names, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < ONPREM_NKEYS; k++) {
			char *v;

			if (strcmp(onprem_keys[k].name, names[i]) != 0)
				continue;
			v = *slot(op, &onprem_keys[k]);
			if (v == NULL || v[0] == '\0')
				return names[i];
		}
	return NULL;
}

int
cfg_onprem_load_buffer(const char *buf, size_t len, const char *path,
    struct cfg_onprem **out, struct err *err)
{
	static const char *const user_needs[] = { "region", "aws_access_key_id",
		"aws_secret_access_key" };
	static const char *const session_needs[] = { "region",
		"aws_credentials_file" };
	struct cfg_onprem *op = xcalloc(1, sizeof(*op));
	struct ytree *doc = NULL;
	const char *missing;
	size_t i, k;
	int ret = -1;

	*out = NULL;
	op->path = xstrdup(path);
	if (ytree_parse(buf, len, path, &doc, err) < 0) {
		err_prefix(err, "the on-premises configuration is invalid");
		goto out;
	}
	if (doc == NULL || doc->kind != YTREE_MAP) {
		err_set(err, E_PARSE,
		    "%s: the on-premises configuration format is invalid: it "
		    "must be a mapping with iam_user_arn or iam_session_arn, "
		    "region and credentials, not %s",
		    path, doc == NULL ? "an empty file" : ytree_describe(doc));
		goto out;
	}
	for (i = 0; i < doc->n; i++) {
		const struct ytree *kn = ytree_key(doc, i);
		const struct ytree *vn = ytree_value(doc, i);
		const char *name;

		if (kn->kind != YTREE_SCALAR)
			continue;
		name = kn->value[0] == ':' ? kn->value + 1 : kn->value;
		for (k = 0; k < ONPREM_NKEYS; k++)
			if (strcmp(onprem_keys[k].name, name) == 0)
				break;
		if (k == ONPREM_NKEYS) {
			add_warning(op, kn->line,
			    "%s:%u: unknown key '%s' "
			    "ignored",
			    path, kn->line, name);
			continue;
		}
		if (vn != NULL && vn->kind != YTREE_SCALAR) {
			err_set(err, E_INVALID,
			    "%s:%u: key '%s' is %s; give a string", path,
			    vn->line, name, ytree_describe(vn));
			goto out;
		}
		if (strcmp(name, "aws_secret_access_key") == 0)
			xfree_secret_str(op->aws_secret_access_key);
		else
			free(*slot(op, &onprem_keys[k]));
		*slot(op, &onprem_keys[k]) =
		    ytree_is_null(vn) ? NULL : xstrdup(vn->value);
	}

	if (op->iam_user_arn != NULL && op->iam_session_arn != NULL) {
		err_set(err, E_INVALID,
		    "%s: both iam_user_arn and iam_session_arn are set; an "
		    "instance registers with one of them, remove the other",
		    path);
		goto out;
	}
	if (op->iam_user_arn != NULL) {
		op->mode = CFG_ONPREM_IAM_USER;
		missing = first_missing(op, user_needs, 3);
	} else if (op->iam_session_arn != NULL) {
		op->mode = CFG_ONPREM_IAM_SESSION;
		missing = first_missing(op, session_needs, 2);
	} else {
		missing = NULL;
	}
	if (missing != NULL) {
		err_set(err, E_INVALID,
		    "%s: key '%s' is required with %s but is missing or empty",
		    path, missing,
		    op->mode == CFG_ONPREM_IAM_USER ? "iam_user_arn"
						    : "iam_session_arn");
		goto out;
	}
	*out = op;
	op = NULL;
	ret = 0;
out:
	ytree_free(doc);
	cfg_onprem_free(op);
	return ret;
}

int
cfg_onprem_load(const char *path, struct cfg_onprem **out, struct err *err)
{
	struct err read_err = ERR_INIT;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	if (fsutil_read_file(path, CFG_MAX_FILE_SIZE, &buf, &len, &read_err) <
	    0) {
		/* v1: an unreadable on-premises file means an EC2 host */
		log_msg(read_err.code == E_NOTFOUND ? LOG_LEVEL_DEBUG
						    : LOG_LEVEL_INFO,
		    "on-premises configuration not used: %s", read_err.msg);
		return 0;
	}
	ret = cfg_onprem_load_buffer(buf, len, path, out, err);
	xfree_secret(buf, len);
	return ret;
}

void
cfg_onprem_print(const struct cfg_onprem *op, FILE *out)
{
	size_t i;

	fprintf(out, "# on-premises file: %s\n", op->path);
	fprintf(out, "onprem.mode %s\n", cfg_onprem_mode_name(op->mode));
	for (i = 0; i < ONPREM_NKEYS; i++) {
		const char *v =
		    *(char *const *)((const char *)op + onprem_keys[i].offset);

		if (strcmp(onprem_keys[i].name, "aws_secret_access_key") == 0 &&
		    v != NULL)
			v = "[REDACTED]";
		fprintf(out, "onprem.%s %s\n", onprem_keys[i].name,
		    v != NULL ? v : "none");
	}
}
