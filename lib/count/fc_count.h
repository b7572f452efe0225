/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames to counts, one burst at a time: the staging between the parser
 * and the flow table that the worker and its benchmark share. A frame the
 * IPv4 fast path takes is parsed straight into its compact key; any other
 * is parsed whole and staged by the part of the table its key belongs to.
 * A flush counts the staged keys with the misses of their slots
 * overlapped. Order is kept within each part, so counts, tbl_full and the
 * table's insertion order equal those of fc_parse_pkt and fc_flowtable_add
 * frame by frame. It knows neither DPDK nor intervals: the caller decides
 * when to flush (before the table changes) and what a failed parse counts
 * as.
 */
#ifndef FC_COUNT_H
#define FC_COUNT_H

#include "fc_common.h"
#include "fc_flowtable.h"
#include "fc_parse.h"
#include "fc_tuple.h"

/** Most frames staged between two flushes. */
#define FC_STAGE_MAX 512

/**
 * Keys of the frames parsed since the last flush. Lives on the caller's
 * stack; only the slots in use are touched. Set n4 = n6 = 0 (or call
 * fc_stage_drop) before the first use.
 */
struct fc_stage {
	unsigned n4; /**< compact IPv4 keys in c4 */
	unsigned n6; /**< keys of the wide part in k6 */
	struct fc_ftkey4 c4[FC_STAGE_MAX];
	struct fc_ftkey k6[FC_STAGE_MAX];
};

/* Any frame the IPv4 fast path does not take. */
enum fc_parse_status fc_stage_parse_slow(struct fc_stage *s,
					 const uint8_t *p, uint32_t caplen,
					 uint32_t dlt);

/**
 * Parse one frame (as fc_parse_pkt does) and stage its key. Returns
 * FC_PARSE_OK when a key was staged, else the reason the frame yields
 * none. At most FC_STAGE_MAX frames between flushes. Hot path.
 */
static inline enum fc_parse_status fc_stage_parse(struct fc_stage *s,
						  const uint8_t *p,
						  uint32_t caplen, uint32_t dlt)
{
	if (FC_LIKELY(dlt == FC_DLT_EN10MB) &&
	    FC_LIKELY(fc_parse_fast4(p, caplen, &s->c4[s->n4]) == 0)) {
		s->n4++;
		return FC_PARSE_OK;
	}
	return fc_stage_parse_slow(s, p, caplen, dlt);
}

/** Keys staged since the last flush. */
static inline unsigned fc_stage_count(const struct fc_stage *s)
{
	return s->n4 + s->n6;
}

/** Forget the staged keys (no table to count them in). */
static inline void fc_stage_drop(struct fc_stage *s)
{
	s->n4 = 0;
	s->n6 = 0;
}

/** Count the staged keys in t and empty the stage. Hot path. */
static inline void fc_stage_flush(struct fc_stage *s, struct fc_flowtable *t)
{
	fc_flowtable_add_split(t, s->c4, s->n4, s->k6, s->n6);
	fc_stage_drop(s);
}

#endif /* FC_COUNT_H */
