/*
 * Fakes shared by the unit tests that replace the HTTP client and the
 * clock through -Wl,--wrap (test_bundle, test_cmdsvc): a client is a
 * token, time is tu_fake_now and only moves when slept, and credentials
 * are fixed example keys.  Include it from one file of a test binary.
 */
#ifndef CDAGENT_TU_FAKESEAMS_H
#define CDAGENT_TU_FAKESEAMS_H

#include <stdlib.h>

#include "clock.h"
#include "http.h"
#include "sigv4.h"
#include "xalloc.h"

struct http_client *__wrap_http_client_new(
    const struct http_opts *opts, struct err *err);
void __wrap_http_client_free(struct http_client *client);
long long __wrap_clock_now_ms(void);
void __wrap_clock_sleep_ms(long long ms);

static long long tu_fake_now = 1700000000000LL;
static long long tu_slept_ms; /* the sum of every sleep */

struct http_client *
__wrap_http_client_new(const struct http_opts *opts, struct err *err)
{
	(void)opts;
	(void)err;
	return xmalloc(1);
}

void
__wrap_http_client_free(struct http_client *client)
{
	free(client);
}

long long
__wrap_clock_now_ms(void)
{
	return tu_fake_now;
}

void
__wrap_clock_sleep_ms(long long ms)
{
	if (ms > 0) {
		tu_fake_now += ms;
		tu_slept_ms += ms;
	}
}

/* Credentials for signing (cmdsvc_creds_fn / bundle_creds_fn). */
static inline int
tu_fake_creds(void *arg, struct sigv4_credentials *out, const char **source,
    struct err *err)
{
	(void)arg;
	(void)err;
	out->access_key_id = "AKIDEXAMPLE";
	out->secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	out->session_token = NULL;
	*source = "test";
	return 0;
}

#endif
