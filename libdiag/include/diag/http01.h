/* SPDX-License-Identifier: ISC */
/*
 * http01.h - HTTP-01 reachability, address by address, as the CA's
 * validator sees it (Boulder's va/http.go rules, or Pebble's).
 */
#ifndef DIAG_HTTP01_H
#define DIAG_HTTP01_H

#include <stddef.h>
#include <stdint.h>

#include "diag/dns.h"
#include "diag/finding.h"
#include "diag/probe.h"

enum http01_profile {
	HTTP01_LETSENCRYPT = 0, /* Boulder: first AAAA, fall back to first A on connect errors */
	HTTP01_PEBBLE,          /* Pebble: the first address only (AAAA first), no fallback */
	HTTP01_RFC8555,         /* any address may be used: every address must work */
};

/* "letsencrypt", "pebble", "rfc8555" -> 0 and the profile; -1 if unknown. */
int diag_http01_profile_parse(const char *s, enum http01_profile *out);
const char *diag_http01_profile_name(enum http01_profile p);

/*
 * Everything the options point to is copied when the probe starts, except
 * engine, which must outlive the probe.
 */
struct http01_opts {
	const char *domain;             /* the identifier (no wildcard); required */
	int family;                     /* 0 both, 4, 6: the addresses probed (not the
	                                   resolvers' transport) */
	const struct diag_server *ns;   /* resolvers for A/AAAA, all asked at once; the
	                                   first that answers is used; nns 0: resolv_conf's */
	size_t nns;
	const char *resolv_conf;        /* NULL: /etc/resolv.conf */
	struct dns_engine *engine;      /* shared DNS engine; NULL: the probe makes its own */
	int timeout_ms;                 /* per connect and per TLS handshake; <= 0: 10000 */
	uint16_t port;                  /* first request's port; 0: 80 */
	const char *token;              /* NULL: a random probe token */
	const char *key_authorization;  /* NULL: the body is not compared */
	enum http01_profile profile;
};

/* CA limits (Boulder). */
#define HTTP01_MAX_REDIRECTS 10    /* 11 followed, the 12th fails (Boulder's check order) */
#define HTTP01_MAX_BODY 128        /* a body of this many bytes or more is refused */
#define HTTP01_MAX_ADDRS 16        /* addresses probed per family (more: http01.limit) */
#define HTTP01_MAX_URL 2000        /* redirect target path limit */

/*
 * Key authorization comparison as the CA does it: body with trailing
 * whitespace removed (Unicode spaces for Boulder; only \n \r \t for
 * Pebble) equals ka exactly. 1 if it matches.
 */
int diag_http01_body_matches(const char *body, size_t len, const char *ka,
                             enum http01_profile p);

/*
 * Is ip (text) in a range the CA refuses (RFC 1918, loopback, link-local,
 * CGNAT, documentation, ULA, multicast, ...)? Writes the range's name.
 */
int diag_ip_reserved(const char *ip, const char **why);

/*
 * Probe every address on loop (see probe.h): A and AAAA are asked of every
 * resolver at once, then every address is fetched at once, then the CA's
 * view is judged; findings go to r, then done(arg) runs. NULL only when out
 * of memory.
 */
struct diag_probe *diag_http01_start(struct diag_loop *loop, const struct http01_opts *o,
                                     struct diag_report *r, diag_done_cb done, void *arg);

/* The same on a loop of its own, to the end. Returns 0, -1 if it could not
 * run to the end (an http01.run error finding says why). */
int diag_http01_run(const struct http01_opts *o, struct diag_report *r);

#endif
