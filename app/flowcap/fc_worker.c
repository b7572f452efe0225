/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker lcore: receive a burst, parse every packet into a key, count the
 * keys in this worker's own table, and at each interval boundary hand the
 * sealed table to the collector through a wait-free queue and carry on
 * with a fresh one. Nothing here locks or allocates, and on live ports
 * nothing waits: when no fresh table is available (collector behind) the
 * packets are counted as no_table drops. Input without a deadline (a
 * trace, a replay with trace time) waits for a table instead. It does not
 * write files or merge.
 */
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include <sched.h>

#include <urcu-qsbr.h>

#include "fc_app.h"
#include "fc_count.h"
#include "fc_trace.h"

_Static_assert(FC_BURST_MAX <= FC_COUNT_BURST_MAX &&
		       FC_BURST <= FC_COUNT_BURST_MAX,
	       "a burst fits the stage");

/* A parse status is the id of the counter that counts it (count_drop(w,
 * st)): enum fc_parse_status takes its values from fc_counter.h. */

/*
 * A quiescent state (QSBR): this worker holds no pointer into a rules
 * generation read before; then the generation in force is read again.
 * Once per poll loop, and in every wait. Nothing the caller keeps in
 * locals may point into the rules: only w->rs and what hangs from it.
 */
static inline void rules_refresh(struct fc_worker *w)
{
	const struct fc_rules *rs;

	if (w->ctx.rules == NULL)
		return;
	/* The feeder's inline worker runs on the control thread, which
	 * publishes the rules itself: no reader state to announce. Nothing
	 * of the generation in use is read from here on (after the quiescent
	 * state, or for the inline worker after a reload between two feeds,
	 * it may be freed): what this worker needs of it is in w->rs_gen and
	 * w->rs_cls. Generations, not pointers, are compared: a new one may
	 * sit at a freed one's address. */
	if (FC_LIKELY(w->qsbr))
		rcu_quiescent_state();
	rs = rcu_dereference(*w->ctx.rules);
	uint64_t gen = rs != NULL ? rs->gen : 0;

	if (FC_UNLIKELY(gen != w->rs_gen)) {
		bool cls = rs != NULL && rs->cls != NULL;

		/* A reload: the interval's labels come from two rule sets. */
		if (w->rs_gen != 0 && w->cur != NULL && rs != NULL &&
		    (cls || w->rs_cls))
			w->cur->flags |= FC_FT_IV_RULES_CHANGED;
		w->rs = rs;
		w->rs_gen = gen;
		w->rs_cls = cls;
		w->flt_eth = rs != NULL && rs->flt != NULL ?
				     fc_filter_prog_for(rs->flt, FC_DLT_EN10MB) :
				     NULL;
		w->has_flt = rs != NULL && rs->flt != NULL;
	}
}

/* Bytes of the L4 header before the payload, or 0 when the header is
 * not all captured (no payload is then scanned). */
static uint32_t l4_hdr_len(uint8_t proto, const uint8_t *l4, uint32_t len)
{
	uint32_t h;

	switch (proto) {
	case 6:
		if (len < 13)
			return 0;
		h = (uint32_t)(l4[12] >> 4) * 4;
		return h >= 20 ? h : 0;
	case 17: h = 8; break;
	case 132: h = 12; break;
	case 1:
	case 58: h = 8; break;
	default: return 0;
	}
	return h;
}

/*
 * The optional key fields of the frame just staged: its payload label
 * (--classify) and outermost VLAN ID (--key-vlan). The frame is walked
 * again (fc_parse_pkt_loc) to find its L4 header; the staged key gets the
 * fields and, if compact, its hash again. Cold: taken only when one of the
 * options is given, so the common path pays one predicted branch.
 */
static FC_NOINLINE void stage_ext(struct fc_worker *w, const uint8_t *p,
				  uint32_t len, uint32_t dlt, unsigned n4)
{
	struct fc_count *s = w->stg;
	const struct fc_rules *rs = w->rs;
	struct fc_parse_loc loc;
	struct fc_ftkey k;
	unsigned label = 0, vlan = 0;

	if (fc_parse_pkt_loc(p, len, dlt, &k, &loc) != FC_PARSE_OK)
		return;
	if (w->ctx.key_vlan)
		vlan = loc.vlan;
	if (rs != NULL && rs->db != NULL && loc.l4 != NULL) {
		uint32_t h = l4_hdr_len(k.proto, loc.l4, loc.l4len);

		if (h != 0 && loc.l4len > h) {
			uint32_t n = loc.l4len - h;

			if (n > w->ctx.cls_bytes)
				n = w->ctx.cls_bytes;
			label = rs->label_map[fc_cls_match(
				rs->db, rs->scratch[w->id], k.proto,
				k.src_port, k.dst_port, loc.l4 + h, n)];
		}
	}
	if ((label | vlan) == 0)
		return;
	if (s->n4 != n4) {
		struct fc_ftkey4 *c = &s->c4[s->n4 - 1];

		c->w[2] |= ((uint64_t)label | (uint64_t)vlan << 12) << 40;
		c->hash = fc_ftkey4_hash(c->w[0], c->w[1], c->w[2]);
	} else {
		fc_ftkey_set_ext(&s->k6[s->n6 - 1], label, vlan);
	}
}

/* Take a fresh table from the free ring; NULL when the collector has all
 * of them. */
static struct fc_wtable *take_table(struct fc_worker *w)
{
	void *p;

	if (rte_ring_sc_dequeue(w->free, &p) != 0)
		return NULL;
	return p;
}

static void attach_table(struct fc_worker *w, struct fc_wtable *t)
{
	t->iv = w->iv;
	t->flags = 0;
	t->rx_pkts = w->pend_rx;
	t->last_ts = 0;
	memcpy(t->ctr, w->pend_ctr, sizeof(t->ctr));
	/* Packets were dropped while the collector held every table: the
	 * interval that reports them is flagged late. */
	if (w->pend_ctr[FC_CTR_NO_TABLE])
		t->flags |= FC_FT_IV_LATE;
	w->pend_rx = 0;
	memset(w->pend_ctr, 0, sizeof(w->pend_ctr));
	w->cur = t;
}

/*
 * Hand the current table over. Thread safety: cds_wfcq_enqueue is
 * wait-free for any number of producers; the collector is the only
 * dequeuer. The enqueue publishes the table contents (it implies a full
 * barrier before the node becomes visible).
 */
static void handoff(struct fc_worker *w, uint32_t flags)
{
	struct fc_wtable *t = w->cur;

	/* The keys of the last burst still waiting for their lines belong
	 * to this table. */
	fc_count_flush(w->stg, t->ft);
	t->worker = w->id;
	t->iv = w->iv;
	t->flags |= flags;
	t->ctr[FC_CTR_TBL_FULL] += t->ft->tbl_full;
	for (unsigned i = 1; i < FC_CTR_INFO_FIRST; i++)
		w->drops_done += t->ctr[i];
	for (unsigned i = 1; i < FC_CTR_LOSS_FIRST; i++)
		w->rej_done += t->ctr[i];
	w->filt_done += t->ctr[FC_CTR_FILTERED];
	cds_wfcq_node_init(&t->node);
	cds_wfcq_enqueue(w->ctx.q_head, w->ctx.q_tail, &t->node);
	w->cur = NULL;
}

/*
 * Make k the current interval and say so: every interval below k is
 * handed in (or had nothing from this worker). Partner: the collector's
 * acquire load of w->sealed, made before it drains the queue, so the
 * tables enqueued before this store are found by that drain.
 */
static void set_iv(struct fc_worker *w, uint64_t k)
{
	w->iv = k;
	if (w->cur != NULL)
		w->cur->iv = k;
	atomic_store_explicit(&w->sealed, k, memory_order_release);
}

/* Close the current interval and move to interval k (> w->iv). */
static FC_NOINLINE void advance(struct fc_worker *w, uint64_t k)
{
	if (w->cur != NULL)
		handoff(w, 0);
	/* Published before any wait below: the collector can then write
	 * every interval this worker has left, which is what frees the
	 * tables it waits for. */
	set_iv(w, k);
	struct fc_wtable *t = take_table(w);
	/* Input without a deadline (a trace, or a pcap replayed by net_pcap
	 * with its own times) waits for the collector rather than drop.
	 * Live capture never waits: it counts no_table. The wait ends: the
	 * collector needs from the workers only their progress (w->sealed,
	 * published above; an idle worker's follows the shared clock, which
	 * follows the watermarks published before any wait), never a table
	 * that this worker would have to give back first. */
	while (t == NULL && w->may_wait &&
	       atomic_load_explicit(w->ctx.stop, memory_order_relaxed) != 2) {
		/* A reload waiting for this worker must not wait for the
		 * collector too: quiescent, then the rules read again. */
		rules_refresh(w);
		sched_yield();
		t = take_table(w);
	}
	if (t != NULL)
		attach_table(w, t);
}

/* Final hand-off. Shutdown is the one place a worker may wait: for a table
 * to carry its last counters, should the collector still hold them all. */
static void finish(struct fc_worker *w, uint32_t flags)
{
	/* No rules are read from here on: a reload need not wait for
	 * this worker any more. */
	if (w->qsbr) {
		rcu_unregister_thread();
		w->qsbr = false;
	}
	w->rs = NULL;
	w->rs_gen = 0;
	w->rs_cls = false;
	if (w->cur == NULL) {
		struct fc_wtable *t;
		uint64_t spins = 0;

		while ((t = take_table(w)) == NULL) {
			rte_pause();
			if (++spins > (1ULL << 34))
				break;
		}
		if (t == NULL) {
			/* The collector is gone: nothing can be handed in. */
			atomic_store_explicit(&w->done, true,
					      memory_order_release);
			return;
		}
		attach_table(w, t);
	}
	handoff(w, flags | FC_FT_IV_LAST);
	atomic_store_explicit(&w->sealed, UINT64_MAX, memory_order_release);
	atomic_store_explicit(&w->done, true, memory_order_release);
}

/* Count every staged key in the current table; without one, its keys
 * were already counted as no_table (a hand-off counts the waiting keys
 * first, so none of them is dropped here). */
static inline void count_staged(struct fc_worker *w)
{
	if (FC_LIKELY(w->cur != NULL))
		fc_count_flush(w->stg, w->cur->ft);
	else
		fc_count_drop(w->stg);
}

/* End of a burst: count the previous burst's keys, whose lines have
 * arrived while this one was received and parsed, and leave this burst's
 * waiting for theirs. */
static inline void pipe_staged(struct fc_worker *w)
{
	if (FC_LIKELY(w->cur != NULL))
		fc_count_pipe(w->stg, w->cur->ft);
	else
		fc_count_drop(w->stg);
}

/* Count a packet that yields no record. */
static inline void count_drop(struct fc_worker *w, unsigned ctr)
{
	if (FC_LIKELY(w->cur != NULL))
		w->cur->ctr[ctr]++;
	else
		w->pend_ctr[ctr]++;
}

static inline void count_rx(struct fc_worker *w)
{
	if (FC_LIKELY(w->cur != NULL))
		w->cur->rx_pkts++;
	else
		w->pend_rx++;
}

/* Figures for the stats line: relaxed stores, read by main only for
 * display. Called every few hundred polls, never per packet. Drops and
 * packets count from the start, so a reader can take differences; lost
 * packets and rejected frames (FC_CTR_LOSS_FIRST) are published apart. */
static void publish(struct fc_worker *w)
{
	struct fc_wtable *t = w->cur;
	uint64_t drops = w->drops_done, rej = w->rej_done;
	uint64_t filt = w->filt_done;

	for (unsigned i = 1; i < FC_CTR_INFO_FIRST; i++) {
		uint64_t n = w->pend_ctr[i] + (t ? t->ctr[i] : 0);

		drops += n;
		if (i < FC_CTR_LOSS_FIRST)
			rej += n;
		else if (i == FC_CTR_FILTERED)
			filt += n;
	}
	if (t != NULL) {
		drops += t->ft->tbl_full;
		atomic_store_explicit(&w->pub_fill, t->ft->n_keys,
				      memory_order_relaxed);
	}
	atomic_store_explicit(&w->pub_lost, drops - rej - filt,
			      memory_order_relaxed);
	atomic_store_explicit(&w->pub_rej, rej, memory_order_relaxed);
	atomic_store_explicit(&w->pub_filt, filt, memory_order_relaxed);
}

/* --- live ports ---------------------------------------------------------- */

/* Interval index for second ts; sets the shared start on the first packet. */
static inline uint64_t live_interval(struct fc_worker *w, uint64_t ts,
				     bool *late)
{
	uint64_t s0 = atomic_load_explicit(w->ctx.start0,
					   memory_order_acquire);
	uint32_t len = w->ctx.interval;

	if (FC_UNLIKELY(s0 == UINT64_MAX)) {
		uint64_t want = fc_interval_start0(ts, len, w->ctx.align);

		/* One CAS per run: the first packet of any worker fixes the
		 * grid. Partner: the acquire load above. */
		if (atomic_compare_exchange_strong_explicit(
			    w->ctx.start0, &s0, want, memory_order_acq_rel,
			    memory_order_acquire))
			s0 = want;
	}
	if (FC_UNLIKELY(!w->started)) {
		w->started = true;
		set_iv(w, ts >= s0 ? (ts - s0) / len : 0);
	}
	return fc_interval_live_index(s0, len, w->iv, ts, late);
}

/* Newest packet second seen, for the shared clock. Partner: main's acquire
 * load when it computes the clock. */
static inline void publish_watermark(struct fc_worker *w, uint64_t ts)
{
	if (ts > atomic_load_explicit(&w->watermark, memory_order_relaxed))
		atomic_store_explicit(&w->watermark, ts, memory_order_release);
}

/* The current interval's bounds, for the one-compare check per packet. */
static void set_range(struct fc_worker *w)
{
	uint64_t s0 = atomic_load_explicit(w->ctx.start0,
					   memory_order_acquire);

	if (s0 == UINT64_MAX || !w->started || w->held != NULL) {
		w->iv_lo = 1;
		w->iv_hi = 0; /* empty: every packet takes the slow path */
		return;
	}
	w->iv_lo = s0 + w->iv * w->ctx.interval;
	w->iv_hi = w->iv_lo + w->ctx.interval - 1;
}

/* Hand what the burst counted so far to the current table: all of it
 * before the table changes (all), else by fc_count_pipe. */
static inline void flush_live(struct fc_worker *w, unsigned nrx,
			      uint64_t last, bool all)
{
	if (FC_LIKELY(w->cur != NULL)) {
		if (fc_count_fresh(w->stg))
			w->cur->last_ts = last;
		w->cur->rx_pkts += nrx;
	} else {
		w->pend_rx += nrx;
	}
	if (all)
		count_staged(w);
	else
		pipe_staged(w);
}

static inline void live_one(struct fc_worker *w, struct rte_mbuf *m,
			    uint64_t ts, unsigned *nrx, uint64_t *last,
			    uint64_t *maxts, const uint32_t dlt);

/* Last second of the current interval (the worker has started). */
static uint64_t live_end(const struct fc_worker *w)
{
	uint64_t s0 = atomic_load_explicit(w->ctx.start0,
					   memory_order_acquire);

	return s0 + (w->iv + 1) * w->ctx.interval - 1;
}

/* Settle the packet held in doubt, now that a packet at second ts has come
 * (fc_interval_is_jump: the rule a trace follows too). */
static void live_settle(struct fc_worker *w, uint64_t ts, bool end,
			unsigned *nrx, uint64_t *last, uint64_t *maxts)
{
	struct rte_mbuf *h = w->held;
	uint64_t hts = w->held_ts;

	w->held = NULL;
	set_range(w);
	if (end || fc_interval_is_jump(ts, live_end(w), w->ctx.max_jump)) {
		/* Time has moved on: the held packet counts as any. */
		w->trust = true;
		live_one(w, h, hts, nrx, last, maxts, w->dlt);
		w->trust = false;
	} else {
		/* A lone outlier: received, in no record. */
		(*nrx)++;
		count_drop(w, FC_CTR_BAD_TIME);
	}
	rte_pktmbuf_free(h); /* the reference taken to hold it */
}

/* A packet outside the current interval: first packet, late, a later
 * interval, a jump to hold, or a packet after a held one. Returns true
 * when packet m is held (it is counted when settled). Cold. */
static FC_NOINLINE bool live_slow(struct fc_worker *w, struct rte_mbuf *m,
				  uint64_t ts, unsigned *nrx, uint64_t *last,
				  uint64_t *maxts)
{
	bool late;
	uint64_t k;

	if (w->held != NULL) {
		live_settle(w, ts, false, nrx, last, maxts);
		if (ts >= w->iv_lo && ts <= w->iv_hi)
			return false;
	}
	if (w->started && !w->trust &&
	    fc_interval_is_jump(ts, live_end(w), w->ctx.max_jump)) {
		/* Time jumps: believed only if the next packet agrees.
		 * One more reference keeps the mbuf past the burst's free. */
		rte_mbuf_refcnt_update(m, 1);
		w->held = m;
		w->held_ts = ts;
		set_range(w);
		return true;
	}
	k = live_interval(w, ts, &late);
	if (k > w->iv) {
		flush_live(w, *nrx, *last, true);
		*nrx = 0;
		/* The time that moves this worker on is published before it
		 * may wait for a table: the shared clock then moves idle
		 * workers on, and the collector can write what blocks the
		 * tables (a burst can span more intervals than there are
		 * tables). Partner: main's acquire load of the watermarks. */
		publish_watermark(w, ts);
		advance(w, k);
	}
	set_range(w);
	if (late)
		count_drop(w, FC_CTR_LATE);
	return false;
}

/* One packet of a live burst at second ts. */
static inline void live_one(struct fc_worker *w, struct rte_mbuf *m,
			    uint64_t ts, unsigned *nrx, uint64_t *last,
			    uint64_t *maxts, const uint32_t dlt)
{
	/* The capture filter first: a refused packet is counted in the
	 * interval in force and moves no clock, except the first packet of
	 * a worker, which starts it (nothing would report an input whose
	 * every packet is filtered; with aligned intervals the grid is the
	 * same). */
	if (FC_UNLIKELY(w->has_flt) && !fc_filter_pass(w->flt_eth, m)) {
		if (FC_UNLIKELY(!w->started))
			live_slow(w, m, ts, nrx, last, maxts);
		(*nrx)++;
		count_drop(w, FC_CTR_FILTERED);
		return;
	}
	if (FC_UNLIKELY(ts < w->iv_lo || ts > w->iv_hi) &&
	    live_slow(w, m, ts, nrx, last, maxts))
		return;
	if (ts > *maxts)
		*maxts = ts;
	(*nrx)++;
	unsigned n4 = w->stg->n4;
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), pl;
	enum fc_parse_status st;

	/* With optional key fields: the parse says whether the frame may
	 * carry payload (a SYN, RST or ACK then costs a few instructions,
	 * not the walk in stage_ext). */
	if (FC_UNLIKELY(w->ctx.xk)) {
		if (w->ctx.key_vlan) {
			st = fc_count_parse(w->stg, data, len, dlt);
			pl = 1;
		} else {
			st = fc_count_parse_pl(w->stg, data, len, dlt, &pl);
		}
		if (st == FC_PARSE_OK && pl)
			stage_ext(w, data, len, dlt, n4);
	} else {
		st = fc_count_parse(w->stg, data, len, dlt);
	}
	if (FC_LIKELY(st == FC_PARSE_OK)) {
		if (FC_LIKELY(w->cur != NULL)) {
			*last = ts;
		} else {
			/* Staged alone: keys staged earlier were counted
			 * before the table went. */
			fc_count_drop(w->stg);
			w->pend_ctr[FC_CTR_NO_TABLE]++;
		}
	} else {
		count_drop(w, st);
	}
}

/* dlt: Ethernet, with FC_PARSE_DECAP under --decap; a constant in each
 * of process_live's two calls, so the default loop is the same code as
 * without the option. */
static inline void process_live_dlt(struct fc_worker *w, struct rte_mbuf **m,
				    unsigned n, uint64_t now_sec,
				    const uint32_t dlt)
{
	uint64_t maxts = 0, last = 0;
	unsigned nrx = 0;

	for (unsigned i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));
	for (unsigned i = 0; i < n; i++) {
		uint64_t ts = now_sec;

		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 4], void *));
		if (w->ctx.hw_ts && (m[i]->ol_flags & w->ctx.ts_flag)) {
			ts = *RTE_MBUF_DYNFIELD(m[i], w->ctx.ts_off,
						uint64_t *) /
			     FC_PCAP_TS_PER_SEC;
			/* Trace time from a replay: no deadline. */
			w->may_wait = true;
		}
		live_one(w, m[i], ts, &nrx, &last, &maxts, dlt);
	}
	flush_live(w, nrx, last, false);
	rte_pktmbuf_free_bulk(m, n);
	publish_watermark(w, maxts);
	atomic_store_explicit(&w->pub_rx,
			      atomic_load_explicit(&w->pub_rx,
						   memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static void process_live(struct fc_worker *w, struct rte_mbuf **m,
			 unsigned n, uint64_t now_sec)
{
	if (FC_LIKELY(w->dlt == FC_DLT_EN10MB))
		process_live_dlt(w, m, n, now_sec, FC_DLT_EN10MB);
	else
		process_live_dlt(w, m, n, now_sec,
				 FC_DLT_EN10MB | FC_PARSE_DECAP);
}

/* No packets this round: let the shared clock close our interval so an
 * idle worker never holds the others back. */
static void idle_live(struct fc_worker *w)
{
	uint64_t s0 = atomic_load_explicit(w->ctx.start0,
					   memory_order_acquire);
	uint64_t now = atomic_load_explicit(w->ctx.clock,
					    memory_order_acquire);
	uint64_t k;

	if (s0 == UINT64_MAX || now < s0)
		return;
	k = (now - s0) / w->ctx.interval;
	if (!w->started) {
		w->started = true;
		set_iv(w, k);
		set_range(w);
		return;
	}
	if (k > w->iv) {
		advance(w, k);
		set_range(w);
	}
}

/*
 * After a long run of empty polls, give the CPU away once: free on a
 * dedicated core (nothing else is runnable), and it keeps tests and
 * laptops with more lcores than CPUs moving.
 */
static inline void idle_pause(uint32_t *empty)
{
	if (++*empty >= 256) {
		*empty = 0;
		sched_yield();
	} else {
		rte_pause();
	}
}

/*
 * The live poll loop. Instantiated twice: with slow == false for every
 * production run, where the fault-injection delay below is compiled out,
 * and with slow == true only when --test-worker-delay is given.
 */
static __attribute__((always_inline)) inline int
run_live_loop(struct fc_worker *w, const bool slow)
{
	struct rte_mbuf *m[FC_BURST_MAX];
	uint32_t empty = 0, idle_rounds = 0;
	uint64_t hz = rte_get_tsc_hz(), tsc0 = rte_rdtsc();
	uint64_t wall0 = fc_wall_now_ns() / 1000000000ULL, polls = 0;

	for (;;) {
		unsigned got = 0;
		/* One TSC read per round of bursts: the fallback clock. */
		uint64_t now_sec = wall0 + (rte_rdtsc() - tsc0) / hz;

		rules_refresh(w);

		for (unsigned q = 0; q < w->n_rxq; q++) {
			uint16_t n = rte_eth_rx_burst(w->rxq[q].port,
						      w->rxq[q].queue, m,
						      w->burst);
			if (n) {
				/* No longer idle, said before the burst: one
				 * that waits for a table (a replay's trace
				 * time) must not look like a quiet input to
				 * --idle-exit meanwhile. */
				if (idle_rounds) {
					idle_rounds = 0;
					atomic_store_explicit(
						&w->pub_empty, 0,
						memory_order_relaxed);
				}
				process_live(w, m, n, now_sec);
				got += n;
			}
		}
		/* Fault injection (--test-worker-delay): a slow worker, so
		 * the device's queue overflows. Compiled out of the loop
		 * production runs use. */
		if (slow && got)
			rte_delay_us_sleep(w->ctx.test_delay_us);
		/* Checked every round, with traffic flowing too: a cached
		 * load of a read-mostly line (the stop flag has its own). */
		int stop = atomic_load_explicit(w->ctx.stop,
						memory_order_acquire);
		if (FC_UNLIKELY(stop)) {
			if (w->held != NULL) {
				/* The input ends: the held packet counts as
				 * any, as the last packet of a trace does. */
				uint64_t last = 0, maxts = 0;
				unsigned nrx = 0;

				live_settle(w, 0, true, &nrx, &last, &maxts);
				flush_live(w, nrx, last, true);
			}
			if (!w->started) {
				uint64_t s0 = atomic_load(w->ctx.start0);
				uint64_t c = atomic_load(w->ctx.clock);

				set_iv(w, (s0 != UINT64_MAX && c >= s0) ?
						  (c - s0) / w->ctx.interval :
						  0);
			}
			finish(w, stop == 2 ? FC_FT_IV_PARTIAL : 0);
			return 0;
		}
		if (got == 0) {
			/* Nothing to overlap the waiting keys with: count
			 * them, so the table is current when idle. */
			if (fc_count_pending(w->stg))
				count_staged(w);
			idle_live(w);
			if (idle_rounds < UINT32_MAX)
				atomic_store_explicit(&w->pub_empty,
						      ++idle_rounds,
						      memory_order_relaxed);
			idle_pause(&empty);
		} else {
			empty = 0;
		}
		if ((++polls & 1023) == 0)
			publish(w);
	}
}

static FC_NOINLINE int run_live(struct fc_worker *w)
{
	return run_live_loop(w, false);
}

static FC_NOINLINE int run_live_slow(struct fc_worker *w)
{
	return run_live_loop(w, true);
}

/* --- trace input (rings fed by the feeder) ------------------------------- */

/* Parse one frame of trace input into the stage (marks already taken
 * care of). */
static inline void ring_parse(struct fc_worker *w, const uint8_t *data,
			      uint32_t len)
{
	struct fc_count *stg = w->stg;
	unsigned n4 = stg->n4;
	enum fc_parse_status st;
	uint32_t pl;

	/* As in live_one: the parse tells a frame without payload. */
	if (FC_UNLIKELY(w->ctx.xk)) {
		if (w->ctx.key_vlan) {
			/* Every frame has a VLAN field to set. */
			st = fc_count_parse(stg, data, len, w->dlt);
			pl = 1;
		} else {
			st = fc_count_parse_pl(stg, data, len, w->dlt, &pl);
		}
		if (st == FC_PARSE_OK && pl)
			stage_ext(w, data, len, w->dlt, n4);
	} else {
		st = fc_count_parse(stg, data, len, w->dlt);
	}
	if (FC_LIKELY(st == FC_PARSE_OK)) {
		if (FC_UNLIKELY(w->cur == NULL)) {
			fc_count_drop(stg);
			w->pend_ctr[FC_CTR_NO_TABLE]++;
		}
	} else {
		count_drop(w, st);
	}
}

/* How far ahead of the frame it parses a run's worker asks for the
 * file's lines: the feeder brought them into its own core's caches, or
 * they have left them since (up to RUN_AHEAD runs ago). */
#define RUN_AHEAD_BYTES 2048

/*
 * Count a run of n packets of a mapped pcap (FC_MARK_RUN): consecutive
 * records, all of the current interval, none late, so nothing is looked
 * at but each frame and the length before it. The feeder has checked
 * every record's length. A burst of FC_BURST frames is staged while the
 * previous burst's lines arrive, as for packets off a ring.
 */
static void process_run(struct fc_worker *w, const uint8_t *data, uint32_t n,
			uint32_t span, int swap)
{
	const uint8_t *pf = data - 16, *end = data - 16 + span;

	while (n > 0) {
		unsigned b = n < FC_BURST ? n : FC_BURST;

		for (unsigned i = 0; i < b; i++) {
			uint32_t len = fc_trace_run_len(data, swap);
			const uint8_t *to = end - data > RUN_AHEAD_BYTES ?
						    data + RUN_AHEAD_BYTES :
						    end;

			while (pf < to) {
				rte_prefetch0(pf);
				pf += 64;
			}

			ring_parse(w, data, len);
			data = fc_trace_run_next(data, len);
		}
		if (FC_LIKELY(w->cur != NULL))
			w->cur->rx_pkts += b;
		else
			w->pend_rx += b;
		pipe_staged(w);
		n -= b;
	}
}

/* Count a burst from the feeder's ring; returns the packets in it (the
 * markers are not packets). */
static unsigned process_ring(struct fc_worker *w, void **objs, unsigned n,
			     bool *end)
{
	struct rte_mbuf *done[FC_BURST];
	unsigned nm = 0, np = 0;

	/* The feeder is up to a ring ahead: these bytes have left the
	 * cache. Ask for the whole burst's headers first. */
	for (unsigned i = 0; i < n; i++) {
		uintptr_t v = (uintptr_t)objs[i];

		if ((v & 3) == FC_MSG_DESC)
			rte_prefetch0(((const struct fc_desc *)(v & ~(uintptr_t)3))
					      ->data);
	}
	for (unsigned i = 0; i < n; i++) {
		uintptr_t v = (uintptr_t)objs[i];

		if (FC_UNLIKELY(v & 1)) {
			count_staged(w);
			if (v == FC_MSG_END) {
				int stop = atomic_load_explicit(
					w->ctx.stop, memory_order_acquire);

				if (nm)
					rte_pktmbuf_free_bulk(done, nm);
				finish(w, stop == 2 ? FC_FT_IV_PARTIAL : 0);
				*end = true;
				/* The feeder sends END last: nothing follows. */
				return np;
			}
			if ((v & 3) == FC_MSG_DLT)
				w->dlt = (uint32_t)(v >> 2) |
					 (w->dlt & FC_PARSE_DECAP);
			else if ((uint64_t)(v >> 2) > w->iv)
				advance(w, (uint64_t)(v >> 2));
			continue;
		}
		const uint8_t *data;
		uint32_t len, mark, span = 0;

		if (v & FC_MSG_DESC) {
			const struct fc_desc *d =
				(const struct fc_desc *)(v & ~(uintptr_t)3);

			data = d->data;
			len = d->len;
			mark = d->mark;
			span = d->span;
		} else {
			struct rte_mbuf *m = objs[i];

			data = rte_pktmbuf_mtod(m, const uint8_t *);
			len = rte_pktmbuf_data_len(m);
			mark = m->packet_type >> FC_PT_MARK_SHIFT;
			done[nm++] = m;
		}
		if (FC_UNLIKELY(mark)) {
			if (mark >= FC_MARK_RUN) {
				/* The packets staged so far first: a run
				 * stages bursts of its own. */
				count_staged(w);
				process_run(w, data, len, span,
					    mark == FC_MARK_RUN_SWAP);
				np += len;
				continue;
			}
			count_rx(w);
			np++;
			if (mark == FC_MARK_BADTIME) {
				/* In no record: its time is not believed. */
				count_drop(w, FC_CTR_BAD_TIME);
				continue;
			}
			if (mark == FC_MARK_FILTERED) {
				/* Refused by the feeder's filter. */
				count_drop(w, FC_CTR_FILTERED);
				continue;
			}
			count_drop(w, FC_CTR_LATE);
		} else {
			count_rx(w);
			np++;
		}
		ring_parse(w, data, len);
	}
	pipe_staged(w);
	if (nm)
		rte_pktmbuf_free_bulk(done, nm);
	return np;
}

/* An idle trace worker's naps: the first after 64 empty polls, each next
 * one in a row twice as long, up to RING_NAP_MAX_US. */
#define RING_NAP_US 50
#define RING_NAP_MAX_US 1000

static int run_ring(struct fc_worker *w)
{
	void *objs[FC_BURST];
	bool end = false;
	uint64_t polls = 0, rx = 0;
	uint32_t empty = 0, nap = RING_NAP_US;

	while (!end) {
		rules_refresh(w);
		unsigned n = rte_ring_sc_dequeue_burst(w->in, objs, FC_BURST,
						       NULL);
		if (n == 0) {
			if (fc_count_pending(w->stg))
				count_staged(w);
			/* Trace input: the feeder is the bottleneck, and a
			 * spinning worker would only burn CPU time the feeder
			 * could use. Nap once the ring stays empty (the ring
			 * holds milliseconds of packets). A nap that brought
			 * nothing doubles the next, up to 1 ms: a worker the
			 * feeder leaves without packets (a stalled pipe, a
			 * slow input) then wakes 1000 times a second, not
			 * 20000. Input at 32 packets a nap or more keeps the
			 * naps at 50 us, and a nap never delays the feeder:
			 * bursts for a worker whose ring is full go to
			 * worker 0 (fc_feeder.c). */
			if (++empty >= 64) {
				empty = 0;
				rte_delay_us_sleep(nap);
				if (rte_ring_count(w->in) == 0)
					nap = nap * 2 > RING_NAP_MAX_US ?
						      RING_NAP_MAX_US :
						      nap * 2;
			} else {
				rte_pause();
			}
			continue;
		}
		empty = 0;
		nap = RING_NAP_US;
		rx += process_ring(w, objs, n, &end);
		/* Every burst, as on live ports: a second signal reports
		 * what it abandons from it. A store to this worker's own
		 * line, read by nobody on the packet path. */
		atomic_store_explicit(&w->pub_rx, rx, memory_order_relaxed);
		if ((++polls & 255) == 0)
			publish(w);
	}
	return 0;
}

void fc_worker_feed(struct fc_worker *w, void **objs, unsigned n)
{
	bool end = false;
	uint64_t rx = atomic_load_explicit(&w->pub_rx, memory_order_relaxed);

	rules_refresh(w);
	uint64_t np = process_ring(w, objs, n, &end);

	atomic_store_explicit(&w->pub_rx, rx + np, memory_order_relaxed);
	if ((rx >> 13) != ((rx + np) >> 13))
		publish(w);
}

void fc_worker_bind(struct fc_worker *w, struct fc_app *app)
{
	w->ctx = (struct fc_worker_ctx){
		.interval = app->cfg.interval,
		.align = app->cfg.align,
		.hw_ts = app->hw_ts,
		.ts_off = app->ts_off,
		.ts_flag = app->ts_flag,
		.max_jump = app->cfg.max_jump,
		.test_delay_us = app->cfg.test_worker_delay_us,
		.start0 = &app->start0,
		.stop = &app->stop,
		.clock = &app->clock,
		.q_head = &app->q_head,
		.q_tail = &app->q_tail,
		.rules = &app->rules,
		.xk = app->cfg.classify != NULL || app->cfg.key_vlan,
		.key_vlan = app->cfg.key_vlan,
		.cls_bytes = app->cfg.classify_bytes,
		.decap = app->cfg.decap,
	};
}

void fc_worker_init(struct fc_worker *w)
{
	w->dlt = FC_DLT_EN10MB | (w->ctx.decap ? FC_PARSE_DECAP : 0);
	w->may_wait = w->src == FC_SRC_RING;
	w->iv_lo = 1;
	w->iv_hi = 0;
	w->cur = take_table(w);
	if (w->cur != NULL)
		attach_table(w, w->cur);
}

int fc_worker_main(void *arg)
{
	struct fc_worker *w = arg;

	fc_worker_init(w);
	/* A QSBR reader from here to finish(). */
	rcu_register_thread();
	w->qsbr = true;
	rules_refresh(w);
	if (w->src == FC_SRC_RING)
		return run_ring(w);
	return w->ctx.test_delay_us ? run_live_slow(w) : run_live(w);
}
