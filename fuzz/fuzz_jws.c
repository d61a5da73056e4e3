/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: capture reading and JWS checking. The bytes are taken
 * as a capture (one JWS, JSON lines, HAR or a certbot log) and every
 * request found is checked, signatures included.
 */
#include <stdint.h>
#include <stdlib.h>

#include "diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jws_capture cap;
	char err[300];
	if (jws_capture_parse((const char *)data, size, &cap, err, sizeof(err)) == 0) {
		struct diag_report *r = diag_report_new("fuzz", "0", "capture");
		struct jws_opts o = { .cap = &cap };
		if (r) {
			diag_jws_run(&o, r);
			diag_report_free(r);
		}
		jws_capture_free(&cap);
	}
	return 0;
}
