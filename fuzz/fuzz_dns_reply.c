/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: DNS reply handling. The bytes are taken as a reply to a
 * TXT query, through the same entry the transport uses (dns_q_set_reply),
 * then read with every accessor the probes use: answers by type and owner,
 * the authority SOA, TXT joining and CAA parsing and evaluation.
 *   make fuzz FUZZ_SECONDS=60
 */
#include <stdint.h>
#include <stdlib.h>

#include "diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_server srv;
	diag_server_from_ip("192.0.2.1", 53, &srv);
	struct dns_q *q = dns_q_new(&srv, "_acme-challenge.example.test", LDNS_RR_TYPE_TXT,
	                            LDNS_RR_CLASS_IN, DNS_Q_RD);
	if (!q)
		return 0;
	if (dns_q_set_reply(q, data, size) == 0) {
		(void)dns_q_rcode(q);
		const ldns_rr *soa = dns_q_authority_soa(q);
		if (soa) {
			char *o = dns_name_str(ldns_rr_owner(soa));
			free(o);
		}
		const ldns_rr_type types[] = {LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_CAA,
		                              LDNS_RR_TYPE_SOA, LDNS_RR_TYPE_NS, LDNS_RR_TYPE_A};
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			ldns_rr_list *l = dns_q_answer(q, types[t], t % 2 ? NULL : "_acme-challenge.example.test");
			for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
				ldns_rr *rr = ldns_rr_list_rr(l, i);
				if (types[t] == LDNS_RR_TYPE_TXT) {
					free(dns_txt_joined(rr));
				} else if (types[t] == LDNS_RR_TYPE_CAA) {
					struct caa_record rec;
					char *tag = NULL, *val = NULL;
					if (diag_caa_from_rr(rr, &rec, &tag, &val) == 0) {
						struct caa_query cq = {"letsencrypt.org", NULL, "dns-01", 0};
						char why[300];
						(void)diag_caa_evaluate(&rec, 1, &cq, why, sizeof(why));
						free(tag);
						free(val);
					}
				} else if (ldns_rr_rd_count(rr) > 0) {
					free(dns_name_str(ldns_rr_rdf(rr, 0)));
				}
			}
			ldns_rr_list_deep_free(l);
		}
	}
	dns_q_free(q);
	return 0;
}
