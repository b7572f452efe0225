/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap-floor: the least work any pcap reader can do, a libpcap
 * pcap_next_ex loop that counts packets and captured bytes. bench/offline
 * uses its CPU time as the floor that flowcap --read is compared with. It
 * does not parse or aggregate anything.
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t pkts = 0, bytes = 0;
	unsigned sum = 0;
	pcap_t *p;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap-floor FILE.pcap\n");
		return 2;
	}
	p = pcap_open_offline(argv[1], err);
	if (p == NULL) {
		fprintf(stderr, "pcap-floor: %s: %s\n", argv[1], err);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		pkts++;
		bytes += h->caplen;
		sum += h->caplen ? data[0] : 0; /* touch the frame once */
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcap-floor: %s: %s\n", argv[1], pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	printf("packets %" PRIu64 " bytes %" PRIu64 " (%u)\n", pkts, bytes,
	       sum & 1);
	return 0;
}
