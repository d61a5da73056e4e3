/*
 * loop.h - the one event loop that drives every probe.
 *
 * c-ares sockets are handed to curl_multi_poll() as extra descriptors, so
 * DNS queries and HTTP transfers progress together and a run takes as long
 * as its slowest probe, not the sum of them. Timers serve polling probes
 * (e.g. --wait).
 */
#ifndef DIAG_LOOP_H
#define DIAG_LOOP_H

#include <stdint.h>

#include <ares.h>
#include <curl/curl.h>

struct diag_loop;

/* Returns NULL on failure (curl or c-ares could not initialise). */
struct diag_loop *diag_loop_new(void);
/* Destroys every channel created through the loop and every curl handle
 * still attached; their callbacks are not called. */
void diag_loop_free(struct diag_loop *loop);

/*
 * Create a c-ares channel whose sockets the loop watches. opts/optmask as
 * for ares_init_options(); the loop adds its socket-state callback. The
 * channel belongs to the loop (freed by diag_loop_free()).
 * Returns an ares status code.
 */
int diag_loop_ares_channel(struct diag_loop *loop, ares_channel *out,
                           struct ares_options *opts, int optmask);

typedef void (*diag_curl_done_cb)(void *arg, CURL *easy, CURLcode result);
/* Attach an easy handle; done() runs once when the transfer ends. The
 * caller still owns the easy handle and frees it after done(). */
int diag_loop_add_curl(struct diag_loop *loop, CURL *easy,
                       diag_curl_done_cb done, void *arg);

typedef void (*diag_timer_cb)(void *arg);
/* Run cb once, delay_ms from now. Returns 0, or -1 when out of memory. */
int diag_loop_timer(struct diag_loop *loop, int64_t delay_ms,
                    diag_timer_cb cb, void *arg);

typedef void (*diag_fd_cb)(void *arg, int fd, int readable);
/*
 * Watch fd for readability until timeout_ms from now: cb runs once, with
 * readable 1 when data arrived or 0 at the timeout. The caller owns fd.
 * Returns 0, or -1 when out of memory.
 */
int diag_loop_watch_fd(struct diag_loop *loop, int fd, int64_t timeout_ms,
                       diag_fd_cb cb, void *arg);

/*
 * Run until no DNS query, transfer, timer or watched fd is pending. Callbacks may add
 * more work. Returns 0, or -1 if polling failed.
 */
int diag_loop_run(struct diag_loop *loop);

#endif
