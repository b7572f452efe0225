/* SPDX-License-Identifier: BSD-3-Clause */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fc_interval.h"

Test(interval, corsaro_example_bounds_inclusive)
{
	struct fc_interval_clock c;
	uint64_t from, n;
	bool late;

	/* Corsaro's documented example: [1325390400, 1325390459]. */
	fc_interval_init(&c, 60, true);
	cr_assert_eq(fc_interval_feed(&c, 1325390400, &from, &n, &late), 0);
	cr_assert_eq(fc_interval_start_of(&c, 0), 1325390400);
	cr_assert_eq(fc_interval_end_of(&c, 0), 1325390459);
	cr_assert_eq(fc_interval_feed(&c, 1325390459, &from, &n, &late), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(fc_interval_feed(&c, 1325390460, &from, &n, &late), 1);
	cr_assert_eq(n, 1);
	cr_assert_eq(from, 0);
}

Test(interval, unaligned_starts_at_first_packet)
{
	struct fc_interval_clock c;
	uint64_t from, n;
	bool late;

	fc_interval_init(&c, 60, false);
	fc_interval_feed(&c, 1278472579, &from, &n, &late);
	cr_assert_eq(c.start0, 1278472579);
	cr_assert_eq(fc_interval_feed(&c, 1278472638, &from, &n, &late), 0);
	cr_assert_eq(fc_interval_feed(&c, 1278472639, &from, &n, &late), 1);
}

Test(interval, gap_closes_empty_intervals)
{
	struct fc_interval_clock c;
	uint64_t from, n;
	bool late;

	fc_interval_init(&c, 10, true);
	fc_interval_feed(&c, 105, &from, &n, &late);
	cr_assert_eq(c.start0, 100);
	cr_assert_eq(fc_interval_feed(&c, 151, &from, &n, &late), 5);
	cr_assert_eq(from, 0);
	cr_assert_eq(n, 5, "intervals 0..4 closed, 1..4 empty");
}

Test(interval, late_packet_counts_in_current)
{
	struct fc_interval_clock c;
	uint64_t from, n;
	bool late;

	fc_interval_init(&c, 10, true);
	fc_interval_feed(&c, 100, &from, &n, &late);
	fc_interval_feed(&c, 125, &from, &n, &late);
	cr_assert_eq(fc_interval_feed(&c, 101, &from, &n, &late), 2);
	cr_assert(late);
	cr_assert_eq(n, 0);
	cr_assert_eq(c.last_ts, 101);
}

Test(interval, template_expands_corsaro_names)
{
	char buf[256];

	cr_assert_eq(fc_template_expand(buf, sizeof(buf), "%N.%s.%P.ft.zst",
					"ucsd-nt", "flowtuple", 1320969600), 0);
	cr_assert_str_eq(buf, "ucsd-nt.1320969600.flowtuple.ft.zst");
	cr_assert_eq(fc_template_expand(buf, sizeof(buf), "%N-%Y%m%d-%H%M.x",
					"m", "flowtuple", 1320969600), 0);
	cr_assert_str_eq(buf, "m-20111111-0000.x");
	cr_assert_eq(fc_template_expand(buf, 8, "%N.%s", "monitor",
					"flowtuple", 1), -ENAMETOOLONG);
}

Test(interval, template_rejects_bad_input)
{
	char err[256];

	cr_assert_eq(fc_template_check("a/b", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_template_check("abc%", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_template_check("%q", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_template_check(".hidden", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_template_check("", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_template_check("%N.%Y%%.x", err, sizeof(err)), 0);
	/* %D and %x print dates with '/' */
	cr_assert_eq(fc_template_check("%N.%D", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_template_check("%x", err, sizeof(err)), -EINVAL);
}

Test(interval, jump_is_beyond_max_jump_after_the_interval)
{
	/* Interval ends at 1059; bound one day. */
	cr_assert_not(fc_interval_is_jump(1059, 1059, 86400));
	cr_assert_not(fc_interval_is_jump(1059 + 86400, 1059, 86400));
	cr_assert(fc_interval_is_jump(1059 + 86401, 1059, 86400));
	/* Older packets are late, never a jump. */
	cr_assert_not(fc_interval_is_jump(0, 1059, 86400));
	/* 0 turns the rule off; no overflow near the top. */
	cr_assert_not(fc_interval_is_jump(UINT64_MAX, 1059, 0));
	cr_assert(fc_interval_is_jump(UINT64_MAX, 1059, 86400));
	cr_assert_not(fc_interval_is_jump(UINT64_MAX, UINT64_MAX - 5, 86400));
}

/* --- live intervals across workers: the collector's decisions --------- */

#define SIM_W 8
#define SIM_T 64

/* Workers as the collector sees them: a FIFO of handed-in tables (their
 * interval, and whether they carry data) and the published progress. */
struct sim {
	unsigned n;
	uint64_t sealed[SIM_W];
	uint64_t t_iv[SIM_W][SIM_T];
	bool t_data[SIM_W][SIM_T];
	unsigned head[SIM_W], tail[SIM_W];
	bool fin;
	uint64_t max_iv;
	/* what was written */
	uint64_t w_from[4096], w_to[4096];
	bool w_data[4096], w_last[4096];
	unsigned w_tables[4096];
	unsigned nw, calls;
	struct fc_iv_collect c;
};

static void sim_init(struct sim *s, unsigned n, uint32_t max_empty)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	fc_iv_collect_init(&s->c, max_empty);
}

static void sim_hand_in(struct sim *s, unsigned w, uint64_t iv, bool data)
{
	s->t_iv[w][s->tail[w] % SIM_T] = iv;
	s->t_data[w][s->tail[w] % SIM_T] = data;
	s->tail[w]++;
	if (iv > s->max_iv)
		s->max_iv = iv;
}

/* Run the collector until it waits or is done; returns the last act. */
static enum fc_iv_act sim_run(struct sim *s)
{
	for (;;) {
		struct fc_iv_worker v[SIM_W];
		struct fc_iv_action a;

		for (unsigned w = 0; w < s->n; w++) {
			unsigned h = s->head[w] % SIM_T;

			v[w].sealed = s->sealed[w];
			v[w].has_head = s->head[w] != s->tail[w];
			v[w].head_iv = v[w].has_head ? s->t_iv[w][h] : 0;
			v[w].head_data = v[w].has_head && s->t_data[w][h];
		}
		s->calls++;
		cr_assert_lt(s->calls, 1000000, "the collector loops");
		fc_iv_collect_next(&s->c, v, s->n, s->fin, s->max_iv, &a);
		if (a.act == FC_IV_WAIT || a.act == FC_IV_DONE)
			return a.act;
		if (a.act == FC_IV_GIVE_BACK) {
			unsigned before = 0, after = 0;

			for (unsigned w = 0; w < s->n; w++) {
				before += s->tail[w] - s->head[w];
				while (s->head[w] != s->tail[w] &&
				       s->t_iv[w][s->head[w] % SIM_T] == a.from &&
				       !s->t_data[w][s->head[w] % SIM_T])
					s->head[w]++;
				after += s->tail[w] - s->head[w];
			}
			cr_assert_lt(after, before, "give back with nothing to give");
			continue;
		}
		cr_assert_eq(a.act, FC_IV_WRITE);
		cr_assert_lt(s->nw, 4096);
		s->w_from[s->nw] = a.from;
		s->w_to[s->nw] = a.to;
		s->w_data[s->nw] = a.data;
		s->w_last[s->nw] = a.last;
		s->w_tables[s->nw] = 0;
		if (a.data)
			for (unsigned w = 0; w < s->n; w++)
				while (s->head[w] != s->tail[w] &&
				       s->t_iv[w][s->head[w] % SIM_T] == a.from) {
					cr_assert(s->t_data[w][s->head[w] % SIM_T]);
					s->head[w]++;
					s->w_tables[s->nw]++;
				}
		s->nw++;
	}
}

Test(interval, idle_worker_holds_nothing_back)
{
	struct sim s;

	/* Worker 0 counted intervals 0..2 and is in 3; worker 1 saw no
	 * packet: its progress follows the clock, it hands in no table. */
	sim_init(&s, 2, 60);
	for (uint64_t k = 0; k < 3; k++)
		sim_hand_in(&s, 0, k, true);
	s.sealed[0] = 3;
	cr_assert_eq(sim_run(&s), FC_IV_WAIT);
	cr_assert_eq(s.nw, 0, "worker 1 has not passed interval 0 yet");
	s.sealed[1] = 3;
	cr_assert_eq(sim_run(&s), FC_IV_WAIT);
	cr_assert_eq(s.nw, 3);
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(s.w_from[i], i);
		cr_assert_eq(s.w_to[i], i);
		cr_assert(s.w_data[i]);
		cr_assert_eq(s.w_tables[i], 1);
	}
}

Test(interval, empty_tables_of_idle_workers_go_back)
{
	struct sim s;

	/* Worker 1 hands in an empty table each time the clock passes an
	 * interval: they go back at once, and are not data. */
	sim_init(&s, 2, 60);
	for (uint64_t k = 0; k < 3; k++) {
		sim_hand_in(&s, 0, k, true);
		sim_hand_in(&s, 1, k, false);
	}
	s.sealed[0] = s.sealed[1] = 3;
	cr_assert_eq(sim_run(&s), FC_IV_WAIT);
	cr_assert_eq(s.nw, 3);
	cr_assert_eq(s.head[1], s.tail[1], "empty tables given back");
	for (unsigned i = 0; i < 3; i++)
		cr_assert_eq(s.w_tables[i], 1);
}

Test(interval, short_run_of_empty_intervals_is_written_one_by_one)
{
	struct sim s;

	sim_init(&s, 1, 3);
	sim_hand_in(&s, 0, 0, true);
	sim_hand_in(&s, 0, 4, true);
	s.sealed[0] = 5;
	cr_assert_eq(sim_run(&s), FC_IV_WAIT);
	cr_assert_eq(s.nw, 5);
	for (unsigned i = 0; i < 5; i++) {
		cr_assert_eq(s.w_from[i], i);
		cr_assert_eq(s.w_to[i], i);
		cr_assert_eq(s.w_data[i], i == 0 || i == 4);
	}
}

Test(interval, run_is_written_when_it_ends)
{
	struct sim s;

	/* Live clock, no traffic after interval 0: the run grows and is
	 * not written until data follows it (or the end). */
	sim_init(&s, 2, 3);
	sim_hand_in(&s, 0, 0, true);
	for (uint64_t now = 1; now <= 10; now++) {
		s.sealed[0] = s.sealed[1] = now;
		sim_hand_in(&s, 1, now - 1, false);
		cr_assert_eq(sim_run(&s), FC_IV_WAIT);
	}
	cr_assert_eq(s.nw, 1, "only interval 0 so far");
	sim_hand_in(&s, 0, 10, true);
	s.sealed[0] = s.sealed[1] = 11;
	cr_assert_eq(sim_run(&s), FC_IV_WAIT);
	cr_assert_eq(s.nw, 3);
	cr_assert_eq(s.w_from[1], 1);
	cr_assert_eq(s.w_to[1], 9, "one gap interval for the run");
	cr_assert_not(s.w_data[1]);
	cr_assert_eq(s.w_from[2], 10);
	cr_assert(s.w_data[2]);
}

Test(interval, gap_of_many_empty_intervals_costs_nothing)
{
	struct sim s;

	/* A clock jump of a billion intervals: found in a few steps. */
	sim_init(&s, 3, 60);
	sim_hand_in(&s, 0, 0, true);
	sim_hand_in(&s, 2, 1000000000, true);
	s.sealed[0] = s.sealed[1] = s.sealed[2] = UINT64_MAX;
	s.fin = true;
	cr_assert_eq(sim_run(&s), FC_IV_DONE);
	cr_assert_lt(s.calls, 10);
	cr_assert_eq(s.nw, 3);
	cr_assert_eq(s.w_from[1], 1);
	cr_assert_eq(s.w_to[1], 999999999);
	cr_assert_eq(s.w_from[2], 1000000000);
	cr_assert(s.w_last[2], "the final interval is flagged last");
	cr_assert_not(s.w_last[0]);
}

Test(interval, late_packet_and_clock_going_back)
{
	bool late;

	/* A worker in interval 5 (grid 1000 + k*60) never goes back: an
	 * older packet, or a clock jump backwards, is late in 5. */
	cr_assert_eq(fc_interval_live_index(1000, 60, 5, 1299, &late), 5);
	cr_assert(late);
	cr_assert_eq(fc_interval_live_index(1000, 60, 5, 1000, &late), 5);
	cr_assert(late);
	cr_assert_eq(fc_interval_live_index(1000, 60, 5, 1300, &late), 5);
	cr_assert_not(late);
	cr_assert_eq(fc_interval_live_index(1000, 60, 5, 1360, &late), 6);
	cr_assert_not(late);
	/* A clock jump forwards. */
	cr_assert_eq(fc_interval_live_index(1000, 60, 5, 1000 + 60 * 1000000ULL,
					    &late),
		     1000000);
}

Test(interval, shared_clock_is_the_newest_time)
{
	uint64_t wm[3] = {100, 250, 0};

	cr_assert_eq(fc_interval_shared_clock(wm, 3, 0), 250);
	cr_assert_eq(fc_interval_shared_clock(wm, 3, 300), 300);
	cr_assert_eq(fc_interval_shared_clock(wm, 0, 7), 7);
}

/* xorshift64*: a deterministic sequence for the orders below. */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

Test(interval, n_workers_sealing_in_any_order)
{
	for (uint64_t seed = 1; seed <= 300; seed++) {
		uint64_t x = seed * 0x9E3779B97F4A7C15ULL;
		unsigned n = 1 + (unsigned)(rnd(&x) % SIM_W);
		uint32_t max_empty = (uint32_t)(rnd(&x) % 4);
		/* Each worker's intervals with packets, in order. */
		bool has[SIM_W][40];
		uint64_t pos[SIM_W] = {0}, total = 0, seen_tables = 0;
		struct sim s;

		sim_init(&s, n, max_empty);
		memset(has, 0, sizeof(has));
		for (unsigned w = 0; w < n; w++)
			for (unsigned k = 0; k < 40; k++)
				if (rnd(&x) % 3 == 0) {
					has[w][k] = true;
					total++;
				}
		/* Workers move on one interval at a time, in a random
		 * interleaving; the collector runs after every move and
		 * never writes an interval some worker has not passed. */
		for (;;) {
			unsigned live = 0, pick;

			for (unsigned w = 0; w < n; w++)
				live += pos[w] < 40;
			if (live == 0)
				break;
			pick = (unsigned)(rnd(&x) % live);
			for (unsigned w = 0; w < n; w++) {
				if (pos[w] >= 40 || pick-- != 0)
					continue;
				/* Hand in interval pos[w] (data or, now and
				 * then, an empty table) and move on. */
				if (has[w][pos[w]])
					sim_hand_in(&s, w, pos[w], true);
				else if (rnd(&x) % 2)
					sim_hand_in(&s, w, pos[w], false);
				pos[w]++;
				s.sealed[w] = pos[w];
				break;
			}
			cr_assert_eq(sim_run(&s), FC_IV_WAIT, "seed %llu",
				     (unsigned long long)seed);
			for (unsigned i = 0; i < s.nw; i++) {
				uint64_t slow = UINT64_MAX;

				for (unsigned w = 0; w < n; w++)
					if (pos[w] < slow)
						slow = pos[w];
				cr_assert_lt(s.w_to[i], slow,
					     "seed %llu: interval %llu written "
					     "before every worker passed it",
					     (unsigned long long)seed,
					     (unsigned long long)s.w_to[i]);
			}
		}
		/* The final tables (interval 40, flagged last in flowcap). */
		for (unsigned w = 0; w < n; w++) {
			sim_hand_in(&s, w, 40, true);
			s.sealed[w] = UINT64_MAX;
		}
		s.fin = true;
		cr_assert_eq(sim_run(&s), FC_IV_DONE, "seed %llu",
			     (unsigned long long)seed);
		/* Every interval 0..40 written once, in order; a run of
		 * empty ones as one gap exactly when longer than
		 * max_empty; every data table taken with its interval. */
		uint64_t next = 0;

		for (unsigned i = 0; i < s.nw; i++) {
			bool any = false;

			cr_assert_eq(s.w_from[i], next, "seed %llu",
				     (unsigned long long)seed);
			cr_assert_geq(s.w_to[i], s.w_from[i]);
			if (s.w_to[i] > s.w_from[i])
				cr_assert_gt(s.w_to[i] - s.w_from[i] + 1,
					     max_empty);
			for (unsigned w = 0; w < n; w++)
				for (uint64_t k = s.w_from[i];
				     k <= s.w_to[i] && k < 40; k++)
					any |= has[w][k];
			if (s.w_from[i] == 40)
				any = true;
			cr_assert_eq(s.w_data[i], any, "seed %llu interval %llu",
				     (unsigned long long)seed,
				     (unsigned long long)s.w_from[i]);
			cr_assert_eq(s.w_last[i], s.w_from[i] == 40);
			seen_tables += s.w_tables[i];
			next = s.w_to[i] + 1;
		}
		cr_assert_eq(next, 41);
		cr_assert_eq(seen_tables, total + n, "seed %llu",
			     (unsigned long long)seed);
	}
}
