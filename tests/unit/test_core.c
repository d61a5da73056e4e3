/* SPDX-License-Identifier: ISC */
/* Unit tests: findings, verdict, exit statuses and both renderings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <ldns/ldns.h>
#include <openssl/crypto.h>

#include "diag.h"

static void verdict_is_worst_status(void **state)
{
	(void)state;
	struct diag_report *r = diag_report_new("t", "1", "x");
	assert_int_equal(diag_verdict(r), DIAG_OK); /* empty: ok */
	diag_add(r, DIAG_SKIP, "a", "", "skipped");
	assert_int_equal(diag_verdict(r), DIAG_OK);
	diag_add(r, DIAG_WARN, "b", "", "warn");
	assert_int_equal(diag_verdict(r), DIAG_WARN);
	diag_add(r, DIAG_OK, "c", "", "ok");
	assert_int_equal(diag_verdict(r), DIAG_WARN);
	diag_add(r, DIAG_FAIL, "d", "", "fail");
	assert_int_equal(diag_verdict(r), DIAG_FAIL);
	diag_add(r, DIAG_ERROR, "e", "", "error");
	assert_int_equal(diag_verdict(r), DIAG_ERROR);
	diag_report_free(r);
}

static void exit_statuses(void **state)
{
	(void)state;
	assert_int_equal(diag_exit_status(DIAG_OK, 0), 0);
	assert_int_equal(diag_exit_status(DIAG_WARN, 0), 0);
	assert_int_equal(diag_exit_status(DIAG_WARN, 1), 1);
	assert_int_equal(diag_exit_status(DIAG_FAIL, 0), 1);
	assert_int_equal(diag_exit_status(DIAG_ERROR, 0), 3);
	assert_int_equal(diag_exit_status(DIAG_ERROR, 1), 3);
}

static void json_document_contract(void **state)
{
	(void)state;
	struct diag_report *r = diag_report_new("acme-test", "9.9", "example.test");
	struct diag_finding *f = diag_add(r, DIAG_FAIL, "dns01.txt", "192.0.2.1", "missing %d", 1);
	diag_set_hint(f, "publish it");
	diag_evidence(f, "rtt_ms", json_integer(12));
	diag_add(r, DIAG_OK, "dns.zone", "example.test", "zone");
	diag_report_finish(r);
	json_t *doc = diag_report_json(r);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "schema")), "acme-diag/1");
	assert_string_equal(json_string_value(json_object_get(doc, "tool")), "acme-test");
	assert_string_equal(json_string_value(json_object_get(doc, "version")), "9.9");
	assert_string_equal(json_string_value(json_object_get(doc, "target")), "example.test");
	assert_string_equal(json_string_value(json_object_get(doc, "verdict")), "fail");
	const char *ts = json_string_value(json_object_get(doc, "started_at"));
	assert_non_null(ts);
	assert_int_equal(strlen(ts), 24); /* 2026-11-22T09:00:00.123Z */
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[23], 'Z');
	assert_true(json_is_integer(json_object_get(doc, "duration_ms")));
	json_t *checks = json_object_get(doc, "checks");
	assert_int_equal(json_array_size(checks), 2);
	json_t *c0 = json_array_get(checks, 0);
	assert_string_equal(json_string_value(json_object_get(c0, "id")), "dns01.txt");
	assert_string_equal(json_string_value(json_object_get(c0, "status")), "fail");
	assert_string_equal(json_string_value(json_object_get(c0, "summary")), "missing 1");
	assert_string_equal(json_string_value(json_object_get(c0, "hint")), "publish it");
	assert_true(json_is_null(json_object_get(c0, "detail")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c0, "evidence"), "rtt_ms")), 12);
	json_decref(doc);
	diag_report_free(r);
}

static void text_rendering(void **state)
{
	(void)state;
	struct diag_report *r = diag_report_new("t", "1", NULL);
	struct diag_finding *f = diag_add(r, DIAG_WARN, "dns.auth.serial", "zone.test", "lagging");
	diag_set_hint(f, "check AXFR");
	diag_set_detail(f, "secondary behind");
	diag_add(r, DIAG_OK, "dns.zone", "zone.test", "fine");
	/* a control character from the network must not reach the terminal */
	diag_add(r, DIAG_FAIL, "dns01.txt", "192.0.2.1", "has \"\033[2J\"");
	/* nor forge a line: a newline in a target (a URL from a server) */
	diag_add(r, DIAG_OK, "acme.fetch", "https://x/\nfail  forged", "fine");
	struct diag_render_opts o = {0};
	char *s = diag_render_text(r, &o);
	assert_non_null(s);
	assert_non_null(strstr(s, "warn  dns.auth.serial"));
	assert_non_null(strstr(s, "hint: check AXFR"));
	assert_null(strstr(s, "secondary behind")); /* detail only with -v */
	assert_non_null(strstr(s, "ok    dns.zone"));
	assert_null(strchr(s, '\033'));
	assert_non_null(strstr(s, "\\x1b[2J"));
	assert_null(strstr(s, "\nfail  forged"));
	assert_non_null(strstr(s, "https://x/\\x0afail  forged"));
	assert_non_null(strstr(s, "verdict: fail (1 fail, 1 warn, 2 ok, 0 error, 0 skip)"));
	free(s);
	o.quiet = 1;
	s = diag_render_text(r, &o);
	assert_null(strstr(s, "ok    dns.zone"));
	assert_non_null(strstr(s, "dns.auth.serial"));
	free(s);
	o.quiet = 0;
	o.verbose = 1;
	s = diag_render_text(r, &o);
	assert_non_null(strstr(s, "secondary behind"));
	free(s);
	o.verbose = 0;
	o.color = 1;
	s = diag_render_text(r, &o);
	assert_non_null(strstr(s, "\033[33mwarn"));
	free(s);
	diag_report_free(r);
}

/* Bytes that are not UTF-8 become \xNN; well-formed text stays as it is. */
static void utf8_cleaning(void **state)
{
	(void)state;
	char *s = diag_utf8_clean("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", 12);
	assert_string_equal(s, "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac");
	free(s);
	/* a lone continuation byte, a cut sequence, an overlong, a surrogate, NUL */
	s = diag_utf8_clean("a\x80" "b\xe6\x97", 5);
	assert_string_equal(s, "a\\x80b\\xe6\\x97");
	free(s);
	s = diag_utf8_clean("\xc0\xaf\xed\xa0\x80\x00z", 7);
	assert_string_equal(s, "\\xc0\\xaf\\xed\\xa0\\x80\\x00z");
	free(s);
	s = diag_utf8_clean("\xf4\x90\x80\x80\xf0\x9f\x98\x80", 8);  /* above U+10FFFF, then an emoji */
	assert_string_equal(s, "\\xf4\\x90\\x80\\x80\xf0\x9f\x98\x80");
	free(s);
}

static void utf8_cutting(void **state)
{
	(void)state;
	const char *jp = "\xe6\x97\xa5\xe6\x9c\xac";  /* two 3-byte characters */
	assert_int_equal(diag_utf8_cut(jp, 6, 6), 6);
	assert_int_equal(diag_utf8_cut(jp, 6, 5), 3);
	assert_int_equal(diag_utf8_cut(jp, 6, 4), 3);
	assert_int_equal(diag_utf8_cut(jp, 6, 3), 3);
	assert_int_equal(diag_utf8_cut(jp, 6, 2), 0);
	assert_int_equal(diag_utf8_cut("abcdef", 6, 4), 4);
	assert_int_equal(diag_utf8_cut("\xff\xff\xff\xff", 4, 2), 2);  /* not UTF-8: bytes */
}

/* A finding with bytes from the network reaches both renderings, whole. */
static void json_keeps_every_finding(void **state)
{
	(void)state;
	struct diag_report *r = diag_report_new("t", "1", "x\xff");
	/* a Japanese 404 page cut mid-character at byte 200 */
	char body[256];
	memset(body, 0, sizeof(body));
	for (size_t i = 0; i + 3 <= 201; i += 3)
		memcpy(body + i, "\xe3\x81\x82", 3);
	body[200] = '\0';  /* 66 characters and 2 bytes of the 67th */
	struct diag_finding *f = diag_add(r, DIAG_FAIL, "http01.addr", "192.0.2.1", "404: %s", body);
	diag_set_detail(f, "Body starts: %s", body);
	diag_set_hint(f, "hint \xc3");
	diag_evidence(f, "server", diag_json_str("nginx\xfe"));
	diag_evidence(f, "values", json_pack("[o]", diag_json_strn("a\0b", 3)));
	diag_add(r, DIAG_OK, "dns01.txt", "ns\x80", "TXT \"\xe9t\xe9\"");
	diag_report_finish(r);
	json_t *doc = diag_report_json(r);
	assert_non_null(doc);
	json_t *checks = json_object_get(doc, "checks");
	assert_int_equal(json_array_size(checks), 2);
	const char *sum = json_string_value(json_object_get(json_array_get(checks, 0), "summary"));
	assert_non_null(strstr(sum, "\xe3\x81\x82"));
	assert_non_null(strstr(sum, "\\xe3\\x81"));  /* the cut character, shown */
	json_t *ev = json_object_get(json_array_get(checks, 0), "evidence");
	assert_string_equal(json_string_value(json_object_get(ev, "server")), "nginx\\xfe");
	assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "values"), 0)), "a\\x00b");
	assert_string_equal(json_string_value(json_object_get(json_array_get(checks, 1), "target")), "ns\\x80");
	char *text = json_dumps(doc, 0);
	assert_non_null(text);
	json_error_t je;
	json_t *again = json_loads(text, 0, &je);  /* the document is valid UTF-8 JSON */
	assert_non_null(again);
	json_decref(again);
	free(text);
	json_decref(doc);
	struct diag_render_opts o = {0};
	char *s = diag_render_text(r, &o);
	assert_non_null(strstr(s, "http01.addr"));
	assert_non_null(strstr(s, "dns01.txt"));
	free(s);
	diag_report_free(r);
}

struct seen {
	char ids[8][32];
	char hints[8][32];
	size_t n;
};

static void observer(void *arg, const struct diag_report *r, const struct diag_finding *f)
{
	(void)r;
	struct seen *s = arg;
	if (s->n < 8) {
		snprintf(s->ids[s->n], 32, "%s", f->id);
		snprintf(s->hints[s->n], 32, "%s", f->hint ? f->hint : "");
		s->n++;
	}
}

/* Views tag findings with their domain and add them to the root; the
 * observer sees each finding once, complete, at a flush. */
static void views_and_observer(void **state)
{
	(void)state;
	struct diag_report *root = diag_report_new("acme-doctor", "1", "a.test b.test");
	struct seen seen = {0};
	diag_report_observe(root, observer, &seen);
	struct diag_report *a = diag_report_view(root, "a.test"), *b = diag_report_view(root, "b.test");
	struct diag_finding *f = diag_add(a, DIAG_FAIL, "dns01.txt", "ns1", "missing");
	diag_set_hint(f, "publish it");
	diag_add(b, DIAG_OK, "dns01.txt", "ns1", "present");
	diag_add(root, DIAG_WARN, "clock.skew", "ntp", "off");
	assert_int_equal(seen.n, 0);  /* not before a flush: the hint comes after diag_add */
	diag_report_flush(root);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.hints[0], "publish it");
	assert_int_equal(root->n, 3);
	assert_int_equal(a->n, 1);
	assert_int_equal(b->n, 1);
	assert_string_equal(root->v[0]->domain, "a.test");
	assert_string_equal(root->v[1]->domain, "b.test");
	assert_null(root->v[2]->domain);
	assert_int_equal(diag_verdict(a), DIAG_FAIL);
	assert_int_equal(diag_verdict(b), DIAG_OK);
	diag_report_flush(root);
	assert_int_equal(seen.n, 3);  /* once each */
	diag_report_free(a);
	diag_report_free(b);
	json_t *doc = diag_report_json(root);
	json_t *c0 = json_array_get(json_object_get(doc, "checks"), 0);
	assert_string_equal(json_string_value(json_object_get(c0, "domain")), "a.test");
	assert_null(json_object_get(json_array_get(json_object_get(doc, "checks"), 2), "domain"));
	json_decref(doc);
	diag_report_free(root);
}

struct order {
	char log[64];
	struct diag_loop *loop;
};

static void tick(void *arg)
{
	struct order *o = *(struct order **)arg;
	const char *name = ((const char **)arg)[1];
	strcat(o->log, name);
}

static void readd_zero(void *arg)
{
	struct order *o = arg;
	strcat(o->log, "z");
	if (strlen(o->log) < 4)
		diag_loop_timer(o->loop, 0, readd_zero, o);  /* must wait for the next turn */
}

static void hook(void *arg)
{
	strcat(((struct order *)arg)->log, "|");
}

/* Timers run in due order; a cancelled one never runs; a 0 ms timer added
 * by a callback runs in a later turn; turn hooks run after each turn. */
static void loop_timers(void **state)
{
	(void)state;
	struct diag_loop *loop = diag_loop_new();
	assert_non_null(loop);
	struct order o = { .loop = loop };
	const void *a[2] = {&o, "a"}, *b[2] = {&o, "b"}, *c[2] = {&o, "c"};
	diag_loop_timer(loop, 30, tick, (void *)b);
	diag_loop_timer(loop, 10, tick, (void *)a);
	diag_loop_timer(loop, 20, tick, (void *)c);
	diag_loop_cancel_timers(loop, (void *)c);
	assert_int_equal(diag_loop_run(loop), 0);
	assert_string_equal(o.log, "ab");
	o.log[0] = '\0';
	diag_loop_on_turn(loop, hook, &o);
	diag_loop_timer(loop, 0, readd_zero, &o);
	assert_int_equal(diag_loop_run_once(loop, 0), 1);  /* the re-added timer is pending */
	assert_string_equal(o.log, "z|");
	diag_loop_run(loop);
	assert_string_equal(o.log, "z|z|z|");
	diag_loop_remove_turn_hook(loop, hook, &o);
	diag_loop_free(loop);
}

static void on_readable(void *arg, int fd, int readable)
{
	char c;
	if (readable && read(fd, &c, 1) == 1)
		(*(int *)arg)++;
}

/* A persistent watch fires on every readable turn and is not pending work. */
static void loop_persistent_watch(void **state)
{
	(void)state;
	struct diag_loop *loop = diag_loop_new();
	int fds[2], hits = 0;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(diag_loop_watch_fd_persistent(loop, fds[0], on_readable, &hits), 0);
	assert_int_equal(diag_loop_run(loop), 0);  /* returns at once: nothing pending */
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(diag_loop_run_once(loop, 1000), 0);
	assert_int_equal(hits, 1);
	assert_int_equal(write(fds[1], "y", 1), 1);
	diag_loop_run_once(loop, 1000);
	assert_int_equal(hits, 2);
	diag_loop_unwatch_fd(loop, fds[0]);
	assert_int_equal(write(fds[1], "z", 1), 1);
	diag_loop_run_once(loop, 50);
	assert_int_equal(hits, 2);
	close(fds[0]);
	close(fds[1]);
	diag_loop_free(loop);
}

struct wstate {
	int calls, ready;
};

static void on_writable(void *arg, int fd, int ready)
{
	(void)fd;
	struct wstate *w = arg;
	w->calls++;
	w->ready = ready;
}

/* A write watch: a connect that succeeds, one that is refused (both
 * ready), and a pipe that stays full (the timeout). Each fires once. */
static void loop_write_watch(void **state)
{
	(void)state;
	struct diag_loop *loop = diag_loop_new();
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
	for (int refused = 0; refused < 2; refused++) {
		if (refused)
			close(l);  /* nothing listens on the port any more */
		int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		int rc = connect(s, (struct sockaddr *)&a, sizeof(a));
		assert_true(rc == 0 || errno == EINPROGRESS || errno == ECONNREFUSED);
		struct wstate w = {0};
		assert_int_equal(diag_loop_watch_fd_write(loop, s, 2000, on_writable, &w), 0);
		assert_int_equal(diag_loop_run(loop), 0);
		assert_int_equal(w.calls, 1);
		assert_int_equal(w.ready, 1);
		int err = 0;
		socklen_t el = sizeof(err);
		assert_int_equal(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el), 0);
		if (refused && rc)
			assert_int_equal(err, ECONNREFUSED);
		else if (!refused)
			assert_int_equal(err, 0);
		close(s);
	}
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
	char buf[4096] = {0};
	while (write(fds[1], buf, sizeof(buf)) > 0)
		;
	struct wstate w = {0};
	assert_int_equal(diag_loop_watch_fd_write(loop, fds[1], 50, on_writable, &w), 0);
	assert_int_equal(diag_loop_run(loop), 0);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.ready, 0);
	close(fds[0]);
	close(fds[1]);
	diag_loop_free(loop);
}

/* --version names every library with the version loaded at run time. */
static void library_versions(void **state)
{
	(void)state;
	char buf[256], want[64];
	int n = diag_library_versions(buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	assert_int_equal(strlen(buf), (size_t)n);
	snprintf(want, sizeof(want), "c-ares %s, ", ares_version(NULL));
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), "ldns %s, ", ldns_version());
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), "libcurl %s, ", curl_version_info(CURLVERSION_NOW)->version);
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), "OpenSSL %s, ", OpenSSL_version(OPENSSL_VERSION_STRING));
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), "jansson %s", jansson_version_str());
	assert_non_null(strstr(buf, want));
	/* a short buffer is cut and terminated, and the full length said */
	char small[8];
	assert_int_equal(diag_library_versions(small, sizeof(small)), n);
	assert_string_equal(small, "c-ares ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verdict_is_worst_status),
		cmocka_unit_test(exit_statuses),
		cmocka_unit_test(json_document_contract),
		cmocka_unit_test(text_rendering),
		cmocka_unit_test(utf8_cleaning),
		cmocka_unit_test(utf8_cutting),
		cmocka_unit_test(json_keeps_every_finding),
		cmocka_unit_test(views_and_observer),
		cmocka_unit_test(loop_timers),
		cmocka_unit_test(loop_persistent_watch),
		cmocka_unit_test(loop_write_watch),
		cmocka_unit_test(library_versions),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
