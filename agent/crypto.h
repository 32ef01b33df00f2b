/*
 * crypto: hashing, HMAC and signature checks.  The only module that includes
 * OpenSSL headers.
 */
#ifndef CDAGENT_CRYPTO_H
#define CDAGENT_CRYPTO_H

#include <stddef.h>

#include "err.h"

/*
 * A set of extra trusted CA certificates, added to the system store of
 * every TLS connection (AWS_SSL_CA_BUNDLE, SSL_CERT_FILE,
 * AWS_SSL_CA_DIRECTORY).
 */
struct crypto_ca_set;

struct crypto_ca_set *crypto_ca_set_new(void);
void crypto_ca_set_free(struct crypto_ca_set *set);
/* Add every certificate of a PEM file; a file with none is an error. */
int crypto_ca_set_add_file(
    struct crypto_ca_set *set, const char *path, struct err *err);
/* Add every *.pem and *.crt file of a directory. */
int crypto_ca_set_add_dir(
    struct crypto_ca_set *set, const char *dir, struct err *err);
size_t crypto_ca_set_count(const struct crypto_ca_set *set);
/* Add the set to an OpenSSL SSL_CTX's store (passed as void *). */
int crypto_ca_set_apply(const struct crypto_ca_set *set, void *ssl_ctx);

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SHA256_HEX_LEN 64

/* The linked OpenSSL, e.g. "OpenSSL 3.0.11 19 Sep 2023". */
const char *crypto_lib_version(void);

/* SHA-256 of data into out. */
void crypto_sha256(
    const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN]);
/* Lower-case hex SHA-256 of data, NUL-terminated. */
void crypto_sha256_hex(
    const void *data, size_t len, char out[CRYPTO_SHA256_HEX_LEN + 1]);
/* HMAC-SHA256 of data under key into out. */
void crypto_hmac_sha256(const void *key, size_t key_len, const void *data,
    size_t len, unsigned char out[CRYPTO_SHA256_LEN]);
/* Lower-case hex of len bytes, NUL-terminated (out holds 2 * len + 1). */
void crypto_hex(const unsigned char *bytes, size_t len, char *out);

/* The largest PKCS#7 message crypto_pkcs7_open() reads (16 MiB). */
#define CRYPTO_PKCS7_MAX (16u * 1024 * 1024)

/*
 * Open a PKCS#7 SignedData message with attached content, PEM ("-----BEGIN
 * PKCS7-----") or DER, and check it as AWS's v2 agent does: every signer
 * certificate must be embedded in the message and every signature must
 * match the content (PKCS7_verify with an empty store and PKCS7_NOVERIFY:
 * the certificate chain is not checked).  A parse failure is E_PARSE
 * ("Failed to parse PKCS7: ..."), a failed check E_AUTH ("PKCS7 signature
 * verification failed: ...").  On success *content is the signed content
 * with a NUL after its *content_len bytes; free it with
 * xfree_secret(*content, *content_len).
 */
int crypto_pkcs7_open(const void *der_or_pem, size_t len, char **content,
    size_t *content_len, struct err *err);

#endif
