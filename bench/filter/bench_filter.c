/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-filter: cycles per packet of the capture filter as flowcap runs
 * it (app/flowcap/fc_filter.c): the frames of a trace, each wrapped in a
 * stand-in mbuf, passed through the program of every expression given,
 * JIT-compiled, in DPDK's interpreter, and in libpcap's bpf_filter, after
 * a baseline pass that only wraps the frames. Median of 5 runs, TSC
 * cycles. It does not model the worker around the filter.
 *
 *   bench-filter TRACE.pcap 'tcp or udp' 'vlan and tcp' ...
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include <rte_cycles.h>
#include <rte_eal.h>

#include "fc_filter.h"

#define RUNS 5
#define REPEAT 20

struct frame {
	const uint8_t *data;
	uint32_t caplen, len;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static volatile uint64_t sink;

/* mode 0: wrap only; 1: program as configured; 2: libpcap's bpf_filter */
static double run(const struct fc_filter_prog *p, const struct frame *f,
		  size_t n, int mode, uint64_t *kept)
{
	uint64_t c[RUNS];
	struct rte_mbuf m;

	memset(&m, 0, sizeof(m));
	for (int r = 0; r < RUNS; r++) {
		uint64_t k = 0, t = 0, t0 = rte_rdtsc();

		for (int rep = 0; rep < REPEAT; rep++)
			for (size_t i = 0; i < n; i++) {
				fc_filter_wrap(&m, f[i].data, f[i].caplen);
				/* Every mode reads the frame's first line,
				 * as the parser after the filter does: its
				 * cache miss is not the filter's. */
				t += f[i].data[12];
				if (mode == 0)
					continue;
				else if (mode == 1)
					k += fc_filter_pass(p, &m);
				else
					k += bpf_filter(p->cbpf.bf_insns,
							f[i].data, f[i].len,
							f[i].caplen) != 0;
			}
		c[r] = rte_rdtsc() - t0;
		*kept = k / REPEAT;
		sink += t;
	}
	qsort(c, RUNS, sizeof(c[0]), cmp_u64);
	return (double)c[RUNS / 2] / (double)(n * REPEAT);
}

int main(int argc, char **argv)
{
	char *eal[] = {argv[0], "--no-huge", "--no-pci", "--no-shconf", "-m",
		       "64", "--no-telemetry", "--log-level=lib.eal:error"};
	char eb[PCAP_ERRBUF_SIZE];
	struct frame *f = NULL;
	size_t n = 0, cap = 0;
	const struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *pc;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-filter TRACE EXPR...\n");
		return 2;
	}
	if (rte_eal_init(8, eal) < 0)
		return 1;
	if ((pc = pcap_open_offline(argv[1], eb)) == NULL) {
		fprintf(stderr, "bench-filter: %s\n", eb);
		return 1;
	}
	while (pcap_next_ex(pc, (struct pcap_pkthdr **)&h, &d) == 1) {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			f = realloc(f, cap * sizeof(*f));
		}
		uint8_t *copy = malloc(h->caplen);

		memcpy(copy, d, h->caplen);
		f[n++] = (struct frame){copy, h->caplen, h->len};
	}
	uint32_t dlt = (uint32_t)pcap_datalink(pc);
	uint64_t kept;
	double base = run(NULL, f, n, 0, &kept);

	printf("trace %s: %zu frames; tsc %" PRIu64 " Hz; wrap only %.1f "
	       "cycles/packet\n", argv[1], n, rte_get_tsc_hz(), base);
	for (int a = 2; a < argc; a++) {
		char err[1024];
		struct fc_filter *flt = fc_filter_create(argv[a], &dlt, 1, &dlt,
							 1, err, sizeof(err));

		if (flt == NULL) {
			fprintf(stderr, "bench-filter: '%s': %s\n", argv[a], err);
			return 1;
		}
		struct fc_filter_prog *p = &flt->prog[0];
		double as_run = run(p, f, n, 1, &kept);
		double pc_cy = run(p, f, n, 2, &kept);
		uint64_t (*jit)(void *) = p->jit;
		bool po = p->pcap_only;

		/* DPDK's interpreter, where DPDK has the program (not for
		 * the programs with indexed loads: fc_filter.h). */
		p->jit = NULL;
		p->pcap_only = false;
		double interp = p->bpf != NULL ? run(p, f, n, 1, &kept) : 0;

		p->jit = jit;
		p->pcap_only = po;
		printf("'%s': kept %" PRIu64 "; as flowcap runs it (%s) %.1f "
		       "cycles/packet (%.1f over the wrap); DPDK interpreter "
		       "%.1f; libpcap bpf_filter %.1f\n",
		       argv[a], kept,
		       po ? "libpcap, indexed loads" : jit ? "JIT" : "interpreter",
		       as_run, as_run - base, interp, pc_cy);
		fc_filter_free(flt);
	}
	return 0;
}
