/* SPDX-License-Identifier: BSD-3-Clause */
#include <criterion/criterion.h>
#include <stdio.h>

#include "fc_trace.h"

#define EDGE FC_SHARED "/pcaps/edge/"
#define REAL FC_SHARED "/pcaps/real/"

static uint64_t count_all(const char *path, uint64_t *first_ns)
{
	char err[512];
	struct fc_trace *t = fc_trace_open(path, err, sizeof(err));
	struct fc_trace_pkt p;
	uint64_t n = 0;

	cr_assert_not_null(t, "%s", err);
	while (fc_trace_next(t, &p, err, sizeof(err)) == 1) {
		if (n == 0 && first_ns)
			*first_ns = p.ts_ns;
		cr_assert_leq(p.caplen, p.wirelen > p.caplen ? p.wirelen : p.caplen);
		n++;
	}
	cr_assert_eq(fc_trace_count(t), n);
	fc_trace_close(t);
	return n;
}

Test(trace, reads_pcap_with_microsecond_times_as_nanoseconds)
{
	uint64_t first = 0;

	cr_assert_eq(count_all(REAL "tcpreplay-test-mix.pcap", &first), 179);
	/* tshark: first frame at 1278472579.466743 */
	cr_assert_eq(first, 1278472579466743000ULL);
}

Test(trace, reads_nanosecond_and_pcapng_files)
{
	uint64_t first = 0;

	cr_assert_gt(count_all(EDGE "format-nanosec-ether.pcap", NULL), 0);
	cr_assert_gt(count_all(EDGE "format-nanosec-bigendian.pcap", &first), 0);
	/* tshark: first frame at 1766361926.167647291 */
	cr_assert_eq(first, 1766361926167647291ULL, "nanosecond digits kept");
	cr_assert_gt(count_all(EDGE "format-pcapng-example.pcapng", NULL), 0);
	cr_assert_gt(count_all(EDGE "format-bigendian-ether.pcap", NULL), 0);
	cr_assert_eq(count_all(EDGE "format-empty.pcap", NULL), 0);
}

Test(trace, accepts_the_supported_link_types)
{
	const char *files[] = {"linktype-sll.pcap", "linktype-sll2.pcap",
			       "linktype-raw-ipv4.pcap", "linktype-raw-12-ipv6.pcap",
			       "linktype-null-loopback.pcap",
			       "linktype-rawip4-228.pcap"};

	for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];

		snprintf(path, sizeof(path), EDGE "%s", files[i]);
		cr_assert_gt(count_all(path, NULL), 0, "%s", files[i]);
	}
}

Test(trace, missing_or_bogus_file_names_the_file)
{
	char err[512];
	FILE *f = fopen("/tmp/fc-test-not-a-pcap", "w");

	cr_assert_null(fc_trace_open("/nonexistent/x.pcap", err, sizeof(err)));
	cr_assert(strstr(err, "/nonexistent/x.pcap") != NULL, "%s", err);
	fputs("hello, this is not a capture\n", f);
	fclose(f);
	cr_assert_null(fc_trace_open("/tmp/fc-test-not-a-pcap", err, sizeof(err)));
	cr_assert(strstr(err, "fc-test-not-a-pcap") != NULL, "%s", err);
	remove("/tmp/fc-test-not-a-pcap");
}

Test(trace, corrupt_record_is_an_error_with_packet_number)
{
	char err[512];
	struct fc_trace *t = fc_trace_open(EDGE "filecorrupt-record-caplen-4M.pcap",
					   err, sizeof(err));
	struct fc_trace_pkt p;
	int r;

	cr_assert_not_null(t, "%s", err);
	while ((r = fc_trace_next(t, &p, err, sizeof(err))) == 1)
		;
	cr_assert_eq(r, -1);
	cr_assert(strstr(err, "packet 7") != NULL && strstr(err, "offset") != NULL,
		  "%s", err);
	fc_trace_close(t);
}

Test(trace, pcapng_with_several_link_types_gives_each_packet_its_own)
{
	char err[512];
	struct fc_trace *t = fc_trace_open(EDGE "format-pcapng-example.pcapng",
					   err, sizeof(err));
	struct fc_trace_pkt p;
	uint64_t eth = 0, sll = 0;
	int r;

	cr_assert_not_null(t, "%s", err);
	while ((r = fc_trace_next(t, &p, err, sizeof(err))) == 1) {
		if (p.dlt == 1)
			eth++;
		else if (p.dlt == 113)
			sll++;
	}
	cr_assert_eq(r, 0, "%s", err);
	/* capinfos: 59 Ethernet, 100 Linux cooked-mode packets */
	cr_assert_eq(eth, 59);
	cr_assert_eq(sll, 100);
	fc_trace_close(t);
}

Test(trace, pcapng_times_match_libpcap_for_the_same_packets)
{
	uint64_t a = 0, b = 0;

	/* Same packets: vlan-pcp-dei.pcap was converted from the pcapng. */
	cr_assert_eq(count_all(EDGE "vlan-pcp-dei.pcapng", &a),
		     count_all(EDGE "vlan-pcp-dei.pcap", &b));
	cr_assert_eq(a, b);
}

Test(trace, multi_interface_pcapng_reads_every_packet)
{
	/* capinfos: 62 + 2 packets on interfaces of two link types */
	cr_assert_eq(count_all(EDGE "format-pcapng-multi-interface.pcapng", NULL),
		     64);
}
