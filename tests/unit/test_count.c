/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/count: staging a burst (fc_count_parse, then fc_count_flush, or
 * fc_count_pipe, which leaves each burst's keys waiting until the next)
 * must count exactly what fc_parse_pkt and fc_flowtable_add give frame by
 * frame: the same keys, counts, drop reasons, tbl_full and iteration
 * order, on a generated mix of tagged, double-tagged, IPv4, IPv6, TCP, UDP
 * and ICMP frames, with bursts of every size and a table small enough to
 * fill. Waiting keys belong to no table: a flush counts them wherever it
 * is told to.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fc_count.h"
#include "fc_gen.h"

struct frames {
	uint8_t *data;
	uint32_t *off; /* n + 1 offsets */
	uint64_t n;
};

static void make_frames(struct frames *f, uint64_t packets, uint32_t flows)
{
	struct fc_gen_cfg cfg;
	struct fc_gen *g;
	uint8_t buf[FC_GEN_FRAME_MAX];
	uint32_t len, at = 0;
	uint64_t ts;

	fc_gen_cfg_init(&cfg);
	cfg.packets = packets;
	cfg.flows = flows;
	cfg.ipv6 = 0.2;
	cfg.vlan = 0.2;
	cfg.qinq = 0.05;
	cfg.mix_tcp = 50;
	cfg.mix_udp = 30;
	cfg.mix_icmp = 20;
	cfg.backscatter = 0.3;
	cfg.size = FC_GEN_SIZE_64;
	g = fc_gen_create(&cfg);
	cr_assert_not_null(g);
	f->data = malloc(packets * 128);
	f->off = malloc((packets + 1) * sizeof(uint32_t));
	cr_assert(f->data && f->off);
	f->n = 0;
	while (fc_gen_next(g, buf, sizeof(buf), &len, &ts) == 0) {
		/* Every third frame cut short: truncated headers too. */
		uint32_t keep = len < 128 ? len : 128;

		if (f->n % 3 == 2)
			keep = (uint32_t)(f->n % 61);
		memcpy(f->data + at, buf, keep);
		f->off[f->n++] = at;
		at += keep;
	}
	f->off[f->n] = at;
	fc_gen_free(g);
	cr_assert_eq(f->n, packets);
}

/* The same keys and counts, in the same iteration order. */
static void assert_same_keys(const struct fc_flowtable *a,
			     const struct fc_flowtable *b)
{
	cr_assert_eq(a->n_keys, b->n_keys);
	for (uint64_t i = 0; i < a->n_keys; i++) {
		struct fc_ft_record ra, rb;

		fc_flowtable_key_at(a, i, &ra);
		fc_flowtable_key_at(b, i, &rb);
		cr_assert_eq(memcmp(&ra, &rb, sizeof(ra)), 0, "key %llu",
			     (unsigned long long)i);
	}
}

enum how { FLUSH, PIPE };

/* Returns the packets refused for a full table (equal in both). */
static uint64_t check_same(uint64_t keys4, uint64_t keys6, uint32_t flows,
			   enum how how)
{
	struct frames f;
	static struct fc_count stg;
	struct fc_flowtable *a = fc_flowtable_create_parts(keys4, keys6);
	struct fc_flowtable *b = fc_flowtable_create_parts(keys4, keys6);
	uint64_t drop_a[FC_PARSE_STATUS_COUNT] = {0};
	uint64_t drop_b[FC_PARSE_STATUS_COUNT] = {0};
	uint64_t full;

	cr_assert(a && b);
	make_frames(&f, 200000, flows);
	fc_count_drop(&stg);
	for (uint64_t i = 0, burst = 1, nb = 0; i < f.n; i += burst,
		      burst = (burst + 6) % FC_COUNT_BURST_MAX + 1, nb++) {
		uint64_t n = f.n - i < burst ? f.n - i : burst;
		unsigned waiting = fc_count_pending(&stg), fresh;

		for (uint64_t j = i; j < i + n; j++) {
			enum fc_parse_status st = fc_count_parse(
				&stg, f.data + f.off[j], f.off[j + 1] - f.off[j],
				FC_DLT_EN10MB);
			drop_a[st]++;
		}
		fresh = fc_count_fresh(&stg);
		cr_assert_eq(fc_count_pending(&stg), waiting + fresh);
		cr_assert_leq(fresh, n);
		if (how == FLUSH || nb % 13 == 12) {
			/* PIPE: now and then a flush, as at the end of an
			 * interval. */
			fc_count_flush(&stg, a);
			cr_assert_eq(fc_count_pending(&stg), 0);
		} else {
			fc_count_pipe(&stg, a);
			cr_assert_eq(fc_count_pending(&stg), fresh);
			cr_assert_eq(fc_count_fresh(&stg), 0);
		}
	}
	fc_count_flush(&stg, a);
	cr_assert_eq(fc_count_pending(&stg), 0);
	for (uint64_t j = 0; j < f.n; j++) {
		struct fc_ftkey k;
		enum fc_parse_status st =
			fc_parse_pkt(f.data + f.off[j], f.off[j + 1] - f.off[j],
				     FC_DLT_EN10MB, &k);

		drop_b[st]++;
		if (st == FC_PARSE_OK)
			fc_flowtable_add(b, &k);
	}
	for (unsigned s = 0; s < FC_PARSE_STATUS_COUNT; s++)
		cr_assert_eq(drop_a[s], drop_b[s], "status %s: %llu vs %llu",
			     fc_parse_status_name(s),
			     (unsigned long long)drop_a[s],
			     (unsigned long long)drop_b[s]);
	cr_assert_gt(drop_a[FC_PARSE_OK], f.n / 2);
	cr_assert_eq(a->pkts, b->pkts);
	cr_assert_eq(a->tbl_full, b->tbl_full);
	cr_assert_eq(a->n_keys, b->n_keys);
	cr_assert_eq(a->n_keys4, b->n_keys4);
	cr_assert_eq(a->pkts + a->tbl_full, drop_a[FC_PARSE_OK]);
	cr_assert_gt(a->n_keys4, 0);
	cr_assert_gt(a->n_keys, a->n_keys4, "no IPv6 key in the mix");
	assert_same_keys(a, b);
	full = a->tbl_full;
	fc_flowtable_free(a);
	fc_flowtable_free(b);
	free(f.data);
	free(f.off);
	return full;
}

Test(count, staged_bursts_equal_frame_by_frame, .timeout = 120)
{
	cr_assert_eq(check_same(50000, 20000, 20000, FLUSH), 0);
}

Test(count, staged_bursts_equal_frame_by_frame_when_full, .timeout = 120)
{
	/* 20k flows into 2000 + 200 keys: both parts fill. */
	cr_assert_gt(check_same(2000, 200, 20000, FLUSH), 0);
}

Test(count, piped_bursts_equal_frame_by_frame, .timeout = 120)
{
	cr_assert_eq(check_same(50000, 20000, 20000, PIPE), 0);
}

Test(count, piped_bursts_equal_frame_by_frame_when_full, .timeout = 120)
{
	cr_assert_gt(check_same(2000, 200, 20000, PIPE), 0);
}

/* The keys a pipe leaves waiting are counted by the next flush, in the
 * table that flush names (as a worker's hand-off does), and equal what
 * frame-by-frame counting gives in that table. */
Test(count, waiting_keys_go_to_the_table_flushed_into, .timeout = 60)
{
	struct frames f;
	static struct fc_count stg;
	struct fc_flowtable *a = fc_flowtable_create_parts(4096, 1024);
	struct fc_flowtable *b = fc_flowtable_create_parts(4096, 1024);
	struct fc_flowtable *c = fc_flowtable_create_parts(4096, 1024);
	uint64_t ok = 0;

	cr_assert(a && b && c);
	make_frames(&f, 96, 1000);
	fc_count_drop(&stg);
	for (uint64_t j = 0; j < 64; j++)
		fc_count_parse(&stg, f.data + f.off[j], f.off[j + 1] - f.off[j],
			       FC_DLT_EN10MB);
	ok = fc_count_pending(&stg);
	cr_assert_gt(ok, 10);
	cr_assert_gt(stg.n6, 0, "no IPv6 key waiting");
	fc_count_pipe(&stg, a);
	cr_assert_eq(a->pkts, 0);
	cr_assert_eq(fc_count_pending(&stg), ok);
	for (uint64_t j = 64; j < 96; j++)
		fc_count_parse(&stg, f.data + f.off[j], f.off[j + 1] - f.off[j],
			       FC_DLT_EN10MB);
	ok = fc_count_pending(&stg);
	fc_count_flush(&stg, b);
	cr_assert_eq(a->pkts, 0);
	cr_assert_eq(a->n_keys, 0);
	cr_assert_eq(b->pkts, ok);
	for (uint64_t j = 0; j < 96; j++) {
		struct fc_ftkey k;

		if (fc_parse_pkt(f.data + f.off[j], f.off[j + 1] - f.off[j],
				 FC_DLT_EN10MB, &k) == FC_PARSE_OK)
			fc_flowtable_add(c, &k);
	}
	assert_same_keys(b, c);
	fc_flowtable_free(a);
	fc_flowtable_free(b);
	fc_flowtable_free(c);
	free(f.data);
	free(f.off);
}

Test(count, drop_empties_the_stage)
{
	static struct fc_count stg;
	static const uint8_t arp[60] = {[12] = 0x08, [13] = 0x06};
	uint8_t udp[64] = {[12] = 0x08, [13] = 0x00, [14] = 0x45,
			   [16] = 0, [17] = 28, [22] = 64, [23] = 17};

	fc_count_drop(&stg);
	cr_assert_eq(fc_count_parse(&stg, arp, sizeof(arp), FC_DLT_EN10MB),
		     FC_PARSE_NOT_IP);
	cr_assert_eq(fc_count_pending(&stg), 0);
	cr_assert_eq(fc_count_parse(&stg, udp, sizeof(udp), FC_DLT_EN10MB),
		     FC_PARSE_OK);
	cr_assert_eq(fc_count_pending(&stg), 1);
	cr_assert_eq(stg.n4, 1);
	fc_count_drop(&stg);
	cr_assert_eq(fc_count_pending(&stg), 0);
}
