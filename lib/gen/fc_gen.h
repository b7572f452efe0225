/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deterministic synthetic traffic: a stream of complete, valid Ethernet
 * frames (IPv4/IPv6, optional 802.1Q or QinQ tags, TCP/UDP/ICMP/ICMPv6 with
 * a chosen share of backscatter) drawn from a fixed population of flows with
 * Zipf-distributed popularity, and a timestamp for each; a share of flows
 * may travel in tunnels (GRE, VXLAN, Geneve, GTP-U, IP in IP), nested to a
 * chosen depth. The same
 * configuration gives the same bytes on every machine: the generator uses
 * its own PRNG and only integer arithmetic (the Zipf weights are computed in
 * fixed point, not with libm). It writes into caller buffers and knows
 * nothing of pcap files, mbufs or DPDK; apps and benchmarks wrap it.
 *
 * Flows. Flow r (0 <= r < flows, rank r + 1 in popularity) is a pure
 * function of (seed, r): addresses, ports, protocol, TTL, TCP flags or
 * ICMP type/code, VLAN tags and frame size. Every field that a flowtuple
 * key holds is constant for a flow, so a trace has at most `flows` distinct
 * flowtuple keys per interval, and --flows sizes flow tables exactly.
 * Flows are derived on demand, not stored: memory is 8 bytes per flow for
 * the Zipf alias table (none when skew is 0).
 */
#ifndef FC_GEN_H
#define FC_GEN_H

#include <stddef.h>
#include <stdint.h>

/** Frame size distributions. */
enum fc_gen_size {
	FC_GEN_SIZE_64 = 0, /**< every frame 64 bytes on the wire */
	FC_GEN_SIZE_IMIX,   /**< 64/570/1518 bytes in the ratio 7:4:1 */
};

/** Tunnel kinds (fc_gen_cfg.tunnel_kinds, a bit mask). */
#define FC_GEN_TUN_GRE (1u << 0)     /**< GRE, IP inside */
#define FC_GEN_TUN_GRE_KS (1u << 1)  /**< GRE with checksum, key, sequence */
#define FC_GEN_TUN_GRE_ETH (1u << 2) /**< GRE with key, Ethernet inside */
#define FC_GEN_TUN_VXLAN (1u << 3)   /**< UDP 4789, Ethernet inside */
#define FC_GEN_TUN_GENEVE (1u << 4)  /**< UDP 6081, an option, Ethernet */
#define FC_GEN_TUN_GTPU (1u << 5)    /**< UDP 2152, sequence number and a
				       *   PDU session extension header */
#define FC_GEN_TUN_IPIP (1u << 6)    /**< IP in IP: 4in4, 6in4, 4in6, 6in6 */
#define FC_GEN_TUN_ALL 0x7fu
/** Most tunnels one inside the other (fc_gen_cfg.tunnel_depth). */
#define FC_GEN_TUN_DEPTH_MAX 8u

/** Largest frame fc_gen_next() writes: 1518 - FCS + two tags, plus at most
 *  FC_GEN_TUN_DEPTH_MAX tunnel headers of at most 94 bytes each. */
#define FC_GEN_FRAME_MAX (1522u + 94u * FC_GEN_TUN_DEPTH_MAX)

/** Most flows a generator accepts (the alias table takes 8 B per flow). */
#define FC_GEN_FLOWS_MAX 100000000u

/** Largest Zipf exponent accepted. */
#define FC_GEN_ZIPF_MAX 10.0

/**
 * Generator configuration. Fractions are in [0, 1]; they are converted once
 * to 32-bit fixed-point thresholds (multiplying by 2^32 is exact, so the
 * conversion is the same everywhere).
 */
struct fc_gen_cfg {
	uint64_t seed;
	uint64_t packets;     /**< stream length; 0 = unbounded */
	uint32_t flows;       /**< flow population, 1..FC_GEN_FLOWS_MAX */
	double zipf;          /**< Zipf exponent s (0 = uniform), 0..10 */
	double ipv6;          /**< share of flows that are IPv6 */
	double vlan;          /**< share of flows with one 802.1Q tag */
	double qinq;          /**< share with two tags (0x88a8 + 0x8100);
				   vlan + qinq <= 1 */
	uint32_t mix_tcp;     /**< protocol weights, e.g. 70:20:10; */
	uint32_t mix_udp;     /**< at least one non-zero */
	uint32_t mix_icmp;
	double backscatter;   /**< share of TCP and of ICMP flows that are
				   backscatter (SYN+ACK/RST, ICMP errors and
				   echo replies); UDP flows never are */
	enum fc_gen_size size;
	uint64_t rate_pps;    /**< packet i has time start + i/rate; >= 1 */
	uint64_t start_ns;    /**< time of the first packet, ns since epoch */
	uint64_t jitter_ns;   /**< add uniform [0, jitter] ns to each time;
				   more than 1/rate reorders packets */
	double tunnel;        /**< share of flows carried in tunnels */
	uint32_t tunnel_kinds; /**< FC_GEN_TUN_* kinds drawn from, per flow */
	uint32_t tunnel_depth; /**< tunnels one inside the other, 1..8: the
				    outermost is Ethernet + IPv4 or IPv6 */
};

struct fc_gen;

/**
 * Fill cfg with the default mix: 1M packets, 100k flows, Zipf 1.1, 10%
 * IPv6, 10% VLAN, TCP:UDP:ICMP 70:20:10, 10% backscatter, IMIX, 10k pps
 * from 2023-11-14 22:13:20 UTC, no jitter, seed 1.
 * Thread safety: any thread; writes only cfg.
 */
void fc_gen_cfg_init(struct fc_gen_cfg *cfg);

/**
 * Check a configuration. Returns 0, or -EINVAL and writes to err (if not
 * NULL) a message naming the field and its valid range.
 * Thread safety: any thread; pure function (writes only err).
 */
int fc_gen_cfg_check(const struct fc_gen_cfg *cfg, char *err, size_t errlen);

/**
 * Create a generator. Builds the Zipf table (O(flows), about 0.1 s per
 * million flows). Returns NULL with errno EINVAL (bad cfg) or ENOMEM.
 * Not hot path.
 * Thread safety: any thread; the new generator is the caller's (no global
 * state: generators are independent).
 */
struct fc_gen *fc_gen_create(const struct fc_gen_cfg *cfg);

/**
 * Free a generator; NULL is a no-op.
 * Thread safety: none; the generator's one thread, which then is gone.
 */
void fc_gen_free(struct fc_gen *g);

/**
 * Write the next frame into buf.
 *
 * @param buf     destination, at least FC_GEN_FRAME_MAX bytes to be safe
 * @param bufsize size of buf
 * @param len     out: frame length (captured = wire length without FCS)
 * @param ts_ns   out: timestamp, ns since the epoch
 * @return 0; -ENODATA after cfg.packets frames; -ENOBUFS if the frame
 *         does not fit (nothing is consumed, retry with a larger buffer).
 *
 * Hot path: no allocation, no floating point.
 * Thread safety: none; one thread per generator (two generators with the
 * same cfg produce the same stream).
 */
int fc_gen_next(struct fc_gen *g, uint8_t *buf, uint32_t bufsize,
		uint32_t *len, uint64_t *ts_ns);

/**
 * Frames produced so far.
 * Thread safety: the generator's thread; reads only.
 */
uint64_t fc_gen_count(const struct fc_gen *g);

#endif /* FC_GEN_H */
