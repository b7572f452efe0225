/* SPDX-License-Identifier: BSD-3-Clause */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fc_sink.h"

/* A sink that records what it is offered, and fails where told. */
struct probe {
	unsigned begins, ends, ends_failed, bursts;
	uint64_t recs;
	const struct fc_ft_record *next; /* the next slice must start here */
	bool contiguous;
	int fail_begin, fail_records, fail_end, fail_flush;
};

static int p_begin(void *ctx, const struct fc_ft_interval *iv)
{
	struct probe *p = ctx;

	(void)iv;
	p->begins++;
	p->next = NULL;
	return p->fail_begin;
}

static int p_records(void *ctx, const struct fc_ft_record *r, uint64_t n)
{
	struct probe *p = ctx;

	if (p->next != NULL && r != p->next)
		p->contiguous = false;
	p->next = r + n;
	p->bursts++;
	p->recs += n;
	cr_assert_leq(n, FC_SINK_BURST);
	cr_assert_gt(n, 0);
	return p->fail_records;
}

static int p_end(void *ctx, const struct fc_ft_interval *iv, bool failed)
{
	struct probe *p = ctx;

	(void)iv;
	p->ends++;
	p->ends_failed += failed;
	return p->fail_end;
}

static int p_flush(void *ctx)
{
	return ((struct probe *)ctx)->fail_flush;
}

static const char *p_strerror(void *ctx, int st)
{
	(void)ctx;
	return st ? "probe failure" : "ok";
}

static const struct fc_sink_ops probe_ops = {
	.name = "probe", .begin = p_begin, .records = p_records,
	.end = p_end, .flush = p_flush, .strerror = p_strerror,
};

Test(sink, records_in_bursts_of_consecutive_slices)
{
	static struct fc_ft_record recs[2 * FC_SINK_BURST + 5];
	struct fc_ft_interval iv = {0};
	struct probe a = {.contiguous = true};
	struct fc_sinks ss = {0};

	cr_assert_eq(fc_sinks_add(&ss, &probe_ops, &a), 0);
	cr_assert_eq(fc_sinks_interval(&ss, &iv, recs, 2 * FC_SINK_BURST + 5),
		     0);
	cr_assert_eq(a.bursts, 3);
	cr_assert_eq(a.recs, 2 * FC_SINK_BURST + 5);
	cr_assert(a.contiguous);
	/* An interval without records: begin and end only. */
	cr_assert_eq(fc_sinks_interval(&ss, &iv, NULL, 0), 0);
	cr_assert_eq(a.bursts, 3);
	cr_assert_eq(a.begins, 2);
	cr_assert_eq(a.ends, 2);
	cr_assert_eq(atomic_load(&ss.s[0].intervals_ok), 2);
}

Test(sink, a_failing_sink_never_stops_the_others)
{
	static struct fc_ft_record recs[10];
	struct fc_ft_interval iv = {0};
	struct probe first = {.contiguous = true, .fail_records = -5};
	struct probe second = {.contiguous = true};
	struct fc_sinks ss = {0};

	cr_assert_eq(fc_sinks_add(&ss, &probe_ops, &first), 0);
	cr_assert_eq(fc_sinks_add(&ss, &probe_ops, &second), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(fc_sinks_interval(&ss, &iv, recs, 10), 1);
	/* The failing sink is told (end with failed) and counted. */
	cr_assert_eq(first.ends_failed, 3);
	cr_assert_eq(atomic_load(&ss.s[0].intervals_failed), 3);
	cr_assert_eq(atomic_load(&ss.s[0].intervals_ok), 0);
	cr_assert_eq(atomic_load(&ss.s[0].last_status), -5);
	/* The other took every interval whole. */
	cr_assert_eq(second.recs, 30);
	cr_assert_eq(second.ends_failed, 0);
	cr_assert_eq(atomic_load(&ss.s[1].intervals_ok), 3);
	/* A failed begin skips the records but still ends the interval;
	 * a failed end counts too. */
	first.fail_records = 0;
	first.fail_begin = -7;
	unsigned bursts = first.bursts;

	cr_assert_eq(fc_sinks_interval(&ss, &iv, recs, 10), 1);
	cr_assert_eq(first.bursts, bursts);
	cr_assert_eq(first.ends, 4);
	first.fail_begin = 0;
	first.fail_end = -9;
	cr_assert_eq(fc_sinks_interval(&ss, &iv, recs, 10), 1);
	cr_assert_eq(atomic_load(&ss.s[0].last_status), -9);
	/* Flush: each sink, failures counted. */
	first.fail_flush = -3;
	cr_assert_eq(fc_sinks_flush(&ss), 1);
	cr_assert_eq(atomic_load(&ss.s[0].last_status), -3);
}

Test(sink, at_most_FC_SINKS_MAX)
{
	struct probe p = {0};
	struct fc_sinks ss = {0};

	for (unsigned i = 0; i < FC_SINKS_MAX; i++)
		cr_assert_eq(fc_sinks_add(&ss, &probe_ops, &p), 0);
	cr_assert_eq(fc_sinks_add(&ss, &probe_ops, &p), -ENOSPC);
}

static const struct fc_sink_ops stream_ops = {
	.name = "stream", .begin = p_begin, .records = p_records,
	.end = p_end, .flush = p_flush, .strerror = p_strerror,
	.streams = true,
};

Test(sink, streamed_interval_reaches_every_sink_and_failures_count)
{
	static struct fc_ft_record recs[10];
	struct fc_ft_interval iv = {0};
	struct probe first = {.contiguous = true, .fail_records = -5};
	struct probe second = {.contiguous = true};
	struct fc_sinks ss = {0};

	cr_assert(fc_sinks_stream(&ss));
	cr_assert_eq(fc_sinks_add(&ss, &stream_ops, &first), 0);
	cr_assert_eq(fc_sinks_add(&ss, &stream_ops, &second), 0);
	cr_assert(fc_sinks_stream(&ss));
	/* Bursts of any size: the first sink fails on its first, takes
	 * no more of the interval, and ends it failed; the other takes
	 * them all. */
	fc_sinks_begin(&ss, &iv);
	fc_sinks_records(&ss, recs, 4);
	fc_sinks_records(&ss, recs + 4, 6);
	cr_assert_eq(fc_sinks_end(&ss, &iv), 1);
	cr_assert_eq(first.bursts, 1);
	cr_assert_eq(first.ends_failed, 1);
	cr_assert_eq(atomic_load(&ss.s[0].intervals_failed), 1);
	cr_assert_eq(atomic_load(&ss.s[0].last_status), -5);
	cr_assert_eq(second.recs, 10);
	cr_assert_eq(second.bursts, 2);
	cr_assert_eq(second.ends_failed, 0);
	cr_assert_eq(atomic_load(&ss.s[1].intervals_ok), 1);
	/* The next interval starts afresh. */
	first.fail_records = 0;
	fc_sinks_begin(&ss, &iv);
	fc_sinks_records(&ss, recs, 10);
	cr_assert_eq(fc_sinks_end(&ss, &iv), 0);
	cr_assert_eq(first.recs, 14);
	cr_assert_eq(atomic_load(&ss.s[0].intervals_ok), 1);
	/* A failed begin: no records, end told. */
	first.fail_begin = -7;
	fc_sinks_begin(&ss, &iv);
	fc_sinks_records(&ss, recs, 10);
	cr_assert_eq(fc_sinks_end(&ss, &iv), 1);
	cr_assert_eq(first.recs, 14);
	cr_assert_eq(first.ends_failed, 2);
	cr_assert_eq(atomic_load(&ss.s[0].last_status), -7);
	/* One sink that does not stream: the set does not. */
	cr_assert_eq(fc_sinks_add(&ss, &probe_ops, &second), 0);
	cr_assert(!fc_sinks_stream(&ss));
}
