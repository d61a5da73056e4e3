/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: published serial lists. The bytes are a list, read
 * line by line against a set of serials (lines of any length, separators,
 * the "serial " word), and each line's first bytes as one serial.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

static int hit(void *arg, size_t idx, uint64_t lineno, const char *line, size_t len)
{
	(void)arg; (void)idx; (void)lineno; (void)line; (void)len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct diag_serial_set *set;
	if (!set) {
		set = diag_serial_set_new(4);
		const char *s[] = {"0362", "abcdef", "1", "ffffffffffffffffffffffffffffffffffffff"};
		for (size_t i = 0; i < 4; i++) {
			struct diag_serial k;
			if (!diag_serial_parse(s[i], strlen(s[i]), &k))
				diag_serial_set_add(set, &k, i);
		}
	}
	struct diag_list_stats st;
	diag_serial_list_scan_buf((const char *)data, size, set, hit, NULL, &st);
	struct diag_serial k;
	if (!diag_serial_parse((const char *)data, size < 80 ? size : 80, &k)) {
		char hex[2 * SERIAL_BYTES + 2];
		diag_serial_hex(&k, hex, sizeof(hex));
	}
	return 0;
}
