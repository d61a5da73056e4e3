/* SPDX-License-Identifier: ISC */
/*
 * fetch.h - libdiag internal: one HTTP(S) GET or POST on the diag loop,
 * body capped, redirects bounded, the outcome classified by CURLcode and
 * errno (never by the text of curl's message). For CRLs, OCSP, AIA
 * caIssuers and ARI.
 */
#ifndef DIAG_FETCH_H
#define DIAG_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "diag/loop.h"

struct fetch_opts {
	const char *url;
	const unsigned char *post;  /* NULL: GET */
	size_t postlen;
	const char *content_type;   /* of the POST body */
	size_t max_body;            /* bytes kept at most; more fails the fetch (too_big) */
	int timeout_ms;             /* the whole transfer; connect gets the same */
	const char *ca_bundle;      /* https: extra trust; NULL: the system's */
	int insecure;
};

struct fetch_result {
	CURLcode rc;
	long status;                /* HTTP status, 0 if none */
	unsigned char *body;        /* owned by the result; set to NULL to keep it */
	size_t len;
	int too_big;
	long os_errno;
	char content_type[128];
	long retry_after;           /* seconds, -1 if none */
	int64_t date_s;             /* Date header, 0 if none */
	int64_t ms;                 /* wall time of the transfer */
	char effective_url[512];
};

struct fetch;
typedef void (*fetch_cb)(void *arg, struct fetch_result *res);

/* Start; cb runs once from the loop. NULL when out of memory (cb never runs). */
struct fetch *fetch_start(struct diag_loop *loop, const struct fetch_opts *o, fetch_cb cb, void *arg);
/* Stop a fetch whose cb has not run: cb never runs. NULL-safe. */
void fetch_cancel(struct fetch *f);

/* Why a fetch gave no usable answer, in words ("connection refused",
 * "timed out after 5 s", "larger than 64 MiB"); NULL when it did (a
 * transfer that ended, any status). */
const char *fetch_error(const struct fetch_result *r, char *buf, size_t len);

#endif
