/* pkcs7_signer: throwaway signers and signed messages for unit tests. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "pkcs7_signer.h"

struct pkcs7_signer {
	EVP_PKEY *key;
	X509 *cert;
};

/* A fixture that cannot be made is a broken test environment. */
static void
die(const char *what)
{
	fprintf(stderr, "pkcs7_signer: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	abort();
}

static EVP_PKEY *
p256_key(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	EVP_PKEY *key = NULL;

	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) !=
		1 ||
	    EVP_PKEY_keygen(ctx, &key) != 1)
		die("P-256 key generation");
	EVP_PKEY_CTX_free(ctx);
	return key;
}

struct pkcs7_signer *
pkcs7_signer_new(const char *cn)
{
	struct pkcs7_signer *signer = calloc(1, sizeof(*signer));
	X509_NAME *name;

	if (signer == NULL)
		die("calloc");
	signer->key = p256_key();
	signer->cert = X509_new();
	if (signer->cert == NULL)
		die("X509_new");
	name = X509_get_subject_name(signer->cert);
	if (X509_set_version(signer->cert, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(signer->cert), 1) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(signer->cert), -60) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(signer->cert), 3600) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		(const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(signer->cert, name) != 1 ||
	    X509_set_pubkey(signer->cert, signer->key) != 1 ||
	    X509_sign(signer->cert, signer->key, EVP_sha256()) == 0)
		die("self-signed certificate");
	return signer;
}

void
pkcs7_signer_free(struct pkcs7_signer *signer)
{
	if (signer == NULL)
		return;
	EVP_PKEY_free(signer->key);
	X509_free(signer->cert);
	free(signer);
}

void
pkcs7_signer_append_cert(const struct pkcs7_signer *signer, const char *path)
{
	FILE *fp = fopen(path, "a");

	if (fp == NULL || PEM_write_X509(fp, signer->cert) != 1 ||
	    fclose(fp) != 0)
		die("writing the certificate");
}

/* Apply the breakages of req to a freshly signed message. */
static void
break_message(PKCS7 *p7, const struct pkcs7_sign_req *req)
{
	STACK_OF(PKCS7_SIGNER_INFO) *infos = PKCS7_get_signer_info(p7);
	PKCS7_SIGNER_INFO *info = sk_PKCS7_SIGNER_INFO_value(infos, 0);

	if (req->embedded != NULL &&
	    ASN1_OCTET_STRING_set(p7->d.sign->contents->d.data, req->embedded,
		(int)req->embedded_len) != 1)
		die("replacing the content");
	if (req->flags & PKCS7_SIGNER_BAD_SIG) {
		unsigned char *sig = info->enc_digest->data;

		sig[info->enc_digest->length - 1] ^= 0x01;
	}
	if (req->cert_of != NULL) {
		X509 *other = X509_dup(req->cert_of->cert);

		if (other == NULL)
			die("X509_dup");
		sk_X509_pop_free(p7->d.sign->cert, X509_free);
		p7->d.sign->cert = sk_X509_new_null();
		if (p7->d.sign->cert == NULL ||
		    sk_X509_push(p7->d.sign->cert, other) <= 0)
			die("replacing the certificate");
	}
	if (req->flags & PKCS7_SIGNER_NO_SIGNERS)
		while (sk_PKCS7_SIGNER_INFO_num(infos) > 0)
			PKCS7_SIGNER_INFO_free(sk_PKCS7_SIGNER_INFO_pop(infos));
}

char *
pkcs7_signer_sign(const struct pkcs7_signer *signer,
    const struct pkcs7_sign_req *req, size_t *out_len)
{
	int flags = PKCS7_BINARY;
	BIO *in, *out;
	PKCS7 *p7;
	BUF_MEM *mem = NULL;
	char *text;

	if (req->flags & PKCS7_SIGNER_NO_CERTS)
		flags |= PKCS7_NOCERTS;
	if (req->flags & PKCS7_SIGNER_DETACHED)
		flags |= PKCS7_DETACHED;
	in = BIO_new_mem_buf(req->content, (int)req->len);
	if (in == NULL)
		die("BIO_new_mem_buf");
	p7 = PKCS7_sign(signer->cert, signer->key, NULL, in, flags);
	if (p7 == NULL)
		die("PKCS7_sign");
	break_message(p7, req);
	out = BIO_new(BIO_s_mem());
	if (out == NULL)
		die("BIO_new");
	if ((req->flags & PKCS7_SIGNER_PEM ? PEM_write_bio_PKCS7(out, p7)
					   : i2d_PKCS7_bio(out, p7)) != 1)
		die("writing the message");
	BIO_get_mem_ptr(out, &mem);
	text = malloc(mem->length + 1);
	if (text == NULL)
		die("malloc");
	memcpy(text, mem->data, mem->length);
	text[mem->length] = '\0';
	*out_len = mem->length;
	BIO_free(in);
	BIO_free(out);
	PKCS7_free(p7);
	return text;
}
