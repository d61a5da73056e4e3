/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: DNS reply handling. The bytes are taken as a reply to a
 * TXT query, through the same entry the transport uses (dns_q_set_reply),
 * then read with every accessor the probes use: answers by type and owner,
 * the authority SOA, TXT joining and CAA parsing and evaluation. What was
 * read becomes findings as the probes make them (a TXT value, a CAA
 * decision, a name from the rdata in the summary and the evidence), and the
 * report must keep report_check.h's property.
 *   make fuzz FUZZ_SECONDS=60
 */
#include <stdint.h>
#include <stdlib.h>

#include "diag.h"
#include "report_check.h"

static const char *const caa_results[] = {"allowed", "denied", "unknown account"};

static void read_rr(struct diag_report *r, ldns_rr_type type, ldns_rr *rr)
{
	char *owner = dns_name_str(ldns_rr_owner(rr));
	const char *target = owner ? owner : "?";
	struct diag_finding *f = NULL;
	if (type == LDNS_RR_TYPE_TXT) {
		char *v = dns_txt_joined(rr);
		f = diag_add(r, v ? DIAG_OK : DIAG_WARN, "dns01.txt", target, "%s. has \"%s\"", target,
		             v ? v : "");
		diag_evidence(f, "values", json_pack("[o]", diag_json_str(v)));
		free(v);
	} else if (type == LDNS_RR_TYPE_CAA) {
		struct caa_record rec;
		char *tag = NULL, *val = NULL;
		if (diag_caa_from_rr(rr, &rec, &tag, &val) == 0) {
			struct caa_query cq = {"letsencrypt.org", NULL, "dns-01", 0};
			char why[300];
			enum caa_result res = diag_caa_evaluate(&rec, 1, &cq, why, sizeof(why));
			f = diag_add(r, res == CAA_ALLOWED ? DIAG_OK : res == CAA_DENIED ? DIAG_FAIL : DIAG_WARN,
			             "dns.caa", target, "CAA at %s.: %s", target, why);
			diag_set_hint(f, "Add a record such as %s. CAA 0 issue \"letsencrypt.org\"", target);
			diag_evidence(f, "records", json_pack("[{s:i, s:o, s:o}]", "flags", rec.flags,
			                                      "tag", diag_json_str(rec.tag),
			                                      "value", diag_json_str(rec.value)));
			diag_evidence(f, "result", json_string(caa_results[res]));
			free(tag);
			free(val);
		} else {
			f = diag_add(r, DIAG_ERROR, "dns.caa", target, "malformed CAA record at %s.", target);
		}
	} else if (ldns_rr_rd_count(rr) > 0) {
		char *name = dns_name_str(ldns_rr_rdf(rr, 0));
		f = diag_add(r, DIAG_OK, "dns.rr", target, "%s. points to %s", target, name ? name : "?");
		diag_evidence(f, "name", diag_json_str(name));
		free(name);
	}
	free(owner);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_server srv;
	diag_server_from_ip("192.0.2.1", 53, &srv);
	struct dns_q *q = dns_q_new(&srv, "_acme-challenge.example.test", LDNS_RR_TYPE_TXT,
	                            LDNS_RR_CLASS_IN, DNS_Q_RD);
	struct diag_report *r = diag_report_new("fuzz", "0", "_acme-challenge.example.test");
	if (!q || !r)
		abort();
	if (dns_q_set_reply(q, data, size) == 0) {
		struct diag_finding *f = diag_add(r, DIAG_OK, "dns.rcode", srv.label, "rcode %d",
		                                  dns_q_rcode(q));
		const ldns_rr *soa = dns_q_authority_soa(q);
		if (soa) {
			char *o = dns_name_str(ldns_rr_owner(soa));
			diag_evidence(f, "soa", diag_json_str(o));
			free(o);
		}
		const ldns_rr_type types[] = {LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_CAA,
		                              LDNS_RR_TYPE_SOA, LDNS_RR_TYPE_NS, LDNS_RR_TYPE_A};
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			ldns_rr_list *l = dns_q_answer(q, types[t], t % 2 ? NULL : "_acme-challenge.example.test");
			for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++)
				read_rr(r, types[t], ldns_rr_list_rr(l, i));
			ldns_rr_list_deep_free(l);
		}
	}
	report_check(r);
	diag_report_free(r);
	dns_q_free(q);
	return 0;
}
