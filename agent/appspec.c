/*
 * appspec: appspec.yml as v1 reads it (v1 §6), into one owned tree.  This
 * file has the document, hooks, files, file_exists_behavior, loading and the
 * glob; appspec-perm.c has permissions.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
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
#include "xalloc.h"
#include "ytree.h"

/* Largest appspec file appspec_load() reads. */
#define APPSPEC_MAX_FILE_SIZE (1024 * 1024)
/* Largest timeout accepted (seconds), so deadlines cannot overflow. */
#define APPSPEC_MAX_TIMEOUT INT_MAX

static const char *const standard_hooks[] = {
	"ApplicationStop",
	"BeforeInstall",
	"AfterInstall",
	"ApplicationStart",
	"ValidateService",
	"BeforeBlockTraffic",
	"AfterBlockTraffic",
	"BeforeAllowTraffic",
	"AfterAllowTraffic",
};
#define NSTANDARD_HOOKS (sizeof(standard_hooks) / sizeof(standard_hooks[0]))

static const char *const top_keys[] = {
	"version",
	"os",
	"files",
	"permissions",
	"hooks",
	"file_exists_behavior",
};

static const char *const script_keys[] = {
	"location",
	"runas",
	"sudo",
	"timeout",
};

static const char *const file_keys[] = {
	"source",
	"destination",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

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

/* Edit distance ignoring case; SIZE_MAX for words too long to bother. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64];

	if (la >= NELEM(row) || lb >= NELEM(row))
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag +
			    (tolower((unsigned char)a[i - 1]) !=
				tolower((unsigned char)b[j - 1]));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *
appspec_suggest(const char *word, const char *const *names, size_t nnames)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, i, d;
	size_t limit = strlen(word) / 2;

	if (limit > 3)
		limit = 3;
	for (i = 0; i < nnames; i++) {
		d = edit_distance(word, names[i]);
		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	return best_d <= limit ? best : NULL;
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

/* Ruby's Integer#to_i of a string: leading digits, else 0. */
static long long
ruby_to_i(const char *s, const char **end)
{
	long long v = 0;
	int neg = 0;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	while (isdigit((unsigned char)*s)) {
		if (v <= (LLONG_MAX - 9) / 10)
			v = v * 10 + (*s - '0');
		else
			v = LLONG_MAX; /* too large either way */
		s++;
		/* one '_' between digits is allowed, as in Ruby */
		if (s[0] == '_' && isdigit((unsigned char)s[1]))
			s++;
	}
	*end = s;
	return neg ? -v : v;
}

/*
 * Psych's base-60 integer, [-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2} ("1:30" is
 * 90), or -1 if text is not one.
 */
static int
sexagesimal(const char *s, long long *out)
{
	long long v = 0;
	int neg = 0, parts = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s) || *s == '_'; s++) {
		if (*s == '_')
			continue;
		if (v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	while (*s == ':') {
		int part = 0, digits = 0;

		for (s++; isdigit((unsigned char)*s) && digits < 3; s++) {
			part = part * 10 + (*s - '0');
			digits++;
		}
		if (digits == 0 || digits > 2 || part > 59 ||
		    v > (LLONG_MAX - part) / 60)
			return -1;
		v = v * 60 + part;
		parts++;
	}
	if (*s != '\0' || parts == 0 || parts > 2)
		return -1;
	*out = neg ? -v : v;
	return 0;
}

/* Psych's float (digits, '.', optional exponent), or -1. */
static int
psych_float(const char *s, double *out)
{
	char clean[64];
	size_t n = 0;
	const char *t = s;
	int digits = 0;

	if (*t == '+' || *t == '-')
		t++;
	if (isdigit((unsigned char)*t))
		for (; isdigit((unsigned char)*t) || *t == '_' || *t == ',';
		     t++)
			digits += isdigit((unsigned char)*t) != 0;
	if (*t != '.')
		return -1;
	for (t++; isdigit((unsigned char)*t); t++)
		digits++;
	if ((*t == 'e' || *t == 'E') && (t[1] == '+' || t[1] == '-') &&
	    isdigit((unsigned char)t[2]))
		for (t += 2; isdigit((unsigned char)*t); t++)
			;
	if (*t != '\0' || digits == 0)
		return -1;
	for (t = s; *t != '\0' && n + 1 < sizeof(clean); t++)
		if (*t != '_' && *t != ',')
			clean[n++] = *t;
	if (*t != '\0')
		return -1;
	clean[n] = '\0';
	*out = strtod(clean, NULL);
	return 0;
}

/* Psych's decimal integer with ',' separators ("1,000"), or -1. */
static int
comma_int(const char *s, long long *out)
{
	long long v = 0;
	int neg = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (*s < '1' || *s > '9' || strchr(s, ',') == NULL)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s == ',' || *s == '_')
			continue;
		if (!isdigit((unsigned char)*s) || v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

/*
 * A script's timeout as v1 reads it: integers (YAML 1.1, so 010 is 8),
 * floats truncated, strings by their leading digits.  Where the reading
 * is surprising, say so in a warning.
 */
static int
parse_timeout(struct appspec_parser *p, const struct ytree *node,
    const char *path, unsigned *out)
{
	static const char hint[] =
	    "give a whole number of seconds greater than 0 (default 3600)";
	char shown[APPSPEC_SHOW_MAX + 4];
	const char *end;
	long long v;
	double d;
	int b;

	*out = APPSPEC_DEFAULT_TIMEOUT;
	if (ytree_is_null(node))
		return 0;
	if (node->kind != YTREE_SCALAR || ytree_to_bool(node, &b) == 0)
		return appspec_fail(
		    p, node, path, "is %s; %s", ytree_describe(node), hint);
	appspec_show(node->value, shown);
	if (memchr(node->value, '\0', node->len) != NULL)
		return appspec_fail(
		    p, node, path, "contains a NUL character; %s", hint);
	if (ytree_to_int(node, &v) == 0) {
		if (node->value[0] == '0' &&
		    isdigit((unsigned char)node->value[1]) && v > 0)
			appspec_warn(p, node, path,
			    "%s has a leading zero, so YAML reads it as octal: "
			    "%lld seconds",
			    shown, v);
	} else if (node->style == YTREE_PLAIN && node->tag == NULL &&
	    (sexagesimal(node->value, &v) == 0 ||
		comma_int(node->value, &v) == 0)) {
		if (v > 0)
			appspec_warn(
			    p, node, path, "%s read as %lld seconds", shown, v);
	} else if (node->style == YTREE_PLAIN && node->tag == NULL &&
	    psych_float(node->value, &d) == 0) {
		if (!isfinite(d) || d >= (double)APPSPEC_MAX_TIMEOUT + 1 ||
		    d <= -1.0)
			return appspec_fail(p, node, path,
			    "invalid timeout '%s'; %s", shown, hint);
		v = (long long)d;
		if ((double)v != d && v > 0)
			appspec_warn(p, node, path,
			    "%s read as %lld seconds (the fraction is dropped)",
			    shown, v);
	} else {
		v = ruby_to_i(node->value, &end);
		while (isspace((unsigned char)*end))
			end++;
		if (*end != '\0' && v > 0)
			appspec_warn(p, node, path,
			    "'%s' read as %lld seconds (only the leading "
			    "digits count); write timeout: %lld",
			    shown, v, v);
	}
	if (v <= 0)
		return appspec_fail(
		    p, node, path, "invalid timeout '%s'; %s", shown, hint);
	if (v > APPSPEC_MAX_TIMEOUT)
		return appspec_fail(p, node, path,
		    "timeout '%s' is too large; give at most %d seconds", shown,
		    APPSPEC_MAX_TIMEOUT);
	*out = (unsigned)v;
	return 0;
}

static int
parse_script(struct appspec_parser *p, const struct ytree *item,
    const char *path, struct appspec_script *script)
{
	char sub[APPSPEC_PATH_MAX];
	const struct ytree *node;
	int b;

	script->line = item->line;
	script->col = item->col;
	if (ytree_is_null(item) || item->kind != YTREE_MAP)
		return appspec_fail(p, item, path,
		    "is %s; each script must be a mapping such as "
		    "'- location: scripts/start.sh' (with optional runas, "
		    "sudo, timeout)",
		    ytree_describe(item));
	appspec_warn_unknown_keys(
	    p, item, path, script_keys, NELEM(script_keys));

	appspec_subpath(sub, path, ".location");
	node = appspec_map_get(item, "location");
	if (appspec_get_text(p, node, sub,
		"give the script's path in the revision, such as "
		"scripts/start.sh",
		1, &script->location) < 0)
		return -1;
	if (script->location == NULL)
		return appspec_fail(p, node != NULL ? node : item,
		    node != NULL ? sub : path,
		    "%s; give location: <the script's path in the revision>",
		    node != NULL ? "has no value" : "script with no location");
	if (script->location[0] == '\0')
		return appspec_fail(p, node, sub,
		    "is empty; give the script's path in the revision, such as "
		    "scripts/start.sh");

	appspec_subpath(sub, path, ".runas");
	node = appspec_map_get(item, "runas");
	if (appspec_get_text(
		p, node, sub, "give a user name", 1, &script->runas) < 0)
		return -1;
	if (script->runas != NULL && script->runas[0] == '\0')
		return appspec_fail(p, node, sub,
		    "is empty; give a user name or leave runas out");

	/* Ruby truthiness: only false and null are false */
	node = appspec_map_get(item, "sudo");
	if (ytree_is_null(node))
		script->sudo = 0;
	else if (ytree_to_bool(node, &b) == 0)
		script->sudo = b;
	else
		script->sudo = 1;

	appspec_subpath(sub, path, ".timeout");
	return parse_timeout(
	    p, appspec_map_get(item, "timeout"), sub, &script->timeout);
}

/* Whether event may carry scripts: a standard hook or a custom event. */
static int
event_allowed(const char *event, const struct appspec_opts *opts)
{
	size_t i;

	if (strcmp(event, "Install") == 0 ||
	    strcmp(event, "DownloadBundle") == 0)
		return 0;
	if (appspec_is_standard_hook(event))
		return 1;
	for (i = 0; opts != NULL && i < opts->ncustom_events; i++)
		if (opts->custom_events[i] != NULL &&
		    strcmp(opts->custom_events[i], event) == 0)
			return 1;
	return 0;
}

/* The error for a hook name that is not allowed, with the allowed list. */
static int
fail_unknown_event(struct appspec_parser *p, const struct ytree *key,
    const struct appspec_opts *opts)
{
	char shown[APPSPEC_SHOW_MAX + 4], path[APPSPEC_PATH_MAX];
	char allowed[ERR_MSG_MAX], why[160];
	const char **names = NULL;
	const char *guess;
	size_t i, n = 0, len = 0;
	const char *event = key->value;

	names =
	    xcalloc(NSTANDARD_HOOKS + (opts != NULL ? opts->ncustom_events : 0),
		sizeof(*names));
	allowed[0] = '\0';
	for (i = 0; i < NSTANDARD_HOOKS; i++)
		names[n++] = standard_hooks[i];
	for (i = 0; opts != NULL && i < opts->ncustom_events; i++)
		if (opts->custom_events[i] != NULL &&
		    event_allowed(opts->custom_events[i], opts))
			names[n++] = opts->custom_events[i];
	for (i = 0; i < n && len + 1 < sizeof(allowed); i++) {
		int w = snprintf(allowed + len, sizeof(allowed) - len, "%s%s",
		    i > 0 ? ", " : "", names[i]);

		if (w < 0)
			break;
		len += (size_t)w;
	}
	guess = appspec_suggest(event, names, n);
	why[0] = '\0';
	if (strcmp(event, "Install") == 0 ||
	    strcmp(event, "DownloadBundle") == 0)
		snprintf(why, sizeof(why),
		    " (the agent runs %s itself; it cannot have scripts)",
		    event);
	else if (guess != NULL)
		snprintf(why, sizeof(why), " (did you mean '%s'?)", guess);
	appspec_show(event, shown);
	snprintf(path, sizeof(path), "hooks.%s", shown);
	free(names);
	return appspec_fail(p, key, path,
	    "unknown lifecycle event '%s'%s; allowed: %s", shown, why, allowed);
}

/* Whether pair i of map has the same scalar key as a later pair. */
static const struct ytree *
later_duplicate(const struct ytree *map, size_t i)
{
	const struct ytree *key = ytree_key(map, i);
	size_t j;

	for (j = i + 1; j < map->n; j++) {
		const struct ytree *other = ytree_key(map, j);

		if (other->kind == YTREE_SCALAR && other->len == key->len &&
		    memcmp(other->value, key->value, key->len) == 0)
			return other;
	}
	return NULL;
}

static int
parse_hooks(struct appspec_parser *p, const struct ytree *doc,
    const struct appspec_opts *opts)
{
	const struct ytree *node = appspec_map_get(doc, "hooks");
	struct appspec *spec = p->spec;
	char shown[APPSPEC_SHOW_MAX + 4], path[APPSPEC_PATH_MAX];
	size_t i, j;

	if (ytree_is_null(node))
		return 0;
	if (node->kind != YTREE_MAP)
		return appspec_fail(p, node, "hooks",
		    "is %s; give a mapping of lifecycle event names to lists "
		    "of scripts, such as 'BeforeInstall: [{location: "
		    "scripts/setup.sh}]'",
		    ytree_describe(node));
	for (i = 0; i < node->n; i++) {
		const struct ytree *key = ytree_key(node, i);
		const struct ytree *value = ytree_value(node, i);
		const struct ytree *dup;
		struct appspec_hook *hook;

		if (key->kind != YTREE_SCALAR)
			return appspec_fail(p, key, "hooks",
			    "a lifecycle event name must be a string, not %s",
			    ytree_describe(key));
		if (memchr(key->value, '\0', key->len) != NULL ||
		    !event_allowed(key->value, opts))
			return fail_unknown_event(p, key, opts);
		appspec_show(key->value, shown);
		snprintf(path, sizeof(path), "hooks.%s", shown);
		if ((dup = later_duplicate(node, i)) != NULL) {
			appspec_warn(p, key, path,
			    "given again at line %u; the last one wins",
			    dup->line);
			continue;
		}
		/* v1 drops an event whose value is null; [] is kept */
		if (ytree_is_null(value))
			continue;
		if (value->kind != YTREE_SEQ)
			return appspec_fail(p, value, path,
			    "is %s; give a list of scripts, such as "
			    "'- location: scripts/start.sh'",
			    ytree_describe(value));
		spec->hooks = xreallocarray(
		    spec->hooks, spec->nhooks + 1, sizeof(*spec->hooks));
		hook = &spec->hooks[spec->nhooks++];
		memset(hook, 0, sizeof(*hook));
		hook->event = xstrdup(key->value);
		hook->line = key->line;
		hook->col = key->col;
		if (value->n > 0)
			hook->scripts =
			    xcalloc(value->n, sizeof(*hook->scripts));
		for (j = 0; j < value->n; j++) {
			char item_path[APPSPEC_PATH_MAX];

			appspec_subpath(item_path, path, "[%zu]", j);
			hook->nscripts++;
			if (parse_script(p, value->child[j], item_path,
				&hook->scripts[j]) < 0)
				return -1;
		}
	}
	return 0;
}

static int
parse_file(struct appspec_parser *p, const struct ytree *item, const char *path,
    struct appspec_file *file)
{
	static const char hint[] =
	    "give a path such as source: config/app.conf";
	static const char dhint[] =
	    "give an absolute path such as destination: /etc/app";
	char sub[APPSPEC_PATH_MAX], shown[APPSPEC_SHOW_MAX + 4];
	const struct ytree *node;

	file->line = item->line;
	file->col = item->col;
	if (ytree_is_null(item) || item->kind != YTREE_MAP)
		return appspec_fail(p, item, path,
		    "is %s; each entry must be a mapping such as "
		    "'- source: app/' with 'destination: /opt/app'",
		    ytree_describe(item));
	appspec_warn_unknown_keys(p, item, path, file_keys, NELEM(file_keys));

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
	return 0;
}

static int
parse_files(struct appspec_parser *p, const struct ytree *doc)
{
	const struct ytree *node = appspec_map_get(doc, "files");
	struct appspec *spec = p->spec;
	char path[APPSPEC_PATH_MAX];
	size_t i;

	if (ytree_is_null(node))
		return 0;
	if (node->kind != YTREE_SEQ)
		return appspec_fail(p, node, "files",
		    "is %s; give a list of mappings such as "
		    "'- source: app/' with 'destination: /opt/app'",
		    ytree_describe(node));
	if (node->n > 0)
		spec->files = xcalloc(node->n, sizeof(*spec->files));
	for (i = 0; i < node->n; i++) {
		snprintf(path, sizeof(path), "files[%zu]", i);
		spec->nfiles++;
		if (parse_file(p, node->child[i], path, &spec->files[i]) < 0)
			return -1;
	}
	return 0;
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
	    parse_hooks(&p, doc, opts) < 0 || parse_files(&p, doc) < 0 ||
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

const struct appspec_hook *
appspec_find_hook(const struct appspec *spec, const char *event)
{
	size_t i;

	for (i = 0; i < spec->nhooks; i++)
		if (strcmp(spec->hooks[i].event, event) == 0)
			return &spec->hooks[i];
	return NULL;
}

int
appspec_is_standard_hook(const char *event)
{
	size_t i;

	for (i = 0; i < NSTANDARD_HOOKS; i++)
		if (strcmp(standard_hooks[i], event) == 0)
			return 1;
	return 0;
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
