/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapng reader with per-interface link types (see fc_pcapng.c). Used by
 * fc_trace for pcapng input; classic pcap goes through libpcap.
 *
 * Thread safety: none; one thread per reader (it owns its buffer and
 * reads its FILE); distinct readers are independent. No global state.
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

/**
 * Reader on f, positioned at the start of the file. NULL: out of memory.
 * Thread safety: any thread; the reader and f then belong to one thread.
 */
struct fc_pcapng *fc_pcapng_open(FILE *f);

/**
 * 1 packet, 0 end of file, -1 error (message in err). pkt->data is valid
 * until the next call.
 * Thread safety: none; one thread per reader.
 */
int fc_pcapng_next(struct fc_pcapng *g, struct fc_pcapng_pkt *pkt, char *err,
		   size_t errlen);

/**
 * Free the reader (not the FILE). NULL is a no-op.
 * Thread safety: none; one thread per reader, which then is gone.
 */
void fc_pcapng_close(struct fc_pcapng *g);

#endif /* FC_PCAPNG_H */
