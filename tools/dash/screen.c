/* SPDX-License-Identifier: ISC */
/* screen.c - acme-dash's terminal, with curses (and nothing else does). */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700  /* ncursesw: wide characters (pkg-config may say so already) */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>
#include <sys/ioctl.h>

#include "dash/screen.h"

struct dash_screen {
	SCREEN *sp;
	FILE *in;            /* the keys' terminal */
	int own_in;          /* in is /dev/tty, opened here */
	int color;
	int open;
	attr_t attr[DASH_NATTRS];
};

const char *dash_screen_unusable(void)
{
	const char *term = getenv("TERM");
	if (!isatty(STDOUT_FILENO))
		return "standard output is not a terminal";
	if (!term || !*term)
		return "TERM is not set";
	if (!strcmp(term, "dumb"))
		return "the terminal is dumb (TERM=dumb)";
	if (!isatty(STDIN_FILENO) && access("/dev/tty", R_OK))
		return "no terminal to read keys from";
	return NULL;
}

static void set_attrs(struct dash_screen *s)
{
	attr_t *a = s->attr;
	a[DASH_A_NORMAL] = A_NORMAL;
	a[DASH_A_BOLD] = A_BOLD;
	a[DASH_A_TITLE] = A_REVERSE;
	a[DASH_A_DIM] = A_DIM;
	a[DASH_A_SKIP] = A_DIM;
	if (s->color) {
		a[DASH_A_OK] = COLOR_PAIR(1);
		a[DASH_A_WARN] = COLOR_PAIR(2) | A_BOLD;
		a[DASH_A_FAIL] = COLOR_PAIR(3) | A_BOLD;
		a[DASH_A_ERROR] = COLOR_PAIR(4) | A_BOLD;
	} else {  /* without colour, the bad news stands out by weight */
		a[DASH_A_OK] = A_NORMAL;
		a[DASH_A_WARN] = A_BOLD;
		a[DASH_A_FAIL] = A_BOLD;
		a[DASH_A_ERROR] = A_BOLD | A_UNDERLINE;
	}
}

struct dash_screen *dash_screen_open(int want_color, char *err, size_t errlen)
{
	const char *why = dash_screen_unusable();
	if (why) {
		snprintf(err, errlen, "%s", why);
		return NULL;
	}
	struct dash_screen *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (isatty(STDIN_FILENO)) {
		s->in = stdin;
	} else if ((s->in = fopen("/dev/tty", "r"))) {
		s->own_in = 1;
	} else {
		snprintf(err, errlen, "cannot open /dev/tty for keys");
		free(s);
		return NULL;
	}
	s->sp = newterm(NULL, stdout, s->in);
	if (!s->sp) {
		snprintf(err, errlen, "the terminal type '%s' is unknown", getenv("TERM"));
		if (s->own_in)
			fclose(s->in);
		free(s);
		return NULL;
	}
	s->open = 1;
	set_term(s->sp);
	cbreak();            /* keys at once; Ctrl-C still a signal */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);    /* Esc alone must feel immediate */
	curs_set(0);
	if (want_color && has_colors() && start_color() == OK) {
		use_default_colors();
		init_pair(1, COLOR_GREEN, -1);
		init_pair(2, COLOR_YELLOW, -1);
		init_pair(3, COLOR_RED, -1);
		init_pair(4, COLOR_MAGENTA, -1);
		s->color = 1;
	}
	set_attrs(s);
	return s;
}

int dash_screen_fd(const struct dash_screen *s)
{
	return fileno(s->in);
}

int dash_screen_key(struct dash_screen *s)
{
	int ch = wgetch(stdscr);
	switch (ch) {
	case ERR: return -1;
	case KEY_UP: return DASH_KEY_UP;
	case KEY_DOWN: return DASH_KEY_DOWN;
	case KEY_PPAGE: return DASH_KEY_PGUP;
	case KEY_NPAGE: return DASH_KEY_PGDN;
	case KEY_HOME: return DASH_KEY_HOME;
	case KEY_END: return DASH_KEY_END;
	case KEY_ENTER: case '\n': case '\r': return DASH_KEY_ENTER;
	case 27: return DASH_KEY_ESC;
	case KEY_BACKSPACE: case 127: case 8: return DASH_KEY_BACKSPACE;
	case KEY_LEFT: return DASH_KEY_ESC;   /* back, as in most pagers */
	case KEY_RIGHT: return DASH_KEY_ENTER;
	case KEY_RESIZE: return DASH_KEY_RESIZE;
	}
	(void)s;
	return ch >= 0 && ch < KEY_MIN ? ch : 0;  /* a key with no use: nothing bound to 0 */
}

void dash_screen_resize(struct dash_screen *s)
{
	struct winsize ws;
	if (!s->open)
		return;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
}

void dash_screen_size(const struct dash_screen *s, int *rows, int *cols)
{
	(void)s;
	getmaxyx(stdscr, *rows, *cols);
}

void dash_screen_draw(struct dash_screen *s, const struct dash_frame *f, int full)
{
	int rows, cols;
	getmaxyx(stdscr, rows, cols);
	if (full)
		clearok(curscr, TRUE);
	for (int y = 0; y < rows; y++) {
		const struct dash_line *l = y < f->rows ? &f->line[y] : NULL;
		attr_t base = l && l->selected ? A_REVERSE : A_NORMAL;
		wattrset(stdscr, base);
		wmove(stdscr, y, 0);
		if (base != A_NORMAL)
			whline(stdscr, ' ', cols);
		else
			wclrtoeol(stdscr);
		for (size_t i = 0; l && i < l->n; i++) {
			const struct dash_seg *g = &l->seg[i];
			if (g->x >= cols)
				continue;
			wattrset(stdscr, s->attr[g->attr] | base);
			mvwaddstr(stdscr, y, g->x, g->text);
		}
	}
	wattrset(stdscr, A_NORMAL);
	if (f->cursor) {
		curs_set(1);
		wmove(stdscr, f->cy, f->cx);
	} else {
		curs_set(0);
	}
	wnoutrefresh(stdscr);
	doupdate();
}

void dash_screen_close(struct dash_screen *s)
{
	if (!s || !s->open)
		return;
	s->open = 0;
	curs_set(1);
	endwin();
	delscreen(s->sp);
	if (s->own_in)
		fclose(s->in);
	fflush(stdout);
}

void dash_screen_free(struct dash_screen *s)
{
	dash_screen_close(s);
	free(s);
}
