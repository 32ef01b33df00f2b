/*
 * appspec hooks (v1 §6.4): lifecycle event names checked against the nine
 * standard hooks and the deployment's custom events, scripts with
 * location, runas, sudo (Ruby truthiness) and timeout (read as v1 reads
 * it, with a warning where that is surprising).
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appspec-int.h"
#include "appspec.h"
#include "xalloc.h"
#include "ytree.h"

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

static const char *const script_keys[] = {
	"location",
	"runas",
	"sudo",
	"timeout",
};

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

/* One script of a hook (a mapping; appspec_parse_list checked). */
static int
parse_script(struct appspec_parser *p, const struct ytree *item,
    const char *path, void *out)
{
	char sub[APPSPEC_PATH_MAX];
	struct appspec_script *script = out;
	const struct ytree *node;
	int b;

	script->line = item->line;
	script->col = item->col;

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

int
appspec_parse_hooks(struct appspec_parser *p, const struct ytree *node,
    const struct appspec_opts *opts)
{
	static const struct appspec_list scripts = {
		.list_hint = "give a list of scripts, such as "
			     "'- location: scripts/start.sh'",
		.item_hint = "each script must be a mapping such as "
			     "'- location: scripts/start.sh' (with optional "
			     "runas, sudo, timeout)",
		.keys = script_keys,
		.nkeys = NELEM(script_keys),
		.size = sizeof(struct appspec_script),
		.parse = parse_script,
	};
	struct appspec *spec = p->spec;
	char shown[APPSPEC_SHOW_MAX + 4], path[APPSPEC_PATH_MAX];
	void *items;
	size_t i;
	int r;

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
		spec->hooks = xreallocarray(
		    spec->hooks, spec->nhooks + 1, sizeof(*spec->hooks));
		hook = &spec->hooks[spec->nhooks++];
		memset(hook, 0, sizeof(*hook));
		hook->event = xstrdup(key->value);
		hook->line = key->line;
		hook->col = key->col;
		r = appspec_parse_list(
		    p, value, path, &scripts, &items, &hook->nscripts);
		hook->scripts = items;
		if (r < 0)
			return -1;
	}
	return 0;
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
