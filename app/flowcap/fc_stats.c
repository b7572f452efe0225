/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What flowcap tells its operator: the per-second stats line and the
 * summary at exit. Both read the counters the workers, the collector and
 * the sinks publish (relaxed atomics), the same values the files carry.
 */
#include <inttypes.h>
#include <stdio.h>

#include "fc_app.h"


/*
 * The per-second line. Loss (tbl_full, no_table, the NIC's drops) and
 * rejects (frames without a flowtuple: not IP, truncated, malformed) are
 * shown apart: a link carrying ARP rejects frames all the time, and that
 * is no loss. The totals that end the line count what reached the ports,
 * NIC drops included, as the summary does.
 */
void fc_stats_line(struct fc_app *app, uint64_t *prev, double dt)
{
	char buf[4096];
	int o = 0;
	uint64_t rx_all = 0, lost_all = 0, rej_all = 0, filt_all = 0;

	o += snprintf(buf + o, sizeof(buf) - (size_t)o, "flowcap:");
	/* Every worker is in the totals that end the line; its own fields
	 * only while the line has room (machines with many workers): at
	 * most 800 bytes of them, then 100 per worker, the NIC's 100 and
	 * the totals' 180 always fit. */
	for (unsigned i = 0; i < app->n_workers; i++) {
		uint64_t rx = atomic_load_explicit(&app->workers[i].pub_rx,
						   memory_order_relaxed);
		uint64_t lost = atomic_load_explicit(
			&app->workers[i].pub_lost, memory_order_relaxed);
		uint64_t rej = atomic_load_explicit(
			&app->workers[i].pub_rej, memory_order_relaxed);

		rx_all += rx;
		filt_all += atomic_load_explicit(&app->workers[i].pub_filt,
						 memory_order_relaxed);
		lost_all += lost;
		rej_all += rej;
		if (o < 800)
			o += snprintf(buf + o, sizeof(buf) - (size_t)o,
				      " w%u %.2f Mpps lost %" PRIu64
				      " rejected %" PRIu64 " fill %" PRIu64,
				      i,
				      dt > 0 ? (double)(rx - prev[i]) / dt /
						       1e6 :
					       0.0,
				      lost, rej,
				      atomic_load_explicit(
					      &app->workers[i].pub_fill,
					      memory_order_relaxed));
		prev[i] = rx;
	}
	if (!app->trace_mode) {
		uint64_t im, nb, ie;

		fc_ports_nic_read(app, false, &im, &nb, &ie);
		o += snprintf(buf + o, sizeof(buf) - (size_t)o,
			      " | nic drops imissed %" PRIu64 " nombuf %" PRIu64
			      " ierrors %" PRIu64,
			      im, nb, ie);
		rx_all += im + nb + ie;
		lost_all += im + nb + ie;
	}
	/* Each sink's own failures (the file sink's are the intervals
	 * lost): shown once a sink has failed. */
	for (unsigned i = 0; i < app->sinks.n && o < 900; i++) {
		uint64_t f = atomic_load_explicit(
			&app->sinks.s[i].intervals_failed, memory_order_relaxed);

		if (f != 0)
			o += snprintf(buf + o, sizeof(buf) - (size_t)o,
				      " | sink %s failed %" PRIu64,
				      app->sinks.s[i].ops->name, f);
		if (app->sinks.s[i].ops->report != NULL && o < 900) {
			char r[200];

			app->sinks.s[i].ops->report(app->sinks.s[i].ctx, r,
						    sizeof(r));
			o += snprintf(buf + o, sizeof(buf) - (size_t)o,
				      " | %s %s", app->sinks.s[i].ops->name, r);
		}
	}
	/* Packets in records per payload label (--classify), while the
	 * line has room; "-" is no label. */
	if (app->label_pkts != NULL && app->labels != NULL) {
		unsigned nl = atomic_load_explicit(&app->labels->n,
						   memory_order_acquire);

		o += snprintf(buf + o, sizeof(buf) - (size_t)o, " | labels");
		for (unsigned i = 0; i <= nl && o < 1500; i++) {
			uint64_t v = atomic_load_explicit(&app->label_pkts[i],
							  memory_order_relaxed);

			if (v != 0)
				o += snprintf(buf + o, sizeof(buf) - (size_t)o,
					      " %s %" PRIu64,
					      i ? app->labels->name[i] : "-", v);
		}
	}
	/* Filtered packets (neither lost nor rejected), once there are
	 * some; before the totals, which stay the line's last fields for
	 * the scripts that read them (flowcap-loss.sh). */
	if (filt_all != 0 && o < 900)
		o += snprintf(buf + o, sizeof(buf) - (size_t)o,
			      " | filtered %" PRIu64, filt_all);
	snprintf(buf + o, sizeof(buf) - (size_t)o,
		 " | backlog %" PRIu64 " | intervals %" PRIu64 " lost %" PRIu64
		 " | rx %" PRIu64 " lost %" PRIu64 " rejected %" PRIu64,
		 atomic_load(&app->backlog), atomic_load(&app->intervals_written),
		 atomic_load(&app->intervals_lost), rx_all, lost_all, rej_all);
	fprintf(stderr, "%s\n", buf);
}

void fc_stats_summary(struct fc_app *app, double secs)
{
	uint64_t lost = 0, rej = 0, filt = app->tot_ctr[FC_CTR_FILTERED];

	for (unsigned i = 1; i < FC_CTR_INFO_FIRST; i++)
		if (i < FC_CTR_LOSS_FIRST)
			rej += app->tot_ctr[i];
		else if (i != FC_CTR_FILTERED)
			lost += app->tot_ctr[i];
	printf("flowcap: summary: %" PRIu64 " packets received, %" PRIu64
	       " in records, %" PRIu64 " lost, %" PRIu64 " rejected (no "
	       "flowtuple: not IP, truncated or malformed); %" PRIu64
	       " intervals written to %" PRIu64 " files, %" PRIu64
	       " intervals lost; %.2f s\n",
	       app->tot_rx, app->tot_rec, lost, rej,
	       atomic_load(&app->intervals_written),
	       atomic_load(&app->files_written),
	       atomic_load(&app->intervals_lost), secs);
	for (unsigned i = 1; i < FC_CTR_MAX; i++)
		if (app->tot_ctr[i] && fc_ft_counter_name(i))
			printf("flowcap:   %-12s %" PRIu64 " (%s)\n",
			       fc_ft_counter_name(i), app->tot_ctr[i],
			       i >= FC_CTR_INFO_FIRST ? "counted in records" :
			       i == FC_CTR_FILTERED ? "refused by the filter" :
			       i >= FC_CTR_LOSS_FIRST ? "lost" : "rejected");
	for (unsigned i = 0; i < app->sinks.n; i++) {
		const struct fc_sink *k = &app->sinks.s[i];
		int st = atomic_load(&k->last_status);

		if (k->ops->report != NULL) {
			/* A sink with its own figures says it all. */
			char r[200];
			bool left = k->ops->report(k->ctx, r, sizeof(r));

			printf("flowcap:   sink %s: %s%s%s\n", k->ops->name, r,
			       left ? "; the pending intervals are in the "
				      "files: load them with flowcap-read "
				      "--to-clickhouse URL " : "",
			       left ? app->cfg.out_dir : "");
			continue;
		}
		printf("flowcap:   sink %s: %" PRIu64 " interval(s) taken, %" PRIu64
		       " failed%s%s\n",
		       k->ops->name, atomic_load(&k->intervals_ok),
		       atomic_load(&k->intervals_failed),
		       st ? "; last failure: " : "",
		       st ? k->ops->strerror(k->ctx, st) : "");
	}
	if (atomic_load(&app->files_unsynced))
		printf("flowcap:   %" PRIu64 " file(s) complete, but their "
		       "directory could not be synced: their names may not "
		       "survive a power loss (check the disk)\n",
		       atomic_load(&app->files_unsynced));
	if (atomic_load(&app->late_handoffs))
		printf("flowcap:   %" PRIu64 " interval(s) flagged late: the "
		       "collector fell behind and packets were dropped as "
		       "no_table\n",
		       atomic_load(&app->late_handoffs));
	if (app->label_pkts != NULL && app->labels != NULL) {
		unsigned nl = atomic_load(&app->labels->n);

		for (unsigned i = 0; i <= nl; i++)
			if (app->label_pkts[i] != 0)
				printf("flowcap:   label %-20s %" PRIu64
				       " packets in records\n",
				       i ? app->labels->name[i] : "(none)",
				       (uint64_t)app->label_pkts[i]);
	}
	if (atomic_load(&app->reload_ok) || atomic_load(&app->reload_failed))
		printf("flowcap:   reloads %" PRIu64 ", reload_failed %" PRIu64
		       "\n", atomic_load(&app->reload_ok),
		       atomic_load(&app->reload_failed));
	printf("flowcap: conservation %s: received %" PRIu64 " = %" PRIu64
	       " in records + %" PRIu64 " lost + %" PRIu64 " rejected + %"
	       PRIu64 " filtered\n",
	       app->conservation_ok &&
			       app->tot_rx == app->tot_rec + lost + rej + filt ?
		       "OK" : "FAILED",
	       app->tot_rx, app->tot_rec, lost, rej, filt);
}

