/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Collector lcore: takes sealed tables from the wait-free queue, waits
 * until every worker has handed in (or moved past) an interval, merges that
 * interval's tables into sorted records and gives them to the file writer,
 * then resets the tables and returns them to their workers. Intervals are
 * written strictly in order. It is the only thread that touches files.
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

#include "fc_app.h"
#include "fc_ftdir.h"
#include "fc_merge.h"
#include "fc_version.h"

struct pending {
	struct fc_wtable *head, *tail;
	uint64_t sealed; /**< the worker's progress, loaded before a drain */
	bool last;       /**< the worker's final table has arrived */
};

struct collector {
	struct fc_app *app;
	struct pending pend[FC_MAX_WORKERS];
	struct fc_merge *merge;
	struct fc_ft_writer *wr;
	char path[4096];
	unsigned in_file;       /**< intervals in the open file */
	uint64_t max_iv;        /**< highest interval seen in any table */
	uint64_t nic_prev[3];
	uint64_t file_rx;       /**< worker packets of the open file's intervals */
	/* When interval k may be written, and how runs of empty intervals
	 * are written (lib/interval decides; the collector acts). */
	struct fc_iv_collect plan;
	bool dir_gone;          /**< the output directory was found missing */
};

/*
 * Packets of intervals that are now in a completed file or reported LOST:
 * what a second signal would not abandon. Partner: the relaxed load in
 * main's signal handler (a count for a message, no ordering needed).
 */
static void settle(struct collector *c, uint64_t pkts)
{
	atomic_fetch_add_explicit(&c->app->pkts_settled, pkts,
				  memory_order_relaxed);
}

/*
 * After a failed write: is the output directory still there? Removed (or
 * replaced by something else) during the run, every interval is LOST until
 * it exists again; say so once, naming it, rather than only through the
 * per-interval LOST lines.
 */
static void check_out_dir(struct collector *c)
{
	const char *dir = c->app->cfg.out_dir;
	struct stat st;

	const char *why = "not a directory";

	if (stat(dir, &st) != 0)
		why = strerror(errno);
	else if (S_ISDIR(st.st_mode))
		return;
	if (!c->dir_gone)
		FC_WARN("output directory '%s' is gone (%s): every interval is "
			"LOST until it exists again (mkdir -p %s); capture "
			"continues\n",
			dir, why, dir);
	c->dir_gone = true;
}

/* A file was opened or completed: if the directory had gone, it is back. */
static void dir_back(struct collector *c)
{
	if (!c->dir_gone)
		return;
	c->dir_gone = false;
	FC_INFO("output directory '%s' is back: writing resumed with %s\n",
		c->app->cfg.out_dir, c->path);
}

static void drain_queue(struct collector *c)
{
	struct cds_wfcq_node *node;

	/* Progress first, then the queue: a table enqueued before a worker
	 * stored its progress is found by the drain below. Partner: the
	 * release store in the worker's set_iv() and finish(). */
	for (unsigned w = 0; w < c->app->n_workers; w++)
		c->pend[w].sealed = atomic_load_explicit(
			&c->app->workers[w].sealed, memory_order_acquire);

	/* Single consumer: the non-blocking dequeue needs no lock. It may
	 * return WOULDBLOCK while a producer is mid-enqueue; we retry on
	 * the next round. */
	for (;;) {
		node = __cds_wfcq_dequeue_nonblocking(&c->app->q_head,
						      &c->app->q_tail);
		if (node == NULL || node == CDS_WFCQ_WOULDBLOCK)
			break;
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

static void close_file(struct collector *c)
{
	int rc;

	if (c->wr == NULL)
		return;
	unsigned n = c->in_file;

	rc = fc_ft_writer_close(c->wr);
	int e = errno; /* FC_FT_E_DIRSYNC: why the directory fsync failed */

	c->wr = NULL;
	c->in_file = 0;
	settle(c, c->file_rx);
	c->file_rx = 0;
	if (rc == FC_FT_E_DIRSYNC) {
		/* Written and complete: only the name's durability is in
		 * doubt, and an interval in a readable file is not lost. */
		FC_WARN("wrote %s: %s (%s); check the disk\n", c->path,
			fc_ft_strerror(rc), strerror(e));
		atomic_fetch_add_explicit(&c->app->files_unsynced, 1,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&c->app->files_written, 1,
					  memory_order_relaxed);
		return;
	}
	if (rc != FC_FT_OK) {
		check_out_dir(c);
		FC_WARN("cannot complete %s: %s; its %u interval(s) are LOST; "
			"capture continues\n",
			c->path, fc_ft_strerror(rc), n);
		atomic_fetch_add_explicit(&c->app->intervals_lost, n,
					  memory_order_relaxed);
		atomic_fetch_sub_explicit(&c->app->intervals_written, n,
					  memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&c->app->files_written, 1,
				  memory_order_relaxed);
	FC_INFO("wrote %s\n", c->path);
}

static int open_file(struct collector *c, uint64_t start)
{
	const struct fc_cfg *cfg = &c->app->cfg;
	struct fc_ft_file_info info = {0};
	char name[PATH_MAX];
	int st = FC_FT_OK;

	/* check_cfg expanded this template and checked the name already;
	 * a failure here still says what failed. */
	st = fc_template_expand(name, sizeof(name), cfg->tmpl, cfg->name,
				FC_PLUGIN_FLOWTUPLE, start);
	if (st != 0) {
		snprintf(c->path, sizeof(c->path), "%s/%s", cfg->out_dir,
			 cfg->tmpl);
		return FC_FT_E_ERRNO(-st);
	}
	info.kind = FC_FT_KIND_FLOWTUPLE;
	info.interval_len = cfg->interval;
	info.flags = cfg->align ? FC_FT_F_ALIGNED : 0;
	info.created = fc_wall_now_ns() / 1000000000ULL;
	snprintf(info.monitor, sizeof(info.monitor), "%s", cfg->name);
	fc_version_writer(info.writer, sizeof(info.writer), "flowcap");
	/* A name taken already (the same trace written twice into one
	 * directory) is never replaced: the next free NAME-k is used. */
	for (unsigned dup = 0; dup < FC_FT_DUP_MAX; dup++) {
		int rc = fc_ft_path_dup(c->path, sizeof(c->path), cfg->out_dir,
					name, dup);

		if (rc != 0)
			return FC_FT_E_ERRNO(-rc);
		c->wr = fc_ft_writer_open(c->path, &info, &st);
		if (c->wr != NULL) {
			/* check_cfg took the level from the writer's range. */
			fc_ft_writer_set_level(c->wr, cfg->zstd_level);
			if (cfg->file_gid != (gid_t)-1 || cfg->file_mode >= 0) {
				st = fc_ft_writer_set_perm(c->wr, cfg->file_gid,
							   cfg->file_mode);
				if (st != FC_FT_OK) {
					fc_ft_writer_abort(c->wr);
					c->wr = NULL;
					return st;
				}
			}
			if (dup > 0)
				FC_WARN("%s/%s exists already: writing %s\n",
					cfg->out_dir, name, c->path);
			return FC_FT_OK;
		}
		if (st != FC_FT_E_EXISTS)
			break;
	}
	return st;
}

/* Write interval iv (wrx: the packets its workers received) to the open
 * file, opening one if needed; on failure count it LOST and go on. */
static void write_interval(struct collector *c, struct fc_ft_interval *iv,
			   const struct fc_ft_record *recs, uint64_t n,
			   uint64_t wrx)
{
	int rc;

	if (c->wr == NULL) {
		rc = open_file(c, iv->start);
		if (rc != FC_FT_OK)
			goto fail;
		dir_back(c);
	}
	rc = fc_ft_writer_add_interval(c->wr, iv, recs, n);
	if (rc != FC_FT_OK) {
		/* The intervals already in this file go with it: the file
		 * cannot be completed without the space that just ran out. */
		if (c->in_file > 0) {
			FC_WARN("%u earlier interval(s) of %s are LOST with it\n",
				c->in_file, c->path);
			atomic_fetch_add_explicit(&c->app->intervals_lost,
						  c->in_file,
						  memory_order_relaxed);
		}
		fc_ft_writer_abort(c->wr);
		c->wr = NULL;
		c->in_file = 0;
		settle(c, c->file_rx);
		c->file_rx = 0;
		goto fail;
	}
	atomic_fetch_add_explicit(&c->app->intervals_written, 1,
				  memory_order_relaxed);
	c->file_rx += wrx;
	if (++c->in_file >= c->app->cfg.rotate)
		close_file(c);
	return;
fail:
	settle(c, wrx);
	check_out_dir(c);
	atomic_fetch_add_explicit(&c->app->intervals_lost, 1,
				  memory_order_relaxed);
	FC_WARN("interval %" PRIu64 " (start %" PRIu64 ", %" PRIu64
		" records, %" PRIu64 " packets) LOST: cannot write %s: %s; "
		"capture continues\n",
		(uint64_t)iv->index, iv->start, n, iv->rec_pkts, c->path,
		fc_ft_strerror(rc));
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
	uint64_t n = 0, pkts = 0, drops = 0, wrx, s0;
	unsigned nt = 0;

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
		iv.flags |= t->flags & (FC_FT_IV_PARTIAL | FC_FT_IV_LATE);
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
	wrx = iv.rx_pkts; /* what the workers received, before NIC drops */
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
	if (fc_merge_tables(c->merge, tabs, nt, &recs, &n, &pkts) != 0) {
		FC_WARN("out of memory merging interval %" PRIu64
			"\n", k);
		n = 0;
		recs = NULL;
		/* The packets are then accounted as lost to a full table. */
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
	app->tot_rx += iv.rx_pkts;
	app->tot_rec += iv.rec_pkts;
	for (unsigned i = 0; i < FC_CTR_MAX; i++)
		app->tot_ctr[i] += iv.ctr[i];
	/* Fault injection (--test-collector-delay): a slow disk. */
	if (app->cfg.test_collector_delay_ms)
		rte_delay_us_sleep(app->cfg.test_collector_delay_ms * 1000u);
	write_interval(c, &iv, recs, n, wrx);
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
	fc_iv_collect_init(&c->plan, app->cfg.max_empty);
	if (!app->trace_mode && app->n_ports > 0)
		fc_ports_nic_read(app, false, &c->nic_prev[0],
				  &c->nic_prev[1], &c->nic_prev[2]);
	for (;;) {
		drain_queue(c);
		if (step(c))
			break;
		rte_delay_us_sleep(200);
	}

	close_file(c);
	/* Whatever is still queued (a run that saw no packet at all) goes
	 * back to its worker, so every table is accounted for at exit. */
	drain_queue(c);
	for (unsigned w = 0; w < app->n_workers; w++)
		while (c->pend[w].head != NULL) {
			struct fc_wtable *t = c->pend[w].head;

			c->pend[w].head = t->next_pending;
			rte_ring_sp_enqueue(app->workers[w].free, t);
		}
	fc_merge_free(c->merge);
	free(c);
	atomic_store_explicit(&app->collector_done, true, memory_order_release);
	return 0;
}
