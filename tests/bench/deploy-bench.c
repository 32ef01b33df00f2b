/*
 * deploy-bench: unpack a bundle and install it with an appspec that copies
 * the whole revision to a destination, the way DownloadBundle + Install do,
 * and report the time of each step and the peak RSS.  Used by
 * tests/bench/bench.py; not installed.
 *
 *   deploy-bench FORMAT BUNDLE WORKDIR DEST
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "appspec.h"
#include "fsutil.h"
#include "install.h"
#include "unpack.h"
#include "xalloc.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct err err = ERR_INIT;
	enum unpack_format format;
	struct appspec *spec = NULL;
	struct install_stats stats;
	struct rusage ru;
	char *archive, *root, *yaml;
	double t0, t1, t2;

	if (argc != 5 || unpack_parse_format(argv[1], &format) < 0) {
		fprintf(stderr,
		    "usage: deploy-bench tar|tgz|zip|directory "
		    "BUNDLE WORKDIR DEST\n");
		return 2;
	}
	archive = xasprintf("%s/deployment-archive", argv[3]);
	root = xasprintf("%s/root", argv[3]);
	yaml = xasprintf("version: 0.0\nos: linux\nfiles:\n  - source: /\n"
			 "    destination: %s\n",
	    argv[4]);
	t0 = now();
	if (unpack_bundle(argv[2], format, archive, NULL, NULL, &err) < 0)
		goto fail;
	t1 = now();
	if (appspec_parse(
		yaml, strlen(yaml), "appspec.yml", NULL, &spec, &err) < 0)
		goto fail;
	{
		struct install_opts opts = {
			.root_dir = root,
			.group_id = "bench",
			.archive_dir = archive,
			.appspec = spec,
			.deployment_feb = APPSPEC_FEB_OVERWRITE,
		};

		if (install_run(&opts, &stats, &err) < 0)
			goto fail;
	}
	t2 = now();
	getrusage(RUSAGE_SELF, &ru);
	printf("unpack %.4f install %.4f files %llu bytes %llu maxrss_kb %ld\n",
	    t1 - t0, t2 - t1, (unsigned long long)stats.files,
	    (unsigned long long)stats.bytes, ru.ru_maxrss);
	appspec_free(spec);
	free(archive);
	free(root);
	free(yaml);
	return 0;
fail:
	fprintf(stderr, "deploy-bench: %s\n", err.msg);
	return 1;
}
