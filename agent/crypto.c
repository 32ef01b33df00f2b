/* crypto: OpenSSL behind the agent's own interface. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509_vfy.h>

#include "crypto.h"
#include "xalloc.h"

const char *
crypto_lib_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}

void
crypto_sha256(
    const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 ||
	    n != CRYPTO_SHA256_LEN)
		/* out of memory or a broken install */
		xalloc_fail("OpenSSL failed to compute SHA-256");
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
		xalloc_fail("OpenSSL failed to compute HMAC-SHA256");
}

/* OpenSSL's reason for the last failure, then an empty error queue. */
static const char *
crypto_reason(char *buf, size_t size)
{
	unsigned long code = ERR_peek_last_error();
	const char *reason = code != 0 ? ERR_reason_error_string(code) : NULL;

	if (reason != NULL)
		snprintf(buf, size, "%s", reason);
	else if (code != 0)
		ERR_error_string_n(code, buf, size);
	else
		snprintf(buf, size, "unknown error");
	ERR_clear_error();
	return buf;
}

/* Whether buf starts (after white space) with a PEM header line. */
static int
crypto_is_pem(const unsigned char *buf, size_t len)
{
	static const char begin[] = "-----BEGIN ";
	size_t i = 0;

	while (i < len &&
	    (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
		buf[i] == '\n'))
		i++;
	return len - i >= sizeof(begin) - 1 &&
	    memcmp(buf + i, begin, sizeof(begin) - 1) == 0;
}

/*
 * Decode a whole DER PKCS7 (trailing bytes are refused), or NULL with err
 * saying why.
 */
static PKCS7 *
crypto_d2i_pkcs7(const unsigned char *der, long len, struct err *err)
{
	const unsigned char *p = der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, len);
	char reason[160];

	if (p7 == NULL)
		err_set(err, E_PARSE, "Failed to parse PKCS7: %s",
		    crypto_reason(reason, sizeof(reason)));
	else if (p != der + len) {
		PKCS7_free(p7);
		p7 = NULL;
		err_set(err, E_PARSE,
		    "Failed to parse PKCS7: bytes after the message");
	}
	return p7;
}

/*
 * The PKCS7 of one PEM block: the label must be PKCS7 and there must be no
 * encryption headers (no pass phrase is ever asked for).
 */
static int
crypto_pem_pkcs7(BIO *bio, PKCS7 **out, struct err *err)
{
	char *name = NULL, *header = NULL, reason[160];
	unsigned char *data = NULL;
	long data_len = 0;
	int ret = -1;

	*out = NULL;
	if (PEM_read_bio(bio, &name, &header, &data, &data_len) != 1)
		return err_set(err, E_PARSE, "Failed to parse PKCS7: %s",
		    crypto_reason(reason, sizeof(reason)));
	if (strcmp(name, PEM_STRING_PKCS7) != 0) {
		err_set(err, E_PARSE,
		    "Failed to parse PKCS7: the PEM block is %.40s, not "
		    "PKCS7",
		    name);
		goto out;
	}
	if (header[0] != '\0') {
		err_set(err, E_PARSE,
		    "Failed to parse PKCS7: the PEM block has headers");
		goto out;
	}
	*out = crypto_d2i_pkcs7(data, data_len, err);
	if (*out != NULL)
		ret = 0;
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	ERR_clear_error();
	return ret;
}

int
crypto_pkcs7_open(const void *der_or_pem, size_t len, char **content,
    size_t *content_len, struct err *err)
{
	const unsigned char *buf = der_or_pem;
	X509_STORE *store = NULL;
	BIO *in = NULL, *out = NULL;
	PKCS7 *p7 = NULL;
	BUF_MEM *mem = NULL;
	char reason[160];
	int ret = -1;

	*content = NULL;
	*content_len = 0;
	ERR_clear_error();
	if (len == 0)
		return err_set(err, E_PARSE, "Failed to parse PKCS7: empty");
	if (len > CRYPTO_PKCS7_MAX)
		return err_set(err, E_LIMIT,
		    "Failed to parse PKCS7: %zu bytes, more than the %u "
		    "allowed",
		    len, CRYPTO_PKCS7_MAX);
	if (crypto_is_pem(buf, len)) {
		in = BIO_new_mem_buf(buf, (int)len);
		if (in == NULL)
			xalloc_fail("OpenSSL could not allocate a memory BIO");
		if (crypto_pem_pkcs7(in, &p7, err) < 0)
			goto out;
	} else {
		p7 = crypto_d2i_pkcs7(buf, (long)len, err);
		if (p7 == NULL)
			goto out;
	}
	if (!PKCS7_type_is_signed(p7)) {
		err_set(err, E_PARSE,
		    "Failed to parse PKCS7: not a SignedData message");
		goto out;
	}
	if (PKCS7_get_detached(p7)) {
		err_set(err, E_PARSE,
		    "Failed to parse PKCS7: the content is not attached");
		goto out;
	}
	store = X509_STORE_new();
	/* a secure-memory BIO clears the (secret-bearing) content on free */
	out = BIO_new(BIO_s_secmem());
	if (store == NULL || out == NULL)
		xalloc_fail("OpenSSL could not allocate a PKCS7 "
			    "verification context");
	if (PKCS7_verify(p7, NULL, store, NULL, out, PKCS7_NOVERIFY) != 1) {
		err_set(err, E_AUTH, "PKCS7 signature verification failed: %s",
		    crypto_reason(reason, sizeof(reason)));
		goto out;
	}
	BIO_get_mem_ptr(out, &mem);
	if (mem == NULL || mem->length > len) {
		err_set(err, E_PARSE,
		    "Failed to parse PKCS7: the content is larger than the "
		    "message");
		goto out;
	}
	*content = xmalloc(mem->length + 1);
	memcpy(*content, mem->data, mem->length);
	(*content)[mem->length] = '\0';
	*content_len = mem->length;
	ret = 0;
out:
	BIO_free(in);
	BIO_free(out);
	X509_STORE_free(store);
	PKCS7_free(p7);
	ERR_clear_error();
	return ret;
}
