/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: whatever bytes reach a finding, both renderings keep
 * it. The input is cut at 0xff bytes into strings that become findings'
 * targets, summaries, details, hints and evidence (bytes and all: NUL,
 * broken UTF-8, terminal escapes). The property checked is report_check.h's:
 * the JSON document parses back and holds every finding, the text holds one
 * status line per finding, the diagnosis covers every finding that is not ok.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "report_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_report *r = diag_report_new("fuzz", "0", "target");
	if (!r)
		return 0;
	char *piece[5] = {0};
	size_t len[5] = {0}, n = 0, start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		size_t k = n % 5;
		free(piece[k]);
		piece[k] = malloc(i - start + 1);
		if (!piece[k])
			abort();
		memcpy(piece[k], data + start, i - start);
		piece[k][i - start] = '\0';
		len[k] = i - start;
		start = i + 1;
		if (++n % 5 == 0 || i == size) {
			enum diag_status st = (enum diag_status)(len[0] % 5);
			struct diag_finding *f = diag_add(r, st, "fuzz.finding", piece[0] ? piece[0] : "",
			                                  "%s", piece[1] ? piece[1] : "");
			if (!f)
				abort();
			if (piece[2])
				diag_set_detail(f, "%s", piece[2]);
			if (piece[3])
				diag_set_hint(f, "%s", piece[3]);
			if (piece[4])
				diag_evidence(f, "bytes", diag_json_strn(piece[4], len[4]));
		}
		if (r->n >= 32)
			break;
	}
	report_check(r);
	for (size_t k = 0; k < 5; k++)
		free(piece[k]);
	diag_report_free(r);
	return 0;
}
