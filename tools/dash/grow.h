/* SPDX-License-Identifier: ISC */
/* grow.h - acme-dash's growable arrays. */
#ifndef ACME_DASH_GROW_H
#define ACME_DASH_GROW_H

#include <stdlib.h>

/*
 * Make *v (elements of size bytes, *cap of them allocated) hold n + 1,
 * doubling from first. Returns 0, or -1 when out of memory (then *v and
 * *cap are unchanged).
 */
static inline int dash_grow(void **v, size_t *cap, size_t n, size_t size, size_t first)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? 2 * *cap : first;
	void *nv = realloc(*v, c * size);
	if (!nv)
		return -1;
	*v = nv;
	*cap = c;
	return 0;
}

#endif
