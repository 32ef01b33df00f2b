/* unpack: libarchive behind the agent's own interface. */
#include "config.h"

#include <archive.h>

#include "unpack.h"

const char *
unpack_lib_version(void)
{
	return archive_version_details();
}
