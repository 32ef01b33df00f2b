/*
 * unpack-archive: tar and zip bundles read with libarchive and fed, entry by
 * entry, to the safe writer.  The only file that includes <archive.h>.
 */
#include "config.h"

#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "log.h"
#include "unpack-int.h"
#include "xalloc.h"

const char *
unpack_lib_version(void)
{
	/* asked once: libarchive leaks its previous answer on each call */
	static const char *details;

	if (details == NULL)
		details = archive_version_details();
	return details;
}

static const char *
archive_why(struct archive *a)
{
	const char *why = archive_error_string(a);

	return why != NULL ? why : "unknown libarchive error";
}

/* unpack_read_fn over the current entry of an archive. */
static int
read_block(
    void *arg, const void **buf, size_t *len, int64_t *offset, struct err *err)
{
	struct archive *a = arg;
	la_int64_t off = -1;
	int r;

	r = archive_read_data_block(a, buf, len, &off);
	if (r == ARCHIVE_EOF) {
		*offset = off;
		return 0;
	}
	if (r != ARCHIVE_OK) /* ARCHIVE_WARN too: a bad CRC, for one */
		return err_set(
		    err, E_PARSE, "cannot read its data: %s", archive_why(a));
	*offset = off;
	return 1;
}

/*
 * The permission bits an entry gets: setuid/setgid dropped.  A zip entry
 * without Unix attributes comes from libarchive as 0664 (file) or 0775
 * (directory); those become 0644 and 0755.
 */
static mode_t
entry_perm(struct archive_entry *ae, enum unpack_format format)
{
	mode_t perm = archive_entry_perm(ae) & 01777;

	if (format == UNPACK_ZIP) {
		if (archive_entry_filetype(ae) == AE_IFDIR && perm == 0775)
			perm = 0755;
		else if (archive_entry_filetype(ae) != AE_IFDIR && perm == 0664)
			perm = 0644;
	}
	return perm;
}

/* Translate a libarchive entry into the writer's terms. */
static int
describe_entry(struct archive_entry *ae, enum unpack_format format,
    const struct unpack_opts *opts, struct unpack_entry *out, struct err *err)
{
	const char *hardlink = archive_entry_hardlink(ae);

	memset(out, 0, sizeof(*out));
	out->name = archive_entry_pathname(ae);
	if (out->name == NULL)
		out->name = archive_entry_pathname_utf8(ae);
	if (out->name == NULL)
		return err_set(err, E_PARSE, "an entry has no readable name");
	out->perm = entry_perm(ae, format);
	out->size_set = archive_entry_size_is_set(ae);
	out->size = archive_entry_size(ae);
	out->mtime_set = archive_entry_mtime_is_set(ae);
	out->mtime.tv_sec = archive_entry_mtime(ae);
	out->mtime.tv_nsec = archive_entry_mtime_nsec(ae);
	if (format != UNPACK_ZIP && opts->keep_ownership) {
		la_int64_t uid = archive_entry_uid(ae);
		la_int64_t gid = archive_entry_gid(ae);

		if (uid < 0 || gid < 0 || uid >= (la_int64_t)UINT32_MAX ||
		    gid >= (la_int64_t)UINT32_MAX)
			return err_set(err, E_PARSE,
			    "entry '%s': its owner %lld:%lld is not valid",
			    out->name, (long long)uid, (long long)gid);
		out->owner_set = 1;
		out->uid = (uid_t)uid;
		out->gid = (gid_t)gid;
	}
	if (hardlink != NULL) {
		out->kind = UNPACK_KIND_HARDLINK;
		out->link_target = hardlink;
		return 0;
	}
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		out->kind = UNPACK_KIND_FILE;
		break;
	case AE_IFDIR:
		out->kind = UNPACK_KIND_DIR;
		break;
	case AE_IFLNK:
		out->kind = UNPACK_KIND_SYMLINK;
		out->link_target = archive_entry_symlink(ae);
		if (out->link_target == NULL)
			out->link_target = "";
		break;
	case AE_IFCHR:
		out->kind = UNPACK_KIND_OTHER;
		out->other_what = "a character device";
		break;
	case AE_IFBLK:
		out->kind = UNPACK_KIND_OTHER;
		out->other_what = "a block device";
		break;
	case AE_IFIFO:
		out->kind = UNPACK_KIND_OTHER;
		out->other_what = "a fifo";
		break;
	case AE_IFSOCK:
		out->kind = UNPACK_KIND_OTHER;
		out->other_what = "a socket";
		break;
	default:
		out->kind = UNPACK_KIND_OTHER;
		out->other_what = "of an unknown type";
		break;
	}
	return 0;
}

/*
 * Whether path is a zip with no entries: only an end-of-central-directory
 * record, which libarchive does not recognise as a zip.
 */
static int
is_empty_zip(const char *path)
{
	unsigned char eocd[22];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, eocd, sizeof(eocd));
	close(fd);
	return n == (ssize_t)sizeof(eocd) && memcmp(eocd, "PK\5\6", 4) == 0 &&
	    eocd[8] == 0 && eocd[9] == 0 && eocd[10] == 0 && eocd[11] == 0;
}

int
unpack_archive_read(const char *bundle_path, enum unpack_format format,
    struct unpack_tree *tree, const struct unpack_opts *opts, struct err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	struct unpack_entry entry;
	char *prev = NULL;
	int ret = -1, r;
	/*
	 * Names in pax headers and UTF-8-flagged zip entries are UTF-8;
	 * libarchive converts them to this thread's locale, and under "C"
	 * that fails for any non-ASCII name.  Use C.UTF-8 while reading, for
	 * this thread only: the bytes then come through unchanged.
	 */
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t saved = utf8 != (locale_t)0 ? uselocale(utf8) : (locale_t)0;

	if (format == UNPACK_ZIP) {
		/* seekable: the central directory, so stored entries with data
		 * descriptors work */
		archive_read_support_format_zip_seekable(a);
	} else {
		archive_read_support_filter_all(a);
		archive_read_support_format_tar(a);
	}
	if (archive_read_open_filename(a, bundle_path, UNPACK_BLOCK_SIZE) !=
	    ARCHIVE_OK) {
		if (format == UNPACK_ZIP && is_empty_zip(bundle_path)) {
			ret = 0;
			goto out;
		}
		err_set(err, E_PARSE, "cannot open it as %s: %s",
		    format == UNPACK_ZIP ? "a zip file" : "a tar archive",
		    archive_why(a));
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			if (prev == NULL)
				err_set(err, E_PARSE,
				    "cannot read its first entry: %s",
				    archive_why(a));
			else
				err_set(err, E_PARSE,
				    "cannot read the entry after '%s': %s",
				    prev, archive_why(a));
			goto out;
		}
		if (describe_entry(ae, format, opts, &entry, err) < 0)
			goto out;
		if (r == ARCHIVE_WARN)
			log_warn("bundle %s: entry '%s': %s", bundle_path,
			    entry.name, archive_why(a));
		if (unpack_tree_add(tree, &entry, read_block, a, err) < 0)
			goto out;
		free(prev);
		prev = xstrdup(entry.name);
	}
	ret = 0;
out:
	free(prev);
	archive_read_free(a);
	if (utf8 != (locale_t)0) {
		uselocale(saved);
		freelocale(utf8);
	}
	return ret;
}
