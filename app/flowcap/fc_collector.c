/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Collector lcore: takes sealed tables from the wait-free queue, waits
 * until every worker has handed in (or moved past) an interval, merges that
 * interval's tables into sorted records and offers them to the record
 * sinks (the file writer first, fc_filesink.c; when every sink streams,
 * burst by burst as the merge makes them), then resets the tables and
 * returns them to their workers. Intervals are written strictly in order.
 * It is the only thread that calls the sinks.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_pause.h>

#define FC_LOGTYPE fc_logtype_collector /* FC_INFO, FC_WARN */
#include "fc_app.h"
#include "fc_ftdir.h"
#include "fc_anon.h"
#include "fc_merge.h"
#include "fc_sink.h"

struct pending {
	struct fc_wtable *head, *tail;
	uint64_t sealed; /**< the worker's progress, loaded before a drain */
	bool last;       /**< the worker's final table has arrived */
};

struct collector {
	struct fc_app *app;
	struct pending pend[FC_MAX_WORKERS];
	struct fc_merge *merge;
	uint64_t max_iv;        /**< highest interval seen in any table */
	uint64_t nic_prev[3];
	/* When interval k may be written, and how runs of empty intervals
	 * are written (lib/interval decides; the collector acts). */
	struct fc_iv_collect plan;
	/* --anonymize: the records every sink sees, anonymised, re-sorted */
	struct fc_anon *anon;
	struct fc_ft_record *abuf;
	uint64_t acap;
};

static int key_cmp(const void *a, const void *b)
{
	return fc_ftkey_cmp(&((const struct fc_ft_record *)a)->key,
			    &((const struct fc_ft_record *)b)->key);
}

/* --anonymize: a copy of the interval's records with both addresses
 * mapped (a bijection, so no two keys merge), sorted again in the file
 * order; real addresses never reach a sink. NULL when out of memory. */
static const struct fc_ft_record *anonymize(struct collector *c,
					    const struct fc_ft_record *recs,
					    uint64_t n)
{
	if (n > c->acap) {
		struct fc_ft_record *b = realloc(c->abuf, n * sizeof(*b));

		if (b == NULL)
			return NULL;
		c->abuf = b;
		c->acap = n;
	}
	for (uint64_t i = 0; i < n; i++) {
		struct fc_ftkey *k = &c->abuf[i].key;

		c->abuf[i] = recs[i];
		fc_anon_addr(c->anon, k->family, k->src_ip);
		fc_anon_addr(c->anon, k->family, k->dst_ip);
	}
	if (n > 1)
		qsort(c->abuf, n, sizeof(*c->abuf), key_cmp);
	return c->abuf;
}

/* Returns false when a producer was caught mid-enqueue: a table handed
 * in before the progress just loaded may then still be out of reach, and
 * that progress must not be acted on this round. */
static bool drain_queue(struct collector *c)
{
	struct cds_wfcq_node *node;

	/* Progress first, then the queue: a table enqueued before a worker
	 * stored its progress is found by the drain below. Partner: the
	 * release store in the worker's set_iv() and finish(). */
	for (unsigned w = 0; w < c->app->n_workers; w++)
		c->pend[w].sealed = atomic_load_explicit(
			&c->app->workers[w].sealed, memory_order_acquire);

	/* Single consumer: the non-blocking dequeue needs no lock. It
	 * returns WOULDBLOCK while a producer is mid-enqueue, also when the
	 * node it cannot yet pass is one that a worker enqueued before the
	 * progress loaded above (the last node's next pointer is written by
	 * the enqueue that follows it): retry on the next round, and do not
	 * decide anything on this one. */
	for (;;) {
		node = __cds_wfcq_dequeue_nonblocking(&c->app->q_head,
						      &c->app->q_tail);
		if (node == CDS_WFCQ_WOULDBLOCK)
			return false;
		if (node == NULL)
			return true;
		struct fc_wtable *t = caa_container_of(node, struct fc_wtable,
						       node);
		struct pending *p = &c->pend[t->worker];

		t->next_pending = NULL;
		if (p->tail)
			p->tail->next_pending = t;
		else
			p->head = t;
		p->tail = t;
		if (t->flags & FC_FT_IV_LAST)
			p->last = true;
		if (t->iv > c->max_iv)
			c->max_iv = t->iv;
		atomic_fetch_add_explicit(&c->app->backlog, 1,
					  memory_order_relaxed);
	}
}

/* Does this table carry anything: a packet, a counter, or a flag that the
 * interval must keep (partial, last, late)? An idle worker hands in empty
 * tables as the clock moves on; they are not data. */
static bool table_has_data(const struct fc_wtable *t)
{
	if (t->rx_pkts != 0 || t->ft->n_keys != 0 ||
	    (t->flags & (FC_FT_IV_PARTIAL | FC_FT_IV_LAST | FC_FT_IV_LATE)))
		return true;
	for (unsigned i = 0; i < FC_CTR_MAX; i++)
		if (t->ctr[i] != 0)
			return true;
	return false;
}

/* A table goes back to its worker clean. */
static void give_back(struct collector *c, struct fc_wtable *t)
{
	fc_flowtable_reset(t->ft);
	rte_ring_sp_enqueue(c->app->workers[t->worker].free, t);
	atomic_fetch_sub_explicit(&c->app->backlog, 1, memory_order_relaxed);
}

static bool all_last(const struct collector *c)
{
	for (unsigned w = 0; w < c->app->n_workers; w++)
		if (!c->pend[w].last)
			return false;
	return true;
}

/* Packets per label, for the stats line and the summary. */
static void count_labels(struct fc_app *app, const struct fc_ft_record *recs,
			 uint64_t n)
{
	if (app->label_pkts != NULL)
		for (uint64_t i = 0; i < n; i++)
			atomic_fetch_add_explicit(
				&app->label_pkts[fc_ftkey_label(&recs[i].key)],
				recs[i].packets, memory_order_relaxed);
}

/* fc_merge_fn of a streamed interval: each burst to every sink while it
 * is in the caches. */
static int stream_burst(void *ctx, const struct fc_ft_record *recs,
			uint64_t n)
{
	struct fc_app *app = ctx;

	count_labels(app, recs, n);
	fc_sinks_records(&app->sinks, recs, n);
	return 0;
}

/* Account and write interval k from the tables at the heads of the FIFOs
 * (those whose interval is k); gap_end > k writes one collapsed run of
 * empty intervals k..gap_end. */
static void emit(struct collector *c, uint64_t k, uint64_t gap_end,
		 bool final)
{
	struct fc_app *app = c->app;
	struct fc_flowtable *tabs[FC_MAX_WORKERS];
	struct fc_wtable *used[FC_MAX_WORKERS];
	struct fc_ft_interval iv;
	const struct fc_ft_record *recs = NULL;
	uint64_t n = 0, pkts = 0, drops = 0, s0;
	unsigned nt = 0;
	/* Sinks that all stream take the records as the merge makes them,
	 * still in the caches (no array of the interval's records in
	 * memory); with --anonymize the records are mapped and sorted
	 * again first. */
	const bool stream = c->anon == NULL && fc_sinks_stream(&app->sinks);
	int rc;

	memset(&iv, 0, sizeof(iv));
	s0 = atomic_load_explicit(&app->start0, memory_order_acquire);
	iv.index = (uint32_t)k;
	iv.start = s0 + k * app->cfg.interval;
	iv.end = s0 + (gap_end + 1) * app->cfg.interval - 1;
	if (gap_end > k)
		iv.flags |= FC_FT_IV_GAP;
	for (unsigned w = 0; w < app->n_workers; w++) {
		struct fc_wtable *t = c->pend[w].head;

		if (t == NULL || t->iv != k)
			continue;
		c->pend[w].head = t->next_pending;
		if (c->pend[w].head == NULL)
			c->pend[w].tail = NULL;
		tabs[nt] = t->ft;
		used[nt++] = t;
		iv.rx_pkts += t->rx_pkts;
		for (unsigned i = 0; i < FC_CTR_MAX; i++)
			iv.ctr[i] += t->ctr[i];
		iv.flags |= t->flags & (FC_FT_IV_PARTIAL | FC_FT_IV_LATE |
					FC_FT_IV_RULES_CHANGED);
		if (t->flags & FC_FT_IV_LATE)
			atomic_fetch_add_explicit(&app->late_handoffs, 1,
						  memory_order_relaxed);
	}
	if (final) {
		iv.flags |= FC_FT_IV_LAST;
		uint64_t last = atomic_load_explicit(&app->last_ts,
						     memory_order_acquire);
		if (!app->trace_mode) {
			last = 0;
			for (unsigned i = 0; i < nt; i++)
				if (used[i]->last_ts > last)
					last = used[i]->last_ts;
		}
		if (last >= iv.start && last < iv.end)
			iv.end = last;
	}
	if (!app->trace_mode && app->n_ports > 0) {
		uint64_t nic[3];

		fc_ports_nic_read(app, final, &nic[0], &nic[1], &nic[2]);
		iv.ctr[FC_CTR_NIC_IMISSED] += nic[0] - c->nic_prev[0];
		iv.ctr[FC_CTR_NIC_NOMBUF] += nic[1] - c->nic_prev[1];
		iv.ctr[FC_CTR_NIC_IERRORS] += nic[2] - c->nic_prev[2];
		iv.rx_pkts += (nic[0] - c->nic_prev[0]) +
			      (nic[1] - c->nic_prev[1]) +
			      (nic[2] - c->nic_prev[2]);
		memcpy(c->nic_prev, nic, sizeof(nic));
	}
	if (stream) {
		fc_sinks_begin(&app->sinks, &iv);
		rc = fc_merge_tables_each(c->merge, tabs, nt, stream_burst, app,
					  &n, &pkts);
	} else {
		rc = fc_merge_tables(c->merge, tabs, nt, &recs, &n, &pkts);
	}
	if (rc != 0) {
		FC_WARN("out of memory merging interval %" PRIu64
			"\n", k);
		n = 0;
		recs = NULL;
		/* The packets are then accounted as lost to a full table. */
		for (unsigned i = 0; i < nt; i++)
			iv.ctr[FC_CTR_TBL_FULL] += tabs[i]->pkts;
		pkts = 0;
	}
	if (c->anon != NULL && n > 0 && (recs = anonymize(c, recs, n)) == NULL) {
		FC_WARN("out of memory anonymising interval %" PRIu64 "\n", k);
		n = 0;
		for (unsigned i = 0; i < nt; i++)
			iv.ctr[FC_CTR_TBL_FULL] += tabs[i]->pkts;
		pkts = 0;
	}
	iv.rec_pkts = pkts;
	iv.n_records = n;
	for (unsigned i = 1; i < FC_CTR_INFO_FIRST; i++)
		drops += iv.ctr[i];
	if (iv.rx_pkts != iv.rec_pkts + drops) {
		app->conservation_ok = false;
		FC_WARN("interval %" PRIu64 ": received %" PRIu64
			" != %" PRIu64 " in records + %" PRIu64 " dropped\n",
			k, iv.rx_pkts, iv.rec_pkts, drops);
	}
	if (!stream)
		count_labels(app, recs, n);
	app->tot_rx += iv.rx_pkts;
	app->tot_rec += iv.rec_pkts;
	for (unsigned i = 0; i < FC_CTR_MAX; i++)
		app->tot_ctr[i] += iv.ctr[i];
	/* Fault injection (--test-collector-delay): a slow disk. */
	if (app->cfg.test_collector_delay_ms)
		rte_delay_us_sleep(app->cfg.test_collector_delay_ms * 1000u);
	/* Every sink in turn: the file first. A sink's failure is counted
	 * on it and logged by it; the others still get the interval. */
	FC_DEBUG("collector: interval %" PRIu64 " (start %" PRIu64 "): %u "
		 "table(s), %" PRIu64 " records, %" PRIu64 " of %" PRIu64
		 " packets in records\n", k, iv.start, nt, n, iv.rec_pkts,
		 iv.rx_pkts);
	if (stream)
		fc_sinks_end(&app->sinks, &iv);
	else
		fc_sinks_interval(&app->sinks, &iv, recs, n);
	fc_metrics_interval(app, &iv); /* --metrics-file, telemetry */
	/* Tables go back clean; the worker takes them without work. */
	for (unsigned i = 0; i < nt; i++)
		give_back(c, used[i]);
}

/* Give back the waiting tables of interval k that carry nothing. */
static void give_back_empty(struct collector *c, uint64_t k)
{
	for (unsigned w = 0; w < c->app->n_workers; w++) {
		struct pending *p = &c->pend[w];

		while (p->head != NULL && p->head->iv == k &&
		       !table_has_data(p->head)) {
			struct fc_wtable *t = p->head;

			p->head = t->next_pending;
			if (p->head == NULL)
				p->tail = NULL;
			give_back(c, t);
		}
	}
}

/* Write every interval that is complete. Returns true when the run is over. */
static bool step(struct collector *c)
{
	struct fc_app *app = c->app;
	struct fc_iv_worker v[FC_MAX_WORKERS];
	bool fin = all_last(c);

	if (atomic_load_explicit(&app->start0, memory_order_acquire) ==
	    UINT64_MAX) {
		/* No packet yet: nothing to write. Finished without a single
		 * packet: the tables can only hold drop counters of frames
		 * with no time, which cannot happen; stop. */
		return fin;
	}
	for (;;) {
		struct fc_iv_action a;

		for (unsigned w = 0; w < app->n_workers; w++) {
			const struct pending *p = &c->pend[w];

			v[w].sealed = p->sealed;
			v[w].has_head = p->head != NULL;
			v[w].head_iv = p->head != NULL ? p->head->iv : 0;
			v[w].head_data = p->head != NULL &&
					 table_has_data(p->head);
		}
		fc_iv_collect_next(&c->plan, v, app->n_workers, fin, c->max_iv,
				   &a);
		switch (a.act) {
		case FC_IV_WAIT:
			return false;
		case FC_IV_DONE:
			return true;
		case FC_IV_GIVE_BACK:
			/* An idle worker hands in an empty table each time
			 * the clock passes an interval: they go straight
			 * back, so it never runs short while a run of empty
			 * intervals grows. */
			give_back_empty(c, a.from);
			break;
		case FC_IV_WRITE:
			emit(c, a.from, a.to, a.last);
			break;
		}
	}
}

int fc_collector_main(void *arg)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct fc_app *app = arg;

	if (c == NULL || (c->merge = fc_merge_create()) == NULL) {
		FC_WARN("collector: out of memory\n");
		free(c);
		atomic_store(&app->stop, 2);
		atomic_store(&app->collector_done, true);
		return -ENOMEM;
	}
	c->app = app;
	if (app->cfg.anon && (c->anon = fc_anon_create(app->cfg.anon_key)) ==
				     NULL) {
		/* Never write real addresses when asked not to. */
		FC_WARN("collector: --anonymize: cannot set up AES-128\n");
		fc_merge_free(c->merge);
		free(c);
		atomic_store(&app->stop, 2);
		atomic_store(&app->collector_done, true);
		return -ENOMEM;
	}
	fc_iv_collect_init(&c->plan, app->cfg.max_empty);
	if (!app->trace_mode && app->n_ports > 0)
		fc_ports_nic_read(app, false, &c->nic_prev[0],
				  &c->nic_prev[1], &c->nic_prev[2]);
	for (;;) {
		if (drain_queue(c) && step(c))
			break;
		rte_delay_us_sleep(200);
	}

	fc_sinks_flush(&app->sinks);
	/* Whatever is still queued (a run that saw no packet at all) goes
	 * back to its worker, so every table is accounted for at exit. */
	while (!drain_queue(c))
		rte_pause(); /* every producer has finished: brief */
	for (unsigned w = 0; w < app->n_workers; w++)
		while (c->pend[w].head != NULL) {
			struct fc_wtable *t = c->pend[w].head;

			c->pend[w].head = t->next_pending;
			rte_ring_sp_enqueue(app->workers[w].free, t);
		}
	fc_merge_free(c->merge);
	fc_anon_free(c->anon);
	free(c->abuf);
	free(c);
	atomic_store_explicit(&app->collector_done, true, memory_order_release);
	return 0;
}
