/*
 * exec-spec: freeing a struct exec_spec (exec-spec.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "exec-spec.h"
#include "xalloc.h"

void
exec_spec_clear(struct exec_spec *spec)
{
	size_t i;

	free(spec->deployment_id);
	free(spec->deployment_group_id);
	free(spec->deployment_group_name);
	free(spec->application_name);
	free(spec->deployment_creator);
	free(spec->deployment_type);
	free(spec->appspec_filename);
	for (i = 0; i < spec->nall_possible_events; i++)
		free(spec->all_possible_events[i]);
	free(spec->all_possible_events);
	free(spec->location);
	free(spec->bucket);
	free(spec->key);
	free(spec->version);
	free(spec->etag);
	free(spec->account);
	free(spec->repository);
	free(spec->commit_id);
	xfree_secret_str(spec->github_token);
	free(spec->reuse_archive_from);
	memset(spec, 0, sizeof(*spec));
}
