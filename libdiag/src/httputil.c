/* httputil.c - HTTP header lines. */
#include <string.h>
#include <strings.h>

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
