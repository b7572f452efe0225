/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker flow table: flowtuple key -> packet count, open addressing with
 * linear probing over 64-byte slots (one cache line holds a slot's hash, key
 * and count, so a hit costs one miss). Single writer, no locks, no atomics:
 * a table belongs to one worker while it fills and to the collector once
 * sealed. The key limit is fixed at creation and memory is reserved then;
 * when the table is full, new keys are refused and counted (tbl_full) while
 * existing keys keep counting. It does not know intervals, files or DPDK.
 */
#ifndef FC_FLOWTABLE_H
#define FC_FLOWTABLE_H

#include <stdint.h>

#include "fc_common.h"
#include "fc_tuple.h"

/** One slot. packets == 0 marks an empty slot. */
struct fc_flowtable_slot {
	struct fc_ftkey key;
	uint64_t packets;
	uint64_t hash;
} FC_CACHE_ALIGNED;

_Static_assert(sizeof(struct fc_flowtable_slot) == 64, "slot = 1 line");

struct fc_flowtable {
	struct fc_flowtable_slot *slots;
	uint64_t n_slots;   /**< any size: max_keys * 8 / 7, rounded up */
	uint64_t max_keys;  /**< keys accepted before tbl_full */
	uint64_t n_keys;    /**< distinct keys stored */
	uint64_t pkts;      /**< packets counted in slots */
	uint64_t tbl_full;  /**< packets refused: new key, table full */
	uint32_t *used;     /**< slot index of every key, in insertion order:
			     *   merge and reset cost O(keys), not O(slots) */
	size_t map_len;
};

/**
 * Create a table for up to max_keys keys (max_keys * 8 / 7 slots, so
 * probes stay short at full load; no power-of-two rounding: the home slot
 * is the 32-bit hash scaled to the table, (h * n) >> 32). Memory is
 * mapped (faulted in on use) and advised for transparent huge pages. NULL on error.
 * Control plane.
 */
struct fc_flowtable *fc_flowtable_create(uint64_t max_keys);

/* Slots are indexed by uint32_t: at most 2^31 keys per table. */
#define FC_FLOWTABLE_MAX_KEYS (1ULL << 31)

/** Free (NULL is a no-op). */
void fc_flowtable_free(struct fc_flowtable *t);

/** Empty the table for reuse. O(keys). Control plane (collector side). */
void fc_flowtable_reset(struct fc_flowtable *t);

/** Slot of the i-th key inserted (i < n_keys). */
static inline const struct fc_flowtable_slot *
fc_flowtable_key_at(const struct fc_flowtable *t, uint64_t i)
{
	return &t->slots[t->used[i]];
}

/** Bytes of memory one table of max_keys keys reserves. */
uint64_t fc_flowtable_mem_size(uint64_t max_keys);

/* Home slot: the low 32 bits of the hash scaled to the table size (one
 * multiply instead of a modulo; uniform for a uniform hash). */
static inline uint64_t fc_flowtable_home(const struct fc_flowtable *t,
					 uint64_t hash)
{
	return ((hash & 0xffffffffu) * t->n_slots) >> 32;
}

/* Cold path: key not found in its probe run. */
void fc_flowtable_insert_slow(struct fc_flowtable *t,
			      const struct fc_ftkey *key, uint64_t hash,
			      struct fc_flowtable_slot *empty);

/**
 * Count one packet for key (whose fc_ftkey_hash is hash). Hot path.
 * Thread safety: single writer; no concurrent readers while filling.
 */
static inline void fc_flowtable_add(struct fc_flowtable *t,
				    const struct fc_ftkey *key, uint64_t hash)
{
	uint64_t i = fc_flowtable_home(t, hash);

	for (;;) {
		struct fc_flowtable_slot *s = &t->slots[i];

		if (s->packets == 0) {
			fc_flowtable_insert_slow(t, key, hash, s);
			return;
		}
		if (s->hash == hash && fc_ftkey_eq(&s->key, key)) {
			s->packets++;
			t->pkts++;
			return;
		}
		if (++i == t->n_slots)
			i = 0;
	}
}

/** Prefetch the home slot of a hash (stage before fc_flowtable_add). */
static inline void fc_flowtable_prefetch(const struct fc_flowtable *t,
					 uint64_t hash)
{
	__builtin_prefetch(&t->slots[fc_flowtable_home(t, hash)], 1, 3);
}

/**
 * Count n packets: hashes every key, prefetches every home slot, then
 * updates, so the misses of a burst overlap. Hot path.
 */
void fc_flowtable_add_burst(struct fc_flowtable *t,
			    const struct fc_ftkey *keys, unsigned n);

#endif /* FC_FLOWTABLE_H */
