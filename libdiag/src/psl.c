/* SPDX-License-Identifier: ISC */
/* psl.c - registered domains and public suffixes through libpsl. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <libpsl.h>

#include "diag/psl.h"

/* The list, loaded once: the newer of libpsl's built-in copy and the
 * distribution's file. Immutable once loaded (a cache, not configuration);
 * it stays reachable until exit. */
static const psl_ctx_t *psl_list(void)
{
	static const psl_ctx_t *list;
	static psl_ctx_t *latest;
	if (!list) {
		latest = psl_latest(NULL);
		list = latest ? latest : psl_builtin();
	}
	return list;
}

/* name lower-cased, without a trailing dot, into buf; -1 when empty or too long. */
static int psl_lower(const char *name, char *buf, size_t len)
{
	size_t n = name ? strlen(name) : 0;
	if (n && name[n - 1] == '.')
		n--;
	if (!n || n >= len)
		return -1;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[n] = '\0';
	return 0;
}

static int psl_copy(char *out, size_t len, const char *s)
{
	return (size_t)snprintf(out, len, "%s", s) < len ? 0 : -1;
}

int diag_registered_domain(const char *name, char *out, size_t len)
{
	char low[256];
	unsigned char a[16];
	if (psl_lower(name, low, sizeof(low)))
		return -1;
	if (inet_pton(AF_INET, low, a) == 1)
		return psl_copy(out, len, low);
	if (inet_pton(AF_INET6, low, a) == 1) {
		char txt[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN + 4];
		memset(a + 8, 0, 8);
		inet_ntop(AF_INET6, a, txt, sizeof(txt));
		snprintf(net, sizeof(net), "%s/64", txt);
		return psl_copy(out, len, net);
	}
	const psl_ctx_t *l = psl_list();
	const char *reg = l ? psl_registrable_domain(l, low) : NULL;
	/* NULL: the name is a public suffix itself, which counts as itself */
	return psl_copy(out, len, reg ? reg : low);
}

int diag_icann_suffix(const char *name, char *out, size_t len)
{
	char low[256];
	const psl_ctx_t *l = psl_list();
	if (!l || psl_lower(name, low, sizeof(low)))
		return -1;
	/* the longest suffix first: the first the ICANN section names wins */
	for (const char *s = low; s; s = strchr(s, '.') ? strchr(s, '.') + 1 : NULL)
		if (*s && psl_is_public_suffix2(l, s, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE))
			return psl_copy(out, len, s);
	return -1;
}

int diag_special_use_name(const char *name)
{
	/* RFC 6761, 6762, 7686, 8375, 9476 (.alt), ICANN's .internal, and the
	 * suffixes home routers and corporate networks use */
	static const char *const special[] = {
		"test", "localhost", "invalid", "example", "local", "onion", "home.arpa", "alt",
		"internal", "lan", "home", "corp", "intranet", "private", "localdomain",
	};
	char low[256];
	if (psl_lower(name, low, sizeof(low)) || !strchr(low, '.'))
		return 1;
	size_t n = strlen(low);
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		size_t k = strlen(special[i]);
		if (n >= k && !strcmp(low + n - k, special[i]) && (n == k || low[n - k - 1] == '.'))
			return 1;
	}
	return 0;
}

void diag_psl_version(char *buf, size_t len)
{
	time_t t = psl_builtin_file_time();
	struct stat st;
	const char *dist = psl_dist_filename();
	if (dist && *dist && stat(dist, &st) == 0 && st.st_mtime > t)
		t = st.st_mtime;
	struct tm tm;
	char day[16] = "?";
	if (t > 0 && gmtime_r(&t, &tm))
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(buf, len, "libpsl %s, list %s", psl_get_version(), day);
}
