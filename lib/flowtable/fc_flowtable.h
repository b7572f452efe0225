/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker flow table: flowtuple key -> packet count, open addressing with
 * linear probing, in two parts. IPv4 keys (the bulk of telescope and
 * backbone traffic) are stored compactly in 32-byte slots, two per cache
 * line; IPv6 keys in 64-byte slots holding the whole fc_ftkey. Either way a
 * hit usually costs one miss. Callers always pass and get back a full
 * struct fc_ftkey: the compact form is exact (an IPv4 key has 4-byte
 * addresses and a 16-bit total length), and a key that does not fit it
 * goes to the 64-byte part. Single writer, no locks, no atomics: a table
 * belongs to one worker while it fills and to the collector once sealed.
 * Both parts are sized at creation and memory is reserved then; when the
 * part a key belongs to is full, the new key is refused and counted
 * (tbl_full, per packet) while existing keys keep counting. It does not
 * know intervals, files or DPDK.
 */
#ifndef FC_FLOWTABLE_H
#define FC_FLOWTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "fc_common.h"
#include "fc_tuple.h"

/**
 * One IPv4 slot, 32 bytes, two per cache line (slots are 32-byte aligned,
 * so none straddles a line): the three words of the key's compact form
 * (struct fc_ftkey4, in fc_tuple.h), compared at once, and its count. No
 * hash is stored: it would only spare a 3-word compare in a line that is
 * already loaded, and the one time a part grows it is computed again.
 * packets == 0 marks an empty slot. 64 bits of count: 148.8 Mpps (100GbE
 * at 64 bytes) takes 3900 years to overflow it; 40 bits would last 2 hours,
 * less than a long interval.
 */
struct fc_flowtable_slot4 {
	uint64_t w[3];
	uint64_t packets;
} __attribute__((aligned(32)));

_Static_assert(sizeof(struct fc_flowtable_slot4) == 32, "2 slots per line");

/** One IPv6 (or wide) slot: one cache line. packets == 0 marks it empty. */
struct fc_flowtable_slot {
	struct fc_ftkey key;
	uint64_t packets;
	uint64_t hash;
} FC_CACHE_ALIGNED;

_Static_assert(sizeof(struct fc_flowtable_slot) == 64, "slot = 1 line");

struct fc_flowtable {
	/* Hot: read by every packet of the IPv4 part. */
	struct fc_flowtable_slot4 *slots4;
	uint64_t n_slots4;  /**< any size: max_keys4 * 3 / 2, rounded up */
	uint64_t max_keys4; /**< IPv4 keys accepted before tbl_full */
	uint64_t n_keys4;   /**< distinct keys in the IPv4 part */
	uint64_t n_keys;    /**< distinct keys stored, both parts */
	uint64_t pkts;      /**< packets counted in slots, both parts */
	uint64_t tbl_full;  /**< packets refused: new key, its part full */
	uint32_t *used4;    /**< slot index of every IPv4 key, in insertion
			     *   order: merge and reset cost O(keys) */
	/* The IPv6 part. */
	struct fc_flowtable_slot *slots6 FC_CACHE_ALIGNED;
	uint64_t n_slots6;  /**< any size: max_keys6 * 8 / 7, rounded up */
	uint64_t max_keys6;
	uint64_t n_keys6;
	uint32_t *used6;
	uint64_t max_keys;  /**< max_keys4 + max_keys6 */
	/* Each part starts small (see FC_FLOWTABLE_SMALL_KEYS): until it
	 * grows, full4/full6 is its full-size mapping, reserved and never
	 * touched. An insert at limit4/limit6 keys takes the cold path:
	 * FC_FLOWTABLE_SMALL_KEYS while the part is small (it grows), then
	 * max_keys4/max_keys6 (the key is refused). */
	uint64_t limit4;
	uint64_t limit6;
	struct fc_flowtable_slot4 *full4;
	struct fc_flowtable_slot *full6;
	uint64_t n_full4;
	uint64_t n_full6;
	size_t map_len4;    /**< bytes of the full-size mapping */
	size_t map_len6;
	void *old4;         /**< the small slots after growing, until the
			     *   next reset unmaps them */
	void *old6;
	size_t small_len4;  /**< bytes of the small slots, 0 once unmapped */
	size_t small_len6;
};

/*
 * Keys a part holds before it moves to its full size. A part for more
 * keys than this starts with slots for this many (200 KB of IPv4 slots,
 * 300 KB of IPv6 slots: within a core's L2 cache), and moves, once in
 * the table's life, to the full-size mapping reserved at creation when
 * its worker inserts one key more (a rehash of this many keys, on the
 * worker; what it costs is the full-size part's first touch, about 5 ms
 * for 1M keys, which a busy table paid over its first few hundred keys
 * before parts started small). A quiet table (an interval of a
 * few thousand keys, a light trace) so never has its full-size mapping
 * faulted in: at random slots, a few thousand keys would put one on
 * every 2 MB page and have the kernel zero the whole part (64 MB for the
 * default 1M keys) on first use; a busy one stays full size for good.
 */
#define FC_FLOWTABLE_SMALL_KEYS 4096

/* Slots are indexed by uint32_t: at most 2^31 keys per part. */
#define FC_FLOWTABLE_MAX_KEYS (1ULL << 31)

/**
 * IPv6 keys of a table created for keys IPv4 keys: one eighth, rounded
 * up. This is how flowcap reads --table-keys N: N IPv4 keys and N / 8
 * IPv6 keys.
 * Thread safety: any thread; pure function.
 */
static inline uint64_t fc_flowtable_keys6_for(uint64_t keys)
{
	return (keys + 7) / 8;
}

/**
 * Create a table for up to keys4 IPv4 keys and keys6 IPv6 keys. The IPv4
 * part has keys4 * 3 / 2 slots and the IPv6 part keys6 * 8 / 7 (short
 * probes at full load); no power-of-two rounding: the home slot is the
 * 32-bit hash scaled to the part, (h * n) >> 32. Memory is mapped (faulted
 * in on use) and advised for transparent huge pages. A part for more than
 * FC_FLOWTABLE_SMALL_KEYS keys starts with slots for that many and grows
 * to its full size (slots4 or slots6 and their count change) when it
 * needs to, once; iteration order is kept, and the next reset unmaps the
 * small slots. NULL on error.
 * Control plane.
 * Thread safety: any thread; the new table is the caller's.
 */
struct fc_flowtable *fc_flowtable_create_parts(uint64_t keys4, uint64_t keys6);

/**
 * fc_flowtable_create_parts(keys, fc_flowtable_keys6_for(keys)).
 * Thread safety: any thread; the new table is the caller's.
 */
struct fc_flowtable *fc_flowtable_create(uint64_t keys);

/**
 * Free (NULL is a no-op).
 * Thread safety: the table's owner, once no other thread uses it.
 */
void fc_flowtable_free(struct fc_flowtable *t);

/**
 * Empty the table for reuse: clears the slots of the keys it holds and
 * no other (no page the interval did not touch is written). O(keys).
 * Control plane (collector side).
 * Thread safety: the table's one owner; none per table (the worker gets
 * it back only through the free ring, after the reset).
 */
void fc_flowtable_reset(struct fc_flowtable *t);

/**
 * Bytes of memory fc_flowtable_create_parts(keys4, keys6) reserves: slots of
 * both parts (with the small slots a part starts with) and the
 * insertion-order indexes.
 * Thread safety: any thread; pure function.
 */
uint64_t fc_flowtable_mem_size_parts(uint64_t keys4, uint64_t keys6);

/**
 * Bytes of memory fc_flowtable_create(keys) reserves.
 * Thread safety: any thread; pure function.
 */
uint64_t fc_flowtable_mem_size(uint64_t keys);

/* --- iteration ----------------------------------------------------------- */

/**
 * The i-th key (i < n_keys) and its count: the IPv4 part's keys in
 * insertion order, then the IPv6 part's. Collector side.
 * Thread safety: readers only, once the table is sealed (no writer).
 */
static inline void fc_flowtable_key_at(const struct fc_flowtable *t,
				       uint64_t i, struct fc_ft_record *out)
{
	if (i < t->n_keys4) {
		const struct fc_flowtable_slot4 *s = &t->slots4[t->used4[i]];

		fc_ftkey4_expand(&out->key, s->w);
		out->packets = s->packets;
	} else {
		const struct fc_flowtable_slot *s =
			&t->slots6[t->used6[i - t->n_keys4]];

		out->key = s->key;
		out->packets = s->packets;
	}
}

/* --- counting ------------------------------------------------------------ */

/* Home slot: the low 32 bits of the hash scaled to the part (one multiply
 * instead of a modulo; uniform for a uniform hash). Thread safety: any
 * thread; pure function. */
static inline uint64_t fc_flowtable_home(uint64_t n_slots, uint64_t hash)
{
	return ((hash & 0xffffffffu) * n_slots) >> 32;
}

/* Cold paths: key not found in its probe run. Insert it in the empty
 * slot and return 1, or count it in tbl_full (its part is full) and
 * return 0. Thread safety: single writer per table. */
unsigned fc_flowtable_insert4_slow(struct fc_flowtable *t,
				   const struct fc_ftkey4 *c,
				   struct fc_flowtable_slot4 *empty);
unsigned fc_flowtable_insert6_slow(struct fc_flowtable *t,
				   const struct fc_ftkey *key, uint64_t hash,
				   struct fc_flowtable_slot *empty);

/* Count one packet of compact key c whose home slot is i: 1 if counted,
 * 0 if refused. The caller adds to t->pkts (a burst adds once).
 * Thread safety: single writer per table. */
static inline unsigned fc_flowtable_count4_at(struct fc_flowtable *t,
					      const struct fc_ftkey4 *c,
					      uint64_t i)
{
	for (;;) {
		struct fc_flowtable_slot4 *s = &t->slots4[i];

		if (s->packets == 0)
			return fc_flowtable_insert4_slow(t, c, s);
		if (((s->w[0] ^ c->w[0]) | (s->w[1] ^ c->w[1]) |
		     (s->w[2] ^ c->w[2])) == 0) {
			s->packets++;
			return 1;
		}
		if (++i == t->n_slots4)
			i = 0;
	}
}

/**
 * Count one packet of a compact key (made by fc_ftkey4_make). Hot path.
 * Thread safety: single writer; no concurrent readers while filling.
 */
static inline void fc_flowtable_add4(struct fc_flowtable *t,
				     const struct fc_ftkey4 *c)
{
	t->pkts += fc_flowtable_count4_at(
		t, c, fc_flowtable_home(t->n_slots4, c->hash));
}

/* Count one packet of a key of the IPv6 part whose home slot is i.
 * Thread safety: single writer per table. */
static inline unsigned fc_flowtable_count6_at(struct fc_flowtable *t,
					      const struct fc_ftkey *key,
					      uint64_t hash, uint64_t i)
{
	for (;;) {
		struct fc_flowtable_slot *s = &t->slots6[i];

		if (s->packets == 0)
			return fc_flowtable_insert6_slow(t, key, hash, s);
		if (s->hash == hash && fc_ftkey_eq(&s->key, key)) {
			s->packets++;
			return 1;
		}
		if (++i == t->n_slots6)
			i = 0;
	}
}

/**
 * Count one packet of a key of the IPv6 part (hash: fc_ftkey_hash). Hot
 * path.
 * Thread safety: single writer; no concurrent readers while filling.
 */
static inline void fc_flowtable_add6(struct fc_flowtable *t,
				     const struct fc_ftkey *key, uint64_t hash)
{
	t->pkts += fc_flowtable_count6_at(
		t, key, hash, fc_flowtable_home(t->n_slots6, hash));
}

/**
 * Count one packet for key. Hot path, but fc_flowtable_add_burst is the
 * faster way to count many.
 * Thread safety: single writer; no concurrent readers while filling.
 */
static inline void fc_flowtable_add(struct fc_flowtable *t,
				    const struct fc_ftkey *key)
{
	if (fc_ftkey_is_compact(key)) {
		struct fc_ftkey4 c;

		fc_ftkey4_make(&c, key);
		fc_flowtable_add4(t, &c);
	} else {
		fc_flowtable_add6(t, key, fc_ftkey_hash(key));
	}
}

/**
 * Count n packets: sorts the keys of a burst by part (keeping their order
 * within each part), hashes every key, prefetches every home slot (and,
 * for an IPv4 key whose home slot ends its line, the next line), then
 * updates, so the misses of a burst overlap. Counts, tbl_full and
 * iteration order equal those of n fc_flowtable_add calls in order. Hot
 * path.
 * Thread safety: single writer; no concurrent readers while filling.
 */
void fc_flowtable_add_burst(struct fc_flowtable *t,
			    const struct fc_ftkey *keys, unsigned n);

/**
 * Count n4 packets of keys already in compact form (fc_ftkey4_make, or
 * the parser's fc_parse_fast4) and n6 of keys of the IPv6 part (keys that
 * fail fc_ftkey_is_compact), in order within each part: every home slot
 * of both parts is prefetched, then the keys are counted. Equal to the
 * fc_flowtable_add4 and fc_flowtable_add calls in that order. Hot path.
 * Thread safety: single writer; no concurrent readers while filling.
 */
void fc_flowtable_add_split(struct fc_flowtable *t, const struct fc_ftkey4 *c,
			    unsigned n4, const struct fc_ftkey *k6,
			    unsigned n6);

/**
 * The two halves of fc_flowtable_add_split, for a caller that has other
 * work to do while the lines arrive. prefetch_split asks for the home
 * line of each key (and stores the IPv6 keys' hashes in h6[]); it changes
 * nothing in t. count_split then counts the keys, in order within each
 * part, as fc_flowtable_add_split does. Nothing ties the two calls
 * together: keys may be counted in any table, prefetched or not (the home
 * slot is recomputed from the hash), so a caller that changes tables
 * between them loses only the prefetch. h6 must hold the hashes
 * prefetch_split stored. Hot path.
 * Thread safety: single writer; no concurrent readers while filling
 * (prefetch_split only reads t, but is meant for its writer).
 */
void fc_flowtable_prefetch_split(const struct fc_flowtable *t,
				 const struct fc_ftkey4 *c, unsigned n4,
				 const struct fc_ftkey *k6, uint64_t *h6,
				 unsigned n6);
void fc_flowtable_count_split(struct fc_flowtable *t,
			      const struct fc_ftkey4 *c, unsigned n4,
			      const struct fc_ftkey *k6, const uint64_t *h6,
			      unsigned n6);

#endif /* FC_FLOWTABLE_H */
