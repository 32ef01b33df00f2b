/*
 * appspec: appspec.yml as v1 reads it (v1 §6), into one owned tree.  This
 * file has the document, files, file_exists_behavior, loading and the glob;
 * appspec-hooks.c has hooks, appspec-perm.c permissions.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "appspec-int.h"
#include "appspec.h"
#include "fsutil.h"
#include "suggest.h"
#include "xalloc.h"
#include "ytree.h"

/* Largest appspec file appspec_load() reads. */
#define APPSPEC_MAX_FILE_SIZE (1024 * 1024)

static const char *const top_keys[] = {
	"version",
	"os",
	"files",
	"permissions",
	"hooks",
	"file_exists_behavior",
};

static const char *const file_keys[] = {
	"source",
	"destination",
};

/* Shared body of appspec_fail() and appspec_warn(): the full message. */
static void __attribute__((format(printf, 6, 0)))
vformat(char *buf, size_t size, const struct appspec_parser *p,
    const struct ytree *at, const char *path, const char *fmt, va_list ap)
{
	int n;

	if (path[0] == '\0')
		n = snprintf(
		    buf, size, "%s:%u:%u: ", p->name, at->line, at->col);
	else
		n = snprintf(buf, size, "%s:%u:%u: %s: ", p->name, at->line,
		    at->col, path);
	if (n < 0 || (size_t)n >= size)
		return;
	vsnprintf(buf + n, size - (size_t)n, fmt, ap);
	/* user text may hold control bytes: keep messages on one line */
	for (; *buf != '\0'; buf++)
		if ((unsigned char)*buf < 0x20 || *buf == 0x7f)
			*buf = '?';
}

int
appspec_fail(struct appspec_parser *p, const struct ytree *at, const char *path,
    const char *fmt, ...)
{
	char buf[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vformat(buf, sizeof(buf), p, at, path, fmt, ap);
	va_end(ap);
	return err_set(p->err, E_INVALID, "%s", buf);
}

void
appspec_warn(struct appspec_parser *p, const struct ytree *at, const char *path,
    const char *fmt, ...)
{
	struct appspec *spec = p->spec;
	char buf[ERR_MSG_MAX];
	va_list ap;

	if (spec->nwarnings >= APPSPEC_MAX_WARNINGS) {
		p->nsuppressed++;
		return;
	}
	va_start(ap, fmt);
	vformat(buf, sizeof(buf), p, at, path, fmt, ap);
	va_end(ap);
	spec->warnings = xreallocarray(
	    spec->warnings, spec->nwarnings + 1, sizeof(*spec->warnings));
	spec->warnings[spec->nwarnings++] = xstrdup(buf);
}

void
appspec_subpath(char *buf, const char *parent, const char *fmt, ...)
{
	size_t len = strlen(parent);
	va_list ap;

	if (len >= APPSPEC_PATH_MAX)
		len = APPSPEC_PATH_MAX - 1;
	memcpy(buf, parent, len);
	va_start(ap, fmt);
	vsnprintf(buf + len, APPSPEC_PATH_MAX - len, fmt, ap);
	va_end(ap);
}

const char *
appspec_show(const char *s, char *buf)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < APPSPEC_SHOW_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (s[i] != '\0') {
		/* do not cut a UTF-8 sequence in two */
		while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
			i--;
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

int
appspec_scalar_is(const struct ytree *node, const char *name)
{
	return node != NULL && node->kind == YTREE_SCALAR &&
	    node->len == strlen(name) &&
	    memcmp(node->value, name, node->len) == 0;
}

const struct ytree *
appspec_map_get(const struct ytree *map, const char *name)
{
	size_t i;

	if (map == NULL || map->kind != YTREE_MAP)
		return NULL;
	for (i = map->n; i-- > 0;)
		if (appspec_scalar_is(ytree_key(map, i), name))
			return ytree_value(map, i);
	return NULL;
}

const char *
appspec_suggest(const char *word, const char *const *names, size_t nnames)
{
	size_t limit = strlen(word) / 2;

	if (limit > 3)
		limit = 3;
	return suggest_closest(word, names, nnames, limit, SUGGEST_FOLD_CASE);
}

void
appspec_warn_unknown_keys(struct appspec_parser *p, const struct ytree *map,
    const char *path, const char *const *known, size_t nknown)
{
	char shown[APPSPEC_SHOW_MAX + 4];
	size_t i, j;

	for (i = 0; i < map->n; i++) {
		const struct ytree *key = ytree_key(map, i);
		const char *guess;
		int found = 0;

		if (key->kind != YTREE_SCALAR) {
			appspec_warn(p, key, path, "%s as a key ignored",
			    ytree_describe(key));
			continue;
		}
		for (j = 0; j < nknown && !found; j++)
			found = appspec_scalar_is(key, known[j]);
		if (found)
			continue;
		guess = appspec_suggest(key->value, known, nknown);
		if (guess != NULL)
			appspec_warn(p, key, path,
			    "unknown key '%s' ignored; did you mean '%s'?",
			    appspec_show(key->value, shown), guess);
		else
			appspec_warn(p, key, path, "unknown key '%s' ignored",
			    appspec_show(key->value, shown));
	}
}

/* Warn when a known key of map appears twice: YAML keeps the last one. */
static void
warn_duplicate_keys(struct appspec_parser *p, const struct ytree *map,
    const char *path, const char *const *known, size_t nknown)
{
	size_t i, k;

	for (k = 0; k < nknown; k++) {
		const struct ytree *first = NULL;

		for (i = 0; i < map->n; i++) {
			const struct ytree *key = ytree_key(map, i);

			if (!appspec_scalar_is(key, known[k]))
				continue;
			if (first == NULL)
				first = key;
			else
				appspec_warn(p, key, path,
				    "key '%s' given again (first at line %u); "
				    "the last one wins",
				    known[k], first->line);
		}
	}
}

/* Ruby's String#strip: white space off both ends, in place. */
static void
strip(char *s)
{
	size_t len = strlen(s), start = 0;

	while (len > 0 &&
	    (isspace((unsigned char)s[len - 1]) || s[len - 1] == '\0'))
		len--;
	while (start < len && isspace((unsigned char)s[start]))
		start++;
	memmove(s, s + start, len - start);
	s[len - start] = '\0';
}

int
appspec_get_text(struct appspec_parser *p, const struct ytree *node,
    const char *path, const char *hint, int do_strip, char **out)
{
	*out = NULL;
	if (ytree_is_null(node))
		return 0;
	if (node->kind != YTREE_SCALAR)
		return appspec_fail(
		    p, node, path, "is %s; %s", ytree_describe(node), hint);
	if (memchr(node->value, '\0', node->len) != NULL)
		return appspec_fail(
		    p, node, path, "contains a NUL character; %s", hint);
	*out = xstrdup(node->value);
	if (do_strip)
		strip(*out);
	return 0;
}

/* Whether text (after an optional sign) is a number equal to zero. */
static int
text_is_zero(const char *s)
{
	int digits = 0;

	if (*s == '+' || *s == '-')
		s++;
	for (; *s == '0' || *s == '_'; s++)
		digits += *s == '0';
	if (*s == '.')
		for (s++; *s == '0' || *s == '_'; s++)
			digits += *s == '0';
	if (digits > 0 && (*s == 'e' || *s == 'E')) {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return digits > 0 && *s == '\0';
}

/* `version` must be numerically 0; a quoted "0.0" counts (v1 bug 28). */
static int
parse_version(struct appspec_parser *p, const struct ytree *doc)
{
	static const char hint[] = "give version: 0.0";
	const struct ytree *node = appspec_map_get(doc, "version");
	char shown[APPSPEC_SHOW_MAX + 4];
	long long iv;

	if (node == NULL)
		return appspec_fail(p, doc, "version", "missing; %s", hint);
	if (ytree_is_null(node))
		return appspec_fail(
		    p, node, "version", "has no value; %s", hint);
	if (node->kind != YTREE_SCALAR)
		return appspec_fail(p, node, "version", "is %s; %s",
		    ytree_describe(node), hint);
	if (ytree_to_int(node, &iv) == 0 && iv == 0)
		return 0;
	if (node->style != YTREE_BLOCK &&
	    memchr(node->value, '\0', node->len) == NULL &&
	    text_is_zero(node->value))
		return 0;
	return appspec_fail(p, node, "version",
	    "version '%s' is not supported; %s",
	    appspec_show(node->value, shown), hint);
}

static int
parse_os(struct appspec_parser *p, const struct ytree *doc)
{
	static const char hint[] =
	    "allowed: linux (windows is not supported on this agent)";
	const struct ytree *node = appspec_map_get(doc, "os");
	char shown[APPSPEC_SHOW_MAX + 4];

	if (node == NULL)
		return appspec_fail(p, doc, "os", "missing; %s", hint);
	if (ytree_is_null(node) || node->kind != YTREE_SCALAR)
		return appspec_fail(
		    p, node, "os", "is %s; %s", ytree_describe(node), hint);
	if (!appspec_scalar_is(node, "linux"))
		return appspec_fail(p, node, "os", "'%s' is not supported; %s",
		    appspec_show(node->value, shown), hint);
	p->spec->os = xstrdup("linux");
	return 0;
}

/* One entry of files (a mapping; appspec_parse_list checked). */
static int
parse_file(struct appspec_parser *p, const struct ytree *item, const char *path,
    void *out)
{
	static const char hint[] =
	    "give a path such as source: config/app.conf";
	static const char dhint[] =
	    "give an absolute path such as destination: /etc/app";
	char sub[APPSPEC_PATH_MAX], shown[APPSPEC_SHOW_MAX + 4];
	struct appspec_file *file = out;
	const struct ytree *node;

	file->line = item->line;
	file->col = item->col;
	appspec_subpath(sub, path, ".source");
	node = appspec_map_get(item, "source");
	if (appspec_get_text(p, node, sub, hint, 0, &file->source) < 0)
		return -1;
	if (file->source == NULL)
		return appspec_fail(p, node != NULL ? node : item,
		    node != NULL ? sub : path,
		    "missing source; give the path in the revision to copy "
		    "('/' for everything) with source:");

	appspec_subpath(sub, path, ".destination");
	node = appspec_map_get(item, "destination");
	if (appspec_get_text(p, node, sub, dhint, 0, &file->destination) < 0)
		return -1;
	if (file->destination == NULL)
		return appspec_fail(p, node != NULL ? node : item,
		    node != NULL ? sub : path,
		    "missing destination for source '%s'; %s",
		    appspec_show(file->source, shown), dhint);
	if (file->destination[0] == '\0')
		return appspec_fail(p, node, sub,
		    "is empty for source '%s'; %s",
		    appspec_show(file->source, shown), dhint);
	/* the cleanup file holds one path per line (v1 §7.5) */
	if (strpbrk(file->destination, "\n\r") != NULL)
		return appspec_fail(p, node, sub,
		    "holds a line break; destinations must be one line: %s",
		    dhint);
	if (file->destination[0] != '/')
		return appspec_fail(p, node, sub,
		    "'%s' is relative; destinations must be absolute "
		    "(start with '/'): %s",
		    appspec_show(file->destination, shown), dhint);
	return 0;
}

int
appspec_parse_list(struct appspec_parser *p, const struct ytree *node,
    const char *path, const struct appspec_list *list, void **items,
    size_t *nitems)
{
	char item_path[APPSPEC_PATH_MAX];
	size_t i;

	*items = NULL;
	*nitems = 0;
	if (ytree_is_null(node))
		return 0;
	if (node->kind != YTREE_SEQ)
		return appspec_fail(p, node, path, "is %s; %s",
		    ytree_describe(node), list->list_hint);
	if (node->n > 0)
		*items = xcalloc(node->n, list->size);
	for (i = 0; i < node->n; i++) {
		const struct ytree *item = node->child[i];

		appspec_subpath(item_path, path, "[%zu]", i);
		(*nitems)++;
		if (ytree_is_null(item) || item->kind != YTREE_MAP)
			return appspec_fail(p, item, item_path, "is %s; %s",
			    ytree_describe(item), list->item_hint);
		appspec_warn_unknown_keys(
		    p, item, item_path, list->keys, list->nkeys);
		if (list->parse(p, item, item_path,
			(char *)*items + i * list->size) < 0)
			return -1;
	}
	return 0;
}

static int
parse_files(struct appspec_parser *p, const struct ytree *doc)
{
	static const struct appspec_list files = {
		.list_hint = "give a list of mappings such as "
			     "'- source: app/' with 'destination: /opt/app'",
		.item_hint = "each entry must be a mapping such as "
			     "'- source: app/' with 'destination: /opt/app'",
		.keys = file_keys,
		.nkeys = NELEM(file_keys),
		.size = sizeof(struct appspec_file),
		.parse = parse_file,
	};
	void *items;
	int ret = appspec_parse_list(p, appspec_map_get(doc, "files"), "files",
	    &files, &items, &p->spec->nfiles);

	p->spec->files = items;
	return ret;
}

static int
parse_feb_key(struct appspec_parser *p, const struct ytree *doc)
{
	static const char hint[] = "allowed: DISALLOW, OVERWRITE, RETAIN "
				   "(upper case) or nothing";
	const struct ytree *node = appspec_map_get(doc, "file_exists_behavior");
	char shown[APPSPEC_SHOW_MAX + 4];

	p->spec->file_exists_behavior = APPSPEC_FEB_UNSET;
	if (ytree_is_null(node))
		return 0;
	if (node->kind != YTREE_SCALAR)
		return appspec_fail(p, node, "file_exists_behavior",
		    "is %s; %s", ytree_describe(node), hint);
	if (memchr(node->value, '\0', node->len) != NULL ||
	    appspec_parse_feb(node->value, 0, &p->spec->file_exists_behavior) <
		0)
		return appspec_fail(p, node, "file_exists_behavior",
		    "'%s' is not a file-exists behaviour; %s",
		    appspec_show(node->value, shown), hint);
	return 0;
}

/* Whether buf holds only spaces, tabs and line breaks. */
static int
is_blank(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' &&
		    buf[i] != '\n')
			return 0;
	return 1;
}

int
appspec_parse(const char *buf, size_t len, const char *name,
    const struct appspec_opts *opts, struct appspec **out, struct err *err)
{
	struct appspec_parser p = { 0 };
	struct appspec *spec = NULL;
	struct ytree *doc = NULL;
	int ret = -1;

	*out = NULL;
	if (name == NULL)
		name = "appspec.yml";
	spec = xcalloc(1, sizeof(*spec));
	spec->path = xstrdup(name);
	p.name = name;
	p.spec = spec;
	p.err = err;
	/* blank text (tabs included, which YAML would reject) is empty */
	if (!is_blank(buf, len) && ytree_parse(buf, len, name, &doc, err) < 0)
		goto out;
	if (ytree_is_null(doc)) {
		err_set(err, E_INVALID,
		    "%s:1:1: the appspec is empty; it needs at least "
		    "'version: 0.0' and 'os: linux'",
		    name);
		goto out;
	}
	if (doc->kind != YTREE_MAP) {
		appspec_fail(&p, doc, "",
		    "the appspec must be a mapping of keys (version, os, "
		    "files, permissions, hooks, file_exists_behavior), not %s",
		    ytree_describe(doc));
		goto out;
	}
	appspec_warn_unknown_keys(&p, doc, "", top_keys, NELEM(top_keys));
	warn_duplicate_keys(&p, doc, "", top_keys, NELEM(top_keys));
	/* v1's order: version, os, hooks, files, permissions, behaviour */
	if (parse_version(&p, doc) < 0 || parse_os(&p, doc) < 0 ||
	    appspec_parse_hooks(&p, appspec_map_get(doc, "hooks"), opts) < 0 ||
	    parse_files(&p, doc) < 0 ||
	    appspec_parse_permissions(&p, appspec_map_get(doc, "permissions")) <
		0 ||
	    parse_feb_key(&p, doc) < 0)
		goto out;
	if (p.nsuppressed > 0) {
		spec->warnings = xreallocarray(spec->warnings,
		    spec->nwarnings + 1, sizeof(*spec->warnings));
		spec->warnings[spec->nwarnings++] = xasprintf(
		    "%s: %zu more warnings not shown", name, p.nsuppressed);
	}
	*out = spec;
	spec = NULL;
	ret = 0;
out:
	appspec_free(spec);
	ytree_free(doc);
	return ret;
}

int
appspec_load(const char *archive_dir, const char *filename,
    const struct appspec_opts *opts, struct appspec **out, struct err *err)
{
	const char *names[3];
	char *path = NULL, *buf = NULL;
	char tried[ERR_MSG_MAX];
	const char *base;
	size_t len = 0, i, j, tlen = 0;
	struct stat st;
	int ret = -1;

	*out = NULL;
	names[0] =
	    filename != NULL && filename[0] != '\0' ? filename : "appspec.yml";
	names[1] = "appspec.yaml";
	names[2] = "appspec.yml";
	tried[0] = '\0';
	for (i = 0; i < NELEM(names); i++) {
		int seen = 0;

		for (j = 0; j < i; j++)
			seen |= strcmp(names[j], names[i]) == 0;
		if (seen)
			continue;
		if (fsutil_join_safe(archive_dir, names[i], &path, err) < 0) {
			err_prefix(err, "cannot use the appspec file name");
			goto out;
		}
		if (stat(path, &st) == 0)
			break;
		if (errno != ENOENT && errno != ENOTDIR) {
			err_sys(err, "cannot look for the appspec %s", path);
			goto out;
		}
		if (tlen < sizeof(tried))
			tlen +=
			    (size_t)snprintf(tried + tlen, sizeof(tried) - tlen,
				"%s%s", tlen > 0 ? ", " : "", names[i]);
		free(path);
		path = NULL;
	}
	if (path == NULL) {
		err_set(err, E_NOTFOUND,
		    "no appspec file in %s (tried %s); the revision needs an "
		    "appspec.yml at its root",
		    archive_dir, tried);
		goto out;
	}
	if (fsutil_read_file(path, APPSPEC_MAX_FILE_SIZE, &buf, &len, err) <
	    0) {
		err_prefix(err, "cannot read the appspec");
		goto out;
	}
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	if (appspec_parse(buf, len, base, opts, out, err) < 0)
		goto out;
	free((*out)->path);
	(*out)->path = path;
	path = NULL;
	ret = 0;
out:
	free(path);
	free(buf);
	return ret;
}

void
appspec_free(struct appspec *spec)
{
	size_t i, j;

	if (spec == NULL)
		return;
	for (i = 0; i < spec->nhooks; i++) {
		struct appspec_hook *hook = &spec->hooks[i];

		for (j = 0; j < hook->nscripts; j++) {
			free(hook->scripts[j].location);
			free(hook->scripts[j].runas);
		}
		free(hook->scripts);
		free(hook->event);
	}
	free(spec->hooks);
	for (i = 0; i < spec->nfiles; i++) {
		free(spec->files[i].source);
		free(spec->files[i].destination);
	}
	free(spec->files);
	for (i = 0; i < spec->npermissions; i++)
		appspec_permission_clear(&spec->permissions[i]);
	free(spec->permissions);
	for (i = 0; i < spec->nwarnings; i++)
		free(spec->warnings[i]);
	free(spec->warnings);
	free(spec->os);
	free(spec->path);
	free(spec);
}

/*
 * Only '*' is special.  Literal runs between stars are matched leftmost
 * with memmem(), which is correct for star-only globs and keeps the match
 * linear: no backtracking, whatever the pattern.
 */
int
appspec_glob_match(const char *pattern, const char *name)
{
	const char *star, *last_star, *seg, *pos, *limit;
	size_t nlen = strlen(name), plen, slen;

	if (strchr(name, '/') != NULL)
		return 0;
	star = strchr(pattern, '*');
	if (star == NULL)
		return strcmp(pattern, name) == 0;
	/* the literal prefix and suffix are anchored */
	plen = (size_t)(star - pattern);
	last_star = strrchr(pattern, '*');
	slen = strlen(last_star + 1);
	if (plen + slen > nlen || strncmp(name, pattern, plen) != 0 ||
	    strcmp(name + nlen - slen, last_star + 1) != 0)
		return 0;
	pos = name + plen;
	limit = name + nlen - slen;
	for (seg = star + 1; seg < last_star;) {
		const char *next = strchr(seg, '*');
		size_t seglen = (size_t)(next - seg);
		const char *hit;

		if (seglen > 0) {
			hit = memmem(pos, (size_t)(limit - pos), seg, seglen);
			if (hit == NULL)
				return 0;
			pos = hit + seglen;
		}
		seg = next + 1;
	}
	return 1;
}

const char *
appspec_feb_name(enum appspec_feb feb)
{
	switch (feb) {
	case APPSPEC_FEB_DISALLOW:
		return "DISALLOW";
	case APPSPEC_FEB_OVERWRITE:
		return "OVERWRITE";
	case APPSPEC_FEB_RETAIN:
		return "RETAIN";
	case APPSPEC_FEB_UNSET:
		break;
	}
	return "";
}

int
appspec_parse_feb(const char *text, int fold_case, enum appspec_feb *out)
{
	static const enum appspec_feb all[] = {
		APPSPEC_FEB_DISALLOW,
		APPSPEC_FEB_OVERWRITE,
		APPSPEC_FEB_RETAIN,
	};
	size_t i;

	if (text == NULL)
		return -1;
	for (i = 0; i < NELEM(all); i++) {
		const char *name = appspec_feb_name(all[i]);

		if (fold_case ? strcasecmp(text, name) == 0
			      : strcmp(text, name) == 0) {
			*out = all[i];
			return 0;
		}
	}
	return -1;
}
