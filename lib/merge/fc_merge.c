/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gather, sort, combine. Sorting is on the full key in canonical order so
 * files are deterministic whatever the number of workers.
 *
 * The work is one pass over the tables' keys (their slots asked for some
 * keys ahead: they sit at random in the tables) that makes a 32-byte
 * entry of each (sort prefix, the rest of an IPv4 key and its count), a
 * radix sort of the entries from the most significant digit down (one
 * pass over all of them in memory, whose histogram the first pass made;
 * the buckets it leaves are sorted in the caches), and one pass that
 * turns the entries, in order, into records, puts keys with the same
 * prefix in full order and adds up the counts of equal keys.
 */
#include "fc_merge.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define N_BUCKETS 2048u /* 11-bit digits */
#define TOP_SHIFT 53     /* the first digit: bits 53..63 */
#define AHEAD 16 /* keys between asking for a slot and reading it */

/* A record as it is sorted: its prefix and, for a key of a table's IPv4
 * part, the rest of the key and its count (32 bytes, two to a line, where
 * a record is 56); for any other key, its position in tmp6. Sorting moves
 * these whole, so the records come out in order without a random read
 * each. Ties on the prefix are then ordered by the full key. */
struct sortent {
	uint64_t pref;
	uint64_t a; /**< IPv4: compact word 1; else: index in tmp6 */
	uint64_t b; /**< IPv4: compact word 2 | the destination's low 3
		     *   bits << 61; else: FULL */
	uint64_t packets;
};

/* b of an entry whose record is in tmp6 (compact word 2 is below 2^60:
 * gather puts a record whose VLAN ID reaches bit 60 into tmp6). */
#define FULL (1ULL << 60)

struct fc_merge {
	struct fc_ft_record *recs, *tmp6;
	struct sortent *ents, *ents2;
	uint64_t cap, cap6;
	uint64_t count[N_BUCKETS]; /* histogram of the top 11 bits */
};

struct fc_merge *fc_merge_create(void)
{
	return calloc(1, sizeof(struct fc_merge));
}

void fc_merge_free(struct fc_merge *m)
{
	if (m == NULL)
		return;
	free(m->recs);
	free(m->tmp6);
	free(m->ents);
	free(m->ents2);
	free(m);
}

/*
 * The first 64 bits of a key in canonical order (fc_ftkey_cmp): 3 bits
 * for class and family (class major, IPv4 before IPv6), then the key's
 * next significant bytes. For IPv4 those are the source address and the
 * top of the destination (bytes 4-15 of an IPv4 address are zero, so they
 * never decide an order); for IPv6 the top of the source address. Equal
 * prefixes of distinct keys are ordered afterwards by the whole key.
 */
static inline uint64_t prefix_of(const struct fc_ftkey *k)
{
	uint64_t g = (uint64_t)k->cls * 2 + (k->family == 6), b = 0;
	const uint8_t *p = k->src_ip;

	if (k->family == 4) {
		b = (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
		    (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
		    (uint64_t)k->dst_ip[0] << 24 | (uint64_t)k->dst_ip[1] << 16 |
		    (uint64_t)k->dst_ip[2] << 8 | k->dst_ip[3];
	} else {
		for (int i = 0; i < 8; i++)
			b = b << 8 | p[i];
	}
	return g << 61 | b >> 3;
}

/* Sorting by the most significant digit first: one pass over all entries
 * in memory, after which each bucket is small enough to be sorted in the
 * caches; a digit is 11 bits for large buckets, 8 for smaller ones, and a
 * bucket of at most SMALL entries is sorted by insertion. */
#define SMALL 24

static void insertion_sort(struct sortent *a, uint64_t n)
{
	for (uint64_t i = 1; i < n; i++) {
		struct sortent x = a[i];
		uint64_t j = i;

		while (j > 0 && a[j - 1].pref > x.pref) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = x;
	}
}

static void sort_into(struct sortent *src, struct sortent *dst, uint64_t n,
		      unsigned lo);

/* The digit of bits [lo - width, lo) for n entries; width 0: none left. */
static unsigned digit_width(uint64_t n, unsigned lo)
{
	unsigned w = n > 4096 ? 11 : 8;

	return w < lo ? w : lo;
}

/* Scatter src into dst by the digit [lo - width, lo) using count (the
 * histogram, turned into starts). */
static void scatter(const struct sortent *src, struct sortent *dst,
		    uint64_t n, uint64_t *count, unsigned nb, unsigned shift)
{
	uint64_t sum = 0;

	for (unsigned v = 0; v < nb; v++) {
		uint64_t x = count[v];

		count[v] = sum;
		sum += x;
	}
	for (uint64_t i = 0; i < n; i++)
		dst[count[(src[i].pref >> shift) & (nb - 1)]++] = src[i];
}

/* Sort a[0..n) on bits [0, lo) of the prefix (the higher ones are equal),
 * the result in a; tmp is scratch of n entries. count: the histogram of
 * the next digit, or NULL to make it. */
static void sort_inplace(struct sortent *a, struct sortent *tmp, uint64_t n,
			 unsigned lo, uint64_t *count)
{
	uint64_t own[N_BUCKETS], start = 0;
	unsigned width = digit_width(n, lo), nb = 1u << width, shift;

	if (n <= SMALL || lo == 0) {
		if (lo > 0)
			insertion_sort(a, n);
		return;
	}
	shift = lo - width;
	if (count == NULL) {
		count = own;
		memset(count, 0, nb * sizeof(*count));
		for (uint64_t i = 0; i < n; i++)
			count[(a[i].pref >> shift) & (nb - 1)]++;
	}
	if (count[(a[0].pref >> shift) & (nb - 1)] == n) {
		/* One bucket: this digit decides nothing. */
		sort_inplace(a, tmp, n, shift, NULL);
		return;
	}
	scatter(a, tmp, n, count, nb, shift);
	/* count[v] is now the end of bucket v. */
	for (unsigned v = 0; v < nb; v++) {
		uint64_t end = count[v];

		if (end > start)
			sort_into(tmp + start, a + start, end - start, shift);
		start = end;
	}
}

/* Sort src[0..n) on bits [0, lo), the result in dst; src is scratch. */
static void sort_into(struct sortent *src, struct sortent *dst, uint64_t n,
		      unsigned lo)
{
	uint64_t count[N_BUCKETS], start = 0;
	unsigned width = digit_width(n, lo), nb = 1u << width, shift;

	if (n <= SMALL || lo == 0) {
		memcpy(dst, src, n * sizeof(*src));
		if (lo > 0)
			insertion_sort(dst, n);
		return;
	}
	shift = lo - width;
	memset(count, 0, nb * sizeof(*count));
	for (uint64_t i = 0; i < n; i++)
		count[(src[i].pref >> shift) & (nb - 1)]++;
	if (count[(src[0].pref >> shift) & (nb - 1)] == n) {
		sort_into(src, dst, n, shift);
		return;
	}
	scatter(src, dst, n, count, nb, shift);
	for (unsigned v = 0; v < nb; v++) {
		uint64_t end = count[v];

		if (end > start)
			sort_inplace(dst + start, src + start, end - start,
				     shift, NULL);
		start = end;
	}
}

static int rec_cmp(const void *a, const void *b)
{
	return fc_ftkey_cmp(&((const struct fc_ft_record *)a)->key,
			    &((const struct fc_ft_record *)b)->key);
}

/* Records r[0..n) share a prefix: order them by the whole key. */
static void sort_run(struct fc_ft_record *r, uint64_t n)
{
	if (n > 16) {
		qsort(r, n, sizeof(*r), rec_cmp);
		return;
	}
	for (uint64_t i = 1; i < n; i++) {
		struct fc_ft_record x = r[i];
		uint64_t j = i;

		while (j > 0 && fc_ftkey_cmp(&r[j - 1].key, &x.key) > 0) {
			r[j] = r[j - 1];
			j--;
		}
		r[j] = x;
	}
}

/* Records r[0..n) share a prefix: order them by the whole key and add up
 * equal keys. Returns how many records are left. */
static uint64_t combine_run(struct fc_ft_record *r, uint64_t n)
{
	uint64_t o = 1;

	sort_run(r, n);
	for (uint64_t i = 1; i < n; i++) {
		if (fc_ftkey_eq(&r[o - 1].key, &r[i].key))
			r[o - 1].packets += r[i].packets;
		else
			r[o++] = r[i];
	}
	return o;
}

static int grow(void **p, uint64_t n, size_t size)
{
	void *q = realloc(*p, n * size);

	if (q == NULL)
		return -1;
	*p = q;
	return 0;
}

/* The record of entry e. */
static inline void record_of(const struct fc_merge *m, const struct sortent *e,
			     struct fc_ft_record *r)
{
	if (e->b & FULL) {
		*r = m->tmp6[e->a];
	} else {
		uint64_t v = e->pref << 3 | e->b >> 61, w[3];

		w[0] = __builtin_bswap32((uint32_t)(v >> 32)) |
		       (uint64_t)__builtin_bswap32((uint32_t)v) << 32;
		w[1] = e->a;
		w[2] = e->b & (FULL - 1);
		fc_ftkey4_expand(&r->key, w);
		r->packets = e->packets;
	}
}

/* Every key of t into entries m->ents[k..] (IPv6 keys' records into
 * m->tmp6[*k6..]), the slot of each asked for AHEAD keys before it is
 * read; the top digit of each prefix is counted. Returns the new k. */
static uint64_t gather(struct fc_merge *m, const struct fc_flowtable *t,
		       uint64_t k, uint64_t *k6)
{
	const uint64_t n4 = t->n_keys4, n6 = t->n_keys - t->n_keys4;

	for (uint64_t j = 0; j < n4; j++) {
		const struct fc_flowtable_slot4 *s;
		struct sortent *e = &m->ents[k++];
		uint64_t v;

		if (j + AHEAD < n4)
			__builtin_prefetch(&t->slots4[t->used4[j + AHEAD]], 0,
					   0);
		s = &t->slots4[t->used4[j]];
		if (__builtin_expect(s->w[2] >> 60 != 0, 0)) {
			/* A VLAN ID of 256 or more (--key-vlan) reaches the
			 * bits b keeps for FULL and the destination's: the
			 * record goes whole into tmp6, as an IPv6 one (its
			 * prefix is the one the compact entry would have). */
			struct fc_ft_record *x = &m->tmp6[*k6];

			fc_ftkey4_expand(&x->key, s->w);
			x->packets = s->packets;
			e->pref = prefix_of(&x->key);
			e->a = (*k6)++;
			e->b = FULL;
			e->packets = s->packets;
			m->count[e->pref >> TOP_SHIFT]++;
			continue;
		}
		/* Source then destination, most significant byte first. */
		v = (uint64_t)__builtin_bswap32((uint32_t)s->w[0]) << 32 |
		    __builtin_bswap32((uint32_t)(s->w[0] >> 32));
		/* Class (w[2] bits 32..39), IPv4: group cls * 2. */
		e->pref = (s->w[2] >> 32) * 2 << 61 | v >> 3;
		e->a = s->w[1];
		e->b = s->w[2] | v << 61;
		e->packets = s->packets;
		m->count[e->pref >> TOP_SHIFT]++;
	}
	for (uint64_t j = 0; j < n6; j++) {
		const struct fc_flowtable_slot *s;
		struct sortent *e = &m->ents[k++];

		if (j + AHEAD < n6)
			__builtin_prefetch(&t->slots6[t->used6[j + AHEAD]], 0,
					   0);
		s = &t->slots6[t->used6[j]];
		m->tmp6[*k6].key = s->key;
		m->tmp6[*k6].packets = s->packets;
		e->pref = prefix_of(&s->key);
		e->a = (*k6)++;
		e->b = FULL;
		e->packets = s->packets;
		m->count[e->pref >> TOP_SHIFT]++;
	}
	return k;
}

int fc_merge_tables(struct fc_merge *m, struct fc_flowtable *const *tabs,
		    unsigned n, const struct fc_ft_record **out,
		    uint64_t *n_out, uint64_t *pkts)
{
	uint64_t total = 0, total6 = 0, k = 0, k6 = 0, w = 0, sum = 0;
	struct sortent *e;

	/* tmp6 holds IPv6 records and IPv4 ones with a large VLAN ID
	 * (gather): room for every key, of which only the pages used are
	 * ever touched. */
	for (unsigned i = 0; i < n; i++)
		total += tabs[i]->n_keys;
	total6 = total;
	if (total > m->cap) {
		if (grow((void **)&m->recs, total, sizeof(*m->recs)) ||
		    grow((void **)&m->ents, total, sizeof(*m->ents)) ||
		    grow((void **)&m->ents2, total, sizeof(*m->ents2)))
			return -ENOMEM;
		m->cap = total;
	}
	if (total6 > m->cap6) {
		if (grow((void **)&m->tmp6, total6, sizeof(*m->tmp6)))
			return -ENOMEM;
		m->cap6 = total6;
	}
	memset(m->count, 0, sizeof(m->count));
	for (unsigned i = 0; i < n; i++)
		k = gather(m, tabs[i], k, &k6);
	/* The first digit's histogram was made by gather (an 11-bit digit:
	 * the one sort_inplace takes for more than 4096 entries). */
	e = m->ents;
	if (k > SMALL)
		sort_inplace(e, m->ents2, k, 64, k > 4096 ? m->count : NULL);
	else
		insertion_sort(e, k);
	/* Records in prefix order. Equal keys have equal prefixes: a run of
	 * one prefix is put in full order and its equal keys added up as it
	 * ends. */
	for (uint64_t i = 0, rs = 0; i < k; i++) {
		if (i > 0 && e[i].pref != e[i - 1].pref) {
			if (w - rs > 1)
				w = rs + combine_run(m->recs + rs, w - rs);
			rs = w;
		}
		sum += e[i].packets;
		record_of(m, &e[i], &m->recs[w++]);
		if (i + 1 == k && w - rs > 1)
			w = rs + combine_run(m->recs + rs, w - rs);
	}
	*out = m->recs;
	*n_out = w;
	*pkts = sum;
	return 0;
}
