/*
 * libFuzzer target for `cdagent local`'s remote locations (s3://bucket/key
 * with versionId and etag, GitHub URLs): parse or refuse, no leak or
 * crash; a parsed S3 location has a bucket and a key, a GitHub one an
 * account, a repository and a commit.  The first byte picks the bundle
 * type.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "local.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = { "tar", "tgz", "zip" };
	static FILE *devnull;
	struct exec_spec spec;
	const char *type;
	char *loc;

	if (devnull == NULL) {
		devnull = fopen("/dev/null", "w");
		if (devnull == NULL)
			abort();
		stderr = devnull; /* the refusals; sanitizers write to fd 2 */
	}
	if (size == 0)
		return 0;
	type = types[data[0] % 3];
	loc = xstrndup((const char *)data + 1, size - 1);
	memset(&spec, 0, sizeof(spec));
	if (local_parse_location(loc, type, &spec) == 0) {
		if (spec.revision == EXEC_REV_S3 &&
		    (spec.bucket == NULL || spec.bucket[0] == '\0' ||
			spec.key == NULL || spec.key[0] == '\0'))
			abort();
		if (spec.revision == EXEC_REV_GITHUB &&
		    (spec.account == NULL || spec.repository == NULL ||
			spec.commit_id == NULL || spec.commit_id[0] == '\0'))
			abort();
		if (spec.revision != EXEC_REV_S3 &&
		    spec.revision != EXEC_REV_GITHUB)
			abort();
	}
	exec_spec_clear(&spec);
	free(loc);
	return 0;
}
