/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The trace feeder (--read): the main lcore reads pcap/pcapng files in order,
 * runs the one sequential interval clock (Corsaro's semantics), and feeds
 * the workers (worker 0 in its own thread, the others through their rings):
 * runs of packets of a mapped pcap, walked but not parsed (fc_trace_run),
 * other packets a burst at a time, and in-band markers for interval
 * changes, link-type changes and the end of input. Every worker therefore seals at exactly the same point of
 * the trace and N workers count what one would. The feeder may wait for a
 * full ring (offline input has no deadline); workers never wait.
 *
 * The inputs are opened at start-up, before privileges are dropped (as
 * tcpdump -Z does), and read in the order of their first packet's time,
 * whatever their order on the command line (tcpdump -C names its files
 * trace, trace1, ..., trace10, which a shell glob does not sort by time).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "fc_app.h"
#include "fc_trace.h"

/*
 * One --read input, open since start-up. A regular file keeps only its
 * descriptor (its fc_trace, and a decompressor's memory, exist only while
 * it is read); a pipe cannot be read twice, so the fc_trace that looked at
 * its first packet is kept.
 */
struct input {
	const char *name;
	int fd;               /* -1 when held */
	struct fc_trace *held;
	uint64_t first_ns;    /* first packet's time; UINT64_MAX: none */
	uint64_t newest_ns;   /* newest packet's time, once read */
	bool has_pkts;
	bool mapped;          /* read in place (fc_trace_stable) when opened */
	uint32_t dlt;         /* link type of the first packet, or UINT32_MAX */
	unsigned argi;        /* command-line position: stable tie-break */
};

static struct input inputs[FC_MAX_READS];
static unsigned n_inputs;

static int input_cmp(const void *pa, const void *pb)
{
	const struct input *a = pa, *b = pb;

	if (a->first_ns != b->first_ns)
		return a->first_ns < b->first_ns ? -1 : 1;
	return a->argi < b->argi ? -1 : a->argi > b->argi;
}

/* "2010-07-07 04:36:19.466743000 UTC" */
static void fmt_ts(char *b, size_t len, uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	size_t o = 0;

	if (gmtime_r(&s, &tm) != NULL)
		o = strftime(b, len, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(b + o, len - o, ".%09u UTC",
		 (unsigned)(ns % 1000000000ULL));
}

int fc_feeder_open(const struct fc_cfg *cfg)
{
	bool stdin_seen = false, reordered = false;
	struct stat sts[FC_MAX_READS];

	/* Before anything is read from it. */
	for (unsigned i = 0; i < cfg->n_reads; i++) {
		if (strcmp(cfg->reads[i], "-") != 0)
			continue;
		if (stdin_seen) {
			fprintf(stderr, "flowcap: --read - (standard input) is "
				"given twice; it can be read once\n");
			return -1;
		}
		stdin_seen = true;
	}
	for (unsigned i = 0; i < cfg->n_reads; i++) {
		struct input *in = &inputs[n_inputs];
		const char *name = cfg->reads[i];
		bool is_stdin = strcmp(name, "-") == 0;
		struct fc_trace_pkt p;
		struct fc_trace *t;
		char err[512];
		int fd, r;

		fd = is_stdin ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0) :
				open(name, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &sts[i]) != 0) {
			fprintf(stderr, "flowcap: cannot read trace '%s': %s\n",
				name, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		/* The same file twice would count its packets twice. */
		for (unsigned j = 0; S_ISREG(sts[i].st_mode) && j < i; j++)
			if (sts[j].st_dev == sts[i].st_dev &&
			    sts[j].st_ino == sts[i].st_ino) {
				fprintf(stderr, "flowcap: --read '%s' is the "
					"same file as --read '%s': its packets "
					"would be counted twice; give it once\n",
					name, cfg->reads[j]);
				close(fd);
				return -1;
			}
		in->name = name;
		in->argi = i;
		in->fd = -1;
		in->dlt = UINT32_MAX;
		if (!S_ISREG(sts[i].st_mode) && cfg->n_reads == 1) {
			/* Nothing to order: a pipe is first read when the
			 * run starts, so its writer may start after flowcap
			 * (and a bad header is reported then). */
			in->fd = fd;
			in->has_pkts = true;
			in->first_ns = 0;
			n_inputs++;
			continue;
		}
		/* A regular file is looked at through a second descriptor
		 * and read again from the start later; anything else is
		 * read once, by the fc_trace that looks at it now. */
		if (S_ISREG(sts[i].st_mode)) {
			in->fd = fd;
			fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
			if (fd < 0) {
				fprintf(stderr, "flowcap: trace '%s': %s\n",
					name, strerror(errno));
				return -1;
			}
		}
		n_inputs++;
		t = fc_trace_open_fd(fd, name, err, sizeof(err));
		if (t == NULL) {
			/* A typo must not cost the first hour of a run. */
			fprintf(stderr, "flowcap: %s\n", err);
			return -1;
		}
		/* An error at the first packet is reported when the input's
		 * turn comes: the packets of the others still count. */
		r = fc_trace_peek(t, &p, err, sizeof(err));
		in->has_pkts = r == 1;
		in->dlt = r == 1 ? p.dlt : fc_trace_dlt(t);
		in->first_ns = r == 1 ? p.ts_ns : UINT64_MAX;
		in->mapped = fc_trace_stable(t) != 0;
		if (in->fd >= 0) {
			fc_trace_close(t);
			if (lseek(in->fd, 0, SEEK_SET) != 0) {
				fprintf(stderr, "flowcap: trace '%s': cannot "
					"rewind: %s\n", name, strerror(errno));
				return -1;
			}
		} else {
			in->held = t;
		}
	}
	qsort(inputs, n_inputs, sizeof(inputs[0]), input_cmp);
	for (unsigned i = 0; i < n_inputs; i++)
		reordered |= inputs[i].argi != i;
	if (reordered) {
		char list[1024];
		int o = 0;

		for (unsigned i = 0; i < n_inputs && o < 900; i++)
			o += snprintf(list + o, sizeof(list) - (size_t)o, "%s%s",
				      i ? ", " : "", inputs[i].name);
		printf("flowcap: --read inputs are read in the time order of "
		       "their first packets, not as given: %s%s\n", list,
		       o >= 900 ? ", ..." : "");
	}
	return 0;
}

/*
 * Input i is about to be read: say which inputs read before it hold
 * newer packets (once per pair; the packets of i older than the current
 * interval are counted as late).
 */
static void note_overlaps(unsigned i)
{
	char a[64], b[64];

	for (unsigned j = 0; j < i; j++) {
		if (!inputs[i].has_pkts || !inputs[j].has_pkts ||
		    inputs[j].newest_ns <= inputs[i].first_ns)
			continue;
		fmt_ts(a, sizeof(a), inputs[i].first_ns);
		fmt_ts(b, sizeof(b), inputs[j].newest_ns);
		fprintf(stderr,
			"flowcap: --read inputs overlap in time: '%s' starts "
			"at %s, before the newest packet of '%s' (%s); its "
			"packets older than the current interval are counted "
			"as late (merge overlapping traces into one, e.g. "
			"with mergecap, to count them in their intervals)\n",
			inputs[i].name, a, inputs[j].name, b);
	}
}

struct stage {
	void *obj[FC_BURST];
	unsigned n;
};

static void flush_one(struct fc_app *app, unsigned w, struct stage *s)
{
	unsigned done = 0;

	if (app->inline_worker && w == 0) {
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

bool fc_feeder_all_mapped(void)
{
	for (unsigned i = 0; i < n_inputs; i++)
		if (!inputs[i].mapped)
			return false;
	return true;
}

unsigned fc_feeder_dlts(uint32_t *dlts, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < n_inputs; i++) {
		bool seen = inputs[i].dlt == UINT32_MAX;

		for (unsigned j = 0; j < n && !seen; j++)
			seen = dlts[j] == inputs[i].dlt;
		if (!seen && n < max)
			dlts[n++] = inputs[i].dlt;
	}
	return n;
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

/*
 * The worker a packet goes to, a burst of FC_BURST packets at a time. The
 * feeder parses no packet: each packet is parsed once, by its worker. Worker 0 runs in the feeder's thread; the next burst goes to the
 * next of the other workers whose ring has room for two bursts, and to
 * worker 0 when none has: the feeder counts what the others cannot take
 * yet, instead of waiting. Which table counts a packet changes nothing in
 * the output: the collector adds up a key's counts from every table of an
 * interval.
 */
struct rr {
	unsigned w;    /**< the worker of the current burst */
	unsigned left; /**< packets it still gets */
	unsigned next; /**< the ring worker to try first */
};

static unsigned pick(struct fc_app *app, struct rr *rr)
{
	unsigned n = app->n_workers;

	for (unsigned k = 0; k + 1 < n; k++) {
		unsigned c = 1 + (rr->next + k) % (n - 1);

		if (rte_ring_free_count(app->workers[c].in) >= 2 * FC_BURST) {
			rr->next = c % (n - 1);
			return c;
		}
	}
	return 0;
}

static inline unsigned shard(struct fc_app *app, struct rr *rr)
{
	if (FC_UNLIKELY(rr->left == 0)) {
		rr->left = FC_BURST;
		rr->w = app->n_workers > 1 ? pick(app, rr) : 0;
	}
	rr->left--;
	return rr->w;
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

/*
 * Runs: while packets stay inside the current interval, the feeder only
 * walks the record headers of a mapped pcap (fc_trace_run) and hands out
 * runs of up to RUN_PKTS consecutive packets, one message each; the
 * worker that gets a run parses and counts its packets. A run goes to a
 * worker whose ring holds fewer than RUN_AHEAD messages, else to worker
 * 0, in the feeder's thread: the feeder never waits, and each thread
 * counts what it has time for. RUN_AHEAD runs (65536 packets, 1-3 ms of
 * a worker's work) keep a ring worker busy while the feeder's thread is
 * off its CPU for a time slice (on a machine with more threads than
 * CPUs). The ring (FC_TRACE_RING) and the descriptors (FC_DESC_N) hold
 * many more. Which table counts
 * a packet does not change the output (the collector adds up a key's
 * counts from every table of an interval), and a run never spans an
 * interval change: the markers that close an interval reach every worker
 * after the runs before them.
 */
#define RUN_PKTS 256
#define RUN_AHEAD 256

static unsigned pick_run(struct fc_app *app, struct rr *rr)
{
	unsigned n = app->n_workers;

	for (unsigned k = 0; k + 1 < n; k++) {
		unsigned c = 1 + (rr->next + k) % (n - 1);

		if (rte_ring_count(app->workers[c].in) < RUN_AHEAD) {
			rr->next = c % (n - 1);
			return c;
		}
	}
	return 0;
}

static void send_run(struct fc_app *app, struct stage *st, struct rr *rr,
		     const struct fc_trace_run *run, unsigned n)
{
	unsigned w = app->n_workers > 1 ? pick_run(app, rr) : 0;
	struct fc_worker *wk = &app->workers[w];
	struct fc_desc *d = &wk->descs[wk->desc_head++ & (FC_DESC_N - 1)];

	d->data = run->data;
	d->len = n;
	d->mark = run->swap ? FC_MARK_RUN_SWAP : FC_MARK_RUN;
	d->span = run->bytes;
	push(app, st, w, (void *)((uintptr_t)d | FC_MSG_DESC));
	flush_one(app, w, &st[w]);
}

/* The feeder's one sequential clock and the packet it holds in doubt. */
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

/* The filter's program for a link type; a link type pcap refused the
 * expression for is said once (its packets are all filtered). */
static const struct fc_filter_prog *filter_for(const struct fc_filter *f,
					       uint32_t dlt, uint32_t *cur)
{
	const struct fc_filter_prog *p = fc_filter_prog_for(f, dlt);

	*cur = dlt;
	if (p == NULL || !p->ok)
		fprintf(stderr, "flowcap: filter '%s' does not apply to link "
			"type %u: its packets are counted as filtered\n",
			f->expr, dlt);
	return p;
}

int fc_feeder_run(struct fc_app *app)
{
	struct stage st[FC_MAX_WORKERS];
	struct fc_trace *keep[FC_MAX_READS];
	unsigned n_keep = 0;
	struct rclock rk;
	struct rr rr = {0, 0, 0};
	uint64_t pkts = 0, t0 = rte_rdtsc(), next_print;
	uint64_t hz = rte_get_tsc_hz();
	uint32_t cur_dlt = UINT32_MAX, flt_dlt = UINT32_MAX;
	/* The feeder is the control thread of a trace run: the rules in
	 * force are its own to read (fc_reload runs on this thread). */
	const struct fc_filter *flt = app->rules ? app->rules->flt : NULL;
	const struct fc_filter_prog *prog = NULL;
	uint64_t reload_seen = atomic_load_explicit(&fc_reload_req,
						    memory_order_relaxed);
	struct rte_mbuf fm;
	uint64_t filt_first = UINT64_MAX; /* second of the first filtered */
	int rc = 0;

	memset(&fm, 0, sizeof(fm));

	memset(st, 0, sizeof(st));
	next_print = t0 + hz;
	memset(&rk, 0, sizeof(rk));
	fc_interval_init(&rk.clk, app->cfg.interval, app->cfg.align);
	rk.max_jump = app->cfg.max_jump;
	rk.jump_at = UINT64_MAX;
	for (unsigned f = 0; f < n_inputs; f++) {
		char err[512];
		struct input *in = &inputs[f];
		struct fc_trace *tr = in->held;
		struct fc_trace_pkt p;
		uint64_t newest = 0;
		int r;

		if (tr == NULL) {
			/* The descriptor opened at start-up, before any
			 * privileges were dropped. */
			tr = fc_trace_open_fd(in->fd, in->name, err,
					      sizeof(err));
			in->fd = -1;
		}
		in->held = NULL;
		if (tr == NULL) {
			fprintf(stderr, "flowcap: %s\n", err);
			rc = -1;
			continue;
		}
		note_overlaps(f);
		bool stable = fc_trace_stable(tr);
		uint32_t tr_dlt = fc_trace_dlt(tr);

		r = 0;
		for (;;) {
			uint64_t ts;
			unsigned w;
			void *obj;

			if (atomic_load_explicit(&app->stop,
						 memory_order_relaxed) == 2)
				break;
			/* A run of packets of the current interval: no
			 * filter to run, no time in doubt, the link type
			 * the workers have. Anything else, and the packet
			 * that ends a run, goes one at a time below. */
			if (stable && flt == NULL && rk.clk.started &&
			    !rk.held && tr_dlt == cur_dlt &&
			    atomic_load_explicit(&fc_reload_req,
						 memory_order_relaxed) ==
				    reload_seen) {
				struct fc_trace_run run;
				unsigned n = fc_trace_run(
					tr,
					fc_interval_start_of(&rk.clk,
							     rk.clk.cur),
					fc_interval_end_of(&rk.clk, rk.clk.cur),
					RUN_PKTS, &run);

				if (n > 0) {
					send_run(app, st, &rr, &run, n);
					rk.clk.last_ts =
						run.last_ns / 1000000000ULL;
					if (run.max_ns > newest)
						newest = run.max_ns;
					pkts += n;
					if (app->cfg.stats > 0 &&
					    rte_rdtsc() > next_print) {
						print_progress(app, pkts, t0);
						next_print = rte_rdtsc() + hz;
					}
					continue;
				}
			}
			r = fc_trace_next(tr, &p, err, sizeof(err));
			if (r != 1)
				break;
			ts = p.ts_ns / 1000000000ULL;
			if (p.ts_ns > newest)
				newest = p.ts_ns;
			/* A reload asked for (SIGHUP, /flowcap/reload): done
			 * here, between two packets, as the live control loop
			 * does between two rounds. The packets before this one
			 * went through the old filter, this one and the next
			 * go through the new; the workers take the new rules
			 * at their next burst (the inline worker 0 too: it
			 * compares generations, it keeps no pointer into the
			 * old ones). */
			if (FC_UNLIKELY(atomic_load_explicit(
						&fc_reload_req,
						memory_order_relaxed) !=
					reload_seen)) {
				reload_seen = atomic_load_explicit(
					&fc_reload_req, memory_order_relaxed);
				fc_control_reloads();
				flt = app->rules ? app->rules->flt : NULL;
				prog = NULL;
				flt_dlt = UINT32_MAX;
			}
			/* The capture filter, before anything else looks at
			 * the packet: one it refuses is counted filtered in
			 * the interval in force and moves no clock, as if it
			 * had never been captured. Its bytes are not needed:
			 * an empty message carries the mark. */
			if (flt != NULL) {
				if (FC_UNLIKELY(p.dlt != flt_dlt))
					prog = filter_for(flt, p.dlt, &flt_dlt);
				if (!fc_filter_pass_bytes(prog, &fm, p.data,
							  p.caplen, p.wirelen)) {
					struct fc_trace_pkt q = p;

					if (filt_first == UINT64_MAX)
						filt_first = ts;
					q.caplen = 0;
					obj = make_msg(app, st, 0, &q, stable);
					mark_msg(obj, FC_MARK_FILTERED);
					push(app, st, 0, obj);
					pkts++;
					continue;
				}
			}
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
			w = shard(app, &rr);
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
		in->newest_ns = newest;
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
	if (!rk.clk.started && filt_first != UINT64_MAX) {
		/* Every packet was filtered: they still count, in the one
		 * interval of the first one's time. */
		uint64_t from, nclosed;
		bool late;

		fc_interval_feed(&rk.clk, filt_first, &from, &nclosed, &late);
		atomic_store_explicit(&app->start0, rk.clk.start0,
				      memory_order_release);
	}
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
