/*
 * s3-bench: fetch one S3 object with the agent's bundle module, as
 * DownloadBundle does, and report the time and the peak RSS.  Credentials
 * come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.  Used by
 * tests/bench/s3bench.py; not installed.
 *
 *   s3-bench ENDPOINT BUCKET KEY OUT PART_SIZE CONNECTIONS
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bundle.h"
#include "cfg.h"
#include "xalloc.h"

static int
env_creds(void *arg, struct sigv4_credentials *out, const char **source,
    struct err *err)
{
	(void)arg;
	out->access_key_id = getenv("AWS_ACCESS_KEY_ID");
	out->secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
	out->session_token = NULL;
	*source = "environment";
	if (out->access_key_id == NULL || out->secret_access_key == NULL)
		return err_set(err, E_AUTH,
		    "set AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY");
	return 0;
}

int
main(int argc, char **argv)
{
	struct cfg *cfg;
	struct bundle_env env;
	struct bundle_s3 s3;
	struct bundle_result res;
	struct err err = ERR_INIT;
	struct rusage ru;
	int ret = 1;

	if (argc != 7) {
		fprintf(stderr,
		    "usage: s3-bench ENDPOINT BUCKET KEY OUT "
		    "PART_SIZE CONNECTIONS\n");
		return 2;
	}
	cfg = cfg_new();
	cfg->s3_endpoint_override = xstrdup(argv[1]);
	cfg->s3_download_part_size = strtoull(argv[5], NULL, 10);
	cfg->s3_download_connections = atoi(argv[6]);
	memset(&env, 0, sizeof(env));
	env.cfg = cfg;
	env.region = "us-east-1";
	env.creds = env_creds;
	memset(&s3, 0, sizeof(s3));
	s3.bucket = argv[2];
	s3.key = argv[3];
	if (bundle_fetch_s3(&env, &s3, argv[4], &res, &err) < 0) {
		fprintf(stderr, "s3-bench: %s\n", err.msg);
		goto out;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("bytes %llu ms %ld parts %d rss_kib %ld\n",
	    (unsigned long long)res.bytes, res.elapsed_ms, res.parts,
	    ru.ru_maxrss);
	bundle_result_clear(&res);
	ret = 0;
out:
	cfg_free(cfg);
	return ret;
}
