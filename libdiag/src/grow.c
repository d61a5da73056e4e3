/* SPDX-License-Identifier: ISC */
/* grow.c - a growable array's capacity. */
#include <stdint.h>
#include <stdlib.h>

#include "grow.h"

int diag_grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 16;
	while (c < need) {
		if (c > SIZE_MAX / 2 / size)
			return -1;
		c *= 2;
	}
	void *n = realloc(*v, c * size);
	if (!n)
		return -1;
	*v = n;
	*cap = c;
	return 0;
}
