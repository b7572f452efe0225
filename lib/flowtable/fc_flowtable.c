/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow table memory management, the cold insert paths and the burst path.
 * The per-key hit paths are inline in the header.
 */
#include "fc_flowtable.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A large part ends on a whole 2 MB page (a transparent huge page backs
 * it whole, so its slots are free to use); a small one is not rounded,
 * where a page would add more than 1/16 to its memory. */
static uint64_t round_slots(uint64_t n, size_t slot_size)
{
	uint64_t per_page = (2u << 20) / slot_size;

	if (n > 16 * per_page)
		n = (n + per_page - 1) / per_page * per_page;
	return n < 64 ? 64 : n;
}

/* IPv4 part: 2/3 full at most. Slots are half the size of a line, so a
 * lower load costs little memory (48 bytes of slots per key at full load)
 * and keeps probe runs within one or two lines. */
static uint64_t slots4_for(uint64_t keys)
{
	return round_slots(keys + keys / 2 + 1, sizeof(struct fc_flowtable_slot4));
}

/* IPv6 part: 7/8 full at most (73 bytes of slots per key). */
static uint64_t slots6_for(uint64_t keys)
{
	return round_slots(keys + keys / 7 + 1, sizeof(struct fc_flowtable_slot));
}

/* Slots of a part's small start, 0 for a part that starts full size. */
static uint64_t small4_for(uint64_t keys)
{
	return keys > FC_FLOWTABLE_SMALL_KEYS ?
		       slots4_for(FC_FLOWTABLE_SMALL_KEYS) : 0;
}

static uint64_t small6_for(uint64_t keys)
{
	return keys > FC_FLOWTABLE_SMALL_KEYS ?
		       slots6_for(FC_FLOWTABLE_SMALL_KEYS) : 0;
}

uint64_t fc_flowtable_mem_size_parts(uint64_t keys4, uint64_t keys6)
{
	return (slots4_for(keys4) + small4_for(keys4)) *
		       sizeof(struct fc_flowtable_slot4) +
	       (slots6_for(keys6) + small6_for(keys6)) *
		       sizeof(struct fc_flowtable_slot) +
	       (keys4 + keys6) * sizeof(uint32_t);
}

uint64_t fc_flowtable_mem_size(uint64_t keys)
{
	return fc_flowtable_mem_size_parts(keys, fc_flowtable_keys6_for(keys));
}

/* Pages are faulted in as keys arrive. Slots are hit at random: 2 MB pages
 * save most TLB misses (advice only; failure is harmless). They also mean
 * that a few hundred keys, one on every page, fault in (and have the
 * kernel zero) the whole mapping: hence small parts first (fc_flowtable.h,
 * FC_FLOWTABLE_SMALL_KEYS). */
static void *map_slots(size_t len)
{
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	(void)madvise(mem, len, MADV_HUGEPAGE);
	return mem;
}

/* Map a part: its full-size mapping, and a small one to start with when
 * the part is for more than FC_FLOWTABLE_SMALL_KEYS keys. */
static int map_part(void **slots, uint64_t *n_slots, void **full,
		    uint64_t *n_full, uint64_t *limit, size_t *map_len,
		    size_t *small_len, uint64_t keys, uint64_t n,
		    uint64_t n_small, size_t slot_size)
{
	*map_len = n * slot_size;
	*full = map_slots(*map_len);
	if (*full == NULL)
		return -1;
	*n_full = n;
	if (n_small == 0) {
		*slots = *full;
		*n_slots = n;
		*full = NULL;
		*limit = keys;
		*small_len = 0;
		return 0;
	}
	*small_len = n_small * slot_size;
	*slots = mmap(NULL, *small_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*slots == MAP_FAILED) {
		munmap(*full, *map_len);
		return -1;
	}
	*n_slots = n_small;
	*limit = FC_FLOWTABLE_SMALL_KEYS;
	return 0;
}

static void unmap_part(void *slots, void *full, size_t map_len,
		       size_t small_len)
{
	if (full == NULL) {
		munmap(slots, map_len);
	} else {
		munmap(slots, small_len);
		munmap(full, map_len);
	}
}

struct fc_flowtable *fc_flowtable_create_parts(uint64_t keys4, uint64_t keys6)
{
	struct fc_flowtable *t;

	if (keys4 == 0 || keys4 > FC_FLOWTABLE_MAX_KEYS ||
	    keys6 == 0 || keys6 > FC_FLOWTABLE_MAX_KEYS)
		return NULL;
	if (posix_memalign((void **)&t, FC_CACHE_LINE, sizeof(*t)) != 0)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->max_keys4 = keys4;
	t->max_keys6 = keys6;
	t->max_keys = keys4 + keys6;
	t->used4 = malloc(keys4 * sizeof(uint32_t));
	if (t->used4 == NULL)
		goto err_used4;
	t->used6 = malloc(keys6 * sizeof(uint32_t));
	if (t->used6 == NULL)
		goto err_used6;
	if (map_part((void **)&t->slots4, &t->n_slots4, (void **)&t->full4,
		     &t->n_full4, &t->limit4, &t->map_len4, &t->small_len4,
		     keys4, slots4_for(keys4), small4_for(keys4),
		     sizeof(struct fc_flowtable_slot4)) != 0)
		goto err_slots4;
	if (map_part((void **)&t->slots6, &t->n_slots6, (void **)&t->full6,
		     &t->n_full6, &t->limit6, &t->map_len6, &t->small_len6,
		     keys6, slots6_for(keys6), small6_for(keys6),
		     sizeof(struct fc_flowtable_slot)) != 0)
		goto err_slots6;
	return t;

err_slots6:
	unmap_part(t->slots4, t->full4, t->map_len4, t->small_len4);
err_slots4:
	free(t->used6);
err_used6:
	free(t->used4);
err_used4:
	free(t);
	return NULL;
}

struct fc_flowtable *fc_flowtable_create(uint64_t keys)
{
	if (keys == 0 || keys > FC_FLOWTABLE_MAX_KEYS)
		return NULL;
	return fc_flowtable_create_parts(keys, fc_flowtable_keys6_for(keys));
}

void fc_flowtable_free(struct fc_flowtable *t)
{
	if (t == NULL)
		return;
	unmap_part(t->slots6, t->full6, t->map_len6, t->small_len6);
	unmap_part(t->slots4, t->full4, t->map_len4, t->small_len4);
	if (t->old4 != NULL)
		munmap(t->old4, t->small_len4);
	if (t->old6 != NULL)
		munmap(t->old6, t->small_len6);
	free(t->used6);
	free(t->used4);
	free(t);
}

void fc_flowtable_reset(struct fc_flowtable *t)
{
	/* Runs on the collector, so the worker that gets the table back
	 * never pays for it. Only the slots the insertion-order lists name
	 * are cleared, however full the table was: a page no key touched is
	 * never written, so it is never faulted in (or, with transparent
	 * huge pages off, a quiet table stays small), and the work is one
	 * line per key, asked for some keys ahead. An IPv4 slot is cleared
	 * whole, so an empty slot never holds a stale key; an IPv6 slot is
	 * empty when its count is 0. */
	const uint64_t n4 = t->n_keys4, n6 = t->n_keys - t->n_keys4;
	enum { AHEAD = 16 };

	/* The small slots of a part that grew during the interval. */
	if (t->old4 != NULL) {
		munmap(t->old4, t->small_len4);
		t->old4 = NULL;
		t->small_len4 = 0;
	}
	if (t->old6 != NULL) {
		munmap(t->old6, t->small_len6);
		t->old6 = NULL;
		t->small_len6 = 0;
	}
	for (uint64_t i = 0; i < n4; i++) {
		if (i + AHEAD < n4)
			__builtin_prefetch(&t->slots4[t->used4[i + AHEAD]], 1,
					   0);
		memset(&t->slots4[t->used4[i]], 0,
		       sizeof(struct fc_flowtable_slot4));
	}
	for (uint64_t i = 0; i < n6; i++) {
		if (i + AHEAD < n6)
			__builtin_prefetch(&t->slots6[t->used6[i + AHEAD]], 1,
					   0);
		t->slots6[t->used6[i]].packets = 0;
	}
	t->n_keys4 = 0;
	t->n_keys6 = 0;
	t->n_keys = 0;
	t->pkts = 0;
	t->tbl_full = 0;
}

/* The IPv4 part moves to its full-size mapping: every key, in insertion
 * order, to its home there (its hash computed again from its words), and
 * the insertion-order list rewritten. On the worker, once in the table's
 * life; the small mapping is given back by the next reset, on the
 * collector (nothing is freed on the hot path). */
static void grow4(struct fc_flowtable *t)
{
	struct fc_flowtable_slot4 *from = t->slots4, *to = t->full4;
	const uint64_t n = t->n_full4;

	for (uint64_t k = 0; k < t->n_keys4; k++) {
		const struct fc_flowtable_slot4 *s = &from[t->used4[k]];
		uint64_t i = fc_flowtable_home(
			n, fc_ftkey4_hash(s->w[0], s->w[1], s->w[2]));

		while (to[i].packets != 0)
			if (++i == n)
				i = 0;
		to[i] = *s;
		t->used4[k] = (uint32_t)i;
	}
	t->old4 = from;
	t->slots4 = to;
	t->n_slots4 = n;
	t->full4 = NULL;
	t->limit4 = t->max_keys4;
}

static void grow6(struct fc_flowtable *t)
{
	struct fc_flowtable_slot *from = t->slots6, *to = t->full6;
	const uint64_t n = t->n_full6;

	for (uint64_t k = 0; k < t->n_keys6; k++) {
		const struct fc_flowtable_slot *s = &from[t->used6[k]];
		uint64_t i = fc_flowtable_home(n, s->hash);

		while (to[i].packets != 0)
			if (++i == n)
				i = 0;
		to[i] = *s;
		t->used6[k] = (uint32_t)i;
	}
	t->old6 = from;
	t->slots6 = to;
	t->n_slots6 = n;
	t->full6 = NULL;
	t->limit6 = t->max_keys6;
}

/* Insert at a part's limit: the part is full (the key is refused and
 * counted in tbl_full), or small and must grow first. Out of line, so
 * that the common insert saves no registers. */
static __attribute__((noinline, cold)) unsigned
insert4_at_limit(struct fc_flowtable *t, const struct fc_ftkey4 *c)
{
	if (t->n_keys4 >= t->max_keys4) {
		t->tbl_full++;
		return 0;
	}
	/* Then the key, new, is counted in the full-size part. */
	grow4(t);
	return fc_flowtable_count4_at(t, c,
				      fc_flowtable_home(t->n_slots4, c->hash));
}

static __attribute__((noinline, cold)) unsigned
insert6_at_limit(struct fc_flowtable *t, const struct fc_ftkey *key,
		 uint64_t hash)
{
	if (t->n_keys6 >= t->max_keys6) {
		t->tbl_full++;
		return 0;
	}
	grow6(t);
	return fc_flowtable_count6_at(t, key, hash,
				      fc_flowtable_home(t->n_slots6, hash));
}

unsigned fc_flowtable_insert4_slow(struct fc_flowtable *t,
				   const struct fc_ftkey4 *c,
				   struct fc_flowtable_slot4 *empty)
{
	if (FC_UNLIKELY(t->n_keys4 >= t->limit4))
		return insert4_at_limit(t, c);
	empty->w[0] = c->w[0];
	empty->w[1] = c->w[1];
	empty->w[2] = c->w[2];
	empty->packets = 1;
	t->used4[t->n_keys4++] = (uint32_t)(empty - t->slots4);
	t->n_keys++;
	return 1;
}

unsigned fc_flowtable_insert6_slow(struct fc_flowtable *t,
				   const struct fc_ftkey *key, uint64_t hash,
				   struct fc_flowtable_slot *empty)
{
	if (FC_UNLIKELY(t->n_keys6 >= t->limit6))
		return insert6_at_limit(t, key, hash);
	empty->key = *key;
	empty->hash = hash;
	empty->packets = 1;
	t->used6[t->n_keys6++] = (uint32_t)(empty - t->slots6);
	t->n_keys++;
	return 1;
}

#define STAGE 64

void fc_flowtable_prefetch_split(const struct fc_flowtable *t,
				 const struct fc_ftkey4 *c, unsigned n4,
				 const struct fc_ftkey *k6, uint64_t *h6,
				 unsigned n6)
{
	const struct fc_flowtable_slot4 *slots4 = t->slots4;
	const uint64_t n_slots4 = t->n_slots4;
	/* A probe leaves its home line only when the home slot ends the
	 * line and is taken by another key: likely in a full table, rare in
	 * a sparse one, where a second line per key would only add to the
	 * misses in flight. Past a third full, ask for the next line too. */
	const bool next = t->n_keys4 * 3 > n_slots4;

	for (unsigned j = 0; j < n4; j++) {
		uint64_t s = fc_flowtable_home(n_slots4, c[j].hash);

		__builtin_prefetch(&slots4[s], 1, 3);
		/* The next line when the home slot ends its line (s + 1 is
		 * at most one past the end, and a prefetch never faults);
		 * the same line otherwise. */
		if (next)
			__builtin_prefetch(&slots4[s + 1], 1, 3);
	}
	for (unsigned j = 0; j < n6; j++) {
		h6[j] = fc_ftkey_hash(&k6[j]);
		__builtin_prefetch(
			&t->slots6[fc_flowtable_home(t->n_slots6, h6[j])], 1,
			3);
	}
}

void fc_flowtable_count_split(struct fc_flowtable *t,
			      const struct fc_ftkey4 *c, unsigned n4,
			      const struct fc_ftkey *k6, const uint64_t *h6,
			      unsigned n6)
{
	const uint64_t n_slots4 = t->n_slots4;
	uint64_t counted = 0;

	if (FC_LIKELY(t->n_keys4 + n4 < t->limit4)) {
		for (unsigned j = 0; j < n4; j++)
			counted += fc_flowtable_count4_at(
				t, &c[j], fc_flowtable_home(n_slots4, c[j].hash));
	} else {
		/* An insert may grow the part, or find it full: its size
		 * is read again for every key. */
		for (unsigned j = 0; j < n4; j++)
			counted += fc_flowtable_count4_at(
				t, &c[j],
				fc_flowtable_home(t->n_slots4, c[j].hash));
	}
	for (unsigned j = 0; j < n6; j++)
		counted += fc_flowtable_count6_at(
			t, &k6[j], h6[j], fc_flowtable_home(t->n_slots6, h6[j]));
	t->pkts += counted;
}

/* One stage: at most STAGE keys of each part. Every home line is asked
 * for first (IPv4 and IPv6 alike, so their misses overlap), then the keys
 * are counted in order within each part. */
static inline void add_stage(struct fc_flowtable *t,
			     const struct fc_ftkey4 *c, unsigned n4,
			     const struct fc_ftkey *k6, unsigned n6)
{
	uint64_t h6[STAGE];

	fc_flowtable_prefetch_split(t, c, n4, k6, h6, n6);
	fc_flowtable_count_split(t, c, n4, k6, h6, n6);
}

void fc_flowtable_add_split(struct fc_flowtable *t, const struct fc_ftkey4 *c,
			    unsigned n4, const struct fc_ftkey *k6,
			    unsigned n6)
{
	while (n4 > 0 || n6 > 0) {
		unsigned m4 = n4 < STAGE ? n4 : STAGE;
		unsigned m6 = n6 < STAGE ? n6 : STAGE;

		add_stage(t, c, m4, k6, m6);
		c += m4;
		n4 -= m4;
		k6 += m6;
		n6 -= m6;
	}
}

void fc_flowtable_add_burst(struct fc_flowtable *t,
			    const struct fc_ftkey *keys, unsigned n)
{
	struct fc_ftkey4 c[STAGE];
	struct fc_ftkey k6[STAGE];

	while (n > 0) {
		unsigned m = n < STAGE ? n : STAGE, n4 = 0, n6 = 0;

		/* IPv4 keys are made compact, IPv6 keys set aside; order
		 * within each part is kept. */
		for (unsigned i = 0; i < m; i++) {
			if (FC_UNLIKELY(!fc_ftkey_is_compact(&keys[i])))
				k6[n6++] = keys[i];
			else
				fc_ftkey4_make(&c[n4++], &keys[i]);
		}
		add_stage(t, c, n4, k6, n6);
		keys += m;
		n -= m;
	}
}
