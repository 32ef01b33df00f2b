/*
 * Unit tests for crypto and crypto-ca: hashes and HMAC against published
 * vectors, PKCS#7 opening with messages signed at run time
 * (pkcs7_signer.c: good, tampered, wrong certificate, truncated, ...), and
 * the extra CA certificates (files, directories, the SSL_CTX store, and the
 * AWS_SSL_CA_BUNDLE / SSL_CERT_FILE variables http_client_new reads).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "crypto.h"
#include "http.h"
#include "pkcs7_signer.h"
#include "testutil.h"
#include "xalloc.h"

static struct pkcs7_signer *alice, *mallory;

static int
group_setup(void **state)
{
	alice = pkcs7_signer_new("alice");
	mallory = pkcs7_signer_new("mallory");
	return 0;
}

static int
group_teardown(void **state)
{
	pkcs7_signer_free(alice);
	pkcs7_signer_free(mallory);
	return 0;
}

static void
sha256__published_vectors(void **state)
{
	char hex[CRYPTO_SHA256_HEX_LEN + 1];

	crypto_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_sha256_hex("", 0, hex);
	assert_string_equal(hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void
hmac_sha256__rfc4231_case_2(void **state)
{
	static const char data[] = "what do ya want for nothing?";
	unsigned char mac[CRYPTO_SHA256_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1];

	crypto_hmac_sha256("Jefe", 4, data, strlen(data), mac);
	crypto_hex(mac, sizeof(mac), hex);
	assert_string_equal(hex,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void
hex__lower_case_nul_terminated(void **state)
{
	static const unsigned char bytes[] = { 0x00, 0xab, 0x7f, 0xff };
	char hex[9];

	memset(hex, 'x', sizeof(hex));
	crypto_hex(bytes, sizeof(bytes), hex);
	assert_string_equal(hex, "00ab7fff");
	crypto_hex(bytes, 0, hex);
	assert_string_equal(hex, "");
}

static void
lib_version__names_openssl(void **state)
{
	assert_non_null(strstr(crypto_lib_version(), "OpenSSL"));
}

/* Sign content as req says (signer alice unless who is given). */
static char *
sign(const struct pkcs7_signer *who, struct pkcs7_sign_req *req,
    const char *content, size_t *len)
{
	req->content = content;
	req->len = strlen(content);
	return pkcs7_signer_sign(who != NULL ? who : alice, req, len);
}

/* crypto_pkcs7_open must fail with code and a message holding want. */
static void
open_fails(const char *msg, size_t len, int code, const char *want)
{
	struct err err = ERR_INIT;
	char *content = (char *)1;
	size_t content_len = 99;

	assert_int_equal(
	    crypto_pkcs7_open(msg, len, &content, &content_len, &err), -1);
	assert_null(content);
	assert_int_equal(content_len, 0);
	assert_int_equal(err.code, code);
	if (strstr(err.msg, want) == NULL)
		fail_msg("'%s' does not hold '%s'", err.msg, want);
}

static void
pkcs7_open__der_and_pem__content_returned(void **state)
{
	static const unsigned flags[] = { 0, PKCS7_SIGNER_PEM };
	static const char text[] = "{\"spec\":\"signed\"}";
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct pkcs7_sign_req req = { .flags = flags[i] };
		struct err err = ERR_INIT;
		size_t len, content_len;
		char *msg = sign(NULL, &req, text, &len), *content;

		assert_int_equal(
		    crypto_pkcs7_open(msg, len, &content, &content_len, &err),
		    0);
		assert_int_equal(content_len, strlen(text));
		assert_string_equal(content, text); /* NUL-terminated */
		xfree_secret(content, content_len);
		free(msg);
	}
}

/*
 * Each message whose signature does not hold: the content tampered with, a
 * bit of the signature flipped, the certificate of another key (another
 * CA's signer) embedded, no certificate, no signer.  (The chain itself is
 * not checked, as in AWS's agent: see crypto.h.)
 */
static void
pkcs7_open__signature_not_holding__refused(void **state)
{
	static const char forged[] = "{\"spec\":\"forged\"}";
	struct pkcs7_sign_req reqs[] = {
		{ .embedded = forged, .embedded_len = strlen(forged) },
		{ .flags = PKCS7_SIGNER_BAD_SIG },
		{ .cert_of = mallory },
		{ .flags = PKCS7_SIGNER_NO_CERTS },
		{ .flags = PKCS7_SIGNER_NO_SIGNERS },
		{ .flags = PKCS7_SIGNER_BAD_SIG | PKCS7_SIGNER_PEM },
	};
	size_t i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		size_t len;
		char *msg = sign(NULL, &reqs[i], "{\"spec\":\"signed\"}", &len);

		print_message("case %zu\n", i);
		open_fails(
		    msg, len, E_AUTH, "PKCS7 signature verification failed");
		free(msg);
	}
}

static void
pkcs7_open__truncated_or_trailing_bytes__parse_error(void **state)
{
	struct pkcs7_sign_req req = { 0 };
	size_t len;
	char *msg = sign(NULL, &req, "content", &len), *longer;

	open_fails(msg, len / 2, E_PARSE, "Failed to parse PKCS7: ");
	open_fails(msg, 1, E_PARSE, "Failed to parse PKCS7: ");
	longer = xmalloc(len + 1);
	memcpy(longer, msg, len);
	longer[len] = '\0';
	open_fails(longer, len + 1, E_PARSE,
	    "Failed to parse PKCS7: bytes after the message");
	free(longer);
	free(msg);
}

static void
pkcs7_open__pem_wrong_label_or_headers__parse_error(void **state)
{
	struct pkcs7_sign_req req = { .flags = PKCS7_SIGNER_PEM };
	size_t len;
	char *msg = sign(NULL, &req, "content", &len), *other, *p;

	/* the same block under another label */
	p = strchr(msg, '\n') + 1;
	other = xasprintf("-----BEGIN CMS-----\n%.*s-----END CMS-----\n",
	    (int)(strstr(p, "-----END") - p), p);
	open_fails(
	    other, strlen(other), E_PARSE, "the PEM block is CMS, not PKCS7");
	free(other);
	/* encryption headers */
	p = strchr(msg, '\n');
	other = xasprintf(
	    "%.*s\nProc-Type: 4,ENCRYPTED\n"
	    "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n%s",
	    (int)(p - msg), msg, p + 1);
	open_fails(other, strlen(other), E_PARSE, "the PEM block has headers");
	free(other);
	/* PEM with nothing after the header line */
	open_fails("  -----BEGIN PKCS7-----\n", 24, E_PARSE,
	    "Failed to parse PKCS7: ");
	free(msg);
}

static void
pkcs7_open__detached_empty_or_too_large__refused(void **state)
{
	struct pkcs7_sign_req req = { .flags = PKCS7_SIGNER_DETACHED };
	size_t len;
	char *msg = sign(NULL, &req, "content", &len);

	open_fails(msg, len, E_PARSE, "the content is not attached");
	open_fails(msg, 0, E_PARSE, "Failed to parse PKCS7: empty");
	open_fails(msg, (size_t)CRYPTO_PKCS7_MAX + 1, E_LIMIT,
	    "more than the 16777216 allowed");
	free(msg);
}

/* name in the test's scratch directory. */
static char *
in(void **state, const char *name)
{
	return xasprintf("%s/%s", (const char *)*state, name);
}

static void
ca_set_add_file__every_certificate(void **state)
{
	struct crypto_ca_set *set = crypto_ca_set_new();
	struct err err = ERR_INIT;
	char *path = in(state, "two.pem");

	pkcs7_signer_append_cert(alice, path);
	pkcs7_signer_append_cert(mallory, path);
	assert_int_equal(crypto_ca_set_count(set), 0);
	assert_int_equal(crypto_ca_set_add_file(set, path, &err), 0);
	assert_int_equal(crypto_ca_set_count(set), 2);
	assert_int_equal(crypto_ca_set_count(NULL), 0);
	crypto_ca_set_free(set);
	crypto_ca_set_free(NULL);
	free(path);
}

static void
ca_set_add_file__none_or_missing__error_names_file(void **state)
{
	struct crypto_ca_set *set = crypto_ca_set_new();
	struct err err = ERR_INIT;
	char *empty = in(state, "empty.pem"), *missing = in(state, "no.pem");

	free(tu_write(*state, "empty.pem", "not a certificate\n"));
	assert_int_equal(crypto_ca_set_add_file(set, empty, &err), -1);
	assert_int_equal(err.code, E_PARSE);
	assert_non_null(strstr(err.msg, empty));
	assert_non_null(strstr(err.msg, "holds no PEM certificate"));
	err_clear(&err);
	assert_int_equal(crypto_ca_set_add_file(set, missing, &err), -1);
	assert_non_null(strstr(err.msg, "cannot read CA certificate file"));
	assert_non_null(strstr(err.msg, missing));
	assert_int_equal(crypto_ca_set_count(set), 0);
	crypto_ca_set_free(set);
	free(empty);
	free(missing);
}

static void
ca_set_add_dir__pem_and_crt_only(void **state)
{
	struct crypto_ca_set *set = crypto_ca_set_new();
	struct err err = ERR_INIT;
	char *a = in(state, "a.pem"), *b = in(state, "b.crt");
	char *hidden = in(state, ".c.pem"), *other = in(state, "d.txt");

	pkcs7_signer_append_cert(alice, a);
	pkcs7_signer_append_cert(mallory, b);
	pkcs7_signer_append_cert(alice, hidden);
	free(tu_write(*state, "d.txt", "not read\n"));
	assert_int_equal(crypto_ca_set_add_dir(set, *state, &err), 0);
	assert_int_equal(crypto_ca_set_count(set), 2);
	crypto_ca_set_free(set);
	set = crypto_ca_set_new();
	assert_int_equal(crypto_ca_set_add_dir(set, other, &err), -1);
	assert_non_null(strstr(err.msg, "cannot read CA directory"));
	crypto_ca_set_free(set);
	free(a);
	free(b);
	free(hidden);
	free(other);
}

static void
ca_set_apply__in_the_store_twice_is_fine(void **state)
{
	struct crypto_ca_set *set = crypto_ca_set_new();
	struct err err = ERR_INIT;
	char *path = in(state, "ca.pem");
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_STORE *store;

	assert_non_null(ctx);
	store = SSL_CTX_get_cert_store(ctx);
	pkcs7_signer_append_cert(alice, path);
	assert_int_equal(crypto_ca_set_add_file(set, path, &err), 0);
	assert_int_equal(sk_X509_OBJECT_num(X509_STORE_get0_objects(store)), 0);
	assert_int_equal(crypto_ca_set_apply(set, ctx), 0);
	assert_int_equal(crypto_ca_set_apply(set, ctx), 0);
	assert_int_equal(sk_X509_OBJECT_num(X509_STORE_get0_objects(store)), 1);
	SSL_CTX_free(ctx);
	crypto_ca_set_free(set);
	free(path);
}

/* http_client_new with the CA variables set as given (NULL: unset). */
static struct http_client *
client_with(const char *bundle, const char *cert_file, struct err *err)
{
	struct http_opts opts = { 0 };
	struct http_client *client;

	unsetenv("AWS_SSL_CA_BUNDLE");
	unsetenv("SSL_CERT_FILE");
	unsetenv("AWS_SSL_CA_DIRECTORY");
	if (bundle != NULL)
		setenv("AWS_SSL_CA_BUNDLE", bundle, 1);
	if (cert_file != NULL)
		setenv("SSL_CERT_FILE", cert_file, 1);
	client = http_client_new(&opts, err);
	unsetenv("AWS_SSL_CA_BUNDLE");
	unsetenv("SSL_CERT_FILE");
	return client;
}

static void
ca_env__bundle_and_cert_file__loaded_or_error_names_variable(void **state)
{
	struct err err = ERR_INIT;
	char *good = in(state, "good.pem"), *bad = in(state, "bad.pem");
	struct http_client *client;

	pkcs7_signer_append_cert(alice, good);
	free(tu_write(*state, "bad.pem", "no certificate here\n"));
	client = client_with(good, good, &err);
	assert_non_null(client);
	http_client_free(client);
	client = client_with(NULL, bad, &err);
	assert_null(client);
	assert_int_equal(strncmp(err.msg, "SSL_CERT_FILE: ", 15), 0);
	assert_non_null(strstr(err.msg, "holds no PEM certificate"));
	err_clear(&err);
	client = client_with(bad, good, &err);
	assert_null(client);
	assert_int_equal(strncmp(err.msg, "AWS_SSL_CA_BUNDLE: ", 19), 0);
	err_clear(&err);
	client = client_with(good, bad, &err);
	assert_null(client);
	assert_int_equal(strncmp(err.msg, "SSL_CERT_FILE: ", 15), 0);
	err_clear(&err);
	client = client_with(NULL, NULL, &err);
	assert_non_null(client);
	http_client_free(client);
	free(good);
	free(bad);
}

#define T(name) cmocka_unit_test(name)
#define TD(name)                                                               \
	cmocka_unit_test_setup_teardown(                                       \
	    name, tu_setup_tmpdir, tu_teardown_tmpdir)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(sha256__published_vectors),
		T(hmac_sha256__rfc4231_case_2),
		T(hex__lower_case_nul_terminated),
		T(lib_version__names_openssl),
		T(pkcs7_open__der_and_pem__content_returned),
		T(pkcs7_open__signature_not_holding__refused),
		T(pkcs7_open__truncated_or_trailing_bytes__parse_error),
		T(pkcs7_open__pem_wrong_label_or_headers__parse_error),
		T(pkcs7_open__detached_empty_or_too_large__refused),
		TD(ca_set_add_file__every_certificate),
		TD(ca_set_add_file__none_or_missing__error_names_file),
		TD(ca_set_add_dir__pem_and_crt_only),
		TD(ca_set_apply__in_the_store_twice_is_fine),
		TD(ca_env__bundle_and_cert_file__loaded_or_error_names_variable),
	};

	return cmocka_run_group_tests_name(
	    "crypto", tests, group_setup, group_teardown);
}
