/*
 * fakehttp: the HTTP replies of a fuzz input, served to the module under
 * test through -Wl,--wrap=http_send,--wrap=http_send_retry (and a clock
 * that only moves when slept on: --wrap=clock_now_ms,--wrap=clock_sleep_ms;
 * and clients without libcurl: --wrap=http_client_new,http_client_free).
 *
 * The input is a list of replies separated by the byte 0x1e; each reply is
 * "STATUS\n", header lines "Name: value\n", an empty line, then the body
 * (a reply without the empty line is all headers).  When the list runs out
 * a request fails in transport (E_NETWORK).
 */
#ifndef CDAGENT_FAKEHTTP_H
#define CDAGENT_FAKEHTTP_H

#include <stddef.h>
#include <stdint.h>

#define FAKEHTTP_SEP '\x1e'

/* Serve these replies, in order, from now on (data must outlive them). */
void fakehttp_load(const uint8_t *data, size_t size);
/* How many requests were answered since the last fakehttp_load(). */
unsigned fakehttp_served(void);

#endif
