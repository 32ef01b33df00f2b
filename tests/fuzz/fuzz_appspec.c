/*
 * libFuzzer target for appspec_parse: any input must parse or fail cleanly,
 * with no leak, crash or undefined behaviour, and a success must hold a
 * consistent tree.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A plain backtracking '*' matcher: slow, but obviously right. */
static int
naive_glob(const char *pattern, const char *name)
{
	if (*pattern == '\0')
		return *name == '\0';
	if (*pattern == '*')
		return naive_glob(pattern + 1, name) ||
		    (*name != '\0' && naive_glob(pattern, name + 1));
	return *name == *pattern && naive_glob(pattern + 1, name + 1);
}

/* appspec_glob_match must agree with the naive matcher on short input. */
static void
check_glob(const char *pattern, const char *name)
{
	int got = appspec_glob_match(pattern, name);

	if (strlen(pattern) > 12 || strlen(name) > 24)
		return;
	if (got != (strchr(name, '/') == NULL && naive_glob(pattern, name)))
		abort();
}

/* Walk what a successful parse returns so bad pointers show up. */
static void
touch(const struct appspec *spec)
{
	size_t i, j;
	char *text;

	for (i = 0; i < spec->nhooks; i++) {
		const struct appspec_hook *hook = &spec->hooks[i];

		if (appspec_find_hook(spec, hook->event) == NULL)
			abort();
		if (!appspec_is_standard_hook(hook->event) &&
		    strcmp(hook->event, "CustomEvent") != 0)
			abort();
		for (j = 0; j < hook->nscripts; j++)
			if (hook->scripts[j].location[0] == '\0' ||
			    hook->scripts[j].timeout == 0)
				abort();
	}
	for (i = 0; i < spec->npermissions; i++) {
		const struct appspec_permission *perm = &spec->permissions[i];

		for (j = 0; j < perm->nacls; j++) {
			text = appspec_ace_format(&perm->acls[j]);
			free(text);
		}
		for (j = 0; j < perm->nexcept; j++) {
			check_glob(perm->pattern, perm->except[j]);
			check_glob(perm->except[j], perm->object);
		}
		check_glob(perm->pattern, perm->object);
		if (perm->has_mode && perm->mode > 07777)
			abort();
	}
	for (i = 0; i < spec->nwarnings; i++)
		if (spec->warnings[i][0] == '\0')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const custom[] = { "CustomEvent" };
	const struct appspec_opts opts = { custom, 1 };
	struct appspec *spec = NULL;
	struct err err = ERR_INIT;

	if (appspec_parse((const char *)data, size, "appspec.yml", &opts, &spec,
		&err) == 0) {
		touch(spec);
		appspec_free(spec);
	} else if (spec != NULL || err.msg[0] == '\0') {
		abort();
	}
	return 0;
}
