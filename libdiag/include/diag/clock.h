/* SPDX-License-Identifier: ISC */
/*
 * clock.h - clock skew: the local clock against ACME servers' Date headers
 * (and other HTTP servers), and against SNTP servers, all at once.
 */
#ifndef DIAG_CLOCK_H
#define DIAG_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "diag/dns.h"
#include "diag/finding.h"
#include "diag/probe.h"

struct clock_opts {
	const char *const *urls;    /* fetched with GET; the Date header is read */
	size_t nurls;
	const char *const *ntp;     /* SNTP servers: host, host:port, [IPv6]:port */
	size_t nntp;
	int family;                 /* 0, 4 or 6 */
	int timeout_ms;             /* per source; <= 0: 5000 */
	double warn_s;              /* |offset| at or above: warn (> 0) */
	double fail_s;              /* |offset| at or above: fail (>= warn_s) */
	const char *ca_bundle;      /* NULL: system trust store */
	int insecure;               /* 1: no TLS verification (explicit request only) */
	/* NTP host names are looked up on the loop (A, AAAA) at the first resolver */
	const struct diag_server *ns;  /* nns 0: the system's (resolv_conf) */
	size_t nns;
	const char *resolv_conf;    /* NULL: /etc/resolv.conf */
	struct dns_engine *engine;  /* NULL: the probe's own */
};

/*
 * One offset estimate. offset_ms > 0: the local clock is ahead of the
 * source. uncertainty_ms: half the round trip, plus the Date header's
 * one-second resolution for HTTP.
 */
struct clock_sample {
	int64_t offset_ms;
	int64_t uncertainty_ms;
	int64_t rtt_ms;
};

/*
 * From the local wall-clock times a request was sent and its response
 * began (ms since the epoch) and the server's Date (s since the epoch):
 * the server stamped a time in [date, date + 1 s) somewhere in between.
 */
struct clock_sample diag_clock_from_date(int64_t sent_ms, int64_t received_ms, int64_t date_s);

/*
 * From the four SNTP timestamps in ms since the epoch (t1 client send,
 * t2 server receive, t3 server send, t4 client receive).
 */
struct clock_sample diag_clock_from_ntp(int64_t t1, int64_t t2, int64_t t3, int64_t t4);

/* Thresholds every probe that measures the clock uses unless told otherwise. */
#define DIAG_CLOCK_WARN_S 30.0
#define DIAG_CLOCK_FAIL_S 300.0

/*
 * The one clock-skew judgment, for every probe that measures the clock: a
 * clock.skew finding about source (shown as server when set), judged by the
 * smallest skew the measurement allows (|offset| - uncertainty): at or
 * above fail_s it fails, at or above warn_s it warns. method is
 * "http-date" or "sntp". Returns the finding, NULL when out of memory.
 */
struct diag_finding *diag_clock_judge(struct diag_report *r, const char *source,
                                      const char *server, const char *method,
                                      struct clock_sample s, double warn_s, double fail_s);

/*
 * Check every source concurrently (see probe.h); findings clock.skew and
 * clock.source. o must stay valid until done. NULL when out of memory.
 */
struct diag_probe *diag_clock_start(struct diag_loop *loop, const struct clock_opts *o,
                                    struct diag_report *r, diag_done_cb done, void *arg);
/* The same on a loop of its own, to the end. */
int diag_clock_run(const struct clock_opts *o, struct diag_report *r);

#endif
