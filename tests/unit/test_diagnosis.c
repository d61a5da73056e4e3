/* SPDX-License-Identifier: ISC */
/* Unit tests: the diagnosis picks root causes, orders them causally and
 * lists what each explains; nothing that is not ok is left out. The
 * findings are shaped as the probes make them (ids, targets, evidence);
 * the lab tests check the same with the real probes (doctor.t). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"

static struct diag_finding *add(struct diag_report *r, enum diag_status st, const char *id,
                                const char *target)
{
	struct diag_finding *f = diag_add(r, st, id, target, "%s at %s", id, target);
	diag_set_hint(f, "fix %s", id);
	return f;
}

static const struct diag_cause *cause(const struct diag_diagnosis *d, const char *id)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].root->id, id))
			return &d->v[i];
	return NULL;
}

static int explains(const struct diag_cause *c, const char *id, const char *target)
{
	for (size_t i = 0; c && i < c->nexplains; i++)
		if (!strcmp(c->explains[i]->id, id) && !strcmp(c->explains[i]->target, target))
			return 1;
	return 0;
}

/* Every finding that is not ok is a cause or explained by exactly one. */
static void assert_covers(const struct diag_report *r, const struct diag_diagnosis *d)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct diag_finding *f = r->v[i];
		if (f->status == DIAG_OK || f->status == DIAG_SKIP)
			continue;
		int seen = 0;
		for (size_t k = 0; k < d->n; k++) {
			seen += d->v[k].root == f;
			for (size_t e = 0; e < d->v[k].nexplains; e++)
				seen += d->v[k].explains[e] == f;
		}
		assert_int_equal(seen, 1);
	}
}

/* A filtering resolver explains the failed SOA walk through it; the walk
 * is listed first in the report but comes second causally. */
static void filtering_resolver_first(void **state)
{
	(void)state;
	struct diag_report *root = diag_report_new("t", "1", "a.test");
	struct diag_report *a = diag_report_view(root, "a.test");
	add(a, DIAG_FAIL, "dns.zone.soa", "192.0.2.11");
	add(a, DIAG_OK, "dns.zone", "_acme-challenge.a.test");
	add(root, DIAG_FAIL, "dns.resolver.soa-filtered", "192.0.2.11");
	add(root, DIAG_WARN, "clock.skew", "https://ca/dir");
	struct diag_diagnosis *d = diag_diagnose(root);
	assert_non_null(d);
	assert_int_equal(d->n, 2);
	assert_string_equal(d->v[0].root->id, "dns.resolver.soa-filtered");
	assert_int_equal(d->v[0].actor, DIAG_ACTOR_CLIENT);
	assert_true(explains(&d->v[0], "dns.zone.soa", "192.0.2.11"));
	assert_string_equal(d->v[1].root->id, "clock.skew");
	assert_covers(root, d);
	json_t *j = diag_diagnosis_json(d);
	assert_int_equal(json_array_size(j), 2);
	json_t *c0 = json_array_get(j, 0);
	assert_string_equal(json_string_value(json_object_get(c0, "actor")), "client");
	assert_string_equal(json_string_value(json_object_get(c0, "hint")), "fix dns.resolver.soa-filtered");
	assert_int_equal(json_array_size(json_object_get(c0, "explains")), 1);
	json_decref(j);
	struct diag_render_opts o = {0};
	char *s = diag_diagnosis_text(d, &o);
	assert_non_null(strstr(s, " 1. a resolver filters SOA queries"));
	assert_non_null(strstr(s, "explains: dns.zone.soa 192.0.2.11"));
	assert_non_null(strstr(s, "fix: fix dns.resolver.soa-filtered"));
	free(s);
	diag_diagnosis_free(d);
	diag_report_free(a);
	diag_report_free(root);
}

/* A dead IPv6 path explains the CA's fallback warning and the disagreement
 * between addresses; an IPv4 address that fails on its own is its own cause. */
static void dead_ipv6_path(void **state)
{
	(void)state;
	struct diag_report *root = diag_report_new("t", "1", "w.test");
	struct diag_report *w = diag_report_view(root, "w.test");
	add(w, DIAG_OK, "http01.dns", "w.test");
	struct diag_finding *v6 = add(w, DIAG_WARN, "http01.addr", "2001:db8:dead::80");
	diag_evidence(v6, "family", json_string("ipv6"));
	diag_evidence(v6, "connect_stage_error", json_true());
	add(w, DIAG_WARN, "http01.consistency", "w.test");
	add(w, DIAG_WARN, "http01.ca", "w.test");
	struct diag_diagnosis *d = diag_diagnose(root);
	assert_int_equal(d->n, 1);
	assert_string_equal(d->v[0].root->target, "2001:db8:dead::80");
	assert_non_null(strstr(d->v[0].title, "IPv6"));
	assert_true(explains(&d->v[0], "http01.ca", "w.test"));
	assert_true(explains(&d->v[0], "http01.consistency", "w.test"));
	assert_covers(root, d);
	diag_diagnosis_free(d);
	diag_report_free(w);
	diag_report_free(root);
}

/* TLS-ALPN-01 has the same shape: an IPv6 address that refuses acme-tls/1
 * explains the CA's view and the disagreement, not HTTP-01's findings of
 * the same name; no address explains only its own area. */
static void tlsalpn_addresses(void **state)
{
	(void)state;
	struct diag_report *root = diag_report_new("t", "1", "w.test");
	struct diag_report *w = diag_report_view(root, "w.test");
	struct diag_finding *v6 = add(w, DIAG_FAIL, "tlsalpn01.addr", "2001:db8::80");
	diag_evidence(v6, "family", json_string("ipv6"));
	diag_evidence(v6, "connect_stage_error", json_false());
	add(w, DIAG_WARN, "tlsalpn01.consistency", "w.test");
	add(w, DIAG_FAIL, "tlsalpn01.ca", "w.test");
	add(w, DIAG_FAIL, "http01.ca", "w.test");
	struct diag_report *x = diag_report_view(root, "x.test");
	add(x, DIAG_FAIL, "tlsalpn01.dns", "x.test");
	add(x, DIAG_FAIL, "tlsalpn01.ca", "x.test");
	struct diag_diagnosis *d = diag_diagnose(root);
	const struct diag_cause *addr = cause(d, "tlsalpn01.addr"), *dns = cause(d, "tlsalpn01.dns");
	assert_non_null(addr);
	assert_non_null(dns);
	assert_non_null(strstr(addr->title, "acme-tls/1"));  /* not a connect error: not the IPv6 path */
	assert_true(explains(addr, "tlsalpn01.ca", "w.test"));
	assert_true(explains(addr, "tlsalpn01.consistency", "w.test"));
	assert_false(explains(addr, "http01.ca", "w.test"));
	assert_true(explains(dns, "tlsalpn01.ca", "x.test"));
	assert_non_null(cause(d, "http01.ca"));
	assert_covers(root, d);
	diag_diagnosis_free(d);
	diag_report_free(w);
	diag_report_free(x);
	diag_report_free(root);
}

/* A lagging secondary explains the TXT missing there; a dead server
 * explains its own TXT failure; both come before the missing TXT. */
static void lagging_and_dead_servers(void **state)
{
	(void)state;
	struct diag_report *root = diag_report_new("t", "1", "m.test");
	struct diag_report *m = diag_report_view(root, "m.test");
	struct diag_finding *t1 = add(m, DIAG_FAIL, "dns01.txt", "192.0.2.54");
	diag_evidence(t1, "role", json_string("authoritative"));
	struct diag_finding *t2 = add(m, DIAG_FAIL, "dns01.txt", "192.0.2.99");
	diag_evidence(t2, "role", json_string("authoritative"));
	add(m, DIAG_FAIL, "dns.auth.server", "192.0.2.99");
	struct diag_finding *ser = add(m, DIAG_WARN, "dns.auth.serial", "m.test");
	diag_evidence(ser, "lagging", json_pack("[s]", "ns2.lab.test (192.0.2.54) 2026112201"));
	struct diag_diagnosis *d = diag_diagnose(root);
	assert_int_equal(d->n, 2);
	assert_string_equal(d->v[0].root->id, "dns.auth.server");
	assert_true(explains(&d->v[0], "dns01.txt", "192.0.2.99"));
	assert_string_equal(d->v[1].root->id, "dns.auth.serial");
	assert_true(explains(&d->v[1], "dns01.txt", "192.0.2.54"));
	assert_covers(root, d);
	diag_diagnosis_free(d);
	diag_report_free(m);
	diag_report_free(root);
}

/* Names do not explain each other's findings; an unknown id is still a
 * cause (nothing hidden); ok and skip are never causes. */
static void per_name_and_fallback(void **state)
{
	(void)state;
	struct diag_report *root = diag_report_new("t", "1", "a.test b.test");
	struct diag_report *a = diag_report_view(root, "a.test"), *b = diag_report_view(root, "b.test");
	add(a, DIAG_FAIL, "dns.zone", "_acme-challenge.a.test");
	add(a, DIAG_FAIL, "dns.caa", "a.test");
	add(b, DIAG_FAIL, "dns.caa", "b.test");
	add(root, DIAG_ERROR, "something.new", "x");
	add(root, DIAG_SKIP, "dns.resolver.tcp", "192.0.2.1");
	add(root, DIAG_OK, "acme.directory", "https://ca/dir");
	struct diag_diagnosis *d = diag_diagnose(root);
	assert_int_equal(d->n, 3);
	assert_string_equal(d->v[0].root->id, "dns.zone");
	assert_true(explains(&d->v[0], "dns.caa", "a.test"));
	assert_false(explains(&d->v[0], "dns.caa", "b.test"));
	assert_string_equal(d->v[1].root->id, "dns.caa");
	assert_string_equal(d->v[1].root->domain, "b.test");
	assert_non_null(cause(d, "something.new"));
	assert_int_equal(cause(d, "something.new")->actor, DIAG_ACTOR_UNKNOWN);
	assert_covers(root, d);
	diag_diagnosis_free(d);
	diag_report_free(a);
	diag_report_free(b);
	diag_report_free(root);
	/* an all-ok report: no cause, and the text says so */
	root = diag_report_new("t", "1", "c.test");
	add(root, DIAG_OK, "dns.zone", "x");
	d = diag_diagnose(root);
	assert_int_equal(d->n, 0);
	struct diag_render_opts o = {0};
	char *s = diag_diagnosis_text(d, &o);
	assert_non_null(strstr(s, "nothing to fix"));
	free(s);
	diag_diagnosis_free(d);
	diag_report_free(root);
}

/* A directory that cannot be reached explains the clock that could not be
 * measured against it; a cause that makes issuance fail comes before a
 * warning that explains nothing else. */
static void unreachable_directory(void **state)
{
	(void)state;
	struct diag_report *r = diag_report_new("t", "1", "x");
	add(r, DIAG_WARN, "acme.key.file", "/k.pem");
	add(r, DIAG_ERROR, "clock.source", "https://ca/dir");
	add(r, DIAG_ERROR, "acme.directory", "https://ca/dir");
	add(r, DIAG_OK, "clock.skew", "192.0.2.123");
	struct diag_diagnosis *d = diag_diagnose(r);
	assert_int_equal(d->n, 2);
	assert_string_equal(d->v[0].root->id, "acme.directory");
	assert_int_equal(d->v[0].impact, DIAG_ERROR);
	assert_true(explains(&d->v[0], "clock.source", "https://ca/dir"));
	assert_string_equal(d->v[1].root->id, "acme.key.file");
	assert_covers(r, d);
	diag_diagnosis_free(d);
	diag_report_free(r);
}

/* A CNAME loop explains the SOA walk a resolver gives up on (SERVFAIL on
 * the looping name), though resolvers come first otherwise. */
static void cname_loop_first(void **state)
{
	(void)state;
	struct diag_report *root = diag_report_new("t", "1", "l.test");
	struct diag_report *l = diag_report_view(root, "l.test");
	struct diag_finding *w = add(l, DIAG_FAIL, "dns.zone.soa", "192.0.2.21");
	diag_evidence(w, "walk", json_string("error"));
	add(l, DIAG_FAIL, "dns01.cname", "_acme-challenge.l.test");
	struct diag_diagnosis *d = diag_diagnose(root);
	assert_int_equal(d->n, 1);
	assert_string_equal(d->v[0].root->id, "dns01.cname");
	assert_true(explains(&d->v[0], "dns.zone.soa", "192.0.2.21"));
	diag_diagnosis_free(d);
	diag_report_free(l);
	diag_report_free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filtering_resolver_first),
		cmocka_unit_test(dead_ipv6_path),
		cmocka_unit_test(tlsalpn_addresses),
		cmocka_unit_test(lagging_and_dead_servers),
		cmocka_unit_test(per_name_and_fallback),
		cmocka_unit_test(unreachable_directory),
		cmocka_unit_test(cname_loop_first),
	};
	return cmocka_run_group_tests_name("diagnosis", tests, NULL, NULL);
}
