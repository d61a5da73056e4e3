/* SPDX-License-Identifier: ISC */
/* sbuf.c - a growable string. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sbuf.h"

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->failed)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->len : NULL,
		                  b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if (b->s && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap : 256);
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->failed = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

size_t sb_control(struct sbuf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	if (u[0] < 0x20 || u[0] == 0x7f) {
		sb_printf(b, "\\x%02x", u[0]);
		return 1;
	}
	unsigned cp;
	size_t n;
	if (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) {
		cp = u[1];  /* C1: U+0080-U+009F, CSI and OSC among them */
		n = 2;
	} else if (u[0] == 0xe2 && u[1] >= 0x80 && u[1] <= 0x81 && u[2] >= 0x80 && u[2] <= 0xbf) {
		cp = 0x2000u | (unsigned)(u[1] & 0x3f) << 6 | (u[2] & 0x3f);
		n = 3;
		if (!(cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
		      (cp >= 0x2066 && cp <= 0x2069)))
			return 0;
	} else {
		return 0;
	}
	sb_printf(b, "\\u%04x", cp);
	return n;
}

void sb_clean(struct sbuf *b, const char *s)
{
	while (*s) {
		size_t n = sb_control(b, s);
		if (n) {
			s += n;
			continue;
		}
		sb_printf(b, "%c", *s++);
	}
}


char *sb_take(struct sbuf *b)
{
	if (b->failed) {
		free(b->s);
		b->s = NULL;
		return NULL;
	}
	return b->s;
}
