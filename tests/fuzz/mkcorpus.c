/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seed corpus for fuzz_parse: writes every packet of the given traces as
 * one file "<dir>/<trace>-<n>", its first byte selecting the trace's link
 * type the way fuzz_parse reads it. Usage: mkcorpus DIR TRACE...
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "fc_parse.h"
#include "fc_trace.h"

static const uint32_t dlts[] = {
	FC_DLT_EN10MB, FC_DLT_RAW, FC_DLT_RAW_LT, FC_DLT_IPV4, FC_DLT_IPV6,
	FC_DLT_LINUX_SLL, FC_DLT_LINUX_SLL2, FC_DLT_NULL, FC_DLT_LOOP,
	FC_DLT_PPP, FC_DLT_RAW_OLD,
};

int main(int argc, char **argv)
{
	unsigned long total = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: mkcorpus DIR TRACE...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		char err[512];
		struct fc_trace *t = fc_trace_open(argv[i], err, sizeof(err));
		struct fc_trace_pkt p;
		const char *base = strrchr(argv[i], '/');
		int sel = -1;

		if (t == NULL)
			continue; /* unsupported link types are not seeds */
		for (unsigned d = 0; d < sizeof(dlts) / sizeof(dlts[0]); d++)
			if (dlts[d] == fc_trace_dlt(t))
				sel = (int)d;
		base = base ? base + 1 : argv[i];
		while (sel >= 0 && fc_trace_next(t, &p, err, sizeof(err)) == 1 &&
		       fc_trace_count(t) <= 2000) {
			char path[PATH_MAX];
			unsigned char b = (unsigned char)sel;
			FILE *f;

			snprintf(path, sizeof(path), "%s/%s-%llu", argv[1], base,
				 (unsigned long long)fc_trace_count(t));
			f = fopen(path, "wb");
			if (f == NULL) {
				perror(path);
				return 1;
			}
			fwrite(&b, 1, 1, f);
			fwrite(p.data, 1, p.caplen, f);
			fclose(f);
			total++;
		}
		fc_trace_close(t);
	}
	printf("mkcorpus: %lu inputs\n", total);
	return total ? 0 : 1;
}
