/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow table memory management and the cold insert path. The hit path is
 * inline in the header.
 */
#include "fc_flowtable.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t slots_for(uint64_t max_keys)
{
	/* 7/8 full at most; whole 2 MB pages of slots are free to use. */
	uint64_t n = max_keys + max_keys / 7 + 1;
	uint64_t per_page = (2u << 20) / sizeof(struct fc_flowtable_slot);

	if (n > per_page)
		n = (n + per_page - 1) / per_page * per_page;
	return n < 64 ? 64 : n;
}

uint64_t fc_flowtable_mem_size(uint64_t max_keys)
{
	return slots_for(max_keys) * sizeof(struct fc_flowtable_slot) +
	       max_keys * sizeof(uint32_t);
}

struct fc_flowtable *fc_flowtable_create(uint64_t max_keys)
{
	struct fc_flowtable *t;
	uint64_t n;
	void *mem;

	if (max_keys == 0 || max_keys > FC_FLOWTABLE_MAX_KEYS)
		return NULL;
	n = slots_for(max_keys);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->map_len = n * sizeof(struct fc_flowtable_slot);
	t->used = malloc(max_keys * sizeof(uint32_t));
	if (t->used == NULL) {
		free(t);
		return NULL;
	}
	/* Pages are faulted in as keys arrive: a table sized for a busy
	 * interval costs only what a quiet one touches. */
	mem = mmap(NULL, t->map_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		free(t->used);
		free(t);
		return NULL;
	}
	/* Slots are hit at random: 2 MB pages save most TLB misses. Advice
	 * only; failure is harmless. */
	(void)madvise(mem, t->map_len, MADV_HUGEPAGE);
	t->slots = mem;
	t->n_slots = n;
	t->max_keys = max_keys;
	return t;
}

void fc_flowtable_free(struct fc_flowtable *t)
{
	if (t == NULL)
		return;
	munmap(t->slots, t->map_len);
	free(t->used);
	free(t);
}

void fc_flowtable_reset(struct fc_flowtable *t)
{
	/* Runs on the collector, so the worker that gets the table back
	 * never pays for it: a few keys, clear just their slots; many,
	 * clear the map (no page is given back, so the worker never takes
	 * a page fault on a reused table). */
	if (t->n_keys < t->n_slots / 16) {
		for (uint64_t i = 0; i < t->n_keys; i++)
			t->slots[t->used[i]].packets = 0;
	} else {
		memset(t->slots, 0, t->map_len);
	}
	t->n_keys = 0;
	t->pkts = 0;
	t->tbl_full = 0;
}

void fc_flowtable_insert_slow(struct fc_flowtable *t,
			      const struct fc_ftkey *key, uint64_t hash,
			      struct fc_flowtable_slot *empty)
{
	if (FC_UNLIKELY(t->n_keys >= t->max_keys)) {
		t->tbl_full++;
		return;
	}
	empty->key = *key;
	empty->hash = hash;
	empty->packets = 1;
	t->used[t->n_keys++] = (uint32_t)(empty - t->slots);
	t->pkts++;
}

void fc_flowtable_add_burst(struct fc_flowtable *t,
			    const struct fc_ftkey *keys, unsigned n)
{
	uint64_t h[64];

	while (n > 0) {
		unsigned m = n < 64 ? n : 64;

		for (unsigned i = 0; i < m; i++) {
			h[i] = fc_ftkey_hash(&keys[i]);
			fc_flowtable_prefetch(t, h[i]);
		}
		for (unsigned i = 0; i < m; i++)
			fc_flowtable_add(t, &keys[i], h[i]);
		keys += m;
		n -= m;
	}
}
