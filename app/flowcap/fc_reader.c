/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Trace input (--read): the main lcore reads pcap/pcapng files in order,
 * runs the one sequential interval clock (Corsaro's semantics), and feeds
 * the workers through their rings: packets sharded by the symmetric flow
 * hash, and in-band markers for interval changes, link-type changes and the
 * end of input. Every worker therefore seals at exactly the same point of
 * the trace and N workers count what one would. The reader may wait for a
 * full ring (offline input has no deadline); workers never wait.
 */
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "fc_app.h"
#include "fc_trace.h"

struct stage {
	void *obj[FC_BURST];
	unsigned n;
};

static void flush_one(struct fc_app *app, unsigned w, struct stage *s)
{
	unsigned done = 0;

	if (app->inline_worker) {
		fc_worker_feed(&app->workers[w], s->obj, s->n);
		s->n = 0;
		return;
	}
	while (done < s->n) {
		done += rte_ring_sp_enqueue_burst(app->workers[w].in,
						  s->obj + done, s->n - done,
						  NULL);
		if (done < s->n)
			sched_yield(); /* let the workers drain */
	}
	s->n = 0;
}

static void push(struct fc_app *app, struct stage *st, unsigned w, void *obj)
{
	st[w].obj[st[w].n++] = obj;
	if (st[w].n == FC_BURST)
		flush_one(app, w, &st[w]);
}

/* A marker goes to every worker, after what is staged for it. */
static void broadcast(struct fc_app *app, struct stage *st, uintptr_t v)
{
	for (unsigned w = 0; w < app->n_workers; w++) {
		push(app, st, w, (void *)v);
		flush_one(app, w, &st[w]);
	}
}

static struct rte_mbuf *get_mbuf(struct fc_app *app, struct stage *st)
{
	struct rte_mbuf *m;

	while ((m = rte_pktmbuf_alloc(app->pool)) == NULL) {
		/* Mbufs sit in staging buffers: push them out and wait for
		 * the workers to free some. */
		for (unsigned w = 0; w < app->n_workers; w++)
			flush_one(app, w, &st[w]);
		sched_yield();
	}
	return m;
}

static void print_progress(struct fc_app *app, uint64_t pkts, uint64_t t0)
{
	double secs = (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz();

	fprintf(stderr,
		"flowcap: read %" PRIu64 " packets (%.2f Mpps), %" PRIu64
		" intervals written, collector backlog %" PRIu64 "\n",
		pkts, secs > 0 ? (double)pkts / secs / 1e6 : 0.0,
		atomic_load(&app->intervals_written),
		atomic_load(&app->backlog));
}

/* The worker a packet goes to: the symmetric flow hash, so both directions
 * of a conversation meet in one table. */
static unsigned shard(struct fc_app *app, const struct fc_trace_pkt *p,
		      uint32_t dlt)
{
	struct fc_ftkey key;

	if (app->n_workers > 1 &&
	    fc_parse_pkt(p->data, p->caplen, dlt, &key) == FC_PARSE_OK)
		return (unsigned)(((uint64_t)fc_ftkey_hash_sym(&key) *
				   app->n_workers) >>
				  32);
	return 0;
}

/* A packet as its worker's ring carries it: a pointer into a mapped file
 * (stable), else a copy in an mbuf (the data is gone at the next read). */
static void *make_msg(struct fc_app *app, struct stage *st, unsigned w,
		      const struct fc_trace_pkt *p, bool stable)
{
	if (stable) {
		struct fc_worker *wk = &app->workers[w];
		struct fc_desc *d =
			&wk->descs[wk->desc_head++ & (FC_DESC_N - 1)];

		d->data = p->data;
		d->len = p->caplen;
		d->mark = 0;
		return (void *)((uintptr_t)d | FC_MSG_DESC);
	}
	struct rte_mbuf *m = get_mbuf(app, st);
	uint32_t len = p->caplen;
	uint32_t room = rte_pktmbuf_tailroom(m);

	/* Only headers matter; a longer frame keeps its first 2 KB: every
	 * header. */
	if (len > room)
		len = room;
	memcpy(rte_pktmbuf_mtod(m, void *), p->data, len);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	m->packet_type = 0;
	return m;
}

static void mark_msg(void *obj, uint32_t mark)
{
	uintptr_t v = (uintptr_t)obj;

	if ((v & 3) == FC_MSG_DESC)
		((struct fc_desc *)(v & ~(uintptr_t)3))->mark = mark;
	else
		((struct rte_mbuf *)obj)->packet_type = mark << FC_PT_MARK_SHIFT;
}

/* The reader's one sequential clock and the packet it holds in doubt. */
struct rclock {
	struct fc_interval_clock clk;
	uint64_t max_jump;
	uint64_t jump_at; /**< a packet after this second is a jump */
	bool held;        /**< a jump waits for the next packet */
	uint64_t held_ts;
	unsigned held_w;
	void *held_msg;
};

/* A packet after rc->jump_at is a jump (fc_interval_is_jump): the bound
 * moves with the clock only, so a packet costs one compare. While a packet
 * is held every packet is past it (0), to settle the held one first. */
static void set_jump_at(struct rclock *rc)
{
	uint64_t end = fc_interval_end_of(&rc->clk, rc->clk.cur);

	if (rc->held)
		rc->jump_at = 0;
	else if (rc->max_jump == 0 || end > UINT64_MAX - rc->max_jump)
		rc->jump_at = UINT64_MAX;
	else
		rc->jump_at = end + rc->max_jump;
}

/* Count packet obj (second ts) on the clock and hand it to worker w, after
 * the markers of the intervals it closes. */
static inline void clock_send(struct fc_app *app, struct stage *st,
			      struct rclock *rc, uint64_t ts, unsigned w,
			      void *obj)
{
	uint64_t from, nclosed, k;
	bool late, first = !rc->clk.started;

	k = fc_interval_feed(&rc->clk, ts, &from, &nclosed, &late);
	if (first) {
		/* Partner: acquire loads in the collector. */
		atomic_store_explicit(&app->start0, rc->clk.start0,
				      memory_order_release);
		set_jump_at(rc);
	}
	if (nclosed) {
		broadcast(app, st, ((uintptr_t)k << 2) | FC_MSG_ADVANCE);
		set_jump_at(rc);
	}
	if (late)
		mark_msg(obj, FC_MARK_LATE);
	push(app, st, w, obj);
}

/* Settle the packet held in doubt: the next packet, at second ts, is a
 * jump too (time has moved on: the held one counts as any packet), or is
 * back (the held one was a lone outlier: bad_time, clock unmoved). At the
 * end of the input (end) the held packet counts as any packet. */
static void settle_held(struct fc_app *app, struct stage *st,
			struct rclock *rc, uint64_t ts, bool end)
{
	if (!rc->held)
		return;
	rc->held = false;
	set_jump_at(rc);
	if (end || fc_interval_is_jump(ts, fc_interval_end_of(&rc->clk,
							      rc->clk.cur),
				       rc->max_jump)) {
		clock_send(app, st, rc, rc->held_ts, rc->held_w, rc->held_msg);
	} else {
		mark_msg(rc->held_msg, FC_MARK_BADTIME);
		push(app, st, rc->held_w, rc->held_msg);
	}
}

int fc_reader_run(struct fc_app *app)
{
	struct stage st[FC_MAX_WORKERS];
	struct fc_trace *keep[FC_MAX_READS];
	unsigned n_keep = 0;
	struct rclock rk;
	uint64_t pkts = 0, t0 = rte_rdtsc(), next_print;
	uint64_t hz = rte_get_tsc_hz();
	uint32_t cur_dlt = UINT32_MAX;
	int rc = 0;

	memset(st, 0, sizeof(st));
	next_print = t0 + hz;
	memset(&rk, 0, sizeof(rk));
	fc_interval_init(&rk.clk, app->cfg.interval, app->cfg.align);
	rk.max_jump = app->cfg.max_jump;
	rk.jump_at = UINT64_MAX;
	for (unsigned f = 0; f < app->cfg.n_reads; f++) {
		char err[512];
		struct fc_trace *tr = fc_trace_open(app->cfg.reads[f], err,
						    sizeof(err));
		struct fc_trace_pkt p;
		int r;

		if (tr == NULL) {
			fprintf(stderr, "flowcap: %s\n", err);
			rc = -1;
			continue;
		}
		bool stable = fc_trace_stable(tr);

		while ((r = fc_trace_next(tr, &p, err, sizeof(err))) == 1) {
			uint64_t ts = p.ts_ns / 1000000000ULL;
			unsigned w;
			void *obj;

			if (atomic_load_explicit(&app->stop,
						 memory_order_relaxed) == 2)
				break;
			/* The packet held in doubt goes first, with the link
			 * type it was read with. */
			/* One compare: beyond the bound, or a packet held. */
			bool slow = ts > rk.jump_at;

			if (FC_UNLIKELY(slow) && rk.held)
				settle_held(app, st, &rk, ts, false);
			/* Link type changes (a new file, a pcapng interface)
			 * travel in band, in order with the packets. */
			if (FC_UNLIKELY(p.dlt != cur_dlt)) {
				cur_dlt = p.dlt;
				broadcast(app, st,
					  ((uintptr_t)cur_dlt << 2) | FC_MSG_DLT);
			}
			w = shard(app, &p, cur_dlt);
			obj = make_msg(app, st, w, &p, stable);
			if (FC_UNLIKELY(slow) && ts > rk.jump_at) {
				/* Time jumps: believed only if the next
				 * packet agrees. */
				rk.held = true;
				rk.held_ts = ts;
				rk.held_w = w;
				rk.held_msg = obj;
				set_jump_at(&rk);
			} else {
				clock_send(app, st, &rk, ts, w, obj);
			}
			pkts++;
			if ((pkts & 4095) == 0 && app->cfg.stats > 0 &&
			    rte_rdtsc() > next_print) {
				print_progress(app, pkts, t0);
				next_print = rte_rdtsc() + hz;
			}
		}
		if (r < 0) {
			/* Packets before the damage were delivered; say so
			 * and stop reading, as a truncated input ends. */
			fprintf(stderr, "flowcap: %s\n", err);
			rc = -1;
		}
		/* A mapped file stays mapped until the workers are done
		 * with the pointers into it. */
		if (stable)
			keep[n_keep++] = tr;
		else
			fc_trace_close(tr);
		if (atomic_load(&app->stop) == 2)
			break;
	}
	settle_held(app, st, &rk, 0, true);
	atomic_store_explicit(&app->last_ts, rk.clk.last_ts,
			      memory_order_release);
	for (unsigned w = 0; w < app->n_workers; w++)
		flush_one(app, w, &st[w]);
	broadcast(app, st, FC_MSG_END);
	for (unsigned w = 0; w < app->n_workers; w++)
		while (!atomic_load_explicit(&app->workers[w].done,
					     memory_order_acquire))
			rte_delay_us_sleep(1000);
	for (unsigned i = 0; i < n_keep; i++)
		fc_trace_close(keep[i]);
	return rc;
}
