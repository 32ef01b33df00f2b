/*
 * libFuzzer target for the instance metadata service's replies: the token,
 * the identity document and role credentials JSON (with ISO-8601
 * Expiration times), the role list, partition and domain.  The first byte
 * picks the call; the rest is the replies (fakehttp.h).  The input is also
 * given to imds_parse_time() as text.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fakehttp.h"
#include "imds.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imds_opts opts;
	struct imds *m;
	struct imds_identity id;
	struct imds_credentials creds;
	struct err err = ERR_INIT;
	char *out = NULL, *text;
	time_t when;
	int rc;

	if (size == 0)
		return 0;
	text = xstrndup((const char *)data + 1, size - 1);
	if (imds_parse_time(text, &when) == 0 && strlen(text) < 19)
		abort();
	free(text);
	memset(&opts, 0, sizeof(opts));
	opts.endpoint = "http://127.0.0.1:9";
	opts.disable_v1 = data[0] & 0x80;
	m = imds_new(&opts, &err);
	if (m == NULL)
		abort();
	fakehttp_load(data + 1, size - 1);
	switch (data[0] % 6) {
	case 0:
		memset(&id, 0, sizeof(id));
		rc = imds_identity(m, &id, &err);
		if (rc == 0 && (id.region == NULL || id.region[0] == '\0'))
			abort();
		imds_identity_clear(&id);
		break;
	case 1:
		memset(&creds, 0, sizeof(creds));
		rc = imds_role_credentials(m, "role", &creds, &err);
		if (rc == 0 &&
		    (creds.access_key_id == NULL ||
			creds.secret_access_key == NULL))
			abort();
		imds_credentials_clear(&creds);
		break;
	case 2:
		rc = imds_role_name(m, &out, &err);
		break;
	case 3:
		rc = imds_partition(m, &out, &err);
		break;
	case 4:
		rc = imds_domain(m, &out, &err);
		break;
	default:
		rc = imds_get(m, "meta-data/instance-id", &out, &err);
		break;
	}
	if (rc < 0 && err.msg[0] == '\0')
		abort();
	if (rc == 0 && data[0] % 6 >= 2 && out == NULL)
		abort();
	free(out);
	imds_free(m);
	return 0;
}
