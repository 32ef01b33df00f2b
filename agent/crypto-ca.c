/* crypto-ca: extra trusted CA certificates for TLS connections. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "fsutil.h"
#include "xalloc.h"

struct crypto_ca_set {
	STACK_OF(X509) * certs;
};

struct crypto_ca_set *
crypto_ca_set_new(void)
{
	struct crypto_ca_set *set = xcalloc(1, sizeof(*set));

	set->certs = sk_X509_new_null();
	if (set->certs == NULL)
		xalloc_fail("OpenSSL could not allocate a certificate list");
	return set;
}

void
crypto_ca_set_free(struct crypto_ca_set *set)
{
	if (set == NULL)
		return;
	sk_X509_pop_free(set->certs, X509_free);
	free(set);
}

size_t
crypto_ca_set_count(const struct crypto_ca_set *set)
{
	return set != NULL ? (size_t)sk_X509_num(set->certs) : 0;
}

int
crypto_ca_set_add_file(
    struct crypto_ca_set *set, const char *path, struct err *err)
{
	FILE *fp = fopen(path, "r");
	X509 *cert;
	int n = 0;

	if (fp == NULL)
		return err_sys(err, "cannot read CA certificate file %s", path);
	while ((cert = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(set->certs, cert) <= 0)
			xalloc_fail("OpenSSL could not allocate a certificate "
				    "list");
		n++;
	}
	fclose(fp);
	ERR_clear_error(); /* the end of the file reads as an error */
	if (n == 0)
		return err_set(err, E_PARSE,
		    "%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
		    path);
	return 0;
}

static int
has_cert_suffix(const char *name)
{
	size_t len = strlen(name);

	return (len > 4 && strcmp(name + len - 4, ".pem") == 0) ||
	    (len > 4 && strcmp(name + len - 4, ".crt") == 0);
}

int
crypto_ca_set_add_dir(
    struct crypto_ca_set *set, const char *dir, struct err *err)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int ret = 0;

	if (dp == NULL)
		return err_sys(err, "cannot read CA directory %s", dir);
	while (ret == 0 && (de = fsutil_readdir(dp)) != NULL) {
		char *path;

		if (de->d_name[0] == '.' || !has_cert_suffix(de->d_name))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		ret = crypto_ca_set_add_file(set, path, err);
		free(path);
	}
	closedir(dp);
	return ret;
}

int
crypto_ca_set_apply(const struct crypto_ca_set *set, void *ssl_ctx)
{
	X509_STORE *store = SSL_CTX_get_cert_store((SSL_CTX *)ssl_ctx);
	int i;

	if (store == NULL)
		return -1;
	for (i = 0; i < sk_X509_num(set->certs); i++) {
		/* A certificate already there (the same CA twice) is fine. */
		if (X509_STORE_add_cert(store, sk_X509_value(set->certs, i)) !=
		    1)
			ERR_clear_error();
	}
	return 0;
}
