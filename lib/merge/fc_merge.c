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
 * each bucket it leaves is then sorted in the caches and, while it is
 * there, turned into records: keys with the same prefix are put in full
 * order and the counts of equal keys added up). fc_merge_tables_each
 * hands the records of each bucket (or of a few small ones) to its
 * caller at once, written over the previous ones, so they are still in
 * the caches when the caller reads them.
 */
#include "fc_merge.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define N_BUCKETS 2048u /* 11-bit digits */
#define N_TOP N_BUCKETS  /* the first digit: 11 bits as well */
#define TOP_SHIFT 53     /* the first digit: bits 53..63 */
#define AHEAD 32 /* keys between asking for a slot and reading it: 16 left
		  * the gather 9 cycles a key slower (bench/README.md) */


/* A record as it is sorted: its prefix and, for a key of a table's IPv4
 * part, the rest of the key and its count (32 bytes, two to a line, where
 * a record is 56); for any other key, its position in tmp6. Sorting moves
 * these whole, so the records come out in order without a random read
 * each. Ties on the prefix are then ordered by the full key. */
struct sortent {
	uint64_t pref;
	uint64_t a; /**< IPv4: compact word 1 | the destination's low 3
		     *   bits << 61; else: index in tmp6 | FULL */
	uint64_t b; /**< IPv4: compact word 2 (all 64 bits: the label and
		     *   VLAN fields fill its top 24) */
	uint64_t packets;
};

/* In a: the entry's record is in tmp6. Compact word 1 holds the ports
 * and an IP length of at most 16 bits (fc_ftkey_is_compact): below
 * 2^48, so bits 48..63 are free for this flag and the 3 bits. */
#define FULL (1ULL << 60)

struct fc_merge {
	struct fc_ft_record *recs, *tmp6;
	struct sortent *ents, *ents2;
	uint64_t cap, cap6;
	uint64_t count[N_TOP]; /* histogram of the first digit */
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
 * caches; a digit is 11 bits for large buckets, 8 for smaller ones. A
 * bucket of at most SMALL entries is left as it is: one insertion sort
 * over all entries at the end puts them in order, at a cost bounded by
 * SMALL moves an entry (an entry never leaves its bucket, and every
 * bucket is in place), where sorting each small bucket on its own cost
 * a call and a loop per bucket (most hold one or two entries). */
#define SMALL 48

static void insertion_sort(struct sortent *a, uint64_t n)
{
	for (uint64_t i = 1; i < n; i++) {
		struct sortent x = a[i];
		uint64_t j = i;

		if (a[j - 1].pref <= x.pref)
			continue;
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

/* Bring a[0..n) into buckets on bits [0, lo) of the prefix (the higher
 * ones are equal), the result in a, every bucket of more than SMALL
 * entries sorted; tmp is scratch of n entries. count: the histogram of
 * the next digit, or NULL to make it. */
static void sort_inplace(struct sortent *a, struct sortent *tmp, uint64_t n,
			 unsigned lo, uint64_t *count)
{
	uint64_t own[N_BUCKETS], start = 0;
	unsigned width = digit_width(n, lo), nb = 1u << width, shift;

	if (n <= SMALL || lo == 0)
		return;
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

/* sort_inplace of src[0..n), the result in dst; src is scratch. */
static void sort_into(struct sortent *src, struct sortent *dst, uint64_t n,
		      unsigned lo)
{
	uint64_t count[N_BUCKETS], start = 0;
	unsigned width = digit_width(n, lo), nb = 1u << width, shift;

	if (n <= SMALL || lo == 0) {
		memcpy(dst, src, n * sizeof(*src));
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

		if (end - start > SMALL)
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

	/* The common run: one key seen by two workers. */
	if (n == 2 && fc_ftkey_eq(&r[0].key, &r[1].key)) {
		r[0].packets += r[1].packets;
		return 1;
	}
	sort_run(r, n);
	for (uint64_t i = 1; i < n; i++) {
		if (fc_ftkey_eq(&r[o - 1].key, &r[i].key))
			r[o - 1].packets += r[i].packets;
		else
			r[o++] = r[i];
	}
	return o;
}

/* A buffer of n elements of size bytes, in place of *p (whose contents
 * are not kept: buffers grow before an interval's merge, never during).
 * Aligned to 2 MB and offered to transparent huge pages: the first sort
 * pass writes 2048 places at once, and with 4 KB pages each is a TLB
 * miss. */
#define HUGE_ALIGN (2u << 20)

static int grow(void **p, uint64_t n, size_t size)
{
	size_t len = (n * size + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN;
	void *q = NULL;

	if (posix_memalign(&q, HUGE_ALIGN, len) != 0)
		return -1;
	(void)madvise(q, len, MADV_HUGEPAGE);
	free(*p);
	*p = q;
	return 0;
}

/* The record of entry e. */
static inline void record_of(const struct fc_merge *m, const struct sortent *e,
			     struct fc_ft_record *r)
{
	if (e->a & FULL) {
		*r = m->tmp6[e->a & (FULL - 1)];
	} else {
		uint64_t v = e->pref << 3 | e->a >> 61, w[3];

		w[0] = __builtin_bswap32((uint32_t)(v >> 32)) |
		       (uint64_t)__builtin_bswap32((uint32_t)v) << 32;
		w[1] = e->a & ((1ULL << 48) - 1);
		w[2] = e->b;
		fc_ftkey4_expand(&r->key, w);
		r->packets = e->packets;
	}
}

/* Records of the sorted entries e[0..n) at m->recs[w..]; returns the new
 * w, adds their counts to *sum. Equal keys have equal prefixes: a run of
 * one prefix is put in full order and its equal keys added up as it
 * ends (runs never cross the end of e: the caller cuts between
 * prefixes). */
static uint64_t emit(struct fc_merge *m, const struct sortent *e, uint64_t n,
		     uint64_t w, uint64_t *sum)
{
	uint64_t rs = w, s = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (i > 0 && e[i].pref != e[i - 1].pref) {
			if (w - rs > 1)
				w = rs + combine_run(m->recs + rs, w - rs);
			rs = w;
		}
		s += e[i].packets;
		record_of(m, &e[i], &m->recs[w++]);
	}
	if (w - rs > 1)
		w = rs + combine_run(m->recs + rs, w - rs);
	*sum += s;
	return w;
}

/* Every key of t into entries m->ents[k..] (IPv6 keys' records into
 * m->tmp6[*k6..]), the slot of each asked for AHEAD keys before it is
 * read; the top digit of each prefix is counted. Returns the new k. */
static inline void ent4(struct fc_merge *m, struct sortent *e,
			const struct fc_flowtable_slot4 *s)
{
	/* Source then destination, most significant byte first. */
	uint64_t v = (uint64_t)__builtin_bswap32((uint32_t)s->w[0]) << 32 |
		     __builtin_bswap32((uint32_t)(s->w[0] >> 32));

	/* Class (w[2] bits 32..39), IPv4: group cls * 2. */
	e->pref = (s->w[2] >> 32) * 2 << 61 | v >> 3;
	e->a = s->w[1] | v << 61;
	e->b = s->w[2];
	e->packets = s->packets;
	m->count[e->pref >> TOP_SHIFT]++;
}

static uint64_t gather(struct fc_merge *m, const struct fc_flowtable *t,
		       uint64_t k, uint64_t *k6)
{
	const uint64_t n4 = t->n_keys4, n6 = t->n_keys - t->n_keys4;

	for (uint64_t j = 0; j < n4; j++) {
		if (j + AHEAD < n4)
			__builtin_prefetch(&t->slots4[t->used4[j + AHEAD]], 0,
					   0);
		ent4(m, &m->ents[k++], &t->slots4[t->used4[j]]);
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
		e->a = (*k6)++ | FULL;
		e->b = 0;
		e->packets = s->packets;
		m->count[e->pref >> TOP_SHIFT]++;
	}
	return k;
}

/* Records of each first-level bucket are handed to fn once at least
 * this many are made (and at the end): fewer calls than buckets for
 * small intervals, and the records handed over still in L1/L2. */
#define BURST_MIN 256

/* fc_merge_tables, and with fn the records in bursts: each written from
 * the start of m->recs, so that they are still in the caches when fn
 * takes them. */
static int merge(struct fc_merge *m, struct fc_flowtable *const *tabs,
		 unsigned n, fc_merge_fn fn, void *ctx, uint64_t *n_out,
		 uint64_t *pkts)
{
	uint64_t total = 0, total6 = 0, k = 0, k6 = 0, w = 0, sum = 0, done = 0;
	struct sortent *e;
	int rc = 0;

	for (unsigned i = 0; i < n; i++) {
		total += tabs[i]->n_keys;
		total6 += tabs[i]->n_keys - tabs[i]->n_keys4;
	}
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
	 * the one sort_inplace takes for more than 4096 entries). Each of
	 * its buckets is then sorted and turned into records while it is
	 * in the caches (no pass over all entries in memory after the
	 * first); keys of one prefix share a bucket. */
	e = m->ents;
	if (k <= 4096) {
		sort_inplace(e, m->ents2, k, 64, NULL);
		insertion_sort(e, k);
		w = emit(m, e, k, 0, &sum);
	} else {
		uint64_t start = 0;

		scatter(e, m->ents2, k, m->count, N_TOP, TOP_SHIFT);
		for (unsigned v = 0; v < N_TOP && rc == 0; v++) {
			uint64_t end = m->count[v];

			if (end > start) {
				/* Every bucket into the start of ents, which
				 * therefore stays in the caches. */
				sort_into(m->ents2 + start, e, end - start,
					  TOP_SHIFT);
				insertion_sort(e, end - start);
				w = emit(m, e, end - start, w, &sum);
				if (fn != NULL && w >= BURST_MIN) {
					rc = fn(ctx, m->recs, w);
					done += w;
					w = 0;
				}
			}
			start = end;
		}
	}
	if (fn != NULL && w > 0 && rc == 0)
		rc = fn(ctx, m->recs, w);
	*n_out = done + w;
	*pkts = sum;
	return rc;
}

int fc_merge_tables(struct fc_merge *m, struct fc_flowtable *const *tabs,
		    unsigned n, const struct fc_ft_record **out,
		    uint64_t *n_out, uint64_t *pkts)
{
	int rc = merge(m, tabs, n, NULL, NULL, n_out, pkts);

	*out = m->recs;
	if (rc != 0)
		*n_out = 0;
	return rc;
}

int fc_merge_tables_each(struct fc_merge *m, struct fc_flowtable *const *tabs,
			 unsigned n, fc_merge_fn fn, void *ctx,
			 uint64_t *n_out, uint64_t *pkts)
{
	if (fn == NULL)
		return -EINVAL;
	return merge(m, tabs, n, fn, ctx, n_out, pkts);
}
