/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: CAA. The bytes are a few records, each a flags byte, a
 * tag length byte, the tag, a value length byte and the value. They are
 * evaluated as Let's Encrypt would (diag_caa_evaluate for letsencrypt.org,
 * with and without an account URI, for several validation methods, for a
 * name and a wildcard); and each record is also made into a CAA RR, once
 * from its wire form through ldns (as a DNS answer is read) and once as
 * raw rdata, and read back with diag_caa_from_rr, then evaluated as a set.
 * Every decision becomes a finding as acme-dnscheck makes it (the deciding
 * sentence in the summary, the records in the evidence), and the report
 * must keep report_check.h's property.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "report_check.h"

#define MAX_RECS 8

static const struct caa_query queries[] = {
	{"letsencrypt.org", NULL, "dns-01", 0},
	{"letsencrypt.org", "https://acme-v02.api.letsencrypt.org/acme/acct/1", "http-01", 0},
	{"letsencrypt.org", NULL, "tls-alpn-01", 1},
	{"letsencrypt.org", "https://acme-v02.api.letsencrypt.org/acme/acct/1", "dns-01", 1},
};

static void decide(struct diag_report *r, const char *target, const struct caa_record *recs,
                   size_t n, const struct caa_query *q)
{
	char why[300];
	enum caa_result res = diag_caa_evaluate(recs, n, q, why, sizeof(why));
	struct diag_finding *f;
	if (res == CAA_ALLOWED) {
		f = diag_add(r, DIAG_OK, "dns.caa", target, "CAA at %s.: %s", target, why);
	} else if (res == CAA_UNKNOWN_ACCOUNT) {
		f = diag_add(r, DIAG_WARN, "dns.caa", target, "CAA at %s.: %s", target, why);
		diag_set_hint(f, "Pass --account-uri with your ACME account URL to check it.");
	} else {
		f = diag_add(r, DIAG_FAIL, "dns.caa", target, "CAA record for %s prevents issuance by %s: %s",
		             target, q->ca_domain, why);
		diag_set_hint(f, "Add a record such as %s. CAA 0 %s \"%s\".", target,
		              q->wildcard ? "issuewild" : "issue", q->ca_domain);
	}
	json_t *ev = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(ev, json_pack("{s:i, s:o, s:o}", "flags", recs[i].flags,
		                                    "tag", diag_json_str(recs[i].tag),
		                                    "value", diag_json_str(recs[i].value)));
	diag_evidence(f, "records", ev);
	diag_evidence(f, "method", diag_json_str(q->method));
	diag_evidence(f, "account_uri", diag_json_str(q->account_uri));
}

/* The RR "x. 300 IN CAA <rdata>" read from its wire form by ldns, or NULL
 * when ldns refuses it. */
static ldns_rr *rr_from_wire(const uint8_t *rdata, size_t len)
{
	uint8_t wire[3 + 10 + 600];
	static const uint8_t head[] = {1, 'x', 0, 1, 1, 0, 1, 0, 0, 1, 44};
	memcpy(wire, head, sizeof(head));
	wire[sizeof(head)] = (uint8_t)(len >> 8);
	wire[sizeof(head) + 1] = (uint8_t)len;
	memcpy(wire + sizeof(head) + 2, rdata, len);
	ldns_rr *rr = NULL;
	size_t pos = 0;
	if (ldns_wire2rr(&rr, wire, sizeof(head) + 2 + len, &pos, LDNS_SECTION_ANSWER) !=
	    LDNS_STATUS_OK)
		return NULL;
	return rr;
}

/* The same RR with the rdata as one rdf of unknown type. */
static ldns_rr *rr_raw(const uint8_t *rdata, size_t len)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *rd = len ? ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, len, rdata) : NULL;
	if (!rr || (len && !rd)) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(rd);
		abort();
	}
	ldns_rr_set_type(rr, LDNS_RR_TYPE_CAA);
	if (rd)
		ldns_rr_push_rdf(rr, rd);
	return rr;
}

/* Records read back from RRs: a finding for each, then the set decided. */
static void from_rrs(struct diag_report *r, const char *target, ldns_rr **rrs, size_t n)
{
	struct caa_record recs[MAX_RECS];
	char *tags[MAX_RECS], *vals[MAX_RECS];
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!rrs[i])
			continue;
		if (diag_caa_from_rr(rrs[i], &recs[m], &tags[m], &vals[m])) {
			diag_add(r, DIAG_ERROR, "dns.caa.record", target, "record %zu: malformed CAA rdata", i + 1);
			continue;
		}
		struct diag_finding *f = diag_add(r, DIAG_OK, "dns.caa.record", target, "record %zu: %u %s \"%s\"",
		                                  i + 1, recs[m].flags, recs[m].tag, recs[m].value);
		diag_evidence(f, "tag", diag_json_str(recs[m].tag));
		diag_evidence(f, "value", diag_json_str(recs[m].value));
		m++;
	}
	decide(r, target, recs, m, &queries[0]);
	for (size_t i = 0; i < m; i++) {
		free(tags[i]);
		free(vals[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct caa_record recs[MAX_RECS];
	char *tags[MAX_RECS], *vals[MAX_RECS];
	ldns_rr *wire[MAX_RECS], *raw[MAX_RECS];
	size_t n = 0, pos = 0;
	while (pos < size && n < MAX_RECS) {
		size_t start = pos;
		uint8_t flags = data[pos++];
		size_t tl = pos < size ? data[pos++] : 0;
		tl = tl < size - pos ? tl : size - pos;
		const uint8_t *tag = data + pos;
		pos += tl;
		size_t vl = pos < size ? data[pos++] : 0;
		vl = vl < size - pos ? vl : size - pos;
		const uint8_t *val = data + pos;
		pos += vl;
		/* the C strings a caller gives end at a NUL: the API's contract */
		tags[n] = strndup((const char *)tag, tl);
		vals[n] = strndup((const char *)val, vl);
		if (!tags[n] || !vals[n])
			abort();
		recs[n] = (struct caa_record){ flags, tags[n], vals[n] };
		/* rdata: flags, tag length, tag, value (the value length is not on the wire) */
		uint8_t rdata[2 + 255 + 255];
		rdata[0] = flags;
		rdata[1] = (uint8_t)tl;
		memcpy(rdata + 2, tag, tl);
		memcpy(rdata + 2 + tl, val, vl);
		wire[n] = rr_from_wire(rdata, 2 + tl + vl);
		raw[n] = rr_raw(data + start, pos - start);
		n++;
	}

	struct diag_report *r = diag_report_new("fuzz", "0", "example.com");
	if (!r)
		abort();
	for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++)
		decide(r, queries[q].wildcard ? "*.example.com" : "example.com", recs, n, &queries[q]);
	from_rrs(r, "wire.example.com", wire, n);
	from_rrs(r, "raw.example.com", raw, n);
	report_check(r);
	diag_report_free(r);
	for (size_t i = 0; i < n; i++) {
		free(tags[i]);
		free(vals[i]);
		ldns_rr_free(wire[i]);
		ldns_rr_free(raw[i]);
	}
	return 0;
}
