/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: trace input (lib/trace). The bytes are a capture file:
 * classic pcap (mapped and walked in place) or pcapng (our block reader),
 * either of them compressed with gzip, zstd or xz (a decompressing stream).
 * Every packet returned must lie inside the file's bytes with a link type
 * the parser understands or reports; reading must end with a status.
 * The file is an anonymous memory file (memfd), opened by its /proc path:
 * no name in any directory, so nothing is left behind, whatever way the
 * run ends (a crash found, a timeout, SIGKILL).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fc_parse.h"
#include "fc_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;
	struct fc_trace_pkt p;
	struct fc_trace *t;
	char err[512];
	size_t done = 0;
	int r;

	if (fd < 0) {
		fd = memfd_create("fc-fuzz-trace", MFD_CLOEXEC);
		if (fd < 0) {
			perror("fuzz_trace: memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	/* The file holds exactly this input. */
	if (ftruncate(fd, 0) != 0)
		abort();
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);

		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	t = fc_trace_open(path, err, sizeof(err));
	if (t == NULL)
		return 0;
	while ((r = fc_trace_next(t, &p, err, sizeof(err))) == 1) {
		struct fc_ftkey key;
		volatile uint8_t sink = 0;

		/* Touch every byte: ASan catches a packet past the file. */
		for (uint32_t i = 0; i < p.caplen; i++)
			sink ^= p.data[i];
		(void)sink;
		if (fc_parse_pkt(p.data, p.caplen, p.dlt, &key) >=
		    FC_PARSE_STATUS_COUNT)
			abort();
	}
	if (r != 0 && r != -1)
		abort();
	fc_trace_close(t);
	return 0;
}
