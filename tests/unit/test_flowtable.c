/* SPDX-License-Identifier: BSD-3-Clause */
#include <criterion/criterion.h>
#include <sys/mman.h>
#include <unistd.h>

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

static struct fc_ftkey key6_n(uint32_t n)
{
	struct fc_ftkey k;

	memset(&k, 0, sizeof(k));
	k.family = 6;
	k.src_ip[0] = 0x20;
	k.src_ip[1] = 0x01;
	memcpy(k.src_ip + 12, &n, 4);
	k.dst_ip[15] = 1;
	k.proto = 17;
	k.src_port = (uint16_t)n;
	k.dst_port = 53;
	k.ttl = 60;
	k.ip_len = 80;
	k.cls = FC_FT_CLASS_OTHER;
	return k;
}

static uint64_t xs(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Any key the parser can produce: every field random, 1 in 4 IPv6. */
static struct fc_ftkey key_rand(uint64_t *x)
{
	struct fc_ftkey k;
	uint64_t r = xs(x), s = xs(x);

	memset(&k, 0, sizeof(k));
	k.family = (r & 3) == 0 ? 6 : 4;
	if (k.family == 6) {
		memcpy(k.src_ip, &r, 8);
		memcpy(k.src_ip + 8, &s, 8);
		memcpy(k.dst_ip + 4, &s, 8);
		k.ip_len = 40 + (uint32_t)(s >> 40);
	} else {
		memcpy(k.src_ip, &r, 4);
		memcpy(k.dst_ip, (uint8_t *)&s + 4, 4);
		k.ip_len = (uint16_t)(s >> 11);
	}
	k.src_port = (uint16_t)(s >> 3);
	k.dst_port = (uint16_t)(r >> 40);
	k.proto = (uint8_t)(r >> 8);
	k.ttl = (uint8_t)(r >> 16);
	k.tcp_flags = (uint8_t)(r >> 24);
	k.cls = (uint8_t)((r >> 56) % FC_FT_CLASS_COUNT);
	return k;
}

/* Count of k, found through the public iteration. */
static uint64_t lookup(const struct fc_flowtable *t, const struct fc_ftkey *k)
{
	struct fc_ft_record r;
	uint64_t found = 0;

	for (uint64_t i = 0; i < t->n_keys; i++) {
		fc_flowtable_key_at(t, i, &r);
		if (fc_ftkey_eq(&r.key, k)) {
			cr_assert_eq(found, 0, "key stored twice");
			found = r.packets;
		}
	}
	return found;
}

Test(flowtable, lookup_after_insert_hits)
{
	struct fc_flowtable *t = fc_flowtable_create(1000);
	struct fc_ftkey a = key_n(1), b = key_n(2), c = key6_n(1);

	cr_assert_not_null(t);
	fc_flowtable_add(t, &a);
	fc_flowtable_add(t, &a);
	fc_flowtable_add(t, &b);
	fc_flowtable_add(t, &c);
	cr_assert_eq(t->n_keys, 3);
	cr_assert_eq(t->n_keys4, 2);
	cr_assert_eq(t->pkts, 4);
	cr_assert_eq(lookup(t, &a), 2);
	cr_assert_eq(lookup(t, &b), 1);
	cr_assert_eq(lookup(t, &c), 1);
	fc_flowtable_free(t);
}

Test(flowtable, compact_form_is_exact)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (unsigned i = 0; i < 100000; i++) {
		struct fc_ftkey k = key_rand(&x), back;
		struct fc_ftkey4 c;

		if (!fc_ftkey_is_compact(&k))
			continue;
		fc_ftkey4_make(&c, &k);
		fc_ftkey4_expand(&back, c.w);
		cr_assert(fc_ftkey_eq(&k, &back), "key %u changed", i);
		cr_assert_eq(c.w[1] >> 48, 0);
		cr_assert_eq(c.w[2] >> 40, 0);
		cr_assert_eq(c.hash >> 32, 0);
	}
}

Test(flowtable, burst_counts_every_packet)
{
	struct fc_flowtable *t = fc_flowtable_create(100000);
	static struct fc_ftkey keys[10000];
	uint64_t total = 0;

	for (uint32_t i = 0; i < 10000; i++)
		keys[i] = i % 3 ? key_n(i % 777) : key6_n(i % 777);
	fc_flowtable_add_burst(t, keys, 10000);
	cr_assert_eq(t->pkts, 10000);
	for (uint32_t i = 0; i < 777; i++) {
		struct fc_ftkey a = key_n(i), b = key6_n(i);

		total += lookup(t, &a) + lookup(t, &b);
	}
	cr_assert_eq(total, 10000);
	/* 777 = 3 x 259: a residue is always of the same family. */
	cr_assert_eq(t->n_keys, 777);
	cr_assert_eq(lookup(t, &keys[1]), 10000 / 777 + 1);
	cr_assert_eq(lookup(t, &keys[0]), 10000 / 777 + 1);
	fc_flowtable_free(t);
}

/*
 * A v4/v6 mix through add_burst (bursts of every size) against a plain
 * reference: every key, its count, and the iteration order (IPv4 keys in
 * first-seen order, then IPv6 keys in first-seen order). The pool's keys
 * are random, so distinct; the reference follows pool indexes.
 */
static void check_mixed(unsigned distinct, unsigned n_pkts, uint64_t keys4,
			uint64_t keys6, bool small)
{
	struct fc_ftkey *pool = calloc(distinct, sizeof(*pool));
	uint32_t *pkts = calloc(n_pkts, sizeof(*pkts));
	uint32_t *ref4 = calloc(distinct, sizeof(*ref4));
	uint32_t *ref6 = calloc(distinct, sizeof(*ref6));
	uint64_t *count = calloc(distinct, sizeof(*count));
	struct fc_ftkey burst[70];
	uint64_t n4 = 0, n6 = 0, x = 88172645463325252ULL;
	struct fc_flowtable *t = fc_flowtable_create_parts(keys4, keys6);
	struct fc_flowtable *u = fc_flowtable_create_parts(keys4, keys6);
	struct fc_ft_record r;

	cr_assert(pool && pkts && ref4 && ref6 && count && t && u);
	for (unsigned i = 0; i < distinct; i++)
		pool[i] = key_rand(&x);
	/* A wide IPv4 key (no parser makes one) takes the 64-byte part. */
	pool[7].family = 4;
	memset(pool[7].src_ip + 4, 0, 12);
	memset(pool[7].dst_ip + 4, 0, 12);
	pool[7].ip_len = 70000;
	for (unsigned i = 0; i < n_pkts; i++) {
		/* Skewed: low indexes often, so counts differ. */
		uint64_t a = xs(&x) % distinct, b = xs(&x) % distinct;

		pkts[i] = (uint32_t)(a < b ? a : b);
	}
	for (unsigned i = 0, b = 1; i < n_pkts; i += b, b = b % 70 + 1) {
		unsigned m = n_pkts - i < b ? n_pkts - i : b;

		for (unsigned j = 0; j < m; j++)
			burst[j] = pool[pkts[i + j]];
		fc_flowtable_add_burst(t, burst, m);
	}
	for (unsigned i = 0; i < n_pkts; i++) {
		uint32_t k = pkts[i];

		fc_flowtable_add(u, &pool[k]);
		if (count[k]++ == 0) {
			if (fc_ftkey_is_compact(&pool[k]))
				ref4[n4++] = k;
			else
				ref6[n6++] = k;
		}
	}
	cr_assert_eq(t->n_keys, n4 + n6);
	cr_assert_eq(t->n_keys4, n4);
	cr_assert_eq(t->pkts, n_pkts);
	cr_assert_eq(t->tbl_full, 0);
	for (uint64_t i = 0; i < n4 + n6; i++) {
		uint32_t k = i < n4 ? ref4[i] : ref6[i - n4];

		fc_flowtable_key_at(t, i, &r);
		cr_assert(fc_ftkey_eq(&r.key, &pool[k]), "key %llu",
			  (unsigned long long)i);
		cr_assert_eq(r.packets, count[k]);
		fc_flowtable_key_at(u, i, &r);
		cr_assert(fc_ftkey_eq(&r.key, &pool[k]));
		cr_assert_eq(r.packets, count[k]);
		cr_assert_eq(lookup(t, &pool[k]), count[k]);
	}
	cr_assert_gt(lookup(t, &pool[7]), 0);
	/* Still in the small parts, or at full size (from the start, or
	 * grown). */
	cr_assert_eq(t->full4 != NULL && t->full6 != NULL, small);
	cr_assert_eq(u->full4 != NULL && u->full6 != NULL, small);
	fc_flowtable_free(t);
	fc_flowtable_free(u);
	free(count);
	free(ref6);
	free(ref4);
	free(pkts);
	free(pool);
}

Test(flowtable, mixed_burst_matches_reference)
{
	/* Parts nearly full, then the same keys in small parts of a
	 * large table. */
	check_mixed(3000, 40000, 2500, 1000, false);
	check_mixed(3000, 40000, 100000, 20000, true);
}

/* Both parts pass FC_FLOWTABLE_SMALL_KEYS within a burst and grow: the
 * keys of the rest of the burst go to the full-size part, and counts and
 * order are those of the reference. */
Test(flowtable, growing_parts_match_reference)
{
	check_mixed(30000, 400000, 40000, 12000, false);
}

Test(flowtable, full_table_counts_overflow_and_keeps_counting)
{
	struct fc_flowtable *t = fc_flowtable_create(100);
	struct fc_ftkey k;

	cr_assert_eq(t->max_keys4, 100);
	cr_assert_eq(t->max_keys6, 13);
	for (uint32_t i = 0; i < 150; i++) {
		k = key_n(i);
		fc_flowtable_add(t, &k);
	}
	cr_assert_eq(t->n_keys, 100);
	cr_assert_eq(t->tbl_full, 50);
	k = key_n(0);
	fc_flowtable_add(t, &k);
	cr_assert_eq(lookup(t, &k), 2, "existing keys still count when full");
	/* The IPv6 part still takes keys. */
	k = key6_n(0);
	fc_flowtable_add(t, &k);
	cr_assert_eq(lookup(t, &k), 1);
	cr_assert_eq(t->pkts + t->tbl_full, 152);
	fc_flowtable_free(t);
}

Test(flowtable, full_ipv6_part_refuses_per_packet)
{
	struct fc_flowtable *t = fc_flowtable_create_parts(1000, 10);
	static struct fc_ftkey keys[40];

	for (uint32_t i = 0; i < 40; i++)
		keys[i] = i & 1 ? key6_n(i / 2) : key_n(i / 2);
	/* 20 IPv6 keys for 10 places, twice over: 10 refused each time. */
	fc_flowtable_add_burst(t, keys, 40);
	fc_flowtable_add_burst(t, keys, 40);
	cr_assert_eq(t->n_keys, 30);
	cr_assert_eq(t->n_keys4, 20);
	cr_assert_eq(t->tbl_full, 20);
	cr_assert_eq(t->pkts, 60);
	for (uint32_t i = 0; i < 20; i++) {
		struct fc_ftkey a = key_n(i), b = key6_n(i);

		cr_assert_eq(lookup(t, &a), 2);
		cr_assert_eq(lookup(t, &b), i < 10 ? 2 : 0);
	}
	fc_flowtable_free(t);
}

Test(flowtable, reset_empties_large_and_small_tables)
{
	uint64_t sizes[] = {100, 200000};

	for (unsigned j = 0; j < 2; j++) {
		struct fc_flowtable *t = fc_flowtable_create(sizes[j]);
		struct fc_ftkey k = key_n(5), k6 = key6_n(5);

		/* Large enough a fill that reset clears the whole map. */
		for (uint32_t i = 0; i < sizes[j] / 8; i++) {
			struct fc_ftkey a = key_n(i + 100), b = key6_n(i + 100);

			fc_flowtable_add(t, &a);
			fc_flowtable_add(t, &b);
		}
		fc_flowtable_add(t, &k);
		fc_flowtable_add(t, &k6);
		fc_flowtable_reset(t);
		cr_assert_eq(t->n_keys, 0);
		cr_assert_eq(t->n_keys4, 0);
		cr_assert_eq(t->n_keys6, 0);
		cr_assert_eq(t->pkts, 0);
		cr_assert_eq(lookup(t, &k), 0);
		fc_flowtable_add(t, &k6);
		fc_flowtable_add(t, &k);
		cr_assert_eq(t->n_keys, 2);
		cr_assert_eq(lookup(t, &k), 1);
		cr_assert_eq(lookup(t, &k6), 1);
		/* An empty IPv4 slot holds no stale key. */
		for (uint64_t s = 0; s < t->n_slots4; s++)
			if (t->slots4[s].packets == 0)
				cr_assert((t->slots4[s].w[0] |
					   t->slots4[s].w[1] |
					   t->slots4[s].w[2]) == 0,
					  "stale slot %llu",
					  (unsigned long long)s);
		fc_flowtable_free(t);
	}
}

/* 4 KB pages of [p, p + len) that are resident. */
static uint64_t resident_pages(const void *p, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (len + pg - 1) / pg;
	unsigned char *v = malloc(n);
	uint64_t r = 0;

	cr_assert_not_null(v);
	cr_assert_eq(mincore((void *)p, len, v), 0);
	for (size_t i = 0; i < n; i++)
		r += v[i] & 1;
	free(v);
	return r;
}

Test(flowtable, reset_writes_only_the_slots_it_used)
{
	/* 3M IPv4 slots (96 MB) on 4 KB pages, so residency is per page.
	 * Keys whose hashes put them in the first eighth of the part, a
	 * tenth of the slots (far over any "clear it all" threshold): the
	 * reset must leave the pages past them untouched. */
	struct fc_flowtable *t = fc_flowtable_create_parts(2000000, 64);
	uint64_t n = t->n_slots4 / 10, before, after;

	cr_assert_not_null(t);
	/* Grown to full size first (the forced hashes below are for it). */
	for (uint32_t i = 0; i <= FC_FLOWTABLE_SMALL_KEYS; i++) {
		struct fc_ftkey k = key_n(i);

		fc_flowtable_add(t, &k);
	}
	fc_flowtable_reset(t);
	cr_assert_null(t->full4);
	cr_assert_eq(madvise(t->slots4, t->map_len4, MADV_NOHUGEPAGE), 0);
	cr_assert_eq(madvise(t->slots4, t->map_len4, MADV_DONTNEED), 0);
	for (uint32_t i = 0; i < n; i++) {
		struct fc_ftkey k = key_n(i);
		struct fc_ftkey4 c;

		fc_ftkey4_make(&c, &k);
		c.hash = (uint32_t)(((uint64_t)i << 32) / n / 8);
		fc_flowtable_add4(t, &c);
	}
	cr_assert_eq(t->n_keys4, n);
	before = resident_pages(t->slots4, t->map_len4);
	cr_assert_lt(before, t->map_len4 / 4096 / 4,
		     "%llu pages resident before the reset",
		     (unsigned long long)before);
	fc_flowtable_reset(t);
	after = resident_pages(t->slots4, t->map_len4);
	cr_assert_eq(after, before, "reset touched %llu more pages",
		     (unsigned long long)(after - before));
	cr_assert_eq(t->n_keys, 0);
	for (uint64_t s = 0; s < t->n_slots4 / 8 + 64; s++)
		cr_assert((t->slots4[s].packets | t->slots4[s].w[0] |
			   t->slots4[s].w[1] | t->slots4[s].w[2]) == 0,
			  "slot %llu not cleared", (unsigned long long)s);
	fc_flowtable_free(t);
}

Test(flowtable, quiet_table_never_touches_its_full_size_part)
{
	/* flowcap's default table (1M IPv4 keys, 48 MB of slots; 125k IPv6
	 * keys, 9 MB): intervals of 1000 keys at random must not fault in
	 * a page of the full-size parts (with 2 MB pages, a key on each
	 * would have the kernel zero all of them). */
	struct fc_flowtable *t = fc_flowtable_create_parts(1000000, 125000);
	uint64_t x = 88172645463325252ull;

	cr_assert_not_null(t);
	for (unsigned round = 0; round < 3; round++) {
		for (uint32_t i = 0; i < 1000; i++) {
			struct fc_ftkey k = key_rand(&x);

			fc_flowtable_add(t, &k);
			fc_flowtable_add(t, &k);
		}
		cr_assert_eq(t->n_keys, 1000);
		cr_assert_eq(t->pkts, 2000);
		cr_assert_not_null(t->full4);
		cr_assert_not_null(t->full6);
		cr_assert_eq(resident_pages(t->full4, t->map_len4), 0);
		cr_assert_eq(resident_pages(t->full6, t->map_len6), 0);
		cr_assert_leq(t->n_slots4 * sizeof(*t->slots4), 256 << 10);
		fc_flowtable_reset(t);
	}
	fc_flowtable_free(t);
}

Test(flowtable, grown_part_stays_full_size)
{
	struct fc_flowtable *t = fc_flowtable_create_parts(100000, 20000);
	const uint64_t n4 = FC_FLOWTABLE_SMALL_KEYS + 1;
	uint64_t full;

	cr_assert_not_null(t);
	full = t->n_full4;
	for (uint32_t i = 0; i < n4; i++) {
		struct fc_ftkey k = key_n(i);

		fc_flowtable_add(t, &k);
		cr_assert_eq(t->n_slots4,
			     i < FC_FLOWTABLE_SMALL_KEYS ? t->n_slots4 : full);
	}
	cr_assert_eq(t->n_slots4, full);
	cr_assert_null(t->full4);
	cr_assert_not_null(t->full6, "the IPv6 part did not grow");
	/* The small slots wait for the reset (the collector's) to go. */
	cr_assert_not_null(t->old4);
	cr_assert_null(t->old6);
	for (uint32_t i = 0; i < n4; i++) {
		struct fc_ftkey k = key_n(i);

		cr_assert_eq(lookup(t, &k), 1);
	}
	fc_flowtable_reset(t);
	cr_assert_null(t->old4);
	cr_assert_eq(t->small_len4, 0);
	cr_assert_eq(t->n_slots4, full);
	for (uint64_t s = 0; s < t->n_slots4; s++)
		cr_assert((t->slots4[s].packets | t->slots4[s].w[0] |
			   t->slots4[s].w[1] | t->slots4[s].w[2]) == 0,
			  "slot %llu not empty", (unsigned long long)s);
	for (uint32_t i = 0; i < 10; i++) {
		struct fc_ftkey k = key_n(i);

		fc_flowtable_add(t, &k);
		fc_flowtable_add(t, &k);
		cr_assert_eq(lookup(t, &k), 2);
	}
	cr_assert_eq(t->n_keys, 10);
	fc_flowtable_free(t);
}

Test(flowtable, colliding_hashes_stay_distinct)
{
	struct fc_flowtable *t = fc_flowtable_create(64);
	struct fc_ftkey a = key_n(1), b = key_n(2), c = key6_n(1),
			d = key6_n(2);
	struct fc_ftkey4 ca, cb;

	/* Same hash forced: the key compare must separate them. */
	fc_ftkey4_make(&ca, &a);
	fc_ftkey4_make(&cb, &b);
	ca.hash = 42;
	cb.hash = 42;
	fc_flowtable_add4(t, &ca);
	fc_flowtable_add4(t, &cb);
	fc_flowtable_add4(t, &cb);
	fc_flowtable_add6(t, &c, 42);
	fc_flowtable_add6(t, &d, 42);
	fc_flowtable_add6(t, &d, 42);
	cr_assert_eq(t->n_keys, 4);
	cr_assert_eq(lookup(t, &a), 1);
	cr_assert_eq(lookup(t, &b), 2);
	cr_assert_eq(lookup(t, &c), 1);
	cr_assert_eq(lookup(t, &d), 2);
	fc_flowtable_free(t);
}

Test(flowtable, probe_runs_wrap_at_the_end)
{
	struct fc_flowtable *t = fc_flowtable_create_parts(40, 40);
	struct fc_ftkey4 c[40];
	uint64_t last = t->n_slots4 - 1;

	/* Every key's home is the last slot: the run wraps to slot 0. */
	for (uint32_t i = 0; i < 40; i++) {
		struct fc_ftkey k = key_n(i);
		fc_ftkey4_make(&c[i], &k);
		c[i].hash = 0xffffffffu;
		fc_flowtable_add4(t, &c[i]);
	}
	cr_assert_eq(fc_flowtable_home(t->n_slots4, 0xffffffffu), last);
	for (uint32_t i = 0; i < 40; i++)
		fc_flowtable_add4(t, &c[i]);
	cr_assert_eq(t->n_keys, 40);
	cr_assert_eq(t->pkts, 80);
	cr_assert_eq(t->slots4[last].packets, 2);
	cr_assert_eq(t->slots4[0].packets, 2);
	cr_assert_eq(t->slots4[38].packets, 2);
	cr_assert_eq(t->slots4[39].packets, 0);
	fc_flowtable_free(t);
}

Test(flowtable, free_null_is_noop)
{
	fc_flowtable_free(NULL);
	cr_assert_null(fc_flowtable_create(0));
	cr_assert_null(fc_flowtable_create_parts(10, 0));
}

Test(flowtable, memory_per_key_at_most_64_bytes)
{
	/* IPv4: 32-byte slots at most 2/3 full, IPv6 (one eighth as many):
	 * 64-byte slots at most 7/8 full, plus a 4-byte index per key:
	 * about 55 bytes per key with both parts full, 62 per IPv4 key
	 * when only the IPv4 part is. Never the up-to-2x of power-of-two
	 * sizing. */
	uint64_t sizes[] = {1000, 1000000, 10000000};

	for (unsigned j = 0; j < 3; j++) {
		uint64_t keys = sizes[j], mem = fc_flowtable_mem_size(keys);
		double all = (double)mem /
			     (double)(keys + fc_flowtable_keys6_for(keys));
		double per4 = (double)mem / (double)keys;

		cr_assert_leq(all, 64.0, "%.1f bytes per key", all);
		if (keys >= 1000000)
			cr_assert_leq(per4, 64.0, "%.1f bytes per IPv4 key",
				      per4);
		cr_assert_gt(all, 48.0);
	}
}

Test(flowtable, mem_size_matches_what_create_reserves)
{
	struct fc_flowtable *t = fc_flowtable_create_parts(123457, 9999);

	/* Both parts start small: their small slots count too. */
	cr_assert_gt(t->small_len4, 0);
	cr_assert_gt(t->small_len6, 0);
	cr_assert_eq(fc_flowtable_mem_size_parts(123457, 9999),
		     t->map_len4 + t->map_len6 + t->small_len4 +
			     t->small_len6 + (123457 + 9999) * 4);
	cr_assert_eq(fc_flowtable_mem_size(5000),
		     fc_flowtable_mem_size_parts(5000, 625));
	fc_flowtable_free(t);
}

Test(flowtable, full_at_max_keys_with_odd_sizes)
{
	uint64_t sizes[] = {64, 1000, 77777};

	for (unsigned j = 0; j < 3; j++) {
		struct fc_flowtable *t = fc_flowtable_create(sizes[j]);

		for (uint32_t i = 0; i < sizes[j] + 10; i++) {
			struct fc_ftkey k = key_n(i);

			fc_flowtable_add(t, &k);
		}
		for (uint32_t i = 0; i < t->max_keys6 + 10; i++) {
			struct fc_ftkey k = key6_n(i);

			fc_flowtable_add(t, &k);
		}
		cr_assert_eq(t->n_keys, sizes[j] + t->max_keys6);
		cr_assert_eq(t->tbl_full, 20);
		fc_flowtable_free(t);
	}
}
