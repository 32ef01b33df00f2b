/*
 * http: libcurl behind the agent's own interface.
 *
 * Every transfer, single or in a multi, is a struct xfer around one easy
 * handle; the client's share handle gives them one DNS cache, one TLS
 * session cache and one connection pool.  Extra CAs are added to the
 * system store from CURLOPT_SSL_CTX_FUNCTION, since CURLOPT_CAINFO would
 * replace it.  A stall is caught from the progress callback: no byte in
 * either direction for read_timeout_ms aborts the transfer.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "clock.h"
#include "crypto.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "xalloc.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 15000
#define DEFAULT_READ_TIMEOUT_MS 60000

struct http_client {
	struct http_opts opts;
	char *proxy_uri;
	char *user_agent;
	struct crypto_ca_set *cas; /* NULL: system store only */
	char *ca_sources;	   /* for the TLS failure hint */
	char *first_ca;		   /* stands in for a missing system bundle */
	char *missing_bundle;	   /* curl's default bundle, if absent */
	CURLSH *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	CURL *easy; /* reused by http_send() for its connection */
};

struct hdr {
	char *name;
	char *value;
};

struct http_req {
	char *method;
	char *url;
	struct hdr *hdrs;
	size_t nhdrs;
	unsigned char *body;
	size_t body_len;
	int has_body;
	http_sink_fn sink;
	void *sink_arg;
	long total_timeout_ms;
};

struct xfer {
	struct http_client *client;
	CURL *easy;
	struct http_req *req;
	struct http_resp *resp;
	struct curl_slist *slist;
	char errbuf[CURL_ERROR_SIZE];
	long long last_activity_ms;
	long long start_ms;
	curl_off_t last_dl;
	curl_off_t last_ul;
	int stalled;
	int too_big;
	int replying; /* a status line arrived: too late to abandon */
	void *tag;
	struct xfer *next;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static void
share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
	struct http_client *client = arg;

	(void)h;
	(void)access;
	pthread_mutex_lock(&client->locks[data]);
}

static void
share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	struct http_client *client = arg;

	(void)h;
	pthread_mutex_unlock(&client->locks[data]);
}

static void
append_source(char **list, const char *what)
{
	char *joined = xasprintf("%s%s%s", *list != NULL ? *list : "",
	    *list != NULL ? ", " : "", what);

	free(*list);
	*list = joined;
}

/* The CA files and directory the environment names, loaded now. */
static int
load_cas(struct http_client *client, struct err *err)
{
	static const char *const file_vars[] = { "AWS_SSL_CA_BUNDLE",
		"SSL_CERT_FILE" };
	const char *dir = getenv("AWS_SSL_CA_DIRECTORY");
	char *system_bundle = NULL;
	CURL *probe = curl_easy_init();
	size_t i;

	/* The system bundle is trusted already: do not load it twice. */
	if (probe != NULL) {
		char *p = NULL;

		if (curl_easy_getinfo(probe, CURLINFO_CAINFO, &p) == CURLE_OK &&
		    p != NULL) {
			system_bundle = realpath(p, NULL);
			if (system_bundle == NULL)
				client->missing_bundle = xstrdup(p);
		}
		curl_easy_cleanup(probe);
	}

	for (i = 0; i < sizeof(file_vars) / sizeof(file_vars[0]); i++) {
		const char *path = getenv(file_vars[i]);

		char *real;
		int same;

		if (path == NULL || *path == '\0')
			continue;
		if (i == 1 && client->ca_sources != NULL &&
		    strcmp(path, getenv(file_vars[0])) == 0)
			continue;
		real = realpath(path, NULL);
		same = real != NULL && system_bundle != NULL &&
		    strcmp(real, system_bundle) == 0;
		free(real);
		if (same)
			continue;
		if (client->cas == NULL)
			client->cas = crypto_ca_set_new();
		if (crypto_ca_set_add_file(client->cas, path, err) < 0) {
			free(system_bundle);
			return err_prefix(err, "%s", file_vars[i]);
		}
		append_source(&client->ca_sources, file_vars[i]);
		if (client->first_ca == NULL)
			client->first_ca = xstrdup(path);
	}
	free(system_bundle);
	if (dir != NULL && *dir != '\0') {
		if (client->cas == NULL)
			client->cas = crypto_ca_set_new();
		if (crypto_ca_set_add_dir(client->cas, dir, err) < 0)
			return err_prefix(err, "AWS_SSL_CA_DIRECTORY");
		append_source(&client->ca_sources, "AWS_SSL_CA_DIRECTORY");
	}
	if (client->cas != NULL) {
		const curl_version_info_data *info =
		    curl_version_info(CURLVERSION_NOW);

		if (info->ssl_version == NULL ||
		    strncmp(info->ssl_version, "OpenSSL", 7) != 0)
			return err_set(err, E_INVALID,
			    "%s is set but libcurl uses %s, not OpenSSL; "
			    "install libcurl4-openssl-dev's runtime (libcurl4)",
			    client->ca_sources,
			    info->ssl_version != NULL ? info->ssl_version
						      : "no TLS");
	}
	return 0;
}

struct http_client *
http_client_new(const struct http_opts *opts, struct err *err)
{
	struct http_client *client;
	int i;

	pthread_once(&global_once, global_init);
	if (global_rc < 0) {
		err_set(err, E_INTERNAL, "libcurl failed to initialise");
		return NULL;
	}
	client = xcalloc(1, sizeof(*client));
	client->opts = *opts;
	client->proxy_uri =
	    opts->proxy_uri != NULL ? xstrdup(opts->proxy_uri) : NULL;
	client->opts.proxy_uri = client->proxy_uri;
	client->user_agent =
	    xstrdup(opts->user_agent != NULL ? opts->user_agent
					     : "cdagent/" PACKAGE_VERSION);
	client->opts.user_agent = client->user_agent;
	if (client->opts.connect_timeout_ms <= 0)
		client->opts.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	if (client->opts.read_timeout_ms <= 0)
		client->opts.read_timeout_ms = DEFAULT_READ_TIMEOUT_MS;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&client->locks[i], NULL);
	if (load_cas(client, err) < 0) {
		http_client_free(client);
		return NULL;
	}
	client->share = curl_share_init();
	if (client->share == NULL)
		xalloc_fail("libcurl could not allocate a share handle");
	curl_share_setopt(client->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(client->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(client->share, CURLSHOPT_USERDATA, client);
	curl_share_setopt(client->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(
	    client->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(
	    client->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	return client;
}

void
http_client_free(struct http_client *client)
{
	int i;

	if (client == NULL)
		return;
	if (client->easy != NULL)
		curl_easy_cleanup(client->easy);
	if (client->share != NULL)
		curl_share_cleanup(client->share);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&client->locks[i]);
	crypto_ca_set_free(client->cas);
	free(client->ca_sources);
	free(client->first_ca);
	free(client->missing_bundle);
	free(client->proxy_uri);
	free(client->user_agent);
	free(client);
}

/* --- requests --------------------------------------------------------- */

struct http_req *
http_req_new(const char *method, const char *url)
{
	struct http_req *req = xcalloc(1, sizeof(*req));

	req->method = xstrdup(method);
	req->url = xstrdup(url);
	return req;
}

void
http_req_free(struct http_req *req)
{
	size_t i;

	if (req == NULL)
		return;
	for (i = 0; i < req->nhdrs; i++) {
		free(req->hdrs[i].name);
		xfree_secret_str(req->hdrs[i].value);
	}
	free(req->hdrs);
	if (req->body != NULL)
		xfree_secret(req->body, req->body_len);
	free(req->method);
	free(req->url);
	free(req);
}

void
http_req_set_url(struct http_req *req, const char *url)
{
	char *copy = xstrdup(url);

	free(req->url);
	req->url = copy;
}

const char *
http_req_url(const struct http_req *req)
{
	return req->url;
}

const char *
http_req_method(const struct http_req *req)
{
	return req->method;
}

void
http_req_header(struct http_req *req, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < req->nhdrs; i++) {
		if (strcasecmp(req->hdrs[i].name, name) != 0)
			continue;
		xfree_secret_str(req->hdrs[i].value);
		if (value != NULL) {
			req->hdrs[i].value = xstrdup(value);
			return;
		}
		free(req->hdrs[i].name);
		req->hdrs[i] = req->hdrs[--req->nhdrs];
		return;
	}
	if (value == NULL)
		return;
	req->hdrs =
	    xreallocarray(req->hdrs, req->nhdrs + 1, sizeof(*req->hdrs));
	req->hdrs[req->nhdrs].name = xstrdup(name);
	req->hdrs[req->nhdrs].value = xstrdup(value);
	req->nhdrs++;
}

const char *
http_req_get_header(const struct http_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nhdrs; i++)
		if (strcasecmp(req->hdrs[i].name, name) == 0)
			return req->hdrs[i].value;
	return NULL;
}

void
http_req_body(struct http_req *req, const void *body, size_t len)
{
	if (req->body != NULL)
		xfree_secret(req->body, req->body_len);
	req->body = xmalloc(len + 1);
	if (len > 0)
		memcpy(req->body, body, len);
	req->body_len = len;
	req->has_body = 1;
}

void
http_req_sink(struct http_req *req, http_sink_fn fn, void *arg)
{
	req->sink = fn;
	req->sink_arg = arg;
}

void
http_req_timeout(struct http_req *req, long total_ms)
{
	req->total_timeout_ms = total_ms;
}

/* --- responses -------------------------------------------------------- */

void
http_resp_clear(struct http_resp *resp)
{
	size_t i;

	if (resp == NULL)
		return;
	for (i = 0; i < resp->nheaders; i++)
		free(resp->headers[i]);
	free(resp->headers);
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

const char *
http_resp_header(const struct http_resp *resp, const char *name)
{
	size_t len = strlen(name), i;

	/* The last one wins, as with a repeated header. */
	for (i = resp->nheaders; i-- > 0;) {
		const char *h = resp->headers[i];

		if (strncasecmp(h, name, len) == 0 && h[len] == ':')
			return h + len + 1 + strspn(h + len + 1, " \t");
	}
	return NULL;
}

static void
resp_reset_reply(struct http_resp *resp)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++)
		free(resp->headers[i]);
	free(resp->headers);
	resp->headers = NULL;
	resp->nheaders = 0;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

static size_t
header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct http_resp *resp = x->resp;
	size_t len = size * nmemb, end = len;
	char *line;

	x->last_activity_ms = clock_now_ms();
	while (end > 0 && (data[end - 1] == '\r' || data[end - 1] == '\n'))
		end--;
	if (end >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new reply (after a redirect or 100): forget the last. */
		resp_reset_reply(resp);
		x->replying = 1;
		return len;
	}
	if (end == 0 || memchr(data, ':', end) == NULL)
		return len;
	if (resp->nheaders >= 256)
		return len; /* a hostile server: keep the first 256 */
	line = xmalloc(end + 1);
	memcpy(line, data, end);
	line[end] = '\0';
	resp->headers = xreallocarray(
	    resp->headers, resp->nheaders + 1, sizeof(*resp->headers));
	resp->headers[resp->nheaders++] = line;
	return len;
}

static int
status_ok(long status)
{
	return status >= 200 && status < 300;
}

static void
keep_body(struct http_resp *resp, const char *data, size_t len, size_t cap)
{
	size_t room = cap > resp->body_len ? cap - resp->body_len : 0;

	if (len > room)
		len = room;
	resp->body = xrealloc(resp->body, resp->body_len + len + 1);
	memcpy(resp->body + resp->body_len, data, len);
	resp->body_len += len;
	resp->body[resp->body_len] = '\0';
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct http_resp *resp = x->resp;
	size_t len = size * nmemb;
	long status = 0;

	x->last_activity_ms = clock_now_ms();
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	resp->status = status; /* the sink may want to look */
	if (!status_ok(status)) {
		keep_body(resp, data, len, HTTP_MAX_ERROR_BODY);
		return len;
	}
	if (x->req->sink == NULL) {
		if (resp->body_len + len > HTTP_MAX_MEMORY_BODY) {
			x->too_big = 1;
			return 0;
		}
		keep_body(resp, data, len, HTTP_MAX_MEMORY_BODY);
		resp->received += len;
		return len;
	}
	if (x->req->sink(data, len, x->req->sink_arg) < 0) {
		resp->sink_failed = 1;
		return 0;
	}
	resp->received += len;
	return len;
}

static int
progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct xfer *x = arg;
	long long now = clock_now_ms();

	(void)dltotal;
	(void)ultotal;
	/*
	 * A stop abandons a request still waiting for its reply, never one
	 * whose reply is arriving: a long poll's command is not dropped (v1
	 * bug 12).
	 */
	if (x->client->opts.tick != NULL &&
	    x->client->opts.tick(x->client->opts.tick_arg) != 0 && !x->replying)
		return 1;
	if (dlnow != x->last_dl || ulnow != x->last_ul) {
		x->last_dl = dlnow;
		x->last_ul = ulnow;
		x->last_activity_ms = now;
		return 0;
	}
	if (now - x->last_activity_ms > x->client->opts.read_timeout_ms) {
		x->stalled = 1;
		return 1;
	}
	return 0;
}

static CURLcode
ssl_ctx_cb(CURL *easy, void *ssl_ctx, void *arg)
{
	struct http_client *client = arg;

	(void)easy;
	return crypto_ca_set_apply(client->cas, ssl_ctx) == 0
	    ? CURLE_OK
	    : CURLE_SSL_CERTPROBLEM;
}

static void
xfer_setup(struct xfer *x)
{
	struct http_client *client = x->client;
	struct http_req *req = x->req;
	CURL *easy = x->easy;
	size_t i;

	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_SHARE, client->share);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, client->user_agent);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(
	    easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/*
	 * Without the system bundle (no ca-certificates package) curl would
	 * fail on the missing file before our CAs are added: load one of ours
	 * as the file instead.
	 */
	if (client->missing_bundle != NULL && client->first_ca != NULL)
		curl_easy_setopt(easy, CURLOPT_CAINFO, client->first_ca);
	if (client->cas != NULL) {
		curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
		curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, client);
	}
	if (client->opts.no_proxy)
		curl_easy_setopt(easy, CURLOPT_PROXY, "");
	else if (client->proxy_uri != NULL && *client->proxy_uri != '\0')
		curl_easy_setopt(easy, CURLOPT_PROXY, client->proxy_uri);
	curl_easy_setopt(
	    easy, CURLOPT_CONNECTTIMEOUT_MS, client->opts.connect_timeout_ms);
	if (req->total_timeout_ms > 0)
		curl_easy_setopt(
		    easy, CURLOPT_TIMEOUT_MS, req->total_timeout_ms);
	if (client->opts.follow_redirects) {
		curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
		/* Never from https down to http. */
		curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR,
		    strncasecmp(req->url, "https:", 6) == 0 ? "https"
							    : "http,https");
	}
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(easy, CURLOPT_XFERINFODATA, x);

	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	} else if (req->has_body) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
		if (strcmp(req->method, "POST") != 0)
			curl_easy_setopt(
			    easy, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
	}

	x->slist = curl_slist_append(NULL, "Expect:");
	for (i = 0; i < req->nhdrs; i++) {
		char *line = req->hdrs[i].value[0] != '\0'
		    ? xasprintf("%s: %s", req->hdrs[i].name, req->hdrs[i].value)
		    : xasprintf("%s;", req->hdrs[i].name);
		struct curl_slist *grown = curl_slist_append(x->slist, line);

		xfree_secret_str(line);
		if (grown == NULL)
			xalloc_fail("libcurl could not allocate a header list");
		x->slist = grown;
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, x->slist);

	x->start_ms = x->last_activity_ms = clock_now_ms();
	x->last_dl = x->last_ul = 0;
	x->stalled = x->too_big = x->replying = 0;
	x->errbuf[0] = '\0';
}

static void
xfer_release(struct xfer *x)
{
	if (x->slist != NULL) {
		/* The slist holds header values, some of them secrets. */
		struct curl_slist *s;

		for (s = x->slist; s != NULL; s = s->next)
			explicit_bzero(s->data, strlen(s->data));
		curl_slist_free_all(x->slist);
		x->slist = NULL;
	}
}

/* "host:port" of a URL, for messages. */
static void
url_host(const char *url, char *buf, size_t size)
{
	const char *p = strstr(url, "://");
	size_t len;

	p = p != NULL ? p + 3 : url;
	len = strcspn(p, "/?#");
	if (len >= size)
		len = size - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
}

/* Turn a finished transfer's curl result into 0 or an error. */
static int
xfer_finish(struct xfer *x, CURLcode rc, struct err *err)
{
	struct http_resp *resp = x->resp;
	const char *url = x->req->url;
	char host[256];
	const char *detail =
	    x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(rc);
	int ret = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->elapsed_ms = (long)(clock_now_ms() - x->start_ms);
	url_host(url, host, sizeof(host));
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_ABORTED_BY_CALLBACK:
		if (x->stalled)
			ret = err_set(err, E_TIMEOUT,
			    "%s %s: no data from %s for %ld s; the server "
			    "stalled",
			    x->req->method, url, host,
			    x->client->opts.read_timeout_ms / 1000);
		else
			ret = err_set(err, E_CANCELED, "%s %s: aborted",
			    x->req->method, url);
		break;
	case CURLE_WRITE_ERROR:
		if (resp->sink_failed)
			ret = err_set(err, E_SYS,
			    "%s %s: writing the body failed", x->req->method,
			    url);
		else if (x->too_big)
			ret = err_set(err, E_LIMIT,
			    "%s %s: the reply is larger than %d MiB",
			    x->req->method, url, HTTP_MAX_MEMORY_BODY >> 20);
		else
			ret = err_set(err, E_NETWORK, "%s %s: %s",
			    x->req->method, url, detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		ret = err_set(err, E_TIMEOUT, "%s %s: timed out (%s)",
		    x->req->method, url, detail);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
		if (x->client->missing_bundle != NULL &&
		    x->client->first_ca == NULL)
			ret = err_set(err, E_AUTH,
			    "%s %s: the TLS certificate of %s could not be "
			    "verified (%s): the system's CA bundle %s is "
			    "missing; install ca-certificates, or name a PEM "
			    "file in AWS_SSL_CA_BUNDLE",
			    x->req->method, url, host, detail,
			    x->client->missing_bundle);
		else
			ret = err_set(err, E_AUTH,
			    "%s %s: the TLS certificate of %s could not be "
			    "verified (%s); if %s uses a private CA, name its "
			    "PEM file in AWS_SSL_CA_BUNDLE%s%s",
			    x->req->method, url, host, detail, host,
			    x->client->ca_sources != NULL ? "; extra CAs from "
							  : "",
			    x->client->ca_sources != NULL
				? x->client->ca_sources
				: "");
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		ret = err_set(err, E_NETWORK,
		    "%s %s: unable to connect to %s (%s)", x->req->method, url,
		    host, detail);
		break;
	case CURLE_PARTIAL_FILE:
		ret = err_set(err, E_NETWORK,
		    "%s %s: the connection closed before the whole body "
		    "arrived (%s)",
		    x->req->method, url, detail);
		break;
	default:
		ret = err_set(
		    err, E_NETWORK, "%s %s: %s", x->req->method, url, detail);
		break;
	}
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		if (ret == 0)
			log_debug("http: %s %s -> %ld (%ld ms)", x->req->method,
			    url, resp->status, resp->elapsed_ms);
		else
			log_debug("http: %s", err->msg);
	}
	xfer_release(x);
	return ret;
}

int
http_send(struct http_client *client, struct http_req *req,
    struct http_resp *resp, struct err *err)
{
	struct xfer x;
	CURLcode rc;

	memset(&x, 0, sizeof(x));
	http_resp_clear(resp);
	if (client->easy == NULL) {
		client->easy = curl_easy_init();
		if (client->easy == NULL)
			xalloc_fail("libcurl could not allocate a transfer");
	} else {
		curl_easy_reset(client->easy);
	}
	x.client = client;
	x.easy = client->easy;
	x.req = req;
	x.resp = resp;
	xfer_setup(&x);
	rc = curl_easy_perform(x.easy);
	return xfer_finish(&x, rc, err);
}

/* --- service errors and retries ---------------------------------------- */

static const char *
copy_code(const char *start, size_t len, char *buf, size_t size)
{
	if (len == 0 || size == 0)
		return NULL;
	if (len >= size)
		len = size - 1;
	memcpy(buf, start, len);
	buf[len] = '\0';
	return buf;
}

/* The text of the first <tag>...</tag> in an XML body. */
static const char *
xml_element(
    const struct http_resp *resp, const char *tag, char *buf, size_t size)
{
	char open[32], close[32];
	const char *start, *end;

	if (resp->body == NULL)
		return NULL;
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	start = strstr(resp->body, open);
	if (start == NULL)
		return NULL;
	start += strlen(open);
	end = strstr(start, close);
	if (end == NULL)
		return NULL;
	return copy_code(start, (size_t)(end - start), buf, size);
}

/*
 * The string value of the first of keys[] a JSON error body holds
 * ({"__type": "...", "message": "..."}), unescaped, into buf; NULL when the
 * body is not a JSON object or has none of them as a non-empty string.
 */
static const char *
json_error_field(const struct http_resp *resp, const char *const *keys,
    size_t nkeys, char *buf, size_t size)
{
	struct json *doc = NULL;
	struct err ignored = ERR_INIT;
	const char *ret = NULL;
	size_t i;

	if (resp->body == NULL ||
	    json_parse(
		resp->body, resp->body_len, "error body", &doc, &ignored) < 0)
		return NULL;
	for (i = 0; i < nkeys && ret == NULL; i++) {
		const char *value = json_get_string(doc, keys[i]);

		if (value != NULL)
			ret = copy_code(value, strlen(value), buf, size);
	}
	json_free(doc);
	return ret;
}

const char *
http_error_code(const struct http_resp *resp, char *buf, size_t size)
{
	static const char *const keys[] = { "__type" };
	const char *h = http_resp_header(resp, "x-amzn-ErrorType");
	const char *code;

	if ((code = json_error_field(resp, keys, 1, buf, size)) != NULL) {
		const char *hash = strrchr(code, '#');

		if (hash != NULL)
			memmove(buf, hash + 1, strlen(hash + 1) + 1);
		return *buf != '\0' ? buf : NULL;
	}
	if (h != NULL && *h != '\0')
		return copy_code(h, strcspn(h, ":"), buf, size);
	return xml_element(resp, "Code", buf, size);
}

const char *
http_error_message(const struct http_resp *resp, char *buf, size_t size)
{
	static const char *const keys[] = { "message", "Message" };
	const char *m;

	if (resp->body == NULL)
		return NULL;
	if ((m = json_error_field(resp, keys, 2, buf, size)) != NULL)
		return *m != '\0' ? m : NULL;
	m = xml_element(resp, "Message", buf, size);
	return m != NULL && *m != '\0' ? m : NULL;
}

int
http_is_throttling_code(const char *code)
{
	static const char *const codes[] = { "Throttling",
		"ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException",
		"ProvisionedThroughputExceededException",
		"TransactionInProgressException", "RequestLimitExceeded",
		"BandwidthLimitExceeded", "LimitExceededException",
		"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
		"EC2ThrottledException" };
	size_t i;

	if (code == NULL)
		return 0;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

int
http_is_throttled(const struct http_resp *resp)
{
	char code[128];

	if (resp->status == 429)
		return 1;
	if (resp->status < 400)
		return 0;
	return http_is_throttling_code(
	    http_error_code(resp, code, sizeof(code)));
}

int
http_is_retryable(const struct http_resp *resp, const struct err *err)
{
	char code[128];
	const char *c;

	if (err != NULL && err_isset(err))
		return err->code == E_NETWORK || err->code == E_TIMEOUT;
	if (resp->status == 0 || resp->status >= 500 || http_is_throttled(resp))
		return 1;
	c = http_error_code(resp, code, sizeof(code));
	return c != NULL && strcmp(c, "RequestTimeout") == 0;
}

long
http_backoff_ms(const struct retry_policy *policy, int failures)
{
	long base = policy != NULL && policy->first_ms > 0
	    ? policy->first_ms
	    : RETRY_DEFAULT.first_ms;
	long cap = policy != NULL && policy->max_ms > 0 ? policy->max_ms
							: RETRY_DEFAULT.max_ms;
	long ceiling = base;
	uint32_t rnd = 0;
	int i;

	for (i = 1; i < failures && ceiling < cap; i++)
		ceiling *= 2;
	if (ceiling > cap)
		ceiling = cap;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)clock_now_ms() * 2654435761u;
	/* Half fixed, half jitter: never zero, never in lock step. */
	return ceiling / 2 + (long)(rnd % (uint32_t)(ceiling / 2 + 1));
}

int
http_send_retry(struct http_client *client, struct http_req *req,
    struct http_resp *resp, const struct retry_policy *policy,
    http_prepare_fn prepare, void *arg, struct err *err)
{
	int max = policy != NULL && policy->attempts > 0
	    ? policy->attempts
	    : RETRY_DEFAULT.attempts;
	int attempt;

	for (attempt = 0;; attempt++) {
		struct err one = ERR_INIT;
		int rc;

		if (prepare != NULL && prepare(req, attempt, arg, err) < 0)
			return -1;
		rc = http_send(client, req, resp, &one);
		if (rc == 0 && !http_is_retryable(resp, NULL))
			return 0;
		if (rc < 0 && !http_is_retryable(resp, &one)) {
			*err = one;
			return -1;
		}
		if (attempt + 1 >= max) {
			if (rc < 0) {
				*err = one;
				return err_prefix(
				    err, "after %d attempts", max);
			}
			return 0;
		}
		{
			long wait = http_backoff_ms(policy, attempt + 1);

			if (rc < 0)
				log_info(
				    "%s; retrying in %ld ms", one.msg, wait);
			else
				log_info("%s %s -> %ld; retrying in %ld ms",
				    req->method, req->url, resp->status, wait);
			clock_sleep_ms(wait);
		}
	}
}

/* --- several at once --------------------------------------------------- */

struct http_multi {
	struct http_client *client;
	CURLM *multi;
	struct xfer *running;
};

struct http_multi *
http_multi_new(struct http_client *client, int max_connections)
{
	struct http_multi *m = xcalloc(1, sizeof(*m));

	m->client = client;
	m->multi = curl_multi_init();
	if (m->multi == NULL)
		xalloc_fail("libcurl could not allocate a multi handle");
	if (max_connections > 0) {
		curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
		    (long)max_connections);
		curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
		    (long)max_connections);
	}
	return m;
}

static void
multi_drop(struct http_multi *m, struct xfer *x)
{
	struct xfer **pp;

	for (pp = &m->running; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	}
	curl_multi_remove_handle(m->multi, x->easy);
	curl_easy_cleanup(x->easy);
	xfer_release(x);
	free(x);
}

void
http_multi_cancel(struct http_multi *m)
{
	while (m->running != NULL)
		multi_drop(m, m->running);
}

void
http_multi_free(struct http_multi *m)
{
	if (m == NULL)
		return;
	http_multi_cancel(m);
	curl_multi_cleanup(m->multi);
	free(m);
}

void
http_multi_add(struct http_multi *m, struct http_req *req,
    struct http_resp *resp, void *tag)
{
	struct xfer *x = xcalloc(1, sizeof(*x));

	http_resp_clear(resp);
	x->client = m->client;
	x->easy = curl_easy_init();
	if (x->easy == NULL)
		xalloc_fail("libcurl could not allocate a transfer");
	x->req = req;
	x->resp = resp;
	x->tag = tag;
	xfer_setup(x);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	x->next = m->running;
	m->running = x;
	if (curl_multi_add_handle(m->multi, x->easy) != CURLM_OK)
		xalloc_fail("libcurl could not add a transfer");
}

int
http_multi_next(struct http_multi *m, void **tag, int *rc, struct err *err)
{
	for (;;) {
		CURLMsg *msg;
		int queued, still;

		if (curl_multi_perform(m->multi, &still) != CURLM_OK)
			xalloc_fail("libcurl's multi interface failed");
		while (
		    (msg = curl_multi_info_read(m->multi, &queued)) != NULL) {
			struct xfer *x = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(
			    msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			*tag = x->tag;
			*rc = xfer_finish(x, msg->data.result, err);
			multi_drop(m, x);
			return 1;
		}
		if (m->running == NULL)
			return 0;
		curl_multi_poll(m->multi, NULL, 0, 1000, NULL);
	}
}

const char *
http_lib_version(void)
{
	static char buf[128];
	const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);

	snprintf(buf, sizeof(buf), "libcurl %s (%s)", info->version,
	    info->ssl_version != NULL ? info->ssl_version : "no TLS");
	return buf;
}
