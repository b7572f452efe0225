/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap application internals shared by its files: configuration, the
 * per-worker state, the table hand-off to the collector, and the entry
 * points of each lcore role. DPDK lives here, at the edge; the libraries
 * below know nothing of it.
 */
#ifndef FC_APP_H
#define FC_APP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <urcu/wfcqueue.h>

#include "fc_common.h"
#include "fc_drvcfg.h"
#include "fc_flowtable.h"
#include "fc_ftfile.h"
#include "fc_interval.h"
#include "fc_parse.h"
#include "fc_rules.h"
#include "fc_sink.h"

#define FC_MAX_WORKERS 128
#define FC_MAX_PORTS 32
#define FC_MAX_READS 256
#define FC_BURST 32      /**< default RX burst */
#define FC_BURST_MAX 512 /**< largest burst a driver config may ask for */
#define FC_TRACE_RING 8192 /**< trace feeder -> worker ring (packets) */
/**
 * Drop counters (enum fc_ft_counter) from here up to FC_CTR_INFO_FIRST are
 * packets lost: a full table, no free table, the NIC's drops. Those below
 * are frames that carry no flowtuple (not IP, truncated, malformed): the
 * input's doing, which a link carrying ARP shows all the time. The stats
 * line and the summary show the two apart.
 */
#define FC_CTR_LOSS_FIRST FC_CTR_TBL_FULL
/** Units per second of net_pcap's RX timestamps (microseconds). A
 *  constant, so the worker's per-packet division is a multiply. */
#define FC_PCAP_TS_PER_SEC 1000000u

/** Options, filled by main() from the command line. */
struct fc_cfg {
	uint32_t interval;
	const char *out_dir;
	const char *name;
	const char *tmpl;
	uint32_t rotate;
	bool align;
	const char *ports;        /**< --ports LIST or NULL = all */
	uint16_t port_ids[FC_MAX_PORTS]; /**< --ports, parsed, no duplicates */
	unsigned n_port_ids;
	const char *drvcfg_path;
	const char *reads[FC_MAX_READS];
	unsigned n_reads;
	unsigned workers_req;     /**< --workers, 0 = not given (1, or every
				       worker lcore of the EAL options) */
	uint64_t table_keys;      /**< keys per worker table (0 = auto) */
	uint64_t table_keys6;     /**< IPv6 keys per table (0 = table_keys / 8) */
	unsigned tables_per_worker;
	int zstd_level;
	double idle_exit;         /**< seconds without packets, <0 = auto */
	uint32_t max_empty;       /**< longer runs of empty intervals collapse */
	uint64_t max_jump;        /**< implausible time jump, seconds; 0 off */
	int stats;                /**< -1 auto (terminal), 0 off, 1 on */
	uint32_t test_collector_delay_ms; /**< fault injection: slow disk */
	uint32_t test_worker_delay_us;    /**< fault injection: slow worker */
	uint32_t test_start_delay_ms;     /**< fault injection: slow start */
	const char *user;         /**< --user: drop privileges to it */
	const char *file_group;   /**< --file-group, as given, or NULL */
	gid_t file_gid;           /**< its gid, or (gid_t)-1: the writer's */
	int file_mode;            /**< --file-mode, or -1: 0640 less umask */
	const char *metrics_file; /**< --metrics-file PATH, or NULL */
	const char *ipfix;        /**< --ipfix HOST:PORT[/udp|/tcp], or NULL */
	uint32_t ipfix_domain;    /**< --ipfix-domain: observation domain */
	bool decap;               /**< --decap: innermost IP header of tunnels */
	const char *ch_url;       /**< --clickhouse URL, or NULL */
	unsigned ch_queue_mb;     /**< --clickhouse-queue, 0 = default */
	const char *filter;       /**< --filter EXPR, or NULL */
	const char *filter_file;  /**< --filter-file FILE, or NULL */
	const char *classify;     /**< --classify RULES, or NULL */
	uint32_t classify_bytes;  /**< --classify-bytes (default 512) */
	const char *classify_cache; /**< --classify-cache DIR, or NULL */
	bool key_vlan;            /**< --key-vlan */
	bool anon;                /**< --anonymize KEYFILE given */
	uint8_t anon_key[32];     /**< its key (lib/anon), read at start */
};

/** Where a worker's packets come from. */
enum fc_src_kind { FC_SRC_ETHDEV, FC_SRC_RING };

struct fc_rxq {
	uint16_t port;
	uint16_t queue;
};

/*
 * What travels on a trace worker's ring, told apart by the low two bits:
 * 00 an mbuf (a copied packet), 10 a struct fc_desc (a packet read in
 * place from a mapped file), x1 a marker.
 */
#define FC_MSG_ADVANCE 0x1 /**< value >> 2: the new current interval */
#define FC_MSG_DLT 0x3     /**< value >> 2: link type of what follows */
#define FC_MSG_DESC 0x2
#define FC_MSG_END ((uintptr_t)~(uintptr_t)0)

/**
 * A packet of a mapped trace, handed to a worker without a copy. The
 * feeder fills descriptors round-robin in the worker's array; the array is
 * larger than the ring plus two bursts, so a slot is never rewritten
 * before the worker is done with it.
 */
struct fc_desc {
	const uint8_t *data;
	uint32_t len;
	uint32_t mark; /**< FC_MARK_* */
	uint32_t span; /**< FC_MARK_RUN: bytes from the first record's
			    header to the end of the run */
} __attribute__((aligned(16)));

/** What the feeder says of a packet it hands on. */
#define FC_MARK_LATE 1    /**< older than the interval: counted late */
#define FC_MARK_BADTIME 2 /**< lone implausible time: counted bad_time */
#define FC_MARK_FILTERED 3 /**< refused by the capture filter */
/** Not one packet but a run of a mapped pcap (fc_trace_run): data is its
 * first frame, len its packets, all of the current interval, none late;
 * FC_MARK_RUN_SWAP: the file's byte order is not the host's. */
#define FC_MARK_RUN 4
#define FC_MARK_RUN_SWAP 5

#define FC_DESC_N (2 * FC_TRACE_RING)

/** mbuf packet_type marks set by the trace feeder (FC_MARK_* << 30). */
#define FC_PT_MARK_SHIFT 30
#define FC_PT_LATE ((uint32_t)FC_MARK_LATE << FC_PT_MARK_SHIFT)
#define FC_PT_BADTIME ((uint32_t)FC_MARK_BADTIME << FC_PT_MARK_SHIFT)

/**
 * A sealed table on its way to the collector (and back). The node comes
 * first so the wait-free queue can hand it over without extra allocation.
 */
struct fc_wtable {
	struct cds_wfcq_node node;
	struct fc_wtable *next_pending; /**< collector's per-worker FIFO */
	struct fc_flowtable *ft;
	uint32_t worker;
	uint32_t flags;        /**< FC_FT_IV_* seen by this worker */
	uint64_t iv;           /**< interval index of the contents */
	uint64_t rx_pkts;
	uint64_t last_ts;      /**< second of the last packet counted here */
	uint64_t ctr[FC_CTR_MAX];
};

struct fc_count;

/**
 * What a worker needs of the rest of the application, copied or pointed
 * to by fc_worker_bind before the worker starts and never changed after:
 * the worker reads nothing else of struct fc_app, so its loop depends on
 * these values only and its cache lines are its own.
 */
struct fc_worker_ctx {
	uint32_t interval;       /**< --interval, seconds */
	bool align;              /**< --align */
	bool hw_ts;              /**< RX timestamps from the PMD */
	int ts_off;              /**< their mbuf dynfield offset */
	uint64_t ts_flag;        /**< their dynflag */
	uint64_t max_jump;       /**< --max-jump, seconds; 0 off */
	uint32_t test_delay_us;  /**< --test-worker-delay (fault injection) */
	/* Shared with every lcore: see struct fc_app for each one's
	 * writers and memory order. */
	_Atomic uint64_t *start0;
	_Atomic int *stop;
	_Atomic uint64_t *clock;
	struct cds_wfcq_head *q_head; /**< the collector's input queue */
	struct cds_wfcq_tail *q_tail;
	/* The reloadable rules (fc_rules.h): read with rcu_dereference
	 * once per poll loop by a worker registered as a QSBR reader. */
	struct fc_rules **rules;
	bool xk;                 /**< optional key fields (label or VLAN) */
	bool key_vlan;           /**< --key-vlan */
	uint32_t cls_bytes;      /**< --classify-bytes */
	bool decap;              /**< --decap */
};

/** Per-worker state: one cache-aligned struct, written by its lcore only. */
struct fc_worker {
	struct fc_worker_ctx ctx;
	unsigned id;
	unsigned lcore;
	enum fc_src_kind src;
	struct fc_rxq rxq[FC_MAX_PORTS];
	unsigned n_rxq;
	struct rte_ring *in;   /**< trace mode: packets and markers */
	struct fc_desc *descs; /**< trace mode: FC_DESC_N descriptors */
	uint32_t desc_head;    /**< next descriptor (the feeder's) */
	struct rte_ring *free; /**< empty tables back from the collector */
	struct fc_wtable *cur;
	struct fc_count *stg;  /**< keys parsed, not yet counted in cur */
	uint64_t iv;           /**< current interval index */
	uint64_t iv_lo, iv_hi; /**< live: its first and last second */
	bool started;          /**< live: has a current interval */
	uint32_t dlt;
	bool may_wait;         /**< input without deadline: trace or replay */
	uint16_t burst;        /**< RX burst size */
	uint64_t pend_ctr[FC_CTR_MAX]; /**< drops waiting for a table */
	uint64_t pend_rx;
	uint64_t drops_done;   /**< drops in the tables handed on so far */
	uint64_t rej_done;     /**< of which rejects (< FC_CTR_LOSS_FIRST) */
	uint64_t filt_done;    /**< of which filtered */
	/* Live: a packet whose time is a jump (fc_interval_is_jump), held
	 * (one more mbuf reference) until the next packet says whether time
	 * has moved on or it was a lone outlier. While one is held the
	 * current range is empty, so every packet takes the slow path. */
	struct rte_mbuf *held;
	uint64_t held_ts;
	bool trust;            /**< the held packet is believed: no check */
	/* The rules generation this worker uses (rcu_dereference'd once
	 * per poll loop) and, live, its Ethernet filter program: NULL
	 * without a filter. Valid until the worker's next quiescent
	 * state; re-read after each. */
	const struct fc_rules *rs;
	uint64_t rs_gen;       /**< rs->gen, 0 = none (see rules_refresh) */
	bool rs_cls;           /**< rs classifies */
	const struct fc_filter_prog *flt_eth;
	bool has_flt;
	bool qsbr;             /**< registered as a QSBR reader */
	/* Published for the stats line and the shared clock, by this worker
	 * only. The counters are relaxed: each is a number on its own, read
	 * (relaxed) by main's stats line and the signal handler, ordering
	 * nothing. */
	_Atomic uint64_t pub_rx;
	_Atomic uint64_t pub_lost;  /**< drops >= FC_CTR_LOSS_FIRST */
	_Atomic uint64_t pub_rej;   /**< drops < FC_CTR_LOSS_FIRST */
	_Atomic uint64_t pub_filt;  /**< filtered (neither lost nor rejected) */
	_Atomic uint64_t pub_fill;
	/* Newest packet second (release, publish_watermark); partner: main's
	 * acquire load in control_loop, which makes the shared clock. */
	_Atomic uint64_t watermark;
	/* Every table of an interval below this one has been handed in:
	 * the worker has nothing more to give for them. Stored with release
	 * after the hand-off's enqueue, before the worker may wait for a
	 * table; partner: the collector's acquire load before it drains the
	 * queue. UINT64_MAX once the final table is in. The collector reads
	 * progress here, never from the tables alone, so a worker without a
	 * table still lets every interval it has left be written. */
	_Atomic uint64_t sealed;
	_Atomic uint32_t pub_empty; /**< consecutive empty rounds (relaxed) */
	/* The worker has stopped: its last rx burst and its final hand-off
	 * are behind it. Release store, last thing in finish(); partners: the
	 * feeder's acquire load before it unmaps the inputs, and
	 * fc_ports_nic_update's before the NIC counters' last reading. */
	_Atomic bool done;
} FC_CACHE_ALIGNED;

/** Everything the lcores share. */
struct fc_app {
	struct fc_cfg cfg;
	struct fc_drvcfg drv;    /**< --driver-config, or the defaults */
	unsigned n_workers;
	struct fc_worker *workers;
	unsigned collector_lcore;
	uint16_t ports[FC_MAX_PORTS];
	unsigned n_ports;
	bool trace_mode;
	bool inline_worker;      /**< trace: worker 0 run by the feeder */
	bool hw_ts;              /**< timestamps from the PMD (net_pcap) */
	int ts_off;              /**< mbuf dynfield offset, or -1 */
	uint64_t ts_flag;        /**< RX timestamp dynflag */
	struct rte_mempool *pool;
	/* The collector's input: a wait-free multi-producer queue. */
	struct cds_wfcq_head q_head;
	struct cds_wfcq_tail q_tail;
	/* Read-mostly line, loaded by every worker every round: written once
	 * each. start0 is set by the first packet (CAS, acq_rel; partner:
	 * the workers' and collector's acquire loads). stop: 1 = end of
	 * input (last interval complete), 2 = signal (last interval
	 * partial); partner: the workers' acquire loads. */
	_Atomic uint64_t start0 FC_CACHE_ALIGNED; /**< UINT64_MAX: no packet */
	_Atomic int stop;
	/* The shared "now" in seconds, published by main every 10 ms
	 * (release) and read by idle workers (acquire). */
	_Atomic uint64_t clock FC_CACHE_ALIGNED;
	/* Trace mode: second of the last packet. Release store by the
	 * feeder before its end marker; partner: the collector's acquire
	 * load for the last interval. */
	_Atomic uint64_t last_ts;
	/* Collector results. collector_done: stored (release) by the
	 * collector as it returns; partner: main's acquire load before it
	 * reaps the lcores and prints the summary, which then reads the
	 * collector's plain results (tot_*, conservation_ok). The counters
	 * below are the collector's (fetch_add, relaxed), read for the stats
	 * line and the feeder's progress line: numbers on their own, no
	 * ordering carried. */
	_Atomic bool collector_done FC_CACHE_ALIGNED;
	_Atomic uint64_t backlog;       /**< tables waiting in the collector */
	_Atomic uint64_t files_written;
	_Atomic uint64_t files_unsynced; /**< written; directory fsync failed */
	_Atomic uint64_t intervals_written;
	_Atomic uint64_t intervals_lost;
	_Atomic uint64_t late_handoffs;
	/* The collector's record sinks, the file sink first: set up by main
	 * before the collector starts, used by the collector only; the
	 * stats line and the summary read their counters. */
	struct fc_sinks sinks;
	/* Worker packets of intervals in completed files or reported LOST
	 * (relaxed; read by the signal handler to say what it abandons). */
	_Atomic uint64_t pkts_settled;
	uint64_t tot_rx, tot_rec, tot_ctr[FC_CTR_MAX];
	bool conservation_ok;
	/* NIC drop counters, summed over the ports. One owner: the main
	 * lcore alone calls rte_eth_stats_get (fc_ports_nic_update) and
	 * publishes the sums here; the collector (per interval) and the
	 * stats line read them (fc_ports_nic_read). Each counter only
	 * grows and each consumer uses it on its own, so three atomics do:
	 * a consumer may see two snapshots mixed, never a counter going
	 * back. Stores release, by main; partner: fc_ports_nic_read's
	 * acquire loads. */
	_Atomic uint64_t nic_imissed FC_CACHE_ALIGNED;
	_Atomic uint64_t nic_nombuf;
	_Atomic uint64_t nic_ierrors;
	/* Set (release) by main once every worker is done and the sums
	 * above are final; partner: the acquire load in fc_ports_nic_read
	 * for the collector's last interval, which waits for it. */
	_Atomic bool nic_final;
	/* Main lcore only: each port's last good reading (imissed, nombuf,
	 * ierrors), kept when a reading fails so the sums never go back. */
	uint64_t nic_port[FC_MAX_PORTS][3];
	/* Reload rules and filters (SIGHUP, telemetry /flowcap/reload):
	 * set before fc_telemetry_register by whatever has something to
	 * reload, NULL while nothing does. Returns 0 or -errno, with a
	 * line for the operator in msg. Called from the telemetry thread. */
	int (*reload)(struct fc_app *app, char *msg, size_t len);
	/* The reloadable rules in force (fc_rules.h): published by the
	 * control thread with rcu_assign_pointer; partner: rcu_dereference
	 * in the workers (QSBR readers) and the feeder. */
	struct fc_rules *rules;
	struct fc_labels *labels;       /**< --classify: names by id */
	/* --classify: packets in records per label id (0: no label),
	 * added by the collector (relaxed), read for display. */
	_Atomic uint64_t *label_pkts;
	/* The rule set's identity in force (relaxed: a number written in
	 * files, ordering nothing). */
	_Atomic uint64_t rules_hash;
	_Atomic uint64_t reload_ok;     /**< relaxed; counts, orders nothing */
	_Atomic uint64_t reload_failed;
};

extern struct fc_app fc_app;

/*
 * Log lines of the control plane (collector, ports, sinks): "flowcap: "
 * then the message, through rte_log under the file's log type (FC_LOGTYPE,
 * defined before including this header; flowcap.main otherwise), so that
 * --log-level=flowcap.collector:debug works; on stdout for information
 * and stderr for problems, with journal priorities under systemd
 * (fc_log.c). Never on the packet path.
 *
 * Thread safety: any thread; one write per line, so lines of several
 * lcores never interleave.
 */
extern int fc_logtype_main, fc_logtype_collector, fc_logtype_port;
extern int fc_logtype_sink, fc_logtype_ipfix, fc_logtype_metrics;
#ifndef FC_LOGTYPE
#define FC_LOGTYPE fc_logtype_main
#endif
#define FC_DEBUG(...) fc_logf(FC_LOGTYPE, RTE_LOG_DEBUG, __VA_ARGS__)
#define FC_INFO(...) fc_logf(FC_LOGTYPE, RTE_LOG_INFO, __VA_ARGS__)
#define FC_WARN(...) fc_logf(FC_LOGTYPE, RTE_LOG_WARNING, __VA_ARGS__)
void fc_logf(int type, unsigned level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/**
 * Make rte_log write flowcap's way (see fc_log.c). Thread safety: main,
 * first thing, before any other thread exists.
 */
void fc_log_init(void);

/**
 * A worker lcore's loop (arg: its struct fc_worker): live ports or trace
 * rings until the stop flag, then its final hand-off. Hot path. Reads
 * only its own struct and what its context (fc_worker_bind) names.
 *
 * Thread safety: one lcore per worker (rte_eal_remote_launch); it alone
 * writes its struct fc_worker and its current table. Partners of what it
 * publishes are named at the fields (sealed, watermark, done).
 */
int fc_worker_main(void *arg);

/**
 * Fill the worker's context (struct fc_worker_ctx) from the application:
 * once the ports are set up (RX timestamps), before the worker starts.
 * Thread safety: main thread only, before the worker's lcore is launched.
 */
void fc_worker_bind(struct fc_worker *w, struct fc_app *app);

/**
 * Prepare a worker (first table, link type); fc_worker_main does it.
 * Thread safety: the thread that will run the worker, before it runs
 * (main, for the feeder's inline worker). Not hot path.
 */
void fc_worker_init(struct fc_worker *w);

/**
 * Trace input without a worker lcore: process n ring objects (packets and
 * markers, as the feeder would enqueue them) on the calling thread. Used
 * by the feeder when there is one worker: no ring hop, and the packet
 * bytes are processed on the core that just read them. Hot path.
 *
 * Thread safety: none; the feeder's thread only (main), for the one
 * worker no lcore runs.
 */
void fc_worker_feed(struct fc_worker *w, void **objs, unsigned n);

/**
 * The collector lcore's loop (arg: the struct fc_app): takes sealed
 * tables from the queue, merges and writes each interval when complete,
 * gives the tables back, and sets collector_done (release; partner: main's
 * acquire load before it reaps the lcores) when the run is over.
 *
 * Thread safety: one lcore, once per run; the only consumer of the
 * wait-free queue (any number of workers enqueue) and the only writer of
 * the files and of the collector results in struct fc_app. Not hot path.
 */
int fc_collector_main(void *arg);

/**
 * Add the file sink (the .ft.zst writer: --out, --template, --rotate) to
 * the collector's sinks. Returns 0 or -errno. Thread safety: set-up only.
 */
int fc_filesink_add(struct fc_sinks *ss, struct fc_app *app);
/** Free what fc_filesink_add allocated (after the last flush). */
void fc_filesink_free(struct fc_sinks *ss);

/**
 * Add the ClickHouse sink (--clickhouse, fc_chsink.c) after the file
 * sink: checks the tables (a missing one or a wrong column: message,
 * -EINVAL; a server that does not answer yet: a warning) and starts its
 * sender thread. Returns 0 or -errno. Thread safety: set-up only.
 */
int fc_chsink_add(struct fc_sinks *ss, struct fc_app *app, const char *url,
		  unsigned queue_mb);
/** Stop the sender (if flush has not) and free the ClickHouse sink;
 *  returns true when intervals were left pending (none: false). */
bool fc_chsink_free(struct fc_sinks *ss);
/**
 * Open every --read input, check it, and put them in the time order of
 * their first packets (stable: inputs with the same first time keep
 * their command-line order). Run at start-up, before privileges are
 * dropped: the feeder then reads these descriptors, never a path. Returns
 * 0, or -1 with the message printed (a bad command line).
 *
 * Thread safety: main thread only, once, before the EAL starts lcores:
 * the inputs are the feeder's static state (fc_feeder.c).
 */
int fc_feeder_open(const struct fc_cfg *cfg);

/**
 * The trace feeder: read the inputs fc_feeder_open put in order, run the
 * sequential interval clock, and feed the workers' rings (or the inline
 * worker) up to the end marker; then wait until every worker is done
 * with the inputs' memory and close them. Returns 0, or -1 when an input
 * could not be reopened or read to its end (said; the run still ends
 * cleanly).
 *
 * Thread safety: main lcore only, once per run (static state); the only
 * producer of every worker's ring (single-producer enqueues). Hot path:
 * its loop walks every packet of the trace (a run of a mapped pcap
 * without a call per packet) and feeds every worker.
 */
int fc_feeder_run(struct fc_app *app);

/**
 * Reloads asked for (SIGHUP, /flowcap/reload): a count that only grows.
 * The control thread of a trace run (the feeder) compares it with the
 * value it last saw before every packet, and calls fc_control_reloads
 * when it moved, so a reload takes effect between two packets of the
 * trace. Thread safety: any thread and signal handlers add (relaxed);
 * the control thread reads.
 */
extern _Atomic uint64_t fc_reload_req;

/**
 * Do the reloads asked for since the last call (fc_reload, one per
 * SIGHUP and per /flowcap/reload request), as the live control loop does
 * every round. Thread safety: the control thread only (main; in a trace
 * run the feeder, which runs on it).
 */
void fc_control_reloads(void);

/**
 * Every --read input was a pcap read in place when fc_feeder_open looked
 * at it: its packets reach the workers without a copy, so the trace mbuf
 * pool is needed only should a mapping fail when the input is read.
 * Thread safety: main thread, after fc_feeder_open. Not hot path.
 */
bool fc_feeder_all_mapped(void);

/**
 * The link type of the first packet of each --read input opened by
 * fc_feeder_open (a pipe read later is not known yet), at most max,
 * without repeats. Returns how many.
 * Thread safety: main thread, after fc_feeder_open. Not hot path.
 */
unsigned fc_feeder_dlts(uint32_t *dlts, unsigned max);

/**
 * Configure and start every port: one RX queue per worker, RSS, mempools.
 * Returns 0; -EINVAL for a bad --ports (a bad command line) or -1, with
 * the message printed.
 * Thread safety: main lcore only, before any worker is launched (the
 * mempools are static state of fc_port.c). Not hot path.
 */
int fc_ports_init(struct fc_app *app);

/**
 * Stop and close every port.
 * Thread safety: main lcore only, after every worker has been reaped
 * (rte_eal_wait_lcore) and the last fc_ports_nic_update. Not hot path.
 */
void fc_ports_fini(struct fc_app *app);

/**
 * Read every port's NIC counters (rte_eth_stats_get) and publish their
 * sums for fc_ports_nic_read. Once every worker is done (fc_worker.done),
 * the reading is the last: it is published as final and later calls do
 * nothing. No-op in trace mode.
 *
 * Thread safety: main lcore only; the one caller of rte_eth_stats_get,
 * which DPDK does not allow on one port from two threads at once.
 * Not on the hot path (every 10 ms, and while main waits at shutdown).
 */
void fc_ports_nic_update(struct fc_app *app);

/**
 * The NIC drop sums that fc_ports_nic_update published. With final, wait
 * until main has published the reading taken after every worker stopped,
 * so the last interval counts the NIC's drops up to the end (the caller
 * must be past the workers' final hand-offs, or the wait is in vain: it
 * gives up after 10 s, with a warning, and returns the latest reading).
 *
 * Thread safety: any thread; loads only (acquire). Not on the hot path.
 */
void fc_ports_nic_read(struct fc_app *app, bool final, uint64_t *imissed,
		       uint64_t *nombuf, uint64_t *ierrors);
/**
 * Wall-clock time now (CLOCK_REALTIME), in nanoseconds since the epoch.
 * Thread safety: any thread. Not per packet (a system clock read).
 */
uint64_t fc_wall_now_ns(void);

/**
 * Compare the lcores that EAL options ask for (-l, -c, --lcores) with the
 * CPUs this process may run on, before the EAL starts. Returns 0, or -1
 * after saying which CPU is missing and which --lcores would do.
 * Thread safety: main thread only, at start-up (before the EAL starts
 * threads). Not hot path.
 */
int fc_eal_check_lcores(int argc, char **argv);

/**
 * rte_eal_init, but a failure says its likely cause first (file prefix in
 * use, no hugepages) and the EAL's option list is left out of it.
 * Returns what rte_eal_init returns; rte_errno as it set it.
 * Thread safety: main thread only, once (rte_eal_init's own rule).
 */
int fc_eal_init(int argc, char **argv);

/* ---- fc_options.c: the command line ---------------------------------- */

/**
 * Parse flowcap's own options (argv[0] is the program or "--") into cfg.
 * Returns 0; -1 after saying what is wrong (the caller exits 2); --help
 * and --version print and exit 0.
 * Thread safety: main thread only, at start-up.
 */
int fc_options_parse(struct fc_cfg *cfg, int argc, char **argv);

/**
 * The checks between options, and between them and the EAL options
 * (eal_argv[1..eal_argc-1], or none): --read with a device, a file name
 * template that cannot be unique, a group that does not exist... Returns
 * 0, or -1 after saying which option to change.
 * Thread safety: main thread only, at start-up.
 */
int fc_options_check(const struct fc_cfg *cfg, int eal_argc, char **eal_argv);

/**
 * EAL arguments for trace input when the user gave none: no PCI scan, no
 * telemetry, hugepages only if enough are free. Fills out[] (pointers to
 * constants and to store) and returns how many.
 * Thread safety: main thread only, at start-up.
 */
int fc_options_eal_defaults(const struct fc_cfg *cfg, char **out, int max,
			    char *store, size_t storelen);

/* ---- fc_stats.c: what the operator sees ------------------------------ */

/**
 * Print the per-second stats line on stderr. prev[] holds each worker's
 * rx count at the previous line (updated), dt the seconds since.
 * Thread safety: main lcore only (it owns the NIC counters it shows).
 */
void fc_stats_line(struct fc_app *app, uint64_t *prev, double dt);

/**
 * Print the exit summary on stdout: totals, every counter by name, each
 * sink, conservation. After the collector is done (reads its totals).
 * Thread safety: main lcore only, once every other lcore has finished.
 */
void fc_stats_summary(struct fc_app *app, double secs);

/* ---- fc_metrics.c, fc_telemetry.c: what monitoring sees ------------- */

#define FC_IV_RING 32 /**< intervals /flowcap/intervals remembers */

/** One interval the collector handed to the sinks (/flowcap/intervals). */
struct fc_iv_note {
	uint64_t index, start, end;
	uint32_t flags;
	bool written;   /**< the file sink took it */
	bool conserved; /**< received = in records + dropped */
	uint64_t records, rec_pkts, rx_pkts;
	char file[256]; /**< the file it went to (or should have) */
};

/** Counters at one moment: what --metrics-file and telemetry show. */
struct fc_snapshot {
	/* Summed over the intervals accounted so far (the summary's). */
	uint64_t rx, rec, lost, rejected, filtered, ctr[FC_CTR_MAX];
	uint64_t last_end;
	bool conservation_ok;
	/* Live, as the stats line shows them. */
	uint64_t w_rx[FC_MAX_WORKERS], w_lost[FC_MAX_WORKERS];
	uint64_t w_rej[FC_MAX_WORKERS], w_fill[FC_MAX_WORKERS];
	uint64_t table_keys; /**< keys a table holds, IPv4 + IPv6 */
	uint64_t nic[3];     /**< imissed, nombuf, ierrors */
	uint64_t backlog, intervals_written, intervals_lost, files_written;
	uint64_t files_unsynced, late_handoffs;
};

/**
 * Account one interval the collector has just offered to every sink.
 * Thread safety: the collector only. Not hot path (once per interval).
 */
void fc_metrics_interval(struct fc_app *app, const struct fc_ft_interval *iv);
/** Fill s. Thread safety: any thread (relaxed loads). */
void fc_metrics_snapshot(struct fc_app *app, struct fc_snapshot *s);
/** Copy the last intervals, oldest first; returns how many. Any thread. */
unsigned fc_metrics_intervals(struct fc_iv_note *out, unsigned max);
/** --metrics-file: its directory exists and is writable. 0 or -1 (said). */
int fc_metrics_check(const struct fc_cfg *cfg);
/**
 * Start the --metrics-file writer thread (nothing without the option).
 * Returns 0 or -1 (said). Thread safety: main, once, before the lcores.
 */
int fc_metrics_start(struct fc_app *app);
/**
 * Stop the writer and write the file a last time, with the final
 * counters. Thread safety: main, once every lcore has finished.
 */
void fc_metrics_stop(struct fc_app *app);
/**
 * Register the /flowcap/ telemetry commands (/flowcap/reload only when
 * app->reload is set). Returns 0 or -1. Thread safety: main, once.
 */
int fc_telemetry_register(struct fc_app *app);
/**
 * Path of the file the file sink last wrote to (or tried), or NULL.
 * Thread safety: the collector only (the sink's own state).
 */
const char *fc_filesink_path(const struct fc_sinks *ss);

/* ---- fc_ipfixsink.c: --ipfix ------------------------------------------ */

/** --ipfix: its syntax. 0 or -1 (said). Thread safety: main, start-up. */
int fc_ipfix_check(const struct fc_cfg *cfg);
/**
 * Add the IPFIX sink (with its exporter thread) when --ipfix is given.
 * Returns 0 or -errno. Thread safety: set-up only.
 */
int fc_ipfixsink_add(struct fc_sinks *ss, struct fc_app *app);
/** Free it (after the last flush; main, at exit). */
void fc_ipfixsink_free(struct fc_sinks *ss);
/** The IPFIX families of the --metrics-file (none without --ipfix). */
void fc_ipfix_metrics(FILE *f);
/**
 * Intervals and records sent, unsent, refused (queue full), in that
 * order; false without --ipfix. Thread safety: any thread.
 */
bool fc_ipfix_counters(uint64_t v[6]);

#endif /* FC_APP_H */
