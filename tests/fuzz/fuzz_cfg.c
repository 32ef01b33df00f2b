/*
 * libFuzzer target for the agent configuration (codedeployagent.yml): any
 * bytes load or fail with a message and no leak or crash; YAML 1.1 typing
 * (booleans, octal, sizes) goes through cfg's tables, and the sizes parser
 * is fed the input as text.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct cfg *cfg = cfg_new();
	struct err err = ERR_INIT;
	char *text = xstrndup((const char *)data, size);
	uint64_t bytes;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	if (cfg_load_buffer(cfg, (const char *)data, size, "fuzz.yml", &err) ==
	    0)
		cfg_print(cfg, devnull);
	else if (err.msg[0] == '\0')
		abort();
	cfg_free(cfg);
	if (cfg_parse_size(text, &bytes) == 0 && strlen(text) == 0)
		abort();
	free(text);
	return 0;
}
