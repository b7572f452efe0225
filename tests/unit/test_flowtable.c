/* SPDX-License-Identifier: BSD-3-Clause */
#include <criterion/criterion.h>

#include "fc_flowtable.h"

static struct fc_ftkey key_n(uint32_t n)
{
	struct fc_ftkey k;

	memset(&k, 0, sizeof(k));
	k.family = 4;
	memcpy(k.src_ip, &n, 4);
	k.dst_ip[0] = 10;
	k.proto = 6;
	k.src_port = (uint16_t)n;
	k.dst_port = 80;
	k.ttl = 64;
	k.ip_len = 40;
	k.cls = FC_FT_CLASS_OTHER;
	return k;
}

static uint64_t lookup(const struct fc_flowtable *t, const struct fc_ftkey *k)
{
	for (uint64_t s = 0; s < t->n_slots; s++)
		if (t->slots[s].packets && fc_ftkey_eq(&t->slots[s].key, k))
			return t->slots[s].packets;
	return 0;
}

Test(flowtable, lookup_after_insert_hits)
{
	struct fc_flowtable *t = fc_flowtable_create(1000);
	struct fc_ftkey a = key_n(1), b = key_n(2);

	cr_assert_not_null(t);
	fc_flowtable_add(t, &a, fc_ftkey_hash(&a));
	fc_flowtable_add(t, &a, fc_ftkey_hash(&a));
	fc_flowtable_add(t, &b, fc_ftkey_hash(&b));
	cr_assert_eq(t->n_keys, 2);
	cr_assert_eq(t->pkts, 3);
	cr_assert_eq(lookup(t, &a), 2);
	cr_assert_eq(lookup(t, &b), 1);
	fc_flowtable_free(t);
}

Test(flowtable, burst_counts_every_packet)
{
	struct fc_flowtable *t = fc_flowtable_create(100000);
	static struct fc_ftkey keys[10000];
	uint64_t total = 0;

	for (uint32_t i = 0; i < 10000; i++)
		keys[i] = key_n(i % 777);
	fc_flowtable_add_burst(t, keys, 10000);
	cr_assert_eq(t->n_keys, 777);
	cr_assert_eq(t->pkts, 10000);
	for (uint32_t i = 0; i < 777; i++)
		total += lookup(t, &keys[i]);
	cr_assert_eq(total, 10000);
	cr_assert_eq(lookup(t, &keys[0]), 10000 / 777 + 1);
	fc_flowtable_free(t);
}

Test(flowtable, full_table_counts_overflow_and_keeps_counting)
{
	struct fc_flowtable *t = fc_flowtable_create(100);
	struct fc_ftkey k;

	for (uint32_t i = 0; i < 150; i++) {
		k = key_n(i);
		fc_flowtable_add(t, &k, fc_ftkey_hash(&k));
	}
	cr_assert_eq(t->n_keys, 100);
	cr_assert_eq(t->tbl_full, 50);
	k = key_n(0);
	fc_flowtable_add(t, &k, fc_ftkey_hash(&k));
	cr_assert_eq(lookup(t, &k), 2, "existing keys still count when full");
	cr_assert_eq(t->pkts + t->tbl_full, 151);
	fc_flowtable_free(t);
}

Test(flowtable, reset_empties_large_and_small_tables)
{
	uint64_t sizes[] = {100, 200000};

	for (unsigned j = 0; j < 2; j++) {
		struct fc_flowtable *t = fc_flowtable_create(sizes[j]);
		struct fc_ftkey k = key_n(5);

		fc_flowtable_add(t, &k, fc_ftkey_hash(&k));
		fc_flowtable_reset(t);
		cr_assert_eq(t->n_keys, 0);
		cr_assert_eq(lookup(t, &k), 0);
		fc_flowtable_add(t, &k, fc_ftkey_hash(&k));
		cr_assert_eq(lookup(t, &k), 1);
		fc_flowtable_free(t);
	}
}

Test(flowtable, colliding_hashes_stay_distinct)
{
	struct fc_flowtable *t = fc_flowtable_create(64);
	struct fc_ftkey a = key_n(1), b = key_n(2);

	/* Same hash forced: the key compare must separate them. */
	fc_flowtable_add(t, &a, 42);
	fc_flowtable_add(t, &b, 42);
	fc_flowtable_add(t, &b, 42);
	cr_assert_eq(t->n_keys, 2);
	cr_assert_eq(lookup(t, &a), 1);
	cr_assert_eq(lookup(t, &b), 2);
	fc_flowtable_free(t);
}

Test(flowtable, free_null_is_noop)
{
	fc_flowtable_free(NULL);
	cr_assert_null(fc_flowtable_create(0));
}

Test(flowtable, memory_per_key_has_no_power_of_two_waste)
{
	/* 64-byte slots at most 7/8 full plus a 4-byte index per key: about
	 * 77 bytes per key at full load, never the up-to-2x of power-of-two
	 * sizing. */
	uint64_t keys = 1000000;
	double per_key = (double)fc_flowtable_mem_size(keys) / (double)keys;

	cr_assert_lt(per_key, 80.0, "%.1f bytes per key", per_key);
	cr_assert_gt(per_key, 64.0 * 8 / 7);
}

Test(flowtable, full_at_max_keys_with_odd_sizes)
{
	uint64_t sizes[] = {64, 1000, 77777};

	for (unsigned j = 0; j < 3; j++) {
		struct fc_flowtable *t = fc_flowtable_create(sizes[j]);

		for (uint32_t i = 0; i < sizes[j] + 10; i++) {
			struct fc_ftkey k = key_n(i);

			fc_flowtable_add(t, &k, fc_ftkey_hash(&k));
		}
		cr_assert_eq(t->n_keys, sizes[j]);
		cr_assert_eq(t->tbl_full, 10);
		fc_flowtable_free(t);
	}
}
