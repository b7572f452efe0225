/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture filter (--filter, --filter-file): a tcpdump expression,
 * compiled by libpcap for each link type the input may carry, converted
 * to eBPF by DPDK (rte_bpf_convert) and run JIT-compiled, or by DPDK's
 * interpreter where there is no JIT. A packet the filter refuses is
 * counted as filtered, in no record. This file compiles and runs the
 * programs; it does not decide when they are swapped (fc_reload.c).
 */
#ifndef FC_FILTER_H
#define FC_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include <rte_bpf.h>
#include <rte_mbuf.h>

#include "fc_common.h"

/** Link types a filter is compiled for at most (fc_parse's list). */
#define FC_FILTER_MAX_DLT 16

/** One link type's program. */
struct fc_filter_prog {
	uint64_t (*jit)(void *); /**< native code, or NULL: interpreter */
	struct rte_bpf *bpf;     /**< DPDK's program, or NULL (pcap_only) */
	bool ok;                 /**< false: pcap refused the expression
				      for this link type; its packets are
				      refused */
	uint32_t dlt;
	/* libpcap's own interpreter (bpf_filter) instead of DPDK's code,
	 * for a program with indexed loads (BPF_LD|BPF_IND, BPF_LDX|
	 * BPF_MSH: anything past a variable-length IPv4 header, as in
	 * `udp port 53`): DPDK 22.11's x86 JIT faults on some of them
	 * (`tcp[tcpflags] & tcp-syn != 0`), and its interpreter is slower
	 * than libpcap's; and a program DPDK cannot convert or load at all
	 * (`ip6 protochain 17`, whose loop jumps backwards). */
	bool pcap_only;
	/* A program that reads the wire length (BPF_LEN: greater, less,
	 * len) runs in libpcap's own interpreter (bpf_filter) for a trace
	 * frame cut by the snap length, whose stand-in mbuf can say only
	 * the captured length. */
	bool uses_len;
	struct bpf_program cbpf;
};

/** A compiled filter: one program per link type. */
struct fc_filter {
	unsigned n;
	struct fc_filter_prog prog[FC_FILTER_MAX_DLT];
	char *expr;       /**< the expression, as compiled */
	bool interpreted; /**< some program has no JIT */
};

/**
 * Compile expr with libpcap for link type dlt, without loading it: the
 * check of the command line, before the EAL. Returns 0, or -1 with pcap's
 * message in err.
 * Thread safety: any thread (pcap_compile is thread-safe since libpcap
 * 1.8). Not hot path.
 */
int fc_filter_check(const char *expr, uint32_t dlt, char *err,
		    size_t errlen);

/**
 * Compile expr for every link type in dlts[0..n-1] and load the programs
 * (JIT where DPDK has one). A link type in need[0..n_need-1] that pcap
 * refuses is an error; any other one gets no program (its packets are
 * refused) and is named in the note left in err with a return of 0.
 * Returns the filter, or NULL with the reason in err.
 * Thread safety: any thread; needs the EAL (rte_bpf_convert allocates
 * with rte_malloc). Not hot path.
 */
struct fc_filter *fc_filter_create(const char *expr, const uint32_t *dlts,
				   unsigned n, const uint32_t *need,
				   unsigned n_need, char *err, size_t errlen);

/**
 * Free a filter (NULL: nothing). Thread safety: once nobody runs it (after
 * an RCU grace period, or before the workers start). Not hot path.
 */
void fc_filter_free(struct fc_filter *f);

/**
 * The program for link type dlt, or NULL when the filter has none for it
 * (every packet of that link type is refused).
 * Thread safety: any thread; reads only. Not per packet: per link type
 * change.
 */
const struct fc_filter_prog *fc_filter_prog_for(const struct fc_filter *f,
						uint32_t dlt);

/**
 * Run a program on an mbuf whose first segment holds the frame. True: the
 * filter takes the packet. A NULL program refuses every packet. Hot path
 * (a call into the JIT's code).
 * Thread safety: any thread, any number at once (the program is read-only).
 */
static inline bool fc_filter_pass(const struct fc_filter_prog *p,
				  struct rte_mbuf *m)
{
	/* jit is set only for a program that is ok and runs in DPDK: the
	 * common case is one load and one compare before the call. */
	if (FC_LIKELY(p != NULL) && FC_LIKELY(p->jit != NULL))
		return p->jit(m) != 0;
	if (FC_UNLIKELY(p == NULL || !p->ok))
		return false;
	if (FC_UNLIKELY(p->pcap_only))
		return bpf_filter(p->cbpf.bf_insns,
				  rte_pktmbuf_mtod(m, const u_char *),
				  m->pkt_len, m->data_len) != 0;
	return rte_bpf_exec(p->bpf, m) != 0;
}

/**
 * Point a stand-in mbuf at plain bytes (a frame of a mapped trace), for
 * fc_filter_pass: the converted programs read the packet through the
 * mbuf's first segment. Hot path.
 * Thread safety: the caller's mbuf only.
 */
static inline void fc_filter_wrap(struct rte_mbuf *m, const uint8_t *data,
				  uint32_t len)
{
	/* More than 64 KiB: cut, as the mbuf field is 16 bits (no frame
	 * header is that deep). */
	m->buf_addr = (void *)(uintptr_t)data;
	m->data_off = 0;
	m->data_len = (uint16_t)(len > UINT16_MAX ? UINT16_MAX : len);
	m->pkt_len = m->data_len;
	m->nb_segs = 1;
	m->next = NULL;
}

/**
 * Run a program on plain bytes of a trace: caplen captured of wirelen.
 * Hot path (the trace feeder's).
 * Thread safety: the caller's stand-in mbuf m only.
 */
static inline bool fc_filter_pass_bytes(const struct fc_filter_prog *p,
					struct rte_mbuf *m,
					const uint8_t *data, uint32_t caplen,
					uint32_t wirelen)
{
	if (FC_UNLIKELY(p != NULL && p->ok &&
			(p->pcap_only || (p->uses_len && caplen != wirelen))))
		return bpf_filter(p->cbpf.bf_insns, data, wirelen, caplen) != 0;
	fc_filter_wrap(m, data, caplen);
	return fc_filter_pass(p, m);
}

/**
 * Read a filter file (--filter-file) into a string: the whole file, at
 * most 64 KiB, no NUL byte. Returns a malloc'd string or NULL with the
 * reason (naming the file) in err.
 * Thread safety: any thread. Not hot path.
 */
char *fc_filter_read_file(const char *path, char *err, size_t errlen);

#endif /* FC_FILTER_H */
