/*
 * install-acl: POSIX ACLs for the Install step's setfacl instructions,
 * through libacl (the only includer of <sys/acl.h>) instead of a shell.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/stat.h>

#include "install.h"
#include "xalloc.h"

int install_acl_apply(const char *path, const struct appspec_ace *acls,
    size_t nacls, struct err *err);

static const char *
kind_word(enum appspec_ace_kind kind)
{
	switch (kind) {
	case APPSPEC_ACE_GROUP:
		return "group";
	case APPSPEC_ACE_MASK:
		return "mask";
	case APPSPEC_ACE_OTHER:
		return "other";
	default:
		return "user";
	}
}

static void
perm_text(unsigned perms, char out[4])
{
	out[0] = perms & 4 ? 'r' : '-';
	out[1] = perms & 2 ? 'w' : '-';
	out[2] = perms & 1 ? 'x' : '-';
	out[3] = '\0';
}

/* A growing comma-separated list. */
struct acl_list {
	char *s;
	size_t len;
};

static void
list_add(struct acl_list *l, const char *prefix, const char *kind,
    const char *name, unsigned perms)
{
	char p[4];
	char *entry;
	size_t elen;

	perm_text(perms, p);
	entry = xasprintf(
	    "%s%s%s:%s:%s", l->len > 0 ? "," : "", prefix, kind, name, p);
	elen = strlen(entry);
	l->s = xrealloc(l->s, l->len + elen + 1);
	memcpy(l->s + l->len, entry, elen + 1);
	l->len += elen;
	free(entry);
}

/* Whether an entry of kind (and default-ness) with an empty name is given. */
static int
has_base(const struct appspec_ace *acls, size_t n, int is_default,
    enum appspec_ace_kind kind)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (acls[i].is_default == is_default && acls[i].kind == kind &&
		    acls[i].name[0] == '\0')
			return 1;
	return 0;
}

static int
has_named(const struct appspec_ace *acls, size_t n, int is_default)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (acls[i].is_default == is_default &&
		    (acls[i].kind == APPSPEC_ACE_USER ||
			acls[i].kind == APPSPEC_ACE_GROUP) &&
		    acls[i].name[0] != '\0')
			return 1;
	return 0;
}

static int
any_default(const struct appspec_ace *acls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (acls[i].is_default)
			return 1;
	return 0;
}

/* Append the full ACL (v1 §7.5), restricted to default or access entries
 * when which is 0 / 1, or all of them (prefixed) when which is -1. */
static void
build(struct acl_list *l, const struct appspec_ace *acls, size_t n,
    unsigned mode, int which)
{
	unsigned u = (mode >> 6) & 7, g = (mode >> 3) & 7, o = mode & 7;
	const char *dp = which == -1 ? "default:" : "";
	unsigned dgroup = g;
	size_t i;

	for (i = 0; i < n; i++) {
		if (which != -1 && acls[i].is_default != which)
			continue;
		list_add(l, acls[i].is_default ? dp : "",
		    kind_word(acls[i].kind), acls[i].name, acls[i].perms);
	}
	if (which != 1) {
		list_add(l, "", "user", "", u);
		list_add(l, "", "group", "", g);
		list_add(l, "", "other", "", o);
		if (has_named(acls, n, 0) &&
		    !has_base(acls, n, 0, APPSPEC_ACE_MASK))
			list_add(l, "", "mask", "", g);
	}
	if (which == 0 || !any_default(acls, n))
		return;
	if (!has_base(acls, n, 1, APPSPEC_ACE_USER))
		list_add(l, dp, "user", "", u);
	if (!has_base(acls, n, 1, APPSPEC_ACE_GROUP))
		list_add(l, dp, "group", "", g);
	else
		for (i = 0; i < n; i++)
			if (acls[i].is_default &&
			    acls[i].kind == APPSPEC_ACE_GROUP &&
			    acls[i].name[0] == '\0')
				dgroup = acls[i].perms;
	if (!has_base(acls, n, 1, APPSPEC_ACE_OTHER))
		list_add(l, dp, "other", "", o);
	if (has_named(acls, n, 1) && !has_base(acls, n, 1, APPSPEC_ACE_MASK))
		list_add(l, dp, "mask", "", dgroup);
}

char *
install_acl_text(const struct appspec_ace *acls, size_t nacls, unsigned mode)
{
	struct acl_list l = { NULL, 0 };

	build(&l, acls, nacls, mode, -1);
	return l.s != NULL ? l.s : xstrdup("");
}

static int
set_one(const char *path, const char *text, acl_type_t type, struct err *err)
{
	acl_t acl = acl_from_text(text);
	int ret = -1;

	if (acl == NULL)
		return err_sys(err, "invalid ACL '%s' for %s", text, path);
	if (acl_valid(acl) < 0) {
		err_set(err, E_INVALID, "the ACL '%s' for %s is not valid",
		    text, path);
		goto out;
	}
	if (acl_set_file(path, type, acl) < 0) {
		err_sys(err, "cannot set the %sACL '%s' on %s",
		    type == ACL_TYPE_DEFAULT ? "default " : "", text, path);
		goto out;
	}
	ret = 0;
out:
	acl_free(acl);
	return ret;
}

int
install_acl_apply(const char *path, const struct appspec_ace *acls,
    size_t nacls, struct err *err)
{
	struct acl_list access = { NULL, 0 }, deflt = { NULL, 0 };
	struct stat st;
	int ret = -1;

	if (stat(path, &st) < 0)
		return err_sys(err, "cannot set an ACL on %s", path);
	build(&access, acls, nacls, st.st_mode, 0);
	if (set_one(path, access.s, ACL_TYPE_ACCESS, err) < 0)
		goto out;
	if (any_default(acls, nacls)) {
		build(&deflt, acls, nacls, st.st_mode, 1);
		if (set_one(path, deflt.s, ACL_TYPE_DEFAULT, err) < 0)
			goto out;
	}
	ret = 0;
out:
	free(access.s);
	free(deflt.s);
	return ret;
}
