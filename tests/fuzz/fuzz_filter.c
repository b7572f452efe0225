/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: capture filter loading (app/flowcap/fc_filter.c). The
 * input is a tcpdump expression. Whatever the bytes: no crash; an
 * expression pcap refuses is refused with a message; one it takes is
 * converted, loaded and run on a set of frames (each shared real trace
 * frame of $FC_FUZZ_PCAP if set, else a few built here), and the program
 * flowcap runs (DPDK's JIT, or libpcap's interpreter for indexed loads)
 * takes exactly the frames libpcap's own bpf_filter takes: a differential
 * check of DPDK's converter and JIT against libpcap. The EAL is started
 * once (no hugepages, no PCI): rte_bpf_convert allocates with rte_malloc.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include <rte_eal.h>
#include <rte_log.h>

#include "fc_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct frame {
	uint8_t *data;
	uint32_t caplen, len;
};

static struct frame *frames;
static size_t n_frames;

static void add(const uint8_t *d, uint32_t caplen, uint32_t len)
{
	frames = realloc(frames, (n_frames + 1) * sizeof(*frames));
	if (frames == NULL)
		abort();
	frames[n_frames].data = malloc(caplen ? caplen : 1);
	memcpy(frames[n_frames].data, d, caplen);
	frames[n_frames].caplen = caplen;
	frames[n_frames].len = len;
	n_frames++;
}

static void init(void)
{
	char *eal[] = {"fuzz_filter", "--no-huge", "--no-pci", "--no-shconf",
		       "-m", "64", "--no-telemetry",
		       "--log-level=lib.eal:error"};
	const char *pc = getenv("FC_FUZZ_PCAP");

	if (rte_eal_init(8, eal) < 0)
		abort();
	if (pc != NULL) {
		char eb[PCAP_ERRBUF_SIZE];
		struct pcap_pkthdr *h;
		const u_char *d;
		pcap_t *p = pcap_open_offline(pc, eb);

		if (p == NULL)
			abort();
		while (pcap_next_ex(p, &h, &d) == 1)
			add(d, h->caplen, h->len);
		pcap_close(p);
	}
	/* A tagged TCP SYN with IP options, a UDP/53 query, an IPv6
	 * fragment, a runt, and an empty frame. */
	static const uint8_t syn[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0, 0, 7, 8, 0,
		0x46, 0, 0, 44, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0,
		0, 2, 1, 1, 1, 0, 0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0,
		0x50, 2, 0xff, 0xff, 0, 0, 0, 0};
	static const uint8_t dns[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0, 0x45, 0, 0, 40,
		0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x30,
		0x39, 0, 53, 0, 20, 0, 0, 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0,
		0, 0};
	static const uint8_t frag6[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd, 0x60, 0, 0,
		0, 0, 16, 44, 64, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 1, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 2, 17, 0, 0, 8, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8};

	add(syn, sizeof(syn), sizeof(syn));
	add(dns, sizeof(dns), 1500);
	add(frag6, sizeof(frag6), sizeof(frag6));
	add(dns, 20, sizeof(dns));
	add(dns, 0, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char expr[1024], err[1024];
	uint32_t dlt = 1; /* Ethernet */
	struct fc_filter *f;
	struct rte_mbuf m;

	if (!ready) {
		init();
		ready = 1;
	}
	if (size >= sizeof(expr))
		size = sizeof(expr) - 1;
	memcpy(expr, data, size);
	expr[size] = 0;
	if (strlen(expr) != size) /* a NUL inside: as --filter would */
		return 0;
	f = fc_filter_create(expr, &dlt, 1, &dlt, 1, err, sizeof(err));
	if (f == NULL) {
		if (err[0] == 0)
			abort();
		return 0;
	}
	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < n_frames; i++) {
		const struct frame *fr = &frames[i];
		bool got = fc_filter_pass_bytes(&f->prog[0], &m, fr->data,
						fr->caplen, fr->len);
		bool want = bpf_filter(f->prog[0].cbpf.bf_insns, fr->data,
				       fr->len, fr->caplen) != 0;

		if (got != want) {
			fprintf(stderr, "fuzz_filter: '%s' on frame %zu: flowcap "
				"%d, libpcap %d\n", expr, i, got, want);
			abort();
		}
	}
	fc_filter_free(f);
	return 0;
}
