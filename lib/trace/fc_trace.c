/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpcap-backed trace reader (see fc_trace.h).
 */
#include "fc_trace.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_parse.h"

struct fc_trace {
	pcap_t *pc;
	char *name;
	uint32_t dlt;
	uint64_t count;
};

struct fc_trace *fc_trace_open(const char *path, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	struct fc_trace *t;
	pcap_t *pc;

	if (strcmp(path, "-") == 0)
		pc = pcap_fopen_offline_with_tstamp_precision(
			stdin, PCAP_TSTAMP_PRECISION_NANO, perr);
	else
		pc = pcap_open_offline_with_tstamp_precision(
			path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (pc == NULL) {
		snprintf(err, errlen,
			 "cannot read trace '%s': %s (expected a pcap or pcapng "
			 "file)",
			 path, perr);
		return NULL;
	}
	if (!fc_parse_dlt_supported((uint32_t)pcap_datalink(pc))) {
		const char *n = pcap_datalink_val_to_name(pcap_datalink(pc));

		snprintf(err, errlen,
			 "trace '%s': link type %d (%s) is not supported; "
			 "supported: Ethernet, raw IPv4/IPv6, Linux SLL/SLL2, "
			 "BSD null/loopback, PPP",
			 path, pcap_datalink(pc), n ? n : "unknown");
		pcap_close(pc);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->name = strdup(path)) == NULL) {
		free(t);
		pcap_close(pc);
		snprintf(err, errlen, "trace '%s': out of memory", path);
		return NULL;
	}
	t->pc = pc;
	t->dlt = (uint32_t)pcap_datalink(pc);
	return t;
}

uint32_t fc_trace_dlt(const struct fc_trace *t)
{
	return t->dlt;
}

int fc_trace_next(struct fc_trace *t, struct fc_trace_pkt *pkt, char *err,
		  size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	int rc = pcap_next_ex(t->pc, &h, &d);

	if (rc == 1) {
		pkt->data = d;
		pkt->caplen = h->caplen;
		pkt->wirelen = h->len;
		/* With nanosecond precision tv_usec holds nanoseconds. */
		pkt->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL +
			     (uint64_t)h->ts.tv_usec;
		t->count++;
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	snprintf(err, errlen,
		 "trace '%s': read error after packet %llu: %s (the file is "
		 "truncated or corrupt; packets before it were processed)",
		 t->name, (unsigned long long)t->count, pcap_geterr(t->pc));
	return -1;
}

uint64_t fc_trace_count(const struct fc_trace *t)
{
	return t->count;
}

void fc_trace_close(struct fc_trace *t)
{
	if (t == NULL)
		return;
	pcap_close(t->pc);
	free(t->name);
	free(t);
}
