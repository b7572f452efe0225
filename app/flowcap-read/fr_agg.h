/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The aggregate table of query.c, shared with state.c (which stores and
 * loads one per file). A group is (output interval, key with the fields
 * not grouped on zeroed and addresses masked); groups live in dense
 * arrays indexed from an open-addressing table of (hash << 32 | index+1).
 */
#ifndef FR_AGG_H
#define FR_AGG_H

#include <stdint.h>

#include "fr.h"

struct fr_gkey {
	uint64_t t;          /* output interval start (0 with --interval all) */
	struct fc_ftkey k;
};

/* One value of a distinct field in one group. 24 bytes, no padding. */
struct fr_dkey {
	uint32_t g;          /* group index */
	uint8_t field;       /* index into the query's distinct fields */
	uint8_t fam;         /* address family of an address value */
	uint8_t pad[2];
	uint8_t v[16];       /* the value's bytes as in fc_ftkey */
};

struct fr_cnt {
	uint64_t records, packets;
};

struct fr_agg {
	unsigned nd;
	struct fr_gkey *keys;
	struct fr_cnt *cnt;
	uint64_t *dcnt;      /* n * nd distinct counts */
	uint32_t n, cap;
	uint64_t *slot;
	uint32_t smask;
	struct fr_dkey *dk;
	uint32_t dn, dcap;
	uint64_t *dslot;
	uint32_t dmask;
};

uint32_t fr_agg_group(struct fr_agg *a, const struct fr_gkey *g);
void fr_agg_distinct(struct fr_agg *a, const struct fr_dkey *d);
void fr_agg_merge(struct fr_agg *dst, const struct fr_agg *src);

/* state.c: fill per_file[i] for every input the state knows unchanged
 * (reporting changed ones); 0, or -1 (reported) when the state cannot be
 * used. Save: write every per_file table atomically. */
int fr_state_load(const struct fr_query *q, struct fr_inputs *in,
		  struct fr_agg **per_file);
int fr_state_save(const struct fr_query *q, const struct fr_inputs *in,
		  struct fr_agg **per_file);

#endif /* FR_AGG_H */
