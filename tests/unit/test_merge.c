/* SPDX-License-Identifier: BSD-3-Clause */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fc_merge.h"

static struct fc_ftkey key(unsigned cls, uint8_t a, uint16_t port)
{
	struct fc_ftkey k;

	memset(&k, 0, sizeof(k));
	k.family = 4;
	k.src_ip[0] = a;
	k.dst_port = port;
	k.proto = 17;
	k.cls = (uint8_t)cls;
	return k;
}

static void add(struct fc_flowtable *t, struct fc_ftkey k, unsigned times)
{
	while (times--)
		fc_flowtable_add(t, &k);
}

Test(merge, same_key_from_two_workers_is_summed_and_sorted)
{
	struct fc_flowtable *t[2] = {fc_flowtable_create(100),
				     fc_flowtable_create(100)};
	struct fc_merge *m = fc_merge_create();
	const struct fc_ft_record *r;
	uint64_t n, pkts;

	add(t[0], key(FC_FT_CLASS_OTHER, 9, 53), 3);
	add(t[1], key(FC_FT_CLASS_OTHER, 9, 53), 4);
	add(t[1], key(FC_FT_CLASS_BACKSCATTER, 200, 1), 1);
	add(t[0], key(FC_FT_CLASS_OTHER, 1, 53), 2);
	cr_assert_eq(fc_merge_tables(m, t, 2, &r, &n, &pkts), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(pkts, 10);
	cr_assert_eq(r[0].key.cls, FC_FT_CLASS_BACKSCATTER, "class first");
	cr_assert_eq(r[1].key.src_ip[0], 1);
	cr_assert_eq(r[1].packets, 2);
	cr_assert_eq(r[2].key.src_ip[0], 9);
	cr_assert_eq(r[2].packets, 7);
	for (uint64_t i = 1; i < n; i++)
		cr_assert_lt(fc_ftkey_cmp(&r[i - 1].key, &r[i].key), 0);
	fc_merge_free(m);
	fc_flowtable_free(t[0]);
	fc_flowtable_free(t[1]);
}

Test(merge, empty_tables_give_no_records)
{
	struct fc_flowtable *t[1] = {fc_flowtable_create(100)};
	struct fc_merge *m = fc_merge_create();
	const struct fc_ft_record *r;
	uint64_t n = 99, pkts = 99;

	cr_assert_eq(fc_merge_tables(m, t, 1, &r, &n, &pkts), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(pkts, 0);
	cr_assert_eq(fc_merge_tables(m, t, 0, &r, &n, &pkts), 0);
	fc_merge_free(m);
	fc_flowtable_free(t[0]);
}

Test(merge, result_independent_of_worker_split)
{
	struct fc_flowtable *one[1] = {fc_flowtable_create(5000)};
	struct fc_flowtable *three[3] = {fc_flowtable_create(5000),
					 fc_flowtable_create(5000),
					 fc_flowtable_create(5000)};
	struct fc_merge *m1 = fc_merge_create(), *m3 = fc_merge_create();
	const struct fc_ft_record *r1, *r3;
	uint64_t n1, n3, p1, p3;

	for (unsigned i = 0; i < 3000; i++) {
		struct fc_ftkey k = key(i % 3, (uint8_t)(i % 97), (uint16_t)(i % 13));

		add(one[0], k, 1);
		add(three[(i * 7) % 3], k, 1);
	}
	fc_merge_tables(m1, one, 1, &r1, &n1, &p1);
	fc_merge_tables(m3, three, 3, &r3, &n3, &p3);
	cr_assert_eq(n1, n3);
	cr_assert_eq(p1, 3000);
	cr_assert_eq(p3, 3000);
	cr_assert_eq(memcmp(r1, r3, n1 * sizeof(*r1)), 0);
	fc_merge_free(m1);
	fc_merge_free(m3);
	fc_flowtable_free(one[0]);
	for (unsigned i = 0; i < 3; i++)
		fc_flowtable_free(three[i]);
}

Test(merge, large_mixed_input_comes_out_in_canonical_order)
{
	struct fc_flowtable *t[2] = {fc_flowtable_create(150000),
				     fc_flowtable_create(150000)};
	struct fc_merge *m = fc_merge_create();
	const struct fc_ft_record *r;
	uint64_t n, pkts, x = 88172645463325252ULL, added = 0;

	for (unsigned i = 0; i < 200000; i++) {
		struct fc_ftkey k;

		memset(&k, 0, sizeof(k));
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		k.family = (x & 7) == 0 ? 6 : 4;
		k.cls = (uint8_t)((x >> 3) % 3);
		/* few sources, so many keys share a sort prefix */
		k.src_ip[3] = (uint8_t)(x >> 8) & 7;
		if (k.family == 6)
			k.src_ip[12] = (uint8_t)(x >> 11);
		k.dst_ip[0] = (uint8_t)(x >> 16);
		k.dst_ip[1] = (uint8_t)(x >> 24);
		k.src_port = (uint16_t)(x >> 32);
		k.proto = 17;
		add(t[i & 1], k, 1);
		added++;
	}
	cr_assert_eq(fc_merge_tables(m, t, 2, &r, &n, &pkts), 0);
	cr_assert_eq(pkts, added);
	for (uint64_t i = 1; i < n; i++)
		cr_assert_lt(fc_ftkey_cmp(&r[i - 1].key, &r[i].key), 0,
			     "records %llu and %llu out of order",
			     (unsigned long long)i - 1, (unsigned long long)i);
	fc_merge_free(m);
	fc_flowtable_free(t[0]);
	fc_flowtable_free(t[1]);
}

static int oracle_cmp(const void *a, const void *b)
{
	return fc_ftkey_cmp(&((const struct fc_ft_record *)a)->key,
			    &((const struct fc_ft_record *)b)->key);
}

/* fc_merge_fn that appends each burst to an array (and fails with
 * stop_after bursts taken, when it is not 0). */
struct bursts {
	struct fc_ft_record *r;
	uint64_t n, cap;
	unsigned calls, stop_after;
};

static int take_burst(void *ctx, const struct fc_ft_record *recs, uint64_t n)
{
	struct bursts *b = ctx;

	cr_assert_gt(n, 0);
	cr_assert_leq(b->n + n, b->cap);
	memcpy(b->r + b->n, recs, n * sizeof(*recs));
	b->n += n;
	if (++b->calls == b->stop_after)
		return -EIO;
	return 0;
}

/* n packets of random keys over w tables (keys drawn from a pool of
 * about n / 2, so many repeat, also across tables); shape 0: every field
 * random; 1: a few sources and destinations (long runs of one sort
 * prefix); 2: one class, family and top address byte (the first radix
 * digits decide nothing); 3: every field random and the optional label
 * and VLAN fields set (the top bits of a compact key's last word). The
 * merge must equal qsort plus summing. */
static void check_against_qsort(uint64_t n, unsigned w, int shape)
{
	struct fc_flowtable *t[4];
	struct fc_ft_record *ref = calloc(n + 1, sizeof(*ref));
	struct fc_merge *m = fc_merge_create();
	const struct fc_ft_record *r;
	uint64_t x = 0x2545f4914f6cdd1dULL + n * 7 + (uint64_t)shape, nr = 0;
	uint64_t got, pkts;

	cr_assert_not_null(ref);
	for (unsigned i = 0; i < w; i++)
		t[i] = fc_flowtable_create(n + 16);
	for (uint64_t i = 0; i < n; i++) {
		struct fc_ftkey k;
		uint64_t y;

		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		/* a pool of n / 2 + 1 keys */
		y = (x % (n / 2 + 1)) * 0x9e3779b97f4a7c15ULL + 1;
		y ^= y >> 29; y *= 0xbf58476d1ce4e5b9ULL; y ^= y >> 32;
		memset(&k, 0, sizeof(k));
		k.family = (y & 7) == 0 ? 6 : 4;
		k.cls = shape == 2 ? 2 : (uint8_t)((y >> 3) % 3);
		memcpy(k.src_ip, &y, 4);
		memcpy(k.dst_ip, (const uint8_t *)&y + 3, 4);
		if (shape == 1) {
			k.src_ip[0] = k.src_ip[1] = k.src_ip[2] = 10;
			k.src_ip[3] &= 3;
			k.dst_ip[0] = k.dst_ip[1] = 192;
			k.dst_ip[2] &= 1;
		}
		if (shape == 2) {
			k.family = 4;
			k.src_ip[0] = 10;
		}
		if (k.family == 6) {
			memcpy(k.src_ip + 8, &y, 8);
			memcpy(k.dst_ip + 5, &y, 8);
		}
		k.src_port = (uint16_t)(y >> 20);
		k.dst_port = (uint16_t)(y >> 36);
		k.proto = (uint8_t)(y >> 52);
		k.ttl = (uint8_t)(y >> 44);
		k.tcp_flags = (uint8_t)(y >> 60);
		k.ip_len = (uint32_t)(y >> 48) & 0x3ff;
		if (shape == 3)
			fc_ftkey_set_ext(&k, (unsigned)(y >> 8) & 0xfff,
					 (unsigned)(y >> 40) & 0xfff);
		add(t[(y >> 17) % w], k, 1 + (i & 1));
		ref[nr].key = k;
		ref[nr++].packets = 1 + (i & 1);
	}
	qsort(ref, nr, sizeof(*ref), oracle_cmp);
	uint64_t o = 0;

	for (uint64_t i = 0; i < nr; i++) {
		if (o > 0 && fc_ftkey_eq(&ref[o - 1].key, &ref[i].key))
			ref[o - 1].packets += ref[i].packets;
		else
			ref[o++] = ref[i];
	}
	cr_assert_eq(fc_merge_tables(m, t, w, &r, &got, &pkts), 0);
	cr_assert_eq(got, o, "n %llu shape %d: %llu records, expected %llu",
		     (unsigned long long)n, shape, (unsigned long long)got,
		     (unsigned long long)o);
	for (uint64_t i = 0; i < o; i++) {
		cr_assert(fc_ftkey_eq(&r[i].key, &ref[i].key),
			  "n %llu shape %d: record %llu differs",
			  (unsigned long long)n, shape, (unsigned long long)i);
		cr_assert_eq(r[i].packets, ref[i].packets);
	}
	/* In bursts: the same records, every burst one after the other. */
	struct bursts b = {.r = calloc(o + 1, sizeof(*b.r)), .cap = o};
	uint64_t got2, pkts2;

	cr_assert_not_null(b.r);
	cr_assert_eq(fc_merge_tables_each(m, t, w, take_burst, &b, &got2,
					  &pkts2), 0);
	cr_assert_eq(got2, o);
	cr_assert_eq(b.n, o);
	cr_assert_eq(pkts2, pkts);
	cr_assert_eq(memcmp(b.r, ref, o * sizeof(*ref)), 0,
		     "n %llu shape %d: the bursts differ",
		     (unsigned long long)n, shape);
	free(b.r);
	fc_merge_free(m);
	for (unsigned i = 0; i < w; i++)
		fc_flowtable_free(t[i]);
	free(ref);
}

Test(merge, equals_qsort_at_every_size_and_shape)
{
	static const uint64_t sizes[] = {1, 2, 20, 30, 300, 5000, 70000,
					 400000};

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (int shape = 0; shape < 4; shape++)
			check_against_qsort(sizes[i], 1 + i % 4, shape);
}

Test(merge, a_burst_refused_stops_the_merge)
{
	struct fc_flowtable *t = fc_flowtable_create(100000);
	struct fc_merge *m = fc_merge_create();
	struct bursts b = {.cap = 100000, .stop_after = 2};
	uint64_t got, pkts;

	b.r = calloc(b.cap, sizeof(*b.r));
	cr_assert_not_null(b.r);
	for (unsigned i = 0; i < 50000; i++) {
		struct fc_ftkey k = key(0, (uint8_t)i, (uint16_t)(i >> 8));

		k.src_ip[0] = (uint8_t)(i * 131);
		k.dst_ip[3] = (uint8_t)(i >> 7);
		add(t, k, 1);
	}
	cr_assert_eq(fc_merge_tables_each(m, &t, 1, take_burst, &b, &got,
					  &pkts), -EIO);
	cr_assert_eq(b.calls, 2);
	cr_assert_eq(got, b.n);
	cr_assert_lt(b.n, t->n_keys);
	cr_assert_eq(fc_merge_tables_each(m, &t, 1, NULL, NULL, &got, &pkts),
		     -EINVAL);
	free(b.r);
	fc_merge_free(m);
	fc_flowtable_free(t);
}
