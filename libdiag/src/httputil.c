/* SPDX-License-Identifier: ISC */
/* httputil.c - HTTP header lines and URL origins. */
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "httputil.h"

int diag_http_header(const char *data, size_t len, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);
	if (len <= n || data[n] != ':' || strncasecmp(data, name, n))
		return 0;
	const char *v = data + n + 1;
	size_t k = len - n - 1;
	while (k && (*v == ' ' || *v == '\t'))
		v++, k--;
	while (k && (v[k - 1] == '\r' || v[k - 1] == '\n' || v[k - 1] == ' ' || v[k - 1] == '\t'))
		k--;
	if (outlen == 0)
		return 1;
	if (k >= outlen)
		k = outlen - 1;
	memcpy(out, v, k);
	out[k] = '\0';
	return 1;
}

/* scheme, host and port (the scheme's default when none is written) of url. */
static int url_origin(const char *url, char **scheme, char **host, char **port)
{
	*scheme = *host = *port = NULL;
	CURLU *u = url ? curl_url() : NULL;
	int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	         curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
	         curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
	         curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
	curl_url_cleanup(u);
	return ok ? 0 : -1;
}

int diag_url_same_origin(const char *a, const char *b)
{
	char *sa, *ha, *pa, *sb, *hb, *pb;
	int ra = url_origin(a, &sa, &ha, &pa), rb = url_origin(b, &sb, &hb, &pb);
	int same = !ra && !rb && !strcasecmp(sa, sb) && !strcasecmp(ha, hb) && !strcmp(pa, pb);
	curl_free(sa);
	curl_free(ha);
	curl_free(pa);
	curl_free(sb);
	curl_free(hb);
	curl_free(pb);
	return same;
}
