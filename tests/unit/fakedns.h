/* SPDX-License-Identifier: ISC */
/* fakedns.h - for unit tests of probes on a loop: a resolver on
 * 127.0.0.1 made with ldns, and turning the loop while it answers (include
 * after cmocka.h, diag.h and loopback.h). */
#ifndef TEST_FAKEDNS_H
#define TEST_FAKEDNS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run between the turns of the loop, after the resolvers answered: a
 * test's own server does its share there. NULL: nothing. */
static void (*turn_hook)(void *arg);
static void *turn_hook_arg;

/* A resolver on 127.0.0.1: answers A queries with naddr addresses
 * (127.0.0.<first>, then 127.0.0.2, 127.0.0.3, ...) and AAAA queries with
 * none; silent when naddr < 0. */
struct fake_dns {
	int fd;
	struct diag_server srv;
	int naddr;
	int first;  /* last octet of the first address */
};

static void fake_init(struct fake_dns *f, int naddr, int first)
{
	f->fd = silent_server(&f->srv);
	f->naddr = naddr;
	f->first = first;
}

static ldns_pkt *fake_reply(const struct fake_dns *f, const ldns_pkt *q)
{
	ldns_pkt *r = ldns_pkt_new();
	assert_non_null(r);
	const ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	ldns_pkt_set_id(r, ldns_pkt_id(q));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_rd(r, true);
	ldns_pkt_set_ra(r, true);
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr));
	char *owner = ldns_rdf2str(ldns_rr_owner(qrr));
	for (int i = 0; ldns_rr_get_type(qrr) == LDNS_RR_TYPE_A && i < f->naddr; i++) {
		char text[300];
		ldns_rr *rr = NULL;
		snprintf(text, sizeof(text), "%s 300 IN A 127.0.0.%d", owner, i ? i + 1 : f->first);
		assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
	}
	free(owner);
	return r;
}

/* Answer every query waiting on the socket. */
static void fake_serve(const struct fake_dns *f)
{
	uint8_t buf[1500];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n;
	while ((n = recvfrom(f->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl)) > 0) {
		ldns_pkt *q = NULL;
		if (f->naddr < 0 || ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK)
			continue;
		ldns_pkt *r = fake_reply(f, q);
		uint8_t *wire = NULL;
		size_t wl = 0;
		assert_int_equal(ldns_pkt2wire(&wire, r, &wl), LDNS_STATUS_OK);
		assert_int_equal(sendto(f->fd, wire, wl, 0, (struct sockaddr *)&from, fl), (ssize_t)wl);
		free(wire);
		ldns_pkt_free(q);
		ldns_pkt_free(r);
		fl = sizeof(from);
	}
}


/* Turns of the loop, the fake resolvers answering between them, until the
 * probe is done or turns run out. */
static void turns(struct diag_loop *loop, struct fake_dns *f, size_t nf, int n, const int *done)
{
	for (int i = 0; i < n && !*done; i++) {
		assert_true(diag_loop_run_once(loop, 20) >= 0);
		for (size_t k = 0; k < nf; k++)
			fake_serve(&f[k]);
		if (turn_hook)
			turn_hook(turn_hook_arg);
	}
}

/* Turns until the probe is done (at most 5 s). */
static void until_done(struct diag_loop *loop, struct fake_dns *f, size_t nf, const int *done)
{
	int64_t end = diag_now_ms() + 5000;
	while (!*done && diag_now_ms() < end)
		turns(loop, f, nf, 1, done);
}

/* After a cancel: the loop has nothing left to do (within 3 s). */
static void drained(struct diag_loop *loop)
{
	int64_t end = diag_now_ms() + 3000;
	int rc;
	while ((rc = diag_loop_run_once(loop, 50)) > 0 && diag_now_ms() < end)
		;
	assert_int_equal(rc, 0);
}


static const struct diag_finding *find(const struct diag_report *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i]->id, id))
			return r->v[i];
	return NULL;
}

static size_t count(const struct diag_report *r, const char *id)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += !strcmp(r->v[i]->id, id);
	return n;
}

#endif
