/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Trace input: pcap files through libpcap and pcapng files through our own
 * reader (libpcap refuses pcapng files whose interfaces differ in link
 * type), from a path, an open descriptor or standard input, plain or
 * compressed with gzip, zstd or xz (told by the magic bytes, not the
 * name), with nanosecond timestamps whatever the file's precision and
 * each packet's own link type. It checks a pcap's link type against what
 * the parser understands and reports problems with the file name. It does
 * not parse packets or know about intervals.
 *
 * Thread safety: none per trace: one thread per trace (a trace owns its
 * libpcap handle or pcapng reader, its buffers and its descriptor);
 * distinct traces are independent, in any threads. No global state of its
 * own. Not hot path by itself: it feeds the hot path, one packet a call.
 */
#ifndef FC_TRACE_H
#define FC_TRACE_H

#include <stddef.h>
#include <stdint.h>

struct fc_trace;

/** One packet; data valid until the next fc_trace_next. */
struct fc_trace_pkt {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
	uint32_t dlt;      /**< link type of this packet */
	uint64_t ts_ns;
};

/**
 * Open a trace ("-" is standard input). Returns NULL with a message in err
 * naming the file and the problem (missing, not a pcap/pcapng, link type
 * not supported).
 * Thread safety: any thread; the new trace is the caller's. A message
 * with an errno's text comes from strerror(3).
 */
struct fc_trace *fc_trace_open(const char *path, char *err, size_t errlen);

/**
 * Open a trace from a descriptor opened by the caller (so a program can
 * open its inputs before it drops privileges, as tcpdump -Z does). Takes
 * fd: it is closed by fc_trace_close, or here on failure. name is used in
 * messages. A descriptor that can be rewound (a regular file) should be
 * at offset 0; one that cannot (a pipe) is read from where it is.
 * Thread safety: any thread; the new trace is the caller's.
 */
struct fc_trace *fc_trace_open_fd(int fd, const char *name, char *err,
				  size_t errlen);

/**
 * The compression of the file ("gzip", "zstd", "xz") or NULL.
 * Thread safety: the trace's thread; reads only.
 */
const char *fc_trace_compression(const struct fc_trace *t);

/**
 * Link type (DLT) of a pcap trace; of the first interface of pcapng
 * (packets carry their own in fc_trace_pkt.dlt).
 * Thread safety: the trace's thread; reads only.
 */
uint32_t fc_trace_dlt(const struct fc_trace *t);

/**
 * Next packet: 1 (got one), 0 (end of file), -1 (read error: the message,
 * with the file name and packet number, is in err).
 * Thread safety: none; one thread per trace.
 */
int fc_trace_next(struct fc_trace *t, struct fc_trace_pkt *pkt, char *err,
		  size_t errlen);

/**
 * The next packet without taking it: fc_trace_next returns the same
 * packet (or the same end or error) next. Same return values. Used to
 * order several traces by their first timestamp.
 * Thread safety: none; one thread per trace.
 */
int fc_trace_peek(struct fc_trace *t, struct fc_trace_pkt *pkt, char *err,
		  size_t errlen);

/**
 * Nonzero when packet data stays valid until fc_trace_close (a mapped
 * file), so it may be handed on without a copy (to another thread too:
 * the mapping is read-only and lives until fc_trace_close).
 * Thread safety: the trace's thread; reads only.
 */
int fc_trace_stable(const struct fc_trace *t);

/** A run of packets read in place (fc_trace_run). */
struct fc_trace_run {
	const uint8_t *data; /**< the first packet's frame */
	uint64_t last_ns;    /**< time of the last packet of the run */
	uint64_t max_ns;     /**< newest time in the run */
	uint32_t bytes;      /**< from the first record's header to the end
				  of the last record */
	int swap;            /**< the file's byte order is not the host's */
};

/**
 * Up to max packets of a mapped pcap (fc_trace_stable) from the next one
 * on, taken without a call per packet: the run stops before the first
 * packet whose second (ts_ns / 10^9) is outside [lo, hi], before a record
 * fc_trace_next would report as damaged (it reports it next), and at the
 * end of the file. Returns the packets taken, 0 when the next one must go
 * through fc_trace_next (a stream, which has no runs, always gives 0). The
 * run's frames stay valid until fc_trace_close; they follow each other:
 * fc_trace_run_len and fc_trace_run_next walk them. Every packet of a
 * pcap has the file's link type (fc_trace_dlt).
 * Thread safety: none; one thread per trace. Hot path.
 */
unsigned fc_trace_run(struct fc_trace *t, uint64_t lo, uint64_t hi,
		      unsigned max, struct fc_trace_run *run);

/** Captured length of a frame of a run (swap: fc_trace_run.swap). Any
 * thread, while the trace is open. Hot path. */
static inline uint32_t fc_trace_run_len(const uint8_t *data, int swap)
{
	uint32_t v;

	/* The record header's incl_len, just before the frame. */
	__builtin_memcpy(&v, data - 8, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/** The frame after data (of caplen bytes) in a run: the next record's
 * frame, after its 16-byte header. Any thread. Hot path. */
static inline const uint8_t *fc_trace_run_next(const uint8_t *data,
					       uint32_t caplen)
{
	return data + caplen + 16;
}

/**
 * Packets returned so far.
 * Thread safety: the trace's thread; reads only.
 */
uint64_t fc_trace_count(const struct fc_trace *t);

/**
 * Close (NULL is a no-op). Stable packet data is gone with it: every
 * thread it was handed to must be done with it first.
 * Thread safety: none; one thread per trace, which then is gone.
 */
void fc_trace_close(struct fc_trace *t);

#endif /* FC_TRACE_H */
