/* SPDX-License-Identifier: ISC */
/* loop.c - one poll loop over c-ares sockets, curl transfers, timers and fds. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "diag/finding.h"
#include "grow.h"
#include "diag/loop.h"

struct ares_fd {
	ares_socket_t fd;
	ares_channel ch;
	int readable, writable;
};

struct transfer {
	CURL *easy;
	diag_curl_done_cb done;
	void *arg;
};

struct timer {
	uint64_t seq;
	int64_t due;
	diag_timer_cb cb;
	void *arg;
};

/* Each channel's socket-state callback knows its loop and its channel. */
struct chan_ctx {
	struct diag_loop *loop;
	ares_channel ch;
};

struct watch {
	uint64_t seq;
	int fd;
	int persistent;
	short events;          /* CURL_WAIT_POLLIN, or POLLIN | POLLOUT for a write watch */
	int64_t deadline;      /* one-shot only */
	diag_fd_cb cb;
	void *arg;
};

struct hook {
	diag_timer_cb cb;
	void *arg;
};

struct diag_loop {
	CURLM *multi;
	struct transfer **xfers;
	size_t nxfers, capxfers;
	struct chan_ctx **chans;
	size_t nchans, capchans;
	struct ares_fd *fds;
	size_t nfds, capfds;
	struct timer *timers;
	size_t ntimers, captimers;
	struct watch *watches;
	size_t nwatches, capwatches;
	struct hook *hooks;
	size_t nhooks, caphooks;
	uint64_t seq;          /* creation order of timers and watches */
};

static int global_ready;

struct diag_loop *diag_loop_new(void)
{
	if (!global_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
			return NULL;
		global_ready = 1;
	}
	struct diag_loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return NULL;
	loop->multi = curl_multi_init();
	if (!loop->multi) {
		free(loop);
		return NULL;
	}
	return loop;
}

void diag_loop_free(struct diag_loop *loop)
{
	if (!loop)
		return;
	/* No callback may run from here on: timers and watches go first, then
	 * the channels (whose query callbacks see ARES_EDESTRUCTION; the DNS
	 * engine, freed before the loop, has detached its own). */
	loop->ntimers = loop->nwatches = loop->nhooks = 0;
	for (size_t i = 0; i < loop->nchans; i++) {
		ares_destroy(loop->chans[i]->ch);
		free(loop->chans[i]);
	}
	for (size_t i = 0; i < loop->nxfers; i++) {
		curl_multi_remove_handle(loop->multi, loop->xfers[i]->easy);
		free(loop->xfers[i]);
	}
	free(loop->xfers);
	free(loop->chans);
	free(loop->fds);
	free(loop->timers);
	free(loop->watches);
	free(loop->hooks);
	curl_multi_cleanup(loop->multi);
	free(loop);
}

/* ---- c-ares ---- */

/* c-ares tells us which sockets to watch; keep a table of them. */
static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct chan_ctx *cc = data;
	struct diag_loop *loop = cc->loop;
	for (size_t i = 0; i < loop->nfds; i++) {
		if (loop->fds[i].fd != fd)
			continue;
		if (!readable && !writable) {
			loop->fds[i] = loop->fds[--loop->nfds];
		} else {
			loop->fds[i].readable = readable;
			loop->fds[i].writable = writable;
		}
		return;
	}
	if (!readable && !writable)
		return;
	if (diag_grow((void **)&loop->fds, &loop->capfds, loop->nfds + 1, sizeof(*loop->fds)))
		return;
	loop->fds[loop->nfds++] = (struct ares_fd){
		.fd = fd, .ch = cc->ch, .readable = readable, .writable = writable,
	};
}

int diag_loop_ares_channel(struct diag_loop *loop, ares_channel *out,
                           struct ares_options *opts, int optmask)
{
	if (diag_grow((void **)&loop->chans, &loop->capchans, loop->nchans + 1,
	         sizeof(*loop->chans)))
		return ARES_ENOMEM;
	struct chan_ctx *cc = calloc(1, sizeof(*cc));
	if (!cc)
		return ARES_ENOMEM;
	cc->loop = loop;
	opts->sock_state_cb = sock_state_cb;
	opts->sock_state_cb_data = cc;
	int rc = ares_init_options(&cc->ch, opts, optmask | ARES_OPT_SOCK_STATE_CB);
	if (rc != ARES_SUCCESS) {
		free(cc);
		return rc;
	}
	loop->chans[loop->nchans++] = cc;
	*out = cc->ch;
	return ARES_SUCCESS;
}

void diag_loop_ares_free(struct diag_loop *loop, ares_channel ch)
{
	for (size_t i = 0; i < loop->nchans; i++) {
		if (loop->chans[i]->ch != ch)
			continue;
		struct chan_ctx *cc = loop->chans[i];
		loop->chans[i] = loop->chans[--loop->nchans];
		ares_destroy(ch);
		free(cc);
		/* sockets c-ares did not report closed */
		for (size_t k = 0; k < loop->nfds;)
			if (loop->fds[k].ch == ch)
				loop->fds[k] = loop->fds[--loop->nfds];
			else
				k++;
		return;
	}
}

static int ares_pending(struct diag_loop *loop, int64_t *wait_ms)
{
	int pending = 0;
	for (size_t i = 0; i < loop->nchans; i++) {
		struct timeval tv, *tvp = ares_timeout(loop->chans[i]->ch, NULL, &tv);
		if (!tvp)
			continue;
		pending = 1;
		int64_t ms = (int64_t)tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000;
		/* c-ares 1.18 counts in whole milliseconds and truncates: with
		 * under a millisecond left it says 0, and a pass over the
		 * channel then finds nothing due. Waiting 0 would spin until
		 * the millisecond is over; one millisecond is never too long. */
		if (ms < 1)
			ms = 1;
		if (ms < *wait_ms)
			*wait_ms = ms;
	}
	return pending;
}

/* ---- curl ---- */

int diag_loop_add_curl(struct diag_loop *loop, CURL *easy,
                       diag_curl_done_cb done, void *arg)
{
	if (diag_grow((void **)&loop->xfers, &loop->capxfers, loop->nxfers + 1, sizeof(*loop->xfers)))
		return -1;
	struct transfer *t = malloc(sizeof(*t));
	if (!t)
		return -1;
	*t = (struct transfer){ .easy = easy, .done = done, .arg = arg };
	curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
	if (curl_multi_add_handle(loop->multi, easy) != CURLM_OK) {
		free(t);
		return -1;
	}
	loop->xfers[loop->nxfers++] = t;
	return 0;
}

/* Forget transfer t (already removed from the multi handle). */
static void drop_transfer(struct diag_loop *loop, struct transfer *t)
{
	for (size_t i = 0; i < loop->nxfers; i++)
		if (loop->xfers[i] == t) {
			loop->xfers[i] = loop->xfers[--loop->nxfers];
			break;
		}
	free(t);
}

void diag_loop_remove_curl(struct diag_loop *loop, CURL *easy)
{
	for (size_t i = 0; i < loop->nxfers; i++)
		if (loop->xfers[i]->easy == easy) {
			curl_multi_remove_handle(loop->multi, easy);
			drop_transfer(loop, loop->xfers[i]);
			return;
		}
}

static void finish_transfers(struct diag_loop *loop)
{
	int left;
	CURLMsg *m;
	while ((m = curl_multi_info_read(loop->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *easy = m->easy_handle;
		CURLcode res = m->data.result;
		struct transfer *t = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
		curl_multi_remove_handle(loop->multi, easy);
		if (!t)
			continue;
		diag_curl_done_cb done = t->done;
		void *arg = t->arg;
		drop_transfer(loop, t);
		done(arg, easy, res);  /* may attach the same handle again */
	}
}

/* ---- timers, watches, hooks ---- */

int diag_loop_timer(struct diag_loop *loop, int64_t delay_ms,
                    diag_timer_cb cb, void *arg)
{
	if (diag_grow((void **)&loop->timers, &loop->captimers, loop->ntimers + 1,
	         sizeof(*loop->timers)))
		return -1;
	loop->timers[loop->ntimers++] = (struct timer){
		.seq = ++loop->seq, .due = diag_now_ms() + (delay_ms > 0 ? delay_ms : 0),
		.cb = cb, .arg = arg,
	};
	return 0;
}

void diag_loop_cancel_timers(struct diag_loop *loop, void *arg)
{
	for (size_t i = 0; i < loop->ntimers;)
		if (loop->timers[i].arg == arg)
			loop->timers[i] = loop->timers[--loop->ntimers];
		else
			i++;
}

static int add_watch(struct diag_loop *loop, struct watch w)
{
	if (diag_grow((void **)&loop->watches, &loop->capwatches, loop->nwatches + 1,
	         sizeof(*loop->watches)))
		return -1;
	w.seq = ++loop->seq;
	loop->watches[loop->nwatches++] = w;
	return 0;
}

int diag_loop_watch_fd(struct diag_loop *loop, int fd, int64_t timeout_ms,
                       diag_fd_cb cb, void *arg)
{
	return add_watch(loop, (struct watch){
		.fd = fd, .events = CURL_WAIT_POLLIN,
		.deadline = diag_now_ms() + (timeout_ms > 0 ? timeout_ms : 0), .cb = cb, .arg = arg,
	});
}

/* curl_multi_poll() reports only POLLIN, POLLPRI and POLLOUT of extra
 * descriptors, not POLLERR or POLLHUP: a connect that fails ends with the
 * socket readable (its read side is shut down), so a write watch asks for
 * both. */
int diag_loop_watch_fd_write(struct diag_loop *loop, int fd, int64_t timeout_ms,
                             diag_fd_cb cb, void *arg)
{
	return add_watch(loop, (struct watch){
		.fd = fd, .events = CURL_WAIT_POLLIN | CURL_WAIT_POLLOUT,
		.deadline = diag_now_ms() + (timeout_ms > 0 ? timeout_ms : 0), .cb = cb, .arg = arg,
	});
}

int diag_loop_watch_fd_persistent(struct diag_loop *loop, int fd, diag_fd_cb cb, void *arg)
{
	return add_watch(loop, (struct watch){
		.fd = fd, .persistent = 1, .events = CURL_WAIT_POLLIN, .cb = cb, .arg = arg,
	});
}

void diag_loop_unwatch_fd(struct diag_loop *loop, int fd)
{
	for (size_t i = 0; i < loop->nwatches;)
		if (loop->watches[i].fd == fd)
			loop->watches[i] = loop->watches[--loop->nwatches];
		else
			i++;
}

int diag_loop_on_turn(struct diag_loop *loop, diag_timer_cb cb, void *arg)
{
	if (diag_grow((void **)&loop->hooks, &loop->caphooks, loop->nhooks + 1, sizeof(*loop->hooks)))
		return -1;
	loop->hooks[loop->nhooks++] = (struct hook){ .cb = cb, .arg = arg };
	return 0;
}

void diag_loop_remove_turn_hook(struct diag_loop *loop, diag_timer_cb cb, void *arg)
{
	for (size_t i = 0; i < loop->nhooks; i++)
		if (loop->hooks[i].cb == cb && loop->hooks[i].arg == arg) {
			memmove(&loop->hooks[i], &loop->hooks[i + 1],
			        (loop->nhooks - i - 1) * sizeof(*loop->hooks));
			loop->nhooks--;
			return;
		}
}

/*
 * Callbacks may add, cancel or move timers and watches, so each is found
 * again by its sequence number before it runs, and only those that
 * existed when the pass began run in it (a timer of 0 ms added by a
 * callback runs in the next turn, not in an endless pass).
 */
static void fire_timers(struct diag_loop *loop)
{
	uint64_t upto = loop->seq;
	for (;;) {
		int64_t now = diag_now_ms();
		size_t pick = loop->ntimers;
		for (size_t i = 0; i < loop->ntimers; i++)
			if (loop->timers[i].seq <= upto && loop->timers[i].due <= now &&
			    (pick == loop->ntimers || loop->timers[i].seq < loop->timers[pick].seq))
				pick = i;
		if (pick == loop->ntimers)
			return;
		struct timer t = loop->timers[pick];
		loop->timers[pick] = loop->timers[--loop->ntimers];
		t.cb(t.arg);
	}
}

/* Did poll report what watch w waits for? (A read and a write watch of
 * the same fd each have their entry; either entry's revents count.) */
static int is_ready(const struct curl_waitfd *extra, size_t from, size_t n,
                    const struct watch *w)
{
	short want = w->events & CURL_WAIT_POLLIN ? w->events | CURL_WAIT_POLLPRI : w->events;
	for (size_t k = from; k < n; k++)
		if (extra[k].fd == w->fd && (extra[k].revents & want))
			return 1;
	return 0;
}

/* Fire watches whose fd is ready (listed in extra) or whose time is up. */
static void fire_watches(struct diag_loop *loop, const struct curl_waitfd *extra,
                         size_t from, size_t n)
{
	uint64_t upto = loop->seq;
	uint64_t done_upto = 0;  /* watches with seq <= this were handled (sorted pass) */
	for (;;) {
		int64_t now = diag_now_ms();
		size_t pick = loop->nwatches;
		int readable = 0;
		for (size_t i = 0; i < loop->nwatches; i++) {
			const struct watch *w = &loop->watches[i];
			if (w->seq > upto || w->seq <= done_upto)
				continue;
			if (pick != loop->nwatches && w->seq > loop->watches[pick].seq)
				continue;
			int r = is_ready(extra, from, n, w);
			if (r || (!w->persistent && w->deadline <= now)) {
				pick = i;
				readable = r;
			}
		}
		if (pick == loop->nwatches)
			return;
		struct watch w = loop->watches[pick];
		done_upto = w.seq;
		if (!w.persistent)
			loop->watches[pick] = loop->watches[--loop->nwatches];
		w.cb(w.arg, w.fd, readable);
	}
}

static void run_hooks(struct diag_loop *loop)
{
	for (size_t i = 0; i < loop->nhooks; i++)
		loop->hooks[i].cb(loop->hooks[i].arg);
}

static int oneshot_watches(const struct diag_loop *loop)
{
	for (size_t i = 0; i < loop->nwatches; i++)
		if (!loop->watches[i].persistent)
			return 1;
	return 0;
}

static int pending(struct diag_loop *loop, int64_t *wait_ms)
{
	int dns = ares_pending(loop, wait_ms);
	int64_t now = diag_now_ms();
	for (size_t i = 0; i < loop->ntimers; i++) {
		int64_t d = loop->timers[i].due - now;
		if (d < *wait_ms)
			*wait_ms = d < 0 ? 0 : d;
	}
	for (size_t i = 0; i < loop->nwatches; i++) {
		if (loop->watches[i].persistent)
			continue;
		int64_t d = loop->watches[i].deadline - now;
		if (d < *wait_ms)
			*wait_ms = d < 0 ? 0 : d;
	}
	return dns || loop->ntimers || oneshot_watches(loop) || loop->nxfers;
}

int diag_loop_run_once(struct diag_loop *loop, int max_ms)
{
	int64_t wait_ms = max_ms >= 0 ? max_ms : 1000;
	int64_t ares_wait = wait_ms;
	int dns = ares_pending(loop, &ares_wait);
	int64_t ares_due = diag_now_ms() + ares_wait;  /* earliest c-ares retry or timeout */
	int busy = pending(loop, &wait_ms);
	if (!busy && max_ms < 0 && !loop->nwatches) {
		run_hooks(loop);
		return 0;
	}
	long curl_ms = -1;
	if (loop->nxfers && curl_multi_timeout(loop->multi, &curl_ms) == CURLM_OK &&
	    curl_ms >= 0 && curl_ms < wait_ms)
		wait_ms = curl_ms;

	struct curl_waitfd *extra = NULL;
	size_t nares = loop->nfds, nextra = nares + loop->nwatches;
	if (nextra) {
		extra = calloc(nextra, sizeof(*extra));
		if (!extra)
			return -1;
		for (size_t i = 0; i < nares; i++) {
			extra[i].fd = loop->fds[i].fd;
			extra[i].events = (short)((loop->fds[i].readable ? CURL_WAIT_POLLIN : 0) |
			                          (loop->fds[i].writable ? CURL_WAIT_POLLOUT : 0));
		}
		for (size_t i = 0; i < loop->nwatches; i++) {
			extra[nares + i].fd = loop->watches[i].fd;
			extra[nares + i].events = loop->watches[i].events;
		}
	}
	int numfds = 0;
	CURLMcode mc = curl_multi_poll(loop->multi, extra, (unsigned)nextra, (int)wait_ms, &numfds);
	if (mc != CURLM_OK) {
		free(extra);
		return -1;
	}
	for (size_t i = 0; i < nares; i++) {
		if (!extra[i].revents)
			continue;
		ares_socket_t fd = extra[i].fd;
		ares_channel ch = NULL;
		for (size_t k = 0; k < loop->nfds; k++)
			if (loop->fds[k].fd == fd)
				ch = loop->fds[k].ch;
		if (!ch)
			continue;
		int r = extra[i].revents & (CURL_WAIT_POLLIN | CURL_WAIT_POLLPRI);
		int w = extra[i].revents & CURL_WAIT_POLLOUT;
		ares_process_fd(ch, r ? fd : ARES_SOCKET_BAD, w ? fd : ARES_SOCKET_BAD);
	}
	fire_watches(loop, extra, nares, nextra);
	free(extra);
	/* Channels handle timeouts and retries only when one is due: a pass
	 * over every channel on every wake-up would make a run with many
	 * servers cost channels x events. */
	if (dns && diag_now_ms() >= ares_due)
		for (size_t i = 0; i < loop->nchans; i++)
			ares_process_fd(loop->chans[i]->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	if (loop->nxfers) {
		int still = 0;
		curl_multi_perform(loop->multi, &still);
		finish_transfers(loop);
	}
	fire_timers(loop);
	run_hooks(loop);
	int64_t ignore = 0;
	return pending(loop, &ignore);
}

int diag_loop_wakeup(struct diag_loop *loop)
{
	return curl_multi_wakeup(loop->multi) == CURLM_OK ? 0 : -1;
}

int diag_loop_run(struct diag_loop *loop)
{
	int rc;
	int64_t ignore = 0;
	/* a loop with only persistent watches has nothing to run to */
	if (!pending(loop, &ignore)) {
		run_hooks(loop);
		return 0;
	}
	while ((rc = diag_loop_run_once(loop, -1)) > 0)
		;
	return rc;
}
