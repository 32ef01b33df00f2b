/*
 * appspec permissions (v1 §6.6): object, pattern, except, type, owner,
 * group, mode (v1 bug 28 fixed: the text as written is octal), ACL entries
 * and the SELinux context with its MLS range.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appspec-int.h"
#include "appspec.h"
#include "xalloc.h"
#include "ytree.h"

/* SELinux categories are c0..c1023. */
#define NCATEGORIES 1024
/* Sensitivities above this are surely a typo (policies use s0..s15). */
#define MAX_SENSITIVITY 999999

static const char *const permission_keys[] = {
	"object",
	"pattern",
	"except",
	"type",
	"owner",
	"group",
	"mode",
	"acls",
	"context",
};

static const char *const context_keys[] = {
	"name",
	"type",
	"range",
	"role",
};

static const char range_hint[] =
    "give s<N>[-s<M>][:<categories>] with categories like c0,c3.c7 "
    "(0 to 1023), such as s0-s3:c0.c5,c9";

static const char ace_hint[] =
    "give [d[efault]:][u[ser]|g[roup]|m[ask]|o[ther]:]<name>:<perms> with "
    "perms a digit 0-7 or r, w, x, - (such as u:bob:rwx or d:g:web:5)";

void
appspec_permission_clear(struct appspec_permission *perm)
{
	size_t i;

	free(perm->object);
	free(perm->pattern);
	for (i = 0; i < perm->nexcept; i++)
		free(perm->except[i]);
	free(perm->except);
	free(perm->owner);
	free(perm->group);
	for (i = 0; i < perm->nacls; i++)
		free(perm->acls[i].name);
	free(perm->acls);
	free(perm->context.user);
	free(perm->context.type);
	free(perm->context.range);
	memset(perm, 0, sizeof(*perm));
}

/*
 * mode as written (bug 28 fixed): "644" and "0644" are both 0644.  Up to 4
 * octal digits after dropping extra leading zeros; fewer than 3 are padded
 * ("12" is "012"), as v1 pads its string.
 */
static int
parse_mode(struct appspec_parser *p, const struct ytree *node, const char *path,
    struct appspec_permission *perm)
{
	static const char hint[] =
	    "give 3 or 4 octal digits, such as 644, 0755 or 2775";
	char shown[APPSPEC_SHOW_MAX + 4];
	const char *text;
	size_t len, i;
	unsigned mode = 0;

	if (ytree_is_null(node))
		return 0;
	if (node->kind != YTREE_SCALAR)
		return appspec_fail(
		    p, node, path, "is %s; %s", ytree_describe(node), hint);
	appspec_show(node->value, shown);
	text = node->value;
	len = node->len;
	if (len == 0)
		return appspec_fail(p, node, path, "is empty; %s", hint);
	while (len > 4 && text[0] == '0') {
		text++;
		len--;
	}
	if (len > 4)
		return appspec_fail(p, node, path,
		    "mode '%s' has more than 4 digits; %s", shown, hint);
	for (i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '7')
			return appspec_fail(p, node, path,
			    "mode '%s' has the invalid character '%c'; %s",
			    shown,
			    isprint((unsigned char)text[i]) ? text[i] : '?',
			    hint);
		mode = mode * 8 + (unsigned)(text[i] - '0');
	}
	snprintf(perm->mode_text, sizeof(perm->mode_text), "%.*s%.*s",
	    len < 3 ? (int)(3 - len) : 0, "000", (int)len, text);
	perm->mode = mode;
	perm->has_mode = 1;
	return 0;
}

/* One ':'-separated field of an ACL entry. */
struct field {
	const char *s;
	size_t len;
};

static int
field_is(const struct field *f, const char *word)
{
	return f->len == strlen(word) && memcmp(f->s, word, f->len) == 0;
}

static int
field_is_default(const struct field *f)
{
	return field_is(f, "d") || field_is(f, "default");
}

/* The entry type a field names, or -1. */
static int
field_kind(const struct field *f)
{
	if (field_is(f, "u") || field_is(f, "user"))
		return APPSPEC_ACE_USER;
	if (field_is(f, "g") || field_is(f, "group"))
		return APPSPEC_ACE_GROUP;
	if (field_is(f, "m") || field_is(f, "mask"))
		return APPSPEC_ACE_MASK;
	if (field_is(f, "o") || field_is(f, "other"))
		return APPSPEC_ACE_OTHER;
	return -1;
}

/* Split text at ':' into at most 4 fields; -1 with why if more. */
static int
ace_fields(
    const char *text, struct field f[4], size_t *n, char *why, size_t wsize)
{
	const char *s = text;

	*n = 0;
	for (;;) {
		size_t len = strcspn(s, ":");

		if (*n == 4) {
			snprintf(why, wsize, "it has more than 4 parts");
			return -1;
		}
		f[*n].s = s;
		f[*n].len = len;
		(*n)++;
		if (s[len] == '\0')
			return 0;
		s += len + 1;
	}
}

/*
 * The leading fields of n: [d[efault]:]type: with 4 fields, d/default or a
 * type with 3.  Sets ace->is_default, *kind (-1: not given) and *idx, the
 * index of the name field.
 */
static int
ace_prefix(const struct field *f, size_t n, struct appspec_ace *ace, int *kind,
    int *idx, char *why, size_t wsize)
{
	*kind = -1;
	*idx = 0;
	if (n == 4) {
		if (!field_is_default(&f[0])) {
			snprintf(why, wsize,
			    "with 4 parts the first must be d or default, "
			    "not '%.*s'",
			    (int)f[0].len, f[0].s);
			return -1;
		}
		ace->is_default = 1;
		*kind = field_kind(&f[1]);
		if (*kind < 0) {
			snprintf(why, wsize,
			    "'%.*s' is not an entry type (u, user, g, group, "
			    "m, mask, o, other)",
			    (int)f[1].len, f[1].s);
			return -1;
		}
		*idx = 2;
	} else if (n == 3) {
		if (field_is_default(&f[0])) {
			ace->is_default = 1;
		} else if ((*kind = field_kind(&f[0])) < 0) {
			snprintf(why, wsize,
			    "'%.*s' is neither d/default nor an entry type "
			    "(u, user, g, group, m, mask, o, other)",
			    (int)f[0].len, f[0].s);
			return -1;
		}
		*idx = 1;
	}
	return 0;
}

/* The permission field: one octal digit, or letters among r, w, x, -. */
static int
ace_perms(const struct field *perms, unsigned *out, char *why, size_t wsize)
{
	size_t i;

	*out = 0;
	if (perms->len == 1 && isdigit((unsigned char)perms->s[0])) {
		if (perms->s[0] > '7') {
			snprintf(why, wsize, "'%c' is not a permission digit",
			    perms->s[0]);
			return -1;
		}
		*out = (unsigned)(perms->s[0] - '0');
		return 0;
	}
	for (i = 0; i < perms->len; i++) {
		switch (perms->s[i]) {
		case 'r':
			*out |= 4;
			break;
		case 'w':
			*out |= 2;
			break;
		case 'x':
			*out |= 1;
			break;
		case '-':
			break;
		default:
			snprintf(why, wsize,
			    "'%c' is not a permission character",
			    isprint((unsigned char)perms->s[i]) ? perms->s[i]
								: '?');
			return -1;
		}
	}
	return 0;
}

/*
 * One ACL entry per v1 §6.6.  On failure, why says what is wrong (the
 * caller adds where and what is allowed).
 */
static int
parse_ace(const char *text, struct appspec_ace *ace, char *why, size_t wsize)
{
	static const struct field none = { "", 0 };
	struct field f[4];
	const struct field *name;
	size_t n;
	int kind, idx;

	memset(ace, 0, sizeof(*ace));
	if (ace_fields(text, f, &n, why, wsize) < 0)
		return -1;
	if (n < 2) {
		snprintf(why, wsize,
		    "it has %zu part; at least a name and "
		    "perms separated by ':' are needed",
		    n);
		return -1;
	}
	if (ace_prefix(f, n, ace, &kind, &idx, why, wsize) < 0)
		return -1;
	name = &f[idx];
	if (kind < 0) {
		/* no type given: a bare m/mask or o/other names the type */
		kind = field_kind(name);
		if (kind == APPSPEC_ACE_MASK || kind == APPSPEC_ACE_OTHER)
			name = &none;
		else
			kind = APPSPEC_ACE_USER;
	}
	if ((kind == APPSPEC_ACE_MASK || kind == APPSPEC_ACE_OTHER) &&
	    name->len > 0) {
		snprintf(why, wsize,
		    "%s entry cannot name a user or group ('%.*s')",
		    kind == APPSPEC_ACE_MASK ? "a mask" : "an other",
		    (int)name->len, name->s);
		return -1;
	}
	if (!ace->is_default && kind != APPSPEC_ACE_MASK && name->len == 0) {
		snprintf(why, wsize,
		    "it is a base entry (owner, owning group or other); set "
		    "those with mode instead");
		return -1;
	}
	ace->kind = (enum appspec_ace_kind)kind;
	if (ace_perms(&f[idx + 1], &ace->perms, why, wsize) < 0)
		return -1;
	ace->name = xstrndup(name->s, name->len);
	return 0;
}

char *
appspec_ace_format(const struct appspec_ace *ace)
{
	static const char *const kinds[] = {
		[APPSPEC_ACE_USER] = "user",
		[APPSPEC_ACE_GROUP] = "group",
		[APPSPEC_ACE_MASK] = "mask",
		[APPSPEC_ACE_OTHER] = "other",
	};

	return xasprintf("%s%s:%s:%c%c%c", ace->is_default ? "default:" : "",
	    kinds[ace->kind], ace->name != NULL ? ace->name : "",
	    ace->perms & 4 ? 'r' : '-', ace->perms & 2 ? 'w' : '-',
	    ace->perms & 1 ? 'x' : '-');
}

static int
parse_acls(struct appspec_parser *p, const struct ytree *node, const char *path,
    struct appspec_permission *perm)
{
	char sub[APPSPEC_PATH_MAX], why[160], shown[APPSPEC_SHOW_MAX + 4];
	size_t i;

	if (ytree_is_null(node))
		return 0;
	if (node->kind != YTREE_SEQ)
		return appspec_fail(p, node, path,
		    "is %s; give a list of entries such as "
		    "['u:bob:rwx', 'd:g:web:r-x']",
		    ytree_describe(node));
	if (node->n > 0)
		perm->acls = xcalloc(node->n, sizeof(*perm->acls));
	for (i = 0; i < node->n; i++) {
		const struct ytree *item = node->child[i];
		char *text = NULL;

		appspec_subpath(sub, path, "[%zu]", i);
		if (appspec_get_text(p, item, sub, ace_hint, 0, &text) < 0)
			return -1;
		if (text == NULL)
			return appspec_fail(
			    p, item, sub, "is empty; %s", ace_hint);
		if (parse_ace(text, &perm->acls[i], why, sizeof(why)) < 0) {
			appspec_fail(p, item, sub,
			    "invalid ACL entry '%s': %s; %s",
			    appspec_show(text, shown), why, ace_hint);
			free(text);
			return -1;
		}
		perm->nacls++;
		free(text);
	}
	return 0;
}

/*
 * A level: prefix ('s' or 'c') and digits, at most max.  Sets *end past
 * it; -1 with why filled otherwise.
 */
static int
parse_level(const char *s, char prefix, unsigned max, unsigned *out,
    const char **end, char *why, size_t wsize)
{
	char shown[APPSPEC_SHOW_MAX + 4];
	unsigned long v = 0;
	const char *t;

	if (*s != prefix) {
		if (*s == '\0')
			snprintf(
			    why, wsize, "%c<N> is missing at the end", prefix);
		else
			snprintf(why, wsize, "expected %c<N> at '%s'", prefix,
			    appspec_show(s, shown));
		return -1;
	}
	for (t = s + 1; isdigit((unsigned char)*t); t++)
		if (v <= max)
			v = v * 10 + (unsigned long)(*t - '0');
	if (t == s + 1) {
		snprintf(
		    why, wsize, "'%c' must be followed by a number", prefix);
		return -1;
	}
	if (v > max) {
		snprintf(why, wsize, "%c%.*s is over %c%u", prefix,
		    (int)(t - s - 1), s + 1, prefix, max);
		return -1;
	}
	*out = (unsigned)v;
	*end = t;
	return 0;
}

/* Mark categories lo..hi; -1 with why filled on a repeat. */
static int
mark_categories(
    unsigned char *cats, unsigned lo, unsigned hi, char *why, size_t wsize)
{
	unsigned c;

	for (c = lo; c <= hi; c++) {
		if (cats[c]) {
			snprintf(why, wsize, "category c%u is given twice", c);
			return -1;
		}
		cats[c] = 1;
	}
	return 0;
}

/* The categories after ':' ("c0,c3.c7") into cats. */
static int
parse_categories(const char *s, unsigned char *cats, char *why, size_t wsize)
{
	unsigned lo, hi;

	if (*s == '\0') {
		snprintf(why, wsize, "no categories after ':'");
		return -1;
	}
	for (;;) {
		if (parse_level(s, 'c', NCATEGORIES - 1, &lo, &s, why, wsize) <
		    0)
			return -1;
		hi = lo;
		if (*s == '.') {
			if (s[1] == '\0') {
				snprintf(why, wsize,
				    "a category range needs an end after '.'");
				return -1;
			}
			if (parse_level(s + 1, 'c', NCATEGORIES - 1, &hi, &s,
				why, wsize) < 0)
				return -1;
			if (hi < lo) {
				snprintf(why, wsize,
				    "category range c%u.c%u goes down", lo, hi);
				return -1;
			}
		}
		if (mark_categories(cats, lo, hi, why, wsize) < 0)
			return -1;
		if (*s == '\0')
			return 0;
		if (*s != ',') {
			snprintf(why, wsize, "unexpected '%c' after c%u",
			    isprint((unsigned char)*s) ? *s : '?', hi);
			return -1;
		}
		s++;
	}
}

/*
 * An MLS range "s<N>[-s<M>][:<cats>]", rendered back compactly: categories
 * sorted, runs of two or more merged ("c0.c2").  Free *out with free().
 */
static int
parse_range(const char *text, char **out, char *why, size_t wsize)
{
	unsigned char cats[NCATEGORIES] = { 0 };
	unsigned lo, hi = 0, c, start;
	int has_high = 0, has_cats = 0;
	const char *s = text;
	char *buf = NULL;
	size_t len, cap;

	*out = NULL;
	if (*s == ':' || *s == '\0') {
		snprintf(why, wsize,
		    "it must start with a sensitivity such "
		    "as s0");
		return -1;
	}
	if (parse_level(s, 's', MAX_SENSITIVITY, &lo, &s, why, wsize) < 0)
		return -1;
	if (*s == '-') {
		if (s[1] == '\0' || s[1] == ':') {
			snprintf(
			    why, wsize, "a high sensitivity must follow '-'");
			return -1;
		}
		if (parse_level(
			s + 1, 's', MAX_SENSITIVITY, &hi, &s, why, wsize) < 0)
			return -1;
		if (hi < lo) {
			snprintf(why, wsize,
			    "the high sensitivity s%u is below the low s%u", hi,
			    lo);
			return -1;
		}
		has_high = 1;
	}
	if (*s == ':') {
		if (parse_categories(s + 1, cats, why, wsize) < 0)
			return -1;
		has_cats = 1;
	} else if (*s != '\0') {
		snprintf(why, wsize, "unexpected '%c' after the sensitivity",
		    isprint((unsigned char)*s) ? *s : '?');
		return -1;
	}
	/* "s999999-s999999:" plus at most 512 items of "c1022,"  */
	cap = 32 + (NCATEGORIES / 2) * 12;
	buf = xmalloc(cap);
	len = (size_t)snprintf(buf, cap, "s%u", lo);
	if (has_high)
		len += (size_t)snprintf(buf + len, cap - len, "-s%u", hi);
	if (has_cats) {
		buf[len++] = ':';
		for (c = 0; c < NCATEGORIES; c++) {
			if (!cats[c])
				continue;
			start = c;
			while (c + 1 < NCATEGORIES && cats[c + 1])
				c++;
			if (buf[len - 1] != ':')
				buf[len++] = ',';
			if (start == c)
				len += (size_t)snprintf(
				    buf + len, cap - len, "c%u", c);
			else
				len += (size_t)snprintf(
				    buf + len, cap - len, "c%u.c%u", start, c);
		}
		buf[len] = '\0';
	}
	*out = buf;
	return 0;
}

static int
parse_context(struct appspec_parser *p, const struct ytree *node,
    const char *path, struct appspec_permission *perm)
{
	char sub[APPSPEC_PATH_MAX], why[160], shown[APPSPEC_SHOW_MAX + 4];
	const struct ytree *value;
	char *range = NULL;
	int ret = -1;

	if (ytree_is_null(node))
		return 0;
	if (node->kind != YTREE_MAP)
		return appspec_fail(p, node, path,
		    "is %s; give a mapping such as {type: httpd_sys_content_t} "
		    "with optional name (SELinux user) and range",
		    ytree_describe(node));
	perm->has_context = 1;
	appspec_warn_unknown_keys(
	    p, node, path, context_keys, NELEM(context_keys));
	if ((value = appspec_map_get(node, "role")) != NULL)
		appspec_warn(p, value, path,
		    "role is ignored, as the AWS agent ignores it");

	appspec_subpath(sub, path, ".name");
	if (appspec_get_text(p, appspec_map_get(node, "name"), sub,
		"give an SELinux user such as system_u", 1,
		&perm->context.user) < 0)
		goto out;

	appspec_subpath(sub, path, ".type");
	value = appspec_map_get(node, "type");
	if (appspec_get_text(p, value, sub,
		"give an SELinux type such as httpd_sys_content_t", 1,
		&perm->context.type) < 0)
		goto out;
	if (perm->context.type == NULL || perm->context.type[0] == '\0') {
		appspec_fail(p, value != NULL ? value : node,
		    value != NULL ? sub : path,
		    "%s; give an SELinux type such as type: "
		    "httpd_sys_content_t",
		    value != NULL ? "is empty" : "missing type");
		goto out;
	}

	appspec_subpath(sub, path, ".range");
	value = appspec_map_get(node, "range");
	if (appspec_get_text(p, value, sub, range_hint, 1, &range) < 0)
		goto out;
	if (range != NULL &&
	    parse_range(range, &perm->context.range, why, sizeof(why)) < 0) {
		appspec_fail(p, value, sub,
		    "invalid SELinux range '%s': %s; %s",
		    appspec_show(range, shown), why, range_hint);
		goto out;
	}
	ret = 0;
out:
	free(range);
	return ret;
}

/* `type`: a list of file and/or directory; null means both. */
static int
parse_types(struct appspec_parser *p, const struct ytree *node,
    const char *path, struct appspec_permission *perm)
{
	static const char hint[] =
	    "give a list of file and/or directory, such as [file]";
	char sub[APPSPEC_PATH_MAX], shown[APPSPEC_SHOW_MAX + 4];
	size_t i;

	perm->types = APPSPEC_TYPE_FILE | APPSPEC_TYPE_DIRECTORY;
	if (ytree_is_null(node))
		return 0;
	if (node->kind != YTREE_SEQ)
		return appspec_fail(
		    p, node, path, "is %s; %s", ytree_describe(node), hint);
	perm->types = 0;
	for (i = 0; i < node->n; i++) {
		const struct ytree *item = node->child[i];

		appspec_subpath(sub, path, "[%zu]", i);
		if (appspec_scalar_is(item, "file"))
			perm->types |= APPSPEC_TYPE_FILE;
		else if (appspec_scalar_is(item, "directory"))
			perm->types |= APPSPEC_TYPE_DIRECTORY;
		else if (item->kind == YTREE_SCALAR && !ytree_is_null(item))
			return appspec_fail(p, item, sub,
			    "'%s' is not a type; %s",
			    appspec_show(item->value, shown), hint);
		else
			return appspec_fail(p, item, sub, "is %s; %s",
			    ytree_describe(item), hint);
	}
	if (perm->types == 0)
		appspec_warn(p, node, path,
		    "is empty, so this permission applies to nothing");
	return 0;
}

static int
parse_except(struct appspec_parser *p, const struct ytree *node,
    const char *path, struct appspec_permission *perm)
{
	static const char hint[] =
	    "give a list of names where '*' matches anything, such as "
	    "['*.tmp', 'README']";
	char sub[APPSPEC_PATH_MAX];
	size_t i;

	if (ytree_is_null(node))
		return 0;
	if (node->kind != YTREE_SEQ)
		return appspec_fail(
		    p, node, path, "is %s; %s", ytree_describe(node), hint);
	if (node->n > 0)
		perm->except = xcalloc(node->n, sizeof(*perm->except));
	for (i = 0; i < node->n; i++) {
		appspec_subpath(sub, path, "[%zu]", i);
		if (appspec_get_text(
			p, node->child[i], sub, hint, 0, &perm->except[i]) < 0)
			return -1;
		if (perm->except[i] == NULL)
			return appspec_fail(
			    p, node->child[i], sub, "is null; %s", hint);
		perm->nexcept++;
	}
	return 0;
}

/* owner or group: a name, or NULL when not given. */
static int
parse_principal(struct appspec_parser *p, const struct ytree *item,
    const char *key, const char *path, char **out)
{
	char sub[APPSPEC_PATH_MAX], hint[64];
	const struct ytree *node = appspec_map_get(item, key);

	appspec_subpath(sub, path, ".%s", key);
	snprintf(hint, sizeof(hint), "give a %s name", key);
	if (appspec_get_text(p, node, sub, hint, 0, out) < 0)
		return -1;
	if (*out != NULL && (*out)[0] == '\0')
		return appspec_fail(
		    p, node, sub, "is empty; %s or leave %s out", hint, key);
	return 0;
}

/* One entry of permissions (a mapping; appspec_parse_list checked). */
static int
parse_permission(struct appspec_parser *p, const struct ytree *item,
    const char *path, void *out)
{
	char sub[APPSPEC_PATH_MAX];
	struct appspec_permission *perm = out;
	const struct ytree *node;

	perm->line = item->line;
	perm->col = item->col;
	appspec_subpath(sub, path, ".object");
	node = appspec_map_get(item, "object");
	if (appspec_get_text(p, node, sub,
		"give the absolute path the permission applies to", 1,
		&perm->object) < 0)
		return -1;
	if (perm->object == NULL || perm->object[0] == '\0')
		return appspec_fail(p, node != NULL ? node : item,
		    node != NULL ? sub : path,
		    "%s; give the absolute path the permission applies to, "
		    "such as object: /opt/app",
		    node == NULL
			? "missing object"
			: (perm->object == NULL ? "has no value" : "is empty"));

	appspec_subpath(sub, path, ".pattern");
	node = appspec_map_get(item, "pattern");
	if (appspec_get_text(p, node, sub,
		"give a name where '*' matches anything, or \"**\" for "
		"everything below object",
		0, &perm->pattern) < 0)
		return -1;
	if (perm->pattern == NULL)
		perm->pattern = xstrdup("**");

	appspec_subpath(sub, path, ".except");
	if (parse_except(p, appspec_map_get(item, "except"), sub, perm) < 0)
		return -1;
	appspec_subpath(sub, path, ".type");
	if (parse_types(p, appspec_map_get(item, "type"), sub, perm) < 0)
		return -1;
	if (parse_principal(p, item, "owner", path, &perm->owner) < 0 ||
	    parse_principal(p, item, "group", path, &perm->group) < 0)
		return -1;
	appspec_subpath(sub, path, ".mode");
	if (parse_mode(p, appspec_map_get(item, "mode"), sub, perm) < 0)
		return -1;
	appspec_subpath(sub, path, ".acls");
	if (parse_acls(p, appspec_map_get(item, "acls"), sub, perm) < 0)
		return -1;
	appspec_subpath(sub, path, ".context");
	return parse_context(p, appspec_map_get(item, "context"), sub, perm);
}

int
appspec_parse_permissions(struct appspec_parser *p, const struct ytree *node)
{
	static const struct appspec_list permissions = {
		.list_hint = "give a list of mappings such as "
			     "'- object: /opt/app' with 'mode: 755'",
		.item_hint = "each entry must be a mapping such as "
			     "'- object: /opt/app' with 'mode: 755'",
		.keys = permission_keys,
		.nkeys = NELEM(permission_keys),
		.size = sizeof(struct appspec_permission),
		.parse = parse_permission,
	};
	void *items;
	int ret = appspec_parse_list(p, node, "permissions", &permissions,
	    &items, &p->spec->npermissions);

	p->spec->permissions = items;
	return ret;
}
