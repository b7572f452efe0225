/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapng reader with per-interface link types (see fc_pcapng.c). Used by
 * fc_trace for pcapng input; classic pcap goes through libpcap.
 */
#ifndef FC_PCAPNG_H
#define FC_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct fc_pcapng;

struct fc_pcapng_pkt {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
	uint32_t dlt;
	int has_ts;
	uint64_t ts_ns;
};

/** Reader on f, positioned at the start of the file. NULL: out of memory. */
struct fc_pcapng *fc_pcapng_open(FILE *f);

/** 1 packet, 0 end of file, -1 error (message in err). */
int fc_pcapng_next(struct fc_pcapng *g, struct fc_pcapng_pkt *pkt, char *err,
		   size_t errlen);

/** Free the reader (not the FILE). NULL is a no-op. */
void fc_pcapng_close(struct fc_pcapng *g);

#endif /* FC_PCAPNG_H */
