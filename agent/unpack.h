/*
 * unpack: revision bundles (tar, compressed tar, zip) extracted safely.  The
 * only module that includes <archive.h>.
 */
#ifndef CDAGENT_UNPACK_H
#define CDAGENT_UNPACK_H

/* The linked libarchive and its compression libraries. */
const char *unpack_lib_version(void);

#endif
