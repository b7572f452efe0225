/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Record sinks: where a merged interval goes. The collector merges an
 * interval once and hands its accounting and sorted records to each sink
 * in turn, through one small interface: begin the interval, records in
 * bursts, end the interval, flush at the end. The file writer is the first
 * sink and the source of truth; others (a database, an IPFIX exporter)
 * plug in beside it without touching the merge. A sink's failure is its
 * own: it is counted on that sink, reported per sink, and never stops the
 * sinks after it. This module does not know files, sockets or threads: a
 * sink that may be slow keeps its own thread and bounded queue behind its
 * callbacks, so that the collector never waits on it.
 */
#ifndef FC_SINK_H
#define FC_SINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_ftfile.h"

#define FC_SINKS_MAX 8
/** Records per burst handed to a sink (a RECORDS block's worth). */
#define FC_SINK_BURST 65536

/**
 * A sink's callbacks. Each returns 0, or a negative status the sink
 * explains through strerror (e.g. an FC_FT_E_* status for the file sink).
 * After a failure in begin or records, the rest of that interval is not
 * offered to the sink (end is still called, with failed set). Thread
 * safety: called from one thread (the collector), one call at a time.
 */
struct fc_sink_ops {
	const char *name; /**< short, for the stats line: "file" */
	int (*begin)(void *ctx, const struct fc_ft_interval *iv);
	/** Consecutive slices of one array, valid until end() returns. */
	int (*records)(void *ctx, const struct fc_ft_record *recs, uint64_t n);
	int (*end)(void *ctx, const struct fc_ft_interval *iv, bool failed);
	/** The run is over: complete what is open. */
	int (*flush)(void *ctx);
	/** Text for a status this sink returned (never NULL). */
	const char *(*strerror)(void *ctx, int status);
	/**
	 * Optional (may be NULL): the sink's own figures for the stats line
	 * and the summary, a few words into buf ("sent 12 queued 0 pending
	 * 3"). Returns true while intervals it took are not delivered yet
	 * (after flush: the run ends with them undelivered, and the exit
	 * status says so). Thread safety: any thread (reads atomics).
	 */
	bool (*report)(void *ctx, char *buf, size_t len);
	/**
	 * The sink takes an interval as it is merged (fc_sinks_begin,
	 * fc_sinks_records, fc_sinks_end): begin's iv has no n_records
	 * and rec_pkts yet (0; end's iv has them), and records reads each
	 * burst during the call only (a burst is not a slice of one
	 * array, and is gone once records returns).
	 */
	bool streams;
};

/**
 * One sink and its counters. The counters are written by the collector
 * only (relaxed: they are figures for the stats line, which loads them
 * relaxed from another thread; no other data hangs on them).
 */
struct fc_sink {
	const struct fc_sink_ops *ops;
	void *ctx;
	_Atomic uint64_t intervals_ok;     /**< intervals the sink took whole */
	_Atomic uint64_t intervals_failed; /**< intervals it could not take */
	_Atomic int last_status;           /**< its last failure, 0 if none */
	int iv_status; /**< the streamed interval: its begin's or records'
			*   failure (the collector's only) */
};

struct fc_sinks {
	struct fc_sink s[FC_SINKS_MAX];
	unsigned n;
};

/**
 * Add a sink (after those already there: the file sink goes first).
 * Returns 0, or -ENOSPC beyond FC_SINKS_MAX. Thread safety: set-up only,
 * before the collector starts.
 */
int fc_sinks_add(struct fc_sinks *ss, const struct fc_sink_ops *ops,
		 void *ctx);

/**
 * Offer one interval to every sink in turn: begin, the records in bursts
 * of at most FC_SINK_BURST, end. Returns the number of sinks that failed
 * it (each counted on its own sink). Thread safety: the collector only.
 * Not on the packet path.
 */
unsigned fc_sinks_interval(struct fc_sinks *ss, const struct fc_ft_interval *iv,
			   const struct fc_ft_record *recs, uint64_t n);

/**
 * Whether every sink streams (fc_sink_ops.streams): the collector may
 * then hand the records over as the merge makes them.
 * Thread safety: the collector only.
 */
bool fc_sinks_stream(const struct fc_sinks *ss);

/**
 * fc_sinks_interval in three steps, for sinks that all stream: begin an
 * interval on every sink (iv without n_records and rec_pkts), offer each
 * burst to every sink still taking the interval, and end it on every
 * sink with the complete iv (failed set for a sink whose begin or
 * records failed, which was offered nothing more of it). fc_sinks_end
 * returns the number of sinks that failed the interval, each counted on
 * its own sink, as fc_sinks_interval. Thread safety: the collector only.
 */
void fc_sinks_begin(struct fc_sinks *ss, const struct fc_ft_interval *iv);
void fc_sinks_records(struct fc_sinks *ss, const struct fc_ft_record *recs,
		      uint64_t n);
unsigned fc_sinks_end(struct fc_sinks *ss, const struct fc_ft_interval *iv);

/**
 * Flush every sink (end of the run). Returns the number that failed.
 * Thread safety: the collector only.
 */
unsigned fc_sinks_flush(struct fc_sinks *ss);

#endif /* FC_SINK_H */
