/* SPDX-License-Identifier: BSD-3-Clause */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	char name[] = "/tmp/fc-test-not-a-pcap.XXXXXX";
	int fd = mkstemp(name);
	FILE *f;

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	cr_assert_null(fc_trace_open("/nonexistent/x.pcap", err, sizeof(err)));
	cr_assert(strstr(err, "/nonexistent/x.pcap") != NULL, "%s", err);
	fputs("hello, this is not a capture\n", f);
	fclose(f);
	f = NULL;
	int rc = fc_trace_open(name, err, sizeof(err)) == NULL;

	remove(name);
	cr_assert(rc);
	cr_assert(strstr(err, name) != NULL, "%s", err);
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

/* A digest of every packet (time, lengths, link type, bytes) and how
 * reading ended: two readings of the same packets give the same. */
struct digest {
	uint64_t n, h;
	int end;
	char err[512];
};

static void digest_trace(struct fc_trace *t, struct digest *d)
{
	struct fc_trace_pkt p;

	d->n = 0;
	d->h = 1469598103934665603ULL;
	while ((d->end = fc_trace_next(t, &p, d->err, sizeof(d->err))) == 1) {
		uint64_t v[4] = {p.ts_ns, p.caplen, p.wirelen, p.dlt};

		for (unsigned i = 0; i < 4; i++)
			d->h = (d->h ^ v[i]) * 1099511628211ULL;
		for (uint32_t i = 0; i < p.caplen; i++)
			d->h = (d->h ^ p.data[i]) * 1099511628211ULL;
		d->n++;
	}
}

static void digest_path(const char *path, struct digest *d)
{
	char err[512];
	struct fc_trace *t = fc_trace_open(path, err, sizeof(err));

	cr_assert_not_null(t, "%s", err);
	digest_trace(t, d);
	fc_trace_close(t);
}

/* A private directory for compressed copies; removed by rm_tmp. */
static char tmpdir[64];

static void mk_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fc-test-trace.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

/* Run a shell command built with snprintf; it must succeed. */
#define SH(...)                                                        \
	do {                                                           \
		char cmd_[1024];                                       \
		snprintf(cmd_, sizeof(cmd_), __VA_ARGS__);             \
		cr_assert_eq(system(cmd_), 0, "%s", cmd_);             \
	} while (0)

static const char *const tools[][2] = {
	{"gzip -c", "gz"}, {"zstd -q -c", "zst"}, {"xz -c", "xz"},
};

Test(trace, compressed_traces_give_the_same_packets, .init = mk_tmp,
     .fini = rm_tmp)
{
	static const char *const files[] = {
		REAL "tcpreplay-test-mix.pcap",
		EDGE "format-pcapng-example.pcapng",
		EDGE "format-nanosec-bigendian.pcap",
		EDGE "format-empty.pcap",
	};

	for (unsigned f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct digest plain, z;

		digest_path(files[f], &plain);
		cr_assert_eq(plain.end, 0, "%s", plain.err);
		for (unsigned k = 0; k < 3; k++) {
			char path[256], err[512];
			struct fc_trace *t;

			/* The name says nothing: the magic bytes decide. */
			snprintf(path, sizeof(path), "%s/trace%u%u", tmpdir, f, k);
			SH("%s '%s' >'%s'", tools[k][0], files[f], path);
			t = fc_trace_open(path, err, sizeof(err));
			cr_assert_not_null(t, "%s", err);
			cr_assert_str_eq(fc_trace_compression(t),
					 k == 0 ? "gzip" : k == 1 ? "zstd" : "xz");
			cr_assert_eq(fc_trace_stable(t), 0, "a stream, not mapped");
			digest_trace(t, &z);
			fc_trace_close(t);
			cr_assert_eq(z.end, 0, "%s: %s", path, z.err);
			cr_assert_eq(z.n, plain.n, "%s", path);
			cr_assert_eq(z.h, plain.h, "%s: same packets", path);
		}
	}
}

Test(trace, compressed_trace_on_a_pipe, .init = mk_tmp, .fini = rm_tmp)
{
	struct digest plain, z;

	digest_path(REAL "tcpreplay-test-mix.pcap", &plain);
	for (unsigned k = 0; k < 3; k++) {
		char cmd[512], err[512];
		FILE *p;
		struct fc_trace *t;

		snprintf(cmd, sizeof(cmd), "%s '%s'", tools[k][0],
			 REAL "tcpreplay-test-mix.pcap");
		p = popen(cmd, "r");
		cr_assert_not_null(p);
		/* A pipe cannot be rewound: the bytes looked at are replayed. */
		t = fc_trace_open_fd(dup(fileno(p)), "pipe", err, sizeof(err));
		cr_assert_not_null(t, "%s", err);
		digest_trace(t, &z);
		fc_trace_close(t);
		pclose(p);
		cr_assert_eq(z.end, 0, "%s", z.err);
		cr_assert_eq(z.h, plain.h, "%s through a pipe", tools[k][0]);
	}
}

Test(trace, multi_member_gzip_is_one_trace, .init = mk_tmp, .fini = rm_tmp)
{
	char path[256];
	struct digest plain, z;

	/* A pcap cut in two, each half compressed on its own and the two
	 * concatenated (what gzip -d reads as one file). */
	snprintf(path, sizeof(path), "%s/two.pcap.gz", tmpdir);
	SH("head -c 30000 '%s' | gzip -c >'%s'",
	   REAL "tcpreplay-test-mix.pcap", path);
	SH("tail -c +30001 '%s' | gzip -c >>'%s'",
	   REAL "tcpreplay-test-mix.pcap", path);
	digest_path(REAL "tcpreplay-test-mix.pcap", &plain);
	digest_path(path, &z);
	cr_assert_eq(z.end, 0, "%s", z.err);
	cr_assert_eq(z.h, plain.h);
}

Test(trace, truncated_or_corrupt_compressed_trace_is_an_error_naming_it,
     .init = mk_tmp, .fini = rm_tmp)
{
	for (unsigned k = 0; k < 3; k++) {
		for (unsigned damage = 0; damage < 3; damage++) {
			char path[256], err[512];
			struct fc_trace *t;
			struct digest z;

			snprintf(path, sizeof(path), "%s/bad%u%u", tmpdir, k,
				 damage);
			if (damage == 0) /* cut in the middle */
				SH("%s '%s' | head -c 30000 >'%s'", tools[k][0],
				   REAL "tcpreplay-test-mix.pcap", path);
			else if (damage == 1) /* cut 4 bytes short */
				SH("%s '%s' | head -c -4 >'%s'", tools[k][0],
				   REAL "tcpreplay-test-mix.pcap", path);
			else /* trailing bytes that are not a member/frame */
				SH("(%s '%s'; echo garbage) >'%s'", tools[k][0],
				   REAL "tcpreplay-test-mix.pcap", path);
			t = fc_trace_open(path, err, sizeof(err));
			if (t != NULL) {
				digest_trace(t, &z);
				fc_trace_close(t);
				cr_assert_eq(z.end, -1, "%s: damage %u read as a "
					     "clean end after %llu packets",
					     path, damage,
					     (unsigned long long)z.n);
				snprintf(err, sizeof(err), "%s", z.err);
			}
			cr_assert(strstr(err, path) != NULL, "%s", err);
			cr_assert(strstr(err, tools[k][1][0] == 'g' ? "gzip" :
					      tools[k][1][0] == 'z' ? "zstd" :
								     "xz") != NULL,
				  "%s", err);
			if (damage < 2)
				cr_assert(strstr(err, "truncated") != NULL,
					  "%s", err);
		}
	}
}

Test(trace, peek_returns_the_next_packet_without_taking_it, .init = mk_tmp,
     .fini = rm_tmp)
{
	char gz[256];
	const char *paths[2] = {REAL "tcpreplay-test-mix.pcap", gz};

	snprintf(gz, sizeof(gz), "%s/t.gz", tmpdir);
	SH("gzip -c '%s' >'%s'", REAL "tcpreplay-test-mix.pcap", gz);
	for (unsigned i = 0; i < 2; i++) {
		char err[512];
		struct fc_trace *t = fc_trace_open(paths[i], err, sizeof(err));
		struct fc_trace_pkt a, b, c;

		cr_assert_not_null(t, "%s", err);
		cr_assert_eq(fc_trace_peek(t, &a, err, sizeof(err)), 1, "%s", err);
		cr_assert_eq(fc_trace_peek(t, &b, err, sizeof(err)), 1, "%s", err);
		cr_assert_eq(fc_trace_count(t), 0);
		cr_assert_eq(fc_trace_next(t, &c, err, sizeof(err)), 1, "%s", err);
		cr_assert_eq(a.ts_ns, 1278472579466743000ULL);
		cr_assert_eq(b.ts_ns, a.ts_ns);
		cr_assert_eq(c.ts_ns, a.ts_ns);
		cr_assert_eq(c.caplen, a.caplen);
		cr_assert_eq(memcmp(c.data, a.data, a.caplen), 0);
		cr_assert_eq(fc_trace_count(t), 1);
		cr_assert_eq(fc_trace_next(t, &c, err, sizeof(err)), 1, "%s", err);
		cr_assert_neq(c.ts_ns, 0);
		cr_assert_eq(fc_trace_count(t), 2);
		fc_trace_close(t);
	}
}

/*
 * A file read in runs of up to max packets of the seconds [lo, hi]
 * (fc_trace_next for each packet that ends one) gives the packets, times
 * and end that fc_trace_next alone gives. Returns the packets taken in
 * runs.
 */
static uint64_t runs_match_next(const char *path, unsigned max, uint64_t lo,
				uint64_t hi)
{
	char err[512], err2[512];
	struct fc_trace *a = fc_trace_open(path, err, sizeof(err));
	struct fc_trace *b = fc_trace_open(path, err2, sizeof(err2));
	struct fc_trace_pkt p, q;
	uint64_t in_runs = 0, newest = 0;
	int r, r2;

	cr_assert_not_null(a, "%s", err);
	cr_assert_not_null(b, "%s", err2);
	cr_assert(fc_trace_stable(a), "%s is mapped", path);
	for (;;) {
		struct fc_trace_run run;
		unsigned n = fc_trace_run(a, lo, hi, max, &run);

		cr_assert_leq(n, max);
		if (n > 0) {
			const uint8_t *d = run.data, *first = run.data;
			uint64_t mx = 0;

			for (unsigned i = 0; i < n; i++) {
				uint32_t len = fc_trace_run_len(d, run.swap);

				cr_assert_eq(fc_trace_next(b, &q, err2,
							   sizeof(err2)), 1);
				cr_assert_eq(len, q.caplen);
				cr_assert_eq(memcmp(d, q.data, len), 0);
				cr_assert(q.ts_ns / 1000000000ULL >= lo &&
					  q.ts_ns / 1000000000ULL <= hi);
				mx = q.ts_ns > mx ? q.ts_ns : mx;
				if (i == n - 1)
					cr_assert_eq(run.last_ns, q.ts_ns);
				d = fc_trace_run_next(d, len);
			}
			cr_assert_eq(run.max_ns, mx);
			cr_assert_eq((size_t)(d - first), run.bytes);
			newest = mx > newest ? mx : newest;
			in_runs += n;
			cr_assert_eq(fc_trace_count(a), fc_trace_count(b));
			continue;
		}
		/* The packet that ends a run: outside the bounds, or the
		 * end, or a record fc_trace_next refuses. */
		r = fc_trace_next(a, &p, err, sizeof(err));
		r2 = fc_trace_next(b, &q, err2, sizeof(err2));
		cr_assert_eq(r, r2);
		if (r != 1) {
			if (r < 0)
				cr_assert_str_eq(err, err2);
			break;
		}
		cr_assert_eq(p.ts_ns, q.ts_ns);
		cr_assert_eq(p.caplen, q.caplen);
		cr_assert(p.ts_ns / 1000000000ULL < lo ||
			  p.ts_ns / 1000000000ULL > hi || max == 0);
	}
	(void)newest;
	fc_trace_close(a);
	fc_trace_close(b);
	return in_runs;
}

Test(trace, runs_give_the_packets_fc_trace_next_gives)
{
	/* Host order microseconds, big-endian, nanoseconds. */
	cr_assert_eq(runs_match_next(REAL "tcpreplay-test-mix.pcap", 7, 0,
				     UINT64_MAX),
		     179);
	cr_assert_gt(runs_match_next(EDGE "format-bigendian-ether.pcap", 3, 0,
				     UINT64_MAX),
		     0);
	cr_assert_gt(runs_match_next(EDGE "format-nanosec-bigendian.pcap", 256,
				     0, UINT64_MAX),
		     0);
	cr_assert_gt(runs_match_next(EDGE "format-nanosec-ether.pcap", 1, 0,
				     UINT64_MAX),
		     0);
	cr_assert_eq(runs_match_next(EDGE "format-empty.pcap", 8, 0,
				     UINT64_MAX),
		     0);
	/* No packet in runs when max is 0. */
	cr_assert_eq(runs_match_next(REAL "tcpreplay-test-mix.pcap", 0, 0,
				     UINT64_MAX),
		     0);
}

Test(trace, a_run_stops_at_a_second_outside_its_bounds)
{
	uint64_t first = 0;
	uint64_t all = count_all(REAL "tcpreplay-test-mix.pcap", &first);
	uint64_t s = first / 1000000000ULL;
	/* The first second only: the packets of the others go one by one. */
	uint64_t n = runs_match_next(REAL "tcpreplay-test-mix.pcap", 64, s, s);

	cr_assert_gt(n, 0);
	cr_assert_lt(n, all);
	/* Bounds no packet is in: every packet goes one by one. */
	cr_assert_eq(runs_match_next(REAL "tcpreplay-test-mix.pcap", 64, 0,
				     s - 1),
		     0);
}

Test(trace, a_run_stops_before_a_corrupt_record_which_next_reports)
{
	/* Packet 7 claims 4 MB: the runs take 6 packets, fc_trace_next
	 * then reports packet 7 (checked against a reader without runs). */
	cr_assert_eq(runs_match_next(EDGE "filecorrupt-record-caplen-4M.pcap",
				     256, 0, UINT64_MAX),
		     6);
}
