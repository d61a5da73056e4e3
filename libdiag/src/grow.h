/* SPDX-License-Identifier: ISC */
/* grow.h - libdiag internal: a growable array's capacity. */
#ifndef DIAG_GROW_H
#define DIAG_GROW_H

#include <stddef.h>
#include <stdlib.h>

/*
 * Make *v (an array of elements of size bytes, *cap of them allocated)
 * hold at least need elements, doubling from 16. Returns 0, or -1 when
 * out of memory (then *v and *cap are unchanged).
 */
int diag_grow(void **v, size_t *cap, size_t need, size_t size);

/* qsort for such an array: nothing to do for fewer than two elements,
 * when v may still be NULL (qsort's base must never be). */
static inline void diag_sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

#endif
