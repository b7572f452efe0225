/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap's commands on DPDK's telemetry socket (dpdk-telemetry.py,
 * telegraf's dpdk input): /flowcap/stats, /flowcap/workers,
 * /flowcap/intervals, /flowcap/config, and /flowcap/reload when something
 * can be reloaded (fc_app.reload is set). Every value comes from the
 * snapshot fc_metrics.c takes, the one the --metrics-file has, so the two
 * and the exit summary agree. The commands run on the EAL's telemetry
 * thread and only read; the socket itself is the EAL's (on unless the EAL
 * options say --no-telemetry; flowcap's own defaults for --read without
 * EAL options do).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "fc_app.h"

static struct fc_app *tel_app;

static int cmd_stats(const char *cmd, const char *params,
		     struct rte_tel_data *d)
{
	struct fc_app *app = tel_app;
	struct fc_snapshot *s = malloc(sizeof(*s));
	uint64_t wrx = 0;

	(void)cmd;
	(void)params;
	if (s == NULL)
		return -1;
	fc_metrics_snapshot(app, s);
	for (unsigned w = 0; w < app->n_workers; w++)
		wrx += s->w_rx[w];
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "workers_rx", wrx);
	rte_tel_data_add_dict_u64(d, "received", s->rx);
	rte_tel_data_add_dict_u64(d, "in_records", s->rec);
	rte_tel_data_add_dict_u64(d, "lost", s->lost);
	rte_tel_data_add_dict_u64(d, "rejected", s->rejected);
	for (unsigned i = 1; i < FC_CTR_MAX; i++)
		if (fc_ft_counter_name(i) != NULL)
			rte_tel_data_add_dict_u64(d, fc_ft_counter_name(i),
						  s->ctr[i]);
	rte_tel_data_add_dict_u64(d, "intervals_written", s->intervals_written);
	rte_tel_data_add_dict_u64(d, "intervals_lost", s->intervals_lost);
	rte_tel_data_add_dict_u64(d, "intervals_late", s->late_handoffs);
	rte_tel_data_add_dict_u64(d, "files_written", s->files_written);
	rte_tel_data_add_dict_u64(d, "files_unsynced", s->files_unsynced);
	rte_tel_data_add_dict_u64(d, "collector_backlog", s->backlog);
	rte_tel_data_add_dict_u64(d, "last_interval_end", s->last_end);
	rte_tel_data_add_dict_string(d, "conservation",
				     s->conservation_ok ? "ok" : "failed");
	for (unsigned i = 0; i < app->sinks.n; i++) {
		const struct fc_sink *k = &app->sinks.s[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		char name[64];
		int st = atomic_load_explicit(&k->last_status,
					      memory_order_relaxed);

		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "intervals_ok",
			atomic_load_explicit(&k->intervals_ok,
					     memory_order_relaxed));
		rte_tel_data_add_dict_u64(c, "intervals_failed",
			atomic_load_explicit(&k->intervals_failed,
					     memory_order_relaxed));
		rte_tel_data_add_dict_string(c, "last_failure",
			st != 0 ? k->ops->strerror(k->ctx, st) : "");
		snprintf(name, sizeof(name), "sink_%s", k->ops->name);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	uint64_t ix[6];

	if (fc_ipfix_counters(ix)) {
		static const char *const nm[] = {
			"ipfix_intervals_sent", "ipfix_records_sent",
			"ipfix_intervals_unsent", "ipfix_records_unsent",
			"ipfix_intervals_refused", "ipfix_records_refused" };

		for (unsigned i = 0; i < 6; i++)
			rte_tel_data_add_dict_u64(d, nm[i], ix[i]);
	}
	free(s);
	return 0;
}

static int cmd_workers(const char *cmd, const char *params,
		       struct rte_tel_data *d)
{
	struct fc_app *app = tel_app;
	struct fc_snapshot *s = malloc(sizeof(*s));

	(void)cmd;
	(void)params;
	if (s == NULL)
		return -1;
	fc_metrics_snapshot(app, s);
	rte_tel_data_start_dict(d);
	for (unsigned w = 0; w < app->n_workers; w++) {
		struct rte_tel_data *c = rte_tel_data_alloc();
		char name[32];

		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "lcore", app->workers[w].lcore);
		rte_tel_data_add_dict_u64(c, "rx_pkts", s->w_rx[w]);
		rte_tel_data_add_dict_u64(c, "lost", s->w_lost[w]);
		rte_tel_data_add_dict_u64(c, "rejected", s->w_rej[w]);
		rte_tel_data_add_dict_u64(c, "table_fill", s->w_fill[w]);
		rte_tel_data_add_dict_u64(c, "table_keys", s->table_keys);
		snprintf(name, sizeof(name), "%u", w);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	free(s);
	return 0;
}

static int cmd_intervals(const char *cmd, const char *params,
			 struct rte_tel_data *d)
{
	struct fc_iv_note *v = malloc(sizeof(*v) * FC_IV_RING);
	unsigned n;

	(void)cmd;
	(void)params;
	if (v == NULL)
		return -1;
	n = fc_metrics_intervals(v, FC_IV_RING);
	/* A dict keyed by interval index, oldest first: DPDK 22.11 takes
	 * only arrays as the elements of an array. */
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < n; i++) {
		struct rte_tel_data *c = rte_tel_data_alloc();
		char key[24];

		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "index", v[i].index);
		rte_tel_data_add_dict_u64(c, "start", v[i].start);
		rte_tel_data_add_dict_u64(c, "end", v[i].end);
		rte_tel_data_add_dict_u64(c, "flags", v[i].flags);
		rte_tel_data_add_dict_string(c, "file", v[i].file);
		rte_tel_data_add_dict_string(c, "written",
					     v[i].written ? "yes" : "no");
		rte_tel_data_add_dict_u64(c, "records", v[i].records);
		rte_tel_data_add_dict_u64(c, "packets", v[i].rec_pkts);
		rte_tel_data_add_dict_u64(c, "received", v[i].rx_pkts);
		rte_tel_data_add_dict_string(c, "conservation",
					     v[i].conserved ? "ok" : "failed");
		snprintf(key, sizeof(key), "%" PRIu64, v[i].index);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
	free(v);
	return 0;
}

static int cmd_config(const char *cmd, const char *params,
		      struct rte_tel_data *d)
{
	const struct fc_cfg *cfg = &tel_app->cfg;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "input",
				     tel_app->trace_mode ? "trace" : "ports");
	rte_tel_data_add_dict_u64(d, "interval", cfg->interval);
	rte_tel_data_add_dict_string(d, "out", cfg->out_dir);
	rte_tel_data_add_dict_string(d, "name", cfg->name);
	rte_tel_data_add_dict_string(d, "template", cfg->tmpl);
	rte_tel_data_add_dict_u64(d, "rotate", cfg->rotate);
	rte_tel_data_add_dict_string(d, "align", cfg->align ? "yes" : "no");
	rte_tel_data_add_dict_u64(d, "workers", tel_app->n_workers);
	rte_tel_data_add_dict_u64(d, "ports", tel_app->n_ports);
	rte_tel_data_add_dict_u64(d, "table_keys", cfg->table_keys);
	rte_tel_data_add_dict_u64(d, "table_keys6",
		cfg->table_keys6 ? cfg->table_keys6 :
		fc_flowtable_keys6_for(cfg->table_keys));
	rte_tel_data_add_dict_u64(d, "tables", cfg->tables_per_worker);
	rte_tel_data_add_dict_u64(d, "zstd_level", (uint64_t)cfg->zstd_level);
	rte_tel_data_add_dict_u64(d, "max_empty", cfg->max_empty);
	rte_tel_data_add_dict_u64(d, "max_jump", cfg->max_jump);
	rte_tel_data_add_dict_string(d, "metrics_file",
				     cfg->metrics_file ? cfg->metrics_file : "");
	rte_tel_data_add_dict_string(d, "ipfix", cfg->ipfix ? cfg->ipfix : "");
	for (unsigned i = 0; i < tel_app->sinks.n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "sink%u", i);
		rte_tel_data_add_dict_string(d, name,
					     tel_app->sinks.s[i].ops->name);
	}
	return 0;
}

/* /flowcap/reload: hands over to whatever set fc_app.reload, and answers
 * with its verdict. */
static int cmd_reload(const char *cmd, const char *params,
		      struct rte_tel_data *d)
{
	char msg[RTE_TEL_MAX_STRING_LEN];
	int rc;

	(void)cmd;
	(void)params;
	msg[0] = '\0';
	rc = tel_app->reload(tel_app, msg, sizeof(msg));
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "result", rc == 0 ? "ok" : "failed");
	rte_tel_data_add_dict_string(d, "message", msg);
	return 0;
}

int fc_telemetry_register(struct fc_app *app)
{
	tel_app = app;
	if (rte_telemetry_register_cmd("/flowcap/stats", cmd_stats,
		"Totals: received, in records, each drop counter by name, "
		"intervals written and lost, collector backlog, sinks") != 0 ||
	    rte_telemetry_register_cmd("/flowcap/workers", cmd_workers,
		"Per worker: rx packets, lost, rejected, table fill") != 0 ||
	    rte_telemetry_register_cmd("/flowcap/intervals", cmd_intervals,
		"The last intervals written: start, file, records, packets, "
		"conservation") != 0 ||
	    rte_telemetry_register_cmd("/flowcap/config", cmd_config,
		"The options this flowcap runs with") != 0)
		return -1;
	if (app->reload != NULL &&
	    rte_telemetry_register_cmd("/flowcap/reload", cmd_reload,
		"Reload rules and filters (as SIGHUP does)") != 0)
		return -1;
	return 0;
}
