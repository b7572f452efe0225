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

/** Initialise a clock. */
void fc_interval_init(struct fc_interval_clock *c, uint32_t len, bool align);

/** Start of the first interval for a first packet at second ts. */
uint64_t fc_interval_start0(uint64_t ts, uint32_t len, bool align);

/**
 * Feed one packet time (seconds). Returns the index of the interval the
 * packet counts in. If that is beyond the current one, the intervals from
 * the old current up to the new index - 1 are over (*closed_from,
 * *n_closed); *late is set when the packet is older than the current
 * interval.
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
 * Thread safety: pure function. Hot path: called on the slow path only.
 */
static inline bool fc_interval_is_jump(uint64_t ts, uint64_t cur_end,
				       uint64_t max_jump)
{
	return max_jump != 0 && ts > cur_end && ts - cur_end > max_jump;
}

/** Start and nominal end (inclusive) of interval k. */
uint64_t fc_interval_start_of(const struct fc_interval_clock *c, uint64_t k);
uint64_t fc_interval_end_of(const struct fc_interval_clock *c, uint64_t k);

/** Record kind names for %P. */
#define FC_PLUGIN_FLOWTUPLE "flowtuple"

/**
 * Check a file name template: returns 0, or -EINVAL with a message in err
 * (unknown or dangling '%', '/' in the name, empty, or a name that could
 * be hidden or a relative path component).
 */
int fc_template_check(const char *tmpl, char *err, size_t errlen);

/**
 * Expand a template: %N monitor name, %P record kind, %s Unix seconds,
 * %% a percent sign, any other strftime conversion from the interval start
 * in UTC. Returns 0, -EINVAL (bad template) or -ENAMETOOLONG.
 */
int fc_template_expand(char *buf, size_t len, const char *tmpl,
		       const char *monitor, const char *plugin,
		       uint64_t start);

#endif /* FC_INTERVAL_H */
