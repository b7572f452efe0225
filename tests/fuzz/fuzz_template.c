/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: output file names (--template, --name). The input is an
 * 8-byte interval start, then the template, then optionally a NUL and the
 * monitor name. Whatever the input, a template that passes the check
 * expands without overrunning its buffer, and a name that passes the
 * file-name check is one visible path component without control
 * characters, short enough for NAME_MAX with its suffixes.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fc_ftdir.h"
#include "fc_interval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tmpl[512], err[512], out[512], mon[300] = "mon";
	const char *nul;
	uint64_t start = 0;
	size_t tl;

	if (size < 8)
		return 0;
	memcpy(&start, data, 8);
	start %= 253402300800ULL; /* up to year 9999 */
	data += 8;
	size -= 8;
	nul = memchr(data, '\0', size);
	tl = nul != NULL ? (size_t)((const uint8_t *)nul - data) : size;
	if (nul != NULL) {
		size_t ml = size - tl - 1;

		if (ml >= sizeof(mon))
			ml = sizeof(mon) - 1;
		memcpy(mon, nul + 1, ml);
		mon[ml] = '\0';
	}
	if (tl >= sizeof(tmpl))
		tl = sizeof(tmpl) - 1;
	memcpy(tmpl, data, tl);
	tmpl[tl] = '\0';
	if (fc_template_check(tmpl, err, sizeof(err)) != 0)
		return 0;
	if (fc_ft_monitor_check(mon, err, sizeof(err)) == 0)
		for (const char *p = mon; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == '/' || *p == '=')
				abort();
	if (fc_template_expand(out, sizeof(out), tmpl, mon, "flowtuple",
			       start) != 0)
		return 0;
	if (strlen(out) >= sizeof(out))
		abort();
	if (fc_ft_name_check(NULL, out, err, sizeof(err)) != 0)
		return 0;
	if (out[0] == '.' || strchr(out, '/') != NULL ||
	    strlen(out) + FC_FT_NAME_RESERVE > NAME_MAX)
		abort();
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	return 0;
}
