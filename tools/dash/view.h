/* SPDX-License-Identifier: ISC */
/*
 * view.h - what acme-dash shows and how keys move through it, without a
 * terminal: the view state (mode, selection, filter, sort, pause), the
 * keys that change it, and the frame (lines of text segments, each with
 * an attribute) that the screen module paints as it is. --once prints the
 * same table as plain text. The unit tests drive keys and read frames.
 */
#ifndef ACME_DASH_VIEW_H
#define ACME_DASH_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "dash/model.h"

/* Keys beyond characters (the screen maps its own codes to these). */
enum dash_key {
	DASH_KEY_UP = 0x110000, DASH_KEY_DOWN, DASH_KEY_PGUP, DASH_KEY_PGDN, DASH_KEY_HOME,
	DASH_KEY_END, DASH_KEY_ENTER, DASH_KEY_ESC, DASH_KEY_BACKSPACE, DASH_KEY_RESIZE,
	DASH_KEY_REFRESH,
};

enum dash_mode {
	DASH_MODE_TABLE = 0,  /* a row per name */
	DASH_MODE_NAME,       /* the selected name: causes, findings, timeline */
	DASH_MODE_DETAIL,     /* one finding: detail, hint, evidence */
	DASH_MODE_HELP,
};

struct dash_ui {
	enum dash_mode mode, help_from;
	char filter[128];        /* '/' */
	int editing;             /* typing the filter */
	int nonok;               /* 'f' */
	enum dash_sort sort;     /* 's' */
	int paused;              /* 'p': no --interval re-runs */
	long interval;           /* --interval, seconds (0: only on r / R) */
	size_t sel;              /* selected row: a model index or DASH_SHARED */
	size_t top;              /* the table's first row shown */
	size_t fsel, ftop;       /* the name pane: selected finding, first line shown */
	char *did, *dtarget;     /* the finding shown in detail (id, target) */
	size_t dtop;             /* detail: first line shown */
	char msg[200];           /* a message in the footer until the next key */
	int rows, cols;          /* the terminal's size */
};

void dash_ui_init(struct dash_ui *ui, long interval);
void dash_ui_free(struct dash_ui *ui);

/* What a key asks of the program, beyond the view (a bit set). */
#define DASH_UI_REDRAW     1   /* the view changed */
#define DASH_UI_QUIT       2
#define DASH_UI_RERUN      4   /* re-run ui->sel (the shared row: every name) */
#define DASH_UI_RERUN_ALL  8
#define DASH_UI_PAUSE     16   /* ui->paused changed */
#define DASH_UI_REFRESH   32   /* repaint the whole terminal */

int dash_ui_key(struct dash_ui *ui, const struct dash_model *m, int key);

/* ---- frames ---- */

enum dash_attr {
	DASH_A_NORMAL = 0, DASH_A_BOLD, DASH_A_TITLE, DASH_A_DIM,
	DASH_A_OK, DASH_A_WARN, DASH_A_FAIL, DASH_A_ERROR, DASH_A_SKIP,
	DASH_NATTRS,
};

/* The attribute of a status word. */
enum dash_attr dash_status_attr(enum diag_status st);

struct dash_seg {
	int x;                 /* column */
	enum dash_attr attr;
	char *text;            /* fits the line from x (display columns) */
};

struct dash_line {
	struct dash_seg *seg;
	size_t n, cap;
	int selected;          /* painted in reverse video, the whole width */
};

struct dash_frame {
	int rows, cols;
	struct dash_line *line;   /* rows lines */
	int cursor, cx, cy;       /* a visible cursor (typing the filter) at cx, cy */
};

/*
 * Build the frame for ui->rows x ui->cols: the header (time, names per
 * status, runs in flight), the mode's body, the footer (keys, the filter
 * being typed, or a message). Keeps the selection in view (moves
 * ui->top, ui->ftop). now_ms monotonic (ages, spinner), wall_ms for the
 * clock. 0, or -1 when out of memory.
 */
int dash_frame_build(struct dash_frame *f, struct dash_ui *ui, const struct dash_model *m,
                     int64_t now_ms, int64_t wall_ms);
void dash_frame_free(struct dash_frame *f);
/* A line's text as plain characters (for tests): segments at their columns. */
char *dash_line_text(const struct dash_line *l);

/* When the frame would next look different with nothing happening (a
 * spinner turns while something runs, an age or the clock moves on):
 * monotonic ms, or -1 for never. */
int64_t dash_view_next_change(const struct dash_model *m, const struct dash_ui *ui,
                              int64_t now_ms, int64_t wall_ms);

/* "7s", "12m", "3h", "2d". */
void dash_age_text(int64_t ms, char *buf, size_t len);

/*
 * The table as plain text, width columns wide, every row in the order
 * given (--once): a header line, the column titles, the shared row, the
 * names; with verbose, then each name that is not ok with its findings
 * that are not ok and their hints. malloc'd, NULL when out of memory.
 */
char *dash_snapshot(const struct dash_model *m, int width, int verbose, int64_t now_ms,
                    int64_t wall_ms);

#endif
