/* SPDX-License-Identifier: ISC */
/*
 * dns.h - DNS transport and names.
 *
 * Queries are built and parsed with ldns and sent with c-ares to one chosen
 * server each (never the system's rotation), concurrently on the diag loop:
 * UDP with EDNS, TCP when the reply is truncated, a per-query timeout and
 * one retry.
 */
#ifndef DIAG_DNS_H
#define DIAG_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "diag/loop.h"

#define DIAG_DNS_PORT 53

/* One server to ask: an address and a port, plus how the user wrote it. */
struct diag_server {
	struct sockaddr_storage addr;  /* AF_INET or AF_INET6, port set */
	socklen_t addrlen;
	int family;                    /* AF_INET or AF_INET6 */
	char label[64];                /* "192.0.2.1", "[2001:db8::1]:5353" */
	char ip[48];                   /* address only, no port */
	uint16_t port;
};

/*
 * Split "HOST", "HOST:PORT", "[IPv6]", "[IPv6]:PORT" or a bare IPv6 address
 * into host and port (default_port when none is written). Returns 0, or -1
 * with a reason ("port out of range (1-65535)", ...) in err.
 */
int diag_hostport(const char *s, char *host, size_t hostlen, uint16_t *port,
                  uint16_t default_port, char *err, size_t errlen);

/*
 * Parse a server as diag_hostport() splits it; a host name is resolved
 * with the system resolver (the first address is used; for command lines,
 * never inside a probe). family 0 allows both, 4 or 6 restricts. On error
 * returns -1 and writes a reason to err.
 */
int diag_server_parse(const char *s, int family, struct diag_server *out,
                      char *err, size_t errlen);

/* Fill a server from a numeric address; port 0 means 53. -1 if not an IP. */
int diag_server_from_ip(const char *ip, uint16_t port, struct diag_server *out);

/* The nameservers of /etc/resolv.conf (or path), at most max. */
size_t diag_system_resolvers(const char *path, struct diag_server *out, size_t max);

/*
 * The resolvers a probe asks: ns[0..nns) when nns > 0, else the nameservers
 * of resolv_conf (NULL: /etc/resolv.conf); only those of family (0 both, 4
 * or 6); at most max. Returns how many were written to out (0: none usable).
 */
size_t diag_resolvers(const struct diag_server *ns, size_t nns, const char *resolv_conf,
                      int family, struct diag_server *out, size_t max);

/*
 * Check a domain name as a user typed it. Accepts an optional trailing dot
 * and a leading "*." (wildcard_out set to 1). Writes the lowercased name
 * without trailing dot to out. Returns -1 with a reason in err.
 */
int diag_domain_normalize(const char *in, char *out, size_t outlen,
                          int *wildcard_out, char *err, size_t errlen);

/*
 * Is host (no port, no brackets) an IP address or a host name? A name made
 * of numbers ("1.2.3", "0x7f.1") is neither: the C library would read it as
 * an IPv4 address in an old shorthand (inet_aton), so it is refused.
 * Returns -1 with a reason in err.
 */
int diag_host_check(const char *host, char *err, size_t errlen);

/*
 * Does name end in a TLD of the public DNS? Special-use and private-use
 * names (.test, .local, .internal, .home.arpa, single labels, ...) do not.
 * An approximation of the CAs' public-suffix rule without the whole list.
 */
int diag_public_tld(const char *name);

enum dns_status {
	DNS_OK = 0,        /* a parsed reply is in pkt (any rcode) */
	DNS_TIMEOUT,       /* no reply within the timeout */
	DNS_REFUSED_CONN,  /* connection refused / unreachable */
	DNS_BADREPLY,      /* a reply that does not parse as DNS */
	DNS_ERROR,         /* anything else (out of memory, bad name) */
};

const char *dns_status_text(enum dns_status st);

/* Query flags. */
#define DNS_Q_RD     0x1  /* recursion desired */
#define DNS_Q_TCP    0x2  /* TCP only */
#define DNS_Q_NOEDNS 0x4  /* no OPT record */

struct dns_q;
typedef void (*dns_ask_cb)(void *arg, struct dns_q *q);
struct dns_waiter {
	dns_ask_cb cb;
	void *arg;
};
struct dns_send;

/* One query and, once done, its outcome. */
struct dns_q {
	struct diag_server server;  /* a copy: the query does not point at the caller's */
	char *qname;          /* absolute form, with trailing dot */
	ldns_rr_type qtype;
	ldns_rr_class qclass;
	unsigned flags;
	/* outcome */
	int done;
	enum dns_status status;
	const char *errtext;  /* static text for non-OK status */
	ldns_pkt *pkt;        /* parsed reply when status == DNS_OK */
	int64_t sent_ms, rtt_ms;
	size_t wire_len;
	int not_asked;        /* 1: the server had timed out earlier in the run */
	int tcp_failed;       /* 1: a truncated UDP reply, and the retry over TCP failed */
	void (*on_done)(struct dns_q *q);  /* optional (queries sent with dns_q_send) */
	void *arg;
	/* engine bookkeeping */
	struct dns_q *hnext;        /* the engine's hash chain */
	unsigned holders, askers;   /* probes holding it now, and that ever asked it */
	struct dns_send *inflight;  /* the send in progress, NULL if none */
	struct dns_q *qnext;        /* waiting for a slot at its server: the next */
	void *queued_in;            /* ... and the server's queue, NULL when not waiting */
	struct dns_waiter *waiters; /* dns_ask() callers waiting for the outcome */
	size_t nwaiters, capwaiters;
};

struct dns_engine;

/*
 * An engine sends queries on a loop. timeout_ms is the whole budget of one
 * query, retries included. Free the engine before its loop: its channels
 * go with it, and no callback of its queries runs afterwards.
 */
struct dns_engine *dns_engine_new(struct diag_loop *loop, int timeout_ms);
void dns_engine_free(struct dns_engine *e);
int dns_engine_timeout(const struct dns_engine *e);

/*
 * Ask srv a question, once per engine: the same (server, name, type, class,
 * flags) asked again, by any probe on the engine, shares the first query
 * and its outcome. A server that timed out is not asked again in the run:
 * later questions to it end at once with DNS_TIMEOUT and not_asked set, so
 * a dead server costs one timeout per run. cb(arg, q) runs once when q is
 * done, at once (before dns_ask returns) when it is done already. The
 * query belongs to the engine. NULL when out of memory (cb never runs).
 */
struct dns_q *dns_ask(struct dns_engine *e, const struct diag_server *srv, const char *qname,
                      ldns_rr_type type, ldns_rr_class cls, unsigned flags,
                      dns_ask_cb cb, void *arg);
/*
 * arg (a probe) is done with what it asked, or cancelled: its callbacks are
 * dropped, and answers that no other probe ever asked for are freed (a
 * batch of thousands of names keeps the zones' answers, not every name's).
 * Pointers arg kept to those queries are invalid afterwards.
 */
void dns_engine_forget(struct dns_engine *e, void *arg);
/* Questions the engine holds now (for tests and make bench). */
size_t dns_engine_cached(const struct dns_engine *e);

/* A private query (not sent, not shared; polls use these). qname may lack
 * the trailing dot. NULL on ENOMEM. Free it with dns_q_free(), in flight
 * or not. */
struct dns_q *dns_q_new(const struct diag_server *srv, const char *qname,
                        ldns_rr_type type, ldns_rr_class cls, unsigned flags);
void dns_q_free(struct dns_q *q);
/* Drop a previous outcome so the query can be sent again. */
void dns_q_reset(struct dns_q *q);

/* Send a private query; the outcome lands in q (and q->on_done runs)
 * during the loop's run. Returns 0, or -1 (then q is done with DNS_ERROR
 * and on_done has run). */
int dns_q_send(struct dns_engine *e, struct dns_q *q);

/* Record a reply received for q (what the transport does on receipt):
 * parses it with ldns and marks q done. Returns 0, or -1 (DNS_BADREPLY). */
int dns_q_set_reply(struct dns_q *q, const uint8_t *buf, size_t len);

/* What came of q in a word or two: "NXDOMAIN", "SERVFAIL", "timed out",
 * "not sent (out of memory)" for NULL... Static text. */
const char *dns_q_outcome(const struct dns_q *q);

/* Reply accessors (q may be NULL): rcode, or -1 when there is no parsed reply. */
int dns_q_rcode(const struct dns_q *q);
/* The RRs of type t in the answer section whose owner is name (any owner if
 * name is NULL). New list (free with ldns_rr_list_deep_free) or NULL. */
ldns_rr_list *dns_q_answer(const struct dns_q *q, ldns_rr_type t, const char *name);
/* The first address of type t (A or AAAA) in the answer, as text in out:
 * 1 if there is one, else 0. */
int dns_q_first_addr(const struct dns_q *q, ldns_rr_type t, char *out, size_t len);
/* First SOA in the authority section, or NULL (borrowed). */
const ldns_rr *dns_q_authority_soa(const struct dns_q *q);

/* Strings of a TXT RR joined, as the CA compares them: every byte counts,
 * so a NUL inside is kept, written "\x00", and a backslash is doubled (the
 * form is unambiguous; dns_txt_escape gives the same form of a value to
 * compare with it). malloc'd. */
char *dns_txt_joined(const ldns_rr *rr);
/* n bytes in the form dns_txt_joined uses. malloc'd. */
char *dns_txt_escape(const void *bytes, size_t n);
/* An owner or rdata name as text without the trailing dot ("." for the
 * root). malloc'd. */
char *dns_name_str(const ldns_rdf *rdf);

#endif
