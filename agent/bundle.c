/* bundle: S3 and GitHub downloads (see bundle.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "clock.h"
#include "crypto.h"
#include "http.h"
#include "log.h"
#include "xalloc.h"

#define MIN_PART_SIZE (1ULL << 20)

void
bundle_result_clear(struct bundle_result *res)
{
	if (res == NULL)
		return;
	free(res->etag);
	free(res->version_id);
	memset(res, 0, sizeof(*res));
}

char *
bundle_etag_strip(char *etag)
{
	char *src, *dst;

	if (etag == NULL)
		return NULL;
	for (src = dst = etag; *src != '\0'; src++)
		if (*src != '"')
			*dst++ = *src;
	*dst = '\0';
	return etag;
}

/*
 * The HTTP client of a download: the configuration's proxy and read
 * timeout; follow_redirects for GitHub (S3 redirects are answered by
 * bundle_fetch_s3 itself).  NULL with err set.
 */
static struct http_client *
download_client(const struct cfg *cfg, int follow_redirects, struct err *err)
{
	struct http_opts hopts;

	memset(&hopts, 0, sizeof(hopts));
	hopts.proxy_uri = cfg->proxy_uri;
	hopts.read_timeout_ms = cfg->http_read_timeout * 1000;
	hopts.follow_redirects = follow_redirects;
	return http_client_new(&hopts, err);
}

/*
 * Create the temporary file a download goes to (tmp, "<dest>.part"), anew:
 * a leftover of an interrupted download is removed first, and a link in
 * its place is never followed.  The fd, or -1 with err set.
 */
static int
open_download(const char *tmp, struct err *err)
{
	int fd;

	(void)unlink(tmp);
	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		err_sys(err, "cannot create %s", tmp);
	return fd;
}

/* Close a complete download and give it its name (*fd becomes -1). */
static int
finish_download(int *fd, const char *tmp, const char *dest, struct err *err)
{
	int rc = close(*fd);

	*fd = -1;
	if (rc < 0)
		return err_sys(err, "writing %s failed", tmp);
	if (rename(tmp, dest) < 0)
		return err_sys(err, "cannot rename %s to %s", tmp, dest);
	return 0;
}

/* A bucket name usable as a TLS-valid virtual host (no dots). */
static int
dns_bucket(const char *bucket)
{
	size_t len = strlen(bucket), i;

	if (len < 3 || len > 63)
		return 0;
	for (i = 0; i < len; i++) {
		char c = bucket[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-'))
			return 0;
	}
	return bucket[0] != '-' && bucket[len - 1] != '-';
}

static const char *
region_domain(const char *region)
{
	if (strcmp(region, "eusc-de-east-1") == 0)
		return "amazonaws.eu";
	if (strncmp(region, "cn-", 3) == 0)
		return "amazonaws.com.cn";
	return "amazonaws.com";
}

int
bundle_s3_endpoint(const struct cfg *cfg, const char *region,
    const char *bucket, char **base_url, char **host, char **path_prefix,
    struct err *err)
{
	const char *ov = cfg->s3_endpoint_override;

	*base_url = *host = *path_prefix = NULL;
	if (ov != NULL && *ov != '\0') {
		const char *scheme_end = strstr(ov, "://");
		const char *auth, *path;
		size_t alen, plen;

		if (scheme_end == NULL)
			return err_set(err, E_INVALID,
			    "s3_endpoint_override %s is not a URL", ov);
		auth = scheme_end + 3;
		alen = strcspn(auth, "/?#");
		path = auth + alen;
		plen = strcspn(path, "?#");
		while (plen > 0 && path[plen - 1] == '/')
			plen--;
		*base_url = xstrndup(ov, (size_t)(auth - ov) + alen);
		/* curl leaves the default port out of Host; so must we. */
		if (strncmp(ov, "https:", 6) == 0 && alen > 4 &&
		    strncmp(auth + alen - 4, ":443", 4) == 0)
			alen -= 4;
		else if (strncmp(ov, "http:", 5) == 0 && alen > 3 &&
		    strncmp(auth + alen - 3, ":80", 3) == 0)
			alen -= 3;
		*host = xstrndup(auth, alen);
		*path_prefix = xasprintf("%.*s/%s", (int)plen, path, bucket);
		return 0;
	}
	if (region == NULL || *region == '\0')
		return err_set(err, E_INVALID,
		    "no AWS region for S3: set AWS_REGION, the on-premises "
		    "file's region, or s3_endpoint_override");
	if (cfg->use_fips_mode) {
		if (dns_bucket(bucket)) {
			*host = xasprintf(
			    "%s.s3-fips.%s.amazonaws.com", bucket, region);
			*path_prefix = xstrdup("");
		} else {
			*host = xasprintf("s3-fips.%s.amazonaws.com", region);
			*path_prefix = xasprintf("/%s", bucket);
		}
	} else if (dns_bucket(bucket)) {
		*host = xasprintf(
		    "%s.s3.%s.%s", bucket, region, region_domain(region));
		*path_prefix = xstrdup("");
	} else {
		*host = xasprintf("s3.%s.%s", region, region_domain(region));
		*path_prefix = xasprintf("/%s", bucket);
	}
	*base_url = xasprintf("https://%s", *host);
	return 0;
}

/* --- S3 ------------------------------------------------------------------ */

struct part {
	uint64_t start;
	uint64_t len; /* UINT64_MAX: unknown (a whole-object GET) */
	uint64_t got;
	int attempts;
	long long retry_at_ms;
	int first_call; /* the next sink call starts a reply */
	uint64_t write_at;
	struct http_req *req;
	struct http_resp resp;
	struct err sink_err;
	struct s3_job *job;
	int running;
	int done;
};

struct s3_job {
	const struct bundle_env *env;
	const struct bundle_s3 *s3;
	struct http_client *http;
	char *region;
	char *base_url;
	char *host;
	char *path;  /* unencoded: prefix + "/" + key */
	char *query; /* encoded: "versionId=..." or NULL */
	char *describe;
	char *if_match;
	int fd;
	uint64_t total;
	uint64_t done;
	int no_ranges; /* the server ignores Range: one whole GET */
	long long last_report_ms;
};

static void
report(struct s3_job *job)
{
	long long now = clock_now_ms();

	if (job->env->progress == NULL)
		return;
	if (job->done != job->total && now - job->last_report_ms < 200)
		return;
	job->last_report_ms = now;
	job->env->progress(
	    "downloading", job->done, job->total, job->env->progress_arg);
}

/* Sign req for the job's object and method (fresh x-amz-date). */
static int
s3_sign(struct s3_job *job, struct http_req *req, struct err *err)
{
	struct sigv4_credentials creds;
	const char *source = NULL;
	char empty_hash[CRYPTO_SHA256_HEX_LEN + 1];
	struct sigv4_request sreq;
	struct sigv4_params params;
	struct sigv4_result sres;
	char *url;

	memset(&creds, 0, sizeof(creds));
	if (job->env->creds == NULL)
		return err_set(err, E_AUTH,
		    "no AWS credentials for S3; set AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY, configure the on-premises file, or "
		    "attach an instance profile");
	if (job->env->creds(job->env->creds_arg, &creds, &source, err) < 0)
		return err_prefix(err, "S3 credentials");
	crypto_sha256_hex("", 0, empty_hash);
	memset(&sreq, 0, sizeof(sreq));
	sreq.method = http_req_method(req);
	sreq.host = job->host;
	sreq.path = job->path;
	sreq.query = job->query;
	sreq.payload_hash = empty_hash;
	memset(&params, 0, sizeof(params));
	params.region = job->region;
	params.service = "s3";
	params.when = time(NULL);
	memset(&sres, 0, sizeof(sres));
	if (sigv4_sign(&sreq, &creds, &params, &sres, err) < 0)
		return -1;
	url = xasprintf("%s%s%s%s", job->base_url, sres.canonical_uri,
	    sres.canonical_query != NULL && *sres.canonical_query != '\0' ? "?"
									  : "",
	    sres.canonical_query != NULL ? sres.canonical_query : "");
	http_req_set_url(req, url);
	free(url);
	http_req_header(req, "Authorization", sres.authorization);
	http_req_header(req, "x-amz-date", sres.amz_date);
	http_req_header(req, "x-amz-content-sha256", sres.content_sha256);
	http_req_header(req, "x-amz-security-token", creds.session_token);
	sigv4_result_clear(&sres);
	return 0;
}

/* What an S3 error reply means for the person reading the log. */
static const char *
s3_hint(long status, const char *code)
{
	if (code == NULL)
		code = "";
	if (strcmp(code, "SignatureDoesNotMatch") == 0)
		return "the secret access key does not match the access key "
		       "id; check the agent's credentials";
	if (strcmp(code, "InvalidAccessKeyId") == 0)
		return "the access key id is unknown to S3; check the agent's "
		       "credentials";
	if (strcmp(code, "ExpiredToken") == 0 ||
	    strcmp(code, "TokenRefreshRequired") == 0)
		return "the session credentials have expired; check that the "
		       "credentials file is being rotated";
	if (strcmp(code, "RequestTimeTooSkewed") == 0)
		return "the host clock is wrong; fix NTP";
	if (strcmp(code, "NoSuchBucket") == 0)
		return "the bucket does not exist; check the bucket name and "
		       "region";
	if (strcmp(code, "NoSuchKey") == 0 ||
	    strcmp(code, "NoSuchVersion") == 0 || status == 404)
		return "check the key and version id of the revision";
	if (strcmp(code, "AccessDenied") == 0 || status == 403)
		return "the instance's IAM role or user needs s3:GetObject "
		       "and s3:GetObjectVersion on the object";
	if (strcmp(code, "PreconditionFailed") == 0 || status == 412)
		return "the object changed while it was being downloaded";
	if (status == 301 || strcmp(code, "PermanentRedirect") == 0)
		return "the bucket is in another region; set the region or "
		       "s3_endpoint_override";
	return NULL;
}

static int
s3_fail(struct s3_job *job, const struct http_resp *resp, struct err *err)
{
	char code[128], msg[256];
	const char *c = http_error_code(resp, code, sizeof(code));
	const char *m = http_error_message(resp, msg, sizeof(msg));
	const char *hint = s3_hint(resp->status, c);

	return err_set(err, E_SERVICE, "%s: HTTP %ld%s%s%s%s%s%s",
	    job->describe, resp->status, c != NULL ? " " : "",
	    c != NULL ? c : "", m != NULL ? ": " : "", m != NULL ? m : "",
	    hint != NULL ? "; " : "", hint != NULL ? hint : "");
}

static int
head_prepare(struct http_req *req, int attempt, void *arg, struct err *err)
{
	(void)attempt;
	return s3_sign(arg, req, err);
}

/* Parse "bytes a-b/total" of a 206 reply; 0 on success. */
static int
parse_content_range(
    const char *v, uint64_t *first, uint64_t *last, uint64_t *total)
{
	unsigned long long a, b, t;

	if (v == NULL || sscanf(v, "bytes %llu-%llu/%llu", &a, &b, &t) != 3 ||
	    b < a || b >= t)
		return -1;
	*first = a;
	*last = b;
	*total = t;
	return 0;
}

static int
part_sink(const void *data, size_t len, void *arg)
{
	struct part *p = arg;
	struct s3_job *job = p->job;
	const unsigned char *bytes = data;

	if (p->first_call) {
		uint64_t first, last, total;
		const char *cr = http_resp_header(&p->resp, "Content-Range");

		p->first_call = 0;
		if (p->resp.status == 206) {
			if (parse_content_range(cr, &first, &last, &total) <
				0 ||
			    total != job->total || first != p->start + p->got) {
				err_set(&p->sink_err, E_SERVICE,
				    "%s: the server sent the range '%s' where "
				    "bytes %" PRIu64 "- of %" PRIu64
				    " were asked for",
				    job->describe, cr != NULL ? cr : "(none)",
				    p->start + p->got, job->total);
				return -1;
			}
		} else if (p->start == 0 && p->len >= job->total) {
			/* A whole-object reply: start over. */
			job->done -= p->got;
			p->got = 0;
		} else {
			err_set(&p->sink_err, E_SERVICE,
			    "%s: the server ignored the byte range "
			    "(HTTP %ld); set s3_download_connections: 1",
			    job->describe, p->resp.status);
			return -1;
		}
		p->write_at = p->start + p->got;
	}
	if (p->got + len > p->len) {
		err_set(&p->sink_err, E_SERVICE,
		    "%s: the server sent more than the %" PRIu64
		    " bytes asked for",
		    job->describe, p->len);
		return -1;
	}
	while (len > 0) {
		ssize_t n = pwrite(job->fd, bytes, len, (off_t)p->write_at);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_sys(&p->sink_err, "%s: writing the bundle failed",
			    job->describe);
			return -1;
		}
		bytes += n;
		len -= (size_t)n;
		p->write_at += (uint64_t)n;
		p->got += (uint64_t)n;
		job->done += (uint64_t)n;
	}
	report(job);
	return 0;
}

/* Build (or rebuild, for a retry) the GET of what is left of a part. */
static int
part_prepare(struct s3_job *job, struct part *p, struct err *err)
{
	char range[64];

	http_req_free(p->req);
	p->req = http_req_new("GET", job->base_url);
	http_req_sink(p->req, part_sink, p);
	if (p->len != UINT64_MAX && job->total > 0) {
		snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64,
		    p->start + p->got, p->start + p->len - 1);
		http_req_header(p->req, "Range", range);
	}
	if (job->if_match != NULL)
		http_req_header(p->req, "If-Match", job->if_match);
	http_resp_clear(&p->resp);
	err_clear(&p->sink_err);
	p->first_call = 1;
	p->attempts++;
	return s3_sign(job, p->req, err);
}

static int
check_space(struct s3_job *job, const char *dest, struct err *err)
{
	char *dir = xstrdup(dest), *slash = strrchr(dir, '/');
	struct statvfs sv;
	uint64_t avail;
	int ret = 0;

	if (slash != NULL)
		*slash = '\0';
	if (statvfs(slash != NULL && *dir != '\0' ? dir : ".", &sv) == 0) {
		avail = (uint64_t)sv.f_bavail * sv.f_frsize;
		if (avail < job->total)
			ret = err_set(err, E_LIMIT,
			    "%s: the bundle needs %" PRIu64
			    " MB but only %" PRIu64
			    " MB are free in %s; free some space or lower "
			    "max_revisions",
			    job->describe, job->total >> 20, avail >> 20, dir);
	}
	free(dir);
	return ret;
}

/* Send one part's ranged GET (again) on multi. */
static int
start_part(struct s3_job *job, struct http_multi *multi, struct part *p,
    struct bundle_result *res, struct err *err)
{
	if (part_prepare(job, p, err) < 0)
		return -1;
	http_multi_add(multi, p->req, &p->resp, p);
	p->running = 1;
	res->parts++;
	return 0;
}

/* Fetch every part over a curl multi; 0 when all are complete. */
static int
fetch_parts(struct s3_job *job, struct part *parts, size_t nparts,
    int connections, struct bundle_result *res, struct err *err)
{
	struct http_multi *multi = http_multi_new(job->http, connections);
	size_t next = 0, remaining = nparts, running = 0, i;
	int ret = -1;

	while (remaining > 0) {
		long long now = clock_now_ms(), earliest = 0;
		void *tag;
		int rc;
		struct err one = ERR_INIT;
		struct part *p;

		/* Start parts while there is room: retries first. */
		for (i = 0; i < next && running < (size_t)connections; i++) {
			p = &parts[i];
			if (p->done || p->running || p->retry_at_ms > now)
				continue;
			if (start_part(job, multi, p, res, err) < 0)
				goto out;
			running++;
			res->retries++;
		}
		while (next < nparts && running < (size_t)connections) {
			if (start_part(job, multi, &parts[next++], res, err) <
			    0)
				goto out;
			running++;
		}
		if (running == 0) {
			for (i = 0; i < next; i++)
				if (!parts[i].done &&
				    (earliest == 0 ||
					parts[i].retry_at_ms < earliest))
					earliest = parts[i].retry_at_ms;
			clock_sleep_ms(earliest - clock_now_ms());
			continue;
		}
		if (http_multi_next(multi, &tag, &rc, &one) == 0)
			continue;
		p = tag;
		p->running = 0;
		running--;
		if (err_isset(&p->sink_err)) {
			*err = p->sink_err;
			goto out;
		}
		if (rc == 0 &&
		    (p->resp.status == 206 || p->resp.status == 200) &&
		    (p->len == UINT64_MAX || p->got == p->len)) {
			p->done = 1;
			remaining--;
			continue;
		}
		if (rc == 0 && p->resp.status >= 300) {
			if (!http_is_retryable(&p->resp, NULL) ||
			    p->attempts >= RETRY_S3_PART.attempts) {
				s3_fail(job, &p->resp, err);
				goto out;
			}
		} else if (rc < 0) {
			if (!http_is_retryable(&p->resp, &one) ||
			    p->attempts >= RETRY_S3_PART.attempts) {
				*err = one;
				if (p->attempts >= RETRY_S3_PART.attempts)
					err_prefix(err,
					    "%s: gave up after %d "
					    "attempts",
					    job->describe, p->attempts);
				else
					err_prefix(err, "%s", job->describe);
				goto out;
			}
		} else if (p->attempts >= RETRY_S3_PART.attempts) {
			/* 2xx but short, with no transport error. */
			err_set(err, E_NETWORK,
			    "%s: bytes %" PRIu64 "-%" PRIu64
			    " stopped short %d times",
			    job->describe, p->start, p->start + p->len - 1,
			    p->attempts);
			goto out;
		}
		p->retry_at_ms = clock_now_ms() +
		    http_backoff_ms(&RETRY_S3_PART, p->attempts);
		log_info("%s: bytes %" PRIu64 "-%" PRIu64 " came %" PRIu64
			 " bytes short (%s); asking for the "
			 "rest",
		    job->describe, p->start, p->start + p->len - 1,
		    p->len - p->got,
		    rc < 0 ? one.msg : "the reply ended early");
	}
	ret = 0;
out:
	http_multi_free(multi);
	return ret;
}

static void
job_clear(struct s3_job *job)
{
	http_client_free(job->http);
	free(job->region);
	free(job->base_url);
	free(job->host);
	free(job->path);
	free(job->query);
	free(job->describe);
	free(job->if_match);
}

static int
job_locate(struct s3_job *job, const char *region, struct err *err)
{
	char *prefix = NULL;

	free(job->region);
	free(job->base_url);
	free(job->host);
	free(job->path);
	job->region = xstrdup(region != NULL ? region : "us-east-1");
	if (bundle_s3_endpoint(job->env->cfg, region, job->s3->bucket,
		&job->base_url, &job->host, &prefix, err) < 0)
		return -1;
	job->path = xasprintf("%s/%s", prefix, job->s3->key);
	free(prefix);
	return 0;
}

/* The first byte's reply: the size (Content-Range) and the ETag. */
struct probe {
	struct http_resp *resp;
	int whole; /* the server ignored Range: 200 and the whole object */
};

static int
probe_sink(const void *data, size_t len, void *arg)
{
	struct probe *p = arg;

	(void)data;
	(void)len;
	if (p->resp->status == 200) {
		p->whole = 1; /* the headers are all we need */
		return -1;
	}
	return 0;
}

/*
 * Learn the object's size and ETag with a GET of its first byte (a HEAD
 * would do, but its errors have no body to name S3's error code, and a
 * throttled HEAD cannot be told from a refused one), following a
 * bucket-region redirect.  A 0-byte object answers 416; it is asked for
 * whole.
 */
static int
s3_probe(struct s3_job *job, struct err *err)
{
	struct http_resp resp;
	struct http_req *req = NULL;
	struct probe probe = { &resp, 0 };
	uint64_t first, last;
	const char *etag, *len, *cr, *where;
	int redirected = 0, ranged = 1, ret = -1;

	memset(&resp, 0, sizeof(resp));
	for (;;) {
		struct err one = ERR_INIT;
		int rc;

		http_req_free(req);
		req = http_req_new("GET", job->base_url);
		if (ranged)
			http_req_header(req, "Range", "bytes=0-0");
		http_req_sink(req, probe_sink, &probe);
		probe.whole = 0;
		rc = http_send_retry(
		    job->http, req, &resp, &RETRY_S3, head_prepare, job, &one);
		if (rc < 0 && !probe.whole) {
			*err = one;
			err_prefix(err, "%s", job->describe);
			goto out;
		}
		if (probe.whole || resp.status == 206 ||
		    (!ranged && resp.status == 200))
			break;
		if (ranged && resp.status == 416) {
			ranged = 0; /* an empty object has no byte 0 */
			continue;
		}
		where = http_resp_header(&resp, "x-amz-bucket-region");
		if (!redirected && where != NULL && *where != '\0' &&
		    strcmp(where, job->region) != 0 &&
		    (job->env->cfg->s3_endpoint_override == NULL ||
			*job->env->cfg->s3_endpoint_override == '\0')) {
			char *region = xstrdup(where);

			log_info("%s: the bucket is in %s, not %s",
			    job->describe, region, job->region);
			redirected = 1;
			ret = job_locate(job, region, err);
			free(region);
			if (ret < 0)
				goto out;
			ret = -1;
			continue;
		}
		s3_fail(job, &resp, err);
		goto out;
	}
	etag = http_resp_header(&resp, "ETag");
	cr = http_resp_header(&resp, "Content-Range");
	len = http_resp_header(&resp, "Content-Length");
	if (resp.status == 206
		? parse_content_range(cr, &first, &last, &job->total) < 0
		: (len == NULL || sscanf(len, "%" SCNu64, &job->total) != 1)) {
		err_set(err, E_SERVICE,
		    "%s: the reply gives no object size (Content-Range '%s')",
		    job->describe, cr != NULL ? cr : "");
		goto out;
	}
	if (etag != NULL)
		job->if_match = xstrdup(etag);
	if (probe.whole) {
		log_warn("%s: the server ignores byte ranges; downloading in "
			 "one piece",
		    job->describe);
		job->no_ranges = 1;
	}
	ret = 0;
out:
	http_req_free(req);
	http_resp_clear(&resp);
	return ret;
}

/*
 * v1's check, before a byte is written: the object's ETag (seen, unquoted)
 * is the one the deployment names, if it names one; quotes do not count.
 */
static int
check_etag(const struct s3_job *job, const char *seen, struct err *err)
{
	char *expected;
	int ret = 0;

	if (job->s3->etag == NULL || *job->s3->etag == '\0')
		return 0;
	expected = bundle_etag_strip(xstrdup(job->s3->etag));
	if (strcmp(expected, seen) != 0)
		ret = err_set(err, E_SERVICE,
		    "%s: the object's ETag is %s, but the deployment "
		    "expects %s; the object was replaced after the "
		    "deployment was created",
		    job->describe, seen, expected);
	free(expected);
	return ret;
}

/*
 * The ranged GETs of the object: part_size bytes each (at least
 * MIN_PART_SIZE), or one GET of the whole for an empty object or a server
 * that ignores ranges.  *nparts gets their number; free() the array.
 */
static struct part *
plan_parts(struct s3_job *job, uint64_t part_size, size_t *nparts)
{
	struct part *parts;
	int whole = job->total == 0 || job->no_ranges;
	size_t n, i;

	if (part_size < MIN_PART_SIZE)
		part_size = MIN_PART_SIZE;
	n = whole ? 1 : (size_t)((job->total + part_size - 1) / part_size);
	parts = xcalloc(n, sizeof(*parts));
	for (i = 0; i < n; i++) {
		parts[i].job = job;
		parts[i].start = (uint64_t)i * part_size;
		parts[i].len = whole
		    ? UINT64_MAX
		    : (i + 1 < n ? part_size : job->total - parts[i].start);
	}
	*nparts = n;
	return parts;
}

int
bundle_fetch_s3(const struct bundle_env *env, const struct bundle_s3 *s3,
    const char *dest, struct bundle_result *res, struct err *err)
{
	const struct cfg *cfg = env->cfg;
	struct s3_job job;
	struct part *parts = NULL;
	size_t nparts = 0, i;
	char *tmp = xasprintf("%s.part", dest);
	char *seen = NULL;
	long long t0 = clock_now_ms();
	int connections = (int)cfg->s3_download_connections;
	int ret = -1;

	memset(&job, 0, sizeof(job));
	memset(res, 0, sizeof(*res));
	job.env = env;
	job.s3 = s3;
	job.fd = -1;
	job.describe = xasprintf("S3 download of s3://%s/%s%s%s", s3->bucket,
	    s3->key, s3->version != NULL ? " version " : "",
	    s3->version != NULL ? s3->version : "");
	if (s3->version != NULL && *s3->version != '\0') {
		char *enc =
		    sigv4_uri_encode(s3->version, strlen(s3->version), 0);

		job.query = xasprintf("versionId=%s", enc);
		free(enc);
	}
	job.http = download_client(cfg, 0, err);
	if (job.http == NULL)
		goto out;
	if (job_locate(&job, env->region, err) < 0)
		goto out;
	log_info("Downloading s3://%s/%s (version %s, etag %s) from %s",
	    s3->bucket, s3->key, s3->version != NULL ? s3->version : "latest",
	    s3->etag != NULL ? s3->etag : "not given", job.base_url);
	if (s3_probe(&job, err) < 0)
		goto out;

	seen = bundle_etag_strip(
	    xstrdup(job.if_match != NULL ? job.if_match : ""));
	if (check_etag(&job, seen, err) < 0)
		goto out;
	if (check_space(&job, dest, err) < 0)
		goto out;

	job.fd = open_download(tmp, err);
	if (job.fd < 0)
		goto out;
	if (job.total > 0 &&
	    posix_fallocate(job.fd, 0, (off_t)job.total) == ENOSPC) {
		err_set(err, E_LIMIT,
		    "%s: no space for %" PRIu64 " bytes in %s", job.describe,
		    job.total, tmp);
		goto out;
	}

	parts = plan_parts(&job, cfg->s3_download_part_size, &nparts);
	if (connections < 1)
		connections = 1;
	if ((size_t)connections > nparts)
		connections = (int)nparts;
	if (fetch_parts(&job, parts, nparts, connections, res, err) < 0)
		goto out;
	if (job.done != job.total) {
		err_set(err, E_SERVICE,
		    "%s: %" PRIu64 " bytes arrived where %" PRIu64
		    " were expected",
		    job.describe, job.done, job.total);
		goto out;
	}
	if (finish_download(&job.fd, tmp, dest, err) < 0)
		goto out;
	res->bytes = job.total;
	res->etag = seen;
	seen = NULL;
	res->elapsed_ms = (long)(clock_now_ms() - t0);
	log_info("Downloaded s3://%s/%s: %" PRIu64 " bytes in %ld ms "
		 "(%d ranged GETs over %d connections)",
	    s3->bucket, s3->key, res->bytes, res->elapsed_ms, res->parts,
	    connections);
	ret = 0;
out:
	if (job.fd >= 0)
		close(job.fd);
	if (ret < 0)
		(void)unlink(tmp);
	for (i = 0; i < nparts; i++) {
		http_req_free(parts[i].req);
		http_resp_clear(&parts[i].resp);
	}
	free(parts);
	free(seen);
	free(tmp);
	job_clear(&job);
	return ret;
}

/* --- GitHub -------------------------------------------------------------- */

struct gh_sink {
	int fd;
	uint64_t got;
	const struct bundle_env *env;
	long long last_report_ms;
	struct err err;
};

static int
gh_write(const void *data, size_t len, void *arg)
{
	struct gh_sink *s = arg;
	const unsigned char *bytes = data;

	while (len > 0) {
		ssize_t n = write(s->fd, bytes, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_sys(&s->err, "writing the bundle failed");
			return -1;
		}
		bytes += n;
		len -= (size_t)n;
		s->got += (uint64_t)n;
	}
	if (s->env->progress != NULL &&
	    clock_now_ms() - s->last_report_ms >= 200) {
		s->last_report_ms = clock_now_ms();
		s->env->progress(
		    "downloading", s->got, 0, s->env->progress_arg);
	}
	return 0;
}

static int
gh_prepare(struct http_req *req, int attempt, void *arg, struct err *err)
{
	struct gh_sink *s = arg;

	(void)req;
	if (attempt == 0)
		return 0;
	/* Start the file over: an archive made on the fly has no ranges. */
	if (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0)
		return err_sys(err, "cannot truncate the bundle");
	s->got = 0;
	return 0;
}

static const char *
reason_phrase(long status)
{
	switch (status) {
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Error";
	}
}

int
bundle_fetch_github(const struct bundle_env *env,
    const struct bundle_github *gh, const char *dest, struct bundle_result *res,
    struct err *err)
{
	const struct cfg *cfg = env->cfg;
	const char *base = cfg->github_api_url != NULL
	    ? cfg->github_api_url
	    : "https://api.github.com";
	struct http_client *http = NULL;
	struct http_req *req = NULL;
	struct http_resp resp;
	struct gh_sink sink;
	char *tmp = xasprintf("%s.part", dest);
	char *url = NULL, *auth = NULL;
	size_t blen = strlen(base);
	long long t0 = clock_now_ms();
	int ret = -1;

	memset(&resp, 0, sizeof(resp));
	memset(&sink, 0, sizeof(sink));
	memset(res, 0, sizeof(*res));
	sink.fd = -1;
	sink.env = env;
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	url = xasprintf("%.*s/repos/%s/%s/%s/%s", (int)blen, base, gh->account,
	    gh->repository, gh->zip ? "zipball" : "tarball", gh->commit_id);
	http = download_client(cfg, 1, err);
	if (http == NULL)
		goto out;
	sink.fd = open_download(tmp, err);
	if (sink.fd < 0)
		goto out;
	req = http_req_new("GET", url);
	http_req_header(req, "Accept", "application/vnd.github+json");
	if (gh->token != NULL && *gh->token != '\0') {
		auth = xasprintf("token %s", gh->token);
		http_req_header(req, "Authorization", auth);
	}
	http_req_sink(req, gh_write, &sink);
	log_info("Downloading %s (%s)", url,
	    auth != NULL ? "with a token" : "anonymously");
	if (http_send_retry(
		http, req, &resp, &RETRY_GITHUB, gh_prepare, &sink, err) < 0) {
		if (err_isset(&sink.err)) {
			err_clear(err);
			*err = sink.err;
		}
		err_prefix(err, "Could not download bundle at '%s'", url);
		goto out;
	}
	if (resp.status < 200 || resp.status >= 300) {
		const char *hint = resp.status == 404
		    ? "; check the account, repository and commit, and give a "
		      "token for a private repository"
		    : resp.status == 401 || resp.status == 403
		    ? "; check the GitHub token"
		    : "";

		err_set(err, E_SERVICE,
		    "Could not download bundle at '%s'. Server returned "
		    "codes: %ld '%s'%s",
		    url, resp.status, reason_phrase(resp.status), hint);
		goto out;
	}
	if (finish_download(&sink.fd, tmp, dest, err) < 0)
		goto out;
	res->bytes = sink.got;
	res->parts = 1;
	res->elapsed_ms = (long)(clock_now_ms() - t0);
	log_info("Downloaded %s: %" PRIu64 " bytes in %ld ms", url, res->bytes,
	    res->elapsed_ms);
	ret = 0;
out:
	if (sink.fd >= 0)
		close(sink.fd);
	if (ret < 0)
		(void)unlink(tmp);
	if (auth != NULL)
		xfree_secret_str(auth);
	http_req_free(req);
	http_resp_clear(&resp);
	http_client_free(http);
	free(url);
	free(tmp);
	return ret;
}

/* --- the Content-Range parser on its own (for tests/fuzz) --------------- */

int
bundle_parse_content_range(
    const char *value, uint64_t *first, uint64_t *last, uint64_t *total)
{
	return parse_content_range(value, first, last, total);
}
