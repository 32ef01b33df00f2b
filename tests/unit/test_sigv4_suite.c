/*
 * sigv4 against the v4 signing test suite of awslabs/aws-c-auth, copied to
 * tests/data/sigv4/ (see its README): for every case directory, sign the
 * request of request.txt with the settings of context.json and compare the
 * canonical request, string to sign, signature and Authorization header
 * with the expected files.
 *
 * request.txt holds the path as it goes on the wire, so each case is signed
 * with SIGV4_PATH_ENCODED; where that path is in canonical encoded form, it
 * is signed a second time decoded, the way cdagent's callers pass paths.
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>

#include "crypto.h"
#include "json.h"
#include "sigv4.h"
#include "testutil.h"
#include "xalloc.h"

#ifndef SIGV4_SUITE_DIR
#error "SIGV4_SUITE_DIR (the source tree's tests/data/sigv4) is not defined"
#endif

/* The number of case directories copied from the suite. */
#define SUITE_CASES 38

/* What the suite holds that was not copied, reported as skipped. */
static const char *const suite_not_copied[] = {
	"v4a/ (all 40 cases): SigV4a, ECDSA P-256 signing; cdagent signs "
	"with SigV4 only",
	"v4/*/query-* (the query-string variant of all 38 cases): "
	"presigned URLs; cdagent signs with the Authorization header",
};

struct suite_case {
	char *name;	/* the case directory's name */
	char *dir;	/* its path */
	int unencoded;	/* sign the decoded path instead */
	char *skip_why; /* non-NULL: reported as skipped, with this reason */
};

/* A request.txt parsed; everything owned. */
struct suite_request {
	char *method;
	char *path;  /* as on the wire */
	char *query; /* NULL: none */
	char *host;
	char **names, **values; /* every header line, folds joined */
	size_t nlines;
	struct sigv4_header *headers; /* all but Host, borrowing the above */
	size_t nheaders;
	char *body;
	size_t body_len;
};

static void
suite_request_clear(struct suite_request *r)
{
	size_t i;

	free(r->method);
	free(r->path);
	free(r->query);
	free(r->host);
	for (i = 0; i < r->nlines; i++) {
		free(r->names[i]);
		free(r->values[i]);
	}
	free(r->names);
	free(r->values);
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* One line from *p without its "\n" or "\r\n"; NULL at the end. */
static char *
next_line(const char **p)
{
	const char *s = *p, *nl;
	size_t len;

	if (*s == '\0')
		return NULL;
	nl = strchr(s, '\n');
	len = nl != NULL ? (size_t)(nl - s) : strlen(s);
	*p = nl != NULL ? nl + 1 : s + len;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	return xstrndup(s, len);
}

/*
 * Parse request.txt: "METHOD TARGET HTTP/1.1" (the target may hold spaces),
 * "Name:value" header lines with folded continuation lines joined by one
 * space (RFC 7230 3.2.4), then after an empty line the body, byte for byte.
 * Returns 0, or -1 for text that is not such a request.
 */
static int
parse_request(const char *text, struct suite_request *r)
{
	const char *p = text;
	char *line = next_line(&p), *sp1, *sp2, *q;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (line == NULL)
		return -1;
	sp1 = strchr(line, ' ');
	sp2 = strrchr(line, ' ');
	if (sp1 == NULL || sp2 == sp1 || strncmp(sp2, " HTTP/", 6) != 0) {
		free(line);
		return -1;
	}
	r->method = xstrndup(line, (size_t)(sp1 - line));
	*sp2 = '\0';
	q = strchr(sp1 + 1, '?');
	if (q != NULL) {
		*q = '\0';
		r->query = xstrdup(q + 1);
	}
	r->path = xstrdup(sp1 + 1);
	free(line);

	while ((line = next_line(&p)) != NULL) {
		char *colon, *joined;

		if (line[0] == '\0') {
			free(line);
			r->body_len = strlen(p);
			r->body = xstrndup(p, r->body_len);
			break;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			if (r->nlines == 0) {
				free(line);
				return -1;
			}
			joined = xasprintf("%s %s", r->values[r->nlines - 1],
			    line + strspn(line, " \t"));
			free(r->values[r->nlines - 1]);
			r->values[r->nlines - 1] = joined;
			free(line);
			continue;
		}
		if ((colon = strchr(line, ':')) == NULL) {
			free(line);
			return -1;
		}
		r->names =
		    xreallocarray(r->names, r->nlines + 1, sizeof(*r->names));
		r->values =
		    xreallocarray(r->values, r->nlines + 1, sizeof(*r->values));
		r->names[r->nlines] = xstrndup(line, (size_t)(colon - line));
		r->values[r->nlines] = xstrdup(colon + 1);
		r->nlines++;
		free(line);
	}

	r->headers = xcalloc(r->nlines + 1, sizeof(*r->headers));
	for (i = 0; i < r->nlines; i++) {
		if (strcasecmp(r->names[i], "host") == 0) {
			free(r->host);
			r->host = xstrdup(r->values[i]);
			continue;
		}
		r->headers[r->nheaders].name = r->names[i];
		r->headers[r->nheaders].value = r->values[i];
		r->nheaders++;
	}
	return r->host != NULL ? 0 : -1;
}

static int
hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The decoded path if encoding it again gives back the wire path exactly
 * (so a caller holding the decoded path sends the same request), else NULL.
 */
static char *
decoded_path(const char *wire)
{
	size_t len = strlen(wire), i, n = 0;
	char *dec = xmalloc(len + 1), *again;

	for (i = 0; i < len; i++) {
		if (wire[i] == '%' && i + 2 < len &&
		    hexdigit(wire[i + 1]) >= 0 && hexdigit(wire[i + 2]) >= 0) {
			dec[n++] = (char)(hexdigit(wire[i + 1]) * 16 +
			    hexdigit(wire[i + 2]));
			i += 2;
		} else {
			dec[n++] = wire[i];
		}
	}
	dec[n] = '\0';
	again = sigv4_uri_encode(dec, n, 1);
	if (strcmp(again, wire) != 0) {
		free(dec);
		dec = NULL;
	}
	free(again);
	return dec;
}

/* A boolean member of a JSON object; dflt when absent. */
static int
json_flag(const struct json *obj, const char *key, int dflt)
{
	const struct json *v = json_get(obj, key);
	char *text;
	int on;

	if (v == NULL)
		return dflt;
	text = json_print(v);
	assert_true(strcmp(text, "true") == 0 || strcmp(text, "false") == 0);
	on = strcmp(text, "true") == 0;
	free(text);
	return on;
}

/* The context.json of a case directory, parsed. */
static struct json *
load_context(const char *dir)
{
	char *path = xasprintf("%s/context.json", dir);
	char *text = tu_slurp(path);
	struct json *ctx = NULL;
	struct err err = ERR_INIT;

	if (json_parse(text, strlen(text), path, &ctx, &err) < 0)
		fail_msg("%s", err.msg);
	free(text);
	free(path);
	return ctx;
}

/* An expected file of a case, with trailing line ends removed. */
static char *
expected(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *text = tu_slurp(path);
	size_t len = strlen(text);

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	free(path);
	return text;
}

/* The value of the Authorization line of header-signed-request.txt. */
static char *
expected_authorization(const char *dir)
{
	char *text = expected(dir, "header-signed-request.txt");
	const char *p = text;
	char *line, *value = NULL;

	while (value == NULL && (line = next_line(&p)) != NULL) {
		if (strncasecmp(line, "Authorization:", 14) == 0)
			value = xstrdup(line + 14);
		free(line);
	}
	free(text);
	if (value == NULL)
		fail_msg(
		    "%s: no Authorization line in the signed request", dir);
	return value;
}

/* "2015-08-30T12:36:00Z" as a time_t. */
static time_t
parse_timestamp(const char *text)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	assert_non_null(text);
	end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_true(end != NULL && *end == '\0');
	return timegm(&tm);
}

/* Sign one case as context.json says and compare with what AWS expects. */
static void
suite_case__signs_as_expected(void **state)
{
	const struct suite_case *c = *state;
	struct json *ctx = load_context(c->dir);
	const struct json *creds_obj = json_get(ctx, "credentials");
	char *req_path = xasprintf("%s/request.txt", c->dir);
	char *req_text = tu_slurp(req_path);
	char *exp_cr = expected(c->dir, "header-canonical-request.txt");
	char *exp_sts = expected(c->dir, "header-string-to-sign.txt");
	char *exp_sig = expected(c->dir, "header-signature.txt");
	char *exp_auth = expected_authorization(c->dir);
	char *unencoded = NULL;
	char body_hash[CRYPTO_SHA256_HEX_LEN + 1];
	struct suite_request r;
	struct sigv4_credentials creds;
	struct sigv4_params params;
	struct sigv4_request req;
	struct sigv4_result res;
	struct err err = ERR_INIT;

	assert_non_null(creds_obj);
	if (parse_request(req_text, &r) < 0)
		fail_msg("%s: not an HTTP request", req_path);
	crypto_sha256_hex(r.body != NULL ? r.body : "", r.body_len, body_hash);

	creds.access_key_id = json_get_string(creds_obj, "access_key_id");
	creds.secret_access_key =
	    json_get_string(creds_obj, "secret_access_key");
	creds.session_token = json_get_string(creds_obj, "token");
	memset(&params, 0, sizeof(params));
	params.region = json_get_string(ctx, "region");
	params.service = json_get_string(ctx, "service");
	assert_true(params.region != NULL && params.service != NULL);
	params.when = parse_timestamp(json_get_string(ctx, "timestamp"));
	/* the skip list in main() holds every case with it set */
	assert_false(json_flag(ctx, "omit_session_token", 0));

	memset(&req, 0, sizeof(req));
	req.method = r.method;
	req.host = r.host;
	req.query = r.query;
	req.headers = r.headers;
	req.nheaders = r.nheaders;
	req.payload_hash = body_hash;
	if (!json_flag(ctx, "normalize", 1))
		req.flags |= SIGV4_NO_NORMALISE;
	if (json_flag(ctx, "sign_body", 0))
		req.flags |= SIGV4_CONTENT_SHA256;
	if (c->unencoded) {
		unencoded = decoded_path(r.path);
		assert_non_null(unencoded);
		req.path = unencoded;
	} else {
		req.path = r.path;
		req.flags |= SIGV4_PATH_ENCODED;
	}

	if (sigv4_sign(&req, &creds, &params, &res, &err) < 0)
		fail_msg("%s: %s", c->name, err.msg);
	assert_string_equal(res.canonical_request, exp_cr);
	assert_string_equal(res.string_to_sign, exp_sts);
	assert_string_equal(res.signature, exp_sig);
	assert_string_equal(res.authorization, exp_auth);
	assert_string_equal(res.amz_date, "20150830T123600Z");
	if ((req.flags & SIGV4_CONTENT_SHA256) != 0)
		assert_string_equal(res.content_sha256, body_hash);
	else
		assert_null(res.content_sha256);

	sigv4_result_clear(&res);
	free(unencoded);
	suite_request_clear(&r);
	free(exp_cr);
	free(exp_sts);
	free(exp_sig);
	free(exp_auth);
	free(req_text);
	free(req_path);
	json_free(ctx);
}

/* A case or part of the suite cdagent has no use for; the name says why. */
static void
suite_part__skipped(void **state)
{
	(void)state;
	skip();
}

/* Every case directory is there: a lost one would pass unnoticed. */
static void
suite__has_every_case(void **state)
{
	size_t ncases = *(size_t *)*state;

	assert_int_equal(ncases, SUITE_CASES);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the case directories (those with a context.json), sorted. */
static char **
list_cases(size_t *n_out)
{
	DIR *d = opendir(SIGV4_SUITE_DIR);
	struct dirent *ent;
	char **names = NULL;
	size_t n = 0;

	if (d == NULL) {
		perror(SIGV4_SUITE_DIR);
		*n_out = 0;
		return NULL;
	}
	while ((ent = readdir(d)) != NULL) {
		char *ctx;

		if (ent->d_name[0] == '.')
			continue;
		ctx = xasprintf(
		    "%s/%s/context.json", SIGV4_SUITE_DIR, ent->d_name);
		if (tu_exists(ctx)) {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = xstrdup(ent->d_name);
		}
		free(ctx);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	*n_out = n;
	return names;
}

int
main(void)
{
	size_t ncases = 0, nnames = 0, ntests = 0, nskip, i;
	char **names = list_cases(&nnames);
	struct suite_case *cases = xcalloc(nnames * 2 + 1, sizeof(*cases));
	struct CMUnitTest *tests;
	int failed;

	/* one or two signings per case directory */
	for (i = 0; i < nnames; i++) {
		char *dir = xasprintf("%s/%s", SIGV4_SUITE_DIR, names[i]);
		struct json *ctx = load_context(dir);
		char *req_path = xasprintf("%s/request.txt", dir);
		char *req_text = tu_read(req_path);
		struct suite_request r;
		char *dec = NULL;

		cases[ncases].name = xstrdup(names[i]);
		cases[ncases].dir = xstrdup(dir);
		if (json_flag(ctx, "omit_session_token", 0))
			cases[ncases].skip_why =
			    xasprintf("%s: omit_session_token leaves the "
				      "session token unsigned; cdagent always "
				      "signs it",
				names[i]);
		if (cases[ncases].skip_why == NULL && req_text != NULL) {
			if (parse_request(req_text, &r) == 0)
				dec = decoded_path(r.path);
			suite_request_clear(&r);
		}
		ncases++;
		if (dec != NULL) {
			cases[ncases].name =
			    xasprintf("%s, path decoded", names[i]);
			cases[ncases].dir = xstrdup(dir);
			cases[ncases].unencoded = 1;
			ncases++;
		}
		free(dec);
		free(req_text);
		free(req_path);
		json_free(ctx);
		free(dir);
	}

	nskip = sizeof(suite_not_copied) / sizeof(suite_not_copied[0]);
	tests = xcalloc(ncases + nskip + 1, sizeof(*tests));
	tests[ntests].name = "suite__has_every_case";
	tests[ntests].test_func = suite__has_every_case;
	tests[ntests].initial_state = &nnames;
	ntests++;
	for (i = 0; i < ncases; i++) {
		if (cases[i].skip_why != NULL) {
			tests[ntests].name = cases[i].skip_why;
			tests[ntests].test_func = suite_part__skipped;
		} else {
			tests[ntests].name = cases[i].name;
			tests[ntests].test_func = suite_case__signs_as_expected;
			tests[ntests].initial_state = &cases[i];
		}
		ntests++;
	}
	for (i = 0; i < nskip; i++) {
		tests[ntests].name = suite_not_copied[i];
		tests[ntests].test_func = suite_part__skipped;
		ntests++;
	}

	failed =
	    _cmocka_run_group_tests("sigv4_suite", tests, ntests, NULL, NULL);

	for (i = 0; i < ncases; i++) {
		free(cases[i].name);
		free(cases[i].dir);
		free(cases[i].skip_why);
	}
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(cases);
	free(tests);
	return failed;
}
