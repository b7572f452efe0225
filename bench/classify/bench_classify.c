/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-classify: cycles per packet of what --classify adds to a worker,
 * on the frames of a trace held in memory: the walk that finds the L4
 * payload (fc_parse_pkt_loc) and the Hyperscan scan of at most 512 bytes
 * (fc_cls_match), as app/flowcap/fc_worker.c's stage_ext does them. For
 * each rules file given: cycles per packet over all frames, and per
 * scanned packet (frames with payload). A rules file "gen:N" is N
 * generated rules (UDP/TCP, literal-prefixed patterns). Median of 5 runs.
 * First, what a frame without payload costs: the worker's parse into its
 * stage with the payload test (fc_count_parse_pl, then the branch that
 * skips the walk) against the plain parse (fc_count_parse), side by side
 * in alternating runs, median of 9 each. The table is not modelled.
 *
 *   bench-classify TRACE.pcap RULES...
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "fc_classify.h"
#include "fc_count.h"
#include "fc_parse.h"

#define RUNS 5
#define PRUNS 9

struct frame {
	const uint8_t *data;
	uint32_t len, dlt;
};

static inline uint64_t rdtsc(void)
{
	return __builtin_ia32_rdtsc();
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t l4_hdr(uint8_t proto, const uint8_t *l4, uint32_t len)
{
	switch (proto) {
	case 6:
		return len >= 13 && (l4[12] >> 4) >= 5 ? (l4[12] >> 4) * 4u : 0;
	case 17: return 8;
	case 132: return 12;
	case 1:
	case 58: return 8;
	default: return 0;
	}
}

/* One pass: walk + scan; returns packets scanned, sums labels in *lab. */
static uint64_t pass(const struct fc_cls_db *db, hs_scratch_t *s,
		     const struct frame *f, size_t n, uint64_t *lab)
{
	uint64_t scanned = 0;

	for (size_t i = 0; i < n; i++) {
		struct fc_parse_loc loc;
		struct fc_ftkey k;

		if (fc_parse_pkt_loc(f[i].data, f[i].len, f[i].dlt, &k, &loc) !=
			    FC_PARSE_OK || loc.l4 == NULL)
			continue;
		uint32_t h = l4_hdr(k.proto, loc.l4, loc.l4len);

		if (h == 0 || loc.l4len <= h || db == NULL)
			continue;
		uint32_t m = loc.l4len - h > 512 ? 512 : loc.l4len - h;

		*lab += fc_cls_match(db, s, k.proto, k.src_port, k.dst_port,
				     loc.l4 + h, m);
		scanned++;
	}
	return scanned;
}

/* The worker's parse into a stage, without (pl == NULL) or with the
 * payload test; returns the frames that would go on to the walk. */
static uint64_t parse_pass(struct fc_count *stg, const struct frame *f,
			   size_t n, bool with_pl)
{
	uint64_t walk = 0;

	fc_count_drop(stg);
	for (size_t i = 0; i < n; i++) {
		uint32_t pl;

		if (stg->n4 + stg->n6 >= 256)
			fc_count_drop(stg);
		if (with_pl) {
			if (fc_count_parse_pl(stg, f[i].data, f[i].len,
					      f[i].dlt, &pl) == FC_PARSE_OK &&
			    pl)
				walk++;
		} else {
			walk += fc_count_parse(stg, f[i].data, f[i].len,
					       f[i].dlt) == FC_PARSE_OK;
		}
	}
	/* Keep the staged keys alive for the compiler. */
	walk += stg->n4 ? stg->c4[0].hash & 1 : 0;
	return walk;
}

/* The parse with and without the payload test, alternating runs. */
static void measure_parse(const struct frame *f, size_t n)
{
	static struct fc_count stg;
	uint64_t a[PRUNS], b[PRUNS], walk = 0;

	for (int r = 0; r < PRUNS; r++) {
		uint64_t t0 = rdtsc();

		parse_pass(&stg, f, n, false);
		a[r] = rdtsc() - t0;
		t0 = rdtsc();
		walk = parse_pass(&stg, f, n, true);
		b[r] = rdtsc() - t0;
	}
	qsort(a, PRUNS, sizeof(a[0]), cmp_u64);
	qsort(b, PRUNS, sizeof(b[0]), cmp_u64);
	double pa = (double)a[PRUNS / 2] / (double)n;
	double pb = (double)b[PRUNS / 2] / (double)n;

	printf("parse: %.1f cycles/packet; with the payload test: %.1f "
	       "(%+.1f); %" PRIu64 " of %zu frames go on to the walk\n",
	       pa, pb, pb - pa, walk, n);
}

static double tsc_hz(void)
{
	struct timespec a, b;
	uint64_t t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &a);
	t0 = rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec) < 2e8);
	t1 = rdtsc();
	return (double)(t1 - t0) /
	       ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
}

static void measure(const char *name, const struct fc_cls_db *db,
		    hs_scratch_t *s, const struct frame *f, size_t n,
		    double base)
{
	uint64_t c[RUNS], lab = 0, sc = 0;

	for (int r = 0; r < RUNS; r++) {
		uint64_t t0 = rdtsc();

		sc = pass(db, s, f, n, &lab);
		c[r] = rdtsc() - t0;
	}
	qsort(c, RUNS, sizeof(c[0]), cmp_u64);
	double all = (double)c[RUNS / 2] / (double)n;

	if (base < 0)
		printf("walk only (no rules): %.1f cycles/packet\n", all);
	else
		printf("%s: %.1f cycles/packet (%.1f over the walk); %" PRIu64
		       " of %zu packets scanned: %.1f cycles per scanned "
		       "packet\n",
		       name, all, all - base, sc, n,
		       sc ? (all - base) * (double)n / (double)sc : 0.0);
}

int main(int argc, char **argv)
{
	char eb[PCAP_ERRBUF_SIZE], err[1024];
	struct frame *f = NULL;
	size_t n = 0, cap = 0;
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *pc;

	if (argc < 2) {
		fprintf(stderr, "usage: bench-classify TRACE [RULES|gen:N]...\n");
		return 2;
	}
	if ((pc = pcap_open_offline(argv[1], eb)) == NULL) {
		fprintf(stderr, "bench-classify: %s\n", eb);
		return 1;
	}
	while (pcap_next_ex(pc, &h, &d) == 1) {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			f = realloc(f, cap * sizeof(*f));
		}
		uint8_t *copy = malloc(h->caplen);

		memcpy(copy, d, h->caplen);
		f[n++] = (struct frame){copy, h->caplen,
					(uint32_t)pcap_datalink(pc)};
	}
	printf("trace %s: %zu frames; TSC %.3f GHz\n", argv[1], n,
	       tsc_hz() / 1e9);
	uint64_t c[RUNS], lab = 0;

	measure_parse(f, n);
	for (int r = 0; r < RUNS; r++) {
		uint64_t t0 = rdtsc();

		pass(NULL, NULL, f, n, &lab);
		c[r] = rdtsc() - t0;
	}
	qsort(c, RUNS, sizeof(c[0]), cmp_u64);
	double base = (double)c[RUNS / 2] / (double)n;

	printf("walk only (no rules): %.1f cycles/packet\n", base);
	for (int a = 2; a < argc; a++) {
		struct fc_cls_rules *rs;

		if (strncmp(argv[a], "gen:", 4) == 0) {
			unsigned k = (unsigned)atoi(argv[a] + 4);
			size_t tc = (size_t)k * 64 + 1, o = 0;
			char *t = malloc(tc);

			for (unsigned i = 0; i < k; i++)
				o += (size_t)snprintf(t + o, tc - o,
						      "g%u %s %u /^p%05u[a-z]+x/\n",
						      i, i & 1 ? "tcp" : "udp",
						      1024 + i, i);
			rs = fc_cls_rules_parse(t, o, argv[a], err, sizeof(err));
			free(t);
		} else {
			rs = fc_cls_rules_load(argv[a], err, sizeof(err));
		}
		if (rs == NULL) {
			fprintf(stderr, "bench-classify: %s\n", err);
			return 1;
		}
		struct fc_cls_db *db = fc_cls_db_create(rs, err, sizeof(err));

		if (db == NULL) {
			fprintf(stderr, "bench-classify: %s\n", err);
			return 1;
		}
		hs_scratch_t *s = fc_cls_scratch_alloc(db);

		measure(argv[a], db, s, f, n, base);
		hs_free_scratch(s);
		fc_cls_db_free(db);
		fc_cls_rules_free(rs);
	}
	return 0;
}
