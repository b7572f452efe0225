/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building, publishing and retiring the reloadable configuration (struct
 * fc_rules) under liburcu QSBR. The control thread builds a complete new
 * generation (every filter program loaded and JIT-compiled) before it
 * touches anything, so a failure anywhere leaves the generation in force
 * alone; success is one pointer store (rcu_assign_pointer), a grace
 * period (synchronize_rcu: every worker has passed a quiescent state, so
 * none still reads the old generation) and the old one freed. Workers
 * never lock and never wait for it. It does not run packets.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu-qsbr.h>

#include "fc_app.h"
#include "fc_parse.h"
#include "fc_rules.h"

/* Every link type fc_parse reads: with --read a pcapng may switch to any
 * of them mid-file, and each needs its own program. */
static const uint32_t all_dlts[] = {
	FC_DLT_EN10MB, FC_DLT_NULL, FC_DLT_PPP, FC_DLT_RAW, FC_DLT_RAW_OLD,
	FC_DLT_RAW_LT, FC_DLT_LOOP, FC_DLT_LINUX_SLL, FC_DLT_IPV4,
	FC_DLT_IPV6, FC_DLT_LINUX_SLL2,
};

/* The link types the filter must compile for: Ethernet on ports; the
 * first link type of each --read input (a pipe's is known only once
 * read: Ethernet is assumed for it). */
static unsigned needed_dlts(struct fc_app *app, uint32_t *need)
{
	unsigned n = 0;

	if (app->cfg.n_reads > 0)
		n = fc_feeder_dlts(need, FC_MAX_READS);
	if (n == 0)
		need[n++] = FC_DLT_EN10MB;
	return n;
}

/* The expression in force: --filter, or the file's text (read now). */
static char *filter_text(const struct fc_cfg *cfg, char *err, size_t errlen)
{
	if (cfg->filter_file != NULL)
		return fc_filter_read_file(cfg->filter_file, err, errlen);
	return strdup(cfg->filter);
}

/* Where the expression comes from, for messages. */
static void filter_origin(const struct fc_cfg *cfg, char *buf, size_t len)
{
	if (cfg->filter_file != NULL)
		snprintf(buf, len, "--filter-file '%s'", cfg->filter_file);
	else
		snprintf(buf, len, "--filter");
}

/* The rules and database the start-up check compiled, kept for the first
 * generation: a large rule set is compiled once, not twice. */
static struct fc_cls_rules *checked_rs;
static struct fc_cls_db *checked_db;

/* The rules file: parsed and compiled (or loaded from --classify-cache),
 * or NULL with the reason (file and line) in err. What the cache did is
 * said on stdout, a cache that cannot be used on stderr: never an error.
 */
static struct fc_cls_rules *load_rules(const struct fc_cfg *cfg,
				       struct fc_cls_db **db, char *err,
				       size_t errlen)
{
	struct fc_cls_rules *rs = fc_cls_rules_load(cfg->classify, err, errlen);
	char note[PATH_MAX + 256];
	struct timespec t0, t1;
	int hit;

	if (rs == NULL)
		return NULL;
	if (checked_rs != NULL && checked_rs->hash == rs->hash) {
		/* The file the check compiled, unchanged since. */
		fc_cls_rules_free(rs);
		rs = checked_rs;
		*db = checked_db;
		checked_rs = NULL;
		checked_db = NULL;
		return rs;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	*db = fc_cls_db_create_cached(rs, cfg->classify_cache, &hit, note,
				      sizeof(note), err, errlen);
	if (*db == NULL) {
		fc_cls_rules_free(rs);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (note[0])
		fprintf(stderr, "flowcap: --classify-cache: %s\n", note);
	if (cfg->classify_cache != NULL)
		printf("flowcap: --classify '%s': %u rules %s in %.2f s\n",
		       cfg->classify, rs->n,
		       hit ? "loaded from --classify-cache" :
		       note[0] ? "compiled" : "compiled and cached",
		       (double)(t1.tv_sec - t0.tv_sec) +
			       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return rs;
}

int fc_rules_check(struct fc_app *app)
{
	const struct fc_cfg *cfg = &app->cfg;
	uint32_t need[FC_MAX_READS];
	char err[1024], org[PATH_MAX + 32];
	unsigned n;
	char *expr;

	if (cfg->classify != NULL) {
		struct fc_cls_db *db = NULL;
		struct fc_cls_rules *rs = load_rules(cfg, &db, err,
						     sizeof(err));

		if (rs == NULL) {
			fprintf(stderr, "flowcap: --classify: %s\n", err);
			return -1;
		}
		checked_rs = rs;
		checked_db = db;
	}
	if (cfg->filter == NULL && cfg->filter_file == NULL)
		return 0;
	filter_origin(cfg, org, sizeof(org));
	if ((expr = filter_text(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "flowcap: %s\n", err);
		return -1;
	}
	n = needed_dlts(app, need);
	for (unsigned i = 0; i < n; i++)
		if (fc_filter_check(expr, need[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "flowcap: %s: bad filter expression "
				"'%s': %s; write it as tcpdump(8) would take "
				"it (see pcap-filter(7))\n",
				org, expr, err);
			free(expr);
			return -1;
		}
	free(expr);
	return 0;
}

static void rules_free(struct fc_rules *rs)
{
	if (rs == NULL)
		return;
	fc_filter_free(rs->flt);
	if (rs->scratch != NULL)
		for (unsigned i = 0; i < FC_MAX_WORKERS; i++)
			hs_free_scratch(rs->scratch[i]);
	free(rs->scratch);
	fc_cls_db_free(rs->db);
	fc_cls_rules_free(rs->cls);
	free(rs);
}

/* The classification part of a generation: rules, database, a scratch
 * per worker, and the run-wide id of each label (new names appended to
 * the run's list, published by the store of its count). */
static int build_cls(struct fc_app *app, struct fc_rules *rs, char *err,
		     size_t errlen)
{
	struct fc_labels *lb = app->labels;
	unsigned n = atomic_load_explicit(&lb->n, memory_order_relaxed);

	if ((rs->cls = load_rules(&app->cfg, &rs->db, err, errlen)) == NULL)
		return -1;
	rs->scratch = calloc(FC_MAX_WORKERS, sizeof(*rs->scratch));
	if (rs->scratch == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < app->n_workers; i++)
		if ((rs->scratch[i] = fc_cls_scratch_alloc(rs->db)) == NULL) {
			snprintf(err, errlen, "%s: Hyperscan cannot allocate "
				 "its scratch space", app->cfg.classify);
			return -1;
		}
	for (unsigned i = 1; i <= rs->cls->n_labels; i++) {
		const char *name = rs->cls->labels[i];
		unsigned id = 0;

		for (unsigned j = 1; j <= n && id == 0; j++)
			if (strcmp(lb->name[j], name) == 0)
				id = j;
		if (id == 0) {
			if (n >= FC_CLS_LABELS_MAX) {
				snprintf(err, errlen, "%s: label '%s': the run "
					 "has had %u distinct labels, the most "
					 "a key holds; restart flowcap to start "
					 "a new list", app->cfg.classify, name,
					 FC_CLS_LABELS_MAX);
				return -1;
			}
			id = ++n;
			snprintf(lb->name[id], sizeof(lb->name[id]), "%s",
				 name);
		}
		rs->label_map[i] = (uint16_t)id;
	}
	/* Partner: the collector's acquire load before it reads names. A
	 * failed build after this only leaves unused names. */
	atomic_store_explicit(&lb->n, n, memory_order_release);
	return 0;
}

/* A complete new generation, or NULL with the reason in err. */
static struct fc_rules *build(struct fc_app *app, uint64_t gen, char *err,
			      size_t errlen, char *note, size_t notelen)
{
	const struct fc_cfg *cfg = &app->cfg;
	struct fc_rules *rs = calloc(1, sizeof(*rs));
	uint32_t need[FC_MAX_READS];
	char org[PATH_MAX + 32];
	char *expr;

	note[0] = 0;
	if (rs == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rs->gen = gen;
	if (cfg->classify != NULL && app->labels == NULL &&
	    ((app->labels = calloc(1, sizeof(*app->labels))) == NULL ||
	     (app->label_pkts = calloc(FC_CLS_LABELS_MAX + 1,
				       sizeof(*app->label_pkts))) == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (cfg->filter != NULL || cfg->filter_file != NULL) {
		char e[1024];
		unsigned nn = needed_dlts(app, need);

		filter_origin(cfg, org, sizeof(org));
		if ((expr = filter_text(cfg, e, sizeof(e))) == NULL) {
			snprintf(err, errlen, "%s", e);
			free(expr);
			goto fail;
		}
		rs->flt = fc_filter_create(
			expr, app->trace_mode ? all_dlts : need,
			app->trace_mode ?
				(unsigned)(sizeof(all_dlts) / sizeof(all_dlts[0])) :
				nn,
			need, nn, e, sizeof(e));
		if (rs->flt == NULL) {
			snprintf(err, errlen, "%.512s: filter '%.512s': %.900s", org,
				 expr, e);
			free(expr);
			goto fail;
		}
		if (e[0])
			snprintf(note, notelen, "%.256s: filter '%.256s' does not "
				 "apply to link type(s) %.300s: their packets, "
				 "if any, are counted as filtered", org, expr, e);
		free(expr);
	}
	if (cfg->classify != NULL && build_cls(app, rs, err, errlen) != 0)
		goto fail;
	return rs;
fail:
	rules_free(rs);
	return NULL;
}

int fc_rules_start(struct fc_app *app)
{
	char err[2048], note[1024];
	struct fc_rules *rs = build(app, 1, err, sizeof(err), note,
				    sizeof(note));

	if (rs == NULL) {
		fprintf(stderr, "flowcap: %s\n", err);
		return -1;
	}
	if (note[0])
		printf("flowcap: %s\n", note);
	if (rs->flt != NULL && rs->flt->interpreted)
		printf("flowcap: filter: runs in an interpreter (libpcap's for "
		       "indexed loads or what DPDK cannot convert, DPDK's where "
		       "there is no JIT): slower than the JIT, see "
		       "doc/filter.md\n");
	if (rs->cls != NULL)
		atomic_store_explicit(&app->rules_hash, rs->cls->hash,
				      memory_order_relaxed);
	rcu_assign_pointer(app->rules, rs);
	return 0;
}

int fc_reload(struct fc_app *app)
{
	struct fc_rules *old = app->rules, *rs;
	char err[2048], note[1024];

	if (app->cfg.filter == NULL && app->cfg.filter_file == NULL &&
	    app->cfg.classify == NULL) {
		printf("flowcap: SIGHUP: nothing to reload (no rules or "
		       "filters configured)\n");
		return 1;
	}
	rs = build(app, old ? old->gen + 1 : 1, err, sizeof(err), note,
		   sizeof(note));
	if (rs == NULL) {
		atomic_fetch_add_explicit(&app->reload_failed, 1,
					  memory_order_relaxed);
		fprintf(stderr, "flowcap: reload failed, the rules in force "
			"stay: %s\n", err);
		return -1;
	}
	if (note[0])
		printf("flowcap: %s\n", note);
	if (rs->cls != NULL)
		atomic_store_explicit(&app->rules_hash, rs->cls->hash,
				      memory_order_relaxed);
	/* Partner: rcu_dereference in the workers and the feeder. */
	rcu_assign_pointer(app->rules, rs);
	synchronize_rcu();
	rules_free(old);
	atomic_fetch_add_explicit(&app->reload_ok, 1, memory_order_relaxed);
	printf("flowcap: reload: generation %" PRIu64 " in force%s%s%s%s"
	       "\n", rs->gen, rs->flt ? ", filter " : "",
	       rs->flt ? rs->flt->expr : "",
	       rs->cls ? ", rules " : "", rs->cls ? rs->cls->name : "");
	return 0;
}

void fc_rules_fini(struct fc_app *app)
{
	fc_cls_db_free(checked_db);
	fc_cls_rules_free(checked_rs);
	checked_db = NULL;
	checked_rs = NULL;
	rules_free(app->rules);
	app->rules = NULL;
	free(app->labels);
	app->labels = NULL;
	free(app->label_pkts);
	app->label_pkts = NULL;
}
