/*
 * libFuzzer target for the credentials INI (the on-premises
 * aws_credentials_file and ~/.aws/credentials): any bytes parse or fail
 * with a message; a success has a key id and a secret.  The profile is
 * "default", or the first line of the input when it starts with '@'.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct creds out;
	struct err err = ERR_INIT;
	char *profile = xstrdup("default");
	const uint8_t *nl;

	if (size > 0 && data[0] == '@' &&
	    (nl = memchr(data, '\n', size)) != NULL) {
		free(profile);
		profile =
		    xstrndup((const char *)data + 1, (size_t)(nl - data) - 1);
		size -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	memset(&out, 0, sizeof(out));
	if (creds_parse_ini((const char *)data, size, "credentials", profile,
		&out, &err) == 0) {
		if (out.access_key_id == NULL || out.access_key_id[0] == '\0' ||
		    out.secret_access_key == NULL ||
		    out.secret_access_key[0] == '\0')
			abort();
	} else if (err.msg[0] == '\0') {
		abort();
	}
	creds_clear(&out);
	free(profile);
	return 0;
}
