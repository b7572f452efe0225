/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the .ft.zst reader on arbitrary bytes. It must end with a
 * status (never crash, hang or allocate without bound) and every record it
 * returns must be well formed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fc_ftfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct fc_ft_reader *r;
	struct fc_ft_interval iv;
	struct fc_ft_record rec;
	int st, rc;
	FILE *f;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fc-fuzz-ft.%d", (int)getpid());
	f = fopen(path, "wb");
	if (f == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	r = fc_ft_reader_open(path, &st);
	if (r == NULL) {
		if (st >= 0)
			abort();
		return 0;
	}
	while ((rc = fc_ft_reader_next_interval(r, &iv)) == 1) {
		uint64_t n = 0;

		while ((rc = fc_ft_reader_next_record(r, &rec)) == 1) {
			if (rec.key.family != 4 && rec.key.family != 6)
				abort();
			if (rec.key.cls >= FC_FT_CLASS_COUNT)
				abort();
			n++;
		}
		if (rc < 0)
			break;
		if (n != iv.n_records)
			abort();
	}
	(void)fc_ft_strerror(rc);
	fc_ft_reader_close(r);
	return 0;
}
