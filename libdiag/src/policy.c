/* SPDX-License-Identifier: ISC */
/* policy.c - the CA's identifier policy, checked before any probe. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "diag/dns.h"
#include "diag/policy.h"

#define ACME_CHALLENGE_PREFIX "_acme-challenge."

/* Boulder's validDomain, in its order: the reason the CA gives, or NULL. */
static const char *boulder_reason(const char *name)
{
	size_t n = strlen(name);
	if (!n)
		return "Domain name is empty";
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != n)
		return "Domain name contains an invalid character";
	if (n > 253)
		return "Domain name is longer than 253 bytes";
	unsigned char b[16];
	if (inet_pton(AF_INET, name, b) == 1 || inet_pton(AF_INET6, name, b) == 1)
		return "The ACME server can not issue a certificate for an IP address";
	if (name[n - 1] == '.')
		return "Domain name ends in a dot";
	size_t labels = 1;
	for (const char *p = name; *p; p++)
		labels += *p == '.';
	if (labels > 10)
		return "Domain name has more than 10 labels (parts)";
	if (labels < 2)
		return "Domain name needs at least one dot";
	for (const char *l = name; l;) {
		const char *dot = strchr(l, '.');
		size_t len = dot ? (size_t)(dot - l) : strlen(l);
		if (len < 1)
			return "Domain name can not have two dots in a row";
		if (len > 63)
			return "Domain has a label (component between dots) longer than 63 bytes";
		for (size_t i = 0; i < len; i++)
			if (l[i] >= 'A' && l[i] <= 'Z')
				return "Domain name contains an invalid character";
		if (l[0] == '-' || l[len - 1] == '-')
			return "Domain name contains an invalid character";
		if (len >= 4 && l[2] == '-' && l[3] == '-' && strncmp(l, "xn", 2))
			return "Domain name contains an invalid label in a reserved format (R-LDH: '?""?--')";
		l = dot ? dot + 1 : NULL;
	}
	return NULL;
}

/* What any CA refuses (RFC 1035 limits, RFC 8555 identifiers) and Pebble
 * checks: the reason, or NULL. */
static const char *any_ca_reason(const char *name)
{
	size_t n = strlen(name);
	unsigned char b[16];
	if (!n)
		return "the name is empty";
	if (n > 253)
		return "the name is longer than 253 bytes, the most DNS allows";
	if (inet_pton(AF_INET, name, b) == 1 || inet_pton(AF_INET6, name, b) == 1)
		return "an IP address is not a DNS identifier (it is an \"ip\" identifier, RFC 8738, "
		       "which only some CAs take)";
	return NULL;
}

int diag_identifier_check(struct diag_report *r, const char *name, int wildcard,
                          enum http01_profile profile, const char *method)
{
	int le = profile == HTTP01_LETSENCRYPT;
	const char *ca = le ? "Let's Encrypt" : profile == HTTP01_PEBBLE ? "Pebble" : "the CA";
	const char *why = le && wildcard && !strchr(name, '.')
	                  ? "Domain name is a wildcard for an ICANN TLD"
	                  : le ? boulder_reason(name) : any_ca_reason(name);
	size_t n = strlen(name);
	struct diag_finding *f;
	char shown[300];
	snprintf(shown, sizeof(shown), "%s%s", wildcard ? "*." : "", name);
	if (why) {
		f = diag_add(r, DIAG_FAIL, "acme.identifier", shown, le
		             ? "%s refuses the name when the order is made: Cannot issue for \"%s\": %s"
		             : "%s refuses the name when the order is made: %s", ca,
		             le ? shown : why, le ? why : "");
		if (!f)
			return -1;
		unsigned char ip[16];
		int is_ip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
		if (is_ip)
			diag_set_hint(f, "A certificate for an IP address is asked for with an \"ip\" "
			              "identifier (RFC 8738), which few CAs issue, never as a DNS name. "
			              "Use a DNS name that resolves to it.");
		else
			diag_set_hint(f, "No check can make this name issuable: %s. Ask for a name the CA "
			              "takes (letters, digits and hyphens, at most 253 bytes and %s).",
			              strchr(name, '_') ? "an underscore is not allowed in a certificate "
			              "name (the Baseline Requirements forbid it)"
			              : "the CA rejects the order itself",
			              le ? "10 labels, under a public suffix" : "63 bytes a label");
		diag_evidence(f, "profile", json_string(diag_http01_profile_name(profile)));
		return 1;
	}
	/* DNS-01 asks for _acme-challenge.NAME: past 253 bytes no CA can. */
	if (method && !strcmp(method, "dns-01") && n + strlen(ACME_CHALLENGE_PREFIX) > 253) {
		f = diag_add(r, DIAG_FAIL, "acme.identifier", shown,
		             "_acme-challenge.%s is %zu bytes, over the 253 DNS allows: no CA can look "
		             "up a DNS-01 record for this name", name, n + strlen(ACME_CHALLENGE_PREFIX));
		if (!f)
			return -1;
		diag_set_hint(f, "Use HTTP-01 or TLS-ALPN-01 for this name, or a name of at most %zu "
		              "bytes.", (size_t)253 - strlen(ACME_CHALLENGE_PREFIX));
		return 1;
	}
	if (!le && strchr(name, '_')) {
		f = diag_add(r, DIAG_WARN, "acme.identifier", shown,
		             "a name with an underscore: public CAs refuse it (the Baseline Requirements "
		             "forbid it in certificates); %s may take it", ca);
		return f ? 0 : -1;
	}
	if (le && !diag_public_tld(name)) {
		f = diag_add(r, DIAG_SKIP, "acme.identifier", shown,
		             "a special-use name: only a private CA issues for it; Let's Encrypt would "
		             "refuse it (\"Domain name does not end with a valid public suffix (TLD)\")");
		return f ? 0 : -1;
	}
	f = diag_add(r, DIAG_OK, "acme.identifier", shown, "a name %s accepts as an identifier", ca);
	if (f)
		diag_evidence(f, "profile", json_string(diag_http01_profile_name(profile)));
	return f ? 0 : -1;
}
