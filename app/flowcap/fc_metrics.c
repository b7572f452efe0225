/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What monitoring sees: one snapshot of flowcap's counters (the workers'
 * published counts, the accounting of every interval the collector has
 * handed to the sinks, the collector's and the sinks' counters), the ring
 * of the last intervals written, and the Prometheus textfile that
 * --metrics-file asks for (node_exporter's textfile collector format),
 * rewritten by a control thread every FC_METRICS_PERIOD seconds and once
 * more at exit. The totals are summed from the same struct fc_ft_interval
 * the collector sums for the exit summary, so the last file written and
 * the summary agree to the packet. It does not serve anything itself: the
 * DPDK telemetry commands (fc_telemetry.c) read the same snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>

#define FC_LOGTYPE fc_logtype_metrics /* FC_INFO, FC_WARN */
#include "fc_app.h"
#include "fc_version.h"

#define FC_METRICS_PERIOD 5 /**< seconds between two textfile writes */

/*
 * Accounting of the intervals the collector has offered to the sinks,
 * published by the collector after each one (relaxed: each a number on
 * its own for a reader that samples it; no data hangs on them).
 */
static struct {
	_Atomic uint64_t rx, rec, ctr[FC_CTR_MAX];
	_Atomic uint64_t last_end; /**< last second of the last interval */
	_Atomic bool conservation_failed;
} iv_acct;

/* The last intervals written, newest at (ring_head - 1) % FC_IV_RING.
 * Guarded by ring_lock: written by the collector once per interval,
 * read by the telemetry thread; neither is on the packet path. */
static struct fc_iv_note ring[FC_IV_RING];
static uint64_t ring_head;
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;

/* The textfile writer thread and its stop request (guarded by wlock). */
static pthread_t writer;
static bool writer_running;
static bool writer_stop;
static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wcond = PTHREAD_COND_INITIALIZER;
static uint64_t start_time;

void fc_metrics_interval(struct fc_app *app, const struct fc_ft_interval *iv)
{
	uint64_t drops = 0;
	struct fc_iv_note *e;
	const char *path;

	atomic_fetch_add_explicit(&iv_acct.rx, iv->rx_pkts, memory_order_relaxed);
	atomic_fetch_add_explicit(&iv_acct.rec, iv->rec_pkts,
				  memory_order_relaxed);
	for (unsigned i = 0; i < FC_CTR_MAX; i++) {
		if (iv->ctr[i] != 0)
			atomic_fetch_add_explicit(&iv_acct.ctr[i], iv->ctr[i],
						  memory_order_relaxed);
		if (i >= 1 && i < FC_CTR_INFO_FIRST)
			drops += iv->ctr[i];
	}
	atomic_store_explicit(&iv_acct.last_end, iv->end, memory_order_relaxed);
	if (iv->rx_pkts != iv->rec_pkts + drops)
		atomic_store_explicit(&iv_acct.conservation_failed, true,
				      memory_order_relaxed);
	path = fc_filesink_path(&app->sinks);
	pthread_mutex_lock(&ring_lock);
	e = &ring[ring_head % FC_IV_RING];
	e->index = iv->index;
	e->start = iv->start;
	e->end = iv->end;
	e->flags = iv->flags;
	e->records = iv->n_records;
	e->rec_pkts = iv->rec_pkts;
	e->rx_pkts = iv->rx_pkts;
	e->conserved = iv->rx_pkts == iv->rec_pkts + drops;
	/* The file sink is first: its verdict on this interval is in. */
	e->written = app->sinks.n > 0 &&
		     atomic_load_explicit(&app->sinks.s[0].last_status,
					  memory_order_relaxed) == 0;
	snprintf(e->file, sizeof(e->file), "%s", path ? path : "");
	ring_head++;
	pthread_mutex_unlock(&ring_lock);
}

unsigned fc_metrics_intervals(struct fc_iv_note *out, unsigned max)
{
	unsigned n = 0;

	pthread_mutex_lock(&ring_lock);
	for (uint64_t i = ring_head > FC_IV_RING ? ring_head - FC_IV_RING : 0;
	     i < ring_head && n < max; i++)
		out[n++] = ring[i % FC_IV_RING];
	pthread_mutex_unlock(&ring_lock);
	return n;
}

void fc_metrics_snapshot(struct fc_app *app, struct fc_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->rx = atomic_load_explicit(&iv_acct.rx, memory_order_relaxed);
	s->rec = atomic_load_explicit(&iv_acct.rec, memory_order_relaxed);
	for (unsigned i = 0; i < FC_CTR_MAX; i++) {
		s->ctr[i] = atomic_load_explicit(&iv_acct.ctr[i],
						 memory_order_relaxed);
		/* Refused by the capture filter: asked for, neither a loss
		 * nor a frame without a flowtuple. */
		if (i == FC_CTR_FILTERED)
			s->filtered += s->ctr[i];
		else if (i >= 1 && i < FC_CTR_LOSS_FIRST)
			s->rejected += s->ctr[i];
		else if (i >= FC_CTR_LOSS_FIRST && i < FC_CTR_INFO_FIRST)
			s->lost += s->ctr[i];
	}
	s->last_end = atomic_load_explicit(&iv_acct.last_end,
					   memory_order_relaxed);
	s->conservation_ok = !atomic_load_explicit(&iv_acct.conservation_failed,
						   memory_order_relaxed);
	for (unsigned w = 0; w < app->n_workers && app->workers != NULL; w++) {
		const struct fc_worker *k = &app->workers[w];

		s->w_rx[w] = atomic_load_explicit(&k->pub_rx,
						  memory_order_relaxed);
		s->w_lost[w] = atomic_load_explicit(&k->pub_lost,
						    memory_order_relaxed);
		s->w_rej[w] = atomic_load_explicit(&k->pub_rej,
						   memory_order_relaxed);
		s->w_fill[w] = atomic_load_explicit(&k->pub_fill,
						    memory_order_relaxed);
	}
	s->table_keys = app->cfg.table_keys +
			(app->cfg.table_keys6 ? app->cfg.table_keys6 :
			 fc_flowtable_keys6_for(app->cfg.table_keys));
	if (!app->trace_mode && app->n_ports > 0)
		fc_ports_nic_read(app, false, &s->nic[0], &s->nic[1],
				  &s->nic[2]);
	s->backlog = atomic_load(&app->backlog);
	s->intervals_written = atomic_load(&app->intervals_written);
	s->intervals_lost = atomic_load(&app->intervals_lost);
	s->files_written = atomic_load(&app->files_written);
	s->files_unsynced = atomic_load(&app->files_unsynced);
	s->late_handoffs = atomic_load(&app->late_handoffs);
}

/* One metric family: HELP and TYPE lines. */
static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void write_metrics(FILE *f, struct fc_app *app)
{
	struct fc_snapshot s;
	char ver[256];

	fc_metrics_snapshot(app, &s);
	fc_version_writer(ver, sizeof(ver), "flowcap");
	family(f, "flowcap_info", "gauge",
	       "Version, monitor name and input of this flowcap (always 1).");
	fprintf(f, "flowcap_info{version=\"%s\",monitor=\"%s\",input=\"%s\"} 1\n",
		ver, app->cfg.name, app->trace_mode ? "trace" : "ports");
	family(f, "flowcap_start_time_seconds", "gauge",
	       "Unix time flowcap started capturing.");
	fprintf(f, "flowcap_start_time_seconds %" PRIu64 "\n", start_time);
	family(f, "flowcap_packets_received_total", "counter",
	       "Packets a worker received (live; NIC drops not included).");
	for (unsigned w = 0; w < app->n_workers; w++)
		fprintf(f, "flowcap_packets_received_total{worker=\"%u\"} %"
			PRIu64 "\n", w, s.w_rx[w]);
	family(f, "flowcap_worker_packets_lost_total", "counter",
	       "Packets a worker received and lost (tbl_full, no_table).");
	for (unsigned w = 0; w < app->n_workers; w++)
		fprintf(f, "flowcap_worker_packets_lost_total{worker=\"%u\"} %"
			PRIu64 "\n", w, s.w_lost[w]);
	family(f, "flowcap_worker_packets_rejected_total", "counter",
	       "Frames a worker received that carry no flowtuple.");
	for (unsigned w = 0; w < app->n_workers; w++)
		fprintf(f, "flowcap_worker_packets_rejected_total{worker=\"%u\"} %"
			PRIu64 "\n", w, s.w_rej[w]);
	family(f, "flowcap_table_fill_ratio", "gauge",
	       "Keys in a worker's current table over the keys it holds.");
	for (unsigned w = 0; w < app->n_workers; w++)
		fprintf(f, "flowcap_table_fill_ratio{worker=\"%u\"} %.6f\n", w,
			s.table_keys ? (double)s.w_fill[w] /
					       (double)s.table_keys : 0.0);
	if (!app->trace_mode) {
		static const char *const nic[] = { "imissed", "nombuf",
						   "ierrors" };

		family(f, "flowcap_nic_drops_total", "counter",
		       "Packets the NICs dropped (live reading).");
		for (unsigned i = 0; i < 3; i++)
			fprintf(f, "flowcap_nic_drops_total{reason=\"%s\"} %"
				PRIu64 "\n", nic[i], s.nic[i]);
	}
	family(f, "flowcap_interval_packets_received_total", "counter",
	       "Packets received (NIC drops included) in the intervals "
	       "accounted so far; at exit the summary's 'received'.");
	fprintf(f, "flowcap_interval_packets_received_total %" PRIu64 "\n",
		s.rx);
	family(f, "flowcap_interval_packets_recorded_total", "counter",
	       "Packets counted in records of the intervals accounted.");
	fprintf(f, "flowcap_interval_packets_recorded_total %" PRIu64 "\n",
		s.rec);
	family(f, "flowcap_packets_lost_total", "counter",
	       "Packets lost in the intervals accounted (sum of the loss "
	       "reasons of flowcap_drops_total).");
	fprintf(f, "flowcap_packets_lost_total %" PRIu64 "\n", s.lost);
	family(f, "flowcap_packets_rejected_total", "counter",
	       "Frames without a flowtuple in the intervals accounted.");
	fprintf(f, "flowcap_packets_rejected_total %" PRIu64 "\n", s.rejected);
	family(f, "flowcap_packets_filtered_total", "counter",
	       "Packets the capture filter refused (--filter), in no record.");
	fprintf(f, "flowcap_packets_filtered_total %" PRIu64 "\n", s.filtered);
	family(f, "flowcap_drops_total", "counter",
	       "Packets in no record, by reason (counter name); kind says "
	       "whether a loss or a frame without a flowtuple.");
	for (unsigned i = 1; i < FC_CTR_INFO_FIRST; i++)
		if (fc_ft_counter_name(i) != NULL)
			fprintf(f, "flowcap_drops_total{reason=\"%s\",kind=\"%s\"}"
				" %" PRIu64 "\n", fc_ft_counter_name(i),
				i == FC_CTR_FILTERED ? "filtered" :
				i >= FC_CTR_LOSS_FIRST ? "lost" : "rejected",
				s.ctr[i]);
	family(f, "flowcap_packets_late_total", "counter",
	       "Packets older than their interval, counted in records.");
	fprintf(f, "flowcap_packets_late_total %" PRIu64 "\n",
		s.ctr[FC_CTR_LATE]);
	family(f, "flowcap_intervals_written_total", "counter",
	       "Intervals written to complete files.");
	fprintf(f, "flowcap_intervals_written_total %" PRIu64 "\n",
		s.intervals_written);
	family(f, "flowcap_intervals_lost_total", "counter",
	       "Intervals that could not be written (full or failing disk).");
	fprintf(f, "flowcap_intervals_lost_total %" PRIu64 "\n",
		s.intervals_lost);
	family(f, "flowcap_intervals_late_total", "counter",
	       "Intervals flagged late: the collector fell behind.");
	fprintf(f, "flowcap_intervals_late_total %" PRIu64 "\n",
		s.late_handoffs);
	family(f, "flowcap_files_written_total", "counter",
	       "Files completed under their final name.");
	fprintf(f, "flowcap_files_written_total %" PRIu64 "\n",
		s.files_written);
	family(f, "flowcap_files_unsynced_total", "counter",
	       "Files complete whose directory could not be synced.");
	fprintf(f, "flowcap_files_unsynced_total %" PRIu64 "\n",
		s.files_unsynced);
	family(f, "flowcap_collector_backlog", "gauge",
	       "Tables waiting for the collector.");
	fprintf(f, "flowcap_collector_backlog %" PRIu64 "\n", s.backlog);
	family(f, "flowcap_last_interval_end_seconds", "gauge",
	       "Last second (Unix time, packet clock) of the last interval "
	       "accounted; 0 before the first.");
	fprintf(f, "flowcap_last_interval_end_seconds %" PRIu64 "\n",
		s.last_end);
	family(f, "flowcap_conservation_ok", "gauge",
	       "1 while every interval balances: received = in records + "
	       "lost + rejected.");
	fprintf(f, "flowcap_conservation_ok %d\n", s.conservation_ok ? 1 : 0);
	family(f, "flowcap_sink_intervals_total", "counter",
	       "Intervals each record sink took (result ok) or could not "
	       "take (result failed).");
	for (unsigned i = 0; i < app->sinks.n; i++) {
		const struct fc_sink *k = &app->sinks.s[i];

		fprintf(f, "flowcap_sink_intervals_total{sink=\"%s\",result="
			"\"ok\"} %" PRIu64 "\n", k->ops->name,
			atomic_load_explicit(&k->intervals_ok,
					     memory_order_relaxed));
		fprintf(f, "flowcap_sink_intervals_total{sink=\"%s\",result="
			"\"failed\"} %" PRIu64 "\n", k->ops->name,
			atomic_load_explicit(&k->intervals_failed,
					     memory_order_relaxed));
	}
	fc_ipfix_metrics(f);
}

/*
 * Write PATH.tmp, fsync it, rename it over PATH: node_exporter never
 * reads a half-written file. Returns 0 or -errno.
 */
static int write_file(struct fc_app *app)
{
	const char *path = app->cfg.metrics_file;
	char tmp[PATH_MAX];
	FILE *f;
	int rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (f == NULL)
		return -errno;
	write_metrics(f, app);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

/* Write the file; say so once when it fails, and once when it works again. */
static void write_and_tell(struct fc_app *app)
{
	static bool failing;
	int rc = write_file(app);

	if (rc != 0 && !failing)
		FC_WARN("--metrics-file %s: cannot write it: %s; capture "
			"continues, retrying every %d s\n",
			app->cfg.metrics_file, strerror(-rc), FC_METRICS_PERIOD);
	else if (rc == 0 && failing)
		FC_INFO("--metrics-file %s: written again\n",
			app->cfg.metrics_file);
	failing = rc != 0;
}

static void *writer_main(void *arg)
{
	struct fc_app *app = arg;
	struct timespec due;

	pthread_mutex_lock(&wlock);
	while (!writer_stop) {
		pthread_mutex_unlock(&wlock);
		write_and_tell(app);
		pthread_mutex_lock(&wlock);
		clock_gettime(CLOCK_REALTIME, &due);
		due.tv_sec += FC_METRICS_PERIOD;
		while (!writer_stop &&
		       pthread_cond_timedwait(&wcond, &wlock, &due) == 0)
			;
	}
	pthread_mutex_unlock(&wlock);
	return NULL;
}

int fc_metrics_start(struct fc_app *app)
{
	int rc;

	start_time = fc_wall_now_ns() / 1000000000ULL;
	if (app->cfg.metrics_file == NULL)
		return 0;
	rc = rte_ctrl_thread_create(&writer, "fc-metrics", NULL, writer_main,
				    app);
	if (rc != 0) {
		fprintf(stderr, "flowcap: --metrics-file: cannot start its "
			"thread: %s\n", strerror(-rc > 0 ? -rc : rc));
		return -1;
	}
	writer_running = true;
	return 0;
}

void fc_metrics_stop(struct fc_app *app)
{
	if (!writer_running)
		return;
	pthread_mutex_lock(&wlock);
	writer_stop = true;
	pthread_cond_signal(&wcond);
	pthread_mutex_unlock(&wlock);
	pthread_join(writer, NULL);
	writer_running = false;
	/* The last word: every interval is accounted, the counters are
	 * final and equal the summary's. */
	write_and_tell(app);
}

int fc_metrics_check(const struct fc_cfg *cfg)
{
	char dir[PATH_MAX];
	const char *slash;
	struct stat st;

	if (cfg->metrics_file == NULL)
		return 0;
	slash = strrchr(cfg->metrics_file, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == cfg->metrics_file)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s",
			 (int)(slash - cfg->metrics_file), cfg->metrics_file);
	if (slash != NULL && slash[1] == '\0') {
		fprintf(stderr, "flowcap: --metrics-file '%s' names a "
			"directory; name the file, e.g. %sflowcap.prom\n",
			cfg->metrics_file, cfg->metrics_file);
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "flowcap: --metrics-file '%s': directory '%s' "
			"does not exist; create it (node_exporter's "
			"--collector.textfile.directory) or name another\n",
			cfg->metrics_file, dir);
		return -1;
	}
	if (cfg->user == NULL && access(dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "flowcap: --metrics-file '%s': directory '%s' "
			"is not writable (%s); fix its permissions or name "
			"another\n", cfg->metrics_file, dir, strerror(errno));
		return -1;
	}
	return 0;
}
