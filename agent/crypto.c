/* crypto: OpenSSL behind the agent's own interface. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"

const char *
crypto_lib_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}

/* OpenSSL failing to hash is out of memory or a broken install. */
static void
crypto_die(const char *what)
{
	fprintf(stderr, "cdagent: OpenSSL failed to compute %s\n", what);
	abort();
}

void
crypto_sha256(
    const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 ||
	    n != CRYPTO_SHA256_LEN)
		crypto_die("SHA-256");
}

void
crypto_hex(const unsigned char *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	out[2 * len] = '\0';
}

void
crypto_sha256_hex(
    const void *data, size_t len, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	unsigned char digest[CRYPTO_SHA256_LEN];

	crypto_sha256(data, len, digest);
	crypto_hex(digest, sizeof(digest), out);
}

void
crypto_hmac_sha256(const void *key, size_t key_len, const void *data,
    size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) == NULL ||
	    n != CRYPTO_SHA256_LEN)
		crypto_die("HMAC-SHA256");
}
