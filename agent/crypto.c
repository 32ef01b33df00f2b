/* crypto: OpenSSL behind the agent's own interface. */
#include "config.h"

#include <openssl/crypto.h>

#include "crypto.h"

const char *
crypto_lib_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}
