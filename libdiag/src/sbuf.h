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
/* Append s with every control character escaped (sb_control): text from
 * the network never drives the terminal. */
void sb_clean(struct sbuf *b, const char *s);
/* If s (valid UTF-8, as findings hold) starts with a character a terminal or
 * a log viewer would act on rather than show (C0 and C1 controls, DEL, the
 * line and paragraph separators, bidirectional formatting), appends it
 * escaped (\xNN below U+0080, else \uNNNN) and returns its length in bytes;
 * else returns 0 and appends nothing. */
size_t sb_control(struct sbuf *b, const char *s);
/* The string (the caller frees it), or NULL when an append failed. */
char *sb_take(struct sbuf *b);

#endif
