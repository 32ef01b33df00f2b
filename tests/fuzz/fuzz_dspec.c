/*
 * libFuzzer target for the deployment-spec payload (a TEXT/JSON envelope):
 * any input must parse or fail cleanly, with no leak, crash or undefined
 * behaviour; a success must hold a spec that is safe to build paths from,
 * and a failure must leave the spec empty.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dspec.h"
#include "exec.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One directory name: what dspec promises for the two ids. */
static int
safe_name(const char *name)
{
	return name != NULL && name[0] != '\0' && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0 && strpbrk(name, "/\\\n\r") == NULL;
}

/* No absolute path and no ".." component. */
static int
safe_relative(const char *path)
{
	const char *p = path;
	size_t seg;

	if (path[0] == '\0' || path[0] == '/')
		return 0;
	while (*p != '\0') {
		seg = strcspn(p, "/");
		if (seg == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		p += seg + (p[seg] == '/');
	}
	return 1;
}

static void
check_spec(const struct exec_spec *spec)
{
	size_t i;

	if (!safe_name(spec->deployment_id) ||
	    !safe_name(spec->deployment_group_id) ||
	    spec->deployment_group_name == NULL ||
	    spec->deployment_group_name[0] == '\0' ||
	    spec->application_name == NULL ||
	    spec->application_name[0] == '\0' ||
	    spec->deployment_creator == NULL || spec->deployment_type == NULL)
		abort();
	if (spec->appspec_filename != NULL &&
	    !safe_relative(spec->appspec_filename))
		abort();
	if (spec->file_exists_behavior == APPSPEC_FEB_UNSET)
		abort();
	for (i = 0; i < spec->nall_possible_events; i++)
		if (spec->all_possible_events[i] == NULL)
			abort();
	switch (spec->revision) {
	case EXEC_REV_S3:
		if (spec->bucket == NULL || spec->key == NULL ||
		    spec->bundle_type == UNPACK_DIRECTORY)
			abort();
		break;
	case EXEC_REV_GITHUB:
		if (spec->account == NULL || spec->repository == NULL ||
		    spec->commit_id == NULL ||
		    (spec->bundle_type != UNPACK_TAR &&
			spec->bundle_type != UNPACK_ZIP))
			abort();
		break;
	case EXEC_REV_LOCAL_FILE:
	case EXEC_REV_LOCAL_DIRECTORY:
		if (spec->location == NULL)
			abort();
		break;
	default:
		abort();
	}
	if (spec->reuse_archive_from != NULL &&
	    spec->reuse_archive_from[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dspec_opts opts = { 1 };
	struct exec_spec spec, empty;
	struct err err = ERR_INIT;
	char *redacted;

	memset(&spec, 0, sizeof(spec));
	memset(&empty, 0, sizeof(empty));
	if (dspec_parse_envelope("TEXT/JSON", (const char *)data, size, &opts,
		&spec, &err) == 0) {
		check_spec(&spec);
		exec_spec_clear(&spec);
	} else if (err.msg[0] == '\0' ||
	    memcmp(&spec, &empty, sizeof(spec)) != 0) {
		abort();
	}
	redacted = dspec_redacted_json((const char *)data, size);
	free(redacted);
	if (state_valid_reuse_id((const char *)data, size) &&
	    (size < 3 || size > STATE_REUSE_ID_MAX || data[0] != 'd' ||
		memchr(data, '/', size) != NULL ||
		memchr(data, '.', size) != NULL))
		abort();
	return 0;
}
