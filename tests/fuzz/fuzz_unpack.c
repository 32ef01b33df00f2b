/*
 * libFuzzer target for unpack: each input is written to a scratch file and
 * unpacked as a tar (any compression) and then as a zip, with small limits,
 * into a scratch directory that is removed afterwards.  Both readers see
 * every input, so a crash reproduces from the input alone.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fsutil.h"
#include "log.h"
#include "unpack.h"
#include "xalloc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *scratch; /* holds bundle and droot/ */
static char *bundle_path;
static char *droot;
static char *archive_dir;

static void
remove_scratch(void)
{
	struct err err = ERR_INIT;

	fsutil_rm_rf(scratch, &err);
}

/* Entries directly in dir, besides . and .. */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		abort();
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	scratch = xasprintf("%s/cdagent-fuzz-unpack.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(scratch) == NULL) {
		perror("mkdtemp");
		abort();
	}
	bundle_path = xasprintf("%s/bundle", scratch);
	droot = xasprintf("%s/droot", scratch);
	archive_dir = xasprintf("%s/deployment-archive", droot);
	log_set_level(LOG_LEVEL_FATAL); /* no strip or warning lines */
	atexit(remove_scratch);
	return 0;
}

static void
write_bundle(const uint8_t *data, size_t size)
{
	int fd =
	    open(bundle_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size)) {
		perror(bundle_path);
		abort();
	}
	close(fd);
}

static void
unpack_once(enum unpack_format format)
{
	struct unpack_opts opts = { .max_bytes = 1 << 20,
		.max_entries = 256,
		.appspec_name = "appspec.yml" };
	struct unpack_stats stats;
	struct err err = ERR_INIT;
	int r;

	if (mkdir(droot, 0700) < 0) {
		perror(droot);
		abort();
	}
	r = unpack_bundle(
	    bundle_path, format, archive_dir, &opts, &stats, &err);
	/* the contract: a result and an error agree, and limits hold */
	if ((r == 0) == err_isset(&err) || stats.bytes > opts.max_bytes ||
	    stats.entries > opts.max_entries)
		abort();
	/* nothing beside the archive: no staging left, no escaped entry */
	if (count_entries(droot) != r + 1 || count_entries(scratch) != 2)
		abort();
	if (fsutil_rm_rf(droot, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	write_bundle(data, size);
	unpack_once(UNPACK_TAR);
	unpack_once(UNPACK_ZIP);
	return 0;
}
