/* SPDX-License-Identifier: ISC */
/* caa.c - CAA issue/issuewild evaluation with RFC 8657 parameters. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "diag/caa.h"
#include "diag/dns.h"

#define MAX_PARAMS 16

struct caa_param {
	char tag[64];
	char value[512];
};

struct caa_value {
	char issuer[256];  /* empty: ";" alone, which forbids issuance */
	struct caa_param params[MAX_PARAMS];
	size_t nparams;
};

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* RFC 8659 section 4.2: [issuer-domain-name] *(";" tag "=" value).
 * Returns -1 if malformed (such a record can never be satisfied). */
static int parse_value(const char *s, struct caa_value *v)
{
	memset(v, 0, sizeof(*v));
	const char *p = skip_ws(s);
	size_t n = 0;
	while (*p && *p != ';' && *p != ' ' && *p != '\t') {
		unsigned char c = (unsigned char)*p;
		if (!(isalnum(c) || c == '-' || c == '.'))
			return -1;
		if (n + 1 >= sizeof(v->issuer))
			return -1;
		v->issuer[n++] = (char)tolower(c);
		p++;
	}
	p = skip_ws(p);
	while (*p) {
		if (*p != ';')
			return -1;
		p = skip_ws(p + 1);
		if (!*p)
			break;  /* trailing ';' */
		if (v->nparams == MAX_PARAMS)
			return -1;
		struct caa_param *pa = &v->params[v->nparams++];
		size_t t = 0;
		while (isalnum((unsigned char)*p)) {
			if (t + 1 >= sizeof(pa->tag))
				return -1;
			pa->tag[t++] = *p++;
		}
		if (t == 0)
			return -1;
		p = skip_ws(p);
		if (*p != '=')
			return -1;
		p = skip_ws(p + 1);
		size_t k = 0;
		while (*p && *p != ';' && *p != ' ' && *p != '\t') {
			unsigned char c = (unsigned char)*p;
			if (c < 0x21 || c > 0x7e)
				return -1;
			if (k + 1 >= sizeof(pa->value))
				return -1;
			pa->value[k++] = *p++;
		}
		p = skip_ws(p);
	}
	return 0;
}

static int is_known_tag(const char *tag)
{
	static const char *known[] = {"issue", "issuewild", "iodef", "issuemail", "issuevmc"};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcasecmp(tag, known[i]))
			return 1;
	return 0;
}

/* Does validationmethods=a,b,c contain method? */
static int method_listed(const char *list, const char *method)
{
	const char *p = list;
	size_t m = strlen(method);
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == m && !strncmp(p, method, m))
			return 1;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

enum caa_result diag_caa_evaluate(const struct caa_record *recs, size_t n,
                                  const struct caa_query *q,
                                  char *why, size_t whylen)
{
	/* An unknown critical tag denies (Boulder treats flag bits 128 and 1 as critical). */
	for (size_t i = 0; i < n; i++) {
		if ((recs[i].flags & 0x81) && !is_known_tag(recs[i].tag)) {
			snprintf(why, whylen, "unknown critical tag \"%s\" (flags %u) forbids issuance",
			         recs[i].tag, recs[i].flags);
			return CAA_DENIED;
		}
	}
	int have_issuewild = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(recs[i].tag, "issuewild"))
			have_issuewild = 1;
	const char *tag = (q->wildcard && have_issuewild) ? "issuewild" : "issue";

	size_t relevant = 0;
	int unknown_account = 0;
	char last[200] = "", acct_msg[200] = "";
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(recs[i].tag, tag))
			continue;
		relevant++;
		struct caa_value v;
		if (parse_value(recs[i].value, &v)) {
			snprintf(last, sizeof(last), "record %s \"%.80s\" is malformed and ignored",
			         tag, recs[i].value);
			continue;
		}
		if (strcasecmp(v.issuer, q->ca_domain)) {
			snprintf(last, sizeof(last), "%s \"%.80s\" names %s, not %s", tag,
			         recs[i].value, v.issuer[0] ? v.issuer : "no CA (\";\")", q->ca_domain);
			continue;
		}
		int dup = 0, ok = 1, acct_unknown = 0;
		const char *acct = NULL, *methods = NULL;
		for (size_t k = 0; k < v.nparams; k++) {
			const char *t = v.params[k].tag;
			if (!strcasecmp(t, "accounturi")) {
				dup |= acct != NULL;
				acct = v.params[k].value;
			} else if (!strcasecmp(t, "validationmethods")) {
				dup |= methods != NULL;
				methods = v.params[k].value;
			}
		}
		if (dup) {
			snprintf(last, sizeof(last), "%s \"%.80s\" repeats a parameter and can never match",
			         tag, recs[i].value);
			continue;
		}
		if (methods && !method_listed(methods, q->method)) {
			snprintf(last, sizeof(last), "%s \"%.80s\" allows only validationmethods=%s, not %s",
			         tag, recs[i].value, methods, q->method);
			ok = 0;
		}
		if (ok && acct) {
			if (!q->account_uri) {
				acct_unknown = 1;
			} else if (strcmp(acct, q->account_uri)) {
				snprintf(last, sizeof(last), "%s \"%.80s\" is bound to accounturi %s, not %s",
				         tag, recs[i].value, acct, q->account_uri);
				ok = 0;
			}
		}
		if (!ok)
			continue;
		if (acct_unknown) {
			unknown_account = 1;
			snprintf(acct_msg, sizeof(acct_msg), "%s \"%.80s\" permits %s only for account %s",
			         tag, recs[i].value, q->ca_domain, acct);
			continue;
		}
		snprintf(why, whylen, "%s \"%.120s\" permits %s", tag, recs[i].value, q->ca_domain);
		return CAA_ALLOWED;
	}
	if (relevant == 0) {
		snprintf(why, whylen, "no %s records: any CA may issue", tag);
		return CAA_ALLOWED;
	}
	if (unknown_account) {
		snprintf(why, whylen, "%s", acct_msg);
		return CAA_UNKNOWN_ACCOUNT;
	}
	snprintf(why, whylen, "%s", last);
	return CAA_DENIED;
}

/* Read a CAA RR into rec; strings are malloc'd into tag/value. */
int diag_caa_from_rr(const ldns_rr *rr, struct caa_record *rec, char **tag, char **value)
{
	/* Work on the wire form of the rdata: flags, tag length, tag, value. */
	uint8_t buf[4096];
	size_t len = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rd = ldns_rr_rdf(rr, i);
		size_t sz = ldns_rdf_size(rd);
		if (len + sz > sizeof(buf))
			return -1;
		memcpy(buf + len, ldns_rdf_data(rd), sz);
		len += sz;
	}
	if (len < 2 || buf[1] == 0 || (size_t)buf[1] + 2 > len)
		return -1;
	rec->flags = buf[0];
	/* A NUL inside the tag or value is kept, written \x00 (dns_txt_escape),
	 * so that "issue\0x" is not read as "issue" nor "ca.example\0x" as
	 * "ca.example": the CA compares every byte. */
	*tag = dns_txt_escape(buf + 2, buf[1]);
	*value = dns_txt_escape(buf + 2 + buf[1], len - 2 - buf[1]);
	if (!*tag || !*value) {
		free(*tag);
		free(*value);
		return -1;
	}
	rec->tag = *tag;
	rec->value = *value;
	return 0;
}

