/*
 * Unit tests for sigv4: AWS's published S3 signing examples (the S3 API
 * reference, "Signature Calculations for the Authorization Header"), and
 * the canonicalisation rules.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "sigv4.h"
#include "xalloc.h"

#define EMPTY_SHA256                                                           \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct sigv4_credentials example_creds = { "AKIAIOSFODNN7EXAMPLE",
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL };

/* 2013-05-24T00:00:00Z */
static const struct sigv4_params example_params = { "us-east-1", "s3",
	1369353600 };

static void
s3_get_object_with_range__matches_aws_example(void **state)
{
	const struct sigv4_header hdrs[] = { { "Range", "bytes=0-9" } };
	const struct sigv4_request req = { "GET",
		"examplebucket.s3.amazonaws.com", "/test.txt", NULL, hdrs, 1,
		EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	assert_int_equal(
	    sigv4_sign(&req, &example_creds, &example_params, &res, &err), 0);
	assert_string_equal(res.canonical_request,
	    "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n"
	    "range:bytes=0-9\nx-amz-content-sha256:" EMPTY_SHA256 "\n"
	    "x-amz-date:20130524T000000Z\n\n"
	    "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA256);
	assert_string_equal(res.signature,
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	assert_string_equal(res.authorization,
	    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
	    "us-east-1/s3/aws4_request, SignedHeaders=host;range;"
	    "x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857"
	    "bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	assert_string_equal(res.amz_date, "20130524T000000Z");
	sigv4_result_clear(&res);
}

static void
s3_get_bucket_lifecycle__matches_aws_example(void **state)
{
	const struct sigv4_request req = { "GET",
		"examplebucket.s3.amazonaws.com", "/", "lifecycle", NULL, 0,
		EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	assert_int_equal(
	    sigv4_sign(&req, &example_creds, &example_params, &res, &err), 0);
	assert_string_equal(res.canonical_query, "lifecycle=");
	assert_string_equal(res.signature,
	    "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
	sigv4_result_clear(&res);
}

static void
s3_list_objects__matches_aws_example(void **state)
{
	const struct sigv4_request req = { "GET",
		"examplebucket.s3.amazonaws.com", "/", "max-keys=2&prefix=J",
		NULL, 0, EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	assert_int_equal(
	    sigv4_sign(&req, &example_creds, &example_params, &res, &err), 0);
	assert_string_equal(res.signature,
	    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	sigv4_result_clear(&res);
}

static void
query__decoded_reencoded_and_sorted(void **state)
{
	const struct sigv4_request req = { "GET", "h", "/k",
		"versionId=a+b%2Fc&acl&b=%7e x", NULL, 0, EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	assert_int_equal(
	    sigv4_sign(&req, &example_creds, &example_params, &res, &err), 0);
	assert_string_equal(
	    res.canonical_query, "acl=&b=~%20x&versionId=a%2Bb%2Fc");
	sigv4_result_clear(&res);
}

static void
s3_path__encoded_once_never_normalised(void **state)
{
	const struct sigv4_request req = { "GET", "h", "/dir//./my key+é.tgz",
		NULL, NULL, 0, EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	assert_int_equal(
	    sigv4_sign(&req, &example_creds, &example_params, &res, &err), 0);
	assert_string_equal(res.canonical_uri, "/dir//./my%20key%2B%C3%A9.tgz");
	assert_non_null(strstr(
	    res.canonical_request, "GET\n/dir//./my%20key%2B%C3%A9.tgz\n"));
	sigv4_result_clear(&res);
}

static void
other_service__normalised_and_encoded_twice(void **state)
{
	const struct sigv4_params params = { "us-west-2", "codedeploy-commands",
		1369353600 };
	const struct sigv4_request req = { "POST",
		"codedeploy-commands.us-west-2.amazonaws.com", "/a/./b/../c d",
		NULL, NULL, 0, EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	assert_int_equal(
	    sigv4_sign(&req, &example_creds, &params, &res, &err), 0);
	assert_string_equal(res.canonical_uri, "/a/c%20d");
	assert_non_null(strstr(res.canonical_request, "POST\n/a/c%2520d\n"));
	assert_null(res.content_sha256);
	assert_null(strstr(res.canonical_request, "x-amz-content-sha256"));
	assert_non_null(strstr(res.authorization,
	    "/20130524/us-west-2/codedeploy-commands/aws4_request, "
	    "SignedHeaders=host;x-amz-date, "));
	sigv4_result_clear(&res);
}

static void
path_encoded_flag__sent_as_given_and_encoded_once_more_unless_s3(void **state)
{
	const struct sigv4_params params = { "us-west-2", "codedeploy-commands",
		1369353600 };
	struct sigv4_request req = { "GET", "h", "/a/../my%20key+x", NULL, NULL,
		0, EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	req.flags = SIGV4_PATH_ENCODED;
	assert_int_equal(
	    sigv4_sign(&req, &example_creds, &params, &res, &err), 0);
	assert_string_equal(res.canonical_uri, "/my%20key+x");
	assert_non_null(
	    strstr(res.canonical_request, "GET\n/my%2520key%2Bx\n"));
	sigv4_result_clear(&res);

	/* s3: neither normalised nor encoded again */
	assert_int_equal(
	    sigv4_sign(&req, &example_creds, &example_params, &res, &err), 0);
	assert_string_equal(res.canonical_uri, "/a/../my%20key+x");
	assert_non_null(
	    strstr(res.canonical_request, "GET\n/a/../my%20key+x\n"));
	sigv4_result_clear(&res);
}

static void
no_normalise_flag__path_kept_but_encoded_twice(void **state)
{
	const struct sigv4_params params = { "us-west-2", "codedeploy-commands",
		1369353600 };
	struct sigv4_request req = { "GET", "h", "//a/./b/../c d", NULL, NULL,
		0, EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	req.flags = SIGV4_NO_NORMALISE;
	assert_int_equal(
	    sigv4_sign(&req, &example_creds, &params, &res, &err), 0);
	assert_string_equal(res.canonical_uri, "//a/./b/../c%20d");
	assert_non_null(
	    strstr(res.canonical_request, "GET\n//a/./b/../c%2520d\n"));
	sigv4_result_clear(&res);
}

static void
content_sha256_flag__signed_for_other_services(void **state)
{
	const struct sigv4_params params = { "us-west-2", "codedeploy-commands",
		1369353600 };
	struct sigv4_request req = { "POST", "h", "/", NULL, NULL, 0,
		EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	req.flags = SIGV4_CONTENT_SHA256;
	assert_int_equal(
	    sigv4_sign(&req, &example_creds, &params, &res, &err), 0);
	assert_string_equal(res.content_sha256, EMPTY_SHA256);
	assert_non_null(strstr(res.canonical_request,
	    "\nx-amz-content-sha256:" EMPTY_SHA256 "\n"));
	assert_non_null(strstr(res.authorization,
	    "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "));
	sigv4_result_clear(&res);
}

static void
session_token__signed(void **state)
{
	const struct sigv4_credentials creds = { "ASIAX", "secret",
		"token-value" };
	const struct sigv4_request req = { "GET", "h", "/", NULL, NULL, 0,
		EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	assert_int_equal(
	    sigv4_sign(&req, &creds, &example_params, &res, &err), 0);
	assert_non_null(strstr(
	    res.canonical_request, "x-amz-security-token:token-value\n"));
	assert_non_null(strstr(res.authorization,
	    "SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
	    "x-amz-security-token,"));
	sigv4_result_clear(&res);
}

static void
headers__trimmed_lowercased_sorted(void **state)
{
	const struct sigv4_header hdrs[] = { { "X-Custom", "  a   b  " },
		{ "HOST", "ignored-duplicate" }, { "Content-Type", "x/y" } };
	const struct sigv4_request req = { "GET", "h", "/", NULL, hdrs, 3,
		EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	assert_int_equal(
	    sigv4_sign(&req, &example_creds, &example_params, &res, &err), 0);
	assert_non_null(strstr(res.canonical_request,
	    "\ncontent-type:x/y\nhost:h\nx-amz-content-sha256:"));
	assert_non_null(strstr(res.canonical_request, "\nx-custom:a b\n"));
	sigv4_result_clear(&res);
}

static void
repeated_header__values_joined_with_comma_in_order(void **state)
{
	const struct sigv4_header hdrs[] = { { "My-Header", " b " },
		{ "X-Other", "o" }, { "my-header", "a  z" },
		{ "MY-HEADER", "b" } };
	const struct sigv4_request req = { "GET", "h", "/", NULL, hdrs, 4,
		EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	assert_int_equal(
	    sigv4_sign(&req, &example_creds, &example_params, &res, &err), 0);
	assert_non_null(strstr(res.canonical_request,
	    "\nmy-header:b,a z,b\nx-amz-content-sha256:"));
	assert_non_null(strstr(res.authorization,
	    "SignedHeaders=host;my-header;x-amz-content-sha256;x-amz-date;"
	    "x-other, "));
	sigv4_result_clear(&res);
}

static void
no_credentials__error(void **state)
{
	const struct sigv4_credentials none = { NULL, NULL, NULL };
	const struct sigv4_request req = { "GET", "h", "/", NULL, NULL, 0,
		EMPTY_SHA256 };
	struct sigv4_result res;
	struct err err = ERR_INIT;

	assert_int_equal(
	    sigv4_sign(&req, &none, &example_params, &res, &err), -1);
	assert_int_equal(err.code, E_AUTH);
}

static void
crypto__sha256_and_hmac_vectors(void **state)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1];

	crypto_sha256_hex("", 0, hex);
	assert_string_equal(hex, EMPTY_SHA256);
	crypto_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a3"
	    "96177a9cb410ff61f20015ad");
	/* RFC 4231 test case 2 */
	crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	crypto_hex(mac, sizeof(mac), hex);
	assert_string_equal(hex,
	    "5bdcc146bf60754e6a042426089575c75a003f08"
	    "9d2739839dec58b964ec3843");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(s3_get_object_with_range__matches_aws_example),
		cmocka_unit_test(s3_get_bucket_lifecycle__matches_aws_example),
		cmocka_unit_test(s3_list_objects__matches_aws_example),
		cmocka_unit_test(query__decoded_reencoded_and_sorted),
		cmocka_unit_test(s3_path__encoded_once_never_normalised),
		cmocka_unit_test(other_service__normalised_and_encoded_twice),
		cmocka_unit_test(
		    path_encoded_flag__sent_as_given_and_encoded_once_more_unless_s3),
		cmocka_unit_test(
		    no_normalise_flag__path_kept_but_encoded_twice),
		cmocka_unit_test(
		    content_sha256_flag__signed_for_other_services),
		cmocka_unit_test(session_token__signed),
		cmocka_unit_test(headers__trimmed_lowercased_sorted),
		cmocka_unit_test(
		    repeated_header__values_joined_with_comma_in_order),
		cmocka_unit_test(no_credentials__error),
		cmocka_unit_test(crypto__sha256_and_hmac_vectors),
	};

	return cmocka_run_group_tests_name("sigv4", tests, NULL, NULL);
}
