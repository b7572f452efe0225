/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames to counts, one burst at a time: the staging between the parser
 * and the flow table that the worker and its benchmark share. A frame the
 * IPv4 fast path takes is parsed straight into its compact key; any other
 * is parsed whole and staged by the part of the table its key belongs to.
 * A flush counts the staged keys with the misses of their slots
 * overlapped; a pipe counts the previous burst's keys and leaves this
 * burst's waiting for their lines. Order is kept within each part, so
 * counts, tbl_full and the table's insertion order equal those of
 * fc_parse_pkt and fc_flowtable_add frame by frame. It knows neither DPDK
 * nor intervals: the caller decides when to flush (before the table
 * changes hands) and what a failed parse counts as.
 *
 * Thread safety: none; one thread per stage, which must also be the one
 * writer of the table it counts into (a worker and its own stage).
 */
#ifndef FC_COUNT_H
#define FC_COUNT_H

#include "fc_common.h"
#include "fc_flowtable.h"
#include "fc_parse.h"
#include "fc_tuple.h"

/** Most frames parsed between two calls of fc_count_pipe or
 *  fc_count_flush. */
#define FC_COUNT_BURST_MAX 512

/**
 * Keys of the frames parsed and not yet counted, in two halves that swap
 * roles at each fc_count_pipe: the fresh keys (parsed since the last pipe
 * or flush) and the waiting ones (the previous burst's, whose lines the
 * last pipe asked for). Only the slots in use are touched. Call
 * fc_count_drop before the first use (it sets the halves up).
 */
struct fc_count {
	unsigned n4;          /**< fresh compact IPv4 keys, in c4 */
	unsigned n6;          /**< fresh keys of the wide part, in k6 */
	unsigned p4;          /**< waiting IPv4 keys, in w4 */
	unsigned p6;          /**< waiting wide keys, in w6 (hashes: wh6) */
	struct fc_ftkey4 *c4; /**< each pointer: into one of the halves */
	struct fc_ftkey *k6;
	uint64_t *h6;
	struct fc_ftkey4 *w4;
	struct fc_ftkey *w6;
	uint64_t *wh6;
	struct fc_ftkey4 c4buf[2][FC_COUNT_BURST_MAX];
	struct fc_ftkey k6buf[2][FC_COUNT_BURST_MAX];
	uint64_t h6buf[2][FC_COUNT_BURST_MAX];
};

/* Any frame the IPv4 fast path does not take. Thread safety: one thread
 * per stage. */
enum fc_parse_status fc_count_parse_slow(struct fc_count *s,
					 const uint8_t *p, uint32_t caplen,
					 uint32_t dlt);

/**
 * Parse one frame (as fc_parse_pkt does) and stage its key. Returns
 * FC_PARSE_OK when a key was staged, else the reason the frame yields
 * none. At most FC_COUNT_BURST_MAX frames between two calls of
 * fc_count_pipe or fc_count_flush. Hot path.
 * Thread safety: none; one thread per stage.
 */
static inline enum fc_parse_status fc_count_parse(struct fc_count *s,
						  const uint8_t *p,
						  uint32_t caplen, uint32_t dlt)
{
	if (FC_LIKELY(dlt == FC_DLT_EN10MB) &&
	    FC_LIKELY(fc_parse_fast4(p, caplen, &s->c4[s->n4]) == 0)) {
		s->n4++;
		return FC_PARSE_OK;
	}
	return fc_count_parse_slow(s, p, caplen, dlt);
}

/**
 * fc_count_parse, and *pl: 0 when the frame surely carries no L4 payload
 * (the IPv4 fast path took it and its total length ends with the L4
 * header), nonzero when it may (the caller then looks). For --classify:
 * a packet without payload costs a few instructions more than with
 * fc_count_parse. Hot path.
 * Thread safety: none; one thread per stage.
 */
static inline enum fc_parse_status fc_count_parse_pl(struct fc_count *s,
						     const uint8_t *p,
						     uint32_t caplen,
						     uint32_t dlt, uint32_t *pl)
{
	if (FC_LIKELY(dlt == FC_DLT_EN10MB) &&
	    FC_LIKELY(fc_parse_fast4_pl(p, caplen, &s->c4[s->n4], pl) == 0)) {
		s->n4++;
		return FC_PARSE_OK;
	}
	*pl = 1;
	return fc_count_parse_slow(s, p, caplen, dlt);
}

/**
 * Keys staged and not yet counted (waiting ones included).
 * Thread safety: the stage's thread; reads only.
 */
static inline unsigned fc_count_pending(const struct fc_count *s)
{
	return s->n4 + s->n6 + s->p4 + s->p6;
}

/**
 * Keys staged since the last fc_count_pipe or fc_count_flush.
 * Thread safety: the stage's thread; reads only.
 */
static inline unsigned fc_count_fresh(const struct fc_count *s)
{
	return s->n4 + s->n6;
}

/**
 * Forget every staged key, waiting ones too (no table to count them in).
 * Also sets up a stage before its first use.
 * Thread safety: none; one thread per stage.
 */
static inline void fc_count_drop(struct fc_count *s)
{
	s->n4 = 0;
	s->n6 = 0;
	s->p4 = 0;
	s->p6 = 0;
	s->c4 = s->c4buf[0];
	s->k6 = s->k6buf[0];
	s->h6 = s->h6buf[0];
	s->w4 = s->c4buf[1];
	s->w6 = s->k6buf[1];
	s->wh6 = s->h6buf[1];
}

/**
 * Count every staged key in t, the waiting ones first, and empty the
 * stage. Hot path.
 * Thread safety: none; one thread per stage, the one writer of t.
 */
static inline void fc_count_flush(struct fc_count *s, struct fc_flowtable *t)
{
	fc_flowtable_count_split(t, s->w4, s->p4, s->w6, s->wh6, s->p6);
	fc_flowtable_add_split(t, s->c4, s->n4, s->k6, s->n6);
	s->n4 = 0;
	s->n6 = 0;
	s->p4 = 0;
	s->p6 = 0;
}

/**
 * Count the keys that were waiting (their lines were asked for by the
 * previous call), ask for the lines of the keys staged since, and leave
 * those waiting. Their misses are then served while the caller receives
 * and parses its next burst, instead of stalling this one. The keys left
 * waiting belong to no table: fc_count_flush counts them wherever the
 * caller says (it must, before the table it means is handed on).
 * Counts, tbl_full and insertion order are those of fc_count_flush after
 * every burst. Hot path.
 * Thread safety: none; one thread per stage, the one writer of t.
 */
static inline void fc_count_pipe(struct fc_count *s, struct fc_flowtable *t)
{
	struct fc_ftkey4 *c4 = s->c4;
	struct fc_ftkey *k6 = s->k6;
	uint64_t *h6 = s->h6;

	fc_flowtable_prefetch_split(t, c4, s->n4, k6, h6, s->n6);
	fc_flowtable_count_split(t, s->w4, s->p4, s->w6, s->wh6, s->p6);
	s->c4 = s->w4;
	s->k6 = s->w6;
	s->h6 = s->wh6;
	s->w4 = c4;
	s->w6 = k6;
	s->wh6 = h6;
	s->p4 = s->n4;
	s->p6 = s->n6;
	s->n4 = 0;
	s->n6 = 0;
}

#endif /* FC_COUNT_H */
