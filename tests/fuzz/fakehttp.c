/* fakehttp: see fakehttp.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fakehttp.h"
#include "http.h"
#include "xalloc.h"

int __wrap_http_send(struct http_client *client, struct http_req *req,
    struct http_resp *resp, struct err *err);
int __wrap_http_send_retry(struct http_client *client, struct http_req *req,
    struct http_resp *resp, const struct retry_policy *policy,
    http_prepare_fn prepare, void *arg, struct err *err);
struct http_client *__wrap_http_client_new(
    const struct http_opts *opts, struct err *err);
void __wrap_http_client_free(struct http_client *client);
long long __wrap_clock_now_ms(void);
void __wrap_clock_sleep_ms(long long ms);

static const uint8_t *next_reply, *input_end;
static unsigned served;
static long long fake_now = 1700000000000LL;

void
fakehttp_load(const uint8_t *data, size_t size)
{
	next_reply = data;
	input_end = data + size;
	served = 0;
}

unsigned
fakehttp_served(void)
{
	return served;
}

/* No libcurl and no CA store: a client is a token. */
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

int
__wrap_http_send(struct http_client *client, struct http_req *req,
    struct http_resp *resp, struct err *err)
{
	const uint8_t *end, *p, *nl;
	long status = 0;

	(void)client;
	(void)req;
	http_resp_clear(resp);
	if (next_reply == NULL || next_reply >= input_end)
		return err_set(err, E_NETWORK, "fakehttp: no more replies");
	end =
	    memchr(next_reply, FAKEHTTP_SEP, (size_t)(input_end - next_reply));
	if (end == NULL)
		end = input_end;
	p = next_reply;
	next_reply = end < input_end ? end + 1 : input_end;
	served++;
	while (p < end && *p >= '0' && *p <= '9' && status < 1000)
		status = status * 10 + (*p++ - '0');
	resp->status = status;
	nl = memchr(p, '\n', (size_t)(end - p));
	p = nl != NULL ? nl + 1 : end;
	while (p < end && *p != '\n') {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		resp->headers = xreallocarray(
		    resp->headers, resp->nheaders + 1, sizeof(char *));
		resp->headers[resp->nheaders++] =
		    xstrndup((const char *)p, (size_t)(nl - p));
		p = nl < end ? nl + 1 : end;
	}
	if (p < end && *p == '\n')
		p++;
	resp->body_len = (size_t)(end - p);
	resp->body = xmalloc(resp->body_len + 1);
	memcpy(resp->body, p, resp->body_len);
	resp->body[resp->body_len] = '\0';
	return 0;
}

int
__wrap_http_send_retry(struct http_client *client, struct http_req *req,
    struct http_resp *resp, const struct retry_policy *policy,
    http_prepare_fn prepare, void *arg, struct err *err)
{
	(void)policy;
	if (prepare != NULL && prepare(req, 1, arg, err) < 0)
		return -1;
	return __wrap_http_send(client, req, resp, err);
}

long long
__wrap_clock_now_ms(void)
{
	return fake_now;
}

void
__wrap_clock_sleep_ms(long long ms)
{
	if (ms > 0)
		fake_now += ms;
}
