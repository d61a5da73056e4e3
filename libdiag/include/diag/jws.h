/* SPDX-License-Identifier: ISC */
/*
 * jws.h - audit captured ACME requests: KID/JWK header rules, alg, nonce,
 * url, payload, Content-Type and signatures, as RFC 8555 section 6 and
 * Boulder enforce them.
 */
#ifndef DIAG_JWS_H
#define DIAG_JWS_H

#include <stddef.h>

#include "diag/acme.h"
#include "diag/finding.h"
#include "diag/probe.h"

/* One request found in a capture. */
struct jws_capture_req {
	char *jws;            /* the flattened JWS (JSON text) */
	char *url;            /* request URL, NULL when the capture does not record it */
	char *content_type;   /* NULL when not recorded */
	char where[48];       /* "line 52", "entry 3" */
};

struct jws_capture {
	const char *format;   /* "jws", "jsonl", "har", "certbot-log" */
	struct jws_capture_req *req;
	size_t n, cap;
	size_t skipped;       /* lines or entries that were not requests we could read */
	size_t over_limit;    /* requests past JWS_MAX_REQUESTS, not read */
};

#define JWS_MAX_REQUESTS 10000
#define JWS_MAX_CAPTURE (64 * 1024 * 1024)

/*
 * Read a capture from memory: one flattened JWS (JSON), JSON lines (each a
 * JWS, or {"url":..., "content_type":..., "jws":{...}}), a HAR export, or
 * a certbot debug log ("Sending POST request to URL:" then the JWS).
 * Returns 0, or -1 when nothing in it can be read (err set).
 */
int jws_capture_parse(const char *buf, size_t len, struct jws_capture *c, char *err, size_t errlen);
void jws_capture_free(struct jws_capture *c);

struct jws_opts {
	const struct jws_capture *cap; /* must outlive the probe */
	const json_t *directory;       /* the server's directory (copied); NULL: directory_url */
	const struct acme_key *key;    /* to verify kid-signed requests; NULL: skip those;
	                                  must outlive the probe */
	/* Without directory: a directory URL the probe fetches first (NULL:
	 * endpoints are named from URL paths), and how. */
	const char *directory_url;
	const char *ca_bundle;         /* NULL: the system's trust store */
	int insecure;                  /* 1: no TLS verification (explicit request only) */
	int timeout_ms;                /* <= 0: 10000 */
};

/*
 * Start on loop (see probe.h): fetch the directory when directory_url is
 * given (finding jws.directory), then check every request of the capture,
 * a batch per turn of the loop (never inside this call), then jws.summary.
 * NULL only when out of memory.
 */
struct diag_probe *diag_jws_start(struct diag_loop *loop, const struct jws_opts *o,
                                  struct diag_report *r, diag_done_cb done, void *arg);
/* The same on a loop of its own, to the end. 0, or -1 (an error finding
 * jws.run says why). */
int diag_jws_run(const struct jws_opts *o, struct diag_report *r);

#endif
