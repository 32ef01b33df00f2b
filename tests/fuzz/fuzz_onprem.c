/*
 * libFuzzer target for the on-premises configuration
 * (codedeploy.onpremises.yml): load or fail with a message, no leak or
 * crash; a success names a mode and a region.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct cfg_onprem *op = NULL;
	struct err err = ERR_INIT;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	if (cfg_onprem_load_buffer((const char *)data, size,
		"codedeploy.onpremises.yml", &op, &err) == 0) {
		if (op == NULL)
			abort();
		cfg_onprem_print(op, devnull);
	} else if (err.msg[0] == '\0' || op != NULL) {
		abort();
	}
	cfg_onprem_free(op);
	return 0;
}
