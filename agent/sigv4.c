/* sigv4: canonical request, string to sign, signing key, signature. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "fsutil.h"
#include "sigv4.h"
#include "xalloc.h"

/* A growable string. */
struct buf {
	char *s;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static char *
buf_take(struct buf *b)
{
	char *s = b->s != NULL ? b->s : xstrdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

static int
unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

char *
sigv4_uri_encode(const char *s, size_t len, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(len * 3 + 1), *p = out;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/')) {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode (and '+' stays '+': S3 keys may hold it). */
static char *
uri_decode(const char *s, size_t len, size_t *out_len)
{
	char *out = xmalloc(len + 1);
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			out[n++] =
			    (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

struct qparam {
	char *key; /* encoded */
	char *value;
};

static int
qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	return r != 0 ? r : strcmp(x->value, y->value);
}

/* The canonical query: each name and value decoded, re-encoded, sorted. */
static char *
canonical_query(const char *query)
{
	struct qparam *params = NULL;
	struct buf b = { 0 };
	size_t n = 0, i;
	const char *p = query;

	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, "&"), klen = strcspn(p, "=&");
		size_t dlen;
		char *dec;

		if (len > 0) {
			params = xreallocarray(params, n + 1, sizeof(*params));
			dec = uri_decode(p, klen, &dlen);
			params[n].key = sigv4_uri_encode(dec, dlen, 0);
			free(dec);
			if (klen < len)
				dec = uri_decode(
				    p + klen + 1, len - klen - 1, &dlen);
			else
				dec = uri_decode("", 0, &dlen);
			params[n].value = sigv4_uri_encode(dec, dlen, 0);
			free(dec);
			n++;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (n > 1)
		qsort(params, n, sizeof(*params), qparam_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_str(&b, "&");
		buf_str(&b, params[i].key);
		buf_str(&b, "=");
		buf_str(&b, params[i].value);
		free(params[i].key);
		free(params[i].value);
	}
	free(params);
	return buf_take(&b);
}

struct chdr {
	char *name;  /* lower case */
	char *value; /* trimmed, inner runs of spaces collapsed */
};

static int
chdr_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct chdr *)a)->name, ((const struct chdr *)b)->name);
}

static struct chdr
make_header(const char *name, const char *value)
{
	struct chdr h;
	size_t i, n = 0;
	const char *v = value;
	int space = 0;

	h.name = xstrdup(name);
	for (i = 0; h.name[i] != '\0'; i++)
		h.name[i] = (char)tolower((unsigned char)h.name[i]);
	h.value = xmalloc(strlen(value) + 1);
	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v != '\0'; v++) {
		if (*v == ' ' || *v == '\t') {
			space = 1;
			continue;
		}
		if (space && n > 0)
			h.value[n++] = ' ';
		space = 0;
		h.value[n++] = *v;
	}
	h.value[n] = '\0';
	return h;
}

static void
hmac_str(const unsigned char *key, size_t key_len, const char *data,
    unsigned char out[CRYPTO_SHA256_LEN])
{
	crypto_hmac_sha256(key, key_len, data, strlen(data), out);
}

void
sigv4_result_clear(struct sigv4_result *res)
{
	free(res->authorization);
	free(res->content_sha256);
	free(res->canonical_request);
	free(res->string_to_sign);
	free(res->canonical_uri);
	free(res->canonical_query);
	memset(res, 0, sizeof(*res));
}

/* A list of canonical headers, sorted by name once complete. */
struct chdrs {
	struct chdr *v;
	size_t n;
};

static void
chdrs_clear(struct chdrs *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

/*
 * The headers to sign: the agent's own (host, x-amz-date, and as the
 * service needs x-amz-content-sha256 and x-amz-security-token), then the
 * caller's.  A caller's header the agent sets itself is dropped; a repeated
 * one gets its values joined with ',' in order.  Sets out->content_sha256.
 */
static void
collect_headers(const struct sigv4_request *req,
    const struct sigv4_credentials *creds, int s3, struct sigv4_result *out,
    struct chdrs *hdrs)
{
	size_t ngen, i;

	hdrs->v = xcalloc(req->nheaders + 4, sizeof(*hdrs->v));
	hdrs->n = 0;
	hdrs->v[hdrs->n++] = make_header("host", req->host);
	hdrs->v[hdrs->n++] = make_header("x-amz-date", out->amz_date);
	if (s3 || (req->flags & SIGV4_CONTENT_SHA256) != 0) {
		out->content_sha256 =
		    xstrdup(req->payload_hash != NULL ? req->payload_hash
						      : SIGV4_UNSIGNED_PAYLOAD);
		hdrs->v[hdrs->n++] =
		    make_header("x-amz-content-sha256", out->content_sha256);
	}
	if (creds->session_token != NULL && creds->session_token[0] != '\0')
		hdrs->v[hdrs->n++] =
		    make_header("x-amz-security-token", creds->session_token);
	ngen = hdrs->n;
	for (i = 0; i < req->nheaders; i++) {
		struct chdr h =
		    make_header(req->headers[i].name, req->headers[i].value);
		size_t j;

		for (j = 0; j < hdrs->n; j++)
			if (strcmp(hdrs->v[j].name, h.name) == 0)
				break;
		if (j == hdrs->n) {
			hdrs->v[hdrs->n++] = h;
			continue;
		}
		if (j >= ngen) {
			char *joined =
			    xasprintf("%s,%s", hdrs->v[j].value, h.value);

			free(hdrs->v[j].value);
			hdrs->v[j].value = joined;
		}
		free(h.name);
		free(h.value);
	}
	qsort(hdrs->v, hdrs->n, sizeof(*hdrs->v), chdr_cmp);
}

/*
 * The canonical request (method, URI, query, headers, signed header names,
 * payload hash) into out->canonical_request; returns the signed header
 * names ("host;x-amz-date"), to free.
 */
static char *
canonical_request(const struct sigv4_request *req, int s3,
    const struct chdrs *hdrs, struct sigv4_result *out)
{
	struct buf cr = { 0 }, signed_names = { 0 };
	size_t i;

	buf_str(&cr, req->method);
	buf_str(&cr, "\n");
	if (s3) {
		buf_str(&cr, out->canonical_uri);
	} else {
		/* other services: the already-encoded path encoded again */
		char *twice = sigv4_uri_encode(
		    out->canonical_uri, strlen(out->canonical_uri), 1);

		buf_str(&cr, twice);
		free(twice);
	}
	buf_str(&cr, "\n");
	buf_str(&cr, out->canonical_query);
	buf_str(&cr, "\n");
	for (i = 0; i < hdrs->n; i++) {
		buf_str(&cr, hdrs->v[i].name);
		buf_str(&cr, ":");
		buf_str(&cr, hdrs->v[i].value);
		buf_str(&cr, "\n");
		if (i > 0)
			buf_str(&signed_names, ";");
		buf_str(&signed_names, hdrs->v[i].name);
	}
	buf_str(&cr, "\n");
	buf_str(&cr, signed_names.s);
	buf_str(&cr, "\n");
	buf_str(&cr,
	    req->payload_hash != NULL ? req->payload_hash
				      : SIGV4_UNSIGNED_PAYLOAD);
	out->canonical_request = buf_take(&cr);
	return buf_take(&signed_names);
}

/* The string to sign, from the canonical request, into out. */
static void
string_to_sign(const char *scope, struct sigv4_result *out)
{
	char hash[CRYPTO_SHA256_HEX_LEN + 1];
	struct buf sts = { 0 };

	crypto_sha256_hex(
	    out->canonical_request, strlen(out->canonical_request), hash);
	buf_str(&sts, "AWS4-HMAC-SHA256\n");
	buf_str(&sts, out->amz_date);
	buf_str(&sts, "\n");
	buf_str(&sts, scope);
	buf_str(&sts, "\n");
	buf_str(&sts, hash);
	out->string_to_sign = buf_take(&sts);
}

/*
 * The signature (the HMAC chain from "AWS4" + secret over date, region,
 * service and "aws4_request", then over the string to sign) into
 * out->signature, and the Authorization header into out->authorization.
 */
static void
sign(const struct sigv4_credentials *creds, const struct sigv4_params *params,
    const char *date, const char *scope, const char *signed_names,
    struct sigv4_result *out)
{
	unsigned char k[CRYPTO_SHA256_LEN], sig[CRYPTO_SHA256_LEN];
	char *secret_key = xasprintf("AWS4%s", creds->secret_access_key);

	hmac_str(
	    (const unsigned char *)secret_key, strlen(secret_key), date, k);
	hmac_str(k, sizeof(k), params->region, k);
	hmac_str(k, sizeof(k), params->service, k);
	hmac_str(k, sizeof(k), "aws4_request", k);
	hmac_str(k, sizeof(k), out->string_to_sign, sig);
	crypto_hex(sig, sizeof(sig), out->signature);
	out->authorization = xasprintf("AWS4-HMAC-SHA256 Credential=%s/%s, "
				       "SignedHeaders=%s, Signature=%s",
	    creds->access_key_id, scope, signed_names, out->signature);
	explicit_bzero(k, sizeof(k));
	xfree_secret_str(secret_key);
}

int
sigv4_sign(const struct sigv4_request *req,
    const struct sigv4_credentials *creds, const struct sigv4_params *params,
    struct sigv4_result *out, struct err *err)
{
	struct chdrs hdrs = { 0 };
	char date[9], scope[256];
	char *path = NULL, *signed_names;
	int s3 = strcmp(params->service, "s3") == 0;
	struct tm tm;

	memset(out, 0, sizeof(*out));
	if (creds->access_key_id == NULL || creds->secret_access_key == NULL ||
	    creds->access_key_id[0] == '\0')
		return err_set(err, E_AUTH,
		    "no AWS credentials to sign the "
		    "request with");
	if (req->path == NULL || req->path[0] != '/')
		return err_set(err, E_INVALID,
		    "a request path must start "
		    "with '/'");
	gmtime_r(&params->when, &tm);
	strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm);
	strftime(date, sizeof(date), "%Y%m%d", &tm);
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date,
	    params->region, params->service);

	/* canonical URI: the path as sent, normalised unless s3 */
	if (s3 || (req->flags & SIGV4_NO_NORMALISE) != 0)
		path = xstrdup(req->path);
	else
		path = fsutil_normalise(req->path, 1);
	if ((req->flags & SIGV4_PATH_ENCODED) != 0)
		out->canonical_uri = xstrdup(path);
	else
		out->canonical_uri = sigv4_uri_encode(path, strlen(path), 1);
	out->canonical_query = canonical_query(req->query);

	collect_headers(req, creds, s3, out, &hdrs);
	signed_names = canonical_request(req, s3, &hdrs, out);
	string_to_sign(scope, out);
	sign(creds, params, date, scope, signed_names, out);

	chdrs_clear(&hdrs);
	free(signed_names);
	free(path);
	return 0;
}
