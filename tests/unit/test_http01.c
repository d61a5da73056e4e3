/* SPDX-License-Identifier: ISC */
/* Unit tests: HTTP-01 body comparison per CA profile, reserved addresses,
 * profile names; the probe's life on a loop (start, cancel at every turn,
 * resolvers that are silent or disagree, the address limit) against
 * sockets on 127.0.0.1: a resolver made with ldns and a web server that
 * never accepts. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "diag.h"
#include "loopback.h"
#include "fakedns.h"

#define KA "tok.thumb"

static int m(const char *body, enum http01_profile p)
{
	return diag_http01_body_matches(body, strlen(body), KA, p);
}

static void body_comparison(void **state)
{
	(void)state;
	assert_true(m("tok.thumb", HTTP01_LETSENCRYPT));
	assert_true(m("tok.thumb\n", HTTP01_LETSENCRYPT));
	assert_true(m("tok.thumb \t\r\n  ", HTTP01_LETSENCRYPT));
	assert_true(m("tok.thumb\xc2\xa0", HTTP01_LETSENCRYPT));      /* U+00A0 is a Go space */
	assert_true(m("tok.thumb\xe3\x80\x80", HTTP01_LETSENCRYPT));  /* U+3000 too */
	assert_false(m(" tok.thumb", HTTP01_LETSENCRYPT));           /* leading space is not trimmed */
	assert_false(m("tok.thumbx", HTTP01_LETSENCRYPT));
	assert_false(m("tok.thum", HTTP01_LETSENCRYPT));
	assert_false(m("", HTTP01_LETSENCRYPT));
	/* Pebble trims only \n, \r and \t on the right */
	assert_true(m("tok.thumb\r\n\t", HTTP01_PEBBLE));
	assert_false(m("tok.thumb ", HTTP01_PEBBLE));
	assert_false(m("tok.thumb\xc2\xa0", HTTP01_PEBBLE));
}

static void reserved_addresses(void **state)
{
	(void)state;
	const char *why = NULL;
	const char *yes[] = {"10.1.2.3", "127.0.0.1", "192.168.1.1", "172.31.255.255", "100.64.0.1",
	                     "169.254.1.1", "192.0.2.80", "198.51.100.7", "203.0.113.9", "224.0.0.1",
	                     "::1", "fd00::1", "fe80::1", "2001:db8::80", "::ffff:192.0.2.1"};
	const char *no[] = {"1.1.1.1", "172.32.0.1", "8.8.8.8", "2606:4700::1111", "100.128.0.1",
	                    "192.169.0.1", "not-an-ip"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		why = NULL;
		assert_true(diag_ip_reserved(yes[i], &why));
		assert_non_null(why);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(diag_ip_reserved(no[i], &why));
	assert_true(diag_ip_reserved("192.0.2.80", &why));
	assert_non_null(strstr(why, "RFC 5737"));
}

static void profiles(void **state)
{
	(void)state;
	enum http01_profile p;
	assert_int_equal(diag_http01_profile_parse("pebble", &p), 0);
	assert_int_equal(p, HTTP01_PEBBLE);
	assert_int_equal(diag_http01_profile_parse("letsencrypt", &p), 0);
	assert_int_equal(p, HTTP01_LETSENCRYPT);
	assert_int_equal(diag_http01_profile_parse("rfc8555", &p), 0);
	assert_int_equal(diag_http01_profile_parse("boulder", &p), -1);
	assert_string_equal(diag_http01_profile_name(HTTP01_RFC8555), "rfc8555");
}

/* ---- the probe on a loop ---- */

/* Run the probe to the end on a loop of its own, the fake resolvers
 * answering; the report. */
static struct diag_report *run_with(const struct http01_opts *o, struct fake_dns *f, size_t nf)
{
	struct diag_loop *loop = diag_loop_new();
	struct diag_report *r = diag_report_new("t", "1", "x");
	int done = 0;
	assert_non_null(diag_http01_start(loop, o, r, count_done, &done));
	until_done(loop, f, nf, &done);
	assert_int_equal(done, 1);
	diag_loop_free(loop);
	return r;
}

/* Start against a resolver that never answers, turn the loop, cancel:
 * done never runs, nothing is left on the loop, nothing leaks (ASan). */
static void cancel_while_resolving(void **state)
{
	(void)state;
	struct fake_dns dead;
	fake_init(&dead, -1, 1);
	for (int shared = 0; shared < 2; shared++) {
		struct diag_loop *loop = diag_loop_new();
		struct dns_engine *e = shared ? dns_engine_new(loop, 300) : NULL;
		struct diag_report *r = diag_report_new("t", "1", "x");
		struct http01_opts o = { .domain = "web.test", .ns = &dead.srv, .nns = 1,
		                         .timeout_ms = 300, .engine = e };
		int done = 0;
		struct diag_probe *p = diag_http01_start(loop, &o, r, count_done, &done);
		assert_non_null(p);
		turns(loop, &dead, 1, 3, &done);
		assert_int_equal(done, 0);
		diag_probe_cancel(p);
		/* a shared engine's query is still in flight: it ends with nobody
		 * to call back */
		drained(loop);
		assert_int_equal(done, 0);
		assert_int_equal(r->n, 0);
		dns_engine_free(e);
		diag_loop_free(loop);
		diag_report_free(r);
	}
	close(dead.fd);
}

/* Cancel after every number of turns, from before the first answer to
 * requests in flight: always safe, done never runs afterwards. */
static void cancel_at_every_turn(void **state)
{
	(void)state;
	struct fake_dns dns;
	fake_init(&dns, 2, 1);
	uint16_t port;
	int web = silent_tcp(&port);
	for (int k = 0; k < 12; k++) {
		struct diag_loop *loop = diag_loop_new();
		struct diag_report *r = diag_report_new("t", "1", "x");
		struct http01_opts o = { .domain = "web.test", .ns = &dns.srv, .nns = 1,
		                         .timeout_ms = 300, .port = port, .profile = HTTP01_PEBBLE };
		int done = 0;
		struct diag_probe *p = diag_http01_start(loop, &o, r, count_done, &done);
		assert_non_null(p);
		turns(loop, &dns, 1, k, &done);
		if (!done)
			diag_probe_cancel(p);
		int was = done;
		drained(loop);
		assert_int_equal(done, was);
		diag_loop_free(loop);
		diag_report_free(r);
	}
	close(web);
	close(dns.fd);
}

/* To the end: the first resolver is silent, the second answers; requests
 * time out after connecting. */
static void silent_first_resolver(void **state)
{
	(void)state;
	struct fake_dns f[2];
	fake_init(&f[0], -1, 1);
	fake_init(&f[1], 1, 1);
	uint16_t port;
	int web = silent_tcp(&port);
	struct diag_server ns[2] = { f[0].srv, f[1].srv };
	struct http01_opts o = { .domain = "web.test", .ns = ns, .nns = 2, .timeout_ms = 300,
	                         .port = port, .profile = HTTP01_PEBBLE };
	struct diag_report *r = run_with(&o, f, 2);
	const struct diag_finding *dns = find(r, "http01.dns");
	assert_non_null(dns);
	assert_int_equal(dns->status, DIAG_OK);
	char want[128];
	snprintf(want, sizeof(want), "(resolver %s); %s did not answer (timed out)", f[1].srv.label,
	         f[0].srv.label);
	assert_non_null(strstr(dns->summary, want));
	json_t *res = json_object_get(dns->evidence, "resolvers");
	assert_int_equal(json_array_size(res), 2);
	assert_false(json_is_true(json_object_get(json_array_get(res, 0), "answered")));
	assert_true(json_is_true(json_object_get(json_array_get(res, 1), "used")));
	const struct diag_finding *addr = find(r, "http01.addr");
	assert_non_null(addr);
	/* our 600 ms wait ended long before Pebble's 15 s would: not judged */
	assert_int_equal(addr->status, DIAG_ERROR);
	assert_non_null(strstr(addr->summary, "Timeout after connect"));
	assert_non_null(strstr(addr->summary, "not judged"));
	assert_int_equal(find(r, "http01.ca")->status, DIAG_ERROR);
	diag_report_free(r);
	close(web);
	close(f[0].fd);
	close(f[1].fd);
}

/* Resolvers that answer other addresses: a warning naming the other one;
 * the first resolver's answer is used. */
static void resolvers_disagree(void **state)
{
	(void)state;
	struct fake_dns f[2];
	fake_init(&f[0], 1, 1);
	fake_init(&f[1], 1, 9);
	struct diag_server ns[2] = { f[0].srv, f[1].srv };
	struct http01_opts o = { .domain = "web.test", .ns = ns, .nns = 2, .timeout_ms = 300,
	                         .port = 9, .family = 4, .profile = HTTP01_PEBBLE };
	struct diag_report *r = run_with(&o, f, 2);
	const struct diag_finding *dns = find(r, "http01.dns");
	assert_int_equal(dns->status, DIAG_WARN);
	char want[128];
	snprintf(want, sizeof(want), "; %s answers other addresses (1 IPv4, 0 IPv6)", f[1].srv.label);
	assert_non_null(strstr(dns->summary, want));
	assert_non_null(dns->hint);
	assert_string_equal(find(r, "http01.addr")->target, "127.0.0.1");
	diag_report_free(r);
	close(f[0].fd);
	close(f[1].fd);
}

/* More addresses than HTTP01_MAX_ADDRS: a finding, warn when every address
 * matters (rfc8555), ok when the CA uses only the first. */
static void address_limit(void **state)
{
	(void)state;
	struct fake_dns dns;
	fake_init(&dns, HTTP01_MAX_ADDRS + 1, 1);
	const enum http01_profile profiles[] = { HTTP01_RFC8555, HTTP01_PEBBLE };
	for (size_t i = 0; i < 2; i++) {
		struct http01_opts o = { .domain = "web.test", .ns = &dns.srv, .nns = 1, .timeout_ms = 300,
		                         .port = 9, .family = 4, .profile = profiles[i] };
		struct diag_report *r = run_with(&o, &dns, 1);
		const struct diag_finding *lim = find(r, "http01.limit");
		assert_non_null(lim);
		assert_int_equal(lim->status, i == 0 ? DIAG_WARN : DIAG_OK);
		assert_non_null(strstr(lim->summary, "probed 0 of 0 IPv6 and 16 of 17 IPv4 addresses"));
		assert_int_equal(count(r, "http01.addr"), HTTP01_MAX_ADDRS);
		diag_report_free(r);
	}
	close(dns.fd);
}

/* diag_http01_run: a loop of its own; no resolver answers: an error. */
static void run_alone(void **state)
{
	(void)state;
	struct fake_dns dead;
	fake_init(&dead, -1, 1);
	struct diag_report *r = diag_report_new("t", "1", "x");
	struct http01_opts o = { .domain = "web.test", .ns = &dead.srv, .nns = 1, .timeout_ms = 300 };
	assert_int_equal(diag_http01_run(&o, r), 0);
	const struct diag_finding *dns = find(r, "http01.dns");
	assert_non_null(dns);
	assert_int_equal(dns->status, DIAG_ERROR);
	assert_string_equal(dns->summary, "no address for web.test: timed out; timed out");
	assert_int_equal(r->n, 1);
	diag_report_free(r);
	close(dead.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(body_comparison),
		cmocka_unit_test(reserved_addresses),
		cmocka_unit_test(profiles),
		cmocka_unit_test(cancel_while_resolving),
		cmocka_unit_test(cancel_at_every_turn),
		cmocka_unit_test(silent_first_resolver),
		cmocka_unit_test(resolvers_disagree),
		cmocka_unit_test(address_limit),
		cmocka_unit_test(run_alone),
	};
	return cmocka_run_group_tests_name("http01", tests, NULL, NULL);
}
