/* SPDX-License-Identifier: ISC */
/*
 * screen.h - acme-dash's terminal: the only module that calls curses. It
 * paints frames (view.h) as they are and turns the terminal's keys into
 * the view's; it never reads the model.
 */
#ifndef ACME_DASH_SCREEN_H
#define ACME_DASH_SCREEN_H

#include <stddef.h>

#include "dash/view.h"

struct dash_screen;

/*
 * Why there is no screen to open, before trying: standard output is not a
 * terminal, TERM is unset or "dumb", or keys cannot be read (standard
 * input is not a terminal and there is no /dev/tty). NULL when a screen
 * can be tried.
 */
const char *dash_screen_unusable(void);

/*
 * Take the terminal: output on standard output, keys from standard input
 * when it is a terminal, else from /dev/tty (names or objects may come in
 * on standard input). want_color: colour when the terminal has it. NULL
 * (and why in err) when the terminal cannot be used. The caller handles
 * SIGWINCH (then dash_screen_resize()) and the signals that end it.
 */
struct dash_screen *dash_screen_open(int want_color, char *err, size_t errlen);
/* The descriptor keys arrive on: watch it, then read with dash_screen_key(). */
int dash_screen_fd(const struct dash_screen *s);
/* A key waiting (a character, or a DASH_KEY_*), or -1 when none is. */
int dash_screen_key(struct dash_screen *s);
/* Learn the terminal's size again (after SIGWINCH). */
void dash_screen_resize(struct dash_screen *s);
void dash_screen_size(const struct dash_screen *s, int *rows, int *cols);
/* Paint f (f->rows x f->cols should be the screen's size); full: repaint
 * every cell, as after Ctrl-L. */
void dash_screen_draw(struct dash_screen *s, const struct dash_frame *f, int full);
/* Give the terminal back as it was. NULL-safe, and safe to call twice. */
void dash_screen_close(struct dash_screen *s);
/* Close it and free it. NULL-safe. */
void dash_screen_free(struct dash_screen *s);

#endif
