/* SPDX-License-Identifier: ISC */
/* sbuf.h - libdiag internal: a growable string for the text renderings. */
#ifndef DIAG_SBUF_H
#define DIAG_SBUF_H

#include <stddef.h>

/* On allocation failure it stays failed and sb_take() yields NULL. */
struct sbuf {
	char *s;
	size_t len, cap;
	int failed;
};

void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with terminal control characters shown as \xNN: text from the
 * network never drives the terminal. */
void sb_clean(struct sbuf *b, const char *s);
/* The string (the caller frees it), or NULL when an append failed. */
char *sb_take(struct sbuf *b);

#endif
