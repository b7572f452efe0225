/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Record sinks (see fc_sink.h): the loop that offers an interval to each
 * sink and keeps each sink's counters. It holds no records of its own.
 */
#include "fc_sink.h"

#include <errno.h>

int fc_sinks_add(struct fc_sinks *ss, const struct fc_sink_ops *ops,
		 void *ctx)
{
	if (ss->n == FC_SINKS_MAX)
		return -ENOSPC;
	ss->s[ss->n].ops = ops;
	ss->s[ss->n].ctx = ctx;
	atomic_init(&ss->s[ss->n].intervals_ok, 0);
	atomic_init(&ss->s[ss->n].intervals_failed, 0);
	atomic_init(&ss->s[ss->n].last_status, 0);
	ss->s[ss->n].iv_status = 0;
	ss->n++;
	return 0;
}

/* One sink, one interval. */
static int offer(struct fc_sink *s, const struct fc_ft_interval *iv,
		 const struct fc_ft_record *recs, uint64_t n)
{
	int rc = s->ops->begin(s->ctx, iv), rc_end;

	for (uint64_t o = 0; rc == 0 && o < n; o += FC_SINK_BURST) {
		uint64_t k = n - o < FC_SINK_BURST ? n - o : FC_SINK_BURST;

		rc = s->ops->records(s->ctx, recs + o, k);
	}
	rc_end = s->ops->end(s->ctx, iv, rc != 0);
	return rc != 0 ? rc : rc_end;
}

/* The sink's counters for one interval; returns 1 if it failed it. */
static unsigned account(struct fc_sink *s, int rc)
{
	if (rc == 0) {
		atomic_fetch_add_explicit(&s->intervals_ok, 1,
					  memory_order_relaxed);
		return 0;
	}
	atomic_fetch_add_explicit(&s->intervals_failed, 1,
				  memory_order_relaxed);
	atomic_store_explicit(&s->last_status, rc, memory_order_relaxed);
	return 1;
}

bool fc_sinks_stream(const struct fc_sinks *ss)
{
	for (unsigned i = 0; i < ss->n; i++)
		if (!ss->s[i].ops->streams)
			return false;
	return true;
}

void fc_sinks_begin(struct fc_sinks *ss, const struct fc_ft_interval *iv)
{
	for (unsigned i = 0; i < ss->n; i++)
		ss->s[i].iv_status = ss->s[i].ops->begin(ss->s[i].ctx, iv);
}

void fc_sinks_records(struct fc_sinks *ss, const struct fc_ft_record *recs,
		      uint64_t n)
{
	for (unsigned i = 0; i < ss->n; i++)
		if (ss->s[i].iv_status == 0)
			ss->s[i].iv_status = ss->s[i].ops->records(
				ss->s[i].ctx, recs, n);
}

unsigned fc_sinks_end(struct fc_sinks *ss, const struct fc_ft_interval *iv)
{
	unsigned failed = 0;

	for (unsigned i = 0; i < ss->n; i++) {
		struct fc_sink *s = &ss->s[i];
		int rc = s->ops->end(s->ctx, iv, s->iv_status != 0);

		failed += account(s, s->iv_status != 0 ? s->iv_status : rc);
		s->iv_status = 0;
	}
	return failed;
}

unsigned fc_sinks_interval(struct fc_sinks *ss, const struct fc_ft_interval *iv,
			   const struct fc_ft_record *recs, uint64_t n)
{
	unsigned failed = 0;

	for (unsigned i = 0; i < ss->n; i++) {
		struct fc_sink *s = &ss->s[i];
		int rc = offer(s, iv, recs, n);

		if (rc == 0) {
			atomic_fetch_add_explicit(&s->intervals_ok, 1,
						  memory_order_relaxed);
		} else {
			atomic_fetch_add_explicit(&s->intervals_failed, 1,
						  memory_order_relaxed);
			atomic_store_explicit(&s->last_status, rc,
					      memory_order_relaxed);
			failed++;
		}
	}
	return failed;
}

unsigned fc_sinks_flush(struct fc_sinks *ss)
{
	unsigned failed = 0;

	for (unsigned i = 0; i < ss->n; i++) {
		struct fc_sink *s = &ss->s[i];
		int rc = s->ops->flush ? s->ops->flush(s->ctx) : 0;

		if (rc != 0) {
			atomic_store_explicit(&s->last_status, rc,
					      memory_order_relaxed);
			failed++;
		}
	}
	return failed;
}
