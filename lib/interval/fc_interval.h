/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Corsaro's interval semantics and output file names. Times are whole
 * seconds (packet times truncated); an interval [start, end] holds every
 * packet with start <= t <= end. The first interval starts at the first
 * packet's second, or at the multiple of the length at or below it when
 * aligned; later intervals follow on the same grid, so interval k is
 * [start0 + k*len, start0 + (k+1)*len - 1]. A packet older than the current
 * interval is counted in the current one (and counted as late). This module
 * only does the arithmetic: it does not know workers or files.
 */
#ifndef FC_INTERVAL_H
#define FC_INTERVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Sequential interval clock, as one reader of a trace sees time. */
struct fc_interval_clock {
	uint32_t len;      /**< seconds, >= 1 */
	bool align;        /**< start on multiples of len */
	bool started;      /**< a packet has been seen */
	uint64_t start0;   /**< start of interval 0 */
	uint64_t cur;      /**< index of the current interval */
	uint64_t last_ts;  /**< truncated time of the last packet */
};

/**
 * Initialise a clock.
 * Thread safety: none; one thread per clock (fc_interval_feed too).
 */
void fc_interval_init(struct fc_interval_clock *c, uint32_t len, bool align);

/**
 * Start of the first interval for a first packet at second ts.
 * Thread safety: any thread; pure function.
 */
uint64_t fc_interval_start0(uint64_t ts, uint32_t len, bool align);

/**
 * Feed one packet time (seconds). Returns the index of the interval the
 * packet counts in. If that is beyond the current one, the intervals from
 * the old current up to the new index - 1 are over (*closed_from,
 * *n_closed); *late is set when the packet is older than the current
 * interval. Hot path (the trace feeder, once a packet).
 * Thread safety: none; one thread per clock.
 */
uint64_t fc_interval_feed(struct fc_interval_clock *c, uint64_t ts,
			  uint64_t *closed_from, uint64_t *n_closed,
			  bool *late);

/**
 * Implausible time. A packet more than max_jump seconds after the last
 * second of the current interval (cur_end) is a jump. A jump moves the
 * clock only when the packet after it is a jump too (or it is the last
 * packet): time has really moved on, as where traces of different days
 * were merged. Otherwise it is a lone outlier (a packet stamped 2100 in a
 * 2010 trace): counted as bad_time, in no record, and the clock stays, so
 * the packets after it are not all late in a far interval. max_jump 0
 * turns the rule off. The caller holds the one packet in doubt; this only
 * says whether a time is a jump.
 *
 * Thread safety: any thread; pure function. Hot path: called on the slow
 * path only.
 */
static inline bool fc_interval_is_jump(uint64_t ts, uint64_t cur_end,
				       uint64_t max_jump)
{
	return max_jump != 0 && ts > cur_end && ts - cur_end > max_jump;
}

/**
 * Start and nominal end (inclusive) of interval k.
 * Thread safety: any thread that may read c (no writer meanwhile); reads
 * only.
 */
uint64_t fc_interval_start_of(const struct fc_interval_clock *c, uint64_t k);
uint64_t fc_interval_end_of(const struct fc_interval_clock *c, uint64_t k);

/*
 * Live capture: intervals across workers. Each worker counts packets in its
 * own interval (the index of its newest packet, never going back: an older
 * packet is late), hands its table in when it moves on, and publishes the
 * interval it has reached (its progress: every interval below it is handed
 * in). The collector decides from those alone when interval k may be
 * written. The arithmetic and the decisions live here, without workers,
 * tables or files, so they are tested on their own.
 */

/**
 * Interval of a packet at second ts for a worker whose current interval is
 * cur, on the grid starting at s0 (ts >= s0 assumed by the caller for the
 * first packet). An older packet stays in cur and sets *late.
 *
 * Thread safety: any thread; pure function. Hot path: slow path of the
 * worker.
 */
static inline uint64_t fc_interval_live_index(uint64_t s0, uint32_t len,
					      uint64_t cur, uint64_t ts,
					      bool *late)
{
	if (ts < s0 + cur * len) {
		*late = true;
		return cur;
	}
	*late = false;
	return (ts - s0) / len;
}

/**
 * The shared clock of live capture: the newest packet second any worker
 * has published, or the wall clock when packet times are wall-clock times
 * (wall 0: replayed times, follow the packets only). Idle workers move on
 * by it, so they never hold the others back. The caller passes its own
 * copy of the watermarks (loaded with acquire from the workers).
 *
 * Thread safety: any thread; pure function.
 */
uint64_t fc_interval_shared_clock(const uint64_t *watermarks, unsigned n,
				  uint64_t wall);

/** What the collector knows of one worker when it decides. */
struct fc_iv_worker {
	uint64_t sealed;  /**< published progress: nothing more below it */
	bool has_head;    /**< a table of this worker waits */
	uint64_t head_iv; /**< the oldest waiting table's interval */
	bool head_data;   /**< that table carries data (packets, counters,
			       or a flag the interval must keep) */
};

/** The collector's decision state. */
struct fc_iv_collect {
	uint64_t next;      /**< next interval to decide */
	uint32_t max_empty; /**< longer runs of empty intervals: one gap */
	bool run;           /**< a run of empty intervals is pending */
	uint64_t run_from, run_to;
	uint64_t flush_from, flush_to; /**< a short run written one by one */
};

enum fc_iv_act {
	FC_IV_WAIT,       /**< a worker may still hand in interval next */
	FC_IV_GIVE_BACK,  /**< the waiting tables of interval from that hold
			       no data go back to their workers; ask again */
	FC_IV_WRITE,      /**< write intervals from..to as one interval: the
			       tables of from if data, a gap if to > from */
	FC_IV_DONE,       /**< every worker has finished; all is written */
};

struct fc_iv_action {
	enum fc_iv_act act;
	uint64_t from, to;
	bool data; /**< FC_IV_WRITE: take the waiting tables of from */
	bool last; /**< FC_IV_WRITE: the final interval of the run */
};

/**
 * Start deciding at interval 0.
 * Thread safety: none; one thread per state (the collector).
 */
void fc_iv_collect_init(struct fc_iv_collect *c, uint32_t max_empty);

/**
 * The collector's next step. Interval k is complete when every worker has
 * published progress past k or has a table of a later interval waiting.
 * Complete intervals are written in order. A run of empty intervals is
 * written when it ends: as one gap interval when longer than max_empty,
 * else one interval each; its length is found in O(workers), however long
 * the gap. fin: every worker has handed in its final table; max_iv: the
 * highest interval of any table seen. The caller acts on *a (taking or
 * giving back the tables it names, which changes w[]) and calls again
 * until FC_IV_WAIT or FC_IV_DONE.
 *
 * Thread safety: none; one thread per state (the collector). w[] is the
 * caller's copy of what the workers published, loaded with acquire.
 */
void fc_iv_collect_next(struct fc_iv_collect *c, const struct fc_iv_worker *w,
			unsigned n, bool fin, uint64_t max_iv,
			struct fc_iv_action *a);

/** Record kind names for %P. */
#define FC_PLUGIN_FLOWTUPLE "flowtuple"

/**
 * Check a file name template: returns 0, or -EINVAL with a message in err
 * (unknown or dangling '%', '/' in the name, empty, or a name that could
 * be hidden or a relative path component).
 * Thread safety: any thread; pure function (writes only err).
 */
int fc_template_check(const char *tmpl, char *err, size_t errlen);

/**
 * Expand a template: %N monitor name, %P record kind, %s Unix seconds,
 * %% a percent sign, any other strftime conversion from the interval start
 * in UTC. Returns 0, -EINVAL (bad template) or -ENAMETOOLONG.
 * Thread safety: any thread; writes only buf (gmtime_r, then strftime,
 * which reads the process's locale: no thread may change it meanwhile).
 * Not hot path.
 */
int fc_template_expand(char *buf, size_t len, const char *tmpl,
		       const char *monitor, const char *plugin,
		       uint64_t start);

#endif /* FC_INTERVAL_H */
