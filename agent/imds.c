/*
 * imds: an IMDSv2 client with an IMDSv1 fallback, over the http module.
 *
 * One token is cached per client.  Every request goes through imds_get()'s
 * core, fetch(), which decides between token and tokenless and handles a
 * 401; the typed getters only parse bodies.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "http.h"
#include "imds.h"
#include "json.h"
#include "log.h"
#include "xalloc.h"

#define TOKEN_PATH "/latest/api/token"
#define TTL_HEADER "X-aws-ec2-metadata-token-ttl-seconds"
#define TOKEN_HEADER "X-aws-ec2-metadata-token"
#define IDENTITY_PATH "/latest/dynamic/instance-identity/document"
#define PARTITION_PATH "/latest/meta-data/services/partition"
#define DOMAIN_PATH "/latest/meta-data/services/domain"
#define ROLE_PATH "/latest/meta-data/iam/security-credentials/"

#define DEFAULT_CONNECT_TIMEOUT_MS 1000
#define DEFAULT_TOTAL_TIMEOUT_MS 3000
/* A token is replaced this long before its TTL runs out. */
#define TOKEN_MARGIN_MS 60000

struct imds {
	struct http_client *http;
	char *endpoint;
	int disable_v1;
	int disabled; /* AWS_EC2_METADATA_DISABLED=true */
	long total_timeout_ms;
	struct retry_policy retry;
	char *token; /* secret */
	long long token_expires_ms;
};

static char *
trimmed_copy(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/* Free a reply whose body may hold a secret (a token, role credentials). */
static void
resp_wipe(struct http_resp *resp)
{
	if (resp->body != NULL)
		explicit_bzero(resp->body, resp->body_len);
	http_resp_clear(resp);
}

/* The endpoint from opts or the environment, checked, without a final '/'. */
static int
pick_endpoint(const struct imds_opts *opts, char **out, struct err *err)
{
	const char *url = opts != NULL ? opts->endpoint : NULL;
	const char *what = "the IMDS endpoint";
	const char *mode;
	size_t len;

	if (url == NULL || url[0] == '\0') {
		url = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
		what = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
	}
	if (url == NULL || url[0] == '\0') {
		mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
		if (mode == NULL || mode[0] == '\0' ||
		    strcasecmp(mode, "IPv4") == 0)
			url = IMDS_DEFAULT_ENDPOINT;
		else if (strcasecmp(mode, "IPv6") == 0)
			url = IMDS_IPV6_ENDPOINT;
		else
			return err_set(err, E_INVALID,
			    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is '%s'; "
			    "use IPv4 or IPv6",
			    mode);
	}
	if (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)
		return err_set(err, E_INVALID,
		    "%s '%s' is not a URL; give one like "
		    "http://169.254.169.254",
		    what, url);
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	*out = xstrndup(url, len);
	return 0;
}

struct imds *
imds_new(const struct imds_opts *opts, struct err *err)
{
	struct http_opts hopts;
	struct imds *m = xcalloc(1, sizeof(*m));
	const char *off = getenv("AWS_EC2_METADATA_DISABLED");

	if (pick_endpoint(opts, &m->endpoint, err) < 0)
		goto fail;
	m->disable_v1 = opts != NULL && opts->disable_v1;
	m->disabled = off != NULL && strcasecmp(off, "true") == 0;
	m->total_timeout_ms = opts != NULL && opts->total_timeout_ms > 0
	    ? opts->total_timeout_ms
	    : DEFAULT_TOTAL_TIMEOUT_MS;
	m->retry = RETRY_IMDS;
	if (opts != NULL && opts->max_attempts > 0)
		m->retry.attempts = opts->max_attempts;
	if (opts != NULL && opts->retry_base_ms > 0)
		m->retry.first_ms = opts->retry_base_ms;
	m->retry.max_ms = m->retry.first_ms * 8;

	memset(&hopts, 0, sizeof(hopts));
	hopts.no_proxy = 1;
	hopts.follow_redirects = 0;
	hopts.connect_timeout_ms = opts != NULL && opts->connect_timeout_ms > 0
	    ? opts->connect_timeout_ms
	    : DEFAULT_CONNECT_TIMEOUT_MS;
	hopts.read_timeout_ms = m->total_timeout_ms;
	m->http = http_client_new(&hopts, err);
	if (m->http == NULL)
		goto fail;
	return m;
fail:
	imds_free(m);
	return NULL;
}

static void
drop_token(struct imds *m)
{
	xfree_secret_str(m->token);
	m->token = NULL;
	m->token_expires_ms = 0;
}

void
imds_free(struct imds *m)
{
	if (m == NULL)
		return;
	drop_token(m);
	http_client_free(m->http);
	free(m->endpoint);
	free(m);
}

const char *
imds_endpoint(const struct imds *m)
{
	return m->endpoint;
}

/* One request with retries; resp holds the reply when 0 is returned. */
static int
send_req(struct imds *m, const char *method, const char *path,
    const char *token, struct http_resp *resp, struct err *err)
{
	char *url = xasprintf("%s%s", m->endpoint, path);
	struct http_req *req = http_req_new(method, url);
	char ttl[16];
	int ret;

	http_req_timeout(req, m->total_timeout_ms);
	if (strcmp(method, "PUT") == 0) {
		snprintf(ttl, sizeof(ttl), "%d", IMDS_TOKEN_TTL_SECONDS);
		http_req_header(req, TTL_HEADER, ttl);
		http_req_body(req, "", 0);
	}
	if (token != NULL)
		http_req_header(req, TOKEN_HEADER, token);
	ret = http_send_retry(m->http, req, resp, &m->retry, NULL, NULL, err);
	if (ret < 0)
		err_prefix(err,
		    "the instance metadata service at %s is unreachable "
		    "(on EC2, check the instance's metadata options; "
		    "elsewhere, register the host with an on-premises "
		    "config)",
		    m->endpoint);
	http_req_free(req);
	free(url);
	return ret;
}

/*
 * Make sure m->token holds a live token.  On failure *transport says
 * whether the PUT could not reach the service at all.
 */
static int
get_token(struct imds *m, int *transport, struct err *err)
{
	struct http_resp resp = { 0 };
	const char *ttl_text;
	long long now = clock_now_ms(), ttl_ms;
	long ttl = IMDS_TOKEN_TTL_SECONDS;
	int ret = -1;

	*transport = 0;
	if (m->token != NULL && now < m->token_expires_ms)
		return 0;
	drop_token(m);
	if (send_req(m, "PUT", TOKEN_PATH, NULL, &resp, err) < 0) {
		*transport = err->code == E_NETWORK;
		goto out;
	}
	if (resp.status != 200) {
		err_set(err, E_SERVICE, "PUT %s%s: HTTP %ld", m->endpoint,
		    TOKEN_PATH, resp.status);
		goto out;
	}
	if (resp.body == NULL || resp.body_len == 0 ||
	    memchr(resp.body, '\0', resp.body_len) != NULL) {
		err_set(err, E_PARSE, "PUT %s%s: the reply has no token",
		    m->endpoint, TOKEN_PATH);
		goto out;
	}
	/* The service says how long it granted; trust it if it is sane. */
	ttl_text = http_resp_header(&resp, TTL_HEADER);
	if (ttl_text != NULL) {
		char *end;
		long v;

		errno = 0;
		v = strtol(ttl_text, &end, 10);
		if (errno == 0 && end != ttl_text && v > 0 &&
		    v <= IMDS_TOKEN_TTL_SECONDS)
			ttl = v;
	}
	ttl_ms = (long long)ttl * 1000;
	m->token = trimmed_copy(resp.body, resp.body_len);
	m->token_expires_ms = now +
	    (ttl_ms > 2 * TOKEN_MARGIN_MS ? ttl_ms - TOKEN_MARGIN_MS
					  : ttl_ms / 2);
	log_debug("imds: new IMDSv2 token for %ld s", ttl);
	ret = 0;
out:
	resp_wipe(&resp);
	return ret;
}

/*
 * GET path, with a token when one can be had; resp gets the final reply.
 * Returns -1 only when no reply could be had or v1 is not allowed.
 */
static int
fetch(struct imds *m, const char *path, struct http_resp *resp, struct err *err)
{
	struct err token_err = ERR_INIT;
	int transport = 0;

	if (m->disabled)
		return err_set(err, E_INVALID,
		    "the instance metadata service is disabled by "
		    "AWS_EC2_METADATA_DISABLED; unset it, or give "
		    "credentials and region another way");
	if (get_token(m, &transport, &token_err) < 0) {
		if (transport) {
			*err = token_err;
			return -1;
		}
		if (m->disable_v1)
			return err_set(err, E_AUTH,
			    "could not get an IMDSv2 token (%s), and IMDSv1 "
			    "is disabled by disable_imds_v1; allow PUT "
			    "requests to the metadata service (hop limit 2 "
			    "for containers) or set disable_imds_v1 to false",
			    token_err.msg);
		log_warn(
		    "imds: no IMDSv2 token (%s); trying IMDSv1", token_err.msg);
		return send_req(m, "GET", path, NULL, resp, err);
	}
	if (send_req(m, "GET", path, m->token, resp, err) < 0)
		return -1;
	if (resp->status != 401)
		return 0;
	/* The service forgot the token (expired, restarted): once more. */
	log_debug("imds: GET %s: token refused; taking a new one", path);
	drop_token(m);
	http_resp_clear(resp);
	if (get_token(m, &transport, err) < 0)
		return err_prefix(
		    err, "GET %s%s was refused (HTTP 401)", m->endpoint, path);
	return send_req(m, "GET", path, m->token, resp, err);
}

/* fetch() with non-2xx turned into an error; the body stays in resp. */
static int
fetch_ok(
    struct imds *m, const char *path, struct http_resp *resp, struct err *err)
{
	if (fetch(m, path, resp, err) < 0)
		return -1;
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	return err_set(err, resp->status == 404 ? E_NOTFOUND : E_SERVICE,
	    "GET %s%s: HTTP %ld%s", m->endpoint, path, resp->status,
	    resp->status == 401 ? " (IMDSv2 token required)" : "");
}

int
imds_get(struct imds *m, const char *path, char **out, struct err *err)
{
	struct http_resp resp = { 0 };
	int ret = -1;

	if (fetch_ok(m, path, &resp, err) < 0)
		goto out;
	*out = trimmed_copy(resp.body != NULL ? resp.body : "",
	    resp.body != NULL ? resp.body_len : 0);
	ret = 0;
out:
	http_resp_clear(&resp);
	return ret;
}

void
imds_identity_clear(struct imds_identity *id)
{
	free(id->region);
	free(id->account_id);
	free(id->instance_id);
	memset(id, 0, sizeof(*id));
}

/* A required, non-empty string member of doc, trimmed; NULL if absent. */
static char *
member(const struct json *doc, const char *key)
{
	const char *v = json_get_string(doc, key);
	char *copy;

	if (v == NULL)
		return NULL;
	copy = trimmed_copy(v, strlen(v));
	if (copy[0] == '\0') {
		free(copy);
		return NULL;
	}
	return copy;
}

int
imds_identity(struct imds *m, struct imds_identity *out, struct err *err)
{
	static const char *const keys[] = { "region", "accountId",
		"instanceId" };
	struct imds_identity id = { NULL, NULL, NULL };
	char **slots[] = { &id.region, &id.account_id, &id.instance_id };
	struct json *doc = NULL;
	char *text = NULL;
	size_t i;
	int ret = -1;

	if (imds_get(m, IDENTITY_PATH, &text, err) < 0)
		goto out;
	if (json_parse(text, strlen(text), "the instance identity document",
		&doc, err) < 0)
		goto out;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		*slots[i] = member(doc, keys[i]);
		if (*slots[i] == NULL) {
			err_set(err, E_PARSE,
			    "the instance identity document from %s has no "
			    "'%s'",
			    m->endpoint, keys[i]);
			goto out;
		}
	}
	*out = id;
	memset(&id, 0, sizeof(id));
	ret = 0;
out:
	imds_identity_clear(&id);
	json_free(doc);
	free(text);
	return ret;
}

int
imds_partition(struct imds *m, char **out, struct err *err)
{
	struct err get_err = ERR_INIT;

	if (imds_get(m, PARTITION_PATH, out, &get_err) == 0 &&
	    (*out)[0] != '\0')
		return 0;
	if (get_err.code == E_OK)
		free(*out);
	else if (get_err.code != E_NOTFOUND) {
		*err = get_err;
		return -1;
	}
	*out = xstrdup("aws");
	return 0;
}

int
imds_domain(struct imds *m, char **out, struct err *err)
{
	return imds_get(m, DOMAIN_PATH, out, err);
}

/* IAM role names: letters, digits and +=,.@_- (at most 64). */
static int
valid_role_name(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= 64 &&
	    strspn(name,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789+=,.@_-") == len;
}

int
imds_role_name(struct imds *m, char **out, struct err *err)
{
	struct err get_err = ERR_INIT;
	char *list = NULL;
	size_t len;

	if (imds_get(m, ROLE_PATH, &list, &get_err) < 0) {
		if (get_err.code == E_NOTFOUND)
			return err_set(err, E_NOTFOUND,
			    "the instance has no IAM instance profile (%s); "
			    "attach one whose role may use CodeDeploy and "
			    "read the revision bucket",
			    get_err.msg);
		*err = get_err;
		return -1;
	}
	len = strcspn(list, "\r\n");
	list[len] = '\0';
	if (len == 0) {
		free(list);
		return err_set(err, E_NOTFOUND,
		    "the instance has no IAM instance profile (%s%s lists "
		    "no role); attach one",
		    m->endpoint, ROLE_PATH);
	}
	if (!valid_role_name(list)) {
		err_set(err, E_PARSE,
		    "%s%s lists a role name that is not "
		    "valid for IAM",
		    m->endpoint, ROLE_PATH);
		free(list);
		return -1;
	}
	*out = list;
	return 0;
}

void
imds_credentials_clear(struct imds_credentials *c)
{
	xfree_secret_str(c->access_key_id);
	xfree_secret_str(c->secret_access_key);
	xfree_secret_str(c->token);
	memset(c, 0, sizeof(*c));
}

/* Digits as a number, exactly n of them. */
static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

/* One of the characters in allowed. */
static int
sep(const char **p, const char *allowed)
{
	if (**p == '\0' || strchr(allowed, **p) == NULL)
		return -1;
	(*p)++;
	return 0;
}

int
imds_parse_time(const char *text, time_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	const char *p = text;
	struct tm tm;
	int year, mon, day, hour, min, sec, off_h = 0, off_m = 0, sign = 0;
	time_t t;

	if (digits(&p, 4, &year) < 0 || sep(&p, "-") < 0 ||
	    digits(&p, 2, &mon) < 0 || sep(&p, "-") < 0 ||
	    digits(&p, 2, &day) < 0 || sep(&p, "Tt") < 0 ||
	    digits(&p, 2, &hour) < 0 || sep(&p, ":") < 0 ||
	    digits(&p, 2, &min) < 0 || sep(&p, ":") < 0 ||
	    digits(&p, 2, &sec) < 0)
		return -1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (digits(&p, 2, &off_h) < 0 || sep(&p, ":") < 0 ||
		    digits(&p, 2, &off_m) < 0 || off_h > 23 || off_m > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0' || mon < 1 || mon > 12 || day < 1 ||
	    day > mdays[mon - 1] || hour > 23 || min > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t - sign * (off_h * 3600 + off_m * 60);
	return 0;
}

int
imds_role_credentials(struct imds *m, const char *role,
    struct imds_credentials *out, struct err *err)
{
	struct imds_credentials c = { NULL, NULL, NULL, 0 };
	struct http_resp resp = { 0 };
	struct json *doc = NULL;
	const char *code, *expiration;
	char *path = NULL;
	int ret = -1;

	if (!valid_role_name(role))
		return err_set(
		    err, E_INVALID, "'%s' is not an IAM role name", role);
	path = xasprintf("%s%s", ROLE_PATH, role);
	if (fetch_ok(m, path, &resp, err) < 0)
		goto out;
	if (json_parse(resp.body != NULL ? resp.body : "", resp.body_len,
		"the role credentials", &doc, err) < 0) {
		err_prefix(err, "%s%s", m->endpoint, path);
		goto out;
	}
	code = json_get_string(doc, "Code");
	if (code != NULL && strcmp(code, "Success") != 0) {
		err_set(err, E_SERVICE,
		    "%s%s: the service says '%s' instead of Success; check "
		    "the instance profile's role",
		    m->endpoint, path, code);
		goto out;
	}
	c.access_key_id = member(doc, "AccessKeyId");
	c.secret_access_key = member(doc, "SecretAccessKey");
	c.token = member(doc, "Token");
	expiration = json_get_string(doc, "Expiration");
	if (c.access_key_id == NULL || c.secret_access_key == NULL ||
	    c.token == NULL) {
		err_set(err, E_PARSE,
		    "%s%s: the reply lacks AccessKeyId, SecretAccessKey or "
		    "Token",
		    m->endpoint, path);
		goto out;
	}
	if (expiration == NULL ||
	    imds_parse_time(expiration, &c.expiration) < 0) {
		err_set(err, E_PARSE,
		    "%s%s: Expiration is missing or not an ISO-8601 time",
		    m->endpoint, path);
		goto out;
	}
	*out = c;
	memset(&c, 0, sizeof(c));
	ret = 0;
out:
	imds_credentials_clear(&c);
	json_free(doc);
	resp_wipe(&resp);
	free(path);
	return ret;
}
