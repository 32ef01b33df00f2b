/*
 * pkcs7_signer: test-only PKCS#7 fixtures made at run time with OpenSSL: a
 * throwaway signer (P-256 key, self-signed certificate) and signed
 * messages, intact or broken in chosen ways (the dspec and crypto tests).
 */
#ifndef CDAGENT_PKCS7_SIGNER_H
#define CDAGENT_PKCS7_SIGNER_H

#include <stddef.h>

struct pkcs7_signer;

/* A new key and a certificate for subject CN cn, serial 1, valid 1 hour. */
struct pkcs7_signer *pkcs7_signer_new(const char *cn);
void pkcs7_signer_free(struct pkcs7_signer *signer);
/* Append the signer's certificate, PEM, to the file path; aborts on error. */
void pkcs7_signer_append_cert(
    const struct pkcs7_signer *signer, const char *path);

#define PKCS7_SIGNER_PEM 0x1u	     /* PEM (-----BEGIN PKCS7-----), not DER */
#define PKCS7_SIGNER_NO_CERTS 0x2u   /* leave the signer certificate out */
#define PKCS7_SIGNER_BAD_SIG 0x4u    /* flip a bit of the signature value */
#define PKCS7_SIGNER_NO_SIGNERS 0x8u /* drop every SignerInfo */
#define PKCS7_SIGNER_DETACHED 0x10u  /* leave the content out */

struct pkcs7_sign_req {
	const void *content; /* what is signed */
	size_t len;
	unsigned flags; /* PKCS7_SIGNER_* */
	/* When not NULL: embed this instead of content (a tampered message) */
	const void *embedded;
	size_t embedded_len;
	/* When not NULL: embed this signer's certificate instead */
	const struct pkcs7_signer *cert_of;
};

/* The message (malloc'd, *out_len bytes, NUL after them); aborts on error. */
char *pkcs7_signer_sign(const struct pkcs7_signer *signer,
    const struct pkcs7_sign_req *req, size_t *out_len);

#endif
