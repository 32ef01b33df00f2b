/* json: cJSON behind the agent's own interface. */
#include "config.h"

#include <stdio.h>

#include <cjson/cJSON.h>

#include "json.h"

const char *
json_lib_version(void)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "cJSON %s", cJSON_Version());
	return buf;
}
