/*
 * libFuzzer target for the SigV4 canonicaliser: any method, host, path,
 * query and headers sign or fail with a message, and the canonical request
 * is a function of its inputs: signing the same request again (from fresh
 * copies of every string) gives the same bytes.
 *
 * Input: fields separated by '\n': flags method host path query service
 * then "name:value" headers (at most 8).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 14

/* Sign with every string copied afresh; 0, or -1 with err set. */
static int
sign(char *const *f, size_t n, struct sigv4_result *res, struct err *err)
{
	static const struct sigv4_credentials creds = { "AKIDEXAMPLE",
		"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token" };
	struct sigv4_header headers[MAX_FIELDS];
	char *copy[MAX_FIELDS];
	struct sigv4_request req;
	struct sigv4_params params;
	size_t i, nh = 0;
	int rc;

	for (i = 0; i < n; i++)
		copy[i] = xstrdup(f[i]);
	memset(&req, 0, sizeof(req));
	req.flags = (unsigned)(copy[0][0] & 7);
	req.method = copy[1];
	req.host = copy[2];
	req.path = copy[3];
	req.query = copy[4][0] != '\0' ? copy[4] : NULL;
	for (i = 6; i < n; i++) {
		char *colon = strchr(copy[i], ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		headers[nh].name = copy[i];
		headers[nh++].value = colon + 1;
	}
	req.headers = headers;
	req.nheaders = nh;
	req.payload_hash = (copy[0][0] & 8) ? SIGV4_UNSIGNED_PAYLOAD : NULL;
	params.region = "us-east-1";
	params.service = copy[5][0] == 's' ? "s3" : "codedeploy-commands";
	params.when = 1369353600;
	memset(res, 0, sizeof(*res));
	rc = sigv4_sign(&req, &creds, &params, res, err);
	for (i = 0; i < n; i++)
		free(copy[i]);
	return rc;
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	static char empty[1];
	char *f[MAX_FIELDS], *p = text;
	struct sigv4_result one, two;
	struct err e1 = ERR_INIT, e2 = ERR_INIT;
	size_t n = 0;
	int r1, r2;

	while (n < MAX_FIELDS && p != NULL) {
		f[n++] = p;
		p = strchr(p, '\n');
		if (p != NULL)
			*p++ = '\0';
	}
	while (n < 6)
		f[n++] = empty;
	r1 = sign(f, n, &one, &e1);
	r2 = sign(f, n, &two, &e2);
	if (r1 != r2)
		abort();
	if (r1 == 0 &&
	    (!same(one.canonical_request, two.canonical_request) ||
		!same(one.string_to_sign, two.string_to_sign) ||
		!same(one.authorization, two.authorization) ||
		!same(one.canonical_uri, two.canonical_uri) ||
		!same(one.canonical_query, two.canonical_query) ||
		strcmp(one.signature, two.signature) != 0 ||
		one.canonical_request == NULL || one.authorization == NULL))
		abort();
	if (r1 < 0 && (e1.msg[0] == '\0' || strcmp(e1.msg, e2.msg) != 0))
		abort();
	sigv4_result_clear(&one);
	sigv4_result_clear(&two);
	free(text);
	return 0;
}
