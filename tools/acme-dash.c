/* SPDX-License-Identifier: ISC */
/* acme-dash - every name's checks on one live screen, and what changes while you fix things. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/doctoropts.h"
#include "dash/model.h"
#include "dash/run.h"
#include "dash/screen.h"
#include "dash/view.h"

#define DEFAULT_INTERVAL 30
#define FRAME_MS 40           /* findings redraw at most this often; keys at once */
#define ONCE_WIDTH 120

enum { K_INTERVAL = 256, K_ONCE };

static const struct cli_opt opts[] = {
	DOCTOR_OPTS_SESSION,
	DOCTOR_OPT_EXPECT,
	DOCTOR_OPTS_NAMES,
	{"interval", 0, "SECONDS", "re-run each name SECONDS after its last run ended (default 30; 0: only on r or R)", K_INTERVAL},
	{"once", 0, NULL, "no screen: print one plain snapshot once every check has finished, and exit", K_ONCE},
	{0},
};

struct args {
	struct doctor_args c;
	long interval;
	int once;
};

static int handle(void *ctx, int key, const char *arg)
{
	struct args *a = ctx;
	int rc = doctor_args_handle(&a->c, key, arg);
	if (rc)
		return rc > 0 ? 0 : -1;
	switch (key) {
	case K_INTERVAL:
		return cli_long(a->c.tool, "--interval", arg, 0, 86400, &a->interval);
	case K_ONCE:
		a->once = 1;
		return 0;
	}
	return -1;
}

/* ---- signals: a byte down a pipe, read on the loop ---- */

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (write(sig_pipe[1], &b, 1) < 0) {
		/* the pipe is full: the loop has plenty to read already */
	}
	errno = saved;
}

static int signals_catch(void)
{
	if (pipe(sig_pipe))
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
		fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -1;
	return 0;
}

/* ---- the live screen ---- */

struct dash {
	const struct cli_tool *tool;
	struct dash_model *m;
	struct dash_run *run;
	struct dash_screen *scr;
	struct dash_ui ui;
	struct dash_frame frame;
	int draw, full, quit, status;
	unsigned long drawn_version;
	int64_t drawn_at, redraw_at;  /* monotonic: the last frame; when it would next differ */
};

static struct dash_screen *atexit_screen;

static void restore_terminal(void)
{
	dash_screen_close(atexit_screen);
}

static void act(struct dash *d, int what)
{
	const struct dash_row *r = dash_model_crow(d->m, d->ui.sel);
	if (what & DASH_UI_QUIT)
		d->quit = 1;
	if (what & DASH_UI_RERUN_ALL) {
		int n = dash_run_all(d->run);
		snprintf(d->ui.msg, sizeof(d->ui.msg), n > 0 ? "re-running %d name%s" : "every name is "
		         "running already", n, n == 1 ? "" : "s");
	} else if ((what & DASH_UI_RERUN) && r && r->name) {
		int n = dash_run_names(d->run, &d->ui.sel, 1);
		snprintf(d->ui.msg, sizeof(d->ui.msg), n > 0 ? "re-running %s" : "%s is running already",
		         r->name);
	}
	if (what & DASH_UI_PAUSE) {
		dash_run_pause(d->run, d->ui.paused);
		snprintf(d->ui.msg, sizeof(d->ui.msg), d->ui.paused ? "paused: no re-runs until p "
		         "(r and R still run)" : "re-runs resumed");
	}
	if (what & DASH_UI_REFRESH)
		d->full = 1;
	if (what & (DASH_UI_REDRAW | DASH_UI_RERUN | DASH_UI_RERUN_ALL | DASH_UI_PAUSE))
		d->draw = 1;
}

static void on_keys(void *arg, int fd, int readable)
{
	struct dash *d = arg;
	(void)fd;
	(void)readable;
	int k;
	while (!d->quit && (k = dash_screen_key(d->scr)) != -1)
		act(d, dash_ui_key(&d->ui, d->m, k));
}

static void on_signal_pipe(void *arg, int fd, int readable)
{
	struct dash *d = arg;
	unsigned char b[64];
	ssize_t n;
	(void)readable;
	while ((n = read(fd, b, sizeof(b))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (b[i] == SIGWINCH) {
				dash_screen_resize(d->scr);
				dash_screen_size(d->scr, &d->ui.rows, &d->ui.cols);
				d->draw = d->full = 1;
			} else if (!d->quit) {
				d->quit = 1;
				d->status = 128 + b[i];
			}
		}
}

static void draw(struct dash *d)
{
	int64_t now = diag_now_ms();
	if (dash_frame_build(&d->frame, &d->ui, d->m, now, diag_wall_ms()))
		return;  /* out of memory: the screen stays as it was */
	dash_screen_draw(d->scr, &d->frame, d->full);
	d->draw = d->full = 0;
	d->drawn_version = d->m->version;
	d->drawn_at = now;
	d->redraw_at = dash_view_next_change(d->m, &d->ui, now, diag_wall_ms());
}

/* One loop: probes, keys, signals and timers on the libdiag loop; the
 * screen is drawn after a turn that changed something, never on a busy
 * timer. */
static int live(struct dash *d, struct diag_loop *loop)
{
	int keys_fd = dash_screen_fd(d->scr);
	if (diag_loop_watch_fd_persistent(loop, keys_fd, on_keys, d) ||
	    diag_loop_watch_fd_persistent(loop, sig_pipe[0], on_signal_pipe, d))
		return -1;
	dash_screen_size(d->scr, &d->ui.rows, &d->ui.cols);
	d->draw = 1;
	while (!d->quit) {
		int64_t now = diag_now_ms();
		int changed = d->m->version != d->drawn_version;
		if (d->draw || (changed && now - d->drawn_at >= FRAME_MS) ||
		    (d->redraw_at >= 0 && now >= d->redraw_at))
			draw(d);
		now = diag_now_ms();
		int64_t next = d->redraw_at;
		if (d->m->version != d->drawn_version && (next < 0 || d->drawn_at + FRAME_MS < next))
			next = d->drawn_at + FRAME_MS;
		int64_t wait = next < 0 ? 1000 : next - now;
		if (wait > 1000)
			wait = 1000;
		if (wait < 0)
			wait = 0;
		if (diag_loop_run_once(loop, (int)wait) < 0)
			return -1;
		dash_run_reap(d->run);
	}
	diag_loop_unwatch_fd(loop, keys_fd);
	diag_loop_unwatch_fd(loop, sig_pipe[0]);
	return 0;
}

/* ---- --once ---- */

static int once(struct dash *d, struct diag_loop *loop, const struct cli_common *c)
{
	while (dash_run_busy(d->run))
		if (diag_loop_run_once(loop, 1000) < 0)
			return DIAG_EXIT_ERROR;
	dash_run_reap(d->run);
	char *s = dash_snapshot(d->m, ONCE_WIDTH, c->verbose, diag_now_ms(), diag_wall_ms());
	enum diag_status v = dash_row_status(d->m, DASH_SHARED);
	for (size_t i = 0; i < d->m->n; i++) {
		enum diag_status st = dash_row_status(d->m, i);
		if (st > v)
			v = st;
	}
	int rc = cli_print(d->tool, s);
	free(s);
	return rc ? DIAG_EXIT_ERROR : diag_exit_status(v == DIAG_SKIP ? DIAG_OK : v, c->strict);
}

static int run_main(const struct cli_tool *tool, const struct cli_common *c, struct args *a,
                    char **args, size_t nargs)
{
	struct doctor_targets tg;
	struct dash_model m;
	struct diag_loop *loop = NULL;
	struct dash d = { .tool = tool, .m = &m };
	char err[200];
	int rc = doctor_targets_load(&a->c, c, args, nargs, &tg);
	dash_model_init(&m);
	dash_ui_init(&d.ui, a->interval);
	if (rc || CLI_OPTIONS_ONLY)
		goto out;
	rc = DIAG_EXIT_ERROR;
	int64_t now = diag_now_ms();
	for (size_t i = 0; i < tg.n; i++)
		if (dash_model_add(&m, tg.v[i].n.name, tg.v[i].object))
			goto oom;
	for (size_t i = 0; i < tg.pre->n; i++)
		if (dash_model_keep(&m, tg.pre->v[i], now))
			goto oom;
	struct dash_run_opts ro = {
		.o = &a->c.d, .targets = tg.v, .ntargets = tg.n,
		.jobs = doctor_jobs(tool, a->c.jobs, tg.n), .interval_s = a->once ? 0 : a->interval,
	};
	if (!(loop = diag_loop_new()) || !(d.run = dash_run_new(loop, &m, &ro))) {
		cli_error(tool, "cannot start: out of memory (or curl and c-ares failed to initialise)");
		goto out;
	}
	if (a->once) {
		dash_run_all(d.run);
		rc = once(&d, loop, c);
		goto out;
	}
	if (signals_catch()) {
		cli_error(tool, "cannot catch signals: %s", strerror(errno));
		goto out;
	}
	const char *nc = getenv("NO_COLOR");
	if (!(d.scr = dash_screen_open(!c->no_color && !(nc && *nc), err, sizeof(err)))) {
		cli_error(tool, "%s; acme-doctor prints the same checks as text (or use --once)", err);
		rc = DIAG_EXIT_USAGE;
		goto out;
	}
	atexit_screen = d.scr;
	atexit(restore_terminal);
	d.ui.nonok = c->quiet;
	dash_run_all(d.run);
	if (live(&d, loop)) {
		dash_screen_close(d.scr);
		cli_error(tool, "the event loop failed: %s", strerror(errno));
		goto out;
	}
	rc = d.status;
	goto out;
oom:
	cli_error(tool, "out of memory");
out:
	dash_screen_close(d.scr);  /* the terminal first, whatever happens next */
	atexit_screen = NULL;
	dash_screen_free(d.scr);
	dash_frame_free(&d.frame);
	dash_ui_free(&d.ui);
	dash_run_free(d.run);
	diag_loop_free(loop);
	dash_model_free(&m);
	doctor_targets_free(&tg);
	acme_opts_free(&a->c.acme);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = { .interval = DEFAULT_INTERVAL };
	setlocale(LC_ALL, "");
	const struct cli_tool tool = {
		.name = "acme-dash",
		.synopsis = "[OPTIONS] (DOMAIN... | -f FILE | --from-kubectl FILE)",
		.summary =
			"A live dashboard of acme-doctor's checks: one row per name with its status\n"
			"and a cell per area (DNS-01, HTTP-01, the ACME server and account, the\n"
			"clock), updated as each finding arrives, re-run every --interval seconds.\n"
			"Enter shows a name's causes, findings (worst first, with the fix) and a\n"
			"timeline of what changed between runs: a TXT record reaching the second\n"
			"nameserver, an address that answers again. Keys: ? in the dashboard.\n"
			"Needs a terminal; --once prints one snapshot instead.",
		.footer =
			"Examples:\n"
			"  acme-dash example.com www.example.com '*.example.com'\n"
			"  acme-dash -f domains.txt --interval 30\n"
			"  kubectl get certificates,challenges -A -o json | acme-dash --from-kubectl -\n"
			"  acme-dash --once --challenge dns-01 example.com\n"
			"\nIn the dashboard, q quits (exit 0); SIGINT, SIGTERM and SIGHUP end it\n"
			"with 128 + the signal's number. --once exits as acme-doctor does.\n",
		.opts = opts, .handle = handle, .ctx = &a, .no_json = 1,
	};
	struct cli_common c;
	int first;
	int rc = doctor_args_parse(&a.c, &tool, argc, argv, &c, &first);
	if (rc >= 0)
		return rc;
	if (!a.once) {
		const char *why = dash_screen_unusable();
		if (why) {
			cli_error(&tool, "%s; acme-dash needs one (acme-doctor prints the same checks as "
			          "text, or use acme-dash --once)", why);
			return DIAG_EXIT_USAGE;
		}
	}
	return run_main(&tool, &c, &a, argv + first, (size_t)(argc - first));
}
