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
 * so none straddles a line). The key is three words, compared at once:
 *
 *   w[0]: src address (bits 0-31), dst address (32-63), each the 4 bytes
 *         of fc_ftkey (network order) read as a host-order uint32_t
 *   w[1]: src_port (0-15), dst_port (16-31), ip_len (32-63, < 2^16)
 *   w[2]: proto (0-7), ttl (8-15), tcp_flags (16-23), family (24-31,
 *         always 4), cls (32-39), zero (40-63)
 *
 * (w[1] and w[2] are fc_ftkey's bytes 32-47 on a little-endian host.) No
 * hash is stored: it would only spare a 3-word compare in a line that is
 * already loaded, and it is never needed again (tables do not grow).
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

/** A key in compact form (the words of its slot) and its 32-bit hash. */
struct fc_ftkey4 {
	uint64_t w[3];
	uint64_t hash;
};

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
	size_t map_len4;
	size_t map_len6;
};

/* Slots are indexed by uint32_t: at most 2^31 keys per part. */
#define FC_FLOWTABLE_MAX_KEYS (1ULL << 31)

/**
 * IPv6 keys of a table created for keys IPv4 keys: one eighth, rounded
 * up. This is how flowcap reads --table-keys N: N IPv4 keys and N / 8
 * IPv6 keys.
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
 * in on use) and advised for transparent huge pages. NULL on error.
 * Control plane.
 */
struct fc_flowtable *fc_flowtable_create2(uint64_t keys4, uint64_t keys6);

/** fc_flowtable_create2(keys, fc_flowtable_keys6_for(keys)). */
struct fc_flowtable *fc_flowtable_create(uint64_t keys);

/** Free (NULL is a no-op). */
void fc_flowtable_free(struct fc_flowtable *t);

/** Empty the table for reuse. O(keys). Control plane (collector side). */
void fc_flowtable_reset(struct fc_flowtable *t);

/**
 * Bytes of memory fc_flowtable_create2(keys4, keys6) reserves: slots of
 * both parts and the insertion-order indexes.
 */
uint64_t fc_flowtable_mem_size2(uint64_t keys4, uint64_t keys6);

/** Bytes of memory fc_flowtable_create(keys) reserves. */
uint64_t fc_flowtable_mem_size(uint64_t keys);

/* --- the compact IPv4 form ---------------------------------------------- */

/** True when the key goes to the compact IPv4 part. */
static inline bool fc_ftkey_is_compact(const struct fc_ftkey *k)
{
	/* & rather than &&: one branch, not two. */
	return (k->family == 4) & (k->ip_len <= 0xffff);
}

/**
 * Compact form of a key that fc_ftkey_is_compact, with its hash: three
 * CRC32C steps over the compact words (six over a full fc_ftkey). Hot
 * path. Not stable across versions: never store the hash.
 */
static inline void fc_ftkey4_make(struct fc_ftkey4 *c,
				  const struct fc_ftkey *k)
{
	uint64_t w0, w1, w2;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w0 = (fc_ftkey_word(k, 0) & 0xffffffffu) | fc_ftkey_word(k, 2) << 32;
	w1 = fc_ftkey_word(k, 4);
	w2 = fc_ftkey_word(k, 5) & 0xffffffffffULL;
#else
	uint32_t src, dst;

	memcpy(&src, k->src_ip, 4);
	memcpy(&dst, k->dst_ip, 4);
	w0 = src | (uint64_t)dst << 32;
	w1 = k->src_port | (uint64_t)k->dst_port << 16 |
	     (uint64_t)k->ip_len << 32;
	w2 = k->proto | (uint64_t)k->ttl << 8 | (uint64_t)k->tcp_flags << 16 |
	     (uint64_t)k->family << 24 | (uint64_t)k->cls << 32;
#endif
	c->w[0] = w0;
	c->w[1] = w1;
	c->w[2] = w2;
#if defined(__SSE4_2__) && defined(__x86_64__)
	c->hash = __builtin_ia32_crc32di(
		__builtin_ia32_crc32di(
			__builtin_ia32_crc32di(0x243f6a88, w0), w1), w2);
#else
	uint64_t h = w0 * 0x9e3779b97f4a7c15ULL;

	h = (h ^ w1 ^ (h >> 29)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ w2 ^ (h >> 32)) * 0x94d049bb133111ebULL;
	c->hash = (h ^ (h >> 31)) >> 32;
#endif
}

/** Expand the words of a compact key back to the fc_ftkey. */
static inline void fc_ftkey4_expand(struct fc_ftkey *k, const uint64_t w[3])
{
	uint32_t src = (uint32_t)w[0], dst = (uint32_t)(w[0] >> 32);

	memset(k, 0, sizeof(*k));
	memcpy(k->src_ip, &src, 4);
	memcpy(k->dst_ip, &dst, 4);
	k->src_port = (uint16_t)w[1];
	k->dst_port = (uint16_t)(w[1] >> 16);
	k->ip_len = (uint32_t)(w[1] >> 32);
	k->proto = (uint8_t)w[2];
	k->ttl = (uint8_t)(w[2] >> 8);
	k->tcp_flags = (uint8_t)(w[2] >> 16);
	k->family = (uint8_t)(w[2] >> 24);
	k->cls = (uint8_t)(w[2] >> 32);
}

/* --- iteration ----------------------------------------------------------- */

/**
 * The i-th key (i < n_keys) and its count: the IPv4 part's keys in
 * insertion order, then the IPv6 part's. Collector side.
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
 * instead of a modulo; uniform for a uniform hash). */
static inline uint64_t fc_flowtable_home(uint64_t n_slots, uint64_t hash)
{
	return ((hash & 0xffffffffu) * n_slots) >> 32;
}

/* Cold paths: key not found in its probe run. */
void fc_flowtable_insert4_slow(struct fc_flowtable *t,
			       const struct fc_ftkey4 *c,
			       struct fc_flowtable_slot4 *empty);
void fc_flowtable_insert6_slow(struct fc_flowtable *t,
			       const struct fc_ftkey *key, uint64_t hash,
			       struct fc_flowtable_slot *empty);

/* Count one packet of compact key c whose home slot is i. */
static inline void fc_flowtable_add4_at(struct fc_flowtable *t,
					const struct fc_ftkey4 *c, uint64_t i)
{
	for (;;) {
		struct fc_flowtable_slot4 *s = &t->slots4[i];

		if (s->packets == 0) {
			fc_flowtable_insert4_slow(t, c, s);
			return;
		}
		if (((s->w[0] ^ c->w[0]) | (s->w[1] ^ c->w[1]) |
		     (s->w[2] ^ c->w[2])) == 0) {
			s->packets++;
			t->pkts++;
			return;
		}
		if (++i == t->n_slots4)
			i = 0;
	}
}

/** Count one packet of a compact key (made by fc_ftkey4_make). Hot path. */
static inline void fc_flowtable_add4(struct fc_flowtable *t,
				     const struct fc_ftkey4 *c)
{
	fc_flowtable_add4_at(t, c, fc_flowtable_home(t->n_slots4, c->hash));
}

/** Count one packet of a key of the IPv6 part (hash: fc_ftkey_hash). */
static inline void fc_flowtable_add6(struct fc_flowtable *t,
				     const struct fc_ftkey *key, uint64_t hash)
{
	uint64_t i = fc_flowtable_home(t->n_slots6, hash);

	for (;;) {
		struct fc_flowtable_slot *s = &t->slots6[i];

		if (s->packets == 0) {
			fc_flowtable_insert6_slow(t, key, hash, s);
			return;
		}
		if (s->hash == hash && fc_ftkey_eq(&s->key, key)) {
			s->packets++;
			t->pkts++;
			return;
		}
		if (++i == t->n_slots6)
			i = 0;
	}
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

#endif /* FC_FLOWTABLE_H */
