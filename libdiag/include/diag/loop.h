/* SPDX-License-Identifier: ISC */
/*
 * loop.h - the one event loop that drives every probe.
 *
 * c-ares sockets are handed to curl_multi_poll() as extra descriptors, so
 * DNS queries and HTTP transfers progress together and a run takes as long
 * as its slowest probe, not the sum of them. Timers serve polling probes
 * (e.g. --wait); fd watches serve SNTP sockets and a UI's standard input.
 *
 * Every probe is a state machine on this loop: its start function returns
 * at once, its work advances only from the loop's callbacks, and it says
 * it is done through a callback of its own. The caller owns the loop: run
 * it to the end (diag_loop_run) or a turn at a time (diag_loop_run_once).
 */
#ifndef DIAG_LOOP_H
#define DIAG_LOOP_H

#include <stdint.h>

#include <ares.h>
#include <curl/curl.h>

struct diag_loop;

/* Returns NULL on failure (curl or c-ares could not initialise). */
struct diag_loop *diag_loop_new(void);
/*
 * Destroys every channel created through the loop, detaches every curl
 * handle still attached and drops every timer and watch; no callback runs.
 * Free the probes (cancel them) first: a probe must not outlive its loop.
 */
void diag_loop_free(struct diag_loop *loop);

/*
 * Create a c-ares channel whose sockets the loop watches. opts/optmask as
 * for ares_init_options(); the loop adds its socket-state callback. The
 * channel belongs to the loop until diag_loop_ares_free().
 * Returns an ares status code.
 */
int diag_loop_ares_channel(struct diag_loop *loop, ares_channel *out,
                           struct ares_options *opts, int optmask);
/* Destroy a channel made by diag_loop_ares_channel(): c-ares calls the
 * callbacks of its queries with ARES_EDESTRUCTION, then it is gone. */
void diag_loop_ares_free(struct diag_loop *loop, ares_channel ch);

typedef void (*diag_curl_done_cb)(void *arg, CURL *easy, CURLcode result);
/* Attach an easy handle; done() runs once when the transfer ends. The
 * caller still owns the easy handle and frees it after done() (or after
 * diag_loop_remove_curl()). Returns 0, or -1 (done will not run). */
int diag_loop_add_curl(struct diag_loop *loop, CURL *easy,
                       diag_curl_done_cb done, void *arg);
/* Detach a transfer before it ends: its done() never runs. Safe to call
 * for a handle that is not attached. */
void diag_loop_remove_curl(struct diag_loop *loop, CURL *easy);

typedef void (*diag_timer_cb)(void *arg);
/* Run cb once, delay_ms from now. Returns 0, or -1 when out of memory. */
int diag_loop_timer(struct diag_loop *loop, int64_t delay_ms,
                    diag_timer_cb cb, void *arg);
/* Drop every timer whose arg is arg (none of them runs). */
void diag_loop_cancel_timers(struct diag_loop *loop, void *arg);

typedef void (*diag_fd_cb)(void *arg, int fd, int readable);
/*
 * Watch fd for readability until timeout_ms from now: cb runs once, with
 * readable 1 when data arrived or 0 at the timeout. The caller owns fd.
 * Returns 0, or -1 when out of memory.
 */
int diag_loop_watch_fd(struct diag_loop *loop, int fd, int64_t timeout_ms,
                       diag_fd_cb cb, void *arg);
/*
 * The same for a socket being connected or written: cb runs once, with 1
 * when fd is writable or has something to report (a connect that failed
 * makes it readable: read or getsockopt(SO_ERROR) then says why), or 0 at
 * the timeout. Returns 0, or -1 when out of memory.
 */
int diag_loop_watch_fd_write(struct diag_loop *loop, int fd, int64_t timeout_ms,
                             diag_fd_cb cb, void *arg);
/*
 * Watch fd for as long as it takes: cb(arg, fd, 1) runs each time fd is
 * readable, until diag_loop_unwatch_fd(). A persistent watch is not work
 * in progress: diag_loop_run() returns while it is still set.
 */
int diag_loop_watch_fd_persistent(struct diag_loop *loop, int fd, diag_fd_cb cb, void *arg);
/* Drop every watch (one-shot, for writing or persistent) of fd; no callback runs. */
void diag_loop_unwatch_fd(struct diag_loop *loop, int fd);

/*
 * cb(arg) runs at the end of every turn of the loop, after the callbacks
 * of that turn: where a report's observer is flushed (diag_report_flush).
 */
int diag_loop_on_turn(struct diag_loop *loop, diag_timer_cb cb, void *arg);
void diag_loop_remove_turn_hook(struct diag_loop *loop, diag_timer_cb cb, void *arg);

/*
 * One turn: wait at most max_ms (-1: until the next timer, timeout or
 * event; 0: do not wait) for something to happen, then run its callbacks.
 * Returns 1 while work (a DNS query, transfer, timer or one-shot watch) is
 * pending, 0 when none is, -1 if polling failed.
 */
int diag_loop_run_once(struct diag_loop *loop, int max_ms);

/* Wake a diag_loop_run_once() that is waiting (curl_multi_wakeup(): safe
 * from another thread). Returns 0 or -1. */
int diag_loop_wakeup(struct diag_loop *loop);

/*
 * Run until no DNS query, transfer, timer or one-shot watch is pending.
 * Callbacks may add more work. Returns 0, or -1 if polling failed.
 */
int diag_loop_run(struct diag_loop *loop);

#endif
