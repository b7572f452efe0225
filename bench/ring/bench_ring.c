/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-ring: flowcap's own cycles per packet behind a DPDK port whose
 * receive costs next to nothing. A pool of RING_MBUFS mbufs (a NIC's RX
 * ring's worth) sits in an rte_ring behind a net_ring port
 * (rte_eth_from_ring); a pass receives them with rte_eth_rx_burst in
 * bursts of 32, writes into each the first bytes of the next generated
 * frame (lib/gen, built once into one buffer, read in order: what a NIC's
 * DMA does into buffers still in the cache) and, after the work, puts the
 * burst back at the ring's tail: nothing allocated, nothing freed. The
 * work is a worker's for one burst: fc_count_parse of each frame (its
 * header asked for 4 frames ahead), then fc_count_pipe into the table,
 * reset before each pass as at an interval. The same pass without the
 * parse and count gives the source's cost; flowcap's cycles per packet
 * are the difference. Medians over the passes. Not measured: the
 * interval clock, counters and mbuf frees of the real worker.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "bench_util.h"
#include "fc_count.h"
#include "fc_flowtable.h"
#include "fc_gen.h"

#define BURST 32
#define SNAP 128 /* header bytes kept of a frame: the parser reads no more */
#define RING_MBUFS 4096

struct cfg {
	uint64_t flows;
	double zipf;
	int imix;
};

static struct fc_count stg; /* 88 KB: not on the stack */

/* The frames of one configuration, back to back (their first SNAP
 * bytes), and where each starts. */
struct frames {
	uint8_t *data;
	uint64_t *off;
	uint64_t n;
};

/* One pass over every frame: receive, fill, optionally parse and count,
 * put back. Returns the packets parsed into keys. */
static uint64_t run_pass(uint16_t port, struct rte_ring *r,
			 const struct frames *f, struct fc_flowtable *t,
			 int work)
{
	struct rte_mbuf *m[BURST];
	uint64_t done = 0, ok = 0;

	fc_count_drop(&stg);
	while (done < f->n) {
		uint16_t k = rte_eth_rx_burst(port, 0, m, BURST);

		if (k > f->n - done)
			k = (uint16_t)(f->n - done);
		for (unsigned j = 0; j < k; j++) {
			uint64_t i = done + j;
			uint16_t len = (uint16_t)(f->off[i + 1] - f->off[i]);

			memcpy(rte_pktmbuf_mtod(m[j], uint8_t *),
			       f->data + f->off[i], len);
			m[j]->data_len = len;
			m[j]->pkt_len = len;
		}
		if (work) {
			unsigned before = fc_count_pending(&stg);

			for (unsigned j = 0; j < k && j < 4; j++)
				rte_prefetch0(rte_pktmbuf_mtod(m[j], void *));
			for (unsigned j = 0; j < k; j++) {
				if (j + 4 < k)
					rte_prefetch0(rte_pktmbuf_mtod(
						m[j + 4], void *));
				fc_count_parse(&stg,
					       rte_pktmbuf_mtod(m[j],
								const uint8_t *),
					       rte_pktmbuf_data_len(m[j]),
					       FC_DLT_EN10MB);
			}
			ok += fc_count_pending(&stg) - before;
			fc_count_pipe(&stg, t);
		}
		/* Back at the tail: the ring has room for every mbuf. */
		rte_ring_sp_enqueue_burst(r, (void **)m, k, NULL);
		done += k;
	}
	if (work)
		fc_count_flush(&stg, t);
	return ok;
}

static int make_frames(struct frames *f, const struct cfg *c, uint64_t n,
		       uint64_t seed)
{
	uint8_t frame[FC_GEN_FRAME_MAX];
	struct fc_gen_cfg g;
	char err[256];
	struct fc_gen *gen;
	uint64_t at = 0;

	fc_gen_cfg_init(&g);
	g.seed = seed;
	g.packets = n;
	g.flows = (uint32_t)c->flows;
	g.zipf = c->zipf;
	g.size = c->imix ? FC_GEN_SIZE_IMIX : FC_GEN_SIZE_64;
	g.rate_pps = 10000000;
	if (fc_gen_cfg_check(&g, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench-ring: generator: %s\n", err);
		return -EINVAL;
	}
	gen = fc_gen_create(&g);
	f->data = malloc(n * SNAP);
	f->off = malloc((n + 1) * sizeof(*f->off));
	f->n = 0;
	if (gen == NULL || f->data == NULL || f->off == NULL) {
		fc_gen_free(gen);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint32_t len, keep;
		uint64_t ts;

		if (fc_gen_next(gen, frame, sizeof(frame), &len, &ts) != 0)
			break;
		keep = len < SNAP ? len : SNAP;
		f->off[i] = at;
		memcpy(f->data + at, frame, keep);
		at += keep;
		f->n++;
	}
	f->off[f->n] = at;
	fc_gen_free(gen);
	return f->n > 0 ? 0 : -EINVAL;
}

static int port_of_ring(struct rte_ring *r, struct rte_mempool *mp,
			uint16_t *port)
{
	struct rte_eth_conf conf;
	int p = rte_eth_from_ring(r);

	if (p < 0)
		return -EIO;
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure((uint16_t)p, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup((uint16_t)p, 0, 1024, rte_socket_id(),
				   NULL, mp) != 0 ||
	    rte_eth_tx_queue_setup((uint16_t)p, 0, 1024, rte_socket_id(),
				   NULL) != 0 ||
	    rte_eth_dev_start((uint16_t)p) != 0)
		return -EIO;
	*port = (uint16_t)p;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct cfg cfgs[] = {
		{100000, 0, 0}, {100000, 0, 1}, {100000, 1.1, 0},
		{100000, 1.1, 1}, {1000000, 1.1, 0}, {1000000, 1.1, 1},
	};
	uint64_t n = 2000000, runs = 5, seed = 1;
	uint16_t port;
	struct rte_mempool *mp;
	struct rte_ring *r;
	double hz;
	char cpu[256];
	int c, e;

	e = rte_eal_init(argc, argv);
	if (e < 0) {
		fprintf(stderr, "bench-ring: EAL init failed: give EAL options "
			"first, e.g. bench-ring --no-huge -m 1500 --no-pci -l 0 "
			"-- -n 2M\n");
		return 1;
	}
	argc -= e;
	argv += e;
	while ((c = getopt(argc, argv, "n:r:s:h")) != -1) {
		int bad = 0;

		switch (c) {
		case 'n': bad = bench_parse_u64(optarg, &n) || n < BURST; break;
		case 'r': bad = bench_parse_u64(optarg, &runs) || runs < 1 ||
				runs > 64; break;
		case 's': bad = bench_parse_u64(optarg, &seed); break;
		case 'h':
			printf("Usage: bench-ring [EAL options] -- [-n PACKETS "
			       "(2M)] [-r RUNS (5)] [-s SEED]\nCycles per packet "
			       "of flowcap's worker pipeline behind a net_ring "
			       "port\n(100k flows uniform and 1M flows Zipf 1.1, "
			       "64 B and IMIX).\n");
			return 0;
		default: bad = 1; break;
		}
		if (bad) {
			fprintf(stderr, "bench-ring: bad option (see -h)\n");
			return 2;
		}
	}
	mp = rte_pktmbuf_pool_create("bench_ring", RING_MBUFS + 1024, 256, 0,
				     RTE_PKTMBUF_HEADROOM + SNAP,
				     rte_socket_id());
	r = rte_ring_create("bench_ring", 2 * RING_MBUFS, rte_socket_id(),
			    RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (mp == NULL || r == NULL) {
		fprintf(stderr, "bench-ring: no memory for %d mbufs: raise the "
			"EAL's -m\n", RING_MBUFS);
		return 1;
	}
	for (unsigned i = 0; i < RING_MBUFS; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

		if (m == NULL || rte_ring_sp_enqueue(r, m) != 0) {
			fprintf(stderr, "bench-ring: cannot fill the ring\n");
			return 1;
		}
	}
	if (port_of_ring(r, mp, &port) != 0) {
		fprintf(stderr, "bench-ring: cannot make a net_ring port of "
			"the ring\n");
		return 1;
	}
	hz = bench_tsc_hz();
	bench_cpu_model(cpu, sizeof(cpu));
	printf("bench-ring: %s, TSC %.2f GHz, %" PRIu64 " packets a pass "
	       "through %d mbufs, bursts of %d, median of %" PRIu64
	       " passes\n\n", cpu, hz / 1e9, n, RING_MBUFS, BURST, runs);
	printf("| flows | popularity | size | keys | source cycles/pkt "
	       "| total cycles/pkt | flowcap cycles/pkt | Mpps per worker |\n"
	       "|---|---|---|---|---|---|---|---|\n");
	for (unsigned i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		const struct cfg *cf = &cfgs[i];
		struct fc_flowtable *t = fc_flowtable_create(
			cf->flows + cf->flows / 10);
		double src[64], tot[64];
		struct frames f = {0};
		uint64_t parsed = 0;

		if (t == NULL || make_frames(&f, cf, n, seed) != 0) {
			fprintf(stderr, "bench-ring: no memory for %" PRIu64
				" frames and a table of %" PRIu64 " keys\n",
				n, cf->flows);
			return 1;
		}
		run_pass(port, r, &f, t, 1); /* faults the table in */
		for (unsigned k = 0; k < runs; k++) {
			uint64_t t0, t1, t2;

			fc_flowtable_reset(t);
			t0 = bench_tsc();
			run_pass(port, r, &f, t, 0);
			t1 = bench_tsc();
			parsed = run_pass(port, r, &f, t, 1);
			t2 = bench_tsc();
			src[k] = (double)(t1 - t0) / (double)f.n;
			tot[k] = (double)(t2 - t1) / (double)f.n;
		}
		double s = bench_median(src, (unsigned)runs),
		       a = bench_median(tot, (unsigned)runs);

		printf("| %s | %s | %s | %" PRIu64 " | %.1f | %.1f | %.1f | "
		       "%.2f |\n", cf->flows == 100000 ? "100k" : "1M",
		       cf->zipf > 0 ? "Zipf 1.1" : "uniform",
		       cf->imix ? "IMIX" : "64", t->n_keys, s, a, a - s,
		       hz / (a - s) / 1e6);
		fflush(stdout);
		if (parsed != f.n)
			fprintf(stderr, "bench-ring: %" PRIu64 " of %" PRIu64
				" packets parsed\n", parsed, f.n);
		free(f.data);
		free(f.off);
		fc_flowtable_free(t);
	}
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_ring_free(r);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
