/* http: libcurl behind the agent's own interface. */
#include "config.h"

#include <stdio.h>

#include <curl/curl.h>

#include "http.h"

const char *
http_lib_version(void)
{
	static char buf[128];
	const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);

	snprintf(buf, sizeof(buf), "libcurl %s (%s)", info->version,
	    info->ssl_version != NULL ? info->ssl_version : "no TLS");
	return buf;
}
