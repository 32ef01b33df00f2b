/*
 * http: the agent's HTTP client.  The only module that includes <curl/curl.h>.
 */
#ifndef CDAGENT_HTTP_H
#define CDAGENT_HTTP_H

/* "libcurl 7.88.1 (OpenSSL/3.0.11)": the linked libcurl and its TLS backend. */
const char *http_lib_version(void);

#endif
