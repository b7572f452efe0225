/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: output file name templates (--template). Whatever the
 * input, a template that passes the check expands to a bounded name
 * without '/' and the expansion never overruns its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fc_interval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tmpl[512], err[512], out[256];
	uint64_t start = 0;

	if (size < 8)
		return 0;
	memcpy(&start, data, 8);
	start %= 253402300800ULL; /* up to year 9999 */
	size -= 8;
	if (size >= sizeof(tmpl))
		size = sizeof(tmpl) - 1;
	memcpy(tmpl, data + 8, size);
	tmpl[size] = '\0';
	if (fc_template_check(tmpl, err, sizeof(err)) != 0)
		return 0;
	if (fc_template_expand(out, sizeof(out), tmpl, "mon", "flowtuple",
			       start) == 0) {
		if (strlen(out) >= sizeof(out) || strchr(out, '/') != NULL)
			abort();
	}
	return 0;
}
