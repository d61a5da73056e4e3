/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: captures of ACME requests (a certbot debug log, a HAR
 * export, JSON lines, one JWS), read and checked as acme-jwslint does
 * (jws_capture_parse, then diag_jws_run: every request, signatures
 * included), the report then keeping report_check.h's property. This is
 * the one target for captures (fuzz_jws was merged into it): its corpus
 * holds certbot logs and HARs from the lab beside JSON lines and JWSs.
 *
 * Reading a capture must stay linear, in time and in memory:
 *   - make fuzz runs this target with a time budget per input (-timeout)
 *     and large inputs (-max_len);
 *   - the input is also read repeated, up to REPEAT_MAX bytes, so that
 *     what grows faster than the capture shows on small inputs too;
 *   - what a capture holds is bounded by its size: the requests' text is
 *     copied from the input, at most once (JSON lines are re-serialized by
 *     jansson, which writes a number in at most a few times its digits).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "report_check.h"

#define REPEAT_MAX (1024 * 1024)
#define HELD_PER_BYTE 8

static void check_held(const struct jws_capture *cap, size_t size)
{
	size_t held = 0;
	for (size_t i = 0; i < cap->n; i++)
		held += strlen(cap->req[i].jws) + (cap->req[i].url ? strlen(cap->req[i].url) : 0) +
		        (cap->req[i].content_type ? strlen(cap->req[i].content_type) : 0);
	if (held > HELD_PER_BYTE * size + 64)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jws_capture cap;
	char err[300];
	if (jws_capture_parse((const char *)data, size, &cap, err, sizeof(err)) == 0) {
		check_held(&cap, size);
		struct diag_report *r = diag_report_new("fuzz", "0", "capture");
		struct jws_opts o = { .cap = &cap };
		if (!r)
			abort();
		diag_jws_run(&o, r);
		report_check(r);
		diag_report_free(r);
		jws_capture_free(&cap);
	}

	/* the same, many times over: read only */
	size_t times = size ? REPEAT_MAX / size : 0;
	if (times > 64)
		times = 64;
	if (times >= 2) {
		char *big = malloc(times * size);
		if (!big)
			abort();
		for (size_t i = 0; i < times; i++)
			memcpy(big + i * size, data, size);
		if (jws_capture_parse(big, times * size, &cap, err, sizeof(err)) == 0) {
			check_held(&cap, times * size);
			jws_capture_free(&cap);
		}
		free(big);
	}
	return 0;
}
