/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interval merge: the sealed tables of one interval (one per worker) become
 * one stream of records in canonical order (fc_ftkey_cmp), with the counts
 * of a key seen by several workers (several ports, asymmetric hashing)
 * added together. It owns a reusable output buffer and does not write
 * anything: the caller hands the records to a sink (the file writer),
 * all at once or in bursts as they are made.
 */
#ifndef FC_MERGE_H
#define FC_MERGE_H

#include <stdint.h>

#include "fc_flowtable.h"
#include "fc_tuple.h"

struct fc_merge;

/**
 * Create a merger (its buffer grows on demand and is kept). Control plane.
 * Thread safety: any thread; the new merger is the caller's (no global
 * state: mergers are independent).
 */
struct fc_merge *fc_merge_create(void);

/**
 * Free (NULL is a no-op); records it returned are gone with it.
 * Thread safety: none; the merger's one thread, which then is gone.
 */
void fc_merge_free(struct fc_merge *m);

/**
 * Merge n tables. On success *out points to *n_out records, valid until
 * the next call, and *pkts is the sum of their counts. Returns 0 or
 * -ENOMEM. Control plane (collector).
 * Thread safety: none; one thread per merger. The tables must no longer
 * be written (sealed and handed over: their writers' release, the
 * caller's acquire); they are only read.
 */
int fc_merge_tables(struct fc_merge *m, struct fc_flowtable *const *tabs,
		    unsigned n, const struct fc_ft_record **out,
		    uint64_t *n_out, uint64_t *pkts);

/**
 * Takes the next records of a merged interval, in order: n > 0 records,
 * valid until it returns. Returns 0, or a negative status that stops the
 * merge.
 */
typedef int (*fc_merge_fn)(void *ctx, const struct fc_ft_record *recs,
			   uint64_t n);

/**
 * fc_merge_tables with the records handed to fn in bursts as they are
 * made (a few hundred to a few thousand, each just written and still in
 * the caches: a sink that transposes them, as the file writer does with
 * fc_ft_writer_add_records, reads them there instead of from memory).
 * The bursts, one after the other, are the records fc_merge_tables
 * gives. *n_out: the records handed over, *pkts: the sum of all counts.
 * Returns 0, -ENOMEM (before any burst) or what fn returned (no burst
 * follows it). Control plane (collector).
 * Thread safety: as fc_merge_tables; fn runs in the caller's thread.
 */
int fc_merge_tables_each(struct fc_merge *m, struct fc_flowtable *const *tabs,
			 unsigned n, fc_merge_fn fn, void *ctx,
			 uint64_t *n_out, uint64_t *pkts);

#endif /* FC_MERGE_H */
