/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gather, sort, combine. Sorting is on the full key in canonical order so
 * files are deterministic whatever the number of workers.
 */
#include "fc_merge.h"

#include <errno.h>
#include <stdlib.h>

struct fc_merge {
	struct fc_ft_record *recs;
	uint64_t cap;
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
	free(m);
}

static int rec_cmp(const void *a, const void *b)
{
	return fc_ftkey_cmp(&((const struct fc_ft_record *)a)->key,
			    &((const struct fc_ft_record *)b)->key);
}

int fc_merge_tables(struct fc_merge *m, struct fc_flowtable *const *tabs,
		    unsigned n, const struct fc_ft_record **out,
		    uint64_t *n_out, uint64_t *pkts)
{
	uint64_t total = 0, k = 0, w = 0, sum = 0;

	for (unsigned i = 0; i < n; i++)
		total += tabs[i]->n_keys;
	if (total > m->cap) {
		struct fc_ft_record *r = realloc(m->recs, total * sizeof(*r));

		if (r == NULL)
			return -ENOMEM;
		m->recs = r;
		m->cap = total;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct fc_flowtable *t = tabs[i];

		for (uint64_t j = 0; j < t->n_keys; j++) {
			const struct fc_flowtable_slot *s =
				fc_flowtable_key_at(t, j);

			m->recs[k].key = s->key;
			m->recs[k].packets = s->packets;
			k++;
		}
	}
	if (k > 1)
		qsort(m->recs, k, sizeof(m->recs[0]), rec_cmp);
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
