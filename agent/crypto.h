/*
 * crypto: hashing, HMAC and signature checks.  The only module that includes
 * OpenSSL headers.
 */
#ifndef CDAGENT_CRYPTO_H
#define CDAGENT_CRYPTO_H

/* The linked OpenSSL, e.g. "OpenSSL 3.0.11 19 Sep 2023". */
const char *crypto_lib_version(void);

#endif
