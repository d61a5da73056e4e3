/* SPDX-License-Identifier: ISC */
/* Unit tests: server and domain parsing, TXT joining, the DNS-01 digest. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "diag.h"
#include "loopback.h"

static void server_forms(void **state)
{
	(void)state;
	struct diag_server s;
	char err[160];
	assert_int_equal(diag_server_parse("192.0.2.1", 0, &s, err, sizeof(err)), 0);
	assert_string_equal(s.label, "192.0.2.1");
	assert_int_equal(s.port, 53);
	assert_int_equal(diag_server_parse("192.0.2.1:5353", 0, &s, err, sizeof(err)), 0);
	assert_string_equal(s.label, "192.0.2.1:5353");
	assert_int_equal(s.port, 5353);
	assert_int_equal(diag_server_parse("[2001:db8::1]:8053", 0, &s, err, sizeof(err)), 0);
	assert_string_equal(s.label, "[2001:db8::1]:8053");
	assert_string_equal(s.ip, "2001:db8::1");
	assert_int_equal(diag_server_parse("2001:db8::1", 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.family, AF_INET6);
	assert_int_equal(diag_server_parse("[2001:db8::1]", 6, &s, err, sizeof(err)), 0);
}

static void server_errors(void **state)
{
	(void)state;
	struct diag_server s;
	char err[160];
	assert_int_equal(diag_server_parse("192.0.2.1:99999", 0, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "port out of range"));
	assert_int_equal(diag_server_parse("192.0.2.1:0", 0, &s, err, sizeof(err)), -1);
	assert_int_equal(diag_server_parse("192.0.2.1:5x", 0, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a number"));
	assert_int_equal(diag_server_parse("[2001:db8::1", 0, &s, err, sizeof(err)), -1);
	assert_int_equal(diag_server_parse("[192.0.2.1]:53", 0, &s, err, sizeof(err)), -1);
	assert_int_equal(diag_server_parse("", 0, &s, err, sizeof(err)), -1);
	assert_int_equal(diag_server_parse("192.0.2.1", 6, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "-6"));
	assert_int_equal(diag_server_parse("no-such-host.invalid", 0, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot resolve"));
}

static void domain_names(void **state)
{
	(void)state;
	char out[256], err[160];
	int wild = -1;
	assert_int_equal(diag_domain_normalize("WWW.Example.COM.", out, sizeof(out), &wild, err, sizeof(err)), 0);
	assert_string_equal(out, "www.example.com");
	assert_int_equal(wild, 0);
	assert_int_equal(diag_domain_normalize("*.example.com", out, sizeof(out), &wild, err, sizeof(err)), 0);
	assert_string_equal(out, "example.com");
	assert_int_equal(wild, 1);
	const char *bad[] = {"", ".", "a..b", "-a.b", "a-.b", "a.b-", "a*.b", "*a.b", "a b.c",
	                     "a\001.b", "caf\xc3\xa9.example"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(diag_domain_normalize(bad[i], out, sizeof(out), NULL, err, sizeof(err)), -1);
	char label[70];
	memset(label, 'a', 64);
	strcpy(label + 64, ".b");
	assert_int_equal(diag_domain_normalize(label, out, sizeof(out), NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "63"));
	char longname[300];
	for (int i = 0; i < 140; i++)
		memcpy(longname + 2 * i, "a.", 2);
	longname[280] = '\0';
	assert_int_equal(diag_domain_normalize(longname, out, sizeof(out), NULL, err, sizeof(err)), -1);
}

static void txt_strings_are_joined(void **state)
{
	(void)state;
	ldns_rr *rr = NULL;
	assert_int_equal(ldns_rr_new_frm_str(&rr, "x. 300 IN TXT \"abc\" \"def\" \"\"", 0, NULL, NULL),
	                 LDNS_STATUS_OK);
	char *s = dns_txt_joined(rr);
	assert_string_equal(s, "abcdef");
	free(s);
	ldns_rr_free(rr);
	/* a NUL inside is kept (the CA compares every byte); the form stays
	 * unambiguous: a backslash is doubled */
	assert_int_equal(ldns_rr_new_frm_str(&rr, "x. 300 IN TXT \"good\\000evil\" \"\\\\x00\"", 0, NULL, NULL),
	                 LDNS_STATUS_OK);
	s = dns_txt_joined(rr);
	assert_string_equal(s, "good\\x00evil\\\\x00");
	free(s);
	ldns_rr_free(rr);
	s = dns_txt_escape("a\\x00", 5);
	assert_string_equal(s, "a\\\\x00");
	free(s);
}

static void dns01_digest(void **state)
{
	(void)state;
	/* RFC 8555 section 8.4 computes base64url(SHA-256(key authorization)).
	 * Reference value from: printf %s 'token.thumbprint' | openssl dgst
	 * -sha256 -binary | basenc --base64url | tr -d = */
	char out[44];
	assert_int_equal(diag_dns01_txt_value("token.thumbprint", out), 0);
	assert_int_equal(strlen(out), 43);
	assert_string_equal(out, "61rBZ_4knHblO0MNoxFsXZ_eTFUHum0B6IVRbhvUn5I");
	char b[8];
	diag_b64url((const unsigned char *)"\xfb\xff", 2, b);
	assert_string_equal(b, "-_8");
}

static void count_cb(void *arg, struct dns_q *q)
{
	(void)q;
	(*(int *)arg)++;
}

static int datagrams(int fd)
{
	char buf[512];
	int n = 0;
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		n++;
	return n;
}

/* The same question asked twice shares one query; a server that timed out
 * is not asked again in the run (one timeout per dead server). */
static void engine_shares_and_remembers_dead(void **state)
{
	(void)state;
	struct diag_server srv;
	int fd = silent_server(&srv);
	struct diag_loop *loop = diag_loop_new();
	struct dns_engine *e = dns_engine_new(loop, 300);
	int calls = 0;
	struct dns_q *a = dns_ask(e, &srv, "example.test", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0, count_cb, &calls);
	struct dns_q *b = dns_ask(e, &srv, "EXAMPLE.test.", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0, count_cb, &calls);
	struct dns_q *other = dns_ask(e, &srv, "example.test", LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, 0, count_cb, &calls);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, other);
	assert_int_equal(diag_loop_run(loop), 0);
	assert_int_equal(calls, 3);
	assert_int_equal(a->status, DNS_TIMEOUT);
	assert_int_equal(a->not_asked, 0);
	/* two questions: at most two datagrams each (one retry) */
	int sent = datagrams(fd);
	assert_true(sent >= 2 && sent <= 4);
	/* later questions to the dead server end at once, unasked */
	struct dns_q *late = dns_ask(e, &srv, "www.example.test", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, count_cb, &calls);
	assert_int_equal(calls, 4);  /* called back before dns_ask returned */
	assert_true(late->done);
	assert_int_equal(late->status, DNS_TIMEOUT);
	assert_int_equal(late->not_asked, 1);
	assert_int_equal(diag_loop_run(loop), 0);
	assert_int_equal(datagrams(fd), 0);
	/* a forgotten waiter is never called */
	struct diag_server srv2;
	int fd2 = silent_server(&srv2);
	dns_ask(e, &srv2, "example.test", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0, count_cb, &calls);
	dns_engine_forget(e, &calls);
	diag_loop_run(loop);
	assert_int_equal(calls, 4);
	dns_engine_free(e);
	diag_loop_free(loop);
	close(fd);
	close(fd2);
}

/* Waiting on a dead server costs a few wake-ups, not a spin: c-ares
 * reports under a millisecond left as 0, and the loop must not poll again
 * at once until it is over (it did, hundreds of times per timeout). */
static void waiting_does_not_spin(void **state)
{
	(void)state;
	struct diag_server srv;
	int fd = silent_server(&srv);
	struct diag_loop *loop = diag_loop_new();
	struct dns_engine *e = dns_engine_new(loop, 300);
	int calls = 0, turns = 0;
	dns_ask(e, &srv, "example.test", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0, count_cb, &calls);
	while (!calls && turns < 1000) {
		diag_loop_run_once(loop, -1);
		turns++;
	}
	assert_int_equal(calls, 1);
	/* one try and one retry: a few wake-ups each, whatever the clock */
	assert_true(turns < 40);
	dns_engine_free(e);
	diag_loop_free(loop);
	close(fd);
}

/* A private query freed while in flight, and an engine freed with queries
 * in flight: no callback runs afterwards (ASan would see a use after free). */
static void engine_detaches(void **state)
{
	(void)state;
	struct diag_server srv;
	int fd = silent_server(&srv);
	struct diag_loop *loop = diag_loop_new();
	struct dns_engine *e = dns_engine_new(loop, 300);
	struct dns_q *q = dns_q_new(&srv, "example.test", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
	assert_int_equal(dns_q_send(e, q), 0);
	dns_q_free(q);
	int calls = 0;
	dns_ask(e, &srv, "example.test", LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, 0, count_cb, &calls);
	dns_engine_free(e);
	assert_int_equal(diag_loop_run(loop), 0);
	assert_int_equal(calls, 0);
	diag_loop_free(loop);
	close(fd);
}

/* What only one probe asked goes when it forgets; what two asked stays for
 * the run (a batch keeps the zones' answers, not every name's). */
static void engine_releases(void **state)
{
	(void)state;
	struct diag_server srv;
	int fd = silent_server(&srv);
	struct diag_loop *loop = diag_loop_new();
	struct dns_engine *e = dns_engine_new(loop, 200);
	int a = 0, b = 0;
	dns_ask(e, &srv, "zone.test", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0, count_cb, &a);
	dns_ask(e, &srv, "one.zone.test", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0, count_cb, &a);
	dns_ask(e, &srv, "zone.test", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0, count_cb, &b);
	dns_ask(e, &srv, "two.zone.test", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0, count_cb, &b);
	assert_int_equal(dns_engine_cached(e), 3);
	dns_engine_forget(e, &a);   /* in flight: detached, a's own question freed */
	assert_int_equal(dns_engine_cached(e), 2);
	assert_int_equal(diag_loop_run(loop), 0);
	assert_int_equal(a, 0);
	assert_int_equal(b, 2);
	dns_engine_forget(e, &b);
	assert_int_equal(dns_engine_cached(e), 1);  /* the shared SOA stays */
	/* and answers at once, from the cache */
	struct dns_q *q = dns_ask(e, &srv, "ZONE.test.", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0, count_cb, &a);
	assert_true(q->done);
	assert_int_equal(a, 1);
	/* many questions: the index grows, every one is found again */
	char name[64];
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "n%d.zone.test", i);
		dns_ask(e, &srv, name, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0, NULL, &b);
	}
	assert_int_equal(dns_engine_cached(e), 3001);
	for (int i = 0; i < 3000; i += 7) {
		snprintf(name, sizeof(name), "N%d.zone.test.", i);
		size_t before = dns_engine_cached(e);
		dns_ask(e, &srv, name, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0, NULL, &b);
		assert_int_equal(dns_engine_cached(e), before);
	}
	dns_engine_forget(e, &b);
	assert_int_equal(dns_engine_cached(e), 1);
	dns_engine_free(e);
	diag_loop_free(loop);
	close(fd);
}

/* At most 64 questions in flight to one server; the rest wait, and once
 * the server is found dead they end unasked: 200 questions to a silent
 * server send 64 (each tried twice), not 200. */
static void engine_caps_a_server(void **state)
{
	(void)state;
	struct diag_server srv;
	int fd = silent_server(&srv);
	struct diag_loop *loop = diag_loop_new();
	struct dns_engine *e = dns_engine_new(loop, 300);
	int calls = 0;
	char name[64];
	struct dns_q *last = NULL;
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "q%d.zone.test", i);
		last = dns_ask(e, &srv, name, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0, count_cb, &calls);
	}
	assert_int_equal(diag_loop_run(loop), 0);
	assert_int_equal(calls, 200);
	assert_true(last->not_asked);
	int sent = datagrams(fd);
	assert_true(sent >= 64 && sent <= 128);
	dns_engine_free(e);
	diag_loop_free(loop);
	close(fd);
}

static void resolver_selection(void **state)
{
	(void)state;
	struct diag_server ns[3], out[3];
	diag_server_from_ip("192.0.2.1", 0, &ns[0]);
	diag_server_from_ip("2001:db8::1", 0, &ns[1]);
	diag_server_from_ip("192.0.2.2", 0, &ns[2]);
	assert_int_equal(diag_resolvers(ns, 3, NULL, 0, out, 3), 3);
	assert_int_equal(diag_resolvers(ns, 3, NULL, 4, out, 3), 2);
	assert_string_equal(out[1].ip, "192.0.2.2");
	assert_int_equal(diag_resolvers(ns, 3, NULL, 6, out, 3), 1);
	assert_int_equal(diag_resolvers(ns, 3, NULL, 0, out, 2), 2);
	char path[] = "/tmp/acmediag-resolv.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char conf[] = "# comment\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nnameserver 2001:db8::53\n";
	assert_int_equal(write(fd, conf, sizeof(conf) - 1), (ssize_t)(sizeof(conf) - 1));
	close(fd);
	assert_int_equal(diag_resolvers(NULL, 0, path, 0, out, 3), 2);
	assert_int_equal(diag_resolvers(NULL, 0, path, 6, out, 3), 1);
	assert_string_equal(out[0].ip, "2001:db8::53");
	unlink(path);
}

static void host_and_port(void **state)
{
	(void)state;
	char host[64], err[160];
	uint16_t port;
	assert_int_equal(diag_hostport("ntp.example:1123", host, sizeof(host), &port, 123, err, sizeof(err)), 0);
	assert_string_equal(host, "ntp.example");
	assert_int_equal(port, 1123);
	assert_int_equal(diag_hostport("[2001:db8::1]", host, sizeof(host), &port, 123, err, sizeof(err)), 0);
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 123);
	assert_int_equal(diag_hostport("2001:db8::1", host, sizeof(host), &port, 123, err, sizeof(err)), 0);
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(diag_hostport("h:0", host, sizeof(host), &port, 123, err, sizeof(err)), -1);
	assert_int_equal(diag_hostport(":53", host, sizeof(host), &port, 123, err, sizeof(err)), -1);
	assert_int_equal(diag_hostport("[::1]x", host, sizeof(host), &port, 123, err, sizeof(err)), -1);
}

/* The run's bound stops a probe still waiting: a check of example.test
 * through a resolver that never answers, with 5 s per query, is stopped
 * at 300 ms with an error finding that says so; nothing is left running
 * (the sanitizer build checks for leaks). */
static void run_bound_stops_a_waiting_probe(void **state)
{
	(void)state;
	struct diag_server srv;
	int fd = silent_server(&srv);
	struct diag_report *r = diag_report_new("test", "0", "example.test");
	struct dnscheck_opts o = { .domain = "example.test", .ns = &srv, .nns = 1, .timeout_ms = 5000 };
	diag_probe_set_bound(300);
	assert_int_equal(diag_dnscheck_run(&o, r), -1);
	diag_probe_set_bound(0);
	const struct diag_finding *stop = NULL;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i]->id, "dns.run"))
			stop = r->v[i];
	assert_non_null(stop);
	assert_int_equal(stop->status, DIAG_ERROR);
	assert_non_null(strstr(stop->summary, "stopped after 0.3 s"));
	diag_report_free(r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(engine_shares_and_remembers_dead),
		cmocka_unit_test(waiting_does_not_spin),
		cmocka_unit_test(engine_detaches),
		cmocka_unit_test(engine_releases),
		cmocka_unit_test(engine_caps_a_server),
		cmocka_unit_test(resolver_selection),
		cmocka_unit_test(host_and_port),
		cmocka_unit_test(server_forms),
		cmocka_unit_test(server_errors),
		cmocka_unit_test(domain_names),
		cmocka_unit_test(txt_strings_are_joined),
		cmocka_unit_test(run_bound_stops_a_waiting_probe),
		cmocka_unit_test(dns01_digest),
	};
	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
