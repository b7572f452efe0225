/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gather, sort, combine. Sorting is on the full key in canonical order so
 * files are deterministic whatever the number of workers.
 */
#include "fc_merge.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct fc_merge {
	struct fc_ft_record *recs, *tmp;
	struct sortent *ents, *ents2;
	uint64_t cap;
	uint64_t count[65536]; /* radix histogram */
};

/* A record's sort prefix (class, family, first six address bytes, which
 * is the whole IPv4 source) and its position: sorting these 16-byte
 * entries by radix is far cheaper than comparing 56-byte records. Ties on
 * the prefix are then ordered by the full key. */
struct sortent {
	uint64_t pref;
	uint64_t idx;
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
	free(m->tmp);
	free(m->ents);
	free(m->ents2);
	free(m);
}

static int rec_cmp(const void *a, const void *b)
{
	return fc_ftkey_cmp(&((const struct fc_ft_record *)a)->key,
			    &((const struct fc_ft_record *)b)->key);
}

static uint64_t prefix_of(const struct fc_ftkey *k)
{
	uint64_t p = (uint64_t)k->cls << 56 | (uint64_t)k->family << 48;

	for (int i = 0; i < 6; i++)
		p |= (uint64_t)k->src_ip[i] << (40 - 8 * i);
	return p;
}

/* LSD radix sort on the 64-bit prefix, 16 bits a pass; passes whose digit
 * is the same for every entry are skipped (class and family often are). */
static void radix_sort(uint64_t *count, struct sortent *a, struct sortent *b,
		       uint64_t n)
{
	for (int shift = 0; shift < 64; shift += 16) {
		uint64_t first = (a[0].pref >> shift) & 0xffff, sum = 0;
		bool same = true;

		memset(count, 0, 65536 * sizeof(*count));
		for (uint64_t i = 0; i < n; i++) {
			uint64_t d = (a[i].pref >> shift) & 0xffff;

			count[d]++;
			same &= d == first;
		}
		if (same)
			continue;
		for (uint64_t d = 0; d < 65536; d++) {
			uint64_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (uint64_t i = 0; i < n; i++)
			b[count[(a[i].pref >> shift) & 0xffff]++] = a[i];
		memcpy(a, b, n * sizeof(*a));
	}
}

static int grow(void **p, uint64_t n, size_t size)
{
	void *q = realloc(*p, n * size);

	if (q == NULL)
		return -1;
	*p = q;
	return 0;
}

int fc_merge_tables(struct fc_merge *m, struct fc_flowtable *const *tabs,
		    unsigned n, const struct fc_ft_record **out,
		    uint64_t *n_out, uint64_t *pkts)
{
	uint64_t total = 0, k = 0, w = 0, sum = 0;

	for (unsigned i = 0; i < n; i++)
		total += tabs[i]->n_keys;
	if (total > m->cap) {
		if (grow((void **)&m->recs, total, sizeof(*m->recs)) ||
		    grow((void **)&m->tmp, total, sizeof(*m->tmp)) ||
		    grow((void **)&m->ents, total, sizeof(*m->ents)) ||
		    grow((void **)&m->ents2, total, sizeof(*m->ents2)))
			return -ENOMEM;
		m->cap = total;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct fc_flowtable *t = tabs[i];

		for (uint64_t j = 0; j < t->n_keys; j++) {
			fc_flowtable_key_at(t, j, &m->tmp[k]);
			m->ents[k].pref = prefix_of(&m->tmp[k].key);
			m->ents[k].idx = k;
			k++;
		}
	}
	if (k > 1)
		radix_sort(m->count, m->ents, m->ents2, k);
	for (uint64_t i = 0; i < k; i++)
		m->recs[i] = m->tmp[m->ents[i].idx];
	/* Runs with one prefix: order them by the whole key. */
	for (uint64_t i = 0; i < k;) {
		uint64_t j = i + 1;

		while (j < k && m->ents[j].pref == m->ents[i].pref)
			j++;
		if (j - i > 1)
			qsort(m->recs + i, j - i, sizeof(m->recs[0]), rec_cmp);
		i = j;
	}
	for (uint64_t i = 0; i < k; i++) {
		sum += m->recs[i].packets;
		if (w > 0 && fc_ftkey_eq(&m->recs[w - 1].key, &m->recs[i].key))
			m->recs[w - 1].packets += m->recs[i].packets;
		else
			m->recs[w++] = m->recs[i];
	}
	*out = m->recs;
	*n_out = w;
	*pkts = sum;
	return 0;
}
