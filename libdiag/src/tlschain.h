/* SPDX-License-Identifier: ISC */
/*
 * tlschain.h - libdiag internal: the certificate chain a TLS server sends,
 * fetched from every address of a host on its own and at once (IPv4 and
 * IPv6 may reach different servers, as for HTTP-01). The handshake is
 * libcurl's (connect only, no HTTP request, so any TLS server will do),
 * pinned to each address, with SNI set to the host; the chain is whatever
 * the server sent, in its order, verified or not.
 */
#ifndef DIAG_TLSCHAIN_H
#define DIAG_TLSCHAIN_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <openssl/x509.h>

#include "diag/dns.h"
#include "diag/loop.h"

#define TLS_MAX_ADDRS 8    /* addresses per family fetched */
#define TLS_MAX_CHAIN 16   /* certificates kept of a served chain */

struct tls_opts {
	const char *host;               /* a name or an IP address; required */
	uint16_t port;                  /* 0: 443 */
	int family;                     /* 0 both, 4, 6 */
	const struct diag_server *ns;   /* resolvers; nns 0: resolv.conf's */
	size_t nns;
	int timeout_ms;                 /* per connection and handshake; <= 0: 10000 */
};

/* What one address served. */
struct tls_served {
	char ip[48];
	int family;                     /* AF_INET or AF_INET6 */
	CURLcode rc;                    /* CURLE_OK: a chain was received */
	long os_errno;
	char err[160];                  /* why not, in words ("" when rc is CURLE_OK) */
	STACK_OF(X509) *chain;          /* leaf first, as sent; NULL when none */
	int64_t ms;
};

struct tls_fetch;
/*
 * Every address is done: v[0..n) in the order IPv6 then IPv4, or n 0 and
 * dns_err saying why there is no address. The array belongs to the fetch
 * (valid until it is freed).
 */
typedef void (*tls_done_cb)(void *arg, struct tls_served *v, size_t n, const char *dns_err);

/* Start on loop (with a DNS engine of its own); NULL when out of memory. */
struct tls_fetch *tls_fetch_start(struct diag_loop *loop, const struct tls_opts *o,
                                  tls_done_cb cb, void *arg);
/* Free (cancels what is in flight; cb never runs after). NULL-safe. */
void tls_fetch_free(struct tls_fetch *t);

#endif
