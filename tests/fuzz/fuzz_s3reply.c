/*
 * libFuzzer target for what S3 and GitHub replies carry besides the body:
 * the error code and message of an error reply (XML <Code>/<Message>, JSON
 * __type/message, x-amzn-ErrorType), throttling and retry decisions, the
 * ETag and the Content-Range of a ranged GET.  The input is one reply
 * (fakehttp.h).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "fakehttp.h"
#include "http.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_resp resp;
	struct err err = ERR_INIT;
	char code[128], msg[256], *etag;
	const char *c, *v;
	uint64_t first, last, total;

	memset(&resp, 0, sizeof(resp));
	fakehttp_load(data, size);
	if (http_send(NULL, NULL, &resp, &err) < 0)
		return 0;
	c = http_error_code(&resp, code, sizeof(code));
	if (c != NULL && strlen(c) >= sizeof(code))
		abort();
	v = http_error_message(&resp, msg, sizeof(msg));
	if (v != NULL && strlen(v) >= sizeof(msg))
		abort();
	if (http_is_throttled(&resp) && !http_is_retryable(&resp, NULL))
		abort();
	if ((v = http_resp_header(&resp, "ETag")) != NULL) {
		etag = bundle_etag_strip(xstrdup(v));
		if (etag != NULL && strlen(etag) > strlen(v))
			abort();
		free(etag);
	}
	v = http_resp_header(&resp, "Content-Range");
	if (bundle_parse_content_range(v, &first, &last, &total) == 0 &&
	    (last < first || last >= total))
		abort();
	http_resp_clear(&resp);
	return 0;
}
